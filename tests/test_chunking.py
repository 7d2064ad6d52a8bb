"""Chunks are windows of whole sentences within the token budget, overlapping by one sentence."""

from __future__ import annotations

from index.chunking import ChunkParams, chunk_sentences


def test_windows_fit_the_budget_and_overlap() -> None:
    counts = [40, 60, 80, 30, 90, 20, 70]
    chunks = chunk_sentences(counts, ChunkParams(max_tokens=202, overlap=1))
    for first, stop in chunks:
        assert sum(counts[first:stop]) <= 200 or stop - first == 1
    assert chunks[0][0] == 0 and chunks[-1][1] == len(counts)
    for (_a0, a1), (b0, _b1) in zip(chunks, chunks[1:], strict=False):
        assert b0 == a1 - 1  # one sentence shared


def test_oversized_sentence_is_its_own_chunk_and_progress_is_made() -> None:
    counts = [10, 500, 10]
    chunks = chunk_sentences(counts, ChunkParams(max_tokens=256, overlap=1))
    assert (1, 2) in chunks
    assert chunks[-1][1] == 3
    assert len(chunks) <= 4


def test_empty_article_has_no_chunks() -> None:
    assert chunk_sentences([], ChunkParams()) == []


def test_single_window_when_everything_fits() -> None:
    assert chunk_sentences([5, 5, 5], ChunkParams()) == [(0, 3)]
