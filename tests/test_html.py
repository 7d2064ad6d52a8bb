"""Saved news pages: body without boilerplate, title/date/outlet from the page's own metadata."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.build import update_index
from index.ingest.articles import load_paths
from index.ingest.html import (
    clean_body,
    extract_html,
    fragment_text,
    is_boilerplate,
    is_byline,
    outlet_name,
    page_metadata,
)
from index.splitter import split_sentences

PAGES = Path(__file__).resolve().parent / "data" / "pages"

BOILERPLATE = (
    "cookie",
    "Advertisement",
    "Refinance",
    "Sponsored",
    "beach hotels",
    "Jane Doe",
    "Staff writer",
    "Lee Carter",
    "Subscribe",
    "newsletter",
    "Related stories",
    "Storm surge floods downtown",
    "Most read",
    "Pelicans",
    "meal kits",
    "All rights reserved",
    "Privacy policy",
    "Share on",
    "Photo:",
    "Published November",
    "Huge savings",
    "More from the wire",
    "100 Bay Avenue",
    "dataLayer",
    "gtag",
)


def page(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def test_news_page_body_metadata_and_no_boilerplate() -> None:
    extracted = extract_html(page("harbor-tunnel.html"))
    assert extracted is not None
    title, body, source, published, url = extracted
    assert title == "Harbor tunnel reopens after six-week flood repair"
    assert source == "The Coastal Courier"
    assert published == "2025-03-14T09:30:00-05:00"  # JSON-LD datePublished wins over article:published_time
    assert url == "https://www.coastalcourier.example/news/2025/03/14/harbor-tunnel-reopens"
    assert body.startswith("The Harbor Street tunnel reopened to traffic on Friday morning")
    assert "The repairs cost $18.5 million, most of it covered by a state emergency grant." in body
    assert body.endswith("raise the tunnel's seawall by three feet.")
    assert body.count("\n\n") == 4 and "\n\n\n" not in body  # five paragraphs, one blank line between
    for marker in BOILERPLATE:
        assert marker.casefold() not in body.casefold(), marker


def test_title_outlet_suffix_and_author_line_removed() -> None:
    title, body, source, published, url = extract_html(page("library-levy.htm"))  # type: ignore[misc]
    assert title == "Voters approve library levy by wide margin"
    assert source == "Northfield Gazette"
    assert published == "2024-11-06T07:15:00Z"
    assert url is None
    assert body.startswith("Northfield voters approved a seven-year property tax levy")
    for marker in ("Sam Okafor", "Published November 6", "Subscribe", "Copyright", "Tags:"):
        assert marker not in body


def test_json_ld_graph_publisher_and_wire_byline() -> None:
    title, body, source, published, _url = extract_html(page("ferry-strike-gazette.html"))  # type: ignore[misc]
    assert source == "Northfield Gazette"  # og:site_name, not the JSON-LD WebSite name "... Online"
    assert published == "2025-04-08T10:05:00-04:00"
    assert title == "Ferry workers walk off the job, stranding island commuters"
    assert body.startswith("SEATTLE (AP) — Deckhands")  # the dateline is part of the story
    assert "By Lee Carter" not in body and "Associated Press. All rights" not in body


def test_page_metadata_prefers_declared_values() -> None:
    meta = page_metadata(page("ferry-strike-gazette.html"))
    assert meta["publisher"] == "Northfield Gazette"
    assert meta["headline"].startswith("Ferry workers")
    assert meta["html_title"].endswith("- Northfield Gazette")


def test_title_suffix_stripped_only_when_it_names_the_outlet() -> None:
    body = "<p>" + "The county opened a cooling center on Elm Street for residents during the heat wave. " * 4 + "</p>"
    html = (
        "<html><head><title>Cooling center opens on Elm Street | Valley Times</title>"
        '<meta property="og:site_name" content="Valley Times"></head>'
        f"<body><article>{body}</article></body></html>"
    )
    title, _body, source, _published, _url = extract_html(html)  # type: ignore[misc]
    assert (title, source) == ("Cooling center opens on Elm Street", "Valley Times")
    declared = html.replace("<title>", '<meta property="og:title" content="Heat wave - one year later"><title>')
    assert extract_html(declared)[0] == "Heat wave - one year later"  # type: ignore[index]  # a dash, not an outlet


def test_date_from_time_element_without_guessing_from_copyright() -> None:
    text = "<p>" + "Officials said the center would stay open until nine each night through the weekend. " * 4 + "</p>"
    dated = f'<html><body><article><time datetime="2024-07-09T10:00:00">July 9</time>{text}</article></body></html>'
    undated = f"<html><body><article>{text}</article><footer>© 2023 Some Paper</footer></body></html>"
    assert extract_html(dated)[3] == "2024-07-09"  # type: ignore[index]
    assert extract_html(undated)[3] is None  # type: ignore[index]


def test_a_section_front_is_not_an_article() -> None:
    assert extract_html(page("section-front.html")) is None
    result = load_paths([PAGES / "section-front.html"])
    assert result.articles == [] and "no article text" in result.problems[0].reason


def test_extraction_is_the_same_every_time() -> None:
    """trafilatura's process-wide dedup cache would drop repeated paragraphs (a wire story's copies)."""
    first = extract_html(page("harbor-tunnel.html"))
    for _ in range(5):
        assert extract_html(page("harbor-tunnel.html")) == first


@pytest.mark.parametrize(
    "line",
    ["By Jane Doe", "BY LEE CARTER, Associated Press", "By Jane Doe and John Roe", "From Sam Okafor | Staff",
     "by Marisol de la Vega"],
)
def test_bylines(line: str) -> None:
    assert is_byline(line) and is_boilerplate(line)


@pytest.mark.parametrize(
    "line",
    ["By the time crews arrived, the fire had spread to three homes.", "By Friday, 31,000 drivers used it.",
     "Bystanders said the tunnel was flooded.", "Published in 1998, the report found that the river was polluted.",
     "Updated figures from May show the budget gap grew to 12 percent.", "On May 5, 2025 at 10 a.m. the council voted.",
     "Copyrighted photos of the 1988 flood were shown at the meeting."],
)
def test_story_sentences_that_look_like_bylines_or_datelines_are_kept(line: str) -> None:
    assert not is_boilerplate(line)


@pytest.mark.parametrize(
    "line",
    ["Staff writer", "Jane Doe, Staff Writer", "Associated Press", "Published March 14, 2025", "Updated: 2025-03-14",
     "March 14, 2025 at 9:30 a.m.", "Last updated 14 March 2025, 10:32 GMT", "Tuesday, March 4, 2025", "Advertisement", "Share this article", "© 2025 Coastal Courier Media LLC",
     "Copyright 2025 The Associated Press. All rights reserved.", "Sign up for our newsletter"],
)
def test_boilerplate_lines(line: str) -> None:
    assert is_boilerplate(line)


def test_long_paragraphs_are_never_dropped() -> None:
    long = "Subscribe " + "council members debated the budget for hours before the vote. " * 6
    assert not is_boilerplate(long)


def test_clean_body_drops_the_repeated_headline_and_keeps_repeated_paragraphs() -> None:
    text = "Big news today\nBy Jane Doe\nFirst paragraph here.\nWhat is your favorite book?\nSecond.\nWhat is your favorite book?"
    assert clean_body(text, "Big news today") == (
        "First paragraph here.\n\nWhat is your favorite book?\n\nSecond.\n\nWhat is your favorite book?"
    )


def test_news_that_starts_like_boilerplate_is_kept() -> None:
    text = (
        "Copyright law was at the center of the case, the judge said.\n\nAdvertising revenue fell 12% in the quarter."
        "\n\nCall 1-800-273-8255 for help.\n\nThe vote passed.\n\nThe vote passed.\n\nAdvertisement\n\n"
        "Copyright 2025 The Associated Press. All rights reserved."
    )
    assert clean_body(text).split("\n\n") == [
        "Copyright law was at the center of the case, the judge said.",
        "Advertising revenue fell 12% in the quarter.",
        "Call 1-800-273-8255 for help.",
        "The vote passed.",
        "The vote passed.",
    ]


def test_fragment_text_paragraphs_without_scripts() -> None:
    html = "<p>One <b>bold</b> line.</p><script>alert(1)</script><p>Two<br>three &amp; four.</p><!-- note -->tail"
    assert fragment_text(html) == "One bold line.\n\nTwo\n\nthree & four.\n\ntail"
    assert fragment_text("plain text,\nno markup") == "plain text, no markup"


def test_offsets_index_into_the_stored_text(tmp_path: Path, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    article = load_paths([PAGES / "harbor-tunnel.html"]).articles[0]
    assert article.id == "harbor-tunnel" and article.source == "The Coastal Courier"
    for start, end in split_sentences(article.text):
        assert article.text[start:end].strip() == article.text[start:end]
    update_index(tmp_path / "idx", [PAGES], fake_embedder)
    from qa import Assistant

    assistant = Assistant.open(tmp_path / "idx", embedder=fake_embedder)
    answer = assistant.ask("How much did the tunnel repairs cost?", k=3)
    [top] = [s for s in answer.sentences[:2] if s.text.startswith("The repairs cost $18.5 million")]
    assert (top.article_id, top.title, top.source) == ("harbor-tunnel", article.title, "The Coastal Courier")
    assert top.published == "2025-03-14T09:30:00-05:00"
    assert article.text[top.start : top.end] == top.text


def test_no_boilerplate_sentence_is_ever_in_the_index(tmp_path: Path, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    update_index(tmp_path / "idx", [PAGES], fake_embedder)
    from index import store

    data = store.load(tmp_path / "idx")
    texts = [data.sentence_text(row) for row in range(len(data.sentences))]
    assert len(texts) >= 15
    for text in texts:
        for marker in BOILERPLATE:
            assert marker.casefold() not in text.casefold(), (marker, text)


def test_saved_xhtml_with_an_xml_declaration_keeps_its_metadata() -> None:
    xhtml = page("harbor-tunnel.html").replace("<!DOCTYPE html>", '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>')
    assert page_metadata(xhtml)["site_name"] == "The Coastal Courier"
    assert extract_html(xhtml) == extract_html(page("harbor-tunnel.html"))


@pytest.mark.parametrize("junk", ["", "   ", "<html></html>", "\x00\x01binary", "<p>Too short.</p>"])
def test_pages_without_an_article_give_none(junk: str) -> None:
    assert extract_html(junk) is None


@pytest.mark.parametrize(
    ("declaration", "codec"),
    [('<meta charset="windows-1251">', "cp1251"), ('<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">', "shift_jis")],
)
def test_a_page_is_read_in_the_charset_it_declares(tmp_path: Path, declaration: str, codec: str) -> None:
    from index.ingest.articles import decode_bytes

    body = "Мэр подписал бюджет в понедельник." if codec == "cp1251" else "市長は月曜日に予算案に署名した。"
    page = f"<html><head>{declaration}<title>Budget</title></head><body><article><p>{body}</p></article></body></html>"
    (tmp_path / "page.html").write_bytes(page.encode(codec))
    assert decode_bytes(page.encode(codec), html=True) == (page, None)  # not the Windows-1252 guess
    loaded = load_paths([tmp_path])
    assert not loaded.problems and body in loaded.articles[0].text


def test_a_page_that_is_valid_utf8_is_read_as_utf8_whatever_it_declares() -> None:
    from index.ingest.articles import decode_bytes

    page = '<html><head><meta charset="iso-8859-1"></head><body><p>Café owners met on Monday.</p></body></html>'
    assert decode_bytes(page.encode("utf-8"), html=True) == (page, None)
    latin = decode_bytes(page.encode("cp1252"), html=True)
    assert latin == (page, None)  # declared Latin-1, read as browsers do (Windows-1252)


@pytest.mark.parametrize("placeholder", ["0001-01-01T00:00:00+00:00", "1970-01-01", "2999-06-01"])
def test_placeholder_and_impossible_dates_give_way_to_a_real_one(placeholder: str) -> None:
    ld = json.dumps({"@type": "NewsArticle", "headline": "Dam opens", "datePublished": placeholder})
    html = (
        f'<html><head><script type="application/ld+json">{ld}</script>'
        '<meta property="article:published_time" content="2024-05-02T08:00:00Z"></head>'
        "<body><article><h1>Dam opens</h1><p>The new dam opened on Thursday after six years of work.</p>"
        "<p>Officials said the reservoir will fill over the spring.</p></article></body></html>"
    )
    assert page_metadata(html)["published"] == "2024-05-02T08:00:00Z"


@pytest.mark.parametrize(
    ("offered", "outlet"),
    [
        (("Copyright 2014", "USA TODAY"), "USA TODAY"),
        (("© 2024 Valley Times",), "Valley Times"),
        (("https://www.reuters.com", None, "Reuters"), "Reuters"),
        (("usatoday", "USA TODAY"), "USA TODAY"),
        (("usatoday", None), "usatoday"),
        (("https://www.cnn.com/world",), "cnn.com"),
        (("Copyright 2014",), None),
    ],
)
def test_outlet_names_are_names(offered: tuple[str | None, ...], outlet: str | None) -> None:
    assert outlet_name(*offered) == outlet


def test_tables_that_belong_to_the_body_are_kept() -> None:
    layout = (
        "<html><head><title>Storm closes schools | Valley Times</title></head><body><table><tr><td>"
        "<h1>Storm closes schools</h1><p>Schools across the valley closed on Monday as the storm brought two feet "
        "of snow to the region overnight.</p><p>District officials said classes would resume on Wednesday if the "
        "roads were cleared in time for buses.</p></td></tr></table></body></html>"
    )
    extracted = extract_html(layout)
    assert extracted is not None and extracted[1].startswith("Schools across the valley closed on Monday")
    standings = (
        "<html><head><title>Rovers top the table</title></head><body><article><h1>Rovers top the table</h1>"
        "<p>The Rovers moved to the top of the league on Saturday with a 3-1 win over United at home.</p>"
        "<p>The standings after the weekend:</p><table><tr><th>Team</th><th>Points</th></tr>"
        "<tr><td>Rovers</td><td>41</td></tr><tr><td>United</td><td>39</td></tr></table>"
        "<p>The Rovers play away at City next Saturday, their last game before the winter break.</p>"
        "</article></body></html>"
    )
    extracted = extract_html(standings)
    assert extracted is not None
    assert "Team | Points\n\nRovers | 41\n\nUnited | 39" in extracted[1]


def test_a_first_paragraph_that_starts_like_a_short_headline_is_not_cut() -> None:
    assert clean_body("Storm surge floods the harbor district.", "Storm") == "Storm surge floods the harbor district."
