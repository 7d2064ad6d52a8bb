"""The scrolling transcript of questions and answers, with a citation cursor when focused.

It reads from the top: asking scrolls to the new question, and when its answer arrives the question
goes to the top of the view so the verdict and ``[1]`` are on screen, however long the answer. If the
user has scrolled away meanwhile, a marker says a new answer arrived instead of yanking the view.
Only the latest :data:`MAX_TURNS_SHOWN` turns stay on screen, so answer 100 shows as fast as answer 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.events import Click
from textual.geometry import Region
from textual.widgets import Collapsible, Static

from qa.types import Answer
from tui.messages import CitationSelected, ShowEarlier
from tui.text import DIM
from tui.widgets.bubbles import AnswerBubble, CitationLine, QuestionBubble

MAX_TURNS_SHOWN = 10
"""Older turns leave the screen (a click brings them back; they stay saved and in exports). Layout cost grows
with the widgets on screen: at 10 turns, answer 100 shows about as fast as answer 1."""

WELCOME = (
    "Ask a question about the articles. Every answer is made of sentences quoted word for word, "
    "numbered [1], [2], … — click one, or press its number (when not typing) to read it in its article.\n"
    "F1 help · /help filters and commands · Ctrl+L conversations"
)


Shown = tuple[int, str, Answer | None, str | None]
"""A turn to show whose outcome is known: number, question, answer, error."""


def _widgets(turns: Sequence[Shown]) -> list[QuestionBubble | AnswerBubble]:
    widgets: list[QuestionBubble | AnswerBubble] = []
    for turn, question, answer, error in turns:
        bubble = AnswerBubble(turn, waiting=False)
        if answer is not None:
            bubble.show(answer)
        else:
            bubble.show_error(error or "not answered (the chat closed first)")
        widgets += [QuestionBubble(turn, question), bubble]
    return widgets


class EarlierTurns(Static):
    """"N earlier questions not shown": clicking it (or Home in the transcript) brings some back."""

    def on_click(self, event: Click) -> None:
        event.stop()
        self.post_message(ShowEarlier())


class NewAnswerMarker(Static):
    """"New answer below": shown when an answer arrives while the user reads elsewhere."""

    def on_click(self, event: Click) -> None:
        event.stop()
        transcript = self.parent
        if isinstance(transcript, Transcript):
            transcript.jump_to_latest()


class Transcript(VerticalScroll):
    """Questions and answers, newest at the bottom.

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
        self.hidden_turns = 0
        """Turns before the first one shown (kept off screen over :data:`MAX_TURNS_SHOWN`)."""
        self.shown: list[int] = []
        """Numbers of the turns mounted, in order."""
        self._unseen: int | None = None
        self._following = False
        """A new question is being scrolled into view (so its answer will be shown from the top)."""

    def compose(self) -> ComposeResult:
        yield Static(Content(WELCOME), markup=False, id="welcome")
        yield Static("", markup=False, id="overview")
        yield EarlierTurns("", markup=False, id="hidden-turns")
        yield NewAnswerMarker("", markup=False, id="new-answer")

    def on_mount(self) -> None:
        self.query_one("#hidden-turns").display = False
        self.query_one("#new-answer").display = False
        self.query_one("#overview").display = False

    def set_overview(self, text: Content | None) -> None:
        """What the index holds and questions to try (None hides it)."""
        overview = self.query_one("#overview", Static)
        overview.update(text or "")
        overview.display = text is not None

    # ------------------------------------------------------------ turns

    def add_turn(self, turn: int, question: str, *, waiting: bool, follow: bool = True) -> AnswerBubble:
        """Add the question and a placeholder for its answer (scrolled into view); return the placeholder."""
        bubble = AnswerBubble(turn, waiting=waiting)
        self.mount(QuestionBubble(turn, question), bubble)
        self.shown.append(turn)
        self._trim()
        if follow:
            self._following = True
            self.call_after_refresh(self._follow)
        return bubble

    def _follow(self) -> None:
        self.scroll_end(animate=False, immediate=True)
        self._following = False

    def show_turns(self, turns: Sequence[Shown]) -> None:
        """Show turns whose outcome is known (a reopened conversation); those before them count as hidden."""
        widgets = _widgets(turns)
        if widgets:
            self.mount_all(widgets)
        self.shown.extend(t[0] for t in turns)
        self.hidden_turns = turns[0][0] - 1 if turns else 0
        self._note_hidden()

    def add_earlier(self, turns: Sequence[Shown]) -> None:
        """Bring back hidden turns (oldest first), above those shown; the view stays where it was."""
        questions = self.query(QuestionBubble)
        widgets = _widgets(turns)
        if questions:
            self.mount_all(widgets, before=questions.first())
        else:
            self.mount_all(widgets)
        self.shown[:0] = [t[0] for t in turns]
        self.hidden_turns = self.shown[0] - 1 if self.shown else 0
        self._note_hidden()

    def bubble(self, turn: int) -> AnswerBubble | None:
        """The answer bubble of ``turn``, if it is still shown."""
        for bubble in self.query(AnswerBubble):
            if bubble.turn == turn:
                return bubble
        return None

    def question(self, turn: int) -> QuestionBubble | None:
        """The question of ``turn``, if it is still shown."""
        for question in self.query(QuestionBubble):
            if question.turn == turn:
                return question
        return None

    def answered(self, turn: int) -> None:
        """``turn``'s answer is in: bring its question to the top, or flag it when the user looks elsewhere."""
        question = self.question(turn)
        if question is None:
            return
        if self._following or self._in_view(question) or self._at_end():
            self._unseen = None
            self.query_one("#new-answer").display = False
            self.call_after_refresh(self._show_from_top, turn)
        else:
            self._unseen = turn
            marker = self.query_one("#new-answer", Static)
            marker.update(Content.styled(f" ↓ New answer to question {turn} (click, or End) ", "bold reverse $accent"))
            marker.display = True

    def jump_to_latest(self) -> None:
        """Show the newest answer from its question."""
        turns = list(self.query(QuestionBubble))
        if turns:
            self._show_from_top(turns[-1].turn)

    def select(self, turn: int | None) -> None:
        """Mark the answer that number keys and Ctrl+Y act on."""
        for bubble in self.query(AnswerBubble):
            bubble.set_class(bubble.turn == turn, "-selected")

    def clear(self) -> None:
        """Remove every turn (another conversation); the welcome text stays."""
        self._place(None)
        self._unseen = None
        self.hidden_turns = 0
        self.shown = []
        self.query_one("#hidden-turns").display = False
        self.query_one("#new-answer").display = False
        for widget in [*self.query(QuestionBubble), *self.query(AnswerBubble)]:
            widget.remove()

    # ------------------------------------------------------------ cursor

    def lines(self) -> list[CitationLine]:
        """The cited sentences on screen (not those folded away), in reading order."""
        return [
            line
            for line in self.query(CitationLine)
            if not any(isinstance(a, Collapsible) and a.collapsed for a in line.ancestors)
        ]

    def on_focus(self) -> None:
        lines = self.lines()
        if lines and (self.cursor is None or self.cursor not in lines):
            latest = lines[-1].turn
            # the view stays put: a click on "earlier questions" must land there, not scroll away
            self._place(next(line for line in lines if line.turn == latest), scroll=False)

    def action_move(self, step: int) -> None:
        """Move the cursor to the previous or next cited sentence."""
        lines = self.lines()
        if not lines:
            return
        index = lines.index(self.cursor) + step if self.cursor in lines else len(lines) - 1
        self._place(lines[min(max(index, 0), len(lines) - 1)])

    def action_open(self) -> None:
        """Open the sentence under the cursor in its article."""
        if self.cursor is not None:
            self.post_message(CitationSelected(self.cursor.turn, self.cursor.number))

    def action_scroll_end(self) -> None:
        super().action_scroll_end()
        self._seen()

    # ------------------------------------------------------------ helpers

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self._unseen is not None:
            question = self.question(self._unseen)
            if question is None or self._in_view(question):
                self._seen()

    def _seen(self) -> None:
        self._unseen = None
        self.query_one("#new-answer").display = False

    def _show_from_top(self, turn: int) -> None:
        question = self.question(turn)
        if question is not None:
            # not immediate: after the next layout, when the answer's own height is known
            self.scroll_to_widget(question, top=True, animate=False)
        self._seen()

    def _in_view(self, widget: Static) -> bool:
        view = Region(0, round(self.scroll_y), self.scrollable_content_region.width, self.scrollable_content_region.height)
        return view.overlaps(widget.virtual_region)

    def _at_end(self) -> bool:
        return self.scroll_y >= self.max_scroll_y - 1

    def _trim(self) -> None:
        """Keep only the latest :data:`MAX_TURNS_SHOWN` turns mounted."""
        extra = len(self.shown) - MAX_TURNS_SHOWN
        if extra <= 0:
            return
        gone = set(self.shown[:extra])
        del self.shown[:extra]
        if self.cursor is not None and self.cursor.turn in gone:
            self._place(None)
        for widget in [*self.query(QuestionBubble), *self.query(AnswerBubble)]:
            if widget.turn in gone:
                widget.remove()
        self.hidden_turns = self.shown[0] - 1
        self._note_hidden()

    def _note_hidden(self) -> None:
        note = self.query_one("#hidden-turns", Static)
        count = self.hidden_turns
        note.update(
            Content.assemble(
                (f"▲ {count} earlier question{'s' if count > 1 else ''} not shown. ", f"italic {DIM}"),
                ("Click here to show them", f"underline {DIM}"),
                (" (kept off screen so the chat stays quick).", f"italic {DIM}"),
            )
        )
        note.display = count > 0

    def _place(self, line: CitationLine | None, *, scroll: bool = True) -> None:
        if self.cursor is not None:
            self.cursor.remove_class("-cursor")
        self.cursor = line
        if line is not None:
            line.add_class("-cursor")
            if scroll:
                self.scroll_to_widget(line, animate=False)
