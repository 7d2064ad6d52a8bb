"""One writer at a time; a dead writer never leaves the index locked; readers never block or see a
half-written index, even while it is being rewritten.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import pytest
from conftest import FakeEmbedder
from reliability_support import assert_whole, child, generations, leftovers, write_extra

from index import store
from index.build import update_index
from index.errors import IndexLockedError
from newsdesk.cli import main
from qa import Assistant, Settings


def _holder(index_dir: Path):  # type: ignore[no-untyped-def]
    proc = child(index_dir, CHILD_HOLD="1")
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_a_second_writer_with_wait_0_exits_2_naming_the_holder(
    install_embedder,
    tiny_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    holder = _holder(tiny_index)
    try:
        with pytest.raises(IndexLockedError, match=f"locked by pid {holder.pid}; try again later"):
            update_index(tiny_index, [write_extra(tmp_path / "extra")], FakeEmbedder(), wait=0)
        install_embedder(FakeEmbedder())
        assert main(["index", str(tmp_path / "extra"), "--index", str(tiny_index), "--wait", "0"]) == 2
        *read, err = capsys.readouterr().err.splitlines()
        assert [line.split(":")[0] for line in read] == ["reading articles"]  # progress, then one line of error
        assert f"is locked by pid {holder.pid}" in err and err.startswith("newsdesk: ")
    finally:
        holder.kill()
        holder.wait()
    assert store.current_generation(tiny_index) == 1


def test_sigkill_of_the_holder_frees_the_lock(tiny_index: Path, tmp_path: Path) -> None:
    holder = _holder(tiny_index)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert (tiny_index / "writer.json").exists()  # its note is stale; the flock went with the process
    report = update_index(tiny_index, [write_extra(tmp_path / "extra")], FakeEmbedder(), wait=0)
    assert report.generation == 2 and not (tiny_index / "writer.json").exists()


def test_a_second_writer_waits_with_a_message_then_proceeds(tiny_index: Path, tmp_path: Path) -> None:
    holder = _holder(tiny_index)
    messages: list[str] = []
    done: list[int | None] = []
    waiter = threading.Thread(
        target=lambda: done.append(
            update_index(
                tiny_index, [write_extra(tmp_path / "extra")], FakeEmbedder(), wait=60, notify=messages.append
            ).generation
        )
    )
    waiter.start()
    waiter.join(timeout=1.0)
    assert waiter.is_alive() and not done  # still waiting
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    waiter.join(timeout=30)
    assert done == [2]
    assert messages == [f"index {tiny_index} is being written by pid {holder.pid}; waiting up to 60 s"]


def test_two_concurrent_index_runs_both_end_cleanly(tiny_index: Path, tmp_path: Path) -> None:
    first = child(tiny_index, write_extra(tmp_path / "a", 3), CHILD_SLOW="0.05")
    second = child(tiny_index, write_extra(tmp_path / "b", 2), CHILD_SLOW="0.05")
    results = [proc.communicate(timeout=60) for proc in (first, second)]
    assert (first.returncode, second.returncode) == (0, 0), results
    assert all("Traceback" not in err for _out, err in results)
    assert_whole(tiny_index)
    # b's two articles share ids with two of a's (extra-0, extra-1): whichever ran last updated them
    assert len(store.load(tiny_index).articles) == 8
    assert leftovers(tiny_index) == [] and len(generations(tiny_index)) <= 2


def test_eight_query_threads_during_reindexing(tiny_index: Path, tmp_path: Path) -> None:
    errors: list[BaseException] = []
    checked = [0]
    seen: set[int] = set()
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                # the storage is under test, not the reader: without it a loop is quick enough to
                # open each generation the writer publishes
                assistant = Assistant.open(tiny_index, embedder=FakeEmbedder(), settings=Settings(reader=False))
                seen.add(assistant.data.generation)
                texts = {a.id: a.text for a in assistant.data.articles}
                for question in ("When did the bridge reopen?", "Who found the comet?", "ferry passengers"):
                    for sentence in assistant.ask(question, k=5).sentences:  # ids resolve within one generation
                        assert texts[sentence.article_id][sentence.start : sentence.end] == sentence.text
                        checked[0] += 1
            except BaseException as exc:  # noqa: BLE001 - collected and reported below
                errors.append(exc)
            stop.wait(0.02)  # leave the writer some of the GIL

    threads = [threading.Thread(target=reader) for _ in range(8)]
    for thread in threads:
        thread.start()
    try:
        for n in range(6):  # each run publishes a generation and removes the one before the previous
            extra = tmp_path / f"extra-{n}"
            extra.mkdir()
            (extra / f"ferry-{n}.txt").write_text(f"Ferry {n} news\n\nThe ferry carried {n * 10} passengers today.\n")
            update_index(tiny_index, [extra], FakeEmbedder())
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert errors == []
    assert checked[0] > 0 and store.current_generation(tiny_index) == 7
    assert len(seen) >= 3  # the readers did open successive generations while they were replaced
