"""Routing through the service: the tree and the state in storage, one call per lead,
capacity and exactly-once assignment under concurrent workers, realignment and
deactivation applied in batches."""

from __future__ import annotations

import multiprocessing
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sfakit
from sfakit import ConflictError, ManualClock, Sfa, ValidationError
from sfakit.events import LeadAssigned
from sfakit.model import Lead, LeadStatus, SalesRep
from sfakit.rules import field
from sfakit.territory import Member, StrategySpec, TerritoryNode, TerritoryTree
from sfakit.territory.routing import Outcome

from .conftest import START


def _tree(**strategy: object) -> TerritoryTree:
    return TerritoryTree(
        nodes=[
            TerritoryNode(
                key="dach",
                rules=field("country").isin(["DE", "AT", "CH"]),
                members=[Member("rep_anna"), Member("rep_ben")],
                strategy=StrategySpec(**strategy),  # type: ignore[arg-type]
                fallback_queue="dach-overflow",
            ),
            TerritoryNode(
                key="france", rules=field("country").eq("FR"), members=[Member("rep_chloe")]
            ),
        ],
    )


def _team(sfa: Sfa, capacity: int | None = None) -> None:
    for rep_id, name in (("rep_anna", "Anna"), ("rep_ben", "Ben"), ("rep_chloe", "Chloé")):
        sfa.create(SalesRep, id=rep_id, name=name, capacity=capacity, email=f"{rep_id}@example.com")


def _lead(sfa: Sfa, country: str | None, n: int = 0) -> Lead:
    return sfa.create(Lead, last_name=f"Lead {n}", country=country)


def _assignments(sfa: Sfa) -> list[LeadAssigned]:
    return [e for _, e in sfa.events(limit=100_000) if isinstance(e, LeadAssigned)]


def test_a_lead_is_routed_recorded_and_explained(sfa: Sfa) -> None:
    _team(sfa)
    assert sfa.set_territory_tree(_tree(), expected_version=None) == 1
    lead = _lead(sfa, "AT")
    result = sfa.route_lead(lead.id, explain=True)
    assert (result.territory, result.owner, result.outcome) == (
        "dach",
        "rep_anna",
        Outcome.ASSIGNED,
    )
    stored = sfa.get(Lead, lead.id)
    assert (stored.owner_id, stored.territory_key, stored.queue) == ("rep_anna", "dach", None)
    [event] = _assignments(sfa)
    assert (event.lead_id, event.owner_id, event.territory_key) == (lead.id, "rep_anna", "dach")
    assert event.owner_email == "rep_anna@example.com"
    assert "round_robin" in (event.reason or "")
    assert result.trace.matched == ("dach",)
    # Routing it again changes nothing and records nothing: routing is sticky.
    again = sfa.route_lead(lead.id)
    assert again.owner == "rep_anna"
    assert sfa.get(Lead, lead.id).version == stored.version
    assert len(_assignments(sfa)) == 1


def test_round_robin_goes_on_where_it_stopped_and_queues_what_no_territory_takes(
    sfa: Sfa,
) -> None:
    _team(sfa)
    sfa.set_territory_tree(_tree(), expected_version=None)
    owners = [sfa.route_lead(_lead(sfa, "DE", n).id).owner for n in range(4)]
    assert owners == ["rep_anna", "rep_ben", "rep_anna", "rep_ben"]
    assert sfa.assignment_state().last_assigned == {"dach": "rep_ben"}
    assert sfa.assignment_state().open_items == {"rep_anna": 2, "rep_ben": 2}
    nowhere = sfa.route_lead(_lead(sfa, "JP").id)
    assert (nowhere.owner, nowhere.queue, nowhere.outcome) == (
        None,
        "unassigned",
        Outcome.NO_TERRITORY,
    )
    assert sfa.route_unassigned_leads() == []


def test_the_round_robin_cursor_survives_a_restart(sqlite_urls: Callable[[], str]) -> None:
    url = sqlite_urls()
    clock = ManualClock(START)
    with sfakit.open(url, clock=clock, load_entry_points=False) as sfa:
        _team(sfa)
        sfa.set_territory_tree(_tree(), expected_version=None)
        first = sfa.route_lead(_lead(sfa, "DE").id).owner
    with sfakit.open(url, clock=clock, load_entry_points=False) as sfa:
        second = sfa.route_lead(_lead(sfa, "CH").id).owner
    assert (first, second) == ("rep_anna", "rep_ben")


