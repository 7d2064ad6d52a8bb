"""newsdesk's index: load articles, split and chunk them, embed, and store them on disk.

Names are imported on first use, so importing a submodule (``index.errors``) stays cheap.
"""

from __future__ import annotations

import typing

from index.lazy import lazy_attributes

if typing.TYPE_CHECKING:
    from index.build import UpdateReport, remove_articles, update_index
    from index.chunking import ChunkParams
    from index.embed.embedder import Embedder, SentenceTransformerEmbedder, load_embedder
    from index.fragments import is_fragment
    from index.ingest.articles import load_paths
    from index.records import Article, LoadResult, Problem
    from index.storage import IndexView, ModelInfo
    from index.store import IndexData

_HOME = {
    "Article": "index.records",
    "ChunkParams": "index.chunking",
    "Embedder": "index.embed.embedder",
    "IndexData": "index.store",
    "LoadResult": "index.records",
    "IndexView": "index.storage",
    "ModelInfo": "index.storage",
    "Problem": "index.records",
    "SentenceTransformerEmbedder": "index.embed.embedder",
    "UpdateReport": "index.build",
    "is_fragment": "index.fragments",
    "load_embedder": "index.embed.embedder",
    "load_paths": "index.ingest.articles",
    "remove_articles": "index.build",
    "update_index": "index.build",
}
__all__ = [
    "Article",
    "ChunkParams",
    "Embedder",
    "IndexData",
    "IndexView",
    "LoadResult",
    "ModelInfo",
    "Problem",
    "SentenceTransformerEmbedder",
    "UpdateReport",
    "is_fragment",
    "load_embedder",
    "load_paths",
    "remove_articles",
    "update_index",
]


__getattr__ = lazy_attributes("index", globals(), _HOME)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
