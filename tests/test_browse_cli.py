"""newsdesk list, show and remove."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index import store
from index.build import update_index

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def news_index(tmp_path: Path, fake_embedder) -> Path:  # type: ignore[no-untyped-def]
    extra = tmp_path / "extra"
    extra.mkdir()
    hostile = {"id": "hostile", "title": "Alert\x1b[2J", "source": "Prank Wire", "published": "2025-02-02",
               "text": "A sentence with an escape \x1b]52;c;aGk=\x07 and a bell.\n\nSecond paragraph."}
    (extra / "odd.jsonl").write_text(json.dumps(hostile) + "\n", encoding="utf-8")
    index_dir = tmp_path / "idx"
    update_index(index_dir, [DATA / "pages", DATA / "feeds", extra], fake_embedder)
    return index_dir


def lines(out: str) -> list[list[str]]:
    return [line.split("\t") for line in out.splitlines()]


def test_list_prints_id_outlet_date_title(fake_cli, news_index: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert fake_cli(["list", "--index", str(news_index)]) == 0
    rows = lines(capsys.readouterr().out)
    assert len(rows) == 10 and all(len(r) == 5 for r in rows)
    by_id = {r[0]: r for r in rows}
    assert by_id["harbor-tunnel"] == [
        "harbor-tunnel", "The Coastal Courier", "2025-03-14T09:30:00-05:00", "Harbor tunnel reopens after six-week flood repair",
        "en",
    ]
    assert by_id["hostile"][3] == "Alert\\x1b[2J"  # control codes shown, not obeyed
    undated = [r for r in rows if r[3] == "Council hears café permit appeal"]
    assert undated[0][2] == "-"


def test_list_filters_and_json(fake_cli, news_index: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert fake_cli(["list", "--index", str(news_index), "--source", "metro ledger", "--json"]) == 0
    objects = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(objects) == 2 and {o["source"] for o in objects} == {"Metro Ledger"}
    assert set(objects[0]) == {"id", "title", "source", "published", "url", "language", "chars"}
    assert fake_cli(["list", "--index", str(news_index), "--since", "2025-04-01", "--until", "2025-04-30"]) == 0
    rows = lines(capsys.readouterr().out)
    assert len(rows) == 3 and all(r[2].startswith("2025-04-08") for r in rows)


def test_list_bad_date_and_missing_index_exit_2(fake_cli, news_index: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert fake_cli(["list", "--index", str(news_index), "--since", "yesterday"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--since 'yesterday' is not a date" in err
    assert fake_cli(["list", "--index", str(tmp_path / "nothing")]) == 2
    assert "no index at" in capsys.readouterr().err


def test_show_prints_the_stored_text_citations_index_into(fake_cli, news_index: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    article = next(a for a in store.load(news_index).articles if a.id == "harbor-tunnel")
    assert fake_cli(["show", "harbor-tunnel", "--index", str(news_index)]) == 0
    out = capsys.readouterr().out
    header, counts, blank, *_ = out.split("\n")
    assert header == (
        "Harbor tunnel reopens after six-week flood repair — The Coastal Courier · 2025-03-14T09:30:00-05:00 · "
        "https://www.coastalcourier.example/news/2025/03/14/harbor-tunnel-reopens"
    )
    assert counts == f"[harbor-tunnel, {len(article.text):,} characters]" and blank == ""
    assert out.split("\n", 3)[3] == article.text + "\n"
    assert fake_cli(["show", "harbor-tunnel", "--index", str(news_index), "--raw"]) == 0
    raw = capsys.readouterr().out
    assert raw == article.text
    assert fake_cli(["ask", "How much did the tunnel repairs cost?", "--index", str(news_index), "--json"]) == 0
    top = json.loads(capsys.readouterr().out)["sentences"][0]
    assert top["article_id"] == "harbor-tunnel" and raw[top["start"] : top["end"]] == top["text"]


def test_show_neutralises_control_codes_unless_raw(fake_cli, news_index: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert fake_cli(["show", "hostile", "--index", str(news_index)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\\x1b]52;c;aGk=\\x07" in out
    assert fake_cli(["show", "hostile", "--index", str(news_index), "--raw"]) == 0
    assert "\x1b]52" in capsys.readouterr().out
    assert fake_cli(["show", "hostile", "--index", str(news_index), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["text"].startswith("A sentence with an escape \x1b]52") and payload["title"] == "Alert\x1b[2J"


def test_show_unknown_id_exits_2_with_a_suggestion(fake_cli, news_index: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert fake_cli(["show", "harbor-tunel", "--index", str(news_index)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no article with id 'harbor-tunel'" in err and "did you mean: harbor-tunnel" in err


def test_remove_deletes_articles(fake_cli, news_index: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    feed_ids = [a.id for a in store.load(news_index).articles if a.source == "Metro Ledger"]
    assert fake_cli(["remove", "harbor-tunnel", *feed_ids, "--index", str(news_index)]) == 0
    assert "removed 3 articles" in capsys.readouterr().err
    remaining = {a.id for a in store.load(news_index).articles}
    assert len(remaining) == 7 and "harbor-tunnel" not in remaining and not remaining & set(feed_ids)
    assert fake_cli(["ask", "How much did the tunnel repairs cost?", "--index", str(news_index), "--json"]) == 0
    assert all(s["article_id"] != "harbor-tunnel" for s in json.loads(capsys.readouterr().out)["sentences"])


def test_remove_is_all_or_nothing(fake_cli, news_index: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    before = store.load(news_index)
    assert fake_cli(["remove", "harbor-tunnel", "no-such-article", "--index", str(news_index)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown article id 'no-such-article'; nothing removed" in err
    after = store.load(news_index)
    assert [a.id for a in after.articles] == [a.id for a in before.articles]
    assert after.generation == before.generation


def test_remove_needs_an_id(fake_cli, news_index: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert fake_cli(["remove", "--index", str(news_index)]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_list_copies_shows_the_wire_story_groups(fake_cli, news_index: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert fake_cli(["list", "--index", str(news_index), "--copies"]) == 0
    rows = lines(capsys.readouterr().out)
    assert {r[1] for r in rows} == {"Northfield Gazette", "Valley Times", "Metro Ledger"}
    assert all(r[3].startswith("Ferry") and r[5].startswith("copies: ") for r in rows)
    ids = {r[0] for r in rows}
    for r in rows:
        assert set(r[5].removeprefix("copies: ").split(", ")) == ids - {r[0]}
    assert fake_cli(["list", "--index", str(news_index), "--copies", "--json", "--source", "Metro Ledger"]) == 0
    [obj] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert obj["source"] == "Metro Ledger" and len(obj["copies"]) == 2


def test_ask_on_an_emptied_index_says_it_holds_no_articles(fake_cli, news_index: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    ids = [a.id for a in store.load(news_index).articles]
    assert fake_cli(["remove", *ids, "--index", str(news_index)]) == 0
    capsys.readouterr()
    assert fake_cli(["ask", "How much did the tunnel repairs cost?", "--index", str(news_index), "--json"]) == 0
    captured = capsys.readouterr()
    answer = json.loads(captured.out)
    assert answer["answered"] is False and answer["sentences"] == []
    assert captured.err.count("\n") == 1 and "holds no articles" in captured.err
