"""Syndicated copies: one wire story from several outlets is recognised, and its sentences cited once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.build import update_index
from index.ingest.syndication import find_copies, normalise, shingles, similar, text_key
from index.records import Article
from qa import Assistant
from qa.copies import CopyFinder
from qa.types import ArticleRef, Sentence

DATA = Path(__file__).resolve().parent / "data"
WIRE_SENTENCE = "The Inland Boatmen's Union said about 1,400 workers joined the strike after contract talks broke down over wages and staffing."

STORY = (
    "Deckhands and engineers on the state ferry system walked off the job on Tuesday, halting service on six "
    "of nine routes. The union said about 1,400 workers joined the strike after contract talks broke down. "
    "A spokesperson said members had worked without a contract for 14 months. The transportation department "
    "said two routes would run on a reduced schedule staffed by managers. No new talks had been scheduled."
)
OTHER = (
    "The city council approved a budget of $412 million on Monday, including money for twelve new firefighters "
    "and a second library branch. The mayor said the budget kept property taxes flat for a third year. Two "
    "members voted against it, saying it did too little for road repairs on the east side of town."
)


@pytest.fixture
def news_assistant(tmp_path: Path, fake_embedder) -> Assistant:  # type: ignore[no-untyped-def]
    """Pages and feeds: the ferry story is in one page and two feeds (one copy near-identical)."""
    update_index(tmp_path / "idx", [DATA / "pages", DATA / "feeds"], fake_embedder)
    return Assistant.open(tmp_path / "idx", embedder=fake_embedder)


def test_normalise_ignores_layout_quotes_and_case() -> None:
    assert normalise("The  Union’s “deal”\n— said TUESDAY.") == normalise("the union's \"deal\" - said Tuesday")
    assert text_key("A b c.") == text_key("a  B c") != text_key("a b d")


def test_find_copies_groups_identical_near_identical_and_trimmed_copies() -> None:
    near = STORY.replace("on Tuesday", "on Tuesday morning") + " The governor said she was watching closely."
    trimmed = STORY.rsplit(" The transportation", 1)[0]
    texts = [STORY, OTHER, STORY.upper().replace(".", " ."), near, trimmed, OTHER + " One more council sentence here."]
    assert find_copies(texts) == [[0, 2, 3, 4], [1, 5]]
    assert find_copies([STORY, OTHER]) == [] and find_copies([]) == []


def test_short_texts_do_not_match_by_containment() -> None:
    short = "The union said about 1,400 workers joined the strike."
    assert not similar(shingles(short), shingles(STORY))
    assert similar(shingles(STORY), shingles(STORY))


def test_copy_finder_compares_articles_lazily() -> None:
    articles = [Article("a", "", STORY), Article("b", "", STORY + " Extra."), Article("c", "", OTHER)]
    finder = CopyFinder(articles)
    assert finder.same_story(0, 1) and finder.same_story(1, 0) and not finder.same_story(0, 2)
    assert finder.same_story(2, 2)


def test_wire_sentence_is_cited_once_with_the_other_outlets(news_assistant: Assistant) -> None:
    answer = news_assistant.ask("How many workers joined the ferry strike?", k=5)
    texts = [normalise(s.text) for s in answer.sentences]
    assert texts.count(normalise(WIRE_SENTENCE)) == 1
    assert len(set(texts)) == len(texts)  # no sentence is cited twice, whoever printed it
    [cited] = [s for s in answer.sentences if s.text == WIRE_SENTENCE]
    assert answer.sentences[0] == cited
    outlets = {cited.source} | {ref.source for ref in cited.also_in or []}
    assert outlets == {"Northfield Gazette", "Valley Times", "Metro Ledger"}
    assert len(cited.also_in or []) == 2 and cited.article_id not in {r.article_id for r in cited.also_in or []}
    by_source = {ref.source: ref for ref in cited.also_in or []}
    other = next(iter(by_source.values()))
    article = next(a for a in news_assistant.data.articles if a.id == other.article_id)
    assert other.published == article.published and WIRE_SENTENCE in article.text


def test_sentence_only_in_the_near_copy_is_not_collapsed(news_assistant: Assistant) -> None:
    answer = news_assistant.ask("Had new talks been scheduled, and what did the governor's office say?", k=5)
    governor = [s for s in answer.sentences if "governor" in s.text]
    assert governor and governor[0].source == "Metro Ledger"
    assert all(normalise(s.text) != normalise(governor[0].text) or s is governor[0] for s in answer.sentences)


def test_filtered_to_one_outlet_lists_no_copies_from_others(news_assistant: Assistant) -> None:
    answer = news_assistant.ask("How many workers joined the ferry strike?", k=3, sources=["Valley Times"])
    assert answer.sentences[0].text == WIRE_SENTENCE and answer.sentences[0].source == "Valley Times"
    assert all(s.source == "Valley Times" and not s.also_in for s in answer.sentences)


def test_near_identical_sentences_of_one_story_collapse(tmp_path: Path, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    edited = STORY.replace("the strike after contract talks", "the strike after the contract talks")
    folder = tmp_path / "wire"
    folder.mkdir()
    rows = [
        {"id": "a", "source": "Outlet A", "published": "2025-04-08", "text": STORY},
        {"id": "b", "source": "Outlet B", "published": "2025-04-09", "text": edited},
        {"id": "c", "source": "Outlet C", "text": OTHER},
    ]
    (folder / "wire.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    update_index(tmp_path / "idx", [folder], fake_embedder)
    assistant = Assistant.open(tmp_path / "idx", embedder=fake_embedder)
    answer = assistant.ask("How many workers joined the strike after contract talks broke down?", k=4)
    top = answer.sentences[0]
    assert "1,400 workers" in top.text
    assert [s for s in answer.sentences if "1,400" in s.text] == [top]
    assert top.also_in == [ArticleRef(article_id="b" if top.article_id == "a" else "a",
                                      source="Outlet B" if top.article_id == "a" else "Outlet A",
                                      published="2025-04-09" if top.article_id == "a" else "2025-04-08")]


def test_json_has_also_in_only_when_there_are_copies() -> None:
    plain = Sentence(text="t", article_id="a", title="", source=None, published=None, url=None, start=0, end=1, score=0.5)
    payload = json.loads(plain.model_dump_json())
    assert "also_in" not in payload and payload["source"] is None and payload["published"] is None
    assert "also_in" not in json.loads(plain.model_copy(update={"also_in": []}).model_dump_json())
    copy = plain.model_copy(update={"also_in": [ArticleRef(article_id="b", source="B", published=None)]})
    assert json.loads(copy.model_dump_json())["also_in"] == [{"article_id": "b", "source": "B", "published": None}]
    assert Sentence.model_validate_json(copy.model_dump_json()) == copy


def test_ask_json_carries_also_in(install_embedder, tmp_path: Path, fake_embedder, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from newsdesk import cli

    install_embedder(fake_embedder)
    index_dir = tmp_path / "idx"
    update_index(index_dir, [DATA / "pages", DATA / "feeds"], fake_embedder)
    assert cli.main(["ask", "How many workers joined the ferry strike?", "--index", str(index_dir), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    first = payload["sentences"][0]
    assert first["text"] == WIRE_SENTENCE
    assert sorted(ref["source"] for ref in first["also_in"]) == sorted(
        {"Northfield Gazette", "Valley Times", "Metro Ledger"} - {first["source"]}
    )
    assert all(set(ref) == {"article_id", "source", "published"} for ref in first["also_in"])


def test_real_model_cites_the_wire_sentence_once(tmp_path: Path, real_embedder) -> None:  # type: ignore[no-untyped-def]
    """End to end with the real model: the page's body sentence, with title/date/outlet; the wire story once."""
    update_index(tmp_path / "idx", [DATA / "pages", DATA / "feeds"], real_embedder)
    assistant = Assistant.open(tmp_path / "idx", embedder=real_embedder)
    found = assistant.ask("How much did the Harbor Street tunnel repairs cost?", k=3).sentences
    [tunnel] = [s for s in found[:2] if s.text == "The repairs cost $18.5 million, most of it covered by a state emergency grant."]
    assert (tunnel.title, tunnel.source, tunnel.published) == (
        "Harbor tunnel reopens after six-week flood repair", "The Coastal Courier", "2025-03-14T09:30:00-05:00"
    )
    answer = assistant.ask("How many workers joined the ferry strike?", k=5)
    wire = [s for s in answer.sentences if normalise(s.text) == normalise(WIRE_SENTENCE)]
    assert len(wire) == 1 and len(wire[0].also_in or []) == 2


def test_plain_text_answer_names_the_other_outlets(news_assistant: Assistant) -> None:
    from qa.render import answer_text

    answer = news_assistant.ask("How many workers joined the ferry strike?", k=5)
    [cited] = [s for s in answer.sentences if s.text == WIRE_SENTENCE]
    lines = answer_text(answer).splitlines()
    number = answer.sentences.index(cited) + 1
    source = next(i for i, line in enumerate(lines) if line.startswith(f"[{number}] ") and "chars" in line)
    also = lines[source + 1]  # right under the citation it belongs to
    assert also.lstrip().startswith("also in:")
    for ref in cited.also_in or []:
        assert f"{ref.source}, {ref.published} ({ref.article_id})" in also
