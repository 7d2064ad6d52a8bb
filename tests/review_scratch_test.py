"""Scratch review tests (to be deleted)."""
from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from tui_snapshot_app import ask, chat_app, settle

from tui.app import NewsdeskApp
from tui.history import FILE_NAME, History
from tui.screens import ArticleScreen, ConversationsScreen, HelpScreen
from tui.widgets import AnswerBubble, PromptInput, QuestionBubble

BRIDGE = "How much did the Harbor Street bridge repairs cost?"
COMET = "Who discovered the comet?"


class SlowConversation:
    def __init__(self, inner: Any, gate: threading.Event) -> None:
        self.inner, self.gate = inner, gate

    def ask(self, *a: Any, **kw: Any) -> Any:
        self.gate.wait(10)
        return self.inner.ask(*a, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class SlowAssistant:
    def __init__(self, inner: Any, gate: threading.Event) -> None:
        self.inner, self.gate = inner, gate

    def conversation(self) -> Any:
        return SlowConversation(self.inner.conversation(), self.gate)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def wait_until(pilot: Any, cond: Any, n: int = 100) -> None:
    for _ in range(n):
        if cond():
            return
        await pilot.pause(0.02)


async def test_answer_arrives_while_help_open(tiny_assistant: Any, tmp_path: Path) -> None:
    gate = threading.Event()
    app = chat_app(SlowAssistant(tiny_assistant, gate), tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.3)
        prompt = app.query_one(PromptInput)
        prompt.value = BRIDGE
        await pilot.press("enter")
        await pilot.pause(0.1)
        await pilot.press("f1")
        await pilot.pause(0.1)
        assert isinstance(app.screen, HelpScreen)
        gate.set()
        await pilot.pause(0.5)
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        print("running:", app.is_running, "return_code", app.return_code)
        assert app.is_running


async def test_answer_arrives_while_article_open(tiny_assistant: Any, tmp_path: Path) -> None:
    gate = threading.Event()
    gate.set()
    app = chat_app(SlowAssistant(tiny_assistant, gate), tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(pilot, BRIDGE)
        gate.clear()
        prompt = app.query_one(PromptInput)
        prompt.value = COMET
        await pilot.press("enter")
        await pilot.pause(0.1)
        app.query_one("#transcript").focus()
        await pilot.press("1")
        await pilot.pause(0.1)
        assert isinstance(app.screen, ArticleScreen)
        gate.set()
        await pilot.pause(0.5)
        print("running:", app.is_running)
        assert app.is_running


async def test_help_during_loading(tiny_assistant: Any, tmp_path: Path) -> None:
    gate = threading.Event()

    def factory() -> Any:
        gate.wait(10)
        return tiny_assistant

    app = NewsdeskApp(factory, index_label=".newsdesk", export_dir=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.1)
        await pilot.press("f1")
        await pilot.pause(0.6)
        print("running:", app.is_running)
        ok = app.is_running
        gate.set()
        assert ok


async def test_reopen_same_conversation_while_answering_loses_answer(
    tiny_assistant: Any, tmp_path: Path, _own_data_dir: Path
) -> None:
    gate = threading.Event()
    gate.set()
    app = chat_app(SlowAssistant(tiny_assistant, gate), tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(pilot, BRIDGE)
        gate.clear()
        prompt = app.query_one(PromptInput)
        prompt.value = COMET
        await pilot.press("enter")
        await pilot.pause(0.1)
        await pilot.press("ctrl+l")
        await pilot.pause(0.1)
        assert isinstance(app.screen, ConversationsScreen)
        await pilot.press("enter")  # reopen the highlighted one: the open one
        await pilot.pause(0.1)
        gate.set()
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
        cid = app.conversation_id
        bubbles = [(b.turn, b.answer is not None, b.error) for b in app.query(AnswerBubble)]
        print("bubbles", bubbles)
    h = History.open(_own_data_dir)
    turns = h.turns(cid)
    print([(t.number, t.question, t.answer is not None, t.error) for t in turns])
    assert all(t.answer is not None for t in turns), "answer to turn 2 computed but never saved"


async def test_two_windows_same_conversation_collide(tiny_assistant: Any, tmp_path: Path, _own_data_dir: Path) -> None:
    first = chat_app(tiny_assistant, tmp_path)
    async with first.run_test(size=(100, 30)) as pilot:
        await ask(pilot, BRIDGE)
    a = chat_app(tiny_assistant, tmp_path)
    b = chat_app(tiny_assistant, tmp_path)
    async with a.run_test(size=(100, 30)) as pa:
        await settle(pa)
        async with b.run_test(size=(100, 30)) as pb:
            await settle(pb)
            assert a.conversation_id == b.conversation_id
            await ask(pa, COMET)
            await ask(pb, "What is the capital of Mongolia?")
            cid = a.conversation_id
    h = History.open(_own_data_dir)
    turns = h.turns(cid)
    rows = [(t.number, t.question, t.answer.question if t.answer else None) for t in turns]
    print(rows)
    assert len(turns) == 3, rows


async def test_conversations_screen_with_locked_db(tiny_assistant: Any, tmp_path: Path, _own_data_dir: Path) -> None:
    history = History.open(_own_data_dir, busy_timeout=0.1)
    app = NewsdeskApp(lambda: tiny_assistant, index_label=".newsdesk", export_dir=tmp_path, history=history)
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(pilot, BRIDGE)
        await pilot.press("ctrl+l")
        await pilot.pause()
        holder = sqlite3.connect(str(_own_data_dir / FILE_NAME))
        holder.execute("BEGIN IMMEDIATE")
        try:
            await pilot.press("d")
            await pilot.pause(0.3)
            print("running:", app.is_running)
            ok = app.is_running
        finally:
            holder.rollback()
            holder.close()
        assert ok


async def test_k_with_locked_db(tiny_assistant: Any, tmp_path: Path, _own_data_dir: Path) -> None:
    history = History.open(_own_data_dir, busy_timeout=0.1)
    app = NewsdeskApp(lambda: tiny_assistant, index_label=".newsdesk", export_dir=tmp_path, history=history)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        holder = sqlite3.connect(str(_own_data_dir / FILE_NAME))
        holder.execute("BEGIN IMMEDIATE")
        try:
            prompt = app.query_one(PromptInput)
            prompt.value = "/k 3"
            await pilot.press("enter")
            await pilot.pause(0.3)
            print("running:", app.is_running)
            ok = app.is_running
        finally:
            holder.rollback()
            holder.close()
        assert ok


async def test_palette_new_conversation_over_article(tiny_assistant: Any, tmp_path: Path) -> None:
    app = chat_app(tiny_assistant, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(pilot, BRIDGE)
        app.query_one("#transcript").focus()
        await pilot.press("1")
        await pilot.pause()
        assert isinstance(app.screen, ArticleScreen)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        print(titles)
        cmd = next(c for c in app.get_system_commands(app.screen) if c.title == "New conversation")
        cmd.callback()
        await pilot.pause()
        assert app.is_running


def test_confidences(tiny_assistant: Any) -> None:
    print("reader", tiny_assistant.reader is not None)
    for q in [BRIDGE, COMET, "What is the capital of Mongolia?", "bridge", "comet telescope", "Who?", "city council vote"]:
        a = tiny_assistant.ask(q)
        print(q, a.answered, a.confidence)


from test_chat_view import colours, distance  # noqa: E402

ALL_THEMES = ['ansi-dark', 'ansi-light', 'atom-one-dark', 'atom-one-light', 'catppuccin-frappe', 'catppuccin-latte', 'catppuccin-macchiato', 'catppuccin-mocha', 'dracula', 'flexoki', 'gruvbox', 'monokai', 'nord', 'rose-pine', 'rose-pine-dawn', 'rose-pine-moon', 'solarized-dark', 'solarized-light', 'textual-dark', 'textual-light', 'tokyo-night']


@pytest.mark.parametrize("theme", ALL_THEMES)
async def test_dim_all(tiny_assistant: Any, tmp_path: Path, theme: str) -> None:
    app = chat_app(tiny_assistant, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        app.theme = theme
        await ask(pilot, "/k 8")
        await ask(pilot, BRIDGE)
        bg = app.current_theme.background or ("#000000" if app.current_theme.dark else "#ffffff")
        svg = app.export_screenshot()
        runs = colours(svg)
        weak = [line for line in app.query("CitationLine.-weak")]
    sentence = next(fill for t, fill in runs if "The repairs cost" in t or "Harbor Street bridge reopened" in t)
    meta = [(t, fill) for t, fill in runs if "· 2025-03-14 ·" in t]
    detail = [(t, fill) for t, fill in runs if "sure [1] answers it" in t]
    welcome = [(t, fill) for t, fill in runs if "Ask a question about" in t]
    weak_texts = [str(w.sentence.text)[:20] for w in weak]
    weakruns = [(t, fill) for t, fill in runs if any(w and w in t for w in weak_texts)]
    bad = []
    for t, fill in [*meta, *detail, *welcome, *weakruns]:
        if not fill or not sentence or distance(fill, bg) >= distance(sentence, bg):
            bad.append((t[:30], fill, sentence, bg))
    print(theme, "bg", bg, "sentence", sentence, "meta", meta[:1], "weak", weakruns[:1], "welcome", welcome[:1])
    assert not bad, bad
