"""The decision log's storage: one small interface, SQLite (WAL) or PostgreSQL, with migrations.

Append-only: the stores offer no update or delete, and the tables refuse them (triggers).
`append` returns only after the transaction has committed (durable: SQLite `synchronous=FULL`,
PostgreSQL's default synchronous commit)."""

from __future__ import annotations

import fcntl
import functools
import operator
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from service.log_record import COLUMNS, LogRecord

# Each migration: (version, description, SQLite statements, PostgreSQL statements).
MIGRATIONS: tuple[tuple[int, str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        1,
        "decisions and pack sources, append-only",
        (
            """CREATE TABLE decisions (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                decision_id TEXT NOT NULL UNIQUE, recorded_at TEXT NOT NULL,
                client_id TEXT, user_name TEXT, pack TEXT NOT NULL, version TEXT NOT NULL,
                policy_version TEXT NOT NULL, content_hash TEXT NOT NULL, as_of TEXT NOT NULL,
                audience TEXT NOT NULL, input_hash TEXT NOT NULL, input TEXT NOT NULL,
                masked_paths TEXT NOT NULL, result TEXT NOT NULL, record_hash TEXT NOT NULL)""",
            """CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions
               BEGIN SELECT RAISE(ABORT, 'the decision log is append-only'); END""",
            """CREATE TRIGGER decisions_no_delete BEFORE DELETE ON decisions
               BEGIN SELECT RAISE(ABORT, 'the decision log is append-only'); END""",
            """CREATE TABLE pack_sources (
                content_hash TEXT PRIMARY KEY, pack TEXT NOT NULL, version TEXT NOT NULL,
                file_name TEXT NOT NULL, source BLOB NOT NULL, first_loaded TEXT NOT NULL)""",
        ),
        (
            """CREATE TABLE decisions (
                seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                decision_id TEXT NOT NULL UNIQUE, recorded_at TEXT NOT NULL,
                client_id TEXT, user_name TEXT, pack TEXT NOT NULL, version TEXT NOT NULL,
                policy_version TEXT NOT NULL, content_hash TEXT NOT NULL, as_of TEXT NOT NULL,
                audience TEXT NOT NULL, input_hash TEXT NOT NULL, input TEXT NOT NULL,
                masked_paths TEXT NOT NULL, result TEXT NOT NULL, record_hash TEXT NOT NULL)""",
            """CREATE FUNCTION decisions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN RAISE EXCEPTION 'the decision log is append-only'; END $$""",
            """CREATE TRIGGER decisions_no_change BEFORE UPDATE OR DELETE OR TRUNCATE
               ON decisions FOR EACH STATEMENT EXECUTE FUNCTION decisions_append_only()""",
            """CREATE TABLE pack_sources (
                content_hash TEXT PRIMARY KEY, pack TEXT NOT NULL, version TEXT NOT NULL,
                file_name TEXT NOT NULL, source BYTEA NOT NULL, first_loaded TEXT NOT NULL)""",
        ),
    ),
    (
        2,
        "decisions remember the batch (and line) they came in",
        (
            "ALTER TABLE decisions ADD COLUMN batch_id TEXT",
            "ALTER TABLE decisions ADD COLUMN batch_line INTEGER",
            "CREATE INDEX decisions_by_batch ON decisions (batch_id, batch_line)",
        ),
        (
            "ALTER TABLE decisions ADD COLUMN batch_id TEXT",
            "ALTER TABLE decisions ADD COLUMN batch_line INTEGER",
            "CREATE INDEX decisions_by_batch ON decisions (batch_id, batch_line)",
        ),
    ),
    (
        3,
        "the pack-constant parts of results stored once, by hash",
        (
            """CREATE TABLE result_parts (
                part_hash TEXT PRIMARY KEY, body BLOB NOT NULL, first_logged TEXT NOT NULL)""",
            """CREATE TRIGGER result_parts_no_update BEFORE UPDATE ON result_parts
               BEGIN SELECT RAISE(ABORT, 'the decision log is append-only'); END""",
            """CREATE TRIGGER result_parts_no_delete BEFORE DELETE ON result_parts
               BEGIN SELECT RAISE(ABORT, 'the decision log is append-only'); END""",
            "ALTER TABLE decisions ADD COLUMN result_parts TEXT",
        ),
        (
            """CREATE TABLE result_parts (
                part_hash TEXT PRIMARY KEY, body BYTEA NOT NULL, first_logged TEXT NOT NULL)""",
            """CREATE TRIGGER result_parts_no_change BEFORE UPDATE OR DELETE OR TRUNCATE
               ON result_parts FOR EACH STATEMENT EXECUTE FUNCTION decisions_append_only()""",
            "ALTER TABLE decisions ADD COLUMN result_parts TEXT",
        ),
    ),
)

