"""F1: what the keys do."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = [
    ("Enter", "ask the question in the box"),
    ("Up / Down", "earlier / later questions (history)"),
    ("Ctrl+N", "new conversation (follow-ups start afresh)"),
    ("1 … 9", "open citation [n] of the selected answer (outside the question box)"),
    ("Tab", "move between the question box, the answers and the sources"),
    ("Up/Down, Enter", "in the answers: pick a cited sentence, open it in its article"),
    ("Enter in Sources", "open the article at its cited sentence"),
    ("click a sentence", "open it in its article"),
    ("Esc", "back to the chat; in the chat, back to the question box"),
    ("n / p", "next / previous cited sentence (in an article)"),
    ("Ctrl+S", "export the conversation to Markdown (the path is shown)"),
    ("Ctrl+Y", "copy the last answer (OSC 52; also saved in the export file)"),
    ("Ctrl+O", "focus the sources panel"),
    ("Ctrl+P", "command palette: every action, and themes"),
    ("F1", "this help"),
    ("Ctrl+Q", "quit"),
]

ABOUT = (
    "Answers are sentences quoted word for word from the indexed articles. "
    "[n] markers number them; the outlet, date and title follow each one. "
    "When the articles do not hold the answer you see \"Not found in the articles\" and the "
    "closest sentences. Follow-up questions (\"Who ordered it?\") lean on the previous turn."
)


def help_content() -> Content:
    """The key table and a short explanation."""
    width = max(len(key) for key, _ in KEYS)
    parts: list[tuple[str, str] | str] = [("newsdesk chat: keys\n\n", "bold")]
    for key, what in KEYS:
        parts.append((f"  {key:<{width}}  ", "bold $accent"))
        parts.append(what + "\n")
    parts.append("\n" + ABOUT + "\n\n")
    parts.append(("Esc or F1 closes this help.", "$text-muted"))
    return Content.assemble(*parts)


class HelpScreen(ModalScreen[None]):
    """A modal list of keys."""

    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close help")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(help_content(), markup=False)

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss()
