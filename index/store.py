"""The index on disk: a directory of generations, switched atomically, each verified on open.

Layout of an index directory::

    CURRENT              name of the live generation ("gen-000007"), replaced atomically
    write.lock           flock held by the one writer (freed by the OS if the writer dies)
    writer.json          pid and start time of the current writer, for messages
    gen-000007/
        manifest.json    format, model, chunk settings, counts, sha256 + size of every file
        articles.jsonl   one article per line (id, title, source, published, url, hash, text)
        sentences.npy    int32 rows (article, start, end, tokens): FAISS row i is sentence i
        chunks.npy       int32 rows (article, first sentence, stop sentence)
        sentences.faiss  inner-product index over unit sentence vectors
        chunks.faiss     inner-product index over unit chunk vectors
        bm25-sentences/  bm25s files (.npy with allow_pickle=False, .json)
        bm25-chunks/

Nothing is ever unpickled. A generation is written in a temporary folder, fsynced, renamed,
and only then published by replacing ``CURRENT``; a crash at any point leaves the previous
generation live.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.articles import Article
from index.errors import IndexCorruptError, IndexFormatError, IndexLockedError, IndexNotFoundError
from index.lexical import LexicalIndex

FORMAT_VERSION = 1
CURRENT = "CURRENT"
_GEN = re.compile(r"^gen-(\d{6})$")
REBUILD_HINT = "run newsdesk index on your articles again to rebuild it"


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """Identity of the embedding model that built an index."""

    name: str
    backend: str
    fingerprint: str
    dim: int
    max_tokens: int
    normalize: bool = True


@dataclass(slots=True)
class IndexData:
    """Everything one generation holds, in memory."""

    model: ModelInfo
    chunk_params: dict[str, int]
    articles: list[Article]
    hashes: list[str]
    """``Article.content_hash`` of each article, in the same order."""
    sentences: np.ndarray
    """int32 ``(n, 4)``: article row, start, end, token count."""
    chunks: np.ndarray
    """int32 ``(m, 3)``: article row, first sentence row, stop sentence row."""
    sentence_vectors: Any
    """FAISS index over sentence vectors (row i = sentence i)."""
    chunk_vectors: Any
    """FAISS index over chunk vectors (row j = chunk j)."""
    sentence_bm25: LexicalIndex
    chunk_bm25: LexicalIndex
    generation: int = 0
    manifest: dict[str, Any] = field(default_factory=dict)

    def sentence_text(self, row: int) -> str:
        article, start, end = (int(v) for v in self.sentences[row, :3])
        return self.articles[article].text[start:end]

    def chunk_text(self, row: int) -> str:
        article, first, stop = (int(v) for v in self.chunks[row])
        start, end = int(self.sentences[first, 1]), int(self.sentences[stop - 1, 2])
        return self.articles[article].text[start:end]


def current_generation(index_dir: Path) -> int | None:
    """The live generation number, or None when there is no index."""
    try:
        name = (index_dir / CURRENT).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    match = _GEN.match(name)
    if not match:
        raise IndexCorruptError(f"{index_dir / CURRENT}: not a generation name ({name[:40]!r}); {REBUILD_HINT}")
    return int(match.group(1))


def exists(index_dir: Path) -> bool:
    """Whether ``index_dir`` holds a published index."""
    return (Path(index_dir) / CURRENT).is_file()


# ---------------------------------------------------------------- reading


def read_manifest(index_dir: Path) -> tuple[int, Path, dict[str, Any]]:
    """``(generation, folder, manifest)`` of the live generation; checks the format version."""
    index_dir = Path(index_dir)
    generation = current_generation(index_dir)
    if generation is None:
        raise IndexNotFoundError(f"no index at {index_dir} (build one with: newsdesk index PATH --index {index_dir})")
    folder = index_dir / f"gen-{generation:06d}"
    path = folder / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise _Vanished(str(path)) from exc
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"{path}: unreadable manifest ({exc}); {REBUILD_HINT}") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise IndexCorruptError(f"{path}: manifest has no file list; {REBUILD_HINT}")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise IndexCorruptError(f"{path}: bad format_version {version!r}; {REBUILD_HINT}")
    if version > FORMAT_VERSION:
        raise IndexFormatError(
            f"{index_dir}: index format {version} is newer than supported {FORMAT_VERSION}; upgrade newsdesk"
        )
    return generation, folder, manifest


class _Vanished(Exception):
    """The generation named by CURRENT was removed while opening it (a writer finished)."""


def verify_files(folder: Path, manifest: dict[str, Any]) -> None:
    """Check size and sha256 of every file the manifest lists; raise IndexCorruptError."""
    for name, meta in sorted(manifest["files"].items()):
        path = folder / name
        if not _safe_name(name) or not isinstance(meta, dict):
            raise IndexCorruptError(f"{folder / 'manifest.json'}: bad file entry {name!r}; {REBUILD_HINT}")
        try:
            size = path.stat().st_size
        except FileNotFoundError as exc:
            if not folder.exists():
                raise _Vanished(str(folder)) from exc
            raise IndexCorruptError(f"{path}: file missing; {REBUILD_HINT}") from exc
        if size != meta.get("bytes"):
            raise IndexCorruptError(f"{path}: size {size} bytes, expected {meta.get('bytes')}; {REBUILD_HINT}")
        actual = sha256_file(path)
        if actual != meta.get("sha256"):
            raise IndexCorruptError(
                f"{path}: checksum mismatch (expected sha256 {meta.get('sha256')}, got {actual}); {REBUILD_HINT}"
            )


def _safe_name(name: str) -> bool:
    parts = name.split("/")
    return bool(name) and not name.startswith("/") and all(p not in ("", ".", "..") for p in parts)


def load(index_dir: Path, *, verify: bool = True) -> IndexData:
    """Open the live generation of ``index_dir``; every file is checksummed before it is parsed."""
    for _attempt in range(5):
        try:
            return _load_once(Path(index_dir), verify=verify)
        except _Vanished:
            time.sleep(0.05)
    raise IndexCorruptError(f"{index_dir}: the live generation keeps disappearing; {REBUILD_HINT}")


def _load_once(index_dir: Path, *, verify: bool) -> IndexData:
    import faiss

    generation, folder, manifest = read_manifest(index_dir)
    if verify:
        verify_files(folder, manifest)
    try:
        model = ModelInfo(**manifest["model"])
        counts = manifest["counts"]
        articles, hashes = _read_articles(folder / "articles.jsonl")
        sentences = np.load(folder / "sentences.npy", allow_pickle=False)
        chunks = np.load(folder / "chunks.npy", allow_pickle=False)
        sentence_vectors = faiss.read_index(str(folder / "sentences.faiss"))
        chunk_vectors = faiss.read_index(str(folder / "chunks.faiss"))
        sentence_bm25 = LexicalIndex.load(folder / "bm25-sentences", len(sentences))
        chunk_bm25 = LexicalIndex.load(folder / "bm25-chunks", len(chunks))
    except FileNotFoundError as exc:
        if not folder.exists():
            raise _Vanished(str(folder)) from exc
        raise IndexCorruptError(f"{exc.filename}: file missing; {REBUILD_HINT}") from exc
    except IndexCorruptError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parse failure of a checked file is corruption
        raise IndexCorruptError(f"{folder}: cannot read index files ({exc}); {REBUILD_HINT}") from exc
    expected = {
        "articles": len(articles),
        "sentences": len(sentences),
        "chunks": len(chunks),
        "sentence vectors": sentence_vectors.ntotal,
        "chunk vectors": chunk_vectors.ntotal,
    }
    wanted = {
        "articles": counts.get("articles"),
        "sentences": counts.get("sentences"),
        "chunks": counts.get("chunks"),
        "sentence vectors": counts.get("sentences"),
        "chunk vectors": counts.get("chunks"),
    }
    for what, actual in expected.items():
        if actual != wanted[what]:
            raise IndexCorruptError(f"{folder}: {actual} {what}, manifest says {wanted[what]}; {REBUILD_HINT}")
    if sentences.ndim != 2 or sentences.shape[1] != 4 or chunks.ndim != 2 or chunks.shape[1] != 3:
        raise IndexCorruptError(f"{folder}: unit tables have the wrong shape; {REBUILD_HINT}")
    return IndexData(
        model=model,
        chunk_params=dict(manifest.get("chunk_params", {})),
        articles=articles,
        hashes=hashes,
        sentences=sentences,
        chunks=chunks,
        sentence_vectors=sentence_vectors,
        chunk_vectors=chunk_vectors,
        sentence_bm25=sentence_bm25,
        chunk_bm25=chunk_bm25,
        generation=generation,
        manifest=manifest,
    )


def _read_articles(path: Path) -> tuple[list[Article], list[str]]:
    articles: list[Article] = []
    hashes: list[str] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            hashes.append(row.pop("hash"))
            articles.append(Article(**row))
    return articles, hashes


# ---------------------------------------------------------------- writing


def save(index_dir: Path, data: IndexData) -> int:
    """Write ``data`` as a new generation and publish it; returns its number.

    The caller must hold the write lock (:func:`write_lock`).
    """
    import faiss

    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    generation = (current_generation(index_dir) or 0) + 1
    name = f"gen-{generation:06d}"
    tmp = index_dir / f".tmp-{name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        with (tmp / "articles.jsonl").open("w", encoding="utf-8", errors="surrogatepass") as handle:
            for article, digest in zip(data.articles, data.hashes, strict=True):
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
                handle.write(json.dumps(row, ensure_ascii=True) + "\n")
        np.save(tmp / "sentences.npy", np.ascontiguousarray(data.sentences, dtype=np.int32), allow_pickle=False)
        np.save(tmp / "chunks.npy", np.ascontiguousarray(data.chunks, dtype=np.int32), allow_pickle=False)
        faiss.write_index(data.sentence_vectors, str(tmp / "sentences.faiss"))
        faiss.write_index(data.chunk_vectors, str(tmp / "chunks.faiss"))
        (tmp / "bm25-sentences").mkdir()
        (tmp / "bm25-chunks").mkdir()
        data.sentence_bm25.save(tmp / "bm25-sentences")
        data.chunk_bm25.save(tmp / "bm25-chunks")
        files = {}
        for path in sorted(p for p in tmp.rglob("*") if p.is_file()):
            _fsync_file(path)
            files[path.relative_to(tmp).as_posix()] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
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
            "files": files,
        }
        _write_durable(tmp / "manifest.json", json.dumps(manifest, indent=2).encode())
        for sub in ("bm25-sentences", "bm25-chunks", "."):
            _fsync_dir(tmp / sub)
        os.replace(tmp, index_dir / name)
        _fsync_dir(index_dir)
        _write_durable(index_dir / CURRENT, (name + "\n").encode(), replace=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _clean(index_dir, keep={generation, generation - 1})
    return generation


def _clean(index_dir: Path, keep: set[int]) -> None:
    """Remove generations not in ``keep`` and temp folders left by dead writers."""
    for entry in index_dir.iterdir():
        match = _GEN.match(entry.name)
        if (match and int(match.group(1)) not in keep) or entry.name.startswith(".tmp-"):
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_durable(path: Path, payload: bytes, *, replace: bool = False) -> None:
    target = path.with_name(f".{path.name}.{os.getpid()}.tmp") if replace else path
    with target.open("wb") as handle:
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())
    if replace:
        os.replace(target, path)
        _fsync_dir(path.parent)


# ---------------------------------------------------------------- the one writer


@contextmanager
def write_lock(index_dir: Path, *, wait: float = 300.0, notify: Any = None) -> Iterator[None]:
    """Hold the index's write lock; waits up to ``wait`` seconds for another writer.

    ``notify(message)`` is called once if the lock is busy. The lock is an flock, so a writer
    killed with SIGKILL releases it.
    """
    from filelock import FileLock, Timeout

    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(index_dir / "write.lock"))
    info = index_dir / "writer.json"
    try:
        lock.acquire(timeout=0)
    except Timeout:
        holder = _holder(info)
        if notify is not None:
            notify(f"index {index_dir} is being written by {holder}; waiting up to {wait:.0f} s")
        try:
            lock.acquire(timeout=wait)
        except Timeout:
            raise IndexLockedError(f"index {index_dir} is locked by {_holder(info)}; try again later") from None
    try:
        _write_durable(info, json.dumps({"pid": os.getpid(), "since": time.time()}).encode(), replace=True)
        yield
    finally:
        info.unlink(missing_ok=True)
        lock.release()


def _holder(info: Path) -> str:
    try:
        pid = json.loads(info.read_text(encoding="utf-8"))["pid"]
        return f"pid {int(pid)}"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"
