"""The chat TUI, driven with Textual's Pilot over an Assistant that uses the fake embedder."""

from __future__ import annotations

import html
import json
import re
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from textual.content import Content
from textual.widgets import OptionList, Static
from tui_snapshot_app import ask, chat_app, settle

from index.build import update_index
from index.errors import IndexCorruptError, IndexNotFoundError
from qa import Assistant
from qa.config import Settings
from tui.app import NewsdeskApp, make_app
from tui.export import conversation_markdown
from tui.screens import ArticleScreen, HelpScreen, NoticeScreen
from tui.screens.article import TARGET_STYLE, ArticleParagraph
from tui.text import Mark, literal, literal_with_marks, paragraphs
from tui.widgets import AnswerBubble, ArticleLine, CitationLine, PromptInput, QuestionBubble, SourcesPanel, StatusLine

BRIDGE = "How much did the Harbor Street bridge repairs cost?"
COMET = "Who discovered the comet?"
MARKUP_TEXT = (
    "The justices split [7-2] in the case, and the clerk read [bold]x[/bold] aloud.\n\n"
    "A footnote linked [link=file:///etc/passwd]x[/link] and said [@click=app.quit]x[/] "
    "with a stray \x1b[2J escape, a [TODO] note and [a[0]] nested brackets."
)


def plain(widget: Static) -> str:
    """What a Static shows, as plain text."""
    return str(widget.visual) if isinstance(widget.visual, Content) else str(widget.render())


def citation_texts(app: NewsdeskApp) -> list[str]:
    return [plain(line) for line in app.query(CitationLine)]


@pytest.fixture
def app(tiny_assistant: Assistant, tmp_path: Path) -> NewsdeskApp:
    return chat_app(tiny_assistant, tmp_path / "exports")


