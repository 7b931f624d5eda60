"""Compile a criteria against a record type: check it once, then evaluate it fast.

:func:`compile_criteria` resolves every field, checks that each operator suits the
field's type and coerces each value (``"1000"`` to ``Decimal`` for a Decimal field,
``"won"`` to the enum member), reporting every bad node by path. It then generates the
source of one Python function for the whole tree and compiles it: field names are the
only data that reach that source, and only after they were checked to be identifiers
naming attributes of the record class; every value reaches the function as a closure
variable, never as source text.

Semantics of an unset field (None, or an object on the way to it is None): ``ne``,
``not_in`` and ``is_empty`` hold, ``is_set`` does not, every other operator does not.

>>> import attrs
>>> from decimal import Decimal
>>> from sfakit.rules.nodes import field
>>> @attrs.frozen
... class Deal:
...     stage: str
...     amount: Decimal
>>> big_open = compile_criteria(
...     field("amount").gt("1000") & field("stage").not_in(["won", "lost"]), Deal)
>>> big_open.matches(Deal("proposal", Decimal("1500")))
True
>>> print(big_open.explain(Deal("won", Decimal("1500"))).render())
NOT MATCHED
[ ] all  at $
  [x] amount gt 1000 (actual 1500)  at $.all[0]
  [ ] stage not_in ['won', 'lost'] (actual 'won')  at $.all[1]
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Generic, Literal, Protocol, TypeVar, cast

import attrs

from sfakit.errors import Problem, ValidationError
from sfakit.rules.fields import FieldInfo, FieldKind, FieldType, resolve_field
from sfakit.rules.nodes import (
    MAX_DEPTH,
    AllOf,
    AnyOf,
    Condition,
    Criteria,
    Not,
    Operator,
    parse_duration,
)
from sfakit.rules.trace import GroupTrace, LeafTrace, Trace, Verdict

__all__ = ["ALLOWED_OPS", "CompiledCriteria", "Matcher", "compile_criteria"]

T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)

O = Operator  # noqa: E741 - a short alias keeps the operator tables readable
_ORDERED: Final = frozenset({O.EQ, O.NE, O.LT, O.LE, O.GT, O.GE, O.BETWEEN, O.IS_SET})

#: The operators each kind of field allows.
ALLOWED_OPS: Final[Mapping[FieldKind, frozenset[Operator]]] = {
    FieldKind.NUMBER: _ORDERED | {O.IN, O.NOT_IN},
    FieldKind.DURATION: _ORDERED | {O.IN, O.NOT_IN},
    FieldKind.STRING: _ORDERED | {O.IN, O.NOT_IN, O.CONTAINS, O.STARTSWITH, O.MATCHES, O.IS_EMPTY},
    FieldKind.BOOL: frozenset({O.EQ, O.NE, O.IS_SET}),
    FieldKind.ENUM: frozenset({O.EQ, O.NE, O.IN, O.NOT_IN, O.IS_SET}),
    FieldKind.DATE: _ORDERED | {O.WITHIN_LAST},
    FieldKind.DATETIME: _ORDERED | {O.WITHIN_LAST},
    FieldKind.COLLECTION: frozenset({O.CONTAINS, O.IS_EMPTY, O.IS_SET}),
    FieldKind.OBJECT: frozenset({O.IS_SET}),
}

# Operators that hold for an unset field; all others (but is_set) fail on one.
_TRUE_WHEN_UNSET: Final = frozenset({O.NE, O.NOT_IN, O.IS_EMPTY})
# Operators whose generated test is already right for None, so the final step needs no
# explicit None check (`None == k` is False, `None not in k` is True, `not None` ...).
_NONE_SAFE: Final = frozenset({O.EQ, O.NE, O.IN, O.NOT_IN, O.IS_EMPTY, O.IS_SET})

_UTC: Final = UTC
_MIN_DATETIME: Final = datetime.min.replace(tzinfo=_UTC)


class Matcher(Protocol[T_contra]):
    """The type of :attr:`CompiledCriteria.matches`: ``matches(record, *, now=None) -> bool``.

    >>> import attrs
    >>> from sfakit.rules.nodes import field
    >>> @attrs.frozen
    ... class Lead:
    ...     score: int
    >>> is_hot: Matcher[Lead] = compile_criteria(field("score").gt(80), Lead).matches
    >>> [is_hot(Lead(s)) for s in (50, 90)]
    [False, True]
    """

    def __call__(self, record: T_contra, /, *, now: datetime | None = None) -> bool: ...


@attrs.frozen
class _Leaf:
    index: int
    path: str
    condition: Condition
    info: FieldInfo
    const: object  # what the evaluator compares with
    shown: object  # what a trace reports as expected


@attrs.frozen
class _Group:
    path: str
    kind: Literal["all", "any", "not"]
    children: tuple[_Plan, ...]


_Plan = _Leaf | _Group


# -- checking and coercing values -------------------------------------------------------


def _number(value: object, ftype: FieldType, path: str) -> object:
    expected = f"a number (int, Decimal or numeric str) for a {ftype.describe()} field"
    if isinstance(value, bool):
        raise ValidationError(path, value, expected)
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise ValidationError(path, value, expected) from None
        if not number.is_finite():
            raise ValidationError(path, value, expected)
        # An int field compared with an integral string compares as an int.
        if ftype.py_type is int and number == number.to_integral_value():
            return int(number)
        return number
    if isinstance(value, int):
        return Decimal(value) if ftype.py_type is Decimal else value
    if isinstance(value, Decimal):
        return value
    raise ValidationError(path, value, expected)


def _enum_member(value: object, ftype: FieldType, path: str) -> enum.Enum:
    members = list(cast(type[enum.Enum], ftype.py_type))
    for member in members:
        # Same type as well as equal, so that True does not select the member valued 1.
        if type(member.value) is type(value) and member.value == value:
            return member
    allowed = ", ".join(repr(m.value) for m in members)
    raise ValidationError(path, value, f"one of {allowed} ({ftype.describe()})")


def _temporal(value: object, ftype: FieldType, path: str) -> object:
    if ftype.kind is FieldKind.DATE:
        expected = "a date or ISO date str such as '2026-01-31' (not a datetime)"
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                raise ValidationError(path, value, expected) from None
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        raise ValidationError(path, value, expected)
    expected = "a timezone-aware datetime or ISO str with offset, e.g. '2026-01-31T09:00+01:00'"
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValidationError(path, value, expected) from None
        if parsed.utcoffset() is None:
            raise ValidationError(path, value, expected)
        return parsed
    if isinstance(value, datetime):
        return value  # Condition only keeps aware datetimes
    raise ValidationError(path, value, expected)


def _coerce(value: object, ftype: FieldType, path: str) -> object:
    """``value`` (already a normalised scalar) as the field's type, or a ValidationError."""
    kind = ftype.kind
    if kind is FieldKind.NUMBER:
        return _number(value, ftype, path)
    if kind is FieldKind.ENUM:
        return _enum_member(value, ftype, path)
    if kind in (FieldKind.DATE, FieldKind.DATETIME):
        return _temporal(value, ftype, path)
    if kind is FieldKind.DURATION:
        if isinstance(value, str):
            return parse_duration(value, path)
        if isinstance(value, timedelta):
            return value
        raise ValidationError(path, value, "a timedelta or ISO 8601 duration such as 'P14D'")
    # STRING and BOOL take their own type only: no guessing whether "1" means True.
    if not isinstance(value, ftype.py_type):
        raise ValidationError(path, value, f"a {ftype.py_type.__name__} for this field")
    return value


