"""Damaged index files: every file deleted, zeroed, half-truncated or bit-flipped in turn gives
IndexCorruptError naming the file and "run newsdesk index" -- checked before FAISS parses anything.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from conftest import FakeEmbedder
from reliability_support import answers, assert_whole

from index import store
from index.build import update_index
from index.errors import IndexCorruptError
from newsdesk.cli import main


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    index_dir = tmp_path_factory.mktemp("pristine") / "index"
    update_index(index_dir, [Path(__file__).parent / "data" / "articles"], FakeEmbedder())
    return index_dir


def index_files(index_dir: Path) -> list[str]:
    """Every file of the live generation (relative to the index folder), CURRENT included."""
    folder = index_dir / "gen-000001"
    return ["CURRENT"] + sorted(p.relative_to(index_dir).as_posix() for p in folder.rglob("*") if p.is_file())


def delete(path: Path) -> None:
    path.unlink()


def zero(path: Path) -> None:
    path.write_bytes(bytes(path.stat().st_size))


def truncate(path: Path) -> None:
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])


def flip(offset: float) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        raw = bytearray(path.read_bytes())
        raw[min(len(raw) - 1, int(len(raw) * offset))] ^= 0x01
        path.write_bytes(bytes(raw))

    return damage


DAMAGE = {"delete": delete, "zero": zero, "truncate": truncate, "flip-first": flip(0.0), "flip-middle": flip(0.5)}


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The bytes FAISS is asked to parse (it must only ever see checked bytes)."""
    import faiss

    seen: list[bytes] = []
    real = faiss.deserialize_index

    def spy(data: np.ndarray) -> object:
        seen.append(bytes(data))
        return real(data)

    monkeypatch.setattr(faiss, "deserialize_index", spy)
    return seen


@pytest.mark.parametrize("how", DAMAGE)
def test_every_damaged_file_is_named(pristine: Path, tmp_path: Path, how: str, parsed: list[bytes]) -> None:
    good_faiss = {(pristine / f).read_bytes() for f in index_files(pristine) if f.endswith(".faiss")}
    for name in index_files(pristine):
        index_dir = tmp_path / name.replace("/", "_")
        shutil.copytree(pristine, index_dir)
        DAMAGE[how](index_dir / name)
        with pytest.raises(IndexCorruptError) as caught:
            store.load(index_dir)
        message = str(caught.value)
        shown = name if name == "CURRENT" else Path(name).name
        assert shown in message and "run newsdesk index" in message, (name, message)
        assert "\n" not in message
        with pytest.raises(IndexCorruptError):
            store.verify(index_dir)
    assert set(parsed) <= good_faiss  # no damaged bytes ever reached faiss


def test_flipping_any_byte_of_current_never_opens_the_wrong_thing(pristine: Path, tmp_path: Path) -> None:
    before = answers(pristine)
    size = (pristine / "CURRENT").stat().st_size
    for offset in range(size):
        index_dir = tmp_path / f"flip-{offset}"
        shutil.copytree(pristine, index_dir)
        raw = bytearray((index_dir / "CURRENT").read_bytes())
        raw[offset] ^= 0x01
        (index_dir / "CURRENT").write_bytes(bytes(raw))
        try:
            got = answers(index_dir)
        except IndexCorruptError as exc:
            assert "CURRENT" in str(exc) or "manifest.json" in str(exc) or "gen-" in str(exc)
        else:  # only a flip that does not change its meaning (trailing white space) may still open
            assert got == before, offset


def _rewrite_manifest(index_dir: Path, change: Callable[[dict], None]) -> None:
    """Edit the manifest and re-seal it in CURRENT, as a buggy (not a damaged) writer would."""
    path = index_dir / "gen-000001" / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    payload = json.dumps(manifest).encode()
    path.write_bytes(payload)
    (index_dir / "CURRENT").write_text(f"gen-000001\nsha256 {hashlib.sha256(payload).hexdigest()}\n")


def _reseal(index_dir: Path, name: str) -> None:
    raw = (index_dir / "gen-000001" / name).read_bytes()
    entry = {"sha256": hashlib.sha256(raw).hexdigest(), "bytes": len(raw)}
    _rewrite_manifest(index_dir, lambda m: m["files"].__setitem__(name, entry))


def test_ntotal_different_from_rows(pristine: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    shutil.copytree(pristine, index_dir)
    data = store.load(index_dir)
    data.sentence_vectors.index.add(np.ones((1, data.model.dim), dtype=np.float32) / 8.0)
    with store.write_lock(index_dir):
        store.save(index_dir, data)
    with pytest.raises(IndexCorruptError, match=r"sentences\.faiss: 15 vectors \(ntotal\), expected 14; run newsdesk index"):
        store.load(index_dir)


def test_row_references_outside_the_articles(pristine: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    shutil.copytree(pristine, index_dir)
    folder = index_dir / "gen-000001"
    table = np.load(folder / "sentences.npy")
    table[3, 2] = 10**6  # an end offset past the article
    np.save(folder / "sentences.npy", table, allow_pickle=False)
    _reseal(index_dir, "sentences.npy")
    with pytest.raises(IndexCorruptError, match=r"sentences\.npy: offsets outside the articles"):
        store.load(index_dir)


def test_counts_in_the_manifest_must_match(pristine: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    shutil.copytree(pristine, index_dir)
    _rewrite_manifest(index_dir, lambda m: m["counts"].__setitem__("articles", 6))
    with pytest.raises(IndexCorruptError, match=r"articles\.jsonl: 5 articles, expected 6"):
        store.load(index_dir)


def test_a_manifest_listing_paths_outside_is_refused(pristine: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    shutil.copytree(pristine, index_dir)
    _rewrite_manifest(index_dir, lambda m: m["files"].__setitem__("../../etc/passwd", {"sha256": "0", "bytes": 1}))
    with pytest.raises(IndexCorruptError, match="bad file entry"):
        store.load(index_dir)


def test_missing_generation_folder(pristine: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    shutil.copytree(pristine, index_dir)
    shutil.rmtree(index_dir / "gen-000001")
    with pytest.raises(IndexCorruptError, match="gen-000001 named by CURRENT is missing"):
        store.load(index_dir)


def test_cli_reports_corruption_in_one_line_and_index_rebuilds(
    install_embedder,
    pristine: Path, tmp_path: Path, tiny_corpus: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    index_dir = tmp_path / "index"
    shutil.copytree(pristine, index_dir)
    flip(0.5)(index_dir / "gen-000001" / "sentences.faiss")
    install_embedder(FakeEmbedder())
    capsys.readouterr()
    assert main(["ask", "When did the bridge reopen?", "--index", str(index_dir)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "sentences.faiss: checksum mismatch (expected sha256 " in err
    assert "run newsdesk index" in err and "Traceback" not in err
    assert main(["verify", "--index", str(index_dir), "--no-model"]) == 1
    assert "sentences.faiss" in capsys.readouterr().err
    # the hint works: indexing again rebuilds the index, with a warning
    assert main(["index", str(tiny_corpus), "--index", str(index_dir)]) == 0
    err = capsys.readouterr().err
    assert "warning:" in err and "rebuild" in err
    assert_whole(index_dir)
    assert main(["verify", "--index", str(index_dir), "--no-model"]) == 0
    out = capsys.readouterr().out
    assert "generation 2" in out and "5 articles" in out and out.strip().endswith("ok")
