"""The index on disk: a directory of generations, switched atomically, each verified on open.

Layout of an index directory::

    CURRENT              live generation name, then "sha256 <hex>" of its manifest; replaced atomically
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

Nothing is ever unpickled, and no file is parsed before its size and sha256 match the manifest
(the manifest itself is checked against the sha256 in ``CURRENT``). A generation is written in a
temporary folder, fsynced, renamed, and only then published by replacing ``CURRENT``; a crash at
any point leaves the previous generation live. The previous generation is kept for readers that
opened it; older ones and temp files of dead writers are removed by the next write.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import (
    IndexCorruptError,
    IndexFormatError,
    IndexLockedError,
    IndexNotFoundError,
    IndexWriteError,
)
from index.lexical import LexicalIndex
from index.records import Article
from index.storage import ModelInfo
from index.vectors import FaissVectors

FORMAT_VERSION = 1
CURRENT = "CURRENT"
_GEN = re.compile(r"^gen-(\d{6})$")
_SHA = re.compile(r"^sha256 ([0-9a-f]{64})$")
REBUILD_HINT = "run newsdesk index on your articles again to rebuild it"
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
LOAD_ATTEMPTS = 20
"""How often a reader retries when writers remove the generation it was opening."""


@dataclass(slots=True)
class IndexData:
    """Everything one generation holds, in memory: the local files' :class:`index.storage.IndexView`."""

    model: ModelInfo
    chunk_params: dict[str, int]
    articles: list[Article]
    hashes: list[str]
    """``Article.content_hash`` of each article, in the same order."""
    sentences: np.ndarray
    """int32 ``(n, 4)``: article row, start, end, token count."""
    chunks: np.ndarray
    """int32 ``(m, 3)``: article row, first sentence row, stop sentence row."""
    sentence_vectors: FaissVectors
    """Sentence vectors (row i = sentence i)."""
    chunk_vectors: FaissVectors
    """Chunk vectors (row j = chunk j)."""
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


@dataclass(frozen=True, slots=True)
class Pointer:
    """What ``CURRENT`` says: the live generation and the sha256 of its manifest (None in old indexes)."""

    generation: int
    manifest_sha256: str | None


def read_pointer(index_dir: Path) -> Pointer | None:
    """Parse ``CURRENT``; None when there is no index (no CURRENT and no generation folder)."""
    path = Path(index_dir) / CURRENT
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if _generations(Path(index_dir)):
            raise IndexCorruptError(f"{path}: file missing; {REBUILD_HINT}") from None
        return None
    except IsADirectoryError:
        raise IndexCorruptError(f"{path}: not a file; {REBUILD_HINT}") from None
    try:
        lines = raw.decode("ascii").split("\n")
    except UnicodeDecodeError:
        raise IndexCorruptError(f"{path}: not a generation pointer (non-ASCII bytes); {REBUILD_HINT}") from None
    lines = [line.strip() for line in lines if line.strip()]
    match = _GEN.match(lines[0]) if lines else None
    if not match or len(lines) > 2:
        raise IndexCorruptError(f"{path}: not a generation pointer ({raw[:40]!r}); {REBUILD_HINT}")
    digest = None
    if len(lines) == 2:
        sha = _SHA.match(lines[1])
        if not sha:
            raise IndexCorruptError(f"{path}: bad manifest checksum line ({lines[1][:80]!r}); {REBUILD_HINT}")
        digest = sha.group(1)
    return Pointer(int(match.group(1)), digest)


def current_generation(index_dir: Path) -> int | None:
    """The live generation number, or None when there is no index."""
    pointer = read_pointer(index_dir)
    return pointer.generation if pointer else None


def exists(index_dir: Path) -> bool:
    """Whether ``index_dir`` holds an index (possibly a damaged one: :func:`load` then says so)."""
    index_dir = Path(index_dir)
    return (index_dir / CURRENT).exists() or bool(_generations(index_dir))


def _generations(index_dir: Path) -> list[int]:
    try:
        names = [entry.name for entry in index_dir.iterdir() if entry.is_dir()]
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(int(m.group(1)) for m in map(_GEN.match, names) if m)


# ---------------------------------------------------------------- reading


class _Vanished(Exception):
    """The generation named by CURRENT was removed while opening it (a writer finished)."""


