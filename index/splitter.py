"""Sentence splitting with exact character offsets into the original text.

pysbd does the splitting; a news-aware pass then mends what it gets wrong in news copy: breaks
inside a sentence (times with a time zone, "SACRAMENTO, Calif. —" datelines, titles such as
"Lt. Gen.", "Sept. 15", "No. 3", initials, a quotation followed by "Smith said.") are undone, and
missed breaks ("Albany, N.Y. She ...", a photo credit run into the next caption) are made. Every
rule looks at a bounded window around one break, so the pass stays linear in the text.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from index.plain_sentences import plain_pieces

MAX_SENTENCE_CHARS = 1000
"""Longer "sentences" (tables, unpunctuated dumps) are cut at white space into pieces this long."""
MAX_BLOCK_CHARS = 10_000
"""Paragraphs are fed to the splitter in blocks of at most this many characters (linear time)."""
MAX_DATELINE_CHARS = 60
"""A dateline ("SACRAMENTO, Calif.", "WASHINGTON (AP)") is at most this long."""

_PARAGRAPH = re.compile(r"\n[ \t\r\f\v]*\n\s*")
_WORD = re.compile(r"\w", re.UNICODE)
_TAIL = 40
"""How many characters before a break the rules look at."""

_STATES = (
    r"Ala|Ariz|Ark|Calif|Colo|Conn|Del|Fla|Ga|Ill|Ind|Kan|Kans|Ky|La|Md|Mass|Mich|Minn|Miss|Mo|Mont|Neb|Nev|"
    r"N\.H|N\.J|N\.M|N\.Y|N\.C|N\.D|Okla|Ore|Pa|R\.I|S\.C|S\.D|Tenn|Tex|Vt|Va|Wash|W\.Va|Wis|Wyo|D\.C"
)
_TITLES = (
    r"Gov|Govs|Sen|Sens|Rep|Reps|Lt|Gen|Gens|Dr|Drs|Mr|Mrs|Ms|Messrs|Prof|Sgt|Col|Capt|Maj|Adm|Cmdr|Cmdt|"
    r"Rev|Atty|Supt|Det|Insp|Cpl|Pvt|Spc|Hon|Msgr|Pres|Amb|Brig|Ft|Mt"
)
_MONTHS = r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
_STARTERS = (
    r"The|A|An|He|She|It|They|We|I|You|His|Her|Its|Their|Our|This|That|These|Those|There|But|And|"
    r"So|Yet|Still|Then|Now|In|On|At|After|Before|When|While|If|As|For|Police|Officials|Authorities"
)

_ENDS_WITH_TIME = re.compile(r"\b[ap]\.m\.$", re.I)
_DAY_OR_ZONE = re.compile(
    r"^(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|[A-Z][DS]?T\b|local\b|on\b|in\b|at\b"
    r"|(Eastern|Central|Mountain|Pacific|Atlantic|Alaska|Hawaii|Hawaii-Aleutian)"
    r"( (Standard|Daylight))? ([Tt]ime|ET|CT|MT|PT)\b|([A-Z][a-z]+ ){1,2}time\b"
    r"|GMT\b|UTC\b|BST\b|CET\b|CEST\b|ET\b|CT\b|MT\b|PT\b)"
)
_ENDS_WITH_TITLE = re.compile(rf"(?:^|[\s(\"“'‘])(?:{_TITLES})\.$")
_ENDS_WITH_MONTH = re.compile(rf"(?:^|[\s(])(?:{_MONTHS})\.$")
_ENDS_WITH_NUMBER_SIGN = re.compile(r"(?:^|[\s(])(?:No|Nos|Vol|Art|Sec|Ch|Fig|pp?)\.$")
_ENDS_WITH_INITIAL = re.compile(r"(?:^|\s)(?:[A-Z][a-z]+|[A-Z]\.)\s[A-Z]\.$")
_ENDS_WITH_STATE = re.compile(rf",\s(?:{_STATES})\.$")
_ENDS_WITH_LOUD_QUOTE = re.compile(r"[?!][\"”’']$")
_STARTS_WITH_SPEAKER = re.compile(
    r"^[A-Z][\w’'.-]*(?: [A-Z][\w’'.-]*){0,2},? (?:said|says|asked|asks|told|added|shouted|yelled|wrote|recalled"
    r"|replied|exclaimed|tweeted|posted)\b"
)
_STARTS_WITH_STARTER = re.compile(rf"^(?:{_STARTERS})\b")
_STARTS_CAPITAL = re.compile(r"^[\"“‘']?[A-Z]")
_STARTS_CONTINUING = re.compile(r"^[,;:)\]%]")
_STARTS_WITH_DASH = re.compile(r"^(?:[-–—―‒−]{1,2}|\()")
_DATELINE = re.compile(
    r"^[A-Z][A-Z.'’/-]*(?: [A-Z][A-Z.'’/-]*)*"  # SACRAMENTO, NEW YORK, DAMASCUS/JERUSALEM
    r"(?:, [A-Z][\w.’'-]*(?: [A-Z][\w.’'-]*)*\.?)?"  # , Calif. / , Ukraine / , Jan. 5
    r"(?: \d{1,2})?(?:,? \d{4})?"  # (day, year)
    r"(?: \([A-Za-z .&-]+\))?$"  # (AP)
)
_MISSED_BREAK = re.compile(
    rf"(?:,\s(?:{_STATES})|\b[a-z]+\s[A-Z]|\bU\.S)\.\s+(?=(?:{_STARTERS})\s)"  # "Albany, N.Y. She", "vitamin D. It"
    r"|(?<=/)(?:Getty Images|Reuters|AP|AFP|Bloomberg|EPA|Shutterstock|File)\s+(?=[A-Z][a-z])"  # a credit
)


@lru_cache(maxsize=1)
def _segmenter() -> Any:  # pysbd has no type hints
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Split ``text`` into sentences, as ``(start, end)`` offsets with ``text[start:end]`` stripped.

    Paragraph breaks (blank lines) always end a sentence. Pieces with no letter or digit are
    dropped, and overlong pieces are cut at white space.
    """
    spans: list[tuple[int, int]] = []
    for block_start, block_end in _blocks(text):
        block_spans: list[tuple[int, int]] = []
        block = text[block_start:block_end]
        cursor = 0
        for piece in plain_pieces(block) or _segmenter().segment(block):  # pysbd only where in doubt
            found = block.find(piece, cursor)
            if found < 0:  # the segmenter altered the text: fall back to the cursor
                found = cursor
            start, end = found, min(len(block), found + len(piece))
            cursor = end
            for s, e in _cut_long(block, start, end):
                s, e = _strip(block, s, e)
                if e > s and _WORD.search(block, s, e):
                    block_spans.append((block_start + s, block_start + e))
        spans.extend(_split_missed_breaks(text, _merge_false_breaks(text, block_spans)))
    return spans


