"""Laws of routing: deepest then priority wins; ties follow the policy; pinned never
moves; sticky owners stay; routing is deterministic and total; the trace says why."""

from __future__ import annotations

from datetime import datetime

import attrs
import pytest
from hypothesis import HealthCheck, given, settings

from sfakit.errors import SfaError, ValidationError
from sfakit.model import SalesRep
from sfakit.rules import field
from sfakit.territory import (
    AmbiguousRouteError,
    AssignmentState,
    Member,
    Outcome,
    RoutingResult,
    RoutingSubject,
    TerritoryNode,
    TerritoryTree,
    compile_index,
    matching_territories,
    route,
    route_many,
)

from .support import T0, rep, rosters, subject, subjects, tree, trees, unpinned_subjects

REPS = [rep(r) for r in ("rep_anna", "rep_ben", "rep_cleo", "rep_dan")]
props = settings(max_examples=120, suppress_health_check=[HealthCheck.too_slow])


def emea() -> TerritoryTree:
    return tree(
        TerritoryNode(key="emea", fallback_queue="emea-inbox"),
        TerritoryNode(key="dach", parent="emea", rules=field("country").isin(["DE", "AT", "CH"])),
        TerritoryNode(
            key="bavaria",
            parent="dach",
            rules=field("postal_code").startswith("8"),
            members=[Member("rep_anna"), Member("rep_ben")],
        ),
        TerritoryNode(
            key="munich",
            parent="bavaria",
            rules=field("postal_code").startswith("80"),
            members=[Member("rep_cleo")],
        ),
        TerritoryNode(
            key="lighting",
            parent="dach",
            rules=field("product_interest").contains("fixtures"),
            priority=5,
            members=[Member("rep_dan")],
        ),
        TerritoryNode(key="france", parent="emea", rules=field("country").eq("FR")),
    )


def go(
    s: RoutingSubject, t: TerritoryTree, state: AssignmentState | None = None, **kw: bool
) -> RoutingResult:
    return route(s, t, state or AssignmentState(), T0, reps=REPS, **kw)


def test_the_deepest_match_wins() -> None:
    r = go(subject(country="DE", postal_code="80331", product_interest=("fixtures",)), emea())
    assert r.trace.matched == ("emea", "dach", "bavaria", "munich", "lighting")
    assert (r.territory, r.owner, r.outcome) == ("munich", "rep_cleo", Outcome.ASSIGNED)


def test_priority_decides_between_equally_deep_matches() -> None:
    r = go(subject(country="DE", postal_code="90402", product_interest=("fixtures",)), emea())
    assert (r.territory, r.owner) == ("lighting", "rep_dan")


def test_a_child_never_matches_when_its_parent_does_not() -> None:
    r = go(subject(country="FR", postal_code="80331"), emea())
    assert r.trace.matched == ("emea", "france")
    assert r.territory == "france"


def test_no_member_falls_back_up_the_tree() -> None:
    r = go(subject(country="FR"), emea())
    assert (r.territory, r.owner, r.queue, r.outcome) == (
        "france",
        None,
        "emea-inbox",
        Outcome.QUEUED,
    )
    assert r.trace.steps[-1] == "fallback queue of emea: emea-inbox"


def test_no_territory_goes_to_the_default_queue() -> None:
    t = emea().replace_node("emea", rules=field("country").isin(["DE", "FR"]))
    r = go(subject(country="US", owner_id="rep_anna"), t)
    assert (r.territory, r.owner, r.queue, r.outcome) == (
        None,
        None,
        "unassigned",
        Outcome.NO_TERRITORY,
    )
    assert r.change.open_items == (("rep_anna", -1),)


def _tied() -> TerritoryTree:
    return tree(
        TerritoryNode(key="north", rules=field("country").eq("DE"), members=[Member("rep_anna")]),
        TerritoryNode(key="south", rules=field("country").eq("DE"), members=[Member("rep_ben")]),
    )


def test_a_tie_goes_to_the_review_queue_by_default() -> None:
    r = go(subject(country="DE"), _tied())
    assert (r.territory, r.owner, r.queue, r.outcome) == (
        None,
        None,
        "territory-review",
        Outcome.TIE,
    )
    assert r.trace.tied == ("north", "south")


def test_first_defined_settles_a_tie() -> None:
    r = go(subject(country="DE"), attrs.evolve(_tied(), tie_policy="first_defined"))
    assert (r.territory, r.owner) == ("north", "rep_anna")


