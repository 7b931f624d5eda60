"""``memory://``: an in-process backend with the same guarantees as the SQL ones.

It keeps everything in dictionaries guarded by one re-entrant lock that a transaction
holds from start to end, so transactions are serialisable and thread-safe. Each write
records how to undo itself; an exception inside a transaction replays the undo log, so
nothing is left behind. Data is gone when the process ends — use it in tests.

``memory://NAME`` opens a named store shared by every ``open`` in the process (so two
"connections" can race on it); plain ``memory://`` is a fresh private store.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Final, TypeVar, overload
from urllib.parse import urlsplit

from sfakit.errors import ConflictError, DuplicateError, NotFoundError, ValidationError
from sfakit.model import Entity
from sfakit.plugins import hookimpl
from sfakit.storage.api import (
    AggregateRow,
    Capability,
    Page,
    StreamEntry,
    Where,
    WorkItem,
    WorkStatus,
)
from sfakit.storage.catalog import KindSpec, entity_index_values, kind_spec
from sfakit.storage.common import (
    CHANGES,
    change_entry,
    check_aware,
    check_key,
    check_new,
    check_stored,
    check_stream_name,
    fold_aggregate,
    fold_values,
    same_lease,
    value_fields,
    with_version,
)
from sfakit.storage.query import group_fields, plan_filters, plan_query

__all__ = ["MemoryStorage", "sfakit_open_storage", "sfakit_storage_schemes"]

E = TypeVar("E", bound=Entity)


class _State:
    """All data of one store."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        # kind name → id → (entity, index values)
        self.rows: dict[str, dict[str, tuple[Entity, dict[str, Any]]]] = {}
        # kind name → (field, value) → id, for unique indexes
        self.unique: dict[str, dict[tuple[str, Any], str]] = {}
        self.keys: dict[tuple[str, str], str] = {}
        self.streams: dict[str, list[StreamEntry]] = {}
        self.work: dict[tuple[str, str], dict[str, Any]] = {}


_NAMED: Final[dict[str, _State]] = {}
_NAMED_LOCK: Final = threading.Lock()


