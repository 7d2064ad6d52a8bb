"""Article texts wait on the disk during a build: read back exactly, never all held in memory."""

from __future__ import annotations

import errno
import json
import os
import threading
import tracemalloc
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from index import article_spool, build
from index.article_spool import ArticleSpool
from index.errors import IndexCorruptError
from index.ingest.articles import load_paths
from index.records import Article
from index.store import read
from index.store.layout import read_manifest_once
from index.store.read import load, load_for_rebuild


def _articles(n: int, size: int = 200) -> list[Article]:
    body = "Fire crews in Fresno — 3,000 strong — held the line. Ça va? 火事 🔥. "  # non-Latin-1: 4 bytes a char in str
    return [
        Article(
            f"a{i}",
            f"Story {i}",
            (body * (size // len(body) + 1))[: size + i],
            source="Wire" if i % 2 else None,
            published="2025-07-15",
            url=f"https://example.com/{i}",
            origin=f"export.jsonl:{i + 1}",
            language="en" if i % 3 else None,
        )
        for i in range(n)
    ]


def test_articles_come_back_exactly_by_index_slice_and_iteration(tmp_path: Path) -> None:
    originals = _articles(30)
    originals.append(Article("odd", "", "Lone \ud800 surrogate and \x00 nul kept as given."))
    spool = ArticleSpool(tmp_path, originals)
    assert len(spool) == 31
    assert list(spool) == originals
    assert spool[5] == originals[5] and spool[-1] == originals[-1]
    assert spool[3:7] == originals[3:7]
    assert [spool.text_length(i) for i in range(31)] == [len(a.text) for a in originals]
    with pytest.raises(IndexError):
        spool[31]
    spool.close()


def test_the_texts_are_not_held_in_memory(tmp_path: Path) -> None:
    originals = _articles(40, size=50_000)  # 2M characters, 8 MB as Python strings
    tracemalloc.start()
    try:
        spool = ArticleSpool(tmp_path)
        before, _ = tracemalloc.get_traced_memory()
        for article in originals:
            spool.append(article)
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after - before < 200_000  # the other fields only; every text went to the disk
    assert spool[39] == originals[39]
    spool.close()


def test_the_spool_file_has_no_name_in_the_folder(tmp_path: Path) -> None:
    spool = ArticleSpool(tmp_path, _articles(3))
    assert [p for p in tmp_path.iterdir() if p.name.startswith(article_spool.PREFIX)] == []
    spool.close()
    with pytest.raises(ValueError, match="closed"):
        spool._read(0)


def test_when_the_disk_refuses_the_texts_are_held_and_nothing_is_lost(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    originals = _articles(10)
    real_pwrite, calls = os.pwrite, []

    def full_after_four(fd: int, data: Any, offset: int) -> int:
        calls.append(offset)
        if len(calls) > 4:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(article_spool.os, "pwrite", full_after_four)
    spool = ArticleSpool(tmp_path, originals)
    assert list(spool) == originals  # four from the disk, six held whole
    assert len(calls) == 5  # after the refusal nothing more is tried
    spool.close()


def test_a_folder_that_cannot_hold_the_spool_keeps_the_texts_in_memory(tmp_path: Path) -> None:
    spool = ArticleSpool(tmp_path / "missing", _articles(4))
    assert list(spool) == _articles(4)


def test_reading_from_two_threads_gives_each_its_own_article(tmp_path: Path) -> None:
    originals = _articles(200)
    spool = ArticleSpool(tmp_path, originals)
    wrong: list[int] = []

    def read(order: list[int]) -> None:
        for i in order:
            if spool[i] != originals[i]:
                wrong.append(i)

    threads = [threading.Thread(target=read, args=(order,)) for order in (list(range(200)) * 3, list(range(199, -1, -1)) * 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []


def test_load_paths_into_a_spool_gives_the_same_articles_and_problems(tmp_path: Path) -> None:
    export = tmp_path / "archive.jsonl"
    lines = [json.dumps({"id": a.id, "title": a.title, "text": a.text, "source": a.source}) for a in _articles(20)]
    lines[4] = "{broken"
    lines.append(lines[7])  # a duplicate id
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "note.txt").write_text("Council vote\n\nA plain note about the vote.", encoding="utf-8")
    plain = load_paths([tmp_path])
    spooled = load_paths([tmp_path], into=ArticleSpool(tmp_path))
    assert isinstance(spooled.articles, ArticleSpool)
    assert list(spooled.articles) == list(plain.articles) and len(plain.articles) == 20
    assert spooled.problems == plain.problems and len(plain.problems) == 2
    article_spool.close(spooled.articles)


def test_reading_a_large_export_holds_one_line_at_a_time(tmp_path: Path) -> None:
    export = tmp_path / "archive.jsonl"
    with export.open("w", encoding="utf-8") as handle:
        for a in _articles(60, size=40_000):  # 2.4M characters
            handle.write(json.dumps({"id": a.id, "text": a.text}) + "\n")
    tracemalloc.start()
    try:
        loaded = load_paths([export], into=ArticleSpool(tmp_path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(loaded.articles) == 60
    assert peak < 2_000_000  # a few lines' worth (one article is 160 KB as a string); all of them is 9.6 MB
    article_spool.close(loaded.articles)


class _Recorder:
    """A pool that runs nothing until asked, so the test sees what was submitted when."""

    def __init__(self) -> None:
        self.submitted: list[list[int]] = []

    def submit(self, fn: Any, rows: list[int]) -> Future[Any]:
        self.submitted.append(rows)
        future: Future[Any] = Future()
        future.set_result(fn(rows))
        return future


class _Counter:
    def count_tokens(self, texts: list[str]) -> list[int]:
        return [len(t.split()) for t in texts]


def test_the_splitter_runs_a_bounded_number_of_groups_ahead(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build, "SPLIT_GROUP_CHARS", 1)  # one article a group
    monkeypatch.setattr(build, "SPLIT_AHEAD", 3)
    articles = ArticleSpool(tmp_path, _articles(10))
    pool = _Recorder()
    ahead = build._SplitAhead(pool, articles, list(range(10)), _Counter())  # type: ignore[arg-type]
    assert pool.submitted == [[0], [1], [2]]
    for row in range(10):
        spans, counts = ahead.take(row)
        assert spans == build.split_sentences(articles[row].text) and len(counts) == len(spans)
        assert len(pool.submitted) == min(10, row + 4)  # never more than three groups waiting
    assert ahead.taken == 10


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[ArticleSpool]:
    """Every ArticleSpool made while the test runs."""
    spools: list[ArticleSpool] = []
    real = ArticleSpool.__init__

    def track(self: ArticleSpool, *args: Any, **kwargs: Any) -> None:
        real(self, *args, **kwargs)
        spools.append(self)

    monkeypatch.setattr(ArticleSpool, "__init__", track)
    return spools


def test_a_build_reads_its_articles_from_the_spool_and_removes_it(
    tmp_path: Path, fake_embedder: Any, made: list[ArticleSpool]
) -> None:
    export = tmp_path / "in" / "archive.jsonl"
    export.parent.mkdir()
    export.write_text("\n".join(json.dumps({"id": a.id, "title": a.title, "text": a.text}) for a in _articles(12)) + "\n")
    index_dir = tmp_path / "index"
    report = build.update_index(index_dir, [export], fake_embedder)
    assert report.added == 12 and report.total_articles == 12
    assert len(made) == 2  # what was read, and what the generation keeps
    assert all(spool._file is None for spool in made)  # both closed: their files are gone
    stored = load(index_dir)
    assert [a.text for a in stored.articles] == [a.text for a in _articles(12)]


def test_the_splitter_runs_in_a_real_thread(tmp_path: Path) -> None:
    with ThreadPoolExecutor(1) as pool:
        ahead = build._SplitAhead(pool, ArticleSpool(tmp_path, _articles(2)), [0, 1], _Counter())  # type: ignore[arg-type]
        assert [len(ahead.take(r)[0]) > 0 for r in (0, 1)] == [True, True]


def _built(tmp_path: Path, fake_embedder: Any, articles: list[Article]) -> Path:
    export = tmp_path / "in" / "archive.jsonl"
    export.parent.mkdir(exist_ok=True)
    export.write_text("\n".join(json.dumps({"id": a.id, "title": a.title, "text": a.text}) for a in articles) + "\n")
    index_dir = tmp_path / "index"
    build.update_index(index_dir, [export], fake_embedder)
    return index_dir


def test_a_rebuild_reads_the_old_texts_line_by_line_into_a_spool(tmp_path: Path, fake_embedder: Any) -> None:
    originals = _articles(12, size=40_000)  # 480k characters: 1.9 MB as Python strings, 3 MB of JSON
    index_dir = _built(tmp_path, fake_embedder, originals)
    old = load_for_rebuild(index_dir, spool_dir=index_dir)
    assert isinstance(old.articles, ArticleSpool)
    assert [a.text for a in old.articles] == [a.text for a in originals]
    assert old.hashes == load(index_dir).hashes
    article_spool.close(old.articles)
    _generation, folder, manifest = read_manifest_once(index_dir)
    spool = ArticleSpool(tmp_path)
    tracemalloc.start()
    try:
        read._read_articles(folder, manifest, lambda row: spool.append(Article(**row)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(spool) == 12 and peak < 900_000  # about one article's line at a time, not all of them
    spool.close()


def test_a_damaged_article_file_is_named_by_its_checksum_before_any_parse_error(tmp_path: Path, fake_embedder: Any) -> None:
    index_dir = _built(tmp_path, fake_embedder, _articles(5))
    path = next(index_dir.glob("gen-*/articles.jsonl"))
    raw = bytearray(path.read_bytes())
    raw[raw.index(b'"text"') + 1] = ord("{")  # the first line no longer parses
    path.write_bytes(bytes(raw))
    with pytest.raises(IndexCorruptError, match="articles.jsonl: checksum mismatch"):
        load_for_rebuild(index_dir)


def test_an_update_and_a_removal_close_every_spool(tmp_path: Path, fake_embedder: Any, made: list[ArticleSpool]) -> None:
    index_dir = _built(tmp_path, fake_embedder, _articles(6))
    more = tmp_path / "more.jsonl"
    more.write_text("\n".join(json.dumps({"id": a.id + "x", "text": a.text}) for a in _articles(3)) + "\n")
    made.clear()
    report = build.update_index(index_dir, [more], fake_embedder)
    assert report.added == 3 and report.total_articles == 9
    assert len(made) == 3  # what was read, the old generation, the new one (the catalogue check keeps ids only)
    assert build.remove_articles(index_dir, ["a0x", "a5"], fake_embedder) == (["a0x", "a5"], [])
    assert len(made) == 5  # and the old generation's texts, what the new one keeps
    assert all(spool._file is None for spool in made)
    assert [a.id for a in load(index_dir).articles] == ["a0", "a1", "a2", "a3", "a4", "a1x", "a2x"]
    assert [a.text for a in load(index_dir).articles][:5] == [a.text for a in _articles(5)]


def test_a_truncated_article_file_is_named_by_its_size_before_it_is_read(tmp_path: Path, fake_embedder: Any) -> None:
    index_dir = _built(tmp_path, fake_embedder, _articles(5))
    path = next(index_dir.glob("gen-*/articles.jsonl"))
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(IndexCorruptError, match=rf"articles.jsonl: size {len(whole) // 2} bytes, expected {len(whole)}"):
        load_for_rebuild(index_dir)


def test_a_re_index_that_changes_nothing_counts_the_index_and_closes_its_spools(
    tmp_path: Path, fake_embedder: Any, made: list[ArticleSpool]
) -> None:
    index_dir = _built(tmp_path, fake_embedder, _articles(6))
    first = load(index_dir)
    made.clear()
    report = build.update_index(index_dir, [tmp_path / "in" / "archive.jsonl"], fake_embedder)
    assert (report.unchanged, report.added, report.generation) == (6, 0, None)
    assert (report.total_articles, report.total_sentences) == (6, len(first.sentences))
    assert len(made) == 1 and all(spool._file is None for spool in made)  # what was read; the catalogue keeps ids only