def test_the_error_policy_raises_a_clear_sfakit_error() -> None:
    with pytest.raises(AmbiguousRouteError) as err:
        go(subject(country="DE"), attrs.evolve(_tied(), tie_policy="error"))
    assert isinstance(err.value, SfaError)
    assert err.value.territories == ("north", "south")
    assert "north, south" in str(err.value)
    assert "priority" in str(err.value)


def test_pinned_subjects_keep_their_owner() -> None:
    r = go(subject(country="DE", postal_code="80331", owner_id="rep_dan", pinned=True), emea())
    assert (r.territory, r.owner, r.outcome) == ("munich", "rep_dan", Outcome.PINNED)
    assert r.change.is_empty


def test_a_pinned_subject_without_owner_goes_to_review() -> None:
    r = go(subject(country="DE", pinned=True), emea())
    assert (r.owner, r.queue, r.outcome) == (None, "territory-review", Outcome.PINNED)


def test_sticky_owners_keep_their_subjects_unless_told_otherwise() -> None:
    s = subject(country="DE", postal_code="81000", owner_id="rep_ben")
    kept = go(s, emea())
    assert (kept.owner, kept.outcome) == ("rep_ben", Outcome.KEPT)
    assert kept.change.is_empty
    moved = go(s, emea(), sticky=False)
    assert (moved.owner, moved.outcome) == ("rep_anna", Outcome.ASSIGNED)
    assert moved.change.open_items == (("rep_ben", -1), ("rep_anna", 1))


def test_an_inactive_owner_is_not_sticky() -> None:
    reps = [rep("rep_anna"), rep("rep_ben", active=False)]
    r = route(
        subject(country="DE", postal_code="81000", owner_id="rep_ben"),
        emea(),
        AssignmentState(),
        T0,
        reps=reps,
    )
    assert r.owner == "rep_anna"


def test_missing_fields_are_routed_by_the_rules_that_can_decide() -> None:
    s = subject(country="DE", product_interest=("fixtures",))  # no postal code
    r = go(s, emea(), explain=True)
    assert r.territory == "lighting"
    assert "postal_code" in r.trace.missing_fields
    assert r.trace.undecided == ("bavaria",)
    assert "could not decide: postal_code not set" in r.trace.render()


def test_the_explained_trace_lists_each_rule_and_member() -> None:
    r = go(subject(country="DE", postal_code="81000"), emea(), explain=True)
    checks = {c.territory: c for c in r.trace.checks}
    assert set(checks) == {"emea", "dach", "bavaria", "munich", "lighting", "france"}
    assert checks["france"].verdict is not None
    assert checks["france"].verdict.trace.describe() == "country eq 'FR' (actual 'DE')"  # type: ignore[union-attr, unused-ignore]
    assert [(m.rep_id, m.eligible) for m in r.trace.members] == [
        ("rep_anna", True),
        ("rep_ben", True),
    ]
    text = r.trace.render()
    assert "[ ] munich" in text
    assert "[x] bavaria" in text
    assert "rep_anna (sales): eligible" in text


def test_explain_does_not_change_the_decision() -> None:
    t = emea()
    for s in (
        subject(country="DE", postal_code="81000"),
        subject(country="FR"),
        subject(country="US"),
        subject(country="AT", product_interest=("fixtures",), owner_id="rep_dan"),
    ):
        plain, explained = go(s, t), go(s, t, explain=True)
        assert (plain.territory, plain.owner, plain.queue, plain.outcome, plain.change) == (
            explained.territory,
            explained.owner,
            explained.queue,
            explained.outcome,
            explained.change,
        )


def test_fallback_owner_is_used_only_when_available_and_below_capacity() -> None:
    t = tree(
        TerritoryNode(key="root", fallback_owner="rep_boss", fallback_queue="root-q"),
        TerritoryNode(
            key="leaf", parent="root", members=[Member("rep_anna")], fallback_owner="rep_ben"
        ),
    )
    busy = [rep("rep_anna", capacity=0), rep("rep_ben", capacity=1), rep("rep_boss")]
    state = AssignmentState(open_items={"rep_ben": 1})
    r = route(subject(), t, state, T0, reps=busy)
    assert (r.territory, r.owner, r.outcome) == ("leaf", "rep_boss", Outcome.FALLBACK_OWNER)
    assert "fallback owner rep_ben of leaf is at capacity" in r.trace.steps
    away = [rep("rep_anna", capacity=0), rep("rep_ben", capacity=1), rep("rep_boss", active=False)]
    r = route(subject(), t, state, T0, reps=away)
    assert (r.owner, r.queue) == (None, "root-q")


