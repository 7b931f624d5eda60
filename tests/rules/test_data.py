"""Criteria as JSON-able data: the format, loading errors with paths, round trips."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given

from sfakit.errors import ValidationError
from sfakit.rules import (
    MAX_DEPTH,
    AllOf,
    AnyOf,
    Condition,
    Criteria,
    Not,
    criteria_from_data,
    criteria_to_data,
    field,
    value_from_data,
    value_to_data,
)

from .support import criteria


def test_condition_data_format() -> None:
    assert criteria_to_data(field("stage").isin(["won", "lost"])) == {
        "field": "stage",
        "op": "in",
        "value": ["won", "lost"],
    }


def test_is_set_and_is_empty_have_no_value_key() -> None:
    assert criteria_to_data(field("owner").is_set()) == {"field": "owner", "op": "is_set"}
    assert criteria_to_data(field("tags").is_empty()) == {"field": "tags", "op": "is_empty"}


def test_group_data_format() -> None:
    a, b = field("a").eq(1), field("b").eq(True)
    assert criteria_to_data(AllOf([a, AnyOf([b]), Not(a)])) == {
        "all": [
            {"field": "a", "op": "eq", "value": 1},
            {"any": [{"field": "b", "op": "eq", "value": True}]},
            {"not": {"field": "a", "op": "eq", "value": 1}},
        ]
    }


@pytest.mark.parametrize(
    ("value", "data"),
    [
        ("x", "x"),
        (3, 3),
        (True, True),
        (Decimal("1.50"), {"$decimal": "1.50"}),
        (Decimal("1E+3"), {"$decimal": "1E+3"}),
        (date(2026, 1, 31), {"$date": "2026-01-31"}),
        (
            datetime(2026, 1, 31, 9, 0, tzinfo=timezone(timedelta(hours=1))),
            {"$datetime": "2026-01-31T09:00:00+01:00"},
        ),
        (timedelta(days=14), {"$duration": "P14D"}),
        (timedelta(days=1, hours=2, seconds=3.5), {"$duration": "P1DT2H3.5S"}),
        (("a", Decimal(2)), ["a", {"$decimal": "2"}]),
    ],
)
def test_value_encoding(value: object, data: object) -> None:
    assert value_to_data(value) == data
    assert value_from_data(data) == value
    assert type(value_from_data(data)) is type(value)


def test_loading_accepts_a_plain_iso_duration_for_within_last() -> None:
    loaded = criteria_from_data({"field": "d", "op": "within_last", "value": "PT2H"})
    assert loaded == field("d").within_last(timedelta(hours=2))


def test_loading_accepts_datetime_with_z() -> None:
    loaded = criteria_from_data(
        {"field": "d", "op": "gt", "value": {"$datetime": "2026-01-01T00:00Z"}}
    )
    assert loaded == field("d").gt(datetime(2026, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    ("data", "paths"),
    [
        ([], ("$",)),
        ({}, ("$",)),
        ({"field": "a"}, ("$.op",)),
        ({"op": "eq", "value": 1}, ("$.field",)),
        ({"field": "a", "op": "eq", "value": 1, "extra": 2}, ("$.extra",)),
        ({"field": "a", "op": "eq", "value": 1, 7: 2}, ("$[7]",)),
        ({"field": "a", "op": "eq", "value": 1, "a b": 2}, ("$['a b']",)),
        ({"field": "a", "op": "eqq", "value": 1}, ("$.op",)),
        ({"field": "a", "op": 3, "value": 1}, ("$.op",)),
        ({"field": 3, "op": "eq", "value": 1}, ("$.field",)),
        ({"field": "a", "op": "eq", "value": 1.5}, ("$.value",)),
        ({"field": "a", "op": "eq", "value": {"$decimal": "x"}}, ("$.value.$decimal",)),
        ({"field": "a", "op": "eq", "value": {"$decimal": "NaN"}}, ("$.value.$decimal",)),
        ({"field": "a", "op": "eq", "value": {"$decimal": 1}}, ("$.value.$decimal",)),
        ({"field": "a", "op": "eq", "value": {"$date": "2026-02-30"}}, ("$.value.$date",)),
        (
            {"field": "a", "op": "eq", "value": {"$datetime": "2026-02-01T10:00"}},
            ("$.value.$datetime",),
        ),
        ({"field": "a", "op": "eq", "value": {"$duration": "P1M"}}, ("$.value.$duration",)),
        ({"field": "a", "op": "eq", "value": {"$money": "1"}}, ("$.value",)),
        ({"field": "a", "op": "eq", "value": {"$date": "2026-01-01", "x": 1}}, ("$.value",)),
        ({"field": "a", "op": "in", "value": [1, [2]]}, ("$.value[1]",)),
        ({"field": "a", "op": "in", "value": [1, None]}, ("$.value[1]",)),
        ({"field": "a", "op": "in", "value": []}, ("$.value",)),
        ({"field": "a", "op": "eq"}, ("$.value",)),
        ({"field": "a", "op": "is_set", "value": 1}, ("$.value",)),
        ({"all": {"field": "a", "op": "is_set"}}, ("$.all",)),
        ({"all": [], "any": []}, ("$.any",)),
        ({"all": [], "field": "x"}, ("$.field",)),
        ({"not": [], "x": 1}, ("$.x",)),
        ({"not": []}, ("$.not",)),
        ({"all": [{"field": "a", "op": "is_set"}, 3]}, ("$.all[1]",)),
        (
            {"all": [{"any": [{"field": "1", "op": "is_set"}]}, {"field": "a", "op": "x"}]},
            ("$.all[0].any[0].field", "$.all[1].op"),
        ),
        (
            {"all": [{}, {}, {"any": [{"field": "a", "op": "bad"}]}]},
            ("$.all[0]", "$.all[1]", "$.all[2].any[0].op"),
        ),
    ],
)
def test_loading_errors_name_the_bad_node(data: Any, paths: tuple[str, ...]) -> None:
    with pytest.raises(ValidationError) as info:
        criteria_from_data(data)
    assert info.value.paths == paths


def test_loading_error_paths_can_be_rooted_elsewhere() -> None:
    with pytest.raises(ValidationError) as info:
        criteria_from_data({"not": {"field": "a", "op": "nope"}}, "$.stages[2].entry")
    assert info.value.path == "$.stages[2].entry.not.op"


def test_loading_refuses_nesting_deeper_than_the_limit() -> None:
    data: dict[str, Any] = {"field": "a", "op": "is_set"}
    for _ in range(MAX_DEPTH):
        data = {"not": data}
    assert isinstance(criteria_from_data(data), Not)
    with pytest.raises(ValidationError) as info:
        criteria_from_data({"not": data})
    assert info.value.path == "$" + ".not" * (MAX_DEPTH + 1)


def test_loading_a_deeply_nested_document_does_not_recurse_forever() -> None:
    data: Any = {"field": "a", "op": "is_set"}
    for _ in range(10_000):
        data = {"all": [data]}
    with pytest.raises(ValidationError, match="levels of nesting"):
        criteria_from_data(data)


@given(criteria)
def test_data_round_trips_exactly(node: Criteria) -> None:
    assert criteria_from_data(criteria_to_data(node)) == node


@given(criteria)
def test_data_survives_json(node: Criteria) -> None:
    text = json.dumps(criteria_to_data(node))
    assert criteria_from_data(json.loads(text)) == node


def test_round_trip_keeps_decimal_digits_and_datetime_instants() -> None:
    node = AnyOf(
        [
            Condition("a", "eq", Decimal("1.50")),
            Condition("b", "gt", datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=UTC)),
        ]
    )
    back = criteria_from_data(json.loads(json.dumps(criteria_to_data(node))))
    assert back == node
    assert str(back.items[0].value) == "1.50"  # type: ignore[union-attr]
