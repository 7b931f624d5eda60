"""Entities and value objects: the strategies make valid ones, and every rule is enforced."""

from __future__ import annotations

import typing
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from sfakit.errors import ValidationError
from sfakit.model import (
    ENTITY_TYPES,
    Account,
    Activity,
    ActivityStatus,
    Contact,
    Entity,
    Interaction,
    Lead,
    LeadStatus,
    Money,
    Opportunity,
    Order,
    OrderLine,
    Product,
    Quota,
    RecurrenceSpec,
    SalesRep,
    Setting,
    StageChange,
    StandingOrder,
    Territory,
    evolve,
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
by_name = {"ids": lambda c: c.__name__}


def test_there_is_a_strategy_for_every_entity_type() -> None:
    assert set(ENTITY_TYPES.values()) <= set(STRATEGIES)


# --- the strategies make valid objects ---------------------------------------------------


def _aware(value: datetime) -> bool:
    return value.utcoffset() is not None


def check_rules(obj: Any) -> None:
    """Every cross-field rule of the model, restated independently of the model's code."""
    if isinstance(obj, Entity):
        assert _aware(obj.created_at)
        assert _aware(obj.updated_at)
        assert obj.updated_at >= obj.created_at
        assert obj.version >= 0
        assert obj.id.startswith(ID_PREFIXES[type(obj).__name__] + "_")
    match obj:
        case Opportunity():
            if obj.close_date is not None:
                assert obj.close_date >= obj.created_at.date()
            if obj.closed_at is not None:
                assert obj.closed_at >= obj.created_at
        case Lead():
            assert obj.last_name or obj.company or obj.email or obj.phone
            if obj.status is LeadStatus.DISQUALIFIED:
                assert obj.disqualification_reason
            if obj.status is LeadStatus.CONVERTED:
                assert obj.converted_at is not None
                assert obj.converted_account_id is not None
        case Activity():
            assert (obj.status is ActivityStatus.DONE) == (obj.completed_at is not None)
            if obj.reminder_at is not None and obj.due_at is not None:
                assert obj.reminder_at <= obj.due_at
        case Interaction():
            assert obj.contact_id is not None or obj.account_id is not None
        case Order():
            assert all(line.unit_price.currency == obj.currency for line in obj.lines)
        case StandingOrder():
            assert obj.lines
            assert all(line.unit_price.currency == obj.currency for line in obj.lines)
        case Quota():
            assert (obj.sales_rep_id is None) != (obj.territory_id is None)
        case Territory():
            assert len(set(obj.member_ids)) == len(obj.member_ids)
            assert obj.parent_id != obj.id
        case StageChange():
            assert obj.from_stage != obj.to_stage
        case Account():
            assert obj.parent_id != obj.id
        case SalesRep():
            assert obj.manager_id != obj.id
        case OrderLine():
            assert obj.quantity > 0
        case RecurrenceSpec():
            assert _aware(obj.start)
        case Money():
            assert obj.amount.as_tuple().exponent == -obj.minor_units


@pytest.mark.parametrize("cls", CLASSES, **by_name)
@given(data=st.data())
def test_strategies_make_valid_objects_of_their_class(cls: type, data: st.DataObject) -> None:
    obj = data.draw(STRATEGIES[cls]())
    assert type(obj) is cls
    attrs.validate(obj)  # every field validator passes ...
    assert evolve(obj) == obj  # ... and so does a full rebuild, cross-field rules included
    check_rules(obj)


@given(sfa.entities())
def test_entities_strategy_makes_valid_entities(entity: Entity) -> None:
    assert isinstance(entity, Entity)
    assert type(entity) in ENTITY_TYPES.values()
    check_rules(entity)


def test_entities_strategy_covers_every_entity_type() -> None:
    seen: set[type] = set()

    @settings(max_examples=600)
    @given(sfa.entities())
    def collect(entity: Entity) -> None:
        seen.add(type(entity))

    collect()
    assert seen == set(ENTITY_TYPES.values())


@given(sfa.value_objects())
def test_value_objects_strategy_makes_valid_value_objects(value: Any) -> None:
    assert type(value) in (Money, OrderLine, RecurrenceSpec)
    check_rules(value)


@given(sfa.opportunities(pipeline=st.just("standard"), account_id="acct_acme"))
def test_overrides_fix_fields_of_generated_objects(deal: Opportunity) -> None:
    assert deal.pipeline == "standard"
    assert deal.account_id == "acct_acme"
    check_rules(deal)


@given(sfa.leads(status=LeadStatus.CONVERTED, last_name=None, company=None, email=None))
def test_overrides_keep_cross_field_rules(lead: Lead) -> None:
    assert lead.status is LeadStatus.CONVERTED
    assert lead.phone  # the only field left to identify the lead
    check_rules(lead)


CREATED = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@given(sfa.opportunities(created_at=CREATED))
def test_fields_derived_from_an_overridden_field_follow_it(deal: Opportunity) -> None:
    assert deal.created_at == CREATED
    assert deal.close_date is None or deal.close_date >= CREATED.date()


@given(sfa.accounts(billing_country=st.sampled_from(["DE", "AT"]), tags=("vip",)))
def test_account_overrides(account: Account) -> None:
    assert account.billing_country in {"DE", "AT"}
    assert account.tags == ("vip",)


@pytest.mark.parametrize(
    "make",
    [
        lambda: sfa.opportunities(colour="red"),
        lambda: sfa.accounts(nme="x"),
        lambda: sfa.ids("Nothing"),
        lambda: sfa.money("XXX"),
        lambda: sfa.money(min_amount=1.5),
        lambda: sfa.money(min_amount=5, max_amount=1),
        lambda: sfa.aware_datetimes(datetime(2030, 1, 1), datetime(2020, 1, 1)),
    ],
)
def test_strategies_refuse_bad_arguments_at_once(make: Callable[[], Any]) -> None:
    with pytest.raises(InvalidArgument):
        make()


@given(sfa.money("JPY", min_amount="-10.5", max_amount=10))
def test_money_strategy_respects_currency_and_bounds(m: Money) -> None:
    assert m.currency == "JPY"
    assert Decimal("-10.5") <= m.amount <= 10


@given(sfa.aware_datetimes(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)))
def test_aware_datetimes_stay_between_the_instants(moment: datetime) -> None:
    assert moment.utcoffset() is not None
    assert datetime(2026, 1, 1, tzinfo=UTC) <= moment <= datetime(2026, 1, 2, tzinfo=UTC)


