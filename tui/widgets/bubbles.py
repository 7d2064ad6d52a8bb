"""Transcript entries: a question, and its answer with numbered, clickable citations.

An answer reads from the top: a verdict line (answered or not found, with the one calibrated
figure), the first sentence prominent with its answer phrase marked, then the other sentences
compact, grouped under their article's title (shown once). A "Not found" answer shows at most two
closest sentences, folded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.containers import Vertical
from textual.content import Content
from textual.events import Click
from textual.widgets import Collapsible, Static

from qa.types import Answer, Sentence
from tui.messages import CitationSelected, TurnSelected
from tui.text import DIM, Mark, byline, literal, literal_with_marks, one_line, shown_sentences, verdict_words

LESS_RELATED_BELOW = 0.5
"""A sentence's score is its own estimated chance of answering the question; after the first, those under
an even chance are shown dim. (Not the declining threshold: that one is about the answer.)"""


class QuestionBubble(Static):
    """The question as the user typed it, shown literally."""

    def __init__(self, turn: int, question: str) -> None:
        super().__init__(Content.assemble(("You  ", "bold $accent"), literal(one_line(question))), markup=False)
        self.turn = turn
        self.question = question


def sentence_content(number: int, sentence: Sentence, *, mark_phrase: bool = True) -> Content:
    """``[n] sentence``, literal, with the answer phrase (when the sentence carries one) highlighted."""
    marks: list[Mark] = []
    has_span = sentence.span_start is not None and sentence.span_end is not None
    if mark_phrase and has_span and sentence.span_end > sentence.span_start:  # type: ignore[operator]
        marks.append(Mark(sentence.span_start, sentence.span_end, "bold underline"))  # type: ignore[arg-type]
    body = literal_with_marks(sentence.text.replace("\n", " "), marks, base=sentence.start)
    return Content.assemble((f"[{number}] ", "bold $accent"), body)


def meta_content(sentence: Sentence) -> Content:
    """Outlet · date · title (and syndicated copies), on one dim line."""
    meta = byline(sentence.source, sentence.published)
    parts: list[tuple[str, str]] = [
        (meta + " · " if meta else "", DIM),
        (one_line(sentence.title) or "(untitled)", f"italic {DIM}"),
    ]
    also = _also_in(sentence)
    if also:
        parts.append(("  · also in " + also, DIM))
    return Content.assemble(*parts)


def _also_in(sentence: Sentence) -> str:
    copies: Any = getattr(sentence, "also_in", None) or []
    names = []
    for copy in copies:
        get = copy.get if isinstance(copy, dict) else (lambda key, c=copy: getattr(c, key, None))
        names.append(byline(get("source"), get("published")) or one_line(get("article_id")))
    return "; ".join(n for n in names if n)


def reading_order(sentences: Sequence[Sentence]) -> list[list[int]]:
    """Citation numbers grouped by article: the first sentence's article first, then by first citation."""
    groups: dict[str, list[int]] = {}
    for number, sentence in enumerate(sentences, start=1):
        groups.setdefault(sentence.article_id, []).append(number)
    return list(groups.values())


class CitationLine(Static):
    """One cited sentence; clicking it opens the article at that sentence."""

    def __init__(self, turn: int, number: int, sentence: Sentence, *, classes: str = "") -> None:
        super().__init__(sentence_content(number, sentence), markup=False, classes=f"citation {classes}".strip())
        self.turn = turn
        self.number = number
        self.sentence = sentence
        self.tooltip = f"Open the article at [{number}] (or press {number} when not typing)"

    def on_click(self, event: Click) -> None:
        event.stop()
        self.post_message(CitationSelected(self.turn, self.number))


class ArticleLine(Static):
    """Outlet · date · title of the sentences above it (once per article)."""

    def __init__(self, sentence: Sentence) -> None:
        super().__init__(meta_content(sentence), markup=False, classes="citation-meta")


class AnswerBubble(Vertical):
    """An answer: pending, answered, declined ("Not found in the articles") or failed.

    It may be given its outcome before it is mounted (a reopened conversation): it then composes
    straight into the answer.
    """

    def __init__(self, turn: int, *, waiting: bool, weak_below: float = LESS_RELATED_BELOW) -> None:
        super().__init__(classes="answer -pending")
        self.turn = turn
        self.answer: Answer | None = None
        self.error: str | None = None
        self.weak_below = weak_below
        """Sentences after the first scoring under this are dim."""
        text = "Waiting for the index to load; your question will be answered then…" if waiting else "Reading…"
        self._head = Static(Content.styled(text, f"italic {DIM}"), markup=False, classes="answer-head")

    def compose(self) -> Any:
        if self.answer is not None:
            yield from self._answer_widgets(self.answer)
        elif self.error is not None:
            yield Static(literal(self.error, "$error"), markup=False, classes="answer-head")
        else:
            yield self._head

    def set_reading(self) -> None:
        """The question is being answered now."""
        self._head.update(Content.styled("Reading the articles…", f"italic {DIM}"))

    def show(self, answer: Answer) -> None:
        """Replace the placeholder with ``answer``."""
        self.answer = answer
        self.remove_class("-pending")
        self.add_class("-answered" if answer.answered else "-declined")
        if self.children:  # already composed (with the placeholder): replace it
            self.remove_children()
            self.mount_all(self._answer_widgets(answer))

    def show_error(self, message: str) -> None:
        """Replace the placeholder with an error line."""
        self.error = message
        self.remove_class("-pending")
        self.add_class("-error")
        if self.children:  # already composed (with the placeholder): replace it
            self.remove_children()
            self.mount(Static(literal(message, "$error"), markup=False, classes="answer-head"))

    def _answer_widgets(self, answer: Answer) -> list[Static | Collapsible]:
        head = Static(_head(answer), markup=False, classes="answer-head")
        if not answer.answered:
            return [head, self._closest(answer)] if answer.sentences else [head]
        widgets: list[Static | Collapsible] = [head]
        for group in reading_order(answer.sentences):
            for number in group:
                sentence = answer.sentences[number - 1]
                kind = "-first" if number == 1 else "-weak" if sentence.score < self.weak_below else ""
                widgets.append(CitationLine(self.turn, number, sentence, classes=kind))
            widgets.append(ArticleLine(answer.sentences[group[0] - 1]))
        return widgets

    def _closest(self, answer: Answer) -> Collapsible:
        shown = shown_sentences(answer)
        lines: list[Static] = []
        for number, sentence in enumerate(shown, start=1):
            lines.append(CitationLine(self.turn, number, sentence, classes="-weak"))
            lines.append(ArticleLine(sentence))
        title = f"the closest sentence{'s' if len(shown) > 1 else ''} (not an answer)"
        return Collapsible(*lines, title=title, collapsed=True, classes="closest")

    def on_click(self) -> None:
        if self.answer is not None:
            self.post_message(TurnSelected(self.turn))


def _head(answer: Answer) -> Content:
    words = verdict_words(answer.confidence, answer.answered)
    if answer.answered:
        verdict, _, rest = words.partition(" · ")
        return Content.assemble((verdict, "bold $success"), (" · " + rest, DIM))
    detail = "" if answer.sentences else " · no sentence matched the question"
    return Content.assemble((words, "bold $warning"), (detail, DIM))
