"""Load news articles from files: .jsonl, .json, .txt, .md, .html/.htm, and feeds (.xml/.rss/.atom).

Every loader returns :class:`Article` objects plus :class:`Problem` records for what it had to
skip, so one bad file (or one bad JSONL line) never stops a batch.
"""

from __future__ import annotations

import codecs
import json
import math
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from index.article_spool import ArticleSpool
from index.records import Article, LoadResult, Problem, parse_date

ACCEPTED_SUFFIXES = (".jsonl", ".json", ".txt", ".md", ".html", ".htm", ".xml", ".rss", ".atom")
MAX_FILE_BYTES = 20_000_000
"""Files larger than this are skipped unread; except ``.jsonl``, read line by line at any size."""
MAX_RECORD_BYTES = 20_000_000
"""A ``.jsonl`` line (one article) larger than this is skipped, the file's other lines kept."""
_READ_BLOCK = 1 << 20

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
_HEADING = re.compile(r"^#[ \t]+(.+?)[ \t#]*$", re.M)


def load_paths(
    paths: Iterable[str | os.PathLike[str]],
    *,
    progress: Callable[[int, int, str], None] | None = None,
    into: ArticleSpool | None = None,
) -> LoadResult:
    """Read every accepted file under ``paths`` (files or folders), in a stable order.

    Ids are unique in the result: a later article with an id already seen is skipped, and the
    problem names both sources. ``progress(articles_read, 0, "reading articles")`` is called as files
    with articles (and the lines of a large JSONL file) are read. With ``into``, the articles go there
    as they are read (a JSONL export of any size is never held whole) and the result's articles are it.
    """
    result = LoadResult()
    out: list[Article] | ArticleSpool = into if into is not None else []
    result.articles = out
    seen: dict[str, str] = {}

    def keep(loaded: Article) -> None:
        article = _checked_article(loaded, result.problems)
        if article is None:
            return
        if article.id in seen:
            result.problems.append(
                Problem(article.origin, f"duplicate id {article.id!r}, first seen in {seen[article.id]}; skipped")
            )
            return
        seen[article.id] = article.origin
        out.append(article)

    for file, root in _discover(paths, result.problems):
        result.files += 1
        before = len(out)
        tick = None if progress is None else (lambda n, base=before: progress(base + n, 0, "reading articles"))
        articles, problems = load_file(file, root, tick=tick, sink=keep)
        result.problems.extend(problems)
        for loaded in articles:
            keep(loaded)
        if progress is not None and out:
            progress(len(out), 0, "reading articles")
    return result


def _discover(paths: Iterable[str | os.PathLike[str]], problems: list[Problem]) -> Iterator[tuple[Path, Path]]:
    """Yield ``(file, root)`` for accepted files; symlinks leaving the root are skipped."""
    for raw in paths:
        given = Path(raw)
        if not given.exists():
            problems.append(Problem(str(given), "no such file or directory"))
            continue
        if given.is_file():
            if given.suffix.lower() in ACCEPTED_SUFFIXES:
                yield given, given.parent
            else:
                problems.append(Problem(str(given), f"unsupported file type (accepted: {', '.join(ACCEPTED_SUFFIXES)})"))
            continue
        root = given.resolve()
        for dirpath, dirnames, filenames in os.walk(given, followlinks=False):
            linked = {d for d in dirnames if (Path(dirpath) / d).is_symlink()}
            for name in sorted(linked):
                if not name.startswith("."):
                    problems.append(Problem(str(Path(dirpath) / name), "symlinked folder, not followed; skipped"))
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in linked)
            for name in sorted(filenames):
                if name.startswith(".") or Path(name).suffix.lower() not in ACCEPTED_SUFFIXES:
                    continue
                file = Path(dirpath) / name
                try:
                    inside = file.resolve().is_relative_to(root)
                except (OSError, RuntimeError):  # a symlink loop
                    problems.append(Problem(str(file), "symlink loop; skipped"))
                    continue
                if not inside:
                    problems.append(Problem(str(file), "symlink leads outside the folder; skipped"))
                    continue
                yield file, given


