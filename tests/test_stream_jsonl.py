"""A JSONL archive export of any size is read line by line; the size limit applies per article."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.ingest import articles as loaders
from index.ingest.articles import load_paths


@pytest.fixture
def small_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loaders, "MAX_FILE_BYTES", 2_000)
    monkeypatch.setattr(loaders, "MAX_RECORD_BYTES", 300)
    monkeypatch.setattr(loaders, "_READ_BLOCK", 64)


def _record(n: int) -> str:
    return json.dumps({"id": f"a{n}", "title": f"Story {n}", "text": f"Council vote number {n} passed on Tuesday."})


def test_a_file_over_the_file_limit_is_read_whole(small_limits: None, tmp_path: Path) -> None:
    export = tmp_path / "archive.jsonl"
    export.write_text("\ufeff" + "\n".join(_record(n) for n in range(100)) + "\n", encoding="utf-8")
    assert export.stat().st_size > loaders.MAX_FILE_BYTES
    result = load_paths([export])
    assert [a.id for a in result.articles] == [f"a{n}" for n in range(100)]
    assert result.problems == []


def test_an_oversized_line_is_skipped_and_named_and_the_next_lines_kept(small_limits: None, tmp_path: Path) -> None:
    export = tmp_path / "archive.jsonl"
    huge = json.dumps({"id": "huge", "text": "word " * 500})
    export.write_text("\n".join([_record(1), huge, _record(3), "{broken", _record(5)]) + "\n", encoding="utf-8")
    result = load_paths([export])
    assert [a.id for a in result.articles] == ["a1", "a3", "a5"]
    reasons = {p.where.removeprefix(str(export)): p.reason for p in result.problems}
    assert reasons[":2"] == "line over the 300-byte limit; skipped"
    assert reasons[":4:2"].startswith("invalid JSON")  # line numbers stay right after a skipped line


def test_ids_without_an_id_field_keep_their_line_numbers(small_limits: None, tmp_path: Path) -> None:
    export = tmp_path / "wire.jsonl"
    lines = [json.dumps({"text": f"Line {n} says something."}) for n in range(1, 4)]
    export.write_text(lines[0] + "\n\n" + lines[1] + "\r\n" + lines[2], encoding="utf-8")
    assert [a.id for a in load_paths([export]).articles] == ["wire#1", "wire#3", "wire#4"]


def test_a_line_that_is_not_utf8_is_read_as_windows_1252_with_a_note(tmp_path: Path) -> None:
    export = tmp_path / "old.jsonl"
    export.write_bytes(b'{"id": "cafe", "text": "The caf\xe9 closed."}\n')
    result = load_paths([export])
    assert result.articles[0].text == "The café closed."
    assert [(p.reason, p.skipped) for p in result.problems] == [
        ("invalid UTF-8 at byte 31 of the line; read as Windows-1252", False)
    ]


def test_other_file_types_keep_the_whole_file_limit(small_limits: None, tmp_path: Path) -> None:
    page = tmp_path / "big.json"
    page.write_text(json.dumps([json.loads(_record(n)) for n in range(60)]), encoding="utf-8")
    result = load_paths([page])
    assert result.articles == [] and "over the 2,000-byte limit; skipped unread" in result.problems[0].reason