@given(sfa.order_lines(currency="KWD"))
def test_order_lines_are_in_the_asked_currency(line: OrderLine) -> None:
    assert line.unit_price.currency == "KWD"
    assert line.total.currency == "KWD"


# --- immutability and evolve ---------------------------------------------------------


@given(sfa.model_objects(), st.data())
def test_objects_are_frozen(obj: Any, data: st.DataObject) -> None:
    field = data.draw(st.sampled_from([a.name for a in attrs.fields(type(obj))]))
    before = getattr(obj, field)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        setattr(obj, field, None)
    assert getattr(obj, field) == before


@given(sfa.entities())
def test_evolve_returns_a_new_object_and_leaves_the_original_unchanged(entity: Entity) -> None:
    snapshot = attrs.asdict(entity, recurse=False)
    changed = entity.evolve(version=entity.version + 1)
    assert changed is not entity
    assert changed.version == entity.version + 1
    assert attrs.asdict(entity, recurse=False) == snapshot
    assert evolve(entity, version=entity.version + 1) == changed


@given(sfa.entities())
def test_evolve_validates_the_copy_and_leaves_the_original_unchanged(entity: Entity) -> None:
    snapshot = attrs.asdict(entity, recurse=False)
    with pytest.raises(ValidationError) as info:
        entity.evolve(version=-1)
    assert info.value.path == "$.version"
    with pytest.raises(ValidationError):
        entity.evolve(updated_at=entity.created_at - timedelta(microseconds=1))
    assert attrs.asdict(entity, recurse=False) == snapshot


# --- each cross-field rule, with its path ---------------------------------------------


def raises_at(path: str, make: Callable[[], Any]) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        make()
    assert path in info.value.paths, info.value
    return info.value


@given(sfa.entities())
def test_updated_at_before_created_at_is_refused(entity: Entity) -> None:
    raises_at(
        "$.updated_at", lambda: entity.evolve(updated_at=entity.created_at - timedelta(seconds=1))
    )


@given(sfa.opportunities(), st.integers(1, 400))
def test_close_date_before_the_creation_date_is_refused(deal: Opportunity, days: int) -> None:
    early = deal.created_at.date() - timedelta(days=days)
    raises_at("$.close_date", lambda: deal.evolve(close_date=early))


