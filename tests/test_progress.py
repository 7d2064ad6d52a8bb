"""Indexing says what it is doing from the first second: steps, counts, rate and time left."""

from __future__ import annotations

import io
import json
from pathlib import Path

from conftest import FakeEmbedder

from index.build import Progress, update_index


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_plain_lines_at_start_every_interval_and_at_the_end() -> None:
    out, clock = io.StringIO(), Clock()
    progress = Progress(out, log_interval=10.0, clock=clock)
    for second in range(0, 31):
        clock.now = float(second)
        progress(second * 100, 3000, "embedding")
    clock.now = 31.0
    progress(3000, 3000, "embedding")
    lines = out.getvalue().splitlines()
    assert lines[0] == "embedding: 0/3,000 (0%)"
    assert lines[1] == "embedding: 1,000/3,000 (33%), 100/s, ETA 0:20"
    assert lines[-1] == "embedding: 3,000/3,000 (100%), 97/s"
    assert len(lines) == 5  # start, every 10 s, end


def test_unknown_totals_and_announced_steps() -> None:
    out, clock = io.StringIO(), Clock()
    progress = Progress(out, clock=clock)
    progress(0, 0, "writing the new generation")
    progress(1234, 0, "reading articles")
    assert out.getvalue().splitlines() == ["writing the new generation...", "reading articles: 1,234"]


def test_a_build_reports_every_step(tmp_path: Path) -> None:
    with (tmp_path / "a.jsonl").open("w") as handle:
        for n in range(5):
            handle.write(json.dumps({"id": f"a{n}", "text": f"Story {n} has one sentence. And another {n}."}) + "\n")
    out = io.StringIO()
    update_index(tmp_path / "idx", [tmp_path / "a.jsonl"], FakeEmbedder(), progress=Progress(out))
    steps = [line.split(":")[0].removesuffix("...") for line in out.getvalue().splitlines()]
    assert list(dict.fromkeys(steps)) == [
        "reading articles",
        "splitting and embedding articles",
        "building the vector and BM25 indexes of 10 sentences",
        "writing the new generation",
    ]


def test_on_a_terminal_the_line_is_redrawn_in_place() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out, clock = Terminal(), Clock()
    progress = Progress(out, min_interval=0.5, clock=clock)
    for tenth in range(0, 21):
        clock.now = tenth / 10
        progress(tenth, 20, "embedding")
    text = out.getvalue()
    assert text.startswith("\r\x1b[Kembedding: 0/20 (0%)") and text.endswith("embedding: 20/20 (100%), 10/s\n")
    assert text.count("\r") == 5 and text.count("\n") == 1  # start, every 0.5 s (with the end); one line left
