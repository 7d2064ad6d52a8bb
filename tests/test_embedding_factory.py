"""One source of settings and one embedder factory for the library, the CLI and the chat."""

from __future__ import annotations

import inspect
from pathlib import Path

from conftest import FakeEmbedder

from index.embed.embedder import load_embedder
from qa import Assistant, Settings
from qa.embedding import embedder_for, use_embedder


def test_load_embedder_defaults_to_the_settings_backend() -> None:
    assert inspect.signature(load_embedder).parameters["backend"].default == Settings().backend == "onnx-int8"


def test_the_factory_in_use_serves_every_caller_and_nests(tiny_index: Path) -> None:
    outer, inner = FakeEmbedder(), FakeEmbedder()
    seen: list[Settings] = []

    def factory(settings: Settings) -> FakeEmbedder:
        seen.append(settings)
        return outer

    with use_embedder(factory):
        assert Assistant.open(tiny_index).embedder is outer
        assert seen[-1].index == tiny_index  # the factory gets the settings the caller resolved
        with use_embedder(lambda settings: inner):
            assert embedder_for(Settings()) is inner
        assert embedder_for(Settings()) is outer


def test_an_explicit_embedder_wins_over_the_factory(tiny_index: Path) -> None:
    mine = FakeEmbedder()
    with use_embedder(lambda settings: FakeEmbedder()):
        assert Assistant.open(tiny_index, embedder=mine).embedder is mine
