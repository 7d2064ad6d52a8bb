"""Opening a generation: every file checksummed before it is parsed, then counts and row references checked."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from index.article_spool import ArticleSpool, text_length
from index.errors import IndexCorruptError
from index.lexical import LexicalIndex
from index.records import Article
from index.storage import CatalogueTexts, ModelInfo
from index.store.layout import (
    LOAD_ATTEMPTS,
    REBUILD_HINT,
    Vanished,
    check_file,
    read_checked,
    read_lines_checked,
    read_manifest_once,
    verify_files,
)
from index.store.vectors import FaissVectors

T = TypeVar("T")


@dataclass(slots=True)
class Rebuildable(CatalogueTexts):
    """What a rebuild reads from the live generation: its catalogue and sentence vectors. Its BM25
    indexes and chunk vectors are made afresh, so :func:`load_for_rebuild` checksums them but never
    loads them."""

    model: ModelInfo
    chunk_params: dict[str, int]
    articles: Sequence[Article]
    hashes: list[str]
    """``Article.content_hash`` of each article, in the same order."""
    sentences: np.ndarray
    """int32 ``(n, 4)``: article row, start, end, token count."""
    chunks: np.ndarray
    """int32 ``(m, 3)``: article row, first sentence row, stop sentence row."""
    sentence_vectors: FaissVectors
    """Sentence vectors (row i = sentence i)."""


@dataclass(slots=True)
class IndexData(Rebuildable):
    """Everything one generation holds, in memory: the local files' :class:`index.storage.IndexView`."""

    chunk_vectors: FaissVectors
    """Chunk vectors (row j = chunk j)."""
    sentence_bm25: LexicalIndex
    chunk_bm25: LexicalIndex
    generation: int = 0
    manifest: dict[str, Any] = field(default_factory=dict)


def load_for_rebuild(index_dir: Path, *, spool_dir: Path | None = None) -> Rebuildable:
    """The live generation of ``index_dir`` as a rebuild needs it; every file is checksummed, so
    damage anywhere is found (and the rebuild then starts from the articles given).

    The articles' texts wait in a spool file in ``spool_dir`` (default: the system's temporary
    folder), read line by line from ``articles.jsonl``, so an update does not hold the archive's
    texts; :func:`index.article_spool.close` ``articles`` when done.
    """

    def read(_generation: int, folder: Path, manifest: dict[str, Any]) -> Rebuildable:
        verify_files(folder, manifest, skip=CATALOGUE_FILES)  # _catalogue checks those as it reads them
        spool = ArticleSpool(spool_dir)
        try:
            data = _catalogue(folder, manifest, vectors_on_disk=True, into=spool)  # read back once, in row order
            _check_catalogue(folder, data, manifest["counts"])
        except BaseException:
            spool.close()
            raise
        return data

    return _live(index_dir, read)


def load(index_dir: Path) -> IndexData:
    """Open the live generation of ``index_dir``; every file is checksummed before it is parsed."""
    return _live(index_dir, _load_once)


def read_catalogue(index_dir: Path) -> tuple[ModelInfo, list[str], list[str], dict[str, Any]]:
    """``(model, article ids, content hashes, counts)`` of the live generation, without loading it.

    Every listed file is checksummed, as :func:`load` does, but only the article list is parsed, a
    line at a time, and only ids and hashes are kept: enough to tell whether a re-index has anything to do.
    """

    def read(_generation: int, folder: Path, manifest: dict[str, Any]) -> tuple[ModelInfo, list[str], list[str], dict[str, Any]]:
        verify_files(folder, manifest, skip=("articles.jsonl",))  # checked below as it is read
        ids: list[str] = []
        hashes = _read_articles(folder, manifest, lambda row: ids.append(str(row["id"])))
        counts = manifest["counts"]
        if counts.get("articles") != len(ids):
            raise IndexCorruptError(
                f"{folder / 'articles.jsonl'}: {len(ids)} articles, manifest says {counts.get('articles')}; {REBUILD_HINT}"
            )
        return _model_info(folder, manifest), ids, hashes, counts

    return _live(index_dir, read)


def _live(index_dir: Path, read: Callable[[int, Path, dict[str, Any]], T]) -> T:
    """``read(generation, folder, manifest)`` of the live generation, read again when a writer
    replaced it meanwhile (its folder vanished mid-read)."""
    for _attempt in range(LOAD_ATTEMPTS):
        try:
            return read(*read_manifest_once(Path(index_dir)))
        except Vanished:
            time.sleep(0.05)
    raise IndexCorruptError(f"{index_dir}: the live generation keeps disappearing; {REBUILD_HINT}")


