"""newsdesk's index: load articles, split and chunk them, embed, and store them on disk."""

from __future__ import annotations

from index.articles import Article, LoadResult, Problem, load_paths
from index.build import UpdateReport, remove_articles, update_index
from index.chunking import ChunkParams
from index.embedder import Embedder, SentenceTransformerEmbedder, load_embedder
from index.store import IndexData, ModelInfo

__all__ = [
    "Article",
    "ChunkParams",
    "Embedder",
    "IndexData",
    "LoadResult",
    "ModelInfo",
    "Problem",
    "SentenceTransformerEmbedder",
    "UpdateReport",
    "load_embedder",
    "load_paths",
    "remove_articles",
    "update_index",
]
