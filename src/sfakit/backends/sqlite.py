"""``sqlite:///path/to/file.db``: the embedded default backend.

One file, WAL journal, one connection per thread, closed when the thread ends (so a
server that starts a thread per request does not keep a connection per request). Write
transactions start with ``BEGIN IMMEDIATE``, so SQLite's single writer is taken up front
and a transaction never fails half-way for want of the write lock; a writer waits up to
the busy timeout (``?busy_timeout=5000`` milliseconds by default) and then fails with a
:class:`~sfakit.errors.StorageError`. The schema is created on first open and its
version recorded; a file written by a newer schema is refused.

``sqlite:///relative.db`` is relative to the working directory,
``sqlite:////abs/path.db`` absolute, and ``sqlite:///:memory:`` a private in-memory
database (one connection, shared by threads under a lock).
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qs, unquote, urlsplit

from sfakit.errors import DuplicateError, StorageError, ValidationError
from sfakit.plugins import hookimpl
from sfakit.storage.api import Capability
from sfakit.storage.catalog import IndexKind, utc_text
from sfakit.storage.sql import (
    SqlTransaction,
    iso_date,
    migrate,
    text_to_moment,
)

__all__ = ["SqliteDialect", "SqliteStorage", "sfakit_open_storage", "sfakit_storage_schemes"]

DEFAULT_BUSY_TIMEOUT_MS: Final = 5000
#: Page cache per connection, in KiB (SQLite's default is 2 MB).
CACHE_KIB: Final = 16 * 1024
#: How much of the file each connection maps into memory, in bytes.
MMAP_BYTES: Final = 256 * 1024 * 1024


class SqliteDialect:
    name: str = "sqlite"
    placeholder: str = "?"
    data_type: str = "TEXT"
    moment_type: str = "TEXT"
    skip_locked: str = ""  # one writer at a time: BEGIN IMMEDIATE already excludes others
    lock_stream: str | None = None
    code_point_order: str = ""  # text compares with BINARY: UTF-8 bytes, in code point order

    def column_type(self, kind: IndexKind) -> str:
        return "INTEGER" if kind in (IndexKind.INT, IndexKind.BOOL) else "TEXT"

    def to_db(self, kind: IndexKind, value: Any) -> Any:
        if value is None:
            return None
        if kind is IndexKind.DATETIME:
            return utc_text(value)
        if kind is IndexKind.DATE:
            return value.isoformat()
        if kind is IndexKind.BOOL:
            return int(value)
        return value

    def from_db(self, kind: IndexKind, value: Any) -> Any:
        if value is None:
            return None
        if kind is IndexKind.DATETIME:
            return text_to_moment(value)
        if kind is IndexKind.DATE:
            return iso_date(value)
        if kind is IndexKind.BOOL:
            return bool(value)
        return value

    def moment_to_db(self, moment: datetime) -> Any:
        return utc_text(moment)

    def write_rows(
        self, cursor: Any, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        marks = ", ".join("?" for _ in columns)
        cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def insert_new_rows(
        self, cursor: Any, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> int:
        marks = ", ".join("?" for _ in columns)
        cursor.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) ON CONFLICT DO NOTHING",
            rows,
        )
        return int(cursor.rowcount)

    def moment_from_db(self, value: Any) -> datetime:
        return text_to_moment(value)


_DIALECT: Final = SqliteDialect()


def _translate(exc: Exception) -> Exception | None:
    if isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc):
        return DuplicateError("record", str(exc))
    if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
        return StorageError(
            f"the SQLite database is locked by another writer past the busy timeout: {exc}"
        )
    if isinstance(exc, sqlite3.DatabaseError):
        return StorageError(f"SQLite failed: {exc}")
    return None


class SqliteStorage:
    """The ``sqlite://`` backend. See the module docstring."""

    capabilities: frozenset[Capability] = frozenset(
        {Capability.AGGREGATE, Capability.CONCURRENT_WORKERS}
    )

    def __init__(self, url: str, path: str, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS):
        self.url = url
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()
        # Every open connection and the thread it belongs to (None: the shared one).
        self._connections: dict[sqlite3.Connection, threading.Thread | None] = {}
        # Re-entrant: ``_forget`` runs from a finalizer, whenever a thread's values are
        # freed, which must not deadlock even if that thread holds the lock.
        self._lock = threading.RLock()
        self._closed = False
        self._in_memory = path == ":memory:"
        self._shared: sqlite3.Connection | None = None
        self._shared_lock = threading.RLock()
        self._migrate()

    def _connect(self, owner: threading.Thread | None) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout_ms / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            if not self._in_memory:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
                # SQLite's default page cache is 2 MB; a book of business is soon larger,
                # and every transaction would read its index pages again.
                conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
                conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        except sqlite3.Error as exc:
            raise StorageError(f"{self.url}: cannot open the SQLite database: {exc}") from exc
        with self._lock:
            self._close_connections_of_ended_threads()
            self._connections[conn] = owner
        return conn

    def _close_connections_of_ended_threads(self) -> None:
        """Close what :class:`_ThreadConnection` did not: on an interpreter that frees
        an ended thread's values late, their connections go when the next one opens."""
        for conn, owner in list(self._connections.items()):
            if owner is not None and not owner.is_alive():
                del self._connections[conn]
                conn.close()  # no thread uses it any more

    def _forget(self, conn: sqlite3.Connection) -> None:
        with self._lock:
            self._connections.pop(conn, None)

    def _connection(self) -> sqlite3.Connection:
        if self._closed:
            raise ValidationError("$.storage", self.url, "an open storage (this one was closed)")
        if self._in_memory:
            if self._shared is None:
                self._shared = self._connect(None)
            return self._shared
        held: _ThreadConnection | None = getattr(self._local, "held", None)
        if held is None:
            conn = self._connect(threading.current_thread())
            held = self._local.held = _ThreadConnection(conn, self)
        return held.conn

    def _migrate(self) -> None:
        with self._raw_transaction(readonly=False) as cur:
            migrate(cur, _DIALECT, self.url)

    @contextmanager
    def _raw_transaction(self, *, readonly: bool) -> Iterator[sqlite3.Cursor]:
        conn = self._connection()
        guard = self._shared_lock if self._in_memory else _NO_LOCK
        with guard:
            cur = conn.cursor()
            try:
                cur.execute("BEGIN" if readonly else "BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise _translate(exc) or exc from exc
            try:
                yield cur
            except BaseException:
                conn.rollback()
                raise
            try:
                conn.commit()
            except sqlite3.Error as exc:
                conn.rollback()
                raise _translate(exc) or exc from exc

    @contextmanager
    def transaction(self, *, readonly: bool = False) -> Iterator[SqlTransaction]:
        with self._raw_transaction(readonly=readonly) as cur:
            yield SqlTransaction(cur, _DIALECT, readonly=readonly, translate=_translate)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for conn in list(self._connections):
                conn.close()
            self._connections.clear()

    def __repr__(self) -> str:
        return f"SqliteStorage({self.url!r})"


class _ThreadConnection:
    """One thread's connection, kept in the storage's thread-local slot.

    When a thread ends, CPython drops its thread-local values in that very thread, so
    :meth:`__del__` closes the connection there, before ``Thread.join`` returns: a server
    that starts a thread per request (``socketserver.ThreadingMixIn``, Flask's development
    server) leaves no connection, and no file descriptors, behind per request. It holds
    the storage weakly, so a storage nobody refers to any more is still freed.
    """

    def __init__(self, conn: sqlite3.Connection, storage: SqliteStorage) -> None:
        self.conn = conn
        self._storage = weakref.ref(storage)

    def __del__(self) -> None:
        storage = self._storage()
        if storage is not None:
            storage._forget(self.conn)
        self.conn.close()  # closing twice (after SqliteStorage.close) is harmless


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


_NO_LOCK: Final = _NoLock()


def open_sqlite(url: str) -> SqliteStorage:
    parts = urlsplit(url)
    if parts.netloc:
        raise ValidationError(
            "$.url", url, "sqlite:///relative/path.db or sqlite:////absolute/path.db (no host)"
        )
    raw_path = unquote(parts.path)
    path = raw_path[1:] if raw_path.startswith("/") else raw_path
    if not path:
        raise ValidationError("$.url", url, "a database path, e.g. sqlite:///sfakit.db")
    options = parse_qs(parts.query)
    busy = DEFAULT_BUSY_TIMEOUT_MS
    if "busy_timeout" in options:
        try:
            busy = int(options["busy_timeout"][0])
        except ValueError:
            raise ValidationError(
                "$.url.busy_timeout", options["busy_timeout"][0], "milliseconds"
            ) from None
    if path != ":memory:":
        parent = Path(path).parent
        if not parent.exists():
            raise StorageError(f"{url}: the folder {str(parent)!r} does not exist")
    return SqliteStorage(url, path, busy_timeout_ms=busy)


@hookimpl
def sfakit_storage_schemes() -> list[str]:
    return ["sqlite"]


@hookimpl
def sfakit_open_storage(url: str) -> SqliteStorage | None:
    if urlsplit(url).scheme != "sqlite":
        return None
    return open_sqlite(url)
