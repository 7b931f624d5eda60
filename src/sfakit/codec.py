"""The one converter: every sfakit object to plain JSON-able data and back, exactly.

``to_data(obj)`` gives dicts, lists, strings, numbers, booleans and None;
``from_data(Type, data)`` rebuilds the object and checks it as the constructor does.
``from_data(T, to_data(x)) == x`` for every entity, value object and rules object.

Formats: datetimes as ISO 8601 with their offset (a naive datetime is refused);
dates as ``YYYY-MM-DD``; ``Decimal`` as a string (``"12.50"``, never a float); enums by
value; tuples as lists. Unknown keys are refused. Every structuring problem is reported
in one :class:`~sfakit.errors.ValidationError` that lists each bad field by path:

>>> from sfakit.model import OrderLine
>>> try:
...     from_data(OrderLine, {"product_id": "prod_x", "quantity": 2.5,
...                           "unit_price": {"amount": "1", "currency": "EUR"}, "colour": "red"})
... except ValidationError as err:
...     print(err.paths)
('$.quantity', '$.colour')
"""

from __future__ import annotations

import enum
import json
import types
import typing
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final, TypeVar, get_args, get_origin

import attrs
import cattrs
from cattrs.errors import (
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
)
from cattrs.fns import identity

from sfakit.errors import MISSING, Problem, SfaError, ValidationError

__all__ = ["converter", "from_data", "from_json", "to_data", "to_json"]

T = TypeVar("T")

_DECIMAL_EXPECTED: Final = 'a Decimal as a string such as "12.50" (or an int); floats are refused'


def _structure_str(value: Any, _: type) -> str:
    if not isinstance(value, str):
        raise ValidationError("$", value, "a string")
    return value


def _structure_int(value: Any, _: type) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationError("$", value, "a whole number")
    return value


def _structure_bool(value: Any, _: type) -> bool:
    if not isinstance(value, bool):
        raise ValidationError("$", value, "true or false")
    return value


def _structure_decimal(value: Any, _: type) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, str):
        try:
            result = Decimal(value)
        except InvalidOperation:
            pass
        else:
            if result.is_finite():
                return result
    raise ValidationError("$", value, _DECIMAL_EXPECTED)


def _structure_datetime(value: Any, _: type) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValidationError(
                "$", value, "an ISO 8601 datetime with offset, e.g. 2026-03-01T09:00:00+01:00"
            ) from None
    if not isinstance(value, datetime):
        raise ValidationError("$", value, "an ISO 8601 datetime with offset")
    if value.utcoffset() is None:
        raise ValidationError(
            "$", value.isoformat(), "a datetime with a UTC offset (a naive datetime is ambiguous)"
        )
    return value


def _structure_date(value: Any, _: type) -> date:
    if isinstance(value, str):
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            raise ValidationError("$", value, "an ISO 8601 date such as 2026-03-01") from None
        if len(value) == 10:
            return parsed
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise ValidationError("$", value, "an ISO 8601 date such as 2026-03-01")


def _structure_enum(value: Any, kind: type[enum.Enum]) -> enum.Enum:
    if isinstance(value, kind):
        return value
    by_value = kind._value2member_map_
    try:
        return by_value[value]
    except (KeyError, TypeError):
        allowed = ", ".join(str(v) for v in by_value)
        raise ValidationError("$", value, f"one of {allowed}") from None


def _enum_value(member: enum.Enum) -> Any:
    return member.value


def _is_homogeneous_sequence(kind: Any) -> bool:
    origin = get_origin(kind)
    if origin is tuple:
        args = get_args(kind)
        return len(args) == 2 and args[1] is Ellipsis
    return origin is list


def _sequence_hook(kind: Any, conv: cattrs.Converter) -> Any:
    # cattrs would iterate any iterable: "abc" would become ("a", "b", "c") and a dict
    # its keys. Only a JSON array (a list, or a tuple) is a sequence here.
    origin = get_origin(kind)
    element = get_args(kind)[0]
    element_hook: list[Any] = []  # resolved on first use: the element may be defined later

    def structure(value: Any, _: Any) -> Any:
        if not isinstance(value, (list, tuple)):
            raise ValidationError("$", value, "a list")
        if not element_hook:
            element_hook.append(conv.get_structure_hook(element))
        hook = element_hook[0]
        items: list[Any] = []
        problems: list[Problem] = []
        for index, item in enumerate(value):
            try:
                items.append(hook(item, element))
            except Exception as exc:  # turned into problems with paths, like cattrs errors
                problems.extend(_problems(exc, f"$[{index}]", item))
        if problems:
            raise ValidationError.from_problems(problems)
        return origin(items)

    return structure


def is_union_type(kind: Any) -> bool:
    return typing.get_origin(kind) in (typing.Union, types.UnionType)


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(
        forbid_extra_keys=True,
        detailed_validation=True,
        unstruct_collection_overrides={tuple: list, frozenset: list},
    )
    conv.register_structure_hook(str, _structure_str)
    conv.register_structure_hook(int, _structure_int)
    conv.register_structure_hook(bool, _structure_bool)
    conv.register_structure_hook(Decimal, _structure_decimal)
    conv.register_unstructure_hook(Decimal, str)
    conv.register_structure_hook(datetime, _structure_datetime)
    conv.register_unstructure_hook(datetime, datetime.isoformat)
    conv.register_structure_hook(date, _structure_date)
    conv.register_structure_hook_factory(
        _is_homogeneous_sequence, lambda kind: _sequence_hook(kind, conv)
    )
    conv.register_unstructure_hook(date, date.isoformat)
    # By base class, so that StrEnum/IntEnum members do not fall to the str/int hooks.
    for base in (enum.Enum, enum.StrEnum, enum.IntEnum):
        conv.register_structure_hook(base, _structure_enum)
        conv.register_unstructure_hook(base, _enum_value)
    _register_rules(conv)
    # Registered last so it is consulted first: `X | None` fields look up X's hook once,
    # instead of dispatching on the value's type for every object.
    conv.register_unstructure_hook_factory(_is_optional, lambda kind: _optional_hook(kind, conv))
    return conv


