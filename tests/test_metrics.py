"""eval.metrics against hand-worked examples; eval.questions parsing; baseline fusion."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from eval.baselines import rrf
from eval.metrics import (
    Outcome,
    calibration_error,
    compute,
    contains,
    coverage_curve,
    declined_at,
    first_hit,
    normalize,
    reliability,
)
from eval.questions import asking_order, load_questions
from index.errors import BadInputError


@pytest.mark.parametrize(
    ("candidate", "answer", "expected"),
    [
        ("They withdrew 2,000 troops.", "2,000", True),
        ("About 12,000 troops left.", "2,000", False),  # preceded by a digit: not a whole word
        ("The cost was $2,000.", "2,000", True),  # punctuation on both sides is a boundary
        ("(2,000)", "2,000", True),
        ("2,000,000 people", "2,000", True),  # followed by "," (not a word character): documented
        ("2,0001 units", "2,000", False),
        ("Sean Parnell's statement", "Sean Parnell", True),
        ("SEAN\n   parnell said", "Sean Parnell", True),  # case and runs of white space
        ("Parnellsburg", "Parnell", False),
        ("Parnell", "parnel", False),
        ("the \u201cBig Beautiful\u201d bill", '"Big Beautiful"', True),  # curly vs straight double quotes
        ("O\u2019Brien said", "O'Brien", True),  # curly apostrophe
        ('He said "no".', "\u201cno\u201d", True),  # curly gold, straight candidate
        ("a 24\u201310 win", "24-10", True),  # en dash
        ("the 2019\u20142020 season", "2019-2020", True),  # em dash
        ("minus \u22125 degrees", "-5", True),  # minus sign
        ("the \ufb01rst time", "first", True),  # NFKC: ligature
        ("\uff26\uff11 race", "F1", True),  # NFKC: full-width forms
        ("4,700\u00a0troops", "4,700 troops", True),  # NFKC: no-break space
        ("the U.S. Army", "U.S.", True),  # gold ending in punctuation
        ("the U.S.A team", "U.S.", False),  # ... followed by a letter
        ("cost $4.2 million", "$4.2 million", True),
        ("cost $4x2 million", "$4.2 million", False),  # regex characters are literal
        ("Stra\u00dfe 5", "STRASSE", True),  # full case folding
        ("anything", "", False),
        ("anything", "   ", False),
    ],
)
def test_contains(candidate: str, answer: str, expected: bool) -> None:
    assert contains(candidate, answer) is expected


def test_normalize() -> None:
    assert normalize("  \u201cA\u2014B\u201d \t\n C\u2019s  ") == '"a-b" c\'s'


def test_first_hit_is_the_first_containing_rank() -> None:
    candidates = ["About 12,000 troops", "nothing here", "They withdrew 2,000.", "2,000 again"]
    assert first_hit(candidates, ["2,000"]) == 3
    assert first_hit(candidates, ["nothing", "2,000"]) == 2
    assert first_hit(candidates, ["absent"]) is None
    assert first_hit(candidates, []) is None


def _worked_example() -> list[Outcome]:
    """Three answerable questions (A, B, C) and two unanswerable (D, E)."""
    return [
        Outcome(
            ("2,000",),
            ("a1",),
            ("About 12,000 troops", "They withdrew 2,000 troops.", "x"),
            ("a2", "a1", "a1"),
            answered=True,
            confidence=0.95,
            latency_ms=10,
        ),
        Outcome(
            ("Sean Parnell",),
            ("b",),
            ("Chief spokesman Sean  Parnell said", "y"),
            ("b", "z"),
            answered=True,
            confidence=0.85,
            latency_ms=20,
        ),
        Outcome(
            ("Dana Whitfield",), ("c",), ("nothing", "nope"), ("x", "y"), answered=False, confidence=0.35, latency_ms=30
        ),
        Outcome((), (), ("irrelevant",), ("x",), answered=False, confidence=0.25, latency_ms=40),
        Outcome((), (), ("irrelevant",), ("x",), answered=True, confidence=0.75, latency_ms=50),
    ]


def test_compute_matches_the_hand_worked_figures() -> None:
    metrics = compute(_worked_example())
    assert metrics == {
        "hit@1": 0.3333,  # only B
        "hit@3": 0.6667,  # A (rank 2) and B
        "hit@5": 0.6667,
        "mrr@10": 0.5,  # (1/2 + 1 + 0) / 3
        "article@1": 0.3333,
        "article@5": 0.6667,
        "answered": 0.6667,  # A and B
        "answered_hit@1": 0.5,  # of A and B, only B
        "abstain_ok": 0.5,  # D declined, E answered
        "latency_ms_p50": 30.0,
        "latency_ms_p95": 48.0,  # 40 + 0.8 * (50 - 40)
        "questions": 5,
        "unanswerable": 2,
    }


def test_declined_at_sets_the_threshold_on_the_answerable_questions() -> None:
    def outcome(confidence: float, answerable: bool) -> Outcome:
        return Outcome(("a",) if answerable else (), (), ("x",), ("x",), answered=True, confidence=confidence)

    outcomes = [outcome(c, True) for c in (0.9, 0.8, 0.7, 0.6)] + [outcome(c, False) for c in (0.75, 0.65, 0.5)]
    assert declined_at(outcomes, 1.0) == pytest.approx(1 / 3)  # answer all four: threshold 0.6
    assert declined_at(outcomes, 0.75) == pytest.approx(2 / 3)  # answer three: threshold 0.7
    assert declined_at(outcomes, 0.5) == 1.0  # answer two: threshold 0.8
    assert declined_at(outcomes[:4], 0.9) == 0.0  # no unanswerable question


def test_abstain_ok_only_with_unanswerable_questions() -> None:
    metrics = compute(_worked_example()[:3])
    assert "abstain_ok" not in metrics
    assert metrics["unanswerable"] == 0


def test_answered_hit_is_zero_when_nothing_answered() -> None:
    outcome = Outcome(("x",), ("a",), ("x",), ("a",), answered=False)
    assert compute([outcome])["answered_hit@1"] == 0.0
    assert compute([outcome])["hit@1"] == 1.0


def test_hits_beyond_ten_do_not_count() -> None:
    texts = tuple(["no"] * 10 + ["yes"])
    outcome = Outcome(("yes",), (), texts, ("a",) * 11, answered=True)
    assert outcome.hit_rank is None
    assert compute([outcome])["mrr@10"] == 0.0


def test_coverage_curve() -> None:
    curve = coverage_curve(_worked_example())
    expected = [(0.95, 0.2, 0.0), (0.85, 0.4, 0.5), (0.75, 0.6, 1 / 3), (0.35, 0.8, 0.25), (0.25, 1.0, 0.2)]
    assert curve == pytest.approx(expected)


def test_coverage_curve_lets_ties_enter_together() -> None:
    outcomes = [Outcome(("a",), (), ("a",), ("x",), True, 0.5), Outcome(("a",), (), ("b",), ("x",), True, 0.5)]
    assert coverage_curve(outcomes) == [(0.5, 1.0, 0.5)]


def test_reliability_bins_and_calibration_error() -> None:
    table = reliability(_worked_example())
    assert [(b.low, b.count, b.accuracy) for b in table] == pytest.approx(
        [(0.2, 1, 0.0), (0.3, 1, 0.0), (0.7, 1, 0.0), (0.8, 1, 1.0), (0.9, 1, 0.0)]
    )
    assert calibration_error(table) == pytest.approx((0.25 + 0.35 + 0.75 + 0.15 + 0.95) / 5)
    assert reliability([Outcome((), (), (), (), True, 1.0)])[0].low == pytest.approx(0.9)  # 1.0 in the top bin


def test_rrf_orders_by_fused_reciprocal_rank() -> None:
    fused = rrf([np.array([1, 2, 3]), np.array([3, 1, 4])], k=60)
    # 1: 1/61 + 1/62, 3: 1/63 + 1/61, 2: 1/62, 4: 1/63
    assert fused.tolist() == [1, 3, 2, 4]


# ---------------------------------------------------------------- questions files


def _write(path: Path, rows: list[object]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_load_questions_and_asking_order(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "q.jsonl",
        [
            {"id": "a", "question": "Q1?", "answers": ["x"], "article_ids": ["A"], "extra": 1},
            {"id": "c2", "question": "Who?", "answers": [], "conversation": "c", "turn": 2},
            "",
            {"id": 7, "question": "Q2?", "answers": ["y"]},
            {"id": "c1", "question": "First?", "answers": ["z"], "conversation": "c", "turn": 1},
        ],
    )
    questions = load_questions(path)
    assert [q.id for q in questions] == ["a", "c2", "7", "c1"]
    assert questions[0].article_ids == ("A",) and questions[2].article_ids == ()
    assert questions[1].conversation == "c" and questions[1].turn == 2 and not questions[1].answerable
    assert asking_order(questions) == [[0], [3, 1], [2]]  # the conversation in turn order, where it starts


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (["{not json"], "q.jsonl:1: not valid JSON"),
        ([[1, 2]], "q.jsonl:1: expected a JSON object"),
        ([{"question": "Q?", "answers": []}], "q.jsonl:1: 'id' must be"),
        ([{"id": "a", "question": "  ", "answers": []}], "q.jsonl:1: 'question' must be non-empty"),
        ([{"id": "a", "question": "Q?"}], "q.jsonl:1: 'answers' must be a list of strings"),
        ([{"id": "a", "question": "Q?", "answers": [1]}], "'answers' must be a list of strings"),
        ([{"id": "a", "question": "Q?", "answers": [], "conversation": "c"}], "'turn' must be a whole number"),
        (
            [{"id": "a", "question": "Q?", "answers": []}, {"id": "a", "question": "R?", "answers": []}],
            "q.jsonl:2: duplicate id 'a' (first on line 1)",
        ),
        (
            [
                {"id": "a", "question": "Q?", "answers": [], "conversation": "c", "turn": 1},
                {"id": "b", "question": "R?", "answers": [], "conversation": "c", "turn": 1},
            ],
            "q.jsonl:2: conversation 'c' has turn 1 twice",
        ),
        (['{"id": "a", "question": "Q?", "answers": [NaN]}'], "not valid JSON"),
        ([{"id": "a", "question": "x" * 2001, "answers": []}], "the limit is 2,000"),
        ([""], "no questions"),
    ],
)
def test_load_questions_rejects_bad_lines(tmp_path: Path, rows: list[object], message: str) -> None:
    path = _write(tmp_path / "q.jsonl", rows)
    with pytest.raises(BadInputError, match=None) as caught:
        load_questions(path)
    assert message in str(caught.value)


def test_load_questions_missing_or_binary_file(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="cannot read"):
        load_questions(tmp_path / "absent.jsonl")
    (tmp_path / "bin.jsonl").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(BadInputError, match="not UTF-8"):
        load_questions(tmp_path / "bin.jsonl")