def test_no_rep_is_given_more_than_their_capacity(sfa: Sfa) -> None:
    _team(sfa, capacity=2)
    sfa.set_territory_tree(_tree(), expected_version=None)
    results = [sfa.route_lead(_lead(sfa, "DE", n).id) for n in range(6)]
    assert [r.owner for r in results].count("rep_anna") == 2
    assert [r.owner for r in results].count("rep_ben") == 2
    assert [r.queue for r in results[4:]] == ["dach-overflow", "dach-overflow"]
    # Closing a lead frees a slot: open items are counted from the records.
    taken = sfa.get(Lead, results[0].subject_id)
    sfa.save(taken.evolve(status=LeadStatus.DISQUALIFIED, disqualification_reason="spam"))
    assert sfa.route_lead(_lead(sfa, "AT", 9).id).owner == "rep_anna"


def test_pinned_leads_stay_where_they_were_put(sfa: Sfa) -> None:
    _team(sfa)
    sfa.set_territory_tree(_tree(), expected_version=None)
    lead = sfa.create(
        Lead, last_name="Pinned", country="FR", owner_id="rep_anna", routing_pinned=True
    )
    result = sfa.route_lead(lead.id)
    assert result.owner == "rep_anna"
    assert sfa.get(Lead, lead.id).version == lead.version
    assert _assignments(sfa) == []


def test_the_tree_is_checked_and_versioned(sfa: Sfa) -> None:
    _team(sfa)
    with pytest.raises(ValidationError, match=r"\$\.nodes\[0\]\.members\[0\]\.rep_id"):
        sfa.set_territory_tree(
            TerritoryTree(nodes=[TerritoryNode(key="x", members=[Member("rep_gone")])]),
            expected_version=None,
        )
    version = sfa.set_territory_tree(_tree(), expected_version=None)
    assert sfa.territory_tree() == _tree()
    assert (
        sfa.set_territory_tree(_tree(name="least_loaded"), expected_version=version) == version + 1
    )
    with pytest.raises(ConflictError):
        sfa.set_territory_tree(_tree(), expected_version=version)
    with pytest.raises(sfakit.DuplicateError):
        sfa.set_territory_tree(_tree(), expected_version=None)


def test_realignment_is_planned_dry_then_applied_in_batches(sfa: Sfa) -> None:
    _team(sfa)
    version = sfa.set_territory_tree(_tree(), expected_version=None)
    leads = [_lead(sfa, "DE", n) for n in range(5)]
    for lead in leads:
        sfa.route_lead(lead.id)
    pinned = sfa.get(Lead, leads[0].id)
    sfa.save(pinned.evolve(routing_pinned=True))
    # Chloé takes over the DACH region.
    new_tree = _tree().replace_node("dach", members=(Member("rep_chloe"),))
    plan = sfa.plan_realignment(new_tree)
    assert {m.subject_id for m in plan.moves} == {lead.id for lead in leads[1:]}
    assert plan.pinned == (leads[0].id,)
    assert all(sfa.get(Lead, lead.id).owner_id != "rep_chloe" for lead in leads)  # dry run
    before = len(_assignments(sfa))
    report = sfa.apply_realignment(new_tree, plan, expected_tree_version=version, batch_size=3)
    assert (set(report.moved), report.batches, report.pinned) == (
        {lead.id for lead in leads[1:]},
        2,
        (leads[0].id,),
    )
    assert {sfa.get(Lead, lead.id).owner_id for lead in leads[1:]} == {"rep_chloe"}
    assert sfa.get(Lead, leads[0].id).owner_id == "rep_anna"
    moved_events = _assignments(sfa)[before:]
    assert len(moved_events) == 4
    assert all(e.reason and e.reason.startswith("owner_not_member") for e in moved_events)
    assert sfa.territory_tree() == new_tree


