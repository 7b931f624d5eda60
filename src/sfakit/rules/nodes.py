"""The criteria tree: conditions on record fields, combined with all/any/not.

A criteria is plain, immutable data. It says nothing about which record type it will be
evaluated against: that is checked when it is compiled (:mod:`sfakit.rules.compiled`).
What *can* be checked without a record type is checked here, when a node is built: the
field path syntax and the shape of the value each operator takes.

>>> from decimal import Decimal
>>> big = field("amount.amount").gt(Decimal("1000"))
>>> rule = big & field("stage").isin(["proposal", "negotiation"])
>>> rule.items[1]
Condition(field='stage', op=<Operator.IN: 'in'>, value=('proposal', 'negotiation'))
"""

from __future__ import annotations

import enum
import keyword
import re
import warnings
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Final, TypeAlias

import attrs

from sfakit.errors import Problem, ValidationError

__all__ = [
    "MAX_DEPTH",
    "AllOf",
    "AnyOf",
    "Condition",
    "Criteria",
    "FieldRef",
    "Not",
    "Operator",
    "all_of",
    "any_of",
    "field",
    "format_duration",
    "not_",
    "parse_duration",
]

#: The deepest nesting of all/any/not accepted when loading or compiling a criteria.
#: Real rules are a few levels deep; the limit keeps generated code and recursion bounded.
MAX_DEPTH: Final = 64


class Operator(enum.StrEnum):
    """What a :class:`Condition` tests; the value is the name used in data.

    >>> Operator("not_in") is Operator.NOT_IN
    True
    """

    EQ = "eq"
    NE = "ne"
    IN = "in"
    NOT_IN = "not_in"
    LT = "lt"
    LE = "le"
    GT = "gt"
    GE = "ge"
    BETWEEN = "between"
    CONTAINS = "contains"
    STARTSWITH = "startswith"
    MATCHES = "matches"
    IS_SET = "is_set"
    IS_EMPTY = "is_empty"
    WITHIN_LAST = "within_last"


_NO_VALUE: Final = frozenset({Operator.IS_SET, Operator.IS_EMPTY})
_LIST_OPS: Final = frozenset({Operator.IN, Operator.NOT_IN})
_OPS_TEXT: Final = ", ".join(op.value for op in Operator)

# ASCII only, spelled out: `\w` and `\d` would also accept other scripts' letters and
# digits, and these names end up in generated source code.
_FIELD_PATH: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_FIELD_EXPECTED: Final = "a dotted field path such as 'amount.amount' (ASCII identifiers)"

_SCALAR_EXPECTED: Final = (
    "a str, int, bool, Decimal, date, timezone-aware datetime or timedelta "
    "(or an Enum member of one)"
)

# Weeks and days are fixed lengths; months and years are not, so they are refused.
_DURATION: Final = re.compile(
    r"(-)?P(?:([0-9]{1,12})W)?(?:([0-9]{1,12})D)?"
    r"(?:T(?:([0-9]{1,12})H)?(?:([0-9]{1,12})M)?(?:([0-9]{1,12})(?:\.([0-9]{1,6}))?S)?)?"
)
_CALENDAR_DURATION: Final = re.compile(r"-?P[^T]*[YM].*", re.DOTALL)
_DURATION_EXPECTED: Final = (
    "an ISO 8601 duration in weeks, days, hours, minutes and seconds, such as 'P14D', "
    "'PT2H' or 'P1DT12H'"
)


