"""Article filters (``--source``, ``--since``, ``--until``): one set of rules for ask, list, eval and the chat.

An outlet matches case-insensitively, ignoring surrounding spaces; any of several outlets may match.
Dates are whole days, both ends included; an article without a date never passes a date filter.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from index.errors import QuestionError
from index.records import Article, parse_date

DateLike = date | str | None
"""A day, or an ISO date string (``2025-03-01``), or None for no bound."""


def as_date(value: DateLike, name: str) -> date | None:
    """``value`` as a day; QuestionError (one line naming ``--name``) when it is not a date."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    parsed = parse_date(str(value))
    if parsed is None:
        raise QuestionError(f"--{name} {value!r} is not a date (use YYYY-MM-DD)")
    return parsed


@dataclass(frozen=True, slots=True)
class ArticleFilter:
    """Which articles an answer may cite."""

    sources: tuple[str, ...] = ()
    """Outlets, case-folded and stripped, sorted (empty: any outlet)."""
    since: date | None = None
    until: date | None = None

    @classmethod
    def of(cls, sources: Iterable[str] | None = None, since: DateLike = None, until: DateLike = None) -> ArticleFilter:
        """The filter for user input; QuestionError when a date is not a date."""
        wanted = tuple(sorted({s.strip().casefold() for s in sources or () if s and s.strip()}))
        return cls(wanted, as_date(since, "since"), as_date(until, "until"))

    @property
    def active(self) -> bool:
        """Whether it filters anything out."""
        return bool(self.sources) or self.since is not None or self.until is not None

    def matches(self, article: Article) -> bool:
        """Whether ``article`` passes."""
        if self.sources and (article.source or "").strip().casefold() not in self.sources:
            return False
        if self.since is None and self.until is None:
            return True
        day = article.published_date
        if day is None:
            return False
        return (self.since is None or day >= self.since) and (self.until is None or day <= self.until)

    def select(self, articles: Sequence[Article]) -> list[Article]:
        """The articles that pass, in their order."""
        return [a for a in articles if self.matches(a)]

    def sentence_mask(self, articles: Sequence[Article], sentences: np.ndarray) -> np.ndarray:
        """Boolean per sentence row (``sentences[:, 0]`` is its article row): its article passes."""
        keep = np.array([self.matches(a) for a in articles], dtype=bool)
        return keep[sentences[:, 0]] if len(sentences) else np.zeros(0, dtype=bool)
