"""Fuzzing: whatever goes into a constructor or into from_data, only sfakit errors come out.

Three attacks, for every entity and value object:

* the constructor, with some fields replaced by values of random types;
* ``from_data`` with random JSON-like data (at the top, and under the real field names);
* ``from_data`` with valid data in which one leaf (or key) was changed.

Only :class:`~sfakit.errors.SfaError` may escape, and every path a ValidationError gives
must name a real field (or, for an unknown key, a real object holding that key).
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from types import NoneType, UnionType
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfakit.codec import from_data, to_data
from sfakit.errors import SfaError, ValidationError
from sfakit.model import (
    ENTITY_TYPES,
    Account,
    Activity,
    ActivityKind,
    Channel,
    Contact,
    Interaction,
    Lead,
    LeadStatus,
    Money,
    Opportunity,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    Quota,
    RecurrenceSpec,
    SalesRep,
    Setting,
    StageChange,
    StandingOrder,
    Territory,
)
from sfakit.model.ids import ID_PREFIXES
from sfakit.testing import strategies as sfa

STRATEGIES: dict[type, Callable[[], st.SearchStrategy[Any]]] = {
    Account: sfa.accounts,
    Contact: sfa.contacts,
    Lead: sfa.leads,
    Opportunity: sfa.opportunities,
    StageChange: sfa.stage_changes,
    Activity: sfa.activities,
    Interaction: sfa.interactions,
    Product: sfa.products,
    Order: sfa.orders,
    StandingOrder: sfa.standing_orders,
    Territory: sfa.territories,
    SalesRep: sfa.sales_reps,
    Quota: sfa.quotas,
    Setting: sfa.settings,
    Money: sfa.money,
    OrderLine: sfa.order_lines,
    RecurrenceSpec: sfa.recurrence_specs,
}
CLASSES = list(STRATEGIES)
by_name = {"ids": lambda cls: cls.__name__}

# --- random values of random types ------------------------------------------------------

almost_rrules: st.SearchStrategy[str] = st.builds(
    "FREQ={};{}={}".format,
    st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY", "SECONDLY", "x"]),
    st.sampled_from(
        [
            "BYHOUR",
            "INTERVAL",
            "COUNT",
            "BYMONTHDAY",
            "BYSETPOS",
            "BYWEEKNO",
            "BYYEARDAY",
            "BYMONTH",
            "UNTIL",
            "WKST",
            "BYDAY",
            "BYEASTER",
            "DTSTART",
            "BYMINUTE",
        ]
    ),
    st.one_of(st.integers(), st.integers(2**60, 2**70), st.text(max_size=6)),
)

junk: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(),
    st.text(),
    st.text(alphabet="0123456789.-+eE_ NaInfty"),  # almost numbers
    st.binary(),
    almost_rrules,
    st.sampled_from(["UTC", "Europe/Berlin", "America", "../zoneinfo", "Etc/GMT+14", "\x00"]),
    st.datetimes(),  # naive
    st.datetimes(timezones=st.timezones()),  # aware
    st.dates(),
    st.times(),
    st.timedeltas(),
    st.decimals(),  # NaN, sNaN and infinities included
    st.sampled_from([Decimal("NaN"), Decimal("sNaN"), Decimal("-Infinity"), Decimal("1E+999999")]),
    st.sampled_from([*LeadStatus, *OrderStatus, *Channel, *ActivityKind]),
    st.sampled_from(sorted(ID_PREFIXES)).flatmap(sfa.ids),
    st.lists(st.one_of(st.integers(), st.text(), st.none()), max_size=3),
    st.lists(st.sampled_from(sorted(ID_PREFIXES)).flatmap(sfa.ids), max_size=3).map(tuple),
    st.tuples(st.text(), st.integers()),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.frozensets(st.integers(), max_size=3),
    sfa.money(),
    sfa.order_lines(),
    st.builds(object),
    st.just(Money),
    st.just(lambda: None),
)

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text())
json_like: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


# --- does a path name a real field? -----------------------------------------------------

_TOKEN = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


def _unwrap_optional(kind: Any) -> Any:
    if typing.get_origin(kind) in (typing.Union, UnionType):
        args = [a for a in typing.get_args(kind) if a is not NoneType]
        if len(args) == 1:
            return args[0]
    return kind


def _supertype(kind: Any) -> Any:
    while hasattr(kind, "__supertype__"):  # NewType
        kind = kind.__supertype__
    return kind


def resolves(cls: type, path: str) -> bool:
    """True if ``path`` (``$.lines[0].unit_price.amount``) leads through real fields of ``cls``."""
    if not path.startswith("$"):
        return False
    rest, kind = path[1:], cls
    while rest:
        match = _TOKEN.match(rest)
        if match is None:
            return False
        rest = rest[match.end() :]
        kind = _supertype(_unwrap_optional(kind))
        if match[1] is not None:
            if not attrs.has(kind):
                return False
            hints = typing.get_type_hints(kind)
            if match[1] not in {a.name for a in attrs.fields(kind)}:
                return False
            kind = hints[match[1]]
        else:
            if typing.get_origin(kind) not in (tuple, list):
                return False
            kind = typing.get_args(kind)[0]
    return True


def check_error(cls: type, err: SfaError) -> None:
    """The error is a real sfakit error whose paths name real fields."""
    if not isinstance(err, ValidationError):
        return
    for problem in err.problems:
        # A problem the codec could only describe by an unexpected exception's text.
        assert not re.search(r"\(\w+(Error|Exception|Warning): ", problem.expected), problem
        if problem.expected.startswith("no such field"):
            # An unknown key: the object that held it must be real.
            holders = [problem.path[:i] for i, c in enumerate(problem.path) if c == "."]
            assert any(resolves(cls, h) for h in holders), problem
        else:
            assert resolves(cls, problem.path), problem


def only_sfa_errors(cls: type, call: Callable[[], object]) -> None:
    try:
        call()
    except SfaError as err:
        check_error(cls, err)
    except Exception as exc:  # the assertion of these tests
        pytest.fail(f"{type(exc).__name__} escaped from sfakit: {exc!r}")


def test_the_path_checker_accepts_real_paths_and_refuses_others() -> None:
    assert resolves(Order, "$")
    assert resolves(Order, "$.lines[3].unit_price.amount")
    assert resolves(Order, "$.created_at")
    assert not resolves(Order, "$.colour")
    assert not resolves(Order, "$.lines.unit_price")
    assert not resolves(Order, "$.created_at.year")
    assert not resolves(Order, "lines")


def test_every_entity_type_is_fuzzed() -> None:
    assert set(ENTITY_TYPES.values()) <= set(STRATEGIES)


# --- 1. constructors with random values -------------------------------------------------


@pytest.mark.parametrize("cls", CLASSES, **by_name)
@settings(max_examples=200)
@given(data=st.data())
def test_constructors_raise_only_sfa_errors_for_random_values(
    cls: type, data: st.DataObject
) -> None:
    valid = data.draw(STRATEGIES[cls](), label="valid")
    kwargs = attrs.asdict(valid, recurse=False)
    names = data.draw(
        st.lists(st.sampled_from(sorted(kwargs)), min_size=1, max_size=3, unique=True),
        label="fields",
    )
    for name in names:
        kwargs[name] = data.draw(junk, label=name)
    only_sfa_errors(cls, lambda: cls(**kwargs))


@given(sfa.recurrence_specs(), almost_rrules)
def test_recurrence_rules_raise_only_sfa_errors(spec: RecurrenceSpec, rule: str) -> None:
    only_sfa_errors(RecurrenceSpec, lambda: attrs.evolve(spec, rule=rule))


@pytest.mark.parametrize("cls", CLASSES, **by_name)
@given(data=st.data())
def test_constructors_name_the_field_they_refuse(cls: type, data: st.DataObject) -> None:
    valid = data.draw(STRATEGIES[cls](), label="valid")
    kwargs = attrs.asdict(valid, recurse=False)
    name = data.draw(st.sampled_from(sorted(kwargs)), label="field")
    kwargs[name] = data.draw(st.one_of(st.builds(object), st.binary(min_size=1)), label="value")
    with pytest.raises(ValidationError) as info:
        cls(**kwargs)
    assert info.value.path == f"$.{name}"


# --- 2. from_data with random data ------------------------------------------------------


@pytest.mark.parametrize("cls", CLASSES, **by_name)
@given(data=json_like)
def test_from_data_raises_only_sfa_errors_for_random_data(cls: type, data: Any) -> None:
    only_sfa_errors(cls, lambda: from_data(cls, data))


def _field_dicts(cls: type) -> st.SearchStrategy[dict[str, Any]]:
    names = [a.name for a in attrs.fields(cls)]
    return st.fixed_dictionaries({}, optional=dict.fromkeys(names, json_like))


@pytest.mark.parametrize("cls", CLASSES, **by_name)
@given(data=st.data())
def test_from_data_raises_only_sfa_errors_for_random_fields(cls: type, data: st.DataObject) -> None:
    payload = data.draw(_field_dicts(cls))
    only_sfa_errors(cls, lambda: from_data(cls, payload))


# --- 3. from_data with one leaf of valid data changed -----------------------------------

Path = tuple[str | int, ...]


def _places(data: Any, at: Path = ()) -> list[Path]:
    """Every place in ``data``: the root, each dict value and each list item."""
    found = [at]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _places(value, (*at, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _places(value, (*at, index))
    return found


def _replace(data: Any, at: Path, value: Any) -> Any:
    if not at:
        return value
    head, rest = at[0], at[1:]
    if isinstance(data, dict):
        return {**data, head: _replace(data[head], rest, value)}
    copy = list(data)
    copy[head] = _replace(copy[head], rest, value)  # type: ignore[index]
    return copy


def _delete(data: Any, at: Path) -> Any:
    head, rest = at[0], at[1:]
    if not rest:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if k != head}
        return [v for i, v in enumerate(data) if i != head]
    if isinstance(data, dict):
        return {**data, head: _delete(data[head], rest)}
    copy = list(data)
    copy[head] = _delete(copy[head], rest)  # type: ignore[index]
    return copy


@pytest.mark.parametrize("cls", CLASSES, **by_name)
@settings(max_examples=200)
@given(data=st.data())
def test_from_data_raises_only_sfa_errors_for_one_changed_leaf(
    cls: type, data: st.DataObject
) -> None:
    valid = to_data(data.draw(STRATEGIES[cls](), label="valid"))
    at = data.draw(st.sampled_from(_places(valid)), label="at")
    action = data.draw(st.sampled_from(["replace", "delete", "add-key"]), label="action")
    if action == "delete" and at:
        changed = _delete(valid, at)
    elif action == "add-key":
        key = data.draw(st.one_of(st.text(max_size=8), st.integers()), label="key")
        holders = [p for p in _places(valid) if isinstance(_get(valid, p), dict)]
        where = data.draw(st.sampled_from(holders), label="holder")
        changed = _replace(valid, where, {**_get(valid, where), key: data.draw(json_like)})
    else:
        changed = _replace(valid, at, data.draw(json_like, label="value"))
    only_sfa_errors(cls, lambda: from_data(cls, changed))


def _get(data: Any, at: Path) -> Any:
    for step in at:
        data = data[step]
    return data


@pytest.mark.parametrize("cls", CLASSES, **by_name)
@given(data=st.data())
def test_from_data_names_the_leaf_that_was_broken(cls: type, data: st.DataObject) -> None:
    valid = to_data(data.draw(STRATEGIES[cls](), label="valid"))
    leaves = [p for p in _places(valid) if p and not isinstance(_get(valid, p), dict | list)]
    at = data.draw(st.sampled_from(leaves), label="at")
    changed = _replace(valid, at, [["not", "a", "leaf"]])  # no field accepts a nested list
    with pytest.raises(ValidationError) as info:
        from_data(cls, changed)
    expected_path = "$" + "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in at)
    assert expected_path in info.value.paths, info.value


# Keep the junk honest: it must reach the types the model checks for.
def test_junk_includes_naive_and_aware_datetimes_and_odd_decimals() -> None:
    seen: set[str] = set()

    @settings(max_examples=400)
    @given(junk)
    def collect(value: Any) -> None:
        if isinstance(value, datetime):
            seen.add("aware" if value.utcoffset() is not None else "naive")
        elif isinstance(value, Decimal) and not value.is_finite():
            seen.add("non-finite decimal")
        elif isinstance(value, date | time | timedelta):
            seen.add(type(value).__name__)

    collect()
    assert {"aware", "naive", "non-finite decimal", "date"} <= seen
