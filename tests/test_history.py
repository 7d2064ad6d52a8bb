"""tui/history.py on its own: saving conversations, turns and settings, and opening that never fails."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest

import tui.history as history_module
from qa.types import Answer, Sentence
from tui.history import FILE_NAME, TITLE_CHARS, ConversationInfo, History, StoredTurn

INDEX = "/indexes/news"
OTHER = "/indexes/other"


def an_answer(question: str = "How much did the bridge repairs cost?") -> Answer:
    text = "The repairs cost $4.2 million."
    return Answer(
        question=question,
        answered=True,
        confidence=0.8,
        sentences=[
            Sentence(
                text=text,
                article_id="a1",
                title="Harbor Street bridge reopens",
                source="Reuters",
                published="2025-03-04",
                url="https://example.com/a1",
                start=10,
                end=10 + len(text),
                score=0.9,
                span_start=27,
                span_end=39,
            )
        ],
    )


@contextmanager
def raw(path: Path | None) -> Iterator[sqlite3.Connection]:
    """A plain sqlite3 connection to ``path`` in autocommit mode, closed afterwards."""
    assert path is not None
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        yield db


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """``time.time()`` inside tui.history is a counter that moves one second per call: ordering is deterministic."""
    now = [1_700_000_000.0]

    def tick() -> float:
        now[0] += 1.0
        return now[0]

    monkeypatch.setattr(history_module, "time", SimpleNamespace(time=tick))
    yield now


@pytest.fixture
def history(tmp_path: Path) -> Iterator[History]:
    opened = History.open(tmp_path)
    yield opened
    opened.close()


# ------------------------------------------------------------ round trip


def test_open_creates_the_file_without_a_notice(tmp_path: Path) -> None:
    history = History.open(tmp_path)
    try:
        assert history.path == tmp_path / FILE_NAME
        assert (tmp_path / FILE_NAME).is_file()
        assert history.notice is None
    finally:
        history.close()


def test_open_defaults_to_newsdesk_data_dir(_own_data_dir: Path) -> None:
    history = History.open()
    try:
        assert history.path == _own_data_dir / FILE_NAME
        assert history.path.is_file()
    finally:
        history.close()


def test_open_creates_missing_parent_folders(tmp_path: Path) -> None:
    folder = tmp_path / "a" / "b" / "c"
    history = History.open(folder)
    try:
        assert history.path == folder / FILE_NAME
        assert history.notice is None
    finally:
        history.close()


def test_start_collapses_white_space_in_the_title(history: History) -> None:
    conversation = history.start(INDEX, "  How much\n did   the\tbridge cost?  ")
    [info] = history.conversations(INDEX)
    assert info.id == conversation
    assert info.title == "How much did the bridge cost?"
    assert info.turns == 0


def test_start_cuts_long_titles_to_80_characters(history: History) -> None:
    history.start(INDEX, "x" * 200)
    [info] = history.conversations(INDEX)
    assert len(info.title) == TITLE_CHARS == 80
    assert info.title == "x" * 79 + "…"


def test_start_keeps_a_title_of_exactly_80_characters(history: History) -> None:
    history.start(INDEX, "y" * 80)
    assert history.conversations(INDEX)[0].title == "y" * 80


def test_a_turn_is_saved_unanswered_then_answered(history: History) -> None:
    conversation = history.start(INDEX, "bridge")
    question = "How much did the bridge repairs cost?"
    history.record(conversation, 1, question)
    assert history.turns(conversation) == [StoredTurn(1, question, None, None)]

    answer = an_answer(question)
    history.record(conversation, 1, question, answer)
    [turn] = history.turns(conversation)
    assert turn.number == 1
    assert turn.question == question
    assert turn.answer == answer
    assert turn.answer is not None and turn.answer.sentences[0].span_start == 27
    assert turn.error is None
    assert history.conversations(INDEX)[0].turns == 1


def test_a_failed_turn_keeps_its_error(history: History) -> None:
    conversation = history.start(INDEX, "bridge")
    history.record(conversation, 1, "Who?", error="the index is being rebuilt")
    assert history.turns(conversation) == [StoredTurn(1, "Who?", None, "the index is being rebuilt")]


def test_turns_come_back_in_order_of_number(history: History) -> None:
    conversation = history.start(INDEX, "several")
    for number in (3, 1, 2):
        history.record(conversation, number, f"question {number}")
    assert [(t.number, t.question) for t in history.turns(conversation)] == [
        (1, "question 1"),
        (2, "question 2"),
        (3, "question 3"),
    ]


def test_turns_of_an_unknown_conversation_is_empty(history: History) -> None:
    assert history.turns(12345) == []


def test_conversations_lists_one_index_newest_first_with_turn_counts(history: History, clock: list[float]) -> None:
    first = history.start(INDEX, "first")
    second = history.start(INDEX, "second")
    elsewhere = history.start(OTHER, "elsewhere")
    history.record(second, 1, "q1")
    history.record(first, 1, "q1")
    history.record(first, 2, "q2")  # first is now the most recently used

    listed = history.conversations(INDEX)
    assert [c.id for c in listed] == [first, second]
    assert [c.title for c in listed] == ["first", "second"]
    assert [c.turns for c in listed] == [2, 1]
    assert listed[0].updated > listed[1].updated
    assert all(c.updated >= c.created for c in listed)
    assert all(isinstance(c, ConversationInfo) for c in listed)

    assert [c.id for c in history.conversations(OTHER)] == [elsewhere]
    assert history.conversations("/indexes/none") == []


def test_conversations_started_together_list_the_newest_id_first(history: History) -> None:
    ids = [history.start(INDEX, f"c{n}") for n in range(3)]
    assert [c.id for c in history.conversations(INDEX)][0] == ids[-1]


def test_latest(history: History, clock: list[float]) -> None:
    assert history.latest(INDEX) is None
    first = history.start(INDEX, "first")
    second = history.start(INDEX, "second")
    latest = history.latest(INDEX)
    assert latest is not None and latest.id == second
    history.record(first, 1, "q")
    latest = history.latest(INDEX)
    assert latest is not None and latest.id == first
    assert history.latest(OTHER) is None


def test_data_survives_close_and_reopen(tmp_path: Path) -> None:
    answer = an_answer()
    history = History.open(tmp_path)
    conversation = history.start(INDEX, "kept")
    history.record(conversation, 1, answer.question, answer)
    history.remember("k", 7)
    history.close()

    again = History.open(tmp_path)
    try:
        assert again.notice is None
        [info] = again.conversations(INDEX)
        assert (info.id, info.title, info.turns) == (conversation, "kept", 1)
        assert again.turns(conversation) == [StoredTurn(1, answer.question, answer, None)]
        assert again.setting("k") == 7
    finally:
        again.close()


def test_the_file_is_in_wal_mode(history: History) -> None:
    with raw(history.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == history_module.SCHEMA_VERSION


def test_close_makes_later_calls_fail(tmp_path: Path) -> None:
    history = History.open(tmp_path)
    history.close()
    with pytest.raises(sqlite3.ProgrammingError):
        history.conversations(INDEX)


# ------------------------------------------------------------ settings


def test_settings_round_trip(history: History) -> None:
    assert history.setting("missing") is None
    history.remember("theme", "textual-dark")
    history.remember("k", 5)
    assert history.setting("theme") == "textual-dark"
    assert history.setting("k") == 5
    assert isinstance(history.setting("k"), int)
    history.remember("k", 9)
    assert history.setting("k") == 9
    assert history.setting("missing") is None


def test_settings_keep_json_values(history: History) -> None:
    history.remember("filters", {"sources": ["Reuters"], "since": None})
    history.remember("flag", False)
    assert history.setting("filters") == {"sources": ["Reuters"], "since": None}
    assert history.setting("flag") is False


def test_a_setting_that_is_not_json_reads_as_none(history: History) -> None:
    with raw(history.path) as db:
        db.execute("INSERT INTO settings (key, value) VALUES ('broken', '{not json')")
    assert history.setting("broken") is None


# ------------------------------------------------------------ recent questions


def test_recent_questions_oldest_first_limited_and_filtered(history: History, clock: list[float]) -> None:
    first = history.start(INDEX, "first")
    second = history.start(INDEX, "second")
    gone = history.start(INDEX, "gone")
    other = history.start(OTHER, "other")
    history.record(first, 1, "q1")
    history.record(second, 1, "q2")
    history.record(gone, 1, "deleted question")
    history.record(other, 1, "other index question")
    history.record(first, 2, "q3")
    history.record(second, 2, "q4")
    history.delete(gone)

    assert history.recent_questions(INDEX) == ["q1", "q2", "q3", "q4"]
    assert history.recent_questions(INDEX, limit=2) == ["q3", "q4"]
    assert history.recent_questions(OTHER) == ["other index question"]
    assert history.recent_questions("/indexes/none") == []


def test_recent_questions_order_is_by_when_asked_not_when_answered(history: History, clock: list[float]) -> None:
    conversation = history.start(INDEX, "c")
    history.record(conversation, 1, "asked first")
    history.record(conversation, 2, "asked second")
    history.record(conversation, 1, "asked first", an_answer("asked first"))  # answered later
    assert history.recent_questions(INDEX) == ["asked first", "asked second"]


# ------------------------------------------------------------ delete, undelete, purge, rename


def test_delete_hides_and_undelete_restores(history: History) -> None:
    conversation = history.start(INDEX, "c")
    history.record(conversation, 1, "q")
    history.delete(conversation)
    assert history.conversations(INDEX) == []
    assert history.latest(INDEX) is None
    assert history.recent_questions(INDEX) == []
    history.undelete(conversation)
    [info] = history.conversations(INDEX)
    assert (info.id, info.turns) == (conversation, 1)
    assert history.recent_questions(INDEX) == ["q"]


def test_purge_removes_deleted_conversations_and_their_turns_for_good(history: History) -> None:
    kept = history.start(INDEX, "kept")
    restored = history.start(INDEX, "restored")
    gone = history.start(INDEX, "gone")
    for conversation in (kept, restored, gone):
        history.record(conversation, 1, "q", an_answer("q"))
    history.delete(gone)
    history.delete(restored)
    history.undelete(restored)

    assert history.purge(older_than_s=0) == 1
    assert {c.id for c in history.conversations(INDEX)} == {kept, restored}
    assert history.turns(gone) == []
    history.undelete(gone)  # too late: it is gone
    assert {c.id for c in history.conversations(INDEX)} == {kept, restored}
    with raw(history.path) as db:
        assert db.execute("SELECT count(*) FROM turns WHERE conversation = ?", (gone,)).fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM conversations WHERE id = ?", (gone,)).fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM turns").fetchone()[0] == 2
    assert history.purge(older_than_s=0) == 0


def test_purge_keeps_recently_deleted_conversations(history: History) -> None:
    conversation = history.start(INDEX, "c")
    history.delete(conversation)
    assert history.purge(older_than_s=3600) == 0
    history.undelete(conversation)
    assert [c.id for c in history.conversations(INDEX)] == [conversation]


def test_rename(history: History) -> None:
    conversation = history.start(INDEX, "old")
    history.rename(conversation, "  a   new\ntitle ")
    assert history.conversations(INDEX)[0].title == "a new title"
    history.rename(conversation, "z" * 100)
    assert history.conversations(INDEX)[0].title == "z" * 79 + "…"


@pytest.mark.parametrize("blank", ["", "   ", "\n\t "])
def test_rename_refuses_a_blank_title(history: History, blank: str) -> None:
    conversation = history.start(INDEX, "old")
    with pytest.raises(ValueError, match="title"):
        history.rename(conversation, blank)
    assert history.conversations(INDEX)[0].title == "old"


# ------------------------------------------------------------ opening never fails


def test_a_damaged_file_is_moved_aside_and_a_fresh_one_used(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    garbage = bytes(range(256)) * 16
    path.write_bytes(garbage)

    history = History.open(tmp_path)
    try:
        assert history.path == path
        assert history.notice is not None and "damaged" in history.notice
        assert "\n" not in history.notice
        aside = [p for p in tmp_path.iterdir() if p.name.startswith("history.damaged-")]
        assert len(aside) == 1
        assert aside[0].read_bytes() == garbage
        assert aside[0].name in history.notice
        conversation = history.start(INDEX, "fresh")
        history.record(conversation, 1, "q")
        assert [t.question for t in history.turns(conversation)] == ["q"]
    finally:
        history.close()
    with raw(path) as db:
        assert db.execute("SELECT count(*) FROM conversations").fetchone()[0] == 1


def test_a_short_damaged_file_is_moved_aside_too(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    path.write_bytes(b"this is not a database at all")
    history = History.open(tmp_path)
    try:
        assert history.path == path
        assert history.notice is not None and "damaged" in history.notice
        [aside] = [p for p in tmp_path.iterdir() if p.name.startswith("history.damaged-")]
        assert aside.read_bytes() == b"this is not a database at all"
    finally:
        history.close()


def test_a_second_damaged_file_does_not_overwrite_the_first_kept_one(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    path.write_bytes(b"first garbage " * 100)
    History.open(tmp_path).close()
    path.unlink()
    for extra in tmp_path.glob(FILE_NAME + "-*"):
        extra.unlink()
    path.write_bytes(b"second garbage " * 100)
    History.open(tmp_path).close()
    kept = sorted(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("history.damaged-"))
    assert kept == sorted([b"first garbage " * 100, b"second garbage " * 100])


def _uses_a_fresh_file_beside(history: History, path: Path, reason: str) -> None:
    """``history`` left ``path`` alone for a fresh ``history.new-*`` file beside it, with a one-line notice naming ``reason``."""
    assert history.notice is not None and reason in history.notice
    assert "\n" not in history.notice
    assert history.path is not None and history.path != path
    assert history.path.parent == path.parent
    assert history.path.name.startswith("history.new-")


def _locked_file_test(tmp_path: Path, create_first: bool) -> None:
    path = tmp_path / FILE_NAME
    if create_first:
        History.open(tmp_path).close()
    before = path.read_bytes() if path.exists() else b""
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        history = History.open(tmp_path, busy_timeout=0.1)
        try:
            _uses_a_fresh_file_beside(history, path, "locked")
            assert history.path is not None and history.path.name.endswith(".sqlite3")
            assert history.path.name in history.notice
            conversation = history.start(INDEX, "while locked")
            history.record(conversation, 1, "q")
            assert [c.id for c in history.conversations(INDEX)] == [conversation]
        finally:
            history.close()
    finally:
        holder.rollback()
        holder.close()
    assert path.exists()
    assert not any(p.name.startswith("history.damaged-") for p in tmp_path.iterdir())
    if create_first:
        with raw(path) as db:
            assert db.execute("SELECT count(*) FROM conversations").fetchone()[0] == 0
    else:
        assert path.read_bytes() == before


def test_a_locked_new_file_is_left_alone_and_a_fresh_one_used_beside_it(tmp_path: Path) -> None:
    _locked_file_test(tmp_path, create_first=False)


def test_a_locked_history_file_is_left_alone_and_a_fresh_one_used_beside_it(tmp_path: Path) -> None:
    _locked_file_test(tmp_path, create_first=True)


def test_a_file_from_a_newer_newsdesk_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    with raw(path) as db:
        db.execute("CREATE TABLE future (x)")
        db.execute("INSERT INTO future VALUES (42)")
        db.execute("PRAGMA user_version = 99")
    before = path.read_bytes()

    history = History.open(tmp_path)
    try:
        _uses_a_fresh_file_beside(history, path, "newer")
        conversation = history.start(INDEX, "fresh")
        history.record(conversation, 1, "q")
        assert history.latest(INDEX) is not None
    finally:
        history.close()
    assert path.read_bytes() == before
    with raw(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 99
        assert db.execute("SELECT x FROM future").fetchall() == [(42,)]


def test_a_folder_that_cannot_be_created_gives_an_in_memory_history(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("I am a file, not a folder")
    folder = afile / "sub"

    history = History.open(folder)
    try:
        assert history.path is None
        assert history.notice is not None and "not saved" in history.notice
        assert str(folder) in history.notice
        assert "\n" not in history.notice
        conversation = history.start(INDEX, "in memory")
        history.record(conversation, 1, "q", an_answer("q"))
        assert history.turns(conversation) == [StoredTurn(1, "q", an_answer("q"), None)]
        history.remember("k", 3)
        assert history.setting("k") == 3
        history.delete(conversation)
        assert history.purge() == 1
        assert history.turns(conversation) == []
    finally:
        history.close()
    assert afile.read_text() == "I am a file, not a folder"


def test_a_data_folder_that_is_a_file_gives_an_in_memory_history(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_bytes(b"data")
    history = History.open(afile)
    try:
        assert history.path is None
        assert history.notice is not None and "not saved" in history.notice
        assert history.start(INDEX, "t") > 0
    finally:
        history.close()
    assert afile.read_bytes() == b"data"


def test_a_history_file_that_is_a_folder_gives_an_in_memory_history(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).mkdir()
    history = History.open(tmp_path)
    try:
        assert history.path is None
        assert history.notice is not None and "cannot open" in history.notice
        conversation = history.start(INDEX, "t")
        history.record(conversation, 1, "q")
        assert len(history.turns(conversation)) == 1
    finally:
        history.close()
    assert (tmp_path / FILE_NAME).is_dir()


def test_a_file_with_a_damaged_table_page_is_moved_aside(tmp_path: Path) -> None:
    history = History.open(tmp_path)
    history.record(history.start(INDEX, "old"), 1, "q")
    history.close()
    path = tmp_path / FILE_NAME
    with raw(path) as db:
        root = int(db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'conversations'").fetchone()[0])
        size = int(db.execute("PRAGMA page_size").fetchone()[0])
    data = bytearray(path.read_bytes())
    data[(root - 1) * size : root * size] = b"\xa5" * size
    path.write_bytes(bytes(data))

    history = History.open(tmp_path)
    try:
        assert history.notice is not None and "damaged" in history.notice
        assert any(p.name.startswith("history.damaged-") for p in tmp_path.iterdir())
        assert history.conversations(INDEX) == []
        assert history.start(INDEX, "fresh") > 0
    finally:
        history.close()


def test_in_memory_history_works_and_has_no_path() -> None:
    history = History.in_memory()
    try:
        assert history.path is None
        assert history.notice is None
        conversation = history.start(INDEX, "t")
        history.record(conversation, 1, "q")
        assert history.recent_questions(INDEX) == ["q"]
    finally:
        history.close()


# ------------------------------------------------------------ answers that no longer read


@pytest.mark.parametrize("payload", ["{not json", '{"question": "q"}', '"just a string"'])
def test_a_saved_answer_that_no_longer_validates_is_shown_as_an_error(history: History, payload: str) -> None:
    conversation = history.start(INDEX, "c")
    history.record(conversation, 1, "q", an_answer("q"))
    history.record(conversation, 2, "fine", an_answer("fine"))
    with raw(history.path) as db:
        db.execute("UPDATE turns SET answer = ? WHERE conversation = ? AND number = 1", (payload, conversation))

    first, second = history.turns(conversation)
    assert (first.number, first.question, first.answer) == (1, "q", None)
    assert first.error is not None and "could not be read back" in first.error
    assert second.answer == an_answer("fine")
    assert second.error is None


# ------------------------------------------------------------ two chat windows


def test_two_histories_on_one_file_share_their_conversations(tmp_path: Path) -> None:
    one = History.open(tmp_path)
    two = History.open(tmp_path)
    try:
        assert one.path == two.path == tmp_path / FILE_NAME
        assert one.notice is None and two.notice is None
        a = one.start(INDEX, "from window one")
        b = two.start(INDEX, "from window two")
        assert a != b
        one.record(b, 1, "one asks in two's conversation")
        two.record(a, 1, "two asks in one's conversation", an_answer("two asks in one's conversation"))
        two.remember("k", 4)

        for window in (one, two):
            assert {c.title for c in window.conversations(INDEX)} == {"from window one", "from window two"}
            assert [t.question for t in window.turns(b)] == ["one asks in two's conversation"]
            assert window.turns(a)[0].answer == an_answer("two asks in one's conversation")
        assert one.setting("k") == 4
        two.delete(a)
        assert [c.id for c in one.conversations(INDEX)] == [b]
    finally:
        one.close()
        two.close()
