"""Add, update and remove articles of an index kept in PostgreSQL: the local build's steps, then one transaction.

Unchanged articles keep their vectors (read back from the database); only new or changed text is
embedded. Writers take a PostgreSQL advisory lock, so two ``newsdesk index`` runs against one
database wait for each other; readers are never blocked.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack, closing
from pathlib import Path
from typing import Any

from index import article_spool
from index.build import Kept, ProgressFn, UpdateReport, articles_read, assemble, check_model, plan_update, release
from index.chunking import ChunkParams
from index.embed.embedder import Embedder
from index.errors import IndexNotFoundError
from index.pg.store import PgIndex, connect, read_meta, redact, write, writer_lock
from index.store import IndexData


def update_pg(
    dsn: str,
    paths: Sequence[str | Path],
    embedder: Embedder,
    *,
    params: ChunkParams | None = None,
    progress: ProgressFn | None = None,
    notify: Callable[[str], None] | None = None,
    wait: float = 300.0,
) -> UpdateReport:
    """Add or update the articles under ``paths`` in the database's index (created on first use)."""
    started = time.monotonic()
    with articles_read(paths, progress) as loaded, closing(connect(dsn)) as db, writer_lock(db, wait, notify):
        report = UpdateReport(problems=list(loaded.problems))
        with ExitStack() as until_saved:
            with ExitStack() as until_assembled:  # the old index is let go before the save, as before
                old = _open_existing(db, dsn, embedder)
                if old is not None:
                    until_assembled.callback(old.close)
                kept = plan_update(old.articles if old else [], old.hashes if old else [], loaded.articles, report)
                until_saved.callback(kept.close)
                article_spool.close(loaded.articles)  # what was read is in ``kept`` now: its disk space back
                if old is not None and report.added == 0 and report.updated == 0:
                    report.total_articles, report.total_sentences = len(old.articles), len(old.sentences)
                    report.seconds = time.monotonic() - started
                    return report
                chunk_params = ChunkParams(**old.chunk_params) if old and old.chunk_params else params or ChunkParams()
                data = assemble(kept, old, embedder, chunk_params, progress, report)
            report.generation = _save(db, data, progress)
            report.total_articles, report.total_sentences = len(data.articles), len(data.sentences)
        report.seconds = time.monotonic() - started
        return report


def remove_pg(dsn: str, ids: Iterable[str], embedder: Embedder) -> tuple[list[str], list[str]]:
    """Delete articles by id from the database's index; returns ``(removed, not_found)``."""
    wanted = list(dict.fromkeys(ids))
    db = connect(dsn)
    try:
        with writer_lock(db, 300.0):
            old = _open_existing(db, dsn, embedder)
            if old is None:
                raise IndexNotFoundError(f"no index in {redact(dsn)}")
            try:
                present = {a.id for a in old.articles}
                removed = [i for i in wanted if i in present]
                missing = [i for i in wanted if i not in present]
                if not removed:
                    return removed, missing
                drop = set(removed)
                kept = Kept.of_old(old.articles, old.hashes, (i for i, a in enumerate(old.articles) if a.id not in drop))
                try:
                    report = UpdateReport(removed=len(removed))
                    data = assemble(kept, old, embedder, ChunkParams(**old.chunk_params), None, report)
                except BaseException:
                    kept.close()
                    raise
            finally:
                old.close()
            try:
                _save(db, data, None)
            finally:
                kept.close()
            return removed, missing
    finally:
        db.close()


def _open_existing(db: Any, dsn: str, embedder: Embedder) -> PgIndex | None:
    meta = read_meta(db)
    db.commit()  # no transaction stays open while the articles are embedded (minutes, for an archive)
    if "generation" not in meta:
        return None
    old = PgIndex(dsn)
    try:
        check_model(redact(dsn), old.model, embedder)
    except BaseException:
        old.close()
        raise
    return old


def _save(db: object, data: IndexData, progress: ProgressFn | None) -> int:
    def say(what: str) -> None:
        if progress:
            progress(0, 0, what)

    try:
        return write(
            db,
            model=data.model,
            chunk_params=data.chunk_params,
            articles=data.articles,
            hashes=data.hashes,
            sentences=data.sentences,
            chunks=data.chunks,
            sentence_vectors=data.sentence_vectors.all(),
            chunk_vectors=data.chunk_vectors.all(),
            sentence_bm25=data.sentence_bm25,
            chunk_bm25=data.chunk_bm25,
            progress=say,
        )
    finally:
        release(data)  # the indexes' working files
