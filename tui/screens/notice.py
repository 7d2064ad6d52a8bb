"""Shown instead of the chat when there is no usable index: says how to build one."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from tui.text import DIM, one_line


def notice_content(index_dir: str, error: str, missing: bool) -> Content:
    """The explanation: what is wrong and the command that fixes it."""
    where = one_line(index_dir) or ".newsdesk"
    if missing:
        head = "No articles to chat about yet"
        fix = (
            "Build an index from a folder of articles (.txt, .md, .json, .jsonl, .html), then start the chat again:\n\n"
            f"    newsdesk index PATH --index {where}\n"
            "    newsdesk chat --index " + where + "\n\n"
            "For example, from the repository: newsdesk index corpus/   (or simply: make chat)"
        )
    else:
        head = "The index cannot be opened"
        fix = (
            "Rebuild it from your articles, then start the chat again:\n\n"
            f"    newsdesk index PATH --index {where}"
        )
    return Content.assemble(
        (head + "\n\n", "bold $warning"),
        (one_line(error) + "\n\n", DIM),
        fix,
        ("\n\nCtrl+Q or q quits.", DIM),
    )


class NoticeScreen(Screen[None]):
    """No index, an empty index, or one that cannot be read."""

    BINDINGS = [Binding("q,escape", "app.quit", "Quit")]

    def __init__(self, index_dir: str, error: str, *, missing: bool) -> None:
        super().__init__()
        self.index_dir = index_dir
        self.error = error
        self.missing = missing

    def compose(self) -> ComposeResult:
        with VerticalScroll(), Center():
            yield Static(notice_content(self.index_dir, self.error, self.missing), markup=False, id="notice")
        yield Footer()
