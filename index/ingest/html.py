"""Extract a news article (title, body, outlet, date, url) from a saved web page.

The body comes from trafilatura (``favor_precision``, no comments, tables kept as ``cell | cell``
lines) and is then cleaned of what the extractor lets through on news pages: the headline repeated
as the first line, bylines ("By Jane Doe", "Staff writer"), datelines ("Published March 4, 2025"),
and ad, promo, share and copyright lines. Repeated paragraphs are kept (body text, as a rule).
Paragraphs are separated by one blank line; citation offsets index into that text. trafilatura's ``deduplicate`` is deliberately off: its cache is process-wide, so a
second outlet's copy of a wire story (or a page indexed twice) would lose paragraphs.

Metadata prefers what the publisher declares: JSON-LD ``NewsArticle`` (``headline``,
``datePublished``, ``publisher.name``) and Open Graph (``og:title``, ``og:site_name``, ``og:url``),
then trafilatura's own findings (htmldate for the date, without guessing from copyright lines).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from index.records import parse_date

Extracted = tuple[str, str, str | None, str | None, str | None]
"""``(title, body, source, published, url)``."""

_ARTICLE_TYPES = re.compile(r"(Article|BlogPosting|Report)$")
_EPOCH = date(1970, 1, 1)
"""Dates on or before this are placeholders (``0001-01-01`` in JSON-LD, a zero Unix time), never a real one."""
_TITLE_SEPARATORS = (" | ", " - ", " – ", " — ", " :: ", " · ")
_MONTH = r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_BYLINE = re.compile(r"^(by|from)\s+(?P<names>.+)$", re.I)
_NAME_GLUE = {"and", "&", "of", "the", "de", "van", "von", "la", "le", "del", "da", "in", "for", "|", "-", "—", "–"}
_STAFF = re.compile(
    r"^(?:[A-Z][\w.'-]+(?:\s+[A-Z][\w.'-]+){0,3},?\s+)?"
    r"(?:(?:the\s+)?associated press|reuters|afp|(?:staff|senior|special|contributing)\s+"
    r"(?:writer|reporter|correspondent|editor)s?|(?:[a-z]+\s+)?correspondent|staff)$",
    re.I,
)
_STAMP_LEAD = re.compile(r"^(?:(?:first |last |originally )?(?:published|updated|posted|modified)|date)\b\s*:?\s*(?:on\s+)?", re.I)
_STAMP_WORD = re.compile(
    rf"^(?:{_MONTH}|(?:Mon|Tues?|Wed(?:nes)?|Thu(?:rs)?|Fri|Sat(?:ur)?|Sun)[a-z]*\.?|at|on|a\.?m\.?|p\.?m\.?|"
    r"\d[\d:/.+T-]*(?:st|nd|rd|th|Z)?|[|·•–—-])$",
    re.I,
)
_TIME_ZONE = re.compile(r"^\(?[A-Z]{2,4}\)?$")
_BOILERPLATE = re.compile(
    r"^(?:(?:advertisement|advertising|sponsored(?: content)?|paid content)\s*:?$|sponsored by\b|subscribe\b|"
    r"sign up\b|share (?:this|on)\b|read more\b|related(?: stories| articles| coverage)?\s*:?$|more from\b|"
    r"follow us\b|click here\b|copyright\s*(?:©|\(c\))?\s*\d{4}|copyright\s*(?:©|\(c\))|©|\(c\)\s*\d{4}|"
    r"all rights reserved|this material may not be published|we use cookies|this (?:site|website) uses cookies|"
    r"accept (?:all )?cookies|skip to (?:main )?content|comments?\s*\(\d+\)$|photo:|image:|getty images$)",
    re.I,
)
"""Ad, share, copyright and cookie lines. A label (``Advertisement``) must stand alone, and "copyright" must
start a notice (``Copyright 2025 ...``): "Advertising revenue fell" and "Copyright law was at issue" are news."""
_XML_DECLARATION = re.compile(r"\A\s*<\?xml[^>]*\?>")
_MAX_BOILERPLATE_CHARS = 300
"""Only paragraphs this short can be dropped as boilerplate; longer ones are article text."""


def extract_html(page: str) -> Extracted | None:
    """Return ``(title, body, source, published, url)`` for a page, or None when no body is found."""
    import trafilatura

    doc: Any = trafilatura.bare_extraction(
        page,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
        favor_precision=True,
        deduplicate=False,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if doc is None or not (doc.text or "").strip():
        return None
    declared = page_metadata(page)
    source = outlet_name(declared.get("site_name"), declared.get("publisher"), _clean(doc.sitename))
    title = _strip_outlet(
        declared.get("og_title") or declared.get("headline") or _clean(doc.title) or declared.get("html_title") or "",
        source,
    )
    body = clean_body(doc.text, title)
    if not body:
        return None
    published = declared.get("published") or _valid_date(_clean(doc.date))
    url = declared.get("og_url") or declared.get("canonical") or declared.get("ld_url") or _clean(doc.url)
    return title, body, source, published, url


def clean_body(text: str, title: str = "") -> str:
    """Paragraphs of extracted ``text`` without headline, bylines, datelines and boilerplate, blank-line separated.

    A paragraph that repeats is kept (an interview question asked of each guest, a line of a meal
    plan): repeats are body text more often than not, and answers cite a repeated sentence once anyway.
    """
    kept: list[str] = []
    folded_title = " ".join(title.split()).casefold()
    for raw in text.splitlines():
        paragraph = _table_row(" ".join(raw.split()))
        if not paragraph:
            continue
        if not kept and folded_title and paragraph.casefold().startswith(folded_title):
            rest = paragraph[len(folded_title) :].strip()
            if not rest:  # the headline repeated as the first line
                continue
            if len(folded_title) >= 20 and rest[:1].isupper():  # the headline run into the first paragraph
                paragraph = rest
        if is_boilerplate(paragraph):
            continue
        kept.append(paragraph)
    return "\n\n".join(kept)


def _table_row(line: str) -> str:
    """A table row as extracted (``| Rovers | 41 |``) as plain text (``Rovers | 41``); a one-cell row (a page
    laid out with a table) as its text; a separator row (``|---|---|``) as nothing; other lines unchanged."""
    if not (line.startswith("|") and line.endswith("|")):
        return line
    cells = [cell.strip() for cell in line.strip("|").split("|")]
    cells = [cell for cell in cells if cell]
    if all(set(cell) <= set(":-") for cell in cells):
        return ""
    return " | ".join(cells)


def is_boilerplate(paragraph: str) -> bool:
    """Whether a short paragraph is a byline, a dateline, or an ad/share/copyright line."""
    text = paragraph.strip()
    if len(text) > _MAX_BOILERPLATE_CHARS:
        return False
    return bool(_BOILERPLATE.match(text) or is_dateline(text) or _STAFF.match(text) or is_byline(text))


def is_dateline(text: str) -> bool:
    """``Published November 6, 2024``, ``Updated: 2025-03-14 10:32 GMT``, ``March 14, 2025 at 9:30 a.m.``:
    a date and time, optionally after "Published"/"Updated", and nothing else."""
    rest = _STAMP_LEAD.sub("", text.strip(), count=1)
    tokens = [t.strip(",.;()") or "," for t in rest.split()]
    if not tokens or not any(c.isdigit() for c in rest):
        return False
    return all(t == "," or _STAMP_WORD.match(t) or _TIME_ZONE.match(t) for t in tokens)


def is_byline(text: str) -> bool:
    """``By Jane Doe``, ``By LEE CARTER, Associated Press``, ``From Sam Okafor | Staff``; not ``By the time ...``."""
    match = _BYLINE.match(text.strip())
    if not match or text.rstrip().endswith((".", "!", "?", ":")) and not text.rstrip().endswith(("Jr.", "Sr.")):
        return False
    words = [w.strip(",;|") for w in match.group("names").split()]
    words = [w for w in words if w]
    if not words or len(words) > 12:
        return False
    return all(w.casefold() in _NAME_GLUE or w[:1].isupper() or w[:1] == "@" for w in words)


def page_metadata(page: str) -> dict[str, str]:
    """Declared metadata: ``og_title``, ``site_name``, ``og_url``, ``canonical``, ``html_title`` and from
    JSON-LD ``headline``, ``published`` (datePublished, else article:published_time), ``publisher``, ``ld_url``."""
    import lxml.html
    from lxml.etree import ParserError

    try:  # lxml refuses a str that still carries its XML declaration (saved XHTML pages)
        tree = lxml.html.fromstring(_XML_DECLARATION.sub("", page, count=1))
    except (ParserError, ValueError):
        return {}
    found: dict[str, str] = {}
    metas = {
        (el.get("property") or el.get("name") or "").strip().lower(): (el.get("content") or "").strip()
        for el in tree.iter("meta")
        if el.get("content")
    }
    for key, name in (("og:title", "og_title"), ("og:site_name", "site_name"), ("og:url", "og_url")):
        if metas.get(key):
            found[name] = " ".join(metas[key].split())
    for link in tree.iter("link"):
        if (link.get("rel") or "").lower() == "canonical" and link.get("href"):
            found["canonical"] = link.get("href", "").strip()
            break
    titles = tree.findall(".//title")
    if titles and (titles[0].text_content() or "").strip():
        found["html_title"] = " ".join(titles[0].text_content().split())
    for item in _json_ld_articles(tree):
        _take(found, "headline", item.get("headline"))
        _take(found, "published", _valid_date(item.get("datePublished")))
        publisher = item.get("publisher")
        if isinstance(publisher, list) and publisher:
            publisher = publisher[0]
        _take(found, "publisher", publisher.get("name") if isinstance(publisher, dict) else publisher)
        entity = item.get("mainEntityOfPage")
        _take(found, "ld_url", item.get("url") or (entity.get("@id") if isinstance(entity, dict) else entity))
    _take(found, "published", _valid_date(metas.get("article:published_time")))
    return found


def _json_ld_articles(tree: Any) -> Iterator[dict[str, Any]]:
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        try:
            data = json.loads(script.text or "")
        except (ValueError, RecursionError):
            continue
        yield from _walk(data, depth=0)


def _walk(data: Any, depth: int) -> Iterator[dict[str, Any]]:
    if depth > 5:
        return
    if isinstance(data, list):
        for item in data:
            yield from _walk(item, depth + 1)
    elif isinstance(data, dict):
        kinds = data.get("@type")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if any(isinstance(k, str) and _ARTICLE_TYPES.search(k) for k in kinds):
            yield data
        if "@graph" in data:
            yield from _walk(data["@graph"], depth + 1)


def _take(found: dict[str, str], key: str, value: Any) -> None:
    if key not in found and isinstance(value, str) and value.strip():
        found[key] = " ".join(value.split())


def _valid_date(value: Any) -> str | None:
    """``value`` when it is an ISO date a page can really carry: not a placeholder (``0001-01-01``, the Unix
    epoch or before) and not more than two days in the future."""
    if not isinstance(value, str) or not value.strip():
        return None
    day = parse_date(value.strip())
    if day is None or day <= _EPOCH or day > date.today() + timedelta(days=2):
        return None
    return value.strip()


def _strip_outlet(title: str, source: str | None) -> str:
    """``Headline | Outlet`` -> ``Headline`` when the suffix names the outlet (or is a short site name)."""
    title = " ".join(title.split())
    for separator in _TITLE_SEPARATORS:
        head, sep, tail = title.rpartition(separator)
        if not sep or len(head) < 10:
            continue
        tail_folded = tail.casefold().removeprefix("the ")
        if source and tail_folded == source.casefold().removeprefix("the "):
            return head.strip()
    return title


_COPYRIGHT = re.compile(r"^(?:©|\(c\)|copyright\b)[\s©]*(?:\d{4}(?:\s*[-–]\s*\d{4})?)?[\s,.]*", re.I)
_DOMAIN = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?(?:www\.)?[\w-]+(?:\.[\w-]+)+/?\S*$", re.I)


def outlet_name(*candidates: str | None) -> str | None:
    """The first candidate that names an outlet properly (the page's own order of preference).

    A URL or bare domain, or a copyright line, is not a name ("Copyright 2014" is skipped, "© 2024
    Valley Times" gives "Valley Times"). A lowercase slug ("usatoday") is used only when no proper
    name is offered, and a domain ("https://www.cnn.com/" gives "cnn.com") only when nothing else is.
    """
    slug = host = None
    for raw in candidates:
        name = _clean(raw)
        if name is None:
            continue
        name = _COPYRIGHT.sub("", name).strip(" ,.|-–—")
        if not name or not any(c.isalpha() for c in name):
            continue
        if _DOMAIN.match(name):
            host = host or re.sub(r"^(?:[a-z][a-z0-9+.-]*://)?(?:www\.)?", "", name, flags=re.I).split("/")[0]
        elif name == name.lower() and " " not in name:
            slug = slug or name
        else:
            return name
    return slug or host


def _clean(value: str | None) -> str | None:
    return " ".join(value.split()) if value and value.strip() else None


_BLOCK_TAGS = frozenset(
    "p div li ul ol dl dt dd h1 h2 h3 h4 h5 h6 blockquote pre tr table section article header footer "
    "figure figcaption br hr address aside details summary main".split()
)
_DROP_TAGS = frozenset("script style noscript template iframe object embed svg math form button select head".split())


def fragment_text(fragment: str) -> str:
    """Plain text of an HTML fragment (a feed entry's content): paragraphs separated by blank lines."""
    import lxml.html
    from lxml.etree import ParserError

    if "<" not in fragment and "&" not in fragment:
        return "\n\n".join(" ".join(p.split()) for p in re.split(r"\n\s*\n", fragment) if p.strip())
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (ParserError, ValueError):
        return ""
    parts: list[str] = []
    _collect(root, parts)
    paragraphs = (" ".join(p.split()) for p in "".join(parts).split("\n\n"))
    return "\n\n".join(p for p in paragraphs if p)


def _collect(element: Any, parts: list[str]) -> None:
    tag = element.tag.lower() if isinstance(element.tag, str) else ""
    if tag in _DROP_TAGS or not tag:  # comments and processing instructions count as empty
        parts.append(element.tail or "")
        return
    block = tag in _BLOCK_TAGS
    if block:
        parts.append("\n\n")
    parts.append(element.text or "")
    for child in element:
        _collect(child, parts)
    if block:
        parts.append("\n\n")
    parts.append(element.tail or "")
