"""Add, update and remove articles: split, chunk, embed only what changed, save a generation."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np

from index import store
from index.chunking import ChunkParams, chunk_sentences
from index.embed.embedder import Embedder
from index.errors import IndexCorruptError, IndexMismatchError, IndexNotFoundError, NoArticlesError
from index.ingest.articles import ACCEPTED_SUFFIXES, load_paths
from index.lexical import LexicalIndex
from index.records import Article, Problem
from index.splitter import split_sentences
from index.storage import ModelInfo
from index.store import IndexData
from index.store.vectors import FaissVectors

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
    """Minimal progress line on a stream (stderr), redrawn in place when it is a terminal."""

    def __init__(self, stream: TextIO | None = None, *, min_interval: float = 0.5) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.min_interval = min_interval
        self._last = 0.0
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def __call__(self, done: int, total: int, what: str) -> None:
        now = time.monotonic()
        if done < total and now - self._last < self.min_interval:
            return
        self._last = now
        line = f"{what}: {done}/{total}"
        if self._tty:
            self.stream.write("\r" + line + ("\n" if done >= total else ""))
        elif done >= total or done == 0:
            self.stream.write(line + "\n")
        self.stream.flush()


ProgressFn = Callable[[int, int, str], None]


def model_info(embedder: Embedder) -> ModelInfo:
    return ModelInfo(
        name=embedder.name,
        backend=embedder.backend,
        fingerprint=embedder.fingerprint,
        dim=embedder.dim,
        max_tokens=embedder.max_tokens,
    )


def check_model(index_dir: Path, built_with: ModelInfo, embedder: Embedder) -> None:
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
    loaded = load_paths(paths)
    if not loaded.articles:
        raise NoArticlesError(_no_articles_message(paths, loaded.problems))
    with store.write_lock(index_dir, wait=wait, notify=notify):
        report = UpdateReport(problems=list(loaded.problems))
        totals = _totals_if_unchanged(index_dir, loaded.articles, embedder)
        if totals is not None:  # the common re-index: no vectors or lexical indexes loaded at all
            report.unchanged = len({a.id for a in loaded.articles})
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
        incoming = {a.id: a for a in loaded.articles}
        kept: list[tuple[Article, str, int | None]] = []  # article, hash, row in old (None = embed)
        old_rows = {a.id: i for i, a in enumerate(old.articles)} if old else {}
        old_hashes = old.hashes if old else []
        for i, article in enumerate(old.articles if old else []):
            new = incoming.pop(article.id, None)
            if new is None:
                kept.append((article, old_hashes[i], i))
            elif new.content_hash == old_hashes[i]:
                report.unchanged += 1
                kept.append((article, old_hashes[i], i))
            else:
                report.updated += 1
                reuse = i if new.text_hash == article.text_hash else None
                kept.append((new, new.content_hash, reuse))
        for article in incoming.values():
            report.added += 1
            kept.append((article, article.content_hash, None))
        del old_rows
        if old is not None and report.added == 0 and report.updated == 0:
            report.total_articles, report.total_sentences = len(old.articles), len(old.sentences)
            report.seconds = time.monotonic() - started
            return report
        data = assemble(kept, old, embedder, params or ChunkParams(), progress, report)
        report.generation = store.save(index_dir, data)
        report.total_articles, report.total_sentences = len(data.articles), len(data.sentences)
        report.seconds = time.monotonic() - started
        return report


def remove_articles(index_dir: Path, ids: Iterable[str], embedder: Embedder) -> tuple[list[str], list[str]]:
    """Delete articles by id; returns ``(removed, not_found)``. Nothing is re-embedded."""
    wanted = list(dict.fromkeys(ids))
    with store.write_lock(index_dir):
        old = _load_existing(index_dir, embedder)
        if old is None:
            raise IndexNotFoundError(f"no index at {index_dir}")
        present = {a.id for a in old.articles}
        removed = [i for i in wanted if i in present]
        missing = [i for i in wanted if i not in present]
        if removed:
            drop = set(removed)
            kept: list[tuple[Article, str, int | None]] = [(a, old.hashes[i], i) for i, a in enumerate(old.articles) if a.id not in drop]
            report = UpdateReport(removed=len(removed))
            store.save(index_dir, assemble(kept, old, embedder, ChunkParams(**old.chunk_params), None, report))
        return removed, missing


def _no_articles_message(paths: Sequence[str | Path], problems: list[Problem]) -> str:
    where = ", ".join(str(p) for p in paths) or "(no paths)"
    reason = f"; first problem: {problems[0]}" if problems else ""
    return f"no articles found in {where} (accepted: {', '.join(ACCEPTED_SUFFIXES)}){reason}"


def _totals_if_unchanged(index_dir: Path, incoming: list[Article], embedder: Embedder) -> tuple[int, int] | None:
    """``(articles, sentences)`` of the index when it already holds every incoming article as it is.

    Reads the article list only (all files still checksummed); a damaged index returns None so
    the full path reports it and rebuilds.
    """
    if not store.exists(index_dir):
        return None
    try:
        model, articles, hashes, counts = store.read_catalogue(index_dir)
    except IndexCorruptError:
        return None
    check_model(index_dir, model, embedder)
    stored = {a.id: h for a, h in zip(articles, hashes, strict=True)}
    if all(stored.get(a.id) == a.content_hash for a in incoming):
        return len(articles), int(counts.get("sentences", 0))
    return None


def _load_existing(index_dir: Path, embedder: Embedder) -> IndexData | None:
    if not store.exists(index_dir):
        return None
    data = store.load(index_dir)
    check_model(index_dir, data.model, embedder)
    return data


def assemble(
    kept: list[tuple[Article, str, int | None]],
    old: IndexData | None,
    embedder: Embedder,
    params: ChunkParams,
    progress: ProgressFn | None,
    report: UpdateReport,
) -> IndexData:
    """Build the in-memory generation: reuse old rows where given, split and embed the rest.

    New articles are split and token-counted in a background thread while the sentences already
    split are embedded (the splitter is pure Python, the model releases the GIL), so both cores work.
    """
    old_vectors = old.sentence_vectors.all() if old is not None else None
    sentence_rows: list[np.ndarray] = []
    chunk_rows: list[np.ndarray] = []
    vector_parts: list[np.ndarray | tuple[int, int]] = []  # arrays (old rows) or (start, stop) of new
    encoder = _WindowedEncoder(embedder)
    new_rows = [row for row, (_, _, old_row) in enumerate(kept) if old_row is None or old is None]
    offset = 0
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsdesk-split")
    try:
        pending: dict[int, tuple[Future[list[SplitArticle]], int]] = {}  # row -> (its group, place in it)
        for group in _groups(new_rows, [len(kept[row][0].text) for row in new_rows]):
            future = pool.submit(_split_and_count, [kept[row][0].text for row in group], embedder)
            pending.update({row: (future, k) for k, row in enumerate(group)})
        for row, (article, _digest, old_row) in enumerate(kept):
            if old_row is not None and old is not None:
                mask = old.sentences[:, 0] == old_row
                sents = old.sentences[mask].copy()
                first_old = int(np.argmax(mask)) if mask.any() else 0
                sents[:, 0] = row
                chunks = old.chunks[old.chunks[:, 0] == old_row].copy()
                chunks[:, 0] = row
                chunks[:, 1:] += offset - first_old
                vector_parts.append(old_vectors[mask] if old_vectors is not None else np.zeros((0, embedder.dim)))
            else:
                future, k = pending.pop(row)
                spans, counts = future.result()[k]
                texts = [article.text[s:e] for s, e in spans]
                sents = np.array([(row, s, e, c) for (s, e), c in zip(spans, counts, strict=True)], dtype=np.int32)
                sents = sents.reshape(-1, 4)
                windows = chunk_sentences(counts, params)
                chunks = np.array([(row, offset + a, offset + b) for a, b in windows], dtype=np.int32).reshape(-1, 3)
                vector_parts.append(encoder.add(texts, counts))
                if progress and encoder.flushed:
                    progress(len(new_rows) - len(pending), len(new_rows), "splitting and embedding articles")
            sentence_rows.append(sents)
            chunk_rows.append(chunks)
            offset += len(sents)
    finally:  # on an error or ^C, articles not yet split are dropped rather than waited for
        pool.shutdown(wait=False, cancel_futures=True)
    new_vectors = encoder.finish()
    if progress and new_rows:
        progress(len(new_rows), len(new_rows), "splitting and embedding articles")
    report.sentences_embedded = len(new_vectors)
    parts = [p if isinstance(p, np.ndarray) else new_vectors[p[0] : p[1]] for p in vector_parts]
    vectors = np.concatenate(parts).astype(np.float32) if parts else np.zeros((0, embedder.dim), np.float32)
    sentences = np.concatenate(sentence_rows) if sentence_rows else np.zeros((0, 4), np.int32)
    chunks = np.concatenate(chunk_rows) if chunk_rows else np.zeros((0, 3), np.int32)
    chunk_vectors = chunk_means(vectors, chunks)
    sentence_index = FaissVectors.build(vectors, embedder.dim)  # exact Flat while small, IVF beyond
    chunk_index = FaissVectors.build(chunk_vectors, embedder.dim)
    articles = [a for a, _, _ in kept]
    sentence_texts = [articles[a].text[s:e] for a, s, e, _ in sentences.tolist()]
    chunk_texts = [
        articles[a].title + "\n" + articles[a].text[int(sentences[first, 1]) : int(sentences[stop - 1, 2])]
        for a, first, stop in chunks.tolist()
    ]  # chunk text for BM25 carries the title, so headline words count
    return IndexData(
        model=model_info(embedder),
        chunk_params=params.as_dict(),
        articles=articles,
        hashes=[h for _, h, _ in kept],
        sentences=sentences,
        chunks=chunks,
        sentence_vectors=sentence_index,
        chunk_vectors=chunk_index,
        sentence_bm25=LexicalIndex.build(sentence_texts),
        chunk_bm25=LexicalIndex.build(chunk_texts),
    )


def chunk_means(vectors: np.ndarray, chunks: np.ndarray) -> np.ndarray:
    """Unit-length mean of each chunk's sentence vectors (chunks are embedded for free)."""
    out = np.zeros((len(chunks), vectors.shape[1] if vectors.ndim == 2 else 0), dtype=np.float32)
    if len(chunks) == 0:
        return out
    cumulative = np.vstack([np.zeros((1, vectors.shape[1]), np.float64), np.cumsum(vectors, axis=0, dtype=np.float64)])
    sums = cumulative[chunks[:, 2]] - cumulative[chunks[:, 1]]
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    out[:] = sums / np.maximum(norms, 1e-12)
    return out


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