@given(sfa.opportunities())
def test_close_date_on_the_creation_date_is_accepted(deal: Opportunity) -> None:
    assert deal.evolve(close_date=deal.created_at.date()).close_date == deal.created_at.date()


@given(sfa.opportunities())
def test_closed_at_before_created_at_is_refused(deal: Opportunity) -> None:
    raises_at("$.closed_at", lambda: deal.evolve(closed_at=deal.created_at - timedelta(seconds=1)))


@given(sfa.leads())
def test_a_lead_needs_something_to_identify_it(lead: Lead) -> None:
    raises_at(
        "$.last_name",
        lambda: lead.evolve(last_name=None, company=None, email=None, phone=None),
    )


@given(sfa.leads())
def test_a_disqualified_lead_needs_a_reason(lead: Lead) -> None:
    raises_at(
        "$.disqualification_reason",
        lambda: lead.evolve(status=LeadStatus.DISQUALIFIED, disqualification_reason=None),
    )


@given(sfa.leads(status=LeadStatus.CONVERTED))
def test_a_converted_lead_needs_converted_at(lead: Lead) -> None:
    err = raises_at("$.converted_at", lambda: lead.evolve(converted_at=None))
    assert err.paths == ("$.converted_at",)


@given(sfa.leads(status=LeadStatus.CONVERTED))
def test_a_converted_lead_needs_its_account(lead: Lead) -> None:
    err = raises_at("$.converted_account_id", lambda: lead.evolve(converted_account_id=None))
    assert err.paths == ("$.converted_account_id",)


@given(sfa.activities(status=ActivityStatus.DONE))
def test_a_done_activity_needs_completed_at(activity: Activity) -> None:
    raises_at("$.completed_at", lambda: activity.evolve(completed_at=None))


@given(sfa.activities(status=st.sampled_from([ActivityStatus.OPEN, ActivityStatus.CANCELLED])))
def test_only_a_done_activity_has_completed_at(activity: Activity) -> None:
    raises_at("$.completed_at", lambda: activity.evolve(completed_at=activity.created_at))


@given(sfa.activities(), st.integers(1, 10**6))
def test_a_reminder_after_the_due_time_is_refused(activity: Activity, seconds: int) -> None:
    due = activity.created_at + timedelta(days=1)
    late = due + timedelta(seconds=seconds)
    raises_at("$.reminder_at", lambda: activity.evolve(due_at=due, reminder_at=late))


@given(sfa.interactions())
def test_an_interaction_needs_a_contact_or_an_account(interaction: Interaction) -> None:
    raises_at("$.contact_id", lambda: interaction.evolve(contact_id=None, account_id=None))


def _other_currency(currency: str) -> str:
    return "USD" if currency != "USD" else "EUR"


@given(sfa.orders(), sfa.order_lines())
def test_order_lines_in_another_currency_are_refused(order: Order, line: OrderLine) -> None:
    foreign = evolve(
        line, unit_price=Money(line.unit_price.amount, _other_currency(order.currency))
    )
    index = len(order.lines)
    raises_at(
        f"$.lines[{index}].unit_price.currency",
        lambda: order.evolve(lines=(*order.lines, foreign)),
    )


@given(sfa.standing_orders(), sfa.order_lines())
def test_standing_order_lines_in_another_currency_are_refused(
    standing: StandingOrder, line: OrderLine
) -> None:
    foreign = evolve(
        line, unit_price=Money(line.unit_price.amount, _other_currency(standing.currency))
    )
    raises_at(
        "$.lines[0].unit_price.currency",
        lambda: standing.evolve(lines=(foreign, *standing.lines)),
    )


@given(sfa.standing_orders())
def test_a_standing_order_needs_a_line(standing: StandingOrder) -> None:
    raises_at("$.lines", lambda: standing.evolve(lines=()))


@given(sfa.quotas(), sfa.ids("SalesRep"), sfa.ids("Territory"))
def test_a_quota_for_both_a_rep_and_a_territory_is_refused(
    quota: Quota, rep: str, terr: str
) -> None:
    raises_at("$.sales_rep_id", lambda: quota.evolve(sales_rep_id=rep, territory_id=terr))


