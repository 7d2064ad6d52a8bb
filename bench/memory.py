"""Peak memory of ``newsdesk index`` as the archive grows: is the build's memory flat in corpus size?

``python -m bench.memory [--out bench/out/bench-memory.json]`` (``make bench-memory``, ~15 min) writes the
archive export of ``bench.archive`` (4,127 real news pages, about 310k sentences), then builds the first
quarter, half and all of it, each from nothing in its own ``newsdesk index`` process with the default
backend, and records each build's peak RSS (``wait4``), wall time and sentence count. It prints a table,
the growth in bytes per added sentence between the smallest and the largest build, and the ratio of
their peaks. Needs ``../shared/data/realtimeqa-2023``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.archive import shared_realtimeqa
from bench.measure import newsdesk, python, run_child
from bench.run import code_version, env_for, log, machine

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "bench-memory.json"
SHARES = (0.25, 0.5, 1.0)
PEAK_LIMIT_MB = 1536
"""Issue 14's bound on the build's peak RSS at archive scale (1.5 GB)."""
_SENTENCES = re.compile(r"([\d,]+) sentences \(")


def first_articles(archive: Path, share: float, out: Path) -> int:
    """Write the first ``share`` of the archive's lines to ``out``; returns how many. Reads line by
    line: this process must stay small (see :func:`measure`)."""
    with archive.open("rb") as handle:
        total = sum(1 for _ in handle)
    count = max(1, round(total * share))
    with archive.open("rb") as source, out.open("wb") as target:
        for _, line in zip(range(count), source, strict=False):
            target.write(line)
    return count


def measure(work: Path, shares: tuple[float, ...] = SHARES) -> list[dict[str, Any]]:
    """One fresh build per share of the archive; each row: articles, sentences, seconds, peak RSS.

    The archive is written by a child process, and this one reads it line by line: Linux counts the
    peak memory of the process that starts a child into the child's ``ru_maxrss``, so a parent that
    once held the 38 MB export as JSON (about 500 MB) put a floor under every build's figure.
    """
    if shared_realtimeqa() is None:
        raise SystemExit("bench.memory: ../shared/data/realtimeqa-2023 not found")
    run_child([python(), "-m", "bench.archive", str(work / "data")], env=env_for(), cwd=ROOT)
    rows = []
    for share in shares:
        part = work / f"part-{share}.jsonl"
        articles = first_articles(work / "data" / "archive.jsonl", share, part)
        index_dir = work / f"index-{share}"
        shutil.rmtree(index_dir, ignore_errors=True)
        log(f"memory: building {articles:,} articles ({share:.0%} of the archive)")
        run = run_child([*newsdesk(), "index", str(part), "--index", str(index_dir)], env=env_for(), cwd=work)
        summary = run.stderr.strip().splitlines()[-1]
        found = _SENTENCES.search(summary)
        rows.append(
            {
                "share": share,
                "articles": articles,
                "sentences": int(found.group(1).replace(",", "")) if found else None,
                "seconds": round(run.seconds, 1),
                "peak_rss_mb": round(run.peak_rss_mb, 1),
                "summary": summary,
            }
        )
        shutil.rmtree(index_dir, ignore_errors=True)
    return rows


def verdicts(rows: list[dict[str, Any]]) -> list[str]:
    """Growth between the smallest and largest build, and the 1.5 GB bound at the largest."""
    small, large = rows[0], rows[-1]
    lines = []
    if small["sentences"] and large["sentences"] and large["sentences"] > small["sentences"]:
        added = large["sentences"] - small["sentences"]
        grown = large["peak_rss_mb"] - small["peak_rss_mb"]
        lines.append(
            f"- growth: {grown:+.0f} MB for {added:,} more sentences ({grown * 2**20 / added:,.0f} bytes a sentence); "
            f"peak {large['peak_rss_mb'] / small['peak_rss_mb']:.2f}x at {large['sentences'] / small['sentences']:.1f}x the sentences"
        )
    ok = large["peak_rss_mb"] <= PEAK_LIMIT_MB
    lines.append(f"- peak RSS at {large['sentences']:,} sentences: {large['peak_rss_mb']:.0f} MB <= {PEAK_LIMIT_MB} {'met' if ok else 'MISSED'}")
    return lines


def render(report: dict[str, Any]) -> str:
    out = ["| share of the archive | articles | sentences | build s | peak RSS MB |", "|---|---|---|---|---|"]
    for row in report["builds"]:
        sentences = f"{row['sentences']:,}" if row["sentences"] else "?"
        out.append(f"| {row['share']:.0%} | {row['articles']:,} | {sentences} | {row['seconds']} | {row['peak_rss_mb']:.0f} |")
    return "\n".join([*out, "", *verdicts(report["builds"])])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"JSON output (default {OUT.relative_to(ROOT)})")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="newsdesk-bench-memory-"))
    started = time.perf_counter()
    try:
        report = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine(), "code": code_version()}
        report["builds"] = measure(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
