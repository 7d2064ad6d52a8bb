"""Batch evaluation of newsdesk: metrics, baselines and reports (``newsdesk eval``).

Import the modules, never the package name alone (``import eval`` would shadow the builtin)::

    from eval.metrics import contains, compute
"""

from __future__ import annotations