def test_a_stale_plan_skips_what_changed_since(sfa: Sfa) -> None:
    _team(sfa)
    version = sfa.set_territory_tree(_tree(), expected_version=None)
    lead = _lead(sfa, "DE")
    sfa.route_lead(lead.id)
    plan = sfa.plan_realignment(_tree().replace_node("dach", members=(Member("rep_chloe"),)))
    changed = sfa.get(Lead, lead.id)
    sfa.save(changed.evolve(owner_id="rep_ben"))
    report = sfa.apply_realignment(
        _tree().replace_node("dach", members=(Member("rep_chloe"),)),
        plan,
        expected_tree_version=version,
    )
    assert report.moved == ()
    assert report.stale == ((lead.id, "owner changed since the plan (now rep_ben)"),)
    assert sfa.get(Lead, lead.id).owner_id == "rep_ben"


def test_deactivating_a_rep_reroutes_their_open_leads_and_says_why(sfa: Sfa) -> None:
    _team(sfa)
    sfa.set_territory_tree(_tree(), expected_version=None)
    leads = [_lead(sfa, "AT", n) for n in range(4)]
    for lead in leads:
        sfa.route_lead(lead.id)
    annas = [lead.id for lead in leads if sfa.get(Lead, lead.id).owner_id == "rep_anna"]
    report = sfa.deactivate_rep("rep_anna")
    assert set(report.moved) == set(annas)
    assert not sfa.get(SalesRep, "rep_anna").active
    assert all(sfa.get(Lead, lead_id).owner_id == "rep_ben" for lead_id in annas)
    reasons = [e.reason for e in _assignments(sfa) if e.previous_owner_id == "rep_anna"]
    assert len(reasons) == len(annas)
    assert all(r and r.startswith("owner_unavailable") for r in reasons)


# -- concurrency --------------------------------------------------------------------------

LEADS = 40
CAPACITY = 15


def _prepare(url: str) -> list[str]:
    with sfakit.open(url, clock=ManualClock(START), load_entry_points=False) as sfa:
        _team(sfa, capacity=CAPACITY)
        sfa.set_territory_tree(_tree(), expected_version=None)
        return [_lead(sfa, "DE", n).id for n in range(LEADS)]


def _route_all(url: str, lead_ids: list[str]) -> None:
    with sfakit.open(url, clock=ManualClock(START), load_entry_points=False) as sfa:
        for lead_id in lead_ids:
            sfa.route_lead(lead_id)


def _check_exactly_once(url: str, lead_ids: list[str]) -> None:
    with sfakit.open(url, clock=ManualClock(START), load_entry_points=False) as sfa:
        events = _assignments(sfa)
        assert Counter(e.lead_id for e in events) == Counter(lead_ids)  # each lead once
        owners = Counter(sfa.get(Lead, lead_id).owner_id for lead_id in lead_ids)
        assert owners["rep_anna"] == CAPACITY
        assert owners["rep_ben"] == CAPACITY
        assert owners[None] == LEADS - 2 * CAPACITY  # the rest wait in the overflow queue
        assert {e.owner_id for e in events if e.owner_id} == {"rep_anna", "rep_ben"}


def test_concurrent_threads_assign_each_lead_once_within_capacity(storage_url: str) -> None:
    lead_ids = _prepare(storage_url)
    # Every lead is routed by two threads, in different orders.
    work = [lead_ids[n::4] + lead_ids[(n + 1) % 4 :: 4] for n in range(4)]
    errors: list[BaseException] = []

    def run(ids: list[str]) -> None:
        try:
            _route_all(storage_url, ids)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(ids,)) for ids in work]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == []
    _check_exactly_once(storage_url, lead_ids)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_concurrent_processes_assign_each_lead_once_within_capacity(
    backend: str, request: pytest.FixtureRequest
) -> None:
    make: Callable[[], str] = request.getfixturevalue(
        "sqlite_urls" if backend == "sqlite" else "postgres_schemas"
    )
    url = make()
    lead_ids = _prepare(url)
    work = [lead_ids[n::3] + lead_ids[(n + 1) % 3 :: 3] for n in range(3)]
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_route_all, args=(url, ids)) for ids in work]
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=300)
        assert p.exitcode == 0
    _check_exactly_once(url, lead_ids)


def _route_unassigned(url: str, batch_size: int) -> None:
    with sfakit.open(url, clock=ManualClock(START), load_entry_points=False) as sfa:
        sfa.route_unassigned_leads(limit=LEADS, batch_size=batch_size)


