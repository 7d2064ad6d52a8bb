"""What the index holds, shown when the chat opens: articles, outlets, dates, and questions to try."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import Any

from textual.content import Content

from index.records import parse_date
from tui.text import DIM, one_line

EXAMPLES = 3
HEADLINE_CHARS = 60


def outlets_of(articles: Sequence[Any]) -> list[str]:
    """The outlets in the index, most articles first (then by name)."""
    counts = Counter(one_line(a.source) for a in articles if getattr(a, "source", None) and one_line(a.source))
    return [name for name, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0].casefold()))]


def date_range(articles: Sequence[Any]) -> tuple[date, date] | None:
    """The first and last publication day, if any article has a date."""
    days = [d for d in (parse_date(a.published) for a in articles if getattr(a, "published", None)) if d]
    return (min(days), max(days)) if days else None


def example_questions(articles: Sequence[Any], limit: int = EXAMPLES) -> list[str]:
    """Questions about the most recent headlines (articles without a title or date come last)."""

    def recency(article: Any) -> tuple[bool, date]:
        day = parse_date(article.published) if getattr(article, "published", None) else None
        return (day is not None, day or date.min)

    out: list[str] = []
    for article in sorted(articles, key=recency, reverse=True):
        title = one_line(getattr(article, "title", ""))
        if len(title.split()) < 3:
            continue
        if len(title) > HEADLINE_CHARS:
            title = title[: HEADLINE_CHARS - 1].rsplit(" ", 1)[0] + "…"
        question = f"What happened in “{title.rstrip('.?!')}”?"
        if question not in out:
            out.append(question)
        if len(out) == limit:
            break
    return out


def overview_content(articles: Sequence[Any]) -> Content:
    """``12 articles from 3 outlets (A, B, C) · 2025-01-02 to 2025-03-04`` and questions to try."""
    outlets = outlets_of(articles)
    count = len(articles)
    line = f"{count:,} article{'s' if count != 1 else ''}"
    if outlets:
        named = ", ".join(outlets[:4]) + (f" and {len(outlets) - 4} more" if len(outlets) > 4 else "")
        line += f" from {len(outlets)} outlet{'s' if len(outlets) != 1 else ''} ({named})"
    span = date_range(articles)
    if span:
        line += f" · {span[0].isoformat()} to {span[1].isoformat()}" if span[0] != span[1] else f" · {span[0]}"
    parts: list[tuple[str, str]] = [("Indexed: ", "bold"), (line, "")]
    examples = example_questions(articles)
    if examples:
        parts.append(("\nTry: ", "bold"))
        parts.append(("\n".join(f"  {q}" if i else q for i, q in enumerate(examples)), DIM))
    return Content.assemble(*parts)
