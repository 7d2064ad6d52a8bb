"""Article loaders, one test per format, then bad files: each is named with its reason, the good
articles are kept, nothing raises. Unicode of every kind keeps citation offsets exact.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import DATA, FakeEmbedder

from index import store
from index.build import update_index
from index.errors import NoArticlesError
from index.ingest import articles as loaders
from index.ingest.articles import MAX_FILE_BYTES, decode_bytes, load_paths
from newsdesk.cli import main
from qa import Assistant


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 14)) + chunk(b"IEND", b"")


def _by_where(problems: list[loaders.Problem]) -> dict[str, str]:
    return {Path(p.where).name: p.reason for p in problems}


# ---------------------------------------------------------------- one test per format


def test_txt_title_then_body(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("\n\nBridge reopens\nThe bridge reopened on Monday.\n", encoding="utf-8")
    [article] = load_paths([tmp_path]).articles
    assert (article.id, article.title, article.text) == ("a", "Bridge reopens", "The bridge reopened on Monday.")


def test_markdown_front_matter_and_heading(tmp_path: Path) -> None:
    (tmp_path / "fm.md").write_text(
        "---\ntitle: Levy passes\nsource: Valley Courier\npublished: 2025-03-14\nurl: https://v.example/x\n---\n\n"
        "Voters approved the levy.\n",
        encoding="utf-8",
    )
    (tmp_path / "h.md").write_text("# Storm closes schools\n\nAll schools closed on Friday.\n", encoding="utf-8")
    result = load_paths([tmp_path])
    fm, heading = sorted(result.articles, key=lambda a: a.id)
    assert (fm.title, fm.source, fm.published, fm.url) == ("Levy passes", "Valley Courier", "2025-03-14", "https://v.example/x")
    assert fm.text == "Voters approved the levy."
    assert (heading.title, heading.text) == ("Storm closes schools", "All schools closed on Friday.")
    assert result.problems == []


def test_bad_front_matter_is_named_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "bad.md").write_text("---\ntitle: [unclosed\n---\nBody text here.\n", encoding="utf-8")
    result = load_paths([tmp_path])
    assert result.articles == [] and "invalid YAML front matter" in result.problems[0].reason
    assert result.problems[0].where.startswith(str(tmp_path / "bad.md") + ":")


def test_json_object_and_list(tmp_path: Path) -> None:
    (tmp_path / "one.json").write_text(json.dumps({"title": "T", "text": "  exact  text \n"}), encoding="utf-8")
    (tmp_path / "many.json").write_text(json.dumps([{"text": "First."}, {"id": "x-2", "text": "Second."}]))
    result = load_paths([tmp_path])
    assert {a.id: a.text for a in result.articles} == {"many#1": "First.", "x-2": "Second.", "one": "  exact  text \n"}


def test_jsonl_ids_and_fields(tmp_path: Path) -> None:
    rows = [{"text": "No id here."}, {"id": 7, "text": "Integer id.", "published": "2025-07-15T08:00:00Z", "source": "Wire"}]
    (tmp_path / "w.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    first, second = load_paths([tmp_path]).articles
    assert (first.id, second.id, second.published, second.source) == ("w#1", "7", "2025-07-15T08:00:00Z", "Wire")


def test_html_page() -> None:
    result = load_paths([DATA / "pages" / "harbor-tunnel.html"])
    assert len(result.articles) == 1 and result.articles[0].title and len(result.articles[0].text) > 100


def test_jsonl_keeps_line_separators_inside_strings(tmp_path: Path) -> None:
    text = "One\u2028two\x85three\x1cfour."
    (tmp_path / "sep.jsonl").write_text(json.dumps({"text": text}, ensure_ascii=False) + "\n", encoding="utf-8")
    result = load_paths([tmp_path])
    assert [a.text for a in result.articles] == [text] and result.problems == []


# ---------------------------------------------------------------- bad files


@pytest.fixture
def bad_folder(tmp_path: Path) -> Path:
    """The "must show" folder: PNG named .txt, Latin-1, UTF-16, empty, broken JSONL line 2, duplicates ..."""
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "image.txt").write_bytes(_png())
    (folder / "latin1.txt").write_bytes("Café owners protest\n\nThe café on Rue Lépine closed in août.\n".encode("latin-1"))
    (folder / "utf16.txt").write_bytes("Dam opens\n\nThe new dam opened on Tuesday.\n".encode("utf-16"))
    (folder / "utf16-nobom.txt").write_bytes("Dam closes\n\nThe old dam closed on Wednesday.\n".encode("utf-16-le"))
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.md").write_text("  \n\t\n")
    (folder / "broken.jsonl").write_text(
        '{"id": "ok-1", "text": "The first line is fine."}\n'
        '{"id": "bad", "text": "missing the closing brace"\n'
        '{"id": "ok-3", "text": "The third line is fine too."}\n',
        encoding="utf-8",
    )
    (folder / "nan.jsonl").write_text('{"text": "Has a NaN.", "score": NaN}\n')
    (folder / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (folder / "dupkeys.json").write_text('{"text": "first", "text": "second"}')
    (folder / "dups.jsonl").write_text('{"id": "same", "text": "Version one."}\n{"id": "same", "text": "Version two."}\n')
    (folder / "zz-other.json").write_text('{"id": "ok-1", "text": "Another article claiming id ok-1."}')
    (folder / "punct.txt").write_text("Title only?\n\n... !!! --- ???\n")
    (folder / "notes.csv").write_text("not,an,article\n")
    with (folder / "huge.txt").open("wb") as handle:  # sparse: costs no disk
        handle.truncate(MAX_FILE_BYTES + 1)
    return folder


def test_bad_files_are_named_and_the_good_ones_kept(bad_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = Path.open

    def spy_open(self: Path, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        assert self.name != "huge.txt", "the huge file was opened"
        return real_open(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "open", spy_open)
    os.mkfifo(bad_folder / "pipe.txt")  # would block a reader forever
    result = load_paths([bad_folder])
    ids = [a.id for a in result.articles]
    assert ids == ["ok-1", "ok-3", "same", "latin1", "utf16-nobom", "utf16"]
    by_id = {a.id: a for a in result.articles}
    assert by_id["latin1"].text == "The café on Rue Lépine closed in août."
    assert by_id["utf16"].title == "Dam opens" and by_id["utf16-nobom"].title == "Dam closes"
    assert by_id["same"].text == "Version one."  # first in path order wins

    problems = {p.where.removeprefix(str(bad_folder) + "/"): p for p in result.problems}
    assert problems["image.txt"].reason == "binary file, not text; skipped"
    assert problems["latin1.txt"].reason == "invalid UTF-8 at byte 3; read as Windows-1252"
    assert not problems["latin1.txt"].skipped
    assert problems["utf16-nobom.txt"].reason == "no byte-order mark; read as UTF-16"
    assert problems["empty.txt"].reason == "empty file" and problems["blank.md"].reason == "empty file"
    assert problems["broken.jsonl:2:50"].reason.startswith("invalid JSON: Expecting ',' delimiter")
    assert problems["nan.jsonl:1"].reason == "invalid JSON: NaN is not valid JSON"
    assert problems["deep.json"].reason == "invalid JSON: nested too deeply"
    assert problems["dupkeys.json"].reason == "invalid JSON: duplicate key 'text'"
    assert problems["dups.jsonl:2"].reason == f"duplicate id 'same', first seen in {bad_folder}/dups.jsonl:1; skipped"
    assert problems["zz-other.json"].reason == f"duplicate id 'ok-1', first seen in {bad_folder}/broken.jsonl:1; skipped"
    assert problems["punct.txt"].reason == "text has no letters or digits; skipped"
    assert problems["huge.txt"].reason == f"file is {MAX_FILE_BYTES + 1:,} bytes, over the {MAX_FILE_BYTES:,}-byte limit; skipped unread"
    assert problems["pipe.txt"].reason == "not a regular file; skipped"
    assert len(result.problems) == 14  # notes.csv is not an article file and not a problem


def test_cli_index_of_bad_files(
    install_embedder,
    bad_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    install_embedder(FakeEmbedder())
    index_dir = tmp_path / "index"
    assert main(["index", str(bad_folder), "--index", str(index_dir)]) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"skipped: {bad_folder}/broken.jsonl:2:50: invalid JSON" in err
    assert f"skipped: {bad_folder}/image.txt: binary file" in err
    assert f"warning: {bad_folder}/latin1.txt: invalid UTF-8 at byte 3" in err
    assert "6 added, 0 updated, 0 unchanged, 11 skipped, 2 with warnings; 6 articles" in err
    assert main(["ask", "Which café closed?", "--index", str(index_dir), "--json"]) == 0
    top = json.loads(capsys.readouterr().out)["sentences"][0]
    assert top["article_id"] == "latin1" and "café" in top["text"]


def test_zero_articles_exits_2_and_writes_nothing(
    install_embedder,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "nothing"
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")
    (folder / "data.csv").write_text("a,b\n")
    install_embedder(FakeEmbedder())
    assert main(["index", str(folder), "--index", str(tmp_path / "index")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"newsdesk: no articles found in {folder} (accepted: .jsonl, .json, .txt")
    assert "empty.txt: empty file" in err and err.count("\n") == 1
    assert not (tmp_path / "index").exists()
    with pytest.raises(NoArticlesError):
        update_index(tmp_path / "index", [tmp_path / "missing"], FakeEmbedder())


def test_decode_policy() -> None:
    assert decode_bytes("ok".encode("utf-8-sig")) == ("ok", None)
    assert decode_bytes(b"a\x00b\x00c\x00\xff\xfe\x00")[0] is None
    assert decode_bytes(b"abc \x80\x99 def")[1] == "invalid UTF-8 at byte 4; read as Windows-1252"
    assert decode_bytes(b"\x81\x8d\x8f\x90\x9d")[1] == "invalid UTF-8 at byte 0; read as Latin-1"


# ---------------------------------------------------------------- unicode and offsets


TEXTS = {
    "nfd": "Caf\u0065\u0301 owners in Montre\u0301al met on Monday. The cafe\u0301 will reopen.",
    "nfc": "Caf\u00e9 owners in Montr\u00e9al met on Monday. The caf\u00e9 will reopen.",
    "zero-width": "The ma\u200byor sig\u200dned the bill\ufeff on Friday. It takes effect in May.",
    "rtl": "The minister said \u202eodnetni\u202c that \u05e9\u05dc\u05d5\u05dd means peace. \u0627\u0644\u0633\u0644\u0627\u0645 too.",
    "emoji": "Fans cheered \U0001f389\U0001f3c6 as the team won 3-1. The parade \U0001f1fa\U0001f1f8 is on Sunday.",
    "cjk": "東京都は月曜日に新しい条例を発表した。条例は四月に施行される。住民は歓迎した。",
    "surrogate": "A broken \ud800 escape sits here. The rest is fine.",
    "markup": "The [bold]council[/bold] voted [link=file:///etc/passwd]yes[/link] on \x1b[2Jthe plan.",
}


@pytest.fixture
def unicode_index(tmp_path: Path) -> Path:
    rows = [{"id": key, "title": key, "text": text} for key, text in TEXTS.items()]
    rows.append({"id": "ws", "text": " \t\u3000\u00a0 "})  # white space only
    rows.append({"id": "dots", "text": "... -- !!"})
    (tmp_path / "u.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    index_dir = tmp_path / "index"
    report = update_index(index_dir, [tmp_path / "u.jsonl"], FakeEmbedder())
    reasons = {Path(p.where).name: p.reason for p in report.problems}
    assert reasons["u.jsonl:9"] == 'missing or empty "text"; skipped'
    assert reasons["u.jsonl:10"] == "text has no letters or digits; skipped"
    assert reasons["u.jsonl:7"] == "lone surrogate code points in text replaced by U+FFFD"
    return index_dir


def test_unicode_is_stored_exactly_and_offsets_map_back(unicode_index: Path) -> None:
    data = store.load(unicode_index)
    stored = {a.id: a.text for a in data.articles}
    expected = {k: v for k, v in TEXTS.items() if k != "surrogate"}
    assert {k: stored[k] for k in expected} == expected
    assert stored["surrogate"] == TEXTS["surrogate"].replace("\ud800", "\ufffd")
    assert len(stored["surrogate"]) == len(TEXTS["surrogate"])  # one code point for one: offsets unchanged
    assistant = Assistant.open(unicode_index, embedder=FakeEmbedder())
    for key in TEXTS:
        answer = assistant.ask(stored[key].split(".")[0][:40], k=5)
        assert answer.sentences
        for sentence in answer.sentences:
            assert stored[sentence.article_id][sentence.start : sentence.end] == sentence.text
        json.loads(answer.model_dump_json())  # serialisable (no lone surrogates left)
    cjk_rows = [i for i in range(len(data.sentences)) if data.articles[int(data.sentences[i, 0])].id == "cjk"]
    assert len(cjk_rows) == 3


def test_no_nan_vectors(unicode_index: Path) -> None:
    data = store.load(unicode_index)
    for index in (data.sentence_vectors, data.chunk_vectors):
        vectors = index.all()
        assert np.isfinite(vectors).all()
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)


def test_an_unpunctuated_100kb_sentence_is_cut_into_bounded_pieces(tmp_path: Path) -> None:
    from index.splitter import MAX_SENTENCE_CHARS, split_sentences

    text = "word " * 20_000
    spans = split_sentences(text)
    assert max(e - s for s, e in spans) <= MAX_SENTENCE_CHARS
    assert spans[0][0] == 0 and all(text[s:e].strip() == text[s:e] for s, e in spans)


def test_articles_not_in_english_are_kept_marked_and_warned_about(tmp_path: Path, fake_embedder: Any) -> None:
    from index import store
    from index.build import update_index

    german = (
        "Der Stadtrat hat am Dienstag beschlossen, die Öffnungszeiten der Bibliotheken am Wochenende zu "
        "verlängern. Die Kosten von rund 180.000 Euro im Jahr trägt die Stadt, teilte der Bürgermeister mit."
    )
    english = (
        "The county board voted on Tuesday to extend weekend hours at its libraries. The change will cost "
        "about $180,000 a year, the board chair said, and starts next month."
    )
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "de.txt").write_text("Bibliotheken länger offen\n\n" + german, encoding="utf-8")
    (folder / "en.txt").write_text("Libraries open longer\n\n" + english, encoding="utf-8")
    (folder / "short.txt").write_text("Brief\n\nToo short to tell.", encoding="utf-8")
    report = update_index(tmp_path / "index", [folder], fake_embedder)
    languages = {a.id.rsplit("/", 1)[-1]: a.language for a in store.load(tmp_path / "index").articles}
    assert languages == {"de": "de", "en": "en", "short": None}
    warnings = [p for p in report.problems if "not English" in p.reason]
    assert len(warnings) == 1 and not warnings[0].skipped and "German (de)" in warnings[0].reason
    again = update_index(tmp_path / "index", [folder], fake_embedder)
    assert not [p for p in again.problems if "not English" in p.reason], "told once, when first written"