def _is_optional(kind: Any) -> bool:
    args = typing.get_args(kind) if is_union_type(kind) else ()
    return len(args) == 2 and type(None) in args


def _optional_hook(kind: Any, conv: cattrs.Converter) -> Any:
    inner = next(a for a in typing.get_args(kind) if a is not type(None))
    hook = conv.get_unstructure_hook(inner)
    if hook is identity:  # str, int, ids: cattrs then copies the value inline
        return identity

    def unstructure(value: Any) -> Any:
        return None if value is None else hook(value)

    return unstructure


def _register_rules(conv: cattrs.Converter) -> None:
    # The rules package owns its data form; the converter only routes to it.
    from sfakit.rules import Criteria, criteria_from_data, criteria_to_data  # noqa: PLC0415

    nodes = frozenset(typing.get_args(Criteria))

    def is_criteria(kind: Any) -> bool:
        # Criteria itself, one node class, or a union of them with None (optional rules).
        members = set(getattr(kind, "__args__", ())) if is_union_type(kind) else {kind}
        members.discard(type(None))
        return bool(members) and members <= nodes

    def structure(value: Any, kind: Any) -> Any:
        if value is None and type(None) in getattr(kind, "__args__", ()):
            return None
        return criteria_from_data(value)

    def unstructure(value: Any) -> Any:
        return None if value is None else criteria_to_data(value)

    conv.register_structure_hook_func(is_criteria, structure)
    conv.register_unstructure_hook_func(is_criteria, unstructure)


#: The configured converter. Register hooks for your own types on it, or use
#: :func:`to_data` / :func:`from_data`, which call it.
converter: Final = _make_converter()


def to_data(obj: Any) -> Any:
    """``obj`` as plain JSON-able data (dicts, lists, str, int, bool, None).

    >>> from sfakit.model import Money
    >>> to_data(Money.of("9.5", "EUR"))
    {'amount': '9.50', 'currency': 'EUR'}
    """
    return converter.unstructure(obj)


def from_data(kind: type[T], data: Any) -> T:
    """Rebuild a ``kind`` from plain data, or raise one ValidationError listing every bad field.

    >>> from sfakit.model import Money
    >>> from_data(Money, {"amount": "9.50", "currency": "EUR"})
    Money('9.50', 'EUR')
    """
    try:
        return converter.structure(data, kind)
    except Exception as exc:  # every failure becomes one sfakit error with paths
        subject = getattr(kind, "__name__", str(kind))
        try:
            problems = _problems(exc, "$", data)
        except Exception:  # a shape of cattrs error we do not know: keep its text
            problems = [Problem("$", f"valid data ({type(exc).__name__}: {exc})", data)]
        raise ValidationError.from_problems(problems, subject=subject) from None


def to_json(obj: Any, *, indent: int | None = None) -> str:
    """``to_data`` then ``json.dumps``."""
    return json.dumps(to_data(obj), indent=indent, ensure_ascii=False)


def from_json(kind: type[T], text: str | bytes) -> T:
    """``json.loads`` then ``from_data``; malformed JSON is a ValidationError too."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError("$", str(exc), "well-formed JSON") from None
    return from_data(kind, data)


def _field_names(kind: Any) -> str:
    if attrs.has(kind):
        return ", ".join(a.name for a in attrs.fields(kind))
    return "?"


def _child_value(data: Any, key: str | int) -> Any:
    try:
        return data[key]
    except (KeyError, IndexError, TypeError):
        return MISSING


def _problems(exc: BaseException, path: str, data: Any) -> list[Problem]:
    if isinstance(exc, ValidationError):
        return [p.under(path) for p in exc.problems]
    if isinstance(exc, ClassValidationError):
        if not isinstance(data, Mapping):
            return [Problem(path, f"an object (a mapping) for {exc.cl.__name__}", data)]
        problems: list[Problem] = []
        with_notes, without_notes = exc.group_exceptions()
        for sub, note in with_notes:
            name = note.name
            problems.extend(_problems(sub, f"{path}.{name}", _child_value(data, name)))
        for sub in without_notes:
            problems.extend(_problems(sub, path, data))
        return problems
    if isinstance(exc, IterableValidationError):
        problems = []
        indexed, unindexed = exc.group_exceptions()
        for sub, item_note in indexed:
            index: int = item_note.index  # type: ignore[assignment]  # str.index is shadowed
            problems.extend(_problems(sub, f"{path}[{index}]", _child_value(data, index)))
        for sub in unindexed:
            problems.extend(_problems(sub, path, data))
        return problems
    if isinstance(exc, ForbiddenExtraKeysError):
        allowed = _field_names(exc.cl)
        return [
            Problem(
                f"{path}.{key}",
                f"no such field; {exc.cl.__name__} has: {allowed}",
                _child_value(data, key),
            )
            for key in sorted(exc.extra_fields, key=str)  # keys need not all be strings
        ]
    if isinstance(exc, KeyError):
        return [Problem(path, "a value: this field is required")]
    if isinstance(exc, SfaError):
        return [Problem(path, str(exc), data)]
    if isinstance(exc, (TypeError, AttributeError)) and not isinstance(data, dict):
        return [Problem(path, "an object (a JSON mapping of field names to values)", data)]
    return [Problem(path, f"a valid value ({type(exc).__name__}: {exc})", data)]
