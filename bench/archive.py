"""The archive-scale size of ``make bench``: about 300k sentences of real news from the shared RealTime QA pages.

``python -m bench.archive OUT_DIR`` writes ``OUT_DIR/archive.jsonl`` (one 38 MB JSONL export: every page
linked by a question of the held-out weeks, then the other pages in file order) and
``OUT_DIR/questions.jsonl`` (those weeks' questions whose pages are all in it). Deterministic.
The held-out weeks are those ``eval.reader_data`` keeps out of the reader's training and calibration.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

from bench.measure import shared_data

ARCHIVE_BYTES = 38_000_000
HELD_OUT_FROM = "2025-02-14"
"""First held-out RealTime QA week (``eval.reader_data``: the last quarter of the weeks)."""


def shared_realtimeqa() -> Path | None:
    """The shared RealTime QA folder, if present."""
    return shared_data("realtimeqa-2023", "articles.jsonl.gz", "questions.jsonl")


def write_subset(source: Path, out: Path, budget: int = ARCHIVE_BYTES) -> tuple[int, int]:
    """Write the archive and its questions into ``out``; returns (articles, questions)."""
    questions = [json.loads(line) for line in (source / "questions.jsonl").read_text(encoding="utf-8").splitlines()]
    held = [q for q in questions if q["meta"]["week"] >= HELD_OUT_FROM]
    linked = {a for q in held for a in q["article_ids"]}
    with gzip.open(source / "articles.jsonl.gz", "rt", encoding="utf-8") as handle:
        pages = [json.loads(line) for line in handle if line.strip()]
    chosen, size = [], 0
    for page in [p for p in pages if p["id"] in linked] + [p for p in pages if p["id"] not in linked]:
        line = json.dumps(page) + "\n"
        if size + len(line) > budget and page["id"] not in linked:
            break
        chosen.append(line)
        size += len(line)
    out.mkdir(parents=True, exist_ok=True)
    (out / "archive.jsonl").write_text("".join(chosen), encoding="utf-8")
    kept = {json.loads(line)["id"] for line in chosen}
    asked = [q for q in held if all(a in kept for a in q["article_ids"])]
    with (out / "questions.jsonl").open("w", encoding="utf-8") as handle:
        for q in asked:
            handle.write(json.dumps({k: q[k] for k in ("id", "question", "answers", "article_ids")}) + "\n")
    return len(chosen), len(asked)


def main(argv: list[str]) -> int:
    source = shared_realtimeqa()
    if source is None:
        print("bench.archive: ../shared/data/realtimeqa-2023 not found", file=sys.stderr)
        return 2
    articles, questions = write_subset(source, Path(argv[0]))
    print(f"{articles} articles, {questions} questions")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
