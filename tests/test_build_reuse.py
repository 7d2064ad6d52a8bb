"""Identical sentences are embedded once, and an interrupted build leaves its vectors for the next run."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from conftest import FakeEmbedder

from index import build, store
from index.build import EmbedCache, update_index

WIRE = "The storm closed the coastal highway on Monday. Crews expect to reopen it by Friday."


def _write(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "a.jsonl").open("w", encoding="utf-8") as out:
        for i in range(n):
            text = f"{WIRE} Local desk note number {i} about item {i}."  # two shared sentences, one own
            out.write(json.dumps({"id": f"a{i}", "title": f"Story {i}", "text": text}) + "\n")
    return folder


class Counting(FakeEmbedder):
    def __init__(self, stop_after: int | None = None) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.stop_after = stop_after

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if self.stop_after is not None and self.calls >= self.stop_after:
            raise KeyboardInterrupt
        self.texts.extend(texts)
        return super().embed(texts)


def test_identical_sentences_are_embedded_once(tmp_path: Path) -> None:
    embedder = Counting()
    report = update_index(tmp_path / "idx", [_write(tmp_path / "in", 30)], embedder)
    data = store.load(tmp_path / "idx")
    assert len(data.sentences) == 90
    assert report.sentences_embedded == len(embedder.texts) == len(set(embedder.texts)) == 32
    vectors = data.sentence_vectors.all()
    first = [i for i in range(len(data.sentences)) if data.sentence_text(i).startswith("The storm")]
    assert len(first) == 30 and np.allclose(vectors[first], vectors[first[0]])


class SideBySide(FakeEmbedder):
    """A bulk embedder: the build hands it whole windows of batches."""

    def __init__(self) -> None:
        super().__init__()
        self.bulk_calls: list[int] = []

    def embed_batches(self, batches: Sequence[Sequence[str]]) -> list[np.ndarray]:
        self.bulk_calls.append(len(batches))
        return [super(SideBySide, self).embed(batch) for batch in reversed(batches)][::-1]  # any order inside

    def end_batches(self) -> None:
        self.bulk_calls.append(0)


def test_a_bulk_embedder_gets_whole_windows_and_gives_the_same_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build, "BATCH_SENTENCES", 4)  # several batches to a window
    folder = _write(tmp_path / "in", 30)
    bulk, plain = SideBySide(), FakeEmbedder()
    update_index(tmp_path / "bulk", [folder], bulk)
    update_index(tmp_path / "plain", [folder], plain)
    assert max(bulk.bulk_calls) > 1 and bulk.bulk_calls[-1] == 0  # whole windows, then let go
    assert bulk.embedded == plain.embedded == 32
    got, want = store.load(tmp_path / "bulk"), store.load(tmp_path / "plain")
    assert np.array_equal(got.sentence_vectors.all(), want.sentence_vectors.all())
    assert np.array_equal(got.sentences, want.sentences)


def test_an_interrupted_build_keeps_the_live_index_and_its_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build, "EMBED_WINDOW", 8)  # embed in small windows, so some finish before the stop
    index_dir = tmp_path / "idx"
    update_index(index_dir, [_write(tmp_path / "first", 2)], FakeEmbedder())
    more = _write(tmp_path / "more", 60)
    stopped = Counting(stop_after=3)
    with pytest.raises(KeyboardInterrupt):
        update_index(index_dir, [more], stopped)
    assert store.current_generation(index_dir) == 1  # the live index is untouched
    assert (index_dir / EmbedCache.FOLDER).is_dir()
    again = Counting()
    report = update_index(index_dir, [more], again)
    assert set(stopped.texts).isdisjoint(again.texts)  # nothing embedded twice
    assert report.sentences_embedded == len(again.texts) and report.generation == 2
    assert not (index_dir / EmbedCache.FOLDER).exists()  # used up
    data = store.load(index_dir)
    texts = [data.sentence_text(i) for i in range(len(data.sentences))]
    assert np.allclose(data.sentence_vectors.all(), FakeEmbedder().embed(texts), atol=1e-6)  # kept ones in place
    assert store.verify(index_dir).leftovers == []


def test_a_cache_of_another_model_is_ignored(tmp_path: Path) -> None:
    EmbedCache.empty(64).extended([b"x" * 16], np.ones((1, 64), np.float32)).save(tmp_path, "other-model")
    assert len(EmbedCache.load(tmp_path, "other-model", 64).keys) == 1
    assert len(EmbedCache.load(tmp_path, "fake-embedder-1", 64).keys) == 0
    (tmp_path / EmbedCache.FOLDER / "vectors.npy").write_bytes(b"not numpy")
    assert len(EmbedCache.load(tmp_path, "other-model", 64).keys) == 0  # damaged: ignored, never trusted


def test_cli_says_the_live_index_is_unchanged_and_the_work_kept(
    install_embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from newsdesk.cli import main

    monkeypatch.setattr(build, "EMBED_WINDOW", 8)
    index_dir = tmp_path / "idx"
    install_embedder(FakeEmbedder())
    assert main(["index", str(_write(tmp_path / "first", 2)), "--index", str(index_dir)]) == 0
    install_embedder(Counting(stop_after=3))
    assert main(["index", str(_write(tmp_path / "more", 60)), "--index", str(index_dir)]) == 130
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == (
        f"newsdesk: interrupted; the live index is unchanged (generation 1) in {index_dir}; "
        "the sentences embedded so far are kept, and the next run reuses them"
    )
