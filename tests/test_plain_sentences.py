"""The fast path past pysbd: it cuts only paragraphs whose sentence ends are beyond doubt, and
cuts them exactly where pysbd does."""

from __future__ import annotations

import re

import pysbd
import pytest

from index.plain_sentences import plain_pieces

_WORD = re.compile(r"\w")

PLAIN = [
    "The council voted 7-2 on Tuesday to close the plant. Residents had asked for a delay.",
    "Prices rose 3.5% in March. Economists had expected less. The central bank meets next week.",
    "Officials said 2019 was the worst year on record. In 2020 the numbers fell.",
    "Did the plan work? Nobody at the ministry would say! The report comes out in June.",
    '“We will rebuild,” the mayor said. Crews began clearing debris at dawn.',
    'The senator called the bill "a disgrace" and left the chamber. The vote went ahead anyway.',
    "Fresno broke its heat record on Sunday. The previous record was set in 1961.",
    "NATO leaders met in Brussels. Their statement did not mention Ukraine.",
    "The storm knocked out power to 40,000 homes across the region",
    "One sentence only, with a comma, and no stop at all",
    "Rescuers reached the village by boat.",
]

DOUBTFUL = [
    "Gov. Gavin Newsom signed the bill. It takes effect in July.",  # title abbreviation
    "The U.S. economy grew. Jobs data come out Friday.",  # U.S.
    "He arrived at 6:50 a.m. Central time. The flight was delayed.",  # a.m.
    "John F. Kennedy was shot in Dallas. The nation mourned.",  # an initial
    "The vote is set for Jan. 5. Lawmakers return Monday.",  # a month abbreviation
    "She said (in a statement) that she would resign. The board agreed.",  # brackets
    '"We are done. It is over," he said. Then he left.',  # a stop inside a quotation
    "1. Covid-19 cases rose. 2. Flu cases fell.",  # a numbered list
    "The FBI. The CIA. Both declined to comment.",  # short acronyms
    "Line one\nline two. And more.",  # a line break
    "He wrote 'never again.' Then he stopped.",  # single quotes
    'The film "Dilemma" Green Day. Written by Billie Joe Armstrong.',  # a capital after a closing quote
    "東京都は月曜日に新しい条例を発表した。条例は四月に施行される。",  # full-width stops
]


def _pysbd(block: str) -> list[str]:
    pieces = pysbd.Segmenter(language="en", clean=False).segment(block)
    return [p.strip() for p in pieces if _WORD.search(p)]


@pytest.mark.parametrize("block", PLAIN)
def test_plain_paragraphs_are_cut_where_pysbd_cuts_them(block: str) -> None:
    pieces = plain_pieces(block)
    assert pieces is not None
    assert "".join(pieces) == block
    assert [p.strip() for p in pieces if _WORD.search(p)] == _pysbd(block)


@pytest.mark.parametrize("block", DOUBTFUL)
def test_doubtful_paragraphs_are_left_to_pysbd(block: str) -> None:
    assert plain_pieces(block) is None


def test_a_trailing_quote_and_white_space_stay_with_the_last_sentence() -> None:
    block = 'Crews worked all night. "It is done."  '
    assert plain_pieces(block) == ["Crews worked all night. ", '"It is done."  ']
