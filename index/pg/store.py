"""An index in PostgreSQL + pgvector, behind the storage seam (:class:`index.storage.IndexView`).

Layout: one index per database. ``newsdesk_meta`` holds the format, the model fingerprint and the live
generation ``g``; each generation has its own tables ``newsdesk_g<g>_{articles, sentences, chunks,
terms, postings}``. A write fills the next generation's tables and then moves the pointer, all in one
transaction, so readers see the old index or the new one, never half of one; the generation before
stays (a reader that opened it can finish) and older ones are dropped.

Searching: sentence and chunk vectors are ``halfvec(384)`` with HNSW (inner product). A filtered
search over few rows (the rows an outlet or date filter allows) is exact through the primary key;
otherwise HNSW with ``ef_search`` above the depth asked for. Lexical scores are bm25s' own (Lucene
BM25, computed at build time and stored per posting), read per query term from ``postings``; a term in
more than :data:`COMMON_TERM_CAP` units reads only its best-scoring :data:`COMMON_TERM_CAP` postings,
which bounds the cost of very common terms (their idf is low, so the units left out score the least).

Every statement is written out with placeholders; table names are composed with ``psycopg.sql``
identifiers, never with string formatting.
"""

from __future__ import annotations

import io
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

import numpy as np

from index.errors import IndexCorruptError, IndexMismatchError, IndexNotFoundError, NewsdeskError
from index.lexical import LexicalIndex
from index.records import Article
from index.storage import CatalogueTexts, ModelInfo

FORMAT = 1
COMMON_TERM_CAP = 50_000
"""Most postings one query term reads (see the module docstring)."""
EXACT_BELOW = 20_000
"""Filtered searches over fewer allowed rows than this are exact."""
EF_SEARCH = 200
VECTOR_CACHE = 50_000
"""Vectors kept in memory after reading (about 77 MB at 384 dimensions)."""
POSTINGS_CACHE = 256
"""Terms whose postings are kept in memory after reading."""
LOCK_KEY = 0x6E657773  # "news": the advisory lock writers hold
SENTENCES, CHUNKS = 1, 2
"""``kind`` of a lexical table row."""


class DatabaseError(NewsdeskError):
    """The database cannot be used (unreachable, refused, no pgvector); one line, no password; exit 2."""

    exit_code = 2


def redact(dsn: str) -> str:
    """``dsn`` with any password replaced by ``***``."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    try:
        parts = conninfo_to_dict(dsn)
    except Exception:  # noqa: BLE001 - an unparsable DSN is shown without its middle
        return dsn.split("@")[-1]
    if parts.get("password"):
        parts["password"] = "***"
        if "://" in dsn:
            scheme, rest = dsn.split("://", 1)
            if "@" in rest:
                userinfo, host = rest.rsplit("@", 1)
                return f"{scheme}://{userinfo.split(':', 1)[0]}:***@{host}"
        return make_conninfo("", **parts)
    return dsn


def connect(dsn: str) -> Any:
    """An open connection with pgvector's types, or DatabaseError saying why (password never shown)."""
    import psycopg
    from pgvector.psycopg import register_vector

    try:
        db = psycopg.connect(dsn, connect_timeout=10)
    except psycopg.OperationalError as exc:
        reason = " ".join(str(exc).split()).replace(dsn, redact(dsn))
        raise DatabaseError(f"cannot connect to {redact(dsn)}: {reason}") from None
    except psycopg.ProgrammingError as exc:
        raise DatabaseError(f"not a usable PostgreSQL URL {redact(dsn)!r}: {exc}") from None
    try:
        has_vector = db.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone()
        if not has_vector:
            available = db.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'").fetchone()
            if not available:
                raise DatabaseError(f"{redact(dsn)} has no pgvector extension: install pgvector on the server")
            try:
                db.execute("CREATE EXTENSION IF NOT EXISTS vector")
                db.commit()
            except psycopg.Error as exc:
                raise DatabaseError(
                    f"{redact(dsn)}: pgvector is not enabled and cannot be ({exc.diag.message_primary}); "
                    "run CREATE EXTENSION vector as the database owner"
                ) from None
        register_vector(db)
        db.commit()
    except BaseException:
        db.close()
        raise
    return db


def _table(generation: int, name: str) -> Any:
    from psycopg import sql

    return sql.Identifier(f"newsdesk_g{generation}_{name}")


def _q(template: str, generation: int, *names: str) -> Any:
    """``template`` with ``{}`` holes filled by the generation's table identifiers."""
    from psycopg import sql

    return sql.SQL(template).format(*(_table(generation, n) for n in names))


# ---------------------------------------------------------------- meta


