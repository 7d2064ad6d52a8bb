"""Add, update and remove articles: split, chunk, embed only what changed, save a generation."""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol, TextIO

import numpy as np

from index import article_spool, store
from index.article_spool import ArticleSpool
from index.chunking import ChunkParams, chunk_sentences
from index.digest_table import DIGEST_BYTES, DigestTable
from index.embed.embedder import Embedder, embed_batches, end_batches
from index.errors import IndexCorruptError, IndexMismatchError, IndexNotFoundError, NoArticlesError
from index.ingest.articles import ACCEPTED_SUFFIXES, load_paths
from index.ingest.language import with_language
from index.lexical import LexicalIndex
from index.records import Article, LoadResult, Problem
from index.splitter import split_sentences
from index.storage import ModelInfo
from index.store import IndexData, files
from index.store import vectors as vector_store
from index.store.read import Rebuildable, load_for_rebuild
from index.store.vectors import FaissVectors
from index.vector_rows import EmbeddedRows, RowsInOrder, SpilledRows, StoredRows, chunk_mean_blocks, window_rows

BATCH_SENTENCES = 64
"""Most sentences encoded in one model call."""
BATCH_TOKENS = 2048
"""Most padded tokens in one model call: long sentences go in smaller batches (less padding, and
the attention buffers of a batch stay small, which bounds the build's peak memory)."""
EMBED_WINDOW = 1024
"""Sentences gathered (and sorted by length) before they are embedded."""
SplitArticle = tuple[list[tuple[int, int]], list[int]]
"""An article's sentence spans and the token count of each."""
SPLIT_GROUP_CHARS = 50_000
"""Articles are split and token-counted in groups of about this much text (one tokenizer call each:
a call per short article cost more than the counting)."""
SPLIT_AHEAD = 8
"""Groups split ahead of the embedding at most: enough to keep the model fed, few enough that the
texts and spans waiting stay small (the splitter is several times faster than the model)."""


