"""The newsdesk command: exit codes, one-line errors, readable and JSON output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsdesk import cli


def test_empty_question_exits_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["ask", ""]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "question is empty" in err


def test_missing_index_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # no ./corpus here, so nothing is built
    assert cli.main(["ask", "anything", "--index", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert "no index at" in err and "Traceback" not in err


def test_usage_error_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["ask"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_index_then_ask_json(fake_cli, tiny_corpus: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    index_dir = tmp_path / "idx"
    assert fake_cli(["index", str(tiny_corpus), "--index", str(index_dir)]) == 0
    assert "5 added" in capsys.readouterr().err
    assert fake_cli(["ask", "How much did the bridge repairs cost?", "--index", str(index_dir), "--json", "-k", "2"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["question"] == "How much did the bridge repairs cost?"
    assert len(payload["sentences"]) == 2 and "$4.2 million" in payload["sentences"][0]["text"]


def test_readable_output_numbers_sentences_and_sources(fake_cli, tiny_index: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert fake_cli(["ask", "Who discovered the comet?", "--index", str(tiny_index), "-k", "2"]) == 0
    out = capsys.readouterr().out
    assert "[1] " in out and "[2] " in out and "Sources:" in out
    assert "Amateur astronomer spots new comet — Northern Star Tribune, 2024-11-02" in out


def test_index_reports_skipped_files(fake_cli, tmp_path: Path, tiny_corpus: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "good.txt").write_text("A title\n\nA body sentence about rain.\n")
    (folder / "bad.jsonl").write_text('{"text": "ok one"}\n{broken\n{"text": "ok two"}\n')
    assert fake_cli(["index", str(folder), "--index", str(tmp_path / "i")]) == 0
    err = capsys.readouterr().err
    assert "bad.jsonl:2:" in err and "3 added" in err


def test_no_articles_exits_2(fake_cli, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "x.csv").write_text("a")
    assert fake_cli(["index", str(tmp_path), "--index", str(tmp_path / "i")]) == 2
    assert "no articles found in" in capsys.readouterr().err


def test_ask_builds_from_corpus_when_no_index(fake_cli, tmp_path: Path, tiny_corpus: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    import shutil

    shutil.copytree(tiny_corpus, tmp_path / "corpus")
    monkeypatch.chdir(tmp_path)
    assert fake_cli(["ask", "Who discovered the comet?", "--json"]) == 0
    captured = capsys.readouterr()
    assert "building it from ./corpus" in captured.err
    assert json.loads(captured.out)["sentences"][0]["article_id"] == "comet-sighting"
    assert (tmp_path / ".newsdesk" / "CURRENT").is_file()


def test_bare_newsdesk_prints_the_help_and_succeeds(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Usage: newsdesk") and "ask" in out and "index" in out


def test_top_k_from_the_environment(fake_cli, tiny_corpus: Path, tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    index_dir = tmp_path / "idx"
    assert fake_cli(["index", str(tiny_corpus), "--index", str(index_dir)]) == 0
    capsys.readouterr()
    monkeypatch.setenv("NEWSDESK_TOP_K", "2")
    assert fake_cli(["ask", "How many firefighters were sent?", "--index", str(index_dir), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["sentences"]) == 2
    assert fake_cli(["ask", "How many firefighters were sent?", "--index", str(index_dir), "--json", "-k", "3"]) == 0
    assert len(json.loads(capsys.readouterr().out)["sentences"]) == 3
