"""Laws of the data: subjects and trees validate by path, round-trip exactly, and loading
arbitrary data only ever raises sfakit errors."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfakit.codec import from_data, to_data
from sfakit.errors import NotFoundError, SfaError, ValidationError
from sfakit.model import Account, Lead, SalesRepId
from sfakit.rules import field
from sfakit.territory import (
    Member,
    RoutingSubject,
    SizeBand,
    Strategy,
    StrategySpec,
    SubjectKind,
    TerritoryNode,
    TerritoryTree,
    TiePolicy,
    check_roster,
    load_tree,
    roster,
    size_band,
)
from sfakit.testing import strategies as sfa

from .support import T0, rep, subjects, tree, trees


def test_from_lead_copies_the_routing_fields() -> None:
    lead = Lead(
        company="Acme",
        country="DE",
        region="Bayern",
        postal_code="80331",
        city="München",
        industry="retail",
        company_size=250,
        product_interest=("led-bulbs", "fixtures"),
        language="de",
        source="web",
        owner_id=SalesRepId("rep_anna"),
        created_at=T0,
    )
    s = RoutingSubject.from_lead(lead, pinned=True)
    assert (s.id, s.kind, s.country, s.region, s.postal_code, s.city) == (
        lead.id,
        SubjectKind.LEAD,
        "DE",
        "Bayern",
        "80331",
        "München",
    )
    assert (s.industry, s.company_size, s.size_band) == ("retail", 250, SizeBand.LARGE)
    assert (s.product_interest, s.language, s.source, s.owner_id, s.pinned) == (
        ("led-bulbs", "fixtures"),
        "de",
        "web",
        "rep_anna",
        True,
    )


@given(sfa.leads())
def test_every_lead_makes_a_subject(lead: Lead) -> None:
    s = RoutingSubject.from_lead(lead)
    assert s.id == lead.id
    assert s.size_band == size_band(lead.company_size)


@given(sfa.accounts())
def test_every_account_makes_a_subject(account: Account) -> None:
    s = RoutingSubject.from_account(account)
    assert (s.kind, s.country, s.tags) == (
        SubjectKind.ACCOUNT,
        account.billing_country,
        account.tags,
    )


def test_size_bands_follow_head_count() -> None:
    assert [size_band(n) for n in (0, 9, 10, 49, 50, 249, 250, 999, 1000)] == [
        SizeBand.MICRO,
        SizeBand.MICRO,
        SizeBand.SMALL,
        SizeBand.SMALL,
        SizeBand.MEDIUM,
        SizeBand.MEDIUM,
        SizeBand.LARGE,
        SizeBand.LARGE,
        SizeBand.ENTERPRISE,
    ]


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"id": "nobody"}, "$.id"),
        ({"country": "de"}, "$.country"),
        ({"company_size": -1}, "$.company_size"),
        ({"company_size": 5, "size_band": SizeBand.LARGE}, "$.size_band"),
        ({"owner_id": "acct_1"}, "$.owner_id"),
        ({"pinned": "yes"}, "$.pinned"),
        ({"product_interest": ("",)}, "$.product_interest[0]"),
    ],
)
def test_bad_subject_fields_are_named(fields: dict[str, Any], path: str) -> None:
    with pytest.raises(ValidationError) as err:
        RoutingSubject(**{"id": "lead_1", **fields})
    assert err.value.path == path


def test_a_band_alone_is_allowed() -> None:
    assert RoutingSubject(id="lead_1", size_band=SizeBand.SMALL).size_band is SizeBand.SMALL


@given(subjects)
def test_subjects_round_trip_through_the_codec(s: RoutingSubject) -> None:
    assert from_data(RoutingSubject, to_data(s)) == s


@settings(max_examples=60)
@given(trees())
def test_trees_round_trip_through_the_codec_exactly(t: TerritoryTree) -> None:
    data = to_data(t)
    again = from_data(TerritoryTree, data)
    assert again == t
    assert to_data(again) == data
    assert [n.compiled is None for n in again.nodes] == [n.rules is None for n in t.nodes]


def test_duplicate_keys_name_the_second_node() -> None:
    with pytest.raises(ValidationError) as err:
        tree(TerritoryNode(key="a"), TerritoryNode(key="b"), TerritoryNode(key="a"))
    assert err.value.path == "$.nodes[2].key"
    assert "nodes[0]" in err.value.expected


def test_unknown_parents_are_named() -> None:
    with pytest.raises(ValidationError) as err:
        tree(TerritoryNode(key="a"), TerritoryNode(key="b", parent="c"))
    assert (err.value.path, err.value.value) == ("$.nodes[1].parent", "c")


def test_cycles_are_reported_with_the_loop() -> None:
    with pytest.raises(ValidationError) as err:
        tree(
            TerritoryNode(key="root"),
            TerritoryNode(key="a", parent="c"),
            TerritoryNode(key="b", parent="a"),
            TerritoryNode(key="c", parent="b"),
            TerritoryNode(key="d", parent="root"),
        )
    assert err.value.paths == ("$.nodes[1].parent",)
    assert "a → c → b → a" in err.value.expected


def test_a_node_cannot_be_its_own_parent() -> None:
    with pytest.raises(ValidationError) as err:
        TerritoryNode(key="a", parent="a")
    assert err.value.path == "$.parent"


def test_every_structural_problem_is_listed_at_once() -> None:
    with pytest.raises(ValidationError) as err:
        tree(TerritoryNode(key="a"), TerritoryNode(key="a"), TerritoryNode(key="b", parent="x"))
    assert set(err.value.paths) == {"$.nodes[1].key", "$.nodes[2].parent"}


@pytest.mark.parametrize(
    ("build", "path"),
    [
        (lambda: StrategySpec(name="random"), "$.name"),
        (lambda: StrategySpec(roles=["Sales Team"]), "$.roles[0]"),
        (lambda: Member("rep_a", weight=-1), "$.weight"),
        (lambda: Member("rep_a", daily_limit=-2), "$.daily_limit"),
        (lambda: Member("anna"), "$.rep_id"),
        (lambda: TerritoryNode(key="Bad Key"), "$.key"),
        (lambda: TerritoryNode(key="a", priority=1.5), "$.priority"),  # type: ignore[arg-type]
        (lambda: TerritoryNode(key="a", rules=field("countr").eq("DE")), "$.rules.field"),
        (lambda: TerritoryNode(key="a", rules=field("pinned").gt(True)), "$.rules.op"),
        (
            lambda: TerritoryNode(key="a", rules=field("country").eq("DE") & field("x").is_set()),
            "$.rules.all[1].field",
        ),
        (
            lambda: TerritoryNode(key="a", members=[Member("rep_a"), Member("rep_a")]),
            "$.members[1].rep_id",
        ),
        (
            lambda: TerritoryNode(
                key="a", members=[Member("rep_a")], strategy=StrategySpec(name="daily_quota")
            ),
            "$.members[0].daily_limit",
        ),
        (lambda: TerritoryTree(nodes=[TerritoryNode(key="a")], tie_policy="coin"), "$.tie_policy"),
        (lambda: TerritoryTree(nodes=["a"]), "$.nodes[0]"),
    ],
)
def test_bad_nodes_raise_validation_errors_naming_the_field(build: Any, path: str) -> None:
    with pytest.raises(ValidationError) as err:
        build()
    assert err.value.path == path


def test_loading_names_the_path_of_the_bad_node() -> None:
    data = {
        "nodes": [
            {"key": "emea"},
            {"key": "dach", "parent": "emea"},
            {"key": "de", "parent": "dach"},
            {"key": "fr", "parent": "emea"},
            {"key": "munich", "parent": "bavaria"},
        ]
    }
    with pytest.raises(ValidationError) as err:
        load_tree(data)
    assert err.value.path == "$.nodes[4].parent"
    with pytest.raises(ValidationError) as err:
        load_tree({"nodes": [{"key": "a", "members": [{"rep_id": "rep_a", "weight": -3}]}]})
    assert err.value.path == "$.nodes[0].members[0].weight"
    with pytest.raises(ValidationError) as err:
        load_tree({"nodes": [{"key": "a", "rules": {"field": "country", "op": "eq", "value": 1}}]})
    assert err.value.path == "$.nodes[0].rules.value"


def test_the_roster_check_names_unknown_reps() -> None:
    t = tree(
        TerritoryNode(key="a", members=[Member("rep_anna"), Member("rep_gone")]),
        TerritoryNode(key="b", fallback_owner="rep_left"),
        TerritoryNode(
            key="c",
            members=[Member("rep_anna")],
            strategy=StrategySpec(name="capacity_weighted"),
        ),
    )
    with pytest.raises(ValidationError) as err:
        check_roster(t, [rep("rep_anna")])
    assert err.value.paths == (
        "$.nodes[0].members[1].rep_id",
        "$.nodes[1].fallback_owner",
        "$.nodes[2].members[0].rep_id",
    )
    check_roster(
        t.replace_node("a", members=[]).replace_node("b", fallback_owner=None),
        [rep("rep_anna", capacity=5)],
    )
    with pytest.raises(ValidationError) as err:
        load_tree(to_data(t), reps=[rep("rep_anna", capacity=3)])
    assert err.value.path == "$.nodes[0].members[1].rep_id"


def test_rosters_refuse_the_same_rep_twice() -> None:
    with pytest.raises(ValidationError) as err:
        roster([rep("rep_a"), rep("rep_a")])
    assert err.value.path == "$[1].id"


def test_tree_navigation() -> None:
    t = tree(
        TerritoryNode(key="emea"),
        TerritoryNode(key="dach", parent="emea"),
        TerritoryNode(key="de", parent="dach"),
        TerritoryNode(key="fr", parent="emea"),
    )
    assert t.path("de") == ("emea", "dach", "de")
    assert t.children() == ("emea",)
    assert t.children("emea") == ("dach", "fr")
    with pytest.raises(NotFoundError):
        t.node("us")
    with pytest.raises(NotFoundError):
        t.replace_node("us", priority=1)
    assert t.replace_node("fr", priority=3).node("fr").priority == 3
    assert t.nodes[0].strategy.name is Strategy.ROUND_ROBIN
    assert t.tie_policy is TiePolicy.QUEUE


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=6), st.floats()),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=12,
)
node_like = st.fixed_dictionaries(
    {"key": st.sampled_from(["a", "b", "c", "B", ""])},
    optional={
        "parent": st.sampled_from(["a", "b", "c", None, 3]),
        "priority": json_values,
        "members": json_values,
        "strategy": st.one_of(json_values, st.just({"name": "round_robin"})),
        "rules": json_values,
    },
)


@settings(max_examples=150)
@given(st.one_of(json_values, st.fixed_dictionaries({"nodes": st.lists(node_like, max_size=4)})))
def test_loading_arbitrary_data_only_raises_sfakit_errors(data: Any) -> None:
    try:
        loaded = load_tree(data)
    except SfaError:
        return
    assert isinstance(loaded, TerritoryTree)