@dataclass(slots=True)
class UpdateReport:
    """What one ``newsdesk index`` run did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    sentences_embedded: int = 0
    total_articles: int = 0
    total_sentences: int = 0
    generation: int | None = None
    """The generation written, or None when nothing changed."""
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        parts = [
            f"{self.added} added",
            f"{self.updated} updated",
            f"{self.unchanged} unchanged",
        ]
        if self.removed:
            parts.append(f"{self.removed} removed")
        skipped = sum(1 for p in self.problems if p.skipped)
        if skipped:
            parts.append(f"{skipped} skipped")
        if len(self.problems) > skipped:
            parts.append(f"{len(self.problems) - skipped} with warnings")
        written = f"generation {self.generation}" if self.generation is not None else "nothing to write"
        return (
            f"{', '.join(parts)}; {self.total_articles} articles, {self.total_sentences} sentences "
            f"({self.sentences_embedded} embedded, {self.seconds:.1f} s; {written})"
        )


class Progress:
    """Progress of each step on a stream (stderr): ``what: done/total (pct) rate/s, ETA m:ss``.

    On a terminal the line is redrawn in place (at most every ``min_interval`` seconds); otherwise
    a plain line is written when a step starts, every ``log_interval`` seconds, and when it ends.
    A ``total`` of 0 means a step of unknown length (only the count is shown); ``(0, 0, what)`` just
    announces a step.
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        min_interval: float = 0.5,
        log_interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.min_interval = min_interval
        self.log_interval = log_interval
        self.clock = clock
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._step = ""
        self._began = self._last = 0.0

    def __call__(self, done: int, total: int, what: str) -> None:
        now = self.clock()
        starting = what != self._step
        if starting:
            self._step, self._began, self._last = what, now, 0.0
        finished = 0 < total <= done
        wait = self.min_interval if self._tty else self.log_interval
        if not (starting or finished) and now - self._last < wait:
            return
        self._last = now
        line = f"{what}..." if done == total == 0 else f"{what}: {self._describe(done, total, now - self._began)}"
        if self._tty:
            self.stream.write("\r\x1b[K" + line + ("\n" if finished else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    @staticmethod
    def _describe(done: int, total: int, elapsed: float) -> str:
        if total <= 0:
            return f"{done:,}"
        text = f"{done:,}/{total:,} ({100 * done // total}%)"
        if done and elapsed >= 1.0:
            rate = done / elapsed
            text += f", {rate:,.0f}/s"
            if done < total:
                left = int((total - done) / rate)
                text += f", ETA {left // 60}:{left % 60:02d}"
        return text


ProgressFn = Callable[[int, int, str], None]


def model_info(embedder: Embedder) -> ModelInfo:
    return ModelInfo(
        name=embedder.name,
        backend=embedder.backend,
        fingerprint=embedder.fingerprint,
        dim=embedder.dim,
        max_tokens=embedder.max_tokens,
    )


def check_model(index_dir: Path | str, built_with: ModelInfo, embedder: Embedder) -> None:
    """Refuse an embedder that differs from the one that built the index."""
    wanted = model_info(embedder)
    if built_with.backend != wanted.backend:
        raise IndexMismatchError(
            f"index {index_dir} was built with the {built_with.backend} embedding backend but the configured one "
            f"is {wanted.backend}; set NEWSDESK_BACKEND={built_with.backend} or index into a new --index directory"
        )
    for key in ("fingerprint", "dim"):
        if getattr(built_with, key) != getattr(wanted, key):
            raise IndexMismatchError(
                f"index {index_dir} was built with model {built_with.name} ({built_with.backend}, "
                f"sha256 {built_with.fingerprint[:12]}, dim {built_with.dim}) but the configured model is "
                f"{wanted.name} ({wanted.backend}, sha256 {wanted.fingerprint[:12]}, dim {wanted.dim}); "
                "use that model or index into a new --index directory"
            )


def update_index(
    index_dir: Path,
    paths: Sequence[str | Path],
    embedder: Embedder,
    *,
    params: ChunkParams | None = None,
    progress: ProgressFn | None = None,
    notify: Callable[[str], None] | None = None,
    wait: float = 300.0,
) -> UpdateReport:
    """Add or update the articles under ``paths``; unchanged ones keep their vectors.

    Raises NoArticlesError (nothing written) when the paths hold no readable article.
    """
    started = time.monotonic()
    with (
        articles_read(paths, progress, spool_dir=_spool_dir(index_dir)) as loaded,
        store.write_lock(index_dir, wait=wait, notify=notify),
    ):
        store.remove_dead_writers_files(index_dir)
        report = UpdateReport(problems=list(loaded.problems))
        if progress and store.exists(index_dir):
            progress(0, 0, "checking the index")
        totals = _totals_if_unchanged(index_dir, loaded.articles, embedder)
        if totals is not None:  # the common re-index: no vectors or lexical indexes loaded at all
            report.unchanged = len(loaded.articles)  # their ids are unique (load_paths skips repeats)
            report.total_articles, report.total_sentences = totals
            report.seconds = time.monotonic() - started
            return report
        try:
            old = _load_existing(index_dir, embedder)
        except IndexCorruptError as exc:  # the hint says "run newsdesk index": that must then work
            old = None
            damage = str(exc).replace(f"; {store.REBUILD_HINT}", "")
            report.problems.append(Problem(damage, "the index was damaged; rebuilt from the paths given", skipped=False))
            if notify is not None:
                notify(f"warning: {damage}; rebuilding the index from the paths given")
        with ExitStack() as spools:  # every text spool is closed however this ends
            if old is not None:
                spools.callback(article_spool.close, old.articles)
            kept = plan_update(
                old.articles if old else [], old.hashes if old else [], loaded.articles, report, spool_dir=_spool_dir(index_dir)
            )
            spools.callback(kept.close)
            article_spool.close(loaded.articles)  # what was read is in ``kept`` now: its disk space back
            if old is not None and report.added == 0 and report.updated == 0:
                report.total_articles, report.total_sentences = len(old.articles), len(old.sentences)
                report.seconds = time.monotonic() - started
                return report
            data = _assemble_and_save(index_dir, kept, old, embedder, params or ChunkParams(), progress, report)
            report.total_articles, report.total_sentences = len(data.articles), len(data.sentences)
        EmbedCache.remove(index_dir)
        report.seconds = time.monotonic() - started
        return report


def _spool_dir(index_dir: Path) -> Path | None:
    """Where a build's working files go: the index folder once it exists, else the system's temporary folder."""
    return index_dir if index_dir.is_dir() else None


@contextmanager
def articles_read(
    paths: Sequence[str | Path], progress: ProgressFn | None, *, spool_dir: Path | None = None
) -> Iterator[LoadResult]:
    """Every article under ``paths``, their texts waiting in a spool file in ``spool_dir`` (default: the
    system's temporary folder) until the block ends; NoArticlesError (one line, the first problem)
    when there is none."""
    loaded = load_paths(paths, progress=progress, into=ArticleSpool(spool_dir))
    try:
        if not loaded.articles:
            raise NoArticlesError(no_articles_message(paths, loaded.problems))
        yield loaded
    finally:
        article_spool.close(loaded.articles)


@dataclass(slots=True)
class Kept:
    """What a new generation holds, article by article: the article, its content hash, and its row in
    the old generation (None: split and embed it). The articles are a list, or a spool of their texts
    on the disk (:meth:`close` removes it)."""

    articles: Sequence[Article]
    hashes: list[str]
    old_rows: list[int | None]

    def close(self) -> None:
        article_spool.close(self.articles)

    @classmethod
    def of_old(
        cls, articles: Sequence[Article], hashes: Sequence[str], rows: Iterable[int], *, spool_dir: Path | None = None
    ) -> Kept:
        """The old generation's ``rows`` as they are (nothing to embed), their texts in a spool in ``spool_dir``."""
        chosen = list(rows)
        return cls(ArticleSpool(spool_dir, (articles[i] for i in chosen)), [hashes[i] for i in chosen], list(chosen))


def plan_update(
    old_articles: Sequence[Article],
    old_hashes: Sequence[str],
    incoming: Sequence[Article],
    report: UpdateReport,
    *,
    spool_dir: Path | None = None,
) -> Kept:
    """Old articles (replaced where an incoming one has the same id) then the new ones; counts go to ``report``.

    The kept articles' texts wait in a spool file in ``spool_dir`` (default: the system's temporary
    folder), read one article at a time here and back as the build reaches them.
    """
    by_id = {a.id: i for i, a in enumerate(incoming)}
    spool = ArticleSpool(spool_dir)
    kept = Kept(spool, [], [])

    def keep(article: Article, digest: str, row: int | None) -> None:
        spool.append(article)
        kept.hashes.append(digest)
        kept.old_rows.append(row)

    try:
        for i, article in enumerate(old_articles):
            at = by_id.pop(article.id, None)
            if at is None:
                keep(article, old_hashes[i], i)
                continue
            new = incoming[at]
            if new.content_hash == old_hashes[i]:
                report.unchanged += 1
                # the same content: its language as stored, told now for an index written before languages
                known = article.language is not None
                keep(article if known else with_language(new, report.problems), old_hashes[i], i)
            else:
                report.updated += 1
                reuse = i if new.text_hash == article.text_hash else None
                keep(with_language(new, report.problems), new.content_hash, reuse)
        for at in by_id.values():
            article = incoming[at]
            report.added += 1
            keep(with_language(article, report.problems), article.content_hash, None)
    except BaseException:
        kept.close()
        raise
    return kept


class Previous(Protocol):
    """What :func:`assemble` reads from the generation before (local files or a database)."""

    articles: Sequence[Article]
    sentences: np.ndarray
    chunks: np.ndarray

    @property
    def sentence_vectors(self) -> StoredRows: ...


def remove_articles(index_dir: Path, ids: Iterable[str], embedder: Embedder) -> tuple[list[str], list[str]]:
    """Delete articles by id; returns ``(removed, not_found)``. Nothing is re-embedded."""
    wanted = list(dict.fromkeys(ids))
    with store.write_lock(index_dir):
        old = _load_existing(index_dir, embedder)
        if old is None:
            raise IndexNotFoundError(f"no index at {index_dir}")
        with ExitStack() as spools:
            spools.callback(article_spool.close, old.articles)
            present = {a.id for a in old.articles}
            removed = [i for i in wanted if i in present]
            missing = [i for i in wanted if i not in present]
            if removed:
                drop = set(removed)
                rows = (i for i, a in enumerate(old.articles) if a.id not in drop)
                kept = Kept.of_old(old.articles, old.hashes, rows, spool_dir=index_dir)
                spools.callback(kept.close)
                report = UpdateReport(removed=len(removed))
                _assemble_and_save(index_dir, kept, old, embedder, ChunkParams(**old.chunk_params), None, report)
        return removed, missing


def no_articles_message(paths: Sequence[str | Path], problems: list[Problem]) -> str:
    where = ", ".join(str(p) for p in paths) or "(no paths)"
    reason = f"; first problem: {problems[0]}" if problems else ""
    return f"no articles found in {where} (accepted: {', '.join(ACCEPTED_SUFFIXES)}){reason}"


def release(data: IndexData) -> None:
    """Remove the working files of a generation :func:`assemble` built (its indexes wait in them until saved)."""
    for index in (data.sentence_vectors, data.chunk_vectors, data.sentence_bm25, data.chunk_bm25):
        index.close()


def _assemble_and_save(
    index_dir: Path,
    kept: Kept,
    old: Previous | None,
    embedder: Embedder,
    params: ChunkParams,
    progress: ProgressFn | None,
    report: UpdateReport,
) -> IndexData:
    """:func:`assemble` (with ``index_dir`` for its working files and embedding cache) and save the
    result as the next generation (``report.generation``); its working files are removed either way.

    A failed write of the working files gives the one-line IndexWriteError a failed save gives.
    """
    try:
        data = assemble(kept, old, embedder, params, progress, report, cache_dir=index_dir)
    except OSError as exc:
        raise files.write_error(exc, Path(exc.filename or index_dir), store.current_generation_or_none(index_dir)) from exc
    if progress:
        progress(0, 0, "writing the new generation")
    try:
        report.generation = store.save(index_dir, data)
    finally:
        release(data)
    return data


def _totals_if_unchanged(index_dir: Path, incoming: Sequence[Article], embedder: Embedder) -> tuple[int, int] | None:
    """``(articles, sentences)`` of the index when it already holds every incoming article as it is.

    Reads the article list only (all files still checksummed); a damaged index returns None so
    the full path reports it and rebuilds.
    """
    if not store.exists(index_dir):
        return None
    try:
        model, ids, hashes, counts = store.read_catalogue(index_dir)
    except IndexCorruptError:
        return None
    check_model(index_dir, model, embedder)
    stored = dict(zip(ids, hashes, strict=True))
    if all(stored.get(a.id) == a.content_hash for a in incoming):
        return len(stored), int(counts.get("sentences", 0))
    return None


def _load_existing(index_dir: Path, embedder: Embedder) -> Rebuildable | None:
    """The live generation for a rebuild, its texts in a spool in the index folder (close its
    ``articles`` when done), or None when there is none."""
    if not store.exists(index_dir):
        return None
    data = load_for_rebuild(index_dir, spool_dir=index_dir)
    try:
        check_model(index_dir, data.model, embedder)
    except BaseException:
        article_spool.close(data.articles)
        raise
    return data


def assemble(
    kept: Kept,
    old: Previous | None,
    embedder: Embedder,
    params: ChunkParams,
    progress: ProgressFn | None,
    report: UpdateReport,
    *,
    cache_dir: Path | None = None,
) -> IndexData:
    """Build the next generation: reuse old rows where given, split and embed the rest.

    New articles are split and token-counted in a background thread while the sentences already
    split are embedded (the splitter is pure Python, the model releases the GIL), so both cores work.
    With ``cache_dir``, vectors an interrupted run left there are reused, and an interrupt (Ctrl+C)
    leaves what this run embedded there for the next one.

    The vector and BM25 indexes are written to working files as they are built (in ``cache_dir``,
    else the system's temporary folder), so memory does not grow with them; :func:`release` the
    result once it is saved. Each text is asked of ``kept.articles`` when its article is reached (a
    spool reads it back from the disk), and the result's ``articles`` are ``kept.articles``.
    """
    sentence_rows: list[np.ndarray] = []
    chunk_rows: list[np.ndarray] = []
    vector_parts: list[tuple[bool, int, int]] = []  # (from the old generation?, start, stop)
    known = EmbedCache.load(cache_dir, embedder.fingerprint, embedder.dim) if cache_dir is not None else None
    spill_dir = cache_dir if cache_dir is not None and cache_dir.is_dir() else None  # else the system's temp folder
    encoder = _WindowedEncoder(embedder, known=known, spill_dir=spill_dir)
    articles = kept.articles
    new_rows = [row for row, old_row in enumerate(kept.old_rows) if old_row is None or old is None]
    offset = 0
    if old is not None:  # rows are stored article by article: each old article's rows are one slice
        sentence_at = np.searchsorted(old.sentences[:, 0], np.arange(len(old.articles) + 1))
        chunk_at = np.searchsorted(old.chunks[:, 0], np.arange(len(old.articles) + 1))
    if progress and new_rows:
        progress(0, len(new_rows), "splitting and embedding articles")
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsdesk-split")
    try:
        # the splitter reads the texts itself, at most SPLIT_AHEAD groups ahead of the embedding, so
        # neither the texts nor their sentence spans pile up in memory while the model works
        ahead = _SplitAhead(pool, articles, new_rows, embedder)
        for row, old_row in enumerate(kept.old_rows):
            if old_row is not None and old is not None:
                first_old, stop_old = int(sentence_at[old_row]), int(sentence_at[old_row + 1])
                sents = old.sentences[first_old:stop_old].copy()
                sents[:, 0] = row
                chunks = old.chunks[int(chunk_at[old_row]) : int(chunk_at[old_row + 1])].copy()
                chunks[:, 0] = row
                chunks[:, 1:] += offset - first_old
                vector_parts.append((True, first_old, stop_old))
            else:
                spans, counts = ahead.take(row)
                text = articles[row].text
                texts = [text[s:e] for s, e in spans]
                sents = np.array([(row, s, e, c) for (s, e), c in zip(spans, counts, strict=True)], dtype=np.int32)
                sents = sents.reshape(-1, 4)
                windows = chunk_sentences(counts, params)
                chunks = np.array([(row, offset + a, offset + b) for a, b in windows], dtype=np.int32).reshape(-1, 3)
                vector_parts.append((False, *encoder.add(texts, counts)))
                if progress and encoder.flushed:
                    progress(ahead.taken, len(new_rows), "splitting and embedding articles")
            sentence_rows.append(sents)
            chunk_rows.append(chunks)
            offset += len(sents)
        new_vectors = encoder.finish()  # embeds the last window and hands every vector over
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt) and cache_dir is not None and encoder.embedded:
            encoder.done_so_far().save(cache_dir, embedder.fingerprint)
        encoder.close()
        raise
    finally:  # on an error or ^C, articles not yet split are dropped rather than waited for
        pool.shutdown(wait=False, cancel_futures=True)
    try:  # every vector is read a block at a time from where it waits: no copy of them all is held
        if progress and new_rows:
            progress(len(new_rows), len(new_rows), "splitting and embedding articles")
        report.sentences_embedded = encoder.embedded
        del encoder
        _give_back_freed_memory()
        sentences = np.concatenate(sentence_rows) if sentence_rows else np.zeros((0, 4), np.int32)
        chunks = np.concatenate(chunk_rows) if chunk_rows else np.zeros((0, 3), np.int32)
        if progress:
            progress(0, 0, f"building the vector and BM25 indexes of {len(sentences):,} sentences")
        vectors = RowsInOrder(
            vector_parts, new_vectors.rows, old.sentence_vectors if old is not None else None, embedder.dim
        )
        chunk_vectors = SpilledRows(embedder.dim, spill_dir)
        for block in chunk_mean_blocks(vectors.rows, chunks, embedder.dim):
            chunk_vectors.append(block)
        # Flat while small, IVF beyond; each file is written to the disk as it is built, not held in memory
        sentence_index = FaissVectors.build_from(vectors.rows, len(vectors), embedder.dim, spool_dir=spill_dir)
    finally:
        new_vectors.close()
    try:
        chunk_index = FaissVectors.build_from(
            chunk_vectors.rows, len(chunk_vectors), embedder.dim, flat_limit=vector_store.CHUNK_FLAT_LIMIT, spool_dir=spill_dir
        )
    finally:
        chunk_vectors.close()
    sentence_texts = (articles[a].text[s:e] for a, s, e, _ in _rows_of(sentences))  # made one at a time
    starts, ends = sentences[:, 1], sentences[:, 2]
    chunk_texts = (
        articles[a].title + "\n" + articles[a].text[int(starts[first]) : int(ends[stop - 1])]
        for a, first, stop in _rows_of(chunks)
    )  # chunk text for BM25 carries the title, so headline words count
    return IndexData(
        model=model_info(embedder),
        chunk_params=params.as_dict(),
        articles=articles,
        hashes=list(kept.hashes),
        sentences=sentences,
        chunks=chunks,
        sentence_vectors=sentence_index,
        chunk_vectors=chunk_index,
        sentence_bm25=LexicalIndex.build(sentence_texts, spool_dir=spill_dir),
        chunk_bm25=LexicalIndex.build(chunk_texts, spool_dir=spill_dir),
    )


def _rows_of(table: np.ndarray, block: int = 65_536) -> Iterator[list[int]]:
    """The rows of an int table as lists of ints, converted a block at a time (not all at once)."""
    for start in range(0, len(table), block):
        yield from table[start : start + block].tolist()


def _give_back_freed_memory() -> None:
    """Ask the C allocator to return freed memory to the system (glibc keeps what splitting and the
    encoder's bookkeeping freed, and the vector indexes are built next); nothing elsewhere."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _groups(rows: list[int], sizes: list[int], chars: int = SPLIT_GROUP_CHARS) -> list[list[int]]:
    """Consecutive ``rows`` in groups of about ``chars`` characters of text (at least one row each)."""
    groups: list[list[int]] = []
    total = 0
    for row, size in zip(rows, sizes, strict=True):
        if not groups or total >= chars:
            groups.append([])
            total = 0
        groups[-1].append(row)
        total += size
    return groups


class _SplitAhead:
    """The new articles split and token-counted in a background thread, in groups, in row order, at
    most :data:`SPLIT_AHEAD` groups ahead of what :meth:`take` has asked for."""

    def __init__(self, pool: ThreadPoolExecutor, articles: Sequence[Article], rows: list[int], embedder: Embedder) -> None:
        self._pool, self._articles, self._embedder = pool, articles, embedder
        self._groups = enumerate(_groups(rows, [article_spool.text_length(articles, row) for row in rows], SPLIT_GROUP_CHARS))
        self._pending: dict[int, tuple[Future[list[SplitArticle]], int, int]] = {}
        """Row -> its group's future, its place in the group, the group's number."""
        self._left: dict[int, int] = {}
        """Group number -> rows of it not taken yet (groups submitted and not used up)."""
        self.taken = 0
        """Articles handed out so far."""
        self._top_up()

    def take(self, row: int) -> SplitArticle:
        """Sentence spans and token counts of article ``row`` (rows are taken in the order given)."""
        future, k, group = self._pending.pop(row)
        split = future.result()[k]
        self.taken += 1
        self._left[group] -= 1
        if not self._left[group]:
            del self._left[group]
            self._top_up()
        return split

    def _top_up(self) -> None:
        while len(self._left) < SPLIT_AHEAD:
            number, rows = next(self._groups, (-1, []))
            if not rows:
                return
            future = self._pool.submit(self._split, rows)
            self._left[number] = len(rows)
            self._pending.update({row: (future, k, number) for k, row in enumerate(rows)})

    def _split(self, rows: list[int]) -> list[SplitArticle]:
        return _split_and_count([self._articles[row].text for row in rows], self._embedder)


def _split_and_count(texts: list[str], embedder: Embedder) -> list[SplitArticle]:
    """Sentence spans and their token counts for each text; one tokenizer call for the group."""
    spans = [split_sentences(text) for text in texts]
    counts = embedder.count_tokens([text[s:e] for text, found in zip(texts, spans, strict=True) for s, e in found])
    out: list[SplitArticle] = []
    start = 0
    for found in spans:
        out.append((found, counts[start : start + len(found)]))
        start += len(found)
    return out


def sentence_digest(text: str) -> bytes:
    """A 16-byte digest naming a sentence's exact text (identical texts get one vector)."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=DIGEST_BYTES).digest()


class _WindowedEncoder:
    """Embeds sentences as they arrive, a window at a time, in batches of similar token length.

    A text seen before in this run (a wire copy, standing boilerplate) or found in ``known`` (vectors
    kept from an interrupted run) is not embedded again. Only one window of texts is held, and each
    window's vectors go to an unnamed temporary file (in ``spill_dir``) until :meth:`finish`, so the
    build's memory does not grow with them (about 1.5 KB a sentence). The vectors come back in
    arrival order.
    """

    def __init__(
        self,
        embedder: Embedder,
        window: int | None = None,
        known: EmbedCache | None = None,
        spill_dir: Path | None = None,
    ) -> None:
        self.embedder = embedder
        self.window = window or EMBED_WINDOW
        self.known = known if known is not None else EmbedCache.empty(embedder.dim)
        self.flushed = False
        """Whether the last :meth:`add` embedded a window."""
        self._texts: list[str] = []
        self._counts: list[int] = []
        self._spill_dir = spill_dir
        self._spill: IO[bytes] | None = None
        self._spill_failed = False
        self._parts: list[np.ndarray | tuple[int, int]] = []
        """Each window's vectors: kept in memory, or ``(offset, rows)`` in the spill file."""
        self._keys = bytearray()
        """Digest of each text embedded or queued in this run, in embedding order (16 bytes each)."""
        self._slot = DigestTable(self.known.keys, -1 - np.arange(len(self.known.keys), dtype=np.int64))
        """Digest -> its row among this run's embedded texts (``>= 0``) or ``-1 - row`` in ``known``."""
        self._order = array("q")
        """For each text added, its slot."""

    @property
    def embedded(self) -> int:
        """Distinct texts embedded (or queued) in this run."""
        return len(self._keys) // DIGEST_BYTES

    def add(self, texts: list[str], counts: list[int]) -> tuple[int, int]:
        """Queue ``texts``; returns their ``(start, stop)`` in the final vector array."""
        start = len(self._order)
        for text, count in zip(texts, counts, strict=True):
            key = sentence_digest(text)
            slot = self._slot.get(key)
            if slot is None:
                slot = self.embedded
                self._keys += key
                self._texts.append(text)
                self._counts.append(count)
                self._slot.put(key, slot)
            self._order.append(slot)
        self.flushed = len(self._texts) >= self.window
        if self.flushed:
            self._flush()
        return start, len(self._order)

    def finish(self) -> EmbeddedRows:
        """Every vector, in the order the texts were added, to read back a block at a time.

        The encoder hands its windows (and the spill file) over: close the result when done.
        """
        self._flush()
        end_batches(self.embedder)
        rows = EmbeddedRows(
            np.frombuffer(self._order, dtype=np.int64).copy(), self.known.vectors, self._parts, self._spill, self.embedder.dim
        )
        self._spill, self._parts = None, []
        return rows

    def close(self) -> None:
        """Let go of the spill file (it has no name, so it is gone from the disk too), the parts and
        the embedder's bulk session."""
        end_batches(self.embedder)
        if self._spill is not None:
            self._spill.close()
            self._spill = None
        self._parts = []

    def done_so_far(self) -> EmbedCache:
        """The vectors embedded so far (with those it was given), to keep when the run is cut short."""
        parts = [window_rows(part, self._spill, self.embedder.dim) for part in self._parts]
        fresh = np.concatenate(parts) if parts else np.zeros((0, self.embedder.dim), np.float32)
        keys = np.frombuffer(bytes(self._keys[: len(fresh) * DIGEST_BYTES]), dtype=f"S{DIGEST_BYTES}")
        return self.known.extended(keys, fresh)

    def _flush(self) -> None:
        if not self._texts:
            return
        out = np.zeros((len(self._texts), self.embedder.dim), dtype=np.float32)
        batches = token_batches(self._counts, self.embedder.max_tokens)
        texts = [[self._texts[i] for i in batch] for batch in batches]
        for batch, vectors in zip(batches, embed_batches(self.embedder, texts), strict=True):
            out[batch] = vectors
        self._parts.append(self._spilled(out))
        self._texts, self._counts = [], []

    def _spilled(self, vectors: np.ndarray) -> np.ndarray | tuple[int, int]:
        """``vectors`` written to the spill file, as ``(offset, rows)``; kept in memory instead when
        the disk refuses (a full disk then fails the generation's own write, with its message)."""
        if self._spill_failed:
            return vectors
        try:
            if self._spill is None:  # unbuffered: a refused write leaves nothing pending
                self._spill = tempfile.TemporaryFile(buffering=0, dir=self._spill_dir, prefix=".newsdesk-vectors-")
            offset = self._spill.seek(0, os.SEEK_END)
            view = memoryview(vectors.tobytes())
            while view:  # a write may be short (a file size limit): the next one then says why
                written = self._spill.write(view)
                if not written:
                    raise OSError(errno.ENOSPC, "nothing written")
                view = view[written:]
        except OSError:
            self._spill_failed = True
            return vectors
        return offset, len(vectors)


@dataclass(slots=True)
class EmbedCache:
    """Sentence vectors by text digest, kept in ``<index>/.embed-cache/`` when a build is interrupted so
    the next run does not embed them again (plain .npy files, tied to the model's fingerprint)."""

    keys: np.ndarray
    """``S16`` digests, one per vector."""
    vectors: np.ndarray

    FOLDER = ".embed-cache"

    @classmethod
    def empty(cls, dim: int) -> EmbedCache:
        return cls(np.zeros(0, "S16"), np.zeros((0, dim), np.float32))

    def extended(self, keys: np.ndarray | list[bytes], vectors: np.ndarray) -> EmbedCache:
        """This cache plus ``vectors`` under ``keys`` (16-byte digests)."""
        return EmbedCache(
            np.concatenate([self.keys, np.array(keys, dtype="S16")]), np.concatenate([self.vectors, vectors])
        )

    def save(self, index_dir: Path, fingerprint: str) -> None:
        """Write the cache (replacing any older one); best effort: a failure leaves no cache."""
        folder = Path(index_dir) / self.FOLDER
        try:
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            np.save(folder / "keys.npy", self.keys, allow_pickle=False)
            np.save(folder / "vectors.npy", self.vectors.astype(np.float32), allow_pickle=False)
            (folder / "model.json").write_text(json.dumps({"fingerprint": fingerprint, "count": len(self.keys)}))
        except OSError:
            shutil.rmtree(folder, ignore_errors=True)

    @classmethod
    def load(cls, index_dir: Path, fingerprint: str, dim: int) -> EmbedCache:
        """The cache an interrupted run left for this model; empty when there is none or it does not fit."""
        folder = Path(index_dir) / cls.FOLDER
        try:
            meta = json.loads((folder / "model.json").read_text(encoding="utf-8"))
            keys = np.load(folder / "keys.npy", allow_pickle=False)
            vectors = np.load(folder / "vectors.npy", allow_pickle=False)
        except (OSError, ValueError):
            return cls.empty(dim)
        fits = (
            isinstance(meta, dict)
            and meta.get("fingerprint") == fingerprint
            and keys.dtype == np.dtype("S16")
            and vectors.dtype == np.float32
            and vectors.shape == (len(keys), dim)
            and meta.get("count") == len(keys)
        )
        return cls(keys, vectors) if fits else cls.empty(dim)

    @classmethod
    def remove(cls, index_dir: Path) -> None:
        shutil.rmtree(Path(index_dir) / cls.FOLDER, ignore_errors=True)


def token_batches(counts: Sequence[int], max_tokens: int) -> list[list[int]]:
    """Indices sorted by token count, cut into batches of at most ``BATCH_SENTENCES`` sentences
    and ``BATCH_TOKENS`` padded tokens (a single longer sentence still gets a batch of its own)."""
    batches: list[list[int]] = []
    current: list[int] = []
    for i in sorted(range(len(counts)), key=counts.__getitem__):
        padded = min(counts[i], max_tokens)  # sorted, so this is the longest in the batch so far
        if current and (len(current) >= BATCH_SENTENCES or (len(current) + 1) * padded > BATCH_TOKENS):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches
