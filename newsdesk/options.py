"""Options and helpers the ``newsdesk`` commands share (no command is defined here)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click


def index_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--index DIR|URL`` (default ``$NEWSDESK_INDEX``, else ``./.newsdesk``)."""
    return click.option(
        "--index",
        "index_dir",
        type=str,
        default=None,
        metavar="DIR|URL",
        help="Index directory or postgresql://user@host:port/db (default: $NEWSDESK_INDEX, else ./.newsdesk).",
    )(func)


def filter_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--source`` (repeatable), ``--since``, ``--until``."""
    func = click.option("--until", default=None, metavar="DATE", help="Only articles published on or before DATE.")(func)
    func = click.option("--since", default=None, metavar="DATE", help="Only articles published on or after DATE.")(func)
    return click.option(
        "--source", "sources", multiple=True, metavar="OUTLET", help="Only articles from OUTLET (repeatable)."
    )(func)


def settings_for(index_dir: str | Path | None) -> Any:
    from index.location import parse
    from qa.config import Settings

    settings = Settings()
    return settings.model_copy(update={"index": parse(index_dir)}) if index_dir is not None else settings


def stderr(message: str) -> None:
    click.echo(message, err=True)


def open_or_build(settings: Any) -> Any:
    """Open the index, first building it from ./corpus when there is none yet."""
    from index import location
    from index.build import Progress
    from qa.assistant import Assistant

    if not location.is_database(settings.index) and not location.exists(settings.index) and Path("corpus").is_dir():
        stderr(f"no index at {settings.index} yet; building it from ./corpus")
        return Assistant.build(["corpus"], settings=settings, progress=Progress())
    return Assistant.open(settings=settings)
