"""The reader's training and calibration data: near misses and the open news sets (no shared data needed)."""

from __future__ import annotations

import random

from eval.reader_data import near_miss, realtimeqa_open_set, week_pages


def _example(sentence: str, rel: int, prev: str = "", nxt: str = "", span: list[int] | None = None) -> dict:
    out = {"sentence": sentence, "title": "Westminster dog show", "prev": prev, "next": nxt, "rel": rel}
    if span is not None:
        out["span"] = span
    return out


def _group(question: str) -> dict:
    return {
        "question": question,
        "source": "squad-train",
        "examples": [
            _example("Monty won best in show at the 149th show in 2025.", 1, span=[0, 5]),
            _example("Sage won at the 148th show in 2024 for Handler Kaplan.", 0),
            _example("The show began in 1877 in Manhattan.", 0, nxt="It moved to Queens later."),
        ],
    }


def test_near_miss_swaps_a_shared_number_for_one_the_article_uses_elsewhere() -> None:
    miss = near_miss(_group("Which dog won best in show at the 149th show?"), random.Random(0))
    assert miss is not None
    assert miss["question"] == "Which dog won best in show at the 148th show?"
    assert miss["source"] == "squad-train-near-miss"
    assert [e["rel"] for e in miss["examples"]] == [0, 0, 0]
    assert all("span" not in e for e in miss["examples"])


def test_near_miss_keeps_a_year_a_year_and_swaps_names_for_names() -> None:
    year = near_miss(_group("Which dog won in 2025?"), random.Random(0))
    assert year is not None and year["question"] in {"Which dog won in 2024?", "Which dog won in 1877?"}
    name = near_miss(_group("Where did the dog owned by Monty win?"), random.Random(0))
    assert name is not None
    assert name["question"] in {"Where did the dog owned by Sage win?", "Where did the dog owned by Kaplan win?",
                                "Where did the dog owned by Manhattan win?", "Where did the dog owned by Queens win?"}


def test_near_miss_needs_a_positive_and_something_shared_to_swap() -> None:
    assert near_miss(_group("What breed is the winner?"), random.Random(0)) is None  # nothing shared
    unanswerable = _group("Which dog won at the 149th show?")
    unanswerable["examples"][0]["rel"] = 0
    assert near_miss(unanswerable, random.Random(0)) is None


def _question(qid: str, week: str, answer: str, pages: list[str]) -> dict:
    return {"id": qid, "question": f"Who is {qid}?", "answers": [answer], "article_ids": pages, "meta": {"week": week}}


def test_week_pages_gives_each_week_the_pages_first_seen_that_week() -> None:
    order = ["a", "b", "c", "d", "e", "f"]
    questions = [_question("q1", "2025-01-03", "x", ["b"]), _question("q2", "2025-01-10", "y", ["e", "a"])]
    assert week_pages(questions, order) == {"2025-01-03": ["a", "b"], "2025-01-10": ["a", "c", "d", "e"]}


def test_open_set_leaves_out_every_page_naming_a_closed_answer_and_keeps_the_rest(monkeypatch) -> None:
    pages = [
        {"id": f"p{i}", "title": "t", "text": text}
        for i, text in enumerate(
            [
                "Kirsty Coventry took office as IOC president on Monday.",
                "Coventry, a former swimmer, won seven Olympic medals.",
                "The IOC elected a new president this spring; Kirsty Hall sang.",
                "Kirsty Hall, the singer, opened the session.",
                "Mountain Dew Baja Midnight is coming to Taco Bell menus.",
                "Taco Bell said its menu will change in March.",
            ]
        )
    ]
    questions = [
        _question("ioc", "w", "Kirsty Coventry", ["p0"]),
        _question("taco", "w", "Mountain Dew Baja Midnight", ["p4"]),
    ]
    monkeypatch.setattr("eval.reader_data.OPEN_MAX_ANSWER_PAGES", 0.4)  # 2 of the 6 pages
    kept, asked = realtimeqa_open_set(questions, pages, random.Random(3))
    closed = [q for q in asked if not q["answers"]]
    assert len(closed) == 1 and closed[0]["article_ids"] == []
    texts = " ".join(p["text"] for p in kept)
    if closed[0]["id"] == "ioc":  # the answer's rarest word goes too ("Coventry" alone, not "Kirsty")
        assert "Coventry" not in texts and "IOC elected" in texts and "opened the session" in texts
        assert [q["article_ids"] for q in asked if q["answers"]] == [["p4"]]
    else:
        assert "Baja" not in texts and "Taco Bell said" in texts
        assert [q["article_ids"] for q in asked if q["answers"]] == [["p0"]]


def test_balanced_threshold_counts_each_set_the_same() -> None:
    import numpy as np

    from eval.reader_fit import balanced_threshold

    big = np.linspace(0.5, 1.0, 100)  # a large set, confident
    small = np.linspace(0.0, 0.5, 10)  # a small set, shy
    p = np.concatenate([big, small, [0.2, 0.9]])
    answerable = np.array([True] * 110 + [False, False])
    sets = ["big"] * 100 + ["small"] * 10 + ["big", "small"]
    t = balanced_threshold(p, answerable, sets, rate=0.75)
    shares = [np.mean(big >= t), np.mean(small >= t)]
    assert np.mean(shares) >= 0.75 and shares == [1.0, 0.5]
    assert np.mean(small >= np.quantile(p[:110], 0.25)) == 0.0  # pooled, the small set would get no answer


def test_linked_only_keeps_linked_pages_and_every_closed_question() -> None:
    from eval.reader_data import linked_only

    articles = [{"id": i, "text": i} for i in ("a", "b", "c")]
    questions = [
        {"id": "open", "answers": ["x"], "article_ids": ["a", "c"]},
        {"id": "gone", "answers": ["y"], "article_ids": ["c"]},
        {"id": "closed", "answers": [], "article_ids": []},
    ]
    kept, asked = linked_only(articles, questions, {"a", "b"})
    assert [a["id"] for a in kept] == ["a", "b"]
    assert [(q["id"], q["article_ids"]) for q in asked] == [("open", ["a"]), ("closed", [])]
