"""The bench table (Markdown) and the default-backend rule, from the bench JSON."""

from __future__ import annotations

import re
from typing import Any

QUALITY_TOLERANCE = 0.005
"""A backend may be the default when its SQuAD hit@1 is within this of fp32 torch."""
TARGETS = {
    "build_vs_naive": 0.6,
    "reindex_vs_build": 0.1,
    "p50_ms": 20.0,
    "p95_ms": 50.0,
    "cold_vs_bare": 1.3,
    "scale_p95_ms": 10.0,
    "scale_recall": 0.98,
}
ARCHIVE_TARGETS = {"build_vs_naive": 0.4, "peak_rss_mb": 1500.0, "p50_ms": 40.0, "p95_ms": 80.0, "hit@1": 0.48}
"""Issue 14's targets for the archive size (about 300k sentences of real news)."""


def _sentences(summary: str) -> str:
    found = re.search(r"([\d,]+) sentences", summary)
    return found.group(1) if found else "?"


def quality_size(report: dict[str, Any]) -> str:
    return "squad-dev" if "squad-dev" in report.get("sizes", {}) else "corpus"


def default_backend(report: dict[str, Any]) -> dict[str, Any]:
    """The fastest backend (build time) whose hit@1 stays within the tolerance of fp32 torch."""
    size = quality_size(report)
    if size not in report.get("sizes", {}):
        return {"backend": None, "reason": "neither corpus nor squad-dev was measured in this run"}
    backends = report["sizes"][size]["backends"]
    if "torch" not in backends:
        return {"backend": None, "reason": "torch was not measured"}
    full = report.get("quality", {}).get("backends")
    if full:  # every question of the set, else the latency sample
        hits = {b: v["hit@1"] for b, v in full.items()}
        basis = f"{size}, all {full['torch']['questions']:,} questions"
    else:
        hits = {b: v["answer"]["hit@1"] for b, v in backends.items()}
        basis = f"{size}, a sample of {backends['torch']['answer']['questions']:,} questions"
    reference = hits["torch"]
    allowed = [b for b in hits if hits[b] >= reference - QUALITY_TOLERANCE]
    best = min(allowed, key=lambda b: backends[b]["build"]["seconds"])
    return {"backend": best, "measured_on": basis, "size": size, "hit@1": hits, "tolerance": QUALITY_TOLERANCE}


def ratios(size: dict[str, Any], backend: str) -> dict[str, float]:
    entry = size["backends"][backend]
    return {
        "build_vs_naive": entry["build"]["seconds"] / size["naive"]["seconds"],
        "reindex_vs_build": entry["reindex"]["seconds"] / entry["build"]["seconds"],
        "cold_vs_bare": entry["cold_ask"]["seconds"] / size["bare_model_load"]["seconds"],
    }


