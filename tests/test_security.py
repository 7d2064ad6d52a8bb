"""Security: nothing is unpickled, model folders cannot run foreign code, article text is only data
on the terminal, symlinks cannot pull files from outside, ids are never paths.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, FakeEmbedder

from index import store
from index.build import update_index
from index.embed.embedder import SentenceTransformerEmbedder
from index.embed.model_files import check_model_dir, default_model_dir
from index.errors import IndexCorruptError, ModelError
from index.ingest.articles import load_paths
from newsdesk.cli import main
from qa import Assistant
from qa.safe_text import visible

PRODUCT = ("index", "qa", "tui", "eval", "newsdesk")


def _evil_pickle(marker: Path) -> bytes:
    """Protocol-0 pickle bytes that, if ever unpickled, run ``touch marker`` (written by hand: no pickle here)."""
    return f"cos\nsystem\n(S'touch {marker}'\ntR.".encode()


# ---------------------------------------------------------------- no pickle


def test_no_pickle_or_remote_code_in_the_product() -> None:
    banned = re.compile(
        r"^\s*(import|from)\s+(pickle|cPickle|dill|joblib|cloudpickle)\b|pickle\.loads?\(|torch\.load\(|"
        r"allow_pickle\s*=\s*True|trust_remote_code\s*=\s*True|weights_only\s*=\s*False",
        re.M,
    )
    offenders = []
    for package in PRODUCT:
        for path in (ROOT / package).rglob("*.py"):
            offenders += [f"{path.relative_to(ROOT)}: {m.group(0).strip()}" for m in banned.finditer(path.read_text())]
    assert offenders == []


def test_ruff_bans_pickle() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "S301" in config["tool"]["ruff"]["lint"]["select"]
    ruff = Path(sys.executable).parent / "ruff"
    if not ruff.exists():
        pytest.skip("ruff is not installed in this environment")
    dirs = [p for p in PRODUCT if (ROOT / p).is_dir()]
    done = subprocess.run([str(ruff), "check", "--select", "S301", *dirs], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_a_planted_pickle_in_the_index_is_never_loaded(tiny_index: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    for name in ("metadata.pkl", "index.pickle", "sentences.pkl"):
        (tiny_index / "gen-000001" / name).write_bytes(_evil_pickle(marker))
    assistant = Assistant.open(tiny_index, embedder=FakeEmbedder())
    assert assistant.ask("When did the bridge reopen?").sentences
    assert "metadata.pkl" in store.verify(tiny_index).unlisted
    assert not marker.exists()


@pytest.mark.parametrize("name", ["sentences.npy", "bm25-sentences/data.csc.index.npy"])
def test_an_object_array_is_refused_even_with_valid_checksums(tiny_index: Path, tmp_path: Path, name: str) -> None:
    """A writer bug or an attacker who also rewrites the manifest: .npy files are read without pickle."""
    marker = tmp_path / "pwned"
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "|O", "fortran_order": False, "shape": (1,)})
    payload = buffer.getvalue() + _evil_pickle(marker)
    folder = tiny_index / "gen-000001"
    (folder / name).write_bytes(payload)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"][name] = {"sha256": hashlib.sha256(payload).hexdigest(), "bytes": len(payload)}
    raw = json.dumps(manifest).encode()
    (folder / "manifest.json").write_bytes(raw)
    (tiny_index / "CURRENT").write_text(f"gen-000001\nsha256 {hashlib.sha256(raw).hexdigest()}\n")
    with pytest.raises(IndexCorruptError, match="cannot read"):
        store.load(tiny_index)
    assert not marker.exists()


# ---------------------------------------------------------------- model folders


def _model_dir(tmp_path: Path, modules: object, weights: tuple[str, ...] = ("model.safetensors",)) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "modules.json").write_text(json.dumps(modules))
    for name in weights:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"weights")
    return folder


GOOD = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}]


@pytest.mark.parametrize(
    ("modules", "weights", "message"),
    [
        ([{"idx": 0, "name": "0", "path": "", "type": "evilpkg.Hook"}], ("model.safetensors",), "outside sentence_transformers"),
        ([{"type": "sentence_transformers_evil.Hook"}], ("model.safetensors",), "outside sentence_transformers"),
        ({"0": "sentence_transformers.models.Transformer"}, ("model.safetensors",), "expected a list"),
        ([{**GOOD[0], "path": "../../elsewhere"}], ("model.safetensors",), "leaves the model folder"),
        (GOOD, ("pytorch_model.bin",), "no model.safetensors"),
        (GOOD, ("model.safetensors", "2_Dense/pytorch_model.bin"), "pickled weights"),
    ],
)
def test_unsafe_model_folders_are_refused_before_import(
    tmp_path: Path, modules: object, weights: tuple[str, ...], message: str
) -> None:
    folder = _model_dir(tmp_path, modules, weights)
    with pytest.raises(ModelError, match=message):
        check_model_dir(folder)
    loaded = set(sys.modules)
    with pytest.raises(ModelError, match=message):
        SentenceTransformerEmbedder(folder)
    assert "evilpkg" not in sys.modules
    assert not {m for m in set(sys.modules) - loaded if m.startswith(("sentence_transformers", "transformers"))}


def test_the_bundled_model_passes_the_check() -> None:
    assert check_model_dir(default_model_dir()).is_dir()


# ---------------------------------------------------------------- hostile article text on the terminal

HOSTILE = (
    "Officials said [bold]nothing[/bold] [/] [/b] [TODO] [a[0]] changed. "
    "See [link=file:///etc/passwd]this[/link] and [@click=app.quit]quit[/] now. "
    "Screen \x1b[2J cleared, title \x1b]0;owned\x07 set, link \x1b]8;;http://evil.example\x1b\\here\x1b]8;;\x1b\\ too. "
    "Clipboard \x1b]52;c;aGVsbG8=\x07 written, C1 \x9b31m red, bell \x07 rang, \u202etxet desrever\u202c ends."
)
DANGEROUS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture
def hostile_index(tmp_path: Path) -> Path:
    row = {"id": "hostile", "title": "[bold]Council\x1b[2J\nvotes[/bold]", "source": "\x1b]0;x\x07Wire", "text": HOSTILE}
    (tmp_path / "h.jsonl").write_text(json.dumps(row) + "\n")
    index_dir = tmp_path / "index"
    update_index(index_dir, [tmp_path / "h.jsonl"], FakeEmbedder())
    return index_dir


def test_markup_and_control_sequences_print_literally(
    install_embedder, hostile_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install_embedder(FakeEmbedder())
    assert main(["ask", "What did officials say changed?", "--index", str(hostile_index), "-k", "10"]) == 0
    out = capsys.readouterr().out
    assert not DANGEROUS.search(out)
    for literal in ("[bold]nothing[/bold]", "[/] [/b] [TODO] [a[0]]", "[link=file:///etc/passwd]this[/link]"):
        assert literal in out
    assert "[@click=app.quit]quit[/]" in out
    assert "\\x1b[2J" in out and "\\x9b31m" in out and "\\x07" in out and "\\u202e" in out
    sources = out.split("Sources:")[1].strip().splitlines()
    assert len(sources) == len([line for line in out.split("Sources:")[0].splitlines() if line.startswith("[")])
    assert sources[0].startswith("[1] [bold]Council\\x1b[2J votes[/bold] — \\x1b]0;x\\x07Wire")


def test_json_output_keeps_the_exact_text(
    install_embedder, hostile_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install_embedder(FakeEmbedder())
    assert main(["ask", "What did officials say changed?", "--index", str(hostile_index), "--json"]) == 0
    out = capsys.readouterr().out
    assert not DANGEROUS.search(out)  # JSON escapes control characters itself
    for sentence in json.loads(out)["sentences"]:
        assert HOSTILE[sentence["start"] : sentence["end"]] == sentence["text"]
    assert any("\x1b[2J" in s["text"] for s in json.loads(out)["sentences"])


def test_visible_escapes_everything_a_terminal_acts_on() -> None:
    for char in ["\x1b", "\x07", "\x9b", "\x00", "\x7f", "\u202e", "\u2066", "\u2028", "\ud800", "\r", "\x08"]:
        shown = visible(f"a{char}b")
        assert char not in shown and shown.startswith("a\\") and shown.endswith("b")
        shown.encode("utf-8")  # printable to any UTF-8 terminal
    assert visible("tab\tand\nnewline, [bold] é 東京 🎉") == "tab\tand\nnewline, [bold] é 東京 🎉"


# ---------------------------------------------------------------- paths


def test_symlinks_leaving_the_folder_are_skipped(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("Secret title\n\nThe secret body.\n")
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "good.txt").write_text("Good title\n\nA good body.\n")
    (corpus / "leak.txt").symlink_to(outside / "secret.txt")
    (corpus / "linked-dir").symlink_to(outside, target_is_directory=True)
    (corpus / "alias.txt").symlink_to(corpus / "good.txt")  # stays inside: allowed
    (corpus / "sub" / "loop.txt").symlink_to(corpus / "sub" / "loop.txt")
    result = load_paths([corpus])
    assert sorted(a.id for a in result.articles) == ["alias", "good"]
    reasons = {Path(p.where).name: p.reason for p in result.problems}
    assert reasons["leak.txt"] == "symlink leads outside the folder; skipped"
    assert reasons["linked-dir"] == "symlinked folder, not followed; skipped"
    assert reasons["loop.txt"] == "symlink loop; skipped"
    assert all("secret" not in a.text for a in result.articles)


def test_ids_are_never_used_as_paths(tmp_path: Path) -> None:
    rows = [{"id": "../../escape", "text": "Dots in the id."}, {"id": "/etc/passwd", "text": "An absolute id."}]
    (tmp_path / "ids.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    work = tmp_path / "work"
    index_dir = work / "index"
    update_index(index_dir, [tmp_path / "ids.jsonl"], FakeEmbedder())
    assert sorted(p.name for p in work.iterdir()) == ["index"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ids.jsonl", "work"]
    ids = {a.id for a in store.load(index_dir).articles}
    assert ids == {"../../escape", "/etc/passwd"}
    shutil.rmtree(work)