async def test_question_is_answered_with_cited_sentences(app: NewsdeskApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(pilot, BRIDGE, type_it=True)
        bubble = app.query_one(AnswerBubble)
        assert bubble.has_class("-answered")
        answer = bubble.answer
        assert answer is not None and answer.answered
        texts = citation_texts(app)
        assert any("The repairs cost $4.2 million" in t for t in texts)
        assert texts[0].startswith("[1] ")
        meta = plain(bubble.query(ArticleLine).first())
        assert "Harbor bridge reopens after repairs" in meta
        head = plain(bubble.query_one(".answer-head", Static))
        assert head.startswith("Answer · ") and f"({answer.confidence:.0%} sure [1] answers it)" in head
        sources = app.query_one(SourcesPanel)
        assert sources.turn == 1
        prompts = [str(o.prompt) for o in app.query_one(OptionList).options]
        assert any("Harbor bridge reopens after repairs" in p for p in prompts)
        assert "Ready" in plain(app.query_one(StatusLine))


async def test_unanswerable_question_looks_different(app: NewsdeskApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(pilot, "What is the capital of Mongolia?")
        bubble = app.query_one(AnswerBubble)
        assert bubble.has_class("-declined") and not bubble.has_class("-answered")
        assert plain(bubble.query_one(".answer-head", Static)).startswith("Not found in the articles")
        assert citation_texts(app), "the closest sentences are still shown"
        assert "Closest sources" in plain(app.query_one("#sources-title", Static))


async def test_number_key_opens_the_article_at_the_cited_sentence(app: NewsdeskApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(pilot, BRIDGE)
        answer = app.query_one(AnswerBubble).answer
        assert answer is not None
        await pilot.press("ctrl+o", "2")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ArticleScreen)
        cited = answer.sentences[1]
        assert screen.highlighted == (cited.start, cited.end)
        paragraph = screen.query_one(".-cited", ArticleParagraph)
        content = paragraph.visual
        assert isinstance(content, Content)
        marked = [str(content)[s.start : s.end] for s in content.spans if s.style == TARGET_STYLE]
        assert marked == [cited.text]
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ArticleScreen)


async def test_click_and_enter_open_citations(app: NewsdeskApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(pilot, COMET)
        answer = app.query_one(AnswerBubble).answer
        assert answer is not None
        await pilot.click(CitationLine)
        await pilot.pause()
        assert isinstance(app.screen, ArticleScreen)
        assert app.screen.highlighted == (answer.sentences[0].start, answer.sentences[0].end)
        await pilot.press("escape")
        await pilot.pause()
        app.query_one(OptionList).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ArticleScreen)
        assert app.screen.article.id == answer.sentences[0].article_id


async def test_typing_digits_in_the_question_box_does_not_open_citations(app: NewsdeskApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(pilot, BRIDGE)
        app.query_one(PromptInput).focus()
        await pilot.press("1", "2")
        assert app.query_one(PromptInput).value == "12"
        assert not isinstance(app.screen, ArticleScreen)


async def test_history_walks_back_and_forth(app: NewsdeskApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(pilot, BRIDGE)
        await ask(pilot, COMET)
        prompt = app.query_one(PromptInput)
        await pilot.press(*"draft")
        await pilot.press("up")
        assert prompt.value == COMET
        await pilot.press("up")
        assert prompt.value == BRIDGE
        await pilot.press("up")
        assert prompt.value == BRIDGE
        await pilot.press("down")
        assert prompt.value == COMET
        await pilot.press("down")
        assert prompt.value == "draft"


async def test_follow_ups_go_through_one_conversation_and_ctrl_n_starts_a_new_one(app: NewsdeskApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(pilot, COMET)
        await ask(pilot, "When will it be visible?")
        first = app.conversation
        assert len(first.turns) == 2
        assert len(app.query(QuestionBubble)) == 2
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert not app.query(QuestionBubble) and not app.query(AnswerBubble)
        assert app.conversation is not first and app.conversation.turns == []
        assert app.query_one(SourcesPanel).turn is None
        await ask(pilot, BRIDGE)
        assert len(app.conversation.turns) == 1
        assert [b.turn for b in app.query(AnswerBubble)] == [1]


async def test_question_typed_while_loading_is_answered_when_ready(tiny_assistant: Assistant, tmp_path: Path) -> None:
    release = threading.Event()

    def slow_factory() -> Assistant:
        release.wait(10)
        return tiny_assistant

    app = NewsdeskApp(slow_factory, export_dir=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert "Loading" in plain(app.query_one(StatusLine))
        assert app.loading, "quitting now must not wait for the loading thread (run() checks this)"
        await pilot.press(*BRIDGE, "enter")
        await pilot.pause()
        bubble = app.query_one(AnswerBubble)
        assert bubble.has_class("-pending")
        assert "Waiting for the index" in plain(bubble.query_one(".answer-head", Static))
        release.set()
        await settle(pilot)
        await settle(pilot)
        assert bubble.has_class("-answered") and not app.loading
        assert any("$4.2 million" in t for t in citation_texts(app))


async def test_no_index_shows_how_to_build_one(tmp_path: Path) -> None:
    app = make_app(Settings(index=tmp_path / "nowhere"), export_dir=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, NoticeScreen)
        text = plain(app.screen.query_one("#notice", Static))
        assert "No articles to chat about yet" in text
        assert f"newsdesk index PATH --index {tmp_path / 'nowhere'}" in text
        await pilot.press("q")
    assert app.return_code == 0


async def test_empty_index_and_unreadable_index_get_a_notice(tmp_path: Path) -> None:
    empty = SimpleNamespace(data=SimpleNamespace(articles=[]), conversation=lambda: None)
    app = NewsdeskApp(lambda: empty, index_label="idx", export_dir=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, NoticeScreen) and app.screen.missing
        assert "holds no articles" in plain(app.screen.query_one("#notice", Static))

    def corrupt() -> Any:
        raise IndexCorruptError("idx/gen-000001/sentences.npy: checksum mismatch")

    app = NewsdeskApp(corrupt, index_label="idx", export_dir=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, NoticeScreen) and not app.screen.missing
        text = plain(app.screen.query_one("#notice", Static))
        assert "cannot be opened" in text and "checksum mismatch" in text


async def test_loading_error_of_any_kind_is_shown_not_raised(tmp_path: Path) -> None:
    def broken() -> Any:
        raise RuntimeError("[bold]boom[/bold]")

    app = NewsdeskApp(broken, index_label="idx", export_dir=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, NoticeScreen)
        assert "internal error: RuntimeError: [bold]boom[/bold]" in plain(app.screen.query_one("#notice", Static))


async def test_bad_questions_get_a_message_in_the_transcript(app: NewsdeskApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("space", "enter")
        assert not app.query(QuestionBubble)
        prompt = app.query_one(PromptInput)
        prompt.value = "why " * 600
        await pilot.press("enter")
        await settle(pilot)
        bubble = app.query_one(AnswerBubble)
        assert bubble.has_class("-error")
        assert "the limit is 2,000" in plain(bubble.query_one(".answer-head", Static))


@pytest.fixture
def markup_assistant(tmp_path: Path, tiny_corpus: Path, fake_embedder: Any) -> Assistant:
    folder = tmp_path / "markup"
    folder.mkdir()
    (folder / "ruling.jsonl").write_text(
        '{"id": "ruling", "title": "Court splits [7-2] on [bold]markup[/bold]", "source": "[link=x]Wire[/link]", '
        '"published": "2025-05-01", "text": ' + json.dumps(MARKUP_TEXT) + "}\n",
        encoding="utf-8",
    )
    update_index(tmp_path / "idx", [tiny_corpus, folder], fake_embedder)
    return Assistant.open(tmp_path / "idx", embedder=fake_embedder)


async def test_markup_in_articles_and_questions_is_shown_literally(markup_assistant: Assistant, tmp_path: Path) -> None:
    app = chat_app(markup_assistant, tmp_path)
    question = "How did the justices split [7-2]? [@click=app.quit]x[/] [bold]y[/bold]"
    async with app.run_test(size=(150, 45)) as pilot:
        await ask(pilot, question, type_it=True)
        assert plain(app.query_one(QuestionBubble)) == "You  " + question
        texts = citation_texts(app)
        assert any("split [7-2] in the case, and the clerk read [bold]x[/bold] aloud." in t for t in texts)
        number = next(i for i, line in enumerate(app.query(CitationLine), 1) if line.sentence.article_id == "ruling")
        await pilot.press("ctrl+o", str(number))
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ArticleScreen)
        shown = "\n\n".join(plain(p) for p in screen.query(ArticleParagraph))
        assert shown == MARKUP_TEXT.replace("\x1b", "\\x1b")
        head = plain(screen.query_one("#article-head", Static))
        assert "Court splits [7-2] on [bold]markup[/bold]" in head and "[link=x]Wire[/link]" in head
        for paragraph in screen.query(ArticleParagraph):
            for span in paragraph.visual.spans:  # type: ignore[union-attr]
                assert isinstance(span.style, str) and "link" not in span.style and "@" not in span.style
        rendered = html.unescape(app.export_screenshot()).replace("\xa0", " ")
        for literal_text in ("[7-2]", "[bold]x[/bold]", "[link=file:///etc/passwd]x[/link]", "[@click=app.quit]x[/]",
                             "\\x1b[2J", "[TODO]", "[a[0]]"):
            assert literal_text in rendered
        assert "\x1b" not in rendered
        await pilot.click(ArticleParagraph, offset=(30, 0))
        await pilot.click(ArticleParagraph, offset=(60, 0))
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, ArticleScreen)


async def test_export_and_copy(app: NewsdeskApp, tmp_path: Path) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(pilot, BRIDGE)
        await pilot.press("ctrl+s")
        await pilot.pause()
        files = list((tmp_path / "exports").glob("newsdesk-chat-*.md"))
        assert len(files) == 1
        exported = files[0].read_text(encoding="utf-8")
        assert f"## 1. {BRIDGE}" in exported and "The repairs cost $4.2 million" in exported
        notes = [n.message for n in app._notifications]
        assert any(str(files[0]) in m for m in notes)
        await ask(pilot, COMET)
        await pilot.press("ctrl+y")
        await pilot.pause()
        first = app.turns[1].answer.sentences[0]  # type: ignore[union-attr]
        assert app.clipboard == f"“{first.text}” — {first.title}, {first.source}, {first.published}, {first.url}"
        saved = tmp_path / "exports" / "newsdesk-citation.txt"
        assert saved.read_text(encoding="utf-8") == app.clipboard + "\n"
        assert any(str(saved) in n.message for n in app._notifications)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert list((tmp_path / "exports").glob("newsdesk-chat-*.md")) == files, "one conversation, one file"
        assert f"## 2. {COMET}" in files[0].read_text(encoding="utf-8")


async def test_help_palette_commands_and_small_terminal(app: NewsdeskApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ask(pilot, BRIDGE)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for title in ("New conversation", "Conversations", "Export conversation", "Copy citation", "Help", "Theme"):
            assert title in titles
        assert app.screen.has_class("-narrow")
        assert app.query_one(SourcesPanel).region.height == 0, "narrow: the answer has the room; Ctrl+O shows sources"
        for widget in (app.query_one(PromptInput), app.query_one(CitationLine)):
            assert widget.region.width > 20 and widget.region.height > 0
            assert widget.region.right <= 80 and widget.region.bottom <= 24
        await pilot.press("ctrl+o")
        await pilot.pause()
        sources = app.query_one(SourcesPanel).region
        assert sources.height >= 8 and sources.bottom <= 24 and app.focused is app.query_one("#sources-list")
        await pilot.press("escape")
        await pilot.pause()
        assert app.query_one(SourcesPanel).region.height == 0 and app.focused is app.query_one(PromptInput)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        app.theme = "textual-light"
        await pilot.pause()
        assert app.query_one(CitationLine).region.height > 0


def test_literal_with_marks_keeps_offsets_across_control_characters() -> None:
    text = "a\x1bb said [x] here."
    content = literal_with_marks(text, [Mark(9, 12, "bold")])
    assert str(content) == "a\\x1bb said [x] here."
    (span,) = content.spans
    assert str(content)[span.start : span.end] == "[x]"
    assert str(literal("[bold]\r\nx\x07")) == "[bold]\nx\\x07"


def test_paragraphs_keep_offsets() -> None:
    text = "\nFirst one.\n\n\n  Second\nline.  \n\n"
    blocks = paragraphs(text)
    assert [b.text for b in blocks] == ["First one.", "Second\nline."]
    assert all(text[b.start : b.end] == b.text for b in blocks)


def test_conversation_markdown_marks_unanswered(tiny_assistant: Assistant) -> None:
    answered = tiny_assistant.ask(BRIDGE)
    declined = tiny_assistant.ask("What is the capital of Mongolia?")
    text = conversation_markdown([(BRIDGE, answered), ("capital?", declined), ("pending?", None)], "idx")
    assert "**Answer** (confidence" in text
    assert "**Not found in the articles.** Closest sentences" in text
    assert "*(not answered)*" in text
    assert "(harbor-bridge, chars" in text


def test_missing_index_error_type_is_the_one_the_app_catches(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError):
        Assistant.open(tmp_path / "none")


def test_answer_phrase_and_syndicated_copies_are_shown_when_present() -> None:
    from qa.types import ArticleRef, Sentence
    from tui.widgets.bubbles import meta_content, sentence_content

    text = "Officials said [2,700] troops remain."
    sentence = Sentence(
        text=text, start=100, end=100 + len(text), span_start=115, span_end=122, title="T [x]", source="Wire",
        published="2025-07-15T10:00:00Z", url=None, article_id="a", score=0.9,
        also_in=[ArticleRef(article_id="b", source="Daily [b]", published="2025-07-16")],
    )
    content = sentence_content(3, sentence)
    assert str(content) == "[3] " + text
    bold = [str(content)[s.start : s.end] for s in content.spans if "bold underline" == s.style]
    assert bold == ["[2,700]"]
    meta = str(meta_content(sentence))
    assert meta == "Wire · 2025-07-15 · T [x]  · also in Daily [b] · 2025-07-16"


async def test_long_article_is_scrolled_to_the_cited_sentence(tmp_path: Path, fake_embedder: Any) -> None:
    filler = "\n\n".join(f"Paragraph {n} talks about weather and nothing else at all." for n in range(60))
    text = filler + "\n\nThe lighthouse keeper counted 917 gulls on the northern pier.\n\nThe end."
    folder = tmp_path / "long"
    folder.mkdir()
    (folder / "long.json").write_text(json.dumps({"id": "long", "title": "Gulls", "text": text}), encoding="utf-8")
    update_index(tmp_path / "idx", [folder], fake_embedder)
    assistant = Assistant.open(tmp_path / "idx", embedder=fake_embedder)
    app = chat_app(assistant, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ask(pilot, "How many gulls did the lighthouse keeper count on the pier?")
        answer = app.query_one(AnswerBubble).answer
        assert answer is not None and "917 gulls" in answer.sentences[0].text
        await pilot.press("ctrl+o", "1")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ArticleScreen)
        body = screen.query_one("#article-body")
        cited = screen.query_one(".-cited", ArticleParagraph)
        assert body.scroll_y > 0
        assert body.region.contains_region(cited.region), "the cited paragraph is in view"


async def test_clicking_an_earlier_answer_shows_its_sources(app: NewsdeskApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await ask(pilot, BRIDGE)
        await ask(pilot, COMET)
        assert app.query_one(SourcesPanel).turn == 2
        first = app.query(AnswerBubble).first()
        first.scroll_visible(animate=False)
        await pilot.pause()
        await pilot.click(first.query_one(".answer-head"))
        await pilot.pause()
        assert app.query_one(SourcesPanel).turn == 1 and app.current_turn == 1


async def test_seed_question_with_the_real_model(corpus_assistant: Assistant, tmp_path: Path) -> None:
    app = chat_app(corpus_assistant, tmp_path)
    async with app.run_test(size=(150, 45)) as pilot:
        await ask(pilot, "How many troops remain in the Los Angeles area?")
        first = app.query(CitationLine).first()
        assert "roughly 2,700 Guard and Marine forces remain" in plain(first)
        title = "Pentagon withdraws 2,000 National Guard troops from Los Angeles"
        assert title in plain(app.query(ArticleLine).first())
        # the answer phrase is styled apart, so the SVG splits the line into pieces: read the text alone
        screen = html.unescape(re.sub(r"<[^>]+>", "", app.export_screenshot())).replace("\xa0", " ")
        assert "roughly 2,700 Guard and Marine forces remain" in screen and title in screen
        sentence = first.sentence
        assert sentence.span_start is not None and sentence.span_end is not None
        assert "2,700" in sentence.text[sentence.span_start - sentence.start : sentence.span_end - sentence.start]


async def test_enter_on_a_sentence_in_the_transcript_opens_it(app: NewsdeskApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(pilot, BRIDGE)
        await ask(pilot, COMET)
        transcript = app.query_one("#transcript")
        transcript.focus()
        await pilot.pause()
        second = app.query_one(SourcesPanel)  # the latest answer is turn 2
        assert second.turn == 2
        answer = app.turns[0].answer
        assert answer is not None
        lines = [line for line in app.query(CitationLine) if line.turn == 1]
        last = lines[-1].number  # going up from turn 2, the first line of turn 1 is its last one (reading order)
        for _ in range(12):
            await pilot.press("up")
            cursor = transcript.cursor  # type: ignore[attr-defined]
            if cursor is not None and cursor.turn == 1:
                break
        await pilot.press("down", "up")
        cursor = transcript.cursor  # type: ignore[attr-defined]
        assert cursor is not None and (cursor.turn, cursor.number) == (1, last)
        assert cursor.has_class("-cursor")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ArticleScreen)
        assert app.screen.highlighted == (answer.sentences[last - 1].start, answer.sentences[last - 1].end)


def test_verdict_words_follow_the_verdict_and_the_figure() -> None:
    from tui.text import verdict_words

    assert verdict_words(0.9, True) == "Answer · likely right (90% sure [1] answers it)"
    assert verdict_words(0.6, True) == "Answer · possibly right (60% sure [1] answers it)"
    assert verdict_words(0.21, True) == "Answer · uncertain (21% sure [1] answers it)"
    assert verdict_words(0.9, False) == "Not found in the articles", "a decline shows no figure to contradict it"
