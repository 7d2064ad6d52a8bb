"""The ONNX backends: same vectors as torch (within quantisation error), cached export, no torch on the query path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index.build import update_index
from index.embed import onnx_backend as onnx_embedder
from index.embed.embedder import BulkEmbedder, Embedder, load_embedder
from index.embed.onnx_backend import OnnxEmbedder
from index.errors import IndexMismatchError, ModelError

ROOT = Path(__file__).resolve().parent.parent
SENTENCES = [
    "The Pentagon confirmed Tuesday that 2,000 National Guard troops have been withdrawn.",
    "Denver Broncos defeated the Carolina Panthers 24–10 to win Super Bowl 50.",
    "Rain is expected across the north of the country by the weekend.",
    "Shares of the company fell 4% after the quarterly results were published.",
    "Who ordered it?",
    "word " * 400,  # longer than 256 tokens: truncated like sentence-transformers does
]


@pytest.fixture(scope="session")
def onnx_fp32() -> OnnxEmbedder:
    return OnnxEmbedder(backend="onnx")


@pytest.fixture(scope="session")
def onnx_int8(onnx_fp32: OnnxEmbedder) -> OnnxEmbedder:
    return OnnxEmbedder(backend="onnx-int8")


def test_protocol_and_identity(onnx_fp32, onnx_int8, torch_embedder) -> None:  # type: ignore[no-untyped-def]
    for embedder, backend in ((onnx_fp32, "onnx"), (onnx_int8, "onnx-int8")):
        assert isinstance(embedder, Embedder)
        assert embedder.backend == backend
        assert (embedder.dim, embedder.max_tokens) == (torch_embedder.dim, torch_embedder.max_tokens) == (384, 256)
        assert embedder.name == torch_embedder.name
    fingerprints = {torch_embedder.fingerprint, onnx_fp32.fingerprint, onnx_int8.fingerprint}
    assert len(fingerprints) == 3  # an index built by one backend is never read with another's vectors


def test_vectors_match_torch(onnx_fp32, onnx_int8, torch_embedder) -> None:  # type: ignore[no-untyped-def]
    reference = torch_embedder.embed(SENTENCES)
    fp32, int8 = onnx_fp32.embed(SENTENCES), onnx_int8.embed(SENTENCES)
    for vectors in (fp32, int8):
        assert vectors.shape == (len(SENTENCES), 384) and vectors.dtype == np.float32
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert (fp32 * reference).sum(axis=1).min() >= 0.999
    cosine = (int8 * reference).sum(axis=1)
    assert cosine.min() >= 0.97 and cosine.mean() >= 0.985, cosine


def test_batching_does_not_change_vectors(onnx_fp32) -> None:  # type: ignore[no-untyped-def]
    together = onnx_fp32.embed(SENTENCES)  # padded to the longest in one batch
    alone = np.vstack([onnx_fp32.embed([s]) for s in SENTENCES])
    assert np.allclose(together, alone, atol=1e-5)
    assert onnx_fp32.embed([]).shape == (0, 384)


def test_batches_side_by_side_give_the_vectors_of_one_at_a_time(onnx_int8) -> None:  # type: ignore[no-untyped-def]
    bulk = OnnxEmbedder(backend="onnx-int8", threads=2)  # two batches at once, one core each
    assert isinstance(bulk, BulkEmbedder)
    batches = [SENTENCES[:2], SENTENCES[2:3], SENTENCES[3:]]
    got = bulk.embed_batches(batches)
    assert [v.shape for v in got] == [(2, 384), (1, 384), (3, 384)]
    for vectors, batch in zip(got, batches, strict=True):
        assert np.allclose(vectors, onnx_int8.embed(batch), atol=1e-5)
    assert bulk.embed_batches([]) == []
    assert np.allclose(bulk.embed_batches([SENTENCES[:1]])[0], onnx_int8.embed(SENTENCES[:1]), atol=1e-5)
    bulk.count_tokens(SENTENCES)
    assert bulk._session is None  # a build (counting, lone batches too) never loads the query session
    bulk.end_batches()
    assert bulk._bulk is None


def test_threads_follow_the_cores_this_process_may_use(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert onnx_embedder.usable_cores() == 2  # a container pinned to two of the host's 64 cores
    assert OnnxEmbedder(backend="onnx-int8").threads == 2
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(64)), raising=False)
    assert onnx_embedder.usable_cores() == 8


def test_token_counts_match_torch(onnx_int8, torch_embedder) -> None:  # type: ignore[no-untyped-def]
    counts = onnx_int8.count_tokens(SENTENCES)
    assert counts == torch_embedder.count_tokens(SENTENCES)
    assert counts[-1] > 256  # counting is not truncated
    assert onnx_int8.count_tokens([]) == []


def test_export_is_cached_and_reused(onnx_int8, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    folder = onnx_int8.model_path.parent
    assert folder.is_relative_to(Path(os.environ["NEWSDESK_CACHE"]))
    meta = json.loads(onnx_int8.model_path.with_suffix(".json").read_text())
    assert meta["bytes"] == onnx_int8.model_path.stat().st_size and meta["recipe"] == onnx_embedder.RECIPE_VERSION

    def no_export(*_args: object) -> None:
        raise AssertionError("exported again although cached")

    monkeypatch.setattr(onnx_embedder, "_export_fp32", no_export)
    monkeypatch.setattr(onnx_embedder, "_quantize", no_export)
    again = load_embedder(None, "onnx-int8")
    assert again.fingerprint == onnx_int8.fingerprint
    assert np.allclose(again.embed(SENTENCES[:2]), onnx_int8.embed(SENTENCES[:2]))


def test_truncated_export_is_redone(onnx_fp32, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("NEWSDESK_CACHE", str(tmp_path))
    folder = onnx_embedder.export_dir(onnx_embedder.weights_fingerprint(onnx_fp32.model_dir))
    folder.mkdir(parents=True)
    (folder / "model.onnx").write_bytes(onnx_fp32.model_path.read_bytes()[:1000])  # a crash mid-copy
    (folder / "model.json").write_text(onnx_fp32.model_path.with_suffix(".json").read_text())
    calls: list[Path] = []
    monkeypatch.setattr(onnx_embedder, "_export_fp32", lambda _d, path, _sha: calls.append(path))
    onnx_embedder.export_model(onnx_fp32.model_dir, "onnx")
    assert calls == [folder / "model.onnx"]


def test_unknown_backend_is_one_clear_error() -> None:
    with pytest.raises(ModelError, match="NEWSDESK_BACKEND"):
        load_embedder(None, "tensorrt")


def test_index_from_another_backend_names_the_setting(tmp_path: Path, onnx_int8, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    articles = ROOT / "tests" / "data" / "articles"
    update_index(tmp_path / "ix", [articles], fake_embedder)
    with pytest.raises(IndexMismatchError, match="NEWSDESK_BACKEND=fake"):
        update_index(tmp_path / "ix", [articles], onnx_int8)


def test_ask_with_onnx_never_imports_torch(tmp_path: Path, onnx_int8) -> None:  # type: ignore[no-untyped-def]
    index_dir = tmp_path / "ix"
    update_index(index_dir, [ROOT / "tests" / "data" / "articles"], onnx_int8)
    probe = (
        "import sys\n"
        "from newsdesk.cli import main\n"
        f"status = main(['ask', 'What happened?', '--index', {str(index_dir)!r}])\n"
        "heavy = sorted(m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules)\n"
        "print('HEAVY', heavy, status)\n"
    )
    env = {**os.environ, "NEWSDESK_BACKEND": "onnx-int8"}
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert "HEAVY [] 0" in done.stdout, done.stdout + done.stderr
