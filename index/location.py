"""Where an index lives: a local folder, or a PostgreSQL database (``postgresql://user@host:port/db``).

Commands and :class:`qa.Assistant` go through these functions, so every ``--index`` accepts either.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from index import store
from index.build import ProgressFn, UpdateReport, remove_articles, update_index
from index.embed.embedder import Embedder
from index.storage import IndexView

Location = Path | str
"""A folder (Path) or a database URL (str)."""
SCHEMES = ("postgresql://", "postgres://")


def parse(value: str | Path) -> Location:
    """A database URL stays a string; anything else is a folder."""
    text = str(value)
    return text if is_database(text) else Path(value)


def is_database(location: Location | str) -> bool:
    """Whether ``location`` is a PostgreSQL URL."""
    return isinstance(location, str) and location.startswith(SCHEMES)


def describe(location: Location) -> str:
    """For messages: the folder, or the URL without its password."""
    if is_database(location):
        from index.pg.store import redact

        return redact(str(location))
    return str(location)


def open_index(location: Location) -> IndexView:
    """The live generation; IndexNotFoundError when there is none, one-line errors for everything else."""
    if is_database(location):
        from index.pg.store import load

        return load(str(location))
    return store.load(Path(location))


def exists(location: Location) -> bool:
    """Whether an index is there (a database is asked; one that cannot be reached raises)."""
    if is_database(location):
        from index.pg.store import connect, read_meta

        db = connect(str(location))
        try:
            return "generation" in read_meta(db)
        finally:
            db.close()
    return store.exists(Path(location))


def update(
    location: Location,
    paths: Sequence[str | Path],
    embedder: Embedder,
    *,
    progress: ProgressFn | None = None,
    notify: Callable[[str], None] | None = None,
    wait: float = 300.0,
) -> UpdateReport:
    """Add or update the articles under ``paths``."""
    if is_database(location):
        from index.pg.build import update_pg

        return update_pg(str(location), paths, embedder, progress=progress, notify=notify, wait=wait)
    return update_index(Path(location), paths, embedder, progress=progress, notify=notify, wait=wait)


def remove(location: Location, ids: Iterable[str], embedder: Embedder) -> tuple[list[str], list[str]]:
    """Delete articles by id; ``(removed, not_found)``."""
    if is_database(location):
        from index.pg.build import remove_pg

        return remove_pg(str(location), ids, embedder)
    return remove_articles(Path(location), ids, embedder)
