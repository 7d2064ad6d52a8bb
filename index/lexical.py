"""Lexical side of the index: term extraction and a BM25 index (bm25s) over text units."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterable, Sequence
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from index.bm25_files import FILES as BM25_FILES
from index.bm25_files import write_bm25

_TOKEN = re.compile(r"\w+(?:[.,'’]\w+)*", re.UNICODE)
_STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself just
    me more most my myself no nor not now of off on once only or other our ours ourselves out over
    own same she should so some such than that the their theirs them themselves then there these
    they this those through to too under until up very was we were what when where which while who
    whom why will with would you your yours yourself yourselves s t""".split()
)


@lru_cache(maxsize=1)
def _stemmer() -> Any:  # PyStemmer has no type hints
    import Stemmer

    return Stemmer.Stemmer("english")


def normalize(text: str) -> str:
    """Unicode compatibility form, case-folded, curly quotes made straight."""
    return unicodedata.normalize("NFKC", text).casefold().replace("’", "'").replace("‘", "'")


def terms(text: str) -> list[str]:
    """Stemmed content terms of ``text``; numbers keep their separators ("2,000", "3.5")."""
    words = [w.replace(",", "") if w[0].isdigit() else w for w in _TOKEN.findall(normalize(text))]
    words = [w[:-2] if w.endswith("'s") else w for w in words]
    stemmed: list[str] = _stemmer().stemWords([w for w in words if w not in _STOPWORDS])
    return stemmed


SPOOL_PREFIX = ".tmp-bm25-"
"""Start of a built index's temporary folder (then the process id): the store removes those a dead writer left."""


def _read(directory: Path) -> Any:
    import bm25s

    return bm25s.BM25.load(str(directory), allow_pickle=False, mmap=False, show_progress=False)


class LexicalIndex:
    """BM25 over a list of text units (bm25s, Lucene scoring), saved as plain .npy/.json files.

    A built index waits as files in a temporary folder (see :mod:`index.bm25_files`) and is read
    into memory only when something scores with it before :meth:`save` copies the files.
    """

    def __init__(self, bm25: Any, num_docs: int, spooled: tempfile.TemporaryDirectory[str] | None = None) -> None:
        self._loaded = bm25  # a bm25s.BM25 (untyped), or None until the spooled files are read
        self._spooled = spooled
        self.num_docs = num_docs

    @property
    def _bm25(self) -> Any:
        if self._loaded is None:
            if self._spooled is None:
                raise ValueError("this BM25 index was closed before it was read")
            self._loaded = _read(Path(self._spooled.name))
        return self._loaded

    def close(self) -> None:
        """Remove a built index's temporary files (once saved, or when the build is abandoned)."""
        if self._spooled is not None:
            self._spooled.cleanup()
            self._spooled = None

    @cached_property
    def _vocab(self) -> dict[str, int]:
        vocab: dict[str, int] = self._bm25.vocab_dict
        return vocab

    @cached_property
    def _idf(self) -> np.ndarray:
        df = np.diff(np.asarray(self._bm25.scores["indptr"])).astype(np.float32)
        return np.log(1.0 + (self.num_docs - df + 0.5) / (df + 0.5)).astype(np.float32)

    @classmethod
    def build(cls, texts: Iterable[str], *, spool_dir: Path | None = None) -> LexicalIndex:
        """BM25 over ``texts`` (read once, so a generator will do), its files written as they are read
        into a temporary folder in ``spool_dir`` (default: the system's); memory does not grow with the texts."""
        folder = tempfile.TemporaryDirectory(dir=spool_dir, prefix=f"{SPOOL_PREFIX}{os.getpid()}-")
        try:
            with tempfile.TemporaryFile(dir=folder.name) as scratch:
                docs = write_bm25((terms(text) for text in texts), Path(folder.name), scratch)
        except BaseException:
            folder.cleanup()
            raise
        return cls(None, docs, folder)

    def save(self, directory: Path) -> list[Path]:
        """Write the index files into ``directory``; returns the paths written."""
        if self._spooled is not None:
            for name in BM25_FILES:
                shutil.copyfile(Path(self._spooled.name) / name, directory / name)
        else:
            self._bm25.save(str(directory), show_progress=False)
        return sorted(p for p in directory.iterdir() if p.is_file())

    @classmethod
    def load(cls, directory: Path, num_docs: int) -> LexicalIndex:
        return cls(_read(directory), num_docs)

    def postings(self) -> tuple[dict[str, int], np.ndarray, np.ndarray, np.ndarray]:
        """``(vocabulary, indptr, indices, scores)``: term ``t``'s units are ``indices[indptr[t]:indptr[t+1]]``
        with their BM25 scores in ``scores`` (as bm25s computed them at build time)."""
        matrix = self._bm25.scores
        return (
            dict(self._vocab),
            np.asarray(matrix["indptr"], dtype=np.int64),
            np.asarray(matrix["indices"], dtype=np.int64),
            np.asarray(matrix["data"], dtype=np.float32),
        )

    def term_ids(self, query_terms: Sequence[str]) -> list[int]:
        return [self._vocab[t] for t in query_terms if t in self._vocab]

    def idf(self, query_terms: Sequence[str]) -> dict[str, float]:
        """IDF of each term; terms absent from the index get the highest possible IDF."""
        top = float(np.log(1.0 + (self.num_docs + 0.5) / 0.5))
        return {t: float(self._idf[self._vocab[t]]) if t in self._vocab else top for t in query_terms}

    def rows_with(self, term: str) -> np.ndarray:
        """The units holding ``term``, ascending (int64): its postings list, read from the index as stored."""
        tid = self._vocab.get(term)
        if tid is None:
            return np.zeros(0, np.int64)
        indptr = self._bm25.scores["indptr"]
        return np.asarray(self._bm25.scores["indices"][indptr[tid] : indptr[tid + 1]], dtype=np.int64)

    def scores(self, query_terms: Sequence[str]) -> np.ndarray:
        """BM25 score of every unit (float32, length ``num_docs``)."""
        ids = self.term_ids(query_terms)
        if not ids or self.num_docs == 0:
            return np.zeros(self.num_docs, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(ids), dtype=np.float32)
