"""The ``newsdesk`` command: index, ask, chat, eval and index maintenance.

Exit status: 0 success, 2 bad input or usage (one line on stderr), 1 internal failure.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from index.errors import NewsdeskError
from newsdesk.cli_browse import list_command, remove_command, show_command
from newsdesk.cli_eval import eval_command
from newsdesk.cli_maint import verify_command
from newsdesk.options import filter_options, index_option, open_or_build, settings_for, stderr


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, invoke_without_command=True)
@click.version_option(package_name="newsdesk")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Ask questions of a folder of news articles; answers are cited sentences."""
    if ctx.invoked_subcommand is None:  # bare `newsdesk`: the help, and success
        click.echo(ctx.get_help())


@cli.command("index")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@index_option
@click.option("--wait", default=300.0, show_default=True, help="Seconds to wait for another writer.")
def index_command(paths: tuple[Path, ...], index_dir: str | None, wait: float) -> None:
    """Add or update the articles in PATHS (files or folders); unchanged ones are not re-embedded."""
    from index import location, store
    from index.build import Progress
    from qa.embedding import embedder_for
    from qa.safe_text import visible

    settings = settings_for(index_dir)
    embedder = embedder_for(settings)
    database = location.is_database(settings.index)
    before = None if database else store.current_generation_or_none(settings.index)
    try:
        report = location.update(settings.index, list(paths), embedder, progress=Progress(), notify=stderr, wait=wait)
    except KeyboardInterrupt:
        if database:  # one transaction: nothing of this run was committed
            stderr(f"newsdesk: interrupted; the index in {location.describe(settings.index)} is unchanged")
        else:
            stderr(visible(_interrupted(settings.index, before)))
        raise click.exceptions.Exit(130) from None

    for problem in report.problems:  # paths and reasons come from the disk: control codes shown as escapes
        stderr(visible(f"{'skipped' if problem.skipped else 'warning'}: {problem}"))
    stderr(f"indexed {location.describe(settings.index)}: {report.summary()}")


def _interrupted(index_dir: Path, before: int | None) -> str:
    """What an interrupted ``newsdesk index`` leaves: the live generation, and the vectors kept for next time."""
    from index import store
    from index.build import EmbedCache

    live = store.current_generation_or_none(index_dir)
    if live != before:
        state = f"generation {live} was published before the interrupt"
    else:
        state = f"the live index is unchanged (generation {live})" if live else "no index was written"
    kept = (index_dir / EmbedCache.FOLDER).is_dir()
    reuse = "; the sentences embedded so far are kept, and the next run reuses them" if kept else ""
    return f"newsdesk: interrupted; {state} in {index_dir}{reuse}"


@cli.command("ask")
@click.argument("question")
@index_option
@click.option(
    "-k", "k", default=None, type=click.IntRange(min=1, max=100), help="Sentences to return [default: NEWSDESK_TOP_K, else 5]."
)
@click.option("--json", "as_json", is_flag=True, help="Print the answer as one JSON object.")
@filter_options
def ask_command(
    question: str,
    index_dir: str | None,
    k: int | None,
    as_json: bool,
    sources: tuple[str, ...],
    since: str | None,
    until: str | None,
) -> None:
    """Answer QUESTION with cited sentences from the indexed articles (``-``: read it from stdin)."""
    from qa.assistant import check_question
    from qa.render import PLAIN, UNDERLINE, answer_text
    from qa.safe_text import safe_json

    if question == "-":
        question = question_from_stdin()
    check_question(question)  # fail fast, before any model or index is loaded
    settings = settings_for(index_dir)
    assistant = open_or_build(settings)
    if not assistant.data.articles:  # say why nothing can be found (the answer itself stays the contract's)
        stderr(f"note: the index at {settings.index} holds no articles; add some with: newsdesk index PATH")
    answer = assistant.ask(question, k=k, sources=sources, since=since, until=until)
    if as_json:
        click.echo(safe_json(answer.model_dump_json()))
    else:
        terminal = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        click.echo(answer_text(answer, UNDERLINE if terminal else PLAIN))


def question_from_stdin() -> str:
    """The question piped on standard input, read no further than the length limit."""
    from index.errors import QuestionError
    from qa.assistant import MAX_QUESTION_CHARS

    limit = 4 * MAX_QUESTION_CHARS + 4  # UTF-8: at most 4 bytes a character
    raw = sys.stdin.buffer.read(limit)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        if len(raw) < limit or exc.start < len(raw) - 3:  # not just a character cut at the read limit
            raise QuestionError(f"standard input is not UTF-8 text (byte {exc.start})") from None
        text = raw[: exc.start].decode("utf-8")
    if len(text) > MAX_QUESTION_CHARS or len(raw) > 4 * MAX_QUESTION_CHARS:
        raise QuestionError(f"the question on standard input is over the limit of {MAX_QUESTION_CHARS:,} characters")
    return text


@cli.command("chat")
@index_option
def chat_command(index_dir: str | None) -> None:
    """Open the chat in the terminal (Textual)."""
    from tui.app import run

    run(settings_for(index_dir))


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``newsdesk`` script; returns the exit status."""
    try:
        status = cli.main(args=argv, prog_name="newsdesk", standalone_mode=False)
        if isinstance(status, int) and not isinstance(status, bool):  # click returns an Exit's code here
            return status
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.Abort:
        stderr("newsdesk: aborted")
        return 130
    except click.ClickException as exc:  # usage errors: one line, exit 2
        stderr(f"newsdesk: {exc.format_message()}" + _usage_hint(exc))
        return exc.exit_code
    except NewsdeskError as exc:
        stderr(f"newsdesk: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        stderr("newsdesk: interrupted")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - never a traceback unless asked for
        if os.environ.get("NEWSDESK_DEBUG"):
            raise
        stderr(f"newsdesk: internal error: {type(exc).__name__}: {exc} (set NEWSDESK_DEBUG=1 for details)")
        return 1
    return 0


def _usage_hint(exc: click.ClickException) -> str:
    ctx = getattr(exc, "ctx", None)
    return f" (see: {ctx.command_path} --help)" if ctx is not None else ""


def run() -> None:
    sys.exit(main())


for _command in (eval_command, list_command, show_command, remove_command, verify_command):
    cli.add_command(_command)
