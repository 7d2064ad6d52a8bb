"""Rows of vectors read straight from a FAISS index file, without reading the index into memory.

An update reads every old vector back once, in row order, to build the new generation; loading the
old index for that held all of it (about 250 MB at 300k sentences). The two layouts the build writes
(:mod:`index.store.index_spool`) are read here: Flat stores each row's floats in row order; IVF with
float16 codes stores, per row, ``list << 32 | offset`` in its direct map, and the row is that list's
centroid plus the decoded code (what FAISS's ``reconstruct`` computes). Only the header, the
centroids and the direct map are held (8 bytes a row); the codes are read a row at a time.
Anything else raises :class:`~index.store.index_spool.LayoutError` (the caller then loads the index).
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np

from index.store.index_spool import HEADER_BYTES, LayoutError

_QT_FP16 = 4
"""``ScalarQuantizer::QT_fp16``."""


class VectorFileRows:
    """Rows of the Flat or IVF-fp16 index file at ``path`` (checked beforehand), read on demand."""

    def __init__(self, path: Path) -> None:
        self.dim = self.size = 0
        self.kind = ""
        self._code_size = 0
        self._centroids: np.ndarray = np.zeros((0, 0), np.float32)
        self._map: np.ndarray = np.zeros(0, np.int64)
        """Each row's ``list << 32 | offset``."""
        self._list_at: np.ndarray = np.zeros(0, np.int64)
        """Where each list's codes start in the file."""
        self._fd = -1  # what close() sees if the open fails
        self._fd = os.open(path, os.O_RDONLY)
        try:
            self._parse(os.fstat(self._fd).st_size)
        except (LayoutError, struct.error, ValueError) as exc:
            self.close()
            raise LayoutError(f"{path}: {exc}") from None

    def _read(self, at: int, size: int) -> bytes:
        raw = os.pread(self._fd, size, at)
        if len(raw) != size:
            raise LayoutError("the file ends early")
        return raw

    def _parse(self, file_size: int) -> None:
        self._data_at: int | None = None
        """Where a Flat file's vectors start (None: IVF)."""
        head = self._read(0, HEADER_BYTES)
        fourcc = head[:4]
        self.dim, self.size = (int(v) for v in struct.unpack("<iq", head[4:16]))
        if struct.unpack("<i", head[HEADER_BYTES - 4 : HEADER_BYTES])[0] != 0:
            raise LayoutError("not an inner-product index")
        if fourcc == b"IxFI":
            (count,) = struct.unpack("<Q", self._read(HEADER_BYTES, 8))
            if count != self.size * self.dim or HEADER_BYTES + 8 + 4 * count != file_size:
                raise LayoutError("a Flat index of another size")
            self.kind, self._data_at = "Flat", HEADER_BYTES + 8
            return
        if fourcc != b"IwSq":
            raise LayoutError(f"an index of type {fourcc!r}")
        at = HEADER_BYTES
        nlist, nprobe = struct.unpack("<QQ", self._read(at, 16))
        at += 16
        q_head = self._read(at, HEADER_BYTES + 8)  # the quantizer: a Flat index of the centroids
        if q_head[:4] != b"IxFI" or struct.unpack("<iq", q_head[4:16]) != (self.dim, nlist):
            raise LayoutError("the quantizer")
        if struct.unpack("<Q", q_head[HEADER_BYTES:])[0] != nlist * self.dim:
            raise LayoutError("the centroids")
        self._centroids = np.frombuffer(self._read(at + HEADER_BYTES + 8, 4 * nlist * self.dim), dtype="<f4")
        self._centroids = self._centroids.reshape(int(nlist), self.dim)
        at += HEADER_BYTES + 8 + 4 * nlist * self.dim
        kind, count = struct.unpack("<bQ", self._read(at, 9))
        if kind != 1 or count != self.size:
            raise LayoutError("a direct map array of every row")
        self._map = np.frombuffer(self._read(at + 9, 8 * count), dtype="<i8")
        at += 9 + 8 * count
        qtype, _rangestat, _arg, d, code_size, trained = struct.unpack("<iifQQQ", self._read(at, 36))
        at += 36 + 4 * trained
        if qtype != _QT_FP16 or d != self.dim or code_size != 2 * self.dim:
            raise LayoutError("float16 codes")
        code_size2, by_residual = struct.unpack("<Q?", self._read(at, 9))
        at += 9
        lists_head = self._read(at, 24)
        if code_size2 != code_size or not by_residual or lists_head[:4] != b"ilar":
            raise LayoutError("residual codes in array inverted lists")
        if struct.unpack("<QQ", lists_head[4:20]) != (nlist, code_size):
            raise LayoutError("the inverted lists' header")
        form, (entries,) = lists_head[20:24], struct.unpack("<Q", self._read(at + 24, 8))
        values = np.frombuffer(self._read(at + 32, 8 * entries), dtype="<u8").astype(np.int64)
        at += 32 + 8 * entries
        sizes = np.zeros(int(nlist), dtype=np.int64)
        if form == b"full" and entries == nlist:
            sizes[:] = values
        elif form == b"sprs" and entries % 2 == 0 and bool((values[0::2] < nlist).all()):
            sizes[values[0::2]] = values[1::2]
        else:
            raise LayoutError("the list sizes")
        self._list_at = at + np.concatenate([[0], np.cumsum(sizes * (code_size + 8))[:-1]])
        if int(sizes.sum()) != self.size or at + int((sizes * (code_size + 8)).sum()) != file_size:
            raise LayoutError("lists that hold every row")
        self._code_size = int(code_size)
        self.kind = f"IVF{nlist},SQfp16 (nprobe {nprobe})"

    def rows_between(self, start: int, stop: int) -> np.ndarray:
        """The vectors of rows ``start`` to ``stop`` (exclusive), in row order (float32)."""
        stop = min(stop, self.size)
        if stop <= start:
            return np.zeros((0, self.dim), np.float32)
        if self._data_at is not None:
            raw = self._read(self._data_at + 4 * self.dim * start, 4 * self.dim * (stop - start))
            return np.frombuffer(raw, dtype="<f4").reshape(stop - start, self.dim).astype(np.float32)
        entries = self._map[start:stop]
        lists, offsets = entries >> 32, entries & 0xFFFFFFFF
        places = (self._list_at[lists] + offsets * self._code_size).tolist()
        raw = b"".join(self._read(place, self._code_size) for place in places)
        codes = np.frombuffer(raw, dtype="<f2").reshape(stop - start, self.dim)
        rows: np.ndarray = codes.astype(np.float32) + self._centroids[lists]
        return rows

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        self.close()