def load_file(
    file: Path,
    root: Path,
    *,
    tick: Callable[[int], None] | None = None,
    sink: Callable[[Article], None] | None = None,
) -> tuple[list[Article], list[Problem]]:
    """Load one file; ``root`` is the folder ids are derived relative to; ``tick(n)`` reports articles read
    so far from a long JSONL file, and ``sink`` takes each of its articles as it is read (they are then
    not in the list returned)."""
    where = str(file)
    try:
        info = file.stat()
        if not stat.S_ISREG(info.st_mode):  # a FIFO or device would block or never end
            return [], [Problem(where, "not a regular file; skipped")]
        if file.suffix.lower() == ".jsonl" and _streamable(file):
            return _stream_jsonl(file, where, _derive_id(file, root), tick, sink)
        if info.st_size > MAX_FILE_BYTES:
            limit = f"{info.st_size:,} bytes, over the {MAX_FILE_BYTES:,}-byte limit"
            return [], [Problem(where, f"file is {limit}; skipped unread")]
        with file.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            return [], [Problem(where, f"file grew over the {MAX_FILE_BYTES:,}-byte limit while read; skipped")]
    except OSError as exc:
        return [], [Problem(where, f"cannot read: {exc.strerror or exc}")]
    if file.suffix.lower() in (".xml", ".rss", ".atom"):  # feeds: feedparser reads the bytes and their declared encoding
        from index.ingest.feeds import load_feed

        return load_feed(raw, where, _derive_id(file, root))
    text, problem = decode_bytes(raw, html=file.suffix.lower() in (".html", ".htm"))
    if text is None:
        return [], [Problem(where, problem or "cannot decode")]
    notes = [Problem(where, problem, skipped=False)] if problem else []
    base_id = _derive_id(file, root)
    suffix = file.suffix.lower()
    if suffix == ".jsonl":
        articles, problems = _load_jsonl(text, where, base_id)
    elif suffix == ".json":
        articles, problems = _load_json(text, where, base_id)
    elif suffix == ".md":
        articles, problems = _load_markdown(text, where, base_id)
    elif suffix in (".html", ".htm"):
        articles, problems = _load_html(text, where, base_id)
    else:
        articles, problems = _load_txt(text, where, base_id)
    return articles, notes + problems


