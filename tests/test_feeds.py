"""RSS and Atom feeds: one article per entry, with title, link, date, outlet and plain text."""

from __future__ import annotations

import codecs
from pathlib import Path

from index.ingest.articles import ACCEPTED_SUFFIXES, load_paths
from index.ingest.feeds import load_feed

FEEDS = Path(__file__).resolve().parent / "data" / "feeds"


def feed(name: str) -> tuple[list, list]:  # type: ignore[type-arg]
    path = FEEDS / name
    return load_feed(path.read_bytes(), str(path), path.stem)


def test_rss_entries_become_articles() -> None:
    articles, problems = feed("valley-times.rss")
    assert [a.title for a in articles] == [
        "Ferry workers walk off the job, stranding island commuters",
        "Cedar Creek reservoir still low after dry winter",
    ]
    strike, reservoir = articles
    assert {a.source for a in articles} == {"Valley Times"}
    assert strike.url == "https://valleytimes.example/2025/04/08/ferry-strike"
    assert strike.published == "2025-04-08T15:30:00+00:00"
    assert reservoir.published == "2025-01-15T08:00:00-08:00"  # the feed's own offset is kept
    assert strike.text.startswith("SEATTLE (AP) — Deckhands")  # content:encoded, not the one-line description
    assert strike.text.count("\n\n") == 4
    assert reservoir.text == (
        "The Cedar Creek reservoir stood at 41 percent of capacity on Tuesday, the water district reported.\n\n"
        "District manager Omar Haddad asked residents to cut outdoor watering to two days a week."
    )  # summary HTML to text: no script, no tracking pixel
    assert strike.id.startswith("valley-times#") and strike.id != reservoir.id
    [problem] = problems
    assert "Lantern festival" in problem.reason and "no text" in problem.reason and problem.skipped
    assert problem.where.endswith("valley-times.rss[3]")


def test_atom_content_and_summary() -> None:
    articles, problems = feed("metro-ledger.atom")
    assert problems == []
    strike, reservoir = articles
    assert strike.source == reservoir.source == "Metro Ledger"
    assert strike.url == "https://metroledger.example/news/ferry-strike-strands-commuters"
    assert strike.published == "2025-04-08T16:20:00Z"
    assert strike.text.endswith("the governor's office said it was monitoring the situation.")
    assert reservoir.text.startswith("The Cedar Creek reservoir stood at 63 percent of capacity")


def test_declared_encoding_and_bad_date() -> None:
    articles, problems = feed("delta-post.xml")
    assert articles[0].text.endswith("Café owners on the lake shore said boat rentals had doubled.")
    assert articles[1].title == "Council hears café permit appeal" and articles[1].published is None
    [problem] = problems
    assert "sometime last spring" in problem.reason and not problem.skipped  # a warning: the entry is kept


def test_ids_stay_when_the_feed_gains_entries(tmp_path: Path) -> None:
    original = (FEEDS / "metro-ledger.atom").read_text(encoding="utf-8")
    newer = original.replace(
        "<entry>",
        "<entry><title>Bridge inspection finds no damage</title><id>tag:metroledger.example,2025:bridge</id>"
        "<link href='https://metroledger.example/bridge'/><updated>2025-04-10T08:00:00Z</updated>"
        "<summary>Inspectors found no damage to the Fourth Street bridge after the storm.</summary></entry>\n<entry>",
        1,
    )
    before = {a.title: a.id for a in load_feed(original.encode(), "a", "metro-ledger")[0]}
    after = {a.title: a.id for a in load_feed(newer.encode(), "a", "metro-ledger")[0]}
    assert len(after) == 3 and all(after[title] == before[title] for title in before)


def test_aggregated_feed_uses_the_entry_source() -> None:
    xml = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>News Digest</title>'
        b'<item><title>Port reopens</title><source url="https://bay.example/rss">Bay Chronicle</source>'
        b"<description>The port reopened on Monday after a two-day closure.</description></item>"
        b"</channel></rss>"
    )
    [article], _ = load_feed(xml, "digest.rss", "digest")
    assert article.source == "Bay Chronicle"