class _WindowedEncoder:
    """Embeds sentences as they arrive, a window at a time, in batches of similar token length.

    Only one window of texts is held; the vectors are kept in arrival order.
    """

    def __init__(self, embedder: Embedder, window: int = EMBED_WINDOW) -> None:
        self.embedder = embedder
        self.window = window
        self.flushed = False
        """Whether the last :meth:`add` embedded a window."""
        self._texts: list[str] = []
        self._counts: list[int] = []
        self._parts: list[np.ndarray] = []
        self._total = 0

    def add(self, texts: list[str], counts: list[int]) -> tuple[int, int]:
        """Queue ``texts``; returns their ``(start, stop)`` in the final vector array."""
        start = self._total
        self._texts.extend(texts)
        self._counts.extend(counts)
        self._total += len(texts)
        self.flushed = len(self._texts) >= self.window
        if self.flushed:
            self._flush()
        return start, self._total

    def finish(self) -> np.ndarray:
        """All vectors, float32 ``(n, dim)``, in the order the texts were added."""
        self._flush()
        if not self._parts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        return np.concatenate(self._parts)

    def _flush(self) -> None:
        if not self._texts:
            return
        out = np.zeros((len(self._texts), self.embedder.dim), dtype=np.float32)
        for batch in token_batches(self._counts, self.embedder.max_tokens):
            out[batch] = self.embedder.embed([self._texts[i] for i in batch])
        self._parts.append(out)
        self._texts, self._counts = [], []


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
