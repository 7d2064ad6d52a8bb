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
_WITHHELD_HINTS = ("ecl", "not", "nown", "unclear", "no ")
"""Every match of ``_WITHHELD`` holds one of these once lowercased (none has a letter with an odd
case fold, such as s or k), so a sentence holding none of them is not searched."""
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
        before, after = np.clip(rows - 1, 0, n_sentences - 1), np.clip(rows + 1, 0, n_sentences - 1)
        read = data.sentence_vectors.vectors(np.concatenate([rows, before, after]))  # one read of all three
        # each third times the query on its own, as its own array was: the same floats, bit for bit
        sims = [read[k * len(rows) : (k + 1) * len(rows)] @ query.vector for k in range(3)]
        cos = sims[0]
        features[:, column["cos"]] = cos
        chunk_ids = self._sentence_chunk[rows]
        chunk_vectors = data.chunk_vectors.vectors(np.maximum(chunk_ids, 0))
        features[:, column["cos_chunk"]] = np.where(chunk_ids >= 0, chunk_vectors @ query.vector, cos)
        neighbour = np.zeros(len(rows), dtype=np.float32)
        for k, other in enumerate((before, after), start=1):
            same = (other != rows) & (data.sentences[other, 0] == articles)
            neighbour = np.maximum(neighbour, np.where(same, sims[k], 0.0))
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
        names = list(query.idf)
        idf = np.array(list(query.idf.values()), dtype=np.float64)
        total_idf = sum(query.idf.values()) or 1.0
        top_idf = max(query.idf.values(), default=0.0) or 1.0
        focus_terms = terms(query.focus)
        own_terms = set(focus_terms) - _QUESTION_TERMS
        salient = np.array([t in own_terms for t in names], dtype=bool)
        holders = [self.data.sentence_bm25.rows_with(t) for t in names]
        held_articles, article_at = np.unique(articles, return_inverse=True)
        counts = self._article_term_counts(holders, held_articles)
        local = self._local_weights(held_articles, idf, counts)[article_at]
        own, context = self._query_terms_held(rows, holders)
        context |= self._title_holds(held_articles, names)[article_at]
        features[:, column["coverage"]] = _in_order_sum(np.where(own, idf, 0.0)) / total_idf
        features[:, column["coverage_context"]] = _in_order_sum(np.where(context, idf, 0.0)) / total_idf
        in_article = _in_order_sum(local)
        held_local = _in_order_sum(np.where(own, local, 0.0))
        features[:, column["coverage_local"]] = np.divide(
            held_local, in_article, out=np.zeros(len(rows)), where=in_article > 0
        )
        features[:, column["missing_salient"]] = _largest(np.where(salient & ~context, idf, -np.inf)) / top_idf
        absent = salient & (counts[article_at] == 0)
        features[:, column["missing_article"]] = _largest(np.where(absent, idf, -np.inf)) / top_idf
        query_bigrams = _bigrams(focus_terms)
        column_of = {t: i for i, t in enumerate(names)}
        pairs = [(column_of[a], column_of[b]) for a, b in query_bigrams if a in column_of and b in column_of]
        may_hold_bigram = np.zeros(len(rows), dtype=bool)  # both words of one query bigram held, else none can match
        for i, j in pairs:
            may_hold_bigram |= own[:, i] & own[:, j]
        answer_type = question_type(query.focus)
        for n, row in enumerate(rows.tolist()):
            text = data.sentence_text(row)
            features[n, column["withheld"]] = 1.0 if withheld(text) else 0.0
            if may_hold_bigram[n]:
                features[n, column["bigrams"]] = len(query_bigrams & _bigrams(self._terms(row))) / len(query_bigrams)
            if answer_type:
                features[n, column["type_match"]] = type_match(answer_type, text, query.focus)
        return features

    def _local_weights(self, articles: np.ndarray, idf: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Weight of each query term in each of ``articles``: global IDF times IDF among its sentences.

        Terms on every line of the article (its topic: "Fresno", "Guard") count little; terms
        only some sentences hold ("spokeswoman", "previous record") pick the answer out. Terms the
        article lacks keep the highest weight, so they count against all of its sentences.
        Returns float64 ``(len(articles), len(idf))``.
        """
        if self._article_rows is None:
            sizes = np.zeros(len(articles), dtype=np.int64)
        else:
            sizes = (self._article_rows[articles + 1] - self._article_rows[articles]).astype(np.int64)
        return idf[None, :] * np.log((sizes[:, None] + 1) / (counts + 0.5))

    def _article_term_counts(self, holders: list[np.ndarray], articles: np.ndarray) -> np.ndarray:
        """How many sentences of each of ``articles`` (ascending rows) hold each query term:
        int64 ``(len(articles), len(holders))``.

        ``holders`` are the query terms' postings (:meth:`LexicalSearch.rows_with`, ascending), which
        the index stores already. Each article's rows are one range, so its count is where the range's
        ends fall in the postings: the cost follows the number of articles (times the log of a
        term's document frequency), not the articles' length nor how common the term is.
        """
        counts = np.zeros((len(articles), len(holders)), dtype=np.int64)
        if len(articles) == 0 or self._article_rows is None:
            return counts
        first, stop = self._article_rows[articles], self._article_rows[articles + 1]
        for i, rows in enumerate(holders):
            counts[:, i] = np.searchsorted(rows, stop) - np.searchsorted(rows, first)
        return counts

    def _query_terms_held(self, rows: np.ndarray, holders: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Which query terms each of ``rows`` holds, and which it or a neighbour in its article holds:
        two bool ``(len(rows), len(holders))``, read from the postings (no sentence is tokenised:
        the postings hold exactly the terms :func:`terms` gives)."""
        n = len(self.data.sentences)
        article_of = self.data.sentences[:, 0]
        around = np.stack([rows - 1, rows, rows + 1])
        inside = (around >= 0) & (around < n)
        clipped = np.clip(around, 0, max(n - 1, 0))
        inside &= article_of[clipped] == article_of[rows][None, :]
        present = np.zeros((3, len(rows), len(holders)), dtype=bool)
        for i, postings in enumerate(holders):
            if len(postings):
                at = np.minimum(np.searchsorted(postings, clipped), len(postings) - 1)
                present[:, :, i] = (postings[at] == clipped) & inside
        return present[1].copy(), np.logical_or.reduce(present, axis=0)

    def _title_holds(self, articles: np.ndarray, names: list[str]) -> np.ndarray:
        """Which of the query terms ``names`` each of ``articles``' titles holds: bool ``(len(articles), len(names))``."""
        holds = np.zeros((len(articles), len(names)), dtype=bool)
        for a, article in enumerate(articles.tolist()):
            title = self._title_terms.get(article)
            if title is None:
                title = self._title_terms.setdefault(article, frozenset(terms(self.data.articles[article].title)))
            holds[a] = [t in title for t in names]
        return holds

    def _terms(self, row: int) -> tuple[str, ...]:
        cached = self._sentence_terms.get(row)
        if cached is None:
            cached = tuple(terms(self.data.sentence_text(row)))
            if len(self._sentence_terms) < 200_000:
                self._sentence_terms[row] = cached
        return cached


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


def _in_order_sum(values: np.ndarray) -> np.ndarray:
    """Row sums of a 2-d float64 array added left to right, as Python's ``sum`` adds them (bit for bit)."""
    if values.shape[1] == 0:
        return np.zeros(len(values))
    return np.cumsum(values, axis=1)[:, -1]


def _largest(values: np.ndarray) -> np.ndarray:
    """Row maxima of a 2-d array, 0.0 where a row is empty or all ``-inf``."""
    if values.shape[1] == 0:
        return np.zeros(len(values))
    top = values.max(axis=1)
    return np.where(np.isneginf(top), 0.0, top)


def _bigrams(sequence: tuple[str, ...] | list[str]) -> frozenset[tuple[str, str]]:
    return frozenset(zip(sequence, sequence[1:], strict=False))


def _top(scores: np.ndarray, depth: int) -> np.ndarray:
    depth = min(depth, len(scores))
    if depth <= 0:
        return np.zeros(0, np.int64)
    top = np.argpartition(-scores, depth - 1)[:depth]
    return top[np.argsort(-scores[top], kind="stable")].astype(np.int64)


def withheld(sentence: str) -> bool:
    """Whether ``sentence`` says the figure or fact was withheld ("declined to say", "was not disclosed")."""
    lowered = sentence.lower()
    return any(hint in lowered for hint in _WITHHELD_HINTS) and _WITHHELD.search(sentence) is not None


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
