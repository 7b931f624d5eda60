"""Laws of realignment (a dry run that keeps pinned records and sticky owners, and says
why each record moves), of quota roll-ups (mismatches reported with their numbers, per
currency) and of the assignment state (plain data that round-trips)."""

from __future__ import annotations

from datetime import date, timedelta

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sfakit.codec import from_data, to_data
from sfakit.errors import NotFoundError, ValidationError
from sfakit.model import Money, Quota, SalesRep
from sfakit.rules import field
from sfakit.territory import (
    AmbiguousRouteError,
    AssignmentState,
    Member,
    MoveCause,
    Outcome,
    RollupStatus,
    RoutingSubject,
    StateChange,
    TerritoryNode,
    TerritoryTree,
    batches,
    deactivate_rep,
    plan_realignment,
    quota_rollup,
    quota_totals,
    route,
)

from .support import REP_IDS, T0, TODAY, rep, rosters, subject, subjects, tree, trees

REPS = [rep(r) for r in ("rep_anna", "rep_ben", "rep_cleo")]


def old_tree() -> TerritoryTree:
    return tree(
        TerritoryNode(key="de", rules=field("country").eq("DE")),
        TerritoryNode(
            key="north",
            parent="de",
            rules=field("postal_code").startswith("2"),
            members=[Member("rep_anna")],
        ),
        TerritoryNode(
            key="south",
            parent="de",
            rules=field("postal_code").startswith("8"),
            members=[Member("rep_ben")],
        ),
    )


def test_realignment_lists_who_moves_where_and_why() -> None:
    new = old_tree().replace_node("south", rules=field("postal_code").startswith("9"))
    new = new.replace_node("north", members=[Member("rep_cleo"), Member("rep_anna")])
    items = [
        subject("lead_1", country="DE", postal_code="20095", owner_id="rep_anna"),  # sticky
        subject("lead_2", country="DE", postal_code="80331", owner_id="rep_ben"),  # south shrank
        subject("lead_3", country="DE", postal_code="80331", owner_id="rep_ben", pinned=True),
        subject("lead_4", country="DE", postal_code="90402", owner_id="rep_ben"),  # south grew
        subject("lead_5", country="DE", postal_code="20095"),  # unowned
    ]
    plan = plan_realignment(
        old_tree(), new, items, AssignmentState(open_items={"rep_ben": 3}), T0, reps=REPS
    )
    assert [
        (
            m.subject_id,
            m.from_owner,
            m.to_owner,
            m.to_queue,
            m.from_territory,
            m.to_territory,
            m.cause,
        )
        for m in plan.moves
    ] == [
        ("lead_2", "rep_ben", None, "unassigned", "south", "de", MoveCause.TERRITORY_CHANGED),
        ("lead_4", "rep_ben", "rep_ben", None, "de", "south", MoveCause.TERRITORY_CHANGED),
        ("lead_5", None, "rep_cleo", None, "north", "north", MoveCause.UNOWNED),
    ]
    assert plan.moves[0].detail.startswith("now matches de (country eq 'DE'), was south")
    assert plan.moves[0].rule == field("country").eq("DE")
    assert plan.pinned == ("lead_3",)
    assert not plan.moves[1].changes_owner
    assert plan.unchanged == 1
    assert plan.state.open_items == {"rep_ben": 2, "rep_cleo": 1}
    assert plan.summary() == {
        ("rep_ben", "queue:unassigned"): 1,
        ("rep_ben", "rep_ben"): 1,
        (None, "rep_cleo"): 1,
    }


def test_a_member_change_moves_records_to_the_new_member() -> None:
    new = old_tree().replace_node("north", members=[Member("rep_cleo")])
    plan = plan_realignment(
        old_tree(),
        new,
        [subject(country="DE", postal_code="20095", owner_id="rep_anna")],
        AssignmentState(),
        T0,
        reps=REPS,
    )
    (move,) = plan.moves
    assert (move.to_owner, move.cause, move.detail) == (
        "rep_cleo",
        MoveCause.OWNER_NOT_MEMBER,
        "rep_anna is no longer a member of north: rep_cleo",
    )
    assert move.changes_owner


