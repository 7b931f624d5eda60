"""Laws of assignment: never past capacity or a daily limit; round robin is fair; every
strategy is fair when shares are equal; filters and availability are respected."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sfakit.model import SalesRep
from sfakit.territory import (
    AmbiguousRouteError,
    AssignmentState,
    Member,
    Outcome,
    RoutingSubject,
    Strategy,
    StrategySpec,
    TerritoryNode,
    TerritoryTree,
    choose_member,
    is_available,
    route,
    route_many,
    speaks,
)

from .support import T0, TODAY, rep, rosters, subject, subjects, tree, trees

props = settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])


def one(strategy: str, members: list[Member], **spec: object) -> TerritoryTree:
    return tree(
        TerritoryNode(
            key="t",
            members=members,
            strategy=StrategySpec(name=strategy, **spec),  # type: ignore[arg-type]
            fallback_queue="overflow",
        )
    )


def owners(
    t: TerritoryTree, reps: list[SalesRep], n: int, state: AssignmentState | None = None
) -> list[str | None]:
    leads = [subject(f"lead_{i}") for i in range(n)]
    batch = route_many(leads, t, state or AssignmentState(), T0, reps=reps)
    return [r.owner for r in batch.results]


@given(st.integers(1, 6), st.integers(1, 5), st.integers(0, 2))
def test_round_robin_is_fair(n: int, k: int, inactive: int) -> None:
    ids = [f"rep_{i}" for i in range(n + inactive)]
    reps = [rep(r) for r in ids[:n]] + [rep(r, active=False) for r in ids[n:]]
    members = [Member(r) for r in sorted(ids, key=lambda r: hash(r) % 7)]
    counts = Counter(owners(one("round_robin", members), reps, k * n))
    assert counts == dict.fromkeys(ids[:n], k)


@pytest.mark.parametrize("strategy", [s.value for s in Strategy])
@given(n=st.integers(1, 5), k=st.integers(1, 4))
def test_every_strategy_is_fair_when_shares_are_equal(strategy: str, n: int, k: int) -> None:
    ids = [f"rep_{i}" for i in range(n)]
    reps = [rep(r, capacity=1000) for r in ids]
    members = [Member(r, weight=2, daily_limit=1000) for r in ids]
    counts = Counter(owners(one(strategy, members), reps, k * n))
    assert counts == dict.fromkeys(ids, k)


def test_round_robin_continues_after_the_last_assigned() -> None:
    reps = [rep(r) for r in ("rep_a", "rep_b", "rep_c")]
    t = one("round_robin", [Member("rep_a"), Member("rep_b"), Member("rep_c")])
    state = AssignmentState(last_assigned={"t": "rep_b"})
    assert owners(t, reps, 4, state) == ["rep_c", "rep_a", "rep_b", "rep_c"]


def test_round_robin_skips_inactive_and_out_of_office_reps() -> None:
    reps = [
        rep("rep_a", out_of_office_until=TODAY),
        rep("rep_b", active=False),
        rep("rep_c", out_of_office_until=TODAY - timedelta(days=1)),
        rep("rep_d"),
    ]
    t = one("round_robin", [Member(r.id) for r in reps])
    assert owners(t, reps, 4) == ["rep_c", "rep_d", "rep_c", "rep_d"]
    assert not is_available(reps[0], TODAY)
    assert is_available(reps[0], TODAY + timedelta(days=1))


def test_least_loaded_picks_the_fewest_open_items() -> None:
    reps = [rep(r) for r in ("rep_a", "rep_b", "rep_c")]
    t = one("least_loaded", [Member(r.id) for r in reps])
    state = AssignmentState(open_items={"rep_a": 5, "rep_b": 2, "rep_c": 3})
    # 2 < 3 < 5, then ties go to the next in rotation: rep_c after rep_b.
    assert owners(t, reps, 4, state) == ["rep_b", "rep_c", "rep_b", "rep_c"]


def test_weighted_shares_follow_the_weights() -> None:
    reps = [rep("rep_a"), rep("rep_b")]
    t = one("weighted", [Member("rep_a", weight=1), Member("rep_b", weight=3)])
    assert Counter(owners(t, reps, 40)) == {"rep_a": 10, "rep_b": 30}


def test_capacity_weighted_picks_the_lowest_load_ratio_odoo_style() -> None:
    reps = [rep("rep_a", capacity=10), rep("rep_b", capacity=40)]
    t = one("capacity_weighted", [Member("rep_a"), Member("rep_b")])
    state = AssignmentState(open_items={"rep_a": 5, "rep_b": 10})  # 50% vs 25%
    result = owners(t, reps, 20, state)
    assert result[0] == "rep_b"
    assert result[:10] == ["rep_b"] * 10  # until rep_b is at 20/40, like rep_a at 5/10
    assert Counter(result) == {"rep_a": 2, "rep_b": 18}  # ends at 7/10 vs 28/40


def test_daily_quota_shares_by_daily_limit_and_never_exceeds_it() -> None:
    reps = [rep("rep_a"), rep("rep_b")]
    t = one("daily_quota", [Member("rep_a", daily_limit=2), Member("rep_b", daily_limit=4)])
    result = owners(t, reps, 8)
    assert Counter(result) == {"rep_a": 2, "rep_b": 4, None: 2}
    batch = route_many(
        [subject("lead_x")],
        t,
        AssignmentState(day=TODAY, assigned_today={"rep_a": 2, "rep_b": 4}),
        T0 + timedelta(days=1),
        reps=reps,
    )
    assert batch.results[0].owner == "rep_a"  # a new day starts from zero


def test_required_skills_language_and_product_filters() -> None:
    reps = [
        rep("rep_a", skills=("led-bulbs",), languages=("fr",)),
        rep("rep_b", skills=("fixtures", "led-bulbs"), languages=("de", "en-GB")),
    ]
    members = [Member("rep_a"), Member("rep_b")]
    skilled = one("round_robin", members, required_skills=["fixtures"])
    assert owners(skilled, reps, 2) == ["rep_b", "rep_b"]
    lang = one("round_robin", members, match_language=True)
    r = route(subject(language="EN"), lang, AssignmentState(), T0, reps=reps, explain=True)
    assert r.owner == "rep_b"
    assert r.trace.members[0].reason == "does not speak 'EN'"
    products = one("round_robin", members, match_products=True)
    assert (
        route(
            subject(product_interest=("fixtures", "x")), products, AssignmentState(), T0, reps=reps
        ).owner
        == "rep_b"
    )
    assert (
        route(subject(), products, AssignmentState(), T0, reps=reps).owner == "rep_a"
    )  # no interest: no filter
    nobody = route(
        subject(product_interest=("services",)), products, AssignmentState(), T0, reps=reps
    )
    assert (nobody.owner, nobody.queue, nobody.outcome) == (None, "overflow", Outcome.QUEUED)
    assert speaks(reps[1], "en-US")
    assert not speaks(reps[0], "de")


def test_roles_decide_who_receives() -> None:
    reps = [rep("rep_a"), rep("rep_m")]
    t = one("round_robin", [Member("rep_m", "manager"), Member("rep_a", "sales")], roles=["sales"])
    assert owners(t, reps, 2) == ["rep_a", "rep_a"]


def test_choose_member_returns_the_next_state() -> None:
    reps = [rep("rep_a"), rep("rep_b", capacity=1)]
    node = TerritoryNode(key="t", members=[Member("rep_b"), Member("rep_a")])
    choice = choose_member(node, subject(), AssignmentState(open_items={"rep_b": 1}), T0, reps=reps)
    assert choice.rep_id == "rep_a"
    assert [(n.rep_id, n.reason) for n in choice.notes] == [
        ("rep_b", "at capacity (1 of 1 open)"),
        ("rep_a", "eligible"),
    ]
    assert choice.state == AssignmentState(
        day=TODAY,
        last_assigned={"t": "rep_a"},
        open_items={"rep_b": 1, "rep_a": 1},
        assigned_today={"rep_a": 1},
    )


@props
@given(
    trees(max_nodes=6),
    rosters,
    st.lists(subjects, min_size=1, max_size=25),
    st.dictionaries(
        st.sampled_from([f"rep_{n}" for n in ("anna", "ben", "cleo")]), st.integers(0, 5)
    ),
)
def test_capacity_is_never_exceeded(
    t: TerritoryTree, reps: list[SalesRep], batch: list[RoutingSubject], start: dict[str, int]
) -> None:
    capacity = {r.id: r.capacity for r in reps}
    state = AssignmentState(open_items=start)
    for s in batch:
        try:
            r = route(s, t, state, T0, reps=reps)
        except AmbiguousRouteError:
            return
        if r.owner is not None and r.owner != s.owner_id:
            limit = capacity.get(r.owner)
            assert r.owner in capacity  # only reps on the roster are ever given items
            assert limit is None or state.open_count(r.owner) < limit
            after = state.apply(r.change)
            assert limit is None or after.open_count(r.owner) <= limit
        state = state.apply(r.change)


@props
@given(
    st.sampled_from(list(Strategy)),
    st.lists(st.integers(0, 3), min_size=1, max_size=4),
    st.dictionaries(st.integers(0, 3), st.integers(0, 4)),
    st.integers(1, 30),
)
def test_no_strategy_or_fallback_ever_exceeds_capacity(
    strategy: Strategy, capacities: list[int], start: dict[int, int], n: int
) -> None:
    ids = [f"rep_{i}" for i in range(len(capacities))]
    reps = [rep(r, capacity=c) for r, c in zip(ids, capacities, strict=True)]
    t = tree(
        TerritoryNode(
            key="t",
            members=[Member(r, daily_limit=99) for r in ids[1:]],
            strategy=StrategySpec(name=strategy),
            fallback_owner=ids[0],
        )
    )
    state = AssignmentState(open_items={ids[i]: c for i, c in start.items() if i < len(ids)})
    given_out: Counter[str] = Counter()
    for i in range(n):
        r = route(subject(f"lead_{i}"), t, state, T0, reps=reps)
        if r.owner is not None:
            given_out[r.owner] += 1
            assert state.open_count(r.owner) < capacities[ids.index(r.owner)]
        else:
            assert r.queue == "unassigned"
        state = state.apply(r.change)
    free = sum(max(0, c - state.open_count(r)) for r, c in zip(ids, capacities, strict=True))
    assert sum(given_out.values()) == n or free == 0  # only a full house sends items to a queue


@props
@given(st.lists(st.integers(0, 3), min_size=1, max_size=4), st.integers(1, 20), st.integers(0, 3))
def test_daily_limits_are_never_exceeded(limits: list[int], n: int, days: int) -> None:
    ids = [f"rep_{i}" for i in range(len(limits))]
    reps = [rep(r) for r in ids]
    t = one(
        "least_loaded", [Member(r, daily_limit=lim) for r, lim in zip(ids, limits, strict=True)]
    )
    state = AssignmentState()
    for day in range(days + 1):
        moment = T0 + timedelta(days=day)
        batch = route_many([subject(f"lead_{i}") for i in range(n)], t, state, moment, reps=reps)
        counts = Counter[str](r.owner for r in batch.results if r.owner)
        assert all(counts[r] <= lim for r, lim in zip(ids, limits, strict=True))
        assert sum(counts.values()) == min(n, sum(limits))
        state = batch.state
        assert state.day == moment.date()


def test_the_rotation_cursor_survives_member_changes() -> None:
    reps = [rep(r) for r in ("rep_a", "rep_b", "rep_c")]
    t = one("round_robin", [Member("rep_a"), Member("rep_c")])
    state = AssignmentState(last_assigned={"t": "rep_b"})  # rep_b left the territory
    assert owners(t, reps, 2, state) == ["rep_a", "rep_c"]
    assert date(2026, 3, 2) == TODAY
