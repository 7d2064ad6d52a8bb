"""--source, --since and --until restrict every returned sentence, before ranking."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from index.build import update_index
from index.errors import QuestionError
from qa import Assistant

DATA = Path(__file__).resolve().parent / "data"
QUESTION = "What percent of capacity did the Cedar Creek reservoir stand at?"
LEVELS = {"Valley Times": "41 percent", "Metro Ledger": "63 percent", "Delta Post": "88 percent"}


@pytest.fixture
def news_index(tmp_path: Path, fake_embedder) -> Path:  # type: ignore[no-untyped-def]
    index_dir = tmp_path / "idx"
    update_index(index_dir, [DATA / "pages", DATA / "feeds"], fake_embedder)
    return index_dir


@pytest.fixture
def assistant(news_index: Path, fake_embedder) -> Assistant:  # type: ignore[no-untyped-def]
    return Assistant.open(news_index, embedder=fake_embedder)


def day(sentence) -> date:  # type: ignore[no-untyped-def]
    return date.fromisoformat(sentence.published[:10])


def test_unfiltered_question_sees_all_three_levels(assistant: Assistant) -> None:
    texts = " ".join(s.text for s in assistant.ask(QUESTION, k=5).sentences)
    assert all(level in texts for level in LEVELS.values())


@pytest.mark.parametrize("outlet", sorted(LEVELS))
def test_source_restricts_every_sentence_and_finds_its_answer(assistant: Assistant, outlet: str) -> None:
    answer = assistant.ask(QUESTION, k=5, sources=[outlet.upper()])  # outlet names match ignoring case
    assert answer.sentences and all(s.source == outlet for s in answer.sentences)
    assert LEVELS[outlet] in answer.sentences[0].text


def test_several_sources(assistant: Assistant) -> None:
    answer = assistant.ask(QUESTION, k=10, sources=["Delta Post", "Metro Ledger"])
    assert {s.source for s in answer.sentences} <= {"Delta Post", "Metro Ledger"}
    assert "41 percent" not in " ".join(s.text for s in answer.sentences)


def test_since_restricts_every_sentence(assistant: Assistant) -> None:
    answer = assistant.ask(QUESTION, k=5, since="2025-04-15")
    assert answer.sentences and all(day(s) >= date(2025, 4, 15) for s in answer.sentences)
    assert "88 percent" in answer.sentences[0].text


def test_until_restricts_every_sentence(assistant: Assistant) -> None:
    answer = assistant.ask(QUESTION, k=5, until=date(2025, 2, 1))
    assert answer.sentences and all(day(s) <= date(2025, 2, 1) for s in answer.sentences)
    assert "41 percent" in answer.sentences[0].text


def test_since_and_until_together_are_inclusive(assistant: Assistant) -> None:
    answer = assistant.ask(QUESTION, k=5, since="2025-03-20", until="2025-03-20T23:00:00Z")
    assert answer.sentences and all(day(s) == date(2025, 3, 20) for s in answer.sentences)
    assert "63 percent" in answer.sentences[0].text


def test_filtered_question_still_gets_k_sentences(assistant: Assistant) -> None:
    """Filtering happens before ranking: an outlet with 7 sentences yields k = 6 of them."""
    total = sum(
        1 for row in range(len(assistant.data.sentences))
        if assistant.data.articles[int(assistant.data.sentences[row, 0])].source == "Metro Ledger"
    )
    assert total >= 6
    answer = assistant.ask("Did the ferry strike end?", k=6, sources=["Metro Ledger"])
    assert len(answer.sentences) == 6 and all(s.source == "Metro Ledger" for s in answer.sentences)


def test_undated_articles_are_left_out_by_date_filters(assistant: Assistant) -> None:
    question = "Who appealed the outdoor seating permit denial?"
    assert "Riverbend" in assistant.ask(question, k=3).sentences[0].text
    dated = assistant.ask(question, k=10, since="2000-01-01")
    assert all(s.published for s in dated.sentences) and all("Riverbend" not in s.text for s in dated.sentences)


def test_no_match_gives_an_empty_declined_answer(assistant: Assistant) -> None:
    answer = assistant.ask(QUESTION, sources=["Nonexistent Outlet"])
    assert answer.sentences == [] and answer.answered is False


def test_conversation_takes_the_same_filters(assistant: Assistant) -> None:
    chat = assistant.conversation()
    first = chat.ask(QUESTION, k=3, sources=["Metro Ledger"])
    assert "63 percent" in first.sentences[0].text
    follow = chat.ask("And in May?", k=3, since="2025-05-01")
    assert all(day(s) >= date(2025, 5, 1) for s in follow.sentences)


def test_invalid_date_is_a_question_error(assistant: Assistant) -> None:
    with pytest.raises(QuestionError, match="--since 'last week' is not a date"):
        assistant.ask(QUESTION, since="last week")


def test_cli_filters_end_to_end(fake_cli, news_index: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    base = ["ask", QUESTION, "--index", str(news_index), "--json", "-k", "4"]
    assert fake_cli([*base, "--source", "Delta Post", "--source", "Valley Times", "--until", "2025-04-30"]) == 0
    sentences = json.loads(capsys.readouterr().out)["sentences"]
    assert sentences and all(s["source"] == "Valley Times" for s in sentences)
    assert "41 percent" in sentences[0]["text"]
    assert fake_cli([*base, "--since", "2025-03-01", "--until", "2025-03-31"]) == 0
    sentences = json.loads(capsys.readouterr().out)["sentences"]
    assert "63 percent" in sentences[0]["text"] and all(s["published"].startswith("2025-03") for s in sentences)


@pytest.mark.parametrize("flag", ["--since", "--until"])
def test_cli_invalid_date_exits_2_with_one_line(fake_cli, news_index: Path, capsys, flag: str) -> None:  # type: ignore[no-untyped-def]
    assert fake_cli(["ask", QUESTION, "--index", str(news_index), flag, "2025-13-45"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{flag} '2025-13-45' is not a date" in err and "Traceback" not in err
