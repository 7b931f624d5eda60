"""Duplicates, merges and lead conversion through the service, on every backend: the
stored rules, live records only, merges that lose nothing and can be read back, and
conversions that reuse what exists and happen once, even when two run at once."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sfakit
from sfakit import ConflictError, DuplicateError, ManualClock, Sfa, ValidationError
from sfakit.codec import from_data, to_data
from sfakit.errors import NotFoundError, TransitionError
from sfakit.events import (
    Event,
    LeadConverted,
    LeadQualified,
    RecordsMerged,
    StageChanged,
)
from sfakit.model import (
    Account,
    Activity,
    ActivityKind,
    Channel,
    Contact,
    Entity,
    Interaction,
    Lead,
    LeadStatus,
    Money,
    Opportunity,
    Order,
    OrderLine,
    ProductId,
    RecurrenceSpec,
    StageChange,
    StandingOrder,
)
from sfakit.qualification.dedupe import (
    DEFAULT_RULES,
    REFERENCES,
    AlreadyConvertedError,
    MatchRuleSet,
    MergeAudit,
    OpportunityDraft,
    find_duplicates,
)
from sfakit.service.deduplicating import MATCH_RULES, Converted, Merged
from sfakit.storage.common import every_page

from .conftest import START

LINE = OrderLine(product_id=ProductId("prod_bulb"), quantity=10, unit_price=Money.of("1.20", "EUR"))
SCHEDULE = RecurrenceSpec(rule="FREQ=MONTHLY", start=START, timezone="Europe/Berlin")
DRAFT = OpportunityDraft(
    name="LED retrofit",
    pipeline="standard",
    stage="qualify",
    amount=Money.of("4800", "EUR"),
    close_date=date(2026, 6, 30),
)


def _all(sfa: Sfa, kind: type[Any]) -> list[Any]:
    with sfa.transaction(readonly=True) as tx:
        return every_page(tx, kind)


def _events(sfa: Sfa, kind: type[Event] = Event) -> list[Any]:
    return [e for _, e in sfa.events(limit=100_000) if isinstance(e, kind)]


# -- rules and finding ------------------------------------------------------------------


def test_match_rules_default_until_stored_and_are_checked(sfa: Sfa) -> None:
    assert sfa.match_rules() == DEFAULT_RULES
    emails_only = MatchRuleSet(rules=[DEFAULT_RULES.rule("same_email")])
    assert sfa.set_match_rules(emails_only, expected_version=None) == 1
    assert sfa.match_rules() == emails_only
    assert sfa.setting(MatchRuleSet, MATCH_RULES) == (emails_only, 1)
    with pytest.raises(DuplicateError):
        sfa.set_match_rules(DEFAULT_RULES, expected_version=None)
    with pytest.raises(ConflictError):
        sfa.set_match_rules(DEFAULT_RULES, expected_version=7)
    with pytest.raises(ValidationError) as err:
        sfa.set_match_rules("same_email", expected_version=1)  # type: ignore[arg-type]
    assert err.value.path == "$.rules"
    assert sfa.match_rules() == emails_only


def _acme_and_anna(sfa: Sfa) -> tuple[Account, Contact]:
    acme = sfa.create(Account, name="ACME Lighting GmbH", billing_country="DE")
    anna = sfa.create(
        Contact,
        account_id=acme.id,
        first_name="Anna",
        last_name="Schmidt",
        emails=("anna.schmidt@acme.de",),
    )
    return acme, anna


def test_duplicates_are_found_among_live_records_only_with_the_stored_rules(sfa: Sfa) -> None:
    acme, anna = _acme_and_anna(sfa)
    badge = sfa.create(
        Lead,
        first_name="Anna",
        last_name="Schmitt",
        company="Acme Lighting",
        email="anna.schmidt@ACME.de",
    )
    typed = sfa.create(Lead, first_name="ANNA", last_name="SCHMIDT", company="Acme Lighting AG")
    # A converted lead is history and a tombstone is no record: neither is a duplicate.
    sfa.create(
        Lead,
        last_name="Schmidt",
        email="anna.schmidt@acme.de",
        status=LeadStatus.CONVERTED,
        converted_at=START,
        converted_account_id=acme.id,
    )
    sfa.create(
        Contact, last_name="Schmidt", emails=("anna.schmidt@acme.de",), merged_into_id=anna.id
    )

    result = sfa.find_duplicates()
    assert result == find_duplicates([acme, anna, badge, typed])
    assert {frozenset(p.ids): p.rule for p in result.pairs} == {
        frozenset((anna.id, badge.id)): "same_email",
        frozenset((anna.id, typed.id)): "same_name_and_company",
        frozenset((badge.id, typed.id)): "same_name_and_company",
    }
    assert result.clusters == (tuple(sorted((anna.id, badge.id, typed.id))),)
    leads_only = sfa.find_duplicates(kinds=["lead"])
    assert [p.ids for p in leads_only.pairs] == [tuple(sorted((badge.id, typed.id)))]

    sfa.set_match_rules(
        MatchRuleSet(rules=[DEFAULT_RULES.rule("same_email")]), expected_version=None
    )
    assert [p.rule for p in sfa.find_duplicates().pairs] == ["same_email"]


def test_a_contact_is_compared_with_its_accounts_company_even_without_accounts(
    sfa: Sfa,
) -> None:
    _, anna = _acme_and_anna(sfa)
    lead = sfa.create(Lead, first_name="Anna", last_name="Schmitt", company="Acme Lighting")
    (pair,) = sfa.find_duplicates(kinds=("lead", "contact")).pairs
    assert (set(pair.ids), pair.rule) == ({anna.id, lead.id}, "same_name_and_company")


def test_duplicates_of_one_record_at_capture_time(sfa: Sfa) -> None:
    acme, anna = _acme_and_anna(sfa)
    captured = sfa.create(Lead, last_name="Schmidt", email="Anna.Schmidt@acme.de")
    (match,) = sfa.duplicates_of(captured.id)
    assert (match.rule, match.other(captured.id).id) == ("same_email", anna.id)
    assert sfa.duplicates_of(captured.id, kinds=["account"]) == ()
    # A contact is checked with its account's company.
    twin = sfa.create(Lead, first_name="Anna", last_name="Schmitt", company="ACME Lighting")
    assert {p.other(anna.id).id for p in sfa.duplicates_of(anna.id)} == {captured.id, twin.id}
    assert sfa.duplicates_of(acme.id) == ()


@pytest.mark.parametrize(
    ("kinds", "path"),
    [("lead", "$.kinds"), (["lead", "opportunity"], "$.kinds[1]"), ([], "$.kinds")],
)
def test_bad_kinds_are_refused(sfa: Sfa, kinds: Any, path: str) -> None:
    with pytest.raises(ValidationError) as err:
        sfa.find_duplicates(kinds=kinds)
    assert err.value.path == path


def test_duplicates_of_needs_a_lead_contact_or_account(sfa: Sfa) -> None:
    with pytest.raises(ValidationError) as err:
        sfa.duplicates_of("opp_1")
    assert err.value.path == "$.record_id"
    with pytest.raises(NotFoundError):
        sfa.duplicates_of("cont_missing")


# -- merging ----------------------------------------------------------------------------

# Related records of every type in REFERENCES, each pointing at one of the accounts or
# contacts of an example (index < n: a merged one; n: an outsider that is not merged).
ACCOUNT_RELATED = (
    "contact",
    "opportunity",
    "activity",
    "interaction",
    "order",
    "standing",
    "child",
    "lead",
)
CONTACT_RELATED = (
    "activity",
    "activity_about",
    "interaction",
    "opportunity",
    "order",
    "standing",
    "lead",
)


def _call(**refs: str) -> Activity:
    return Activity(
        kind=ActivityKind.CALL, subject="Call", owner_id="rep_anna", created_at=START, **refs
    )


def _related(sfa: Sfa, kind: str, what: str, target: str, home: str) -> Entity:
    """A record of type ``what`` that refers to ``target`` (``home`` is an account)."""
    account = target if kind == "account" else home
    contact = {"contact_id": target} if kind == "contact" else {}
    owner = {"account_id": account} if kind == "account" else contact
    if what == "contact":
        return sfa.create(Contact, last_name="Becker", account_id=target)
    if what == "child":
        return sfa.create(Account, name="Acme Branch", parent_id=target)
    if what == "opportunity":
        primary = {"primary_contact_id": target} if kind == "contact" else {}
        return sfa.create(
            Opportunity,
            name="Retrofit",
            account_id=account,
            pipeline="standard",
            stage="qualify",
            **primary,
        )
    if what in ("activity", "activity_about"):
        about = {"related_to": target} if what == "activity_about" else {}
        return sfa.insert(_call(**owner, **about))
    if what == "interaction":
        return sfa.create(
            Interaction,
            channel=Channel.CALL,
            occurred_at=START,
            summary="Called",
            account_id=account,
            **contact,
        )
    if what == "order":
        return sfa.create(Order, account_id=account, currency="EUR", lines=[LINE], **contact)
    if what == "standing":
        return sfa.create(
            StandingOrder,
            account_id=account,
            currency="EUR",
            lines=[LINE],
            schedule=SCHEDULE,
            **contact,
        )
    converted = {"converted_contact_id": target} if kind == "contact" else {}
    return sfa.create(
        Lead,
        last_name="Becker",
        status=LeadStatus.CONVERTED,
        converted_at=START,
        converted_account_id=account,
        **converted,
    )


def _merge_candidates(sfa: Sfa, kind: str, n: int) -> list[Account] | list[Contact]:
    if kind == "account":
        return [
            sfa.create(Account, name="Acme Lighting", website=f"acme{i}.de", tags=(f"t{i}",))
            for i in range(n + 1)
        ]
    return [
        sfa.create(Contact, last_name="Schmidt", emails=(f"anna{i}@acme.de",)) for i in range(n + 1)
    ]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_a_merge_moves_every_reference_and_loses_nothing(sfa: Sfa, data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(["account", "contact"]), label="kind")
    n = data.draw(st.integers(2, 3), label="merged")
    records = _merge_candidates(sfa, kind, n)
    home = sfa.create(Account, name="Home")
    whats = ACCOUNT_RELATED if kind == "account" else CONTACT_RELATED
    specs = data.draw(
        st.lists(st.tuples(st.sampled_from(whats), st.integers(0, n)), max_size=10), label="rel"
    )
    related = [_related(sfa, kind, what, records[i].id, home.id) for what, i in specs]
    survivor_at = data.draw(st.none() | st.integers(0, n - 1), label="survivor")
    merged_ids = {r.id for r in records[:n]}

    result = sfa.merge(
        [r.id for r in records[:n]],
        survivor_id=None if survivor_at is None else records[survivor_at].id,
        by="rep_anna",
        expected_versions={r.id: r.version for r in records[:n]},
    )
    assert isinstance(result, Merged)
    survivor = result.survivor.id
    assert survivor in merged_ids
    assert survivor == result.plan.survivor_id
    if survivor_at is None:
        assert survivor == records[0].id  # the oldest
    # Every related record is still there, and each reference to a merged record now
    # names the survivor; the others are untouched.
    for before in related:
        after = sfa.get(type(before), before.id)
        for field in REFERENCES[type(before)]:
            old = getattr(before, field)
            assert getattr(after, field) == (survivor if old in merged_ids else old)
    moved = {r.id for r in result.related}
    assert moved == {
        r.id
        for r in related
        if any(getattr(r, f) in merged_ids - {survivor} for f in REFERENCES[type(r)])
    }
    # Nothing is deleted: each merged record is a tombstone, changed in nothing else.
    for record in records[:n]:
        stored = sfa.get(type(record), record.id)
        if record.id == survivor:
            assert stored.merged_into_id is None
            continue
        assert stored.merged_into_id == survivor
        assert stored.evolve(merged_into_id=None, updated_at=record.updated_at) == record.evolve(
            version=stored.version
        )
    assert sfa.get(type(records[n]), records[n].id) == records[n]
    # The survivor holds every record's list values, and the merge can be read back.
    if kind == "account":
        assert set(result.survivor.tags) == {t for r in records[:n] for t in r.tags}
    else:
        assert set(result.survivor.emails) == {e for r in records[:n] for e in r.emails}
    assert sfa.merge_history(survivor)[-1] == result.plan.audit
    audit = sfa.merge_history(next(iter(merged_ids - {survivor})))[-1]
    assert {s.load() for s in audit.before} == set(records[:n])
    assert {s.id for s in audit.related_before} == moved


def test_merged_leads_keep_their_activities_and_interactions(sfa: Sfa) -> None:
    home = sfa.create(Account, name="Home")
    first = sfa.create(Lead, last_name="Okafor", email="ada@brightside.ng")
    second = sfa.create(Lead, last_name="Okafor", phone="+2348012345678", company="Brightside")
    call = sfa.insert(_call(related_to=second.id))
    talk = sfa.create(
        Interaction,
        channel=Channel.CALL,
        occurred_at=START,
        summary="Called",
        account_id=home.id,
        related_to=second.id,
    )
    result = sfa.merge(
        [first.id, second.id],
        by="rep_anna",
        expected_versions={first.id: first.version, second.id: second.version},
    )
    assert (result.survivor.email, result.survivor.phone, result.survivor.company) == (
        "ada@brightside.ng",
        "+2348012345678",
        "Brightside",
    )
    assert sfa.get(Activity, call.id).related_to == first.id
    assert sfa.get(Interaction, talk.id).related_to == first.id
    assert [r.record_id for r in result.plan.repoints] == [call.id, talk.id]
    (event,) = _events(sfa, RecordsMerged)
    assert (event.kind, event.survivor_id, event.merged_ids, event.by, event.repointed) == (
        "lead",
        first.id,
        (second.id,),
        "rep_anna",
        2,
    )


def test_a_merged_leads_engagement_follows_it_to_the_survivor(sfa: Sfa) -> None:
    first = sfa.create(Lead, last_name="Okafor", email="ada@brightside.ng")
    second = sfa.create(Lead, last_name="Okafor", company="Brightside")
    sfa.record_engagement(second.id, "webinar", at=START)
    sfa.record_engagement(first.id, "page_view", at=START - timedelta(hours=1))
    sfa.merge(
        [first.id, second.id],
        by="rep_anna",
        expected_versions={first.id: first.version, second.id: second.version},
    )
    kinds = sorted(e.kind for e in sfa.lead_engagements(first.id))
    assert kinds == ["page_view", "webinar"]
    assert [e.kind for e in sfa.lead_engagements(second.id)] == ["webinar"]  # kept as it was


def _two_contacts(sfa: Sfa) -> tuple[Contact, Contact]:
    a = sfa.create(Contact, last_name="Schmidt", emails=("a@acme.de",))
    b = sfa.create(Contact, last_name="Schmitt", emails=("b@acme.de",))
    return a, b


def _nothing_written(sfa: Sfa, before: list[Entity], events: int) -> None:
    for record in before:
        assert sfa.get(type(record), record.id) == record
    assert len(_events(sfa)) == events
    with sfa.transaction(readonly=True) as tx:
        assert tx.read("merges") == []


def test_records_of_different_kinds_are_never_merged(sfa: Sfa) -> None:
    contact, _ = _two_contacts(sfa)
    lead = sfa.create(Lead, last_name="Schmidt", email="a@acme.de")
    with pytest.raises(ValidationError) as err:
        sfa.merge(
            [contact.id, lead.id],
            by="rep_anna",
            expected_versions={contact.id: 1, lead.id: 1},
        )
    assert err.value.path == "$.record_ids[1]"
    assert "conversion" in str(err.value)
    _nothing_written(sfa, [contact, lead], 0)


def test_a_stale_version_fails_the_whole_merge(sfa: Sfa) -> None:
    a, b = _two_contacts(sfa)
    call = sfa.insert(_call(contact_id=b.id))
    b = sfa.save(b.evolve(title="Buyer"))
    with pytest.raises(ConflictError) as err:
        sfa.merge([a.id, b.id], by="rep_anna", expected_versions={a.id: 1, b.id: 1})
    assert err.value.current_version == 2
    _nothing_written(sfa, [a, b, call], 0)


@pytest.mark.parametrize(
    ("versions", "path"),
    [
        ({"first": 1}, "$.expected_versions.second"),
        ({"first": 1, "second": 0}, "$.expected_versions.second"),
        ({"first": 1, "second": 1, "cont_other": 1}, "$.expected_versions.cont_other"),
    ],
)
def test_every_merged_record_needs_its_version(
    sfa: Sfa, versions: dict[str, int], path: str
) -> None:
    a, b = _two_contacts(sfa)
    ids = {"first": a.id, "second": b.id}
    expected = {ids.get(k, k): v for k, v in versions.items()}
    with pytest.raises(ValidationError) as err:
        sfa.merge([a.id, b.id], by="rep_anna", expected_versions=expected)
    assert err.value.path == path.replace("first", a.id).replace("second", b.id)
    _nothing_written(sfa, [a, b], 0)


def test_bad_merge_requests_are_refused_with_the_field(sfa: Sfa) -> None:
    a, b = _two_contacts(sfa)
    versions = {a.id: 1, b.id: 1}
    for ids, by, path in [
        ([a.id], "rep_anna", "$.record_ids"),
        ([a.id, "opp_1"], "rep_anna", "$.record_ids[1]"),
        ([a.id, a.id], "rep_anna", "$.record_ids[1]"),
        ([a.id, b.id], " ", "$.by"),
    ]:
        with pytest.raises(ValidationError) as err:
            sfa.merge(ids, by=by, expected_versions=versions)
        assert err.value.path == path
    with pytest.raises(ValidationError) as err:
        sfa.merge([a.id, b.id], survivor_id="cont_x", by="rep_anna", expected_versions=versions)
    assert err.value.path == "$.survivor_id"
    _nothing_written(sfa, [a, b], 0)


def test_a_tombstone_is_not_merged_again_and_history_follows_the_chain(
    sfa: Sfa, clock: ManualClock
) -> None:
    a, b = _two_contacts(sfa)
    c = sfa.create(Contact, last_name="Schmid", emails=("c@acme.de",))
    first = sfa.merge([a.id, b.id], by="rep_anna", expected_versions={a.id: 1, b.id: 1})
    tomb = sfa.get(Contact, b.id)
    with pytest.raises(TransitionError, match="merged into"):
        sfa.merge([tomb.id, c.id], by="rep_anna", expected_versions={b.id: 2, c.id: 1})
    clock.advance(timedelta(days=1))
    second = sfa.merge(
        [c.id, a.id],
        survivor_id=c.id,
        by="rep_ben",
        expected_versions={c.id: 1, a.id: first.survivor.version},
    )
    assert [m.by for m in sfa.merge_history(c.id)] == ["rep_anna", "rep_ben"]
    assert sfa.merge_history(c.id) == [first.plan.audit, second.plan.audit]
    assert sfa.merge_history(b.id) == [first.plan.audit]
    assert sfa.merge_history(a.id) == [first.plan.audit, second.plan.audit]
    audit = sfa.merge_history(c.id)[1]
    assert from_data(MergeAudit, to_data(audit)) == audit
    assert audit.at == START + timedelta(days=1)
    assert [r.id for r in sfa.query(Contact).items if r.merged_into_id is None] == [c.id]
    assert sfa.merge_history(sfa.create(Contact, last_name="New").id) == []
    with pytest.raises(NotFoundError):
        sfa.merge_history("cont_missing")


# -- converting -------------------------------------------------------------------------


def _ben(sfa: Sfa, **fields: Any) -> Lead:
    values: dict[str, Any] = {
        "first_name": "Ben",
        "last_name": "Becker",
        "company": "Nordlicht AG",
        "country": "DE",
        "email": "ben@nordlicht.de",
        "industry": "lighting",
    }
    return sfa.create(Lead, **{**values, **fields})


def test_conversion_reuses_the_matching_contact_and_account_and_fills_only_empty_fields(
    sfa: Sfa,
) -> None:
    acme, anna = _acme_and_anna(sfa)
    acme = sfa.save(acme.evolve(billing_city="München"))
    lead = sfa.create(
        Lead,
        first_name="Ana",
        last_name="Schmidt",
        company="Acme Lighting",
        country="DE",
        city="Munich",
        industry="lighting",
        title="Head of Facilities",
        email="anna.schmidt@acme.de",
        phone="+4989123456",
        score=Decimal("71.5"),
    )
    done = sfa.convert_lead(lead.id, expected_version=lead.version, opportunity=DRAFT, by="rep_a")
    assert isinstance(done, Converted)
    assert (done.account.id, done.contact and done.contact.id) == (acme.id, anna.id)
    assert [(r.id, r.rule) for r in done.plan.reused] == [
        (anna.id, "same_email"),
        (acme.id, "via_contact"),
    ]
    # Nothing created twice; the values someone entered are kept.
    assert [a.id for a in _all(sfa, Account)] == [acme.id]
    assert [c.id for c in _all(sfa, Contact)] == [anna.id]
    contact = sfa.get(Contact, anna.id)
    assert (contact.first_name, contact.title, contact.phones) == (
        "Anna",
        "Head of Facilities",
        ("+4989123456",),
    )
    account = sfa.get(Account, acme.id)
    assert (account.billing_city, account.industry) == ("München", "lighting")
    # The opportunity is opened as open_opportunity opens one.
    deal = done.opportunity
    assert deal is not None
    assert sfa.get(Opportunity, deal.id) == deal
    assert (deal.account_id, deal.primary_contact_id, deal.stage, deal.amount) == (
        acme.id,
        anna.id,
        "qualify",
        Money.of("4800", "EUR"),
    )
    (change,) = sfa.stage_history(deal.id)
    assert (change.from_stage, change.to_stage, change.by) == (None, "qualify", "rep_a")
    stored = sfa.get(Lead, lead.id)
    assert stored == done.lead
    assert (stored.status, stored.converted_account_id, stored.converted_contact_id) == (
        LeadStatus.CONVERTED,
        acme.id,
        anna.id,
    )
    assert (stored.converted_opportunity_id, stored.converted_at, stored.qualified_at) == (
        deal.id,
        START,
        START,
    )
    assert [type(e) for e in _events(sfa)] == [LeadQualified, StageChanged, LeadConverted]
    assert _events(sfa, LeadQualified)[0].score == 72
    (event,) = _events(sfa, LeadConverted)
    assert (event.lead_id, event.account_id, event.contact_id, event.opportunity_id) == (
        lead.id,
        acme.id,
        anna.id,
        deal.id,
    )


def test_conversion_creates_what_is_missing_and_happens_once(sfa: Sfa) -> None:
    lead = _ben(sfa, status=LeadStatus.QUALIFIED, qualified_at=START, score=72)
    done = sfa.convert_lead(lead.id, expected_version=1, by="rep_a")
    assert not done.qualified
    assert done.opportunity is None
    assert done.contact is not None
    assert (done.account.name, done.account.industry, done.contact.emails) == (
        "Nordlicht AG",
        "lighting",
        ("ben@nordlicht.de",),
    )
    assert [type(r).__name__ for r in done.plan.created] == ["Account", "Contact"]
    assert [type(e) for e in _events(sfa)] == [LeadConverted]
    snapshot = [*_all(sfa, Lead), *_all(sfa, Account), *_all(sfa, Contact)]
    # A second conversion, even with the current version, names the first and writes nothing.
    for version in (1, done.lead.version):
        with pytest.raises(AlreadyConvertedError) as err:
            sfa.convert_lead(lead.id, expected_version=version, opportunity=DRAFT, by="rep_a")
        assert done.account.id in str(err.value)
        assert err.value.converted_at == START
    assert [*_all(sfa, Lead), *_all(sfa, Account), *_all(sfa, Contact)] == snapshot
    assert _all(sfa, Opportunity) == []
    assert len(_events(sfa)) == 1


def test_an_existing_deal_of_the_reused_account_is_not_opened_twice(sfa: Sfa) -> None:
    account = sfa.create(Account, name="Nordlicht AG", billing_country="DE")
    deal = sfa.open_opportunity(name="led Retrofit ", account_id=account.id, stage="qualify")
    lead = _ben(sfa)
    done = sfa.convert_lead(lead.id, expected_version=1, opportunity=DRAFT, by="rep_a")
    assert done.account.id == account.id
    assert done.opportunity == deal
    assert [o.id for o in _all(sfa, Opportunity)] == [deal.id]
    assert len(_all(sfa, StageChange)) == 1
    assert any("reused" in note for note in done.plan.notes)


def test_a_lead_changed_since_it_was_read_is_not_converted(sfa: Sfa) -> None:
    lead = _ben(sfa)
    lead = sfa.save(lead.evolve(title="CTO"))
    with pytest.raises(ConflictError):
        sfa.convert_lead(lead.id, expected_version=1, opportunity=DRAFT, by="rep_a")
    assert sfa.get(Lead, lead.id) == lead
    assert (_all(sfa, Account), _all(sfa, Contact), _events(sfa)) == ([], [], [])


def test_a_merged_lead_is_converted_through_its_survivor(sfa: Sfa) -> None:
    first, second = _ben(sfa), _ben(sfa, email="b.becker@nordlicht.de")
    sfa.merge([first.id, second.id], by="rep_a", expected_versions={first.id: 1, second.id: 1})
    with pytest.raises(TransitionError, match=first.id):
        sfa.convert_lead(second.id, expected_version=2, by="rep_a")
    assert sfa.convert_lead(first.id, expected_version=2, by="rep_a").lead.merged_into_id is None


@pytest.mark.parametrize(
    ("draft", "path"),
    [
        (OpportunityDraft(name="X", pipeline="enterprise", stage="qualify"), "pipeline"),
        (OpportunityDraft(name="X", pipeline="standard", stage="negotiaton"), "stage"),
    ],
)
def test_a_draft_outside_the_pipelines_is_refused_before_anything_is_written(
    sfa: Sfa, draft: OpportunityDraft, path: str
) -> None:
    lead = _ben(sfa)
    with pytest.raises(ValidationError) as err:
        sfa.convert_lead(lead.id, expected_version=1, opportunity=draft, by="rep_a")
    assert err.value.path == f"$.opportunity.{path}"
    assert sfa.get(Lead, lead.id) == lead
    assert _all(sfa, Account) == []


def test_concurrent_conversions_of_one_lead_convert_it_once(sfa: Sfa, storage_url: str) -> None:
    lead = _ben(sfa)

    def convert(own: Sfa) -> Converted:
        return own.convert_lead(lead.id, expected_version=1, opportunity=DRAFT, by="rep_a")

    outcomes = _race(storage_url, convert, convert)
    done = [o for o in outcomes if isinstance(o, Converted)]
    refused = [o for o in outcomes if isinstance(o, AlreadyConvertedError | ConflictError)]
    assert (len(done), len(refused)) == (1, 1), outcomes
    assert [a.id for a in _all(sfa, Account)] == [done[0].account.id]
    assert len(_all(sfa, Contact)) == len(_all(sfa, Opportunity)) == 1
    assert len(_all(sfa, StageChange)) == 1
    assert len(_events(sfa, LeadConverted)) == 1
    assert sfa.get(Lead, lead.id) == done[0].lead


def _race(storage_url: str, *jobs: Any) -> list[object]:
    """Run each job (given its own Sfa) in a thread, all at once; their results or errors."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list[object] = [None] * len(jobs)

    def run(n: int) -> None:
        with sfakit.open(storage_url, clock=ManualClock(START), load_entry_points=False) as own:
            barrier.wait(timeout=60)
            try:
                outcomes[n] = jobs[n](own)
            except BaseException as exc:  # checked by the caller
                outcomes[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_two_merges_racing_for_one_record_merge_it_once(sfa: Sfa, storage_url: str) -> None:
    a, b = _two_contacts(sfa)
    c = sfa.create(Contact, last_name="Schmid", emails=("c@acme.de",))
    outcomes = _race(
        storage_url,
        lambda own: own.merge(
            [a.id, b.id], survivor_id=a.id, by="rep_a", expected_versions={a.id: 1, b.id: 1}
        ),
        lambda own: own.merge(
            [c.id, b.id], survivor_id=c.id, by="rep_b", expected_versions={c.id: 1, b.id: 1}
        ),
    )
    done = [o for o in outcomes if isinstance(o, Merged)]
    assert len(done) == 1, outcomes
    assert [type(o) for o in outcomes if o not in done] == [ConflictError]
    assert sfa.get(Contact, b.id).merged_into_id == done[0].survivor.id
    loser = c if done[0].survivor.id == a.id else a
    assert sfa.get(Contact, loser.id) == loser
    assert len(_events(sfa, RecordsMerged)) == 1
    assert sfa.merge_history(b.id) == [done[0].plan.audit]


def test_a_merge_racing_an_edit_never_leaves_a_reference_to_a_tombstone(
    sfa: Sfa, storage_url: str
) -> None:
    main = sfa.create(Account, name="Acme Lighting")
    dup = sfa.create(Account, name="Acme Lighting GmbH")
    ben = sfa.create(Contact, last_name="Becker", account_id=dup.id)
    outcomes = _race(
        storage_url,
        lambda own: own.merge(
            [main.id, dup.id], by="rep_a", expected_versions={main.id: 1, dup.id: 1}
        ),
        lambda own: own.save(ben.evolve(title="Buyer")),
    )
    assert all(isinstance(o, Merged | Contact | ConflictError) for o in outcomes), outcomes
    merged = isinstance(outcomes[0], Merged)
    assert (sfa.get(Account, dup.id).merged_into_id == main.id) is merged
    stored = sfa.get(Contact, ben.id)
    assert stored.account_id == (main.id if merged else dup.id)
    assert (stored.title == "Buyer") is isinstance(outcomes[1], Contact)
