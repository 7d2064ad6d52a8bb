"""``make bench`` / ``python -m bench.run [--quick]``: one table, measured side by side, also as JSON.

For each size (``corpus/``, the shared SQuAD dev articles and, unless ``--quick``, an archive of about 300k
sentences of real news, ``bench.archive``; that one with the default backend and one round) and each
embedding backend: index build
time against the naive reference (pysbd + sentence-transformers fp32, batch 64, model load
included), re-index of the unchanged corpus, answering latency with the index loaded, answer
quality (hit@1), cold ``newsdesk ask`` against a bare sentence-transformers model load, peak RSS
and index size. Then vector search alone over synthetic vectors (1M; 300k with ``--quick``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.archive import shared_realtimeqa
from bench.measure import ChildRun, index_bytes, median, newsdesk, python, run_child, shared_data
from bench.table import default_backend, render
from index.embed.embedder import DEFAULT_BACKEND

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "bench.json"
BACKENDS = ("torch", "onnx", "onnx-int8")
COLD_REPEATS = 3
BUILD_ROUNDS = 2
"""Naive and newsdesk builds per size, interleaved; the table shows medians."""


def shared_squad() -> Path | None:
    """The shared SQuAD dev folder, if present."""
    return shared_data("squad-v1.1-dev", "articles.jsonl", "questions.jsonl")


def sizes(quick: bool, work: Path | None = None) -> list[dict[str, Any]]:
    out = [
        {
            "name": "corpus",
            "articles": ROOT / "corpus",
            "questions": ROOT / "eval" / "questions.jsonl",
            "limit": 0,
            "ask": "How many troops were withdrawn from Los Angeles?",
        }
    ]
    squad = shared_squad()
    if squad is None:
        log("SQuAD dev articles not found under /work/shared or ../shared: skipping the 10k-sentence size")
    else:
        out.append(
            {
                "name": "squad-dev",
                "articles": squad / "articles.jsonl",
                "questions": squad / "questions.jsonl",
                "limit": 300 if quick else 500,
                "ask": "Which NFL team represented the AFC at Super Bowl 50?",
            }
        )
    realtimeqa = shared_realtimeqa()
    if realtimeqa is not None and work is not None:
        out.append(
            {
                "name": "archive",
                "source": realtimeqa,
                "articles": work / "archive-data" / "archive.jsonl",
                "questions": work / "archive-data" / "questions.jsonl",
                "limit": 0,
                "ask": "Which company agreed to buy Paramount?",
                "rounds": 1,
                "backends": (DEFAULT_BACKEND,),  # one build takes minutes: the shipped default only, one round
            }
        )
    return out


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def env_for(backend: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_") or k == "NEWSDESK_CACHE"}
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"})
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    if backend:
        env["NEWSDESK_BACKEND"] = backend
    return env


def export_models() -> float:
    """Export (or find cached) the ONNX models first, so builds measure indexing, not the one-off export."""
    code = "from index.embed.embedder import load_embedder\nfor b in ('onnx', 'onnx-int8'):\n    load_embedder(None, b)\n"
    return run_child([python(), "-c", code], env=env_for(), cwd=ROOT).seconds


def measure_size(size: dict[str, Any], work: Path, backends: tuple[str, ...]) -> dict[str, Any]:
    name, articles = size["name"], str(size["articles"])
    if "source" in size:
        log(f"{name}: writing the archive subset from {size['source']}")
        run_child([python(), "-m", "bench.archive", str(Path(articles).parent)], env=env_for(), cwd=ROOT)
    backends = tuple(b for b in backends if b in size.get("backends", backends)) or backends
    naive_runs: list[ChildRun] = []
    builds: dict[str, list[ChildRun]] = {b: [] for b in backends}
    for n in range(size.get("rounds", BUILD_ROUNDS)):  # interleaved rounds, medians: load drifts fall on all alike
        log(f"{name}: naive reference (pysbd + sentence-transformers fp32, batch 64), round {n + 1}")
        naive_runs.append(run_child([python(), "-m", "bench.naive", articles], env=env_for(), cwd=ROOT))
        for backend in backends:
            index_dir = work / f"{name}-{backend}"
            shutil.rmtree(index_dir, ignore_errors=True)  # every round builds from nothing
            log(f"{name}: build with {backend}, round {n + 1}")
            builds[backend].append(
                run_child([*newsdesk(), "index", articles, "--index", str(index_dir)], env=env_for(backend), cwd=work)
            )
    summary = naive_runs[-1].stdout.strip()
    result: dict[str, Any] = {"naive": _runs(naive_runs) | {"summary": summary}, "backends": {}}
    for backend in backends:
        index_dir = work / f"{name}-{backend}"
        build = builds[backend]
        log(f"{name}: re-index with {backend} (nothing changed)")
        again = run_child([*newsdesk(), "index", articles, "--index", str(index_dir)], env=env_for(backend), cwd=work)
        log(f"{name}: answering {size['questions'].name} with {backend}")
        answer = run_child(
            [python(), "-m", "bench.answer", str(index_dir), str(size["questions"]), str(size["limit"])],
            env=env_for(backend),
            cwd=ROOT,
        )
        metrics = json.loads(answer.stdout.strip().splitlines()[-1])
        result["backends"][backend] = {
            "build": _runs(build) | {"summary": build[-1].stderr.strip().splitlines()[-1]},
            "reindex": _child(again) | {"summary": again.stderr.strip().splitlines()[-1]},
            "answer": metrics | {"peak_rss_mb": round(answer.peak_rss_mb, 1)},
            "index_bytes": index_bytes(index_dir),
        }
    log(f"{name}: cold newsdesk ask against a bare model load, {COLD_REPEATS} rounds")
    bare_code = (
        "import sentence_transformers\n"
        "from index.embed.model_files import default_model_dir\n"
        "sentence_transformers.SentenceTransformer(str(default_model_dir()), device='cpu', local_files_only=True)\n"
    )
    bare: list[ChildRun] = []
    cold: dict[str, list[ChildRun]] = {b: [] for b in backends}
    for _round in range(COLD_REPEATS):  # interleaved, so machine load drifts hit all alike
        bare.append(run_child([python(), "-c", bare_code], env=env_for(), cwd=work))
        for backend in backends:
            index_dir = work / f"{name}-{backend}"
            ask = [*newsdesk(), "ask", size["ask"], "--index", str(index_dir)]
            cold[backend].append(run_child(ask, env=env_for(backend), cwd=work))
    result["bare_model_load"] = _runs(bare)
    for backend in backends:
        result["backends"][backend]["cold_ask"] = _runs(cold[backend])
    return result


def measure_quality(size: dict[str, Any], work: Path, backends: tuple[str, ...]) -> dict[str, Any]:
    """hit@1 and friends of the full system on every question of ``size``, per backend."""
    log(f"{size['name']}: quality on all of {size['questions'].name} with {', '.join(backends)} (one process)")
    pairs = [f"{work / (size['name'] + '-' + b)}={b}" for b in backends]
    run = run_child([python(), "-m", "bench.quality", str(size["questions"]), *pairs], env=env_for(), cwd=ROOT)
    out: dict[str, Any] = {"size": size["name"], "backends": json.loads(run.stdout.strip().splitlines()[-1])}
    reference = out["backends"].get("torch", {}).get("hits")
    for metrics in out["backends"].values():
        hits = metrics.pop("hits")
        if reference is not None:
            metrics["questions_differing_from_torch"] = sum(a != b for a, b in zip(hits, reference, strict=True))
    return out


def save(path: Path, report: dict[str, Any]) -> None:
    """Write the report so far (a run stopped half-way keeps what it measured)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def _child(run: ChildRun) -> dict[str, Any]:
    return {"seconds": round(run.seconds, 2), "peak_rss_mb": round(run.peak_rss_mb, 1)}


