"""The conversation as Markdown, written to a file whose path is shown to the user."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from qa.render import NOT_FOUND
from qa.safe_text import visible
from qa.types import Answer


def _line(text: str | None) -> str:
    return " ".join(visible(text or "").split())


def answer_markdown(answer: Answer) -> str:
    """One answer: a status line, numbered sentences and their citations."""
    lines: list[str] = []
    if answer.answered:
        lines.append(f"**Answer** (confidence {answer.confidence:.2f})")
    elif answer.sentences:
        lines.append(f"**{NOT_FOUND}** Closest sentences (confidence {answer.confidence:.2f}):")
    else:
        lines.append(f"**{NOT_FOUND}** No sentence matched the question.")
    lines.append("")
    for number, s in enumerate(answer.sentences, start=1):
        meta = ", ".join(_line(p) for p in (s.source, s.published) if p)
        cite = f"*{_line(s.title) or '(untitled)'}*" + (f", {meta}" if meta else "")
        url = f" <{_line(s.url)}>" if s.url else ""
        lines.append(f"{number}. {_line(s.text)}")
        lines.append(f"   — {cite}{url} ({_line(s.article_id)}, chars {s.start}-{s.end})")
        copies = getattr(s, "also_in", None) or []
        if copies:
            names = ", ".join(_line(" ".join(p for p in (c.source, c.published) if p) or c.article_id) for c in copies)
            lines.append(f"   — also in: {names}")
    return "\n".join(lines)


def conversation_markdown(turns: Sequence[tuple[str, Answer | None]], index_label: str = "") -> str:
    """Every turn as ``## n. question`` followed by its answer."""
    out = ["# newsdesk conversation", ""]
    if index_label:
        out += [f"Index: `{_line(index_label)}`", ""]
    for number, (question, answer) in enumerate(turns, start=1):
        out += [f"## {number}. {_line(question)}", ""]
        out += [answer_markdown(answer) if answer is not None else "*(not answered)*", ""]
    return "\n".join(out).rstrip() + "\n"


def export_path(directory: Path, started: datetime) -> Path:
    """``newsdesk-chat-YYYYmmdd-HHMMSS.md`` in ``directory`` (``-2``, ``-3``... if taken)."""
    stem = f"newsdesk-chat-{started:%Y%m%d-%H%M%S}"
    path = directory / f"{stem}.md"
    n = 2
    while path.exists():
        path = directory / f"{stem}-{n}.md"
        n += 1
    return path


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` (UTF-8) via a temporary file and a rename; return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path.resolve()
