"""FAISS index files written a block of vectors at a time, so a build never holds the whole index in memory.

FAISS serialises an index only from memory, and at 300k sentences the sentence index alone is
about 250 MB there. The two kinds the build makes have a plain layout (``faiss/impl/index_write.cpp``):

* Flat: ``IxFI``, the index header (``d``, ``ntotal``, ...), the float count, then every vector.
* IVF with a scalar quantizer: ``IwSq``, the header, ``nlist``, ``nprobe``, the quantizer, the direct
  map (type, then one ``list << 32 | offset`` per row), the scalar quantizer, then the inverted
  lists (``ilar``: list sizes, then each list's codes followed by its row ids).

Everything but the vectors comes from FAISS's own serialisation of the empty (trained) index, the
*template*; this module only writes the vectors' part and patches the counts. The template is
checked field by field first, so a FAISS release that changed the layout raises
:class:`LayoutError` (and tests compare the bytes with FAISS's serialisation of the same index
built in memory). This module does not import faiss: :mod:`index.store.vectors` drives it.
"""

from __future__ import annotations

import os
import shutil
import struct
import tempfile
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path
from typing import IO

import numpy as np

HEADER_BYTES = 4 + 4 + 8 + 8 + 8 + 1 + 4
"""fourcc, d, ntotal, two unused fields, is_trained, metric type (inner product: no metric argument)."""
_NTOTAL = slice(8, 16)
_DIRECT_MAP_ARRAY = 1
"""``DirectMap::Array``: row -> ``list << 32 | offset``, which ``reconstruct`` needs."""
COPY_BLOCK = 1 << 20


class LayoutError(ValueError):
    """The template does not have the layout this module writes (a FAISS release changed it)."""


def _u64(value: int) -> bytes:
    return struct.pack("<Q", value)


def _expect(ok: bool, what: str) -> None:
    if not ok:
        raise LayoutError(f"unexpected FAISS index layout: {what}")


def write_flat(template: bytes, blocks: Iterable[np.ndarray], n: int, dim: int, out: IO[bytes]) -> None:
    """Write a Flat index of ``n`` vectors, given a block at a time, after ``template`` (the empty index)."""
    _expect(template[:4] == b"IxFI" and len(template) == HEADER_BYTES + 8, "Flat header")
    _expect(template[_NTOTAL] == bytes(8) and template[-8:] == bytes(8), "an empty Flat index")
    out.write(template[:8] + struct.pack("<q", n) + template[16:HEADER_BYTES] + _u64(n * dim))
    written = 0
    for block in blocks:
        out.write(np.ascontiguousarray(block, dtype="<f4").tobytes())
        written += len(block)
    _expect(written == n, f"{written} vectors given for {n}")


class IvfSpool:
    """An IVF index file built from blocks: each row's list number and code are collected (the codes in
    a temporary file, in row order), then :meth:`write` lays them out list by list.

    Memory: 4 bytes a row while collecting, about 30 while writing (the sort and the direct map),
    instead of the whole index (about 800 bytes a row at 384 dimensions in float16).
    """

    def __init__(self, template: bytes, quantizer: bytes, nlist: int, code_size: int, directory: Path | None) -> None:
        self._map_at = HEADER_BYTES + 16 + len(quantizer)
        _expect(template[:4] == b"IwSq" and template[_NTOTAL] == bytes(8), "an empty IVF scalar-quantizer index")
        _expect(template[HEADER_BYTES : HEADER_BYTES + 8] == _u64(nlist), "nlist")
        _expect(template[HEADER_BYTES + 16 : self._map_at] == quantizer, "the quantizer")
        _expect(template[self._map_at : self._map_at + 9] == bytes(9), "an empty direct map")
        empty_lists = b"ilar" + _u64(nlist) + _u64(code_size) + b"sprs" + _u64(0)
        _expect(template.endswith(empty_lists), "empty inverted lists at the end")
        self._template = template
        self._tail = len(empty_lists)
        self.nlist = nlist
        self.code_size = code_size
        self._codes = tempfile.TemporaryFile(dir=directory, prefix=".newsdesk-codes-")
        self._lists: list[np.ndarray] = []

    def add(self, lists: np.ndarray, codes: np.ndarray) -> None:
        """The next rows' list numbers and codes (``uint8``, ``code_size`` bytes a row)."""
        codes = np.ascontiguousarray(codes, dtype=np.uint8).reshape(-1, self.code_size)
        lists = np.asarray(lists, dtype=np.int64).reshape(-1)
        _expect(len(lists) == len(codes) and bool((lists >= 0).all() and (lists < self.nlist).all()), "list numbers")
        self._codes.seek(0, os.SEEK_END)
        self._codes.write(codes.tobytes())
        self._lists.append(lists.astype(np.int32))

    def write(self, out: IO[bytes]) -> None:
        """Write the whole index file to ``out``; the spool is closed afterwards."""
        try:
            self._write(out)
        finally:
            self.close()

    def close(self) -> None:
        with suppress(OSError):  # a discarded file whose last flush fails (a full disk) loses nothing
            self._codes.close()
        self._lists = []

    def _write(self, out: IO[bytes]) -> None:
        lists = np.concatenate(self._lists) if self._lists else np.zeros(0, np.int32)
        n = len(lists)
        sizes = np.bincount(lists, minlength=self.nlist).astype(np.int64)
        order = np.argsort(lists, kind="stable")  # rows by list, ascending within each: the order IVF adds them
        starts = np.concatenate([[0], np.cumsum(sizes)])
        offset = np.empty(n, dtype=np.int64)
        offset[order] = np.arange(n, dtype=np.int64) - np.repeat(starts[:-1], sizes)
        direct_map = (lists.astype(np.int64) << 32) | offset
        del offset
        t = self._template
        out.write(t[:8] + struct.pack("<q", n) + t[16 : self._map_at])
        out.write(bytes([_DIRECT_MAP_ARRAY]) + _u64(n) + direct_map.astype("<i8").tobytes())
        del direct_map
        out.write(t[self._map_at + 9 : len(t) - self._tail])
        out.write(b"ilar" + _u64(self.nlist) + _u64(self.code_size))
        filled = np.flatnonzero(sizes)
        if len(filled) > self.nlist // 2:
            out.write(b"full" + _u64(self.nlist) + sizes.astype("<u8").tobytes())
        else:
            pairs = np.stack([filled, sizes[filled]], axis=1).astype("<u8")
            out.write(b"sprs" + _u64(pairs.size) + pairs.tobytes())
        fd, size = self._codes.fileno(), self.code_size
        self._codes.flush()
        for number in filled.tolist():
            rows = order[int(starts[number]) : int(starts[number + 1])]
            out.write(b"".join(os.pread(fd, size, row * size) for row in rows.tolist()))
            out.write(rows.astype("<i8").tobytes())


class SpooledFile:
    """A finished index file waiting in an unnamed temporary file until it is copied to its place."""

    def __init__(self, directory: Path | None) -> None:
        self.file: IO[bytes] = tempfile.TemporaryFile(dir=directory, prefix=".newsdesk-index-")

    def read_all(self) -> bytes:
        self.file.seek(0)
        return self.file.read()

    def copy_to(self, out: IO[bytes]) -> None:
        self.file.seek(0)
        shutil.copyfileobj(self.file, out, COPY_BLOCK)

    def close(self) -> None:
        with suppress(OSError):  # as above
            self.file.close()
