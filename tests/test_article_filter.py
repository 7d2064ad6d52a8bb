"""ArticleFilter: one set of filter rules for ask, list, eval and the chat."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from index.records import Article
from qa import ArticleFilter, QuestionError


def _article(source: str | None, published: str | None) -> Article:
    return Article(id="a", title="t", text="Some text.", source=source, published=published, origin="x")


def test_outlets_match_case_and_space_insensitively_and_any_of_several() -> None:
    wanted = ArticleFilter.of([" metro ledger ", "Valley Times"])
    assert wanted.matches(_article("Metro Ledger", None)) and wanted.matches(_article("VALLEY TIMES", None))
    assert not wanted.matches(_article("Gulf Coast Herald", None)) and not wanted.matches(_article(None, None))


def test_dates_are_whole_days_both_ends_included_and_undated_never_pass() -> None:
    wanted = ArticleFilter.of(since="2025-03-01", until=date(2025, 3, 31))
    assert wanted.matches(_article(None, "2025-03-01T23:59:00Z")) and wanted.matches(_article(None, "2025-03-31"))
    assert not wanted.matches(_article(None, "2025-04-01")) and not wanted.matches(_article(None, None))


def test_no_filter_is_inactive_and_blank_outlets_are_ignored() -> None:
    assert not ArticleFilter.of().active and not ArticleFilter.of(["", "  "], "", None).active
    assert ArticleFilter.of(["x"]) == ArticleFilter.of([" X "])  # one cache key per meaning


def test_a_bad_date_is_a_one_line_question_error() -> None:
    with pytest.raises(QuestionError, match=r"^--since 'March' is not a date \(use YYYY-MM-DD\)$"):
        ArticleFilter.of(since="March")


def test_sentence_mask_follows_each_sentence_to_its_article() -> None:
    articles = [_article("A", None), _article("B", None)]
    sentences = np.array([[0, 0, 1, 1], [1, 0, 1, 1], [1, 2, 3, 1]], dtype=np.int32)
    assert ArticleFilter.of(["b"]).sentence_mask(articles, sentences).tolist() == [False, True, True]
