"""``newsdesk verify --index postgresql://...``: the index in a database is whole and consistent."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from index.errors import IndexCorruptError
from index.pg.store import PgIndex, redact
from index.storage import ModelInfo


def verify_database(dsn: str, echo: Callable[[str], None]) -> ModelInfo:
    """Check counts, row references and vector sizes of the live generation; echo what was checked."""
    index = PgIndex(dsn)
    try:
        n_articles, n_sentences, n_chunks = len(index.articles), len(index.sentences), len(index.chunks)
        problems = []
        if n_sentences and (index.sentences[:, 0].min() < 0 or index.sentences[:, 0].max() >= n_articles):
            problems.append("a sentence points at no article")
        if n_sentences and np.any(np.diff(index.sentences[:, 0]) < 0):
            problems.append("sentences are not stored article by article")
        if n_chunks and (index.chunks[:, 1].min() < 0 or index.chunks[:, 2].max() > n_sentences):
            problems.append("a chunk points past the sentences")
        for row, (article, start, end, _tokens) in enumerate(index.sentences.tolist()):
            if not 0 <= start < end <= len(index.articles[article].text):
                problems.append(f"sentence {row} has offsets {start}-{end} outside its article")
                break
        with index.cursor() as db:
            counted = {
                name: db.execute(
                    "SELECT count(*) FROM pg_class WHERE relname = %s", (f"newsdesk_g{index.generation}_{name}",)
                ).fetchone()[0]
                for name in ("articles", "sentences", "chunks", "terms", "postings")
            }
        missing = [name for name, present in counted.items() if not present]
        if missing:
            problems.append(f"tables missing: {', '.join(missing)}")
        if index.sentence_vectors.size != n_sentences or index.chunk_vectors.size != n_chunks:
            problems.append("vector counts differ from the tables")
        if problems:
            raise IndexCorruptError(f"the index in {redact(dsn)} is damaged: {'; '.join(problems)}")
        model = index.model
        echo(f"index {redact(dsn)}: generation {index.generation} (PostgreSQL)")
        echo(f"counts: {n_articles} articles, {n_sentences} sentences, {n_chunks} chunks; row references agree")
        echo(f"model: {model.name} (backend {model.backend}, sha256 {model.fingerprint[:12]}, dim {model.dim})")
        return model
    finally:
        index.close()
