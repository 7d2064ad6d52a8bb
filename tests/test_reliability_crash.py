"""Crashes while writing: kill -9 of ``newsdesk index`` at every step and at random times, injected
exceptions, and a full disk. The old generation must answer exactly as before, ``verify`` must pass,
temp files must be gone after the next write, and a later ``index`` must complete.
"""

from __future__ import annotations

import errno
import random
import shutil
import signal
import time
from collections.abc import Iterable
from pathlib import Path

import pytest
from conftest import FakeEmbedder
from reliability_support import answers, assert_whole, child, generations, leftovers, write_extra

from index import store
from index.build import update_index
from index.lexical import LexicalIndex
from index.store.vectors import FaissVectors

STEPS = ("start", "articles", "tables", "vectors", "bm25", "manifest", "renamed", "published")
"""Checkpoints of store.save, in order; "published" is after CURRENT was replaced."""


@pytest.fixture
def base(tmp_path: Path, tiny_corpus: Path) -> tuple[Path, Path, list[str]]:
    """(index of the tiny corpus at generation 1, a folder of extra articles, answers before)."""
    index_dir = tmp_path / "index"
    update_index(index_dir, [tiny_corpus], FakeEmbedder())
    return index_dir, write_extra(tmp_path / "extra"), answers(index_dir)


def _later_index_completes(index_dir: Path, extra: Path) -> None:
    report = update_index(index_dir, [extra], FakeEmbedder())
    assert report.total_articles == 8
    assert leftovers(index_dir) == []
    assert len(generations(index_dir)) <= 2
    assert_whole(index_dir)
    assert {f"extra-{i}" for i in range(3)} <= {a.id for a in store.load(index_dir).articles}


@pytest.mark.parametrize("step", STEPS)
def test_kill_9_at_each_step_of_a_save(base: tuple[Path, Path, list[str]], step: str) -> None:
    index_dir, extra, before = base
    proc = child(index_dir, extra, CHILD_KILL_AT=step)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, err
    assert_whole(index_dir)
    if step == "published":  # CURRENT was replaced: the new generation is live, the old one kept
        assert store.current_generation(index_dir) == 2 and "gen-000001" in generations(index_dir)
        assert len(store.load(index_dir).articles) == 8
    else:
        assert store.current_generation(index_dir) == 1
        assert answers(index_dir) == before
    _later_index_completes(index_dir, extra)


def test_kill_9_at_random_moments(base: tuple[Path, Path, list[str]], tmp_path: Path) -> None:
    pristine, extra, before = base
    rng = random.Random(20251201)
    outcomes = []
    for run in range(6):
        index_dir = tmp_path / f"run-{run}"
        shutil.copytree(pristine, index_dir)
        proc = child(index_dir, extra, CHILD_SLOW="0.04")
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.5))
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        assert_whole(index_dir)
        live = store.current_generation(index_dir)
        outcomes.append(live)
        if live == 1:
            assert answers(index_dir) == before
        else:
            assert live == 2 and len(store.load(index_dir).articles) == 8
        _later_index_completes(index_dir, extra)
    assert 1 in outcomes  # the kills did land mid-write (the seed is fixed)


