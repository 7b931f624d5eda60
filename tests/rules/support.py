"""A record type, strategies and an independent oracle shared by the rules tests."""

from __future__ import annotations

import enum
import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, NewType

import attrs
from hypothesis import strategies as st

from sfakit.rules import AllOf, AnyOf, Condition, Criteria, Not, Operator

Region = NewType("Region", str)


class Tier(enum.Enum):
    GOLD = "gold"
    SILVER = "silver"
    BRONZE = "bronze"


class Stage(enum.StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


@attrs.frozen
class Address:
    city: str
    postcode: str | None = None


@attrs.frozen
class Rec:
    name: str = "acme"
    count: int = 0
    amount: Decimal = Decimal("0")
    active: bool = False
    due: date = date(2026, 3, 1)
    seen: datetime = datetime(2026, 3, 1, 12, tzinfo=UTC)
    tier: Tier = Tier.GOLD
    stage: Stage = Stage.OPEN
    tags: tuple[str, ...] = ()
    address: Address | None = None
    region: Region = Region("EU")
    note: str | None = None
    score: int | None = None
    when: datetime | None = None
    labels: frozenset[Stage] = frozenset()
    wait: timedelta = timedelta(0)


NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

# Small pools so that random criteria and records often agree on values.
TEXTS = ["", "a", "ab", "acme", "Acme Corp", "b", "x); import os; (", "EU", "EU-west"]
INTS = list(range(-3, 4))
DECIMALS = [Decimal(s) for s in ("-1", "0", "0.5", "1", "1.50", "2", "1000", "1000.01")]
OFFSETS = [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))]
DURATIONS = [timedelta(hours=2), timedelta(days=1), timedelta(days=3), timedelta(days=14)]

texts = st.sampled_from(TEXTS)
ints = st.sampled_from(INTS)
decimals = st.sampled_from(DECIMALS)
dates = st.integers(-20, 5).map(lambda d: date(2026, 3, 2) + timedelta(days=d))
datetimes = st.builds(
    lambda hours, tz: (NOW + timedelta(hours=hours)).astimezone(tz),
    st.integers(-24 * 20, 24 * 2),
    st.sampled_from(OFFSETS),
)
nows = st.builds(
    lambda hours, tz: (NOW + timedelta(hours=hours)).astimezone(tz),
    st.integers(-30, 30),
    st.sampled_from(OFFSETS),
)
tiers = st.sampled_from(Tier)
stages = st.sampled_from(Stage)
durations = st.sampled_from([timedelta(0), timedelta(hours=1), timedelta(days=2)])

records = st.builds(
    Rec,
    name=texts,
    count=ints,
    amount=decimals,
    active=st.booleans(),
    due=dates,
    seen=datetimes,
    tier=tiers,
    stage=stages,
    tags=st.lists(texts, max_size=3).map(tuple),
    address=st.none() | st.builds(Address, city=texts, postcode=st.none() | texts),
    region=texts.map(Region),
    note=st.none() | texts,
    score=st.none() | ints,
    when=st.none() | datetimes,
    labels=st.frozensets(stages, max_size=2),
    wait=durations,
)

# -- random criteria, typed to Rec ----------------------------------------------------------

O = Operator  # noqa: E741
ORDER = [O.EQ, O.NE, O.LT, O.LE, O.GT, O.GE]


def _ordered(
    values: st.SearchStrategy[Any],
    bounds: st.SearchStrategy[Any] | None = None,
    *,
    lists: bool = True,
) -> st.SearchStrategy[Any]:
    """(op, value) pairs for a field whose values come from ``values``; ``between`` takes
    its bounds from ``bounds`` (one type, so that they sort) when given; ``in`` and
    ``not_in`` only when ``lists``."""
    pair = st.lists(bounds if bounds is not None else values, min_size=2, max_size=2)
    options = [
        st.tuples(st.sampled_from(ORDER), values),
        st.tuples(st.just(O.BETWEEN), pair.map(sorted)),
    ]
    if lists:
        in_ops = st.sampled_from([O.IN, O.NOT_IN])
        options.append(st.tuples(in_ops, st.lists(values, min_size=1, max_size=3)))
    return st.one_of(options)


def _strings(field: str) -> st.SearchStrategy[Condition]:
    pairs = st.one_of(
        _ordered(texts),
        st.tuples(st.sampled_from([O.CONTAINS, O.STARTSWITH]), texts),
        st.tuples(st.just(O.MATCHES), st.sampled_from(["^a", "b$", "[A-Z]", "(?i)acme", "x\\)"])),
        st.tuples(st.sampled_from([O.IS_SET, O.IS_EMPTY]), st.none()),
    )
    return pairs.map(lambda p: Condition(field, p[0], p[1]))


def _leaf(field: str, pairs: st.SearchStrategy[Any]) -> st.SearchStrategy[Condition]:
    is_set = st.tuples(st.just(O.IS_SET), st.none())
    return st.one_of(pairs, is_set).map(lambda p: Condition(field, p[0], p[1]))