def read_manifest(index_dir: Path) -> tuple[int, Path, dict[str, Any]]:
    """``(generation, folder, manifest)`` of the live generation, the manifest checked.

    A format newer than this code gives IndexFormatError; a damaged manifest IndexCorruptError.
    """
    for _attempt in range(LOAD_ATTEMPTS):
        try:
            return _read_manifest_once(Path(index_dir))
        except _Vanished:
            time.sleep(0.05)
    return _read_manifest_once(Path(index_dir), final=True)


def _read_manifest_once(index_dir: Path, *, final: bool = False) -> tuple[int, Path, dict[str, Any]]:
    pointer = read_pointer(index_dir)
    if pointer is None:
        raise IndexNotFoundError(f"no index at {index_dir} (build one with: newsdesk index PATH --index {index_dir})")
    folder = index_dir / f"gen-{pointer.generation:06d}"
    path = folder / "manifest.json"
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if not folder.is_dir() and not final and current_generation(index_dir) != pointer.generation:
            raise _Vanished(str(folder)) from None
        what = "manifest missing" if folder.is_dir() else f"generation folder {folder.name} named by CURRENT is missing"
        raise IndexCorruptError(f"{path}: {what}; {REBUILD_HINT}") from None
    except OSError as exc:
        raise IndexCorruptError(f"{path}: cannot read ({exc.strerror}); {REBUILD_HINT}") from None
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except ValueError:
        manifest = None
    if isinstance(manifest, dict):  # a newer format is refused as such, even if its layout changed
        version = manifest.get("format_version")
        if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
            raise IndexFormatError(
                f"{index_dir}: index format {version} is newer than supported {FORMAT_VERSION}; upgrade newsdesk"
            )
    if pointer.manifest_sha256 is not None:
        actual = hashlib.sha256(raw).hexdigest()
        if actual != pointer.manifest_sha256:
            raise IndexCorruptError(
                f"{path}: checksum mismatch (CURRENT expects sha256 {pointer.manifest_sha256}, got {actual}); "
                f"{REBUILD_HINT}"
            )
    if not isinstance(manifest, dict):
        raise IndexCorruptError(f"{path}: not a JSON manifest; {REBUILD_HINT}")
    version = manifest.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise IndexCorruptError(f"{path}: bad format_version {version!r}; {REBUILD_HINT}")
    if not isinstance(manifest.get("files"), dict) or not isinstance(manifest.get("counts"), dict):
        raise IndexCorruptError(f"{path}: manifest has no file list or counts; {REBUILD_HINT}")
    if not isinstance(manifest.get("model"), dict):
        raise IndexCorruptError(f"{path}: manifest names no model; {REBUILD_HINT}")
    for name, meta in manifest["files"].items():
        if not _safe_name(name) or not isinstance(meta, dict):
            raise IndexCorruptError(f"{path}: bad file entry {name!r}; {REBUILD_HINT}")
    return pointer.generation, folder, manifest


def _safe_name(name: str) -> bool:
    parts = name.split("/")
    return bool(name) and not name.startswith("/") and "\\" not in name and all(p not in ("", ".", "..") for p in parts)


def _read_checked(folder: Path, manifest: dict[str, Any], name: str) -> bytes:
    """The bytes of one listed file, after its size and sha256 match the manifest."""
    path = folder / name
    meta = manifest["files"].get(name)
    if meta is None:
        raise IndexCorruptError(f"{path}: not listed in the manifest; {REBUILD_HINT}")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if not folder.is_dir():
            raise _Vanished(str(folder)) from None
        raise IndexCorruptError(f"{path}: file missing; {REBUILD_HINT}") from None
    except OSError as exc:
        raise IndexCorruptError(f"{path}: cannot read ({exc.strerror}); {REBUILD_HINT}") from None
    if len(raw) != meta.get("bytes"):
        raise IndexCorruptError(f"{path}: size {len(raw)} bytes, expected {meta.get('bytes')}; {REBUILD_HINT}")
    actual = hashlib.sha256(raw).hexdigest()
    if actual != meta.get("sha256"):
        raise IndexCorruptError(
            f"{path}: checksum mismatch (expected sha256 {meta.get('sha256')}, got {actual}); {REBUILD_HINT}"
        )
    return raw


def verify_files(folder: Path, manifest: dict[str, Any]) -> int:
    """Check size and sha256 of every file the manifest lists; returns the bytes checked."""
    return sum(len(_read_checked(folder, manifest, name)) for name in sorted(manifest["files"]))


