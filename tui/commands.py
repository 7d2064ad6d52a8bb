"""Slash commands typed in the question box: filters (``/source``, ``/since``, ``/until``, ``/clear``), ``/k``.

Parsing and applying them is plain Python (no widgets), so the rules are tested on their own and the
app only shows the outcome. Filters follow :mod:`qa.filters`: outlets match case-insensitively, dates
are whole days with both ends included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from textual.suggester import Suggester

from index.errors import QuestionError
from qa.filters import as_date
from tui.text import one_line

COMMANDS: dict[str, str] = {
    "/source": "only cite this outlet (again to add one; alone: any outlet). Tab completes names",
    "/since": "only cite articles from this day on, e.g. /since 2025-03-01 (alone: no bound)",
    "/until": "only cite articles up to this day (alone: no bound)",
    "/clear": "remove every filter",
    "/k": "how many sentences an answer shows, 1-20 (kept for next time)",
    "/help": "this list",
}
MAX_K = 20


class CommandError(ValueError):
    """A slash command that cannot be carried out; the message is one line for the user."""


@dataclass(frozen=True, slots=True)
class ChatFilters:
    """The filters the chat applies to every question until changed."""

    sources: tuple[str, ...] = ()
    """Outlets as the index spells them (empty: any outlet)."""
    since: date | None = None
    until: date | None = None

    @property
    def active(self) -> bool:
        """Whether anything is filtered out."""
        return bool(self.sources) or self.since is not None or self.until is not None

    def describe(self) -> str:
        """``Reuters, AP · since 2025-03-01 · until 2025-03-31``; empty when inactive."""
        parts = []
        if self.sources:
            parts.append(", ".join(self.sources))
        if self.since is not None:
            parts.append(f"since {self.since.isoformat()}")
        if self.until is not None:
            parts.append(f"until {self.until.isoformat()}")
        return " · ".join(parts)


@dataclass(frozen=True, slots=True)
class Command:
    """A parsed slash command."""

    name: str
    """Without the slash: ``source``, ``since``, ``until``, ``clear``, ``k`` or ``help``."""
    argument: str


def parse_command(text: str) -> Command | None:
    """The command in ``text``, or None when it is a question; CommandError for an unknown command."""
    stripped = text.strip()
    if not stripped.startswith("/"):
        return None
    head, *tail = stripped.split(maxsplit=1)
    rest = tail[0] if tail else ""
    name = head.lower()
    if name not in COMMANDS:
        known = ", ".join(COMMANDS)
        raise CommandError(f"unknown command {one_line(head)!r}; the commands are {known}")
    return Command(name[1:], rest.strip())


def apply_filter(command: Command, filters: ChatFilters, outlets: Sequence[str]) -> tuple[ChatFilters, str]:
    """``filters`` changed by ``command`` (source/since/until/clear), and a line saying what changed."""
    if command.name == "clear":
        return ChatFilters(), "Filters cleared: every article may be cited."
    if command.name == "source":
        if not command.argument:
            return replace(filters, sources=()), "Any outlet may be cited."
        outlet = match_outlet(command.argument, outlets)
        if outlet in filters.sources:
            return filters, f"Already citing only {', '.join(filters.sources)}."
        changed = replace(filters, sources=(*filters.sources, outlet))
        return changed, f"Citing only {', '.join(changed.sources)}."
    if command.name in ("since", "until"):
        day = _day(command)
        changed = replace(filters, since=day) if command.name == "since" else replace(filters, until=day)
        if changed.since is not None and changed.until is not None and changed.since > changed.until:
            raise CommandError(
                f"/since {changed.since.isoformat()} is after /until {changed.until.isoformat()}: nothing would match"
            )
        if day is None:
            return changed, f"No {command.name} date."
        return changed, f"Citing only articles {command.name} {day.isoformat()}."
    raise CommandError(f"/{command.name} is not a filter")


def parse_k(argument: str) -> int:
    """The ``/k`` argument as a whole number from 1 to :data:`MAX_K`."""
    try:
        k = int(argument)
    except ValueError:
        raise CommandError(f"/k takes a whole number from 1 to {MAX_K}, got {one_line(argument)!r}") from None
    if not 1 <= k <= MAX_K:
        raise CommandError(f"/k takes a whole number from 1 to {MAX_K}, got {k}")
    return k


def match_outlet(name: str, outlets: Sequence[str]) -> str:
    """The indexed outlet ``name`` means: same letters ignoring case, else the only one it starts."""
    wanted = " ".join(name.split()).casefold()
    for outlet in outlets:
        if outlet.casefold() == wanted:
            return outlet
    starts = [outlet for outlet in outlets if outlet.casefold().startswith(wanted)]
    if len(starts) == 1:
        return starts[0]
    if starts:
        raise CommandError(f"{one_line(name)!r} could be {_some(starts)}; type more of the name")
    raise CommandError(f"no outlet named {one_line(name)!r} in the index; outlets: {_some(outlets) or 'none'}")


def _day(command: Command) -> date | None:
    try:
        return as_date(command.argument or None, command.name)
    except QuestionError:
        raise CommandError(f"/{command.name} {one_line(command.argument)!r} is not a date (use YYYY-MM-DD)") from None


def _some(names: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(one_line(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


class CommandSuggester(Suggester):
    """Completes command names, and outlet names after ``/source``, keeping what was typed."""

    def __init__(self, outlets: Sequence[str] = ()) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.outlets: Sequence[str] = outlets

    async def get_suggestion(self, value: str) -> str | None:
        if not value.startswith("/"):
            return None
        head, space, rest = value.partition(" ")
        if not space:
            for name in COMMANDS:
                if name.startswith(head.lower()) and name != head.lower():
                    return value + name[len(head) :] + (" " if name not in ("/clear", "/help") else "")
            return None
        typed = rest.lstrip().casefold()
        if head.lower() != "/source" or not typed:
            return None
        for outlet in self.outlets:
            tail = _after_prefix(outlet, typed)
            if tail:
                return value + tail
        return None


def _after_prefix(name: str, typed: str) -> str | None:
    """What follows the part of ``name`` that reads as ``typed`` ignoring case (ß = ss), if any does."""
    for cut in range(len(name) + 1):
        if name[:cut].casefold() == typed:
            return name[cut:]
    return None
