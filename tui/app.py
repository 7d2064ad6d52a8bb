"""``newsdesk chat``: the Textual app. Wires widgets, workers and screens; no rendering logic here."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Header

from qa.config import Settings
from qa.render import answer_text
from qa.types import Answer
from tui.export import conversation_markdown, export_path, write_text
from tui.messages import AnswerFailed, AnswerReady, AssistantFailed, AssistantReady, CitationSelected, TurnSelected
from tui.screens import ArticleScreen, Cited, HelpScreen, NoticeScreen
from tui.text import one_line
from tui.widgets import PromptInput, SourcesPanel, StatusLine, Transcript

AssistantFactory = Callable[[], Any]
"""Returns a loaded :class:`qa.Assistant` (called in a worker thread); tests pass a fake."""


LOADING = "Loading the model and index…"
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

CHAT_ACTIONS = frozenset({"new_conversation", "focus_sources", "export", "copy_answer", "cite", "focus_prompt"})
"""Actions that only make sense on the chat screen itself."""


@dataclass
class Turn:
    """One question of the conversation and, once known, its answer."""

    question: str
    epoch: int
    answer: Answer | None = None


class NewsdeskApp(App[None]):
    """Chat with the articles: questions in, cited sentences out."""

    CSS_PATH = str(Path(__file__).with_name("app.tcss"))
    TITLE = "newsdesk"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    BINDINGS = [
        Binding("ctrl+n", "new_conversation", "New chat"),
        Binding("ctrl+o", "focus_sources", "Sources"),
        Binding("ctrl+s", "export", "Export"),
        Binding("ctrl+y", "copy_answer", "Copy answer"),
        Binding("f1", "help", "Help"),
        Binding("escape", "focus_prompt", "Question box", show=False),
        *[Binding(str(n), f"cite({n})", f"Open [{n}]", show=False) for n in range(1, 10)],
    ]

    def __init__(
        self, factory: AssistantFactory, *, index_label: str = "", export_dir: Path | None = None
    ) -> None:
        super().__init__()
        self.factory = factory
        self.index_label = index_label
        self.export_dir = export_dir or Path.cwd()
        self.assistant: Any = None
        self.conversation: Any = None
        self.turns: list[Turn] = []
        self.epoch = 0
        self.current_turn: int | None = None
        self._pending: list[int] = []
        self._busy = False
        self._export_file: Path | None = None
        self.loading = True
        """True until the model and index have loaded (or failed to)."""

    def compose(self) -> ComposeResult:
        yield Header(icon="")
        with Horizontal(id="main"):
            yield Transcript(id="transcript")
            yield SourcesPanel(id="sources")
        yield StatusLine(id="status")
        yield PromptInput(id="prompt")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = one_line(self.index_label)
        self.status(LOADING, "busy")
        self.query_one(PromptInput).focus()
        self._load_started = time.monotonic()
        self._spinner = self.set_interval(0.2, self._tick_loading)
        # start loading once the first frame is out: the model import competes for the GIL
        self.call_after_refresh(self.set_timer, 0.05, self.load_assistant)

    # ---------------------------------------------------------------- workers

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def load_assistant(self) -> None:
        """Open the index and the model off the event loop."""
        from index.errors import IndexNotFoundError, NewsdeskError, NoArticlesError

        try:
            assistant = self.factory()
        except (IndexNotFoundError, NoArticlesError) as exc:
            self.post_message(AssistantFailed(str(exc), missing=True))
            return
        except NewsdeskError as exc:
            self.post_message(AssistantFailed(str(exc), missing=False))
            return
        except Exception as exc:  # noqa: BLE001 - shown on screen, never a traceback
            self.post_message(AssistantFailed(f"internal error: {type(exc).__name__}: {exc}", missing=False))
            return
        if not getattr(getattr(assistant, "data", None), "articles", None):
            self.post_message(AssistantFailed(f"the index at {self.index_label} holds no articles", missing=True))
            return
        self.post_message(AssistantReady(assistant))

    @work(thread=True, group="answer", exit_on_error=False)
    def answer_question(self, turn: int, epoch: int, question: str, conversation: Any) -> None:
        """Answer one question through the conversation, so follow-ups use earlier turns."""
        from index.errors import NewsdeskError

        try:
            answer = conversation.ask(question)
        except NewsdeskError as exc:
            self.post_message(AnswerFailed(turn, epoch, str(exc)))
        except Exception as exc:  # noqa: BLE001 - shown in the transcript
            self.post_message(AnswerFailed(turn, epoch, f"internal error: {type(exc).__name__}: {exc}"))
        else:
            self.post_message(AnswerReady(turn, epoch, answer))

    # ---------------------------------------------------------------- events

    def on_assistant_ready(self, message: AssistantReady) -> None:
        self.loading = False
        self._spinner.stop()
        self.assistant = message.assistant
        self.conversation = self.assistant.conversation()
        self.status(self._ready_text())
        self._pump()

    def on_assistant_failed(self, message: AssistantFailed) -> None:
        self.loading = False
        self._spinner.stop()
        self.status(message.error, "error")
        self.push_screen(NoticeScreen(self.index_label, message.error, missing=message.missing))

    def on_input_submitted(self, event: PromptInput.Submitted) -> None:
        question = event.value.strip()
        if not question:
            return
        prompt = self.query_one(PromptInput)
        prompt.remember(question)
        prompt.value = ""
        self.turns.append(Turn(question, self.epoch))
        turn = len(self.turns)
        self.query_one(Transcript).add_turn(turn, question, waiting=self.assistant is None)
        self._pending.append(turn)
        self._pump()

    def _pump(self) -> None:
        """Start answering the oldest waiting question, one at a time (turns stay in order)."""
        if self.assistant is None or self._busy or not self._pending:
            return
        turn = self._pending.pop(0)
        self._busy = True
        bubble = self.query_one(Transcript).bubble(turn)
        if bubble is not None:
            bubble.set_reading()
        self.status(f"Answering question {turn}…", "busy")
        self.answer_question(turn, self.epoch, self.turns[turn - 1].question, self.conversation)

    def on_answer_ready(self, message: AnswerReady) -> None:
        self._busy = False
        if message.epoch == self.epoch:
            self.turns[message.turn - 1].answer = message.answer
            bubble = self.query_one(Transcript).bubble(message.turn)
            if bubble is not None:
                bubble.show(message.answer)
            self._select_turn(message.turn)
            self.status(self._ready_text())
        self._pump()

    def on_answer_failed(self, message: AnswerFailed) -> None:
        self._busy = False
        if message.epoch == self.epoch:
            bubble = self.query_one(Transcript).bubble(message.turn)
            if bubble is not None:
                bubble.show_error(message.error)
            self.status(self._ready_text())
        self._pump()

    def on_citation_selected(self, message: CitationSelected) -> None:
        self.open_citation(message.turn, message.number)

    def on_turn_selected(self, message: TurnSelected) -> None:
        self._select_turn(message.turn)

    # ---------------------------------------------------------------- actions

    def action_new_conversation(self) -> None:
        """Forget the earlier turns: the next question starts a new conversation."""
        self.epoch += 1
        self.turns.clear()
        self._pending.clear()
        self.current_turn = None
        self._export_file = None
        self.query_one(Transcript).clear()
        self.query_one(SourcesPanel).clear()
        if self.assistant is not None:
            self.conversation = self.assistant.conversation()
        self.query_one(PromptInput).focus()
        self.status("New conversation. " + self._ready_text() if self.assistant else LOADING, "ready" if self.assistant else "busy")

    def action_cite(self, number: int) -> None:
        """Open citation ``number`` of the selected (by default the latest) answer."""
        if self.current_turn is None:
            self.notify("No answer yet: ask a question first.", severity="warning")
            return
        self.open_citation(self.current_turn, number)

    def open_citation(self, turn: int, number: int) -> None:
        """Show the article of citation ``number`` of ``turn``, scrolled to the sentence."""
        answer = self.turns[turn - 1].answer if 0 < turn <= len(self.turns) else None
        if answer is None or not 0 < number <= len(answer.sentences):
            self.notify(f"There is no citation [{number}] in that answer.", severity="warning", markup=False)
            return
        sentence = answer.sentences[number - 1]
        article = self._article(sentence.article_id)
        if article is None:
            self.notify("That article is no longer in the index.", severity="error", markup=False)
            return
        cited = [
            Cited(n, s.start, s.end)
            for n, s in enumerate(answer.sentences, start=1)
            if s.article_id == sentence.article_id
        ]
        self.push_screen(ArticleScreen(article, cited, number))

    def _article(self, article_id: str) -> Any:
        finder = getattr(self.assistant, "article", None)
        if callable(finder):
            return finder(article_id)
        return next((a for a in self.assistant.data.articles if a.id == article_id), None)

    def action_focus_prompt(self) -> None:
        self.query_one(PromptInput).focus()

    def action_focus_sources(self) -> None:
        self.query_one("#sources-list").focus()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_export(self) -> Path | None:
        """Write the conversation to Markdown and show where."""
        path = self._write_export()
        if path is not None:
            self.notify(f"Saved the conversation to {path}", title="Exported", markup=False, timeout=8)
        return path

    def action_copy_answer(self) -> None:
        """Copy the last answer to the clipboard (OSC 52), and save the conversation as a fallback."""
        answered = [t for t in self.turns if t.answer is not None]
        if not answered:
            self.notify("No answer to copy yet.", severity="warning")
            return
        self.copy_to_clipboard(answer_text(answered[-1].answer))  # type: ignore[arg-type]
        path = self._write_export()
        self.notify(
            f"Copied the last answer (if your terminal allows OSC 52). It is also in {path}",
            title="Copied",
            markup=False,
            timeout=8,
        )

    def _write_export(self) -> Path | None:
        if not self.turns:
            self.notify("Nothing to export yet: ask a question first.", severity="warning")
            return None
        if self._export_file is None:
            self._export_file = export_path(self.export_dir, datetime.now())
        text = conversation_markdown([(t.question, t.answer) for t in self.turns], self.index_label)
        try:
            return write_text(self._export_file, text)
        except OSError as exc:
            self.notify(f"Could not write {self._export_file}: {exc.strerror or exc}", severity="error", markup=False)
            return None

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("New conversation", "Forget earlier turns (Ctrl+N)", self.action_new_conversation)
        yield SystemCommand("Export conversation", "Save it as Markdown (Ctrl+S)", self.action_export)
        yield SystemCommand("Copy last answer", "To the clipboard, and the export file (Ctrl+Y)", self.action_copy_answer)
        yield SystemCommand("Sources", "Focus the sources panel (Ctrl+O)", self.action_focus_sources)
        yield SystemCommand("Help", "Keys and what they do (F1)", self.action_help)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Chat actions are hidden and off while an article, the help or a notice is showing."""
        if action in CHAT_ACTIONS and len(self.screen_stack) > 1:
            return False
        return True

    # ---------------------------------------------------------------- helpers

    def status(self, text: str, kind: str = "ready") -> None:
        self.query_one(StatusLine).set_status(text, kind)

    def _ready_text(self) -> str:
        count = len(getattr(getattr(self.assistant, "data", None), "articles", []) or [])
        return f"Ready · {count} article{'s' if count != 1 else ''} indexed · ask away"

    def _tick_loading(self) -> None:
        if not self.loading:
            return
        elapsed = time.monotonic() - self._load_started
        frame = SPINNER[int(elapsed * 5) % len(SPINNER)]
        waiting = f" · {len(self._pending)} question(s) waiting" if self._pending else ""
        self.status(f"{frame} {LOADING} {elapsed:.0f}s{waiting}", "busy")

    def _select_turn(self, turn: int) -> None:
        answer = self.turns[turn - 1].answer
        if answer is None:
            return
        self.current_turn = turn
        self.query_one(SourcesPanel).show(turn, answer)


def make_app(settings: Settings, *, export_dir: Path | None = None) -> NewsdeskApp:
    """The app over the index in ``settings`` (the model loads in a worker once it is showing)."""

    def factory() -> Any:
        from qa.assistant import Assistant

        return Assistant.open(settings=settings)

    return NewsdeskApp(factory, index_label=str(settings.index), export_dir=export_dir)


def run(settings: Settings) -> None:
    """Run the chat until the user quits (``newsdesk chat``).

    Quitting while the model is still loading does not wait for the loading thread (it cannot be
    interrupted and may take many seconds): the terminal is already restored, so exit at once.
    """
    app = make_app(settings)
    app.run()
    if app.loading:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(app.return_code or 0)
