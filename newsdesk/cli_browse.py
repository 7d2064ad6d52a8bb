"""Browsing the index: ``newsdesk list``, ``newsdesk show ID`` and ``newsdesk remove ID...``.

``list --copies`` shows only articles that are syndicated copies of another (same story, see
:mod:`index.ingest.syndication`), each with the ids of its copies.

``list`` and ``show`` read the index only (no model is loaded). ``remove`` is all or nothing: when
any id is unknown it removes nothing, names the unknown ids and exits 2.
"""

from __future__ import annotations

import difflib
import json
import sys
from typing import Any

import click

from index.errors import BadInputError
from index.records import Article
from newsdesk.options import filter_options, index_option, settings_for, stderr


@click.command("list")
@index_option
@filter_options
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line instead of tab-separated text.")
@click.option(
    "--copies", is_flag=True, help="Only syndicated copies (same story, several articles), with the ids of the others."
)
def list_command(
    index_dir: str | None,
    sources: tuple[str, ...],
    since: str | None,
    until: str | None,
    as_json: bool,
    copies: bool,
) -> None:
    """List the indexed articles: id, outlet, date, title and language, one per line (tab-separated)."""
    articles = _load_articles(index_dir)
    shown = select(articles, sources, since, until)
    others: dict[str, list[str]] = {}
    if copies:
        from index.ingest.syndication import find_copies

        for group in find_copies([a.text for a in articles]):
            ids = [articles[i].id for i in group]
            others.update({i: [o for o in ids if o != i] for i in ids})
        shown = [a for a in shown if a.id in others]
    for article in shown:
        if as_json:
            extra = {"copies": others[article.id]} if copies else {}
            click.echo(json.dumps({**_summary(article), **extra}, ensure_ascii=False))
        else:
            fields = [
                article.id,
                article.source or "-",
                article.published or "-",
                article.title or "(untitled)",
                article.language or "-",
            ]
            if copies:
                fields.append("copies: " + ", ".join(others[article.id]))
            click.echo("\t".join(_safe(" ".join(f.split())) for f in fields))


@click.command("show")
@click.argument("article_id", metavar="ID")
@index_option
@click.option("--raw", is_flag=True, help="Only the stored text, byte for byte (no header, no escaping).")
@click.option("--json", "as_json", is_flag=True, help="The article as one JSON object (with its text).")
def show_command(article_id: str, index_dir: str | None, raw: bool, as_json: bool) -> None:
    """Print article ID as stored: a header (title, outlet, date, url), then the text citations index into.

    Control characters in the article are shown as visible escapes unless --raw or --json.
    """
    articles = _load_articles(index_dir)
    article = next((a for a in articles if a.id == article_id), None)
    if article is None:
        raise BadInputError(_safe(f"no article with id {article_id!r} in the index{_suggest(article_id, articles)}"))
    if as_json:
        click.echo(json.dumps({**_summary(article), "text": article.text}, ensure_ascii=False))
    elif raw:
        sys.stdout.write(article.text)
        sys.stdout.flush()
    else:
        meta = " · ".join(p for p in (article.source, article.published, article.url) if p)
        click.echo(_safe(f"{article.title or '(untitled)'}" + (f" — {meta}" if meta else "")))
        click.echo(_safe(f"[{article.id}, {len(article.text):,} characters]"))
        click.echo("")
        click.echo(_safe(article.text))


@click.command("remove")
@click.argument("article_ids", metavar="ID...", nargs=-1, required=True)
@index_option
@click.option("--wait", default=300.0, show_default=True, help="Seconds to wait for another writer.")
def remove_command(article_ids: tuple[str, ...], index_dir: str | None, wait: float) -> None:
    """Delete the articles ID... from the index (nothing is re-embedded).

    All or nothing: if any id is unknown, nothing is removed and the command exits 2.
    """
    from index import location
    from qa.embedding import embedder_for

    settings = settings_for(index_dir)
    articles = _load_articles(index_dir)
    present = {a.id for a in articles}
    missing = [i for i in dict.fromkeys(article_ids) if i not in present]
    if missing:
        names = ", ".join(repr(i) for i in missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        hint = _suggest(missing[0], articles) if len(missing) == 1 else " (see: newsdesk list)"
        raise BadInputError(_safe(f"unknown article id{'s' if len(missing) > 1 else ''} {names}; nothing removed{hint}"))
    embedder = embedder_for(settings)
    removed, not_found = location.remove(settings.index, article_ids, embedder)
    if not_found:  # removed by another writer between our check and the lock
        stderr(_safe(f"already gone: {', '.join(not_found)}"))
    left = len(present) - len(removed)
    stderr(_safe(f"removed {len(removed)} article{'s' if len(removed) != 1 else ''} from "
                 f"{location.describe(settings.index)}: "
                   f"{', '.join(removed)}; {left} left"))


def select(articles: list[Article], sources: tuple[str, ...], since: str | None, until: str | None) -> list[Article]:
    """The articles passing ``--source``/``--since``/``--until``, with the same rules as ``ask``."""
    from qa import ArticleFilter

    return ArticleFilter.of(sources, since, until).select(articles)


def _load_articles(index_dir: str | None) -> list[Article]:
    from index import location

    return list(location.open_index(settings_for(index_dir).index).articles)


def _summary(article: Article) -> dict[str, Any]:
    return {
        "id": article.id,
        "title": article.title,
        "source": article.source,
        "published": article.published,
        "url": article.url,
        "language": article.language,
        "chars": len(article.text),
    }


def _safe(text: str) -> str:
    from qa.safe_text import visible

    return visible(text)


def _suggest(wanted: str, articles: list[Article]) -> str:
    close = difflib.get_close_matches(wanted, [a.id for a in articles], n=3, cutoff=0.6)
    return f" (did you mean: {', '.join(close)}?)" if close else " (see: newsdesk list)"
