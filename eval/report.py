"""Tables (terminal and Markdown), charts and the Markdown report of ``newsdesk eval``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.metrics import (
    INTERFACE_KEYS,
    SPAN_KEYS,
    Outcome,
    calibration_error,
    coverage_curve,
    declined_at,
    reliability,
)
from eval.questions import Question
from eval.run import SEGMENTS, SystemResult

RATE_DIGITS = 3
WORST = 20
SEGMENT_KEYS = ("hit@1", "mrr@10", "article@1")
"""Metrics repeated for conversation first turns and follow-ups."""


@dataclass(frozen=True, slots=True)
class Table:
    """A side-by-side table: one column per system, one row per metric."""

    header: list[str]
    rows: list[list[str]]
    notes: list[str]


def side_by_side(results: Sequence[SystemResult], metrics: Sequence[dict[str, Any]]) -> Table:
    """Metric rows for every system; baselines' columns carry a marker explained in the notes."""
    header = ["metric"] + [r.label + ("" if r.abstains else " *") for r in results]
    keys = [k for k in (*INTERFACE_KEYS, *SPAN_KEYS) if any(k in m for m in metrics)]
    rows = [[key] + [_cell(key, m.get(key)) for m in metrics] for key in keys]
    for segment, name in SEGMENTS.items():
        for key in SEGMENT_KEYS:
            if all(segment not in m for m in metrics):
                continue
            count = next(m[segment]["questions"] for m in metrics if segment in m)
            rows.append([f"{key} ({name}, n={count})"] + [_cell(key, m.get(segment, {}).get(key)) for m in metrics])
    notes = []
    if any(not r.abstains for r in results):
        notes.append(
            "* baseline: never abstains (answered = 1 by construction); asks every question on its own, "
            "without conversation context; latency is its batch time spread over the questions."
        )
    return Table(header, rows, notes)


def _cell(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if key in ("questions", "unanswerable"):
        return str(int(value))
    if key.startswith("latency"):
        return f"{float(value):.1f}"
    return f"{float(value):.{RATE_DIGITS}f}"


def text_table(table: Table) -> str:
    """The table for a terminal: aligned columns, numbers right-aligned."""
    widths = [max(len(row[i]) for row in [table.header, *table.rows]) for i in range(len(table.header))]
    lines = ["  ".join(_align(c, w, i) for i, (c, w) in enumerate(zip(table.header, widths, strict=True)))]
    lines.append("  ".join("-" * w for w in widths))
    for row in table.rows:
        lines.append("  ".join(_align(c, w, i) for i, (c, w) in enumerate(zip(row, widths, strict=True))))
    return "\n".join(lines + table.notes)


def _align(cell: str, width: int, column: int) -> str:
    return cell.ljust(width) if column == 0 else cell.rjust(width)


def markdown_table(table: Table) -> str:
    lines = ["| " + " | ".join(_md(c) for c in table.header) + " |"]
    lines.append("|" + "---|" + "---:|" * (len(table.header) - 1))
    lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in table.rows]
    return "\n".join(lines + [""] + [_md(n) for n in table.notes])


def _md(text: str) -> str:
    """Untrusted text made safe for one Markdown table cell (no pipes, newlines or raw HTML)."""
    text = " ".join(str(text).split())
    for char, escaped in (("\\", "\\\\"), ("|", "\\|"), ("<", "&lt;"), (">", "&gt;"), ("`", "\\`"), ("*", "\\*")):
        text = text.replace(char, escaped)
    return text


# ---------------------------------------------------------------- charts


