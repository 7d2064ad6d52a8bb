"""Syndicated copies: the same (wire) story printed by several outlets.

Two articles are copies of one story when their normalised texts are identical (same hash), or
when their word 5-shingles overlap strongly: Jaccard similarity at least ``JACCARD``, or one text
(of at least ``MIN_SHINGLES`` shingles) almost wholly contained in the other, as when an outlet
trims a wire story. :func:`find_copies` groups a whole collection (exact hashes, then MinHash
with banding to find candidate pairs, each confirmed by the exact shingle test).

Answering folds copies with these tests, lazily (``qa.copies``). Sentences are copies when their
normalised texts are equal, or nearly equal (word-set Jaccard at least ``SENTENCE_JACCARD``)
in articles that are copies of one story.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from collections.abc import Sequence

import numpy as np

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
