"""The sources panel: the articles cited by the selected answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from qa.types import Answer, Sentence
from tui.messages import CitationSelected
from tui.text import DIM, byline, one_line, shown_sentences

EMPTY = "The articles cited by the latest answer are listed here. Enter opens one at its sentence."


@dataclass(frozen=True, slots=True)
class Source:
    """One cited article and the citation numbers that point into it."""

    article_id: str
    numbers: tuple[int, ...]
    sentence: Sentence
    """The first cited sentence of the article (for its title, outlet, date and url)."""


def group_sources(sentences: list[Sentence]) -> list[Source]:
    """The distinct articles of ``sentences`` (numbered from 1), in order of first citation."""
    order: dict[str, list[int]] = {}
    first: dict[str, Sentence] = {}
    for number, sentence in enumerate(sentences, start=1):
        order.setdefault(sentence.article_id, []).append(number)
        first.setdefault(sentence.article_id, sentence)
    return [Source(aid, tuple(nums), first[aid]) for aid, nums in order.items()]


def source_content(source: Source) -> Content:
    """``[1] [3] Title`` / outlet · date / url, all literal."""
    marks = " ".join(f"[{n}]" for n in source.numbers)
    sentence = source.sentence
    parts: list[tuple[str, str]] = [
        (marks + " ", "bold $accent"),
        (one_line(sentence.title) or "(untitled)", "bold"),
    ]
    meta = byline(sentence.source, sentence.published)
    if meta:
        parts.append(("\n" + meta, DIM))
    if sentence.url:
        parts.append(("\n" + one_line(sentence.url), f"{DIM} underline"))
    return Content.assemble(*parts)


class SourcesPanel(Vertical):
    """Cited articles of one answer; selecting one opens it at its first cited sentence."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.turn: int | None = None
        self.sources: list[Source] = []

    def compose(self) -> ComposeResult:
        yield Static(Content.styled("Sources", "bold"), markup=False, id="sources-title")
        yield Static(Content(EMPTY), markup=False, id="sources-empty")
        yield OptionList(id="sources-list")

    def show(self, turn: int, answer: Answer) -> None:
        """List the articles cited by ``answer`` (turn ``turn``)."""
        self.turn = turn
        self.sources = group_sources(shown_sentences(answer))
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(source_content(s), id=f"{turn}:{s.numbers[0]}") for s in self.sources])
        if self.sources:
            options.highlighted = 0
        title = "Sources" if answer.answered else "Closest sources (not an answer)"
        self.query_one("#sources-title", Static).update(Content.styled(f"{title} · question {turn}", "bold"))
        self.query_one("#sources-empty").display = not self.sources

    def clear(self) -> None:
        """Back to the empty state (a new conversation)."""
        self.turn = None
        self.sources = []
        self.query_one(OptionList).clear_options()
        self.query_one("#sources-title", Static).update(Content.styled("Sources", "bold"))
        self.query_one("#sources-empty").display = True

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        turn, number = (int(part) for part in (event.option.id or "0:0").split(":"))
        self.post_message(CitationSelected(turn, number))
