"""The real model over corpus/: facts of the seed article come back first, cited."""

from __future__ import annotations

import pytest

SEED = "seed/000_f3fbb2ab8ee31f47"

SEED_FACTS = [
    ("How many troops were withdrawn from Los Angeles?", "2,000 California National Guard troops have been withdrawn"),
    ("How many Guard and Marine forces remain in the Los Angeles area?", "roughly 2,700 Guard and Marine forces remain"),
    ("Who is the chief Pentagon spokesman?", "Chief Pentagon Spokesman Sean Parnell"),
    ("Who asked for 200 troops to be returned for wildfire preparation?", "Gen. Gregory Guillot requested"),
    ("How many personnel were deployed to Los Angeles last month?", "Nearly 4,700 National Guard"),
    ("Which governor worried about the state's capacity to respond to wildfires?", "Gov. Gavin Newsom"),
]


@pytest.mark.parametrize(("question", "expected"), SEED_FACTS)
def test_seed_facts_come_first(corpus_assistant, question: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    answer = corpus_assistant.ask(question, k=5)
    top = answer.sentences[0]
    assert top.article_id == SEED and expected in top.text, [s.text for s in answer.sentences]
    assert top.title.startswith("Pentagon withdraws 2,000 National Guard troops")
    assert answer.answered


def test_unanswerable_question_is_declined(corpus_assistant) -> None:  # type: ignore[no-untyped-def]
    answer = corpus_assistant.ask("What is the recipe for a traditional Neapolitan pizza dough?")
    assert answer.answered is False
    assert answer.confidence < 0.5


def test_follow_up_conversation(corpus_assistant) -> None:  # type: ignore[no-untyped-def]
    chat = corpus_assistant.conversation()
    first = chat.ask("How many troops were withdrawn from Los Angeles?")
    assert first.sentences[0].article_id == SEED
    ordered = chat.ask("Who ordered it?")
    assert any("Secretary has ordered" in s.text for s in ordered.sentences[:2]), [s.text for s in ordered.sentences]
    remain = chat.ask("And how many remain?")
    assert "2,700" in remain.sentences[0].text


def test_every_offset_is_exact(corpus_assistant) -> None:  # type: ignore[no-untyped-def]
    texts = {a.id: a.text for a in corpus_assistant.data.articles}
    for question in ("wildfire crews staffing shortage", "immigration court backlog", "National Guard Portland"):
        for sentence in corpus_assistant.ask(question, k=10).sentences:
            assert texts[sentence.article_id][sentence.start : sentence.end] == sentence.text
