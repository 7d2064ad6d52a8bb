"""The records every loader produces: :class:`Article` and :class:`Problem`, and date parsing.

A leaf module: the loaders (``articles``, ``html``, ``feeds``) all import it and it imports none of them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class Article:
    """One news article, as stored in the index."""

    id: str
    """Stable identifier: the ``id`` field, else derived from the file path."""
    title: str
    """Headline; may be empty."""
    text: str
    """Body text; every citation offset indexes into this string."""
    source: str | None = None
    """Outlet name."""
    published: str | None = None
    """ISO date or timestamp, as given."""
    url: str | None = None
    """Link to the original."""
    origin: str = ""
    """Where it was read from (``path`` or ``path:line``), for messages."""
    language: str | None = None
    """ISO 639-1 code of the language it is written in, when it could be told (``en`` for English)."""

    @property
    def content_hash(self) -> str:
        """sha256 of every stored field but ``origin``: equal hashes mean nothing changed."""
        payload = json.dumps(
            [self.id, self.title, self.text, self.source, self.published, self.url],
            ensure_ascii=False,
        )
        return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()

    @property
    def text_hash(self) -> str:
        """sha256 of the body alone: equal hashes mean the embeddings can be reused."""
        return hashlib.sha256(self.text.encode("utf-8", "surrogatepass")).hexdigest()

    @property
    def published_date(self) -> date | None:
        """The calendar date of ``published``, or None."""
        return parse_date(self.published) if self.published else None


@dataclass(frozen=True, slots=True)
class Problem:
    """Something skipped while loading, reported to the user."""

    where: str
    """``path``, ``path:line`` or ``path:line:col``."""
    reason: str
    """What was wrong, in a few words."""
    skipped: bool = True
    """True when the file, line or article was left out; False for a warning about something kept."""

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass(slots=True)
class LoadResult:
    """Articles read from some paths, and what was skipped."""

    articles: Sequence[Article] = field(default_factory=list)
    """A list, or an :class:`index.article_spool.ArticleSpool` holding the texts on the disk."""
    problems: list[Problem] = field(default_factory=list)
    files: int = 0
    """Files read (including those that yielded problems)."""


def parse_date(value: str) -> date | None:
    """Parse an ISO date or timestamp (``2025-07-15``, ``2025-07-15T08:00:00Z``); None if invalid."""
    text = value.strip()
    try:
        return date.fromisoformat(text[:10]) if len(text) == 10 else _parse_datetime(text).date()
    except ValueError:
        return None


def _parse_datetime(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
