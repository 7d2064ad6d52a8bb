"""Answering latency and quality with the index loaded: ``python -m bench.answer INDEX QUESTIONS.jsonl``.

Uses the same loop as ``newsdesk eval`` (``eval.run.answer_all``, k = 10) but every question is
encoded inside its own timed call (no batch pre-encoding), so the latency is what a user waits.
Prints one JSON object: the eval metrics plus p99 and the load time. The backend comes from
``NEWSDESK_BACKEND`` like everywhere else.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    index_dir, questions_file = Path(argv[0]), Path(argv[1])
    limit = int(argv[2]) if len(argv) > 2 else 0
    from bench.measure import percentiles
    from eval.metrics import compute
    from eval.questions import load_questions
    from eval.run import answer_all
    from qa import Assistant, Settings

    questions = load_questions(questions_file)
    if limit and limit < len(questions):
        questions = [q for q in questions if q.conversation is None]
        questions = sorted(random.Random(6).sample(questions, min(limit, len(questions))), key=lambda q: q.id)
    started = time.perf_counter()
    assistant = Assistant.open(settings=Settings(index=index_dir))
    load_seconds = time.perf_counter() - started
    assistant.ask("warm-up question about the news")  # first-call allocations are not a user's latency
    result = answer_all(assistant, questions)
    metrics = compute(result.outcomes)
    latency = percentiles([o.latency_ms for o in result.outcomes])
    metrics.update({f"latency_ms_{key}": value for key, value in latency.items()})
    metrics["backend"] = assistant.embedder.backend
    metrics["open_seconds"] = round(load_seconds, 3)
    print(json.dumps(metrics))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