def test_files_that_are_not_feeds() -> None:
    cases = {
        b'<?xml version="1.0"?><urlset><url><loc>https://a.example/</loc></url></urlset>': "not an RSS or Atom feed",
        b"<rss><channel><title>Broken": "RSS feed with no readable entries (its XML is broken: no element found)",
        b"<rss version='2.0'><channel><title>T &bogus;</title></channel></rss>": "RSS feed with no readable entries",
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title></feed>': "Atom feed with no entries",
        b"<html><body>hi</body></html>": "not an RSS or Atom feed (no <rss>, <feed> or <rdf:RDF> root)",
        b"https://example.com/feed.xml": "not a readable RSS or Atom feed",  # parsed as content, never fetched
        b"   \n": "empty file",
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet</title></channel></rss>': "no entries",
    }
    for raw, reason in cases.items():
        articles, problems = load_feed(raw, "x.xml", "x")
        assert articles == [] and len(problems) == 1 and reason in problems[0].reason, (raw, problems)


def test_a_feed_never_opens_a_path_named_in_it(tmp_path: Path) -> None:
    secret = tmp_path / "secret.xml"
    secret.write_text('<rss version="2.0"><channel><title>S</title><item><title>x</title>'
                      "<description>leaked text</description></item></channel></rss>")
    articles, _ = load_feed(str(secret).encode(), "p.xml", "p")
    assert articles == []


def test_folders_pick_up_every_feed_suffix() -> None:
    assert {".xml", ".rss", ".atom"} <= set(ACCEPTED_SUFFIXES)
    result = load_paths([FEEDS])
    assert result.files == 3
    assert {a.source for a in result.articles} == {"Valley Times", "Metro Ledger", "Delta Post"}
    assert len(result.articles) == 6
    assert all(a.id.split("#")[0] in {"valley-times", "metro-ledger", "delta-post"} for a in result.articles)


def test_entities_never_expand_and_the_other_entries_stay() -> None:
    from index.ingest import feeds

    laugh = "ha" * 5_000
    refs = "&laugh;" * 300  # 3 million characters if expanded
    raw = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY laugh "{laugh}">]><rss version="2.0"><channel><title>T</title>'
        f"<item><title>Bomb</title><description>{refs}</description></item>"
        "<item><title>Real</title><description>The council met on Tuesday.</description></item>"
        "</channel></rss>"
    ).encode()
    for payload in (raw, codecs.BOM_UTF16_LE + raw.decode().replace('"1.0"?>', '"1.0" encoding="utf-16"?>').encode("utf-16-le")):
        articles, _ = load_feed(payload, "bomb.rss", "bomb")
        assert "The council met on Tuesday." in [a.text for a in articles]
        assert all(len(a.text) < 10_000 and "haha" not in a.text for a in articles)
    assert feeds.without_entities(raw).count(b"ENTITY") == 0


def test_an_entry_over_the_cap_is_cut_at_a_paragraph_and_kept(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from index.ingest import feeds

    monkeypatch.setattr(feeds, "MAX_ENTRY_CHARS", 60)
    body = "<p>First paragraph of the story here.</p><p>Second paragraph that goes past the cap.</p>"
    raw = (
        '<rss version="2.0"><channel><title>T</title><item><title>Long</title>'
        f"<description><![CDATA[{body}]]></description></item></channel></rss>"
    ).encode()
    (article,), problems = load_feed(raw, "long.rss", "long")
    assert article.text == "First paragraph of the story here."
    assert [(p.reason, p.skipped) for p in problems] == [("entry 1 ('Long') text cut at 34 characters", False)]


def test_a_feed_without_a_declared_encoding_is_read_in_the_one_detected_with_a_warning() -> None:
    text = {
        "koi8-r": ("Новости", "Пожар на улице", "Сгорел дом на улице Ленина, сообщили пожарные в среду."),
        "shift_jis": ("ニュース", "火事", "東京で火事がありました。消防によると、けが人はいません。"),
    }
    for encoding, (outlet, title, body) in text.items():
        raw = (
            f"<rss version='2.0'><channel><title>{outlet}</title><item><title>{title}</title>"
            f"<description>{body}</description></item></channel></rss>"
        ).encode(encoding)
        articles, problems = load_feed(raw, "x.xml", "x")
        assert [(a.source, a.title, a.text) for a in articles] == [(outlet, title, body)], encoding
        assert len(problems) == 1 and not problems[0].skipped and "read as" in problems[0].reason
    declared = "<?xml version='1.0' encoding='koi8-r'?><rss version='2.0'><channel><title>Т</title>" \
        "<item><title>Пожар</title><description>Сгорел дом.</description></item></channel></rss>"
    articles, problems = load_feed(declared.encode("koi8-r"), "x.xml", "x")
    assert articles[0].title == "Пожар" and problems == [], "a declared encoding is trusted, no warning"
