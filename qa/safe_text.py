"""Make untrusted text safe to print in a terminal: control codes become visible escapes."""

from __future__ import annotations

import re

_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def visible(text: str) -> str:
    """``text`` with C0 (but tab and newline), DEL, C1 and bidi controls shown as ``\\xNN``/``\\uNNNN``.

    Terminals act on these (clearing the screen, OSC 8/52 links and clipboard writes, reordering
    text); shown as escapes they are only data. Everything else is returned unchanged.
    """
    return _UNSAFE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