def load(index_dir: Path) -> IndexData:
    """Open the live generation of ``index_dir``; every file is checksummed before it is parsed."""
    for _attempt in range(LOAD_ATTEMPTS):
        try:
            return _load_once(Path(index_dir))
        except _Vanished:
            time.sleep(0.05)
    raise IndexCorruptError(f"{index_dir}: the live generation keeps disappearing; {REBUILD_HINT}")


def read_catalogue(index_dir: Path) -> tuple[ModelInfo, list[Article], list[str], dict[str, Any]]:
    """``(model, articles, content hashes, counts)`` of the live generation, without loading it.

    Every listed file is checksummed, as :func:`load` does, but only the article list is parsed:
    enough to tell whether a re-index has anything to do.
    """
    for _attempt in range(LOAD_ATTEMPTS):
        try:
            _generation, folder, manifest = _read_manifest_once(Path(index_dir))
            verify_files(folder, manifest)
            articles, hashes = _parse(folder, "articles.jsonl", _parse_articles, manifest)
            break
        except _Vanished:
            time.sleep(0.05)
    else:
        raise IndexCorruptError(f"{index_dir}: the live generation keeps disappearing; {REBUILD_HINT}")
    counts = manifest["counts"]
    if counts.get("articles") != len(articles):
        raise IndexCorruptError(
            f"{folder / 'articles.jsonl'}: {len(articles)} articles, manifest says {counts.get('articles')}; "
            f"{REBUILD_HINT}"
        )
    return _model_info(folder, manifest), articles, hashes, counts


def _load_once(index_dir: Path) -> IndexData:
    generation, folder, manifest = _read_manifest_once(index_dir)
    model = _model_info(folder, manifest)
    counts = manifest["counts"]
    articles, hashes = _parse(folder, "articles.jsonl", _parse_articles, manifest)
    sentences = _parse(folder, "sentences.npy", _parse_table, manifest)
    chunks = _parse(folder, "chunks.npy", _parse_table, manifest)
    sentence_vectors = _parse(folder, "sentences.faiss", _parse_faiss, manifest)
    chunk_vectors = _parse(folder, "chunks.faiss", _parse_faiss, manifest)
    bm25 = {}
    for sub, rows in (("bm25-sentences", len(sentences)), ("bm25-chunks", len(chunks))):
        names = [n for n in manifest["files"] if n.startswith(sub + "/")]
        if not names:
            raise IndexCorruptError(f"{folder / sub}: not listed in the manifest; {REBUILD_HINT}")
        for name in names:
            _read_checked(folder, manifest, name)
        try:
            with NPY_LOCK:
                bm25[sub] = LexicalIndex.load(folder / sub, rows)
        except FileNotFoundError:
            if not folder.is_dir():
                raise _Vanished(str(folder)) from None
            raise IndexCorruptError(f"{folder / sub}: files missing; {REBUILD_HINT}") from None
        except Exception as exc:  # noqa: BLE001 - a checked file that does not parse is corruption
            raise IndexCorruptError(f"{folder / sub}: cannot read ({exc}); {REBUILD_HINT}") from exc
    data = IndexData(
        model=model,
        chunk_params=dict(manifest.get("chunk_params", {})),
        articles=articles,
        hashes=hashes,
        sentences=sentences,
        chunks=chunks,
        sentence_vectors=sentence_vectors,
        chunk_vectors=chunk_vectors,
        sentence_bm25=bm25["bm25-sentences"],
        chunk_bm25=bm25["bm25-chunks"],
        generation=generation,
        manifest=manifest,
    )
    check_consistency(folder, data, counts)
    return data


def _parse(folder: Path, name: str, parser: Any, manifest: dict[str, Any]) -> Any:
    raw = _read_checked(folder, manifest, name)
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


