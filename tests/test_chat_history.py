"""The chat remembers: conversations, question history and settings survive a restart (NEWSDESK_DATA_DIR)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from textual.widgets import OptionList
from tui_snapshot_app import ask, chat_app, settle

from qa import Assistant
from tui.app import NewsdeskApp
from tui.history import FILE_NAME, History
from tui.messages import ShowEarlier
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
        assert len(again.conversation.turns) == 2, "follow-ups lean on the reopened conversation's turns"
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


async def test_a_long_conversation_reopens_with_only_the_latest_turns_and_brings_back_the_rest(
    tiny_assistant: Assistant, tmp_path: Path, _own_data_dir: Path
) -> None:
    from textual.widgets import Static

    from tui.widgets.transcript import MAX_TURNS_SHOWN

    history = History.open(_own_data_dir)
    app = chat_app(tiny_assistant, tmp_path)
    key = app.index_key
    conversation = history.start(key, "long one")
    answer = tiny_assistant.ask(COMET)
    for n in range(1, 26):
        number = history.ask(conversation, f"question {n}")
        history.settle(conversation, number, answer)
    history.close()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.pause(0.3)  # the view settles on the latest question first
        assert [q.turn for q in app.query(QuestionBubble)] == list(range(26 - MAX_TURNS_SHOWN, 26))
        note = app.query_one("#hidden-turns", Static)
        assert str(note.render()).startswith(f"▲ {25 - MAX_TURNS_SHOWN} earlier questions")
        for _ in range(2):  # as a click on the note does (the click itself: test_chat_view)
            note.post_message(ShowEarlier())
            await settle(pilot)
        turns = [q.turn for q in app.query(QuestionBubble)]
        assert turns == list(range(1, 26)), "every turn once, in order"
        assert [q.question for q in app.query(QuestionBubble)][:2] == ["question 1", "question 2"]


async def test_an_answer_that_arrives_after_switching_is_saved_to_its_own_conversation(
    tiny_assistant: Assistant, tmp_path: Path
) -> None:
    import threading

    gate = threading.Event()
    app = chat_app(tiny_assistant, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        real_ask = app.conversation.ask

        def slow_ask(question: str, **options: object) -> object:
            gate.wait(10)
            return real_ask(question, **options)

        app.conversation.ask = slow_ask
        prompt = app.query_one(PromptInput)
        prompt.value = BRIDGE
        await pilot.press("enter")
        await pilot.pause()
        first = app.conversation_id
        await pilot.press("ctrl+n")
        await pilot.pause()
        gate.set()
        await settle(pilot)
        assert questions(app) == [], "the new conversation shows nothing of the old one"
        assert app.history is not None and first is not None
        saved = app.history.turns(first)
        assert [t.question for t in saved] == [BRIDGE] and saved[0].answer is not None


def test_two_windows_adding_to_one_conversation_keep_both_turns(_own_data_dir: Path, tiny_assistant: Assistant) -> None:
    one, two = History.open(_own_data_dir), History.open(_own_data_dir)
    conversation = one.start("/idx", "shared")
    first = one.ask(conversation, COMET)
    second = two.ask(conversation, "What is the capital of Mongolia?")
    assert (first, second) == (1, 2)
    one.settle(conversation, first, tiny_assistant.ask(COMET))
    two.settle(conversation, second, error="not found")
    turns = one.turns(conversation)
    assert [(t.question, t.answer is not None, t.error) for t in turns] == [
        (COMET, True, None),
        ("What is the capital of Mongolia?", False, "not found"),
    ]


async def test_a_history_locked_during_the_session_gives_a_notice_not_a_crash(
    tiny_assistant: Assistant, tmp_path: Path, _own_data_dir: Path
) -> None:
    app = chat_app(tiny_assistant, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(pilot, BRIDGE)
        assert app.history is not None
        app.history._db.execute("PRAGMA busy_timeout = 50")
        holder = sqlite3.connect(str(_own_data_dir / FILE_NAME))
        holder.execute("BEGIN IMMEDIATE")
        try:
            await pilot.press("ctrl+l")
            await pilot.pause()
            await pilot.press("d")
            await pilot.pause()
            assert app.is_running
            assert any("could not be changed" in n.message for n in app._notifications)
            await pilot.press("escape")
            await pilot.pause()
            await ask(pilot, "/k 3")
            assert app.is_running and app.top_k == 3
        finally:
            holder.rollback()
            holder.close()