class MemoryTransaction:
    """A transaction over a :class:`_State`; see :class:`sfakit.storage.Transaction`."""

    def __init__(self, state: _State, readonly: bool) -> None:
        self._state = state
        self._readonly = readonly
        self._undo: list[Callable[[], object]] = []

    # -- entities -------------------------------------------------------------------

    def _table(self, spec: KindSpec) -> dict[str, tuple[Entity, dict[str, Any]]]:
        return self._state.rows.setdefault(spec.name, {})

    def _writable(self) -> None:
        if self._readonly:
            raise ValidationError("$.readonly", True, "a read-write transaction for writes")

    def find(self, kind: type[E], id: str) -> E | None:
        row = self._table(kind_spec(kind)).get(id)
        return None if row is None else row[0]  # type: ignore[return-value]

    def get(self, kind: type[E], id: str) -> E:
        found = self.find(kind, id)
        if found is None:
            raise NotFoundError(kind.__name__, id)
        return found

    def _claim_uniques(self, spec: KindSpec, values: dict[str, Any], id: str) -> None:
        unique = self._state.unique.setdefault(spec.name, {})
        taken: list[tuple[str, Any]] = []
        for ix in spec.indexes:
            if not ix.unique or ix.field == "id" or values[ix.field] is None:
                continue
            slot = (ix.field, values[ix.field])
            owner = unique.get(slot)
            if owner is not None and owner != id:
                for s in taken:
                    del unique[s]
                raise DuplicateError(spec.name, f"{ix.field}={values[ix.field]}", existing_id=owner)
            if owner is None:
                unique[slot] = id
                taken.append(slot)
        self._undo.append(lambda: [unique.pop(s, None) for s in taken])

    def _release_uniques(self, spec: KindSpec, values: dict[str, Any]) -> None:
        unique = self._state.unique.setdefault(spec.name, {})
        for ix in spec.indexes:
            if ix.unique and ix.field != "id" and values[ix.field] is not None:
                slot = (ix.field, values[ix.field])
                owner = unique.pop(slot, None)
                if owner is not None:
                    self._undo.append(partial(unique.__setitem__, slot, owner))

    def _feed(self, spec: KindSpec, entity_id: str, version: int, op: str, at: datetime) -> None:
        self.append(CHANGES, change_entry(spec.name, entity_id, version, op), at=at)

    def insert(self, entity: E) -> E:
        self._writable()
        check_new(entity)
        spec = kind_spec(type(entity))
        table = self._table(spec)
        if entity.id in table:
            raise DuplicateError(spec.name, f"id={entity.id}", existing_id=entity.id)
        stored = with_version(entity, 1)
        values = entity_index_values(spec, stored)
        self._claim_uniques(spec, values, stored.id)
        table[stored.id] = (stored, values)
        self._undo.append(lambda: table.pop(stored.id, None) and None)
        self._feed(spec, stored.id, 1, "insert", stored.updated_at)
        return stored

    def insert_many(self, entities: Iterable[Entity]) -> int:
        count = 0
        for entity in entities:
            self.insert(entity)
            count += 1
        return count

    def update(self, entity: E) -> E:
        self._writable()
        check_stored(entity)
        spec = kind_spec(type(entity))
        table = self._table(spec)
        current = table.get(entity.id)
        if current is None or current[0].version != entity.version:
            raise ConflictError(
                spec.name,
                entity.id,
                expected_version=entity.version,
                current_version=None if current is None else current[0].version,
            )
        stored = entity.evolve(version=entity.version + 1)
        values = entity_index_values(spec, stored)
        self._release_uniques(spec, current[1])
        try:
            self._claim_uniques(spec, values, stored.id)
        except DuplicateError:
            self._claim_uniques(spec, current[1], stored.id)
            raise
        table[stored.id] = (stored, values)
        self._undo.append(lambda: table.__setitem__(stored.id, current))
        self._feed(spec, stored.id, stored.version, "update", stored.updated_at)
        return stored

    def delete(self, kind: type[Entity], id: str, *, expected_version: int, at: datetime) -> None:
        self._writable()
        check_aware(at, "$.at")
        spec = kind_spec(kind)
        table = self._table(spec)
        current = table.get(id)
        if current is None or current[0].version != expected_version:
            raise ConflictError(
                spec.name,
                id,
                expected_version=expected_version,
                current_version=None if current is None else current[0].version,
            )
        self._release_uniques(spec, current[1])
        del table[id]
        self._undo.append(lambda: table.__setitem__(id, current))
        self._feed(spec, id, expected_version + 1, "delete", at)

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
        rows = [values for _, values in self._table(spec).values() if plan.matches(values)]
        rows.sort(key=plan.sort_key, reverse=plan.descending)
        after = plan.after_key()
        if after is not None:
            if plan.descending:
                rows = [r for r in rows if plan.sort_key(r) < after]
            else:
                rows = [r for r in rows if plan.sort_key(r) > after]
        page = rows[: plan.limit]
        table = self._table(spec)
        items = tuple(table[r["id"]][0] for r in page)
        more = len(rows) > plan.limit
        return Page(items, plan.cursor_for(page[-1]) if more else None)  # type: ignore[arg-type]

    def count(self, kind: type[Entity], *, where: Where | None = None) -> int:
        spec = kind_spec(kind)
        filters = plan_filters(spec, where)
        return sum(
            1
            for _, values in self._table(spec).values()
            if all(f.test(values[f.index.field]) for f in filters)
        )

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
        filters = plan_filters(spec, where)
        rows = (
            values
            for _, values in self._table(spec).values()
            if all(f.test(values[f.index.field]) for f in filters)
        )
        return fold_aggregate(rows, groups, sums)

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
        filters = plan_filters(spec, where)
        rows = (
            values
            for _, values in self._table(spec).values()
            if all(f.test(values[f.index.field]) for f in filters)
        )
        return fold_values(rows, index, groups)

    # -- idempotency keys -----------------------------------------------------------

    def claim_key(self, namespace: str, key: str, value: str) -> None:
        self._writable()
        slot = (check_key(namespace, "$.namespace"), check_key(key, "$.key"))
        check_key(value, "$.value")
        existing = self._state.keys.get(slot)
        if existing is not None:
            raise DuplicateError(namespace, key, existing_id=existing)
        self._state.keys[slot] = value
        self._undo.append(lambda: self._state.keys.pop(slot, None) and None)

    def key_value(self, namespace: str, key: str) -> str | None:
        return self._state.keys.get((namespace, key))

    # -- streams --------------------------------------------------------------------

    def append(self, stream: str, data: Mapping[str, Any], *, at: datetime) -> int:
        self._writable()
        check_stream_name(stream)
        check_aware(at, "$.at")
        entries = self._state.streams.setdefault(stream, [])
        position = len(entries) + 1
        entries.append(StreamEntry(stream, position, dict(data), at))
        self._undo.append(entries.pop)
        return position

    def append_many(
        self, stream: str, entries: Sequence[tuple[Mapping[str, Any], datetime]]
    ) -> list[int]:
        return [self.append(stream, data, at=at) for data, at in entries]

    def read(self, stream: str, *, after: int = 0, limit: int = 1000) -> list[StreamEntry]:
        check_stream_name(stream)
        if not isinstance(after, int) or after < 0:
            raise ValidationError("$.after", after, "a position >= 0")
        entries = self._state.streams.get(stream, [])
        return entries[after : after + limit]

    # -- due work -------------------------------------------------------------------

    def enqueue(
        self, queue: str, key: str, *, due_at: datetime, payload: Mapping[str, Any]
    ) -> bool:
        self._writable()
        slot = (check_key(queue, "$.queue"), check_key(key, "$.key"))
        check_aware(due_at, "$.due_at")
        if slot in self._state.work:
            return False
        self._state.work[slot] = {
            "due_at": due_at,
            "payload": dict(payload),
            "state": "pending",
            "worker": None,
            "attempt": 0,
            "lease_until": None,
            "error": None,
        }
        self._undo.append(lambda: self._state.work.pop(slot, None) and None)
        return True

    def enqueue_many(
        self, queue: str, items: Sequence[tuple[str, datetime, Mapping[str, Any]]]
    ) -> int:
        return sum(self.enqueue(queue, key, due_at=due, payload=data) for key, due, data in items)

    def claim_due(
        self, queue: str, *, now: datetime, worker: str, lease: timedelta, limit: int = 100
    ) -> list[WorkItem]:
        self._writable()
        check_aware(now, "$.now")
        check_key(worker, "$.worker")
        candidates = sorted(
            (available, key)
            for (q, key), record in self._state.work.items()
            if q == queue and (available := _available_at(record)) is not None and available <= now
        )[:limit]
        items = []
        for _, key in candidates:
            record = self._state.work[(queue, key)]
            due_at = record["due_at"]
            before = dict(record)
            record.update(
                state="claimed",
                worker=worker,
                attempt=record["attempt"] + 1,
                lease_until=now + lease,
            )
            self._undo.append(partial(record.update, before))
            items.append(
                WorkItem(
                    queue, key, due_at, record["payload"], worker, record["attempt"], now + lease
                )
            )
        return items

    def _leased(self, item: WorkItem) -> dict[str, Any]:
        record = self._state.work.get((item.queue, item.key))
        if record is None or not same_lease(record, item):
            raise ConflictError(
                "WorkItem",
                f"{item.queue}/{item.key}",
                expected_version=item.attempt,
                current_version=None if record is None else record["attempt"],
            )
        return record

    def complete(self, item: WorkItem) -> None:
        self._writable()
        record = self._leased(item)
        before = dict(record)
        record.update(state="done", lease_until=None)
        self._undo.append(lambda: record.update(before))

    def complete_many(self, items: Sequence[WorkItem]) -> list[WorkItem]:
        lost = []
        for item in items:
            try:
                self.complete(item)
            except ConflictError:
                lost.append(item)
        return lost

    def retry(self, item: WorkItem, *, due_at: datetime, error: str) -> None:
        self._writable()
        check_aware(due_at, "$.due_at")
        record = self._leased(item)
        before = dict(record)
        record.update(state="pending", due_at=due_at, lease_until=None, worker=None, error=error)
        self._undo.append(lambda: record.update(before))

    def fail(self, item: WorkItem, *, error: str) -> None:
        self._writable()
        record = self._leased(item)
        before = dict(record)
        record.update(state="dead", lease_until=None, error=error)
        self._undo.append(lambda: record.update(before))

    def _status(self, queue: str, key: str, record: dict[str, Any]) -> WorkStatus:
        return WorkStatus(
            queue,
            key,
            record["state"],
            record["due_at"],
            record["attempt"],
            record["error"],
            record["lease_until"],
            record["payload"],
        )

    def work_status(self, queue: str, key: str) -> WorkStatus | None:
        record = self._state.work.get((queue, key))
        return None if record is None else self._status(queue, key, record)

    def work_in(
        self, queue: str, *, state: str | None = None, limit: int = 1000
    ) -> list[WorkStatus]:
        found = sorted(
            (record["due_at"], key)
            for (q, key), record in self._state.work.items()
            if q == queue and (state is None or record["state"] == state)
        )
        return [self._status(queue, key, self._state.work[(queue, key)]) for _, key in found][
            :limit
        ]

    def redrive(self, queue: str, key: str, *, due_at: datetime) -> bool:
        self._writable()
        check_aware(due_at, "$.due_at")
        record = self._state.work.get((queue, key))
        if record is None or record["state"] != "dead":
            return False
        before = dict(record)
        record.update(state="pending", due_at=due_at, worker=None)
        self._undo.append(lambda: record.update(before))
        return True

    def rollback(self) -> None:
        while self._undo:
            self._undo.pop()()


