"""The scrolling transcript of questions and answers."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from tui.widgets.bubbles import AnswerBubble, QuestionBubble

WELCOME = (
    "Ask a question about the articles. Every answer is made of sentences quoted word for word, "
    "numbered [1], [2], … — click one, pick it in Sources, or press its number (when not typing) "
    "to read it in its article.\n"
    "F1 help · Ctrl+N new conversation · Ctrl+P commands"
)


class Transcript(VerticalScroll):
    """Questions and answers, newest at the bottom; follows new entries."""

    def compose(self):  # type: ignore[no-untyped-def]
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
        for widget in [*self.query(QuestionBubble), *self.query(AnswerBubble)]:
            widget.remove()
