"""Answering with the fake embedder: citations, k, abstention, conversations, bad questions."""

from __future__ import annotations

import json

import pytest

from qa import Answer, Assistant, QuestionError
from qa.assistant import MAX_QUESTION_CHARS, is_follow_up


def test_answer_cites_exact_offsets(tiny_assistant: Assistant) -> None:
    answer = tiny_assistant.ask("How much did the bridge repairs cost?", k=3)
    assert isinstance(answer, Answer)
    assert 1 <= len(answer.sentences) <= 3
    top = answer.sentences[0]
    assert "$4.2 million" in top.text
    assert top.article_id == "harbor-bridge" and top.title == "Harbor bridge reopens after repairs"
    texts = {a.id: a.text for a in tiny_assistant.data.articles}
    for sentence in answer.sentences:
        assert texts[sentence.article_id][sentence.start : sentence.end] == sentence.text
        assert 0.0 <= sentence.score <= 1.0
    scores = [s.score for s in answer.sentences]
    assert scores == sorted(scores, reverse=True)
    assert 0.0 <= answer.confidence <= 1.0


def test_metadata_is_carried(tiny_assistant: Assistant) -> None:
    top = tiny_assistant.ask("Who discovered the comet?").sentences[0]
    assert (top.source, top.published, top.url) == ("Northern Star Tribune", "2024-11-02", "https://nst.example/comet")


def test_json_shape_matches_the_interface(tiny_assistant: Assistant) -> None:
    payload = json.loads(tiny_assistant.ask("stadium tax vote margin", k=2).model_dump_json())
    assert set(payload) == {"question", "answered", "confidence", "sentences"}
    assert set(payload["sentences"][0]) >= {
        "text", "article_id", "title", "source", "published", "url", "start", "end", "score"
    }


def test_k_limits_and_validation(tiny_assistant: Assistant) -> None:
    assert len(tiny_assistant.ask("library", k=1).sentences) == 1
    assert len(tiny_assistant.ask("library hours saturday", k=100).sentences) <= 100
    with pytest.raises(QuestionError):
        tiny_assistant.ask("library", k=0)


def test_unrelated_question_is_declined(tiny_assistant: Assistant) -> None:
    answer = tiny_assistant.ask("What is the boiling point of mercury in Kelvin?")
    assert answer.answered is False


@pytest.mark.parametrize("bad", ["", "   \n\t", "x" * (MAX_QUESTION_CHARS + 1), None, 42])
def test_bad_questions_raise_question_error(tiny_assistant: Assistant, bad: object) -> None:
    with pytest.raises(QuestionError):
        tiny_assistant.ask(bad)  # type: ignore[arg-type]


def test_filters_restrict_before_ranking(tiny_assistant: Assistant) -> None:
    answer = tiny_assistant.ask("vote", k=5, sources=["Valley Courier"])
    assert answer.sentences and {s.source for s in answer.sentences} == {"Valley Courier"}
    dated = tiny_assistant.ask("vote", k=5, since="2025-06-01")
    assert dated.sentences and all(s.published and s.published[:10] >= "2025-06-01" for s in dated.sentences)
    with pytest.raises(QuestionError, match="not a date"):
        tiny_assistant.ask("vote", since="last week")


def test_follow_up_detection() -> None:
    assert is_follow_up("Who ordered it?")
    assert is_follow_up("And how many remain?")
    assert not is_follow_up("How many troops were withdrawn from Los Angeles?")


def test_conversation_uses_the_earlier_turn(tiny_assistant: Assistant) -> None:
    chat = tiny_assistant.conversation()
    chat.ask("When do the new library hours start?")
    follow = chat.ask("How much will it cost?")
    assert follow.sentences[0].article_id == "library-hours"
    assert "$180,000" in follow.sentences[0].text
    chat.reset()
    assert chat.turns == []


def test_a_resumed_conversation_keeps_what_ask_kept(tiny_assistant: Assistant) -> None:
    asked = tiny_assistant.conversation()
    questions = ["When do the new library hours start?", "How much will it cost?", "And who pays for it?"]
    answers = [asked.ask(q) for q in questions]
    resumed = tiny_assistant.conversation()
    for question, answer in zip(questions, answers, strict=True):
        resumed.resume(question, answer)
    assert resumed.turns == asked.turns, "a follow-up to a follow-up keeps the first question's topic"
    assert resumed.ask("When does it start?") == asked.ask("When does it start?")


def test_filters_work_on_an_ivf_index(tiny_assistant: Assistant) -> None:
    """Large indexes are IVF, whose searches need IVF search parameters for the filter."""
    import faiss
    import numpy as np

    from index.store.vectors import FaissVectors

    flat = tiny_assistant.data.sentence_vectors
    vectors = flat.all()
    ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(flat.dim), flat.dim, 2, faiss.METRIC_INNER_PRODUCT)
    ivf.train(np.ascontiguousarray(vectors))
    ivf.add(np.ascontiguousarray(vectors))
    ivf.make_direct_map()
    ivf.nprobe = 2
    tiny_assistant.data.sentence_vectors = FaissVectors(ivf)
    answer = tiny_assistant.ask("vote", k=3, sources=["Gulf Coast Herald"])
    assert answer.sentences and {s.source for s in answer.sentences} == {"Gulf Coast Herald"}
