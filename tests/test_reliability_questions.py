"""Hostile questions: empty, white space, over the limit, not text, control characters, bad k --
a clear error (QuestionError, also a ValueError) in the library and exit 2 with one line in the CLI.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FakeEmbedder

from index.errors import QuestionError
from newsdesk.cli import main
from qa import Assistant
from qa.assistant import MAX_QUESTION_CHARS

BAD = [
    ("", "the question is empty"),
    (" \t\n ", "the question is empty"),
    ("x" * (MAX_QUESTION_CHARS + 1), f"the question is {MAX_QUESTION_CHARS + 1:,} characters; the limit is 2,000"),
    ("a" * 1_000_000, "the question is 1,000,000 characters; the limit is 2,000"),
    ("Who \x1b[2Jwon?", "contains a control character U+001B at position 4"),
    ("Who\x00 won?", "contains a control character U+0000 at position 3"),
    ("Who \x9b won?", "contains a control character U+009B"),
    ("Who \udcff won?", "contains a lone surrogate (not valid text) U+DCFF"),
]


@pytest.mark.parametrize(("question", "message"), BAD, ids=[m[:30] for _q, m in BAD])
def test_bad_questions_raise_a_clear_error(tiny_assistant: Assistant, question: str, message: str) -> None:
    with pytest.raises(QuestionError, match=re.escape(message)):
        tiny_assistant.ask(question)
    with pytest.raises(ValueError):
        tiny_assistant.conversation().ask(question)


@pytest.mark.parametrize("question", [None, 42, b"bytes", ["list"]])
def test_non_text_questions(tiny_assistant: Assistant, question: object) -> None:
    with pytest.raises(QuestionError, match="the question must be text, got"):
        tiny_assistant.ask(question)  # type: ignore[arg-type]


def test_tabs_and_newlines_are_fine(tiny_assistant: Assistant) -> None:
    assert tiny_assistant.ask("When did the\tbridge\r\nreopen?").sentences


@pytest.mark.parametrize("k", [0, -1, True, 2.5])
def test_k_must_be_a_positive_whole_number(tiny_assistant: Assistant, k: object) -> None:
    with pytest.raises(QuestionError, match="k must be a positive whole number"):
        tiny_assistant.ask("bridge", k=k)  # type: ignore[arg-type]


def test_k_over_the_index_size_returns_fewer_real_sentences(tiny_assistant: Assistant) -> None:
    answer = tiny_assistant.ask("bridge repairs", k=100)
    total = len(tiny_assistant.data.sentences)
    assert 0 < len(answer.sentences) <= total
    texts = {a.id: a.text for a in tiny_assistant.data.articles}
    spans = {(s.article_id, s.start, s.end) for s in answer.sentences}
    assert len(spans) == len(answer.sentences)  # no row repeated (FAISS -1 never became row -1)
    assert all(texts[s.article_id][s.start : s.end] == s.text for s in answer.sentences)


@pytest.mark.parametrize(("question", "message"), BAD[:3] + BAD[4:5], ids=["empty", "blank", "long", "control"])
def test_cli_exits_2_with_one_line(
    install_embedder,
    tiny_index: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], question: str, message: str
) -> None:
    install_embedder(FakeEmbedder())
    assert main(["ask", question, "--index", str(tiny_index)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def _stdin(monkeypatch: pytest.MonkeyPatch, payload: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(payload), encoding="utf-8"))


def test_cli_reads_a_question_from_stdin(
    install_embedder,
    tiny_index: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    install_embedder(FakeEmbedder())
    _stdin(monkeypatch, b"How much did the bridge repairs cost?\n")
    assert main(["ask", "-", "--index", str(tiny_index), "--json"]) == 0
    assert "$4.2 million" in capsys.readouterr().out
    _stdin(monkeypatch, b"caf\xe9?")
    assert main(["ask", "-", "--index", str(tiny_index)]) == 2
    assert "standard input is not UTF-8 text (byte 3)" in capsys.readouterr().err
    _stdin(monkeypatch, "é".encode() * (MAX_QUESTION_CHARS + 1))
    assert main(["ask", "-", "--index", str(tiny_index)]) == 2
    assert "over the limit of 2,000 characters" in capsys.readouterr().err


def test_a_1mb_question_on_stdin_exits_2_in_a_real_process(tmp_path: Path) -> None:
    """argv cannot carry 1 MB on Linux (128 KiB per argument), so the big question goes through stdin."""
    newsdesk = Path(sys.executable).parent / "newsdesk"
    if not newsdesk.exists():
        pytest.skip("the newsdesk script is not installed")
    done = subprocess.run(
        [str(newsdesk), "ask", "-", "--index", str(tmp_path / "none")],
        input=b"a" * 1_000_000,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.decode() == "newsdesk: the question on standard input is over the limit of 2,000 characters\n"
    big = subprocess.run(
        [str(newsdesk), "ask", "b" * 100_000, "--index", str(tmp_path / "none")], capture_output=True, timeout=60
    )
    assert big.returncode == 2 and b"the question is 100,000 characters; the limit is 2,000" in big.stderr
