"""The trained reader: encoding, span decoding, the shipped model's checks, and its use when answering."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from index.errors import ModelError
from qa import Assistant, Settings, ranker
from qa.reader import (
    MAX_SPAN_TOKENS,
    MAX_TOKENS,
    MODEL_FOLDER,
    Encoded,
    Reader,
    ReaderInput,
    _best_span,
    encode,
    load_tokenizer,
    shipped_reader,
)
from qa.render import PLAIN, UNDERLINE, answer_text
from qa.types import Answer, Sentence


@pytest.fixture(scope="module")
def tokenizer():  # type: ignore[no-untyped-def]
    return load_tokenizer()


def test_encode_places_question_sentence_and_context(tokenizer) -> None:  # type: ignore[no-untyped-def]
    item = ReaderInput("Who leads the agency?", "Jane Roe leads the agency.", "Agency news", "Before.", "After.")
    e = encode(tokenizer, item, span=(0, 8))
    first, stop = e.sentence_tokens
    assert e.ids[0] == tokenizer.token_to_id("[CLS]")
    assert e.ids[first - 1] == tokenizer.token_to_id("[SEP]") and e.ids[stop] == tokenizer.token_to_id("[SEP]")
    assert e.type_ids[:first] == [0] * first and set(e.type_ids[first:]) == {1}
    assert tokenizer.decode(e.ids[first:stop]) == "jane roe leads the agency."
    assert e.span_tokens is not None
    assert tokenizer.decode(e.ids[e.span_tokens[0] : e.span_tokens[1] + 1]) == "jane roe"


def test_encode_cuts_the_context_before_the_sentence(tokenizer) -> None:  # type: ignore[no-untyped-def]
    sentence = "The council approved the budget of 12 million dollars on Monday."
    item = ReaderInput("What did the council approve?", sentence, "Council", "word " * 200, "more " * 200)
    e = encode(tokenizer, item)
    assert len(e.ids) == MAX_TOKENS
    first, stop = e.sentence_tokens
    assert tokenizer.decode(e.ids[first:stop]) == sentence.lower()
    long = encode(tokenizer, ReaderInput("Why?", "word " * 300))
    assert len(long.ids) <= MAX_TOKENS and long.sentence_tokens[1] <= MAX_TOKENS - 1


def test_best_span_stays_inside_the_sentence_and_is_bounded() -> None:
    offsets = [(i * 5, i * 5 + 4) for i in range(40)]
    e = Encoded(ids=[0] * 45, type_ids=[0] * 45, sentence_tokens=(3, 43), offsets=offsets)
    start, end = np.zeros(45), np.zeros(45)
    start[0], end[44] = 100.0, 100.0  # outside the sentence: never chosen
    start[5], end[8] = 5.0, 5.0
    assert _best_span(e, start, end) == ((offsets[2][0], offsets[5][1]), 10.0)
    start[:], end[:] = 0.0, 0.0
    start[3], end[42] = 5.0, 5.0  # a phrase longer than MAX_SPAN_TOKENS is not allowed
    (s, t), _ = _best_span(e, start, end)  # type: ignore[misc]
    assert (t - s) <= MAX_SPAN_TOKENS * 5


def test_damaged_or_missing_reader_is_a_clear_model_error(tmp_path: Path) -> None:
    copy = tmp_path / "models"
    shutil.copytree(MODEL_FOLDER, copy)
    meta = json.loads((copy / "reader.json").read_text())
    model = copy / meta["file"]
    blob = bytearray(model.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    model.write_bytes(bytes(blob))
    with pytest.raises(ModelError, match="checksum mismatch"):
        Reader(copy)
    model.unlink()
    with pytest.raises(ModelError, match="missing or unreadable"):
        Reader(copy)


def test_shipped_reader_prefers_the_answering_sentence_and_marks_the_phrase() -> None:
    reader = shipped_reader()
    question = "How many troops remain in the Los Angeles area?"
    answer = "Roughly 2,700 Guard and Marine forces remain stationed in the Los Angeles area."
    items = [
        ReaderInput(question, "The Pentagon spokesman spoke to reporters on Tuesday.", "Troops leave Los Angeles"),
        ReaderInput(question, answer, "Troops leave Los Angeles"),
        ReaderInput(question, "Protests in Los Angeles began in June after immigration raids.", "Troops leave"),
    ]
    reading = reader.read(items)
    assert int(np.argmax(reading.relevance)) == 1
    span = reading.spans[1]
    assert span is not None and "2,700" in answer[span[0] : span[1]]


def test_a_sentence_reads_the_same_whatever_is_read_with_it() -> None:
    question = "Who won the election in the district?"
    items = [
        ReaderInput(question, f"Candidate {n} {'spoke at length about the campaign ' * (n % 4)}won {n * 7} votes.", "Election")
        for n in range(7)
    ]
    one, two = Reader(threads=1).read(items), Reader(threads=2).read(items)
    alone = [shipped_reader().read([item]) for item in items]
    assert one.relevance.tolist() == two.relevance.tolist() == [float(a.relevance[0]) for a in alone]
    assert one.spans == two.spans == [a.spans[0] for a in alone]
    assert one.span_scores.tolist() == two.span_scores.tolist() == [float(a.span_scores[0]) for a in alone]


def test_assistant_sets_spans_inside_the_sentence(tiny_index: Path, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    assistant = Assistant.open(tiny_index, embedder=fake_embedder)
    assert assistant.reader is not None
    answer = assistant.ask("How many firefighters were sent?")
    texts = {a.id: a.text for a in assistant.data.articles}
    marked = [s for s in answer.sentences if s.span_start is not None]
    assert marked, "the reader marks a phrase in at least the first sentence"
    for s in marked:
        assert s.span_end is not None
        assert s.start <= s.span_start < s.span_end <= s.end
        assert texts[s.article_id][s.span_start : s.span_end].strip()
    data = json.loads(answer.model_dump_json())
    assert {"span_start", "span_end"} <= set(data["sentences"][0])


def test_reader_off_restores_the_feature_ranker(tiny_index: Path, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    off = Assistant.open(tiny_index, embedder=fake_embedder, settings=Settings(index=tiny_index, reader=False))
    assert off.reader is None
    answer = off.ask("How many firefighters were sent?")
    assert all(s.span_start is None for s in answer.sentences)
    assert "span_start" not in json.loads(answer.model_dump_json())["sentences"][0]


def _sentence(text: str, start: int, span: tuple[int, int] | None) -> Sentence:
    return Sentence(
        text=text, article_id="a", title="T", source=None, published=None, url=None, start=start,
        end=start + len(text), score=0.9, span_start=span[0] if span else None, span_end=span[1] if span else None,
    )


def test_plain_answer_names_the_phrase_and_marks_it_on_a_terminal() -> None:
    sentence = _sentence("About 2,700 troops \x1b[2J remain.", 100, (106, 118))
    answer = Answer(question="How many?", answered=True, confidence=0.8, sentences=[sentence])
    plain = answer_text(answer, PLAIN)
    assert plain.splitlines()[0] == "Answer: 2,700 troops [1] (confidence 0.80)"
    assert "[1] About 2,700 troops \\x1b[2J remain." in plain
    marked = answer_text(answer, UNDERLINE)
    assert f"{UNDERLINE[0]}2,700 troops{UNDERLINE[1]}" in marked
    assert "\x1b[2J" not in marked  # article text stays data, only our own marks are codes
    declined = answer_text(answer.model_copy(update={"answered": False}))
    assert declined.startswith("Not found in the articles.")


def test_syndicated_copies_are_read_once_and_keep_their_own_offsets(tmp_path: Path, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    from index.build import update_index

    story = (
        "Filler about the weather and the roads comes first in this wire story.\n\n"
        "The county hired 45 new paramedics this spring to shorten ambulance waits."
    )
    rows = [
        {"id": "a", "title": "Paramedics hired", "text": story, "source": "Wire One", "published": "2025-01-02"},
        {"id": "b", "title": "Paramedics hired", "text": "Local lead.\n\n" + story, "source": "Wire Two",
         "published": "2025-01-03"},
    ]
    (tmp_path / "wire.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    update_index(tmp_path / "idx", [tmp_path / "wire.jsonl"], fake_embedder)
    assistant = Assistant.open(tmp_path / "idx", embedder=fake_embedder)
    answer = assistant.ask("How many paramedics did the county hire?")
    first = answer.sentences[0]
    assert "45 new paramedics" in first.text and first.also_in and len(first.also_in) == 1
    assert [s.text for s in answer.sentences].count(first.text) == 1
    text = next(a.text for a in assistant.data.articles if a.id == first.article_id)
    assert first.span_start is not None and first.span_end is not None
    assert "45" in text[first.span_start : first.span_end]


def test_reader_weights_of_another_version_are_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from qa import ranker

    raw = json.loads(ranker.WEIGHTS_FILE.read_text(encoding="utf-8"))
    raw["reader"]["sentence"] = raw["reader"]["sentence"][:-1]
    bad = tmp_path / "weights.json"
    bad.write_text(json.dumps(raw), encoding="utf-8")
    monkeypatch.setattr(ranker, "WEIGHTS_FILE", bad)
    ranker.model.cache_clear()
    try:
        with pytest.raises(ModelError, match="do not match this version"):
            ranker.model()
    finally:
        monkeypatch.undo()
        ranker.model.cache_clear()
    assert ranker.model().reader is not None


def test_confidence_reads_how_close_any_candidate_comes(tiny_index: Path, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    assistant = Assistant.open(tiny_index, embedder=fake_embedder)
    question = "How many firefighters were sent?"
    found = assistant.answerable(assistant.retriever.candidates(assistant.retriever.prepare(question)))
    ranked = assistant.rank(question, found)
    assert ranked.best_cos == pytest.approx(float(found.features[:, ranker.FEATURES.index("cos")].max()))
    features = ranker.reader_confidence_features(
        np.array([2.0, 1.0]), np.array([1.5, 0.5]), ranked.evidence, np.array([40.0, 20.0]), ranked.best_cos
    )
    assert len(features) == len(ranker.READER_CONFIDENCE_FEATURES)
    assert features[ranker.READER_CONFIDENCE_FEATURES.index("best_cos")] == ranked.best_cos
