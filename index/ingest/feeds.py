"""Read RSS and Atom feeds (``.xml``, ``.rss``, ``.atom``): each entry becomes one article.

An entry's article has its title, its link as ``url``, its date (``published``, else ``updated``),
the feed's title as outlet (or the entry's own ``<source>`` in an aggregated feed), and as text
its content, else its summary, converted from HTML to plain text with paragraphs separated by
blank lines (bylines and ad/share lines removed as for web pages). Entries without text are
skipped with a problem. The id is ``<file id>#<12 hex digits of the entry's guid or link>``, so it
stays the same when a newer export of the feed adds entries.

The bytes go to feedparser as a stream: it never fetches a URL or opens a path named in them.
Entity declarations never reach it: the document type's internal subset is dropped first, so an
entity cannot expand (a "billion laughs" file stays its own size), and an entity reference stays
text. An entry's text is cut at :data:`MAX_ENTRY_CHARS` (at a paragraph break), with a warning.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from index.ingest.html import clean_body, fragment_text
from index.records import Article, Problem, parse_date

FEED_SUFFIXES = (".xml", ".rss", ".atom")
DETECT_BYTES = 1_000_000
"""How much of a feed without a declared encoding is read to detect its encoding."""
MAX_ENTRY_CHARS = 1_000_000
"""An entry's text is cut here (at the last paragraph break before it); the entry is kept."""
_INTERNAL_SUBSET = re.compile(rb"(<!DOCTYPE\s[^\[>]*)\[.*?\]\s*>", re.S | re.I)
_UNICODE_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_DECLARED_ENCODING = re.compile(rb"""^(<\?xml[^>]*?encoding\s*=\s*["'])[^"']*(["'])""")


def without_entities(raw: bytes) -> bytes:
    """``raw`` with the internal DTD subset (where entities are declared) removed.

    UTF-16/32 documents (with a byte-order mark) are re-encoded as UTF-8 first, so the scan sees
    their markup; their encoding declaration is rewritten to match.
    """
    if raw.startswith(_UNICODE_BOMS):
        try:
            text = raw.decode("utf-32" if raw.startswith(_UNICODE_BOMS[:2]) else "utf-16")
        except UnicodeDecodeError:
            return raw
        raw = _DECLARED_ENCODING.sub(rb"\g<1>utf-8\g<2>", text.encode("utf-8", "surrogatepass"), count=1)
    if b"<!" not in raw:
        return raw
    return _INTERNAL_SUBSET.sub(rb"\1>", raw, count=1)


def load_feed(raw: bytes, where: str, base_id: str) -> tuple[list[Article], list[Problem]]:
    """Articles of one feed file's bytes; ``where`` names it in problems, ``base_id`` prefixes ids."""
    import feedparser

    if not raw.strip():
        return [], [Problem(where, "empty file")]
    raw, guessed = _as_utf8(raw)
    parsed = feedparser.parse(io.BytesIO(without_entities(raw)), sanitize_html=True, resolve_relative_uris=False)
    entries = parsed.get("entries") or []
    if not entries:
        return [], [Problem(where, f"{_why_empty(parsed)}; skipped")]
    outlet = _text(parsed.get("feed", {}).get("title"))
    articles: list[Article] = []
    problems: list[Problem] = [Problem(where, guessed, skipped=False)] if guessed else []
    for n, entry in enumerate(entries, start=1):
        entry_where = f"{where}[{n}]"
        article, entry_problems = _article(entry, entry_where, base_id, n, outlet)
        problems.extend(entry_problems)
        if article is not None:
            articles.append(article)
    return articles, problems