_COLUMNS = ", ".join(COLUMNS)
_row = operator.attrgetter(*COLUMNS)  # a record's column values, in order
ROWS_A_STATEMENT = 256  # 19 parameters a row: within SQLite's and PostgreSQL's limits


@functools.cache
def _insert(marker: str, n: int) -> str:
    """INSERT of `n` decision rows in one statement."""
    row = "(" + ", ".join([marker] * len(COLUMNS)) + ")"
    return f"INSERT INTO decisions ({_COLUMNS}) VALUES {', '.join([row] * n)}"


class LogStore(Protocol):
    """What the service needs from a decision log."""

    backend: str

    def migrate(self) -> int: ...
    def append(
        self, records: Sequence[LogRecord], parts: Sequence[tuple[str, bytes]] = ()
    ) -> None: ...
    def parts(self, hashes: Sequence[str]) -> dict[str, bytes]: ...
    def get(self, decision_id: str) -> LogRecord | None: ...
    def batch(self, batch_id: str) -> list[LogRecord]: ...
    def count(self) -> int: ...
    def records(self) -> list[LogRecord]: ...
    def put_pack_source(
        self, content_hash: str, pack: str, version: str, name: str, src: bytes
    ) -> None: ...
    def pack_source(self, content_hash: str) -> tuple[str, bytes] | None: ...
    def ping(self) -> bool: ...
    def close(self) -> None: ...


_second: list[Any] = [None, ""]  # the last whole second formatted, and its text


def now() -> str:
    """The time in UTC, ISO 8601 to the microsecond with `Z` (as datetime's isoformat writes
    it); the date and time of day are formatted once a second, on the hot path."""
    t = time.time_ns() // 1000
    second, micro = divmod(t, 1_000_000)
    if _second[0] != second:
        text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        _second[0], _second[1] = second, text
    return f"{_second[1]}.{micro:06d}Z"


