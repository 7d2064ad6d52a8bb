"""The retriever's term evidence, computed for all candidates at once, equals its definition
worked out sentence by sentence from the text (tokenised here, not read from the postings)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from index.build import update_index
from index.lexical import terms
from qa import Assistant
from qa.retriever import _QUESTION_TERMS, FEATURES, Query

ARTICLES = [
    {
        "id": "harbor",
        "title": "Harbor budget approved by council",
        "text": "The council met on Tuesday. The mayor proposed a harbor budget of $4 million. "
        "The council approved the harbor budget after a long debate. A spokeswoman declined to say "
        "how the money would be spent. Dredging will begin in the spring.",
    },
    {
        "id": "schools",
        "title": "Schools face cuts",
        "text": "Budget cuts hit 2,000 schools. The council said the harbor was not affected. "
        "Teachers protested outside the council building on Monday.",
    },
    {"id": "weather", "title": "Storm", "text": "A storm closed the harbor. Ferries stopped for two days."},
]


def _definition(assistant: Assistant, query: Query, rows: np.ndarray) -> dict[str, np.ndarray]:
    data = assistant.data
    idf = query.idf
    total, top = sum(idf.values()) or 1.0, max(idf.values(), default=0.0) or 1.0
    salient = set(terms(query.focus)) - _QUESTION_TERMS
    article_of = data.sentences[:, 0]
    held = [set(terms(data.sentence_text(r))) & set(idf) for r in range(len(data.sentences))]
    out: dict[str, list[float]] = {k: [] for k in ("coverage", "coverage_context", "coverage_local",
                                                   "missing_salient", "missing_article")}
    for row in rows.tolist():
        article = int(article_of[row])
        own = held[row]
        context = own | set(terms(data.articles[article].title))
        for other in (row - 1, row + 1):
            if 0 <= other < len(held) and int(article_of[other]) == article:
                context |= held[other]
        members = [r for r in range(len(held)) if int(article_of[r]) == article]
        count = {t: sum(t in held[r] for r in members) for t in idf}
        local = {t: w * float(np.log((len(members) + 1) / (count[t] + 0.5))) for t, w in idf.items()}
        in_article = sum(local.values())
        out["coverage"].append(sum(w for t, w in idf.items() if t in own) / total)
        out["coverage_context"].append(sum(w for t, w in idf.items() if t in context) / total)
        out["coverage_local"].append(sum(w for t, w in local.items() if t in own) / in_article if in_article > 0 else 0)
        out["missing_salient"].append(max([w for t, w in idf.items() if t in salient and t not in context], default=0) / top)
        out["missing_article"].append(max([w for t, w in idf.items() if t in salient and count[t] == 0], default=0) / top)
    return {k: np.array(v) for k, v in out.items()}


@pytest.mark.parametrize(
    ("question", "context"),
    [
        ("How much was the harbor budget the council approved?", None),
        ("Who declined to say how the dredging money would be spent?", None),
        ("What did the teachers protest about on Monday in Fresno?", None),  # a term no article holds
        ("and the schools?", "How much was the harbor budget?"),  # a follow-up: earlier terms at half weight
        ("zzz qqq", None),  # no term in the index
    ],
)
def test_term_features_equal_their_sentence_by_sentence_definition(
    tmp_path: Path, fake_embedder, question: str, context: str | None  # type: ignore[no-untyped-def]
) -> None:
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(a) + "\n" for a in ARTICLES), encoding="utf-8")
    update_index(tmp_path / "idx", [tmp_path / "a.jsonl"], fake_embedder)
    assistant = Assistant.open(tmp_path / "idx", embedder=fake_embedder)
    query = assistant.retriever.prepare(question, context)
    found = assistant.retriever.candidates(query)
    assert len(found.rows) == len(assistant.data.sentences)  # a small index: every sentence is a candidate
    want = _definition(assistant, query, found.rows)
    for name, values in want.items():
        got = found.features[:, FEATURES.index(name)]
        assert np.array_equal(got, values.astype(np.float32)), name  # bit for bit, as summed in order
    if question.startswith("What did the teachers"):
        assert want["missing_article"].min() > 0  # "fresno" is missing everywhere: the case is exercised
        assert want["coverage_local"].max() > 0


@pytest.mark.parametrize(
    "sentence",
    [
        "A spokeswoman DECLINED TO SAY how much was spent.",
        "The mayor would not comment on the budget.",
        "Police did not release the names.",
        "The company has not disclosed the price.",
        "Figures have not been released.",
        "The cause was not yet made public.",
        "The number of victims remains unknown.",
        "Who fired first is unclear.",
        "No details were released about the deal.",
        "NO ESTIMATE HAS BEEN GIVEN for the repairs.",
        "The council approved the harbor budget on Tuesday.",
        "Nothing is known about the notes he declined.",  # hints without a match
        "",
    ],
)
def test_the_withheld_hints_never_skip_a_match(sentence: str) -> None:
    from qa.retriever import _WITHHELD, withheld

    assert withheld(sentence) == (_WITHHELD.search(sentence) is not None)


def test_withheld_is_found_where_the_pattern_is() -> None:
    from qa.retriever import withheld

    assert withheld("A spokeswoman declined to say how the money would be spent.")
    assert not withheld("The council approved the harbor budget after a long debate.")
