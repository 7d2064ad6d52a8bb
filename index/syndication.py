"""Syndicated copies: the same (wire) story printed by several outlets.

Two articles are copies of one story when their normalised texts are identical (same hash), or
when their word 5-shingles overlap strongly: Jaccard similarity at least ``JACCARD``, or one text
(of at least ``MIN_SHINGLES`` shingles) almost wholly contained in the other, as when an outlet
trims a wire story. :func:`find_copies` groups a whole collection (exact hashes, then MinHash
with banding to find candidate pairs, each confirmed by the exact shingle test); a
:class:`CopyFinder` answers "same story?" for two articles of an index lazily, caching shingles,
which is all answering needs.

At answer time :func:`collapse` keeps one sentence of each set of copies (the best ranked) and
lists the other copies with it, so a wire sentence is cited once. Sentences are copies when their
normalised texts are equal, or nearly equal (word-set Jaccard at least ``SENTENCE_JACCARD``)
in articles that are copies of one story.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.records import Article
from index.store import IndexData

SHINGLE_WORDS = 5
JACCARD = 0.7
CONTAINMENT = 0.9
MIN_SHINGLES = 15
SENTENCE_JACCARD = 0.8
MIN_SENTENCE_WORDS = 6
_BANDS, _ROWS = 32, 3
"""MinHash banding: 96 hash functions; pairs with Jaccard 0.5 become candidates with p > 0.98."""
_PRIME = (1 << 61) - 1
_rng = np.random.default_rng(20250408)
_A = _rng.integers(1, 1 << 29, size=_BANDS * _ROWS, dtype=np.uint64)
_B = _rng.integers(0, 1 << 32, size=_BANDS * _ROWS, dtype=np.uint64)
_WORD = re.compile(r"\w+")
_FOLD = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"})


def words(text: str) -> list[str]:
    """Words of ``text`` folded for comparison: Unicode compatibility forms, quotes, case."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).translate(_FOLD).casefold())


def normalise(text: str) -> str:
    """``text`` reduced to its folded words, space separated: copies that differ only in layout,
    punctuation, quotes or case normalise equally."""
    return " ".join(words(text))


def text_key(text: str) -> str:
    """sha256 of the normalised text: equal keys mean identical copies."""
    return hashlib.sha256(normalise(text).encode("utf-8", "surrogatepass")).hexdigest()


def shingles(text: str, size: int = SHINGLE_WORDS) -> frozenset[int]:
    """crc32 hashes of the word ``size``-grams of ``text`` (the whole text when shorter)."""
    tokens = words(text)
    if len(tokens) < size:
        return frozenset([zlib.crc32(" ".join(tokens).encode("utf-8", "surrogatepass"))]) if tokens else frozenset()
    return frozenset(
        zlib.crc32(" ".join(tokens[i : i + size]).encode("utf-8", "surrogatepass")) for i in range(len(tokens) - size + 1)
    )


def similar(a: frozenset[int], b: frozenset[int]) -> bool:
    """Whether two shingle sets are copies of one story (Jaccard, or containment of the smaller)."""
    if not a or not b:
        return False
    common = len(a & b)
    if common / len(a | b) >= JACCARD:
        return True
    smaller = min(len(a), len(b))
    return smaller >= MIN_SHINGLES and common / smaller >= CONTAINMENT


def find_copies(texts: Sequence[str]) -> list[list[int]]:
    """Groups (of two or more indices into ``texts``) that are copies of one story, each sorted."""
    parent = list(range(len(texts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        parent[max(find(i), find(j))] = min(find(i), find(j))

    first_of: dict[str, int] = {}
    for i, text in enumerate(texts):
        key = text_key(text)
        if key in first_of:
            union(first_of[key], i)
        else:
            first_of[key] = i
    distinct = sorted(first_of.values())
    sets = {i: shingles(texts[i]) for i in distinct}
    buckets: dict[tuple[int, bytes], list[int]] = {}
    for i in distinct:
        if not sets[i]:
            continue
        signature = minhash(sets[i])
        for band in range(_BANDS):
            bucket = (band, signature[band * _ROWS : (band + 1) * _ROWS].tobytes())
            buckets.setdefault(bucket, []).append(i)
    checked: set[tuple[int, int]] = set()
    for members in buckets.values():
        for n, i in enumerate(members):
            for j in members[n + 1 :]:
                if (i, j) not in checked and find(i) != find(j):
                    checked.add((i, j))
                    if similar(sets[i], sets[j]):
                        union(i, j)
    groups: dict[int, list[int]] = {}
    for i in range(len(texts)):
        groups.setdefault(find(i), []).append(i)
    return sorted((g for g in groups.values() if len(g) > 1), key=lambda g: g[0])


def minhash(hashes: frozenset[int]) -> np.ndarray:
    """MinHash signature (``_BANDS * _ROWS`` uint64) of a non-empty set of 32-bit hashes."""
    values = np.fromiter(hashes, dtype=np.uint64, count=len(hashes))
    signature: np.ndarray = ((np.outer(values, _A) + _B) % np.uint64(_PRIME)).min(axis=0)
    return signature


class CopyFinder:
    """Answers whether two articles of one list are copies of one story; shingles cached on first use."""

    def __init__(self, articles: Sequence[Article]) -> None:
        self.articles = articles
        self._keys: dict[int, str] = {}
        self._sets: dict[int, frozenset[int]] = {}
        self._same: dict[tuple[int, int], bool] = {}
        self._words: dict[int, tuple[str, frozenset[str]]] = {}

    def sentence_words(self, data: IndexData, row: int) -> tuple[str, frozenset[str]]:
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
    data: IndexData, rows: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray, k: int, finder: CopyFinder
) -> list[Pick]:
    """The first ``k`` of ``rows`` (ranked, best first) that are not copies of a better one.

    Every candidate is looked at, so a copy ranked below the first ``k`` still lands in the
    ``copies`` of the sentence it repeats. A repeat inside the same article is dropped silently.
    """
    picks: list[Pick] = []
    by_text: dict[str, Pick] = {}
    folded: list[tuple[Pick, frozenset[str], int]] = []  # pick, its word set, its article row
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
        folded.append((pick, word_set, article))
    return picks


def _near_copy(
    own: frozenset[str], article: int, folded: list[tuple[Pick, frozenset[str], int]], finder: CopyFinder
) -> Pick | None:
    for pick, other, other_article in folded:
        if other_article == article or len(other) < MIN_SENTENCE_WORDS:
            continue
        if len(own & other) / len(own | other) >= SENTENCE_JACCARD and finder.same_story(article, other_article):
            return pick
    return None
