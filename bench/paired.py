"""Build against the naive reference, interleaved: ``python -m bench.paired ARTICLES [BACKEND] [ROUNDS]``.

Each round runs the naive reference and then ``newsdesk index`` into a fresh directory, so load
from other jobs falls on both alike; wall and CPU time are reported per round and as medians.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

from bench.measure import median, newsdesk, python, run_child
from bench.run import ROOT, env_for, log


def main(argv: list[str]) -> int:
    articles = str(Path(argv[0]).resolve())  # the build runs in a temporary folder
    backend = argv[1] if len(argv) > 1 else "onnx-int8"
    rounds = int(argv[2]) if len(argv) > 2 else 2
    work = Path(tempfile.mkdtemp(prefix="newsdesk-paired-"))
    runs: dict[str, list[dict[str, float]]] = {"naive": [], backend: []}
    try:
        for n in range(rounds):
            log(f"round {n + 1}: naive reference")
            naive = run_child([python(), "-m", "bench.naive", articles], env=env_for(), cwd=ROOT)
            log(f"round {n + 1}: newsdesk index with {backend}")
            index_dir = work / f"round-{n}"
            build = run_child([*newsdesk(), "index", articles, "--index", str(index_dir)], env=env_for(backend), cwd=work)
            for name, run in (("naive", naive), (backend, build)):
                runs[name].append({"seconds": round(run.seconds, 2), "cpu_seconds": round(run.cpu_seconds, 2)})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary = {
        name: {
            "seconds": median([r["seconds"] for r in values]),
            "cpu_seconds": median([r["cpu_seconds"] for r in values]),
            "rounds": values,
        }
        for name, values in runs.items()
    }
    summary["ratio_wall"] = round(summary[backend]["seconds"] / summary["naive"]["seconds"], 3)
    summary["ratio_cpu"] = round(summary[backend]["cpu_seconds"] / summary["naive"]["cpu_seconds"], 3)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