def test_concurrent_batched_routers_assign_each_lead_once_within_capacity(
    storage_url: str,
) -> None:
    lead_ids = _prepare(storage_url)
    errors: list[BaseException] = []

    def run(batch_size: int) -> None:
        try:
            _route_unassigned(storage_url, batch_size)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(size,)) for size in (1, 3, 7, 40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == []
    _check_exactly_once(storage_url, lead_ids)


@settings(max_examples=15, deadline=None)
@given(
    countries=st.lists(st.sampled_from(["DE", "AT", "FR", "JP", None]), max_size=25),
    batch_size=st.integers(min_value=1, max_value=30),
    capacity=st.one_of(st.none(), st.integers(min_value=0, max_value=6)),
)
def test_routing_in_batches_decides_as_routing_one_lead_at_a_time(
    countries: list[str | None], batch_size: int, capacity: int | None
) -> None:
    def book(name: str) -> tuple[Sfa, list[str]]:
        sfa = sfakit.open(f"memory://{name}-{uuid.uuid4().hex}", clock=ManualClock(START))
        _team(sfa, capacity=capacity)
        sfa.set_territory_tree(_tree(), expected_version=None)
        ids = []
        for n, country in enumerate(countries):
            ids.append(_lead(sfa, country, n).id)
            sfa.clock.advance(timedelta(seconds=1))  # type: ignore[attr-defined]
        return sfa, ids

    one_by_one, ids = book("single")
    batched, batched_ids = book("batched")
    with one_by_one, batched:
        single = [one_by_one.route_lead(lead_id) for lead_id in ids]
        many = batched.route_unassigned_leads(batch_size=batch_size)
        # Only leads routing placed somewhere are no longer unassigned.
        assert [(r.owner, r.territory, r.queue) for r in many] == [
            (r.owner, r.territory, r.queue) for r in single
        ]

        def placed(sfa: Sfa, lead_ids: list[str]) -> list[tuple[object, ...]]:
            return [
                (lead.owner_id, lead.territory_key, lead.queue)
                for lead in (sfa.get(Lead, i) for i in lead_ids)
            ]

        assert placed(batched, batched_ids) == placed(one_by_one, ids)
        assert [(e.owner_id, e.territory_key, e.queue) for e in _assignments(batched)] == [
            (e.owner_id, e.territory_key, e.queue) for e in _assignments(one_by_one)
        ]
        assert batched.assignment_state() == one_by_one.assignment_state()
        assert batched.route_unassigned_leads(batch_size=batch_size) == [
            r for r in many if r.owner is None and r.queue is None
        ]


def test_a_bad_batch_size_is_a_validation_error(sfa: Sfa) -> None:
    _team(sfa)
    sfa.set_territory_tree(_tree(), expected_version=None)
    plan = sfa.plan_realignment(_tree())
    with pytest.raises(ValidationError, match="batch_size"):
        sfa.apply_realignment(_tree(), plan, expected_tree_version=0, batch_size=0)
    assert sfa.setting(TerritoryTree, "territory-tree")[1] == 1  # nothing was saved


def test_the_quota_report_checks_the_stored_quotas_add_up(sfa: Sfa) -> None:
    from sfakit.model import Money, Quota

    _team(sfa)
    tree = TerritoryTree(
        nodes=[
            TerritoryNode(key="europe", territory_id="terr_europe"),
            TerritoryNode(
                key="dach",
                parent="europe",
                territory_id="terr_dach",
                members=[Member("rep_anna"), Member("rep_ben")],
            ),
        ]
    )
    sfa.set_territory_tree(tree, expected_version=None)
    for owner, amount in (("terr_europe", 900), ("terr_dach", 1000)):
        sfa.create(Quota, period="FY2027-Q1", amount=Money.of(amount, "EUR"), territory_id=owner)
    sfa.create(Quota, period="FY2027-Q1", amount=Money.of(600, "EUR"), sales_rep_id="rep_anna")
    sfa.create(Quota, period="FY2027-Q2", amount=Money.of(5, "EUR"), territory_id="terr_dach")
    report = sfa.quota_report("FY2027-Q1")
    europe = next(r for r in report.rows if r.territory == "europe")
    assert (europe.own, europe.parts_total) == (Money.of(900, "EUR"), Money.of(1000, "EUR"))
    assert str(europe.difference) == "-100.00 EUR"
    assert not report.ok
