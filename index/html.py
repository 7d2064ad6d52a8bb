"""Extract a news article (title, body, outlet, date, url) from a saved web page."""

from __future__ import annotations


def extract_html(page: str) -> tuple[str, str, str | None, str | None, str | None] | None:
    """Return ``(title, body, source, published, url)`` for a page, or None when no body is found.

    The body is the article text as a reader sees it (trafilatura, without comments or tables);
    citation offsets index into it.
    """
    import trafilatura

    doc = trafilatura.bare_extraction(
        page,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        favor_precision=True,
        deduplicate=True,
    )
    if doc is None or not (doc.text or "").strip():
        return None
    return (
        (doc.title or "").strip(),
        doc.text.strip(),
        (doc.sitename or None),
        (doc.date or None),
        (doc.url or None),
    )