def render(report: dict[str, Any]) -> str:
    lines = [
        f"newsdesk bench, {report['date']}, {report['machine']['cpus']} CPUs ({report['machine']['simd']})"
        + (", --quick" if report.get("quick") else "")
        + (f"; {', '.join(report['reused']['sizes'])} from the run of {report['reused']['date']}" if report.get("reused") else ""),
        "",
        "| size | backend | sentences | build s | vs naive | re-index s | vs build | answer p50 / p95 / p99 ms "
        "| hit@1 | cold ask s | vs bare load | peak RSS build / answer MB | index MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, size in report.get("sizes", {}).items():
        naive, bare = size["naive"], size["bare_model_load"]
        lines.append(
            f"| {name} | naive reference | {_sentences(naive['summary'])} | {naive['seconds']:.1f} | 1.00x | | | | | "
            f"{bare['seconds']:.2f} (bare load) | 1.00x | {naive['peak_rss_mb']:.0f} / | |"
        )
        for backend, entry in size["backends"].items():
            r = ratios(size, backend)
            a = entry["answer"]
            lines.append(
                f"| {name} | {backend} | {_sentences(entry['build']['summary'])} | {entry['build']['seconds']:.1f} "
                f"| {r['build_vs_naive']:.2f}x | {entry['reindex']['seconds']:.2f} | {r['reindex_vs_build']:.3f}x "
                f"| {a['latency_ms_p50']:.1f} / {a['latency_ms_p95']:.1f} / {a['latency_ms_p99']:.1f} "
                f"| {a['hit@1']:.4f} | {entry['cold_ask']['seconds']:.2f} | {r['cold_vs_bare']:.2f}x "
                f"| {entry['build']['peak_rss_mb']:.0f} / {a['peak_rss_mb']:.0f} | {entry['index_bytes'] / 1e6:.1f} |"
            )
    quality = report.get("quality")
    if quality:
        first = next(iter(quality["backends"].values()))
        lines += [
            "",
            f"Answer quality, full system, all {first['questions']:,} questions of {quality['size']} (k = 10):",
            "",
            "| backend | hit@1 | hit@5 | mrr@10 | article@1 | questions whose hit@1 differs from torch |",
            "|---|---|---|---|---|---|",
        ]
        for backend, m in quality["backends"].items():
            lines.append(
                f"| {backend} | {m['hit@1']:.4f} | {m['hit@5']:.4f} | {m['mrr@10']:.4f} | {m['article@1']:.4f} "
                f"| {m.get('questions_differing_from_torch', '')} |"
            )
    scale = report.get("scale")
    if scale:
        lines += [
            "",
            f"Vector search alone, {scale['vectors']:,} synthetic {scale['dim']}-d vectors, one query at a time, top 10:",
            "",
            "| index | build s | p50 / p95 / p99 ms | recall@10 vs Flat | bytes per vector |",
            "|---|---|---|---|---|",
        ]
        flat, approx = scale["flat"], scale["approx"]
        lat = flat["latency_ms"]
        lines.append(
            f"| Flat (exact) | {flat['build_seconds']:.1f} | {lat['p50']} / {lat['p95']} / {lat['p99']} | 1.0 "
            f"| {flat['bytes_per_vector']:.0f} |"
        )
        lat = approx["latency_ms"]
        lines.append(
            f"| {approx['kind']} | {approx['build_seconds']:.1f} | {lat['p50']} / {lat['p95']} / {lat['p99']} "
            f"| {approx['recall@10']:.4f} | {approx['bytes_per_vector']:.0f} |"
        )
    lines += ["", *verdicts(report)]
    return "\n".join(lines)


def verdicts(report: dict[str, Any]) -> list[str]:
    """One line per target, for the default backend on the largest size."""
    choice = report.get("default_backend") or {}
    backend = choice.get("backend")
    out = []
    if backend:
        hits = ", ".join(f"{b} {h:.4f}" for b, h in choice["hit@1"].items())
        out.append(f"Default backend by the rule (fastest within {QUALITY_TOLERANCE} hit@1 of torch on {choice['measured_on']}): "
                   f"{backend} (hit@1: {hits})")
        size_name = choice["size"]
        size = report["sizes"][size_name]
        r = ratios(size, backend)
        a = size["backends"][backend]["answer"]
        checks = [
            ("build vs naive", r["build_vs_naive"], "<=", TARGETS["build_vs_naive"]),
            ("re-index vs build", r["reindex_vs_build"], "<=", TARGETS["reindex_vs_build"]),
            ("answer p50 ms", a["latency_ms_p50"], "<=", TARGETS["p50_ms"]),
            ("answer p95 ms", a["latency_ms_p95"], "<=", TARGETS["p95_ms"]),
            ("cold ask vs bare load", r["cold_vs_bare"], "<=", TARGETS["cold_vs_bare"]),
        ]
        scale = report.get("scale")
        if scale:
            checks.append(("1M-scale p95 ms", scale["approx"]["latency_ms"]["p95"], "<=", TARGETS["scale_p95_ms"]))
            checks.append(("1M-scale recall@10", scale["approx"]["recall@10"], ">=", TARGETS["scale_recall"]))
        for label, value, op, target in checks:
            ok = value <= target if op == "<=" else value >= target
            out.append(f"- {label} ({size_name if 'scale' not in label else 'synthetic'}): {value:.3f} {op} {target} "
                       f"{'met' if ok else 'MISSED'}")
    return out + archive_verdicts(report)


def archive_verdicts(report: dict[str, Any]) -> list[str]:
    """One line per archive-scale target (:data:`ARCHIVE_TARGETS`), for each backend measured there."""
    size = report.get("sizes", {}).get("archive")
    if not size:
        return []
    out = []
    for backend, entry in size["backends"].items():
        a = entry["answer"]
        checks = [
            ("build vs naive", ratios(size, backend)["build_vs_naive"], "<=", "build_vs_naive"),
            ("peak RSS of the build MB", entry["build"]["peak_rss_mb"], "<=", "peak_rss_mb"),
            ("answer p50 ms", a["latency_ms_p50"], "<=", "p50_ms"),
            ("answer p95 ms", a["latency_ms_p95"], "<=", "p95_ms"),
            ("hit@1", a["hit@1"], ">=", "hit@1"),
        ]
        for label, value, op, key in checks:
            target = ARCHIVE_TARGETS[key]
            ok = value <= target if op == "<=" else value >= target
            out.append(f"- {label} (archive, {backend}): {value:.3f} {op} {target} {'met' if ok else 'MISSED'}")
    return out


def main(argv: list[str]) -> int:
    """``python -m bench.table [bench/out/bench.json]``: print the table of a saved run again."""
    import json
    from pathlib import Path

    path = Path(argv[0]) if argv else Path(__file__).resolve().parent / "out" / "bench.json"
    report = json.loads(path.read_text(encoding="utf-8"))
    report.setdefault("default_backend", default_backend(report) if report.get("sizes") else None)
    print(render(report))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
