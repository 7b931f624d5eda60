"""``postgresql://user@host:port/database``: the PostgreSQL backend (extra ``postgres``).

psycopg 3 with a connection pool (``?pool_min=1&pool_max=10`` in the URL; other query
parameters go to libpq). Transactions run at READ COMMITTED: versioned updates are
single statements (``UPDATE … WHERE id = … AND version = …``), so a stale write can
never win; claiming due work uses ``FOR UPDATE SKIP LOCKED`` so many workers each take
different items; appends to one stream are ordered by a transaction-scoped advisory
lock, so a reader following a stream by position never skips an entry that commits
late.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sfakit.errors import (
    DuplicateError,
    PluginError,
    StorageError,
    ValidationError,
)
from sfakit.plugins import hookimpl
from sfakit.storage.api import Capability
from sfakit.storage.catalog import IndexKind
from sfakit.storage.sql import SqlTransaction, migrate

__all__ = ["PostgresDialect", "PostgresStorage", "sfakit_open_storage", "sfakit_storage_schemes"]

_SCHEMES: Final = ("postgresql", "postgres")
_MIGRATION_LOCK: Final = 0x5FA_C17  # advisory lock key: one migrator at a time


class PostgresDialect:
    name: str = "postgres"
    placeholder: str = "%s"
    data_type: str = "TEXT"
    moment_type: str = "TIMESTAMPTZ"
    skip_locked: str = " FOR UPDATE SKIP LOCKED"
    lock_stream: str | None = "SELECT pg_advisory_xact_lock(hashtext(%s))"
    code_point_order: str = ' COLLATE "C"'  # a database's default may be a locale's order

    def column_type(self, kind: IndexKind) -> str:
        return {
            IndexKind.TEXT: "TEXT",
            IndexKind.INT: "BIGINT",
            IndexKind.BOOL: "BOOLEAN",
            IndexKind.DATE: "DATE",
            IndexKind.DATETIME: "TIMESTAMPTZ",
        }[kind]

    def to_db(self, kind: IndexKind, value: Any) -> Any:
        return value

    def from_db(self, kind: IndexKind, value: Any) -> Any:
        if kind is IndexKind.DATETIME and value is not None:
            return value.astimezone(UTC)
        return value

    def moment_to_db(self, moment: datetime) -> Any:
        return moment

    def write_rows(
        self, cursor: Any, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def insert_new_rows(
        self, cursor: Any, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> int:
        # COPY cannot skip conflicts, so rows are copied into a session-private staging
        # table and moved with INSERT … ON CONFLICT DO NOTHING: far fewer round trips
        # than one INSERT per row.
        stage = f"sfakit_stage_{table}"
        names = ", ".join(columns)
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} "
            f"(LIKE {table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        self.write_rows(cursor, stage, columns, rows)
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage} ON CONFLICT DO NOTHING"
        )
        inserted = int(cursor.rowcount)
        cursor.execute(f"DELETE FROM {stage}")
        return inserted

    def moment_from_db(self, value: Any) -> datetime:
        moment: datetime = value
        return moment.astimezone(UTC)


_DIALECT: Final = PostgresDialect()


def _psycopg() -> Any:
    try:
        import psycopg  # noqa: PLC0415 - optional dependency
    except ImportError as exc:
        raise PluginError(
            "the PostgreSQL backend needs psycopg 3: pip install 'sfakit[postgres]'",
            plugin="sfakit.backends.postgres",
        ) from exc
    return psycopg


def _translate(exc: Exception) -> Exception | None:
    psycopg = _psycopg()
    if isinstance(exc, psycopg.errors.UniqueViolation):
        return DuplicateError("record", str(exc).splitlines()[0])
    if isinstance(exc, psycopg.OperationalError):
        return StorageError(f"PostgreSQL connection failed: {exc}")
    if isinstance(exc, psycopg.DatabaseError):
        return StorageError(f"PostgreSQL failed: {str(exc).splitlines()[0] if str(exc) else exc!r}")
    return None


class PostgresStorage:
    """The ``postgresql://`` backend. See the module docstring."""

    capabilities: frozenset[Capability] = frozenset(
        {Capability.AGGREGATE, Capability.CONCURRENT_WORKERS}
    )

    def __init__(self, url: str, conninfo: str, *, pool_min: int = 1, pool_max: int = 10) -> None:
        psycopg = _psycopg()
        try:
            from psycopg_pool import ConnectionPool  # noqa: PLC0415
        except ImportError as exc:
            raise PluginError(
                "the PostgreSQL backend needs psycopg-pool: pip install 'sfakit[postgres]'",
                plugin="sfakit.backends.postgres",
            ) from exc
        self.url = url
        try:
            # One direct connection first: an unreachable server fails at once with
            # libpq's reason, instead of after the pool's wait.
            psycopg.connect(conninfo, connect_timeout=10).close()
            self._pool = ConnectionPool(
                conninfo, min_size=pool_min, max_size=pool_max, open=True, timeout=30
            )
            self._pool.wait(timeout=30)
        except (psycopg.Error, Exception) as exc:
            raise StorageError(f"{_redact(url)}: cannot connect to PostgreSQL: {exc}") from exc
        self._migrate()

    def _migrate(self) -> None:
        with self._raw_transaction() as cur:
            # Two processes opening a new database at once must not both create it.
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            migrate(cur, _DIALECT, _redact(self.url))

    @contextmanager
    def _raw_transaction(self, *, readonly: bool = False) -> Iterator[Any]:
        psycopg = _psycopg()
        try:
            with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
                if readonly:
                    cur.execute("SET TRANSACTION READ ONLY")
                yield cur
        except psycopg.Error as exc:
            raise _translate(exc) or exc from exc

    @contextmanager
    def transaction(self, *, readonly: bool = False) -> Iterator[SqlTransaction]:
        with self._raw_transaction(readonly=readonly) as cur:
            yield SqlTransaction(cur, _DIALECT, readonly=readonly, translate=_translate)

    def close(self) -> None:
        self._pool.close()

    def __repr__(self) -> str:
        return f"PostgresStorage({_redact(self.url)!r})"


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def open_postgres(url: str) -> PostgresStorage:
    parts = urlsplit(url)
    params = parse_qsl(parts.query)
    ours = {k: v for k, v in params if k in ("pool_min", "pool_max")}
    rest = [(k, v) for k, v in params if k not in ours]
    try:
        pool_min = int(ours.get("pool_min", 1))
        pool_max = int(ours.get("pool_max", 10))
    except ValueError:
        raise ValidationError(
            "$.url", _redact(url), "pool_min and pool_max as whole numbers"
        ) from None
    if not 0 <= pool_min <= pool_max or pool_max < 1:
        raise ValidationError("$.url", _redact(url), "0 <= pool_min <= pool_max, pool_max >= 1")
    conninfo = urlunsplit(parts._replace(scheme="postgresql", query=urlencode(rest)))
    return PostgresStorage(url, conninfo, pool_min=pool_min, pool_max=pool_max)


@hookimpl
def sfakit_storage_schemes() -> list[str]:
    return list(_SCHEMES)


@hookimpl
def sfakit_open_storage(url: str) -> PostgresStorage | None:
    if urlsplit(url).scheme not in _SCHEMES:
        return None
    return open_postgres(url)