@given(sfa.quotas())
def test_a_quota_for_nobody_is_refused(quota: Quota) -> None:
    raises_at("$.sales_rep_id", lambda: quota.evolve(sales_rep_id=None, territory_id=None))


@given(sfa.territories(), sfa.ids("SalesRep"))
def test_a_rep_twice_in_a_territory_is_refused(territory: Territory, rep: str) -> None:
    raises_at(
        "$.member_ids", lambda: territory.evolve(member_ids=(*territory.member_ids, rep, rep))
    )


@given(sfa.territories())
def test_a_territory_cannot_be_its_own_parent(territory: Territory) -> None:
    raises_at("$.parent_id", lambda: territory.evolve(parent_id=territory.id))


@given(sfa.accounts())
def test_an_account_cannot_be_its_own_parent(account: Account) -> None:
    raises_at("$.parent_id", lambda: account.evolve(parent_id=account.id))


@given(sfa.sales_reps())
def test_a_rep_cannot_be_their_own_manager(rep: SalesRep) -> None:
    raises_at("$.manager_id", lambda: rep.evolve(manager_id=rep.id))


@given(sfa.stage_changes())
def test_a_stage_change_must_change_the_stage(change: StageChange) -> None:
    raises_at("$.to_stage", lambda: change.evolve(from_stage=change.to_stage))


@given(sfa.order_lines(), st.sampled_from([0, -1, "0", Decimal("-0.001"), 1.5, "abc", None]))
def test_an_order_line_needs_a_positive_quantity(line: OrderLine, quantity: Any) -> None:
    raises_at("$.quantity", lambda: evolve(line, quantity=quantity))


@given(
    sfa.recurrence_specs(),
    st.sampled_from(
        ["", "FREQ=SOMETIMES", "every month", "FREQ=DAILY;BYHOUR=99999999999999999999"]
    ),
)
def test_a_recurrence_needs_a_valid_rrule(spec: RecurrenceSpec, rule: str) -> None:
    raises_at("$.rule", lambda: evolve(spec, rule=rule))


@given(sfa.recurrence_specs(), st.sampled_from(["Mars/Olympus", "", "utc+1", "../etc/passwd"]))
def test_a_recurrence_needs_an_iana_zone(spec: RecurrenceSpec, zone: str) -> None:
    raises_at("$.timezone", lambda: evolve(spec, timezone=zone))


# --- naive datetimes are refused everywhere ----------------------------------------------


def _datetime_fields() -> list[tuple[type, str]]:
    found = []
    for cls in CLASSES:
        hints = typing.get_type_hints(cls)
        for field in attrs.fields(cls):
            hint = hints[field.name]
            if hint is datetime or datetime in typing.get_args(hint):
                found.append((cls, field.name))
    return found


DATETIME_FIELDS = _datetime_fields()


def test_the_datetime_fields_are_found() -> None:
    names = {f"{cls.__name__}.{name}" for cls, name in DATETIME_FIELDS}
    assert {
        "Account.created_at",
        "Account.updated_at",
        "Opportunity.closed_at",
        "Lead.converted_at",
        "Activity.reminder_at",
        "Interaction.occurred_at",
        "Order.delivered_at",
        "StageChange.at",
        "RecurrenceSpec.start",
    } <= names
    assert len(DATETIME_FIELDS) >= 13 * 2 + 10


@pytest.mark.parametrize(
    ("cls", "field"), DATETIME_FIELDS, ids=[f"{c.__name__}.{f}" for c, f in DATETIME_FIELDS]
)
@settings(max_examples=15)  # 40-odd fields: a few objects each are enough
@given(data=st.data())
def test_naive_datetimes_are_refused(cls: type, field: str, data: st.DataObject) -> None:
    obj = data.draw(STRATEGIES[cls]())
    current = getattr(obj, field)
    naive = (current or datetime(2030, 1, 1, tzinfo=UTC)).replace(tzinfo=None)
    err = raises_at(f"$.{field}", lambda: evolve(obj, **{field: naive}))
    assert "timezone-aware" in err.expected
    # A date (no time of day, no zone) is refused as well.
    raises_at(f"$.{field}", lambda: evolve(obj, **{field: date(2030, 1, 1)}))


def test_entities_work_with_their_defaults() -> None:
    account = Account(name="Acme Lighting", created_at=CREATED)
    assert account.updated_at == CREATED
    assert account.version == 0
    assert account.id.startswith("acct_")