class SqlStore:
    """The log over a DB-API connection, one per thread. Subclasses give only the dialect (the
    parameter marker, how a write transaction begins and is locked, which migration statements,
    how a duplicate pack source is ignored) and how to connect."""

    backend = ""
    marker = "?"
    begin_write = "BEGIN"
    migration_lock: str | None = None
    ignore_duplicate = "INSERT INTO pack_sources VALUES ({values}) ON CONFLICT DO NOTHING"
    ignore_duplicate_part = "INSERT INTO result_parts VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
    dialect_index = 2  # which statements of MIGRATIONS: 2 SQLite, 3 PostgreSQL

    def __init__(self, target: str):
        self.target = target
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()
        self._parts_stored: set[str] = set()  # part hashes known to be committed

    def connect(self) -> Any:
        """A new autocommit connection (transactions are begun explicitly)."""
        raise NotImplementedError

    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None or getattr(conn, "closed", False):
            conn = self.connect()
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def _sql(self, text: str) -> str:
        return text.replace("?", self.marker)

    def write_lock(self) -> Any:
        """Held around each write transaction (a no-op unless the dialect needs one)."""
        return nullcontext()

    def _write(self, work: Callable[[Any], None]) -> None:
        """Run `work(cursor)` in one write transaction: all of it committed, or none."""
        cur = self._conn().cursor()
        try:
            with self.write_lock():
                cur.execute(self.begin_write)
                try:
                    work(cur)
                    cur.execute("COMMIT")
                except BaseException:
                    cur.execute("ROLLBACK")
                    raise
        finally:
            cur.close()

    def _one(self, sql: str, args: tuple[Any, ...] = ()) -> Any:
        return self._conn().execute(self._sql(sql), args).fetchone()

    def migrate(self) -> int:
        """Apply the migrations not yet applied, in one locked transaction; the version."""

        def apply(cur: Any) -> None:
            if self.migration_lock:
                cur.execute(self.migration_lock)
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                " description TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            cur.execute("SELECT version FROM schema_migrations")
            done = {r[0] for r in cur.fetchall()}
            for version, description, *statements in MIGRATIONS:
                if version in done:
                    continue
                for statement in statements[self.dialect_index - 2]:
                    cur.execute(statement)
                cur.execute(
                    self._sql("INSERT INTO schema_migrations VALUES (?, ?, ?)"),
                    (version, description, now()),
                )

        self._write(apply)
        return max(v for v, *_ in MIGRATIONS)

    def append(self, records: Sequence[LogRecord], parts: Sequence[tuple[str, bytes]] = ()) -> None:
        """Insert the records, and the result parts they refer to that are not yet stored, in
        one transaction; returns once it has committed."""
        values = [v for r in records for v in _row(r)]
        new = {h: body for h, body in parts if h not in self._parts_stored}
        at = now()

        def work(cur: Any) -> None:
            if new:
                cur.executemany(
                    self._sql(self.ignore_duplicate_part),
                    [(h, body, at) for h, body in new.items()],
                )
            # one statement a group, not one a row: one round trip into the database (for
            # SQLite, one release of the GIL rather than one a row, each of which the writer
            # may wait up to the interpreter's switch interval to get back)
            for start in range(0, len(records), ROWS_A_STATEMENT):
                n = min(ROWS_A_STATEMENT, len(records) - start)
                cur.execute(
                    _insert(self.marker, n),
                    values[start * len(COLUMNS) : (start + n) * len(COLUMNS)],
                )

        self._write(work)
        self._parts_stored.update(new)

    def parts(self, hashes: Sequence[str]) -> dict[str, bytes]:
        """Stored result parts by hash (those found)."""
        found: dict[str, bytes] = {}
        for h in hashes:
            row = self._one("SELECT body FROM result_parts WHERE part_hash = ?", (h,))
            if row:
                found[h] = bytes(row[0])
        return found

    def get(self, decision_id: str) -> LogRecord | None:
        if "\x00" in decision_id:  # no id holds one (PostgreSQL's text cannot even be asked)
            return None
        row = self._one(f"SELECT {_COLUMNS} FROM decisions WHERE decision_id = ?", (decision_id,))
        return LogRecord(*row) if row else None

    def batch(self, batch_id: str) -> list[LogRecord]:
        """The logged lines of one batch, in line order."""
        if "\x00" in batch_id:
            return []
        rows = self._conn().execute(
            self._sql(f"SELECT {_COLUMNS} FROM decisions WHERE batch_id = ? ORDER BY batch_line"),
            (batch_id,),
        )
        return [LogRecord(*r) for r in rows.fetchall()]

    def count(self) -> int:
        return int(self._one("SELECT count(*) FROM decisions")[0])

    def records(self) -> list[LogRecord]:
        rows = self._conn().execute(f"SELECT {_COLUMNS} FROM decisions ORDER BY seq")
        return [LogRecord(*r) for r in rows.fetchall()]

    def put_pack_source(
        self, content_hash: str, pack: str, version: str, name: str, src: bytes
    ) -> None:
        self._conn().execute(
            self.ignore_duplicate.format(values=", ".join([self.marker] * 6)),
            (content_hash, pack, version, name, src, now()),
        )

    def pack_source(self, content_hash: str) -> tuple[str, bytes] | None:
        row = self._one(
            "SELECT file_name, source FROM pack_sources WHERE content_hash = ?", (content_hash,)
        )
        return (str(row[0]), bytes(row[1])) if row else None

    def ping(self) -> bool:
        try:
            self._one("SELECT 1")
            return True
        except Exception:
            return False

    def close(self) -> None:
        with self._lock:
            for c in self._all:
                try:
                    c.close()
                except Exception:
                    pass
            self._all.clear()
        self._local = threading.local()


