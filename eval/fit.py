"""Fit the ranker from question sets: ``python -m eval.fit --set INDEX QUESTIONS ... --write``.

Three small models, all over :data:`qa.retriever.FEATURES`:

1. *Ranking*: a linear score fitted listwise (softmax over each question's candidates, the
   likelihood of the candidates that contain a gold answer), so the top candidate is pushed to
   be a right one.
2. *Sentence score*: the ranking score mapped to [0, 1] by Platt scaling (pointwise).
3. *Confidence* and *answerability*: logistic models over the top candidate's evidence and its
   margin over the second. Confidence estimates that the first sentence is right; answerability
   that the articles hold the answer at all (fitted where unanswerable questions exist).

The hit@1 per set is measured on held-out folds (grouped by article, so no article's questions
are both fitted and scored); the abstention figures and the "current weights" hit@1 are
in-sample, and say so. Then the final models are fitted on everything.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
from scipy.optimize import minimize

from eval.metrics import contains
from qa import Assistant
from qa.ranker import WEIGHTS_FILE, confidence_features
from qa.retriever import FEATURES, question_type

ANSWER_RATE = 0.92
"""Share of answerable questions the default threshold answers (in the fitting data)."""


@dataclass(slots=True)
class Sample:
    """One question's candidates, evidence and labels."""

    features: np.ndarray
    typed: bool
    labels: np.ndarray
    answerable: bool
    group: str
    weight: float = 1.0
    """Share of the loss: every question set counts the same, whatever its size."""


class Weighted(Protocol):
    weight: float


W = TypeVar("W", bound=Weighted)


def collect_sets(
    sets: list[list[str]],
    cache: Path | None,
    key: str,
    collect: Callable[[Assistant, list[dict[str, Any]]], list[W]],
    load: Callable[[Path], list[W]],
    save: Callable[[Path, list[W]], None],
) -> dict[str, list[W]]:
    """What ``collect`` gives for each ``(index, questions file)`` set, by questions file, each item weighted
    so every set counts the same. With ``cache``, results are kept there as ``.npz`` under a name made
    from the set's paths and ``key`` (whatever else changes the result), and read back on the next run."""
    by_set: dict[str, list[W]] = {}
    for index_dir, questions_file in sets:
        digest = hashlib.sha256(f"{Path(index_dir).resolve()}|{Path(questions_file).resolve()}|{key}".encode())
        cached = cache / f"{Path(questions_file).stem}-{digest.hexdigest()[:12]}.npz" if cache else None
        if cached is not None and cached.is_file():
            items = load(cached)
        else:
            assistant = Assistant.open(index_dir)
            lines = Path(questions_file).read_text(encoding="utf-8").splitlines()
            print(f"collecting {questions_file}", file=sys.stderr)
            items = collect(assistant, [json.loads(line) for line in lines if line])
            if cached is not None:
                cached.parent.mkdir(parents=True, exist_ok=True)
                save(cached, items)
        for item in items:
            item.weight = 1.0 / len(items)
        by_set[questions_file] = items
    return by_set


def collect(assistant: Assistant, questions: list[dict[str, Any]], limit: int | None = None) -> list[Sample]:
    """Candidates and labels for the self-contained questions (first turns included)."""
    samples: list[Sample] = []
    chosen = [q for q in questions if int(q.get("turn", 1) or 1) == 1][: limit or None]
    vectors = assistant.embedder.embed([q["question"].strip() for q in chosen])
    for n, q in enumerate(chosen, start=1):
        query = assistant.retriever.prepare(q["question"].strip(), vector=vectors[n - 1])
        found = assistant.retriever.candidates(query)
        answers = q.get("answers") or []
        labels = np.array(
            [any(contains(assistant.data.sentence_text(int(r)), a) for a in answers) for r in found.rows], dtype=bool
        )
        group = (q.get("article_ids") or [q["id"]])[0]
        typed = question_type(q["question"]) is not None
        samples.append(Sample(found.features, typed, labels, bool(answers), str(group)))
        if n % 500 == 0:
            print(f"  features: {n}/{len(chosen)}", file=sys.stderr)
    return samples


