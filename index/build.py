"""Add, update and remove articles: split, chunk, embed only what changed, save a generation."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np

from index import store
from index.articles import ACCEPTED_SUFFIXES, Article, Problem, load_paths
from index.chunking import ChunkParams, chunk_sentences
from index.embedder import Embedder
from index.errors import IndexCorruptError, IndexMismatchError, IndexNotFoundError, NoArticlesError
from index.lexical import LexicalIndex
from index.splitter import split_sentences
from index.store import IndexData, ModelInfo
from index.vectors import all_vectors, make_vector_index

EMBED_BATCH = 256
"""Sentences embedded per progress step."""


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
        for i, article in enumerate(old.articles if old else []):
            new = incoming.pop(article.id, None)
            if new is None:
                kept.append((article, old.hashes[i], i))  # type: ignore[union-attr]
            elif new.content_hash == old.hashes[i]:  # type: ignore[union-attr]
                report.unchanged += 1
                kept.append((article, old.hashes[i], i))  # type: ignore[union-attr]
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
            kept = [(a, old.hashes[i], i) for i, a in enumerate(old.articles) if a.id not in drop]
            report = UpdateReport(removed=len(removed))
            store.save(index_dir, assemble(kept, old, embedder, ChunkParams(**old.chunk_params), None, report))
        return removed, missing


def _no_articles_message(paths: Sequence[str | Path], problems: list[Problem]) -> str:
    where = ", ".join(str(p) for p in paths) or "(no paths)"
    reason = f"; first problem: {problems[0]}" if problems else ""
    return f"no articles found in {where} (accepted: {', '.join(ACCEPTED_SUFFIXES)}){reason}"


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
    """Build the in-memory generation: reuse old rows where given, split and embed the rest."""
    old_vectors = _all_vectors(old.sentence_vectors) if old is not None else None
    sentence_rows: list[np.ndarray] = []
    chunk_rows: list[np.ndarray] = []
    vector_parts: list[np.ndarray | tuple[int, int]] = []  # arrays (old rows) or (start, stop) of new
    new_texts: list[str] = []
    offset = 0
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
            spans = split_sentences(article.text)
            texts = [article.text[s:e] for s, e in spans]
            counts = embedder.count_tokens(texts)
            sents = np.array([(row, s, e, c) for (s, e), c in zip(spans, counts, strict=True)], dtype=np.int32)
            sents = sents.reshape(-1, 4)
            windows = chunk_sentences(counts, params)
            chunks = np.array([(row, offset + a, offset + b) for a, b in windows], dtype=np.int32).reshape(-1, 3)
            vector_parts.append((len(new_texts), len(new_texts) + len(texts)))
            new_texts.extend(texts)
        sentence_rows.append(sents)
        chunk_rows.append(chunks)
        offset += len(sents)
    new_vectors = _embed_all(new_texts, embedder, progress)
    report.sentences_embedded = len(new_texts)
    parts = [p if isinstance(p, np.ndarray) else new_vectors[p[0] : p[1]] for p in vector_parts]
    vectors = np.concatenate(parts).astype(np.float32) if parts else np.zeros((0, embedder.dim), np.float32)
    sentences = np.concatenate(sentence_rows) if sentence_rows else np.zeros((0, 4), np.int32)
    chunks = np.concatenate(chunk_rows) if chunk_rows else np.zeros((0, 3), np.int32)
    chunk_vectors = chunk_means(vectors, chunks)
    sentence_index = make_vector_index(vectors, embedder.dim)  # exact Flat while small, IVF beyond
    chunk_index = make_vector_index(chunk_vectors, embedder.dim)
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


def _all_vectors(index: object) -> np.ndarray:
    return all_vectors(index)


def _embed_all(texts: list[str], embedder: Embedder, progress: ProgressFn | None) -> np.ndarray:
    if not texts:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    if progress:
        progress(0, len(texts), "embedding sentences")
    for start in range(0, len(order), EMBED_BATCH):
        batch = order[start : start + EMBED_BATCH]
        out[batch] = embedder.embed([texts[i] for i in batch])
        if progress:
            progress(min(start + EMBED_BATCH, len(texts)), len(texts), "embedding sentences")
    return out
