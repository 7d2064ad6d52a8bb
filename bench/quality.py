"""Answer quality on a whole question set: ``python -m bench.quality INDEX QUESTIONS.jsonl``.

Like ``newsdesk eval``: question vectors are encoded beforehand in batches, then every question is
answered by the full system (k = 10). Prints the eval metrics plus a 0/1 string of hit@1 per
question, so two backends can be compared question by question. The backend comes from
``NEWSDESK_BACKEND``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    from eval.metrics import compute
    from eval.questions import load_questions
    from eval.run import QuestionVectors, answer_all
    from index.embedder import load_embedder
    from qa import Assistant, Settings

    settings = Settings(index=Path(argv[0]))
    questions = load_questions(Path(argv[1]))
    inner = load_embedder(settings.model, settings.backend)
    embedder = QuestionVectors(inner, [q.question for q in questions])
    assistant = Assistant.open(settings=settings, embedder=embedder)
    result = answer_all(assistant, questions)
    metrics = compute(result.outcomes)
    metrics["backend"] = inner.backend
    metrics["hits"] = "".join("1" if o.correct else "0" for o in result.outcomes)
    print(json.dumps(metrics))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