def test_a_territory_change_with_the_same_owner_is_a_move_that_keeps_the_owner() -> None:
    new = old_tree().replace_node("south", members=[Member("rep_ben"), Member("rep_anna")])
    new = new.replace_node(
        "south",
        rules=field("postal_code").startswith("8") | field("postal_code").startswith("2"),
        priority=1,
    )
    plan = plan_realignment(
        old_tree(),
        new,
        [subject(country="DE", postal_code="20095", owner_id="rep_anna")],
        AssignmentState(),
        T0,
        reps=REPS,
    )
    (move,) = plan.moves
    assert (move.from_territory, move.to_territory, move.to_owner, move.changes_owner) == (
        "north",
        "south",
        "rep_anna",
        False,
    )


def test_inactive_owners_and_ties_are_causes_too() -> None:
    reps = [rep("rep_anna", active=False), rep("rep_ben")]
    same = old_tree().replace_node("north", members=[Member("rep_anna"), Member("rep_ben")])
    item = subject(country="DE", postal_code="20095", owner_id="rep_anna")
    (move,) = plan_realignment(same, same, [item], AssignmentState(), T0, reps=reps).moves
    assert (move.to_owner, move.cause) == ("rep_ben", MoveCause.OWNER_UNAVAILABLE)
    tied = same.replace_node("south", rules=field("postal_code").startswith("2"))
    (move,) = plan_realignment(same, tied, [item], AssignmentState(), T0, reps=reps).moves
    assert (move.to_queue, move.cause) == ("territory-review", MoveCause.TIE)


def test_deactivating_a_rep_reroutes_their_open_items() -> None:
    t = old_tree().replace_node(
        "north", members=[Member("rep_anna"), Member("rep_cleo")], fallback_owner="rep_ben"
    )
    items = [
        subject("lead_1", country="DE", postal_code="20095", owner_id="rep_anna"),
        subject("lead_2", country="DE", postal_code="20095", owner_id="rep_anna", pinned=True),
        subject("lead_3", country="DE", postal_code="20095", owner_id="rep_cleo"),
        subject("lead_4", country="DE", postal_code="20095", owner_id="rep_anna"),
    ]
    reps = [rep("rep_anna"), rep("rep_ben"), rep("rep_cleo", capacity=2)]
    state = AssignmentState(open_items={"rep_anna": 3, "rep_cleo": 1})
    plan = deactivate_rep("rep_anna", items, t, state, T0, reps=reps)
    assert [(m.subject_id, m.to_owner, m.cause) for m in plan.moves] == [
        ("lead_1", "rep_cleo", MoveCause.OWNER_UNAVAILABLE),
        ("lead_4", "rep_ben", MoveCause.OWNER_UNAVAILABLE),  # rep_cleo is at capacity now
    ]
    assert (
        plan.moves[1].detail == "rep_anna is deactivated; fallback owner of north: rep_ben: rep_ben"
    )
    assert (plan.pinned, plan.unchanged) == (("lead_2",), 1)
    assert plan.state.open_items == {"rep_anna": 1, "rep_cleo": 2, "rep_ben": 1}
    with pytest.raises(NotFoundError):
        deactivate_rep("rep_nobody", items, t, state, T0, reps=reps)


def test_batches_split_and_group_moves() -> None:
    new = old_tree().replace_node("north", members=[Member("rep_cleo"), Member("rep_ben")])
    items = [
        subject(f"lead_{i}", country="DE", postal_code="20095", owner_id="rep_anna")
        for i in range(5)
    ]
    plan = plan_realignment(old_tree(), new, items, AssignmentState(), T0, reps=REPS)
    assert [len(b) for b in plan.batches(2)] == [2, 2, 1]
    grouped = plan.batches(2, by_destination=True)
    assert [[m.to_owner for m in b] for b in grouped] == [
        ["rep_cleo", "rep_cleo"],
        ["rep_cleo"],
        ["rep_ben", "rep_ben"],
    ]
    with pytest.raises(ValidationError) as err:
        batches(plan.moves, 0)
    assert err.value.path == "$.size"


