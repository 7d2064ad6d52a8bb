"""Every ``newsdesk ask|list|show`` line of the README works on the bundled corpus, as printed."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from newsdesk import cli

ROOT = Path(__file__).resolve().parent.parent
_LINE = re.compile(r"^\s{4}(?:\$ )?(newsdesk (?:ask|list|show) .*)$")


def readme_commands() -> list[list[str]]:
    found = []
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        match = _LINE.match(line)
        if match:
            words = shlex.split(match.group(1), comments=True)
            if words and "--index" not in words and all(w == w.strip() for w in words):
                found.append(words[1:])
    return found


def test_the_readme_has_such_lines() -> None:
    kinds = {words[0] for words in readme_commands()}
    assert kinds == {"ask", "list", "show"}


@pytest.mark.parametrize("words", readme_commands(), ids=lambda w: " ".join(w)[:60])
def test_readme_command_works_on_the_corpus(install_embedder, words, corpus_index: Path, real_embedder, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    install_embedder(real_embedder)
    assert cli.main([*words, "--index", str(corpus_index)]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert out.strip(), "prints something"
    if words[0] == "ask":
        if "--json" in words:
            assert json.loads(out)["answered"] is True
        else:
            assert out.startswith("Answer"), out[:200]
    elif words[0] == "list" and "--source" in words:
        outlet = words[words.index("--source") + 1]
        assert all(line.split("\t")[1] == outlet for line in out.splitlines())
