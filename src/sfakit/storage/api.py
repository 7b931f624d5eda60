"""The storage contract: what a backend plugin must provide and guarantee.

A backend is a :class:`Storage`; all reading and writing happens inside a
:class:`Transaction` opened with ``storage.transaction()``. The guarantees, each
checked by the conformance suite in :mod:`sfakit.testing.storage`:

* **Atomic.** An exception inside ``with storage.transaction() as tx:`` rolls back
  everything done in it; leaving the block normally commits.
* **No lost update.** ``tx.update(entity)`` succeeds only if the stored version equals
  ``entity.version``; otherwise it raises :class:`~sfakit.errors.ConflictError`
  carrying the stored version, and changes nothing.
* **Unique keys.** A second insert of the same id, unique field value or idempotency
  key raises :class:`~sfakit.errors.DuplicateError`; there is never a second row.
* **Indexed queries.** ``query`` filters on indexed fields only (see
  :mod:`sfakit.storage.catalog`), orders by one of them then by id, and pages with an
  opaque cursor: the pages of one query never repeat or skip a row that did not change.
* **Aggregates.** ``aggregate`` counts and sums per group; ``values`` lists one indexed
  field, sorted, for statistics a ``GROUP BY`` cannot give (median, percentiles). Both
  order unset (None) values first, as ``query`` does, and text by code point.
* **Streams.** ``append`` adds to a named append-only stream; ``read`` returns entries
  after a position, in commit order. Every entity write also appends to the
  ``"changes"`` stream (the change feed).
* **Due work.** ``enqueue`` schedules a keyed item once; ``claim_due`` hands each due
  item to one worker at a time, even across processes, with a lease.

Query filters: a plain value means equality; :class:`In`, :class:`Range`,
:class:`IsNull` and :class:`NotNull` say more.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Generic, Protocol, TypeVar, overload, runtime_checkable

import attrs

from sfakit.model import Entity

__all__ = [
    "AggregateRow",
    "Capability",
    "In",
    "IsNull",
    "NotNull",
    "Page",
    "Range",
    "Storage",
    "StreamEntry",
    "Transaction",
    "Where",
    "WorkItem",
    "WorkStatus",
]

E = TypeVar("E", bound=Entity)


def _as_tuple(values: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(values)


@attrs.frozen
class In:
    """The field's value is one of ``values``: ``where={"stage": In(("propose", "won"))}``."""

    values: tuple[Any, ...] = attrs.field(converter=_as_tuple)


@attrs.frozen
class Range:
    """``low <= value < high``; either end may be None (open)."""

    low: Any = None
    high: Any = None


@attrs.frozen
class IsNull:
    """The field is not set."""


@attrs.frozen
class NotNull:
    """The field is set."""


Where = Mapping[str, Any]


@attrs.frozen
class Page(Generic[E]):
    """One page of a query; pass ``next_cursor`` back to get the next (None: no more)."""

    items: tuple[E, ...]
    next_cursor: str | None


@attrs.frozen
class AggregateRow:
    """One group of an aggregate: the group's key values, its row count and sums.

    For a Money field, the sum is kept per currency: the currency is part of ``key``.
    """

    key: tuple[Any, ...]
    count: int
    sums: Mapping[str, Decimal | int]


@attrs.frozen
class StreamEntry:
    """One entry of an append-only stream."""

    stream: str
    position: int
    data: Mapping[str, Any]
    recorded_at: datetime


@attrs.frozen
class WorkItem:
    """A unit of due work handed to one worker until ``lease_until``.

    ``attempt`` counts the claims so far; completing checks that the lease is still
    this worker's (same ``attempt``), so a worker whose lease ran out cannot complete
    work another worker has taken over.
    """

    queue: str
    key: str
    due_at: datetime
    payload: Mapping[str, Any]
    worker: str
    attempt: int
    lease_until: datetime


@attrs.frozen
class WorkStatus:
    """Where one unit of work stands.

    ``state`` is ``pending`` (waiting for ``due_at``; ``attempt`` > 0 means it failed
    before and ``error`` says why), ``claimed`` (a worker holds it until
    ``lease_until``), ``done``, or ``dead`` (given up; ``error`` is the last failure).
    """

    queue: str
    key: str
    state: str
    due_at: datetime
    attempt: int
    error: str | None
    lease_until: datetime | None
    payload: Mapping[str, Any]


class Capability(enum.StrEnum):
    """Optional features a backend may offer."""

    #: ``aggregate`` and ``values`` run in the database (one statement each), so callers
    #: such as the service's pipeline analytics may push their work down to them. A backend
    #: declaring it implements both methods of :class:`Transaction`.
    AGGREGATE = "aggregate"
    CONCURRENT_WORKERS = "concurrent_workers"  # safe claim_due across processes


