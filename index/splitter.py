"""Sentence splitting with exact character offsets into the original text."""

from __future__ import annotations

import re
from functools import lru_cache

MAX_SENTENCE_CHARS = 1000
"""Longer "sentences" (tables, unpunctuated dumps) are cut at white space into pieces this long."""
MAX_BLOCK_CHARS = 10_000
"""Paragraphs are fed to the splitter in blocks of at most this many characters (linear time)."""

_PARAGRAPH = re.compile(r"\n[ \t\r\f\v]*\n\s*")
_WORD = re.compile(r"\w", re.UNICODE)


@lru_cache(maxsize=1)
def _segmenter():  # type: ignore[no-untyped-def]
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Split ``text`` into sentences, as ``(start, end)`` offsets with ``text[start:end]`` stripped.

    Paragraph breaks (blank lines) always end a sentence. Pieces with no letter or digit are
    dropped, and overlong pieces are cut at white space.
    """
    spans: list[tuple[int, int]] = []
    for block_start, block_end in _blocks(text):
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
                    spans.append((block_start + s, block_start + e))
    return spans


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
