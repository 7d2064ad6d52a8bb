"""Dense vectors on FAISS: the local implementation of :class:`index.storage.VectorSearch`.

This is the only module that imports faiss (:mod:`index.store.index_spool` writes a build's index files
from blocks without it). The index is chosen by size: exact Flat while small, IVF beyond.

Below :data:`FLAT_LIMIT` vectors an exact inner-product scan is fast enough (about 7 ms per query
at 100k on two cores). Above it, an inverted-file index with float16 storage (half the memory
of float32, 2 bytes x dim per vector plus an 8-byte id) probes a few lists per query. Its nprobe
is stored in the file, and a direct map keeps ``reconstruct`` working, so a build can always read
every vector back (removal rebuilds from them).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from index.store.index_spool import IvfSpool, LayoutError, SpooledFile, write_flat
from index.store.vector_file import VectorFileRows

FLAT_LIMIT = 200_000
"""Sentence vectors up to which the index is exact (Flat)."""
CHUNK_FLAT_LIMIT = 20_000
"""Chunk vectors up to which their index is exact. Every question searches the chunks too, so they go
IVF sooner: at 40k chunks (a 310k-sentence archive) that saved 3.6 ms of a 37.5 ms p50 answer, every
first cited sentence the same on 264 questions."""
ADD_BLOCK = 8_192
"""Vectors read and added to an index at a time while it is built (12.5 MB at 384 dimensions)."""
TRAIN_PER_LIST = 40
"""Training vectors per inverted list (k-means sample)."""
PROBE_SHARE = 1 / 32
"""Share of the inverted lists searched per query (64 of 2048 at 1M vectors: recall@10 about 0.99)."""
MIN_PROBES = 32
EXACT_FILTER_LIMIT = 20_000
"""A filtered IVF search over at most this many allowed rows is exact (their vectors read back)."""
"""Never fewer lists searched than this (smaller indexes have coarser lists)."""


def _faiss() -> Any:
    """The faiss module, imported on first use and typed loosely: its SWIG hints miss the IVF fields used here."""
    import faiss

    return faiss


def lists_for(n: int) -> int:
    """Number of inverted lists for ``n`` vectors: a power of two near 2 x sqrt(n)."""
    return int(2 ** round(math.log2(max(1.0, 2.0 * math.sqrt(n)))))


def _blocks(read: Callable[[int, int], np.ndarray], n: int, dim: int) -> Iterator[np.ndarray]:
    """The ``n`` vectors ``read(start, stop)`` gives, ``ADD_BLOCK`` rows at a time (contiguous float32)."""
    for start in range(0, n, ADD_BLOCK):
        yield np.ascontiguousarray(read(start, min(n, start + ADD_BLOCK)), dtype=np.float32).reshape(-1, dim)


def _is_flat(n: int, flat_limit: int | None) -> bool:
    return n <= (FLAT_LIMIT if flat_limit is None else flat_limit)


def _trained_ivf(read: Callable[[int, int], np.ndarray], n: int, dim: int) -> Any:
    """An empty IVF index for ``n`` vectors, its lists trained on a fixed sample of them (read block by block)."""
    faiss = _faiss()
    nlist = lists_for(n)
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFScalarQuantizer(
        quantizer, dim, nlist, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
    )
    index.cp.seed = 6
    index.cp.niter = 15
    sample = np.sort(np.random.default_rng(6).choice(n, size=min(n, nlist * TRAIN_PER_LIST), replace=False))
    training = np.empty((len(sample), dim), dtype=np.float32)
    for start, block in zip(range(0, n, ADD_BLOCK), _blocks(read, n, dim), strict=True):
        low, high = np.searchsorted(sample, [start, start + len(block)])
        training[low:high] = block[sample[low:high] - start]
    index.train(training)
    del training
    index.nprobe = min(nlist, max(MIN_PROBES, int(nlist * PROBE_SHARE)))
    index.own_fields = True
    quantizer.this.disown()  # the IVF index owns its quantizer now
    return index


def _make_index(read: Callable[[int, int], np.ndarray], n: int, dim: int, flat_limit: int | None) -> Any:
    """The index of ``n`` vectors in memory, read ``ADD_BLOCK`` rows at a time with ``read(start, stop)``."""
    index = _faiss().IndexFlatIP(dim) if _is_flat(n, flat_limit) else _trained_ivf(read, n, dim)
    for block in _blocks(read, n, dim):
        index.add(block)
    if not _is_flat(n, flat_limit):
        index.make_direct_map()
    return index


def _spool_index(
    read: Callable[[int, int], np.ndarray], n: int, dim: int, flat_limit: int | None, directory: Path | None
) -> tuple[SpooledFile, str]:
    """The serialised index of ``n`` vectors written to a temporary file as they are read (see
    :mod:`index.store.index_spool`), and its :attr:`FaissVectors.kind`."""
    faiss = _faiss()
    out = SpooledFile(directory)
    try:
        if _is_flat(n, flat_limit):
            template = faiss.serialize_index(faiss.IndexFlatIP(dim)).tobytes()
            write_flat(template, _blocks(read, n, dim), n, dim, out.file)
            return out, "Flat"
        index = _trained_ivf(read, n, dim)
        spool = IvfSpool(
            faiss.serialize_index(index).tobytes(),
            faiss.serialize_index(index.quantizer).tobytes(),
            int(index.nlist),
            int(index.code_size),
            directory,
        )
        try:
            for block in _blocks(read, n, dim):  # what IndexIVF.add does, with the codes kept on disk
                lists = np.ascontiguousarray(index.quantizer.assign(block, 1).reshape(-1), dtype=np.int64)
                codes = np.empty((len(block), int(index.code_size)), dtype=np.uint8)
                index.encode_vectors(len(block), faiss.swig_ptr(block), faiss.swig_ptr(lists), faiss.swig_ptr(codes))
                spool.add(lists, codes)
            spool.write(out.file)
        finally:
            spool.close()
        return out, _ivf_kind(index)
    except BaseException:
        out.close()
        raise


def _ivf_kind(ivf: Any) -> str:
    return f"IVF{ivf.nlist},SQfp16 (nprobe {ivf.nprobe})"


def single_thread_search() -> None:
    """One query searches with one thread: OpenMP's spinning threads cost more than they save
    for a single vector, and collide with the embedder's own threads."""
    _faiss().omp_set_num_threads(1)


