"""A build's sentence vectors, read a block of rows at a time instead of held as one array.

At 300k sentences one array of every vector is about 450 MB. The build's vectors wait in a spill
file (or in memory where the disk refused) and the old generation's index; the chunk means and the
new vector index read them from there, block by block, so no whole copy is ever held.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from pathlib import Path
from typing import IO, Protocol

import numpy as np

ReadRows = Callable[[int, int], np.ndarray]
"""``read(start, stop)``: the float32 vectors of rows ``start`` to ``stop``."""
Part = np.ndarray | tuple[int, int]
"""A window of embedded vectors: in memory, or ``(byte offset, rows)`` in the spill file."""


def window_rows(part: Part, spill: IO[bytes] | None, dim: int, start: int = 0, stop: int | None = None) -> np.ndarray:
    """Rows ``start`` to ``stop`` (default: its end) of one window of embedded vectors."""
    if isinstance(part, np.ndarray):
        return part[start:stop]
    assert spill is not None, "a window on disk needs its spill file"
    stop = part[1] if stop is None else stop
    spill.seek(part[0] + start * dim * 4)
    return np.frombuffer(spill.read((stop - start) * dim * 4), dtype=np.float32).reshape(stop - start, dim)


class StoredRows(Protocol):
    def rows_between(self, start: int, stop: int) -> np.ndarray: ...


class EmbeddedRows:
    """The vectors of every text a build added, in the order added, read back from their windows.

    ``order`` gives each text's slot: ``k >= 0`` is the k-th distinct text embedded (windows in
    ``parts``, one after another), ``-1 - r`` row ``r`` of ``known`` (vectors from an interrupted run).
    """

    def __init__(self, order: np.ndarray, known: np.ndarray, parts: Sequence[Part], spill: IO[bytes] | None, dim: int):
        self._order = order
        self._known = known
        self._parts = list(parts)
        self._spill = spill
        self.dim = dim
        sizes = [len(p) if isinstance(p, np.ndarray) else p[1] for p in self._parts]
        self._first = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).astype(np.int64)
        """The slot of each window's first vector."""

    def __len__(self) -> int:
        return len(self._order)

    def rows(self, start: int, stop: int) -> np.ndarray:
        slots = self._order[start:stop]
        out = np.empty((len(slots), self.dim), dtype=np.float32)
        kept = slots < 0
        if kept.any():
            out[kept] = self._known[-1 - slots[kept]]
        fresh = np.flatnonzero(~kept)
        if fresh.size:
            distinct, back = np.unique(slots[fresh], return_inverse=True)
            out[fresh] = self._distinct(distinct)[back]
        return out

    def _distinct(self, slots: np.ndarray) -> np.ndarray:
        """Vectors of the ascending ``slots``: one read per run of consecutive slots in one window."""
        out = np.empty((len(slots), self.dim), dtype=np.float32)
        window = np.searchsorted(self._first, slots, side="right") - 1
        cuts = np.flatnonzero((np.diff(slots) != 1) | (np.diff(window) != 0)) + 1
        for a, b in zip(np.r_[0, cuts].tolist(), np.r_[cuts, len(slots)].tolist(), strict=True):
            local = int(slots[a] - self._first[int(window[a])])
            out[a:b] = window_rows(self._parts[int(window[a])], self._spill, self.dim, local, local + b - a)
        return out

    def close(self) -> None:
        """Let go of the spill file (it has no name, so it is gone from the disk too) and the windows."""
        if self._spill is not None:
            self._spill.close()
            self._spill = None
        self._parts = []


class RowsInOrder:
    """Every sentence's vector in the new generation's row order, from ``(from_old, start, stop)``
    parts: rows of the old generation's index, or of the vectors embedded in this run."""

    def __init__(
        self, parts: Sequence[tuple[bool, int, int]], new: ReadRows, old: StoredRows | None, dim: int
    ) -> None:
        runs: list[tuple[bool, int, int]] = []
        for from_old, start, stop in parts:  # neighbouring parts of one source are read as one run
            if runs and runs[-1][0] == from_old and runs[-1][2] == start:
                runs[-1] = (from_old, runs[-1][1], stop)
            elif stop > start:
                runs.append((from_old, start, stop))
        self._runs = runs
        self._at = np.concatenate([[0], np.cumsum([b - a for _, a, b in runs], dtype=np.int64)]).astype(np.int64)
        self._new = new
        self._old = old
        self.dim = dim

    def __len__(self) -> int:
        return int(self._at[-1])

    def rows(self, start: int, stop: int) -> np.ndarray:
        pieces: list[np.ndarray] = []
        run = int(np.searchsorted(self._at, start, side="right")) - 1
        while start < stop:
            from_old, first, _ = self._runs[run]
            end = min(stop, int(self._at[run + 1]))
            source = first + start - int(self._at[run])
            if from_old:
                assert self._old is not None
                pieces.append(self._old.rows_between(source, source + end - start))
            else:
                pieces.append(self._new(source, source + end - start))
            start, run = end, run + 1
        if not pieces:
            return np.zeros((0, self.dim), dtype=np.float32)
        return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)


def chunk_mean_blocks(read: ReadRows, chunks: np.ndarray, dim: int, *, block: int = 1024) -> Iterator[np.ndarray]:
    """Unit-length mean of each chunk's sentence vectors (chunks are embedded for free), ``block`` chunks at a time.

    Each block is summed over a float64 running sum of just the sentences it spans, read with
    ``read``, so memory stays bounded whatever the corpus size.
    """
    for first in range(0, len(chunks), block):
        part = chunks[first : first + block]
        low, high = int(part[:, 1].min()), int(part[:, 2].max())
        cumulative = np.zeros((high - low + 1, dim), np.float64)
        np.cumsum(read(low, high), axis=0, dtype=np.float64, out=cumulative[1:])
        sums = cumulative[part[:, 2] - low] - cumulative[part[:, 1] - low]
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        yield (sums / np.maximum(norms, 1e-12)).astype(np.float32)


def chunk_means(read: ReadRows, chunks: np.ndarray, dim: int, *, block: int = 1024) -> np.ndarray:
    """Every chunk's mean vector (see :func:`chunk_mean_blocks`) as one array."""
    blocks = list(chunk_mean_blocks(read, chunks, dim, block=block))
    return np.concatenate(blocks) if blocks else np.zeros((0, dim), dtype=np.float32)


class SpilledRows:
    """Float32 rows appended to an unnamed temporary file (in ``directory``) and read back a block at a time."""

    def __init__(self, dim: int, directory: Path | None) -> None:
        self.dim = dim
        self._file: IO[bytes] = tempfile.TemporaryFile(dir=directory, prefix=".newsdesk-rows-")
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def append(self, rows: np.ndarray) -> None:
        self._file.seek(0, os.SEEK_END)
        self._file.write(np.ascontiguousarray(rows, dtype="<f4").reshape(-1, self.dim).tobytes())
        self._count += len(rows)

    def rows(self, start: int, stop: int) -> np.ndarray:
        stop = min(stop, self._count)
        return window_rows((0, self._count), self._file, self.dim, start, max(start, stop))

    def close(self) -> None:
        with suppress(OSError):  # a discarded file whose last flush fails (a full disk) loses nothing
            self._file.close()