def decode_bytes(raw: bytes, *, html: bool = False) -> tuple[str | None, str | None]:
    """Decode file bytes: UTF-8 (BOM allowed), UTF-16 with BOM, else cp1252.

    For a web page (``html``) that is not valid UTF-8, the charset its ``<meta>`` declares is
    used before the cp1252 guess. Returns ``(text, note)``; text is None when the bytes are
    binary, with the reason as note.
    """
    if not raw.strip():
        return None, "empty file"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), None
        except UnicodeDecodeError as exc:
            return None, f"invalid UTF-16 at byte {exc.start}"
    utf16 = _bomless_utf16(raw)
    if utf16 is not None:
        return utf16, "no byte-order mark; read as UTF-16"
    if _looks_binary(raw):
        return None, "binary file, not text; skipped"
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        position = exc.start
    declared = _declared_charset(raw) if html else None
    if declared is not None:
        try:
            return raw.decode(declared), None
        except UnicodeDecodeError as exc:
            return raw.decode(declared, errors="replace"), f"invalid {declared} at byte {exc.start} (as the page declares)"
    try:
        return raw.decode("cp1252"), f"invalid UTF-8 at byte {position}; read as Windows-1252"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), f"invalid UTF-8 at byte {position}; read as Latin-1"


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]{1,40})""", re.I)


def _declared_charset(raw: bytes) -> str | None:
    """The codec a page's ``<meta charset>`` (or ``http-equiv`` content type) names in its first
    4 KiB, when Python knows it and it is not a UTF-16/32 one (those need a BOM here)."""
    match = _META_CHARSET.search(raw[:4096])
    if match is None:
        return None
    try:
        name = codecs.lookup(match.group(1).decode("ascii")).name
    except (LookupError, UnicodeDecodeError):
        return None
    if name.startswith(("utf-16", "utf-32")):
        return None
    return "cp1252" if name in ("latin-1", "iso8859-1", "ascii") else name  # as browsers read them


def _bomless_utf16(raw: bytes) -> str | None:
    """Text of UTF-16 without a BOM (ASCII-range text has a NUL in every other byte), else None."""
    head = raw[:4096]
    if len(raw) % 2 or len(head) < 4:
        return None
    for codec, high, low in (("utf-16-le", head[1::2], head[0::2]), ("utf-16-be", head[0::2], head[1::2])):
        if high.count(0) >= 0.9 * len(high) and b"\x00" not in low:
            try:
                text = raw.decode(codec)
            except UnicodeDecodeError:
                return None
            return None if _looks_binary(text.encode("utf-8", "replace")) else text
    return None


def _looks_binary(raw: bytes) -> bool:
    head = raw[:8192]
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return controls > len(head) // 20


def _derive_id(file: Path, root: Path) -> str:
    try:
        rel = file.relative_to(root)
    except ValueError:
        rel = Path(file.name)
    return rel.with_suffix("").as_posix()


def _load_txt(text: str, where: str, base_id: str) -> tuple[list[Article], list[Problem]]:
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.strip():
            body = "".join(lines[i + 1 :]).strip()
            title = line.strip()
            if not body:
                return [], [Problem(where, "no body after the title line; skipped")]
            return [Article(base_id, title, body, origin=where)], []
    return [], [Problem(where, "empty file")]


def _load_markdown(text: str, where: str, base_id: str) -> tuple[list[Article], list[Problem]]:
    meta: dict[str, Any] = {}
    problems: list[Problem] = []
    body = text
    match = _FRONT_MATTER.match(text)
    if match:
        import yaml

        try:
            loaded = yaml.safe_load(match.group(1))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f":{mark.line + 2}" if mark is not None else ""
            return [], [Problem(f"{where}{line}", "invalid YAML front matter; skipped")]
        if isinstance(loaded, dict):
            meta = loaded
        body = text[match.end() :]
    title = _str_or_none(meta.get("title"))
    heading = _HEADING.search(body)
    if heading and (title is None or heading.group(1).strip() == title):
        title = title or heading.group(1).strip()
        body = body[: heading.start()] + body[heading.end() :]
    body = body.strip()
    if not body:
        return [], [Problem(where, "no body text; skipped")]
    fields = {key: _str_or_none(meta.get(key)) for key in ("source", "url")}
    published, note = _check_date(meta.get("published", meta.get("date")), where)
    if note:
        problems.append(note)
    article = Article(
        _str_or_none(meta.get("id")) or base_id, title or "", body, published=published, origin=where, **fields
    )
    return [article], problems


def _load_html(text: str, where: str, base_id: str) -> tuple[list[Article], list[Problem]]:
    from index.ingest.html import extract_html

    extracted = extract_html(text)
    if extracted is None:
        return [], [Problem(where, "no article text found in the page; skipped")]
    title, body, source, published, url = extracted
    return [Article(base_id, title, body, source=source, published=published, url=url, origin=where)], []


def _strict_json(text: str) -> Any:
    def reject_constant(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")

    def no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        for key, value in pairs:
            if key in obj:
                raise ValueError(f"duplicate key {key!r}")
            obj[key] = value
        return obj

    return json.loads(text, parse_constant=reject_constant, object_pairs_hook=no_duplicate_keys)


def _parse_json(text: str, where: str, line: int | None = None) -> tuple[Any, Problem | None]:
    """Parse strictly; a problem is placed at ``where:line:col`` (``line`` for one JSONL line)."""
    try:
        return _strict_json(text), None
    except json.JSONDecodeError as exc:
        at = f"{where}:{line if line is not None else exc.lineno}:{exc.colno}"
        return None, Problem(at, f"invalid JSON: {exc.msg}")
    except RecursionError:
        return None, Problem(f"{where}:{line}" if line is not None else where, "invalid JSON: nested too deeply")
    except ValueError as exc:
        return None, Problem(f"{where}:{line}" if line is not None else where, f"invalid JSON: {exc}")


def _load_json(text: str, where: str, base_id: str) -> tuple[list[Article], list[Problem]]:
    data, problem = _parse_json(text, where)
    if problem:
        return [], [problem]
    items = data if isinstance(data, list) else [data]
    articles: list[Article] = []
    problems: list[Problem] = []
    for n, item in enumerate(items, start=1):
        item_where = f"{where}[{n}]" if isinstance(data, list) else where
        item_id = f"{base_id}#{n}" if isinstance(data, list) else base_id
        article, item_problems = article_from_mapping(item, item_where, item_id)
        problems.extend(item_problems)
        if article:
            articles.append(article)
    return articles, problems


def _load_jsonl(text: str, where: str, base_id: str, first_line: int = 1) -> tuple[list[Article], list[Problem]]:
    articles: list[Article] = []
    problems: list[Problem] = []
    for lineno, line in enumerate(text.split("\n"), start=first_line):  # not splitlines(): U+2028 is valid in JSON
        if not line.strip():
            continue
        line_where = f"{where}:{lineno}"
        data, problem = _parse_json(line, where, lineno)
        if problem:
            problems.append(problem)
            continue
        article, item_problems = article_from_mapping(data, line_where, f"{base_id}#{lineno}")
        problems.extend(item_problems)
        if article:
            articles.append(article)
    return articles, problems


def _streamable(file: Path) -> bool:
    """Whether a ``.jsonl`` file can be read line by line: UTF-8 (or 8-bit) text, not UTF-16 and not binary."""
    with file.open("rb") as handle:
        head = handle.read(8192)
    return not head.startswith((b"\xff\xfe", b"\xfe\xff")) and _bomless_utf16(head) is None and not _looks_binary(head)


def _stream_jsonl(
    file: Path,
    where: str,
    base_id: str,
    tick: Callable[[int], None] | None = None,
    sink: Callable[[Article], None] | None = None,
) -> tuple[list[Article], list[Problem]]:
    """A ``.jsonl`` file of any size, one line in memory at a time; a line over :data:`MAX_RECORD_BYTES`
    is skipped unread past the limit, a line that is not UTF-8 is read as Windows-1252 (and said so).
    With ``sink``, each article goes there as it is read instead of into the list returned."""
    articles: list[Article] = []
    problems: list[Problem] = []
    read = 0
    try:
        with file.open("rb") as handle:
            for lineno, raw in enumerate(_lines(handle), start=1):
                if raw is None:
                    problems.append(Problem(f"{where}:{lineno}", f"line over the {MAX_RECORD_BYTES:,}-byte limit; skipped"))
                    continue
                if lineno == 1:
                    raw = raw.removeprefix(b"\xef\xbb\xbf")
                if not raw.strip():
                    continue
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    line = raw.decode("cp1252", errors="replace")
                    note = f"invalid UTF-8 at byte {exc.start} of the line; read as Windows-1252"
                    problems.append(Problem(f"{where}:{lineno}", note, skipped=False))
                line_articles, line_problems = _load_jsonl(line, where, base_id, first_line=lineno)
                problems.extend(line_problems)
                read += len(line_articles)
                if sink is None:
                    articles.extend(line_articles)
                else:
                    for article in line_articles:
                        sink(article)
                if tick is not None and lineno % 200 == 0:
                    tick(read)
    except OSError as exc:
        problems.append(Problem(where, f"cannot read: {exc.strerror or exc}"))
    if not read and not problems:
        problems.append(Problem(where, "empty file"))
    return articles, problems


def _lines(handle: Any) -> Iterator[bytes | None]:
    """The lines of a binary file without their newline; None for one over :data:`MAX_RECORD_BYTES`
    (read past in blocks, never held whole)."""
    while True:
        line = handle.readline(MAX_RECORD_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_RECORD_BYTES and not line.endswith(b"\n"):
            while True:
                rest = handle.readline(_READ_BLOCK)
                if not rest or rest.endswith(b"\n"):
                    break
            yield None
            continue
        yield line.rstrip(b"\n").removesuffix(b"\r")


def article_from_mapping(data: Any, where: str, default_id: str) -> tuple[Article | None, list[Problem]]:
    """Validate one JSON article object; ``text`` is kept exactly as given."""
    if not isinstance(data, dict):
        return None, [Problem(where, f"expected an article object, got {type(data).__name__}")]
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        return None, [Problem(where, "missing or empty \"text\"; skipped")]
    problems: list[Problem] = []
    raw_id = data.get("id")
    if raw_id is not None and not isinstance(raw_id, (str, int)) or isinstance(raw_id, bool):
        return None, [Problem(where, "\"id\" must be a string or integer; skipped")]
    article_id = str(raw_id).strip() if raw_id is not None and str(raw_id).strip() else default_id
    fields: dict[str, str | None] = {}
    for key in ("title", "source", "url"):
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            problems.append(Problem(where, f"\"{key}\" is not a string; ignored", skipped=False))
            value = None
        fields[key] = value
    published, note = _check_date(data.get("published"), where)
    if note:
        problems.append(note)
    article = Article(
        article_id,
        fields["title"] or "",
        text,
        source=fields["source"],
        published=published,
        url=fields["url"],
        origin=where,
    )
    return article, problems


def _check_date(value: Any, where: str) -> tuple[str | None, Problem | None]:
    if value is None or value == "":
        return None, None
    if isinstance(value, (date, datetime)):
        return value.isoformat(), None
    if isinstance(value, str) and parse_date(value) is not None:
        return value.strip(), None
    return None, Problem(where, f"\"published\" {str(value)[:40]!r} is not an ISO date; ignored", skipped=False)


_SURROGATE = re.compile("[\ud800-\udfff]")
_WORD = re.compile(r"\w")


def _checked_article(article: Article, problems: list[Problem]) -> Article | None:
    """``article`` made safe to store, or None (with a problem) when it has no words at all.

    Lone surrogates (possible in JSON ``\\ud800`` escapes) cannot be encoded, printed or
    tokenised; each is replaced by U+FFFD, one code point for one, so offsets stay exact.
    """
    if not _WORD.search(article.text):
        problems.append(Problem(article.origin, "text has no letters or digits; skipped"))
        return None
    fields: dict[str, str | None] = {"id": article.id, "title": article.title, "text": article.text}
    fields.update(source=article.source, published=article.published, url=article.url)
    bad = [key for key, value in fields.items() if value is not None and _SURROGATE.search(value)]
    if not bad:
        return article
    problems.append(
        Problem(article.origin, f"lone surrogate code points in {', '.join(bad)} replaced by U+FFFD", skipped=False)
    )
    fixed = {key: _SURROGATE.sub("\ufffd", value) if key in bad and value else value for key, value in fields.items()}
    return Article(origin=article.origin, **fixed)  # type: ignore[arg-type]  # id, title, text are str


def _str_or_none(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    text = str(value).strip()
    return text or None
