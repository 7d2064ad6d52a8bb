"""Hybrid retrieval: dense (FAISS) and BM25 over sentences and chunks, fused into candidates.

The retriever finds candidate sentences and measures evidence for each; :mod:`qa.ranker`
turns that evidence into a score.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from index.embed.embedder import Embedder
from index.lexical import terms
from index.storage import IndexView, VectorSearch
from index.store.vectors import single_thread_search

RRF_K = 60
"""Reciprocal-rank-fusion constant (Cormack et al.)."""
CONTEXT_WEIGHT = 0.5
"""Weight of an earlier question's vector and terms in a follow-up's query."""

FEATURES = (
    "cos",
    "cos_chunk",
    "cos_neighbour",
    "cos_article",
    "bm25",
    "coverage",
    "coverage_context",
    "coverage_local",
    "bigrams",
    "dense_rank",
    "lexical_rank",
    "chunk_rank",
    "type_match",
    "missing_salient",
    "missing_article",
    "withheld",
)
"""Evidence measured for every candidate sentence, in the order of the feature matrix."""

_WITHHELD = re.compile(
    r"\b(declined to (say|comment|give|disclose|provide|release|specify|confirm)|would not (say|comment|disclose|"
    r"confirm|specify)|did not (say|disclose|respond|specify|release|provide)|has not (released|disclosed|said|"
    r"commented|announced|provided|confirmed)|have not (been )?(released|disclosed|announced)|not (yet )?(been )?"
    r"(released|disclosed|made public|announced)|(is|was|remains) (unknown|unclear|not known)|no (details|figures|"
    r"estimate) (were|was|has been|have been) (released|given|provided))\b",
    re.I,
)
_QUESTION_TERMS = frozenset(
    terms("many much long far old name named called kind type sort exact number total amount percent percentage")
)
"""Words that shape a question rather than name its subject; never counted as missing."""
_NUMBER_TOKEN = re.compile(r"\d[\d,.]*")
_YEAR_OR_DATE = re.compile(
    r"\b(1[5-9]\d\d|20\d\d)\b|\b(January|February|March|April|May|June|July|August|September|October|"
    r"November|December|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|today|yesterday)\b",
    re.I,
)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?:\s+[A-Z][a-z.]+)+")


@dataclass(frozen=True, slots=True)
class Query:
    """A question prepared for retrieval."""

    focus: str
    """The question itself (without a follow-up's context), for answer-type cues."""
    vector: np.ndarray
    terms: list[str]
    idf: dict[str, float]


@dataclass(frozen=True, slots=True)
class Candidates:
    """Candidate sentence rows and their evidence matrix (one row per candidate)."""

    rows: np.ndarray
    features: np.ndarray
    """float32 ``(len(rows), len(FEATURES))``."""


class Retriever:
    """Finds candidate sentences for a question in one loaded index."""

    def __init__(
        self,
        data: IndexView,
        embedder: Embedder,
        *,
        dense_depth: int = 50,
        lexical_depth: int = 50,
        chunk_depth: int = 10,
    ) -> None:
        self.data = data
        self.embedder = embedder
        self.dense_depth = dense_depth
        self.lexical_depth = lexical_depth
        self.chunk_depth = chunk_depth
        self._sentence_chunk = _context_chunks(data.chunks, len(data.sentences))
        # sentences are stored article by article: rows of article a are [starts[a], starts[a + 1])
        self._article_rows = (
            np.searchsorted(data.sentences[:, 0], np.arange(len(data.articles) + 1)) if len(data.sentences) else None
        )
        self._sentence_terms: dict[int, tuple[str, ...]] = {}
        self._title_terms: dict[int, frozenset[str]] = {}
        single_thread_search()

    def prepare(self, text: str, context: str | None = None, *, vector: np.ndarray | None = None) -> Query:
        """Embed and analyse a question; ``context`` (an earlier question) counts for less.

        ``vector`` is the question's embedding when the caller has it already (batch runs).
        """
        if vector is not None and context is None:
            vector = vector.reshape(1, -1)
        else:
            vector = self.embedder.embed([text] if context is None else [text, context])
        query_terms = list(dict.fromkeys(terms(text)))
        idf = self.data.sentence_bm25.idf(query_terms)
        if context is None:
            return Query(text, vector[0], query_terms, idf)
        combined = vector[0] + CONTEXT_WEIGHT * vector[1]
        extra = [t for t in dict.fromkeys(terms(context)) if t not in idf]
        for term, weight in self.data.sentence_bm25.idf(extra).items():
            idf[term] = weight * CONTEXT_WEIGHT
        # current terms are listed twice so BM25 weighs them above the context's
        return Query(
            text,
            combined / max(float(np.linalg.norm(combined)), 1e-12),
            query_terms + query_terms + extra,
            idf,
        )

    def candidates(self, query: Query, allowed: np.ndarray | None = None) -> Candidates:
        """Candidates for ``query``; ``allowed`` (bool per sentence) restricts them before ranking."""
        n = len(self.data.sentences)
        if n == 0 or (allowed is not None and not allowed.any()):
            return Candidates(np.zeros(0, np.int64), np.zeros((0, len(FEATURES)), np.float32))
        dense_rows, _ = _dense(self.data.sentence_vectors, query.vector, self.dense_depth, allowed)
        bm25_all = self.data.sentence_bm25.scores(query.terms)
        if allowed is not None:
            bm25_all = np.where(allowed, bm25_all, -1.0).astype(np.float32)
        lexical_rows = _top(bm25_all, self.lexical_depth)
        lexical_rows = lexical_rows[bm25_all[lexical_rows] > 0]
        chunk_rows = self._top_chunks(query, allowed)
        pool = [dense_rows, lexical_rows]
        for j in chunk_rows:
            _article, first, stop = self.data.chunks[j]
            pool.append(np.arange(first, stop))
        rows = np.unique(np.concatenate(pool)).astype(np.int64)
        if allowed is not None:
            rows = rows[allowed[rows]]
        ranks = (dense_rows, lexical_rows, chunk_rows)
        return Candidates(rows, self._features(query, rows, ranks, bm25_all))

    def _top_chunks(self, query: Query, allowed: np.ndarray | None) -> list[int]:
        chunks = self.data.chunks
        chunk_allowed = allowed[chunks[:, 1]] if allowed is not None and len(chunks) else None
        dense, _ = _dense(self.data.chunk_vectors, query.vector, self.chunk_depth, chunk_allowed)
        bm25 = self.data.chunk_bm25.scores(query.terms)
        if chunk_allowed is not None:
            bm25 = np.where(chunk_allowed, bm25, -1.0)
        lexical = _top(bm25, self.chunk_depth)
        lexical = lexical[bm25[lexical] > 0]
        fused: dict[int, float] = {}
        for ranked in (dense, lexical):
            for rank, j in enumerate(ranked.tolist()):
                fused[j] = fused.get(j, 0.0) + 1.0 / (RRF_K + rank + 1)
        return sorted(fused, key=lambda j: -fused[j])[: self.chunk_depth]

    def _features(
        self,
        query: Query,
        rows: np.ndarray,
        ranks: tuple[np.ndarray, np.ndarray, list[int]],
        bm25_all: np.ndarray,
    ) -> np.ndarray:
        data = self.data
        features = np.zeros((len(rows), len(FEATURES)), dtype=np.float32)
        if len(rows) == 0:
            return features
        column = {name: i for i, name in enumerate(FEATURES)}
        n_sentences = len(data.sentences)
        articles = data.sentences[rows, 0]
        vectors = data.sentence_vectors.vectors(rows)
        cos = vectors @ query.vector
        features[:, column["cos"]] = cos
        chunk_ids = self._sentence_chunk[rows]
        chunk_vectors = data.chunk_vectors.vectors(np.maximum(chunk_ids, 0))
        features[:, column["cos_chunk"]] = np.where(chunk_ids >= 0, chunk_vectors @ query.vector, cos)
        neighbour = np.zeros(len(rows), dtype=np.float32)
        for step in (-1, 1):
            other = np.clip(rows + step, 0, n_sentences - 1)
            same = (other != rows) & (data.sentences[other, 0] == articles)
            sims = data.sentence_vectors.vectors(other) @ query.vector
            neighbour = np.maximum(neighbour, np.where(same, sims, 0.0))
        features[:, column["cos_neighbour"]] = neighbour
        best_in_article: dict[int, float] = {}
        for article, value in zip(articles.tolist(), cos.tolist(), strict=True):
            best_in_article[article] = max(best_in_article.get(article, -1.0), value)
        features[:, column["cos_article"]] = [best_in_article[a] for a in articles.tolist()]
        bm25 = np.maximum(bm25_all[rows], 0.0)
        features[:, column["bm25"]] = bm25 / max(float(bm25.max()), 1e-6)
        dense_rows, lexical_rows, chunk_rows = ranks
        features[:, column["dense_rank"]] = _reciprocal_rank(rows, dense_rows)
        features[:, column["lexical_rank"]] = _reciprocal_rank(rows, lexical_rows)
        features[:, column["chunk_rank"]] = _reciprocal_rank(chunk_ids, np.asarray(chunk_rows, dtype=np.int64))
        total_idf = sum(query.idf.values()) or 1.0
        top_idf = max(query.idf.values(), default=0.0) or 1.0
        focus_terms = terms(query.focus)
        own_terms = set(focus_terms) - _QUESTION_TERMS
        query_bigrams = _bigrams(focus_terms)
        answer_type = question_type(query.focus)
        holders = {t: self.data.sentence_bm25.rows_with(t) for t in query.idf}
        counts = self._article_term_counts(holders, np.unique(articles))
        local = {a: self._local_weights(a, query, in_article) for a, in_article in counts.items()}
        held = self._query_terms_held(rows, holders)
        for n, row in enumerate(rows.tolist()):
            own = held[row]
            context = own | self._context_terms(row, held)
            features[n, column["coverage"]] = sum(w for t, w in query.idf.items() if t in own) / total_idf
            features[n, column["coverage_context"]] = sum(w for t, w in query.idf.items() if t in context) / total_idf
            weights = local[int(articles[n])]
            in_article = sum(weights.values())
            if in_article > 0:
                features[n, column["coverage_local"]] = sum(w for t, w in weights.items() if t in own) / in_article
            missing = [w for t, w in query.idf.items() if t in own_terms and t not in context]
            features[n, column["missing_salient"]] = max(missing, default=0.0) / top_idf
            article_counts = counts[int(articles[n])]
            absent = [w for t, w in query.idf.items() if t in own_terms and not article_counts.get(t)]
            features[n, column["missing_article"]] = max(absent, default=0.0) / top_idf
            features[n, column["withheld"]] = 1.0 if _WITHHELD.search(data.sentence_text(row)) else 0.0
            if query_bigrams and any(a in own and b in own for a, b in query_bigrams):  # else none can match
                features[n, column["bigrams"]] = len(query_bigrams & _bigrams(self._terms(row))) / len(query_bigrams)
            if answer_type:
                features[n, column["type_match"]] = type_match(answer_type, data.sentence_text(row), query.focus)
        return features

    def _local_weights(self, article: int, query: Query, counts: dict[str, int]) -> dict[str, float]:
        """Weight of each query term found in ``article``: global IDF times IDF among its sentences.

        Terms on every line of the article (its topic: "Fresno", "Guard") count little; terms
        only some sentences hold ("spokeswoman", "previous record") pick the answer out. Terms the
        article lacks keep the highest weight, so they count against all of its sentences.
        """
        n = int(self._article_rows[article + 1] - self._article_rows[article]) if self._article_rows is not None else 0
        return {t: w * float(np.log((n + 1) / (counts.get(t, 0) + 0.5))) for t, w in query.idf.items()}

    def _article_term_counts(self, holders: dict[str, np.ndarray], articles: np.ndarray) -> dict[int, dict[str, int]]:
        """For each of ``articles`` (ascending rows), how many of its sentences hold each query term.

        ``holders`` are the query terms' postings (:meth:`LexicalSearch.rows_with`), which the index
        stores already: the cost follows the terms' document frequencies, not the articles' length.
        """
        counts: dict[int, dict[str, int]] = {int(a): {} for a in articles}
        if len(articles) == 0:
            return counts
        article_of = self.data.sentences[:, 0]
        for term, rows in holders.items():
            holding = article_of[rows]
            at = np.searchsorted(articles, holding)
            inside = at < len(articles)
            inside[inside] = articles[at[inside]] == holding[inside]
            found = np.bincount(at[inside], minlength=len(articles))
            for k in np.flatnonzero(found).tolist():
                counts[int(articles[k])][term] = int(found[k])
        return counts

    def _query_terms_held(self, rows: np.ndarray, holders: dict[str, np.ndarray]) -> dict[int, frozenset[str]]:
        """Which query terms each of ``rows`` and its neighbours holds, read from the postings
        (no sentence is tokenised: the postings hold exactly the terms :func:`terms` gives)."""
        n = len(self.data.sentences)
        universe = np.unique(np.clip(np.concatenate([rows - 1, rows, rows + 1]), 0, max(n - 1, 0)))
        present = np.zeros((len(universe), len(holders)), dtype=bool)
        for i, postings in enumerate(holders.values()):
            if len(postings):
                at = np.minimum(np.searchsorted(postings, universe), len(postings) - 1)
                present[:, i] = postings[at] == universe
        names = list(holders)
        return {
            row: frozenset(t for t, here in zip(names, flags, strict=True) if here)
            for row, flags in zip(universe.tolist(), present.tolist(), strict=True)
        }

    def _terms(self, row: int) -> tuple[str, ...]:
        cached = self._sentence_terms.get(row)
        if cached is None:
            cached = tuple(terms(self.data.sentence_text(row)))
            if len(self._sentence_terms) < 200_000:
                self._sentence_terms[row] = cached
        return cached

    def _context_terms(self, row: int, held: dict[int, frozenset[str]]) -> frozenset[str]:
        """The terms of the article's title and the query terms ``held`` by the sentences either side (same article)."""
        data = self.data
        article = int(data.sentences[row, 0])
        title = self._title_terms.get(article)
        if title is None:
            title = self._title_terms.setdefault(article, frozenset(terms(data.articles[article].title)))
        context: set[str] = set(title)
        for neighbour in (row - 1, row + 1):
            if 0 <= neighbour < len(data.sentences) and int(data.sentences[neighbour, 0]) == article:
                context.update(held[neighbour])
        return frozenset(context)


def _dense(
    vectors: VectorSearch, vector: np.ndarray, depth: int, allowed: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """The best ``depth`` rows for one query vector; ``allowed`` (bool per row) restricts them."""
    if allowed is not None and not allowed.any():
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    rows = None if allowed is None else np.flatnonzero(allowed).astype(np.int64)
    return vectors.search(vector.reshape(1, -1), depth, rows)[0]


def _context_chunks(chunks: np.ndarray, n: int) -> np.ndarray:
    """For each sentence, the chunk holding it most centrally (-1 when none does)."""
    out = np.full(n, -1, dtype=np.int64)
    if len(chunks) == 0 or n == 0:
        return out
    first, stop = chunks[:, 1].astype(np.int64), chunks[:, 2].astype(np.int64)
    middle = (first + stop - 1) / 2
    rows = np.arange(n)
    latest = np.searchsorted(first, rows, side="right") - 1  # last chunk starting at or before i
    for candidate in (latest, latest - 1):
        valid = (candidate >= 0) & (stop[np.maximum(candidate, 0)] > rows)
        better = valid & (
            (out < 0) | (np.abs(rows - middle[np.maximum(candidate, 0)]) < np.abs(rows - middle[np.maximum(out, 0)]))
        )
        out[better] = candidate[better]
    return out


def _reciprocal_rank(rows: np.ndarray, ranked: np.ndarray) -> np.ndarray:
    """1 / log2(rank + 2) of each row in ``ranked`` (0 when absent), as in DCG discounts."""
    position = {int(r): k for k, r in enumerate(ranked.tolist())}
    return np.array([1.0 / np.log2(position[r] + 2) if r in position else 0.0 for r in rows.tolist()], np.float32)


def _bigrams(sequence: tuple[str, ...] | list[str]) -> frozenset[tuple[str, str]]:
    return frozenset(zip(sequence, sequence[1:], strict=False))


def _top(scores: np.ndarray, depth: int) -> np.ndarray:
    depth = min(depth, len(scores))
    if depth <= 0:
        return np.zeros(0, np.int64)
    top = np.argpartition(-scores, depth - 1)[:depth]
    return top[np.argsort(-scores[top], kind="stable")].astype(np.int64)


def question_type(question: str) -> str | None:
    """Expected answer type: ``number``, ``date`` or ``person``, when the question says so."""
    q = question.strip().lower()
    if re.search(r"\bhow (many|much|long|far|old|big|large|tall)\b|\bwhat (percentage|percent|number)\b", q):
        return "number"
    if re.search(r"\bwhen\b|\bwhat (year|date|day|month|time)\b|\bwhich (year|date|day|month)\b", q):
        return "date"
    if re.search(r"^(who|whom)\b|\bwho (is|was|were|are|did|said|ordered|leads|led)\b", q):
        return "person"
    return None


def type_match(kind: str, sentence: str, question: str = "") -> float:
    """1.0 when ``sentence`` holds something of the expected answer type that the question lacks."""
    pattern = {"number": _NUMBER_TOKEN, "date": _YEAR_OR_DATE, "person": _NAME}.get(kind)
    if pattern is None:
        return 0.0
    asked = {m.group().casefold() for m in pattern.finditer(question)}
    return 1.0 if any(m.group().casefold() not in asked for m in pattern.finditer(sentence)) else 0.0
