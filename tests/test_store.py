"""The generational store: publishing, cleaning, old formats, newer formats, models, verify."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from conftest import DATA, FakeEmbedder
from reliability_support import QUESTIONS, answers, generations, leftovers, write_extra

from index import store
from index.build import check_model, update_index
from index.errors import IndexCorruptError, IndexFormatError, IndexMismatchError, IndexNotFoundError
from newsdesk.cli import main
from qa import Assistant


def test_current_names_the_generation_and_seals_its_manifest(tiny_index: Path) -> None:
    lines = (tiny_index / "CURRENT").read_text().splitlines()
    manifest = (tiny_index / "gen-000001" / "manifest.json").read_bytes()
    assert lines == ["gen-000001", f"sha256 {hashlib.sha256(manifest).hexdigest()}"]
    assert store.read_pointer(tiny_index) == store.Pointer(1, hashlib.sha256(manifest).hexdigest())


def test_the_previous_generation_is_kept_and_older_ones_removed(tiny_index: Path, tmp_path: Path) -> None:
    for n in range(1, 4):
        update_index(tiny_index, [write_extra(tmp_path / f"extra{n}", n)], FakeEmbedder())
    assert store.current_generation(tiny_index) == 4
    assert generations(tiny_index) == ["gen-000003", "gen-000004"]
    assert leftovers(tiny_index) == []


def test_leftovers_of_dead_writers_are_cleaned_by_the_next_write(tiny_index: Path, tmp_path: Path) -> None:
    (tiny_index / ".tmp-gen-000002-99999").mkdir()
    (tiny_index / ".tmp-gen-000002-99999" / "articles.jsonl").write_text("half")
    (tiny_index / ".CURRENT.99999.tmp").write_text("gen-0000")
    (tiny_index / ".writer.json.99999.tmp").write_text("{")
    (tiny_index / ".tmp-bm25-99999-x1y2").mkdir()  # a dead build's BM25 working files
    (tiny_index / ".tmp-bm25-99999-x1y2" / "data.csc.index.npy").write_text("half")
    shutil.copytree(tiny_index / "gen-000001", tiny_index / "gen-000002")  # renamed, never published
    assert store.current_generation(tiny_index) == 1  # readers ignore all of it
    assert store.verify(tiny_index).leftovers == [
        ".CURRENT.99999.tmp", ".tmp-bm25-99999-x1y2", ".tmp-gen-000002-99999", ".writer.json.99999.tmp", "gen-000002"
    ]
    report = update_index(tiny_index, [write_extra(tmp_path / "extra")], FakeEmbedder())
    assert report.generation == 3  # numbers are never reused
    assert leftovers(tiny_index) == [] and generations(tiny_index) == ["gen-000001", "gen-000003"]
    store.verify(tiny_index)


def test_readers_never_take_the_lock(tiny_index: Path) -> None:
    with store.write_lock(tiny_index, wait=0):
        assert len(store.load(tiny_index).articles) == 5


def test_the_committed_v1_index_still_opens(tmp_path: Path) -> None:
    """tests/data/index-v1 was written by the first release (no manifest checksum in CURRENT)."""
    index_dir = tmp_path / "index-v1"
    shutil.copytree(DATA / "index-v1", index_dir)
    assert (index_dir / "CURRENT").read_text() == "gen-000001\n"
    report = store.verify(index_dir)
    assert report.format_version == 1 and not report.manifest_checked and report.counts["articles"] == 5
    answer = Assistant.open(index_dir, embedder=FakeEmbedder()).ask(QUESTIONS[0], k=3)
    assert answer.sentences and "Monday" in answer.sentences[0].text
    # and it can be extended: the new generation is sealed
    update_index(index_dir, [write_extra(tmp_path / "extra")], FakeEmbedder())
    assert store.verify(index_dir).manifest_checked
    assert store.load(index_dir).articles[0].id == "harbor-bridge"


def _seal(index_dir: Path, manifest: dict) -> None:
    payload = json.dumps(manifest).encode()
    (index_dir / "gen-000001" / "manifest.json").write_bytes(payload)
    (index_dir / "CURRENT").write_text(f"gen-000001\nsha256 {hashlib.sha256(payload).hexdigest()}\n")


def test_a_newer_format_is_refused(tiny_index: Path, tiny_corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = json.loads((tiny_index / "gen-000001" / "manifest.json").read_text())
    manifest["format_version"] = 3
    _seal(tiny_index, manifest)
    with pytest.raises(IndexFormatError, match="index format 3 is newer than supported 1; upgrade newsdesk"):
        store.load(tiny_index)
    with pytest.raises(IndexFormatError):  # a writer refuses it too, and writes nothing
        update_index(tiny_index, [tiny_corpus], FakeEmbedder())
    assert generations(tiny_index) == ["gen-000001"]
    assert main(["verify", "--index", str(tiny_index), "--no-model"]) == 2
    assert "format 3 is newer than supported 1" in capsys.readouterr().err


def test_a_newer_format_is_refused_even_if_its_layout_changed(tiny_index: Path) -> None:
    _seal(tiny_index, {"format_version": 3, "layout": "something new"})
    with pytest.raises(IndexFormatError, match="format 3"):
        store.load(tiny_index)


@pytest.mark.parametrize(
    ("attribute", "value", "named"),
    [("fingerprint", "other-weights", "sha256 other-weigh"), ("backend", "onnx", "onnx"), ("dim", 32, "dim 32")],
)
def test_a_different_model_is_refused_naming_both(tiny_index: Path, attribute: str, value: object, named: str) -> None:
    other = FakeEmbedder()
    setattr(other, attribute, value)
    with pytest.raises(IndexMismatchError) as caught:
        Assistant.open(tiny_index, embedder=other)
    message = str(caught.value)
    assert named in message and "fake" in message
    with pytest.raises(IndexMismatchError):
        check_model(tiny_index, store.load(tiny_index).model, other)


def test_no_index_and_missing_pointer(tmp_path: Path, tiny_index: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="no index at"):
        store.load(tmp_path / "nothing")
    (tiny_index / "CURRENT").unlink()
    assert store.exists(tiny_index)  # generations are there: it is a damaged index, not a missing one
    with pytest.raises(IndexCorruptError, match="CURRENT: file missing; run newsdesk index"):
        store.load(tiny_index)


def test_verify_reports_what_it_checked(tiny_index: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tiny_index / "gen-000001" / "metadata.pkl").write_bytes(b"planted")
    report = store.verify(tiny_index)
    assert (report.generation, report.files, report.counts) == (1, 16, {"articles": 5, "sentences": 14, "chunks": 5})
    assert report.unlisted == ["metadata.pkl"] and report.manifest_checked and report.leftovers == []
    assert main(["verify", "--index", str(tiny_index), "--no-model"]) == 0
    out = capsys.readouterr().out
    assert "generation 1 (format 1)" in out and "16 checked (size and sha256)" in out
    assert "5 articles, 14 sentences, 5 chunks" in out and "model: fake (backend fake" in out
    assert "ignored (not in the manifest, never read): metadata.pkl" in out and out.endswith("ok\n")


def test_verify_refuses_an_index_of_another_model(
    install_embedder,
    tiny_index: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    other = FakeEmbedder()
    other.fingerprint = "other-weights"
    install_embedder(other)
    assert main(["verify", "--index", str(tiny_index)]) == 2
    assert "built with model fake" in capsys.readouterr().err
    install_embedder(FakeEmbedder())
    assert main(["verify", "--index", str(tiny_index)]) == 0
    assert "model: matches the configured model" in capsys.readouterr().out


def test_answers_survive_a_reopen_exactly(tiny_index: Path) -> None:
    assert answers(tiny_index) == answers(tiny_index)


def test_a_rebuild_reads_the_catalogue_and_sentence_vectors_but_checks_every_file(
    tiny_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from index.lexical import LexicalIndex
    from index.store.read import load_for_rebuild

    full = store.load(tiny_index)

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a rebuild never loads the old BM25 indexes")

    monkeypatch.setattr(LexicalIndex, "load", refuse)
    old = load_for_rebuild(tiny_index)
    assert [a.id for a in old.articles] == [a.id for a in full.articles] and old.hashes == full.hashes
    assert (old.sentences == full.sentences).all() and (old.chunks == full.chunks).all()
    assert (old.sentence_vectors.rows_between(0, len(old.sentences)) == full.sentence_vectors.all()).all()
    bm25 = next((tiny_index / f"gen-{store.current_generation(tiny_index):06d}" / "bm25-chunks").iterdir())
    damaged = bytearray(bm25.read_bytes())
    damaged[-1] ^= 0xFF  # damage a file it does not load
    bm25.write_bytes(bytes(damaged))
    with pytest.raises(IndexCorruptError):
        load_for_rebuild(tiny_index)


def test_vector_files_are_checked_then_read_from_the_disk_without_a_copy_of_their_bytes(
    tiny_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from index.store import layout, read

    real = layout.read_checked

    def no_vector_bytes(folder: Path, manifest: dict[str, object], name: str) -> bytes:
        assert not name.endswith(".faiss"), f"{name} was read into memory whole before FAISS read it"
        return real(folder, manifest, name)

    monkeypatch.setattr(read, "read_checked", no_vector_bytes)
    data = store.load(tiny_index)
    assert data.sentence_vectors.size == len(data.sentences) and data.chunk_vectors.size == len(data.chunks)
    vectors = tiny_index / f"gen-{store.current_generation(tiny_index):06d}" / "chunks.faiss"
    damaged = bytearray(vectors.read_bytes())
    damaged[-1] ^= 0xFF
    vectors.write_bytes(bytes(damaged))
    with pytest.raises(IndexCorruptError, match="chunks.faiss: checksum mismatch"):
        store.load(tiny_index)
