"""Articles whose texts wait on the disk while a build runs, so its memory does not grow with them.

An :class:`ArticleSpool` is a sequence of :class:`Article`: the other fields of each article stay in
memory (a few hundred bytes), its text goes to an unnamed temporary file as it is appended and is
read back when the article is asked for. A build reads the texts in order (split, BM25, save), one
article at a time; the last one read is kept, as every sentence of an article asks for it in turn.
"""

from __future__ import annotations

import errno
import os
import tempfile
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import IO, overload

from index.records import Article

PREFIX = ".newsdesk-articles-"
"""Start of the spool file's name (it has none once created, where the system allows)."""


class ArticleSpool(Sequence[Article]):
    """Articles in the order appended, their texts in an unnamed temporary file in ``folder``
    (default: the system's temporary folder). Reading is safe from several threads; appending is not.

    When the disk refuses a text (full, or no such folder), that article and the later ones are
    kept whole in memory instead: the build goes on, and a full disk then fails the generation's own
    write, with its one-line message.
    """

    def __init__(self, folder: Path | None = None, articles: Iterable[Article] = ()) -> None:
        try:
            self._file: IO[bytes] | None = tempfile.TemporaryFile(buffering=0, dir=folder, prefix=PREFIX)
        except OSError:
            self._file = None
        self._writing = self._file is not None
        """False once the disk refused a text: the later ones are held whole."""
        self._heads: list[Article] = []
        """Each article without its text, or whole when the disk refused it."""
        self._held: set[int] = set()
        """Articles kept whole in :attr:`_heads`."""
        self._start = array("q", [0])
        """Byte offset of each text in the file; the last entry is where the next one goes."""
        self._chars = array("q")
        self._last: tuple[int, Article] | None = None
        for article in articles:
            self.append(article)

    def append(self, article: Article) -> None:
        """Add ``article`` at the end; its text goes to the disk now (or stays in memory, see above)."""
        at = self._start[-1]
        if self._writing:
            try:
                at = self._write(article.text.encode("utf-8", "surrogatepass"), at)
            except OSError:  # the texts written so far stay readable
                self._writing, at = False, self._start[-1]
        if not self._writing:
            self._held.add(len(self._heads))
            self._heads.append(article)
        else:
            self._heads.append(replace(article, text=""))
        self._start.append(at)
        self._chars.append(len(article.text))

    def __len__(self) -> int:
        return len(self._heads)

    @overload
    def __getitem__(self, index: int) -> Article: ...

    @overload
    def __getitem__(self, index: slice) -> list[Article]: ...

    def __getitem__(self, index: int | slice) -> Article | list[Article]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        i = range(len(self))[index]  # IndexError as a list gives it; negative indexes count from the end
        if i in self._held:
            return self._heads[i]
        last = self._last
        if last is not None and last[0] == i:
            return last[1]
        article = replace(self._heads[i], text=self._read(i))
        self._last = (i, article)
        return article

    def text_length(self, index: int) -> int:
        """Length of article ``index``'s text in characters, without reading it."""
        return self._chars[index]

    def close(self) -> None:
        """Remove the file (it has no name, so closing it is enough) and forget the articles."""
        if self._file is not None:
            self._file.close()
            self._file = None
        self._writing = False
        self._heads, self._held, self._last = [], set(), None
        self._start, self._chars = array("q", [0]), array("q")

    def _write(self, data: bytes, at: int) -> int:
        """Write ``data`` at offset ``at``; returns where it ends."""
        assert self._file is not None
        view = memoryview(data)
        while view:  # a write may be short: the next one then says why
            written = os.pwrite(self._file.fileno(), view, at)
            if written <= 0:
                raise OSError(errno.ENOSPC, "nothing written")
            view, at = view[written:], at + written
        return at

    def _read(self, i: int) -> str:
        if self._file is None:
            raise ValueError("this article spool was closed")
        start, stop = self._start[i], self._start[i + 1]
        parts: list[bytes] = []
        while start < stop:
            part = os.pread(self._file.fileno(), stop - start, start)
            if not part:
                raise OSError(errno.EIO, "the article spool ended early")
            parts.append(part)
            start += len(part)
        return b"".join(parts).decode("utf-8", "surrogatepass")


def text_length(articles: Sequence[Article], index: int) -> int:
    """Length of article ``index``'s text; read from a spool without reading the text."""
    if isinstance(articles, ArticleSpool):
        return articles.text_length(index)
    return len(articles[index].text)


def close(articles: Sequence[Article]) -> None:
    """Remove ``articles``' spool file, when they are spooled."""
    if isinstance(articles, ArticleSpool):
        articles.close()