def save_groups(path: Path, ragged: dict[str, list[np.ndarray]], flat: dict[str, np.ndarray]) -> None:
    """Per-question arrays of varying length (``ragged``, joined with offsets) and one value per
    question (``flat``) as plain arrays in one ``.npz`` (no pickle)."""
    lengths = [len(a) for a in next(iter(ragged.values()))]
    joined = {name: np.concatenate(arrays) for name, arrays in ragged.items()}
    arrays = {"offsets": np.cumsum([0] + lengths), **joined, **flat}
    np.savez(path, **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds as its bool flag


def load_groups(path: Path, ragged: tuple[str, ...]) -> tuple[dict[str, list[np.ndarray]], dict[str, np.ndarray]]:
    """What :func:`save_groups` wrote: the ragged arrays split per question, and the rest."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}  # each member read once
    o = arrays.pop("offsets")
    split = {name: [arrays[name][o[i] : o[i + 1]] for i in range(len(o) - 1)] for name in ragged}
    return split, {name: value for name, value in arrays.items() if name not in ragged}


def save_samples(path: Path, samples: list[Sample]) -> None:
    """Keep collected evidence as plain arrays, to refit without re-retrieving."""
    save_groups(
        path,
        {"features": [s.features for s in samples], "labels": [s.labels for s in samples]},
        {
            "answerable": np.array([s.answerable for s in samples]),
            "groups": np.array([s.group for s in samples], dtype=str),
            "typed": np.array([s.typed for s in samples]),
        },
    )


def load_samples(path: Path) -> list[Sample]:
    split, flat = load_groups(path, ("features", "labels"))
    return [
        Sample(f, bool(t), y, bool(a), str(g))
        for f, y, a, g, t in zip(
            split["features"], split["labels"], flat["answerable"], flat["groups"], flat["typed"], strict=True
        )
    ]


def _listwise_loss(
    w: np.ndarray, groups: list[tuple[np.ndarray, np.ndarray, float]], l2: float
) -> tuple[float, np.ndarray]:
    loss, grad = 0.0, np.zeros_like(w)
    for x, y, weight in groups:
        logits = x @ w
        logits -= logits.max()
        p = np.exp(logits)
        p /= p.sum()
        pos = p[y].sum()
        loss -= weight * np.log(max(pos, 1e-12))
        q = np.where(y, p / max(pos, 1e-12), 0.0)
        grad -= weight * (x.T @ (q - p))
    n = max(sum(g[2] for g in groups), 1e-12)
    return loss / n + l2 * float(w @ w), grad / n + 2 * l2 * w


def fit_ranking(samples: list[Sample], l2: float = 1e-3) -> np.ndarray:
    groups = [
        (s.features.astype(np.float64), s.labels, s.weight) for s in samples if s.labels.any() and len(s.labels) > 1
    ]
    start = np.zeros(len(FEATURES))
    result = minimize(_listwise_loss, start, args=(groups, l2), jac=True, method="L-BFGS-B")
    return np.asarray(result.x)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3) -> tuple[np.ndarray, float]:
    """Plain L2-regularised logistic regression; returns ``(weights, bias)``."""
    xb = np.hstack([x, np.ones((len(x), 1))])

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = xb @ w
        p = 1 / (1 + np.exp(-z))
        eps = 1e-12
        value = -np.mean(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps)) + l2 * float(w[:-1] @ w[:-1])
        g = xb.T @ (p - y) / len(y)
        g[:-1] += 2 * l2 * w[:-1]
        return float(value), g

    result = minimize(loss, np.zeros(xb.shape[1]), jac=True, method="L-BFGS-B")
    return np.asarray(result.x[:-1]), float(result.x[-1])


def top_evidence(samples: list[Sample], w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Confidence features, top-correct labels and answerable labels per question."""
    rows, correct, answerable = [], [], []
    for s in samples:
        logits = s.features @ w
        order = np.argsort(-logits, kind="stable")
        rows.append(confidence_features(s.features[order], logits[order], s.typed))
        correct.append(bool(len(order)) and bool(s.labels[order[0]]))
        answerable.append(s.answerable)
    return np.array(rows), np.array(correct, float), np.array(answerable, float)


def report_abstention(x: np.ndarray, answerable: np.ndarray, w: np.ndarray, b: float) -> None:
    """Answered share of answerable and declined share of unanswerable at a few thresholds (in-sample)."""
    p = 1 / (1 + np.exp(-(x @ w + b)))
    for t in (0.3, 0.4, 0.5, 0.6, 0.7):
        answered = float(np.mean(p[answerable == 1] >= t))
        declined = float(np.mean(p[answerable == 0] < t))
        print(
            f"  threshold {t:.1f}: answered {answered:.3f} of answerable, declined {declined:.3f} of unanswerable"
            " (in-sample)"
        )


def hit_at_1(samples: list[Sample], w: np.ndarray) -> float:
    scored = [s for s in samples if s.answerable]
    hits = [bool(len(s.labels)) and bool(s.labels[int(np.argmax(s.features @ w))]) for s in scored]
    return float(np.mean(hits)) if hits else 0.0


def folds(samples: list[Sample], k: int) -> list[tuple[list[Sample], list[Sample]]]:
    groups = sorted({s.group for s in samples})
    rng = np.random.default_rng(0)
    rng.shuffle(groups)
    fold_of = {g: i % k for i, g in enumerate(groups)}
    return [
        ([s for s in samples if fold_of[s.group] != i], [s for s in samples if fold_of[s.group] == i]) for i in range(k)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.fit", description=__doc__.splitlines()[0])
    parser.add_argument("--set", nargs=2, action="append", metavar=("INDEX", "QUESTIONS"), required=True)
    parser.add_argument("--limit", type=int, default=None, help="Questions per set (default: all).")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--cache", type=Path, default=None, help="Folder to keep collected evidence in (.npz).")
    parser.add_argument("--write", action="store_true", help=f"Write the fitted models to {WEIGHTS_FILE}.")
    args = parser.parse_args(argv)
    by_set = collect_sets(
        args.set,
        args.cache,
        f"{args.limit}|{FEATURES}",
        lambda assistant, questions: collect(assistant, questions, args.limit),
        load_samples,
        save_samples,
    )
    everything = [s for samples in by_set.values() for s in samples]
    current = (
        np.array([json.loads(WEIGHTS_FILE.read_text())["ranking"].get(f, 0.0) for f in FEATURES])
        if WEIGHTS_FILE.exists()
        else None
    )
    for name, samples in by_set.items():
        held = []
        for train, test in folds(samples, args.folds):
            others = [s for other, group in by_set.items() if other != name for s in group]
            held.append((hit_at_1(test, fit_ranking(train + others)), len(test)))
        score = sum(h * n for h, n in held) / max(sum(n for _, n in held), 1)
        line = f"{name}: held-out hit@1 {score:.3f}"
        if current is not None:
            line += f" (current weights, in-sample: {hit_at_1(samples, current):.3f})"
        print(line)
    w = fit_ranking(everything)
    x, correct, _ = top_evidence(everything, w)
    cw, cb = fit_logistic(x, correct)
    # answerability is learnt only from sets that hold unanswerable questions, at their mix
    mixed = [s for samples in by_set.values() if any(not s.answerable for s in samples) for s in samples]
    threshold = 0.5
    if mixed:
        xm, _, answerable = top_evidence(mixed, w)
        aw, ab = fit_logistic(xm, answerable)
        report_abstention(xm, answerable, aw, ab)
        # the default answers at least ANSWER_RATE of answerable questions, declining what it can below
        p = 1 / (1 + np.exp(-(xm @ aw + ab)))
        threshold = float(np.quantile(p[answerable == 1], 1 - ANSWER_RATE))
        declined = float(np.mean(p[answerable == 0] < threshold))
        print(f"  default threshold {threshold:.3f}: declines {declined:.3f} of unanswerable (in-sample)")
    else:
        aw, ab = cw, cb
    logits = np.concatenate([s.features @ w for s in everything])
    labels = np.concatenate([s.labels for s in everything]).astype(float)
    pw, pb = fit_logistic(logits.reshape(-1, 1), labels)
    model = {
        "ranking": dict(zip(FEATURES, map(float, w), strict=True)),
        "platt": [float(pw[0]), pb],
        "confidence": [list(map(float, cw)), cb],
        "answerable": [list(map(float, aw)), ab],
        "answer_threshold": threshold,
        "fitted_on": {name: len(samples) for name, samples in by_set.items()},
    }
    print(json.dumps(model["ranking"], indent=1))
    if args.write:
        WEIGHTS_FILE.write_text(json.dumps(model, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {WEIGHTS_FILE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
