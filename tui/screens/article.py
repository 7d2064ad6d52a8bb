"""The whole article, scrolled to a cited sentence, which is highlighted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from tui.text import Mark, byline, literal_with_marks, one_line, paragraphs

TARGET_STYLE = "bold $text on $accent 40%"
"""The sentence the user opened."""
OTHER_STYLE = "underline"
"""Other sentences of the same answer cited from this article."""


@dataclass(frozen=True, slots=True)
class Cited:
    """A cited sentence of the article: its citation number and offsets."""

    number: int
    start: int
    end: int


class ArticleParagraph(Static):
    """One paragraph of the article; ``cited`` when it holds the opened sentence."""


class ArticleScreen(Screen[None]):
    """Reads one article; Escape goes back to the chat."""

    BINDINGS = [
        Binding("escape", "back", "Back to chat"),
        Binding("n", "step(1)", "Next citation"),
        Binding("p", "step(-1)", "Previous citation"),
    ]

    def __init__(self, article: object, cited: Sequence[Cited], target: int) -> None:
        super().__init__()
        self.article = article
        self.cited = sorted(cited, key=lambda c: c.start)
        self.target = next((c for c in self.cited if c.number == target), self.cited[0] if self.cited else None)

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
            head.append(("\n" + meta, "$text-muted"))
        if url:
            head.append(("\n" + url, "$text-muted underline"))
        yield Static(Content.assemble(*head), markup=False, id="article-head")
        with VerticalScroll(id="article-body"):
            yield from self._paragraphs()
        yield Static(Content(self._where()), markup=False, id="article-where")
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
            content = literal_with_marks(paragraph.text, marks, base=paragraph.start)
            widgets.append(ArticleParagraph(content, markup=False, classes="-cited" if holds_target else ""))
        if not widgets:
            widgets.append(ArticleParagraph(Content("(this article has no text)"), markup=False))
        return widgets

    def _where(self) -> str:
        if self.target is None:
            return "Esc back to the chat"
        return (
            f"citation [{self.target.number}] · characters {self.target.start}-{self.target.end}"
            f" of {one_line(getattr(self.article, 'id', ''))} · Esc back"
        )

    def on_mount(self) -> None:
        self.call_after_refresh(self._scroll_to_target)

    def _scroll_to_target(self) -> None:
        target = self.query(".-cited").first(ArticleParagraph) if self.query(".-cited") else None
        if target is not None:
            self.query_one("#article-body", VerticalScroll).scroll_to_center(target, animate=False)
        self.query_one("#article-body").focus()

    def action_back(self) -> None:
        self.dismiss()

    def action_step(self, step: int) -> None:
        """Move the highlight to the next or previous cited sentence of this article."""
        if len(self.cited) < 2 or self.target is None:
            return
        index = (self.cited.index(self.target) + step) % len(self.cited)
        self.target = self.cited[index]
        body = self.query_one("#article-body", VerticalScroll)
        body.remove_children()
        body.mount_all(self._paragraphs())
        self.query_one("#article-where", Static).update(Content(self._where()))
        self.call_after_refresh(self._scroll_to_target)