def coverage_chart(path: Path, main: SystemResult, others: Sequence[SystemResult]) -> None:
    """Accuracy of the first sentence against coverage, sweeping the confidence threshold."""
    plt = _pyplot()
    curve = coverage_curve(main.outcomes)
    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=110)
    if curve:
        ax.plot([c for _, c, _ in curve], [a for _, _, a in curve], label=f"{main.label} (threshold sweep)")
        point = decided_point(main.outcomes)
        ax.scatter([point[0]], [point[1]], color="black", zorder=3, label="its own answer/decline decisions")
    for other in others:
        correct = sum(o.correct for o in other.outcomes) / max(1, len(other.outcomes))
        ax.scatter([1.0], [correct], marker="x", label=f"{other.label} (never abstains)")
    ax.set_xlabel("coverage (share of all questions answered)")
    ax.set_ylabel("accuracy of the first sentence")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def reliability_chart(path: Path, main: SystemResult) -> None:
    """Observed accuracy of the first sentence per confidence bin, against the diagonal."""
    plt = _pyplot()
    table = reliability(main.outcomes)
    fig, ax = plt.subplots(figsize=(5.2, 4.6), dpi=110)
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    ax.bar(
        [b.low for b in table],
        [b.accuracy for b in table],
        width=0.1,
        align="edge",
        alpha=0.7,
        edgecolor="black",
        label="observed accuracy",
    )
    ax.plot([b.confidence for b in table], [b.accuracy for b in table], "o", color="black", label="bin mean confidence")
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy of the first sentence")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_title(f"{main.label}: ECE {calibration_error(table):.3f}")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def decided_point(outcomes: Sequence[Outcome]) -> tuple[float, float]:
    """``(coverage, accuracy)`` of the system's own decisions (``answered``)."""
    covered = [o for o in outcomes if o.answered]
    coverage = len(covered) / len(outcomes) if outcomes else 0.0
    return coverage, (sum(o.correct for o in covered) / len(covered) if covered else 0.0)


def operating_point(outcomes: Sequence[Outcome], threshold: float) -> tuple[float, float]:
    """``(coverage, accuracy)`` when questions below ``threshold`` are declined."""
    covered = [o for o in outcomes if o.confidence >= threshold]
    coverage = len(covered) / len(outcomes) if outcomes else 0.0
    return coverage, (sum(o.correct for o in covered) / len(covered) if covered else 0.0)


# ---------------------------------------------------------------- report


def worst_misses(questions: Sequence[Question], main: SystemResult, n: int = WORST) -> list[int]:
    """Positions of the worst failures: confidently wrong first, then the rest by confidence.

    A failure is an answerable question whose first sentence lacks every gold answer, or an
    unanswerable one that was answered.
    """
    failed = [
        i
        for i, (q, o) in enumerate(zip(questions, main.outcomes, strict=True))
        if (q.answerable and not o.correct) or (not q.answerable and o.answered)
    ]
    failed.sort(key=lambda i: (not main.outcomes[i].answered, -main.outcomes[i].confidence, i))
    return failed[:n]


