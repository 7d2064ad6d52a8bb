"""The chat's memory: conversations, their turns and the user's settings, in one SQLite file.

One file, ``history.sqlite3``, under the data folder (``NEWSDESK_DATA_DIR``, default the platform's
user data folder). WAL mode, so two chat windows can share it; every write is one short
transaction. Each turn keeps the answer as its ``ask --json`` object, so reopening a conversation
shows exactly what was answered then, even after the index changed.

Opening never fails: a damaged file is moved aside (kept, never deleted) and a fresh one started; a
file locked by someone else, or written by a newer newsdesk, is left alone and a fresh file beside
it is used; a folder that cannot be written gives an in-memory history. Each case leaves a one-line
:attr:`History.notice` for the chat to show.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from qa.types import Answer

FILE_NAME = "history.sqlite3"
SCHEMA_VERSION = 1
_SET_VERSION = "PRAGMA user_version = 1;"
"""PRAGMA takes no parameters; this constant must match SCHEMA_VERSION."""
BUSY_TIMEOUT_S = 2.0
"""How long a write waits for another chat window's write before giving up."""
TITLE_CHARS = 80

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id       INTEGER PRIMARY KEY,
    idx      TEXT NOT NULL,
    title    TEXT NOT NULL,
    created  REAL NOT NULL,
    updated  REAL NOT NULL,
    deleted  REAL
);
CREATE INDEX IF NOT EXISTS conversations_by_index ON conversations (idx, deleted, updated);
CREATE TABLE IF NOT EXISTS turns (
    conversation INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    number       INTEGER NOT NULL,
    question     TEXT NOT NULL,
    answer       TEXT,
    error        TEXT,
    asked        REAL NOT NULL,
    PRIMARY KEY (conversation, number)
);
CREATE TABLE IF NOT EXISTS settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
"""


def default_data_dir() -> Path:
    """``NEWSDESK_DATA_DIR``, else the platform's user data folder for newsdesk."""
    configured = os.environ.get("NEWSDESK_DATA_DIR", "").strip()
    if configured:
        return Path(configured).expanduser()
    from platformdirs import user_data_path

    return user_data_path("newsdesk", appauthor=False)


@dataclass(frozen=True, slots=True)
class ConversationInfo:
    """One saved conversation, as listed."""

    id: int
    title: str
    created: float
    updated: float
    turns: int


@dataclass(frozen=True, slots=True)
class StoredTurn:
    """One question of a saved conversation and what came of it."""

    number: int
    question: str
    answer: Answer | None
    """None while unanswered (the chat was closed first) or when answering failed."""
    error: str | None