def _leaf(index: int, path: str, cond: Condition, subject_type: type) -> _Leaf:
    try:
        info = resolve_field(subject_type, cond.field)
    except ValidationError as exc:
        raise exc.under(path) from None
    ftype, op, value = info.type, cond.op, cond.value
    allowed = ALLOWED_OPS[ftype.kind]
    if op not in allowed:
        ops = ", ".join(o.value for o in Operator if o in allowed)
        raise ValidationError(
            f"{path}.op", op.value, f"one of {ops} for {cond.field!r} ({ftype.describe()})"
        )
    vpath = f"{path}.value"
    const: object
    shown: object = value
    if op in (O.IS_SET, O.IS_EMPTY, O.WITHIN_LAST):
        const = value
    elif op in (O.IN, O.NOT_IN):
        items = tuple(
            _coerce(item, ftype, f"{vpath}[{i}]") for i, item in enumerate(cast(tuple[Any], value))
        )
        const, shown = frozenset(items), items
    elif op is O.BETWEEN:
        low, high = (
            _coerce(item, ftype, f"{vpath}[{i}]") for i, item in enumerate(cast(tuple[Any], value))
        )
        if not cast(Any, low) <= high:  # coercion can reorder: "9" <= "10" is False, 9 <= 10 True
            raise ValidationError(vpath, value, "[low, high] with low <= high")
        const = shown = (low, high)
    elif op is O.MATCHES:
        const = re.compile(cast(str, value))
    elif op is O.CONTAINS and ftype.element is not None:
        const = shown = _coerce(value, ftype.element, vpath)
    elif op in (O.CONTAINS, O.STARTSWITH):
        if not isinstance(value, str):
            raise ValidationError(vpath, value, "a str")
        const = value
    else:
        const = shown = _coerce(value, ftype, vpath)
    return _Leaf(index, path, cond, info, const, shown)