def write_report(
    path: Path,
    *,
    questions_file: Path,
    index_dir: Path,
    questions: Sequence[Question],
    results: Sequence[SystemResult],
    metrics: Sequence[dict[str, Any]],
) -> list[Path]:
    """Write the Markdown report and its two PNG charts beside it; returns the paths written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    main = next(r for r in results if r.abstains)
    main_metrics = metrics[list(results).index(main)]
    others = [r for r in results if r is not main]
    coverage_png = path.with_name(path.stem + "-coverage.png")
    reliability_png = path.with_name(path.stem + "-reliability.png")
    coverage_chart(coverage_png, main, others)
    reliability_chart(reliability_png, main)
    answerable = sum(q.answerable for q in questions)
    lines = [
        f"# newsdesk eval: {_md(questions_file.name)}",
        "",
        f"{len(questions)} questions ({answerable} answerable, {len(questions) - answerable} unanswerable) "
        f"over the index `{_md(str(index_dir))}`, k = 10 candidates each.",
        "",
        "## Metrics",
        "",
        markdown_table(side_by_side(results, metrics)),
        "",
        *_decision_table(main.outcomes, others),
        "## Latency",
        "",
        f"Per question, index already loaded: p50 {main_metrics['latency_ms_p50']:.1f} ms, "
        f"p95 {main_metrics['latency_ms_p95']:.1f} ms (the ask call, plus its share of the batched "
        f"question encoding). The whole set took {main.seconds:.1f} s "
        f"({len(questions) / max(main.seconds, 1e-9):.1f} questions/s).",
        "",
    ]
    for other in others:
        lines.append(f"- {other.label}: {other.seconds:.1f} s for the set.")
    lines += ["", "## Coverage versus accuracy", "", f"![coverage versus accuracy]({coverage_png.name})", ""]
    lines += _coverage_table(main.outcomes)
    lines += ["", "## Reliability", "", f"![reliability diagram]({reliability_png.name})", ""]
    lines += _reliability_table(main.outcomes)
    lines += ["", f"## The {WORST} worst misses", ""]
    lines += _misses_table(questions, main)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [path, coverage_png, reliability_png]


def _decision_table(outcomes: Sequence[Outcome], others: Sequence[SystemResult] = ()) -> list[str]:
    """Answered or declined, for answerable and unanswerable questions (the system's own decisions),
    and what a plain threshold on the dense baseline's best cosine declines answering as many."""
    lines = ["## Answer or decline", "", "| questions | answered | declined |", "|---|---:|---:|"]
    for label, group in (
        ("answerable, first sentence right", [o for o in outcomes if o.answerable and o.correct]),
        ("answerable, first sentence wrong", [o for o in outcomes if o.answerable and not o.correct]),
        ("unanswerable", [o for o in outcomes if not o.answerable]),
    ):
        if group:
            answered = sum(o.answered for o in group)
            lines.append(f"| {label} ({len(group)}) | {answered} | {len(group) - answered} |")
    answerable = [o for o in outcomes if o.answerable]
    unanswerable = [o for o in outcomes if not o.answerable]
    dense = next((r for r in others if r.name == "dense"), None)
    if dense is not None and answerable and unanswerable:
        share = sum(o.answered for o in answerable) / len(answerable)
        own = sum(not o.answered for o in unanswerable) / len(unanswerable)
        lines += [
            "",
            f"A plain threshold on the best dense cosine (the dense baseline's first sentence), set to answer "
            f"the same {share:.1%} of answerable questions, declines {declined_at(dense.outcomes, share):.1%} "
            f"of the unanswerable ones (newsdesk: {own:.1%}).",
        ]
    return [*lines, ""]


def _coverage_table(outcomes: Sequence[Outcome]) -> list[str]:
    lines = [
        "Coverage is over all questions; accuracy is the share of covered questions whose first sentence "
        "contains a gold answer (an answered unanswerable question counts as wrong).",
        "",
        "| confidence threshold | coverage | accuracy |",
        "|---:|---:|---:|",
    ]
    for t in (round(t / 10, 1) for t in range(10)):
        coverage, accuracy = operating_point(outcomes, t)
        lines.append(f"| {t:g} | {coverage:.3f} | {accuracy:.3f} |")
    coverage, accuracy = decided_point(outcomes)
    lines.append(f"| **answered = true** (its own decisions) | {coverage:.3f} | {accuracy:.3f} |")
    return lines


def _reliability_table(outcomes: Sequence[Outcome]) -> list[str]:
    table = reliability(outcomes)
    lines = ["| confidence | questions | mean confidence | accuracy |", "|---|---:|---:|---:|"]
    lines += [f"| {b.low:.1f}–{b.high:.1f} | {b.count} | {b.confidence:.3f} | {b.accuracy:.3f} |" for b in table]
    lines += ["", f"Expected calibration error: {calibration_error(table):.3f}."]
    return lines


def _misses_table(questions: Sequence[Question], main: SystemResult) -> list[str]:
    worst = worst_misses(questions, main)
    if not worst:
        return ["None: every question was answered correctly or correctly declined."]
    lines = [
        "Confidently wrong answers first. Gold rank: first of the 10 candidates containing a gold answer; "
        "article rank: first candidate from a gold article.",
        "",
        "| id | question | gold answer | what we answered | confidence | gold rank | article rank |",
        "|---|---|---|---|---:|---:|---:|",
    ]
    for i in worst:
        q, o = questions[i], main.outcomes[i]
        gold = " / ".join(q.answers[:3]) if q.answers else "(unanswerable)"
        said = o.texts[0] if o.texts else "(no candidate)"
        said = _clip(said, 200) if o.answered else f"declined; best candidate: {_clip(said, 160)}"
        gold_rank = "-" if not q.answers else (str(o.hit_rank) if o.hit_rank else "not in 10")
        article_rank = "-" if not q.article_ids else (str(o.article_rank) if o.article_rank else "not in 10")
        cells = [q.id, q.question, gold, said, f"{o.confidence:.2f}", gold_rank, article_rank]
        lines.append("| " + " | ".join(_md(c) for c in cells) + " |")
    return lines


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
