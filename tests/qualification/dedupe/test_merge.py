"""Merge planning: one survivor, every field accounted for, every reference moved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sfakit.codec import from_data, from_json, to_data, to_json
from sfakit.errors import ValidationError
from sfakit.model import Account, Activity, ActivityKind, Contact, Lead, LeadStatus, Opportunity
from sfakit.qualification.dedupe import (
    BUILT_IN_FIELD_POLICIES,
    REFERENCES,
    FieldPolicy,
    FieldRule,
    MergeAudit,
    MergePlan,
    MergePolicy,
    RecordKind,
    RecordSnapshot,
    SurvivorRule,
    plan_merge,
)
from sfakit.testing import strategies as sfa

from .support import LATER, T0, make

props = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
FIXED = {"id", "created_at", "updated_at", "version", "merged_into_id"}

ACCOUNTS = ("acct_0", "acct_1", "acct_2", "acct_other")
CONTACTS = ("cont_0", "cont_1", "cont_2", "cont_other")
LEADS = ("lead_0", "lead_1", "lead_2", "lead_other")
NOT_CONVERTED = [s for s in LeadStatus if s is not LeadStatus.CONVERTED]


def _opt(values: tuple[str, ...]) -> st.SearchStrategy[str | None]:
    return st.none() | st.sampled_from(values)


@st.composite
def merge_inputs(draw: st.DrawFn) -> tuple[list[Any], list[Any]]:
    kind = draw(st.sampled_from(["contact", "account", "lead"]))
    count = draw(st.integers(2, 4))

    def one(i: int) -> st.SearchStrategy[Any]:
        if kind == "contact":
            return sfa.contacts(id=f"cont_{i}", account_id=_opt(ACCOUNTS))
        if kind == "account":
            return sfa.accounts(id=f"acct_{i}", parent_id=_opt(ACCOUNTS)).filter(
                lambda a: a.parent_id != a.id
            )
        return sfa.leads(id=f"lead_{i}", status=st.sampled_from(NOT_CONVERTED))

    records = [draw(one(i)) for i in range(count)]
    anything = st.sampled_from(ACCOUNTS + CONTACTS + LEADS)
    related = draw(
        st.lists(
            st.one_of(
                sfa.activities(
                    account_id=_opt(ACCOUNTS),
                    contact_id=_opt(CONTACTS),
                    related_to=st.none() | anything,
                ),
                sfa.interactions(
                    account_id=st.sampled_from(ACCOUNTS),
                    contact_id=_opt(CONTACTS),
                    related_to=st.none() | anything,
                ),
                sfa.opportunities(
                    account_id=st.sampled_from(ACCOUNTS), primary_contact_id=_opt(CONTACTS)
                ),
                sfa.orders(account_id=st.sampled_from(ACCOUNTS), contact_id=_opt(CONTACTS)),
                sfa.contacts(account_id=_opt(ACCOUNTS)),
                sfa.accounts(parent_id=_opt(ACCOUNTS)),
                sfa.leads(
                    status=LeadStatus.CONVERTED,
                    converted_account_id=st.sampled_from(ACCOUNTS),
                    converted_contact_id=_opt(CONTACTS),
                ),
            ),
            max_size=8,
            unique_by=lambda r: r.id,
        ).filter(lambda rs: not {r.id for r in rs} & {r.id for r in records})
    )
    return records, related


def _empty(value: object) -> bool:
    return value is None or value in ("", ())


def _newest(records: list[Any], survivor: Any) -> list[Any]:
    return sorted(records, key=lambda r: (-r.updated_at.timestamp(), r is not survivor, r.id))


def expected_value(name: str, policy: FieldPolicy, survivor: Any, records: list[Any]) -> Any:
    """The policies as documented, written out independently of the implementation."""
    own = getattr(survivor, name)
    filled = [r for r in _newest(records, survivor) if not _empty(getattr(r, name))]
    if policy is FieldPolicy.SURVIVOR:
        return own
    if policy is FieldPolicy.KEEP_NON_EMPTY:
        return own if not _empty(own) else (getattr(filled[0], name) if filled else own)
    if policy is FieldPolicy.NEWEST:
        return getattr(filled[0], name) if filled else own
    if policy is FieldPolicy.OLDEST:
        by_age = sorted(filled, key=lambda r: (r.created_at, r is not survivor, r.id))
        return getattr(by_age[0], name) if by_age else own
    if policy is FieldPolicy.UNION:
        items: list[Any] = []
        for r in [survivor, *(r for r in _newest(records, survivor) if r is not survivor)]:
            items += [v for v in getattr(r, name) if v not in items]
        return tuple(items)
    if policy is FieldPolicy.ANY_TRUE:
        return any(getattr(r, name) for r in records)
    values = [getattr(r, name) for r in filled]
    return max(values) if values else own


@props
@given(
    merge_inputs(),
    st.sampled_from(list(SurvivorRule)),
    st.sampled_from(
        [FieldPolicy.SURVIVOR, FieldPolicy.KEEP_NON_EMPTY, FieldPolicy.NEWEST, FieldPolicy.OLDEST]
    ),
)
def test_every_field_follows_its_policy(inputs, rule, default) -> None:  # type: ignore[no-untyped-def]
    records, _ = inputs
    policy = MergePolicy(survivor=rule, default=default)
    plan = plan_merge(records, at=LATER, by="rep_anna", policy=policy)
    survivor = next(r for r in records if r.id == plan.survivor_id)
    merged_ids = {r.id for r in records}
    for a in attrs.fields(type(survivor)):
        if a.name in FIXED:
            assert getattr(plan.merged, a.name) == (
                LATER if a.name == "updated_at" else getattr(survivor, a.name)
            )
            continue
        want = expected_value(a.name, policy.policy_for(a.name), survivor, records)
        if a.name == "parent_id" and want in merged_ids:
            want = None  # a merged account cannot be its own parent
        assert getattr(plan.merged, a.name) == want, a.name
        provenance = plan.provenance_of(a.name)
        assert provenance.changed == (want != getattr(survivor, a.name))
        assert set(provenance.sources) <= merged_ids


@props
@given(merge_inputs())
def test_merge_preserves_every_related_record(inputs) -> None:  # type: ignore[no-untyped-def]
    records, related = inputs
    plan = plan_merge(records, at=LATER, by="rep_anna", related=related)
    away = set(plan.merged_ids)
    moved = {r.id: r for r in plan.related}
    assert len(moved) == len(plan.related)  # each related record at most once
    for before in related:
        fields = REFERENCES[type(before)]
        pointing = {f for f in fields if getattr(before, f) in away}
        repoints = [p for p in plan.repoints if p.record_id == before.id]
        assert {p.field for p in repoints} == pointing
        assert len(repoints) == len(pointing)
        assert all(
            p.old_id == getattr(before, p.field) and p.new_id == plan.survivor_id for p in repoints
        )
        if not pointing:
            assert before.id not in moved  # untouched records are left out of the plan
            continue
        after = moved[before.id]
        for a in attrs.fields(type(before)):
            if a.name in pointing:
                assert getattr(after, a.name) == plan.survivor_id
            elif a.name != "updated_at":
                assert getattr(after, a.name) == getattr(before, a.name)
        assert not {getattr(after, f) for f in fields} & away
    assert {r.id for r in plan.related} <= {r.id for r in related}


@props
@given(merge_inputs())
def test_tombstones_and_audit_keep_everything(inputs) -> None:  # type: ignore[no-untyped-def]
    records, related = inputs
    plan = plan_merge(records, at=LATER, by="rep_anna", related=related)
    assert sorted(t.merged_id for t in plan.tombstones) == sorted(plan.merged_ids)
    assert {r.id for r in records} == {plan.survivor_id, *plan.merged_ids}
    assert all(t.survivor_id == plan.survivor_id and t.at == LATER for t in plan.tombstones)
    audit = plan.audit
    assert from_data(MergeAudit, to_data(audit)) == audit
    assert from_json(MergeAudit, to_json(audit)) == audit
    assert audit.before[0].id == plan.survivor_id
    assert {s.id: s.load() for s in audit.before} == {r.id: r for r in records}
    originals = {r.id: r for r in related}
    assert {s.id: s.load() for s in audit.related_before} == {
        r.id: originals[r.id] for r in plan.related
    }
    assert audit.after.load() == plan.merged
    assert audit.repoints == plan.repoints


@given(
    st.builds(
        MergePolicy,
        survivor=st.sampled_from(list(SurvivorRule)),
        default=st.sampled_from(list(FieldPolicy)),
        fields=st.lists(
            st.builds(
                FieldRule,
                st.sampled_from(["title", "emails", "owner_id", "tags", "do_not_contact"]),
                st.sampled_from(list(FieldPolicy)),
            ),
            unique_by=lambda r: r.field,
            max_size=3,
        ),
    )
)
def test_merge_policies_round_trip(policy: MergePolicy) -> None:
    assert from_data(MergePolicy, to_data(policy)) == policy


# -- examples ----------------------------------------------------------------------------


def merged(plan: MergePlan) -> Any:
    """The merged record, whatever its kind (the tests know which)."""
    return plan.merged


def _contact(n: str, days: int, **fields: Any) -> Contact:
    created = T0 + timedelta(days=days)
    return make(Contact, id=f"cont_{n}", created_at=created, **{"last_name": "Schmidt", **fields})


def test_survivor_is_the_oldest_by_default_or_the_most_complete() -> None:
    old = _contact("old", 0)
    full = _contact("full", 5, first_name="Anna", title="Buyer", emails=("a@x.de",))
    assert plan_merge([full, old], at=LATER, by="me").survivor_id == "cont_old"
    complete = MergePolicy(survivor=SurvivorRule.MOST_COMPLETE)
    plan = plan_merge([old, full], at=LATER, by="me", policy=complete)
    assert plan.survivor_id == "cont_full"
    assert plan.survivor_reason == "most complete: 5 of 12 fields filled"
    assert plan_merge([old, full], at=LATER, by="me", survivor_id="cont_full").survivor_id == (
        "cont_full"
    )


def test_consent_is_never_lost() -> None:
    opted_out = _contact("b", 3, do_not_contact=True)
    plan = plan_merge([_contact("a", 0), opted_out], at=LATER, by="me")
    assert merged(plan).do_not_contact is True
    assert plan.provenance_of("do_not_contact").sources == ("cont_b",)
    assert BUILT_IN_FIELD_POLICIES["do_not_contact"] is FieldPolicy.ANY_TRUE


def test_field_rules_override_the_built_in_policies() -> None:
    a = _contact("a", 0, emails=("a@x.de",))
    b = _contact("b", 1, emails=("b@x.de",))
    policy = MergePolicy(fields=[FieldRule("emails", FieldPolicy.SURVIVOR)])
    assert merged(plan_merge([a, b], at=LATER, by="me", policy=policy)).emails == ("a@x.de",)
    assert merged(plan_merge([a, b], at=LATER, by="me")).emails == ("a@x.de", "b@x.de")


def test_accounts_merge_with_their_contacts_opportunities_and_children() -> None:
    main = make(Account, id="acct_main", name="Acme GmbH", created_at=T0)
    dup = make(
        Account,
        id="acct_dup",
        name="ACME",
        parent_id="acct_main",
        billing_city="Köln",
        last_order_at=T0 + timedelta(days=9),
        created_at=T0 + timedelta(days=1),
    )
    anna = make(Contact, id="cont_anna", account_id="acct_dup", last_name="Schmidt", created_at=T0)
    child = make(Account, id="acct_child", name="Acme Köln", parent_id="acct_dup", created_at=T0)
    deal = make(
        Opportunity,
        id="opp_1",
        name="Retrofit",
        account_id="acct_dup",
        pipeline="std",
        stage="qualify",
        created_at=T0,
    )
    call = make(
        Activity,
        id="actv_1",
        kind=ActivityKind.CALL,
        subject="Call",
        owner_id="rep_a",
        related_to="acct_dup",
        account_id="acct_main",
        created_at=T0,
    )
    at = datetime(2026, 4, 1, tzinfo=UTC)
    plan = plan_merge([main, dup], at=at, by="rep_anna", related=[anna, child, deal, call])
    assert plan.survivor_id == "acct_main"
    assert merged(plan).billing_city == "Köln"
    assert merged(plan).parent_id is None
    assert merged(plan).last_order_at == T0 + timedelta(days=9)
    assert [(r.entity, r.record_id, r.field) for r in plan.repoints] == [
        ("Contact", "cont_anna", "account_id"),
        ("Account", "acct_child", "parent_id"),
        ("Opportunity", "opp_1", "account_id"),
        ("Activity", "actv_1", "related_to"),
    ]
    assert all(r.updated_at == at for r in plan.related)
    assert plan.tombstones[0].merged_id == "acct_dup"
    assert isinstance(plan, MergePlan)
    assert plan.kind is RecordKind.ACCOUNT


def test_records_of_different_kinds_are_not_merged() -> None:
    lead = make(Lead, id="lead_1", last_name="Schmidt", created_at=T0)
    with pytest.raises(ValidationError) as caught:
        plan_merge([_contact("a", 0), lead], at=LATER, by="me")
    assert caught.value.path == "$.records[1]"
    assert "through conversion (plan_conversion)" in str(caught.value)


@pytest.mark.parametrize(
    ("call", "path"),
    [
        (lambda a, b: plan_merge([a], at=LATER, by="me"), "$.records"),
        (lambda a, b: plan_merge([a, a], at=LATER, by="me"), "$.records[1].id"),
        (lambda a, b: plan_merge([a, b], at=datetime(2030, 1, 1), by="me"), "$.at"),
        (lambda a, b: plan_merge([a, b], at=T0, by="me"), "$.at"),
        (lambda a, b: plan_merge([a, b], at=LATER, by=" "), "$.by"),
        (lambda a, b: plan_merge([a, b], at=LATER, by="me", survivor_id="cont_x"), "$.survivor_id"),
        (lambda a, b: plan_merge([a, b], at=LATER, by="me", related=[b]), "$.related[0]"),
        (
            lambda a, b: plan_merge([a, b], at=LATER, by="me", policy="oldest"),  # type: ignore[arg-type]
            "$.policy",
        ),
        (
            lambda a, b: plan_merge(
                [a, b],
                at=LATER,
                by="me",
                policy=MergePolicy(fields=[FieldRule("last_name", FieldPolicy.UNION)]),
            ),
            "$.policy.fields[0].policy",
        ),
    ],
)
def test_bad_merges_are_refused(call, path: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as caught:
        call(_contact("a", 0), _contact("b", 1))
    assert caught.value.path == path


def test_converted_leads_are_not_merged() -> None:
    converted = make(
        Lead,
        id="lead_2",
        last_name="X",
        status=LeadStatus.CONVERTED,
        converted_at=T0,
        converted_account_id="acct_1",
        created_at=T0,
    )
    with pytest.raises(ValidationError) as caught:
        plan_merge(
            [make(Lead, id="lead_1", last_name="X", created_at=T0), converted], at=LATER, by="me"
        )
    assert caught.value.path == "$.records[1].status"


def test_policy_field_names_are_checked() -> None:
    with pytest.raises(ValidationError) as caught:
        FieldRule("emial", FieldPolicy.UNION)
    assert caught.value.path == "$.field"
    with pytest.raises(ValidationError) as caught:
        MergePolicy(
            fields=[FieldRule("title", FieldPolicy.NEWEST), FieldRule("title", FieldPolicy.OLDEST)]
        )
    assert caught.value.path == "$.fields[1].field"


def test_snapshots_name_their_entity() -> None:
    with pytest.raises(ValidationError):
        RecordSnapshot(entity="Invoice", id="acct_1", data="{}").load()
