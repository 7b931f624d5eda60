"""Building criteria nodes: shapes checked and values normalised at construction."""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sfakit.errors import ValidationError
from sfakit.rules import (
    AllOf,
    AnyOf,
    Condition,
    Not,
    Operator,
    all_of,
    any_of,
    field,
    format_duration,
    not_,
    parse_duration,
)


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Level(enum.IntEnum):
    LOW = 1


def test_operator_values_are_the_data_names() -> None:
    assert [op.value for op in Operator] == [
        "eq", "ne", "in", "not_in", "lt", "le", "gt", "ge", "between",
        "contains", "startswith", "matches", "is_set", "is_empty", "within_last",
    ]  # fmt: skip


def test_condition_accepts_operator_names_as_str() -> None:
    assert Condition("a", "ge", 1) == Condition("a", Operator.GE, 1)


@pytest.mark.parametrize(
    "path",
    [
        "",
        "1a",
        "a.",
        ".a",
        "a..b",
        "a-b",
        "a b",
        "amount.amount ",
        "é",
        "a.class",
        "x); import os; (",
    ],
)
def test_bad_field_paths_are_rejected_at_field(path: str) -> None:
    with pytest.raises(ValidationError) as info:
        Condition(path, "is_set")
    assert info.value.path == "$.field"


def test_non_str_field_is_rejected_at_field() -> None:
    with pytest.raises(ValidationError) as info:
        Condition(3, "is_set")  # type: ignore[arg-type]
    assert info.value.path == "$.field"


def test_dotted_paths_of_identifiers_are_accepted() -> None:
    assert Condition("amount.amount", "is_set").field == "amount.amount"
    assert Condition("_private.x_1", "is_set").field == "_private.x_1"


def test_unknown_operator_lists_the_operators() -> None:
    with pytest.raises(ValidationError) as info:
        Condition("a", "equals", 1)
    assert info.value.path == "$.op"
    assert "not_in" in info.value.expected


def test_bad_field_and_bad_op_are_both_reported() -> None:
    with pytest.raises(ValidationError) as info:
        Condition("1a", "nope", 1)
    assert info.value.paths == ("$.field", "$.op")


@pytest.mark.parametrize("value", [0.5, float("nan"), 1e300])
def test_float_values_are_refused_with_a_decimal_hint(value: float) -> None:
    with pytest.raises(ValidationError, match="Decimal") as info:
        Condition("amount", "gt", value)
    assert info.value.path == "$.value"


def test_float_inside_a_list_is_refused_at_its_index() -> None:
    with pytest.raises(ValidationError) as info:
        Condition("amount", "in", [Decimal(1), 2.5])
    assert info.value.path == "$.value[1]"


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), Decimal("-sNaN")])
def test_non_finite_decimals_are_refused(value: Decimal) -> None:
    with pytest.raises(ValidationError):
        Condition("amount", "eq", value)


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValidationError, match="naive") as info:
        Condition("seen", "gt", datetime(2026, 1, 1))
    assert info.value.path == "$.value"


def test_aware_datetime_is_kept_with_its_fixed_offset() -> None:
    paris = datetime(2026, 7, 1, 9, 0, tzinfo=ZoneInfo("Europe/Paris"))
    value = Condition("seen", "gt", paris).value
    assert value == paris
    assert isinstance(value, datetime)
    assert value.tzinfo == timezone(timedelta(hours=2))


def test_enum_members_are_normalised_to_their_values() -> None:
    assert Condition("color", "eq", Color.RED).value == "red"
    assert Condition("color", "in", [Color.RED, Color.BLUE]).value == ("red", "blue")
    assert type(Condition("level", "eq", Level.LOW).value) is int


def test_in_converts_a_list_to_a_tuple() -> None:
    assert Condition("stage", "in", ["won", "lost"]).value == ("won", "lost")


