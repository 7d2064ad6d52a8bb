"""Where newsdesk gets its embedder: one factory for the library, the CLI and the chat.

``embedder_for(settings)`` loads the model that ``settings`` name. ``use_embedder`` puts another
factory in its place for a block (tests use a small fake model; a service could share one loaded
model), so nothing else needs patching.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from index.embed.embedder import Embedder, load_embedder

if TYPE_CHECKING:
    from qa.config import Settings

EmbedderFactory = Callable[["Settings"], Embedder]

_factories: list[EmbedderFactory] = []


def embedder_for(settings: Settings) -> Embedder:
    """The embedder for ``settings`` (model folder and backend), from the factory in use."""
    if _factories:
        return _factories[-1](settings)
    return load_embedder(settings.model, settings.backend)


@contextmanager
def use_embedder(factory: EmbedderFactory) -> Iterator[None]:
    """Within the block, :func:`embedder_for` asks ``factory``."""
    _factories.append(factory)
    try:
        yield
    finally:
        _factories.remove(factory)
