"""Helpers shared by the reliability tests: fixed questions, snapshots of answers, child processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import FakeEmbedder

from index import store

CHILD = Path(__file__).resolve().parent / "index_child.py"
QUESTIONS = (
    "When did the Harbor Street bridge reopen?",
    "What time does the library close?",
    "Who saw the comet?",
    "How much are the farm tariffs?",
    "How did the council vote on the stadium?",
)


def answers(index_dir: Path) -> list[str]:
    """``ask --json`` objects for the fixed questions, from a freshly opened index."""
    from qa import Assistant

    assistant = Assistant.open(index_dir, embedder=FakeEmbedder())
    return [assistant.ask(q, k=3).model_dump_json() for q in QUESTIONS]


def write_extra(folder: Path, n: int = 3) -> Path:
    """A folder of ``n`` new articles to add to the tiny corpus."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"extra-{i}.txt").write_text(
            f"Ferry service {i} resumes\n\nThe ferry route number {i} resumed on Monday after storms. "
            f"Officials said {i * 40 + 12} passengers rode the first crossing.\n",
            encoding="utf-8",
        )
    return folder


def leftovers(index_dir: Path) -> list[str]:
    """Temp files and folders a writer left behind."""
    return sorted(p.name for p in index_dir.iterdir() if p.name.startswith(".tmp-") or p.name.endswith(".tmp"))


def generations(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.iterdir() if p.name.startswith("gen-"))


def child(index_dir: Path, *paths: Path, **env: str) -> subprocess.Popen[str]:
    """Start ``tests/index_child.py`` (the real ``newsdesk index`` with the fake embedder)."""
    full = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **env}
    return subprocess.Popen(
        [sys.executable, str(CHILD), str(index_dir), *map(str, paths)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=full,
    )


def assert_whole(index_dir: Path) -> store.VerifyReport:
    """The live generation verifies completely."""
    return store.verify(index_dir)