def parse_duration(text: str, path: str = "$") -> timedelta:
    """Parse an ISO 8601 duration of fixed length (weeks, days, hours, minutes, seconds).

    Months and years are refused: they have no fixed length. A leading ``-`` is allowed
    (it is what :func:`format_duration` writes for a negative timedelta).

    >>> parse_duration("P1DT2H30M")
    datetime.timedelta(days=1, seconds=9000)
    >>> parse_duration("P1M")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sfakit.errors.ValidationError: $: got 'P1M'; expected a fixed-length duration: months...
    """
    if not isinstance(text, str):
        raise ValidationError(path, text, _DURATION_EXPECTED)
    match = _DURATION.fullmatch(text)
    if match is None or not any(match.groups()[1:]) or (text.endswith("T")):
        if _CALENDAR_DURATION.fullmatch(text):
            raise ValidationError(
                path,
                text,
                "a fixed-length duration: months and years have no fixed length, "
                "use days or weeks (e.g. 'P30D')",
            )
        raise ValidationError(path, text, _DURATION_EXPECTED)
    sign, weeks, days, hours, minutes, seconds, fraction = match.groups()
    try:
        result = timedelta(
            weeks=int(weeks or 0),
            days=int(days or 0),
            hours=int(hours or 0),
            minutes=int(minutes or 0),
            seconds=int(seconds or 0),
            microseconds=int((fraction or "").ljust(6, "0")),
        )
    except OverflowError:
        raise ValidationError(path, text, "a duration shorter than 999999999 days") from None
    return -result if sign else result


