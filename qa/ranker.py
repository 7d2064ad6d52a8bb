"""Turns candidate evidence into sentence scores: a small logistic model, fitted offline.

A score is the model's estimate that the sentence contains the answer, so the top score is
the answer's confidence. The weights are hand-set starting values over the features of
:data:`qa.retriever.FEATURES`.
"""

from __future__ import annotations

import numpy as np

from qa.retriever import FEATURES

WEIGHTS: dict[str, float] = {
    "cos": 7.0,
    "cos_chunk": 2.0,
    "bm25": 1.0,
    "coverage": 2.5,
    "coverage_context": 1.0,
    "rrf": 1.5,
    "type_match": 0.5,
}
BIAS = -8.0


def score(features: np.ndarray, weights: dict[str, float] | None = None, bias: float | None = None) -> np.ndarray:
    """Probability-like score in [0, 1] for each row of ``features``."""
    w = weights or WEIGHTS
    vector = np.array([w.get(name, 0.0) for name in FEATURES], dtype=np.float32)
    logits = features @ vector + (BIAS if bias is None else bias)
    return 1.0 / (1.0 + np.exp(-logits))
