"""The storage seam: answering works on any IndexView, not only on the local FAISS files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index import store
from index.records import Article
from index.storage import IndexView, LexicalSearch, ModelInfo, VectorSearch
from index.store.vectors import FaissVectors
from qa import Assistant


class NumpyVectors:
    """Exact search in plain numpy: a second VectorSearch, sharing no code with the FAISS one."""

    def __init__(self, matrix: np.ndarray) -> None:
        self.matrix = matrix.astype(np.float32)

    @property
    def size(self) -> int:
        return len(self.matrix)

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    def search(
        self, queries: np.ndarray, depth: int, allowed: np.ndarray | None = None
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        rows = np.arange(self.size) if allowed is None else np.asarray(allowed, dtype=np.int64)
        out = []
        for query in np.asarray(queries, dtype=np.float32).reshape(-1, self.dim):
            scores = self.matrix[rows] @ query
            order = np.argsort(-scores, kind="stable")[:depth]
            out.append((rows[order].astype(np.int64), scores[order].astype(np.float32)))
        return out

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        return self.matrix[np.asarray(rows, dtype=np.int64)]


@dataclass
class MemoryIndex:
    """An IndexView held in plain Python objects."""

    model: ModelInfo
    generation: int
    articles: list[Article]
    sentences: np.ndarray
    chunks: np.ndarray
    sentence_vectors: VectorSearch
    chunk_vectors: VectorSearch
    sentence_bm25: LexicalSearch
    chunk_bm25: LexicalSearch

    def sentence_text(self, row: int) -> str:
        article, start, end = (int(v) for v in self.sentences[row, :3])
        return self.articles[article].text[start:end]

    def chunk_text(self, row: int) -> str:
        article, first, stop = (int(v) for v in self.chunks[row])
        return self.articles[article].text[int(self.sentences[first, 1]) : int(self.sentences[stop - 1, 2])]


def _memory_copy(index_dir: Path, backend: Callable[[np.ndarray], VectorSearch]) -> MemoryIndex:
    """The index at ``index_dir`` in memory, its vectors nudged apart (the fake embedder's tie often) and
    served by ``backend``."""
    data = store.load(index_dir)
    rng = np.random.default_rng(0)

    def nudged(vectors: np.ndarray) -> np.ndarray:
        moved = vectors + rng.normal(0.0, 1e-3, vectors.shape).astype(np.float32)
        return moved / np.linalg.norm(moved, axis=1, keepdims=True)

    return MemoryIndex(
        data.model,
        data.generation,
        list(data.articles),
        data.sentences.copy(),
        data.chunks.copy(),
        backend(nudged(data.sentence_vectors.all())),
        backend(nudged(data.chunk_vectors.all())),
        data.sentence_bm25,
        data.chunk_bm25,
    )


def test_another_backend_gives_the_same_answers(tiny_index: Path, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    local = Assistant.open(tiny_index, embedder=fake_embedder)
    views: list[IndexView] = [
        _memory_copy(tiny_index, lambda v: FaissVectors.build(v, v.shape[1])),
        _memory_copy(tiny_index, NumpyVectors),
    ]
    faiss_side, numpy_side = (Assistant(v, fake_embedder, local.settings, reader=local.reader) for v in views)
    questions = ["Who won the vote?", "How full is the reservoir?", "tunnel", "What did the council decide?"]
    for question in questions:
        for filters in ({}, {"sources": ["Gulf Coast Herald"]}):
            a, b = faiss_side.ask(question, k=3, **filters), numpy_side.ask(question, k=3, **filters)
            assert a.model_dump() == b.model_dump()
    assert any(faiss_side.ask(q, k=3).sentences for q in questions)  # the comparison was not of empty answers


def test_filtered_search_returns_only_allowed_rows_best_first(tiny_index: Path) -> None:
    data = store.load(tiny_index)
    query = data.sentence_vectors.vectors(np.array([3]))
    allowed = np.arange(0, data.sentence_vectors.size, 2)
    for backend in (data.sentence_vectors, NumpyVectors(data.sentence_vectors.all())):
        ((rows, scores),) = backend.search(query, 4, allowed)
        assert set(rows.tolist()) <= set(allowed.tolist()) and len(rows) == 4
        assert np.all(np.diff(scores) <= 1e-6)
