"""The codec: every model object to plain JSON-able data and back, and what it refuses."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given

from sfakit.codec import from_data, from_json, to_data, to_json
from sfakit.errors import ValidationError
from sfakit.model import (
    Account,
    Contact,
    ContactRole,
    Lead,
    LeadStatus,
    Money,
    Opportunity,
    Order,
    OrderLine,
    OrderStatus,
    RecurrenceSpec,
    StandingOrder,
)
from sfakit.testing import strategies as sfa

CREATED = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
ISO_WITH_OFFSET = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?[+-]\d\d:\d\d(:\d\d)?")


def json_types_only(data: Any) -> bool:
    """True if ``data`` is made of dict (with str keys), list, str, int, bool and None only."""
    if data is None or type(data) in (str, int, bool):
        return True
    if type(data) is list:
        return all(json_types_only(item) for item in data)
    if type(data) is dict:
        return all(type(k) is str and json_types_only(v) for k, v in data.items())
    return False


def opportunity_data(**changes: Any) -> dict[str, Any]:
    deal = Opportunity(
        name="1000 bulbs",
        account_id="acct_acme",
        pipeline="standard",
        stage="qualify",
        amount=Money.of("4800", "EUR"),
        close_date=date(2026, 6, 30),
        probability_override=Decimal("40"),
        created_at=CREATED,
    )
    return {**to_data(deal), **changes}


def order_data() -> dict[str, Any]:
    line = OrderLine(product_id="prod_bulb", quantity=1000, unit_price=Money.of("1.20", "EUR"))
    return to_data(
        Order(account_id="acct_acme", currency="EUR", lines=(line, line), created_at=CREATED)
    )


def problem_at(path: str, kind: type, data: Any) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        from_data(kind, data)
    assert path in info.value.paths, info.value
    return info.value


# --- round trips ----------------------------------------------------------------------


@given(sfa.model_objects())
def test_from_data_of_to_data_gives_the_object_back(obj: Any) -> None:
    assert from_data(type(obj), to_data(obj)) == obj


@given(sfa.model_objects())
def test_data_is_made_of_json_types_only(obj: Any) -> None:
    assert json_types_only(to_data(obj))


@given(sfa.model_objects())
def test_data_survives_json_unchanged(obj: Any) -> None:
    data = to_data(obj)
    assert json.loads(json.dumps(data)) == data


@given(sfa.model_objects())
def test_to_json_then_from_json_gives_the_object_back(obj: Any) -> None:
    assert from_json(type(obj), to_json(obj)) == obj
    assert from_json(type(obj), to_json(obj).encode()) == obj


@given(sfa.model_objects())
def test_to_data_is_stable_across_a_round_trip(obj: Any) -> None:
    data = to_data(obj)
    assert to_data(from_data(type(obj), data)) == data


# --- formats --------------------------------------------------------------------------


def test_decimals_are_strings() -> None:
    data = opportunity_data()
    assert data["amount"] == {"amount": "4800.00", "currency": "EUR"}
    assert data["probability_override"] == "40"


@given(sfa.entities())
def test_datetimes_are_iso_8601_with_their_offset(entity: Any) -> None:
    data = to_data(entity)
    assert ISO_WITH_OFFSET.fullmatch(data["created_at"]), data["created_at"]
    parsed = datetime.fromisoformat(data["created_at"])
    assert parsed.utcoffset() == entity.created_at.utcoffset()
    assert parsed == entity.created_at


def test_dates_are_iso_8601() -> None:
    assert opportunity_data()["close_date"] == "2026-06-30"


def test_enums_are_written_by_value() -> None:
    lead = Lead(last_name="Okafor", status=LeadStatus.WORKING, created_at=CREATED)
    data = to_data(lead)
    assert data["status"] == "working"
    assert type(data["status"]) is str
    contact = Contact(
        last_name="Nakamura", roles=(ContactRole.PURCHASING_AGENT,), created_at=CREATED
    )
    assert to_data(contact)["roles"] == ["purchasing_agent"]


def test_tuples_are_lists() -> None:
    data = order_data()
    assert type(data["lines"]) is list
    assert len(data["lines"]) == 2


# --- what from_data refuses -------------------------------------------------------------


def test_unknown_keys_are_refused_by_name() -> None:
    err = problem_at("$.colour", Opportunity, opportunity_data(colour="red"))
    assert "no such field" in str(err)
    assert "pipeline" in str(err)  # the message lists the real fields


def test_unknown_keys_in_nested_objects_are_refused_by_path() -> None:
    data = order_data()
    data["lines"][1]["colour"] = "red"
    problem_at("$.lines[1].colour", Order, data)


def test_missing_required_fields_are_named() -> None:
    data = opportunity_data()
    del data["pipeline"]
    err = problem_at("$.pipeline", Opportunity, data)
    assert "required" in str(err)


@pytest.mark.parametrize(
    "value",
    ["2026-03-02T09:30:00", "2026-03-02 09:30", "2026-03-02"],
)
def test_naive_datetime_strings_are_refused(value: str) -> None:
    err = problem_at("$.created_at", Opportunity, opportunity_data(created_at=value))
    assert "offset" in err.expected


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01T00:00:00+00:00", 1700000000, None])
def test_malformed_datetimes_are_refused(value: Any) -> None:
    problem_at("$.created_at", Opportunity, opportunity_data(created_at=value))


@pytest.mark.parametrize(
    "value", ["2026-06-31", "30.06.2026", "20260630", "2026-06-30T00:00:00", 20260630]
)
def test_malformed_dates_are_refused(value: Any) -> None:
    problem_at("$.close_date", Opportunity, opportunity_data(close_date=value))


@pytest.mark.parametrize("value", [40.0, 0.5, float("nan")])
def test_floats_are_refused_for_decimals(value: float) -> None:
    err = problem_at(
        "$.probability_override", Opportunity, opportunity_data(probability_override=value)
    )
    assert "float" in err.expected


def test_floats_are_refused_for_money_amounts() -> None:
    problem_at(
        "$.amount.amount",
        Opportunity,
        opportunity_data(amount={"amount": 4800.0, "currency": "EUR"}),
    )


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-inf", "12,5", "", True])
def test_non_finite_and_malformed_decimals_are_refused(value: Any) -> None:
    problem_at("$.probability_override", Opportunity, opportunity_data(probability_override=value))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", 5),
        ("name", None),
        ("name", ["a"]),
        ("version", "5"),
        ("version", 5.0),
        ("version", True),
        ("version", None),
        ("account_id", 42),
        ("pipeline", {"name": "standard"}),
    ],
)
def test_wrong_types_are_refused(field: str, value: Any) -> None:
    problem_at(f"$.{field}", Opportunity, opportunity_data(**{field: value}))


@pytest.mark.parametrize("value", ["true", 1, 0, None, "yes"])
def test_only_true_and_false_are_booleans(value: Any) -> None:
    data = {**to_data(Contact(last_name="Nakamura", created_at=CREATED)), "do_not_contact": value}
    problem_at("$.do_not_contact", Contact, data)


@pytest.mark.parametrize("value", ["abc", {"a": 1}, 5, "vip"])
def test_a_sequence_field_needs_a_list(value: Any) -> None:
    data = {**to_data(Account(name="Acme", created_at=CREATED)), "tags": value}
    err = problem_at("$.tags", Account, data)
    assert "list" in err.expected


def test_unknown_enum_values_are_refused_and_the_allowed_ones_listed() -> None:
    data = to_data(Lead(last_name="Okafor", created_at=CREATED))
    err = problem_at("$.status", Lead, {**data, "status": "hot"})
    for status in LeadStatus:
        assert status.value in err.expected


def test_enum_values_are_matched_exactly() -> None:
    data = to_data(Lead(last_name="Okafor", created_at=CREATED))
    problem_at("$.status", Lead, {**data, "status": "NEW"})
    problem_at("$.status", Lead, {**data, "status": ["new"]})


def test_nested_bad_values_are_reported_with_their_full_path() -> None:
    data = order_data()
    data["lines"][0]["unit_price"]["amount"] = 1.5
    err = problem_at("$.lines[0].unit_price.amount", Order, data)
    assert err.value == 1.5


def test_several_problems_are_reported_together() -> None:
    data = order_data()
    data["lines"][0]["unit_price"]["amount"] = 1.5
    data["lines"][1]["quantity"] = "lots"
    data["status"] = "lost"
    data["created_at"] = "2026-03-02T09:30:00"
    data["extra"] = True
    with pytest.raises(ValidationError) as info:
        from_data(Order, data)
    assert set(info.value.paths) == {
        "$.lines[0].unit_price.amount",
        "$.lines[1].quantity",
        "$.status",
        "$.created_at",
        "$.extra",
    }
    assert info.value.subject == "Order"
    assert "5 problems" in str(info.value)


def test_cross_field_rules_are_checked_on_loading() -> None:
    data = to_data(
        StandingOrder(
            account_id="acct_acme",
            currency="EUR",
            lines=(OrderLine(product_id="prod_x", quantity=1, unit_price=Money.of("1", "EUR")),),
            schedule=RecurrenceSpec(rule="FREQ=WEEKLY", start=CREATED, timezone="UTC"),
            created_at=CREATED,
        )
    )
    data["lines"][0]["unit_price"]["currency"] = "USD"
    problem_at("$.lines[0].unit_price.currency", StandingOrder, data)
    problem_at("$.lines", StandingOrder, {**data, "lines": []})


def test_entity_rules_are_checked_on_loading() -> None:
    data = opportunity_data(close_date="2020-01-01")
    problem_at("$.close_date", Opportunity, data)


@pytest.mark.parametrize("data", [None, [], "opportunity", 5, [("name", "x")]], ids=repr)
def test_data_that_is_not_an_object_is_refused(data: Any) -> None:
    with pytest.raises(ValidationError) as info:
        from_data(Opportunity, data)
    assert info.value.path == "$"


def test_non_string_keys_are_refused_by_name() -> None:
    data = opportunity_data()
    data[7] = "seven"
    problem_at("$.7", Opportunity, data)


@pytest.mark.parametrize(
    "text", ["", "{", "{'name': 1}", '{"a": 1,}', "nul", b"\xff\xfe", '{"a": NaN'], ids=repr
)
def test_malformed_json_is_a_validation_error(text: str | bytes) -> None:
    with pytest.raises(ValidationError) as info:
        from_json(Opportunity, text)
    assert info.value.path == "$"
    assert "JSON" in info.value.expected


def test_well_formed_json_with_bad_data_names_the_field() -> None:
    text = json.dumps(opportunity_data(stage=""))
    with pytest.raises(ValidationError) as info:
        from_json(Opportunity, text)
    assert info.value.path == "$.stage"


def test_status_enums_of_other_entities_round_trip() -> None:
    order = from_data(Order, {**order_data(), "status": "placed"})
    assert order.status is OrderStatus.PLACED
    assert to_data(order)["status"] == "placed"