def _article(
    entry: Any, where: str, base_id: str, n: int, outlet: str | None
) -> tuple[Article | None, list[Problem]]:
    title = _text(entry.get("title")) or ""
    body = clean_body(_entry_text(entry), title)
    label = f" ({title[:60]!r})" if title else ""
    if not body:
        return None, [Problem(where, f"entry {n}{label} has no text (no content or summary); skipped")]
    problems: list[Problem] = []
    if len(body) > MAX_ENTRY_CHARS:
        cut = body.rfind("\n\n", 0, MAX_ENTRY_CHARS)
        body = body[: cut if cut > 0 else MAX_ENTRY_CHARS]
        problems.append(Problem(where, f"entry {n}{label} text cut at {len(body):,} characters", skipped=False))
    published = None
    # dict.get: feedparser's own get() maps a missing "updated" to "published" with a DeprecationWarning
    raw_date = _text(dict.get(entry, "published")) or _text(dict.get(entry, "updated"))
    if raw_date:
        published = _iso_date(raw_date, dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed"))
        if published is None:
            problems.append(Problem(where, f"date {raw_date[:40]!r} not understood; ignored", skipped=False))
    source_feed = entry.get("source")
    source = (_text(source_feed.get("title")) if isinstance(source_feed, dict) else None) or outlet
    link = _text(entry.get("link"))
    key = _text(entry.get("id")) or link or f"{n}:{title}"
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    article = Article(f"{base_id}#{digest}", title, body, source=source, published=published, url=link, origin=where)
    return article, problems


def _entry_text(entry: Any) -> str:
    """The longest content item's text, else the summary's."""
    best = ""
    for item in entry.get("content") or []:
        text = _as_text(item.get("value") or "", item.get("type") or "text/html")
        if len(text) > len(best):
            best = text
    if best:
        return best
    detail = entry.get("summary_detail") or {}
    return _as_text(entry.get("summary") or "", detail.get("type") or "text/html")


def _as_text(value: str, kind: str) -> str:
    if kind == "text/plain":
        return "\n\n".join(" ".join(p.split()) for p in value.split("\n\n") if p.strip())
    return fragment_text(value)


def _iso_date(raw: str, parsed: Any) -> str | None:
    """``raw`` when it is ISO; an RFC 822 date with its own offset; else feedparser's UTC reading."""
    if parse_date(raw) is not None:
        return raw
    try:
        return parsedate_to_datetime(raw).isoformat()
    except (TypeError, ValueError, IndexError):
        pass
    if parsed:
        try:
            year, month, day, hour, minute, second = parsed[:6]
            return datetime(year, month, day, hour, minute, second, tzinfo=UTC).isoformat().replace("+00:00", "Z")
        except (TypeError, ValueError):
            return None
    return None


def _why_empty(parsed: Any) -> str:
    """Why a parsed feed gave no entries, exactly: no entries, not a feed, or XML that cannot be read."""
    problem = _xml_error(parsed.get("bozo_exception")) if parsed.get("bozo") else None
    if parsed.get("version"):  # an RSS or Atom feed was read: it just has no items
        kind = {"atom": "Atom feed"}.get(str(parsed.get("version", ""))[:4], "RSS feed")
        if problem is None:
            return f"{kind} with no entries"
        broken = type(parsed.get("bozo_exception")).__name__ == "SAXParseException"
        return f"{kind} with no readable entries (its XML {'is broken' if broken else 'has a problem'}: {problem})"
    if problem:
        return f"not a readable RSS or Atom feed ({problem})"
    return "not an RSS or Atom feed (no <rss>, <feed> or <rdf:RDF> root)"


def _as_utf8(raw: bytes) -> tuple[bytes, str | None]:
    """``raw`` as UTF-8 when it declares no encoding and is not UTF-8, and a warning naming the one detected.

    Without a declaration XML means UTF-8, and feedparser falls back to windows-1252: a KOI8-R or
    Shift_JIS feed would become mojibake. charset-normalizer detects the real encoding instead.
    """
    if raw.startswith(_UNICODE_BOMS) or _DECLARED_ENCODING.match(raw.lstrip()[:200]):
        return raw, None
    try:
        raw.decode("utf-8")
        return raw, None
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(raw[:DETECT_BYTES]).best()
    if best is None or best.encoding in ("utf_8", "ascii"):
        return raw, None
    try:
        text = raw.decode(best.encoding)
    except (UnicodeDecodeError, LookupError):
        return raw, None
    name = best.encoding.replace("_", "-").upper()
    return text.encode("utf-8"), f"no character encoding declared and the bytes are not UTF-8: read as {name} (detected)"


def _text(value: Any) -> str | None:
    return " ".join(value.split()) if isinstance(value, str) and value.strip() else None


def _xml_error(exc: Any) -> str:
    if exc is None:
        return "unreadable XML"
    if hasattr(exc, "getMessage"):  # xml.sax.SAXParseException (its line numbers count a line feedparser adds)
        return _short(str(exc.getMessage()))
    return _short(str(exc))


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 80 else text[:77] + "..."