def _plan(
    node: object,
    path: str,
    depth: int,
    *,
    subject_type: type,
    leaves: list[_Leaf],
    problems: list[Problem],
) -> _Plan | None:
    if depth > MAX_DEPTH:
        problems.append(Problem(path, f"at most {MAX_DEPTH} levels of nesting"))
        return None
    if isinstance(node, Condition):
        try:
            leaf = _leaf(len(leaves), path, node, subject_type)
        except ValidationError as exc:
            problems.extend(exc.problems)
            return None
        leaves.append(leaf)
        return leaf
    kind: Literal["all", "any", "not"]
    if isinstance(node, AllOf | AnyOf):
        kind = "all" if isinstance(node, AllOf) else "any"
        items: tuple[object, ...] = node.items
        paths = [f"{path}.{kind}[{i}]" for i in range(len(items))]
    elif isinstance(node, Not):
        kind, items, paths = "not", (node.item,), [f"{path}.not"]
    else:
        problems.append(Problem(path, "a criteria node: Condition, AllOf, AnyOf or Not", node))
        return None
    children = [
        _plan(item, p, depth + 1, subject_type=subject_type, leaves=leaves, problems=problems)
        for item, p in zip(items, paths, strict=True)
    ]
    return _Group(path, kind, tuple(c for c in children if c is not None))


# -- code generation --------------------------------------------------------------------


def _leaf_source(leaf: _Leaf, names: dict[str, object]) -> str:
    k = f"_k{leaf.index}"
    names[k] = leaf.const
    op, kind = leaf.condition.op, leaf.info.type.kind
    var = f"_v{leaf.index}"
    unset_true = op in _TRUE_WHEN_UNSET
    steps: list[str] = []
    access = "r"
    last = len(leaf.info.names) - 1
    for i, (name, nullable) in enumerate(zip(leaf.info.names, leaf.info.nullable, strict=True)):
        access = f"{access}.{name}"
        if nullable and (i < last or op not in _NONE_SAFE):
            steps.append(f"({var} := {access}) is {'' if unset_true else 'not '}None")
            access = var
    x = access
    if op is O.BETWEEN:
        names[f"{k}_lo"], names[f"{k}_hi"] = cast(tuple[object, object], leaf.const)
        test = f"{k}_lo <= {x} <= {k}_hi"
    elif op is O.WITHIN_LAST:
        upper = "_today" if kind is FieldKind.DATE else "_now_utc"
        test = f"{k}_since <= {x} <= {upper}"
    else:
        test = {
            O.EQ: f"{x} == {k}",
            O.NE: f"{x} != {k}",
            O.IN: f"{x} in {k}",
            O.NOT_IN: f"{x} not in {k}",
            O.LT: f"{x} < {k}",
            O.LE: f"{x} <= {k}",
            O.GT: f"{x} > {k}",
            O.GE: f"{x} >= {k}",
            O.CONTAINS: f"{k} in {x}",
            O.STARTSWITH: f"{x}.startswith({k})",
            O.MATCHES: f"{k}.search({x}) is not None",
            O.IS_SET: f"{x} is not None",
            O.IS_EMPTY: f"not {x}",
        }[op]
    joiner = " or " if unset_true else " and "
    return "(" + joiner.join([*steps, test]) + ")"


def _source(plan: _Plan, names: dict[str, object]) -> str:
    if isinstance(plan, _Leaf):
        return _leaf_source(plan, names)
    parts = [_source(child, names) for child in plan.children]
    if plan.kind == "not":
        return f"(not {parts[0]})"
    if not parts:
        return "True" if plan.kind == "all" else "False"
    return "(" + (" and " if plan.kind == "all" else " or ").join(parts) + ")"


def _since_datetime(now_utc: datetime, duration: timedelta) -> datetime:
    try:
        return now_utc - duration
    except OverflowError:  # the window reaches before year 1: it starts at the beginning
        return _MIN_DATETIME


def _since_date(now: datetime, duration: timedelta) -> date:
    try:
        return (now - duration).date()
    except OverflowError:
        return date.min


