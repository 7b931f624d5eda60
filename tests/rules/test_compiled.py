"""Compiling criteria: type checks with paths, coercion, operator semantics, explain."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from unittest.mock import ANY
from zoneinfo import ZoneInfo

import attrs
import pytest

from sfakit.errors import ValidationError
from sfakit.rules import (
    MAX_DEPTH,
    AllOf,
    Condition,
    Criteria,
    GroupTrace,
    LeafTrace,
    Not,
    all_of,
    any_of,
    compile_criteria,
    criteria_from_data,
    field,
)

from .support import NOW, Address, Rec, Stage, Tier


def check(criteria: Criteria, record: Rec, now: datetime | None = NOW) -> bool:
    """Evaluate both ways and insist they agree."""
    compiled = compile_criteria(criteria, Rec)
    fast = compiled.matches(record, now=now)
    assert compiled.explain(record, now=now).matched is fast
    return fast


UNSET = Rec(address=None, note=None, score=None, when=None)
SET = Rec(
    name="Acme Corp",
    count=2,
    amount=Decimal("1500.00"),
    active=True,
    due=date(2026, 2, 27),
    seen=NOW - timedelta(hours=1),
    tier=Tier.SILVER,
    stage=Stage.WON,
    tags=("vip", "eu"),
    address=Address("Paris", "75001"),
    note="",
    score=7,
    when=NOW - timedelta(days=3),
    labels=frozenset({Stage.OPEN}),
    wait=timedelta(hours=3),
)


# -- each operator, on a set value and on an unset one ------------------------------------


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        (field("name").eq("Acme Corp"), True),
        (field("name").eq("acme corp"), False),
        (field("name").ne("Acme Corp"), False),
        (field("count").isin([1, 2]), True),
        (field("count").not_in([1, 2]), False),
        (field("amount").lt(1500), False),
        (field("amount").le("1500"), True),
        (field("amount").gt(Decimal("1499.99")), True),
        (field("amount").ge(1501), False),
        (field("amount").between("1000", "2000"), True),
        (field("count").between(3, 9), False),
        (field("name").contains("me C"), True),
        (field("tags").contains("vip"), True),
        (field("tags").contains("us"), False),
        (field("labels").contains(Stage.OPEN), True),
        (field("labels").contains("won"), False),
        (field("name").startswith("Acme"), True),
        (field("name").startswith("Corp"), False),
        (field("name").matches("C.rp$"), True),
        (field("name").matches("^Corp"), False),
        (field("address.city").is_set(), True),
        (field("note").is_set(), True),
        (field("note").is_empty(), True),
        (field("name").is_empty(), False),
        (field("tags").is_empty(), False),
        (field("when").within_last("P3D"), True),
        (field("when").within_last("P2DT23H"), False),
        (field("due").within_last("P3D"), True),
        (field("due").within_last("P2D"), False),
        (field("tier").eq(Tier.SILVER), True),
        (field("tier").eq("silver"), True),
        (field("stage").isin(["won", "lost"]), True),
        (field("active").eq(True), True),
        (field("active").ne(True), False),
        (field("seen").gt("2026-03-02T12:30:00+02:00"), True),
        (field("due").lt("2026-02-28"), True),
        (field("wait").gt("PT2H"), True),
        (field("wait").isin(["PT3H"]), True),
        (field("address.postcode").startswith("75"), True),
    ],
)
def test_operator_on_a_set_value(criteria: Criteria, expected: bool) -> None:
    assert check(criteria, SET) is expected


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        (field("note").eq("x"), False),
        (field("note").ne("x"), True),
        (field("note").isin(["x"]), False),
        (field("note").not_in(["x"]), True),
        (field("score").lt(5), False),
        (field("score").le(5), False),
        (field("score").gt(5), False),
        (field("score").ge(5), False),
        (field("score").between(0, 9), False),
        (field("note").contains("x"), False),
        (field("note").startswith("x"), False),
        (field("note").matches("x*"), False),
        (field("when").within_last("P999D"), False),
        (field("note").is_set(), False),
        (field("note").is_empty(), True),
        # an unset object on the way counts as an unset field, never AttributeError
        (field("address.city").eq("Paris"), False),
        (field("address.city").ne("Paris"), True),
        (field("address.city").is_set(), False),
        (field("address.city").is_empty(), True),
        (field("address.postcode").startswith("7"), False),
        (field("address.postcode").not_in(["7"]), True),
        (field("address").is_set(), False),
    ],
)
def test_operator_on_an_unset_value(criteria: Criteria, expected: bool) -> None:
    assert check(criteria, UNSET) is expected


def test_groups_follow_all_any_not_logic() -> None:
    yes, no = field("count").eq(2), field("count").eq(3)
    assert check(all_of(yes, yes), SET)
    assert not check(all_of(yes, no), SET)
    assert check(any_of(no, yes), SET)
    assert not check(any_of(no, no), SET)
    assert check(~no, SET)
    assert check(all_of(), SET)
    assert not check(any_of(), SET)


# -- within_last and now ---------------------------------------------------------------


def test_within_last_includes_both_ends_of_the_window() -> None:
    rule = field("when").within_last("P3D")
    assert check(rule, attrs.evolve(SET, when=NOW - timedelta(days=3)))
    assert check(rule, attrs.evolve(SET, when=NOW))
    assert not check(rule, attrs.evolve(SET, when=NOW + timedelta(microseconds=1)))
    assert not check(rule, attrs.evolve(SET, when=NOW - timedelta(days=3, microseconds=1)))


def test_within_last_on_a_date_uses_the_date_in_the_timezone_of_now() -> None:
    rule = field("due").within_last("P1D")
    late_evening_in_tokyo = datetime(2026, 3, 2, 23, 0, tzinfo=timezone(timedelta(hours=9)))
    # In Tokyo it is the 2nd, so the 1st and 2nd are in the window; in UTC it is the 2nd too.
    assert check(rule, attrs.evolve(SET, due=date(2026, 3, 1)), now=late_evening_in_tokyo)
    early_in_tokyo = datetime(2026, 3, 3, 1, 0, tzinfo=timezone(timedelta(hours=9)))
    # In Tokyo it is already the 3rd (UTC still the 2nd): the 1st has left the window.
    assert not check(rule, attrs.evolve(SET, due=date(2026, 3, 1)), now=early_in_tokyo)
    assert check(rule, attrs.evolve(SET, due=date(2026, 3, 3)), now=early_in_tokyo)


def test_within_last_counts_elapsed_time_across_a_dst_change() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # Clocks went from 02:00 to 03:00 on 2026-03-29: 03:30 is 1.5 hours after 01:00.
    now = datetime(2026, 3, 29, 3, 30, tzinfo=berlin)
    rule = field("when").within_last("PT2H")
    assert check(rule, attrs.evolve(SET, when=datetime(2026, 3, 29, 1, 0, tzinfo=berlin)), now)
    assert not check(rule, attrs.evolve(SET, when=datetime(2026, 3, 28, 23, 0, tzinfo=berlin)), now)


def test_huge_window_reaching_before_year_one_matches_everything_past() -> None:
    rule = field("when").within_last(timedelta(days=999_999_999))
    assert check(rule, attrs.evolve(SET, when=datetime(1, 1, 2, tzinfo=UTC)))
    assert check(field("due").within_last(timedelta(days=999_999_999)), SET)


@pytest.mark.parametrize("now", [None, datetime(2026, 3, 2), "2026-03-02T00:00+00:00"])
def test_within_last_needs_an_aware_now(now: Any) -> None:
    compiled = compile_criteria(any_of(field("count").eq(2), field("when").within_last("P1D")), Rec)
    assert compiled.needs_now
    with pytest.raises(ValidationError) as info:
        compiled.matches(SET, now=now)
    assert info.value.path == "$.now"
    with pytest.raises(ValidationError) as info:
        compiled.explain(SET, now=now)
    assert info.value.path == "$.now"


def test_now_is_ignored_when_no_condition_uses_it() -> None:
    compiled = compile_criteria(field("count").eq(2), Rec)
    assert not compiled.needs_now
    assert compiled.matches(SET, now="not even a datetime")  # type: ignore[arg-type]
    assert "_check_now" not in compiled.source


# -- compile-time checks, with the path of the bad node --------------------------------


def error_of(criteria: Any, subject: type = Rec) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        compile_criteria(criteria, subject)
    return info.value


def test_unknown_field_is_reported_at_its_node_with_the_valid_fields() -> None:
    err = error_of(all_of(field("count").eq(1), any_of(field("nmae").eq("x"))))
    assert err.paths == ("$.all[1].any[0].field",)
    assert "name, count, amount" in err.expected


def test_operator_not_allowed_for_the_type_lists_the_allowed_ones() -> None:
    err = error_of(all_of(field("count").eq(1), field("active").gt(True)))
    assert err.path == "$.all[1].op"
    assert err.expected == "one of eq, ne, is_set for 'active' (bool)"


@pytest.mark.parametrize(
    ("criteria", "path"),
    [
        (field("count").eq("two"), "$.value"),
        (field("amount").eq(True), "$.value"),
        (field("name").eq(3), "$.value"),
        (field("active").eq("true"), "$.value"),
        (field("due").eq("2026-02-30"), "$.value"),
        (field("due").eq(NOW), "$.value"),
        (field("seen").eq(date(2026, 3, 1)), "$.value"),
        (field("seen").eq("2026-03-01T10:00"), "$.value"),
        (field("wait").eq("P1M"), "$.value"),
        (field("wait").eq(3), "$.value"),
        (field("tags").contains(3), "$.value"),
        (field("labels").contains("closed"), "$.value"),
        (field("name").contains(3), "$.value"),
        (field("stage").isin(["won", "nope"]), "$.value[1]"),
        (field("amount").between("10", "9"), "$.value"),
        (field("amount").between("1", "x"), "$.value[1]"),
        (field("tier").eq("GOLD"), "$.value"),
        (field("tier").gt("gold"), "$.op"),
        (field("tags").eq("vip"), "$.op"),
        (field("address").eq("Paris"), "$.op"),
        (field("name").within_last("P1D"), "$.op"),
        (field("count").startswith("1"), "$.op"),
        (field("due").isin([date(2026, 1, 1)]), "$.op"),
    ],
)
def test_bad_leaf_is_reported_at_the_exact_path(criteria: Criteria, path: str) -> None:
    assert error_of(Not(AllOf([field("count").eq(1), criteria]))).paths == (
        "$.not.all[1]" + path[1:],
    )


def test_unknown_enum_value_lists_the_allowed_values() -> None:
    err = error_of(field("tier").eq("platinum"))
    assert err.expected == "one of 'gold', 'silver', 'bronze' (enum Tier)"


def test_every_bad_node_is_reported_at_once() -> None:
    err = error_of(
        criteria_from_data(
            {"all": [{"field": "x", "op": "is_set"}, {"field": "count", "op": "eq", "value": "a"}]}
        )
    )
    assert err.paths == ("$.all[0].field", "$.all[1].value")


def test_values_are_coerced_to_the_field_type() -> None:
    compiled = compile_criteria(field("amount").eq(1500), Rec)
    trace = compiled.explain(SET).trace
    assert isinstance(trace, LeafTrace)
    assert trace.expected == Decimal(1500)
    assert type(trace.expected) is Decimal
    assert compile_criteria(field("count").eq("2"), Rec).explain(SET).trace.matched


def test_subject_must_be_an_attrs_class() -> None:
    assert error_of(field("x").eq(1), dict).path == "$"


def test_non_node_criteria_is_refused() -> None:
    assert error_of({"field": "count"}).path == "$"


def test_nesting_deeper_than_the_limit_is_refused_at_compile() -> None:
    node: Criteria = field("count").eq(2)
    for _ in range(MAX_DEPTH):
        node = Not(node)
    assert compile_criteria(node, Rec).matches(SET)
    err = error_of(Not(node))
    assert err.path == "$" + ".not" * (MAX_DEPTH + 1)


# -- the generated code cannot be injected -------------------------------------------


INJECTION = "x); import os; ("


def test_injected_field_names_never_reach_the_code() -> None:
    with pytest.raises(ValidationError):
        field(INJECTION)
    assert error_of(field("__class__").is_set()).path == "$.field"


def test_injected_values_are_plain_values() -> None:
    compiled = compile_criteria(
        any_of(field("name").eq(INJECTION), field("name").matches(r"\)\; import")), Rec
    )
    assert INJECTION not in compiled.source
    assert "import" not in compiled.source
    assert compiled.matches(attrs.evolve(SET, name=INJECTION))
    assert not compiled.matches(SET)


def test_generated_code_has_no_builtins() -> None:
    compiled = compile_criteria(field("name").eq("x"), Rec)
    assert compiled.matches.__globals__ == {"__builtins__": {}, "_factory": ANY}  # type: ignore[attr-defined]


# -- explain -------------------------------------------------------------------------


RULE = all_of(
    field("amount").gt(1000),
    any_of(field("address.city").eq("Berlin"), field("tags").contains("vip")),
    ~field("stage").eq("lost"),
    field("when").within_last("P14D"),
)


def test_explain_evaluates_every_child_even_after_the_outcome_is_known() -> None:
    record = attrs.evolve(SET, amount=Decimal(5))
    verdict = compile_criteria(RULE, Rec).explain(record, now=NOW)
    assert not verdict.matched
    assert isinstance(verdict.trace, GroupTrace)
    assert [c.path for c in verdict.trace.children] == [
        "$.all[0]",
        "$.all[1]",
        "$.all[2]",
        "$.all[3]",
    ]
    assert [c.matched for c in verdict.trace.children] == [False, True, True, True]


def test_fired_lists_the_conditions_that_held() -> None:
    verdict = compile_criteria(RULE, Rec).explain(SET, now=NOW)
    assert verdict.matched
    assert [leaf.path for leaf in verdict.fired()] == ["$.all[0]", "$.all[1].any[1]", "$.all[3]"]


def test_leaf_trace_records_actual_expected_and_note() -> None:
    verdict = compile_criteria(RULE, Rec).explain(UNSET, now=NOW)
    assert isinstance(verdict.trace, GroupTrace)
    window = verdict.trace.children[3]
    assert window == LeafTrace(
        "$.all[3]", "when", "within_last", timedelta(days=14), None, False, "field is not set"
    )
    city = verdict.trace.children[1].children[0]  # type: ignore[union-attr]
    assert isinstance(city, LeafTrace)
    assert city.note == "field is not set (address is not set)"


def test_within_last_note_says_how_old_the_value_is() -> None:
    verdict = compile_criteria(field("when").within_last("P2D"), Rec).explain(SET, now=NOW)
    assert verdict.trace.note == "value is 3 days old, limit 2 days"  # type: ignore[union-attr]
    future = attrs.evolve(SET, when=NOW + timedelta(hours=5))
    verdict = compile_criteria(field("when").within_last("P2D"), Rec).explain(future, now=NOW)
    assert verdict.trace.note == "value is 5 hours in the future, limit 2 days"  # type: ignore[union-attr]


def test_render_shows_one_line_per_node() -> None:
    text = compile_criteria(RULE, Rec).explain(SET, now=NOW).render()
    assert text.splitlines() == [
        "MATCHED",
        "[x] all  at $",
        "  [x] amount gt 1000 (actual 1500.00)  at $.all[0]",
        "  [x] any  at $.all[1]",
        "    [ ] address.city eq 'Berlin' (actual 'Paris')  at $.all[1].any[0]",
        "    [x] tags contains 'vip' (actual ['vip', 'eu'])  at $.all[1].any[1]",
        "  [x] not  at $.all[2]",
        "    [ ] stage eq 'lost' (actual 'won')  at $.all[2].not",
        "  [x] when within_last P14D (actual 2026-02-27T12:00:00+00:00; "
        "value is 3 days old, limit 14 days)  at $.all[3]",
    ]


def test_explain_checks_the_record_type() -> None:
    compiled = compile_criteria(field("count").eq(1), Rec)
    with pytest.raises(ValidationError) as info:
        compiled.explain(Address("x"))  # type: ignore[arg-type]
    assert info.value.path == "$.record"


def test_compiled_criteria_keeps_its_source_and_subject() -> None:
    compiled = compile_criteria(field("count").eq(1), Rec)
    assert compiled.criteria == field("count").eq(1)
    assert compiled.subject_type is Rec
    assert compiled.source.startswith("def _factory(")
    assert Condition("count", "eq", 1) == compiled.criteria
