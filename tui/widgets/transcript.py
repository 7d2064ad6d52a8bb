"""The scrolling transcript of questions and answers, with a citation cursor when focused."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from tui.messages import CitationSelected
from tui.widgets.bubbles import AnswerBubble, CitationLine, QuestionBubble

WELCOME = (
    "Ask a question about the articles. Every answer is made of sentences quoted word for word, "
    "numbered [1], [2], … — click one, pick it in Sources, or press its number (when not typing) "
    "to read it in its article.\n"
    "F1 help · Ctrl+N new conversation · Ctrl+P commands"
)


class Transcript(VerticalScroll):
    """Questions and answers, newest at the bottom; follows new entries.

    When focused, Up/Down move a cursor over the cited sentences and Enter opens the one under it.
    """

    BINDINGS = [
        Binding("up", "move(-1)", "Previous sentence", show=False),
        Binding("down", "move(1)", "Next sentence", show=False),
        Binding("enter", "open", "Open in article"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cursor: CitationLine | None = None

    def compose(self) -> ComposeResult:
        yield Static(Content(WELCOME), markup=False, id="welcome")

    def on_mount(self) -> None:
        self.anchor()

    def add_turn(self, turn: int, question: str, *, waiting: bool) -> AnswerBubble:
        """Add the question and a placeholder for its answer; return the placeholder."""
        bubble = AnswerBubble(turn, waiting=waiting)
        self.mount(QuestionBubble(turn, question), bubble)
        return bubble

    def bubble(self, turn: int) -> AnswerBubble | None:
        """The answer bubble of ``turn``, if it is still shown."""
        for bubble in self.query(AnswerBubble):
            if bubble.turn == turn:
                return bubble
        return None

    def clear(self) -> None:
        """Remove every turn (a new conversation); the welcome text stays."""
        self._place(None)
        for widget in [*self.query(QuestionBubble), *self.query(AnswerBubble)]:
            widget.remove()

    def on_focus(self) -> None:
        lines = list(self.query(CitationLine))
        if lines and (self.cursor is None or self.cursor not in lines):
            latest = lines[-1].turn
            self._place(next(line for line in lines if line.turn == latest))

    def action_move(self, step: int) -> None:
        """Move the cursor to the previous or next cited sentence."""
        lines = list(self.query(CitationLine))
        if not lines:
            return
        index = lines.index(self.cursor) + step if self.cursor in lines else len(lines) - 1
        self._place(lines[min(max(index, 0), len(lines) - 1)])

    def action_open(self) -> None:
        """Open the sentence under the cursor in its article."""
        if self.cursor is not None:
            self.post_message(CitationSelected(self.cursor.turn, self.cursor.number))

    def _place(self, line: CitationLine | None) -> None:
        if self.cursor is not None:
            self.cursor.remove_class("-cursor")
        self.cursor = line
        if line is not None:
            line.add_class("-cursor")
            self.scroll_to_widget(line, animate=False)
