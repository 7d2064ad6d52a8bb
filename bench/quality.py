"""Answer quality on a whole question set: ``python -m bench.quality QUESTIONS.jsonl INDEX=BACKEND...``.

Like ``newsdesk eval``: question vectors are encoded beforehand in batches, then every question is
answered by the full system (k = 10). All backends are evaluated in this one process, so they run
the very same retrieval and ranking code even while that code is being edited. Prints one JSON
object: per backend the eval metrics plus a 0/1 string of hit@1 per question.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any


def evaluate(questions_file: Path, index_dir: Path, backend: str) -> dict[str, Any]:
    from eval.metrics import compute
    from eval.questions import load_questions
    from eval.run import QuestionVectors, answer_all
    from index.embed.embedder import load_embedder
    from qa import Assistant, Settings

    started = time.perf_counter()
    settings = Settings(index=index_dir, backend=backend)
    questions = load_questions(questions_file)
    inner = load_embedder(settings.model, backend)
    embedder = QuestionVectors(inner, [q.question for q in questions])
    assistant = Assistant.open(settings=settings, embedder=embedder)
    result = answer_all(assistant, questions)
    metrics: dict[str, Any] = dict(compute(result.outcomes))
    metrics["hits"] = "".join("1" if o.correct else "0" for o in result.outcomes)
    metrics["seconds"] = round(time.perf_counter() - started, 1)
    return metrics


def main(argv: list[str]) -> int:
    questions_file = Path(argv[0])
    out = {}
    for pair in argv[1:]:
        index_dir, _, backend = pair.rpartition("=")
        out[backend] = evaluate(questions_file, Path(index_dir), backend)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
