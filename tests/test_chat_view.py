"""How answers read: from the top at 80x24, dim is dim on dark and light themes, filters, focus, search."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from textual.content import Content
from textual.widgets import Collapsible, Static
from tui_snapshot_app import ask, chat_app, settle

from qa import Assistant
from tui.app import NewsdeskApp
from tui.screens import ArticleScreen
from tui.widgets import AnswerBubble, ArticleLine, CitationLine, PromptInput, QuestionBubble, Transcript

BRIDGE = "How much did the Harbor Street bridge repairs cost?"
COMET = "Who discovered the comet?"


def on_screen(app: NewsdeskApp, widget: Static) -> bool:
    """Whether ``widget`` is fully visible inside the transcript's viewport."""
    view = app.query_one(Transcript).scrollable_content_region
    region = widget.region
    return region.height > 0 and view.contains_region(region)


def text(widget: Static) -> str:
    return str(widget.visual) if isinstance(widget.visual, Content) else str(widget.render())


async def test_question_and_first_sentence_are_on_screen_after_each_answer_at_80x24(
    tiny_assistant: Assistant, tmp_path: Path
) -> None:
    app = chat_app(tiny_assistant, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ask(pilot, "/k 10")
        for question in (BRIDGE, COMET, BRIDGE):
            await ask(pilot, question)
            turn = len(app.turns)
            bubble = next(b for b in app.query(AnswerBubble) if b.turn == turn)
            asked = next(q for q in app.query(QuestionBubble) if q.turn == turn)
            first = next(line for line in bubble.query(CitationLine) if line.number == 1)
            assert on_screen(app, asked), f"question {turn} is on screen"
            assert on_screen(app, bubble.query_one(".answer-head", Static)), "and its verdict"
            assert on_screen(app, first), "and its [1]"


async def test_a_long_answer_is_shown_from_its_question_not_its_tail(
    tiny_assistant: Assistant, tmp_path: Path
) -> None:
    app = chat_app(tiny_assistant, tmp_path)
    async with app.run_test(size=(60, 16)) as pilot:  # an answer taller than the view
        await ask(pilot, "/k 10")
        await ask(pilot, COMET)
        await ask(pilot, BRIDGE)
        transcript = app.query_one(Transcript)
        asked = list(app.query(QuestionBubble))[-1]
        assert transcript.max_scroll_y > transcript.scroll_y, "the tail of the answer is below, out of view"
        assert on_screen(app, asked)


async def test_an_answer_arriving_out_of_sight_gets_a_marker(tiny_assistant: Assistant, tmp_path: Path) -> None:
    app = chat_app(tiny_assistant, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        for question in (BRIDGE, COMET, BRIDGE):
            await ask(pilot, question)
        transcript = app.query_one(Transcript)
        transcript.scroll_home(animate=False, immediate=True)
        await pilot.pause()
        transcript.answered(3)  # as when the reader was scrolled up while question 3 was being answered
        await pilot.pause()
        marker = transcript.query_one("#new-answer", Static)
        assert marker.display and "New answer to question 3" in text(marker)
        transcript.focus()
        await pilot.press("end")
        await settle(pilot)
        assert not marker.display
        assert on_screen(app, list(app.query(QuestionBubble))[-1])


def colours(svg: str) -> list[tuple[str, str]]:
    """(text, fill colour) of every text run in a screenshot."""
    fills = dict(re.findall(r"\.(terminal-[\w-]+) \{ fill: (#[0-9a-f]{6})", svg))
    runs = re.findall(r'<text class="(terminal-[\w-]+)"[^>]*>([^<]*)</text>', svg)
    return [(html.unescape(t).replace("\xa0", " "), fills.get(c, "")) for c, t in runs]


def distance(colour: str, other: str) -> float:
    """Luminance difference of two #rrggbb colours."""

    def luminance(c: str) -> float:
        r, g, b = (int(c[i : i + 2], 16) for i in (1, 3, 5))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    return abs(luminance(colour) - luminance(other))


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light", "nord", "solarized-light", "solarized-dark"])
async def test_dim_text_is_dimmer_than_the_sentences(tiny_assistant: Assistant, tmp_path: Path, theme: str) -> None:
    app = chat_app(tiny_assistant, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        app.theme = theme
        await ask(pilot, BRIDGE)
        background = app.current_theme.background or ("#000000" if app.current_theme.dark else "#ffffff")
        runs = colours(app.export_screenshot())
    sentence = next(fill for t, fill in runs if "The repairs cost" in t or "Harbor Street bridge reopened" in t)
    meta = [fill for t, fill in runs if "· 2025-03-14 ·" in t]  # the byline under a cited sentence
    verdict_detail = [fill for t, fill in runs if "sure [1] answers it" in t]
    welcome = [fill for t, fill in runs if "Ask a question about the articles" in t]
    weak = [fill for t, fill in runs if "Board chair Luis Ortega" in t]  # [5], scored under an even chance
    assert meta and verdict_detail and welcome and weak
    for fill in [*meta, *verdict_detail, *welcome, *weak]:
        assert distance(fill, background) < distance(sentence, background), (theme, fill, sentence)


async def test_not_found_folds_at_most_two_closest_sentences(tiny_assistant: Assistant, tmp_path: Path) -> None:
    app = chat_app(tiny_assistant, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(pilot, "What is the capital of Mongolia?")
        bubble = app.query_one(AnswerBubble)
        assert bubble.has_class("-declined")
        head = text(bubble.query_one(".answer-head", Static))
        assert head == "Not found in the articles", "no figure that could contradict the verdict"
        folded = bubble.query_one(Collapsible)
        assert folded.collapsed and len(folded.query(CitationLine)) <= 2
        assert all(line.region.height == 0 for line in folded.query(CitationLine))


async def test_other_sentences_are_grouped_under_their_article_title_once(
    tiny_assistant: Assistant, tmp_path: Path
) -> None:
    app = chat_app(tiny_assistant, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await ask(pilot, BRIDGE)
        bubble = app.query_one(AnswerBubble)
        answer = bubble.answer
        assert answer is not None
        titles = [text(line) for line in bubble.query(ArticleLine)]
        assert len(titles) == len({s.article_id for s in answer.sentences}), "one title line per article"
        shown = [line.number for line in bubble.query(CitationLine)]
        assert shown[0] == 1 and sorted(shown) == list(range(1, len(answer.sentences) + 1))
        assert bubble.has_class("-selected"), "the answer number keys act on is marked"


async def test_filters_in_the_chat(tiny_assistant: Assistant, tmp_path: Path) -> None:
    app = chat_app(tiny_assistant, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        overview = text(app.query_one("#overview", Static))
        assert "5 articles from 4 outlets" in overview and "2024-11-02 to 2025-11-05" in overview
        prompt = app.query_one(PromptInput)
        await pilot.press(*"/source north")
        await pilot.pause()
        await pilot.pause()
        await pilot.press("tab")
        assert prompt.value == "/source northern Star Tribune", "Tab takes the outlet completion"
        await pilot.press("enter")
        await pilot.pause()
        bar = app.query_one("#filters", Static)
        assert bar.display and "Northern Star Tribune" in text(bar)
        await ask(pilot, BRIDGE)
        answer = app.turns[-1].answer
        assert answer is not None and {s.source for s in answer.sentences} <= {"Northern Star Tribune"}
        await ask(pilot, "/since March 3rd")
        assert "YYYY-MM-DD" in str(app.query_one("#status").render())
        await ask(pilot, "/since 2025-01-01")
        await ask(pilot, COMET)
        answer = app.turns[-1].answer
        assert answer is not None and answer.sentences == [], "the only Northern Star article is from 2024"
        await ask(pilot, "/clear")
        assert not bar.display
        await ask(pilot, COMET)
        assert app.turns[-1].answer is not None and app.turns[-1].answer.sentences


async def test_typing_anywhere_reaches_the_question_box(tiny_assistant: Assistant, tmp_path: Path) -> None:
    app = chat_app(tiny_assistant, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(pilot, BRIDGE)
        await pilot.press("ctrl+o", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ArticleScreen)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press(*"why")
        prompt = app.query_one(PromptInput)
        assert prompt.has_focus and prompt.value == "why"
        app.query_one("#sources-list").focus()
        await pilot.press("s")
        assert prompt.has_focus and prompt.value == "whys"


async def test_search_inside_an_article(tiny_assistant: Assistant, tmp_path: Path) -> None:
    app = chat_app(tiny_assistant, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(pilot, BRIDGE)
        await pilot.press("ctrl+o", "enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ArticleScreen)
        await pilot.press("slash", *"REPAIRS", "enter")
        await pilot.pause()
        body = str(getattr(screen.article, "text", ""))
        expected = [m.start() for m in re.finditer("repairs", body, re.I)]
        assert expected and screen.matches == expected
        where = text(screen.query_one("#article-where", Static))
        assert where.startswith(f"match 1 of {len(expected)}")
        await pilot.press("enter")
        assert screen.match == (1 if len(expected) > 1 else 0)
        await pilot.press("escape")
        await pilot.pause()
        assert screen.matches == [] and isinstance(app.screen, ArticleScreen), "Esc closes the search first"
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ArticleScreen)


async def test_only_the_latest_turns_stay_on_screen_and_a_click_brings_back_the_rest(
    tiny_assistant: Assistant, tmp_path: Path
) -> None:
    from tui.widgets.transcript import MAX_TURNS_SHOWN

    app = chat_app(tiny_assistant, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        for n in range(MAX_TURNS_SHOWN + 2):
            await ask(pilot, f"{COMET} ({n})")
        shown = [q.turn for q in app.query(QuestionBubble)]
        assert shown == list(range(3, MAX_TURNS_SHOWN + 3))
        note = app.query_one("#hidden-turns", Static)
        assert note.display and text(note).startswith("▲ 2 earlier questions not shown")
        transcript = app.query_one(Transcript)
        transcript.scroll_home(animate=False, immediate=True)
        await pilot.pause()
        await pilot.click("#hidden-turns")
        await settle(pilot)
        assert [q.turn for q in app.query(QuestionBubble)] == list(range(1, MAX_TURNS_SHOWN + 3))
        assert not note.display
        assert app.query(AnswerBubble).first().answer == app.turns[0].answer


async def test_not_found_offers_only_its_two_closest_sentences(tiny_assistant: Assistant, tmp_path: Path) -> None:
    from tui.widgets import SourcesPanel

    app = chat_app(tiny_assistant, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await ask(pilot, "/k 8")
        await ask(pilot, "What is the capital of Mongolia?")
        answer = app.turns[-1].answer
        assert answer is not None and not answer.answered and len(answer.sentences) > 2
        panel = app.query_one(SourcesPanel)
        assert sorted(n for s in panel.sources for n in s.numbers) == [1, 2]
        app.query_one(Transcript).focus()
        await pilot.press("5")
        await pilot.pause()
        assert not isinstance(app.screen, ArticleScreen)
        assert any("no citation [5]" in n.message for n in app._notifications)
