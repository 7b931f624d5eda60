"""Laws of the lint: it finds the syntactic shadowing and contradiction cases, and what
it calls unreachable or shadowed really never wins."""

from __future__ import annotations

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sfakit.model import SalesRep
from sfakit.rules import AllOf, AnyOf, field, not_
from sfakit.territory import (
    AmbiguousRouteError,
    AssignmentState,
    LintKind,
    Member,
    RoutingSubject,
    StrategySpec,
    TerritoryNode,
    TerritoryTree,
    lint_tree,
    matching_territories,
    route,
)

from .support import T0, rep, subjects, tree, trees


def kinds(t: TerritoryTree, **kw: object) -> list[tuple[str, str, str | None]]:
    return [(i.kind.value, i.territory, i.related) for i in lint_tree(t, **kw)]  # type: ignore[arg-type]


def node(key: str, rules=None, **kw) -> TerritoryNode:  # type: ignore[no-untyped-def]
    return TerritoryNode(key=key, rules=rules, fallback_queue="q", **kw)


def test_an_identical_rule_of_higher_priority_shadows() -> None:
    rule = field("country").eq("DE")
    assert kinds(tree(node("a", rule), node("b", rule, priority=1))) == [("shadowed", "a", "b")]


def test_a_rule_without_conditions_shadows_its_lower_siblings() -> None:
    t = tree(
        node("catch-all", None, priority=9),
        node("de", field("country").eq("DE")),
        node("all", AllOf(())),
    )
    assert kinds(t) == [("shadowed", "de", "catch-all"), ("shadowed", "all", "catch-all")]


def test_a_more_general_rule_shadows() -> None:
    t = tree(
        node("dach", field("country").isin(["DE", "AT", "CH"]), priority=2),
        node("munich", field("country").eq("DE") & field("postal_code").startswith("803")),
        node("bavaria", field("postal_code").startswith("8"), priority=3),
        node("mid", field("company_size").between(50, 249)),
        node("wide", field("company_size").between(10, 999), priority=1),
    )
    assert kinds(t) == [
        ("shadowed", "munich", "bavaria"),
        ("shadowed", "mid", "wide"),
    ]


def test_lower_priority_or_narrower_siblings_do_not_shadow() -> None:
    t = tree(
        node("de", field("country").eq("DE"), priority=1),
        node(
            "munich", field("country").eq("DE") & field("postal_code").startswith("80"), priority=2
        ),
        node("fr", field("country").eq("FR"), priority=5),
    )
    assert kinds(t) == []


def test_equal_priority_is_a_tie_or_first_defined_shadowing() -> None:
    t = tree(node("north", field("country").eq("DE")), node("south", field("country").eq("DE")))
    assert kinds(t) == [("tie", "south", "north")]
    assert kinds(attrs.evolve(t, tie_policy="first_defined")) == [("shadowed", "south", "north")]
    assert "raises AmbiguousRouteError" in lint_tree(attrs.evolve(t, tie_policy="error"))[0].message


def test_contradictions_make_territories_unreachable() -> None:
    t = tree(
        node("de-fr", field("country").eq("DE") & field("country").eq("FR")),
        node("lists", field("country").isin(["DE", "AT"]) & field("country").isin(["FR"])),
        node(
            "prefix", field("postal_code").startswith("80") & field("postal_code").startswith("75")
        ),
        node("eq-prefix", field("postal_code").eq("10115") & field("postal_code").startswith("8")),
        node("range", field("company_size").gt(100) & field("company_size").lt(50)),
        node("not-in", field("country").eq("DE") & field("country").not_in(["DE"])),
        node("empty-any", AnyOf(())),
        node("never", not_(AllOf(()))),
        node("fine", field("country").eq("DE") & field("postal_code").startswith("8")),
    )
    found = kinds(t)
    assert found == [
        ("unreachable", k, None)
        for k in ("de-fr", "lists", "prefix", "eq-prefix", "range", "not-in", "empty-any", "never")
    ]
    first = lint_tree(t)[0]
    assert (first.path, first.message) == (
        "$.nodes[0].rules",
        "no subject can match: country: no value satisfies country eq 'DE' and country eq 'FR'",
    )


def test_children_of_an_unreachable_parent_are_unreachable() -> None:
    t = tree(
        node("de", field("country").eq("DE")),
        node("france-under-de", field("country").eq("FR"), parent="de"),
        node("paris", field("postal_code").startswith("75"), parent="france-under-de"),
    )
    issues = lint_tree(t)
    assert [(i.territory, i.path) for i in issues] == [
        ("france-under-de", "$.nodes[1].rules"),
        ("paris", "$.nodes[2].parent"),
    ]
    assert "with its ancestors' rules" in issues[0].message
    assert issues[1].message == "its parent france-under-de can never match"


def test_inactive_members_and_missing_receivers_are_reported() -> None:
    t = tree(
        TerritoryNode(key="root"),
        TerritoryNode(
            key="a",
            parent="root",
            rules=field("country").eq("DE"),
            members=[Member("rep_gone"), Member("rep_anna")],
            fallback_owner="rep_left",
        ),
        TerritoryNode(
            key="b",
            parent="root",
            rules=field("country").eq("FR"),
            members=[Member("rep_boss", "manager")],
            strategy=StrategySpec(roles=["sales"]),
        ),
    )
    reps = [rep("rep_anna"), rep("rep_gone", active=False), rep("rep_boss")]
    issues = lint_tree(t, reps=reps)
    assert [(i.kind.value, i.territory, i.path) for i in issues] == [
        ("no_receiver", "root", "$.nodes[0].members"),
        ("inactive_member", "a", "$.nodes[1].members[0]"),
        ("inactive_member", "a", "$.nodes[1].fallback_owner"),
        ("no_receiver", "b", "$.nodes[2].members"),
    ]
    assert issues[1].message == (
        "member rep_gone is inactive: reassign their items (deactivate_rep) and remove them"
    )
    assert [i.kind for i in lint_tree(t)] == [LintKind.NO_RECEIVER, LintKind.NO_RECEIVER]


lint_props = settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])


@lint_props
@given(trees(max_nodes=10), st.lists(subjects, min_size=1, max_size=10))
def test_what_lint_calls_unreachable_never_matches(
    t: TerritoryTree, batch: list[RoutingSubject]
) -> None:
    dead = {i.territory for i in lint_tree(t) if i.kind is LintKind.UNREACHABLE}
    for s in batch:
        assert not dead & set(matching_territories(s, t))


@lint_props
@given(trees(max_nodes=10), st.lists(subjects, min_size=1, max_size=10))
def test_what_lint_calls_shadowed_never_wins(t: TerritoryTree, batch: list[RoutingSubject]) -> None:
    shadowed = {i.territory for i in lint_tree(t) if i.kind is LintKind.SHADOWED}
    reps: list[SalesRep] = []
    for s in batch:
        try:
            r = route(attrs.evolve(s, pinned=False), t, AssignmentState(), T0, reps=reps)
        except AmbiguousRouteError:
            continue
        assert r.territory not in shadowed
