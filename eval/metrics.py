"""The evaluation metrics of ``newsdesk eval``, exactly as docs/interface.md defines them.

Pure functions over plain values; nothing here loads a model or an index.

*Containment.* A candidate sentence contains a gold answer when, after both are normalised,
the answer occurs in the sentence as whole words. Normalising means: Unicode compatibility
forms folded (NFKC), curly quotes and primes made straight (``'`` and ``"``), every dash and
minus sign made ``-``, case folded, and every run of white space made one space (trimmed). *Whole words* means the match is neither preceded
nor followed by a word character (``\\w``, Unicode letters, digits, underscore). So "2,000" is
not in "12,000" (preceded by "1") but is in "$2,000." and in "(2,000)". The rule is applied the
same way when the gold answer itself starts or ends with punctuation: "U.S." is in "the U.S.
Army" but not in "U.S.A" (followed by "A"). A gold answer that normalises to nothing is never
contained.

*Denominators.* hit@k, mrr@10, article@k and ``answered`` are over answerable questions (those
with at least one gold answer); ``answered_hit@1`` over answerable questions that were answered
(0.0 when none was); ``abstain_ok`` over unanswerable questions (the key is present only when
there are some); latency percentiles over every question (numpy's linear interpolation).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u02bc": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\ufe58": "-",
        "\ufe63": "-",
        "\uff0d": "-",
    }
)
_SPACE = re.compile(r"\s+")

INTERFACE_KEYS = (
    "hit@1",
    "hit@3",
    "hit@5",
    "mrr@10",
    "article@1",
    "article@5",
    "answered",
    "answered_hit@1",
    "abstain_ok",
    "latency_ms_p50",
    "latency_ms_p95",
    "questions",
    "unanswerable",
)
"""The metric keys the interface fixes, in table order (``abstain_ok`` only with unanswerables)."""


def normalize(text: str) -> str:
    """Text in the comparison form: NFKC, straight quotes and dashes, case folded, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return _SPACE.sub(" ", text.casefold()).strip()


@lru_cache(maxsize=65536)
def answer_pattern(answer: str) -> re.Pattern[str] | None:
    gold = normalize(answer)
    return re.compile(r"(?<!\w)" + re.escape(gold) + r"(?!\w)") if gold else None


def contains(candidate: str, answer: str) -> bool:
    """Whether ``candidate`` contains ``answer`` as whole words (see the module docstring)."""
    pattern = answer_pattern(answer)
    return pattern is not None and pattern.search(normalize(candidate)) is not None


def first_hit(candidates: Sequence[str], answers: Sequence[str]) -> int | None:
    """1-based rank of the first candidate containing any gold answer, or None."""
    patterns = [p for p in (answer_pattern(a) for a in answers) if p is not None]
    if not patterns:
        return None
    for rank, text in enumerate(candidates, start=1):
        normal = normalize(text)
        if any(p.search(normal) for p in patterns):
            return rank
    return None


def first_article(article_ids: Sequence[str], gold_ids: Iterable[str]) -> int | None:
    """1-based rank of the first candidate from a gold article, or None."""
    gold = set(gold_ids)
    for rank, article_id in enumerate(article_ids, start=1):
        if article_id in gold:
            return rank
    return None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one question needs for scoring: its gold data and what the system returned."""

    answers: tuple[str, ...]
    """Gold answers; empty when the corpus does not answer the question."""
    gold_articles: tuple[str, ...]
    texts: tuple[str, ...]
    """Candidate sentence texts, best first."""
    article_ids: tuple[str, ...]
    """Article id of each candidate."""
    answered: bool
    confidence: float = 0.0
    latency_ms: float = 0.0
    phrase: str | None = None
    """The answer phrase marked in the first candidate (None when none is)."""
    hit_rank: int | None = field(init=False)
    """1-based rank of the first candidate containing a gold answer (within the first 10)."""
    article_rank: int | None = field(init=False)
    """1-based rank of the first candidate from a gold article (within the first 10)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "hit_rank", first_hit(self.texts[:10], self.answers))
        object.__setattr__(self, "article_rank", first_article(self.article_ids[:10], self.gold_articles))

    @property
    def answerable(self) -> bool:
        return bool(self.answers)

    @property
    def correct(self) -> bool:
        """The first candidate contains a gold answer (never true for an unanswerable question)."""
        return self.hit_rank == 1