@pytest.mark.parametrize(
    ("call", "path"),
    [
        (lambda t: route("lead", t, AssignmentState(), T0, reps=REPS), "$.subject"),  # type: ignore[arg-type]
        (lambda t: route(subject(), "tree", AssignmentState(), T0, reps=REPS), "$.tree"),  # type: ignore[arg-type]
        (lambda t: route(subject(), t, {}, T0, reps=REPS), "$.state"),  # type: ignore[arg-type]
        (
            lambda t: route(subject(), t, AssignmentState(), datetime(2026, 3, 2), reps=REPS),
            "$.as_of",
        ),
        (lambda t: route(subject(), t, AssignmentState(), T0, reps=["anna"]), "$[0]"),  # type: ignore[list-item]
        (lambda t: route(subject(), t, AssignmentState(), T0, reps=REPS, sticky="yes"), "$.sticky"),  # type: ignore[arg-type]
        (lambda t: route_many([subject(), 3], t, AssignmentState(), T0, reps=REPS), "$.subject"),  # type: ignore[list-item]
        (lambda t: matching_territories(None, t), "$.subject"),  # type: ignore[arg-type]
        (lambda t: compile_index("t"), "$.tree"),  # type: ignore[arg-type]
    ],
)
def test_bad_arguments_raise_validation_errors_naming_the_field(call, path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as err:
        call(emea())
    assert err.value.path == path


def test_a_state_from_a_later_day_is_refused() -> None:
    later = AssignmentState(day=T0.date().replace(day=3))
    with pytest.raises(ValidationError) as err:
        go(subject(), emea(), later)
    assert err.value.path == "$.as_of"


def _check_total(results) -> None:  # type: ignore[no-untyped-def]
    for r in results:
        assert (r.owner is None) != (r.queue is None), r
        assert r.territory is not None or r.queue is not None or r.outcome is Outcome.PINNED


@props
@given(
    trees(),
    rosters,
    subjects.map(lambda s: [s]) | subjects.flatmap(lambda s: subjects.map(lambda t: [s, t])),
)
def test_routing_is_deterministic_and_total(
    t: TerritoryTree, reps: list[SalesRep], batch: list[RoutingSubject]
) -> None:
    try:
        first = route_many(batch, t, AssignmentState(), T0, reps=reps)
    except AmbiguousRouteError:
        assert t.tie_policy.value == "error"
        return
    again = route_many(batch, t, AssignmentState(), T0, reps=reps)
    assert first == again
    _check_total(first.results)


@props
@given(trees(), rosters, subjects)
def test_pinned_never_moves(t: TerritoryTree, reps: list[SalesRep], s: RoutingSubject) -> None:
    pinned = attrs.evolve(s, pinned=True)
    r = route(pinned, t, AssignmentState(), T0, reps=reps)
    assert r.outcome is Outcome.PINNED
    assert r.owner == pinned.owner_id
    assert not r.change.open_items
    assert r.change.last_assigned is None


@props
@given(trees(), rosters, unpinned_subjects)
def test_sticky_owners_stay(t: TerritoryTree, reps: list[SalesRep], s: RoutingSubject) -> None:
    try:
        r = route(s, t, AssignmentState(), T0, reps=reps)
    except AmbiguousRouteError:
        return
    active = {x.id for x in reps if x.active}
    if r.territory is not None and s.owner_id in active:
        members = {m.rep_id for m in t.node(r.territory).members}
        if s.owner_id in members:
            assert (r.owner, r.outcome) == (s.owner_id, Outcome.KEPT)


@props
@given(trees(), rosters, subjects.flatmap(lambda s: subjects.map(lambda t: [s, t])))
def test_a_batch_equals_routing_one_by_one(
    t: TerritoryTree, reps: list[SalesRep], batch: list[RoutingSubject]
) -> None:
    try:
        together = route_many(batch, t, AssignmentState(), T0, reps=reps)
    except AmbiguousRouteError:
        return
    state = AssignmentState()
    for s, expected in zip(batch, together.results, strict=True):
        alone = route(s, t, state, T0, reps=reps)
        assert alone == expected
        state = state.apply(alone.change)
    assert state == together.state


@props
@given(trees(), rosters, subjects)
def test_the_index_routes_exactly_like_the_scan(
    t: TerritoryTree, reps: list[SalesRep], s: RoutingSubject
) -> None:
    index = compile_index(t)
    try:
        scanned = route(s, t, AssignmentState(), T0, reps=reps)
    except AmbiguousRouteError:
        with pytest.raises(AmbiguousRouteError):
            route(s, index, AssignmentState(), T0, reps=reps)
        return
    assert route(s, index, AssignmentState(), T0, reps=reps) == scanned