class SqliteStore(SqlStore):
    """The log in one SQLite file, WAL mode, synchronous=FULL."""

    backend = "sqlite"
    begin_write = "BEGIN IMMEDIATE"  # takes the write lock: migrations run once
    ignore_duplicate = "INSERT OR IGNORE INTO pack_sources VALUES ({values})"
    ignore_duplicate_part = "INSERT OR IGNORE INTO result_parts VALUES (?, ?, ?)"
    dialect_index = 2

    def __init__(self, target: str):
        super().__init__(target)
        self._lock_file = target + ".write-lock"

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        """An exclusive lock on a file beside the database, across processes: the writers of
        several workers queue on it and wake as soon as it is free, where SQLite's own busy
        handler would poll with sleeps of up to 100 ms."""
        fd = os.open(self._lock_file, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.target, isolation_level=None, check_same_thread=False)
        # SQLite's default 4 KiB pages: a ~10 KB row (its interpretations stored apart) goes to
        # overflow pages filled whole, where 16 KiB pages held one row each, 60% larger files
        # and a third more writer CPU a record
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        return conn


class PostgresStore(SqlStore):
    """The log in PostgreSQL (psycopg 3), synchronous commit."""

    backend = "postgresql"
    marker = "%s"
    migration_lock = "SELECT pg_advisory_xact_lock(7351)"
    dialect_index = 3

    def connect(self) -> Any:
        import psycopg

        return psycopg.connect(self.target, autocommit=True)

    def reach(self) -> None:
        """Connect once and close, within 10 seconds: raises BadDatabaseUrl naming the log
        (without its password) when the server cannot be reached or refuses the login."""
        import psycopg

        try:
            psycopg.connect(self.target, autocommit=True, connect_timeout=10).close()
        except psycopg.Error as e:
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise BadDatabaseUrl(
                f"cannot reach the decision log `{shown_url(self.target)}`: {reason}"
            ) from None


def shown_url(url: str) -> str:
    """A database URL as it may be shown: its password, if it has one, replaced by `***`."""
    parsed = urlparse(url)
    if parsed.password is None:
        return url
    host = parsed.netloc.rpartition("@")[2]
    return parsed._replace(netloc=f"{parsed.username}:***@{host}").geturl()


class BadDatabaseUrl(ValueError):
    """The --database-url is neither sqlite:///PATH nor postgresql://..."""


def open_store(url: str) -> LogStore:
    """The store for `sqlite:///relative.db`, `sqlite:////absolute.db` or `postgresql://...`."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
        if not path:
            raise BadDatabaseUrl(f"`{url}` names no file; write sqlite:///decisions.db")
        if Path(path).is_dir():
            raise BadDatabaseUrl(f"`{path}` is a folder; the decision log is a file in one")
        if not Path(path).resolve().parent.is_dir():
            raise BadDatabaseUrl(
                f"no folder `{Path(path).parent}` for the decision log `{path}`; create it first"
            )
        return SqliteStore(path)
    if parsed.scheme in ("postgresql", "postgres"):
        return PostgresStore(url)
    raise BadDatabaseUrl(
        f"`{url}` is not a database URL this service knows; use sqlite:///FILE or postgresql://..."
    )
