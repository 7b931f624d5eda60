"""Validated query plans that every backend runs the same way.

A plan is built from the caller's ``where`` / ``order_by`` / ``cursor`` once, against the
catalog, so a backend only translates checked field names and converted values.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Final

import attrs

from sfakit.errors import ValidationError
from sfakit.storage.api import In, IsNull, NotNull, Range, Where
from sfakit.storage.catalog import IndexKind, IndexSpec, KindSpec, index_value

__all__ = ["Filter", "QueryPlan", "plan_query"]

MAX_LIMIT: Final = 10_000


@attrs.frozen
class Filter:
    """One condition on one indexed field, values already in stored form.

    ``op`` is one of ``eq``, ``in``, ``range``, ``null``, ``notnull``.
    """

    index: IndexSpec
    op: str
    values: tuple[Any, ...] = ()

    def test(self, value: Any) -> bool:
        op = self.op
        if op == "null":
            return value is None
        if op == "notnull":
            return value is not None
        if value is None:
            return False
        if op == "eq":
            return bool(value == self.values[0])
        if op == "in":
            return value in self.values
        low, high = self.values
        return (low is None or value >= low) and (high is None or value < high)


@attrs.frozen
class QueryPlan:
    spec: KindSpec
    filters: tuple[Filter, ...]
    order: IndexSpec
    descending: bool
    limit: int
    after: tuple[Any, str] | None  # (sort value, id) of the last row already returned

    def matches(self, values: dict[str, Any]) -> bool:
        return all(f.test(values[f.index.field]) for f in self.filters)

    def sort_key(self, values: dict[str, Any]) -> tuple[Any, ...]:
        value = values[self.order.field]
        return (value is not None, _sortable(value), values["id"])

    def after_key(self) -> tuple[Any, ...] | None:
        if self.after is None:
            return None
        value, id_ = self.after
        return (value is not None, _sortable(value), id_)

    def cursor_for(self, values: dict[str, Any]) -> str:
        value = values[self.order.field]
        payload = [self.spec.name, self.order.field, self.descending, _encode(value), values["id"]]
        raw = json.dumps(payload, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _sortable(value: Any) -> Any:
    # None sorts first; giving it a stand-in of the same type would be wrong, so the
    # (is-set, value) pair is compared instead and the stand-in never meets a real value.
    if value is None:
        return 0
    if isinstance(value, tuple):  # money: order by minor units, then currency
        return value
    return value


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, tuple):
        return {"m": list(value)}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "dt" in value:
            return datetime.fromisoformat(value["dt"])
        if "d" in value:
            return date.fromisoformat(value["d"])
        if "m" in value:
            return tuple(value["m"])
    return value


_PYTHON_TYPES: Final[dict[IndexKind, tuple[type, ...]]] = {
    IndexKind.TEXT: (str,),
    IndexKind.INT: (int,),
    IndexKind.BOOL: (bool,),
    IndexKind.DATE: (date,),
    IndexKind.DATETIME: (datetime,),
}


def _value(spec: IndexSpec, value: Any, path: str) -> Any:
    if spec.kind is IndexKind.MONEY:
        raise ValidationError(path, value, f"no filter: money field {spec.field!r} is only summed")
    kinds = _PYTHON_TYPES[spec.kind]
    ok = isinstance(value, kinds)
    if spec.kind is IndexKind.INT and isinstance(value, bool):
        ok = False
    if spec.kind is IndexKind.DATE and isinstance(value, datetime):
        ok = False
    if spec.kind is IndexKind.DATETIME and ok and value.utcoffset() is None:
        raise ValidationError(path, value, "a timezone-aware datetime")
    if not ok:
        raise ValidationError(path, value, f"a {spec.kind.value} value for field {spec.field!r}")
    return index_value(spec, value)


def _filter(spec: KindSpec, field: str, condition: Any) -> Filter:
    index = spec.index(field)
    path = f"$.where.{field}"
    if isinstance(condition, IsNull):
        return Filter(index, "null")
    if isinstance(condition, NotNull):
        return Filter(index, "notnull")
    if isinstance(condition, In):
        if not condition.values:
            raise ValidationError(path, condition, "In(...) with at least one value")
        values = tuple(_value(index, v, f"{path}[{i}]") for i, v in enumerate(condition.values))
        return Filter(index, "in", values)
    if isinstance(condition, Range):
        if condition.low is None and condition.high is None:
            raise ValidationError(path, condition, "a Range with a low or a high end")
        low = None if condition.low is None else _value(index, condition.low, f"{path}.low")
        high = None if condition.high is None else _value(index, condition.high, f"{path}.high")
        return Filter(index, "range", (low, high))
    if condition is None:
        raise ValidationError(path, None, "a value, or IsNull() to find unset fields")
    return Filter(index, "eq", (_value(index, condition, path),))


def plan_filters(spec: KindSpec, where: Where | None) -> tuple[Filter, ...]:
    if where is None:
        return ()
    if not hasattr(where, "items"):
        raise ValidationError("$.where", where, "a mapping of indexed field names to conditions")
    return tuple(_filter(spec, field, cond) for field, cond in where.items())


def plan_query(
    spec: KindSpec,
    *,
    where: Where | None,
    order_by: str,
    descending: bool,
    limit: int,
    cursor: str | None,
) -> QueryPlan:
    """Check a query against the catalog and turn it into a :class:`QueryPlan`."""
    filters = plan_filters(spec, where)
    order = spec.index(order_by, path="$.order_by")
    if order.kind is IndexKind.MONEY:
        raise ValidationError("$.order_by", order_by, "a field that is not money")
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise ValidationError("$.limit", limit, f"a whole number from 1 to {MAX_LIMIT}")
    after = None if cursor is None else _decode_cursor(cursor, spec, order_by, descending)
    return QueryPlan(spec, filters, order, bool(descending), limit, after)


def _decode_cursor(cursor: str, spec: KindSpec, order_by: str, descending: bool) -> tuple[Any, str]:
    expected = "a cursor returned by the same query (same kind, order_by and direction)"
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        name, field, desc, value, id_ = json.loads(raw)
        decoded = _decode(value)
    except (ValueError, TypeError, KeyError):
        raise ValidationError("$.cursor", cursor, expected) from None
    if (name, field, desc) != (spec.name, order_by, bool(descending)) or not isinstance(id_, str):
        raise ValidationError("$.cursor", cursor, expected)
    return decoded, id_


def group_fields(
    spec: KindSpec, group_by: Sequence[str], sums: Sequence[str]
) -> tuple[tuple[IndexSpec, ...], tuple[IndexSpec, ...]]:
    """Check the fields of an aggregate: groups may be any non-money index; sums money or int."""
    if isinstance(group_by, str) or isinstance(sums, str):
        raise ValidationError("$.group_by", group_by, "a list of field names, not one string")
    groups = tuple(spec.index(f, path="$.group_by") for f in group_by)
    for g in groups:
        if g.kind is IndexKind.MONEY:
            raise ValidationError("$.group_by", g.field, "a field that is not money")
    summed = tuple(spec.index(f, path="$.sum") for f in sums)
    for s in summed:
        if s.kind not in (IndexKind.MONEY, IndexKind.INT):
            raise ValidationError("$.sum", s.field, "a money or whole-number field")
    return groups, summed
