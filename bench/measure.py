"""Child-process timing and memory, percentiles, sizes on disk."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True, slots=True)
class ChildRun:
    """One finished child process."""

    seconds: float
    """Wall time from spawn to exit."""
    peak_rss_mb: float
    """Peak resident memory of that child (``wait4`` rusage). Linux counts the starting process's own
    peak into it, so the process that starts children to measure them must stay small."""
    cpu_seconds: float
    """User + system CPU time of that child: less sensitive than wall time to other jobs."""
    stdout: str
    stderr: str
    returncode: int


def run_child(
    args: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path | None = None, timeout: float = 1800.0
) -> ChildRun:
    """Run ``args``; raise RuntimeError with its stderr tail when it fails."""
    out_path, err_path = _scratch("out"), _scratch("err")
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        child = subprocess.Popen(list(args), stdout=out, stderr=err, env=dict(env or os.environ), cwd=cwd)
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                child.kill()
                raise RuntimeError(f"{' '.join(args)}: timed out after {timeout:.0f} s")
            time.sleep(0.005)
        seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    run = ChildRun(
        seconds=seconds,
        peak_rss_mb=usage.ru_maxrss / 1024.0,  # kilobytes on Linux
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        stdout=out_path.read_text(encoding="utf-8", errors="replace"),
        stderr=err_path.read_text(encoding="utf-8", errors="replace"),
        returncode=child.returncode,
    )
    out_path.unlink(missing_ok=True)
    err_path.unlink(missing_ok=True)
    if run.returncode != 0:
        tail = " | ".join(run.stderr.strip().splitlines()[-3:])
        raise RuntimeError(f"{' '.join(args[:4])} ... exited {run.returncode}: {tail}")
    return run


def _scratch(kind: str) -> Path:
    folder = Path(os.environ.get("TMPDIR", "/tmp"))
    return folder / f"newsdesk-bench-{os.getpid()}-{time.monotonic_ns()}.{kind}"


def shared_data(name: str, *files: str) -> Path | None:
    """``shared/data/<name>`` (under ``$NEWSDESK_SHARED``, ``/work/shared`` or ``../shared`` next to the repo)
    when it holds ``files``, else None."""
    root = Path(__file__).resolve().parent.parent
    for base in (Path(os.environ.get("NEWSDESK_SHARED", "/work/shared")), root.parent / "shared"):
        folder = base / "data" / name
        if all((folder / f).is_file() for f in files):
            return folder
    return None


def python() -> str:
    """This interpreter (the project venv when run through ``make bench``)."""
    return sys.executable


def newsdesk() -> list[str]:
    """The ``newsdesk`` command of this interpreter's environment."""
    script = Path(sys.executable).with_name("newsdesk")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "newsdesk"]


def percentiles(values_ms: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99 in milliseconds, rounded to 0.1 ms."""
    if not values_ms:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0}
    array = np.asarray(values_ms, dtype=np.float64)
    return {f"p{q}": round(float(np.percentile(array, q)), 1) for q in (50, 95, 99)}


def index_bytes(index_dir: Path) -> int:
    """Bytes of the live generation of an index (what a reader loads)."""
    name = (index_dir / "CURRENT").read_text(encoding="ascii").strip().split()[0]
    folder = index_dir / name
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def median(values: Sequence[float]) -> float:
    return float(np.median(np.asarray(values, dtype=np.float64))) if values else 0.0
