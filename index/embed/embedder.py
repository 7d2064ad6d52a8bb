"""Sentence embeddings behind a narrow protocol, loaded offline from a local folder."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from index.embed.model_files import check_model_dir, default_model_dir, go_offline, model_name, weights_fingerprint
from index.errors import ModelError

BACKENDS = ("torch", "onnx", "onnx-int8")
DEFAULT_BACKEND = "onnx-int8"
"""What ships and is tested as the default (``qa.Settings.backend`` defaults to it too): measured fastest at torch quality."""
"""Embedding backends :func:`load_embedder` offers (``NEWSDESK_BACKEND``)."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    name: str
    """Model name, recorded in the index manifest."""
    backend: str
    """How vectors are computed (``torch``, ``onnx``, ...): part of the index identity."""
    dim: int
    """Vector dimension."""
    fingerprint: str
    """sha256 of the weights: two embedders with equal fingerprints give equal vectors."""
    max_tokens: int
    """Longest input in tokens, special tokens included; the rest is truncated."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for ``texts``, shape ``(len(texts), dim)``, float32, unit length."""
        ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Token count of each text, special tokens included."""
        ...


@runtime_checkable
class BulkEmbedder(Protocol):
    """An embedder that can run many batches side by side (what a large build does)."""

    def embed_batches(self, batches: Sequence[Sequence[str]]) -> list[np.ndarray]:
        """``embed`` of each batch, in order."""
        ...

    def end_batches(self) -> None:
        """Let go of what :meth:`embed_batches` holds (the build has embedded everything)."""
        ...


def embed_batches(embedder: Embedder, batches: Sequence[Sequence[str]]) -> list[np.ndarray]:
    """Vectors of each batch, in order: side by side where the embedder can, else one after another."""
    if isinstance(embedder, BulkEmbedder):
        return embedder.embed_batches(batches)
    return [embedder.embed(batch) for batch in batches]


def end_batches(embedder: Embedder) -> None:
    """Tell an embedder that :func:`embed_batches` is done for now (it frees what it held)."""
    if isinstance(embedder, BulkEmbedder):
        embedder.end_batches()


class SentenceTransformerEmbedder:
    """sentence-transformers on torch (CPU, fp32), loaded offline without remote code."""

    backend = "torch"

    def __init__(self, model_dir: Path | None = None, *, batch_size: int = 64) -> None:
        self.model_dir = check_model_dir(Path(model_dir) if model_dir else default_model_dir())
        self.name = model_name(self.model_dir)
        self.fingerprint = weights_fingerprint(self.model_dir)
        self.batch_size = batch_size
        go_offline()
        from sentence_transformers import SentenceTransformer

        try:
            self._model = SentenceTransformer(
                str(self.model_dir), device="cpu", trust_remote_code=False, local_files_only=True
            )
        except Exception as exc:  # noqa: BLE001 - any load failure is reported as one line
            raise ModelError(f"cannot load model from {self.model_dir}: {exc}") from exc
        self.dim = int(self._model.get_embedding_dimension() or 0)
        self.max_tokens = int(self._model.max_seq_length or 0)
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:  # torch encode is not re-entrant across threads
            vectors = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        tokenizer = self._model.tokenizer
        with self._lock:
            encoded = tokenizer(list(texts), add_special_tokens=True, truncation=False, verbose=False)
        return [len(ids) for ids in encoded["input_ids"]]


def load_embedder(model_dir: Path | None = None, backend: str = DEFAULT_BACKEND) -> Embedder:
    """The embedder for ``backend`` over a local model folder (the bundled one by default)."""
    if backend == "torch":
        return SentenceTransformerEmbedder(model_dir)
    if backend in ("onnx", "onnx-int8"):
        from index.embed.onnx_backend import OnnxEmbedder  # no torch import unless an export is needed

        return OnnxEmbedder(model_dir, backend)
    raise ModelError(f"unknown embedding backend {backend!r} (available: {', '.join(BACKENDS)}; set NEWSDESK_BACKEND)")
