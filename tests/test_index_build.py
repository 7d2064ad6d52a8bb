"""Building, reopening and updating an index with the fake embedder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from index import store
from index.build import remove_articles, update_index
from index.errors import IndexMismatchError, NoArticlesError


def test_round_trip_keeps_articles_units_and_vectors(tiny_index: Path) -> None:
    data = store.load(tiny_index)
    assert len(data.articles) == 5
    assert data.sentence_vectors.size == len(data.sentences) > 10
    assert data.chunk_vectors.size == len(data.chunks) > 0
    for row in range(len(data.sentences)):
        article, start, end, _tokens = (int(v) for v in data.sentences[row])
        text = data.articles[article].text
        assert text[start:end] == data.sentence_text(row)
    manifest = json.loads((tiny_index / "gen-000001" / "manifest.json").read_text())
    assert manifest["format_version"] == store.FORMAT_VERSION
    assert manifest["model"]["name"] == "fake" and manifest["model"]["dim"] == 64
    assert manifest["chunk_params"] == {"max_tokens": 256, "overlap": 1}
    assert manifest["counts"]["articles"] == 5
    assert all(len(meta["sha256"]) == 64 for meta in manifest["files"].values())
    assert not any(p.suffix in (".pkl", ".pickle") for p in tiny_index.rglob("*"))


def test_ids_follow_the_interface(tiny_index: Path) -> None:
    ids = {a.id for a in store.load(tiny_index).articles}
    assert ids == {"harbor-bridge", "library-hours", "comet-sighting", "farm-tariffs", "stadium-vote"}


def test_unchanged_articles_are_not_re_embedded(tiny_index: Path, tiny_corpus: Path, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    before = fake_embedder.embedded
    report = update_index(tiny_index, [tiny_corpus], fake_embedder)
    assert (report.added, report.updated, report.unchanged) == (0, 0, 5)
    assert report.generation is None and fake_embedder.embedded == before
    assert store.current_generation(tiny_index) == 1


def test_changed_article_replaces_its_old_version(tmp_path: Path, tiny_corpus: Path, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    corpus = tmp_path / "articles"
    shutil.copytree(tiny_corpus, corpus)
    index_dir = tmp_path / "index"
    update_index(index_dir, [corpus], fake_embedder)
    old = store.load(index_dir)
    bridge_sentences = int((old.sentences[:, 0] == [a.id for a in old.articles].index("harbor-bridge")).sum())
    (corpus / "harbor-bridge.txt").write_text("Harbor bridge closes again\n\nThe bridge closed on Friday for inspection.\n")
    before = fake_embedder.embedded
    report = update_index(index_dir, [corpus], fake_embedder)
    assert (report.added, report.updated, report.unchanged) == (0, 1, 4)
    assert fake_embedder.embedded - before == 1  # only the changed article's one sentence
    new = store.load(index_dir)
    texts = [new.sentence_text(i) for i in range(len(new.sentences))]
    assert "The bridge closed on Friday for inspection." in texts
    assert not any("corroded steel" in t for t in texts)
    assert len(new.sentences) == len(old.sentences) - bridge_sentences + 1
    # vectors of unchanged articles were carried over exactly
    old_rows = [i for i in range(len(old.sentences)) if old.articles[int(old.sentences[i, 0])].id == "comet-sighting"]
    new_rows = [i for i in range(len(new.sentences)) if new.articles[int(new.sentences[i, 0])].id == "comet-sighting"]
    np.testing.assert_array_equal(
        old.sentence_vectors.vectors(np.array(old_rows)),
        new.sentence_vectors.vectors(np.array(new_rows)),
    )
    for j, (article, first, stop) in enumerate(new.chunks.tolist()):
        assert all(int(new.sentences[i, 0]) == article for i in range(first, stop)), j


def test_adding_a_folder_keeps_the_old_articles(tiny_index: Path, tmp_path: Path, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "rain.txt").write_text("Record rain in Fresno\n\nFresno saw 3 inches of rain on Sunday.\n")
    report = update_index(tiny_index, [extra], fake_embedder)
    assert report.added == 1 and report.total_articles == 6


def test_remove_articles(tiny_index: Path, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    removed, missing = remove_articles(tiny_index, ["stadium-vote", "nope"], fake_embedder)
    assert removed == ["stadium-vote"] and missing == ["nope"]
    data = store.load(tiny_index)
    assert "stadium-vote" not in {a.id for a in data.articles}
    assert data.sentence_vectors.size == len(data.sentences)


def test_no_articles_writes_nothing(tmp_path: Path, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.csv").write_text("a,b\n")
    with pytest.raises(NoArticlesError, match="no articles found in"):
        update_index(tmp_path / "index", [empty], fake_embedder)
    assert not store.exists(tmp_path / "index")


def test_a_different_model_is_refused(tiny_index: Path, tiny_corpus: Path, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    fake_embedder.fingerprint = "another-model"
    with pytest.raises(IndexMismatchError, match="fake"):
        update_index(tiny_index, [tiny_corpus], fake_embedder)


def test_token_batches_bound_sentences_and_padded_tokens() -> None:
    from index.build import BATCH_SENTENCES, BATCH_TOKENS, token_batches

    rng = np.random.default_rng(3)
    counts = [int(c) for c in rng.integers(3, 400, size=700)]
    batches = token_batches(counts, max_tokens=256)
    flat = [i for batch in batches for i in batch]
    assert sorted(flat) == list(range(len(counts)))  # every sentence exactly once
    assert [counts[i] for i in flat] == sorted(counts)  # shortest first: batches of like length
    for batch in batches:
        padded = max(min(counts[i], 256) for i in batch)
        assert len(batch) <= BATCH_SENTENCES
        assert len(batch) == 1 or len(batch) * padded <= BATCH_TOKENS


def test_windowed_encoding_keeps_every_vector_in_its_place(fake_embedder) -> None:  # type: ignore[no-untyped-def]
    from index.build import _WindowedEncoder

    texts = [f"sentence {'word ' * (n % 37)} number {n}" for n in range(300)]
    encoder = _WindowedEncoder(fake_embedder, window=64)
    spans = [encoder.add(texts[i : i + 25], fake_embedder.count_tokens(texts[i : i + 25])) for i in range(0, 300, 25)]
    rows = encoder.finish()
    assert spans[0] == (0, 25) and spans[-1] == (275, 300) and len(rows) == 300
    np.testing.assert_allclose(rows.rows(0, 300), fake_embedder.embed(texts), atol=1e-6)
    np.testing.assert_allclose(rows.rows(100, 103), fake_embedder.embed(texts[100:103]), atol=1e-6)
    assert rows.rows(7, 7).shape == (0, fake_embedder.dim)
    assert fake_embedder.embedded == 603  # each text once in the encoder, once (and three twice) to compare


@pytest.mark.parametrize("windows", [100, 1.5, 0])
def test_embedded_vectors_wait_on_disk_and_stay_in_memory_when_it_is_full(
    fake_embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, windows: float  # type: ignore[no-untyped-def]
) -> None:
    import io
    import tempfile

    from index import build

    room = int(windows * 64 * fake_embedder.dim * 4)  # bytes of vectors the disk takes

    class SmallDisk(io.BytesIO):
        """A spill file that refuses writes past ``room`` bytes, as a full disk does."""

        def write(self, data) -> int:  # type: ignore[no-untyped-def, override]
            if self.tell() + len(data) > room:
                raise OSError(28, "No space left on device")
            return super().write(data)

    files: list[SmallDisk] = []
    monkeypatch.setattr(tempfile, "TemporaryFile", lambda **_: files.append(SmallDisk()) or files[-1])
    texts = [f"sentence {'word ' * (n % 250 % 37)} number {n % 250}" for n in range(300)]  # the last 50 repeat
    encoder = build._WindowedEncoder(fake_embedder, window=64, spill_dir=tmp_path)
    for i in range(0, 300, 25):
        encoder.add(texts[i : i + 25], fake_embedder.count_tokens(texts[i : i + 25]))
    on_disk = sum(1 for part in encoder._parts if isinstance(part, tuple))
    assert on_disk == min(3, int(windows))  # three full windows of 64 were embedded; the rest waits in memory
    rows = encoder.finish()
    np.testing.assert_allclose(rows.rows(0, 300), fake_embedder.embed(texts), atol=1e-6)
    np.testing.assert_allclose(rows.rows(250, 300), fake_embedder.embed(texts[250:]), atol=1e-6)
    rows.close()
    assert encoder._parts == [] and rows._parts == [] and files[0].closed


def test_unchanged_re_index_reads_only_the_article_list(
    tmp_path: Path, tiny_corpus: Path, fake_embedder, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    index_dir = tmp_path / "index"
    update_index(index_dir, [tiny_corpus], fake_embedder)

    def no_full_load(*_args: object) -> None:
        raise AssertionError("the whole index was loaded for a re-index with nothing new")

    monkeypatch.setattr(store, "load", no_full_load)
    report = update_index(index_dir, [tiny_corpus], fake_embedder)
    assert (report.added, report.updated, report.unchanged, report.generation) == (0, 0, 5, None)
    assert report.total_sentences == int(json.loads((index_dir / "gen-000001" / "manifest.json").read_text())["counts"]["sentences"])


def test_unchanged_re_index_still_notices_a_damaged_file(tmp_path: Path, tiny_corpus: Path, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    index_dir = tmp_path / "index"
    update_index(index_dir, [tiny_corpus], fake_embedder)
    vectors = index_dir / "gen-000001" / "sentences.faiss"
    raw = bytearray(vectors.read_bytes())
    raw[-1] ^= 0xFF
    vectors.write_bytes(bytes(raw))
    report = update_index(index_dir, [tiny_corpus], fake_embedder)
    assert report.generation == 2  # rebuilt from the paths, not reported as unchanged
    assert any("checksum" in str(p) for p in report.problems)
    assert store.load(index_dir).sentence_vectors.size > 0


def test_articles_are_split_in_groups_of_bounded_text() -> None:
    from index.build import _groups

    rows, sizes = list(range(10)), [30, 30, 30, 100, 5, 5, 5, 5, 60, 1]
    groups = _groups(rows, sizes, chars=60)
    assert [row for group in groups for row in group] == rows  # every article once, in order
    assert groups == [[0, 1], [2, 3], [4, 5, 6, 7, 8], [9]]  # a group closes once it reaches 60 characters
    assert _groups([], []) == []


def test_old_vectors_are_read_back_a_block_at_a_time_and_carried_exactly(
    tmp_path: Path, tiny_corpus: Path, fake_embedder, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    from index.store import vectors as vector_store

    corpus = tmp_path / "articles"
    shutil.copytree(tiny_corpus, corpus)
    index_dir = tmp_path / "index"
    update_index(index_dir, [corpus], fake_embedder)
    old = store.load(index_dir)
    monkeypatch.setattr(vector_store, "ADD_BLOCK", 2)  # reads of two rows: runs of old and new rows span many
    (corpus / "harbor-bridge.txt").write_text("Harbor bridge closes again\n\nThe bridge closed on Friday for inspection.\n")
    update_index(index_dir, [corpus], fake_embedder)
    new = store.load(index_dir)

    def vectors_of(data: store.IndexData, article_id: str) -> np.ndarray:
        rows = [i for i in range(len(data.sentences)) if data.articles[int(data.sentences[i, 0])].id == article_id]
        return data.sentence_vectors.vectors(np.array(rows))

    kept = [a.id for a in old.articles if a.id != "harbor-bridge"]
    assert len(kept) == 4
    for article_id in kept:
        np.testing.assert_array_equal(vectors_of(old, article_id), vectors_of(new, article_id))
    assert new.sentence_vectors.size == len(new.sentences)
