"""Per-article term statistics come from the stored BM25 postings, not from re-reading articles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.build import update_index
from index.lexical import LexicalIndex, terms
from qa import Assistant


def test_rows_with_is_the_postings_list_of_each_term() -> None:
    texts = ["The council voted on the budget.", "Budget cuts hit 2,000 schools.", "", "The council met on Tuesday."]
    lexical = LexicalIndex.build(texts)
    vocabulary = {t for text in texts for t in terms(text)}
    for term in vocabulary:
        assert lexical.rows_with(term).tolist() == [i for i, text in enumerate(texts) if term in terms(text)]
    assert lexical.rows_with("absent-term").tolist() == []


def test_question_time_work_does_not_grow_with_article_length(
    tmp_path: Path, fake_embedder, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    filler = " ".join(f"Paragraph {n} of the minutes lists item {n} among routine business." for n in range(400))
    article = {"id": "minutes", "title": "Council minutes", "text": "The council approved the harbor budget. " + filler}
    (tmp_path / "a.jsonl").write_text(json.dumps(article) + "\n", encoding="utf-8")
    update_index(tmp_path / "idx", [tmp_path / "a.jsonl"], fake_embedder)
    assistant = Assistant.open(tmp_path / "idx", embedder=fake_embedder)
    assert len(assistant.data.sentences) >= 400
    calls = []
    import qa.retriever

    real = qa.retriever.terms
    monkeypatch.setattr(qa.retriever, "terms", lambda text: calls.append(text) or real(text))
    answer = assistant.ask("What did the council approve?", k=3)
    assert answer.sentences[0].text.startswith("The council approved the harbor budget.")
    assert len(calls) < 250  # candidates and their neighbours, not all 400+ sentences of the article
