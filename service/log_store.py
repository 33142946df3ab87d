"""The decision log's storage: one small interface, SQLite (WAL) or PostgreSQL, with migrations.

Append-only: the stores offer no update or delete, and the tables refuse them (triggers).
`append` returns only after the transaction has committed (durable: SQLite `synchronous=FULL`,
PostgreSQL's default synchronous commit)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
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
)

_INSERT_COLUMNS = ", ".join(COLUMNS)


class LogStore(Protocol):
    """What the service needs from a decision log."""

    backend: str

    def migrate(self) -> int: ...
    def append(self, records: Sequence[LogRecord]) -> None: ...
    def get(self, decision_id: str) -> LogRecord | None: ...
    def count(self) -> int: ...
    def records(self) -> list[LogRecord]: ...
    def put_pack_source(
        self, content_hash: str, pack: str, version: str, name: str, src: bytes
    ) -> None: ...
    def pack_source(self, content_hash: str) -> tuple[str, bytes] | None: ...
    def ping(self) -> bool: ...
    def close(self) -> None: ...


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class SqliteStore:
    """The log in one SQLite file, WAL mode, synchronous=FULL; one connection per thread."""

    backend = "sqlite"

    def __init__(self, path: str):
        self.path = path
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def migrate(self) -> int:
        """Apply the migrations not yet applied, in one exclusive transaction; the version."""
        c = self._conn()
        c.execute("BEGIN IMMEDIATE")
        try:
            c.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                " description TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            done = {r[0] for r in c.execute("SELECT version FROM schema_migrations")}
            for version, description, statements, _ in MIGRATIONS:
                if version in done:
                    continue
                for s in statements:
                    c.execute(s)
                c.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?)", (version, description, now())
                )
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
        return max(v for v, *_ in MIGRATIONS)

    def append(self, records: Sequence[LogRecord]) -> None:
        c = self._conn()
        c.execute("BEGIN IMMEDIATE")
        try:
            c.executemany(
                f"INSERT INTO decisions ({_INSERT_COLUMNS})"
                f" VALUES ({', '.join('?' * len(COLUMNS))})",
                [tuple(getattr(r, k) for k in COLUMNS) for r in records],
            )
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise

    def get(self, decision_id: str) -> LogRecord | None:
        row = (
            self._conn()
            .execute(
                f"SELECT {_INSERT_COLUMNS} FROM decisions WHERE decision_id = ?", (decision_id,)
            )
            .fetchone()
        )
        return LogRecord(*row) if row else None

    def count(self) -> int:
        return int(self._conn().execute("SELECT count(*) FROM decisions").fetchone()[0])

    def records(self) -> list[LogRecord]:
        rows = self._conn().execute(f"SELECT {_INSERT_COLUMNS} FROM decisions ORDER BY seq")
        return [LogRecord(*r) for r in rows]

    def put_pack_source(
        self, content_hash: str, pack: str, version: str, name: str, src: bytes
    ) -> None:
        self._conn().execute(
            "INSERT OR IGNORE INTO pack_sources VALUES (?, ?, ?, ?, ?, ?)",
            (content_hash, pack, version, name, src, now()),
        )

    def pack_source(self, content_hash: str) -> tuple[str, bytes] | None:
        row = (
            self._conn()
            .execute(
                "SELECT file_name, source FROM pack_sources WHERE content_hash = ?", (content_hash,)
            )
            .fetchone()
        )
        return (str(row[0]), bytes(row[1])) if row else None

    def ping(self) -> bool:
        try:
            self._conn().execute("SELECT 1").fetchone()
            return True
        except sqlite3.Error:
            return False

    def close(self) -> None:
        with self._lock:
            for c in self._all:
                try:
                    c.close()
                except sqlite3.Error:
                    pass
            self._all.clear()
        self._local = threading.local()


class PostgresStore:
    """The log in PostgreSQL (psycopg 3): one connection per thread, committed per append."""

    backend = "postgresql"

    def __init__(self, url: str):
        self.url = url
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()

    def _conn(self) -> Any:
        import psycopg

        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = psycopg.connect(self.url, autocommit=True)
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def migrate(self) -> int:
        c = self._conn()
        with c.transaction():
            c.execute("SELECT pg_advisory_xact_lock(7351)")
            c.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                " description TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            done = {r[0] for r in c.execute("SELECT version FROM schema_migrations").fetchall()}
            for version, description, _, statements in MIGRATIONS:
                if version in done:
                    continue
                for s in statements:
                    c.execute(s)
                c.execute(
                    "INSERT INTO schema_migrations VALUES (%s, %s, %s)",
                    (version, description, now()),
                )
        return max(v for v, *_ in MIGRATIONS)

    def append(self, records: Sequence[LogRecord]) -> None:
        c = self._conn()
        with c.transaction(), c.cursor() as cur:
            cur.executemany(
                f"INSERT INTO decisions ({_INSERT_COLUMNS})"
                f" VALUES ({', '.join(['%s'] * len(COLUMNS))})",
                [tuple(getattr(r, k) for k in COLUMNS) for r in records],
            )

    def get(self, decision_id: str) -> LogRecord | None:
        row = (
            self._conn()
            .execute(
                f"SELECT {_INSERT_COLUMNS} FROM decisions WHERE decision_id = %s", (decision_id,)
            )
            .fetchone()
        )
        return LogRecord(*row) if row else None

    def count(self) -> int:
        return int(self._conn().execute("SELECT count(*) FROM decisions").fetchone()[0])

    def records(self) -> list[LogRecord]:
        rows = self._conn().execute(f"SELECT {_INSERT_COLUMNS} FROM decisions ORDER BY seq")
        return [LogRecord(*r) for r in rows.fetchall()]

    def put_pack_source(
        self, content_hash: str, pack: str, version: str, name: str, src: bytes
    ) -> None:
        self._conn().execute(
            "INSERT INTO pack_sources VALUES (%s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (content_hash) DO NOTHING",
            (content_hash, pack, version, name, src, now()),
        )

    def pack_source(self, content_hash: str) -> tuple[str, bytes] | None:
        row = (
            self._conn()
            .execute(
                "SELECT file_name, source FROM pack_sources WHERE content_hash = %s",
                (content_hash,),
            )
            .fetchone()
        )
        return (str(row[0]), bytes(row[1])) if row else None

    def ping(self) -> bool:
        try:
            self._conn().execute("SELECT 1").fetchone()
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


class BadDatabaseUrl(ValueError):
    """The --database-url is neither sqlite:///PATH nor postgresql://..."""


def open_store(url: str) -> LogStore:
    """The store for `sqlite:///relative.db`, `sqlite:////absolute.db` or `postgresql://...`."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
        if not path:
            raise BadDatabaseUrl(f"`{url}` names no file; write sqlite:///decisions.db")
        return SqliteStore(path)
    if parsed.scheme in ("postgresql", "postgres"):
        return PostgresStore(url)
    raise BadDatabaseUrl(
        f"`{url}` is not a database URL this service knows; use sqlite:///FILE or postgresql://..."
    )
