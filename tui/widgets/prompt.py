"""The question box: an Input with history on Up/Down and completion of /commands on Tab."""

from __future__ import annotations

from typing import Any

from textual.binding import Binding
from textual.widgets import Input


class PromptInput(Input):
    """Where questions are typed. Up/Down walk through earlier questions, like a shell."""

    BINDINGS = [
        Binding("up", "history(-1)", "Earlier question", show=False),
        Binding("down", "history(1)", "Later question", show=False),
        Binding("tab", "complete", "Complete", show=False),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(placeholder="Ask about the articles…  (Enter to ask, Up/Down for history)", **kwargs)
        self.history: list[str] = []
        self._cursor = 0
        self._draft = ""

    def recall(self, questions: list[str]) -> None:
        """Start the history with ``questions`` (saved from earlier sessions), oldest first."""
        self.history = [q for n, q in enumerate(questions) if n == 0 or questions[n - 1] != q]
        self._cursor = len(self.history)

    def remember(self, question: str) -> None:
        """Add ``question`` to the history (not twice in a row) and reset the cursor."""
        if not self.history or self.history[-1] != question:
            self.history.append(question)
        self._cursor = len(self.history)
        self._draft = ""

    def action_complete(self) -> None:
        """Tab: take the greyed-out completion (a /command or an outlet name); without one, next widget."""
        suggestion = self._suggestion
        if suggestion and len(suggestion) > len(self.value) and self.cursor_at_end:
            self.value = suggestion
            self.cursor_position = len(self.value)
        else:
            self.screen.focus_next()

    def action_history(self, step: int) -> None:
        """Show the previous (-1) or next (+1) question; past the newest, the unsent draft."""
        if not self.history:
            return
        if self._cursor == len(self.history):
            self._draft = self.value
        target = min(max(self._cursor + step, 0), len(self.history))
        if target == self._cursor:
            return
        self._cursor = target
        self.value = self._draft if target == len(self.history) else self.history[target]
        self.cursor_position = len(self.value)