@pytest.mark.parametrize("value", [[], (), "won", None, {"won"}, 3])
def test_in_needs_a_non_empty_list(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        Condition("stage", "not_in", value)
    assert info.value.path == "$.value"


def test_in_refuses_null_members() -> None:
    with pytest.raises(ValidationError) as info:
        Condition("stage", "in", ["won", None])
    assert info.value.path == "$.value[1]"


def test_between_takes_an_ordered_pair() -> None:
    assert Condition("n", "between", [1, 5]).value == (1, 5)
    assert Condition("n", "between", (3, 3)).value == (3, 3)


@pytest.mark.parametrize("value", [(5, 1), (1,), (1, 2, 3), 1, (1, "a"), (date(2026, 1, 1), 3)])
def test_between_rejects_bad_pairs(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        Condition("n", "between", value)
    assert info.value.path == "$.value"


@pytest.mark.parametrize("op", ["is_set", "is_empty"])
def test_is_set_and_is_empty_take_no_value(op: str) -> None:
    assert Condition("x", op).value is None
    with pytest.raises(ValidationError) as info:
        Condition("x", op, True)
    assert info.value.path == "$.value"


@pytest.mark.parametrize("op", ["eq", "ne", "lt", "contains", "startswith", "matches", "in"])
def test_value_ops_refuse_a_missing_value(op: str) -> None:
    with pytest.raises(ValidationError, match="is_set") as info:
        Condition("x", op)
    assert info.value.path == "$.value"


def test_eq_refuses_a_list_and_points_to_in() -> None:
    with pytest.raises(ValidationError, match="use in"):
        Condition("x", "eq", ["a"])


def test_within_last_parses_iso_durations() -> None:
    assert Condition("d", "within_last", "P14D").value == timedelta(days=14)
    assert Condition("d", "within_last", "PT2H").value == timedelta(hours=2)
    assert Condition("d", "within_last", "P2W").value == timedelta(days=14)
    assert Condition("d", "within_last", timedelta(minutes=5)).value == timedelta(minutes=5)


@pytest.mark.parametrize(
    "value", ["P1M", "P1Y", "P1Y2M3D", "P", "PT", "P1DT", "14 days", "p14d", "PT-1H", "P0D",
              timedelta(0), timedelta(days=-1), 14, "P999999999999D"]
)  # fmt: skip
def test_within_last_rejects_bad_or_calendar_durations(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        Condition("d", "within_last", value)
    assert info.value.path == "$.value"


def test_months_are_refused_because_they_have_no_fixed_length() -> None:
    with pytest.raises(ValidationError, match="months and years have no fixed length"):
        parse_duration("P3M")


def test_regex_is_checked_and_stored_as_str() -> None:
    assert Condition("email", "matches", r"@acme\.com$").value == r"@acme\.com$"
    with pytest.raises(ValidationError, match="regular expression") as info:
        Condition("email", "matches", "(unclosed")
    assert info.value.path == "$.value"


def test_regex_python_warns_about_is_refused() -> None:
    with pytest.raises(ValidationError, match="unambiguous"):
        Condition("email", "matches", "[[a]")


def test_startswith_needs_a_str() -> None:
    with pytest.raises(ValidationError):
        Condition("name", "startswith", 3)


@pytest.mark.parametrize("value", [b"x", object(), {"a": 1}, {1, 2}, 1j, bytearray()])
def test_unsupported_value_types_are_refused(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        Condition("x", "eq", value)
    assert info.value.path == "$.value"


def test_builders_make_the_same_nodes_as_constructors() -> None:
    f = field("amount.amount")
    assert f.eq(1) == Condition("amount.amount", "eq", 1)
    assert f.ne(1) == Condition("amount.amount", "ne", 1)
    assert f.isin([1, 2]) == Condition("amount.amount", "in", (1, 2))
    assert f.isin(x for x in (1, 2)) == Condition("amount.amount", "in", (1, 2))
    assert f.not_in([1]) == Condition("amount.amount", "not_in", (1,))
    assert f.lt(1) == Condition("amount.amount", "lt", 1)
    assert f.le(1) == Condition("amount.amount", "le", 1)
    assert f.gt(1) == Condition("amount.amount", "gt", 1)
    assert f.ge(1) == Condition("amount.amount", "ge", 1)
    assert f.between(1, 2) == Condition("amount.amount", "between", (1, 2))
    assert f.contains("a") == Condition("amount.amount", "contains", "a")
    assert f.startswith("a") == Condition("amount.amount", "startswith", "a")
    assert f.matches("a") == Condition("amount.amount", "matches", "a")
    assert f.is_set() == Condition("amount.amount", "is_set")
    assert f.is_empty() == Condition("amount.amount", "is_empty")
    assert f.within_last("P1D") == Condition("amount.amount", "within_last", timedelta(days=1))


def test_isin_refuses_a_lone_string() -> None:
    with pytest.raises(ValidationError):
        field("stage").isin("won")


def test_field_builder_checks_the_path() -> None:
    with pytest.raises(ValidationError) as info:
        field("a b")
    assert info.value.path == "$.field"


def test_operators_build_flattened_groups() -> None:
    a, b, c = field("a").is_set(), field("b").is_set(), field("c").is_set()
    assert a & b & c == AllOf((a, b, c)) == all_of(a, b, c)
    assert a | b | c == AnyOf((a, b, c)) == any_of(a, b, c)
    assert ~a == Not(a) == not_(a)
    assert (a & b) | c == AnyOf((AllOf((a, b)), c))


def test_groups_accept_lists_and_refuse_non_nodes() -> None:
    a = field("a").is_set()
    assert AllOf([a]).items == (a,)
    with pytest.raises(ValidationError) as info:
        AllOf([a, "b"])  # type: ignore[list-item]
    assert info.value.path == "$.items[1]"
    with pytest.raises(ValidationError) as info:
        AnyOf(a)  # type: ignore[arg-type]
    assert info.value.path == "$.items"
    with pytest.raises(ValidationError) as info:
        Not({"field": "a"})  # type: ignore[arg-type]
    assert info.value.path == "$.item"


def test_and_with_a_non_node_is_a_type_error_of_python_not_a_node() -> None:
    a = field("a").is_set()
    with pytest.raises(TypeError):
        a & 3  # type: ignore[operator]


def test_nodes_are_frozen_and_hashable() -> None:
    a = field("tags").isin(["a", "b"])
    assert hash(a) == hash(field("tags").isin(("a", "b")))
    with pytest.raises(AttributeError):
        a.op = Operator.EQ  # type: ignore[misc]


@given(st.timedeltas(min_value=timedelta(days=-999_999), max_value=timedelta(days=999_999)))
def test_duration_format_round_trips(value: timedelta) -> None:
    assert parse_duration(format_duration(value)) == value


def test_duration_format_is_minimal_iso() -> None:
    assert format_duration(timedelta(days=14)) == "P14D"
    assert format_duration(timedelta(hours=2)) == "PT2H"
    assert format_duration(timedelta(days=1, seconds=61)) == "P1DT1M1S"
    assert format_duration(timedelta(microseconds=1)) == "PT0.000001S"
    assert format_duration(-timedelta(hours=1)) == "-PT1H"
    assert format_duration(timedelta(0)) == "PT0S"
