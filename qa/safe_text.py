"""Make untrusted text safe to print in a terminal: control codes become visible escapes."""

from __future__ import annotations

import re

_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def visible(text: str) -> str:
    """``text`` with C0 (but tab and newline), DEL, C1, bidi controls, line/paragraph separators and
    lone surrogates shown as ``\\xNN``/``\\uNNNN``.

    Terminals act on these (clearing the screen, OSC 8/52 links and clipboard writes, reordering
    text); a lone surrogate cannot even be encoded. Shown as escapes they are only data.
    Everything else is returned unchanged.
    """
    return _UNSAFE.sub(_escape, text)


def one_line(text: str) -> str:
    """:func:`visible`, with every run of white space (newlines included) made one space."""
    return visible(" ".join(text.split()))


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_json(text: str) -> str:
    """A JSON document with the characters :func:`visible` escapes written as ``\\uXXXX``.

    Only valid inside JSON strings, where they always are: the parsed value is unchanged, but a
    terminal shown the raw output never sees a C1 control or a bidi override.
    """
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
