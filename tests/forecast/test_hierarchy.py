"""Hierarchies: built from reps and territory trees, checked whole, data round trip."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from sfakit.codec import from_data, to_data
from sfakit.errors import NotFoundError, ValidationError
from sfakit.forecast import (
    Dimension,
    Hierarchy,
    HierarchyNode,
    manager_hierarchy,
    territory_hierarchy,
)
from sfakit.model import SalesRep
from sfakit.territory import TerritoryNode, TerritoryTree

from .support import T0, manager_reps, opp, territory_hierarchies


def test_the_manager_chain_of_reps() -> None:
    team = manager_hierarchy(manager_reps())
    assert team.dimension is Dimension.OWNER
    assert team.path("rep_d") == ("rep_a", "rep_c", "rep_d")
    assert team.children() == ("rep_a", "rep_e")
    assert team.node_of("rep_d") == "rep_d"
    assert team.node_of("rep_zed") is None
    assert team.match_index(None) == -1
    assert "rep_c" in team
    assert len(team) == 5


def test_a_territory_tree_places_deals_by_stored_territory_id() -> None:
    tree = TerritoryTree(
        nodes=[
            TerritoryNode(key="emea", name="Europe"),
            TerritoryNode(key="dach", parent="emea", territory_id="terr_dach"),
        ]
    )
    hierarchy = territory_hierarchy(tree)
    assert hierarchy.nodes[0] == HierarchyNode(key="emea", label="Europe")
    assert hierarchy.node_of("terr_dach") == "dach"
    assert Dimension.TERRITORY.value_of(opp("propose", territory_id="terr_dach")) == "terr_dach"
    with pytest.raises(ValidationError, match=r"\$\.tree"):
        territory_hierarchy([])  # type: ignore[arg-type]


def test_every_problem_of_a_hierarchy_is_reported_by_path() -> None:
    with pytest.raises(ValidationError) as caught:
        Hierarchy(
            dimension="owner",
            nodes=[
                HierarchyNode(key="a", match="x"),
                HierarchyNode(key="a"),
                HierarchyNode(key="b", parent="nowhere", match="x"),
                HierarchyNode(key="c", parent="d"),
                HierarchyNode(key="d", parent="c"),
            ],
        )
    assert caught.value.paths == (
        "$.nodes[1].key",
        "$.nodes[2].match",
        "$.nodes[2].parent",
        "$.nodes[3].parent",
    )
    assert "c -> d -> c" in str(caught.value)
    with pytest.raises(ValidationError, match=r"\$\.dimension"):
        Hierarchy(dimension="colour", nodes=[])


def test_reps_must_name_known_managers() -> None:
    with pytest.raises(ValidationError) as caught:
        manager_hierarchy([SalesRep(id="rep_x", name="X", manager_id="rep_y", created_at=T0)])
    assert caught.value.path == "$.reps[0].manager_id"
    with pytest.raises(ValidationError, match=r"\$\.reps\[0\]"):
        manager_hierarchy(["rep_x"])  # type: ignore[list-item]
    with pytest.raises(NotFoundError):
        manager_hierarchy(manager_reps()).path("rep_zed")


@settings(max_examples=40)
@given(territory_hierarchies())
def test_hierarchies_round_trip_and_every_path_starts_at_a_root(hierarchy: Hierarchy) -> None:
    assert from_data(Hierarchy, to_data(hierarchy)) == hierarchy
    roots = set(hierarchy.children())
    for key in hierarchy.keys:
        path = hierarchy.path(key)
        assert path[0] in roots
        assert path[-1] == key