def _check_now(now: object) -> datetime:
    """``now`` as UTC, or a ValidationError at ``$.now``."""
    expected = "a timezone-aware datetime: this criteria uses within_last"
    if not isinstance(now, datetime) or now.utcoffset() is None:
        raise ValidationError("$.now", now, expected)
    try:
        return now.astimezone(_UTC)
    except OverflowError:
        raise ValidationError("$.now", now, expected + ", within the datetime range") from None


def _generate(plan: _Plan, leaves: list[_Leaf]) -> tuple[str, Callable[..., bool]]:
    names: dict[str, object] = {}
    body = _source(plan, names)
    preamble: list[str] = []
    windows = [leaf for leaf in leaves if leaf.condition.op is O.WITHIN_LAST]
    if windows:
        names.update(_check_now=_check_now, _since_dt=_since_datetime, _since_d=_since_date)
        preamble.append("_now_utc = _check_now(now)")
        if any(leaf.info.type.kind is FieldKind.DATE for leaf in windows):
            preamble.append("_today = now.date()")
        for leaf in windows:
            k = f"_k{leaf.index}"
            if leaf.info.type.kind is FieldKind.DATE:
                preamble.append(f"{k}_since = _since_d(now, {k})")
            else:
                preamble.append(f"{k}_since = _since_dt(_now_utc, {k})")
    # Values are parameters of an outer function, so the inner one reads them as closure
    # variables: as fast as locals, and never spelled out in the source.
    params = ", ".join(names)
    lines = [
        f"def _factory({params}):",
        "    def matches(r, /, *, now=None):",
        *(f"        {line}" for line in preamble),
        f"        return {body}",
        "    return matches",
    ]
    source = "\n".join(lines) + "\n"
    namespace: dict[str, Any] = {"__builtins__": {}}
    exec(compile(source, "<sfakit.rules criteria>", "exec"), namespace)
    return source, cast(Callable[..., bool], namespace["_factory"](**names))


# -- explanation ------------------------------------------------------------------------


