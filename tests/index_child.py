"""A child process for the fault-injection tests: ``newsdesk index`` (the real CLI) with the fake embedder.

    python tests/index_child.py INDEX_DIR PATH...     # exits with the CLI's status

Environment:
    CHILD_KILL_AT=<step>   SIGKILL itself at that checkpoint of ``store.save`` (start, articles, tables,
                           vectors, bm25, manifest, renamed, published)
    CHILD_SLOW=<seconds>   sleep this long at every checkpoint (widens the window for random kills)
    CHILD_FSIZE=<bytes>    RLIMIT_FSIZE with SIGXFSZ ignored: a write past it fails with EFBIG
    CHILD_HOLD=1           only take the write lock, print "locked", and sleep until killed
    CHILD_WAIT=<seconds>   ``--wait`` for the lock (default 30)

It prints "ready" on stdout once imported, so a parent can time a kill against the work itself.
"""

from __future__ import annotations

import os
import resource
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import FakeEmbedder  # noqa: E402

from index import store  # noqa: E402
from newsdesk.cli import main  # noqa: E402
from qa.embedding import use_embedder  # noqa: E402


def _checkpoint(step: str) -> None:
    if os.environ.get("CHILD_KILL_AT") == step:
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(float(os.environ.get("CHILD_SLOW", "0")))


def run(argv: list[str]) -> int:
    index_dir, paths = argv[0], argv[1:]
    if os.environ.get("CHILD_HOLD"):
        with store.write_lock(Path(index_dir)):
            print("locked", flush=True)
            time.sleep(600)
        return 0
    store.write._checkpoint = _checkpoint  # type: ignore[assignment]
    if os.environ.get("CHILD_FSIZE"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        limit = int(os.environ["CHILD_FSIZE"])
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    print("ready", flush=True)
    with use_embedder(lambda settings: FakeEmbedder()):
        return main(["index", *paths, "--index", index_dir, "--wait", os.environ.get("CHILD_WAIT", "30")])


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
