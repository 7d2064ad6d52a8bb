"""The library entry point: ``from qa import Assistant`` and a complete, sorted ``__all__``."""

from __future__ import annotations

import qa


def test_all_is_complete_and_sorted() -> None:
    public = {name for name in dir(qa) if not name.startswith("_") and name[0].isupper()}
    assert set(qa.__all__) == public
    assert qa.__all__ == sorted(qa.__all__)


def test_entry_points_exist() -> None:
    assert callable(qa.Assistant.open) and callable(qa.Assistant.build)
    assert issubclass(qa.QuestionError, ValueError) and issubclass(qa.QuestionError, qa.NewsdeskError)
