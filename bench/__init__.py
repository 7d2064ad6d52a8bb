"""``make bench``: speed, memory and size of newsdesk against the naive reference, side by side."""

from __future__ import annotations
