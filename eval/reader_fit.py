"""Fit how the reader's evidence is used: ``python -m eval.reader_fit --set INDEX QUESTIONS ... --write``.

Over calibration sets (never the held-out ones of ``eval.reader_data``), the feature ranker's best
candidates are read by the shipped reader, and three things are fitted into ``qa/weights.json``
(key ``reader``):

1. *depth*: how many of the ranker's best sentences the reader reads;
2. *sentence*: a logistic model over the reader's logit, the ranker's score (as a logit) and the
   reader's phrase score: the chance each read sentence answers the question; sentences are
   reranked by it;
3. *confidence*: a logistic model over the top sentences' evidence (:data:`qa.ranker.
   READER_CONFIDENCE_FEATURES`): the chance the first sentence answers the question, with
   unanswerable questions as negatives; and the *threshold* below which a question is declined,
   set so that :data:`ANSWER_RATE` of the answerable questions of the sets holding unanswerable
   ones are answered, on average over those sets (each counts the same).

Figures labelled *2-fold* are measured on the half of the articles not fitted; *in-sample* ones
are not held out.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from eval.fit import collect_sets, fit_logistic, load_groups, save_groups
from eval.metrics import contains
from qa import Assistant, ranker
from qa.assistant import distinct_positions
from qa.ranker import WEIGHTS_FILE
from qa.reader import MODEL_FOLDER, shipped_reader

DEPTHS = (4, 6, 8, 10, 12, 16)
DEPTH_GAIN = 0.005
"""Mean hit@1 a deeper read must add over the best shallower one: each sentence read costs latency."""
ANSWER_RATE = 0.90


@dataclass(slots=True)
class Reading:
    """One question's read candidates (ranker order) and labels."""

    prior: np.ndarray
    relevance: np.ndarray
    span_scores: np.ndarray
    labels: np.ndarray
    evidence: np.ndarray
    answerable: bool
    group: str
    best_cos: float
    weight: float = 1.0


def collect(assistant: Assistant, questions: list[dict[str, Any]], depth: int, limit: int | None) -> list[Reading]:
    """The ranker's best ``depth`` distinct sentences per self-contained question, read (by the shipped
    reader when the assistant was opened without one)."""
    if assistant.reader is None:
        assistant.reader = shipped_reader()
    chosen = [q for q in questions if int(q.get("turn", 1) or 1) == 1][: limit or None]
    vectors = assistant.embedder.embed([q["question"].strip() for q in chosen])
    out: list[Reading] = []
    for n, q in enumerate(chosen, start=1):
        text = q["question"].strip()
        found = assistant.retriever.candidates(assistant.retriever.prepare(text, vector=vectors[n - 1]))
        if len(found.rows) == 0:
            continue
        ranked = assistant.rank(text, found)
        read, _ = distinct_positions(assistant.data, ranked.rows, depth)
        rows = [int(ranked.rows[p]) for p in read]
        reading = assistant.reader.read([assistant.reader_input(text, r) for r in rows])
        answers = q.get("answers") or []
        labels = np.array([any(contains(assistant.data.sentence_text(r), a) for a in answers) for r in rows])
        group = str((q.get("article_ids") or [q["id"]])[0])
        out.append(
            Reading(ranker.logit(ranked.scores[read]), reading.relevance, reading.span_scores, labels, ranked.evidence,
                    bool(answers), group, ranked.best_cos)
        )
        if n % 500 == 0:
            print(f"  read: {n}/{len(chosen)}", file=sys.stderr)
    return out


_RAGGED = ("prior", "relevance", "span_scores", "labels")


def save(path: Path, readings: list[Reading]) -> None:
    """Keep readings as plain arrays, to refit without reading again."""
    save_groups(
        path,
        {name: [getattr(r, name) for r in readings] for name in _RAGGED},
        {
            "evidence": np.stack([r.evidence for r in readings]),
            "answerable": np.array([r.answerable for r in readings]),
            "groups": np.array([r.group for r in readings], dtype=str),
            "best_cos": np.array([r.best_cos for r in readings]),
        },
    )


def load(path: Path) -> list[Reading]:
    split, flat = load_groups(path, _RAGGED)
    return [
        Reading(
            split["prior"][i],
            split["relevance"][i],
            split["span_scores"][i],
            split["labels"][i],
            flat["evidence"][i],
            bool(flat["answerable"][i]),
            str(flat["groups"][i]),
            float(flat["best_cos"][i]),
        )
        for i in range(len(flat["groups"]))
    ]