class FaissVectors:
    """Unit vectors in a FAISS inner-product index, row i = vector i (see :class:`index.storage.VectorSearch`).

    A build's indexes are *spooled* (:meth:`build_from`): each file is written to a temporary file as
    the vectors are read, and the index is read into memory only if something searches it before
    :meth:`write` copies the file into a generation.
    """

    def __init__(self, index: Any) -> None:
        self._index = index
        self._spool: SpooledFile | None = None
        self._disk: tuple[VectorFileRows, Path] | None = None
        self._shape = (0, 0, "")
        """Size, dimension and kind of a spooled or on-disk index (known without reading it)."""

    @property
    def index(self) -> Any:
        """The FAISS index itself (Flat or IVF with a direct map)."""
        if self._index is None:
            if self._spool is not None:
                self._index = _faiss().deserialize_index(np.frombuffer(self._spool.read_all(), dtype=np.uint8))
            elif self._disk is not None:
                self._index = FaissVectors.read(self._disk[1]).index
            else:
                raise ValueError("this vector index was closed before it was read")
            self.close()
        return self._index

    def close(self) -> None:
        """Let go of a spooled index's temporary file or an on-disk index's file (once written or read)."""
        if self._spool is not None:
            self._spool.close()
            self._spool = None
        if self._disk is not None:
            self._disk[0].close()
            self._disk = None

    @classmethod
    def build(cls, vectors: np.ndarray, dim: int, *, flat_limit: int | None = None) -> FaissVectors:
        """An index holding ``vectors`` (row i = vector i): exact Flat up to ``flat_limit`` vectors
        (default :data:`FLAT_LIMIT`), IVF beyond."""
        vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, dim)
        return cls(_make_index(lambda start, stop: vectors[start:stop], len(vectors), dim, flat_limit))

    @classmethod
    def build_from(
        cls,
        read: Callable[[int, int], np.ndarray],
        n: int,
        dim: int,
        *,
        flat_limit: int | None = None,
        spool_dir: Path | None = None,
    ) -> FaissVectors:
        """:meth:`build` over ``n`` vectors read a block at a time with ``read(start, stop)`` (twice when
        IVF: its training sample, then all), spooled: the same index file, written to an unnamed
        temporary file in ``spool_dir`` (default: the system's) instead of held in memory."""
        spooled = cls(None)
        spooled._spool, kind = _spool_index(read, n, dim, flat_limit, spool_dir)
        spooled._shape = (n, dim, kind)
        return spooled

    @classmethod
    def from_bytes(cls, raw: bytes) -> FaissVectors:
        """Read a serialised index; ValueError unless it is an inner-product index."""
        faiss = _faiss()
        index = faiss.deserialize_index(np.frombuffer(raw, dtype=np.uint8))
        if index.metric_type != faiss.METRIC_INNER_PRODUCT:
            raise ValueError("not an inner-product index")
        return cls(index)

    @classmethod
    def read(cls, path: Path) -> FaissVectors:
        """Read an index file (as :meth:`write` makes it); ValueError unless it is an inner-product index."""
        faiss = _faiss()
        index = faiss.read_index(str(path))
        if index.metric_type != faiss.METRIC_INNER_PRODUCT:
            raise ValueError("not an inner-product index")
        return cls(index)

    @classmethod
    def on_disk(cls, path: Path) -> FaissVectors:
        """The index file at ``path`` (checked beforehand), its rows read straight from the file when
        read in order (:meth:`rows_between`, what a rebuild does); the index itself is read into memory
        only if something searches it. A file of another layout is read into memory at once."""
        try:
            rows = VectorFileRows(path)
        except LayoutError:
            return cls.read(path)
        out = cls(None)
        out._disk = (rows, path)
        out._shape = (rows.size, rows.dim, rows.kind)
        return out

    def to_bytes(self) -> bytes:
        """The index serialised, as :meth:`from_bytes` reads it."""
        if self._spool is not None:
            return self._spool.read_all()
        return bytes(_faiss().serialize_index(self.index).tobytes())

    def write(self, path: Path) -> None:
        """Create ``path`` (it must not exist) holding the index as :meth:`from_bytes` reads it, fsynced.

        The index streams to the file a block at a time: no serialised copy of it is held in memory.
        A failed write raises the OSError the file gave (not faiss's own RuntimeError).
        """
        failed: list[OSError] = []
        with Path(path).open("xb") as handle:

            def put(block: bytes) -> int:
                try:
                    return handle.write(block)
                except OSError as exc:
                    failed.append(exc)
                    raise

            try:
                if self._spool is not None:
                    self._spool.copy_to(handle)
                else:
                    _faiss().write_index(self.index, _faiss().PyCallbackIOWriter(put))
            except RuntimeError:
                if failed:
                    raise failed[0] from None
                raise
            handle.flush()
            os.fsync(handle.fileno())

    @property
    def size(self) -> int:
        """Number of vectors."""
        return self._shape[0] if self._index is None else int(self._index.ntotal)

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return self._shape[1] if self._index is None else int(self._index.d)

    @property
    def kind(self) -> str:
        """A short description: ``Flat`` or ``IVF2048,SQfp16 (nprobe 128)``."""
        if self._index is None:
            return self._shape[2]
        ivf = _faiss().try_extract_index_ivf(self._index)
        return "Flat" if ivf is None else _ivf_kind(ivf)

    def search(
        self, queries: np.ndarray, depth: int, allowed: np.ndarray | None = None
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Best ``depth`` rows by inner product for each query row: (rows int64, scores float32), best first.

        ``allowed`` (row ids) restricts the search to those rows. Fewer than ``depth`` come back
        when fewer vectors (or allowed rows) exist.
        """
        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dim)
        depth = min(depth, self.size)
        if depth <= 0:
            return [(np.zeros(0, np.int64), np.zeros(0, np.float32)) for _ in range(len(queries))]
        ivf = _faiss().try_extract_index_ivf(self.index) if allowed is not None else None
        if allowed is not None and ivf is not None and len(allowed) <= EXACT_FILTER_LIMIT:
            return self._exact_among(queries, depth, np.asarray(allowed, dtype=np.int64))
        params = None if allowed is None else self._restricted(allowed)
        scores, rows = self.index.search(queries, depth, params=params)
        keep = rows >= 0  # FAISS pads missing hits with -1
        return [(r[k].astype(np.int64), s[k]) for r, s, k in zip(rows, scores, keep, strict=True)]

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        """The stored vectors of ``rows`` (float32, one row each)."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 0:
            return np.zeros((0, self.dim), np.float32)
        return np.asarray(self.index.reconstruct_batch(rows), dtype=np.float32)

    def rows_between(self, start: int, stop: int) -> np.ndarray:
        """The vectors of rows ``start`` to ``stop`` (exclusive), in row order (float32)."""
        stop = min(stop, self.size)
        if stop <= start:
            return np.zeros((0, self.dim), np.float32)
        if self._index is None and self._disk is not None:
            return self._disk[0].rows_between(start, stop)
        self._direct_map()
        return np.ascontiguousarray(self.index.reconstruct_n(start, stop - start), dtype=np.float32)

    def all(self) -> np.ndarray:
        """Every vector, in row order (float32)."""
        return self.rows_between(0, self.size)

    def _direct_map(self) -> None:
        """Give an IVF index the row -> list map that reading vectors back needs (kept in the file)."""
        faiss = _faiss()
        ivf = faiss.try_extract_index_ivf(self.index)
        if ivf is not None and ivf.direct_map.type == faiss.DirectMap.NoMap:
            ivf.make_direct_map()

    def _exact_among(self, queries: np.ndarray, depth: int, allowed: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Exact search over the ``allowed`` rows only (their vectors read back from the index)."""
        vectors = self.vectors(allowed)
        out = []
        for query in queries:
            scores = vectors @ query
            top = min(depth, len(allowed))
            best = np.argpartition(-scores, top - 1)[:top] if 0 < top < len(scores) else np.arange(len(scores))
            best = best[np.argsort(-scores[best], kind="stable")]
            out.append((allowed[best].astype(np.int64), scores[best].astype(np.float32)))
        return out

    def _restricted(self, allowed: np.ndarray) -> Any:
        """Search parameters restricting the search to the row ids ``allowed``, of the type the index accepts.

        An IVF index probes more lists the fewer rows are allowed (in proportion), so a filter keeps the
        recall of an unfiltered search instead of finding only what the usual lists happen to hold.
        """
        faiss = _faiss()
        selector = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
        ivf = faiss.try_extract_index_ivf(self.index)
        if ivf is not None:
            share = max(len(allowed), 1) / max(self.size, 1)
            nprobe = min(int(ivf.nlist), int(np.ceil(ivf.nprobe / share)))
            params = faiss.SearchParametersIVF(sel=selector, nprobe=nprobe)
        else:
            params = faiss.SearchParameters(sel=selector)
        params.selector_ref = selector  # keep the selector alive as long as the parameters
        return params