class History:
    """Saved conversations and settings; use :meth:`open` (it never raises)."""

    def __init__(self, connection: sqlite3.Connection, path: Path | None, notice: str | None = None) -> None:
        self._db = connection
        self.path = path
        """The file in use; None when the history is kept in memory only."""
        self.notice = notice
        """A one-line explanation when the usual file could not be used."""

    # ------------------------------------------------------------ opening

    @classmethod
    def open(cls, data_dir: Path | None = None, *, busy_timeout: float = BUSY_TIMEOUT_S) -> History:
        """The history under ``data_dir`` (default :func:`default_data_dir`), or the best fallback."""
        folder = data_dir if data_dir is not None else default_data_dir()
        path = folder / FILE_NAME
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return cls.in_memory(f"history not saved: cannot create {folder} ({exc.strerror or exc})")
        try:
            return cls(_connect(path, busy_timeout), path)
        except _Newer:
            reason = f"{path} was written by a newer newsdesk"
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                return cls.in_memory(f"history not saved: cannot open {path} ({exc})")
            reason = f"{path} is locked by another program"
        except sqlite3.DatabaseError:
            aside = _aside(path, "damaged")
            try:
                path.replace(aside)
                for suffix in ("-wal", "-shm"):
                    extra = path.with_name(path.name + suffix)
                    if extra.exists():
                        extra.replace(aside.with_name(aside.name + suffix))
                return cls(_connect(path, busy_timeout), path, f"{path} was damaged; it is kept as {aside.name}")
            except (OSError, sqlite3.Error) as exc:
                return cls.in_memory(f"history not saved: {path} is damaged and cannot be moved ({exc})")
        fresh = _aside(path, "new")
        try:
            return cls(_connect(fresh, busy_timeout), fresh, f"{reason}; this chat's history goes to {fresh.name}")
        except (OSError, sqlite3.Error) as exc:
            return cls.in_memory(f"history not saved: {reason}, and {fresh} cannot be opened ({exc})")

    @classmethod
    def in_memory(cls, notice: str | None = None) -> History:
        """A history that lasts as long as the process (tests, or when no file can be used)."""
        return cls(_connect(None, 0.0), None, notice)

    def close(self) -> None:
        """Close the file; later calls fail."""
        self._db.close()

    # ------------------------------------------------------------ conversations

    def conversations(self, index: str) -> list[ConversationInfo]:
        """The saved conversations about ``index``, most recently used first."""
        rows = self._db.execute(
            "SELECT c.id, c.title, c.created, c.updated, count(t.number) FROM conversations c "
            "LEFT JOIN turns t ON t.conversation = c.id WHERE c.idx = ? AND c.deleted IS NULL "
            "GROUP BY c.id ORDER BY c.updated DESC, c.id DESC",
            (index,),
        ).fetchall()
        return [ConversationInfo(int(r[0]), str(r[1]), float(r[2]), float(r[3]), int(r[4])) for r in rows]

    def latest(self, index: str) -> ConversationInfo | None:
        """The conversation about ``index`` used last, if any."""
        found = self.conversations(index)
        return found[0] if found else None

    def start(self, index: str, title: str) -> int:
        """A new, empty conversation about ``index``; returns its id."""
        now = time.time()
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO conversations (idx, title, created, updated) VALUES (?, ?, ?, ?)",
                (index, _title(title), now, now),
            )
        return int(cursor.lastrowid or 0)

    def rename(self, conversation: int, title: str) -> None:
        """Give ``conversation`` a new title (blank titles are refused)."""
        clean = _title(title)
        if not clean:
            raise ValueError("a conversation needs a title")
        with self._write() as db:
            db.execute("UPDATE conversations SET title = ? WHERE id = ?", (clean, conversation))

    def delete(self, conversation: int) -> None:
        """Hide ``conversation``; :meth:`undelete` brings it back until the next :meth:`purge`."""
        with self._write() as db:
            db.execute("UPDATE conversations SET deleted = ? WHERE id = ?", (time.time(), conversation))

    def undelete(self, conversation: int) -> None:
        """Undo :meth:`delete`."""
        with self._write() as db:
            db.execute("UPDATE conversations SET deleted = NULL WHERE id = ?", (conversation,))

    def purge(self, older_than_s: float = 0.0) -> int:
        """Remove for good the conversations deleted more than ``older_than_s`` ago; returns how many."""
        with self._write() as db:
            cursor = db.execute(
                "DELETE FROM conversations WHERE deleted IS NOT NULL AND deleted <= ?", (time.time() - older_than_s,)
            )
        return cursor.rowcount

    # ------------------------------------------------------------ turns

    def ask(self, conversation: int, question: str) -> int:
        """Save a new question as the next turn of ``conversation``; returns its number.

        The number is chosen inside the write, so two chat windows adding to one conversation get
        different turns instead of overwriting each other's.
        """
        now = time.time()
        with self._write() as db:
            row = db.execute(
                "INSERT INTO turns (conversation, number, question, asked) "
                "SELECT ?, coalesce(max(number), 0) + 1, ?, ? FROM turns WHERE conversation = ? RETURNING number",
                (conversation, question, now, conversation),
            ).fetchone()
            db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (now, conversation))
        return int(row[0])

    def settle(self, conversation: int, number: int, answer: Answer | None = None, error: str | None = None) -> None:
        """Save how turn ``number`` ended: its answer, or why there is none."""
        payload = answer.model_dump_json() if answer is not None else None
        with self._write() as db:
            db.execute(
                "UPDATE turns SET answer = ?, error = ? WHERE conversation = ? AND number = ?",
                (payload, error, conversation, number),
            )
            db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (time.time(), conversation))

    def record(
        self, conversation: int, number: int, question: str, answer: Answer | None = None, error: str | None = None
    ) -> None:
        """Save turn ``number`` as given (imports, tests); an existing turn keeps its question and any outcome
        not given again."""
        payload = answer.model_dump_json() if answer is not None else None
        now = time.time()
        with self._write() as db:
            db.execute(
                "INSERT INTO turns (conversation, number, question, answer, error, asked) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (conversation, number) DO UPDATE SET answer = coalesce(excluded.answer, turns.answer), "
                "error = coalesce(excluded.error, turns.error)",
                (conversation, number, question, payload, error, now),
            )
            db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (now, conversation))

    def recent_questions(self, index: str, limit: int = 200) -> list[str]:
        """The last ``limit`` questions asked about ``index`` (any conversation), oldest first."""
        rows = self._db.execute(
            "SELECT t.question FROM turns t JOIN conversations c ON c.id = t.conversation "
            "WHERE c.idx = ? AND c.deleted IS NULL ORDER BY t.asked DESC LIMIT ?",
            (index, limit),
        ).fetchall()
        return [str(r[0]) for r in reversed(rows)]

    def turns(self, conversation: int) -> list[StoredTurn]:
        """The turns of ``conversation`` in order; an answer that no longer reads is shown as an error."""
        rows = self._db.execute(
            "SELECT number, question, answer, error FROM turns WHERE conversation = ? ORDER BY number",
            (conversation,),
        ).fetchall()
        out = []
        for number, question, payload, error in rows:
            answer = None
            if payload is not None:
                try:
                    answer = Answer.model_validate_json(payload)
                except ValidationError:
                    error = "this saved answer could not be read back"
            out.append(StoredTurn(int(number), str(question), answer, error))
        return out

    # ------------------------------------------------------------ settings

    def setting(self, key: str) -> object | None:
        """A saved setting (any JSON value), or None."""
        row = self._db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            value: object = json.loads(row[0])
        except ValueError:
            return None
        return value

    def remember(self, key: str, value: object) -> None:
        """Save a setting (any JSON value)."""
        with self._write() as db:
            db.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(value)),
            )

    # ------------------------------------------------------------ helpers

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._db:  # one transaction: committed, or rolled back on error
            yield self._db


class _Newer(Exception):
    """The file's schema is newer than this code knows."""


def _connect(path: Path | None, busy_timeout: float) -> sqlite3.Connection:
    """Open (creating if needed) and check the file; raises sqlite3 errors or :class:`_Newer`."""
    db = sqlite3.connect(":memory:" if path is None else str(path), timeout=busy_timeout, check_same_thread=False)
    try:
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise _Newer(version)
        if path is not None:
            db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA foreign_keys = ON")
        db.executescript(_SCHEMA + _SET_VERSION)
        if db.execute("PRAGMA quick_check(1)").fetchone()[0] != "ok":
            raise sqlite3.DatabaseError("database disk image is malformed")
    except BaseException:
        db.close()
        raise
    return db


def _aside(path: Path, why: str) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate = path.with_name(f"{path.stem}.{why}-{stamp}{path.suffix}")
    n = 2
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}.{why}-{stamp}-{n}{path.suffix}")
        n += 1
    return candidate


def _title(text: str) -> str:
    words = " ".join(text.split())
    return words if len(words) <= TITLE_CHARS else words[: TITLE_CHARS - 1].rstrip() + "…"
