"""Conversion planning: reuse what exists, fill only what is empty, never twice."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sfakit.errors import TransitionError, ValidationError
from sfakit.model import Account, Contact, Lead, LeadStatus, Money, Opportunity
from sfakit.qualification.dedupe import (
    CONVERSION_RULES,
    AlreadyConvertedError,
    ConversionPlan,
    NewIds,
    OpportunityDraft,
    RecordKind,
    build_index,
    plan_conversion,
)

from .support import T0, make

AT = T0 + timedelta(days=30)
props = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

COMPANIES = ("Acme Lighting GmbH", "ACME Lighting", "Acme Lightning", "Lumière SARL")
COUNTRIES = (None, "DE")
FIRST = (None, "Anna", "Ana", "Jean")
LAST = ("Schmidt", "Schmitt", "Dubois")
EMAILS = ("anna@acme.de", "jean@lumiere.fr", "info@brightside.com")
PHONES = ("+4989111", "+33122")


def opt(values: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    return st.none() | st.sampled_from(values)


@st.composite
def existing(draw: st.DrawFn) -> list[Account | Contact]:
    accounts = [
        make(
            Account,
            id=f"acct_{i}",
            name=draw(st.sampled_from(COMPANIES)),
            billing_country=draw(st.sampled_from(COUNTRIES)),
            billing_city=draw(opt(("München", "Paris"))),
            industry=draw(opt(("hospitality",))),
            created_at=T0,
        )
        for i in range(draw(st.integers(0, 4)))
    ]
    contacts = [
        make(
            Contact,
            id=f"cont_{i}",
            account_id=draw(opt(tuple(a.id for a in accounts))) if accounts else None,
            first_name=draw(st.sampled_from(FIRST)),
            last_name=draw(st.sampled_from(LAST)),
            emails=draw(st.lists(st.sampled_from(EMAILS), max_size=1)),
            phones=draw(st.lists(st.sampled_from(PHONES), max_size=1)),
            title=draw(opt(("Buyer",))),
            created_at=T0,
        )
        for i in range(draw(st.integers(0, 4)))
    ]
    return [*accounts, *contacts]


leads = st.builds(
    Lead,
    id=st.just("lead_new"),
    first_name=st.sampled_from(FIRST),
    last_name=st.sampled_from(LAST),
    company=st.sampled_from(COMPANIES),
    email=opt(EMAILS),
    phone=opt(PHONES),
    country=st.sampled_from(COUNTRIES),
    city=opt(("München", "Lyon")),
    industry=opt(("retail",)),
    title=opt(("Head of Facilities",)),
    company_size=opt((12, 250)),
    created_at=st.just(T0),
)


def apply(records: list[Account | Contact], plan: ConversionPlan) -> list[Any]:
    updated = {u.id: u.record for u in plan.updates}
    kept = [updated.get(r.id, r) for r in records]
    return [*kept, *(r for r in plan.created if not isinstance(r, Opportunity))]


def _empty(value: object) -> bool:
    return value is None or value in ("", ())


@props
@given(existing(), leads, st.booleans())
def test_conversion_is_idempotent(records: list[Any], lead: Lead, with_deal: bool) -> None:
    draft = (
        OpportunityDraft(name="Retrofit", pipeline="standard", stage="qualify")
        if with_deal
        else None
    )
    first = plan_conversion(lead, build_index(records, CONVERSION_RULES), at=AT, opportunity=draft)
    opportunities = [r for r in first.created if isinstance(r, Opportunity)]
    again = plan_conversion(
        lead,
        build_index(apply(records, first), CONVERSION_RULES),
        at=AT + timedelta(hours=1),
        opportunity=draft,
        opportunities=opportunities,
    )
    assert again.created == ()
    assert again.updates == ()
    assert (again.account_id, again.contact_id, again.opportunity_id) == (
        first.account_id,
        first.contact_id,
        first.opportunity_id,
    )


@props
@given(existing(), leads)
def test_conversion_never_overwrites_a_value(records: list[Any], lead: Lead) -> None:
    plan = plan_conversion(lead, build_index(records, CONVERSION_RULES), at=AT)
    originals = {r.id: r for r in records}
    for update in plan.updates:
        before, after = originals[update.id], update.record
        changed = {c.field for c in update.changes}
        assert all(_empty(c.old) and not _empty(c.new) for c in update.changes)
        for a in attrs.fields(type(before)):
            if a.name in changed:
                assert getattr(after, a.name) != getattr(before, a.name)
            elif a.name != "updated_at":
                assert getattr(after, a.name) == getattr(before, a.name)
    reused = {r.id for r in plan.reused}
    assert {u.id for u in plan.updates} <= reused
    assert plan.account_id in reused or any(r.id == plan.account_id for r in plan.created)


@props
@given(existing(), leads)
def test_the_converted_lead_names_what_it_became(records: list[Any], lead: Lead) -> None:
    plan = plan_conversion(lead, build_index(records, CONVERSION_RULES), at=AT)
    converted = plan.converted_lead
    assert converted.status is LeadStatus.CONVERTED
    assert (converted.converted_account_id, converted.converted_contact_id) == (
        plan.account_id,
        plan.contact_id,
    )
    assert converted.converted_at == AT
    with pytest.raises(AlreadyConvertedError):
        plan_conversion(converted, build_index(records, CONVERSION_RULES), at=AT)


# -- examples ----------------------------------------------------------------------------


def _acme(**fields: Any) -> Account:
    return make(
        Account,
        **{
            "id": "acct_acme",
            "name": "ACME Lighting GmbH",
            "billing_country": "DE",
            "created_at": T0,
            **fields,
        },
    )


def _lead(**fields: Any) -> Lead:
    return make(
        Lead,
        **{
            "id": "lead_1",
            "first_name": "Anna",
            "last_name": "Schmidt",
            "company": "Acme Lighting",
            "country": "DE",
            "created_at": T0,
            **fields,
        },
    )


def test_a_new_customer_gets_an_account_a_contact_and_a_deal() -> None:
    lead = _lead(email="anna@acme.de", phone="+4989111", owner_id="rep_anna", source="web")
    draft = OpportunityDraft(
        name="Retrofit",
        pipeline="standard",
        stage="qualify",
        amount=Money.of("4800", "EUR"),
        close_date=date(2026, 6, 30),
    )
    plan = plan_conversion(
        lead,
        build_index([], CONVERSION_RULES),
        at=AT,
        opportunity=draft,
        new_ids=make(NewIds, account="acct_n", contact="cont_n", opportunity="opp_n"),
    )
    created: Any = plan.created
    account, contact, deal = created
    assert (account.id, account.name, account.billing_country, account.owner_id) == (
        "acct_n",
        "Acme Lighting",
        "DE",
        "rep_anna",
    )
    assert (contact.account_id, contact.emails, contact.phones) == (
        "acct_n",
        ("anna@acme.de",),
        ("+4989111",),
    )
    assert (deal.account_id, deal.primary_contact_id, deal.source) == ("acct_n", "cont_n", "web")
    assert plan.converted_lead.converted_opportunity_id == "opp_n"
    assert plan.updates == ()
    assert plan.reused == ()


def test_a_matching_contact_brings_its_account() -> None:
    other = _acme(id="acct_other", name="Acme Lighting AG")
    contact = make(
        Contact,
        id="cont_anna",
        account_id="acct_acme",
        last_name="Schmidt",
        emails=("anna@acme.de",),
        created_at=T0,
    )
    index = build_index([_acme(), other, contact], CONVERSION_RULES)
    plan = plan_conversion(_lead(email="Anna@acme.de", title="Buyer"), index, at=AT)
    assert (plan.account_id, plan.contact_id) == ("acct_acme", "cont_anna")
    assert [(r.kind, r.rule) for r in plan.reused] == [
        (RecordKind.CONTACT, "same_email"),
        (RecordKind.ACCOUNT, "via_contact"),
    ]
    (update,) = plan.updates
    assert [(c.field, c.new) for c in update.changes] == [
        ("first_name", "Anna"),
        ("title", "Buyer"),
    ]
    assert plan.created == ()


def test_the_caller_can_name_the_records_to_use() -> None:
    contact = make(Contact, id="cont_x", account_id="acct_other", last_name="Other", created_at=T0)
    other = _acme(id="acct_other", name="Other")
    index = build_index([_acme(), other, contact], CONVERSION_RULES)
    plan = plan_conversion(_lead(), index, at=AT, account_id="acct_other", contact_id="cont_x")
    assert (plan.account_id, plan.contact_id) == ("acct_other", "cont_x")
    assert [r.rule for r in plan.reused] == ["chosen", "chosen"]
    with pytest.raises(ValidationError) as caught:
        plan_conversion(_lead(), index, at=AT, account_id="acct_nope")
    assert caught.value.path == "$.account_id"
    with pytest.raises(ValidationError) as caught:
        plan_conversion(_lead(), index, at=AT, contact_id="acct_acme")
    assert caught.value.path == "$.contact_id"


def test_a_contact_at_another_account_keeps_it() -> None:
    contact = make(
        Contact,
        id="cont_anna",
        account_id="acct_old",
        last_name="Schmidt",
        emails=("anna@acme.de",),
        created_at=T0,
    )
    old = _acme(id="acct_old", name="Old Employer")
    index = build_index([_acme(), old, contact], CONVERSION_RULES)
    plan = plan_conversion(_lead(email="anna@acme.de"), index, at=AT, account_id="acct_acme")
    assert plan.account_id == "acct_acme"
    assert plan.notes == (
        "contact cont_anna belongs to account acct_old, not to acct_acme: its account is "
        "left as it is",
    )


def test_a_lead_without_a_last_name_gets_no_contact() -> None:
    plan = plan_conversion(_lead(last_name=None, first_name=None), build_index([]), at=AT)
    assert plan.contact_id is None
    assert [type(r).__name__ for r in plan.created] == ["Account"]
    assert plan.notes == ("the lead has no last name: no contact is created",)


def test_converting_twice_names_the_first_conversion() -> None:
    done = _lead(
        status=LeadStatus.CONVERTED,
        converted_account_id="acct_acme",
        converted_at=datetime(2026, 3, 5, 10, tzinfo=UTC),
    )
    with pytest.raises(AlreadyConvertedError) as caught:
        plan_conversion(done, build_index([]), at=AT)
    assert isinstance(caught.value, TransitionError)
    assert "'acct_acme'" in str(caught.value)
    assert "2026-03-05T10:00:00+00:00" in str(caught.value)
    assert (caught.value.account_id, caught.value.lead_id) == ("acct_acme", "lead_1")
    import pickle

    assert str(pickle.loads(pickle.dumps(caught.value))) == str(caught.value)


@pytest.mark.parametrize(
    ("call", "path"),
    [
        (
            lambda i: plan_conversion(
                _lead(company=None, last_name=None, email="a@b.de"), i, at=AT
            ),
            "$.lead.company",
        ),
        (lambda i: plan_conversion(_lead(), i, at=datetime(2026, 4, 1)), "$.at"),
        (lambda i: plan_conversion(_lead(), i, at=T0 - timedelta(days=1)), "$.at"),
        (lambda i: plan_conversion("lead_1", i, at=AT), "$.lead"),  # type: ignore[arg-type]
        (lambda i: plan_conversion(_lead(), [], at=AT), "$.index"),  # type: ignore[arg-type]
        (
            lambda i: plan_conversion(_lead(), i, at=AT, opportunity="deal"),  # type: ignore[arg-type]
            "$.opportunity",
        ),
        (
            lambda i: plan_conversion(_lead(), i, at=AT, new_ids={"account": "acct_1"}),  # type: ignore[arg-type]
            "$.new_ids",
        ),
    ],
)
def test_bad_conversions_are_refused(call, path: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as caught:
        call(build_index([_acme()], CONVERSION_RULES))
    assert caught.value.path == path
