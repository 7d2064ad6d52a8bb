"""Snapshots of the chat's main states (refresh with ``make snapshot-update``).

The answered chat is kept at 80x24 and 120x40, on a dark and a light theme: dim text must stay dim.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from tui_snapshot_app import SIZE, ask, chat_app, settle

from index.errors import IndexNotFoundError
from qa import Assistant
from tui.app import NewsdeskApp


def test_empty_chat(snap_compare: Any, tiny_assistant: Assistant, tmp_path: Path) -> None:
    assert snap_compare(chat_app(tiny_assistant, tmp_path), terminal_size=SIZE, run_before=settle)


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light"])
@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_answered_chat(
    snap_compare: Any, tiny_assistant: Assistant, tmp_path: Path, size: tuple[int, int], theme: str
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        pilot.app.theme = theme
        await ask(pilot, "How much did the Harbor Street bridge repairs cost?")
        await ask(pilot, "Who discovered the comet?")

    assert snap_compare(chat_app(tiny_assistant, tmp_path), terminal_size=size, run_before=run_before)


def test_not_found_in_the_articles(snap_compare: Any, tiny_assistant: Assistant, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await ask(pilot, "What is the capital of Mongolia?")

    assert snap_compare(chat_app(tiny_assistant, tmp_path), terminal_size=SIZE, run_before=run_before)


def test_article_view_highlights_the_cited_sentence(
    snap_compare: Any, tiny_assistant: Assistant, tmp_path: Path
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await ask(pilot, "How much did the Harbor Street bridge repairs cost?")
        await pilot.press("ctrl+o", "2")
        await settle(pilot)

    assert snap_compare(chat_app(tiny_assistant, tmp_path), terminal_size=SIZE, run_before=run_before)


def test_no_index_notice(snap_compare: Any, tmp_path: Path) -> None:
    def missing() -> Any:
        raise IndexNotFoundError("no index at .newsdesk (build one with: newsdesk index PATH --index .newsdesk)")

    app = NewsdeskApp(missing, index_label=".newsdesk", export_dir=tmp_path)
    assert snap_compare(app, terminal_size=(80, 24), run_before=settle)