def _parse_faiss(raw: bytes) -> FaissVectors:
    return FaissVectors.from_bytes(raw)


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
    n_sent, n_chunk = len(data.sentences), len(data.chunks)
    checks = [
        ("articles.jsonl", "articles", len(data.articles), counts.get("articles")),
        ("sentences.npy", "sentence rows", n_sent, counts.get("sentences")),
        ("chunks.npy", "chunk rows", n_chunk, counts.get("chunks")),
        ("sentences.faiss", "vectors (ntotal)", data.sentence_vectors.size, n_sent),
        ("chunks.faiss", "vectors (ntotal)", data.chunk_vectors.size, n_chunk),
        ("sentences.faiss", "dimensions", data.sentence_vectors.dim, data.model.dim),
        ("chunks.faiss", "dimensions", data.chunk_vectors.dim, data.model.dim),
        ("sentences.npy", "columns", data.sentences.shape[1], 4),
        ("chunks.npy", "columns", data.chunks.shape[1], 3),
    ]
    for name, what, actual, wanted in checks:
        if actual != wanted:
            raise IndexCorruptError(f"{folder / name}: {actual} {what}, expected {wanted}; {REBUILD_HINT}")
    if n_sent:
        article, start, end = (data.sentences[:, i].astype(np.int64) for i in range(3))
        lengths = np.array([len(a.text) for a in data.articles], dtype=np.int64)
        valid = (article >= 0) & (article < len(lengths))
        if not valid.all() or (start < 0).any() or (end < start).any() or (end > lengths[article]).any():
            raise IndexCorruptError(f"{folder / 'sentences.npy'}: offsets outside the articles; {REBUILD_HINT}")
    if n_chunk:
        article, first, stop = (data.chunks[:, i].astype(np.int64) for i in range(3))
        if (article < 0).any() or (article >= len(data.articles)).any() or (first < 0).any():
            raise IndexCorruptError(f"{folder / 'chunks.npy'}: rows outside the index; {REBUILD_HINT}")
        if (stop <= first).any() or (stop > n_sent).any():
            raise IndexCorruptError(f"{folder / 'chunks.npy'}: sentence ranges outside the index; {REBUILD_HINT}")


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What :func:`verify` checked."""

    index_dir: Path
    generation: int
    format_version: int
    files: int
    bytes: int
    counts: dict[str, int]
    model: ModelInfo
    manifest_checked: bool
    """Whether CURRENT carried the manifest's sha256 (indexes written before it did not)."""
    unlisted: list[str]
    """Files in the generation folder that the manifest does not list (never read)."""
    previous: int | None
    """The previous generation kept on disk, if any."""
    leftovers: list[str] = field(default_factory=list)
    """Temp files and unpublished generations of interrupted writers (the next write removes them)."""


def verify(index_dir: Path) -> VerifyReport:
    """Check the live generation completely (every checksum, count and row reference)."""
    index_dir = Path(index_dir)
    data = load(index_dir)
    generation, folder, manifest = data.generation, index_dir / f"gen-{data.generation:06d}", data.manifest
    listed = set(manifest["files"]) | {"manifest.json"}
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() or p.is_symlink()}
    older = [g for g in _generations(index_dir) if g < generation]
    pointer = read_pointer(index_dir)
    return VerifyReport(
        index_dir=index_dir,
        generation=generation,
        format_version=int(manifest["format_version"]),
        files=len(manifest["files"]) + 1,
        bytes=sum(int(m["bytes"]) for m in manifest["files"].values()),
        counts={k: int(v) for k, v in manifest["counts"].items()},
        model=data.model,
        manifest_checked=bool(pointer and pointer.manifest_sha256),
        unlisted=sorted(present - listed),
        previous=older[-1] if older else None,
        leftovers=sorted(
            entry.name
            for entry in index_dir.iterdir()
            if entry.name.startswith(".tmp-")
            or (entry.name.startswith(".") and entry.name.endswith(".tmp"))
            or ((m := _GEN.match(entry.name)) is not None and int(m.group(1)) > generation)
        ),
    )


