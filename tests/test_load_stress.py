"""Many threads opening one intact index at once: never an error, never "corrupt".

CPython 3.11's AST validator is not thread-safe, and numpy parses every ``.npy`` header with
``ast.literal_eval``; threads opening an index together now and then got
``IndexCorruptError(... recursion depth mismatch ...)`` for an intact index. The index now parses
``.npy`` files one thread at a time; the race itself is too rare to trigger on demand, so the test
checks that invariant (no two header parses at once) while 16 threads load the index together.
"""

from __future__ import annotations

import ast
import sys
import threading
import time
from pathlib import Path

import pytest

from index import store

THREADS = 16
LOADS = 6


def test_sixteen_threads_load_an_intact_index_at_once(tiny_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    errors: list[BaseException] = []
    inside, most = [0], [0]
    guard = threading.Lock()
    real = ast.literal_eval

    def watched(node_or_string):  # type: ignore[no-untyped-def]
        with guard:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        time.sleep(0.001)  # widen the window another thread would have to enter
        try:
            return real(node_or_string)
        finally:
            with guard:
                inside[0] -= 1

    monkeypatch.setattr(ast, "literal_eval", watched)
    start = threading.Barrier(THREADS)

    def work() -> None:
        start.wait()
        for _ in range(LOADS):
            try:
                store.load(tiny_index)
            except BaseException as exc:  # noqa: BLE001 - every failure is collected and reported
                errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert not errors, f"{len(errors)} of {THREADS * LOADS} loads failed, first: {errors[0]!r}"
    assert most[0] == 1, f"{most[0]} .npy headers were parsed at once"
