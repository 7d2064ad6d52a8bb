"""Group an article's sentences into overlapping chunks that fit the model's token window."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ChunkParams:
    """How sentences are grouped into chunks."""

    max_tokens: int = 256
    """Token budget of one chunk, special tokens included (the model's window)."""
    overlap: int = 1
    """Sentences shared by consecutive chunks."""

    def as_dict(self) -> dict[str, int]:
        return {"max_tokens": self.max_tokens, "overlap": self.overlap}


def chunk_sentences(token_counts: Sequence[int], params: ChunkParams) -> list[tuple[int, int]]:
    """Windows of consecutive sentences as ``(first, stop)`` indices into ``token_counts``.

    Each window holds as many whole sentences as fit in ``params.max_tokens`` (a sentence that
    alone exceeds it forms its own chunk); consecutive windows share ``params.overlap`` sentences.
    """
    budget = params.max_tokens - 2  # [CLS] and [SEP]
    chunks: list[tuple[int, int]] = []
    first, n = 0, len(token_counts)
    while first < n:
        stop, used = first, 0
        while stop < n and (stop == first or used + token_counts[stop] <= budget):
            used += token_counts[stop]
            stop += 1
        chunks.append((first, stop))
        if stop >= n:
            break
        first = max(first + 1, stop - params.overlap)
    return chunks
