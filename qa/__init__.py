"""newsdesk: answer questions over news articles with exact, cited sentences.

    from qa import Assistant
    assistant = Assistant.open(".newsdesk")
    answer = assistant.ask("How many troops were withdrawn?")
"""

from __future__ import annotations

from index.errors import (
    BadInputError,
    IndexCorruptError,
    IndexFormatError,
    IndexLockedError,
    IndexMismatchError,
    IndexNotFoundError,
    IndexWriteError,
    ModelError,
    NewsdeskError,
    NoArticlesError,
    QuestionError,
)
from qa.assistant import Assistant, Conversation
from qa.config import Settings
from qa.types import Answer, Sentence

__all__ = [
    "Answer",
    "Assistant",
    "BadInputError",
    "Conversation",
    "IndexCorruptError",
    "IndexFormatError",
    "IndexLockedError",
    "IndexMismatchError",
    "IndexNotFoundError",
    "IndexWriteError",
    "ModelError",
    "NewsdeskError",
    "NoArticlesError",
    "QuestionError",
    "Sentence",
    "Settings",
]
