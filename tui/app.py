"""``newsdesk chat``: the Textual app. Wires widgets, workers, screens and the saved history."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from textual import events, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.screen import Screen
from textual.theme import Theme
from textual.widgets import Footer, Header, Static

from qa.config import Settings
from qa.types import Answer
from tui.commands import ChatFilters, Command, CommandError, CommandSuggester, apply_filter, parse_command, parse_k
from tui.export import conversation_markdown, export_path, write_text
from tui.history import History
from tui.messages import (
    AnswerFailed,
    AnswerReady,
    AssistantFailed,
    AssistantReady,
    CitationSelected,
    ShowEarlier,
    TurnSelected,
)
from tui.overview import outlets_of, overview_content
from tui.screens import ArticleScreen, Cited, ConversationsScreen, HelpScreen, NoticeScreen
from tui.text import DIM, citation_text, one_line, shown_sentences
from tui.widgets import PromptInput, SourcesPanel, StatusLine, Transcript
from tui.widgets.transcript import MAX_TURNS_SHOWN

AssistantFactory = Callable[[], Any]
"""Returns a loaded :class:`qa.Assistant` (called in a worker thread); tests pass a fake."""


LOADING = "Loading the model and index…"
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
CLIPBOARD_FILE = "newsdesk-citation.txt"
"""Where Ctrl+Y also writes the citation (in the export folder), for terminals that drop OSC 52."""

CHAT_ACTIONS = frozenset(
    {"new_conversation", "focus_sources", "export", "copy_citation", "cite", "focus_prompt", "conversations"}
)
"""Actions that only make sense on the chat screen itself."""


@dataclass
class Turn:
    """One question of the conversation and, once known, its answer."""

    question: str
    epoch: int
    answer: Answer | None = None
    error: str | None = None
    conversation: int | None = None
    """The saved conversation it belongs to."""
    saved: int | None = None
    """Its turn number in the saved conversation."""
    options: dict[str, Any] = field(default_factory=dict)
    """``k`` and the filters in force when it was asked."""


class NewsdeskApp(App[None]):
    """Chat with the articles: questions in, cited sentences out; conversations saved between runs."""

    CSS_PATH = str(Path(__file__).with_name("app.tcss"))
    TITLE = "newsdesk"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    BINDINGS = [
        Binding("ctrl+n", "new_conversation", "New"),
        Binding("ctrl+l", "conversations", "Chats"),
        Binding("ctrl+o", "focus_sources", "Sources"),
        Binding("ctrl+s", "export", "Export"),
        Binding("ctrl+y", "copy_citation", "Copy", show=False),
        Binding("f1", "help", "Help"),
        Binding("escape", "focus_prompt", "Question box", show=False),
        *[Binding(str(n), f"cite({n})", f"Open [{n}]", show=False) for n in range(1, 10)],
    ]

    def __init__(
        self,
        factory: AssistantFactory,
        *,
        index_label: str = "",
        export_dir: Path | None = None,
        history: History | None = None,
        data_dir: Path | None = None,
        top_k: int | None = None,
    ) -> None:
        super().__init__()
        self.factory = factory
        self.index_label = index_label
        self.export_dir = export_dir or Path.cwd()
        self.history = history
        """Saved conversations; opened on mount (under ``data_dir``) when not given."""
        self._data_dir = data_dir
        self.top_k = top_k
        """Sentences per answer chosen explicitly (NEWSDESK_TOP_K); else the saved ``/k``, else the default."""
        self.assistant: Any = None
        self.conversation: Any = None
        self.conversation_id: int | None = None
        """Saved conversation being continued (None until the first question of a new one)."""
        self.turns: list[Turn] = []
        self.epoch = 0
        self.current_turn: int | None = None
        self.filters = ChatFilters()
        self.outlets: list[str] = []
        self._suggester = CommandSuggester()
        self._pending: list[int] = []
        self._busy = False
        self._export_file: Path | None = None
        self.loading = True
        """True until the model and index have loaded (or failed to)."""

    @property
    def index_key(self) -> str:
        """What saved conversations are tied to: the index folder, resolved (a database: its URL, no password)."""
        from index.location import describe, is_database

        if is_database(self.index_label):
            return describe(self.index_label)
        try:
            return str(Path(self.index_label).resolve())
        except (OSError, RuntimeError):
            return self.index_label

    def compose(self) -> ComposeResult:
        yield Header(icon="")
        with Horizontal(id="main"):
            yield Transcript(id="transcript")
            yield SourcesPanel(id="sources")
        yield Static("", markup=False, id="filters")
        yield StatusLine(id="status")
        yield PromptInput(id="prompt", suggester=self._suggester)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = one_line(self.index_label)
        self.status(LOADING, "busy")
        self.query_one("#filters").display = False
        self.query_one(PromptInput).focus()
        self._open_history()
        self._load_started = time.monotonic()
        self._spinner = self.set_interval(0.2, self._tick_loading)
        # start loading once the first frame is out: the model import competes for the GIL
        self.call_after_refresh(self.set_timer, 0.05, self.load_assistant)

    def _open_history(self) -> None:
        if self.history is None:
            self.history = History.open(self._data_dir)
        history = self.history
        if history.notice:
            self.notify(history.notice, title="History", severity="warning", markup=False, timeout=15)
        try:
            history.purge(older_than_s=3600)
            theme = history.setting("theme")
            if isinstance(theme, str) and theme in self.available_themes:
                self.theme = theme
            saved_k = history.setting("k")
            if self.top_k is None and isinstance(saved_k, int) and saved_k > 0:
                self.top_k = saved_k
            latest = history.latest(self.index_key)
            self.query_one(PromptInput).recall(history.recent_questions(self.index_key))
        except Exception as exc:  # noqa: BLE001 - history must never stop the chat from opening
            self._history_failed(exc)
            latest = None
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        if latest is not None:
            self._reopen(latest.id)

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
    def answer_question(self, turn: int, epoch: int, item: Turn, conversation: Any) -> None:
        """Answer one question through the conversation, so follow-ups use earlier turns."""
        from index.errors import NewsdeskError

        try:
            answer = conversation.ask(item.question, **item.options)
        except NewsdeskError as exc:
            self.post_message(AnswerFailed(turn, epoch, str(exc), item))
        except Exception as exc:  # noqa: BLE001 - shown in the transcript
            self.post_message(AnswerFailed(turn, epoch, f"internal error: {type(exc).__name__}: {exc}", item))
        else:
            self.post_message(AnswerReady(turn, epoch, answer, item))

    # ---------------------------------------------------------------- events

    def on_assistant_ready(self, message: AssistantReady) -> None:
        self.loading = False
        self._spinner.stop()
        self.assistant = message.assistant
        self._fresh_conversation()
        articles = list(getattr(self.assistant.data, "articles", []) or [])
        self.outlets = outlets_of(articles)
        self._suggester.outlets = self.outlets
        transcript = self.query_one(Transcript)
        transcript.set_overview(overview_content(articles))
        if self.turns and not self._pending:  # the overview pushed a reopened conversation down
            transcript.call_after_refresh(transcript.jump_to_latest)
        self.status(self._ready_text())
        self._pump()

    def on_assistant_failed(self, message: AssistantFailed) -> None:
        self.loading = False
        self._spinner.stop()
        self.status(message.error, "error")
        self.push_screen(NoticeScreen(self.index_label, message.error, missing=message.missing))

    def on_input_submitted(self, event: PromptInput.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        prompt = self.query_one(PromptInput)
        prompt.remember(text)
        try:
            command = parse_command(text)
        except CommandError as exc:
            self.status(str(exc), "error")  # the command stays in the box to be corrected
            return
        prompt.value = ""
        if command is not None:
            self._run_command(command)
            return
        self.turns.append(Turn(text, self.epoch, options=self._options()))
        turn = len(self.turns)
        self._save_question(self.turns[-1])
        self.query_one(Transcript).add_turn(turn, text, waiting=self.assistant is None)
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
        self.answer_question(turn, self.epoch, self.turns[turn - 1], self.conversation)

    def _options(self) -> dict[str, Any]:
        """``k`` and the filters now: a question keeps those it was asked with."""
        options: dict[str, Any] = {}
        if self.top_k is not None:
            options["k"] = self.top_k
        if self.filters.active:
            options.update(sources=list(self.filters.sources), since=self.filters.since, until=self.filters.until)
        return options

    def on_answer_ready(self, message: AnswerReady) -> None:
        self._busy = False
        if message.item is not None:  # saved to its own conversation, even if another one is showing now
            message.item.answer = message.answer
            self._save_outcome(message.item)
        if message.epoch == self.epoch:
            transcript = self.query_one(Transcript)
            bubble = transcript.bubble(message.turn)
            if bubble is not None:
                bubble.show(message.answer)
            self._select_turn(message.turn)
            transcript.answered(message.turn)
            self.status(self._ready_text())
        self._pump()

    def on_answer_failed(self, message: AnswerFailed) -> None:
        self._busy = False
        if message.item is not None:
            message.item.error = message.error
            self._save_outcome(message.item)
        if message.epoch == self.epoch:
            transcript = self.query_one(Transcript)
            bubble = transcript.bubble(message.turn)
            if bubble is not None:
                bubble.show_error(message.error)
            transcript.answered(message.turn)
            self.status(self._ready_text())
        self._pump()

    def on_citation_selected(self, message: CitationSelected) -> None:
        self.open_citation(message.turn, message.number)

    def on_turn_selected(self, message: TurnSelected) -> None:
        self._select_turn(message.turn)

    def on_show_earlier(self, message: ShowEarlier) -> None:
        """Bring back the turns kept off screen, in batches of the transcript's size."""
        transcript = self.query_one(Transcript)
        last = min(transcript.hidden_turns, len(self.turns))
        first = max(1, last - MAX_TURNS_SHOWN + 1)
        batch = [
            (n, self.turns[n - 1].question, self.turns[n - 1].answer, self.turns[n - 1].error)
            for n in range(first, last + 1)
        ]
        if batch:
            transcript.add_earlier(batch)

    def on_key(self, event: events.Key) -> None:
        """Typing on the chat screen always reaches the question box, wherever the focus was."""
        if len(self.screen_stack) > 1 or not event.is_printable or not event.character or event.character.isdigit():
            return
        prompt = self.query_one(PromptInput)
        if self.focused is prompt:
            return
        event.stop()
        self.action_focus_prompt()
        prompt.insert_text_at_cursor(event.character)

    # ---------------------------------------------------------------- conversations

    def action_new_conversation(self) -> None:
        """Start afresh; the earlier conversation stays saved (Ctrl+L reopens it)."""
        saved = self.conversation_id is not None
        self._switch(None)
        message = "New conversation."
        if saved:
            message += " The earlier one is saved: Ctrl+L reopens it."
        self.status(message + (" " + self._ready_text() if self.assistant else ""), "ready")

    def action_conversations(self) -> None:
        """List the saved conversations about this index."""
        if self.history is None:
            return

        def chosen(conversation: int | None) -> None:
            deleted = getattr(screen, "deleted", [])
            if conversation is not None:
                self._switch(conversation)
            elif self.conversation_id in deleted:
                self._switch(None)
            self.query_one(PromptInput).focus()

        screen = ConversationsScreen(self.history, self.index_key, self.conversation_id)
        self.push_screen(screen, chosen)

    def _switch(self, conversation: int | None) -> None:
        """Show saved conversation ``conversation`` (None: a new, empty one).

        A question being answered now is still saved to its own conversation when its answer comes;
        those still waiting are saved as not answered.
        """
        for turn in self._pending:
            item = self.turns[turn - 1]
            item.error = "not answered: another conversation was opened before its turn came"
            self._save_outcome(item)
        self.epoch += 1
        self.turns.clear()
        self._pending.clear()
        self.current_turn = None
        self._export_file = None
        self.conversation_id = None
        self.query_one(Transcript).clear()
        self.query_one(SourcesPanel).clear()
        if self.assistant is not None:
            self._fresh_conversation()
        if conversation is not None:
            self._reopen(conversation)
        self.query_one(PromptInput).focus()

    def _reopen(self, conversation: int) -> None:
        assert self.history is not None
        try:
            stored = self.history.turns(conversation)
        except Exception as exc:  # noqa: BLE001
            self._history_failed(exc)
            return
        self.conversation_id = conversation
        transcript = self.query_one(Transcript)
        for item in stored:
            self.turns.append(Turn(item.question, self.epoch, item.answer, item.error, conversation, item.number))
        shown = len(self.turns) - MAX_TURNS_SHOWN  # only the latest are mounted; a click brings back the rest
        transcript.show_turns(
            [(n, t.question, t.answer, t.error) for n, t in enumerate(self.turns, start=1) if n > shown]
        )
        if self.conversation is not None:
            self._restore_context()
        answered = [n for n, t in enumerate(self.turns, start=1) if t.answer is not None]
        if answered:
            self._select_turn(answered[-1])
        transcript.call_after_refresh(transcript.jump_to_latest)

    def _fresh_conversation(self) -> None:
        """A new :class:`qa.Conversation` that continues from the turns on screen."""
        self.conversation = self.assistant.conversation()
        self._restore_context()

    def _restore_context(self) -> None:
        """Let follow-ups in a reopened conversation lean on its earlier turns, as when they were asked."""
        resume = getattr(self.conversation, "resume", None)
        if callable(resume):
            for turn in self.turns:
                if turn.answer is not None:
                    resume(turn.question, turn.answer)

    def _save_question(self, item: Turn) -> None:
        """Save a new question (starting the saved conversation on the first one)."""
        if self.history is None:
            return
        try:
            if self.conversation_id is None:
                self.conversation_id = self.history.start(self.index_key, item.question)
            item.conversation = self.conversation_id
            item.saved = self.history.ask(self.conversation_id, item.question)
        except Exception as exc:  # noqa: BLE001 - the chat goes on; the user is told once
            self._history_failed(exc)

    def _save_outcome(self, item: Turn) -> None:
        """Save how a question ended, in the conversation it was asked in."""
        if self.history is None or item.conversation is None or item.saved is None:
            return
        try:
            self.history.settle(item.conversation, item.saved, item.answer, item.error)
        except Exception as exc:  # noqa: BLE001
            self._history_failed(exc)

    def _history_failed(self, exc: Exception) -> None:
        where = self.history.path if self.history is not None else None
        self.notify(
            f"The history could not be saved ({type(exc).__name__}: {exc}); this conversation is kept in memory only."
            + (f" File: {where}" if where else ""),
            title="History",
            severity="error",
            markup=False,
            timeout=15,
        )
        self.history = History.in_memory()
        self.conversation_id = None

    def _remember_theme(self, theme: Theme) -> None:
        self._remember("theme", theme.name)

    def _remember(self, key: str, value: object) -> None:
        if self.history is not None:
            try:
                self.history.remember(key, value)
            except Exception as exc:  # noqa: BLE001
                self._history_failed(exc)

    # ---------------------------------------------------------------- commands

    def _run_command(self, command: Command) -> None:
        """Carry out a slash command; its outcome goes to the status line."""
        try:
            if command.name == "help":
                self.push_screen(HelpScreen())
                return
            if command.name == "k":
                self.top_k = parse_k(command.argument)
                self._remember("k", self.top_k)
                self.status(f"Answers now show up to {self.top_k} sentences (kept for next time).")
                return
            if self.assistant is None and command.name == "source" and command.argument:
                raise CommandError("the index is still loading: its outlets are not known yet; try again in a moment")
            self.filters, said = apply_filter(command, self.filters, self.outlets)
        except CommandError as exc:
            self.status(str(exc), "error")
            return
        self._show_filters()
        self.status(said)

    def _show_filters(self) -> None:
        bar = self.query_one("#filters", Static)
        bar.display = self.filters.active
        bar.update(
            Content.assemble(("Filter: ", "bold $accent"), (self.filters.describe(), ""), ("   /clear removes it", DIM))
        )

    # ---------------------------------------------------------------- citations

    def action_cite(self, number: int) -> None:
        """Open citation ``number`` of the selected (highlighted) answer."""
        if self.current_turn is None:
            self.notify("No answer yet: ask a question first.", severity="warning")
            return
        self.open_citation(self.current_turn, number)

    def open_citation(self, turn: int, number: int) -> None:
        """Show the article of citation ``number`` of ``turn``, scrolled to the sentence."""
        answer = self.turns[turn - 1].answer if 0 < turn <= len(self.turns) else None
        if answer is None or not 0 < number <= len(shown_sentences(answer)):
            self.notify(f"There is no citation [{number}] in that answer.", severity="warning", markup=False)
            return
        if self.assistant is None:
            self.notify("The index is still loading; try again in a moment.", severity="warning", markup=False)
            return
        sentence = answer.sentences[number - 1]
        article = self._article(sentence.article_id)
        if article is None:
            self.notify("That article is no longer in the index.", severity="error", markup=False)
            return
        cited = [
            Cited(n, s.start, s.end)
            for n, s in enumerate(shown_sentences(answer), start=1)
            if s.article_id == sentence.article_id
        ]
        # after the article, typing goes to the question box again, wherever the focus was before
        self.push_screen(ArticleScreen(article, cited, number), lambda _: self.action_focus_prompt())

    def _article(self, article_id: str) -> Any:
        finder = getattr(self.assistant, "article", None)
        if callable(finder):
            return finder(article_id)
        return next((a for a in self.assistant.data.articles if a.id == article_id), None)

    def action_copy_citation(self) -> None:
        """Copy one citation: the sentence under the cursor, else [1] of the highlighted answer."""
        transcript = self.query_one(Transcript)
        if self.focused is transcript and transcript.cursor is not None:
            turn, number = transcript.cursor.turn, transcript.cursor.number
        elif self.current_turn is not None:
            turn, number = self.current_turn, 1
        else:
            self.notify("No answer to copy yet.", severity="warning")
            return
        answer = self.turns[turn - 1].answer
        if answer is None or not answer.sentences:
            self.notify("That answer has no sentence to copy.", severity="warning")
            return
        if not answer.answered and self.focused is not transcript:
            self.notify(
                "That answer is Not found: nothing to copy. (To copy a closest sentence, put the cursor on it.)",
                severity="warning",
                markup=False,
            )
            return
        text = citation_text(answer.sentences[number - 1])
        self.copy_to_clipboard(text)
        path = self.export_dir / CLIPBOARD_FILE
        try:
            write_text(path, text + "\n")
        except OSError as exc:
            self.notify(f"Sent [{number}] to the clipboard by OSC 52; could not also write {path}: {exc}", markup=False)
            return
        inside = " (tmux passes it on only with set-clipboard on)" if os.environ.get("TMUX") else ""
        self.notify(
            f"Copied [{number}] of question {turn} by OSC 52{inside}; it is also in {path.resolve()}",
            title="Copied",
            markup=False,
            timeout=8,
        )

    # ---------------------------------------------------------------- other actions

    def action_focus_prompt(self) -> None:
        """Back to the question box (closing the sources where they cover the answers)."""
        self.query_one("#sources").remove_class("-open")
        self.query_one(PromptInput).focus()

    def action_focus_sources(self) -> None:
        self.query_one("#sources").add_class("-open")
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
        yield SystemCommand(
            "New conversation", "Start afresh; the current one stays saved (Ctrl+N)", self.action_new_conversation
        )
        yield SystemCommand("Conversations", "Reopen, rename or delete saved ones (Ctrl+L)", self.action_conversations)
        yield SystemCommand("Export conversation", "Save it as Markdown (Ctrl+S)", self.action_export)
        yield SystemCommand(
            "Copy citation", "The sentence under the cursor, or [1] (Ctrl+Y)", self.action_copy_citation
        )
        yield SystemCommand("Sources", "Focus the sources panel (Ctrl+O)", self.action_focus_sources)
        yield SystemCommand("Help", "Keys, commands and what the verdict means (F1)", self.action_help)

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
        return f"Ready · {count:,} article{'s' if count != 1 else ''} · /help for filters"

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
        self.query_one(Transcript).select(turn)
        self.query_one(SourcesPanel).show(turn, answer)


def make_app(settings: Settings, *, export_dir: Path | None = None, data_dir: Path | None = None) -> NewsdeskApp:
    """The app over the index in ``settings`` (the model loads in a worker once it is showing)."""

    def factory() -> Any:
        from qa.assistant import Assistant

        return Assistant.open(settings=settings)

    explicit_k = settings.top_k if "top_k" in settings.model_fields_set else None
    from index.location import describe

    # a database URL is shown (and conversations are tied to it) without its password
    label = describe(settings.index)
    return NewsdeskApp(factory, index_label=label, export_dir=export_dir, data_dir=data_dir, top_k=explicit_k)


def run(settings: Settings) -> None:
    """Run the chat until the user quits (``newsdesk chat``).

    Quitting while the model is still loading does not wait for the loading thread (it cannot be
    interrupted and may take many seconds): the terminal is already restored, so exit at once.
    """
    app = make_app(settings)
    app.run()
    if app.history is not None:
        app.history.close()
    if app.loading:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(app.return_code or 0)
