"""``make bench-chat``: the chat as a reporter meets it, measured over ``corpus/`` with the real model.

1. In a real terminal (tmux, 80x24, when tmux is installed): first paint, then two questions, each
   checked for its question and its ``[1]`` on screen; quit, start again, and check the earlier
   conversation is back. History goes to a scratch ``NEWSDESK_DATA_DIR``.
2. A long session in-process (Textual's Pilot, 120x40): 100 questions, the time from Enter to the
   answer on screen for answers 1-10 against 91-100.

Results go to ``bench/out/chat.json``; the exit status is 1 when a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "eval" / "questions.jsonl"
SESSION = "newsdesk-bench-chat"


def _questions() -> list[str]:
    lines = QUESTIONS.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


def _pane() -> str:
    return subprocess.run(
        ["tmux", "capture-pane", "-p", "-t", SESSION], capture_output=True, text=True, check=False
    ).stdout


def _wait_for(text: str, timeout: float) -> float | None:
    """Seconds until ``text`` shows in the pane, or None."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if text in _pane():
            return time.perf_counter() - started
        time.sleep(0.02)
    return None


def _start(index: Path, env: dict[str, str]) -> float | None:
    """Start the chat in a fresh tmux session; seconds from launch to the first paint (None: none in 30 s)."""
    command = f"{sys.executable} -m newsdesk chat --index {index}"
    subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True, check=False)
    started = time.perf_counter()
    subprocess.run(["tmux", "new-session", "-d", "-s", SESSION, "-x", "80", "-y", "24", command], env=env, check=True)
    if _wait_for("newsdesk", 30) is None:
        return None
    return round(time.perf_counter() - started, 3)


def _ask(question: str, timeout: float = 30.0) -> str:
    """Ask in the chat and return the screen once the answer is in (not while reading)."""
    subprocess.run(["tmux", "send-keys", "-t", SESSION, "-l", question], check=True)
    subprocess.run(["tmux", "send-keys", "-t", SESSION, "Enter"], check=True)
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        pane = _pane()
        busy = "Answering" in pane or "Reading" in pane
        if not busy and f"You  {question[:40]}" in pane and "Ready" in pane:
            break
        time.sleep(0.05)
    time.sleep(0.3)
    return _pane()


def _shown(pane: str, question: str) -> bool:
    """The question (its start) and a ``[1]`` line are both on screen."""
    lines = pane.splitlines()
    return any(question[:40] in line for line in lines) and any("[1]" in line for line in lines)


def terminal_checks(index: Path, questions: list[str]) -> dict[str, Any]:
    """First paint and reading from the top in tmux at 80x24; the conversation survives a restart."""
    if shutil.which("tmux") is None:
        return {"skipped": "tmux is not installed"}
    data = Path(tempfile.mkdtemp(prefix="newsdesk-chat-data-"))
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(data), "TERM": os.environ.get("TERM", "xterm-256color")}
    out: dict[str, Any] = {}
    try:
        out["first_paint_s"] = _start(index, env)
        ready = _wait_for("Ready", 60)
        out["ready_after_paint_s"] = None if ready is None else round(ready, 3)
        for n, question in enumerate(questions[:2], start=1):
            out[f"question_{n}_and_its_[1]_on_screen"] = _shown(_ask(question), question)
        subprocess.run(["tmux", "send-keys", "-t", SESSION, "C-q"], check=True)
        time.sleep(1.0)
        out["restart_first_paint_s"] = _start(index, env)
        _wait_for("Ready", 60)
        time.sleep(0.5)
        pane = _pane()
        out["after_restart_last_question_on_screen"] = questions[1][:40] in pane
        subprocess.run(["tmux", "send-keys", "-t", SESSION, "C-l"], check=True)
        time.sleep(0.8)
        out["conversations_list_shows_it"] = questions[0][:40] in _pane()
    finally:
        subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True, check=False)
        shutil.rmtree(data, ignore_errors=True)
    return out


async def _long_session(index: Path, questions: list[str], count: int) -> list[float]:
    from qa import Assistant
    from tui.app import NewsdeskApp
    from tui.history import History

    assistant = Assistant.open(index)
    app = NewsdeskApp(lambda: assistant, index_label=str(index), history=History.in_memory())
    seconds: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        for n in range(count):
            started = time.perf_counter()
            app.query_one("#prompt").value = questions[n % len(questions)]  # type: ignore[attr-defined]
            await pilot.press("enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            seconds.append(time.perf_counter() - started)
    return seconds


def long_session(index: Path, questions: list[str], count: int = 100) -> dict[str, Any]:
    """Time from Enter to the answer on screen, early answers against late ones."""
    seconds = asyncio.run(_long_session(index, questions, count))
    early, late = statistics.median(seconds[:10]), statistics.median(seconds[-10:])
    return {
        "questions": count,
        "answers_1_10_median_ms": round(early * 1000, 1),
        f"answers_{count - 9}_{count}_median_ms": round(late * 1000, 1),
        "late_over_early": round(late / early, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--index", type=Path, help="an index of corpus/ (default: build one in a scratch folder)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "chat.json")
    args = parser.parse_args(argv)
    index = args.index
    if index is None:
        index = Path(tempfile.mkdtemp(prefix="newsdesk-chat-index-")) / "index"
        subprocess.run(
            [sys.executable, "-m", "newsdesk", "index", str(ROOT / "corpus"), "--index", str(index)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    questions = _questions()
    results = {
        "terminal_80x24": terminal_checks(index, questions),
        "long_session_120x40": long_session(index, questions),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))
    checks = [v for v in results["terminal_80x24"].values() if isinstance(v, bool)]
    paint = results["terminal_80x24"].get("first_paint_s")
    return 0 if all(checks) and (paint is None or paint <= 2.0) else 1


if __name__ == "__main__":
    raise SystemExit(main())