def _sentence_fit(readings: list[Reading], depth: int) -> np.ndarray:
    x = np.concatenate(
        [np.stack([r.relevance[:depth], r.prior[:depth], r.span_scores[:depth] / 10.0], 1) for r in readings]
    )
    y = np.concatenate([r.labels[:depth] for r in readings]).astype(float)
    w, b = fit_logistic(x, y)
    return np.append(w, b)


def _rerank(r: Reading, weights: ranker.ReaderWeights) -> tuple[np.ndarray, np.ndarray]:
    """(combined logits best first, positions best first) within the depth."""
    d = weights.depth
    combined = ranker.reader_sentence_logits(weights, r.relevance[:d], r.prior[:d], r.span_scores[:d])
    order = np.argsort(-combined, kind="stable")
    return combined[order], order


def _weights(depth: int, sentence: np.ndarray, confidence: np.ndarray | None = None, threshold: float = 0.5) -> ranker.ReaderWeights:
    conf = confidence if confidence is not None else np.zeros(len(ranker.READER_CONFIDENCE_FEATURES) + 1)
    return ranker.ReaderWeights(depth=depth, sentence=sentence, confidence=conf, threshold=threshold)


def hit_at_1(readings: list[Reading], weights: ranker.ReaderWeights) -> float:
    scored = [r for r in readings if r.answerable]
    return float(np.mean([bool(r.labels[_rerank(r, weights)[1][0]]) for r in scored])) if scored else 0.0


def confidence_rows(
    readings: list[Reading], weights: ranker.ReaderWeights, target: str = "correct"
) -> tuple[np.ndarray, np.ndarray]:
    """Confidence features per question, and the target: first sentence right, or answerable."""
    xs, ys = [], []
    for r in readings:
        combined, order = _rerank(r, weights)
        d = weights.depth
        xs.append(
            ranker.reader_confidence_features(
                combined, r.relevance[:d][order], r.evidence, r.span_scores[:d][order], r.best_cos
            )
        )
        ys.append(float(r.answerable and (target == "answerable" or bool(r.labels[order[0]]))))
    return np.array(xs), np.array(ys)


def balanced_threshold(p: np.ndarray, answerable: np.ndarray, sets: list[str], rate: float = ANSWER_RATE) -> float:
    """The highest confidence threshold that answers ``rate`` of the answerable questions on average
    over the sets, each set counting the same whatever its size (SQuAD 2.0's 1,000 answerable
    questions would otherwise set it for the news sets' hundred)."""
    names = sorted({s for s, a in zip(sets, answerable, strict=True) if a})
    groups = [p[answerable & (np.array(sets) == name)] for name in names]
    for t in np.unique(p[answerable])[::-1]:
        if np.mean([np.mean(g >= t) for g in groups]) >= rate:
            return float(t)
    return float(p[answerable].min()) if answerable.any() else 0.5


