"""Reading articles: files and folders to :class:`index.records.Article` records.

:mod:`~index.ingest.articles` (text, JSON, JSONL, Markdown, dispatch by suffix),
:mod:`~index.ingest.html` (article pages), :mod:`~index.ingest.feeds` (RSS and Atom),
:mod:`~index.ingest.syndication` (copies of one wire story).
"""
