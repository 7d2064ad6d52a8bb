"""Untrusted text to Textual ``Content``: literal (never markup), control codes made visible.

Every string that comes from an article or a user goes through :func:`literal` (or
:func:`literal_with_marks`) before it reaches a widget: ``[bold]`` stays ``[bold]`` and
``ESC[2J`` is shown as ``\\x1b[2J``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from textual.content import Content

from qa.safe_text import visible

DIM = "$foreground-muted"
"""Style of secondary text inside Content. (``$text-muted`` is "auto 60%", which Content renders as pure
white or black: brighter than the text it should sit behind. CSS rules may still use ``$text-muted``.)"""


def clean(text: str) -> str:
    """``text`` safe for a terminal: CRLF becomes LF, other control codes visible escapes."""
    return visible(text.replace("\r\n", "\n"))


def literal(text: str | None, style: str = "") -> Content:
    """``text`` as Content shown exactly as written (after :func:`clean`), in ``style``."""
    safe = clean(text or "")
    return Content.styled(safe, style, strip_control_codes=False) if style else Content(safe, strip_control_codes=False)


def one_line(text: str | None) -> str:
    """``text`` cleaned, with runs of white space (newlines too) collapsed to one space."""
    return " ".join(clean(text or "").split())


@dataclass(frozen=True, slots=True)
class Mark:
    """A character range of the original text to style."""

    start: int
    """Offset of the first character, in the original text."""
    end: int
    """Offset just past the last character."""
    style: str
    """Style for the range, e.g. ``"bold"`` or ``"on $accent 40%"``."""


def literal_with_marks(text: str, marks: Sequence[Mark], base: int = 0) -> Content:
    """``text`` (which starts at offset ``base`` of the original) cleaned, with ``marks`` styled.

    Cleaning can change lengths (one control character becomes four), so the text is cleaned
    piece by piece between mark boundaries and the marks are moved to the cleaned offsets.
    """
    length = len(text)
    cuts = {0, length}
    for mark in marks:
        cuts.update(min(max(p - base, 0), length) for p in (mark.start, mark.end))
    ordered = sorted(cuts)
    position: dict[int, int] = {0: 0}
    pieces: list[str] = []
    total = 0
    for left, right in zip(ordered, ordered[1:], strict=False):
        piece = clean(text[left:right])
        pieces.append(piece)
        total += len(piece)
        position[right] = total
    content = Content("".join(pieces), strip_control_codes=False)
    for mark in marks:
        start = position[min(max(mark.start - base, 0), length)]
        end = position[min(max(mark.end - base, 0), length)]
        if end > start:
            content = content.stylize(mark.style, start, end)
    return content


@dataclass(frozen=True, slots=True)
class Paragraph:
    """A block of an article between blank lines, with its offsets."""

    start: int
    end: int
    text: str


def paragraphs(text: str) -> list[Paragraph]:
    """Split ``text`` at blank lines, keeping each block's offsets into ``text``."""
    blocks: list[Paragraph] = []
    start = 0
    length = len(text)
    while start < length:
        cut = text.find("\n\n", start)
        stop = length if cut < 0 else cut
        block = text[start:stop]
        lead = len(block) - len(block.lstrip())
        body = block.strip()
        if body:
            first = start + lead
            blocks.append(Paragraph(first, first + len(body), body))
        if cut < 0:
            break
        start = cut + 2
    return blocks


CLOSEST_SHOWN = 2
"""Sentences shown (folded) under "Not found in the articles"; the others are not offered at all."""


def shown_sentences(answer: Any) -> list[Any]:
    """The sentences of ``answer`` the chat offers: all of an answer, the closest two of a Not found."""
    sentences = list(answer.sentences)
    return sentences if answer.answered else sentences[:CLOSEST_SHOWN]


LIKELY_FROM = 0.75
"""Answered with at least this confidence reads "likely right"; under it "possibly right", under 0.5 "uncertain"."""


def verdict_words(confidence: float, answered: bool) -> str:
    """The verdict in words that never contradict it: one calibrated figure, shown only for answers.

    ``confidence`` is the estimated chance that the first sentence answers the question; a declined
    question shows no figure (its closest sentences are, by the verdict, not an answer).
    """
    if not answered:
        return "Not found in the articles"
    # under an even chance only when the user lowered the threshold (NEWSDESK_MIN_CONFIDENCE): say so
    word = "likely right" if confidence >= LIKELY_FROM else "possibly right" if confidence >= 0.5 else "uncertain"
    return f"Answer · {word} ({confidence:.0%} sure [1] answers it)"


def byline(source: str | None, published: str | None) -> str:
    """``Outlet · 2025-07-15`` (the date part of a timestamp), cleaned; either may be missing."""
    day = (published or "")[:10] if published and len(published) >= 10 and published[4:5] == "-" else published
    return " · ".join(one_line(p) for p in (source, day) if p)


def citation_text(sentence: object) -> str:
    """A sentence and its citation as plain text, for the clipboard:

    ``"The repairs cost $4.2 million." — Title, Outlet, 2025-03-02, https://...``
    """
    title, text = getattr(sentence, "title", None), getattr(sentence, "text", None)
    where = [one_line(title) or "(untitled)"]
    where += [one_line(getattr(sentence, key, None)) for key in ("source", "published", "url")]
    return f"\u201c{one_line(text)}\u201d \u2014 " + ", ".join(p for p in where if p)
