"""The bench table's verdicts: archive-scale targets, and a run without the quality sizes."""

from __future__ import annotations

from typing import Any

from bench.table import default_backend, render


def _archive_run(build_seconds: float, hit: float) -> dict[str, Any]:
    answer = {"latency_ms_p50": 30.0, "latency_ms_p95": 36.0, "latency_ms_p99": 40.0, "hit@1": hit, "peak_rss_mb": 800.0}
    backend = {
        "build": {"seconds": build_seconds, "peak_rss_mb": 1300.0, "summary": "310,339 sentences"},
        "reindex": {"seconds": 1.0},
        "answer": answer,
        "cold_ask": {"seconds": 1.4},
        "index_bytes": 380e6,
    }
    size = {
        "naive": {"seconds": 1000.0, "peak_rss_mb": 2000.0, "summary": "312,396 sentences"},
        "bare_model_load": {"seconds": 3.8},
        "backends": {"onnx-int8": backend},
    }
    return {"date": "today", "machine": {"cpus": 2, "simd": "avx2"}, "sizes": {"archive": size}}


def test_an_archive_only_run_has_a_verdict_per_target() -> None:
    report = _archive_run(build_seconds=390.0, hit=0.44)
    report["default_backend"] = default_backend(report)
    assert report["default_backend"]["backend"] is None and "measured" in report["default_backend"]["reason"]
    lines = render(report).splitlines()
    assert "- build vs naive (archive, onnx-int8): 0.390 <= 0.4 met" in lines
    assert "- hit@1 (archive, onnx-int8): 0.440 >= 0.48 MISSED" in lines
    assert sum(line.startswith("- ") and "(archive, onnx-int8)" in line for line in lines) == 5
