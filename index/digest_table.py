"""A compact map from 16-byte sentence digests to whole numbers, for builds of any size.

A Python dict of ``bytes`` keys costs about 150 bytes an entry; an archive build meets one digest
per distinct sentence. :class:`DigestTable` keeps its entries in two sorted numpy arrays (16 bytes
of key and 8 of value an entry) and only the most recent ones in a small dict, merged into the
arrays when it fills.
"""

from __future__ import annotations

import numpy as np

DIGEST_BYTES = 16
MERGE_AT = 1 << 16
"""Entries the recent dict holds before they are merged into the sorted arrays."""


class DigestTable:
    """``digest -> int`` in about 24 bytes an entry; digests are exactly :data:`DIGEST_BYTES` long."""

    def __init__(self, keys: np.ndarray | None = None, values: np.ndarray | None = None) -> None:
        """Start from ``keys`` (``S16``, distinct) and their ``values`` (int64), in any order."""
        keys = np.zeros(0, f"S{DIGEST_BYTES}") if keys is None else keys.astype(f"S{DIGEST_BYTES}")
        values = np.zeros(0, np.int64) if values is None else np.asarray(values, dtype=np.int64)
        if len(keys) != len(values):
            raise ValueError(f"{len(keys)} digests but {len(values)} values")
        order = np.argsort(keys, kind="stable")
        self._keys, self._values = keys[order], values[order]
        self._recent: dict[bytes, int] = {}

    def __len__(self) -> int:
        return len(self._keys) + len(self._recent)

    def get(self, key: bytes) -> int | None:
        """The value stored under ``key``, or None."""
        value = self._recent.get(key)
        if value is not None or not len(self._keys):
            return value
        at = int(np.searchsorted(self._keys, key))
        # numpy gives an S16 item back without its trailing zero bytes; digests are all 16 bytes
        # long, so two are equal exactly when they are equal without them
        if at < len(self._keys) and bytes(self._keys[at]) == key.rstrip(b"\0"):
            return int(self._values[at])
        return None

    def put(self, key: bytes, value: int) -> None:
        """Store ``value`` under ``key`` (which must not be stored yet)."""
        if len(key) != DIGEST_BYTES:
            raise ValueError(f"a digest is {DIGEST_BYTES} bytes, got {len(key)}")
        self._recent[key] = value
        if len(self._recent) >= MERGE_AT:
            self._merge()

    def _merge(self) -> None:
        """Sort the recent entries and insert them into the arrays (linear in the table's size)."""
        keys = np.array(list(self._recent), dtype=f"S{DIGEST_BYTES}")
        values = np.fromiter(self._recent.values(), np.int64, len(self._recent))
        self._recent = {}
        order = np.argsort(keys, kind="stable")
        keys, values = keys[order], values[order]
        at = np.searchsorted(self._keys, keys)
        self._keys, self._values = np.insert(self._keys, at, keys), np.insert(self._values, at, values)
