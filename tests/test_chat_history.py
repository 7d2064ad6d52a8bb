"""The chat remembers: conversations, question history and settings survive a restart (NEWSDESK_DATA_DIR)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from textual.widgets import OptionList
from tui_snapshot_app import ask, chat_app, settle

from qa import Assistant
from tui.app import NewsdeskApp
from tui.history import FILE_NAME, History
from tui.screens import ConversationsScreen
from tui.widgets import AnswerBubble, CitationLine, PromptInput, QuestionBubble, Transcript

BRIDGE = "How much did the Harbor Street bridge repairs cost?"
COMET = "Who discovered the comet?"


def questions(app: NewsdeskApp) -> list[str]:
    return [q.question for q in app.query(QuestionBubble)]


async def test_the_conversation_is_there_after_a_restart(
    tiny_assistant: Assistant, tmp_path: Path, _own_data_dir: Path
) -> None:
    first = chat_app(tiny_assistant, tmp_path)
    async with first.run_test(size=(80, 24)) as pilot:
        await ask(pilot, BRIDGE)
        await ask(pilot, COMET)
        answers = [t.answer for t in first.turns]
    assert (_own_data_dir / FILE_NAME).exists()

    again = chat_app(tiny_assistant, tmp_path)
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert questions(again) == [BRIDGE, COMET]
        assert [b.answer for b in again.query(AnswerBubble)] == answers, "the saved answers, exactly"
        assert not any(b.has_class("-pending") for b in again.query(AnswerBubble))
        assert not [s for s in again.query(".answer-head") if "Reading" in str(s.render())], "no stray placeholder"
        view = again.query_one(Transcript).scrollable_content_region
        assert view.contains_region(list(again.query(QuestionBubble))[-1].region), "opens on the latest question"
        assert again.current_turn == 2
        assert len(again.conversation.turns) == 1, "follow-ups lean on the reopened conversation's last answer"
        prompt = again.query_one(PromptInput)
        await pilot.press("up")
        assert prompt.value == COMET, "Up recalls questions from the earlier session"
        await ask(pilot, "When will it be visible?")
        assert len(again.query(QuestionBubble)) == 3
    history = History.open(_own_data_dir)
    saved = history.conversations(again.index_key)
    assert len(saved) == 1 and saved[0].turns == 3 and saved[0].title == BRIDGE


async def test_conversations_are_tied_to_their_index(tiny_assistant: Assistant, tmp_path: Path) -> None:
    app = chat_app(tiny_assistant, tmp_path, index_label=str(tmp_path / "one"))
    async with app.run_test() as pilot:
        await ask(pilot, BRIDGE)
    other = chat_app(tiny_assistant, tmp_path, index_label=str(tmp_path / "two"))
    async with other.run_test() as pilot:
        await settle(pilot)
        assert questions(other) == []


async def test_ctrl_n_keeps_the_old_conversation_and_ctrl_l_reopens_renames_and_deletes_with_undo(
    tiny_assistant: Assistant, tmp_path: Path
) -> None:
    app = chat_app(tiny_assistant, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(pilot, BRIDGE)
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert questions(app) == [] and "saved" in str(app.query_one("#status").render())
        await ask(pilot, COMET)

        await pilot.press("ctrl+l")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ConversationsScreen)
        listed = screen.query_one(OptionList)
        assert listed.option_count == 2
        assert "Who discovered the comet?" in str(listed.get_option_at_index(0).prompt), "latest first"

        # rename the older one
        await pilot.press("down", "r")
        await pilot.pause()
        rename = screen.query_one("#conversations-rename")
        assert rename.has_focus
        rename.value = "Bridge costs"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await pilot.pause()
        assert "Bridge costs" in str(listed.get_option_at_index(1).prompt)

        # delete it, then undo
        await pilot.press("d")
        await pilot.pause()
        assert listed.option_count == 1
        await pilot.press("u")
        await pilot.pause()
        assert listed.option_count == 2

        # reopen it
        listed.highlighted = 1
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, ConversationsScreen)
        assert questions(app) == [BRIDGE]
        assert app.query_one(PromptInput).has_focus


async def test_deleting_the_open_conversation_starts_a_new_one(tiny_assistant: Assistant, tmp_path: Path) -> None:
    app = chat_app(tiny_assistant, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(pilot, BRIDGE)
        await pilot.press("ctrl+l")
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("escape")
        await settle(pilot)
        assert questions(app) == [] and app.conversation_id is None
        await ask(pilot, COMET)
    again = chat_app(tiny_assistant, tmp_path)
    async with again.run_test() as pilot:
        await settle(pilot)
        assert questions(again) == [COMET]


async def test_theme_and_k_are_kept(tiny_assistant: Assistant, tmp_path: Path) -> None:
    app = chat_app(tiny_assistant, tmp_path)
    async with app.run_test() as pilot:
        await settle(pilot)
        app.theme = "nord"
        await ask(pilot, "/k 2")
        await pilot.pause()
        await ask(pilot, BRIDGE)
        assert len(app.query(CitationLine)) == 2
    again = chat_app(tiny_assistant, tmp_path)
    async with again.run_test() as pilot:
        await settle(pilot)
        assert again.theme == "nord" and again.top_k == 2
        await ask(pilot, COMET)
        assert len(again.turns[-1].answer.sentences) == 2  # type: ignore[union-attr]


async def test_a_damaged_history_never_stops_the_chat(
    tiny_assistant: Assistant, tmp_path: Path, _own_data_dir: Path
) -> None:
    _own_data_dir.mkdir(parents=True)
    (_own_data_dir / FILE_NAME).write_bytes(b"not a database at all" * 100)
    app = chat_app(tiny_assistant, tmp_path)
    async with app.run_test() as pilot:
        await ask(pilot, BRIDGE)
        assert app.query(AnswerBubble).first().answer is not None
        assert any("damaged" in n.message for n in app._notifications)
    kept = list(_own_data_dir.glob("history.damaged-*.sqlite3"))
    assert len(kept) == 1 and kept[0].read_bytes() == b"not a database at all" * 100
    again = chat_app(tiny_assistant, tmp_path)
    async with again.run_test() as pilot:
        await settle(pilot)
        assert questions(again) == [BRIDGE]


async def test_a_locked_history_gets_a_fresh_file_beside_it(
    tiny_assistant: Assistant, tmp_path: Path, _own_data_dir: Path
) -> None:
    History.open(_own_data_dir).close()
    holder = sqlite3.connect(str(_own_data_dir / FILE_NAME))
    holder.execute("BEGIN EXCLUSIVE")
    try:
        history = History.open(_own_data_dir, busy_timeout=0.1)
        app = NewsdeskApp(lambda: tiny_assistant, index_label=".newsdesk", export_dir=tmp_path, history=history)
        async with app.run_test() as pilot:
            await ask(pilot, BRIDGE)
            assert any("locked" in n.message for n in app._notifications)
            assert app.conversation_id is not None
    finally:
        holder.rollback()
        holder.close()
    assert history.path is not None and history.path.name.startswith("history.new-")


async def test_a_history_that_fails_mid_session_keeps_the_chat_going(tiny_assistant: Assistant, tmp_path: Path) -> None:
    app = chat_app(tiny_assistant, tmp_path)
    async with app.run_test() as pilot:
        await ask(pilot, BRIDGE)
        assert app.history is not None
        app.history.close()  # as if the disk went away
        await ask(pilot, COMET)
        assert app.turns[-1].answer is not None
        assert any("could not be saved" in n.message for n in app._notifications)
