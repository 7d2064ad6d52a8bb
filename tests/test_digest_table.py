"""The build's compact digest map answers exactly as a dict would, zero bytes and merges included."""

from __future__ import annotations

import random

import numpy as np
import pytest

from index import digest_table
from index.build import EmbedCache, _WindowedEncoder, sentence_digest
from index.digest_table import DigestTable


def _awkward_keys(rng: random.Random, n: int) -> list[bytes]:
    """Random digests, many with leading, embedded or trailing zero bytes (numpy strips trailing ones)."""
    keys = {bytes(16), b"\0" * 15 + b"\1", b"\1" + b"\0" * 15, b"\xff" * 16}
    while len(keys) < n:
        raw = bytearray(rng.randbytes(16))
        for i in rng.sample(range(16), rng.choice([0, 1, 4, 15])):
            raw[i] = 0
        keys.add(bytes(raw))
    return sorted(keys, key=lambda _: rng.random())


def test_the_table_answers_as_a_dict_across_merges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(digest_table, "MERGE_AT", 37)  # many merges
    rng = random.Random(4)
    keys = _awkward_keys(rng, 2000)
    stored, absent = keys[:1500], keys[1500:]
    start = np.array(stored[:300], dtype="S16")  # some given at the start, in no order
    table = DigestTable(start, np.arange(300) * -3)
    reference = {k: -3 * i for i, k in enumerate(stored[:300])}
    for i, key in enumerate(stored[300:]):
        assert table.get(key) is None
        table.put(key, i)
        reference[key] = i
        if i % 97 == 0:  # looked up while recent and after merges
            assert all(table.get(k) == v for k, v in reference.items())
    assert len(table) == len(reference) == 1500
    assert all(table.get(k) == v for k, v in reference.items())
    assert all(table.get(k) is None for k in absent)
    assert table.get(bytes(16)) == reference.get(bytes(16))


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        DigestTable().put(b"short", 1)
    with pytest.raises(ValueError, match="2 digests but 1 values"):
        DigestTable(np.array([b"a" * 16, b"b" * 16], "S16"), np.array([1]))


def test_vectors_kept_from_an_interrupted_run_are_found_even_when_a_digest_ends_in_zero(fake_embedder) -> None:  # type: ignore[no-untyped-def]
    texts = [f"Sentence number {n} of the wire copy." for n in range(3000)]
    ends_in_zero = [t for t in texts if sentence_digest(t).endswith(b"\0")]
    assert ends_in_zero  # about 1 in 256 digests
    kept = ends_in_zero[:3] + texts[:5]
    known = EmbedCache.empty(fake_embedder.dim).extended(
        [sentence_digest(t) for t in kept], fake_embedder.embed(kept)
    )
    encoder = _WindowedEncoder(fake_embedder, window=64, known=known)
    encoder.add(kept + ["A sentence never seen before."], [8] * (len(kept) + 1))
    assert encoder.embedded == 1  # only the new one; every kept vector was found
    rows = encoder.finish()
    try:
        np.testing.assert_allclose(rows.rows(0, len(kept) + 1), fake_embedder.embed([*kept, "A sentence never seen before."]), atol=1e-6)
    finally:
        rows.close()