@pytest.mark.parametrize("step", ["vectors", "manifest", "renamed", "published"])
def test_an_exception_mid_save(
    base: tuple[Path, Path, list[str]], step: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir, extra, before = base

    def fail(at: str) -> None:
        if at == step:
            raise RuntimeError(f"injected at {at}")

    monkeypatch.setattr(store.write, "_checkpoint", fail)
    with pytest.raises(RuntimeError, match="injected"):
        update_index(index_dir, [extra], FakeEmbedder())
    assert_whole(index_dir)
    assert leftovers(index_dir) == []
    if step == "published":
        assert store.current_generation(index_dir) == 2
    else:
        assert store.current_generation(index_dir) == 1 and generations(index_dir) == ["gen-000001"]
        assert answers(index_dir) == before
    monkeypatch.undo()
    _later_index_completes(index_dir, extra)  # the lock was released


def _no_space(path: Path) -> OSError:
    return OSError(errno.ENOSPC, "No space left on device", str(path))


@pytest.mark.parametrize("victim", ["articles.jsonl", "sentences.npy", "chunks.faiss", "bm25", "CURRENT"])
def test_disk_full_leaves_the_index_unchanged(
    install_embedder,
    base: tuple[Path, Path, list[str]], victim: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    index_dir, extra, before = base
    real_write, real_durable, real_save = store.files.write_bytes, store.files.write_durable, LexicalIndex.save
    real_lines, real_vectors = store.files.write_lines, FaissVectors.write

    def write_bytes(path: Path, payload: bytes) -> None:
        if path.name == victim:
            path.write_bytes(payload[: len(payload) // 2])  # what a full disk leaves
            raise _no_space(path)
        real_write(path, payload)

    def write_lines(path: Path, lines: Iterable[bytes]) -> None:
        if path.name == victim:
            path.write_bytes(next(iter(lines)))
            raise _no_space(path)
        real_lines(path, lines)

    def write_vectors(self: FaissVectors, path: Path) -> None:
        if path.name == victim:
            path.write_bytes(b"IxFI")
            raise _no_space(path)
        real_vectors(self, path)

    def write_durable(path: Path, payload: bytes) -> None:
        if path.name == victim:
            raise _no_space(path)
        real_durable(path, payload)

    def bm25_save(self: LexicalIndex, directory: Path) -> list[Path]:
        if victim == "bm25":
            (directory / "data.csc.index.npy").write_bytes(b"\x93NUMPY")
            raise _no_space(directory / "data.csc.index.npy")
        return real_save(self, directory)

    monkeypatch.setattr(store.files, "write_bytes", write_bytes)
    monkeypatch.setattr(store.files, "write_lines", write_lines)
    monkeypatch.setattr(FaissVectors, "write", write_vectors)
    monkeypatch.setattr(store.files, "write_durable", write_durable)
    monkeypatch.setattr(LexicalIndex, "save", bm25_save)
    install_embedder(FakeEmbedder())
    from newsdesk.cli import main

    assert main(["index", str(extra), "--index", str(index_dir)]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("newsdesk: No space left writing ") and err.endswith("; generation 1 unchanged")
    assert (victim if victim != "bm25" else "bm25-sentences") in err
    assert leftovers(index_dir) == [] and generations(index_dir) == ["gen-000001"]
    assert store.current_generation(index_dir) == 1 and answers(index_dir) == before
    assert_whole(index_dir)
    monkeypatch.undo()
    _later_index_completes(index_dir, extra)


@pytest.mark.parametrize("limit", [1000, 4000])
def test_file_size_limit_in_a_real_process(base: tuple[Path, Path, list[str]], limit: int) -> None:
    """RLIMIT_FSIZE makes the kernel refuse writes (EFBIG), wherever they happen in the save."""
    index_dir, extra, before = base
    proc = child(index_dir, extra, CHILD_FSIZE=str(limit))
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("newsdesk: No space left (file size limit reached) writing "), last
    assert last.endswith("; generation 1 unchanged") and "Traceback" not in err
    assert leftovers(index_dir) == [] and generations(index_dir) == ["gen-000001"]
    assert answers(index_dir) == before
    _later_index_completes(index_dir, extra)


@pytest.mark.parametrize("target", ["index.lexical.write_bm25", "index.store.vectors.write_flat"])
def test_disk_full_while_the_build_writes_its_working_files(
    install_embedder,
    base: tuple[Path, Path, list[str]], target: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The indexes are written to working files in the index folder as they are built: a full disk there
    gives the same one-line error as a failed save, and leaves nothing behind."""
    index_dir, extra, before = base

    def no_room(*_args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(target, no_room)
    install_embedder(FakeEmbedder())
    from newsdesk.cli import main

    assert main(["index", str(extra), "--index", str(index_dir)]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == f"newsdesk: No space left writing {index_dir}; generation 1 unchanged"
    assert leftovers(index_dir) == [] and generations(index_dir) == ["gen-000001"]
    assert store.current_generation(index_dir) == 1 and answers(index_dir) == before
    monkeypatch.undo()
    _later_index_completes(index_dir, extra)
