"""The storage seam: what answering reads from an index, whatever keeps it.

:class:`IndexView` is all that ``qa`` and ``eval`` may rely on. Today's local files
(:class:`index.store.IndexData`: FAISS vectors, bm25s postings, numpy tables) are its first
implementation; another backend (a database) implements the same names and the ranking code
stays as it is.

The catalogue tables are plain arrays so that a backend can hand them over as they are:
``sentences`` is int32 ``(n, 4)`` (article row, start, end, token count), stored article by
article; ``chunks`` is int32 ``(m, 3)`` (article row, first sentence row, stop sentence row).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from index.records import Article


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """Identity of the embedding model that built an index."""

    name: str
    backend: str
    fingerprint: str
    dim: int
    max_tokens: int
    normalize: bool = True


class VectorSearch(Protocol):
    """Unit vectors by row, searched by inner product."""

    @property
    def size(self) -> int:
        """Number of vectors."""
        ...

    @property
    def dim(self) -> int:
        """Vector dimension."""
        ...

    def search(
        self, queries: np.ndarray, depth: int, allowed: np.ndarray | None = None
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per query row, the best ``depth`` (rows int64, scores float32), restricted to row ids ``allowed``."""
        ...

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        """The stored vectors of ``rows`` (float32)."""
        ...


class LexicalSearch(Protocol):
    """BM25 over text units by row."""

    num_docs: int

    def scores(self, query_terms: Sequence[str]) -> np.ndarray:
        """BM25 score of every unit (float32, length ``num_docs``)."""
        ...

    def idf(self, query_terms: Sequence[str]) -> dict[str, float]:
        """Inverse document frequency of each known term."""
        ...

    def rows_with(self, term: str) -> np.ndarray:
        """The units holding ``term`` (its postings), ascending row ids."""
        ...


class IndexView(Protocol):
    """One generation of an index, read-only, as answering sees it."""

    @property
    def model(self) -> ModelInfo:
        """The embedding model it was built with."""
        ...

    @property
    def generation(self) -> int:
        """Generation number (changes on every write)."""
        ...

    @property
    def articles(self) -> Sequence[Article]:
        """The catalogue: every article, in row order."""
        ...

    @property
    def sentences(self) -> np.ndarray:
        """int32 ``(n, 4)``: article row, start, end, token count."""
        ...

    @property
    def chunks(self) -> np.ndarray:
        """int32 ``(m, 3)``: article row, first sentence row, stop sentence row."""
        ...

    @property
    def sentence_vectors(self) -> VectorSearch:
        """Dense search over sentences (row i = sentence i)."""
        ...

    @property
    def chunk_vectors(self) -> VectorSearch:
        """Dense search over chunks (row j = chunk j)."""
        ...

    @property
    def sentence_bm25(self) -> LexicalSearch:
        """Lexical search over sentences."""
        ...

    @property
    def chunk_bm25(self) -> LexicalSearch:
        """Lexical search over chunks (their text carries the article title)."""
        ...

    def sentence_text(self, row: int) -> str:
        """The text of sentence ``row``."""
        ...

    def chunk_text(self, row: int) -> str:
        """The text of chunk ``row``."""
        ...


class CatalogueTexts:
    """``sentence_text`` and ``chunk_text`` for any index that holds its catalogue as ``articles``,
    ``sentences`` and ``chunks`` (a mixin shared by the local files and the database)."""

    __slots__ = ()
    articles: Sequence[Article]
    sentences: np.ndarray
    chunks: np.ndarray

    def sentence_text(self, row: int) -> str:
        """The text of sentence ``row``."""
        article, start, end = self.sentences[row, :3].tolist()
        text: str = self.articles[article].text
        return text[start:end]

    def chunk_text(self, row: int) -> str:
        """The text of chunk ``row``: its first sentence's start to its last sentence's end."""
        article, first, stop = (int(v) for v in self.chunks[row])
        start, end = int(self.sentences[first, 1]), int(self.sentences[stop - 1, 2])
        return self.articles[article].text[start:end]
