"""Law: the compiled index finds exactly the territories the naive scan finds."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sfakit.rules import AnyOf, field
from sfakit.territory import (
    RoutingSubject,
    TerritoryNode,
    TerritoryTree,
    compile_index,
    matching_territories,
)
from sfakit.testing import strategies as sfa

from .support import rules, subjects, tree, trees

props = settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])


@props
@given(trees(max_nodes=14), st.lists(subjects, min_size=1, max_size=8))
def test_the_index_equals_the_naive_scan(t: TerritoryTree, batch: list[RoutingSubject]) -> None:
    index = compile_index(t)
    for s in batch:
        assert index.matching(s) == matching_territories(s, t)
        assert matching_territories(s, index) == matching_territories(s, t)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    trees(
        max_nodes=8, rule_strategy=st.one_of(st.none(), sfa.criteria(RoutingSubject, max_leaves=5))
    ),
    st.lists(subjects, min_size=1, max_size=5),
)
def test_the_index_equals_the_scan_for_arbitrary_criteria(
    t: TerritoryTree, batch: list[RoutingSubject]
) -> None:
    index = compile_index(t)
    for s in batch:
        assert index.matching(s) == matching_territories(s, t)


@given(st.lists(rules, min_size=1, max_size=30), st.lists(subjects, min_size=1, max_size=10))
def test_the_index_equals_the_scan_for_a_flat_tree(rule_list, batch) -> None:  # type: ignore[no-untyped-def]
    t = TerritoryTree(
        nodes=[TerritoryNode(key="root")]
        + [TerritoryNode(key=f"t{i}", parent="root", rules=r) for i, r in enumerate(rule_list)]
    )
    index = compile_index(t)
    for s in batch:
        assert index.matching(s) == matching_territories(s, t)


def test_the_index_files_nodes_by_their_rarest_key() -> None:
    t = tree(
        TerritoryNode(key="de", rules=field("country").eq("DE")),
        *(
            TerritoryNode(key=f"de-{p}", parent="de", rules=field("postal_code").startswith(p))
            for p in ("1", "80", "81")
        ),
        TerritoryNode(key="fixtures", rules=field("product_interest").contains("fixtures")),
        TerritoryNode(key="big", rules=field("company_size").ge(1000)),
        TerritoryNode(key="never", rules=AnyOf(())),
        TerritoryNode(
            key="either", rules=field("country").eq("FR") | field("postal_code").startswith("75")
        ),
        TerritoryNode(key="range", rules=field("postal_code").between("20000", "29999")),
    )
    stats = compile_index(t).stats
    assert (
        stats.territories,
        stats.exact,
        stats.prefix,
        stats.contains,
        stats.ranges,
        stats.residual,
        stats.never,
    ) == (9, 1, 4, 1, 1, 1, 1)
    index = compile_index(t)
    assert index.matching(RoutingSubject(id="lead_1", country="DE", postal_code="80331")) == (
        "de",
        "de-80",
    )
    assert index.matching(RoutingSubject(id="lead_1", country="IT", postal_code="75001")) == (
        "either",
    )
    assert index.matching(
        RoutingSubject(id="lead_1", company_size=5000, product_interest=("fixtures",))
    ) == (
        "fixtures",
        "big",
    )


@given(
    st.lists(
        st.tuples(st.integers(0, 99), st.integers(0, 20)).map(
            lambda p: (f"{p[0]:02d}000", f"{min(99, p[0] + p[1]):02d}999")
        ),
        min_size=1,
        max_size=25,
    ),
    st.lists(st.integers(0, 99_999).map(lambda n: f"{n:05d}"), min_size=1, max_size=20),
)
def test_overlapping_postal_ranges_are_all_found(
    ranges: list[tuple[str, str]], codes: list[str]
) -> None:
    t = TerritoryTree(
        nodes=[
            TerritoryNode(key=f"r{i}", rules=field("postal_code").between(low, high))
            for i, (low, high) in enumerate(ranges)
        ]
    )
    index = compile_index(t)
    assert index.stats.ranges == len(ranges)
    for code in codes:
        s = RoutingSubject(id="lead_1", postal_code=code)
        expected = tuple(f"r{i}" for i, (low, high) in enumerate(ranges) if low <= code <= high)
        assert index.matching(s) == expected == matching_territories(s, t)
