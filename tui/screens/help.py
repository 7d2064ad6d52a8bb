"""F1: what the keys do."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.text import DIM

KEYS = [
    ("Enter", "ask the question in the box (or run a /command)"),
    ("Up / Down", "earlier / later questions, also from earlier sessions"),
    ("Ctrl+N", "new conversation (the current one stays saved)"),
    ("Ctrl+L", "conversations: reopen, rename (r), delete (d, undo with u)"),
    ("1 … 9", "open citation [n] of the highlighted answer (outside the question box)"),
    ("Tab", "move between the question box, the answers and the sources"),
    ("Up/Down, Enter", "in the answers: pick a cited sentence, open it in its article"),
    ("click", "a sentence opens its article; an answer's verdict highlights that answer"),
    ("Esc", "back to the chat; in the chat, back to the question box"),
    ("n / p", "next / previous cited sentence (in an article)"),
    ("/ or Ctrl+F", "search inside an article (Enter: next match)"),
    ("Ctrl+Y", "copy one citation: the sentence under the cursor, else [1] (also saved to a file)"),
    ("Ctrl+S", "export the conversation to Markdown (the path is shown)"),
    ("Ctrl+O", "the sources of the highlighted answer"),
    ("Ctrl+P", "command palette: every action, and themes (the theme is kept)"),
    ("F1", "this help"),
    ("Ctrl+Q", "quit (the conversation is saved as you go)"),
]

COMMAND_HELP = [
    ("/source NAME", "only cite this outlet; again to add another; /source alone: any outlet"),
    ("/since DATE", "only articles from this day on (YYYY-MM-DD); /since alone: no bound"),
    ("/until DATE", "only articles up to this day"),
    ("/clear", "remove every filter (the bar above the question box shows them)"),
    ("/k N", "how many sentences an answer shows (1-20, kept for next time)"),
]

ABOUT = (
    "Answers are sentences quoted word for word from the indexed articles, numbered [1], [2], … and "
    "grouped under their article's outlet, date and title. The verdict line says \"Answer\" or \"Not found in "
    "the articles\". With an answer comes one figure: newsdesk's estimate, calibrated on held-out "
    "questions, of the chance that [1] answers the question (\"likely right\" from 75%, else \"possibly "
    "right\"). Under its declining threshold it says Not found instead, and folds away the two closest "
    "sentences, which are not an answer. The answer phrase inside [1] is underlined when the reader "
    "finds one; dim sentences are less related. Follow-up questions (\"Who ordered it?\") lean on the "
    "previous turn. Conversations and settings are kept in NEWSDESK_DATA_DIR (default: your user data folder)."
)


def help_content() -> Content:
    """The whole help as one text (keys, commands, the explanation), e.g. for a test or an export."""
    width = max(len(key) for key, _ in [*KEYS, *COMMAND_HELP])
    parts: list[tuple[str, str] | str] = [("newsdesk chat: keys\n\n", "bold")]
    for key, what in KEYS:
        parts += [(f"  {key:<{width}}  ", "bold $accent"), what + "\n"]
    parts.append(("\n" + COMMANDS_TITLE + "\n\n", "bold"))
    for key, what in COMMAND_HELP:
        parts += [(f"  {key:<{width}}  ", "bold $accent"), what + "\n"]
    parts += ["\n" + ABOUT + "\n\n", (CLOSE, DIM)]
    return Content.assemble(*parts)


COMMANDS_TITLE = "Commands (type them in the question box; Tab completes)"
CLOSE = "Esc or F1 closes this help."


def _table(rows: list[tuple[str, str]]) -> Grid:
    """Keys in one column, what they do in the other: long lines wrap inside their own column."""
    cells: list[Static] = []
    for key, what in rows:
        cells += [Static(Content.styled(key, "bold $accent"), classes="help-key"), Static(Content(what))]
    return Grid(*cells, classes="help-table")


class HelpScreen(ModalScreen[None]):
    """A modal list of keys."""

    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close help")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(Content.styled("newsdesk chat: keys", "bold"), classes="help-title")
            yield _table(KEYS)
            yield Static(Content.styled(COMMANDS_TITLE, "bold"), classes="help-title")
            yield _table(COMMAND_HELP)
            yield Static(Content(ABOUT), classes="help-about")
            yield Static(Content.styled(CLOSE, DIM))

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss()
