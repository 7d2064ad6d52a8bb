"""The fitted ranker: weights cover every feature, and the fitting code recovers a known signal."""

from __future__ import annotations

import json

import numpy as np

from eval.fit import Sample, fit_logistic, fit_ranking, folds, hit_at_1
from qa import ranker
from qa.retriever import FEATURES, question_type, type_match


def test_weights_file_covers_every_feature() -> None:
    raw = json.loads(ranker.WEIGHTS_FILE.read_text())
    assert set(raw["ranking"]) == set(FEATURES)
    assert len(raw["confidence"][0]) == len(ranker.CONFIDENCE_FEATURES)
    assert len(raw["answerable"][0]) == len(ranker.CONFIDENCE_FEATURES)
    assert 0.0 < raw["answer_threshold"] < 1.0


def test_scores_are_probabilities_and_monotone() -> None:
    logits = np.linspace(-20, 40, 50)
    scores = ranker.sentence_scores(logits)
    assert np.all((scores >= 0) & (scores <= 1)) and np.all(np.diff(scores) >= 0)


def _synthetic(n: int, seed: int) -> list[Sample]:
    rng = np.random.default_rng(seed)
    samples = []
    for i in range(n):
        x = rng.normal(size=(20, len(FEATURES)))
        right = int(rng.integers(20))
        x[right, 0] += 5.0  # the first feature marks the right candidate
        labels = np.zeros(20, bool)
        labels[right] = True
        samples.append(Sample(x, False, labels, True, f"g{i % 7}"))
    return samples


def test_listwise_fit_finds_the_signal_on_held_out_folds() -> None:
    samples = _synthetic(300, 0)
    for train, test in folds(samples, 3):
        w = fit_ranking(train)
        assert int(np.argmax(np.abs(w))) == 0
        assert hit_at_1(test, w) > 0.8
    assert hit_at_1(samples, np.zeros(len(FEATURES))) < 0.3


def test_logistic_fit_separates() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 2))
    y = (x[:, 0] > 0).astype(float)
    w, b = fit_logistic(x, y)
    accuracy = np.mean(((x @ w + b) > 0) == (y == 1))
    assert accuracy > 0.95 and abs(w[0]) > abs(w[1])


def test_answer_type_cues() -> None:
    assert question_type("How many troops remain?") == "number"
    assert question_type("When did the council vote?") == "date"
    assert question_type("Who is the chief spokesman?") == "person"
    assert question_type("Why did it close?") is None
    assert type_match("number", "About 2,700 troops remain.", "How many troops remain?") == 1.0
    assert type_match("number", "The 2,000 troops left.", "Where did the 2,000 troops go?") == 0.0