def _available_at(record: dict[str, Any]) -> datetime | None:
    """When work may next be claimed (as the SQL backends' ``available_at`` column)."""
    if record["state"] == "pending":
        return record["due_at"]  # type: ignore[no-any-return]
    if record["state"] == "claimed":
        return record["lease_until"]  # type: ignore[no-any-return]
    return None


class MemoryStorage:
    """The ``memory://`` backend. See the module docstring."""

    capabilities: frozenset[Capability] = frozenset({Capability.AGGREGATE})

    def __init__(self, url: str = "memory://", *, state: _State | None = None) -> None:
        self.url = url
        self._state = state or _State()
        self._closed = False

    @contextmanager
    def transaction(self, *, readonly: bool = False) -> Iterator[MemoryTransaction]:
        if self._closed:
            raise ValidationError("$.storage", self.url, "an open storage (this one was closed)")
        with self._state.lock:
            tx = MemoryTransaction(self._state, readonly)
            try:
                yield tx
            except BaseException:
                tx.rollback()
                raise

    def close(self) -> None:
        self._closed = True

    def __repr__(self) -> str:
        return f"MemoryStorage({self.url!r})"


def open_memory(url: str) -> MemoryStorage:
    name = urlsplit(url).netloc
    if not name:
        return MemoryStorage(url)
    with _NAMED_LOCK:
        state = _NAMED.setdefault(name, _State())
    return MemoryStorage(url, state=state)


@hookimpl
def sfakit_storage_schemes() -> list[str]:
    return ["memory"]


@hookimpl
def sfakit_open_storage(url: str) -> MemoryStorage | None:
    if urlsplit(url).scheme != "memory":
        return None
    return open_memory(url)
