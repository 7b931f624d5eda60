"""Reps, trees and Hypothesis strategies shared by the territory tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import attrs
from hypothesis import strategies as st

from sfakit.model import SalesRep, SalesRepId
from sfakit.rules import AllOf, AnyOf, Condition, Criteria, Not
from sfakit.territory import (
    Member,
    RoutingSubject,
    SizeBand,
    Strategy,
    StrategySpec,
    TerritoryNode,
    TerritoryTree,
    TiePolicy,
)
from sfakit.testing import strategies as sfa

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TODAY = T0.date()

COUNTRIES = ("DE", "AT", "FR", "CH")
POSTALS = ("80331", "80999", "81000", "10115", "75001", "8001", "8")
PREFIXES = ("8", "80", "803", "81", "1", "75", "8001")
PRODUCTS = ("led-bulbs", "fixtures", "services")
LANGUAGES = ("de", "fr", "en", "en-GB")
INDUSTRIES = ("retail", "hospitality")
REP_IDS = tuple(f"rep_{n}" for n in ("anna", "ben", "cleo", "dan", "eva", "finn"))
ROLES = ("sales", "manager")


def rep(rep_id: str, **fields: Any) -> SalesRep:
    name = rep_id.removeprefix("rep_").title()
    return SalesRep(id=SalesRepId(rep_id), name=name, created_at=T0, **fields)


def subject(sid: str = "lead_1", **fields: Any) -> RoutingSubject:
    return RoutingSubject(id=sid, **fields)


def tree(*nodes: TerritoryNode, **fields: Any) -> TerritoryTree:
    return TerritoryTree(nodes=nodes, **fields)


# -- Hypothesis ---------------------------------------------------------------------------


def _opt(values: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), st.sampled_from(values))


leaves: st.SearchStrategy[Criteria] = st.one_of(
    st.sampled_from(COUNTRIES).map(lambda c: Condition("country", "eq", c)),
    st.lists(st.sampled_from(COUNTRIES), min_size=1, max_size=3).map(
        lambda cs: Condition("country", "in", cs)
    ),
    st.sampled_from(PREFIXES).map(lambda p: Condition("postal_code", "startswith", p)),
    st.sampled_from(PRODUCTS).map(lambda p: Condition("product_interest", "contains", p)),
    st.lists(st.sampled_from(LANGUAGES), min_size=1, max_size=2).map(
        lambda ls: Condition("language", "in", ls)
    ),
    st.sampled_from(INDUSTRIES).map(lambda i: Condition("industry", "eq", i)),
    st.integers(0, 2000).map(lambda n: Condition("company_size", "ge", n)),
    st.tuples(
        st.sampled_from(("10000", "75000", "80000")), st.sampled_from(("80500", "99999"))
    ).map(lambda lh: Condition("postal_code", "between", lh)),
    st.sampled_from(list(SizeBand)).map(lambda b: Condition("size_band", "eq", b.value)),
    st.sampled_from(COUNTRIES).map(lambda c: Condition("country", "ne", c)),
    st.just(Condition("region", "is_set")),
)

rules: st.SearchStrategy[Criteria] = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=3).map(AllOf),
        st.lists(children, max_size=3).map(AnyOf),
        children.map(Not),
    ),
    max_leaves=5,
)

any_rules = st.one_of(st.none(), rules, rules, rules, sfa.criteria(RoutingSubject, max_leaves=4))

members = st.lists(
    st.builds(
        Member,
        st.sampled_from(REP_IDS),
        st.sampled_from(ROLES),
        weight=st.integers(0, 3),
        daily_limit=st.one_of(st.none(), st.integers(0, 4)),
    ),
    max_size=4,
    unique_by=lambda m: m.rep_id,
)

specs = st.builds(
    StrategySpec,
    name=st.sampled_from([s for s in Strategy if s is not Strategy.DAILY_QUOTA]),
    roles=st.sampled_from(((), ("sales",))),
    required_skills=st.sampled_from(((), (), (), ("led-bulbs",))),
    match_language=st.sampled_from((False, False, True)),
    match_products=st.sampled_from((False, False, True)),
)


@st.composite
def trees(draw: st.DrawFn, *, max_nodes: int = 10, rule_strategy: Any = any_rules) -> TerritoryTree:
    """Random acyclic trees: node i's parent is an earlier node (or none)."""
    count = draw(st.integers(1, max_nodes))
    nodes = []
    for i in range(count):
        parent = draw(st.one_of(st.none(), st.integers(0, i - 1))) if i else None
        nodes.append(
            TerritoryNode(
                key=f"t{i}",
                parent=None if parent is None else f"t{parent}",
                rules=draw(rule_strategy),
                priority=draw(st.integers(0, 2)),
                members=draw(members),
                strategy=draw(specs),
                fallback_owner=draw(st.one_of(st.none(), st.sampled_from(REP_IDS))),
                fallback_queue=draw(st.one_of(st.none(), st.just(f"queue-{i}"))),
            )
        )
    order = draw(st.permutations(nodes))  # definition order need not put parents first
    return TerritoryTree(nodes=order, tie_policy=draw(st.sampled_from(list(TiePolicy))))


subjects = st.builds(
    RoutingSubject,
    id=st.integers(1, 10**6).map(lambda n: f"lead_{n}"),
    country=_opt(COUNTRIES),
    region=_opt(("Bayern", "Tirol")),
    postal_code=_opt(POSTALS),
    industry=_opt(INDUSTRIES),
    company_size=st.one_of(st.none(), st.integers(0, 3000)),
    product_interest=st.lists(st.sampled_from(PRODUCTS), max_size=2, unique=True).map(tuple),
    language=_opt(LANGUAGES),
    owner_id=_opt(REP_IDS),
    pinned=st.sampled_from((False, False, False, True)),
)

unpinned_subjects = subjects.map(lambda s: attrs.evolve(s, pinned=False))


rosters = st.lists(
    st.builds(
        lambda rep_id, active, capacity, skills, languages, away: rep(
            rep_id,
            active=active,
            capacity=capacity,
            skills=skills,
            languages=languages,
            out_of_office_until=away,
        ),
        st.sampled_from(REP_IDS),
        st.sampled_from((True, True, True, False)),
        st.one_of(st.none(), st.integers(0, 4)),
        st.lists(st.sampled_from(PRODUCTS), max_size=2, unique=True).map(tuple),
        st.lists(st.sampled_from(LANGUAGES), max_size=2, unique=True).map(tuple),
        st.one_of(st.none(), st.sampled_from((date(2026, 3, 1), TODAY, date(2026, 3, 9)))),
    ),
    unique_by=lambda r: r.id,
    min_size=len(REP_IDS) - 2,
    max_size=len(REP_IDS),
)