realign_props = settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow])


@realign_props
@given(
    trees(max_nodes=6),
    trees(max_nodes=6),
    rosters,
    st.lists(subjects, max_size=8, unique_by=lambda s: s.id),
)
def test_realignment_never_moves_pinned_records_and_agrees_with_routing(
    old: TerritoryTree, new: TerritoryTree, reps: list[SalesRep], items: list[RoutingSubject]
) -> None:
    try:
        plan = plan_realignment(old, new, items, AssignmentState(), T0, reps=reps)
    except AmbiguousRouteError:
        return
    moved = {m.subject_id for m in plan.moves}
    pinned = {s.id for s in items if s.pinned}
    assert not moved & pinned
    assert set(plan.pinned) <= pinned
    assert len(plan.moves) + len(plan.pinned) + plan.unchanged == len(items)
    state = AssignmentState(day=TODAY)
    for s in items:
        if s.pinned:
            continue
        r = route(s, new, state, T0, reps=reps)
        state = state.apply(r.change)
        move = next((m for m in plan.moves if m.subject_id == s.id), None)
        if move is None:
            assert r.owner == s.owner_id
        else:
            assert (move.to_owner, move.to_queue, move.to_territory) == (
                r.owner,
                r.queue,
                r.territory,
            )
            if r.outcome is Outcome.KEPT:
                assert not move.changes_owner
    assert state == plan.state


# -- quotas -------------------------------------------------------------------------------


def q(amount: int | str, currency: str = "EUR", period: str = "FY2027", **owner: str) -> Quota:
    return Quota(period=period, amount=Money.of(amount, currency), created_at=T0, **owner)  # type: ignore[arg-type]


def quota_tree() -> TerritoryTree:
    return tree(
        TerritoryNode(key="emea", territory_id="terr_emea"),
        TerritoryNode(
            key="dach",
            parent="emea",
            territory_id="terr_dach",
            members=[Member("rep_anna"), Member("rep_ben")],
        ),
        TerritoryNode(
            key="france", parent="emea", territory_id="terr_fr", members=[Member("rep_cleo")]
        ),
    )


def test_quota_rollups_report_mismatches_with_their_numbers() -> None:
    quotas = [
        q(1_000_000, territory_id="terr_emea"),
        q(600_000, territory_id="terr_dach"),
        q(300_000, territory_id="terr_fr"),
        q(350_000, sales_rep_id="rep_anna"),
        q(250_000, sales_rep_id="rep_ben"),
        q(200_000, "CHF", sales_rep_id="rep_ben"),
        q(999, period="FY2026", sales_rep_id="rep_cleo"),
        q(5, territory_id="terr_gone"),
    ]
    report = quota_rollup(quota_tree(), quotas, "FY2027")
    rows = [(r.territory, r.currency, r.status, str(r.difference)) for r in report.rows]
    assert rows == [
        ("emea", "EUR", RollupStatus.MISMATCH, "100000.00 EUR"),
        ("dach", "CHF", RollupStatus.MISSING_OWN, "-200000.00 CHF"),
        ("dach", "EUR", RollupStatus.OK, "0.00 EUR"),
        ("france", "EUR", RollupStatus.MISSING_PARTS, "300000.00 EUR"),
    ]
    emea = report.rows[0]
    assert emea.parts == (("dach", Money.of(600_000, "EUR")), ("france", Money.of(300_000, "EUR")))
    assert str(emea.parts_total) == "900000.00 EUR"
    assert [q.territory_id for q in report.unmatched] == ["terr_gone"]
    assert len(report.mismatches) == 3
    assert not report.ok


