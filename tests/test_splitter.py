"""Sentence splitting keeps exact offsets and does not break on abbreviations."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.ingest.articles import load_paths
from index.splitter import MAX_SENTENCE_CHARS, split_sentences

CORPUS = Path(__file__).resolve().parent.parent / "corpus"

SEED_HARD = (
    "According to reporting from ABC News, U.S. Northern Command leader Gen. Gregory Guillot requested "
    "that 200 troops be returned to assist with wildfire preparation."
)


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def test_abbreviations_stay_in_one_sentence() -> None:
    text = f"The drawdown began. {SEED_HARD} That request contributed to the decision."
    assert sentences(text) == [
        "The drawdown began.",
        SEED_HARD,
        "That request contributed to the decision.",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Gov. Gavin Newsom expressed concern. Officials said more.",
        "Unemployment fell to 3.5 percent in May. Economists were surprised.",
        "Dr. Maya Lee spoke at 9 a.m. Tuesday at St. Mary's. She left early.",
    ],
)
def test_common_hard_cases(text: str) -> None:
    got = sentences(text)
    assert len(got) == 2, got


def test_paragraph_break_ends_a_sentence() -> None:
    assert sentences("A headline without a period\n\nThe body starts here.") == [
        "A headline without a period",
        "The body starts here.",
    ]


def test_punctuation_only_pieces_are_dropped() -> None:
    assert sentences("First sentence.\n\n* * *\n\n---\n\nSecond sentence.") == ["First sentence.", "Second sentence."]


def test_unpunctuated_text_is_cut_at_white_space() -> None:
    text = " ".join(["word"] * 2000)
    spans = split_sentences(text)
    assert len(spans) > 1
    assert all(e - s <= MAX_SENTENCE_CHARS for s, e in spans)
    assert all(text[s:e].strip() == text[s:e] for s, e in spans)


def test_unicode_offsets_are_exact() -> None:
    text = "Café owners met “today”. 東京 reporters 🎉 arrived. Ze\u200bro width. e\u0301 stays."
    for s, e in split_sentences(text):
        assert text[s:e] == text[s:e].strip()
        assert text[s:e]


def test_every_corpus_sentence_maps_back_to_its_article() -> None:
    loaded = load_paths([CORPUS])
    assert len(loaded.articles) >= 25
    total = 0
    for article in loaded.articles:
        spans = split_sentences(article.text)
        assert spans, article.id
        last_end = 0
        for s, e in spans:
            piece = article.text[s:e]
            assert piece == piece.strip() and piece
            assert s >= last_end  # ordered, non-overlapping
            last_end = e
        total += len(spans)
    assert total > 300


def test_seed_hard_sentence_is_one_sentence_in_the_seed() -> None:
    seed = next(a for a in load_paths([CORPUS]).articles if a.id.startswith("seed/"))
    assert SEED_HARD in [seed.text[s:e] for s, e in split_sentences(seed.text)]