def _merge_false_breaks(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Undo breaks the segmenter makes inside a sentence ("at 10 a.m. Tuesday", "... e.g. lower")."""
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged:
            prev_start, prev_end = merged[-1]
            if end - prev_start <= MAX_SENTENCE_CHARS and _false_break(
                text[max(prev_start, prev_end - _TAIL) : prev_end], text[start : start + _TAIL], prev_end - prev_start
            ):
                merged[-1] = (prev_start, end)
                continue
        merged.append((start, end))
    return merged


def _false_break(tail: str, head: str, prev_len: int) -> bool:
    """Whether a break between a piece ending in ``tail`` and one starting with ``head`` is wrong."""
    first = head[:1]
    if first.islower() or _STARTS_CONTINUING.match(head):
        return True
    if _ENDS_WITH_TIME.search(tail):
        return bool(_DAY_OR_ZONE.match(head))
    if _STARTS_WITH_DASH.match(head):  # "SACRAMENTO, Calif. — ...", "Tucson, Ariz. (AP) — ..."
        return prev_len <= MAX_DATELINE_CHARS and bool(_DATELINE.match(tail) or _ENDS_WITH_STATE.search(tail))
    if first.isdigit():
        return bool(_ENDS_WITH_MONTH.search(tail) or _ENDS_WITH_NUMBER_SIGN.search(tail))
    if not _STARTS_CAPITAL.match(head):
        return False
    if _ENDS_WITH_TITLE.search(tail):
        return True
    if _ENDS_WITH_LOUD_QUOTE.search(tail):  # '"Go home!" Smith shouted.'
        return bool(_STARTS_WITH_SPEAKER.match(head))
    return bool(_ENDS_WITH_INITIAL.search(tail)) and not _STARTS_WITH_STARTER.match(head)


def _split_missed_breaks(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Make breaks the segmenter misses ("Albany, N.Y. She ...", "Jane Doe/Reuters The next caption")."""
    out: list[tuple[int, int]] = []
    for start, end in spans:
        for match in _MISSED_BREAK.finditer(text, start, end):
            cut = match.end()
            s, e = _strip(text, start, cut)
            if e > s and cut < end:
                out.append((s, e))
                start = cut
        out.append(_strip(text, start, end))
    return out


def _blocks(text: str) -> list[tuple[int, int]]:
    """Paragraph spans, with long paragraphs cut at white space into bounded blocks."""
    blocks: list[tuple[int, int]] = []
    start = 0
    for match in _PARAGRAPH.finditer(text):
        blocks.extend(_cut_long(text, start, match.start(), MAX_BLOCK_CHARS))
        start = match.end()
    blocks.extend(_cut_long(text, start, len(text), MAX_BLOCK_CHARS))
    return [(s, e) for s, e in blocks if text[s:e].strip()]


def _cut_long(text: str, start: int, end: int, limit: int = MAX_SENTENCE_CHARS) -> list[tuple[int, int]]:
    pieces = []
    while end - start > limit:
        cut = text.rfind(" ", start + limit // 2, start + limit)
        if cut <= start:
            cut = start + limit
        pieces.append((start, cut))
        start = cut
    pieces.append((start, end))
    return pieces


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
