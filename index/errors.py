"""Errors raised by newsdesk, under one base class.

    NewsdeskError                  base; ``exit_code`` is what the CLI exits with
    ├── BadInputError              the user's input is unusable (exit 2)
    │   ├── NoArticlesError        nothing indexable in the paths given
    │   ├── QuestionError          empty, too long or not a string (also a ValueError)
    │   └── IndexNotFoundError     no index at the path (run ``newsdesk index``)
    ├── IndexMismatchError         index built by another model or backend (exit 2)
    ├── IndexLockedError           another writer holds the index lock (exit 2)
    ├── IndexCorruptError          a file fails its checksum or count check (exit 1)
    ├── IndexFormatError           format newer than this code supports (exit 2)
    ├── IndexWriteError            a write failed (disk full, permissions); the live index is unchanged (exit 1)
    └── ModelError                 the embedding model cannot be loaded safely (exit 2)
"""

from __future__ import annotations


class NewsdeskError(Exception):
    """Base of every error newsdesk raises on purpose."""

    exit_code: int = 1


class BadInputError(NewsdeskError):
    """The input given by the user cannot be used."""

    exit_code = 2


class NoArticlesError(BadInputError):
    """The paths given hold no article newsdesk can index."""


class QuestionError(BadInputError, ValueError):
    """The question is empty, too long or not text."""


class IndexNotFoundError(BadInputError):
    """There is no index at the given directory."""


class IndexMismatchError(NewsdeskError):
    """The index was built with a different model or backend than the one configured."""

    exit_code = 2


class IndexLockedError(NewsdeskError):
    """Another process is writing the index."""

    exit_code = 2


class IndexCorruptError(NewsdeskError):
    """An index file is damaged: checksum, size or count does not match the manifest."""

    exit_code = 1


class IndexFormatError(NewsdeskError):
    """The index was written in a format this version cannot read."""

    exit_code = 2


class IndexWriteError(NewsdeskError):
    """Writing a generation failed (no space left, no permission); the live generation is unchanged."""

    exit_code = 1


class ModelError(NewsdeskError):
    """The embedding model folder is missing, incomplete or unsafe to load."""

    exit_code = 2