def _runs(runs: list[ChildRun]) -> dict[str, Any]:
    return {
        "seconds": round(median([r.seconds for r in runs]), 2),
        "all_seconds": [round(r.seconds, 2) for r in runs],
        "peak_rss_mb": round(max(r.peak_rss_mb for r in runs), 1),
    }


def code_version() -> dict[str, Any]:
    """The commit measured and the tracked files that differed from it when the run started."""
    import subprocess

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    return {"commit": git("rev-parse", "--short", "HEAD"), "modified": git("diff", "--name-only").split()}


def machine() -> dict[str, Any]:
    import onnxruntime

    flags = ""
    try:
        flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags"))
    except (OSError, StopIteration):
        pass
    simd = "avx512_vnni" if "avx512_vnni" in flags else "avx512" if "avx512f" in flags else "avx2" if "avx2" in flags else "?"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {
        "cpus": os.cpu_count(),
        "simd": simd,
        "python": platform.python_version(),
        "onnxruntime": onnxruntime.__version__,
        "load_average_at_start": load,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="300 (not 500) SQuAD questions for latency, no full-set quality run, 300k scale vectors"
    )
    parser.add_argument("--scale", type=int, default=None, help="synthetic vectors for the scale test (0 = skip)")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated backends to measure")
    parser.add_argument(
        "--sizes", default="corpus,squad-dev,archive", help="comma-separated sizes to measure (archive: ~300k sentences)"
    )
    parser.add_argument("--quality-backends", default=None, help="backends for the full-set quality run (default: all)")
    parser.add_argument("--reuse", type=Path, default=None, help="take sizes not measured now from this saved JSON")
    parser.add_argument("--out", type=Path, default=OUT, help=f"JSON output (default {OUT.relative_to(ROOT)})")
    args = parser.parse_args(argv)
    backends = tuple(b.strip() for b in args.backends.split(",") if b.strip())
    unknown = sorted(set(backends) - set(BACKENDS))
    if unknown:
        parser.error(f"unknown backend(s) {', '.join(unknown)} (available: {', '.join(BACKENDS)})")
    scale_n = args.scale if args.scale is not None else (300_000 if args.quick else 1_000_000)
    started = time.perf_counter()
    report: dict[str, Any] = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine()}
    report["quick"] = bool(args.quick)
    report["code"] = code_version()
    log("exporting the ONNX models (cached after the first time)")
    report["onnx_export_seconds"] = round(export_models(), 2)
    work = Path(tempfile.mkdtemp(prefix="newsdesk-bench-"))
    try:
        report["sizes"] = {}
        wanted = {n.strip() for n in args.sizes.split(",") if n.strip()}
        chosen = [s for s in sizes(args.quick, work) if s["name"] in wanted and not (args.quick and s["name"] == "archive")]
        if args.reuse is not None:
            saved = json.loads(args.reuse.read_text(encoding="utf-8"))
            report["reused"] = {"from": str(args.reuse), "date": saved.get("date"), "sizes": []}
            for name, measured in saved.get("sizes", {}).items():
                if name not in wanted:
                    report["sizes"][name] = measured
                    report["reused"]["sizes"].append(name)
        for size in chosen:
            report["sizes"][size["name"]] = measure_size(size, work, backends)
            save(args.out, report)
        squad = next((s for s in chosen if s["name"] == "squad-dev"), None)
        if squad is not None and not args.quick:
            quality_backends = tuple(b for b in (args.quality_backends or ",".join(backends)).split(",") if b in backends)
            report["quality"] = measure_quality(squad, work, quality_backends)
            save(args.out, report)
        if scale_n and chosen:
            seed = work / f"{chosen[-1]['name']}-{backends[-1]}"
            log(f"scale: {scale_n:,} synthetic vectors, Flat against the size-chosen index")
            scale = run_child([python(), "-m", "bench.scale", str(seed), str(scale_n)], env=env_for(), cwd=ROOT)
            report["scale"] = json.loads(scale.stdout.strip().splitlines()[-1]) | {"peak_rss_mb": round(scale.peak_rss_mb, 1)}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    try:
        report["default_backend"] = default_backend(report)
    except (KeyError, ValueError) as exc:  # keep the measurements even if the rule cannot be applied
        report["default_backend"] = {"backend": None, "reason": f"{type(exc).__name__}: {exc}"}
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    report["machine"]["load_average_at_end"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    save(args.out, report)
    print(render(report))
    log(f"wrote {args.out} in {report['total_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
