"""Ctrl+L: the saved conversations about this index; reopen, rename or delete (with undo) one."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from tui.history import ConversationInfo, History
from tui.text import DIM, one_line


def conversation_content(info: ConversationInfo, current: bool) -> Content:
    """``title`` / ``n questions · last used 2026-12-05 14:02`` (``· open now``)."""
    when = datetime.fromtimestamp(info.updated).strftime("%Y-%m-%d %H:%M")
    detail = f"\n{info.turns} question{'s' if info.turns != 1 else ''} · last used {when}"
    return Content.assemble(
        (one_line(info.title) or "(untitled)", "bold"), (detail + (" · open now" if current else ""), DIM)
    )


class ConversationsScreen(ModalScreen[int | None]):
    """Lists conversations; dismisses with the id to reopen (None: stay where you were)."""

    BINDINGS = [
        Binding("escape", "close", "Back"),
        Binding("r", "rename", "Rename"),
        Binding("d,delete", "delete", "Delete"),
        Binding("u", "undo", "Undo delete"),
    ]

    def __init__(self, history: History, index: str, current: int | None) -> None:
        super().__init__()
        self.history = history
        self.index = index
        self.current = current
        self.deleted: list[int] = []
        """Deleted while this list was open, newest last (``u`` brings them back)."""

    def compose(self) -> ComposeResult:
        with Vertical(id="conversations-box"):
            yield Static(Content.styled("Conversations", "bold"), markup=False, id="conversations-title")
            yield Static("", markup=False, id="conversations-empty")
            yield OptionList(id="conversations-list")
            yield Input(placeholder="New title, then Enter (Esc cancels)", id="conversations-rename")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#conversations-rename").display = False
        self.refresh_list()
        self.query_one(OptionList).focus()

    def refresh_list(self, highlight: int | None = None) -> None:
        """Reload the list from the history, keeping the highlight near where it was."""
        options = self.query_one(OptionList)
        was = options.highlighted or 0
        found = self._listed()
        options.clear_options()
        options.add_options([Option(conversation_content(c, c.id == self.current), id=str(c.id)) for c in found])
        empty = self.query_one("#conversations-empty", Static)
        empty.update(Content.styled("No saved conversations about this index yet.", DIM))
        empty.display = not found
        if found:
            ids = [c.id for c in found]
            options.highlighted = ids.index(highlight) if highlight in ids else min(was, len(found) - 1)

    def _chosen(self) -> int | None:
        options = self.query_one(OptionList)
        if options.highlighted is None or options.option_count == 0:
            return None
        return int(options.get_option_at_index(options.highlighted).id or 0)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(int(event.option.id or 0))

    def action_close(self) -> None:
        rename = self.query_one("#conversations-rename", Input)
        if rename.display:
            rename.display = False
            self.query_one(OptionList).focus()
            return
        self.dismiss(None)

    def action_rename(self) -> None:
        chosen = self._chosen()
        if chosen is None:
            return
        rename = self.query_one("#conversations-rename", Input)
        title = next((c.title for c in self._listed() if c.id == chosen), "")
        rename.value = title
        rename.display = True
        rename.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        chosen = self._chosen()
        if chosen is None:
            return
        try:
            self.history.rename(chosen, event.value)
        except ValueError as exc:
            self.notify(str(exc), severity="warning", markup=False)
            return
        except sqlite3.Error as exc:
            self._failed(exc)
            return
        event.input.display = False
        self.refresh_list(chosen)
        self.query_one(OptionList).focus()

    def action_delete(self) -> None:
        chosen = self._chosen()
        if chosen is None:
            return
        if not self._try(lambda: self.history.delete(chosen)):
            return
        self.deleted.append(chosen)
        self.refresh_list()
        self.notify("Conversation deleted. Press u to undo.", title="Deleted", markup=False, timeout=6)

    def action_undo(self) -> None:
        if not self.deleted:
            self.notify("Nothing to undo.", severity="warning", markup=False)
            return
        restored = self.deleted[-1]
        if not self._try(lambda: self.history.undelete(restored)):
            return
        self.deleted.pop()
        self.refresh_list(restored)
        self.notify("Conversation restored.", markup=False)

    def _try(self, step: Callable[[], object]) -> bool:
        """Run a history step; a database error (another program holding a lock) is shown, not raised."""
        try:
            step()
        except sqlite3.Error as exc:
            self._failed(exc)
            return False
        return True

    def _listed(self) -> list[ConversationInfo]:
        try:
            return self.history.conversations(self.index)
        except sqlite3.Error as exc:
            self._failed(exc)
            return []

    def _failed(self, exc: sqlite3.Error) -> None:
        self.notify(f"The history could not be changed: {exc}. Try again in a moment.", severity="error",
                    markup=False, timeout=10)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Letter keys type into the rename box while it is open."""
        if not self.is_mounted:
            return True
        renaming = self.query_one("#conversations-rename").display
        if action in ("rename", "delete", "undo") and renaming:
            return False
        return True
