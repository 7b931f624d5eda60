"""Field validators and converters for the model's attrs classes.

Each raises :class:`~sfakit.errors.ValidationError` with the path of the field
(``$.close_date``), the bad value and what is allowed, never a bare ``TypeError``. They
are public so that applications can give their own attrs classes the same behaviour:

>>> import attrs
>>> @attrs.frozen
... class Visit:
...     at: datetime = attrs.field(validator=aware_datetime)
>>> try:
...     Visit(at=datetime(2026, 1, 1))
... except ValidationError as err:
...     print(err.path, "|", err.expected)
$.at | a timezone-aware datetime (a naive datetime is ambiguous)
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Final, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from sfakit.errors import ValidationError
from sfakit.model.ids import ID_PREFIXES, id_kind, is_id_body

__all__ = [
    "Validator",
    "aware_datetime",
    "country_code",
    "currency_code",
    "enum_of",
    "email_address",
    "id_of",
    "id_of_any",
    "instance_of",
    "non_negative_int",
    "optional",
    "percentage",
    "plain_date",
    "text",
    "timezone_name",
    "to_decimal",
    "to_tuple",
    "tuple_of",
]

Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]
E = TypeVar("E", bound=enum.Enum)

_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_COUNTRY: Final = re.compile(r"[A-Z]{2}")


def _path(attribute: attrs.Attribute[Any]) -> str:
    return f"$.{attribute.name}"


def optional(validator: Validator) -> Validator:
    """Allow None, else apply ``validator``."""

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is not None:
            validator(instance, attribute, value)

    return check


def instance_of(kind: type, expected: str) -> Validator:
    """Exactly that type (``bool`` is not accepted where an ``int`` is asked for)."""

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ValidationError(_path(attribute), value, expected)

    return check


def text(*, max_length: int = 1000, allow_empty: bool = False) -> Validator:
    """A string, stripped of nothing, non-blank unless ``allow_empty``."""
    expected = f"a {'' if allow_empty else 'non-blank '}string of at most {max_length} characters"

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if (
            not isinstance(value, str)
            or len(value) > max_length
            or (not allow_empty and not value.strip())
        ):
            raise ValidationError(_path(attribute), value, expected)

    return check


def aware_datetime(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A ``datetime`` with a time zone; a naive one is refused."""
    if not isinstance(value, datetime):
        raise ValidationError(_path(attribute), value, "a timezone-aware datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(
            _path(attribute), value, "a timezone-aware datetime (a naive datetime is ambiguous)"
        )


def plain_date(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A ``date`` that is not a ``datetime`` (a calendar day, no time of day)."""
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ValidationError(_path(attribute), value, "a date (no time of day)")


def non_negative_int(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValidationError(_path(attribute), value, "a whole number >= 0")


def percentage(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A Decimal from 0 to 100 inclusive."""
    if not isinstance(value, Decimal) or not value.is_finite() or not 0 <= value <= 100:
        raise ValidationError(_path(attribute), value, "a Decimal percentage from 0 to 100")


def enum_of(kind: type[E]) -> Validator:
    """A member of ``kind``; the message lists the allowed values."""
    allowed = ", ".join(str(member.value) for member in kind)

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, kind):
            raise ValidationError(_path(attribute), value, f"a {kind.__name__}: one of {allowed}")

    return check


def id_of(kind: str) -> Validator:
    """An id of entity ``kind`` (``"Account"`` → ``acct_…``)."""
    prefix = ID_PREFIXES[kind]
    expected = f"a {kind} id ('{prefix}_' followed by 1-64 of [0-9A-Za-z_.-])"

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if (
            not isinstance(value, str)
            or not value.startswith(prefix + "_")
            or not is_id_body(value[len(prefix) + 1 :])
        ):
            raise ValidationError(_path(attribute), value, expected)

    return check


def id_of_any(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """An id of any entity kind."""
    if id_kind(value) is None:
        prefixes = ", ".join(f"{p}_" for p in ID_PREFIXES.values())
        raise ValidationError(
            _path(attribute), value, f"an sfakit id starting with one of {prefixes}"
        )


def tuple_of(element: Validator) -> Validator:
    """A tuple whose every element passes ``element``; errors name the index (``$.emails[1]``)."""

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, tuple):
            raise ValidationError(_path(attribute), value, "a tuple")
        for index, item in enumerate(value):
            try:
                element(instance, attribute, item)
            except ValidationError as err:
                raise ValidationError.from_problems(
                    attrs.evolve(p, path=f"{_path(attribute)}[{index}]") for p in err.problems
                ) from None

    return check


def to_tuple(value: Any) -> Any:
    """Converter: a list becomes a tuple, so frozen classes stay hashable; other values pass."""
    if isinstance(value, list):
        return tuple(value)
    return value


def to_decimal(value: Any) -> Any:
    """Converter: ``int`` and numeric ``str`` become ``Decimal``; floats are left for the validator.

    A float is never converted: ``Decimal(0.1)`` is not 0.1.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            return value
    return value


def decimal_value(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValidationError(
            _path(attribute), value, "a finite Decimal, int or numeric string (floats are refused)"
        )


def email_address(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A syntactically plausible address (``name@domain.tld``), at most 254 characters."""
    if not isinstance(value, str) or len(value) > 254 or _EMAIL.fullmatch(value) is None:
        raise ValidationError(_path(attribute), value, "an email address like name@example.com")


def country_code(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """An ISO 3166-1 alpha-2 code in capitals (``DE``, ``US``)."""
    if not isinstance(value, str) or _COUNTRY.fullmatch(value) is None:
        raise ValidationError(_path(attribute), value, "an ISO 3166-1 alpha-2 code such as 'DE'")


def currency_code(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    from sfakit.model.currencies import MINOR_UNITS  # noqa: PLC0415 - tiny, avoids a cycle

    if not isinstance(value, str) or value not in MINOR_UNITS:
        raise ValidationError(_path(attribute), value, "an ISO 4217 currency code such as 'EUR'")


@lru_cache(maxsize=1024)  # bounded: names come from untrusted data too
def _zone_exists(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def timezone_name(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """An IANA time zone name (``Europe/Berlin``)."""
    if not isinstance(value, str) or not value or not _zone_exists(value):
        raise ValidationError(
            _path(attribute), value, "an IANA time zone name such as 'Europe/Berlin'"
        )
