"""SQL shared by the SQLite and PostgreSQL backends.

Each entity kind has a table with ``id``, ``version``, ``data`` (the entity as JSON,
through the one codec) and one column per indexed field (two for money: minor units
and currency). Every identifier in generated SQL comes from the catalog; every value
is a bound parameter.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, Final, Protocol, TypeVar, overload

from sfakit.codec import converter
from sfakit.errors import (
    ConflictError,
    DuplicateError,
    NotFoundError,
    SchemaVersionError,
    ValidationError,
)
from sfakit.model import Entity
from sfakit.model.currencies import MINOR_UNITS
from sfakit.storage.api import AggregateRow, Page, StreamEntry, Where, WorkItem, WorkStatus
from sfakit.storage.catalog import (
    CATALOG,
    IndexKind,
    IndexSpec,
    KindSpec,
    column_readers,
    entity_index_values,
    kind_spec,
    utc_text,
)
from sfakit.storage.common import (
    CHANGES,
    change_entry,
    check_aware,
    check_key,
    check_new,
    check_stored,
    check_stream_name,
    value_fields,
    with_version,
)
from sfakit.storage.query import Filter, QueryPlan, group_fields, plan_filters, plan_query

__all__ = ["SCHEMA_VERSION", "Dialect", "SqlTransaction", "schema_statements"]

E = TypeVar("E", bound=Entity)

#: The schema version this code writes. A database with a higher one is refused.
SCHEMA_VERSION: Final = 1


class Dialect(Protocol):
    """What differs between SQL databases."""

    name: str
    placeholder: str

    def column_type(self, kind: IndexKind) -> str: ...

    def to_db(self, kind: IndexKind, value: Any) -> Any: ...

    def from_db(self, kind: IndexKind, value: Any) -> Any: ...

    def moment_to_db(self, moment: datetime) -> Any: ...

    def moment_from_db(self, value: Any) -> datetime: ...

    def write_rows(
        self, cursor: Any, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Write many new rows that cannot conflict, the fastest way the database has."""
        ...

    def insert_new_rows(
        self, cursor: Any, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> int:
        """Insert rows, skipping any that collide with a unique key; returns how many went in."""
        ...

    data_type: str
    moment_type: str
    skip_locked: str  # appended to the claim query's row selection
    lock_stream: str | None  # SQL taking a lock that orders stream appends, or None
    # Appended to a text column in ORDER BY so that text sorts by code point (as Python
    # and the memory backend sort it), whatever collation the database was created with.
    code_point_order: str


def columns(spec: IndexSpec) -> tuple[str, ...]:
    if spec.kind is IndexKind.MONEY:
        return (f"{spec.field}_minor", f"{spec.field}_currency")
    return (spec.field,)


def migrate(cursor: Cursorish, dialect: Dialect, url: str) -> int:
    """Bring the database's schema up to :data:`SCHEMA_VERSION`, inside the caller's
    transaction; returns the version found. A newer version is refused.

    Each step is in :func:`migration_steps`; a database with no version gets them all.
    """
    p = dialect.placeholder
    cursor.execute(
        "CREATE TABLE IF NOT EXISTS sfakit_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
    )
    cursor.execute("SELECT value FROM sfakit_meta WHERE key = 'schema_version'")
    row = cursor.fetchone()
    found = 0 if row is None else int(row[0])
    if found > SCHEMA_VERSION:
        raise SchemaVersionError(url, found, SCHEMA_VERSION)
    steps = migration_steps(dialect)
    for version in range(found + 1, SCHEMA_VERSION + 1):
        for statement in steps[version]:
            cursor.execute(statement)
    if found < SCHEMA_VERSION:
        cursor.execute(
            f"INSERT INTO sfakit_meta (key, value) VALUES ('schema_version', {p}) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (str(SCHEMA_VERSION),),
        )
    return found


def migration_steps(dialect: Dialect) -> dict[int, list[str]]:
    """Schema version → the statements that bring the previous version to it.

    A later version adds its own entry (``ALTER TABLE … ADD COLUMN`` and a backfill from
    ``data``) rather than editing version 1, so every old database can be brought up.
    """
    return {1: schema_statements(dialect)}


def schema_statements(dialect: Dialect) -> list[str]:
    """CREATE statements for every table and index (idempotent)."""
    statements = [
        "CREATE TABLE IF NOT EXISTS sfakit_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS sfakit_keys (namespace TEXT NOT NULL, key TEXT NOT NULL, "
        "value TEXT NOT NULL, PRIMARY KEY (namespace, key))",
        "CREATE TABLE IF NOT EXISTS sfakit_streams (stream TEXT NOT NULL, "
        f"position BIGINT NOT NULL, recorded_at {dialect.moment_type} NOT NULL, "
        f"data {dialect.data_type} NOT NULL, PRIMARY KEY (stream, position))",
        f"CREATE TABLE IF NOT EXISTS sfakit_work (queue TEXT NOT NULL, key TEXT NOT NULL, "
        f"due_at {dialect.moment_type} NOT NULL, payload {dialect.data_type} NOT NULL, "
        "state TEXT NOT NULL, worker TEXT, attempt INTEGER NOT NULL, "
        # When the item may next be claimed: due_at while pending, the lease's end while
        # claimed, NULL once done or dead — so claiming is one index range scan.
        f"available_at {dialect.moment_type}, "
        f"lease_until {dialect.moment_type}, error TEXT, PRIMARY KEY (queue, key))",
        "CREATE INDEX IF NOT EXISTS ix_sfakit_work_available "
        "ON sfakit_work (queue, available_at, key)",
    ]
    for spec in CATALOG.values():
        cols = [
            "id TEXT PRIMARY KEY",
            "version INTEGER NOT NULL",
            f"data {dialect.data_type} NOT NULL",
        ]
        for ix in spec.indexes:
            if ix.field == "id":
                continue
            if ix.kind is IndexKind.MONEY:
                cols.append(f"{ix.field}_minor BIGINT")
                cols.append(f"{ix.field}_currency TEXT")
            else:
                cols.append(f"{ix.field} {dialect.column_type(ix.kind)}")
        statements.append(f"CREATE TABLE IF NOT EXISTS {spec.table} ({', '.join(cols)})")
        for ix in spec.indexes:
            if ix.field == "id":
                continue
            name = f"ix_{spec.table}_{ix.field}"
            if ix.unique:
                statements.append(
                    f"CREATE UNIQUE INDEX IF NOT EXISTS {name} ON {spec.table} ({ix.field})"
                )
            elif ix.kind is IndexKind.MONEY:
                statements.append(
                    f"CREATE INDEX IF NOT EXISTS {name} ON {spec.table} ({ix.field}_currency)"
                )
            else:
                statements.append(
                    f"CREATE INDEX IF NOT EXISTS {name} ON {spec.table} ({ix.field}, id)"
                )
    # Routing counts each rep's open items at every decision: these covering indexes let
    # the database count them from the index alone instead of reading every row.
    statements += [
        "CREATE INDEX IF NOT EXISTS ix_leads_open_items "
        "ON leads (status, merged_into_id, owner_id)",
        "CREATE INDEX IF NOT EXISTS ix_opportunities_open_items ON opportunities (stage, owner_id)",
    ]
    return statements


class _Statements:
    """Per-kind SQL, built once per dialect."""

    def __init__(self, spec: KindSpec, dialect: Dialect) -> None:
        p = dialect.placeholder
        self.spec = spec
        self.index_columns = [c for ix in spec.indexes if ix.field != "id" for c in columns(ix)]
        names = ["id", "version", "data", *self.index_columns]
        self.names = tuple(names)
        self.insert = (
            f"INSERT INTO {spec.table} ({', '.join(names)}) VALUES ({', '.join([p] * len(names))}) "
            "ON CONFLICT DO NOTHING"
        )
        sets = ", ".join(f"{c} = {p}" for c in ["version", "data", *self.index_columns])
        self.update = f"UPDATE {spec.table} SET {sets} WHERE id = {p} AND version = {p}"
        self.select_one = f"SELECT data, version FROM {spec.table} WHERE id = {p}"
        self.version_of = f"SELECT version FROM {spec.table} WHERE id = {p}"
        self.delete = f"DELETE FROM {spec.table} WHERE id = {p} AND version = {p}"
        self.has_unique = any(ix.unique and ix.field != "id" for ix in spec.indexes)
        self._columns = [(read, _adapter(kind, dialect)) for kind, read in column_readers(spec)]
        self._unstructure = converter.get_unstructure_hook(spec.cls)

    def row_of(self, entity: Entity, *, version: int | None = None) -> list[Any]:
        """``data`` (at ``version`` if given) then the index columns, in table order."""
        data = self._unstructure(entity)
        if version is not None:
            data["version"] = version
        row: list[Any] = [json.dumps(data, ensure_ascii=False)]
        for read, adapt in self._columns:
            value = read(entity)
            row.append(value if adapt is None or value is None else adapt(value))
        return row


def _adapter(kind: IndexKind, dialect: Dialect) -> Callable[[Any], Any] | None:
    """How a plain index value becomes a column value (None: as it is)."""
    if kind in (IndexKind.TEXT, IndexKind.INT):
        return None
    if kind is IndexKind.DATETIME:
        return dialect.moment_to_db
    return partial(dialect.to_db, kind)


class Cursorish(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Any: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def executemany(self, sql: str, params: Sequence[Sequence[Any]], /) -> Any: ...

    @property
    def rowcount(self) -> int: ...


_STATEMENTS: dict[tuple[str, str], _Statements] = {}


def statements(spec: KindSpec, dialect: Dialect) -> _Statements:
    key = (dialect.name, spec.name)
    found = _STATEMENTS.get(key)
    if found is None:
        found = _STATEMENTS[key] = _Statements(spec, dialect)
    return found


def entity_row(spec: KindSpec, dialect: Dialect, entity: Entity) -> list[Any]:
    """``data`` then the index columns of ``entity``, in table order (without id/version)."""
    return statements(spec, dialect).row_of(entity)


class SqlTransaction:
    """A transaction over a DB-API cursor; the backend owns BEGIN/COMMIT/ROLLBACK."""

    def __init__(
        self,
        cursor: Cursorish,
        dialect: Dialect,
        *,
        readonly: bool,
        translate: Callable[[Exception], Exception | None],
    ) -> None:
        self._cur = cursor
        self._dialect = dialect
        self._readonly = readonly
        self._translate = translate
        self._p = dialect.placeholder

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        try:
            return self._cur.execute(sql, params)
        except Exception as exc:
            better = self._translate(exc)
            if better is None:
                raise
            raise better from exc

    def _writable(self) -> None:
        if self._readonly:
            raise ValidationError("$.readonly", True, "a read-write transaction for writes")

    def _load(self, kind: type[E], data: Any) -> E:
        raw = json.loads(data) if isinstance(data, str | bytes) else data
        return converter.structure(raw, kind)

    # -- entities -------------------------------------------------------------------

    def find(self, kind: type[E], id: str) -> E | None:
        spec = kind_spec(kind)
        self._execute(statements(spec, self._dialect).select_one, (id,))
        row = self._cur.fetchone()
        return None if row is None else self._load(kind, row[0])

    def get(self, kind: type[E], id: str) -> E:
        found = self.find(kind, id)
        if found is None:
            raise NotFoundError(kind.__name__, id)
        return found

    def _duplicate(self, spec: KindSpec, entity: Entity) -> DuplicateError:
        p = self._p
        self._execute(f"SELECT 1 FROM {spec.table} WHERE id = {p}", (entity.id,))
        if self._cur.fetchone() is not None:
            return DuplicateError(spec.name, f"id={entity.id}", existing_id=entity.id)
        return self._unique_taken(spec, entity) or DuplicateError(spec.name, f"id={entity.id}")

    def _unique_taken(self, spec: KindSpec, entity: Entity) -> DuplicateError | None:
        p = self._p
        values = entity_index_values(spec, entity)
        for ix in spec.indexes:
            if ix.unique and ix.field != "id" and values[ix.field] is not None:
                self._execute(
                    f"SELECT id FROM {spec.table} WHERE {ix.field} = {p} AND id <> {p}",
                    (self._dialect.to_db(ix.kind, values[ix.field]), entity.id),
                )
                row = self._cur.fetchone()
                if row is not None:
                    return DuplicateError(
                        spec.name, f"{ix.field}={values[ix.field]}", existing_id=row[0]
                    )
        return None

    def insert(self, entity: E) -> E:
        self._writable()
        check_new(entity)
        spec = kind_spec(type(entity))
        stored = with_version(entity, 1)
        sql = statements(spec, self._dialect).insert
        self._execute(sql, [stored.id, 1, *entity_row(spec, self._dialect, stored)])
        if self._cur.rowcount != 1:
            raise self._duplicate(spec, stored)
        self._feed(spec, stored.id, 1, "insert", stored.updated_at)
        return stored

    def insert_many(self, entities: Iterable[Entity]) -> int:
        """Insert many new entities with one statement batch per kind; returns how many."""
        ordered = list(entities)
        by_kind: dict[str, list[Entity]] = {}
        for entity in ordered:
            check_new(entity)
            by_kind.setdefault(type(entity).__name__, []).append(entity)
        for name, batch in by_kind.items():
            spec = kind_spec(name)
            sql = statements(spec, self._dialect)
            rows = [[e.id, 1, *sql.row_of(e, version=1)] for e in batch]
            try:
                inserted = self._dialect.insert_new_rows(self._cur, spec.table, sql.names, rows)
            except Exception as exc:
                better = self._translate(exc)
                if better is None:
                    raise
                if not isinstance(better, DuplicateError):
                    raise better from exc
                inserted = -1
            if inserted != len(batch):
                raise self._first_duplicate(spec, batch, rows)
        self._append_many(
            CHANGES,
            [(change_entry(type(e).__name__, e.id, 1, "insert"), e.updated_at) for e in ordered],
        )
        return len(ordered)

    def _first_duplicate(
        self, spec: KindSpec, batch: Sequence[Entity], rows: Sequence[Sequence[Any]]
    ) -> DuplicateError:
        """Which entity of a batch collided (the caller's transaction is then rolled back)."""
        seen: set[str] = set()
        for entity in batch:
            if entity.id in seen:
                return DuplicateError(spec.name, f"id={entity.id}", existing_id=entity.id)
            seen.add(entity.id)
        p = self._p
        for entity, row in zip(batch, rows, strict=True):
            # A row that is not the one this batch wrote was there before it.
            self._execute(f"SELECT data FROM {spec.table} WHERE id = {p}", (entity.id,))
            found = self._cur.fetchone()
            if found is not None and found[0] != row[2]:
                return DuplicateError(spec.name, f"id={entity.id}", existing_id=entity.id)
        for entity in batch:
            duplicate = self._unique_taken(spec, entity)
            if duplicate is not None:
                return duplicate
        return DuplicateError(spec.name, "a key of this batch")

    def _conflict(self, spec: KindSpec, id: str, expected: int) -> ConflictError:
        self._execute(statements(spec, self._dialect).version_of, (id,))
        row = self._cur.fetchone()
        return ConflictError(
            spec.name,
            id,
            expected_version=expected,
            current_version=None if row is None else row[0],
        )

    def update(self, entity: E) -> E:
        self._writable()
        check_stored(entity)
        spec = kind_spec(type(entity))
        stored = entity.evolve(version=entity.version + 1)
        row = entity_row(spec, self._dialect, stored)
        sql = statements(spec, self._dialect).update
        if statements(spec, self._dialect).has_unique:
            # Checked first: on PostgreSQL a violated constraint would abort the transaction.
            taken = self._unique_taken(spec, stored)
            if taken is not None:
                raise taken
        self._execute(sql, [stored.version, *row, stored.id, entity.version])
        if self._cur.rowcount != 1:
            raise self._conflict(spec, entity.id, entity.version)
        self._feed(spec, stored.id, stored.version, "update", stored.updated_at)
        return stored

    def delete(self, kind: type[Entity], id: str, *, expected_version: int, at: datetime) -> None:
        self._writable()
        check_aware(at, "$.at")
        spec = kind_spec(kind)
        self._execute(statements(spec, self._dialect).delete, (id, expected_version))
        if self._cur.rowcount != 1:
            raise self._conflict(spec, id, expected_version)
        self._feed(spec, id, expected_version + 1, "delete", at)

    def _feed(self, spec: KindSpec, entity_id: str, version: int, op: str, at: datetime) -> None:
        self.append(CHANGES, change_entry(spec.name, entity_id, version, op), at=at)

    # -- queries --------------------------------------------------------------------

    def _where(self, filters: Sequence[Filter]) -> tuple[list[str], list[Any]]:
        p = self._p
        clauses: list[str] = []
        params: list[Any] = []
        for f in filters:
            col = f.index.field
            kind = f.index.kind
            if f.op == "null":
                clauses.append(f"{col} IS NULL")
            elif f.op == "notnull":
                clauses.append(f"{col} IS NOT NULL")
            elif f.op == "eq":
                clauses.append(f"{col} = {p}")
                params.append(self._dialect.to_db(kind, f.values[0]))
            elif f.op == "in":
                clauses.append(f"{col} IN ({', '.join([p] * len(f.values))})")
                params.extend(self._dialect.to_db(kind, v) for v in f.values)
            else:
                low, high = f.values
                if low is not None:
                    clauses.append(f"{col} >= {p}")
                    params.append(self._dialect.to_db(kind, low))
                if high is not None:
                    clauses.append(f"{col} < {p}")
                    params.append(self._dialect.to_db(kind, high))
        return clauses, params

    def _keyset(self, plan: QueryPlan) -> tuple[list[str], list[Any]]:
        if plan.after is None:
            return [], []
        p = self._p
        col = plan.order.field
        value, last_id = plan.after
        if col == "id":
            return [f"id {'<' if plan.descending else '>'} {p}"], [last_id]
        db_value = self._dialect.to_db(plan.order.kind, value)
        if not plan.descending:
            if value is None:
                return [f"(({col} IS NULL AND id > {p}) OR {col} IS NOT NULL)"], [last_id]
            return [f"({col} > {p} OR ({col} = {p} AND id > {p}))"], [db_value, db_value, last_id]
        if value is None:
            return [f"({col} IS NULL AND id < {p})"], [last_id]
        return (
            [f"({col} < {p} OR ({col} = {p} AND id < {p}) OR {col} IS NULL)"],
            [db_value, db_value, last_id],
        )

    def query(
        self,
        kind: type[E],
        *,
        where: Where | None = None,
        order_by: str = "id",
        descending: bool = False,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[E]:
        spec = kind_spec(kind)
        plan = plan_query(
            spec, where=where, order_by=order_by, descending=descending, limit=limit, cursor=cursor
        )
        clauses, params = self._where(plan.filters)
        keyset, keyset_params = self._keyset(plan)
        clauses += keyset
        params += keyset_params
        col = plan.order.field
        if plan.descending:
            order = f"{col} DESC NULLS LAST, id DESC" if col != "id" else "id DESC"
        else:
            order = f"{col} ASC NULLS FIRST, id ASC" if col != "id" else "id ASC"
        sql = f"SELECT data FROM {spec.table}"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += f" ORDER BY {order} LIMIT {plan.limit + 1}"
        self._execute(sql, params)
        rows = self._cur.fetchall()
        items = tuple(self._load(kind, r[0]) for r in rows[: plan.limit])
        more = len(rows) > plan.limit
        next_cursor = (
            plan.cursor_for(entity_index_values(spec, items[-1])) if more and items else None
        )
        return Page(items, next_cursor)

    def count(self, kind: type[Entity], *, where: Where | None = None) -> int:
        spec = kind_spec(kind)
        clauses, params = self._where(plan_filters(spec, where))
        sql = f"SELECT COUNT(*) FROM {spec.table}"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        self._execute(sql, params)
        return int(self._cur.fetchone()[0])

    def _order(self, cols: Sequence[tuple[str, IndexKind]]) -> str:
        """ORDER BY terms for ``(column, kind)`` pairs: each ascending with None first (as
        the memory backend sorts), text by code point."""
        collate = self._dialect.code_point_order
        return ", ".join(
            f"{col}{collate if kind is IndexKind.TEXT else ''} ASC NULLS FIRST"
            for col, kind in cols
        )

    def _converters(self, kinds: Sequence[IndexKind]) -> list[tuple[int, Callable[[Any], Any]]]:
        """``(position, from_db)`` for the columns whose values need converting: text and
        integers come back from every database as they are stored."""
        from_db = self._dialect.from_db
        return [
            (i, partial(from_db, kind))
            for i, kind in enumerate(kinds)
            if kind not in (IndexKind.TEXT, IndexKind.INT)
        ]

    def aggregate(
        self,
        kind: type[Entity],
        *,
        group_by: Sequence[str],
        sum: Sequence[str] = (),
        where: Where | None = None,
    ) -> list[AggregateRow]:
        spec = kind_spec(kind)
        groups, sums = group_fields(spec, group_by, sum)
        money = [s for s in sums if s.kind is IndexKind.MONEY]
        keys = [(g.field, g.kind) for g in groups] + [
            (f"{m.field}_currency", IndexKind.TEXT) for m in money
        ]
        sum_cols = [
            f"SUM({s.field}_minor)" if s.kind is IndexKind.MONEY else f"SUM({s.field})"
            for s in sums
        ]
        clauses, params = self._where(plan_filters(spec, where))
        key_cols = [col for col, _ in keys]
        sql = f"SELECT {', '.join([*key_cols, 'COUNT(*)', *sum_cols])} FROM {spec.table}"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        if key_cols:
            sql += f" GROUP BY {', '.join(key_cols)} ORDER BY {self._order(keys)}"
        self._execute(sql, params)
        n = len(key_cols)
        convert = self._converters([k for _, k in keys])
        # Per sum: its name, its column in the row, and for money the key position of its
        # currency (None: a whole-number sum).
        summed = [
            (
                s.field,
                n + 1 + i,
                len(groups) + money.index(s) if s.kind is IndexKind.MONEY else None,
            )
            for i, s in enumerate(sums)
        ]
        result = []
        for row in self._cur.fetchall():
            if not n and row[0] == 0:
                continue  # no rows at all: no group (as in the in-memory fold)
            key = tuple(row[:n])
            if convert:
                cells = list(key)
                for i, from_db in convert:
                    cells[i] = from_db(cells[i])
                key = tuple(cells)
            totals: dict[str, Decimal | int] = {}
            for name, column, currency_at in summed:
                raw = int(row[column] or 0)
                if currency_at is None:
                    totals[name] = raw
                else:
                    currency = key[currency_at]
                    digits = MINOR_UNITS.get(currency, 0) if currency else 0
                    totals[name] = Decimal(raw).scaleb(-digits)
            result.append(AggregateRow(key=key, count=int(row[n]), sums=totals))
        return result

    @overload
    def values(
        self,
        kind: type[Entity],
        field: str,
        *,
        where: Where | None = None,
        group_by: None = None,
    ) -> list[Any]: ...

    @overload
    def values(
        self,
        kind: type[Entity],
        field: str,
        *,
        where: Where | None = None,
        group_by: Sequence[str],
    ) -> dict[tuple[Any, ...], list[Any]]: ...

    def values(
        self,
        kind: type[Entity],
        field: str,
        *,
        where: Where | None = None,
        group_by: Sequence[str] | None = None,
    ) -> list[Any] | dict[tuple[Any, ...], list[Any]]:
        spec = kind_spec(kind)
        index, groups = value_fields(spec, field, group_by)
        listed = [(g.field, g.kind) for g in groups or ()] + [(index.field, index.kind)]
        clauses, params = self._where(plan_filters(spec, where))
        sql = f"SELECT {', '.join(col for col, _ in listed)} FROM {spec.table}"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        self._execute(f"{sql} ORDER BY {self._order(listed)}", params)
        rows = self._cur.fetchall()
        convert = self._converters([k for _, k in listed])
        if groups is None:
            if not convert:
                return [value for (value,) in rows]
            from_db = convert[0][1]
            return [from_db(value) for (value,) in rows]
        n = len(groups)
        grouped: dict[tuple[Any, ...], list[Any]] = {}
        for row in rows:
            cells = list(row)
            for i, from_db in convert:
                cells[i] = from_db(cells[i])
            key = tuple(cells[:n])
            found = grouped.get(key)
            if found is None:
                grouped[key] = found = []
            found.append(cells[n])
        return grouped

    # -- idempotency keys -----------------------------------------------------------

    def claim_key(self, namespace: str, key: str, value: str) -> None:
        self._writable()
        check_key(namespace, "$.namespace")
        check_key(key, "$.key")
        check_key(value, "$.value")
        p = self._p
        self._execute(
            f"INSERT INTO sfakit_keys (namespace, key, value) VALUES ({p}, {p}, {p}) "
            "ON CONFLICT DO NOTHING",
            (namespace, key, value),
        )
        if self._cur.rowcount != 1:
            raise DuplicateError(namespace, key, existing_id=self.key_value(namespace, key))

    def key_value(self, namespace: str, key: str) -> str | None:
        p = self._p
        self._execute(
            f"SELECT value FROM sfakit_keys WHERE namespace = {p} AND key = {p}", (namespace, key)
        )
        row = self._cur.fetchone()
        return None if row is None else str(row[0])

    # -- streams --------------------------------------------------------------------

    def append(self, stream: str, data: Mapping[str, Any], *, at: datetime) -> int:
        self._writable()
        check_stream_name(stream)
        check_aware(at, "$.at")
        p = self._p
        if self._dialect.lock_stream:
            self._execute(self._dialect.lock_stream, (stream,))
        self._execute(
            f"INSERT INTO sfakit_streams (stream, position, recorded_at, data) "
            f"SELECT {p}, COALESCE(MAX(position), 0) + 1, {p}, {p} FROM sfakit_streams "
            f"WHERE stream = {p} RETURNING position",
            (stream, self._dialect.moment_to_db(at), json.dumps(dict(data)), stream),
        )
        return int(self._cur.fetchone()[0])

    def append_many(
        self, stream: str, entries: Sequence[tuple[Mapping[str, Any], datetime]]
    ) -> list[int]:
        self._writable()
        check_stream_name(stream)
        for _, at in entries:
            check_aware(at, "$.at")
        return self._append_many(stream, entries)

    def _append_many(
        self, stream: str, entries: Sequence[tuple[Mapping[str, Any], datetime]]
    ) -> list[int]:
        if not entries:
            return []
        p = self._p
        if self._dialect.lock_stream:
            self._execute(self._dialect.lock_stream, (stream,))
        self._execute(
            f"SELECT COALESCE(MAX(position), 0) FROM sfakit_streams WHERE stream = {p}", (stream,)
        )
        last = int(self._cur.fetchone()[0])
        moment = self._dialect.moment_to_db
        rows = [
            (stream, last + n, moment(at), json.dumps(dict(data)))
            for n, (data, at) in enumerate(entries, start=1)
        ]
        try:
            # Positions were taken under the stream's lock: these rows cannot conflict.
            self._dialect.write_rows(
                self._cur, "sfakit_streams", ("stream", "position", "recorded_at", "data"), rows
            )
        except Exception as exc:
            better = self._translate(exc)
            if better is None:
                raise
            raise better from exc
        return [last + n for n in range(1, len(rows) + 1)]

    def read(self, stream: str, *, after: int = 0, limit: int = 1000) -> list[StreamEntry]:
        check_stream_name(stream)
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            raise ValidationError("$.after", after, "a position >= 0")
        p = self._p
        self._execute(
            f"SELECT position, recorded_at, data FROM sfakit_streams WHERE stream = {p} "
            f"AND position > {p} ORDER BY position LIMIT {int(limit)}",
            (stream, after),
        )
        return [
            StreamEntry(
                stream,
                int(position),
                json.loads(data) if isinstance(data, str) else data,
                self._dialect.moment_from_db(recorded),
            )
            for position, recorded, data in self._cur.fetchall()
        ]

    # -- due work -------------------------------------------------------------------

    def enqueue(
        self, queue: str, key: str, *, due_at: datetime, payload: Mapping[str, Any]
    ) -> bool:
        self._writable()
        check_key(queue, "$.queue")
        check_key(key, "$.key")
        check_aware(due_at, "$.due_at")
        p = self._p
        self._execute(
            f"INSERT INTO sfakit_work (queue, key, due_at, payload, state, attempt, available_at) "
            f"VALUES ({p}, {p}, {p}, {p}, 'pending', 0, {p}) ON CONFLICT DO NOTHING",
            (
                queue,
                key,
                self._dialect.moment_to_db(due_at),
                json.dumps(dict(payload)),
                self._dialect.moment_to_db(due_at),
            ),
        )
        return bool(self._cur.rowcount == 1)

    def enqueue_many(
        self, queue: str, items: Sequence[tuple[str, datetime, Mapping[str, Any]]]
    ) -> int:
        self._writable()
        check_key(queue, "$.queue")
        moment = self._dialect.moment_to_db
        rows = []
        for key, due_at, payload in items:
            check_key(key, "$.key")
            check_aware(due_at, "$.due_at")
            at = moment(due_at)
            rows.append((queue, key, at, json.dumps(dict(payload)), "pending", 0, at))
        if not rows:
            return 0
        columns = ("queue", "key", "due_at", "payload", "state", "attempt", "available_at")
        return self._dialect.insert_new_rows(self._cur, "sfakit_work", columns, rows)

    def claim_due(
        self, queue: str, *, now: datetime, worker: str, lease: timedelta, limit: int = 100
    ) -> list[WorkItem]:
        self._writable()
        check_aware(now, "$.now")
        check_key(worker, "$.worker")
        p = self._p
        at = self._dialect.moment_to_db(now)
        until = now + lease
        # One statement claims the whole batch (PostgreSQL skips rows other workers hold).
        self._execute(
            f"UPDATE sfakit_work SET state = 'claimed', worker = {p}, attempt = attempt + 1, "
            f"lease_until = {p}, available_at = {p} WHERE (queue, key) IN "
            f"(SELECT queue, key FROM sfakit_work WHERE queue = {p} AND available_at <= {p} "
            f"ORDER BY available_at, key LIMIT {int(limit)}{self._dialect.skip_locked}) "
            "RETURNING key, due_at, payload, attempt",
            (
                worker,
                self._dialect.moment_to_db(until),
                self._dialect.moment_to_db(until),
                queue,
                at,
            ),
        )
        moment = self._dialect.moment_from_db
        items = [
            WorkItem(
                queue,
                str(key),
                moment(due),
                json.loads(payload) if isinstance(payload, str) else payload,
                worker,
                int(attempt),
                until,
            )
            for key, due, payload, attempt in self._cur.fetchall()
        ]
        items.sort(key=lambda item: (item.due_at, item.key))
        return items

    def _check_lease(self, item: WorkItem) -> None:
        p = self._p
        self._execute(
            f"SELECT state, worker, attempt FROM sfakit_work WHERE queue = {p} AND key = {p}",
            (item.queue, item.key),
        )
        row = self._cur.fetchone()
        if row is None or (row[0], row[1], row[2]) != ("claimed", item.worker, item.attempt):
            raise ConflictError(
                "WorkItem",
                f"{item.queue}/{item.key}",
                expected_version=item.attempt,
                current_version=None if row is None else int(row[2]),
            )

    def complete(self, item: WorkItem) -> None:
        self._writable()
        p = self._p
        self._execute(
            f"UPDATE sfakit_work SET state = 'done', lease_until = NULL, available_at = NULL "
            f"WHERE queue = {p} "
            f"AND key = {p} AND state = 'claimed' AND worker = {p} AND attempt = {p}",
            (item.queue, item.key, item.worker, item.attempt),
        )
        if self._cur.rowcount != 1:
            self._check_lease(item)

    def complete_many(self, items: Sequence[WorkItem]) -> list[WorkItem]:
        self._writable()
        if not items:
            return []
        p = self._p
        self._cur.executemany(
            f"UPDATE sfakit_work SET state = 'done', lease_until = NULL, available_at = NULL "
            f"WHERE queue = {p} AND key = {p} AND state = 'claimed' AND worker = {p} "
            f"AND attempt = {p}",
            [(i.queue, i.key, i.worker, i.attempt) for i in items],
        )
        if self._cur.rowcount == len(items):
            return []
        lost = []
        for item in items:
            status = self.work_status(item.queue, item.key)
            if status is None or status.state != "done" or status.attempt != item.attempt:
                lost.append(item)
        return lost

    def retry(self, item: WorkItem, *, due_at: datetime, error: str) -> None:
        self._writable()
        check_aware(due_at, "$.due_at")
        p = self._p
        self._execute(
            f"UPDATE sfakit_work SET state = 'pending', due_at = {p}, available_at = {p}, "
            f"lease_until = NULL, worker = NULL, error = {p} WHERE queue = {p} AND key = {p} "
            f"AND state = 'claimed' AND worker = {p} AND attempt = {p}",
            (
                self._dialect.moment_to_db(due_at),
                self._dialect.moment_to_db(due_at),
                str(error),
                item.queue,
                item.key,
                item.worker,
                item.attempt,
            ),
        )
        if self._cur.rowcount != 1:
            self._check_lease(item)

    def fail(self, item: WorkItem, *, error: str) -> None:
        self._writable()
        p = self._p
        self._execute(
            f"UPDATE sfakit_work SET state = 'dead', lease_until = NULL, available_at = NULL, "
            f"error = {p} "
            f"WHERE queue = {p} AND key = {p} AND state = 'claimed' AND worker = {p} "
            f"AND attempt = {p}",
            (str(error), item.queue, item.key, item.worker, item.attempt),
        )
        if self._cur.rowcount != 1:
            self._check_lease(item)

    _STATUS_COLUMNS = "queue, key, state, due_at, attempt, error, lease_until, payload"

    def _status(self, row: Sequence[Any]) -> WorkStatus:
        queue, key, state, due_at, attempt, error, lease_until, payload = row
        moment = self._dialect.moment_from_db
        return WorkStatus(
            str(queue),
            str(key),
            str(state),
            moment(due_at),
            int(attempt),
            None if error is None else str(error),
            None if lease_until is None else moment(lease_until),
            json.loads(payload) if isinstance(payload, str) else payload,
        )

    def work_status(self, queue: str, key: str) -> WorkStatus | None:
        p = self._p
        self._execute(
            f"SELECT {self._STATUS_COLUMNS} FROM sfakit_work WHERE queue = {p} AND key = {p}",
            (queue, key),
        )
        row = self._cur.fetchone()
        return None if row is None else self._status(row)

    def work_in(
        self, queue: str, *, state: str | None = None, limit: int = 1000
    ) -> list[WorkStatus]:
        p = self._p
        sql = f"SELECT {self._STATUS_COLUMNS} FROM sfakit_work WHERE queue = {p}"
        params: list[Any] = [queue]
        if state is not None:
            sql += f" AND state = {p}"
            params.append(state)
        self._execute(f"{sql} ORDER BY due_at, key LIMIT {int(limit)}", params)
        return [self._status(row) for row in self._cur.fetchall()]

    def redrive(self, queue: str, key: str, *, due_at: datetime) -> bool:
        self._writable()
        check_aware(due_at, "$.due_at")
        p = self._p
        self._execute(
            f"UPDATE sfakit_work SET state = 'pending', due_at = {p}, available_at = {p}, "
            f"worker = NULL WHERE queue = {p} AND key = {p} AND state = 'dead'",
            (self._dialect.moment_to_db(due_at), self._dialect.moment_to_db(due_at), queue, key),
        )
        return bool(self._cur.rowcount == 1)


def text_to_moment(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.fromisoformat(str(value))


def iso_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


__all__ += ["iso_date", "text_to_moment", "utc_text"]