# Numbers may be written as ints or strings, dates as ISO strings, enums as values:
# compile coerces them, and the oracle coerces them its own way.
_decimal_values = decimals | ints | decimals.map(str)
_date_values = dates | dates.map(date.isoformat)
_datetime_values = datetimes | datetimes.map(datetime.isoformat)
_windows = st.tuples(st.just(O.WITHIN_LAST), st.sampled_from(DURATIONS))

leaves = st.one_of(
    _strings("name"),
    _strings("region"),
    _strings("note"),
    _strings("address.city"),
    _strings("address.postcode"),
    _leaf("count", _ordered(ints)),
    _leaf("score", _ordered(ints)),
    _leaf("amount", _ordered(_decimal_values, decimals)),
    _leaf("active", st.tuples(st.sampled_from([O.EQ, O.NE]), st.booleans())),
    _leaf("due", _ordered(_date_values, dates, lists=False) | _windows),
    _leaf("seen", _ordered(_datetime_values, datetimes, lists=False) | _windows),
    _leaf("when", _ordered(datetimes, lists=False) | _windows),
    _leaf("wait", _ordered(durations)),
    _leaf("tier", st.tuples(st.sampled_from([O.EQ, O.NE]), tiers | tiers.map(lambda t: t.value))),
    _leaf("tier", st.tuples(st.sampled_from([O.IN, O.NOT_IN]), st.lists(tiers, min_size=1))),
    _leaf("stage", st.tuples(st.sampled_from([O.EQ, O.NE]), stages.map(str))),
    _leaf("tags", st.tuples(st.sampled_from([O.CONTAINS]), texts) | st.just((O.IS_EMPTY, None))),
    _leaf("labels", st.tuples(st.just(O.CONTAINS), stages) | st.just((O.IS_EMPTY, None))),
    _leaf("address", st.nothing()),
)

criteria: st.SearchStrategy[Criteria] = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=4).map(AllOf),
        st.lists(children, max_size=4).map(AnyOf),
        children.map(Not),
    ),
    max_leaves=12,
)

# -- the oracle: a direct, independent reading of the semantics ----------------------------


def _get(record: object, path: str) -> Any:
    value: Any = record
    for name in path.split("."):
        if value is None:
            return None
        value = getattr(value, name)
    return value


def _as_field_type(sample: object, value: Any) -> Any:
    """``value`` converted the way the brief says compile converts it for that field."""
    if isinstance(sample, enum.Enum):
        return type(sample)(value)
    if isinstance(sample, Decimal):
        return Decimal(value)
    if isinstance(sample, datetime):
        return datetime.fromisoformat(value) if isinstance(value, str) else value
    if isinstance(sample, date):
        return date.fromisoformat(value) if isinstance(value, str) else value
    return value


_SAMPLE = Rec(address=Address("x", "y"), note="n", score=1, when=NOW)


def oracle(node: Criteria, record: Rec, now: datetime) -> bool:
    """What ``node`` says about ``record``, written without any sfakit.rules machinery."""
    if isinstance(node, AllOf):
        return all(oracle(item, record, now) for item in node.items)
    if isinstance(node, AnyOf):
        return any(oracle(item, record, now) for item in node.items)
    if isinstance(node, Not):
        return not oracle(node.item, record, now)
    actual = _get(record, node.field)
    value: Any = node.value
    op = node.op
    if op is O.IS_SET:
        return actual is not None
    if op is O.IS_EMPTY:
        return actual is None or len(actual) == 0
    if actual is None:
        return op in (O.NE, O.NOT_IN)
    sample = _get(_SAMPLE, node.field)
    if op is O.CONTAINS:
        if isinstance(actual, str):
            return value in actual
        element = next(iter(Stage)) if isinstance(actual, frozenset) else ""
        return _as_field_type(element, value) in actual
    if op is O.STARTSWITH:
        return bool(actual.startswith(value))
    if op is O.MATCHES:
        return re.search(value, actual) is not None
    if op is O.WITHIN_LAST:
        if isinstance(actual, datetime):
            return bool(now - value <= actual <= now)
        return bool((now - value).date() <= actual <= now.date())
    if op in (O.IN, O.NOT_IN):
        found = any(actual == _as_field_type(sample, v) for v in value)
        return found if op is O.IN else not found
    if op is O.BETWEEN:
        low, high = (_as_field_type(sample, v) for v in value)
        return bool(low <= actual <= high)
    value = _as_field_type(sample, value)
    compare = {
        O.EQ: lambda: actual == value,
        O.NE: lambda: actual != value,
        O.LT: lambda: actual < value,
        O.LE: lambda: actual <= value,
        O.GT: lambda: actual > value,
        O.GE: lambda: actual >= value,
    }
    return bool(compare[op]())
