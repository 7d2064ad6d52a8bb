"""Turns candidate evidence into scores, confidence and an answer/decline decision.

Three small linear models over :data:`qa.retriever.FEATURES`, fitted by ``python -m eval.fit``
and stored in ``qa/weights.json``:

- the ranking score orders candidates (fitted listwise: the right sentence should come first);
- Platt scaling maps it to a sentence score in [0, 1];
- two logistic models over the top candidate's evidence estimate the *confidence* that the
  first sentence is right, and that the articles answer the question at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import ModelError
from qa.retriever import FEATURES

WEIGHTS_FILE = Path(__file__).with_name("weights.json")

_DEFAULT = {
    "ranking": {"cos": 7.0, "coverage": 2.5, "bm25": 1.0, "cos_chunk": 1.0, "type_match": 0.5},
    "platt": [1.0, -5.0],
    "confidence": [[1.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], -5.0],
    "answerable": [[1.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], -5.0],
}


@dataclass(frozen=True, slots=True)
class Model:
    """The fitted weights."""

    ranking: np.ndarray
    platt: tuple[float, float]
    confidence: tuple[np.ndarray, float]
    answerable: tuple[np.ndarray, float]
    answer_threshold: float
    """Default answerability below which a question is declined."""
    reader: ReaderWeights | None = None
    """How the reader's evidence is combined (absent: the reader is not used)."""


@dataclass(frozen=True, slots=True)
class ReaderWeights:
    """Fitted by ``python -m eval.reader_fit`` over the reader's readings of calibration sets."""

    depth: int
    """How many of the ranker's best candidates the reader reads."""
    sentence: np.ndarray
    """Logistic weights over :data:`READER_SENTENCE_FEATURES` and a bias: the chance a sentence answers."""
    confidence: np.ndarray
    """Logistic weights over :data:`READER_CONFIDENCE_FEATURES` and a bias: the chance the first is right."""
    threshold: float
    """Confidence below which the question is declined."""


@lru_cache(maxsize=1)
def model() -> Model:
    """The models from ``qa/weights.json`` (built-in starting values when it is absent)."""
    raw: dict[str, Any] = json.loads(WEIGHTS_FILE.read_text(encoding="utf-8")) if WEIGHTS_FILE.is_file() else _DEFAULT
    ranking = np.array([raw["ranking"].get(name, 0.0) for name in FEATURES], dtype=np.float64)
    return Model(
        ranking=ranking,
        platt=(float(raw["platt"][0]), float(raw["platt"][1])),
        confidence=(np.array(raw["confidence"][0], np.float64), float(raw["confidence"][1])),
        answerable=(np.array(raw["answerable"][0], np.float64), float(raw["answerable"][1])),
        answer_threshold=float(raw.get("answer_threshold", 0.5)),
        reader=_reader_weights(raw.get("reader")),
    )


def _reader_weights(raw: dict[str, Any] | None) -> ReaderWeights | None:
    if not raw:
        return None
    weights = ReaderWeights(
        depth=int(raw["depth"]),
        sentence=np.array(raw["sentence"], np.float64),
        confidence=np.array(raw["confidence"], np.float64),
        threshold=float(raw["threshold"]),
    )
    if len(weights.sentence) != len(READER_SENTENCE_FEATURES) + 1 or len(weights.confidence) != len(
        READER_CONFIDENCE_FEATURES
    ) + 1:
        raise ModelError(f"{WEIGHTS_FILE}: the reader weights do not match this version; run make reader-fit")
    return weights


def logits(features: np.ndarray) -> np.ndarray:
    """Ranking score of each candidate (higher is better)."""
    return np.asarray(features.astype(np.float64) @ model().ranking)


def sentence_scores(ranking: np.ndarray) -> np.ndarray:
    """Ranking scores mapped to [0, 1]: the estimated chance each sentence holds the answer."""
    a, b = model().platt
    return sigmoid(a * ranking + b)


