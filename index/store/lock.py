"""The one writer: an flock on ``write.lock``, with ``writer.json`` naming the holder for messages."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from index.errors import IndexLockedError
from index.store import files
from index.store.layout import current_generation_or_none


@contextmanager
def write_lock(
    index_dir: Path, *, wait: float = 300.0, notify: Callable[[str], None] | None = None
) -> Iterator[None]:
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
        raise files.write_error(exc, index_dir / "write.lock", current_generation_or_none(index_dir)) from exc
    try:
        try:
            files.write_durable(info, json.dumps({"pid": os.getpid(), "since": time.time()}).encode())
        except OSError as exc:
            raise files.write_error(exc, info, current_generation_or_none(index_dir)) from exc
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