def format_duration(value: timedelta) -> str:
    """Write a timedelta as an exact ISO 8601 duration (days, hours, minutes, seconds).

    ``parse_duration(format_duration(d)) == d`` for every timedelta.

    >>> format_duration(timedelta(days=14))
    'P14D'
    >>> format_duration(timedelta(hours=2, microseconds=500000))
    'PT2H0.5S'
    >>> format_duration(timedelta(0))
    'PT0S'
    """
    sign = "-" if value < timedelta(0) else ""
    value = abs(value)
    hours, rest = divmod(value.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{sign}P"
    if value.days:
        text += f"{value.days}D"
    clock = ""
    if hours:
        clock += f"{hours}H"
    if minutes:
        clock += f"{minutes}M"
    if value.microseconds:
        clock += f"{seconds}.{value.microseconds:06d}".rstrip("0") + "S"
    elif seconds:
        clock += f"{seconds}S"
    if clock:
        text += "T" + clock
    elif not value.days:
        text += "T0S"
    return text


def _scalar(value: object, path: str) -> object:
    """One value normalised to an exact builtin type, so that data round-trips exactly."""
    # An Enum member stands for its value: data has no way to name the enum class.
    for _ in range(8):
        if not isinstance(value, enum.Enum):
            break
        value = value.value
    if value is None:
        raise ValidationError(path, None, "a value (use is_set or is_empty to test for null)")
    if isinstance(value, bool):
        return value is True
    if isinstance(value, int):
        return value if type(value) is int else int.__int__(value)
    if isinstance(value, float):
        raise ValidationError(
            path, value, "a Decimal, not a float (floats are inexact: use Decimal('0.1'))"
        )
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValidationError(path, value, "a finite Decimal")
        return value if type(value) is Decimal else Decimal(value)
    if isinstance(value, str):
        return value if type(value) is str else str.__str__(value)
    if isinstance(value, datetime):
        return _aware(value, path)
    if isinstance(value, date):
        return value if type(value) is date else date(value.year, value.month, value.day)
    if isinstance(value, timedelta):
        return (
            value
            if type(value) is timedelta
            else timedelta(value.days, value.seconds, value.microseconds)
        )
    raise ValidationError(path, value, _SCALAR_EXPECTED)


def _aware(value: datetime, path: str) -> datetime:
    offset = value.tzinfo.utcoffset(value) if value.tzinfo is not None else None
    if offset is None:
        raise ValidationError(
            path, value, "a timezone-aware datetime (a naive datetime is ambiguous)"
        )
    # Stored with its fixed offset: a zone such as Europe/Paris cannot be written to data,
    # and datetimes in a DST fold never compare equal across zones (PEP 495).
    return datetime(
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
        tzinfo=timezone(offset),
    )


def _sequence(value: object, path: str, what: str) -> tuple[object, ...]:
    if not isinstance(value, list | tuple):
        raise ValidationError(path, value, what)
    return tuple(value)


def _check_regex(pattern: object, path: str) -> str:
    if not isinstance(pattern, str):
        raise ValidationError(path, pattern, "a regular expression (a str)")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            re.compile(pattern)
        except (re.error, OverflowError, RecursionError, ValueError) as exc:
            raise ValidationError(path, pattern, f"a valid regular expression ({exc})") from None
    if caught:
        # A pattern Python warns about (a possible nested set, say) may change meaning in
        # a later Python version; a stored rule must not.
        raise ValidationError(
            path, pattern, f"an unambiguous regular expression ({caught[0].message})"
        )
    return str.__str__(pattern)


def _check_value(op: Operator, value: object) -> object:
    """The value normalised for ``op``, or a ValidationError at ``$.value``."""
    path = "$.value"
    if op in _NO_VALUE:
        if value is not None:
            raise ValidationError(path, value, f"no value: {op.value} takes none")
        return None
    if value is None:
        raise ValidationError(
            path, None, f"a value: {op.value} needs one (test for null with is_set or is_empty)"
        )
    if op in _LIST_OPS:
        items = _sequence(value, path, f"a non-empty list of values for {op.value}")
        if not items:
            raise ValidationError(path, value, f"a non-empty list of values for {op.value}")
        return tuple(_scalar(item, f"{path}[{i}]") for i, item in enumerate(items))
    if op is Operator.BETWEEN:
        pair = _sequence(value, path, "a list of two values [low, high]")
        if len(pair) != 2:
            raise ValidationError(path, value, "a list of two values [low, high]")
        low, high = (_scalar(item, f"{path}[{i}]") for i, item in enumerate(pair))
        try:
            ordered = low <= high  # type: ignore[operator]
        except TypeError:
            raise ValidationError(path, value, "two values of the same kind [low, high]") from None
        if not ordered:
            raise ValidationError(path, value, "[low, high] with low <= high")
        return (low, high)
    if op is Operator.WITHIN_LAST:
        if isinstance(value, str):
            value = parse_duration(value, path)
        if not isinstance(value, timedelta) or value <= timedelta(0):
            raise ValidationError(
                path, value, "a positive duration: a timedelta or ISO 8601 such as 'P14D'"
            )
        return _scalar(value, path)
    if op is Operator.MATCHES:
        return _check_regex(value, path)
    if isinstance(value, list | tuple):
        hint = " (use in or not_in for a list)" if op in (Operator.EQ, Operator.NE) else ""
        raise ValidationError(path, value, f"a single value{hint}")
    scalar = _scalar(value, path)
    if op is Operator.STARTSWITH and not isinstance(scalar, str):
        raise ValidationError(path, value, "a str prefix")
    return scalar


def _check_field(path: object) -> str:
    if not isinstance(path, str) or _FIELD_PATH.fullmatch(path) is None:
        raise ValidationError("$.field", path, _FIELD_EXPECTED)
    for name in path.split("."):
        if keyword.iskeyword(name):
            raise ValidationError("$.field", path, f"{_FIELD_EXPECTED}, not the keyword {name!r}")
    return str.__str__(path)


def _to_operator(op: object) -> Operator:
    if isinstance(op, Operator):
        return op
    if isinstance(op, str):
        try:
            return Operator(op)
        except ValueError:
            pass
    raise ValidationError("$.op", op, f"one of {_OPS_TEXT}")


def _check_items(items: object) -> tuple[Criteria, ...]:
    if isinstance(items, str | bytes | Mapping | _Node) or not isinstance(items, Iterable):
        raise ValidationError("$.items", items, "a list or tuple of criteria")
    result = tuple(items)
    for i, item in enumerate(result):
        if not isinstance(item, _Node):
            raise ValidationError(f"$.items[{i}]", item, _NODE_EXPECTED)
    return result


_NODE_EXPECTED: Final = "a criteria node: Condition, AllOf, AnyOf or Not"


class _Node:
    """Operators shared by every node: ``a & b``, ``a | b``, ``~a``."""

    __slots__ = ()

    def __and__(self, other: Criteria) -> AllOf:
        if not isinstance(other, _Node):
            return NotImplemented
        # Flattened, so that chaining `a & b & c` reads back as one all-of.
        return AllOf((*_parts(self, AllOf), *_parts(other, AllOf)))

    def __or__(self, other: Criteria) -> AnyOf:
        if not isinstance(other, _Node):
            return NotImplemented
        return AnyOf((*_parts(self, AnyOf), *_parts(other, AnyOf)))

    def __invert__(self) -> Not:
        return Not(self)  # type: ignore[arg-type]


def _parts(node: _Node, kind: type[AllOf | AnyOf]) -> tuple[Criteria, ...]:
    if type(node) is kind:
        return node.items
    return (node,)  # type: ignore[return-value]


@attrs.frozen(init=False)
class Condition(_Node):
    """A test on one field: ``field`` (a dotted path), ``op`` and, for most ops, ``value``.

    The value is checked for the operator's shape and normalised (a list becomes a
    tuple, an Enum member its value, an ISO duration a timedelta, a datetime gets a
    fixed offset). Whether the op suits the field's type is checked at compile time.

    >>> Condition("stage", "in", ["won", "lost"])
    Condition(field='stage', op=<Operator.IN: 'in'>, value=('won', 'lost'))
    >>> Condition("last_contact", Operator.WITHIN_LAST, "P14D").value
    datetime.timedelta(days=14)
    >>> Condition("probability", "gt", 0.5)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sfakit.errors.ValidationError: invalid condition: $.value: got 0.5; expected a Decimal...
    """

    field: str
    op: Operator
    value: object = None

    def __init__(self, field: str, op: Operator | str, value: object = None) -> None:
        problems: list[Problem] = []
        checked_field, checked_op, checked_value = "", Operator.EQ, None
        try:
            checked_field = _check_field(field)
        except ValidationError as exc:
            problems.extend(exc.problems)
        try:
            checked_op = _to_operator(op)
            checked_value = _check_value(checked_op, value)
        except ValidationError as exc:
            problems.extend(exc.problems)
        if problems:
            raise ValidationError.from_problems(problems, subject="condition")
        self.__attrs_init__(checked_field, checked_op, checked_value)


@attrs.frozen(init=False)
class AllOf(_Node):
    """Matches when every item matches (an empty AllOf matches everything).

    >>> AllOf([field("active").eq(True)]).items
    (Condition(field='active', op=<Operator.EQ: 'eq'>, value=True),)
    """

    items: tuple[Criteria, ...]

    def __init__(self, items: Iterable[Criteria]) -> None:
        self.__attrs_init__(_check_items(items))


@attrs.frozen(init=False)
class AnyOf(_Node):
    """Matches when at least one item matches (an empty AnyOf matches nothing).

    >>> len(AnyOf((field("a").is_set(), field("b").is_set())).items)
    2
    """

    items: tuple[Criteria, ...]

    def __init__(self, items: Iterable[Criteria]) -> None:
        self.__attrs_init__(_check_items(items))


@attrs.frozen(init=False)
class Not(_Node):
    """Matches when its item does not.

    >>> Not(field("region").is_set()).item.op
    <Operator.IS_SET: 'is_set'>
    """

    item: Criteria

    def __init__(self, item: Criteria) -> None:
        if not isinstance(item, _Node):
            raise ValidationError("$.item", item, _NODE_EXPECTED)
        self.__attrs_init__(item)


Criteria: TypeAlias = Condition | AllOf | AnyOf | Not
"""Any node of a criteria tree, e.g. ``field("a").is_set() | ~field("b").eq(1)``."""


def all_of(*items: Criteria) -> AllOf:
    """Build an :class:`AllOf`: ``all_of(a, b, c)``.

    >>> a, b = field("a").is_set(), field("b").is_set()
    >>> all_of(a, b) == a & b
    True
    """
    return AllOf(items)


def any_of(*items: Criteria) -> AnyOf:
    """Build an :class:`AnyOf`: ``any_of(a, b, c)``.

    >>> any_of(field("a").eq(1), field("a").eq(2)).items[1].value
    2
    """
    return AnyOf(items)


def not_(item: Criteria) -> Not:
    """Build a :class:`Not` (``~item`` does the same).

    >>> not_(field("a").is_set()) == ~field("a").is_set()
    True
    """
    return Not(item)


def _as_values(values: object) -> object:
    # Any iterable may name the candidates; a lone string stays a string so that
    # Condition rejects it instead of splitting it into letters.
    if isinstance(values, str | bytes | Mapping | list | tuple) or not isinstance(values, Iterable):
        return values
    return tuple(values)


@attrs.frozen(init=False)
class FieldRef:
    """A field path waiting for an operator; made by :func:`field`.

    >>> field("owner.region").startswith("EU-")
    Condition(field='owner.region', op=<Operator.STARTSWITH: 'startswith'>, value='EU-')
    """

    path: str

    def __init__(self, path: str) -> None:
        self.__attrs_init__(_check_field(path))

    def eq(self, value: object) -> Condition:
        """``field == value``.

        >>> field("stage").eq("won").op
        <Operator.EQ: 'eq'>
        """
        return Condition(self.path, Operator.EQ, value)

    def ne(self, value: object) -> Condition:
        """``field != value`` (true when the field is not set).

        >>> field("stage").ne("lost").op
        <Operator.NE: 'ne'>
        """
        return Condition(self.path, Operator.NE, value)

    def isin(self, values: Iterable[object]) -> Condition:
        """``field`` is one of ``values``.

        >>> field("stage").isin({"won"}).value
        ('won',)
        """
        return Condition(self.path, Operator.IN, _as_values(values))

    def not_in(self, values: Iterable[object]) -> Condition:
        """``field`` is none of ``values`` (true when the field is not set).

        >>> field("stage").not_in(["lost"]).value
        ('lost',)
        """
        return Condition(self.path, Operator.NOT_IN, _as_values(values))

    def lt(self, value: object) -> Condition:
        """``field < value``.

        >>> field("employees").lt(50).op
        <Operator.LT: 'lt'>
        """
        return Condition(self.path, Operator.LT, value)

    def le(self, value: object) -> Condition:
        """``field <= value``.

        >>> field("employees").le(50).op
        <Operator.LE: 'le'>
        """
        return Condition(self.path, Operator.LE, value)

    def gt(self, value: object) -> Condition:
        """``field > value``.

        >>> field("employees").gt(50).op
        <Operator.GT: 'gt'>
        """
        return Condition(self.path, Operator.GT, value)

    def ge(self, value: object) -> Condition:
        """``field >= value``.

        >>> field("employees").ge(50).op
        <Operator.GE: 'ge'>
        """
        return Condition(self.path, Operator.GE, value)

    def between(self, low: object, high: object) -> Condition:
        """``low <= field <= high`` (both ends included).

        >>> field("employees").between(10, 50).value
        (10, 50)
        """
        return Condition(self.path, Operator.BETWEEN, (low, high))

    def contains(self, value: object) -> Condition:
        """A str field contains ``value`` as a substring, or a collection holds it.

        >>> field("tags").contains("vip").op
        <Operator.CONTAINS: 'contains'>
        """
        return Condition(self.path, Operator.CONTAINS, value)

    def startswith(self, prefix: str) -> Condition:
        """A str field starts with ``prefix``.

        >>> field("postcode").startswith("75").value
        '75'
        """
        return Condition(self.path, Operator.STARTSWITH, prefix)

    def matches(self, pattern: str) -> Condition:
        """A str field matches the regular expression ``pattern`` anywhere (``re.search``).

        >>> field("email").matches(r"@example\\.com$").op
        <Operator.MATCHES: 'matches'>
        """
        return Condition(self.path, Operator.MATCHES, pattern)

    def is_set(self) -> Condition:
        """The field (and every object on the way to it) is not None.

        >>> field("owner_id").is_set().value is None
        True
        """
        return Condition(self.path, Operator.IS_SET)

    def is_empty(self) -> Condition:
        """The field is None, an empty str or an empty collection.

        >>> field("tags").is_empty().op
        <Operator.IS_EMPTY: 'is_empty'>
        """
        return Condition(self.path, Operator.IS_EMPTY)

    def within_last(self, duration: timedelta | str) -> Condition:
        """A date or datetime field lies in ``[now - duration, now]``.

        >>> field("last_contact").within_last("P14D").value
        datetime.timedelta(days=14)
        """
        return Condition(self.path, Operator.WITHIN_LAST, duration)


def field(path: str) -> FieldRef:
    """Start a condition on the field at ``path``: ``field("amount.amount").gt(1000)``.

    >>> field("amount.amount").gt(1000)
    Condition(field='amount.amount', op=<Operator.GT: 'gt'>, value=1000)
    """
    return FieldRef(path)
