"""newsdesk: answer questions over news articles with exact, cited sentences.

    from qa import Assistant
    assistant = Assistant.open(".newsdesk")
    answer = assistant.ask("How many troops were withdrawn?")

Names are imported on first use, so ``import qa.config`` (the CLI's settings) does not load
the retriever, the ranker and their libraries.
"""

from __future__ import annotations

import typing

from index.lazy import lazy_attributes

if typing.TYPE_CHECKING:
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
    from qa.filters import ArticleFilter
    from qa.types import Answer, Sentence

_HOME = {
    "Answer": "qa.types",
    "ArticleFilter": "qa.filters",
    "Assistant": "qa.assistant",
    "BadInputError": "index.errors",
    "Conversation": "qa.assistant",
    "IndexCorruptError": "index.errors",
    "IndexFormatError": "index.errors",
    "IndexLockedError": "index.errors",
    "IndexMismatchError": "index.errors",
    "IndexNotFoundError": "index.errors",
    "IndexWriteError": "index.errors",
    "ModelError": "index.errors",
    "NewsdeskError": "index.errors",
    "NoArticlesError": "index.errors",
    "QuestionError": "index.errors",
    "Sentence": "qa.types",
    "Settings": "qa.config",
}
__all__ = [
    "Answer",
    "ArticleFilter",
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


__getattr__ = lazy_attributes("qa", globals(), _HOME)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
