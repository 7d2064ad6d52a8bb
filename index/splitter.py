"""Sentence splitting with exact character offsets into the original text."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

MAX_SENTENCE_CHARS = 1000
"""Longer "sentences" (tables, unpunctuated dumps) are cut at white space into pieces this long."""
MAX_BLOCK_CHARS = 10_000
"""Paragraphs are fed to the splitter in blocks of at most this many characters (linear time)."""

_PARAGRAPH = re.compile(r"\n[ \t\r\f\v]*\n\s*")
_WORD = re.compile(r"\w", re.UNICODE)
_ENDS_WITH_TIME = re.compile(r"\b[ap]\.m\.$", re.I)
_DAY_OR_ZONE = re.compile(
    r"^(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|[A-Z][DS]?T\b|local\b|on\b|in\b|at\b)"
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
        for piece in _segmenter().segment(block):
            found = block.find(piece, cursor)
            if found < 0:  # the segmenter altered the text: fall back to the cursor
                found = cursor
            start, end = found, min(len(block), found + len(piece))
            cursor = end
            for s, e in _cut_long(block, start, end):
                s, e = _strip(block, s, e)
                if e > s and _WORD.search(block, s, e):
                    block_spans.append((block_start + s, block_start + e))
        spans.extend(_merge_false_breaks(text, block_spans))
    return spans


def _merge_false_breaks(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Undo breaks the segmenter makes inside a sentence ("at 10 a.m. Tuesday", "... e.g. lower")."""
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged:
            prev_start, prev_end = merged[-1]
            head = text[start : start + 12]
            if (
                (head[:1].islower() and end - prev_start <= MAX_SENTENCE_CHARS)
                or (_ENDS_WITH_TIME.search(text, prev_start, prev_end) and _DAY_OR_ZONE.match(head))
            ):
                merged[-1] = (prev_start, end)
                continue
        merged.append((start, end))
    return merged


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
