"""BM25 index files written from a stream of term lists in bounded memory (the files bm25s loads).

bm25s builds its score matrix in memory: at 300k sentences that took about 200 MB above the
index itself. Here each document's term counts go to a temporary file as it is read (document
frequencies and lengths are all that stay in memory: a number per term and per document), and
the matrix is then written term range by term range, :data:`POSTINGS_PER_PASS` postings at a time,
so memory does not grow with the corpus. The scores are computed as bm25s computes them (Lucene
BM25, its default parameters), so its ``BM25.load`` reads the files and scores exactly as an
index it built itself.
"""

from __future__ import annotations

import json
import math
from array import array
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import numpy as np

EMPTY_TERM = "\u2400"
"""The term a document with no terms gets (bm25s needs a term per document)."""
POSTINGS_PER_PASS = 1 << 19
"""Most postings gathered in memory at once while the matrix is written (about 25 MB of working arrays)."""
FLUSH_POSTINGS = 1 << 18
"""Postings kept before they are appended to the temporary file."""
FILES = ("data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy", "vocab.index.json", "params.index.json")


def _bm25s_params() -> dict[str, Any]:
    """The parameters a default ``bm25s.BM25`` scores with and saves (Lucene method)."""
    import bm25s

    model = bm25s.BM25()
    if model.method != "lucene" or model.idf_method != "lucene":
        raise RuntimeError(f"bm25s now defaults to {model.method}/{model.idf_method} scoring; newsdesk writes Lucene's")
    return {
        "k1": model.k1,
        "b": model.b,
        "delta": model.delta,
        "method": model.method,
        "idf_method": model.idf_method,
        "dtype": model.dtype,
        "int_dtype": model.int_dtype,
        "version": bm25s.__version__,
        "backend": model.backend,
    }


class _Postings:
    """Each document's distinct terms and their counts, in document order, appended to a temporary file."""

    def __init__(self, file: IO[bytes]) -> None:
        self.file = file
        self.vocab: dict[str, int] = {}
        self.df = array("q")
        self.lengths = array("i")
        self._terms, self._tfs = array("i"), array("i")
        self._docs = array("i")
        self.blocks: list[int] = []
        """Postings in each block written (blocks are read back in order)."""

    def add(self, words: list[str]) -> None:
        ids = [self.vocab.setdefault(w, len(self.vocab)) for w in (words or [EMPTY_TERM])]
        if len(self.vocab) > len(self.df):
            self.df.extend([0] * (len(self.vocab) - len(self.df)))
        counts = Counter(ids)  # first-use order, as bm25s counts them
        doc = len(self.lengths)
        self.lengths.append(len(ids))
        for term, tf in counts.items():
            self.df[term] += 1
            self._terms.append(term)
            self._tfs.append(tf)
        self._docs.extend([doc] * len(counts))
        if len(self._terms) >= FLUSH_POSTINGS:
            self.flush()

    def flush(self) -> None:
        if self._terms:
            for part in (self._terms, self._docs, self._tfs):
                self.file.write(part.tobytes())
            self.blocks.append(len(self._terms))
            self._terms, self._docs, self._tfs = array("i"), array("i"), array("i")

    def read_blocks(self) -> Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """``(terms, docs, counts)`` of each block, in order."""
        self.file.seek(0)
        for size in self.blocks:
            raw = np.frombuffer(self.file.read(12 * size), dtype=np.int32)
            yield raw[:size], raw[size : 2 * size], raw[2 * size :]


def _npy_header(out: IO[bytes], dtype: str, length: int) -> None:
    np.lib.format.write_array_header_1_0(out, {"descr": dtype, "fortran_order": False, "shape": (length,)})


def write_bm25(term_lists: Iterable[list[str]], folder: Path, scratch: IO[bytes]) -> int:
    """Write the BM25 files of the documents ``term_lists`` (read once) into ``folder``; returns
    the number of documents. ``scratch`` is an empty temporary file for the postings."""
    params = _bm25s_params()
    postings = _Postings(scratch)
    for words in term_lists:
        postings.add(words)
    docs = len(postings.lengths)
    if docs == 0:  # bm25s needs a document as well
        postings.add([])
    postings.flush()
    n = len(postings.lengths)
    df = np.frombuffer(postings.df, dtype=np.int64)
    lengths = np.frombuffer(postings.lengths, dtype=np.int32)
    average = np.array(lengths, dtype=np.int64).mean()  # as bm25s averages them
    idf = np.array([math.log(1 + (n - d + 0.5) / (d + 0.5)) for d in df.tolist()], dtype=params["dtype"])
    indptr = np.concatenate([[0], np.cumsum(df)]).astype(np.int64)
    total = int(indptr[-1])
    k1, b = params["k1"], params["b"]
    with (
        (folder / FILES[0]).open("wb") as data_out,
        (folder / FILES[1]).open("wb") as indices_out,
    ):
        _npy_header(data_out, np.dtype(params["dtype"]).str, total)
        _npy_header(indices_out, np.dtype(params["int_dtype"]).str, total)
        first = 0
        while first < len(df):  # terms [first, last): at most POSTINGS_PER_PASS postings (or one term)
            last = int(np.searchsorted(indptr, indptr[first] + POSTINGS_PER_PASS, side="right")) - 1
            last = min(len(df), max(last, first + 1))
            found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
            for terms, in_docs, tfs in postings.read_blocks():
                keep = (terms >= first) & (terms < last)
                if keep.any():
                    found.append((terms[keep], in_docs[keep], tfs[keep]))
            terms = np.concatenate([f[0] for f in found]) if found else np.zeros(0, np.int32)
            in_docs = np.concatenate([f[1] for f in found]) if found else np.zeros(0, np.int32)
            tf = (np.concatenate([f[2] for f in found]) if found else np.zeros(0, np.int32)).astype(params["dtype"])
            del found
            tfc = tf / (k1 * ((1 - b) + b * lengths[in_docs].astype(np.int64) / average) + tf)
            scores = (idf[terms] * tfc).astype(params["dtype"])
            order = np.argsort(terms, kind="stable")  # documents stay ascending within each term
            data_out.write(scores[order].tobytes())
            indices_out.write(in_docs[order].astype(params["int_dtype"]).tobytes())
            first = last
    with (folder / FILES[2]).open("wb") as out:
        np.save(out, indptr, allow_pickle=False)
    vocab = dict(postings.vocab)
    vocab.setdefault("", max(vocab.values()) + 1)  # bm25s's own index names the empty token too (no postings)
    (folder / FILES[3]).write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    saved = {key: params[key] for key in ("k1", "b", "delta", "method", "idf_method", "dtype", "int_dtype")}
    saved |= {"num_docs": n, "version": params["version"], "backend": params["backend"]}  # bm25s's own order
    (folder / FILES[4]).write_text(json.dumps(saved, indent=4), encoding="utf-8")
    return docs
