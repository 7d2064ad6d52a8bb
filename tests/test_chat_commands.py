"""tui/commands.py on its own: parsing slash commands, applying filters, /k, and Tab completion."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pytest

from tui.commands import (
    COMMANDS,
    MAX_K,
    ChatFilters,
    Command,
    CommandError,
    CommandSuggester,
    apply_filter,
    match_outlet,
    parse_command,
    parse_k,
)

OUTLETS = ["Reuters", "AP", "Associated Press", "BBC News", "The Guardian"]


def one_line_error(exc: pytest.ExceptionInfo[CommandError]) -> str:
    message = str(exc.value)
    assert message
    assert "\n" not in message
    assert "\r" not in message
    return message


def run(text: str, filters: ChatFilters | None = None, outlets: Sequence[str] = OUTLETS) -> tuple[ChatFilters, str]:
    command = parse_command(text)
    assert command is not None
    return apply_filter(command, filters if filters is not None else ChatFilters(), outlets)


# ------------------------------------------------------------ parse_command


@pytest.mark.parametrize("text", ["Who discovered the comet?", "", "   ", "what about /source?", " a/b"])
def test_a_question_is_not_a_command(text: str) -> None:
    assert parse_command(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/source Reuters", Command("source", "Reuters")),
        ("/since 2025-03-01", Command("since", "2025-03-01")),
        ("/until 2025-03-31", Command("until", "2025-03-31")),
        ("/clear", Command("clear", "")),
        ("/k 5", Command("k", "5")),
        ("/help", Command("help", "")),
        ("/SOURCE   BBC News  ", Command("source", "BBC News")),
        ("  /Since 2025-03-01 ", Command("since", "2025-03-01")),
        ("/UNTIL", Command("until", "")),
        ("/K 7", Command("k", "7")),
        ("/Help", Command("help", "")),
        ("/source", Command("source", "")),
    ],
)
def test_parse_command(text: str, expected: Command) -> None:
    assert parse_command(text) == expected


def test_every_listed_command_parses() -> None:
    for name in COMMANDS:
        command = parse_command(name)
        assert command is not None
        assert command.name == name[1:]
        assert command.argument == ""


@pytest.mark.parametrize("text", ["/sauce Reuters", "/", "/s", "/sources Reuters", "/quit"])
def test_an_unknown_command_names_the_known_ones(text: str) -> None:
    with pytest.raises(CommandError) as exc:
        parse_command(text)
    message = one_line_error(exc)
    assert "unknown command" in message
    assert repr(text.split()[0]) in message
    for name in COMMANDS:
        assert name in message


def test_an_unknown_command_with_control_codes_is_shown_on_one_line() -> None:
    with pytest.raises(CommandError) as exc:
        parse_command("/bad\x1b[2J\x07")
    message = one_line_error(exc)
    assert "\x1b" not in message
    assert "\x07" not in message


def test_command_error_is_a_value_error() -> None:
    assert issubclass(CommandError, ValueError)


# ------------------------------------------------------------ /source


@pytest.mark.parametrize(("typed", "outlet"), [("reuters", "Reuters"), ("REUTERS", "Reuters"), ("ap", "AP")])
def test_source_matches_case_insensitively_and_uses_the_index_spelling(typed: str, outlet: str) -> None:
    filters, message = run(f"/source {typed}")
    assert filters.sources == (outlet,)
    assert outlet in message
    assert "\n" not in message


def test_an_exact_match_wins_over_a_longer_outlet_it_starts() -> None:
    filters, _ = run("/source bbc news", outlets=["BBC News", "BBC News Africa"])
    assert filters.sources == ("BBC News",)


def test_source_white_space_inside_the_name_is_collapsed() -> None:
    filters, _ = run("/source  bbc    news ")
    assert filters.sources == ("BBC News",)


@pytest.mark.parametrize(("typed", "outlet"), [("reu", "Reuters"), ("the g", "The Guardian"), ("b", "BBC News")])
def test_source_matches_a_unique_prefix(typed: str, outlet: str) -> None:
    filters, message = run(f"/source {typed}")
    assert filters.sources == (outlet,)
    assert outlet in message


def test_an_ambiguous_prefix_names_the_candidates() -> None:
    with pytest.raises(CommandError) as exc:
        run("/source a")
    message = one_line_error(exc)
    assert "'a'" in message
    assert "AP" in message
    assert "Associated Press" in message
    assert "Reuters" not in message


def test_an_ambiguous_prefix_lists_at_most_eight_candidates() -> None:
    outlets = [f"Daily {n}" for n in range(12)]
    with pytest.raises(CommandError) as exc:
        match_outlet("daily", outlets)
    message = one_line_error(exc)
    assert "Daily 7" in message
    assert "Daily 8" not in message
    assert "4 more" in message


def test_an_unknown_outlet_lists_the_outlets() -> None:
    with pytest.raises(CommandError) as exc:
        run("/source Le Monde")
    message = one_line_error(exc)
    assert "'Le Monde'" in message
    for outlet in OUTLETS:
        assert outlet in message


def test_an_unknown_outlet_in_an_index_without_outlets() -> None:
    with pytest.raises(CommandError) as exc:
        run("/source Reuters", outlets=[])
    assert "none" in one_line_error(exc)


def test_outlet_names_with_control_codes_stay_on_one_line() -> None:
    with pytest.raises(CommandError) as exc:
        match_outlet("zzz", ["Evil\nOutlet", "Bad\x1b[2JName"])
    message = one_line_error(exc)
    assert "\x1b" not in message


def test_a_second_source_is_added() -> None:
    filters, _ = run("/source reuters")
    filters, message = run("/source ap", filters)
    assert filters.sources == ("Reuters", "AP")
    assert "Reuters, AP" in message


def test_repeating_a_source_changes_nothing() -> None:
    filters, _ = run("/source reuters")
    again, message = run("/source REUTERS", filters)
    assert again == filters
    assert again.sources == ("Reuters",)
    assert "Already" in message


def test_source_alone_clears_the_outlets_only() -> None:
    filters = ChatFilters(sources=("Reuters", "AP"), since=date(2025, 3, 1), until=date(2025, 3, 31))
    cleared, message = run("/source", filters)
    assert cleared == ChatFilters(since=date(2025, 3, 1), until=date(2025, 3, 31))
    assert "Any outlet" in message


def test_a_failed_source_leaves_the_filters_unchanged() -> None:
    filters = ChatFilters(sources=("Reuters",))
    with pytest.raises(CommandError):
        run("/source nowhere", filters)
    assert filters.sources == ("Reuters",)


# ------------------------------------------------------------ /since, /until, /clear


def test_since_and_until_set_the_bounds() -> None:
    filters, message = run("/since 2025-03-01")
    assert filters == ChatFilters(since=date(2025, 3, 1))
    assert "since 2025-03-01" in message
    filters, message = run("/until 2025-03-31", filters)
    assert filters == ChatFilters(since=date(2025, 3, 1), until=date(2025, 3, 31))
    assert "until 2025-03-31" in message


def test_since_and_until_may_be_the_same_day() -> None:
    filters, _ = run("/since 2025-03-01")
    filters, _ = run("/until 2025-03-01", filters)
    assert filters.since == filters.until == date(2025, 3, 1)


def test_a_timestamp_counts_as_its_day() -> None:
    filters, _ = run("/since 2025-03-01T08:00:00Z")
    assert filters.since == date(2025, 3, 1)


@pytest.mark.parametrize("name", ["since", "until"])
@pytest.mark.parametrize("argument", ["yesterday", "2025-13-01", "2025-02-30", "03/01/2025", "2025"])
def test_a_bad_date_is_a_one_line_error(name: str, argument: str) -> None:
    with pytest.raises(CommandError) as exc:
        run(f"/{name} {argument}")
    message = one_line_error(exc)
    assert "YYYY-MM-DD" in message
    assert f"/{name}" in message
    assert argument in message


def test_a_bad_date_with_control_codes_stays_on_one_line() -> None:
    with pytest.raises(CommandError) as exc:
        apply_filter(Command("since", "bad\x1b[2J\x07day"), ChatFilters(), OUTLETS)
    message = one_line_error(exc)
    assert "\x1b" not in message
    assert "YYYY-MM-DD" in message


def test_since_after_until_is_refused() -> None:
    filters = ChatFilters(until=date(2025, 3, 1))
    with pytest.raises(CommandError) as exc:
        run("/since 2025-03-02", filters)
    message = one_line_error(exc)
    assert "2025-03-02" in message and "2025-03-01" in message


def test_until_before_since_is_refused() -> None:
    filters = ChatFilters(since=date(2025, 3, 10))
    with pytest.raises(CommandError) as exc:
        run("/until 2025-03-09", filters)
    message = one_line_error(exc)
    assert "nothing would match" in message


@pytest.mark.parametrize("name", ["since", "until"])
def test_an_empty_date_clears_that_bound_only(name: str) -> None:
    filters = ChatFilters(sources=("AP",), since=date(2025, 3, 1), until=date(2025, 3, 31))
    cleared, message = run(f"/{name}", filters)
    assert getattr(cleared, name) is None
    other = "until" if name == "since" else "since"
    assert getattr(cleared, other) == getattr(filters, other)
    assert cleared.sources == ("AP",)
    assert f"No {name} date" in message


def test_clear_removes_every_filter() -> None:
    filters = ChatFilters(sources=("AP",), since=date(2025, 3, 1), until=date(2025, 3, 31))
    cleared, message = run("/clear", filters)
    assert cleared == ChatFilters()
    assert not cleared.active
    assert "cleared" in message


@pytest.mark.parametrize("text", ["/k 5", "/help"])
def test_apply_filter_refuses_commands_that_are_not_filters(text: str) -> None:
    with pytest.raises(CommandError) as exc:
        run(text)
    assert "not a filter" in one_line_error(exc)


# ------------------------------------------------------------ ChatFilters


def test_no_filter_is_inactive_and_describes_as_empty() -> None:
    assert not ChatFilters().active
    assert ChatFilters().describe() == ""


@pytest.mark.parametrize(
    ("filters", "text"),
    [
        (ChatFilters(sources=("Reuters",)), "Reuters"),
        (ChatFilters(since=date(2025, 3, 1)), "since 2025-03-01"),
        (ChatFilters(until=date(2025, 3, 31)), "until 2025-03-31"),
        (ChatFilters(sources=("Reuters", "AP"), until=date(2025, 3, 31)), "Reuters, AP · until 2025-03-31"),
        (
            ChatFilters(sources=("Reuters", "AP"), since=date(2025, 3, 1), until=date(2025, 3, 31)),
            "Reuters, AP · since 2025-03-01 · until 2025-03-31",
        ),
    ],
)
def test_active_filters_describe_themselves(filters: ChatFilters, text: str) -> None:
    assert filters.active
    assert filters.describe() == text


def test_filters_built_by_commands_describe_themselves() -> None:
    filters = ChatFilters()
    for text in ("/source reuters", "/source ap", "/since 2025-03-01", "/until 2025-03-31"):
        filters, _ = run(text, filters)
    assert filters.describe() == "Reuters, AP · since 2025-03-01 · until 2025-03-31"


# ------------------------------------------------------------ /k


@pytest.mark.parametrize(("argument", "k"), [("1", 1), ("5", 5), ("20", 20), (" 7 ", 7)])
def test_parse_k_accepts_1_to_20(argument: str, k: int) -> None:
    assert parse_k(argument) == k


def test_max_k_is_20() -> None:
    assert MAX_K == 20


@pytest.mark.parametrize("argument", ["0", "21", "-3", "x", "", "2.5", "1e3"])
def test_parse_k_rejects_the_rest(argument: str) -> None:
    with pytest.raises(CommandError) as exc:
        parse_k(argument)
    message = one_line_error(exc)
    assert "1 to 20" in message


def test_parse_k_error_with_a_newline_stays_on_one_line() -> None:
    with pytest.raises(CommandError) as exc:
        parse_k("5\nrm -rf")
    one_line_error(exc)


# ------------------------------------------------------------ completion


async def test_suggester_completes_command_names() -> None:
    suggester = CommandSuggester(["Reuters", "AP"])
    assert await suggester.get_suggestion("/so") == "/source "
    assert await suggester.get_suggestion("/si") == "/since "
    assert await suggester.get_suggestion("/u") == "/until "
    assert await suggester.get_suggestion("/cl") == "/clear"
    assert await suggester.get_suggestion("/he") == "/help"
    assert await suggester.get_suggestion("/") == "/source "


async def test_suggester_keeps_the_typed_case() -> None:
    suggester = CommandSuggester(["Reuters", "AP"])
    assert await suggester.get_suggestion("/SO") == "/SOurce "
    assert await suggester.get_suggestion("/Un") == "/Until "


async def test_suggester_completes_outlet_names_after_source() -> None:
    suggester = CommandSuggester(["Reuters", "AP"])
    assert await suggester.get_suggestion("/source re") == "/source re" + "uters"
    assert await suggester.get_suggestion("/source RE") == "/source REuters"
    assert await suggester.get_suggestion("/Source a") == "/Source aP"
    assert await suggester.get_suggestion("/source Reuters") is None  # already complete
    assert await suggester.get_suggestion("/source x") is None
    assert await suggester.get_suggestion("/source ") is None


async def test_suggester_follows_a_changed_outlet_list() -> None:
    suggester = CommandSuggester()
    assert await suggester.get_suggestion("/source re") is None
    suggester.outlets = ["Reuters"]
    assert await suggester.get_suggestion("/source re") == "/source reuters"


@pytest.mark.parametrize(
    "value",
    ["", "Who discovered the comet?", "re", "/x", "/sources", "/source", "/clear", "/k", "/since 2025", "/k 1"],
)
async def test_suggester_has_nothing_for_questions_and_unknown_or_complete_commands(value: str) -> None:
    assert await CommandSuggester(["Reuters", "AP"]).get_suggestion(value) is None


async def test_suggester_completes_outlets_whose_case_folding_changes_their_length() -> None:
    suggester = CommandSuggester(["Die Straße Heute"])
    suggestion = await suggester.get_suggestion("/source die strasse")
    assert suggestion == "/source die strasse Heute"


async def test_suggester_and_parser_accept_any_white_space_after_the_command() -> None:
    suggester = CommandSuggester(["Reuters", "AP"])
    assert await suggester.get_suggestion("/source  re") == "/source  reuters"
    assert parse_command("/source\tReuters") == Command("source", "Reuters")