CATALOGUE_FILES = ("articles.jsonl", "sentences.npy", "chunks.npy", "sentences.faiss")
"""The files :func:`_catalogue` reads (each checksummed as it is read)."""


def _catalogue(
    folder: Path, manifest: dict[str, Any], *, vectors_on_disk: bool = False, into: ArticleSpool | None = None
) -> Rebuildable:
    """The generation's model, articles, tables and sentence vectors, each file checksummed as parsed;
    with ``vectors_on_disk``, the sentence vectors are read from their file row by row when asked for;
    with ``into``, the articles go there line by line instead of into a list."""
    model = _model_info(folder, manifest)
    articles: Sequence[Article]
    if into is None:
        articles, hashes = _parse(folder, "articles.jsonl", _parse_articles, manifest)
    else:
        articles, hashes = into, _read_articles(folder, manifest, lambda row: into.append(Article(**row)))
    return Rebuildable(
        model=model,
        chunk_params=dict(manifest.get("chunk_params", {})),
        articles=articles,
        hashes=hashes,
        sentences=_parse(folder, "sentences.npy", _parse_table, manifest),
        chunks=_parse(folder, "chunks.npy", _parse_table, manifest),
        sentence_vectors=_read_faiss(folder, "sentences.faiss", manifest, on_disk=vectors_on_disk),
    )


def _load_once(generation: int, folder: Path, manifest: dict[str, Any]) -> IndexData:
    base = _catalogue(folder, manifest)
    chunk_vectors = _read_faiss(folder, "chunks.faiss", manifest)
    bm25 = {}
    for sub, rows in (("bm25-sentences", len(base.sentences)), ("bm25-chunks", len(base.chunks))):
        names = [n for n in manifest["files"] if n.startswith(sub + "/")]
        if not names:
            raise IndexCorruptError(f"{folder / sub}: not listed in the manifest; {REBUILD_HINT}")
        for name in names:
            read_checked(folder, manifest, name)
        try:
            with NPY_LOCK:
                bm25[sub] = LexicalIndex.load(folder / sub, rows)
        except FileNotFoundError:
            if not folder.is_dir():
                raise Vanished(str(folder)) from None
            raise IndexCorruptError(f"{folder / sub}: files missing; {REBUILD_HINT}") from None
        except Exception as exc:  # noqa: BLE001 - a checked file that does not parse is corruption
            raise IndexCorruptError(f"{folder / sub}: cannot read ({exc}); {REBUILD_HINT}") from exc
    data = IndexData(
        **{f.name: getattr(base, f.name) for f in fields(Rebuildable)},
        chunk_vectors=chunk_vectors,
        sentence_bm25=bm25["bm25-sentences"],
        chunk_bm25=bm25["bm25-chunks"],
        generation=generation,
        manifest=manifest,
    )
    check_consistency(folder, data, manifest["counts"])
    return data


def _parse(folder: Path, name: str, parser: Callable[[bytes], T], manifest: dict[str, Any]) -> T:
    raw = read_checked(folder, manifest, name)
    try:
        return parser(raw)
    except Exception as exc:  # noqa: BLE001 - a checked file that does not parse is corruption
        raise IndexCorruptError(f"{folder / name}: cannot read ({type(exc).__name__}: {exc}); {REBUILD_HINT}") from exc


def _parse_articles(raw: bytes) -> tuple[list[Article], list[str]]:
    articles: list[Article] = []
    hashes: list[str] = []
    for line in raw.decode("utf-8").split("\n"):
        if line:
            row = json.loads(line)
            hashes.append(str(row.pop("hash")))
            articles.append(Article(**row))
    return articles, hashes


def _read_articles(folder: Path, manifest: dict[str, Any], take: Callable[[dict[str, Any]], None]) -> list[str]:
    """``articles.jsonl`` read line by line: each article's fields (its hash taken out) go to ``take``;
    returns the content hashes. A line that does not parse is reported only once the whole file has
    passed its checksum, as :func:`_parse` reports it."""
    hashes: list[str] = []
    failure: Exception | None = None
    for line in read_lines_checked(folder, manifest, "articles.jsonl"):
        if failure is None and line.strip(b"\n"):
            try:
                row = json.loads(line)
                hashes.append(str(row.pop("hash")))
                take(row)
            except Exception as exc:  # noqa: BLE001 - a checked file that does not parse is corruption
                failure = exc
    if failure is not None:
        raise IndexCorruptError(
            f"{folder / 'articles.jsonl'}: cannot read ({type(failure).__name__}: {failure}); {REBUILD_HINT}"
        ) from failure
    return hashes


