"""Answering a question set with the full system and the baselines, and scoring the results."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from eval.metrics import Outcome, compute
from eval.questions import Question, asking_order
from qa.render import phrase

if TYPE_CHECKING:
    from index.embed.embedder import Embedder

K = 10
"""Candidates asked for per question (mrr@10 needs ten)."""

SEGMENTS = {"first_turns": "first turns", "follow_ups": "follow-ups"}
"""Extra metric groups for conversations: turn 1, and turns 2 and later."""


@dataclass(slots=True)
class SystemResult:
    """One system's outcomes over the whole question set."""

    name: str
    label: str
    outcomes: list[Outcome]
    abstains: bool
    seconds: float
    """Wall time of the whole run (answering only, index already loaded)."""
    answers: list[Any] = field(default_factory=list)
    """The full system's ``qa.Answer`` per question (empty for baselines)."""


class QuestionVectors:
    """An embedder that serves question vectors encoded beforehand in batches, else asks ``inner``.

    Follow-up turns are searched with text that is only known when asked; those miss and are
    embedded on the spot (inside the timed call).
    """

    def __init__(self, inner: Embedder, texts: Sequence[str], *, batch: int = 64, progress: Bar | None = None) -> None:
        self.inner = inner
        self.name, self.backend, self.fingerprint = inner.name, inner.backend, inner.fingerprint
        self.dim, self.max_tokens = inner.dim, inner.max_tokens
        unique = sorted(dict.fromkeys(t.strip() for t in texts), key=len)  # similar lengths pad less
        self._vectors: dict[str, np.ndarray] = {}
        started = time.perf_counter()
        for begin in range(0, len(unique), batch):
            part = unique[begin : begin + batch]
            for text, vector in zip(part, inner.embed(part), strict=True):
                self._vectors[text] = vector
            if progress is not None:
                progress.advance(len(part))
        self.seconds = time.perf_counter() - started
        self.share_ms = self.seconds * 1000.0 / max(1, len(unique))
        """Batch encoding time per question, added to each question's latency."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in texts if t not in self._vectors]
        fresh = dict(zip(missing, self.inner.embed(missing), strict=True)) if missing else {}
        return np.stack([self._vectors[t] if t in self._vectors else fresh[t] for t in texts]).astype(np.float32)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return list(self.inner.count_tokens(texts))


class Bar:
    """A progress bar on stderr (tqdm on a terminal, a few plain lines otherwise)."""

    def __init__(self, total: int, what: str, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.total, self.what, self.done = total, what, 0
        self._started = time.perf_counter()
        self._next = 0
        self._tqdm = None
        if getattr(self.stream, "isatty", lambda: False)():
            from tqdm import tqdm

            self._tqdm = tqdm(total=total, desc=what, unit="q", file=self.stream, mininterval=0.5, leave=False)
        self._line()

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self._tqdm is not None:
            self._tqdm.update(n)
        elif self.done >= self._next:
            self._line()

    def close(self) -> None:
        if self._tqdm is not None:
            self._tqdm.close()
        seconds = time.perf_counter() - self._started
        self.stream.write(f"{self.what}: {self.done}/{self.total} in {seconds:.1f} s\n")
        self.stream.flush()

    def _line(self) -> None:
        if self._tqdm is None:
            self.stream.write(f"{self.what}: {self.done}/{self.total}\n")
            self.stream.flush()
            self._next = self.done + max(1, self.total // 10)


def answer_all(
    assistant: Any,
    questions: Sequence[Question],
    *,
    k: int = K,
    filters: dict[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
) -> SystemResult:
    """Ask every question (conversations turn by turn through one ``conversation()`` each)."""
    filters = filters or {}
    share_ms = float(getattr(assistant.embedder, "share_ms", 0.0))
    answers: list[Any] = [None] * len(questions)
    latency = [0.0] * len(questions)
    started = time.perf_counter()
    for group in asking_order(list(questions)):
        chat = assistant.conversation() if questions[group[0]].conversation is not None else None
        for position in group:
            ask = chat.ask if chat is not None else assistant.ask
            begin = time.perf_counter()
            answers[position] = ask(questions[position].question, k=k, **filters)
            latency[position] = (time.perf_counter() - begin) * 1000.0 + share_ms
            if progress is not None:
                progress(1)
    seconds = time.perf_counter() - started + float(getattr(assistant.embedder, "seconds", 0.0))
    outcomes = [
        Outcome(
            answers=q.answers,
            gold_articles=q.article_ids,
            texts=tuple(s.text for s in a.sentences),
            article_ids=tuple(s.article_id for s in a.sentences),
            answered=bool(a.answered),
            confidence=float(a.confidence),
            latency_ms=round(ms, 3),  # as the predictions file holds it, so its metrics recompute
            phrase=phrase(a.sentences[0]) if a.sentences else None,
        )
        for q, a, ms in zip(questions, answers, latency, strict=True)
    ]
    return SystemResult("newsdesk", "newsdesk", outcomes, True, seconds, answers)


def baseline_result(
    name: str,
    label: str,
    data: Any,
    questions: Sequence[Question],
    rankings: Any,
    seconds: float,
    best_scores: Sequence[float] | None = None,
) -> SystemResult:
    """Outcomes of a baseline from its rankings; latency is the run's time spread evenly. It answers
    every question; its confidence is its first row's score where given (dense: the best cosine), else 1."""
    each = seconds * 1000.0 / max(1, len(questions))
    scores = list(best_scores) if best_scores is not None else [1.0] * len(questions)
    outcomes = []
    for q, rows, score in zip(questions, rankings, scores, strict=True):
        rows = [int(r) for r in rows]
        outcomes.append(
            Outcome(
                answers=q.answers,
                gold_articles=q.article_ids,
                texts=tuple(data.sentence_text(r) for r in rows),
                article_ids=tuple(data.articles[int(data.sentences[r, 0])].id for r in rows),
                answered=True,
                confidence=score,
                latency_ms=round(each, 3),
            )
        )
    return SystemResult(name, label, outcomes, False, seconds)


def metrics_object(result: SystemResult, questions: Sequence[Question]) -> dict[str, Any]:
    """The interface's metrics, plus ``first_turns``/``follow_ups`` groups when there are conversations."""
    metrics: dict[str, Any] = dict(compute(result.outcomes))
    for key, outcomes in segments(result, questions).items():
        metrics[key] = compute(outcomes)
    return metrics


def segments(result: SystemResult, questions: Sequence[Question]) -> dict[str, list[Outcome]]:
    """Outcomes of conversation first turns and of follow-up turns (empty when no conversations)."""
    first = [o for o, q in zip(result.outcomes, questions, strict=True) if q.conversation is not None and q.turn == 1]
    later = [
        o for o, q in zip(result.outcomes, questions, strict=True) if q.conversation is not None and (q.turn or 0) >= 2
    ]
    if not first and not later:
        return {}
    return {"first_turns": first, "follow_ups": later}


def write_predictions(path: Path, questions: Sequence[Question], result: SystemResult) -> None:
    """One JSON line per question, in input order: id, question, answered, confidence, sentences."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for q, answer, outcome in zip(questions, result.answers, result.outcomes, strict=True):
            row = {
                "id": q.id,
                "question": q.question,
                "answered": bool(answer.answered),
                "confidence": float(answer.confidence),
                "sentences": [s.model_dump(mode="json") for s in answer.sentences],
                "latency_ms": outcome.latency_ms,
            }
            out.write(json.dumps(row) + "\n")
