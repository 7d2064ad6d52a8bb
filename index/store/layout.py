"""Where a generation lives: the ``CURRENT`` pointer, generation folders and checked reads of their manifest and files."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.errors import IndexCorruptError, IndexFormatError, IndexNotFoundError
from index.store.files import sha256_file

FORMAT_VERSION = 1
CURRENT = "CURRENT"
GENERATION_NAME = re.compile(r"^gen-(\d{6})$")
_SHA = re.compile(r"^sha256 ([0-9a-f]{64})$")
REBUILD_HINT = "run newsdesk index on your articles again to rebuild it"
LOAD_ATTEMPTS = 20
"""How often a reader retries when writers remove the generation it was opening."""


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
        if generations(Path(index_dir)):
            raise IndexCorruptError(f"{path}: file missing; {REBUILD_HINT}") from None
        return None
    except IsADirectoryError:
        raise IndexCorruptError(f"{path}: not a file; {REBUILD_HINT}") from None
    try:
        lines = raw.decode("ascii").split("\n")
    except UnicodeDecodeError:
        raise IndexCorruptError(f"{path}: not a generation pointer (non-ASCII bytes); {REBUILD_HINT}") from None
    lines = [line.strip() for line in lines if line.strip()]
    match = GENERATION_NAME.match(lines[0]) if lines else None
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
    return (index_dir / CURRENT).exists() or bool(generations(index_dir))


def generations(index_dir: Path) -> list[int]:
    """Numbers of the generation folders present, ascending."""
    try:
        names = [entry.name for entry in index_dir.iterdir() if entry.is_dir()]
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(int(m.group(1)) for m in map(GENERATION_NAME.match, names) if m)


def current_generation_or_none(index_dir: Path) -> int | None:
    """Like :func:`current_generation`, but None for a damaged pointer too."""
    try:
        return current_generation(index_dir)
    except IndexCorruptError:
        return None


class Vanished(Exception):
    """The generation named by CURRENT was removed while opening it (a writer finished)."""


def read_manifest_once(index_dir: Path, *, final: bool = False) -> tuple[int, Path, dict[str, Any]]:
    """``(generation, folder, manifest)`` of the live generation, the manifest checked; Vanished when a
    writer removed it meanwhile (callers retry). A newer format gives IndexFormatError, damage IndexCorruptError."""
    pointer = read_pointer(index_dir)
    if pointer is None:
        raise IndexNotFoundError(f"no index at {index_dir} (build one with: newsdesk index PATH --index {index_dir})")
    folder = index_dir / f"gen-{pointer.generation:06d}"
    path = folder / "manifest.json"
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if not folder.is_dir() and not final and current_generation(index_dir) != pointer.generation:
            raise Vanished(str(folder)) from None
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


def read_checked(folder: Path, manifest: dict[str, Any], name: str) -> bytes:
    """The bytes of one listed file, after its size and sha256 match the manifest."""
    path = _listed(folder, manifest, name)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _unreadable(folder, path, exc) from None
    _check(path, manifest["files"][name], len(raw), hashlib.sha256(raw).hexdigest())
    return raw


def read_lines_checked(folder: Path, manifest: dict[str, Any], name: str) -> Iterator[bytes]:
    """The lines of one listed file (each with its newline), one at a time, never the whole file.

    Its size and sha256 are checked when the last line has been read: a reader that goes to the end
    knows the file was intact, or gets the IndexCorruptError :func:`read_checked` would give. One read,
    so what was checked is what was read.
    """
    path = _listed(folder, manifest, name)
    digest, size = hashlib.sha256(), 0
    try:
        with path.open("rb") as handle:
            length = os.fstat(handle.fileno()).st_size
            if length != manifest["files"][name].get("bytes"):  # said before a byte is read
                _check(path, manifest["files"][name], length, "")
            for line in handle:
                digest.update(line)
                size += len(line)
                yield line
    except OSError as exc:
        raise _unreadable(folder, path, exc) from None
    _check(path, manifest["files"][name], size, digest.hexdigest())


def check_file(folder: Path, manifest: dict[str, Any], name: str) -> Path:
    """The path of one listed file, after its size and sha256 match the manifest; read in 1 MiB blocks,
    so no copy of it is held (for files a parser then reads from the disk itself)."""
    path = _listed(folder, manifest, name)
    try:
        size, digest = path.stat().st_size, sha256_file(path)
    except OSError as exc:
        raise _unreadable(folder, path, exc) from None
    _check(path, manifest["files"][name], size, digest)
    return path


def _listed(folder: Path, manifest: dict[str, Any], name: str) -> Path:
    if manifest["files"].get(name) is None:
        raise IndexCorruptError(f"{folder / name}: not listed in the manifest; {REBUILD_HINT}")
    return folder / name


def _unreadable(folder: Path, path: Path, exc: OSError) -> Exception:
    if isinstance(exc, FileNotFoundError):
        if not folder.is_dir():
            return Vanished(str(folder))
        return IndexCorruptError(f"{path}: file missing; {REBUILD_HINT}")
    return IndexCorruptError(f"{path}: cannot read ({exc.strerror}); {REBUILD_HINT}")


def _check(path: Path, meta: dict[str, Any], size: int, sha256: str) -> None:
    if size != meta.get("bytes"):
        raise IndexCorruptError(f"{path}: size {size} bytes, expected {meta.get('bytes')}; {REBUILD_HINT}")
    if sha256 != meta.get("sha256"):
        raise IndexCorruptError(
            f"{path}: checksum mismatch (expected sha256 {meta.get('sha256')}, got {sha256}); {REBUILD_HINT}"
        )


def verify_files(folder: Path, manifest: dict[str, Any], *, skip: Collection[str] = ()) -> int:
    """Check size and sha256 of every file the manifest lists but ``skip`` (files the caller checks as
    it reads them); returns the bytes checked."""
    total = 0
    for name in sorted(set(manifest["files"]) - set(skip)):
        check_file(folder, manifest, name)
        total += int(manifest["files"][name]["bytes"])
    return total
