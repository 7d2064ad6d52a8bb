"""The chat's widgets, one per module."""

from __future__ import annotations

from tui.widgets.bubbles import AnswerBubble, ArticleLine, CitationLine, QuestionBubble
from tui.widgets.prompt import PromptInput
from tui.widgets.sources import SourcesPanel
from tui.widgets.status import StatusLine
from tui.widgets.transcript import Transcript

__all__ = ["AnswerBubble", "ArticleLine", "CitationLine", "PromptInput", "QuestionBubble", "SourcesPanel", "StatusLine", "Transcript"]
