"""Screens pushed over the chat: an article, the help, the conversations, the no-index notice."""

from __future__ import annotations

from tui.screens.article import ArticleScreen, Cited
from tui.screens.conversations import ConversationsScreen
from tui.screens.help import HelpScreen
from tui.screens.notice import NoticeScreen

__all__ = ["ArticleScreen", "Cited", "ConversationsScreen", "HelpScreen", "NoticeScreen"]
