"""Per-article term statistics come from the stored BM25 postings, not from re-reading articles."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from index.build import update_index
from index.lexical import LexicalIndex, terms
from qa import Assistant


def test_rows_with_is_the_postings_list_of_each_term() -> None:
    texts = ["The council voted on the budget.", "Budget cuts hit 2,000 schools.", "", "The council met on Tuesday."]
    lexical = LexicalIndex.build(texts)
    vocabulary = {t for text in texts for t in terms(text)}
    for term in vocabulary:
        assert lexical.rows_with(term).tolist() == [i for i, text in enumerate(texts) if term in terms(text)]
    assert lexical.rows_with("absent-term").tolist() == []


def test_bm25_from_term_ids_scores_as_bm25s_does_from_the_terms() -> None:
    import bm25s

    texts = ["The council voted on the budget.", "Budget cuts hit 2,000 schools.", "", "The council met on Tuesday."]
    texts += [f"Item {n} of the budget went to the council for a vote." for n in range(30)]
    lexical = LexicalIndex.build(text for text in texts)  # a generator, read once
    reference = bm25s.BM25()
    reference.index([terms(t) or ["\u2400"] for t in texts], show_progress=False)
    assert lexical.num_docs == len(texts)
    for question in ("council budget", "2,000 schools vote", "item 7", "tuesday"):
        ids = [reference.vocab_dict[t] for t in terms(question) if t in reference.vocab_dict]
        want = reference.get_scores(ids)
        assert np.allclose(lexical.scores(terms(question)), want, atol=1e-6) and want.max() > 0
    empty = LexicalIndex.build([])
    assert empty.num_docs == 0 and empty.scores(["budget"]).shape == (0,)


def test_question_time_work_does_not_grow_with_article_length(
    tmp_path: Path, fake_embedder, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    filler = " ".join(f"Paragraph {n} of the minutes lists item {n} among routine business." for n in range(400))
    article = {"id": "minutes", "title": "Council minutes", "text": "The council approved the harbor budget. " + filler}
    (tmp_path / "a.jsonl").write_text(json.dumps(article) + "\n", encoding="utf-8")
    update_index(tmp_path / "idx", [tmp_path / "a.jsonl"], fake_embedder)
    assistant = Assistant.open(tmp_path / "idx", embedder=fake_embedder)
    assert len(assistant.data.sentences) >= 400
    calls = []
    import qa.retriever

    real = qa.retriever.terms
    monkeypatch.setattr(qa.retriever, "terms", lambda text: calls.append(text) or real(text))
    answer = assistant.ask("What did the council approve?", k=3)
    assert answer.sentences[0].text.startswith("The council approved the harbor budget.")
    assert len(calls) < 250  # candidates and their neighbours, not all 400+ sentences of the article


def test_bm25_files_written_in_passes_are_the_arrays_bm25s_builds(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Streamed in small blocks and term ranges, the matrix is exactly bm25s's own, score for score."""
    import bm25s

    from index import bm25_files

    monkeypatch.setattr(bm25_files, "POSTINGS_PER_PASS", 7)  # many passes, some a single long term
    monkeypatch.setattr(bm25_files, "FLUSH_POSTINGS", 5)
    texts = ["The council voted on the budget, the budget, the budget.", "", "Budget cuts hit 2,000 schools."]
    texts += [f"Item {n} of the {'budget ' * (n % 4)}went to council {n % 7} for a vote." for n in range(60)]
    lexical = LexicalIndex.build(iter(texts), spool_dir=tmp_path)
    assert [p.name.startswith(".tmp-bm25-") for p in tmp_path.iterdir()] == [True]  # waits in the folder given
    first_use: dict[str, int] = {}  # term ids in order of first use, as the index numbers them
    ids = [[first_use.setdefault(t, len(first_use)) for t in terms(text) or ["\u2400"]] for text in texts]
    reference = bm25s.BM25()
    reference.index((ids, first_use), show_progress=False)
    vocab, indptr, indices, scores = lexical.postings()
    want = reference.scores
    assert vocab == reference.vocab_dict
    assert np.array_equal(indptr, want["indptr"]) and np.array_equal(indices, want["indices"])
    assert np.array_equal(scores, want["data"])  # bit for bit
    saved = tmp_path / "saved"
    saved.mkdir()
    lexical.save(saved)
    lexical.close()
    assert [p.name for p in tmp_path.iterdir()] == ["saved"]  # closing removed the working folder
    again = LexicalIndex.load(saved, len(texts))
    assert np.array_equal(again.scores(terms("council budget vote")), lexical.scores(terms("council budget vote")))
