"""Vector search alone at archive scale: exact Flat against the approximate index newsdesk builds.

The synthetic vectors are shaped like real ones: each is a real sentence vector (from an index the
bench just built) plus Gaussian noise with the covariance of those real vectors, renormalised, so
every real sentence sits in a cloud as wide as the whole corpus. Queries come from the same
generator and are not in the base. ``python -m bench.scale INDEX_DIR N`` prints one JSON object.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench.measure import percentiles

QUERIES = 300
FLAT_TIMED = 50
"""Exact single-query searches timed (each scans every vector)."""
CHUNK = 50_000


def real_vectors(index_dir: Path) -> np.ndarray:
    """The sentence vectors of the live generation of an index."""
    from index.store.vectors import FaissVectors

    name = (index_dir / "CURRENT").read_text(encoding="ascii").strip().split()[0]
    return FaissVectors.read(index_dir / name / "sentences.faiss").all()


class Generator:
    """Real vectors plus noise with their covariance (float32, unit length, seeded)."""

    def __init__(self, real: np.ndarray, seed: int = 6) -> None:
        self.real = np.ascontiguousarray(real, dtype=np.float32)
        centred = self.real - self.real.mean(axis=0)
        _, singular, basis = np.linalg.svd(centred, full_matrices=False)
        self.scales = (singular / np.sqrt(max(1, len(real) - 1))).astype(np.float32)
        self.basis = basis.astype(np.float32)
        self.rng = np.random.default_rng(seed)

    def sample(self, n: int) -> np.ndarray:
        out = np.empty((n, self.real.shape[1]), dtype=np.float32)
        for start in range(0, n, CHUNK):
            m = min(CHUNK, n - start)
            noise = self.rng.standard_normal((m, len(self.scales)), dtype=np.float32) * self.scales
            block = self.real[self.rng.integers(0, len(self.real), m)] + noise @ self.basis
            out[start : start + m] = block / np.linalg.norm(block, axis=1, keepdims=True)
        return out


def single_query_ms(
    search: Callable[[np.ndarray, int], np.ndarray], queries: np.ndarray, k: int = 10
) -> tuple[list[float], np.ndarray]:
    """Latency of one-query-at-a-time searches (how the assistant searches) and the rows found (-1 pads)."""
    times, found = [], np.full((len(queries), k), -1, dtype=np.int64)
    for i, query in enumerate(queries):
        begin = time.perf_counter()
        rows = search(query.reshape(1, -1), k)
        times.append((time.perf_counter() - begin) * 1000.0)
        found[i, : len(rows)] = rows
    return times, found


def recall_at(found: np.ndarray, truth: np.ndarray) -> float:
    k = truth.shape[1]
    return float(np.mean([len(set(a.tolist()) & set(b.tolist())) / k for a, b in zip(found, truth, strict=True)]))


def run(real: np.ndarray, n: int) -> dict[str, Any]:
    """Flat and the size-chosen index over ``n`` synthetic vectors: build time, latency, recall@10, memory."""
    import faiss

    from index.store.vectors import FaissVectors

    generator = Generator(real)
    started = time.perf_counter()
    base, queries = generator.sample(n), generator.sample(QUERIES)
    generated = time.perf_counter() - started
    dim = base.shape[1]
    started = time.perf_counter()
    flat = faiss.IndexFlatIP(dim)
    flat.add(base)
    flat_build = time.perf_counter() - started
    _, truth = flat.search(queries, 10)
    flat_ms, _ = single_query_ms(lambda q, k: flat.search(q, k)[1][0], queries[:FLAT_TIMED])
    started = time.perf_counter()
    approx = FaissVectors.build(base, dim)
    approx_build = time.perf_counter() - started
    approx_ms, found = single_query_ms(lambda q, k: approx.search(q, k)[0][0], queries)
    del base
    result = {
        "vectors": n,
        "dim": dim,
        "real_vectors_seeding": len(real),
        "generate_seconds": round(generated, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "flat": {
            "build_seconds": round(flat_build, 2),
            "latency_ms": percentiles(flat_ms),
            "bytes_per_vector": round(len(faiss.serialize_index(flat)) / n, 1),
        },
        "approx": {
            "kind": approx.kind,
            "build_seconds": round(approx_build, 2),
            "latency_ms": percentiles(approx_ms),
            "recall@10": round(recall_at(found, truth), 4),
            "bytes_per_vector": round(len(approx.to_bytes()) / n, 1),
        },
    }
    return result


def main(argv: list[str]) -> int:
    real = real_vectors(Path(argv[0]))
    print(json.dumps(run(real, int(argv[1]))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
