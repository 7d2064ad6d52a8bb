"""Harness shared by the TUI tests: build the app over an injected assistant, ask, wait."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from tui.app import NewsdeskApp
from tui.widgets import PromptInput

SIZE = (100, 30)
"""Terminal size of the snapshot tests."""


def chat_app(assistant: Any, export_dir: Path, *, index_label: str = ".newsdesk") -> NewsdeskApp:
    """The chat over ``assistant`` (returned by the factory at once, as a loaded index would be)."""
    return NewsdeskApp(lambda: assistant, index_label=index_label, export_dir=export_dir)


async def settle(pilot: Pilot[Any]) -> None:
    """Wait for loading/answering workers and the repaint that follows; stop the cursor blinking."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    for prompt in pilot.app.query(PromptInput):
        prompt.cursor_blink = False
    await pilot.pause()


async def ask(pilot: Pilot[Any], question: str, *, type_it: bool = False) -> None:
    """Put ``question`` in the prompt (key by key if ``type_it``), press Enter, wait for the answer."""
    await settle(pilot)
    prompt = pilot.app.query_one(PromptInput)
    prompt.focus()
    if type_it:
        await pilot.press(*question)
    else:
        prompt.value = question
    await pilot.press("enter")
    await settle(pilot)
