"""Plain retrieval baselines over the index's own sentences, untuned, for ``newsdesk eval --compare``.

Each is what a user would write in a few lines, and none of them abstains:

- ``bm25``: a fresh ``bm25s.BM25()`` (Lucene scoring, defaults) over the sentence texts, with
  bm25s's default tokenizer and English stop words; none of newsdesk's stemming or tuning.
- ``dense``: the question's MiniLM vector against the index's sentence vectors, FAISS flat inner
  product (cosine, the vectors are unit length).
- ``rrf``: the two fused by reciprocal rank, ``sum 1 / (60 + rank)`` over each one's top ``k``
  (the same ten each returns; on SQuAD dev this reproduces the reference figures in the data's
  SOURCE.md, while fusing deeper lists scores slightly lower: hit@5 0.856 at depth 100).

Every question is asked on its own (no conversation context). ``--source/--since/--until``
restrict all three to the same sentences as the full system.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from index.storage import IndexView
from qa.filters import ArticleFilter

RRF_K = 60
BATCH = 64

Ranking = list[np.ndarray]
"""Per question, sentence rows best first."""


@dataclass(frozen=True, slots=True)
class BaselineRun:
    """Rankings of one baseline and the time it took."""

    name: str
    label: str
    rankings: Ranking
    seconds: float
    best_scores: list[float] | None = None
    """Per question, the score of its first row (dense: the best cosine), for a plain decline threshold."""


def sentence_mask(
    data: IndexView, sources: Sequence[str] = (), since: str | None = None, until: str | None = None
) -> np.ndarray | None:
    """Boolean per sentence: its article passes the filters (None when there are no filters)."""
    wanted = ArticleFilter.of(sources, since, until)
    return wanted.sentence_mask(data.articles, data.sentences) if wanted.active else None


class Baselines:
    """The three baselines over one loaded index."""

    def __init__(self, data: IndexView, embed: Callable[[list[str]], np.ndarray]) -> None:
        self.data = data
        self.embed = embed
        self.build_seconds = 0.0
        self._bm25: Any = None  # a bm25s.BM25 once built

    def run_all(
        self,
        questions: Sequence[str],
        *,
        k: int = 10,
        mask: np.ndarray | None = None,
        encode_seconds: float = 0.0,
        progress: Callable[[str], None] | None = None,
    ) -> list[BaselineRun]:
        """BM25, dense and their fusion for every question (top ``k`` rows each).

        ``encode_seconds``: time already spent encoding the questions in batches (``embed`` serves
        them from a cache), counted into the dense and fused runs.
        """
        progress = progress or (lambda message: None)
        progress("baseline BM25: indexing sentences")
        started = time.perf_counter()
        lexical = self.bm25(questions, k, mask)
        bm25_seconds = time.perf_counter() - started
        progress("baseline dense: searching sentence vectors")
        started = time.perf_counter()
        dense, best_cosines = self.dense_scored(questions, k, mask)
        dense_seconds = time.perf_counter() - started + encode_seconds
        started = time.perf_counter()
        fused = [rrf([a, b])[:k] for a, b in zip(lexical, dense, strict=True)]
        fuse_seconds = time.perf_counter() - started
        return [
            BaselineRun("bm25", "BM25", [r[:k] for r in lexical], bm25_seconds),
            BaselineRun("dense", "dense", [r[:k] for r in dense], dense_seconds, best_cosines),
            BaselineRun("rrf", "BM25+dense RRF", fused, bm25_seconds + dense_seconds + fuse_seconds),
        ]

    def bm25(self, questions: Sequence[str], depth: int, mask: np.ndarray | None = None) -> Ranking:
        """BM25 rankings; ``build_seconds`` records the one-off indexing time."""
        import bm25s

        n = len(self.data.sentences)
        if self._bm25 is None:
            started = time.perf_counter()
            texts = [self.data.sentence_text(i) for i in range(n)]
            retriever = bm25s.BM25()
            retriever.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
            self._bm25 = retriever
            self.build_seconds = time.perf_counter() - started
        if n == 0:
            return [np.zeros(0, np.int64) for _ in questions]
        depth = min(depth, n)
        tokens = bm25s.tokenize(list(questions), stopwords="en", return_ids=False, show_progress=False)
        weights = None if mask is None else mask.astype(np.float32)
        rows, scores = self._bm25.retrieve(
            tokens, k=depth, show_progress=False, weight_mask=weights
        )
        return [_allowed(r[s > 0] if mask is not None else r, mask) for r, s in zip(rows, scores, strict=True)]

    def dense(self, questions: Sequence[str], depth: int, mask: np.ndarray | None = None) -> Ranking:
        """Dense rankings: inner product over the stored sentence vectors."""
        return self.dense_scored(questions, depth, mask)[0]

    def dense_scored(
        self, questions: Sequence[str], depth: int, mask: np.ndarray | None = None
    ) -> tuple[Ranking, list[float]]:
        """Dense rankings and each question's best cosine (0.0 when nothing is searched)."""
        index = self.data.sentence_vectors
        if min(depth, index.size) == 0 or (mask is not None and not mask.any()):
            return [np.zeros(0, np.int64) for _ in questions], [0.0 for _ in questions]
        allowed = None if mask is None else np.flatnonzero(mask).astype(np.int64)
        out: Ranking = []
        best: list[float] = []
        for begin in range(0, len(questions), BATCH):
            vectors = np.ascontiguousarray(self.embed(list(questions[begin : begin + BATCH])), dtype=np.float32)
            for rows, scores in index.search(vectors, depth, allowed):
                out.append(rows)
                best.append(float(scores[0]) if len(scores) else 0.0)
        return out, best


def rrf(rankings: Sequence[np.ndarray], k: int = RRF_K) -> np.ndarray:
    """Reciprocal-rank fusion: rows ordered by ``sum 1 / (k + rank)``, rank counted from 1."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, row in enumerate(ranking.tolist(), start=1):
            fused[row] = fused.get(row, 0.0) + 1.0 / (k + rank)
    return np.array(sorted(fused, key=lambda r: (-fused[r], r)), dtype=np.int64)


def _allowed(rows: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.int64)
    return rows if mask is None else rows[mask[rows]]
