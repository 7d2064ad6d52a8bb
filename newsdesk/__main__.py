"""``python -m newsdesk``: the same as the ``newsdesk`` script."""

from __future__ import annotations

from newsdesk.cli import run

run()
