"""A one-line status: loading, ready, answering."""

from __future__ import annotations

from textual.widgets import Static

from tui.text import literal


class StatusLine(Static):
    """Shows what the app is doing; ``kind`` picks the colour (busy, ready, error)."""

    def set_status(self, text: str, kind: str = "ready") -> None:
        """Show ``text`` (literal) in the style of ``kind``."""
        for name in ("busy", "ready", "error"):
            self.set_class(name == kind, f"-{name}")
        self.update(literal(text))
