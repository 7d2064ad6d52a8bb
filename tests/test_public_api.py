"""The library entry point: ``from qa import Assistant`` and a complete, sorted, working ``__all__``."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import qa

ROOT = Path(__file__).resolve().parent.parent


def test_every_public_name_resolves_in_a_fresh_interpreter() -> None:
    # each name of __all__ must import from its home module (a bogus name fails here)
    code = "import qa; missing = [n for n in qa.__all__ if getattr(qa, n, None) is None]; print(missing)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_all_lists_exactly_the_lazy_names_sorted() -> None:
    tree = ast.parse((ROOT / "qa" / "__init__.py").read_text(encoding="utf-8"))
    homes = next(
        node.value for node in tree.body if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "_HOME"
    )
    assert isinstance(homes, ast.Dict)
    declared = {key.value for key in homes.keys if isinstance(key, ast.Constant)}
    assert set(qa.__all__) == declared
    assert qa.__all__ == sorted(qa.__all__)


def test_entry_points_exist() -> None:
    assert callable(qa.Assistant.open) and callable(qa.Assistant.build)
    assert issubclass(qa.QuestionError, ValueError) and issubclass(qa.QuestionError, qa.NewsdeskError)
