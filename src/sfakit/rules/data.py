"""Criteria as JSON-able data, and back.

A condition is ``{"field": ..., "op": ..., "value": ...}`` (no ``"value"`` for
``is_set`` and ``is_empty``); groups are ``{"all": [...]}``, ``{"any": [...]}`` and
``{"not": {...}}``. Values that JSON cannot hold exactly are tagged objects:
``{"$decimal": "1.50"}``, ``{"$date": "2026-01-31"}``,
``{"$datetime": "2026-01-31T09:00:00+01:00"}`` and ``{"$duration": "P14D"}``; a list of
values is a JSON array. Floats are refused: write a ``$decimal``.

``criteria_from_data(criteria_to_data(c)) == c`` for every criteria.

>>> from decimal import Decimal
>>> from sfakit.rules.nodes import field
>>> rule = field("amount.amount").gt(Decimal("1000")) & field("owner").is_set()
>>> data = criteria_to_data(rule)
>>> data["all"][0]
{'field': 'amount.amount', 'op': 'gt', 'value': {'$decimal': '1000'}}
>>> data["all"][1]
{'field': 'owner', 'op': 'is_set'}
>>> criteria_from_data(data) == rule
True
>>> criteria_from_data({"any": [{"field": "x", "op": "eq", "value": 3.5}]})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
sfakit.errors.ValidationError: invalid criteria: $.any[0].value: got 3.5; expected...
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Final

from sfakit.errors import Problem, ValidationError
from sfakit.rules.nodes import (
    MAX_DEPTH,
    AllOf,
    AnyOf,
    Condition,
    Criteria,
    Not,
    Operator,
    format_duration,
    parse_duration,
)

__all__ = ["criteria_from_data", "criteria_to_data", "value_from_data", "value_to_data"]

_NODE_EXPECTED: Final = (
    'a criteria node: {"field": ..., "op": ..., "value": ...}, {"all": [...]}, '
    '{"any": [...]} or {"not": {...}}'
)
_VALUE_EXPECTED: Final = (
    'a JSON value: str, int, bool, a list, or {"$decimal": ...}, {"$date": ...}, '
    '{"$datetime": ...}, {"$duration": ...}'
)
_CONDITION_KEYS: Final = ("field", "op", "value")
_KEY: Final = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


def value_to_data(value: object) -> object:
    """One condition value as JSON-able data.

    >>> value_to_data((Decimal("1.50"), date(2026, 1, 31)))
    [{'$decimal': '1.50'}, {'$date': '2026-01-31'}]
    """
    if isinstance(value, tuple | list):
        return [value_to_data(item) for item in value]
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, timedelta):
        return {"$duration": format_duration(value)}
    return value


def criteria_to_data(node: Criteria) -> dict[str, object]:
    """A criteria as JSON-able data (see the module docs for the format).

    >>> from sfakit.rules.nodes import field
    >>> criteria_to_data(~field("last_contact").within_last("P14D"))
    {'not': {'field': 'last_contact', 'op': 'within_last', 'value': {'$duration': 'P14D'}}}
    """
    if isinstance(node, Condition):
        data: dict[str, object] = {"field": node.field, "op": node.op.value}
        if node.op not in (Operator.IS_SET, Operator.IS_EMPTY):
            data["value"] = value_to_data(node.value)
        return data
    if isinstance(node, AllOf):
        return {"all": [criteria_to_data(item) for item in node.items]}
    if isinstance(node, AnyOf):
        return {"any": [criteria_to_data(item) for item in node.items]}
    if isinstance(node, Not):
        return {"not": criteria_to_data(node.item)}
    raise ValidationError("$", node, "a criteria node: Condition, AllOf, AnyOf or Not")


def _child(path: str, key: object) -> str:
    if isinstance(key, str) and _KEY.fullmatch(key):
        return f"{path}.{key}"
    return f"{path}[{key!r}]"


def _decimal(text: str) -> Decimal:
    number = Decimal(text)
    if not number.is_finite():
        raise ValueError("not finite")
    return number


def _datetime(text: str) -> datetime:
    parsed = datetime.fromisoformat(text)
    if parsed.utcoffset() is None:
        raise ValueError("no offset")
    return parsed


_TAGS: Final[dict[str, tuple[Callable[[str], object], str]]] = {
    "$decimal": (_decimal, "a finite decimal number as a str, such as '1.50'"),
    "$date": (date.fromisoformat, "an ISO date str such as '2026-01-31'"),
    "$datetime": (_datetime, "an ISO datetime str with offset, such as '2026-01-31T09:00+01:00'"),
    "$duration": (parse_duration, "an ISO 8601 duration str such as 'P14D' or 'PT2H'"),
}


def value_from_data(data: object, path: str = "$") -> object:
    """One condition value from data (the inverse of :func:`value_to_data`).

    >>> value_from_data({"$duration": "PT2H"})
    datetime.timedelta(seconds=7200)
    """
    if data is None or isinstance(data, str | bool | int):
        return data
    if isinstance(data, list | tuple):
        return tuple(_scalar_from_data(item, f"{path}[{i}]") for i, item in enumerate(data))
    return _scalar_from_data(data, path)


def _scalar_from_data(data: object, path: str) -> object:
    if isinstance(data, str | bool | int):
        return data
    if isinstance(data, Mapping) and len(data) == 1:
        ((tag, text),) = data.items()
        if tag in _TAGS:
            parse, expected = _TAGS[tag]
            if not isinstance(text, str):
                raise ValidationError(_child(path, tag), text, expected)
            try:
                return parse(text)
            except ValidationError as exc:
                raise ValidationError(_child(path, tag), text, exc.expected) from None
            except (ValueError, ArithmeticError, InvalidOperation):
                raise ValidationError(_child(path, tag), text, expected) from None
    expected = _VALUE_EXPECTED
    if isinstance(data, float):
        expected += f' (floats are inexact: write {{"$decimal": "{data!r}"}})'
    raise ValidationError(path, data, expected)


def _keys(data: Mapping[object, object], path: str, allowed: tuple[str, ...]) -> list[Problem]:
    return [
        Problem(_child(path, key), f"no such key here; allowed: {', '.join(allowed)}")
        for key in data
        if key not in allowed
    ]


def _node(data: object, path: str, depth: int) -> Criteria:
    if depth > MAX_DEPTH:
        raise ValidationError(path, expected=f"at most {MAX_DEPTH} levels of nesting")
    if not isinstance(data, Mapping) or not data:
        raise ValidationError(path, data, _NODE_EXPECTED)
    for group in ("all", "any"):
        if group in data:
            problems = _keys(data, path, (group,))
            items = data[group]
            if not isinstance(items, list | tuple):
                problems.append(Problem(_child(path, group), "a list of criteria nodes", items))
                raise ValidationError.from_problems(problems, subject="criteria")
            children: list[Criteria] = []
            for i, item in enumerate(items):
                try:
                    children.append(_node(item, f"{path}.{group}[{i}]", depth + 1))
                except ValidationError as exc:
                    problems.extend(exc.problems)
            if problems:
                raise ValidationError.from_problems(problems, subject="criteria")
            return AllOf(children) if group == "all" else AnyOf(children)
    if "not" in data:
        problems = _keys(data, path, ("not",))
        if problems:
            raise ValidationError.from_problems(problems, subject="criteria")
        return Not(_node(data["not"], f"{path}.not", depth + 1))
    return _condition(data, path)


def _condition(data: Mapping[object, object], path: str) -> Condition:
    problems = _keys(data, path, _CONDITION_KEYS)
    for key in ("field", "op"):
        if key not in data:
            problems.append(Problem(_child(path, key), f"a {key!r} key"))
    value: object = None
    if "value" in data:
        try:
            value = value_from_data(data["value"], f"{path}.value")
        except ValidationError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ValidationError.from_problems(problems, subject="criteria")
    try:
        return Condition(data["field"], data["op"], value)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise exc.under(path, subject="criteria") from None


def criteria_from_data(data: object, path: str = "$") -> Criteria:
    """Load a criteria from data, checking every node; errors name the bad node's path.

    ``path`` roots the error paths when the criteria sits inside a larger document.

    >>> criteria_from_data({"not": {"field": "region", "op": "is_set"}})
    Not(item=Condition(field='region', op=<Operator.IS_SET: 'is_set'>, value=None))
    >>> criteria_from_data({"all": [{"field": "stage", "op": "equals"}]})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sfakit.errors.ValidationError: invalid criteria: $.all[0].op: got 'equals'; expected...
    """
    try:
        return _node(data, path, 0)
    except ValidationError as exc:
        if exc.subject is None:
            raise ValidationError.from_problems(exc.problems, subject="criteria") from None
        raise
