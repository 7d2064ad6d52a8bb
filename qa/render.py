"""Plain-text rendering of an answer for the terminal: numbered sentences and their sources."""

from __future__ import annotations

from qa.safe_text import one_line
from qa.types import Answer, ArticleRef, Sentence

NOT_FOUND = "Not found in the articles."


def citation_line(sentence: Sentence) -> str:
    """``Title — Outlet, 2025-07-15 (article-id, chars 12-80)``, control codes made visible."""
    meta = ", ".join(part for part in (sentence.source, sentence.published) if part)
    title = sentence.title or "(untitled)"
    where = f"{sentence.article_id}, chars {sentence.start}-{sentence.end}"
    head = f"{title} — {meta}" if meta else title
    url = f" {sentence.url}" if sentence.url else ""
    return one_line(f"{head} ({where}){url}")  # a newline in a title must not forge an output line


PLAIN = ("", "")
UNDERLINE = ("\x1b[1;4m", "\x1b[22;24m")
"""Marks around the answer phrase: none, or bold underline for a terminal."""


def phrase(sentence: Sentence) -> str | None:
    """The answer phrase the reader marked in ``sentence``, if any."""
    if sentence.span_start is None or sentence.span_end is None:
        return None
    return sentence.text[sentence.span_start - sentence.start : sentence.span_end - sentence.start]


def marked(sentence: Sentence, marks: tuple[str, str] = PLAIN) -> str:
    """The sentence on one line, the answer phrase between ``marks`` (text made safe first)."""
    found = phrase(sentence)
    if found is None or marks == PLAIN or sentence.span_start is None or sentence.span_end is None:
        return one_line(sentence.text)
    a, b = sentence.span_start - sentence.start, sentence.span_end - sentence.start
    text = sentence.text
    return f"{one_line(text[:a])} {marks[0]}{one_line(text[a:b])}{marks[1]} {one_line(text[b:])}".strip()


def answer_text(answer: Answer, marks: tuple[str, str] = PLAIN) -> str:
    """The answer as numbered sentences, then a numbered list of their sources.

    An answered question whose first sentence has an answer phrase starts with ``Answer: phrase``;
    ``marks`` (e.g. :data:`UNDERLINE` on a terminal) also set the phrase off inside the sentences.
    """
    lines: list[str] = []
    if not answer.sentences:
        return NOT_FOUND + " No sentence matched the question."
    first = phrase(answer.sentences[0])
    if answer.answered and first:
        lines.append(f"Answer: {one_line(first)} [1] (confidence {answer.confidence:.2f})")
    elif answer.answered:
        lines.append(f"Answer (confidence {answer.confidence:.2f}):")
    else:
        lines.append(f"{NOT_FOUND} Closest sentences (confidence {answer.confidence:.2f}):")
    lines.append("")
    for n, sentence in enumerate(answer.sentences, start=1):
        lines.append(f"[{n}] {marked(sentence, marks)}")
    lines.append("")
    lines.append("Sources:")
    for n, sentence in enumerate(answer.sentences, start=1):
        lines.append(f"[{n}] {citation_line(sentence)}")
        if sentence.also_in:
            lines.append("    also in: " + one_line("; ".join(_copy_label(c) for c in sentence.also_in)))
    return "\n".join(lines)


def _copy_label(copy: ArticleRef) -> str:
    """``Outlet, 2025-07-15 (article-id)`` of a syndicated copy."""
    meta = ", ".join(part for part in (copy.source, copy.published) if part)
    return f"{meta} ({copy.article_id})" if meta else copy.article_id