def test_quota_totals_per_rep_and_territory() -> None:
    quotas = [
        q(10, sales_rep_id="rep_anna"),
        q(5, sales_rep_id="rep_anna"),
        q(7, "USD", sales_rep_id="rep_anna"),
        q(3, territory_id="terr_fr"),
    ]
    assert quota_totals(quotas, "FY2027", rep_id="rep_anna") == {
        "EUR": Money.of(15, "EUR"),
        "USD": Money.of(7, "USD"),
    }
    assert quota_totals(quotas, "FY2027", territory_id="terr_fr") == {"EUR": Money.of(3, "EUR")}
    assert quota_totals(quotas, "FY2028", rep_id="rep_anna") == {}
    with pytest.raises(ValidationError):
        quota_totals(quotas, "FY2027")
    with pytest.raises(ValidationError) as err:
        quota_rollup(quota_tree(), ["quota"], "FY2027")  # type: ignore[list-item]
    assert err.value.path == "$.quotas[0]"


def test_a_balanced_tree_is_ok() -> None:
    quotas = [
        q(900, territory_id="terr_emea"),
        q(600, territory_id="terr_dach"),
        q(300, territory_id="terr_fr"),
        q(400, sales_rep_id="rep_anna"),
        q(200, sales_rep_id="rep_ben"),
        q(300, sales_rep_id="rep_cleo"),
    ]
    assert quota_rollup(quota_tree(), quotas, "FY2027").ok


# -- state --------------------------------------------------------------------------------

counts = st.dictionaries(st.sampled_from(REP_IDS), st.integers(0, 50))
states = st.builds(
    AssignmentState,
    day=st.one_of(st.none(), st.dates(date(2026, 1, 1), date(2026, 12, 31))),
    last_assigned=st.dictionaries(st.sampled_from(("north", "south")), st.sampled_from(REP_IDS)),
    open_items=counts,
    assigned_today=counts,
)


@given(states)
def test_states_round_trip_through_the_codec(state: AssignmentState) -> None:
    assert from_data(AssignmentState, to_data(state)) == state


def test_state_changes_round_trip_and_apply() -> None:
    change = StateChange(
        day=TODAY,
        territory="north",
        last_assigned="rep_anna",
        open_items=(("rep_ben", -1), ("rep_anna", 1)),
        assigned_today=(("rep_anna", 1),),
    )
    assert from_data(StateChange, to_data(change)) == change
    state = AssignmentState(
        day=TODAY - timedelta(days=1), open_items={"rep_ben": 1}, assigned_today={"rep_ben": 9}
    )
    after = state.apply(change)
    assert after == AssignmentState(
        day=TODAY,
        last_assigned={"north": "rep_anna"},
        open_items={"rep_anna": 1},
        assigned_today={"rep_anna": 1},
    )
    with pytest.raises(ValidationError) as err:
        after.apply(attrs.evolve(change, day=TODAY - timedelta(days=2)))
    assert err.value.path == "$.day"


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"open_items": {"rep_a": -1}}, "$.open_items[rep_a]"),
        ({"open_items": {"anna": 1}}, "$.open_items[anna]"),
        ({"assigned_today": {"rep_a": True}}, "$.assigned_today[rep_a]"),
        ({"last_assigned": {"north": "anna"}}, "$.last_assigned[north]"),
        ({"day": "2026-03-02"}, "$.day"),
    ],
)
def test_bad_states_name_the_field(fields: dict[str, object], path: str) -> None:
    with pytest.raises(ValidationError) as err:
        AssignmentState(**fields)  # type: ignore[arg-type]
    assert err.value.path == path


def test_route_leaves_its_input_state_untouched() -> None:
    state = AssignmentState(open_items={"rep_anna": 1})
    t = tree(TerritoryNode(key="t", members=[Member("rep_anna")]))
    r = route(RoutingSubject(id="lead_1"), t, state, T0, reps=REPS)
    assert state == AssignmentState(open_items={"rep_anna": 1})
    assert state.apply(r.change).open_items == {"rep_anna": 2}