# ---------------------------------------------------------------- writing


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
    existing = _generations(index_dir)
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
        lines = []
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
            lines.append(json.dumps(row, ensure_ascii=True) + "\n")
        _write_bytes(writing, "".join(lines).encode("ascii"))
        _checkpoint("articles")
        for table, array in (("sentences.npy", data.sentences), ("chunks.npy", data.chunks)):
            writing = tmp / table
            buffer = io.BytesIO()
            np.save(buffer, np.ascontiguousarray(array, dtype=np.int32), allow_pickle=False)
            _write_bytes(writing, buffer.getvalue())
        _checkpoint("tables")
        for file_name, vectors in (("sentences.faiss", data.sentence_vectors), ("chunks.faiss", data.chunk_vectors)):
            writing = tmp / file_name
            _write_bytes(writing, vectors.to_bytes())
        _checkpoint("vectors")
        for sub, lexical in (("bm25-sentences", data.sentence_bm25), ("bm25-chunks", data.chunk_bm25)):
            writing = tmp / sub
            writing.mkdir()
            lexical.save(writing)
        _checkpoint("bm25")
        files = {}
        for path in sorted(p for p in tmp.rglob("*") if p.is_file()):
            writing = path
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
        payload = json.dumps(manifest, indent=2).encode()
        writing = tmp / "manifest.json"
        _write_bytes(writing, payload)
        _checkpoint("manifest")
        for sub in ("bm25-sentences", "bm25-chunks", "."):
            _fsync_dir(tmp / sub)
        writing = index_dir / name
        os.replace(tmp, index_dir / name)
        _fsync_dir(index_dir)
        _checkpoint("renamed")
        writing = index_dir / CURRENT
        pointer = f"{name}\nsha256 {hashlib.sha256(payload).hexdigest()}\n"
        _write_durable(writing, pointer.encode("ascii"))
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if (index_dir / name).is_dir() and current_generation_or_none(index_dir) != generation:
            shutil.rmtree(index_dir / name, ignore_errors=True)
        if isinstance(exc, OSError):
            raise write_error(exc, writing, live) from exc
        raise
    _checkpoint("published")
    _clean(index_dir, keep={g for g in (generation, previous) if g})
    return generation


def current_generation_or_none(index_dir: Path) -> int | None:
    """Like :func:`current_generation`, but None for a damaged pointer too."""
    try:
        return current_generation(index_dir)
    except IndexCorruptError:
        return None


def write_error(exc: OSError, path: Path, live: int | None) -> IndexWriteError:
    """A one-line error for a failed write: what, where, and that the live index is unchanged."""
    unchanged = f"generation {live} unchanged" if live else "no index was written"
    if exc.errno in _NO_SPACE:
        reason = "No space left" if exc.errno != errno.EFBIG else "No space left (file size limit reached)"
        return IndexWriteError(f"{reason} writing {path}; {unchanged}")
    return IndexWriteError(f"cannot write {path} ({exc.strerror or exc}); {unchanged}")


def _clean(index_dir: Path, keep: set[int]) -> None:
    """Remove generations not in ``keep``, temp folders and temp files left by dead writers."""
    for entry in index_dir.iterdir():
        match = _GEN.match(entry.name)
        stale = (match and int(match.group(1)) not in keep) or entry.name.startswith(".tmp-")
        stale = stale or (entry.name.startswith(".") and entry.name.endswith(".tmp"))
        if stale:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_bytes(path: Path, payload: bytes) -> None:
    with path.open("xb") as handle:
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())


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


def _write_durable(path: Path, payload: bytes) -> None:
    """Replace ``path`` atomically: a temp file beside it, fsync, rename, fsync the folder."""
    target = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with target.open("wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(target, path)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


# ---------------------------------------------------------------- the one writer


@contextmanager
def write_lock(index_dir: Path, *, wait: float = 300.0, notify: Any = None) -> Iterator[None]:
    """Hold the index's write lock; waits up to ``wait`` seconds for another writer (< 0: forever).

    ``notify(message)`` is called once if the lock is busy. The lock is an flock, so a writer
    killed with SIGKILL releases it.
    """
    from filelock import FileLock, Timeout

    index_dir = Path(index_dir)
    info = index_dir / "writer.json"
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(index_dir / "write.lock"))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            if wait == 0:
                raise IndexLockedError(f"index {index_dir} is locked by {_holder(info)}; try again later") from None
            if notify is not None:
                limit = "as long as it takes" if wait < 0 else f"up to {wait:.0f} s"
                notify(f"index {index_dir} is being written by {_holder(info)}; waiting {limit}")
            try:
                lock.acquire(timeout=wait)
            except Timeout:
                raise IndexLockedError(
                    f"index {index_dir} is still locked by {_holder(info)} after {wait:.0f} s; try again later"
                ) from None
    except OSError as exc:
        raise write_error(exc, index_dir / "write.lock", current_generation_or_none(index_dir)) from exc
    try:
        try:
            _write_durable(info, json.dumps({"pid": os.getpid(), "since": time.time()}).encode())
        except OSError as exc:
            raise write_error(exc, info, current_generation_or_none(index_dir)) from exc
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
