"""The whole article, scrolled to a cited sentence, which is highlighted."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from tui.text import DIM, Mark, byline, literal_with_marks, one_line, paragraphs

TARGET_STYLE = "bold $text on $accent 40%"
"""The sentence the user opened."""
OTHER_STYLE = "underline"
"""Other sentences of the same answer cited from this article."""
MATCH_STYLE = "reverse"
"""Matches of the search term (``/`` or Ctrl+F)."""
CURRENT_MATCH_STYLE = "bold reverse $warning"


@dataclass(frozen=True, slots=True)
class Cited:
    """A cited sentence of the article: its citation number and offsets."""

    number: int
    start: int
    end: int


class ArticleParagraph(Static):
    """One paragraph of the article; ``cited`` when it holds the opened sentence."""

    span: tuple[int, int] | None = None
    """Its offsets in the article text."""


class ArticleScreen(Screen[None]):
    """Reads one article; Escape goes back to the chat."""

    BINDINGS = [
        Binding("escape", "back", "Back to chat"),
        Binding("n", "step(1)", "Next citation"),
        Binding("p", "step(-1)", "Previous citation"),
        Binding("slash,ctrl+f", "search", "Search"),
    ]

    def __init__(self, article: object, cited: Sequence[Cited], target: int) -> None:
        super().__init__()
        self.article = article
        self.cited = sorted(cited, key=lambda c: c.start)
        self.target = next((c for c in self.cited if c.number == target), self.cited[0] if self.cited else None)
        self.term = ""
        """What the search box looks for (case-insensitive); empty: no search."""
        self.matches: list[int] = []
        """Offsets in the article text where :attr:`term` starts."""
        self.match = -1
        """Index in :attr:`matches` of the current match (-1: none)."""

    @property
    def highlighted(self) -> tuple[int, int] | None:
        """Offsets of the highlighted sentence in the article text."""
        return (self.target.start, self.target.end) if self.target else None

    def compose(self) -> ComposeResult:
        article = self.article
        title = one_line(getattr(article, "title", "")) or "(untitled)"
        meta = byline(getattr(article, "source", None), getattr(article, "published", None))
        url = one_line(getattr(article, "url", None))
        head = [(title, "bold")]
        if meta:
            head.append(("\n" + meta, DIM))
        if url:
            head.append(("\n" + url, f"{DIM} underline"))
        yield Static(Content.assemble(*head), markup=False, id="article-head")
        with VerticalScroll(id="article-body"):
            yield from self._paragraphs()
        yield Static(Content(self._where()), markup=False, id="article-where")
        yield Input(placeholder="Search this article (Enter: next match, Esc: close)", id="article-search")
        yield Footer()

    def _paragraphs(self) -> list[ArticleParagraph]:
        text = str(getattr(self.article, "text", ""))
        widgets = []
        for paragraph in paragraphs(text):
            marks = []
            holds_target = False
            for cite in self.cited:
                if cite.end <= paragraph.start or cite.start >= paragraph.end:
                    continue
                is_target = cite is self.target
                holds_target = holds_target or is_target
                marks.append(Mark(cite.start, cite.end, TARGET_STYLE if is_target else OTHER_STYLE))
            for n, at in enumerate(self.matches):
                if paragraph.start <= at < paragraph.end:
                    style = CURRENT_MATCH_STYLE if n == self.match else MATCH_STYLE
                    marks.append(Mark(at, min(at + len(self.term), paragraph.end), style))
            content = literal_with_marks(paragraph.text, marks, base=paragraph.start)
            widget = ArticleParagraph(content, markup=False, classes="-cited" if holds_target else "")
            widget.span = (paragraph.start, paragraph.end)
            widgets.append(widget)
        if not widgets:
            widgets.append(ArticleParagraph(Content("(this article has no text)"), markup=False))
        return widgets

    def _where(self) -> str:
        if self.term:
            found = f"match {self.match + 1} of {len(self.matches)}" if self.matches else "no match"
            return f"{found} for {one_line(self.term)!r} · Enter next · Esc closes the search"
        if self.target is None:
            return "Esc back to the chat"
        return (
            f"citation [{self.target.number}] · characters {self.target.start}-{self.target.end}"
            f" of {one_line(getattr(self.article, 'id', ''))} · Esc back"
        )

    def on_mount(self) -> None:
        self.query_one("#article-search").display = False
        self.call_after_refresh(self._scroll_to_target)

    def _scroll_to_target(self) -> None:
        target = self.query(".-cited").first(ArticleParagraph) if self.query(".-cited") else None
        if target is not None:
            self.query_one("#article-body", VerticalScroll).scroll_to_center(target, animate=False)
        self.query_one("#article-body").focus()

    def action_back(self) -> None:
        search = self.query_one("#article-search", Input)
        if search.display:
            search.display = False
            self.term, self.matches, self.match = "", [], -1
            self._redraw()
            self.query_one("#article-body").focus()
            return
        self.dismiss()

    def action_search(self) -> None:
        """Open the search box."""
        search = self.query_one("#article-search", Input)
        search.display = True
        search.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter: search for a new term, or move to the next match of the same one."""
        event.stop()
        term = event.value.strip()
        if not term:
            return
        if term != self.term:
            self.term = term
            self.matches = _find_all(str(getattr(self.article, "text", "")), term)
            self.match = 0 if self.matches else -1
        elif self.matches:
            self.match = (self.match + 1) % len(self.matches)
        self._redraw()
        if self.matches:
            self.call_after_refresh(self._scroll_to_match)

    def _scroll_to_match(self) -> None:
        at = self.matches[self.match]
        for widget in self.query(ArticleParagraph):
            span = getattr(widget, "span", None)
            if span is not None and span[0] <= at < span[1]:
                self.query_one("#article-body", VerticalScroll).scroll_to_center(widget, animate=False)
                return

    def _redraw(self) -> None:
        body = self.query_one("#article-body", VerticalScroll)
        body.remove_children()
        body.mount_all(self._paragraphs())
        self.query_one("#article-where", Static).update(Content(self._where()))

    def action_step(self, step: int) -> None:
        """Move the highlight to the next or previous cited sentence of this article."""
        if len(self.cited) < 2 or self.target is None:
            return
        index = (self.cited.index(self.target) + step) % len(self.cited)
        self.target = self.cited[index]
        self._redraw()
        self.call_after_refresh(self._scroll_to_target)


def _find_all(text: str, term: str) -> list[int]:
    """Every offset where ``term`` starts in ``text``, ignoring case (offsets are the text's own)."""
    return [m.start() for m in re.finditer(re.escape(term), text, re.IGNORECASE)]
