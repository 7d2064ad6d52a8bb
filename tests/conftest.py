"""Shared fixtures: a deterministic fake embedder, tiny articles, and the real model once per session."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import pytest

from index.build import update_index
from index.lexical import terms

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
CORPUS = ROOT / "corpus"


class FakeEmbedder:
    """Bag of hashed stemmed terms in 64 dimensions: texts sharing words get close vectors."""

    name = "fake"
    backend = "fake"
    fingerprint = "fake-embedder-1"
    dim = 64
    max_tokens = 256

    def __init__(self) -> None:
        self.calls = 0
        self.embedded = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.embedded += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for term in terms(text) or ["<empty>"]:
                slot = int.from_bytes(hashlib.blake2b(term.encode(), digest_size=4).digest(), "little")
                out[row, slot % self.dim] += 1.0
            out[row] /= np.linalg.norm(out[row])
        return out

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(t.split()) + 2 for t in texts]


@pytest.fixture(autouse=True, scope="session")
def _hermetic_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No hub access, caches in a temp folder, no index from the environment."""
    saved = dict(os.environ)
    os.environ["NEWSDESK_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.pop("NEWSDESK_INDEX", None)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(autouse=True)
def _own_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's chat history lives in its own folder, never the user's."""
    folder = tmp_path / "newsdesk-data"
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(folder))
    return folder


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def install_embedder() -> Iterator[Callable[[object], None]]:
    """``install_embedder(e)``: every embedder newsdesk loads (library, CLI, chat) is ``e`` until the test ends."""
    from qa.embedding import use_embedder

    with ExitStack() as stack:
        yield lambda embedder: stack.enter_context(use_embedder(lambda settings: embedder))  # type: ignore[arg-type, return-value]


@pytest.fixture
def fake_cli(install_embedder, fake_embedder):  # type: ignore[no-untyped-def]
    """The CLI's ``main``, with the fake embedder in place of the real model."""
    from newsdesk.cli import main

    install_embedder(fake_embedder)
    return main


@pytest.fixture
def tiny_corpus() -> Path:
    """Five short articles in tests/data/articles (txt, md, json, jsonl)."""
    return DATA / "articles"


@pytest.fixture
def tiny_index(tmp_path: Path, tiny_corpus: Path, fake_embedder: FakeEmbedder) -> Path:
    """An index of the tiny corpus built with the fake embedder."""
    index_dir = tmp_path / "index"
    update_index(index_dir, [tiny_corpus], fake_embedder)
    return index_dir


@pytest.fixture
def tiny_assistant(tiny_index: Path, fake_embedder: FakeEmbedder):  # type: ignore[no-untyped-def]
    from qa import Assistant

    return Assistant.open(tiny_index, embedder=fake_embedder)


@pytest.fixture(scope="session")
def real_embedder():  # type: ignore[no-untyped-def]
    """The bundled all-MiniLM-L6-v2 on the backend that ships as the default (onnx-int8), loaded once (offline)."""
    from index.embed.embedder import load_embedder

    return load_embedder()


@pytest.fixture(scope="session")
def torch_embedder():  # type: ignore[no-untyped-def]
    """The bundled all-MiniLM-L6-v2 on torch: the reference the ONNX backends are checked against."""
    from index.embed.embedder import load_embedder

    return load_embedder(None, "torch")


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory: pytest.TempPathFactory, real_embedder) -> Path:  # type: ignore[no-untyped-def]
    """corpus/ indexed with the real model, once per session."""
    index_dir = tmp_path_factory.mktemp("corpus-index")
    update_index(index_dir, [CORPUS], real_embedder)
    return index_dir


@pytest.fixture(scope="session")
def corpus_assistant(corpus_index: Path, real_embedder):  # type: ignore[no-untyped-def]
    from qa import Assistant

    return Assistant.open(corpus_index, embedder=real_embedder)
