"""The index on disk: a directory of generations, switched atomically, each verified on open.

Layout of an index directory::

    CURRENT              live generation name, then "sha256 <hex>" of its manifest; replaced atomically
    write.lock           flock held by the one writer (freed by the OS if the writer dies)
    writer.json          pid and start time of the current writer, for messages
    gen-000007/
        manifest.json    format, model, chunk settings, counts, sha256 + size of every file
        articles.jsonl   one article per line (id, title, source, published, url, hash, text)
        sentences.npy    int32 rows (article, start, end, tokens): FAISS row i is sentence i
        chunks.npy       int32 rows (article, first sentence, stop sentence)
        sentences.faiss  inner-product index over unit sentence vectors
        chunks.faiss     inner-product index over unit chunk vectors
        bm25-sentences/  bm25s files (.npy with allow_pickle=False, .json)
        bm25-chunks/

Nothing is ever unpickled, and no file is parsed before its size and sha256 match the manifest
(the manifest itself is checked against the sha256 in ``CURRENT``). A generation is written in a
temporary folder, fsynced, renamed, and only then published by replacing ``CURRENT``; a crash at
any point leaves the previous generation live. The previous generation is kept for readers that
opened it; older ones and temp files of dead writers are removed by the next write.

The package, by job: :mod:`~index.store.layout` (pointer, generations, checked reads),
:mod:`~index.store.read` (open and check a generation), :mod:`~index.store.write` (write and
publish one), :mod:`~index.store.lock` (the one writer), :mod:`~index.store.verify`
(``newsdesk verify``), :mod:`~index.store.files` (durable writes).
"""

from __future__ import annotations

from index.store.layout import (
    CURRENT,
    FORMAT_VERSION,
    REBUILD_HINT,
    Pointer,
    current_generation,
    current_generation_or_none,
    exists,
    read_pointer,
    verify_files,
)
from index.store.lock import write_lock
from index.store.read import NPY_LOCK, IndexData, load, read_catalogue
from index.store.verify import VerifyReport, verify
from index.store.write import remove_dead_writers_files, save

__all__ = [
    "CURRENT",
    "FORMAT_VERSION",
    "NPY_LOCK",
    "REBUILD_HINT",
    "IndexData",
    "Pointer",
    "VerifyReport",
    "current_generation",
    "current_generation_or_none",
    "exists",
    "load",
    "read_catalogue",
    "read_pointer",
    "remove_dead_writers_files",
    "save",
    "verify",
    "verify_files",
    "write_lock",
]
