"""Writing a generation: a temp folder, fsynced, renamed, then published by replacing ``CURRENT``."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np

from index.errors import IndexCorruptError
from index.lexical import SPOOL_PREFIX
from index.records import Article
from index.store import files
from index.store.layout import (
    CURRENT,
    FORMAT_VERSION,
    GENERATION_NAME,
    current_generation,
    current_generation_or_none,
    generations,
)
from index.store.read import IndexData


def _checkpoint(step: str) -> None:
    """Seam for fault-injection tests (kill or raise between the steps of :func:`save`); does nothing."""


def save(index_dir: Path, data: IndexData) -> int:
    """Write ``data`` as a new generation and publish it; returns its number.

    The caller must hold the write lock (:func:`write_lock`). On any failure the live generation
    is unchanged and the temporary folder is removed; a full disk gives IndexWriteError.
    """
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    try:
        live = current_generation(index_dir)
    except IndexCorruptError:
        live = None  # a damaged pointer is replaced by this save
    existing = generations(index_dir)
    generation = max([live or 0, *existing]) + 1
    name = f"gen-{generation:06d}"
    tmp = index_dir / f".tmp-{name}-{os.getpid()}"
    # temp files of dead writers and generations never published go; published ones stay for now
    _clean(index_dir, keep={g for g in existing if live is None or g <= live})
    previous = live if live is not None else (existing[-1] if existing else None)
    writing = tmp
    try:
        _checkpoint("start")
        tmp.mkdir()
        writing = tmp / "articles.jsonl"
        lines = (_article_line(article, digest) for article, digest in zip(data.articles, data.hashes, strict=True))
        files.write_lines(writing, lines)
        _checkpoint("articles")
        for table, array in (("sentences.npy", data.sentences), ("chunks.npy", data.chunks)):
            writing = tmp / table
            buffer = io.BytesIO()
            np.save(buffer, np.ascontiguousarray(array, dtype=np.int32), allow_pickle=False)
            files.write_bytes(writing, buffer.getvalue())
        _checkpoint("tables")
        for file_name, vectors in (("sentences.faiss", data.sentence_vectors), ("chunks.faiss", data.chunk_vectors)):
            writing = tmp / file_name
            vectors.write(writing)
        _checkpoint("vectors")
        for sub, lexical in (("bm25-sentences", data.sentence_bm25), ("bm25-chunks", data.chunk_bm25)):
            writing = tmp / sub
            writing.mkdir()
            lexical.save(writing)
        _checkpoint("bm25")
        listed: dict[str, dict[str, object]] = {}
        for path in sorted(p for p in tmp.rglob("*") if p.is_file()):
            writing = path
            files.fsync_file(path)
            listed[path.relative_to(tmp).as_posix()] = {"sha256": files.sha256_file(path), "bytes": path.stat().st_size}
        manifest = {
            "format_version": FORMAT_VERSION,
            "generation": generation,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "model": {
                "name": data.model.name,
                "backend": data.model.backend,
                "fingerprint": data.model.fingerprint,
                "dim": data.model.dim,
                "max_tokens": data.model.max_tokens,
                "normalize": data.model.normalize,
            },
            "chunk_params": data.chunk_params,
            "counts": {"articles": len(data.articles), "sentences": len(data.sentences), "chunks": len(data.chunks)},
            "files": listed,
        }
        payload = json.dumps(manifest, indent=2).encode()
        writing = tmp / "manifest.json"
        files.write_bytes(writing, payload)
        _checkpoint("manifest")
        for sub in ("bm25-sentences", "bm25-chunks", "."):
            files.fsync_dir(tmp / sub)
        writing = index_dir / name
        os.replace(tmp, index_dir / name)
        files.fsync_dir(index_dir)
        _checkpoint("renamed")
        writing = index_dir / CURRENT
        pointer = f"{name}\nsha256 {hashlib.sha256(payload).hexdigest()}\n"
        files.write_durable(writing, pointer.encode("ascii"))
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if (index_dir / name).is_dir() and current_generation_or_none(index_dir) != generation:
            shutil.rmtree(index_dir / name, ignore_errors=True)
        if isinstance(exc, OSError):
            raise files.write_error(exc, writing, live) from exc
        raise
    _checkpoint("published")
    _clean(index_dir, keep={g for g in (generation, previous) if g})
    return generation


def _article_line(article: Article, digest: str) -> bytes:
    """One line of ``articles.jsonl`` (ASCII JSON)."""
    row = {
        "id": article.id,
        "title": article.title,
        "source": article.source,
        "published": article.published,
        "url": article.url,
        "origin": article.origin,
        "hash": digest,
        "text": article.text,
    }
    if article.language is not None:  # left out when unknown, so indexes without it read as before
        row["language"] = article.language
    return (json.dumps(row, ensure_ascii=True) + "\n").encode("ascii")


def _clean(index_dir: Path, keep: set[int]) -> None:
    """Remove generations not in ``keep``, and the temp files and folders dead writers left."""
    for entry in index_dir.iterdir():
        match = GENERATION_NAME.match(entry.name)
        if (match and int(match.group(1)) not in keep) or _left_by_a_dead_writer(entry.name):
            _remove(entry)


def remove_dead_writers_files(index_dir: Path) -> None:
    """Remove the temp files and folders writers that died left in ``index_dir`` (the caller holds the write lock)."""
    if index_dir.is_dir():
        for entry in index_dir.iterdir():
            if _left_by_a_dead_writer(entry.name):
                _remove(entry)


def _left_by_a_dead_writer(name: str) -> bool:
    """A temp entry of a writer other than this process's live build (whose BM25 files wait to be copied)."""
    if name.startswith(f"{SPOOL_PREFIX}{os.getpid()}-"):
        return False
    return name.startswith(".tmp-") or (name.startswith(".") and name.endswith(".tmp"))


def _remove(entry: Path) -> None:
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry, ignore_errors=True)
    else:
        entry.unlink(missing_ok=True)