def declined_at(outcomes: Sequence[Outcome], answered_share: float) -> float:
    """Share of unanswerable questions a plain threshold on ``confidence`` declines when it is set to
    answer ``answered_share`` of the answerable ones (0.0 without both kinds)."""
    answerable = np.array([o.confidence for o in outcomes if o.answerable], dtype=np.float64)
    unanswerable = np.array([o.confidence for o in outcomes if not o.answerable], dtype=np.float64)
    if not len(answerable) or not len(unanswerable):
        return 0.0
    k = min(len(answerable), max(1, math.ceil(answered_share * len(answerable) - 1e-9)))
    threshold = float(np.sort(answerable)[::-1][k - 1])  # the k-th most confident answerable question
    return float(np.mean(unanswerable < threshold))


def hit_at(outcomes: Sequence[Outcome], k: int) -> float:
    """Share of answerable questions with a gold answer in one of the first ``k`` candidates."""
    return _share([o.hit_rank is not None and o.hit_rank <= k for o in outcomes if o.answerable])


def mrr_at(outcomes: Sequence[Outcome], k: int = 10) -> float:
    """Mean reciprocal rank of the first candidate containing a gold answer (0 beyond ``k``)."""
    ranks = [o.hit_rank for o in outcomes if o.answerable]
    return _mean([1.0 / r if r is not None and r <= k else 0.0 for r in ranks])


def article_at(outcomes: Sequence[Outcome], k: int) -> float:
    """Share of answerable questions with a candidate from a gold article among the first ``k``."""
    return _share([o.article_rank is not None and o.article_rank <= k for o in outcomes if o.answerable])


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (linear interpolation); 0.0 for no values."""
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if len(values) else 0.0


def compute(outcomes: Sequence[Outcome]) -> dict[str, float | int]:
    """The interface's metrics object for ``outcomes`` (rates rounded to 4 places, latency to 0.1 ms)."""
    answerable = [o for o in outcomes if o.answerable]
    unanswerable = [o for o in outcomes if not o.answerable]
    answered = [o for o in answerable if o.answered]
    latencies = [o.latency_ms for o in outcomes]
    metrics: dict[str, float | int] = {
        "hit@1": hit_at(outcomes, 1),
        "hit@3": hit_at(outcomes, 3),
        "hit@5": hit_at(outcomes, 5),
        "mrr@10": mrr_at(outcomes, 10),
        "article@1": article_at(outcomes, 1),
        "article@5": article_at(outcomes, 5),
        "answered": _share([o.answered for o in answerable]),
        "answered_hit@1": _share([o.correct for o in answered]),
    }
    if unanswerable:
        metrics["abstain_ok"] = _share([not o.answered for o in unanswerable])
    if any(o.phrase is not None for o in outcomes):
        metrics.update(span_metrics(outcomes))
    metrics = {key: round(float(value), 4) for key, value in metrics.items()}
    metrics["latency_ms_p50"] = round(percentile(latencies, 50), 1)
    metrics["latency_ms_p95"] = round(percentile(latencies, 95), 1)
    metrics["questions"] = len(outcomes)
    metrics["unanswerable"] = len(unanswerable)
    return metrics


SPAN_KEYS = ("span_rate", "span_em", "span_f1")
"""Answer-phrase metrics, present when the system marks phrases: the share of answered questions
whose first sentence carries a phrase, and SQuAD's exact match and token F1 of that phrase against
the gold answers, over answerable questions whose first sentence contains a gold answer (no
phrase scores 0)."""

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = re.compile(r"[^\w\s]")