CONFIDENCE_FEATURES = (
    "top_score",
    "margin",
    "cos",
    "coverage",
    "coverage_local",
    "type_match",
    "missing_salient",
    "missing_article",
    "withheld",
    "typed_question",
)
"""Evidence the confidence and answerability models read (the top candidate's, mostly)."""


def confidence_features(ordered_features: np.ndarray, ordered_logits: np.ndarray, typed: bool = False) -> np.ndarray:
    """Evidence for the top candidate: its score and margin over the next, and its features."""
    if len(ordered_logits) == 0:
        return np.zeros(len(CONFIDENCE_FEATURES))
    column = {name: i for i, name in enumerate(FEATURES)}
    top = ordered_features[0]
    margin = ordered_logits[0] - ordered_logits[1] if len(ordered_logits) > 1 else 1.0
    values = [ordered_logits[0], margin] + [top[column[name]] for name in CONFIDENCE_FEATURES[2:-1]]
    return np.array(values + [1.0 if typed else 0.0], dtype=np.float64)


def confidence(evidence: np.ndarray) -> float:
    """Estimated probability that the first sentence answers the question."""
    w, b = model().confidence
    return float(sigmoid(evidence @ w + b))


def answerable(evidence: np.ndarray) -> float:
    """Estimated probability that the articles hold the answer at all."""
    w, b = model().answerable
    return float(sigmoid(evidence @ w + b))


def sigmoid(x: np.ndarray | float) -> np.ndarray:
    """The logistic function, clipped against overflow."""
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(x, -50, 50))))




READER_SENTENCE_FEATURES = ("reader", "prior", "span")
"""Per read sentence: the reader's relevance logit, the ranker's score as a logit, and the reader's
score for its best answer phrase (start plus end logit, over 10)."""
READER_CONFIDENCE_FEATURES = (
    "top",
    "margin",
    "top_reader",
    "best_other_reader",
    "answerability",
    "top_span",
    "cos",
    "missing_salient",
    "missing_article",
    "best_cos",
)
"""Per question: the first sentence's combined logit and its margin over the second; the reader's
logit for it and the best among the others; the feature ranker's answerability logit; the reader's
phrase score in the first sentence; from the ranker's evidence for its own first sentence, the
question's cosine to it and the most salient question term missing from its context and article;
and the question's best cosine to any candidate (how close the articles come at all)."""


def reader_sentence_logits(
    weights: ReaderWeights, relevance: np.ndarray, prior: np.ndarray, span_scores: np.ndarray
) -> np.ndarray:
    """Combined logit of each read sentence (higher: more likely to answer)."""
    x = np.stack([relevance.astype(np.float64), prior.astype(np.float64), span_scores / 10.0], axis=1)
    return np.asarray(x @ weights.sentence[:-1] + weights.sentence[-1])


def reader_confidence_features(
    combined: np.ndarray, relevance: np.ndarray, evidence: np.ndarray, span_scores: np.ndarray, best_cos: float
) -> np.ndarray:
    """:data:`READER_CONFIDENCE_FEATURES` from the read sentences, best first."""
    if len(combined) == 0:
        return np.zeros(len(READER_CONFIDENCE_FEATURES))
    margin = combined[0] - combined[1] if len(combined) > 1 else 5.0
    other = float(relevance[1:].max()) if len(relevance) > 1 else -10.0
    w, b = model().answerable
    column = {name: i for i, name in enumerate(CONFIDENCE_FEATURES)}
    values = [combined[0], margin, relevance[0], other, float(evidence @ w + b), span_scores[0] / 10.0]
    values += [evidence[column[name]] for name in ("cos", "missing_salient", "missing_article")]
    return np.array(values + [best_cos], np.float64)


def reader_confidence(weights: ReaderWeights, features: np.ndarray) -> float:
    """The chance that the first sentence answers the question."""
    return float(sigmoid(features @ weights.confidence[:-1] + weights.confidence[-1]))


def logit(p: np.ndarray) -> np.ndarray:
    """Inverse of the sigmoid, clipped away from 0 and 1."""
    p = np.clip(p.astype(np.float64), 1e-6, 1 - 1e-6)
    return np.asarray(np.log(p / (1 - p)))