def read_meta(db: Any) -> dict[str, Any]:
    """The index's meta keys (empty when the database holds no newsdesk index)."""
    exists = db.execute("SELECT to_regclass('newsdesk_meta') IS NOT NULL").fetchone()[0]
    if not exists:
        return {}
    rows = db.execute("SELECT key, value FROM newsdesk_meta").fetchall()
    meta = {str(k): v for k, v in rows}
    if int(meta.get("format", 0)) > FORMAT:
        raise IndexMismatchError(
            f"the index in this database has format {meta['format']}, newer than this newsdesk reads ({FORMAT}); "
            "upgrade newsdesk"
        )
    return meta


def model_of(meta: dict[str, Any]) -> ModelInfo:
    return ModelInfo(**meta["model"])


# ---------------------------------------------------------------- reading


class PgVectors:
    """:class:`index.storage.VectorSearch` over a generation's ``sentences`` or ``chunks`` table."""

    def __init__(self, index: PgIndex, table: str, size: int, dim: int) -> None:
        self._index = index
        self._table = table
        self._size = size
        self._dim = dim
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        """Vectors read lately (a question reads each candidate's neighbours and chunk too)."""
        self._cache_lock = threading.Lock()

    @property
    def size(self) -> int:
        return self._size

    @property
    def dim(self) -> int:
        return self._dim

    def search(
        self, queries: np.ndarray, depth: int, allowed: np.ndarray | None = None
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        from pgvector import HalfVector

        out = []
        g = self._index.generation
        exact = allowed is not None and len(allowed) < EXACT_BELOW
        with self._index.cursor() as db:
            if not exact:
                db.execute("SELECT set_config('hnsw.ef_search', %s, true)", (str(max(EF_SEARCH, 2 * depth)),))
                db.execute("SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true)")
            for query in np.asarray(queries, dtype=np.float32).reshape(-1, self._dim):
                vector = HalfVector(query)
                if allowed is None:
                    sql = _q(
                        "SELECT row, -(embedding <#> %s) FROM {} ORDER BY embedding <#> %s LIMIT %s", g, self._table
                    )
                    rows = db.execute(sql, (vector, vector, depth)).fetchall()
                else:
                    ids = np.asarray(allowed, dtype=np.int64).tolist()
                    if exact:  # through the primary key: every allowed row scored, none missed
                        sql = _q(
                            "SELECT row, score FROM (SELECT row, -(embedding <#> %s) AS score FROM {} "
                            "WHERE row = ANY(%s)) s ORDER BY score DESC LIMIT %s",
                            g,
                            self._table,
                        )
                    else:
                        sql = _q(
                            "SELECT row, -(embedding <#> %s) FROM {} WHERE row = ANY(%s) "
                            "ORDER BY embedding <#> %s LIMIT %s",
                            g,
                            self._table,
                        )
                    params = (vector, ids, depth) if exact else (vector, ids, vector, depth)
                    rows = db.execute(sql, params).fetchall()
                found = np.array([r[0] for r in rows], dtype=np.int64)
                scores = np.array([r[1] for r in rows], dtype=np.float32)
                order = np.argsort(-scores, kind="stable")  # iterative scans may return them slightly out of order
                out.append((found[order], scores[order]))
        return out

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        ids = np.asarray(rows, dtype=np.int64)
        if len(ids) == 0:
            return np.zeros((0, self._dim), np.float32)
        unique, back = np.unique(ids, return_inverse=True)
        wanted = unique.tolist()
        have: dict[int, np.ndarray] = {}
        with self._cache_lock:
            for r in wanted:
                hit = self._cache.get(r)
                if hit is not None:
                    have[r] = hit
                    self._cache.move_to_end(r)
        missing = [r for r in wanted if r not in have]
        if missing:
            with self._index.cursor() as db:
                found = db.execute(
                    _q("SELECT row, embedding FROM {} WHERE row = ANY(%s)", self._index.generation, self._table),
                    (missing,),
                    binary=True,
                ).fetchall()
            fresh = {int(row): vector.to_numpy().astype(np.float32) for row, vector in found}
            have.update(fresh)
            with self._cache_lock:
                self._cache.update(fresh)
                while len(self._cache) > VECTOR_CACHE:
                    self._cache.popitem(last=False)
        block = np.stack([have[r] for r in wanted])
        return block[back]

    def rows_between(self, start: int, stop: int) -> np.ndarray:
        """The vectors of rows ``start`` to ``stop`` (exclusive) in row order, read in one query
        (a rebuild reads the old generation's vectors back a block at a time)."""
        out = np.zeros((max(stop - start, 0), self._dim), np.float32)
        with self._index.cursor() as db:
            cursor = db.execute(
                _q("SELECT row, embedding FROM {} WHERE row >= %s AND row < %s", self._index.generation, self._table),
                (start, stop),
                binary=True,
            )
            for row, vector in cursor:
                out[int(row) - start] = vector.to_numpy()
        return out


class PgLexical:
    """:class:`index.storage.LexicalSearch` over a generation's stored BM25 postings."""

    def __init__(self, index: PgIndex, kind: int, num_docs: int) -> None:
        self._index = index
        self._kind = kind
        self.num_docs = num_docs
        self._terms: dict[str, tuple[int, int] | None] = {}
        self._recent: OrderedDict[int, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        """Postings read lately: a question reads each term for its scores and again for its rows."""
        self._lock = threading.Lock()

    def _lookup(self, query_terms: Sequence[str]) -> dict[str, tuple[int, int]]:
        """``term -> (term id, document frequency)`` of the known terms (cached)."""
        with self._lock:
            missing = [t for t in dict.fromkeys(query_terms) if t not in self._terms]
        if missing:
            with self._index.cursor() as db:
                found = db.execute(
                    _q(
                        "SELECT term, id, df FROM {} WHERE kind = %s AND term = ANY(%s)",
                        self._index.generation,
                        "terms",
                    ),
                    (self._kind, missing),
                ).fetchall()
            known = {str(t): (int(i), int(d)) for t, i, d in found}
            with self._lock:
                for term in missing:
                    self._terms[term] = known.get(term)
        with self._lock:
            return {t: v for t in query_terms if (v := self._terms.get(t)) is not None}

    def idf(self, query_terms: Sequence[str]) -> dict[str, float]:
        known = self._lookup(query_terms)
        top = float(np.log(1.0 + (self.num_docs + 0.5) / 0.5))
        out = {}
        for term in query_terms:
            if term in known:
                df = known[term][1]
                out[term] = float(np.float32(np.log(1.0 + (self.num_docs - df + 0.5) / (df + 0.5))))
            else:
                out[term] = top
        return out

    def _postings(self, term_id: int, order_by_score: bool) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            cached = self._recent.get(term_id)
            if cached is not None:
                self._recent.move_to_end(term_id)
                return cached
        # one row of two arrays: far quicker to carry and to load than one row per posting
        template = (
            "SELECT array_agg(row), array_agg(score) FROM (SELECT row, score FROM {} WHERE kind = %s AND term = %s"
            + (" ORDER BY score DESC" if order_by_score else "")
            + " LIMIT %s) p"
        )
        with self._index.cursor() as db:
            rows, scores = db.execute(
                _q(template, self._index.generation, "postings"), (self._kind, term_id, COMMON_TERM_CAP), binary=True
            ).fetchone()
        found = (np.array(rows or [], dtype=np.int64), np.array(scores or [], dtype=np.float32))
        with self._lock:
            self._recent[term_id] = found
            while len(self._recent) > POSTINGS_CACHE:
                self._recent.popitem(last=False)
        return found

    def scores(self, query_terms: Sequence[str]) -> np.ndarray:
        out = np.zeros(self.num_docs, dtype=np.float32)
        known = self._lookup(query_terms)
        for term in query_terms:  # a term listed twice counts twice, as in bm25s
            if term in known:
                term_id, df = known[term]
                rows, scores = self._postings(term_id, df > COMMON_TERM_CAP)
                np.add.at(out, rows, scores)
        return out

    def rows_with(self, term: str) -> np.ndarray:
        known = self._lookup([term])
        if term not in known:
            return np.zeros(0, np.int64)
        term_id, df = known[term]
        rows, _ = self._postings(term_id, df > COMMON_TERM_CAP)
        return np.sort(rows)


class PgIndex(CatalogueTexts):
    """One generation of an index in PostgreSQL (:class:`index.storage.IndexView`); thread-safe.

    The catalogue (articles with their text, the sentence and chunk tables) is read into memory when
    opened; vectors and postings stay in the database and are read per question.
    """

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._db = connect(dsn)
        self._lock = threading.RLock()
        try:
            meta = read_meta(self._db)
            if "generation" not in meta:
                raise IndexNotFoundError(f"no index in {redact(dsn)} (build one with: newsdesk index PATH --index URL)")
            self.generation = int(meta["generation"])
            self.model = model_of(meta)
            self.chunk_params: dict[str, int] = dict(meta.get("chunk_params") or {})
            g = self.generation
            rows = self._db.execute(
                _q("SELECT id, title, text, source, published, url, origin, hash, language FROM {} ORDER BY row", g, "articles")
            ).fetchall()
            self.articles = [Article(r[0], r[1], r[2], r[3], r[4], r[5], r[6] or "", r[8]) for r in rows]
            self.hashes = [str(r[7]) for r in rows]
            self.sentences = _int_table(
                self._db, _q("SELECT article, start_, end_, tokens FROM {} ORDER BY row", g, "sentences"), 4
            )
            self.chunks = _int_table(self._db, _q("SELECT article, first, stop FROM {} ORDER BY row", g, "chunks"), 3)
            self._db.commit()
        except Exception as exc:
            self._db.close()
            import psycopg

            if isinstance(exc, psycopg.Error):
                raise IndexCorruptError(f"the index in {redact(dsn)} cannot be read: {exc}") from None
            raise
        dim = self.model.dim
        self.sentence_vectors = PgVectors(self, "sentences", len(self.sentences), dim)
        self.chunk_vectors = PgVectors(self, "chunks", len(self.chunks), dim)
        self.sentence_bm25 = PgLexical(self, SENTENCES, len(self.sentences))
        self.chunk_bm25 = PgLexical(self, CHUNKS, len(self.chunks))

    @contextmanager
    def cursor(self) -> Iterator[Any]:
        """The connection, one thread at a time, inside a read-only transaction ended afterwards."""
        with self._lock:
            try:
                yield self._db
            finally:
                self._db.rollback()

    def close(self) -> None:
        self._db.close()


def _int_table(db: Any, query: Any, width: int) -> np.ndarray:
    rows = db.execute(query).fetchall()
    return np.array(rows, dtype=np.int32).reshape(-1, width)


def load(dsn: str) -> PgIndex:
    """Open the live generation of the index in ``dsn``."""
    return PgIndex(dsn)


# ---------------------------------------------------------------- writing


def write(
    db: Any,
    *,
    model: ModelInfo,
    chunk_params: dict[str, int],
    articles: Sequence[Article],
    hashes: Sequence[str],
    sentences: np.ndarray,
    chunks: np.ndarray,
    sentence_vectors: np.ndarray,
    chunk_vectors: np.ndarray,
    sentence_bm25: LexicalIndex,
    chunk_bm25: LexicalIndex,
    progress: Callable[[str], None] | None = None,
) -> int:
    """Write a new generation and make it live, in one transaction; returns its number.

    The caller holds the writers' advisory lock (:func:`writer_lock`).
    """
    say = progress or (lambda _what: None)
    with db.transaction():
        db.execute("CREATE TABLE IF NOT EXISTS newsdesk_meta (key text PRIMARY KEY, value jsonb NOT NULL)")
        meta = read_meta(db)
        g = int(meta.get("generation", 0)) + 1
        dim = model.dim
        for name, columns in _TABLES:
            db.execute(_ddl(columns, g, name, dim))
        say(f"copying {len(articles):,} articles")
        with db.cursor().copy(
            _q("COPY {} (row, id, title, text, source, published, url, origin, hash, language) FROM STDIN", g, "articles")
        ) as copy:
            for row, (article, digest) in enumerate(zip(articles, hashes, strict=True)):
                copy.write_row(
                    (
                        row,
                        article.id,
                        article.title,
                        article.text,
                        article.source,
                        article.published,
                        article.url,
                        article.origin,
                        digest,
                        article.language,
                    )
                )
        say(f"copying {len(sentences):,} sentences and their vectors")
        _copy_vectors(
            db,
            _q("COPY {} (row, article, start_, end_, tokens, embedding) FROM STDIN (FORMAT BINARY)", g, "sentences"),
            sentences,
            sentence_vectors,
            ["int4", "int4", "int4", "int4", "int4", "halfvec"],
        )
        _copy_vectors(
            db,
            _q("COPY {} (row, article, first, stop, embedding) FROM STDIN (FORMAT BINARY)", g, "chunks"),
            chunks,
            chunk_vectors,
            ["int4", "int4", "int4", "int4", "halfvec"],
        )
        say("copying the BM25 postings")
        for kind, lexical in ((SENTENCES, sentence_bm25), (CHUNKS, chunk_bm25)):
            _copy_lexical(db, g, kind, lexical)
        say("building the vector (HNSW) and postings indexes")
        db.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for name in ("sentences", "chunks"):
            db.execute(
                _q(
                    "CREATE INDEX ON {} USING hnsw (embedding halfvec_ip_ops) WITH (m = 16, ef_construction = 64)",
                    g,
                    name,
                )
            )
        db.execute(_q("CREATE INDEX ON {} (kind, term, score DESC)", g, "postings"))
        for name in ("articles", "sentences", "chunks", "terms", "postings"):
            db.execute(_q("ANALYZE {}", g, name))
        values = {
            "format": FORMAT,
            "generation": g,
            "model": asdict(model),
            "chunk_params": chunk_params,
            "counts": {"articles": len(articles), "sentences": int(len(sentences)), "chunks": int(len(chunks))},
        }
        for key, value in values.items():
            db.execute(
                "INSERT INTO newsdesk_meta (key, value) VALUES (%s, %s::jsonb) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(value)),
            )
        for old in range(max(1, g - 5), g - 1):  # keep the generation before, for readers still on it
            for name in ("articles", "sentences", "chunks", "terms", "postings"):
                db.execute(_q("DROP TABLE IF EXISTS {}", old, name))
    return g


_TABLES = (
    (
        "articles",
        "row int PRIMARY KEY, id text NOT NULL UNIQUE, title text NOT NULL, text text NOT NULL,"
        " source text, published text, url text, origin text, hash text NOT NULL, language text",
    ),
    (
        "sentences",
        "row int PRIMARY KEY, article int NOT NULL, start_ int NOT NULL, end_ int NOT NULL,"
        " tokens int NOT NULL, embedding halfvec({dim}) NOT NULL",
    ),
    (
        "chunks",
        "row int PRIMARY KEY, article int NOT NULL, first int NOT NULL, stop int NOT NULL,"
        " embedding halfvec({dim}) NOT NULL",
    ),
    ("terms", "kind smallint NOT NULL, term text NOT NULL, id int NOT NULL, df int NOT NULL, PRIMARY KEY (kind, term)"),
    ("postings", "kind smallint NOT NULL, term int NOT NULL, row int NOT NULL, score real NOT NULL"),
)
"""Each generation's tables: name and columns (``{dim}``: the model's vector size)."""


def _ddl(columns: str, generation: int, name: str, dim: int) -> Any:
    """``CREATE TABLE`` for one of :data:`_TABLES`, composed with psycopg.sql (identifier and literal)."""
    from psycopg import sql

    return sql.SQL("CREATE TABLE {} (" + columns + ")").format(_table(generation, name), dim=sql.Literal(int(dim)))


def _copy_vectors(db: Any, statement: Any, table: np.ndarray, vectors: np.ndarray, types: list[str]) -> None:
    from pgvector import HalfVector

    with db.cursor().copy(statement) as copy:
        copy.set_types(types)
        for row, (values, vector) in enumerate(zip(table.tolist(), vectors, strict=True)):
            copy.write_row((row, *values, HalfVector(vector)))


def _copy_lexical(db: Any, g: int, kind: int, lexical: LexicalIndex) -> None:
    vocab, indptr, indices, data = lexical.postings()
    df = np.diff(indptr)
    with db.cursor().copy(_q("COPY {} (kind, term, id, df) FROM STDIN", g, "terms")) as copy:
        for term, term_id in vocab.items():
            if term_id < len(df):  # bm25s may list a token (its empty-document marker) with no postings
                copy.write_row((kind, term, term_id, int(df[term_id])))
    term_of = np.repeat(np.arange(len(df), dtype=np.int64), df)
    buffer = io.BytesIO()
    block = np.column_stack([np.full(len(term_of), kind), term_of, np.asarray(indices, dtype=np.int64)])
    for start in range(0, len(block), 1_000_000):  # text COPY of plain numbers, written by numpy
        part = slice(start, start + 1_000_000)
        buffer.seek(0)
        buffer.truncate()
        np.savetxt(
            buffer,
            np.column_stack([block[part], np.asarray(data[part], dtype=np.float64)]),
            fmt=["%d", "%d", "%d", "%.9g"],
            delimiter="\t",
        )
        with db.cursor().copy(_q("COPY {} (kind, term, row, score) FROM STDIN", g, "postings")) as copy:
            copy.write(buffer.getvalue())


@contextmanager
def writer_lock(db: Any, wait: float, notify: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the writers' advisory lock (one writer at a time); IndexLockedError after ``wait`` seconds.

    ``notify(message)`` is called once if another writer holds it.
    """
    import time

    from index.errors import IndexLockedError

    deadline = time.monotonic() + wait
    told = False
    while not db.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()[0]:
        db.commit()
        if notify is not None and not told:
            notify(f"another newsdesk is writing this database's index; waiting up to {wait:.0f} s")
            told = True
        if time.monotonic() > deadline:
            raise IndexLockedError("another newsdesk is writing this database's index; try again when it is done")
        time.sleep(0.2)
    db.commit()
    try:
        yield
    finally:
        db.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
        db.commit()
