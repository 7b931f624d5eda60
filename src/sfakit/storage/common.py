"""Small pieces every backend needs: version checks, change-feed entries, aggregation,
and the sorted value lists of ``Transaction.values``."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, TypeVar

from sfakit.errors import ValidationError
from sfakit.model import Entity
from sfakit.model.currencies import MINOR_UNITS
from sfakit.storage.api import AggregateRow, Transaction, WorkItem
from sfakit.storage.catalog import IndexKind, IndexSpec, KindSpec
from sfakit.storage.query import group_fields

__all__ = [
    "CHANGES",
    "change_entry",
    "check_new",
    "every_page",
    "fold_aggregate",
    "fold_values",
    "value_fields",
]

E = TypeVar("E", bound=Entity)

#: The stream every entity write appends to.
CHANGES: Final = "changes"


def every_page(tx: Transaction, kind: type[E], **query: Any) -> list[E]:
    """All entities a query matches (from ``cursor`` on, if given), page by page."""
    items: list[E] = []
    cursor = query.pop("cursor", None)
    while True:
        page = tx.query(kind, **{"limit": 1000, **query, "cursor": cursor})
        items.extend(page.items)
        if page.next_cursor is None:
            return items
        cursor = page.next_cursor


def check_new(entity: Entity) -> None:
    if not isinstance(entity, Entity):
        raise ValidationError("$.entity", entity, "an sfakit entity")
    if entity.version != 0:
        raise ValidationError(
            "$.version", entity.version, "0 for a new entity (use update() for a stored one)"
        )


def check_stored(entity: Entity) -> None:
    if not isinstance(entity, Entity):
        raise ValidationError("$.entity", entity, "an sfakit entity")
    if entity.version < 1:
        raise ValidationError(
            "$.version",
            entity.version,
            "the stored version it was read at (>= 1); insert() new ones",
        )


def with_version(entity: E, version: int) -> E:
    """A copy of an already-validated entity at ``version``, without re-validating it all."""
    copied = copy.copy(entity)
    object.__setattr__(copied, "version", version)
    return copied


def change_entry(kind: str, id: str, version: int, op: str) -> dict[str, Any]:
    return {"kind": kind, "id": id, "version": version, "op": op}


def check_stream_name(stream: object) -> str:
    if not isinstance(stream, str) or not stream or len(stream) > 200:
        raise ValidationError("$.stream", stream, "a stream name of 1-200 characters")
    return stream


def check_aware(value: object, path: str) -> datetime:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValidationError(path, value, "a timezone-aware datetime")
    return value


def check_key(value: object, path: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 500:
        raise ValidationError(path, value, "a non-empty string of at most 500 characters")
    return value


def fold_aggregate(
    rows: Iterable[dict[str, Any]],
    groups: Sequence[IndexSpec],
    sums: Sequence[IndexSpec],
) -> list[AggregateRow]:
    """Aggregate index-value rows in Python, exactly as the SQL backends do.

    Money sums are per currency: the currency of each summed money field joins the key.
    Rows whose summed money is unset count, and add nothing.
    """
    money = [s for s in sums if s.kind is IndexKind.MONEY]
    buckets: dict[tuple[Any, ...], list[Any]] = {}
    for row in rows:
        key = tuple(row[g.field] for g in groups) + tuple(
            None if row[m.field] is None else row[m.field][1] for m in money
        )
        bucket = buckets.setdefault(key, [0] + [0] * len(sums))
        bucket[0] += 1
        for i, s in enumerate(sums, start=1):
            value = row[s.field]
            if value is not None:
                bucket[i] += value[0] if s.kind is IndexKind.MONEY else value
    result = []
    for key in sorted(buckets, key=_group_sort_key):
        bucket = buckets[key]
        currencies = key[len(groups) :]
        totals: dict[str, Decimal | int] = {}
        for i, s in enumerate(sums, start=1):
            if s.kind is IndexKind.MONEY:
                currency = currencies[money.index(s)]
                digits = MINOR_UNITS.get(currency, 0) if currency else 0
                totals[s.field] = Decimal(bucket[i]).scaleb(-digits)
            else:
                totals[s.field] = bucket[i]
        result.append(AggregateRow(key=key, count=bucket[0], sums=totals))
    return result


def _group_sort_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((v is not None, v if v is not None else 0) for v in key)


def value_fields(
    spec: KindSpec, field: str, group_by: Sequence[str] | None
) -> tuple[IndexSpec, tuple[IndexSpec, ...] | None]:
    """Check the fields of ``Transaction.values``: the listed field and the groups (None:
    ungrouped) are indexed and not money."""
    if not isinstance(field, str):
        raise ValidationError("$.field", field, "the name of an indexed field")
    index = spec.index(field, path="$.field")
    if index.kind is IndexKind.MONEY:
        raise ValidationError(f"$.field.{field}", field, "a field that is not money")
    if group_by is None:
        return index, None
    groups, _ = group_fields(spec, group_by, ())
    return index, groups


def fold_values(
    rows: Iterable[dict[str, Any]], field: IndexSpec, groups: Sequence[IndexSpec] | None
) -> list[Any] | dict[tuple[Any, ...], list[Any]]:
    """``Transaction.values`` over index-value rows in Python, exactly as the SQL backends
    order it: None first, then ascending; groups in ``fold_aggregate``'s order."""
    name = field.field
    if groups is None:
        return _none_first([row[name] for row in rows])
    buckets: dict[tuple[Any, ...], list[Any]] = {}
    for row in rows:
        key = tuple(row[g.field] for g in groups)
        buckets.setdefault(key, []).append(row[name])
    return {key: _none_first(buckets[key]) for key in sorted(buckets, key=_group_sort_key)}


def _none_first(values: list[Any]) -> list[Any]:
    # Sorting the set values alone keeps the sort in C, without a key function.
    present = [v for v in values if v is not None]
    present.sort()
    return [None] * (len(values) - len(present)) + present


def same_lease(stored: dict[str, Any], item: WorkItem) -> bool:
    return bool(
        stored.get("state") == "claimed"
        and stored.get("worker") == item.worker
        and stored.get("attempt") == item.attempt
    )