def _human(duration: timedelta) -> str:
    parts = []
    hours, rest = divmod(duration.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    for amount, unit in ((duration.days, "day"), (hours, "hour"), (minutes, "minute")):
        if amount:
            parts.append(f"{amount} {unit}{'s' if amount != 1 else ''}")
    if seconds or duration.microseconds or not parts:
        exact = seconds + duration.microseconds / 1_000_000
        parts.append(f"{exact:g} second{'s' if exact != 1 else ''}")
    return " ".join(parts)


@attrs.frozen
class _Clock:
    now: datetime | None
    now_utc: datetime | None


def _read(record: object, info: FieldInfo) -> tuple[object, str | None]:
    value = record
    for i, name in enumerate(info.names):
        value = getattr(value, name)
        if value is None:
            if i < len(info.names) - 1:
                where = ".".join(info.names[: i + 1])
                return None, f"field is not set ({where} is not set)"
            return None, "field is not set"
    return value, None


def _window(leaf: _Leaf, actual: object, clock: _Clock) -> tuple[bool, str]:
    duration = cast(timedelta, leaf.const)
    assert clock.now is not None
    assert clock.now_utc is not None
    if isinstance(actual, datetime):
        since: date = _since_datetime(clock.now_utc, duration)
        upper: date = clock.now_utc
        age = clock.now_utc - actual
    else:
        since, upper = _since_date(clock.now, duration), clock.now.date()
        age = timedelta(days=(upper - cast(date, actual)).days)
    matched = since <= cast(date, actual) <= upper
    limit = _human(duration)
    if age < timedelta(0):
        return matched, f"value is {_human(-age)} in the future, limit {limit}"
    return matched, f"value is {_human(age)} old, limit {limit}"


def _test(leaf: _Leaf, actual: Any, clock: _Clock) -> tuple[bool, str | None]:
    op, k = leaf.condition.op, leaf.const
    if op is O.WITHIN_LAST:
        return _window(leaf, actual, clock)
    result: bool
    if op is O.EQ:
        result = actual == k
    elif op is O.NE:
        result = actual != k
    elif op is O.IN:
        result = actual in cast(frozenset[object], k)
    elif op is O.NOT_IN:
        result = actual not in cast(frozenset[object], k)
    elif op is O.LT:
        result = actual < k
    elif op is O.LE:
        result = actual <= k
    elif op is O.GT:
        result = actual > k
    elif op is O.GE:
        result = actual >= k
    elif op is O.BETWEEN:
        low, high = cast(tuple[Any, Any], k)
        result = low <= actual <= high
    elif op is O.CONTAINS:
        result = k in actual
    elif op is O.STARTSWITH:
        result = actual.startswith(k)
    elif op is O.MATCHES:
        result = cast(re.Pattern[str], k).search(actual) is not None
    elif op is O.IS_SET:
        result = True
    else:  # IS_EMPTY
        result = len(actual) == 0
    return bool(result), None


def _explain(plan: _Plan, record: object, clock: _Clock) -> Trace:
    if isinstance(plan, _Leaf):
        cond = plan.condition
        actual, note = _read(record, plan.info)
        if actual is None:
            matched = cond.op in _TRUE_WHEN_UNSET
        else:
            matched, note = _test(plan, actual, clock)
        return LeafTrace(plan.path, cond.field, cond.op.value, plan.shown, actual, matched, note)
    # Every child is evaluated, even once the outcome is known: the trace is complete.
    children = tuple(_explain(child, record, clock) for child in plan.children)
    if plan.kind == "all":
        matched = all(c.matched for c in children)
    elif plan.kind == "any":
        matched = any(c.matched for c in children)
    else:
        matched = not children[0].matched
    return GroupTrace(plan.path, plan.kind, matched, children)


# -- the compiled form ------------------------------------------------------------------


@attrs.frozen(eq=False)
class CompiledCriteria(Generic[T]):
    """A criteria checked against ``subject_type``; made by :func:`compile_criteria`.

    ``matches(record, *, now=None)`` is the fast path: one generated function, no type
    check of ``record``. :meth:`explain` says why, node by node. ``needs_now`` is True
    when the criteria uses ``within_last``: then both need an aware ``now``.

    >>> import attrs
    >>> from sfakit.rules.nodes import field
    >>> @attrs.frozen
    ... class Lead:
    ...     score: int
    >>> hot = compile_criteria(field("score").ge(80), Lead)
    >>> hot.matches(Lead(91)), hot.needs_now
    (True, False)
    """

    criteria: Criteria
    subject_type: type[T]
    needs_now: bool
    #: The generated Python source of :attr:`matches`, for the curious and for debugging.
    source: str = attrs.field(repr=False)
    matches: Matcher[T] = attrs.field(repr=False)
    _plan: _Plan = attrs.field(repr=False)

    def explain(self, record: T, *, now: datetime | None = None) -> Verdict:
        """Evaluate every node for ``record`` and return the outcome with its trace.

        ``explain(r, now=n).matched == matches(r, now=n)`` always.

        >>> import attrs
        >>> from sfakit.rules.nodes import field
        >>> @attrs.frozen
        ... class Lead:
        ...     email: str | None
        >>> verdict = compile_criteria(field("email").contains("@"), Lead).explain(Lead(None))
        >>> verdict.matched, verdict.trace.note
        (False, 'field is not set')
        """
        if not isinstance(record, self.subject_type):
            raise ValidationError(
                "$.record", record, f"an instance of {self.subject_type.__name__}"
            )
        clock = _Clock(None, None)
        if self.needs_now:
            clock = _Clock(cast(datetime, now), _check_now(now))
        trace = _explain(self._plan, record, clock)
        return Verdict(trace.matched, trace)


def _is_attrs_class(subject_type: object) -> bool:
    return isinstance(subject_type, type) and attrs.has(subject_type)


def compile_criteria(criteria: Criteria, subject_type: type[T]) -> CompiledCriteria[T]:
    """Check ``criteria`` against the attrs class ``subject_type`` and compile it.

    Raises :class:`~sfakit.errors.ValidationError` listing every bad node by path
    (``$.all[1].value``) with what would be allowed there.

    >>> import attrs
    >>> from sfakit.rules.nodes import field
    >>> @attrs.frozen
    ... class Lead:
    ...     active: bool
    >>> compile_criteria(field("active").gt(True), Lead)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sfakit.errors.ValidationError: invalid criteria: $.op: got 'gt'; expected one of eq, ne...
    """
    if not _is_attrs_class(subject_type):
        raise ValidationError("$", subject_type, "an attrs class", subject="subject type")
    leaves: list[_Leaf] = []
    problems: list[Problem] = []
    plan = _plan(criteria, "$", 0, subject_type=subject_type, leaves=leaves, problems=problems)
    if problems or plan is None:
        raise ValidationError.from_problems(problems, subject="criteria")
    source, function = _generate(plan, leaves)
    needs_now = any(leaf.condition.op is O.WITHIN_LAST for leaf in leaves)
    return CompiledCriteria(
        criteria, subject_type, needs_now, source, cast(Matcher[T], function), plan
    )
