"""Transcript entries: a question, and its answer with numbered, clickable citations."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.events import Click
from textual.widgets import Static

from qa.types import Answer, Sentence
from tui.messages import CitationSelected, TurnSelected
from tui.text import Mark, byline, confidence_label, literal, literal_with_marks, one_line

LESS_RELATED_BELOW = 0.5
"""A sentence's score is its own estimated chance of answering the question; after the first, those under
an even chance are shown muted as "less related". (Not the declining threshold: that one is about the answer.)"""

class QuestionBubble(Static):
    """The question as the user typed it, shown literally."""

    def __init__(self, turn: int, question: str) -> None:
        super().__init__(Content.assemble(("You  ", "bold $accent"), literal(one_line(question))), markup=False)
        self.turn = turn
        self.question = question


def sentence_content(number: int, sentence: Sentence) -> Content:
    """``[n] sentence``, literal, with the answer phrase (when the sentence carries one) in bold."""
    marks: list[Mark] = []
    if sentence.span_start is not None and sentence.span_end is not None and sentence.span_end > sentence.span_start:
        marks.append(Mark(sentence.span_start, sentence.span_end, "bold underline"))
    body = literal_with_marks(sentence.text.replace("\n", " "), marks, base=sentence.start)
    return Content.assemble((f"[{number}] ", "bold $accent"), body)


def meta_content(sentence: Sentence) -> Content:
    """Outlet · date · title (and syndicated copies), on one dim line under the sentence."""
    meta = byline(sentence.source, sentence.published)
    parts: list[tuple[str, str]] = [
        (meta + " · " if meta else "", "$text-muted"),
        (one_line(sentence.title) or "(untitled)", "italic $text-muted"),
    ]
    also = _also_in(sentence)
    if also:
        parts.append(("  · also in " + also, "$text-muted"))
    return Content.assemble(*parts)


def _also_in(sentence: Sentence) -> str:
    copies: Any = getattr(sentence, "also_in", None) or []
    names = []
    for copy in copies:
        get = copy.get if isinstance(copy, dict) else (lambda key, c=copy: getattr(c, key, None))
        names.append(byline(get("source"), get("published")) or one_line(get("article_id")))
    return "; ".join(n for n in names if n)


class CitationLine(Vertical):
    """One cited sentence and where it is from; clicking it opens the article at that sentence."""

    def __init__(self, turn: int, number: int, sentence: Sentence) -> None:
        super().__init__(classes="citation")
        self.turn = turn
        self.number = number
        self.sentence = sentence
        self.tooltip = f"Open the article at [{number}] (or press {number} when not typing)"

    def compose(self) -> ComposeResult:
        yield Static(sentence_content(self.number, self.sentence), markup=False, classes="citation-text")
        yield Static(meta_content(self.sentence), markup=False, classes="citation-meta")

    def on_click(self, event: Click) -> None:
        event.stop()
        self.post_message(CitationSelected(self.turn, self.number))


class AnswerBubble(Vertical):
    """An answer: pending, answered, declined ("Not found in the articles") or failed."""

    def __init__(self, turn: int, *, waiting: bool) -> None:
        super().__init__(classes="answer -pending")
        self.turn = turn
        self.answer: Answer | None = None
        text = "Waiting for the index to load; your question will be answered then…" if waiting else "Reading…"
        self._head = Static(Content.styled(text, "italic $text-muted"), markup=False, classes="answer-head")

    def compose(self) -> ComposeResult:
        yield self._head

    def set_reading(self) -> None:
        """The question is being answered now."""
        self._head.update(Content.styled("Reading the articles…", "italic $text-muted"))

    def show(self, answer: Answer, weak_below: float = LESS_RELATED_BELOW) -> None:
        """Replace the placeholder with ``answer``; sentences scoring under ``weak_below`` are muted."""
        self.answer = answer
        self.remove_children()
        self.remove_class("-pending")
        self.add_class("-answered" if answer.answered else "-declined")
        widgets: list[Static | CitationLine] = [Static(_head(answer), markup=False, classes="answer-head")]
        weak_seen = False
        for number, sentence in enumerate(answer.sentences, start=1):
            line = CitationLine(self.turn, number, sentence)
            if answer.answered and number > 1 and sentence.score < weak_below:
                line.add_class("-weak")
                if not weak_seen:
                    widgets.append(Static(Content.styled("less related:", "italic $text-muted"), classes="weak-label"))
                    weak_seen = True
            widgets.append(line)
        self.mount_all(widgets)

    def show_error(self, message: str) -> None:
        """Replace the placeholder with an error line."""
        self.remove_children()
        self.remove_class("-pending")
        self.add_class("-error")
        self.mount(Static(literal(message, "$error"), markup=False, classes="answer-head"))

    def on_click(self) -> None:
        if self.answer is not None:
            self.post_message(TurnSelected(self.turn))


def _head(answer: Answer) -> Content:
    cue = f"confidence {confidence_label(answer.confidence, answer.answered)} ({answer.confidence:.2f})"
    if answer.answered:
        return Content.assemble(("Answer", "bold $success"), ("   " + cue, "$text-muted"))
    if not answer.sentences:
        return Content.assemble(
            ("Not found in the articles", "bold $warning"), ("   no sentence matched the question", "$text-muted")
        )
    return Content.assemble(
        ("Not found in the articles", "bold $warning"), (f"   closest sentences, {cue}", "$text-muted")
    )
