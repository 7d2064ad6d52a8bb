"""Messages the chat's widgets and workers post (small dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message

from qa.types import Answer


@dataclass
class AssistantReady(Message):
    """The model and index finished loading."""

    assistant: Any
    """The loaded :class:`qa.Assistant` (or a test double with the same methods)."""


@dataclass
class AssistantFailed(Message):
    """Loading failed; ``missing`` means there is no index, or it holds no articles."""

    error: str
    """One-line reason, shown to the user."""
    missing: bool
    """True when the fix is to build an index."""


@dataclass
class AnswerReady(Message):
    """A worker answered a question."""

    turn: int
    """Number of the turn (1, 2, ...) in the transcript."""
    epoch: int
    """Conversation the question belongs to; an answer for another one is saved there, not shown."""
    answer: Answer
    item: Any = None
    """The app's record of the turn (so a stale answer is still saved to its own conversation)."""


@dataclass
class AnswerFailed(Message):
    """A worker could not answer a question (bad question or internal error)."""

    turn: int
    epoch: int
    error: str
    item: Any = None


@dataclass
class CitationSelected(Message):
    """The user chose citation ``number`` (1-based) of turn ``turn``."""

    turn: int
    number: int


@dataclass
class TurnSelected(Message):
    """The user clicked an answer: its sources go in the sources panel."""

    turn: int


@dataclass
class ShowEarlier(Message):
    """The user asked to see the turns kept off screen."""