def _span_tokens(text: str) -> list[str]:
    """SQuAD's answer normalisation: case folded, punctuation and articles dropped, words split."""
    return _ARTICLES.sub(" ", _PUNCTUATION.sub(" ", normalize(text))).split()


def token_f1(predicted: str, gold: str) -> float:
    """SQuAD token F1 of one predicted phrase against one gold answer."""
    p, g = _span_tokens(predicted), _span_tokens(gold)
    common = sum(min(p.count(t), g.count(t)) for t in set(p))
    if not p or not g or common == 0:
        return float(p == g)
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def exact_match(predicted: str, gold: str) -> bool:
    """SQuAD exact match after normalisation."""
    return _span_tokens(predicted) == _span_tokens(gold)


def span_metrics(outcomes: Sequence[Outcome]) -> dict[str, float]:
    """:data:`SPAN_KEYS` over ``outcomes``."""
    answered = [o for o in outcomes if o.answered]
    right = [o for o in outcomes if o.correct]
    f1 = [max(token_f1(o.phrase, a) for a in o.answers) if o.phrase else 0.0 for o in right]
    em = [any(exact_match(o.phrase, a) for a in o.answers) if o.phrase else False for o in right]
    return {
        "span_rate": _share([o.phrase is not None for o in answered]),
        "span_em": _share(em),
        "span_f1": _mean(f1),
    }


def coverage_curve(outcomes: Sequence[Outcome]) -> list[tuple[float, float, float]]:
    """``(threshold, coverage, accuracy)`` for every distinct confidence, highest threshold first.

    A question is covered when its confidence is at or above the threshold; accuracy is the share
    of covered questions whose first candidate contains a gold answer (a covered unanswerable
    question counts as wrong). Coverage is over all questions.
    """
    if not outcomes:
        return []
    confidence = np.array([o.confidence for o in outcomes], dtype=np.float64)
    correct = np.array([o.correct for o in outcomes], dtype=np.float64)
    order = np.argsort(-confidence, kind="stable")
    confidence, correct = confidence[order], correct[order]
    covered = np.arange(1, len(order) + 1)
    hits = np.cumsum(correct)
    curve = []
    for i in range(len(order)):
        if i + 1 < len(order) and confidence[i + 1] == confidence[i]:
            continue  # ties enter together
        curve.append((float(confidence[i]), float(covered[i] / len(order)), float(hits[i] / covered[i])))
    return curve


@dataclass(frozen=True, slots=True)
class Bin:
    """One bin of a reliability diagram."""

    low: float
    high: float
    count: int
    confidence: float
    """Mean confidence of the questions in the bin."""
    accuracy: float
    """Share of them whose first candidate contains a gold answer."""


def reliability(outcomes: Sequence[Outcome], bins: int = 10) -> list[Bin]:
    """Questions grouped by confidence into ``bins`` equal-width bins (empty bins left out)."""
    out = []
    for n in range(bins):
        low, high = n / bins, (n + 1) / bins
        inside = [o for o in outcomes if low <= o.confidence < high or (n == bins - 1 and o.confidence >= high)]
        if inside:
            out.append(
                Bin(low, high, len(inside), _mean([o.confidence for o in inside]), _share([o.correct for o in inside]))
            )
    return out


def calibration_error(table: Sequence[Bin]) -> float:
    """Expected calibration error: bin-size-weighted mean of |accuracy - confidence|."""
    total = sum(b.count for b in table)
    return sum(b.count * abs(b.accuracy - b.confidence) for b in table) / total if total else 0.0


def _share(flags: Sequence[bool]) -> float:
    return sum(1 for f in flags if f) / len(flags) if flags else 0.0


def _mean(values: Sequence[float]) -> float:
    return float(sum(values) / len(values)) if values else 0.0
