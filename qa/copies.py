"""Copies at answer time: one citation per wire sentence, the other outlets' copies listed with it.

:func:`collapse` keeps one sentence of each set of copies (the best ranked) and lists the other
copies with it. The tests of what counts as a copy live in :mod:`index.ingest.syndication`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.ingest.syndication import MIN_SENTENCE_WORDS, SENTENCE_JACCARD, shingles, similar, text_key, words
from index.records import Article
from index.storage import IndexView


class CopyFinder:
    """Answers whether two articles of one list are copies of one story; shingles cached on first use."""

    def __init__(self, articles: Sequence[Article]) -> None:
        self.articles = articles
        self._keys: dict[int, str] = {}
        self._sets: dict[int, frozenset[int]] = {}
        self._same: dict[tuple[int, int], bool] = {}
        self._words: dict[int, tuple[str, frozenset[str]]] = {}

    def sentence_words(self, data: IndexView, row: int) -> tuple[str, frozenset[str]]:
        """Normalised text and word set of sentence ``row`` (cached: answers revisit the same rows)."""
        cached = self._words.get(row)
        if cached is None:
            tokens = words(data.sentence_text(row))
            cached = (" ".join(tokens), frozenset(tokens))
            if len(self._words) < 200_000:
                self._words[row] = cached
        return cached

    def same_story(self, i: int, j: int) -> bool:
        """Whether article rows ``i`` and ``j`` are the same story (identical or near-identical text)."""
        if i == j:
            return True
        pair = (min(i, j), max(i, j))
        cached = self._same.get(pair)
        if cached is None:
            cached = self._key(i) == self._key(j) or similar(self._shingles(i), self._shingles(j))
            if len(self._same) < 100_000:
                self._same[pair] = cached
        return cached

    def _key(self, i: int) -> str:
        if i not in self._keys:
            self._keys[i] = text_key(self.articles[i].text)
        return self._keys[i]

    def _shingles(self, i: int) -> frozenset[int]:
        if i not in self._sets:
            self._sets[i] = shingles(self.articles[i].text)
        return self._sets[i]


@dataclass(slots=True)
class Pick:
    """One sentence kept for an answer, with the copies of it found among the candidates."""

    row: int
    """Sentence row in the index."""
    score: float
    copies: list[int]
    """Sentence rows of the same sentence in other articles, best ranked first."""


def collapse(
    data: IndexView, rows: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray, k: int, finder: CopyFinder
) -> list[Pick]:
    """The first ``k`` of ``rows`` (ranked, best first) that are not copies of a better one.

    Every candidate is looked at, so a copy ranked below the first ``k`` still lands in the
    ``copies`` of the sentence it repeats. A repeat inside the same article is dropped silently.
    """
    picks: list[Pick] = []
    by_text: dict[str, Pick] = {}
    folded: list[tuple[Pick, frozenset[str], int, int]] = []  # pick, its word set, its size, its article row
    articles = data.sentences[:, 0]
    for row, score in zip((int(r) for r in rows), (float(s) for s in scores), strict=True):
        key, word_set = finder.sentence_words(data, row)
        article = int(articles[row])
        pick = by_text.get(key)
        if pick is None and len(word_set) >= MIN_SENTENCE_WORDS:
            pick = _near_copy(word_set, article, folded, finder)
        if pick is not None:
            if article not in {int(articles[r]) for r in [pick.row, *pick.copies]}:
                pick.copies.append(row)
            continue
        if len(picks) >= k:
            continue
        pick = Pick(row, score, [])
        picks.append(pick)
        by_text[key] = pick
        if len(word_set) >= MIN_SENTENCE_WORDS:  # a shorter sentence is no one's near copy
            folded.append((pick, word_set, len(word_set), article))
    return picks


def _near_copy(
    own: frozenset[str], article: int, folded: list[tuple[Pick, frozenset[str], int, int]], finder: CopyFinder
) -> Pick | None:
    size = len(own)
    for pick, other, other_size, other_article in folded:
        if other_article == article or min(size, other_size) < SENTENCE_JACCARD * max(size, other_size):
            continue  # the overlap over the union is at most the smaller over the larger
        shared = len(own & other)
        if shared / (size + other_size - shared) >= SENTENCE_JACCARD and finder.same_story(article, other_article):
            return pick
    return None
