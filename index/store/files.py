"""Durable writes: every file fsynced, replacements atomic, failures as one-line IndexWriteError."""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

from index.errors import IndexWriteError

_NO_SPACE = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def write_error(exc: OSError, path: Path, live: int | None) -> IndexWriteError:
    """A one-line error for a failed write: what, where, and that the live index is unchanged."""
    unchanged = f"generation {live} unchanged" if live else "no index was written"
    if exc.errno in _NO_SPACE:
        reason = "No space left" if exc.errno != errno.EFBIG else "No space left (file size limit reached)"
        return IndexWriteError(f"{reason} writing {path}; {unchanged}")
    return IndexWriteError(f"cannot write {path} ({exc.strerror or exc}); {unchanged}")


def sha256_file(path: Path) -> str:
    """sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_bytes(path: Path, payload: bytes) -> None:
    """Create ``path`` (it must not exist) holding ``payload``, fsynced."""
    with path.open("xb") as handle:
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())


def write_lines(path: Path, lines: Iterable[bytes]) -> None:
    """Create ``path`` (it must not exist) holding ``lines`` one after another, fsynced; only one line
    is held in memory at a time."""
    with path.open("xb") as handle:
        for line in lines:
            handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())


def fsync_file(path: Path) -> None:
    """Flush a written file to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (new names, renames) to disk."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_durable(path: Path, payload: bytes) -> None:
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
    fsync_dir(path.parent)
