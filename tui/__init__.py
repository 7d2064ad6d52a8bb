"""The terminal chat (``newsdesk chat``): a Textual app over :class:`qa.Assistant`."""

from __future__ import annotations

from tui.app import NewsdeskApp, make_app, run

__all__ = ["NewsdeskApp", "make_app", "run"]