def _halves(readings: list[Reading]) -> tuple[list[Reading], list[Reading]]:
    groups = sorted({r.group for r in readings})
    rng = np.random.default_rng(0)
    rng.shuffle(groups)
    first = set(groups[::2])
    return [r for r in readings if r.group in first], [r for r in readings if r.group not in first]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.reader_fit", description=__doc__.splitlines()[0])
    parser.add_argument("--set", nargs=2, action="append", metavar=("INDEX", "QUESTIONS"), required=True)
    parser.add_argument("--limit", type=int, default=None, help="Questions per set (default: all).")
    parser.add_argument("--depth", type=int, default=None, help="Fix the depth instead of choosing it.")
    parser.add_argument(
        "--target", choices=("correct", "answerable"), default="correct",
        help="What the confidence model is fitted to: the first sentence is right (default), or the question "
        "is answerable.",
    )
    parser.add_argument("--cache", type=Path, default=None, help="Folder to keep the readings in (.npz).")
    parser.add_argument("--write", action="store_true", help=f"Write the fitted models into {WEIGHTS_FILE}.")
    args = parser.parse_args(argv)
    reader_sha = json.loads((MODEL_FOLDER / "reader.json").read_text(encoding="utf-8"))["sha256"]
    read_depth = max(DEPTHS) if args.depth is None else args.depth  # a fixed depth reads only that deep
    by_set = collect_sets(
        args.set,
        args.cache,
        f"{args.limit}|{reader_sha}" + ("" if args.depth is None else f"|{read_depth}"),
        lambda assistant, questions: collect(assistant, questions, read_depth, args.limit),
        load,
        save,
    )
    everything = [r for rs in by_set.values() for r in rs]

    best_depth, best_hit = DEPTHS[0], -1.0
    for depth in DEPTHS if args.depth is None else (args.depth,):
        held = []
        for name, rs in by_set.items():
            a, b = _halves(rs)
            others = [r for n2, r2 in by_set.items() if n2 != name for r in r2]
            h = (hit_at_1(b, _weights(depth, _sentence_fit(a + others, depth))) * len(b)
                 + hit_at_1(a, _weights(depth, _sentence_fit(b + others, depth))) * len(a)) / max(1, len(rs))
            held.append(h)
            print(f"depth {depth:2d} {name}: hit@1 {h:.3f} (2-fold by article)")
        mean = float(np.mean(held))
        if mean > best_hit + DEPTH_GAIN:
            best_depth, best_hit = depth, mean
    for name, rs in by_set.items():
        baseline = float(np.mean([bool(r.labels[0]) for r in rs if r.answerable])) if any(r.answerable for r in rs) else 0
        print(f"ranker alone {name}: hit@1 {baseline:.3f}")
    sentence = _sentence_fit(everything, best_depth)
    weights = _weights(best_depth, sentence)
    mixed = [r for rs in by_set.values() if any(not r.answerable for r in rs) for r in rs]
    set_of = {id(r): name for name, rs in by_set.items() for r in rs}
    for target in ("correct", "answerable"):
        a, b = _halves(mixed)
        results = []
        for fit_on, test_on in ((a, b), (b, a)):
            xf, yf = confidence_rows(fit_on, weights, target)
            w_, b_ = fit_logistic(xf, yf)
            pf = 1 / (1 + np.exp(-(xf @ w_ + b_)))
            t = balanced_threshold(pf, np.array([r.answerable for r in fit_on]), [set_of[id(r)] for r in fit_on])
            xt, _ = confidence_rows(test_on, weights, target)
            pt = 1 / (1 + np.exp(-(xt @ w_ + b_)))
            ans = np.array([r.answerable for r in test_on])
            results.append((float(np.mean(pt[ans] >= t)), float(np.mean(pt[~ans] < t))))
        answered, declined = np.mean(results, axis=0)
        print(f"confidence fitted to '{target}': answered {answered:.3f}, declined {declined:.3f} (2-fold by article)")
    x, y = confidence_rows(everything, weights, args.target)
    cw, cb = fit_logistic(x, y)
    confidence = np.append(cw, cb)
    threshold = 0.5
    if mixed:
        xm, _ = confidence_rows(mixed, weights, args.target)
        p = 1 / (1 + np.exp(-(xm @ cw + cb)))
        answerable = np.array([r.answerable for r in mixed])
        threshold = balanced_threshold(p, answerable, [set_of[id(r)] for r in mixed])
    final = _weights(best_depth, sentence, confidence, threshold)
    for name, rs in by_set.items():
        xs, _ = confidence_rows(rs, final, args.target)
        p = 1 / (1 + np.exp(-(xs @ cw + cb)))
        answerable = np.array([r.answerable for r in rs])
        line = f"{name}: hit@1 {hit_at_1(rs, final):.3f}, answered {np.mean(p[answerable] >= threshold):.3f}"
        if (~answerable).any():
            line += f", declined {np.mean(p[~answerable] < threshold):.3f} of unanswerable"
        print(line + " (in-sample)")
    model = {
        "depth": best_depth,
        "sentence": sentence.tolist(),
        "confidence": confidence.tolist(),
        "threshold": threshold,
        "target": args.target,
        "fitted_on": {name: len(rs) for name, rs in by_set.items()},
    }
    print(json.dumps(model))
    if args.write:
        raw = json.loads(WEIGHTS_FILE.read_text(encoding="utf-8"))
        raw["reader"] = model
        WEIGHTS_FILE.write_text(json.dumps(raw, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {WEIGHTS_FILE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