NPY_LOCK = threading.Lock()
"""Held while ``.npy`` files are parsed: numpy reads their headers with ``ast.literal_eval``, and
CPython 3.11's AST validation is not thread-safe (threads opening indexes at once could get a
"recursion depth mismatch" for an intact file)."""


def _parse_table(raw: bytes) -> np.ndarray:
    with NPY_LOCK:
        table: np.ndarray = np.load(io.BytesIO(raw), allow_pickle=False)
    if table.dtype != np.int32 or table.ndim != 2:
        raise ValueError(f"expected a 2-d int32 table, got {table.dtype} {table.shape}")
    return table


def _read_faiss(folder: Path, name: str, manifest: dict[str, Any], *, on_disk: bool = False) -> FaissVectors:
    """A vector index, checked, then read by FAISS from the file: no copy of its bytes is held beside
    the index (at 300k sentences that copy was 250 MB more at every open). ``on_disk``: its rows
    are read from the file when asked for, the index itself only if something searches it."""
    path = check_file(folder, manifest, name)
    try:
        return FaissVectors.on_disk(path) if on_disk else FaissVectors.read(path)
    except Exception as exc:  # noqa: BLE001 - a checked file that does not parse is corruption
        if not folder.is_dir():
            raise Vanished(str(folder)) from None
        raise IndexCorruptError(f"{path}: cannot read ({type(exc).__name__}: {exc}); {REBUILD_HINT}") from exc


def _model_info(folder: Path, manifest: dict[str, Any]) -> ModelInfo:
    try:
        model = ModelInfo(**manifest["model"])
    except TypeError as exc:
        raise IndexCorruptError(f"{folder / 'manifest.json'}: bad model entry ({exc}); {REBUILD_HINT}") from None
    if not isinstance(model.dim, int) or model.dim < 1:
        raise IndexCorruptError(f"{folder / 'manifest.json'}: bad model dimension {model.dim!r}; {REBUILD_HINT}")
    return model


def check_consistency(folder: Path, data: IndexData, counts: dict[str, Any]) -> None:
    """Counts, shapes and row references agree: no FAISS row without a sentence, no offset past a text."""
    _check_catalogue(folder, data, counts)
    for what, actual, wanted in (
        ("vectors (ntotal)", data.chunk_vectors.size, len(data.chunks)),
        ("dimensions", data.chunk_vectors.dim, data.model.dim),
    ):
        if actual != wanted:
            raise IndexCorruptError(f"{folder / 'chunks.faiss'}: {actual} {what}, expected {wanted}; {REBUILD_HINT}")


def _check_catalogue(folder: Path, data: Rebuildable, counts: dict[str, Any]) -> None:
    """The catalogue's counts, shapes and row references, and the sentence vectors', agree."""
    n_sent, n_chunk = len(data.sentences), len(data.chunks)
    checks = [
        ("articles.jsonl", "articles", len(data.articles), counts.get("articles")),
        ("sentences.npy", "sentence rows", n_sent, counts.get("sentences")),
        ("chunks.npy", "chunk rows", n_chunk, counts.get("chunks")),
        ("sentences.faiss", "vectors (ntotal)", data.sentence_vectors.size, n_sent),
        ("sentences.faiss", "dimensions", data.sentence_vectors.dim, data.model.dim),
        ("sentences.npy", "columns", data.sentences.shape[1], 4),
        ("chunks.npy", "columns", data.chunks.shape[1], 3),
    ]
    for name, what, actual, wanted in checks:
        if actual != wanted:
            raise IndexCorruptError(f"{folder / name}: {actual} {what}, expected {wanted}; {REBUILD_HINT}")
    if n_sent:
        article, start, end = (data.sentences[:, i].astype(np.int64) for i in range(3))
        lengths = np.array([text_length(data.articles, i) for i in range(len(data.articles))], dtype=np.int64)
        valid = (article >= 0) & (article < len(lengths))
        if not valid.all() or (start < 0).any() or (end < start).any() or (end > lengths[article]).any():
            raise IndexCorruptError(f"{folder / 'sentences.npy'}: offsets outside the articles; {REBUILD_HINT}")
    if n_chunk:
        article, first, stop = (data.chunks[:, i].astype(np.int64) for i in range(3))
        if (article < 0).any() or (article >= len(data.articles)).any() or (first < 0).any():
            raise IndexCorruptError(f"{folder / 'chunks.npy'}: rows outside the index; {REBUILD_HINT}")
        if (stop <= first).any() or (stop > n_sent).any():
            raise IndexCorruptError(f"{folder / 'chunks.npy'}: sentence ranges outside the index; {REBUILD_HINT}")