class Transaction(Protocol):
    """Reads and writes inside one atomic unit. Obtained from ``Storage.transaction()``."""

    def get(self, kind: type[E], id: str) -> E:
        """The stored entity, or NotFoundError."""
        ...

    def find(self, kind: type[E], id: str) -> E | None:
        """The stored entity, or None."""
        ...

    def insert(self, entity: E) -> E:
        """Store a new entity (its version must be 0); returns it at version 1."""
        ...

    def insert_many(self, entities: Iterable[Entity]) -> int:
        """Insert many new entities at once (a bulk load); returns how many.

        Like ``insert`` for each, in order (one change-feed entry each), but in as few
        statements as the backend can; a duplicate raises DuplicateError, and the
        transaction it aborts leaves none of them behind.
        """
        ...

    def update(self, entity: E) -> E:
        """Store a changed entity whose ``version`` is the one it was read at.

        Returns it at the next version; a stale version raises ConflictError.
        """
        ...

    def delete(self, kind: type[Entity], id: str, *, expected_version: int, at: datetime) -> None:
        """Remove an entity, if it is still at ``expected_version``; ``at`` dates the feed entry."""
        ...

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
        """Entities matching every filter in ``where``, ordered, one page at a time.

        Unset values sort before set ones (after them when ``descending``).
        """
        ...

    def count(self, kind: type[Entity], *, where: Where | None = None) -> int:
        """How many entities match ``where``."""
        ...

    def aggregate(
        self,
        kind: type[Entity],
        *,
        group_by: Sequence[str],
        sum: Sequence[str] = (),
        where: Where | None = None,
    ) -> list[AggregateRow]:
        """Count (and sum) the matching entities per group, ordered by group key.

        Keys are plain index values (see :func:`~sfakit.storage.catalog.index_value`),
        compared one field after another, each ascending with None first; text compares by
        code point, whatever the database's collation.
        """
        ...

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
        """The ``field`` value of every entity matching ``where``, sorted ascending with
        None first (duplicates kept: one value per entity), as plain index values like
        ``aggregate`` keys; for what a ``GROUP BY`` cannot give, such as medians.

        With ``group_by`` (indexed field names), a dict from each group key (a tuple, as
        ``aggregate`` gives it) to that group's sorted values, in ``aggregate``'s group
        order: ``tx.values(Opportunity, "cycle_microseconds", group_by=["owner_id"])``.

        ``field`` and ``group_by`` are indexed fields that are not money; another name is
        a ValidationError naming it. Part of :attr:`Capability.AGGREGATE`.
        """
        ...

    def claim_key(self, namespace: str, key: str, value: str) -> None:
        """Record an idempotency key; DuplicateError (with the first value) if it exists."""
        ...

    def key_value(self, namespace: str, key: str) -> str | None:
        """The value recorded for an idempotency key, or None."""
        ...

    def append(self, stream: str, data: Mapping[str, Any], *, at: datetime) -> int:
        """Append to ``stream``; returns the entry's position (increasing, from 1)."""
        ...

    def append_many(
        self, stream: str, entries: Sequence[tuple[Mapping[str, Any], datetime]]
    ) -> list[int]:
        """Append ``(data, at)`` entries to ``stream`` in order, as one batch; their positions."""
        ...

    def read(self, stream: str, *, after: int = 0, limit: int = 1000) -> list[StreamEntry]:
        """Entries of ``stream`` with position > ``after``, in order."""
        ...

    def enqueue(
        self, queue: str, key: str, *, due_at: datetime, payload: Mapping[str, Any]
    ) -> bool:
        """Schedule work once per key; False if the key was already queued."""
        ...

    def enqueue_many(
        self, queue: str, items: Sequence[tuple[str, datetime, Mapping[str, Any]]]
    ) -> int:
        """``enqueue`` each ``(key, due_at, payload)``; returns how many were new."""
        ...

    def claim_due(
        self, queue: str, *, now: datetime, worker: str, lease: timedelta, limit: int = 100
    ) -> list[WorkItem]:
        """Take up to ``limit`` due items not leased by another worker, earliest first."""
        ...

    def complete(self, item: WorkItem) -> None:
        """Mark claimed work done; ConflictError if the lease passed to another worker."""
        ...

    def complete_many(self, items: Sequence[WorkItem]) -> list[WorkItem]:
        """``complete`` each item; returns those whose lease had passed to another worker
        (they are left alone) instead of raising."""
        ...

    def retry(self, item: WorkItem, *, due_at: datetime, error: str) -> None:
        """Give claimed work back, due again at ``due_at``, recording ``error``."""
        ...

    def fail(self, item: WorkItem, *, error: str) -> None:
        """Give up on claimed work: it is ``dead`` with ``error`` until re-driven."""
        ...

    def work_status(self, queue: str, key: str) -> WorkStatus | None:
        """The state of one unit of work, or None if it was never queued."""
        ...

    def work_in(
        self, queue: str, *, state: str | None = None, limit: int = 1000
    ) -> list[WorkStatus]:
        """Units of work in ``queue`` (only those in ``state`` if given), by due time, key."""
        ...

    def redrive(self, queue: str, key: str, *, due_at: datetime) -> bool:
        """Make dead work pending again at ``due_at``; False if it was not dead."""
        ...


@runtime_checkable
class Storage(Protocol):
    """A storage backend, opened by a plugin for a URL."""

    url: str
    capabilities: frozenset[Capability]

    def transaction(self, *, readonly: bool = False) -> AbstractContextManager[Transaction]:
        """An atomic unit of work: commit on normal exit, roll back on an exception."""
        ...

    def close(self) -> None:
        """Release connections; the storage cannot be used afterwards."""
        ...
