"""``rules check``: every problem of a rule file, with its exact path, before it is used."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sfakit.cli.check import check_document
from sfakit.codec import to_data
from sfakit.model import Lead
from sfakit.qualification import Scorecard, ScoreGroup, ScoreRule
from sfakit.rules import Criteria, criteria_to_data, field
from sfakit.testing import strategies as sfa_st

from .conftest import Cli
from .support import TREE


def _file(folder: Path, name: str, data: Any) -> str:
    path = folder / name
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return str(path)


def _problems(out: str, path: str) -> list[str]:
    """The problem lines of ``path``, without the file name and the closing verdict."""
    prefix = f"{path}: "
    lines = [line.removeprefix(prefix) for line in out.splitlines() if line.startswith(prefix)]
    return lines[:-1]


DACH = {"field": "country", "op": "in", "value": ["DE", "AT", "CH"]}

# -- criteria --------------------------------------------------------------------------


def test_a_good_criteria_compiles_against_its_subject(cli: Cli, tmp_path: Path) -> None:
    rule = {
        "kind": "criteria",
        "subject": "Lead",
        "all": [DACH, {"field": "company_size", "op": "ge", "value": 250}],
    }
    path = _file(tmp_path, "dach.json", rule)
    ran = cli("rules", "check", path)
    assert (ran.code, ran.out) == (0, f"{path}: ok (criteria over Lead, 2 conditions)\n")


def test_every_bad_node_of_a_criteria_is_reported_by_path(cli: Cli, tmp_path: Path) -> None:
    rule = {
        "kind": "criteria",
        "subject": "Lead",
        "any": [
            DACH,
            {"field": "contry", "op": "eq", "value": "DE"},
            {"not": {"field": "company_size", "op": "gt", "value": "many"}},
        ],
    }
    path = _file(tmp_path, "bad.json", rule)
    ran = cli("rules", "check", path)
    assert ran.code == 1
    problems = _problems(ran.out, path)
    assert [p.split(":")[0] for p in problems] == ["$.any[1].field", "$.any[2].not.value"]
    assert problems[0].startswith("$.any[1].field: got 'contry'; expected a field of Lead: ")
    assert ran.out.splitlines()[-1] == f"{path}: 2 problems (criteria over Lead)"


def test_a_criteria_needs_a_known_subject_and_valid_nodes(cli: Cli, tmp_path: Path) -> None:
    rule = {"kind": "criteria", "subject": "Prospect", "all": [{"field": "x", "op": "equals"}]}
    path = _file(tmp_path, "subject.json", rule)
    ran = cli("rules", "check", path)
    assert ran.code == 1
    problems = _problems(ran.out, path)
    assert problems[0].startswith(
        "$.subject: got 'Prospect'; expected the record type the criteria tests, one of "
        "Account, Contact, Lead"
    )
    assert "RoutingSubject, Engagement, DealContext" in problems[0]
    assert problems[1].startswith("$.all[0].op: got 'equals'; expected one of eq, ne")


# -- scorecards ------------------------------------------------------------------------

CARD = Scorecard(
    name="inbound",
    qualify_at=50,
    groups=[
        ScoreGroup(
            name="fit",
            max_points=60,
            rules=[
                ScoreRule(name="dach", points=20, criteria=field("country").isin(["DE", "AT"])),
                ScoreRule(name="big", points=40, criteria=field("company_size").ge(250)),
            ],
        ),
        ScoreGroup(
            name="engagement",
            rules=[
                ScoreRule(
                    name="pricing_page",
                    points=15,
                    subject="engagement",
                    criteria=field("kind").eq("page_view") & field("detail").eq("/pricing"),
                )
            ],
        ),
    ],
)


def test_a_good_scorecard_is_built_and_compiled(cli: Cli, tmp_path: Path) -> None:
    path = _file(tmp_path, "card.json", {"kind": "scorecard", **to_data(CARD)})
    ran = cli("rules", "check", path)
    assert ran.code == 0, ran.out
    assert ran.out == f"{path}: ok (scorecard 'inbound', 2 groups, 3 rules, 0 disqualifiers)\n"


def test_a_bad_scorecard_reports_each_problem_by_path(cli: Cli, tmp_path: Path) -> None:
    data = {"kind": "scorecard", **to_data(CARD)}
    data["qualify_at"] = 1.5
    fit = data["groups"][0]["rules"]
    fit[1]["criteria"] = {"field": "head_count", "op": "ge", "value": 250}
    data["groups"][1]["rules"][0]["criteria"]["all"][0]["op"] = "like"
    path = _file(tmp_path, "card.json", data)
    ran = cli("rules", "check", path)
    assert ran.code == 1
    paths = [p.split(":")[0] for p in _problems(ran.out, path)]
    assert paths == ["$.groups[1].rules[0].criteria.all[0].op", "$.qualify_at"]
    # Once the data has the right shape, each criteria is compiled against its subject.
    data["qualify_at"] = "50"
    data["groups"][1]["rules"][0]["criteria"]["all"][0]["op"] = "eq"
    ran = cli("rules", "check", _file(tmp_path, "card.json", data))
    problems = _problems(ran.out, path)
    assert len(problems) == 1
    assert problems[0].startswith(
        "$.groups[0].rules[1].criteria.field: got 'head_count'; expected a field of Lead"
    )


# -- territory trees -------------------------------------------------------------------


def test_a_good_territory_tree_is_built_and_linted(cli: Cli, tmp_path: Path) -> None:
    path = _file(tmp_path, "tree.json", {"kind": "territory_tree", **to_data(TREE)})
    ran = cli("rules", "check", path)
    assert (ran.code, ran.out) == (0, f"{path}: ok (territory tree, 3 territories)\n")


def test_every_bad_node_of_a_tree_is_reported_by_path(cli: Cli, tmp_path: Path) -> None:
    nodes: list[dict[str, Any]] = [
        {"key": "emea", "fallback_queue": "emea-inbox"},
        {"key": "dach", "parent": "emea", "rules": DACH, "strategy": {"name": "lottery"}},
        {
            "key": "france",
            "parent": "emea",
            "rules": {"field": "country", "op": "eq", "value": "FR"},
        },
        {
            "key": "benelux",
            "parent": "emea",
            "rules": {"field": "contry", "op": "eq", "value": "BE"},
        },
    ]
    path = _file(tmp_path, "tree.json", {"kind": "territory_tree", "nodes": nodes})
    ran = cli("rules", "check", path)
    assert ran.code == 1
    problems = _problems(ran.out, path)
    assert [p.split(":")[0] for p in problems] == [
        "$.nodes[1].strategy.name",
        "$.nodes[3].rules.field",
    ]
    assert problems[0] == (
        "$.nodes[1].strategy.name: got 'lottery'; expected one of round_robin, least_loaded, "
        "weighted, capacity_weighted, daily_quota"
    )
    assert problems[1].startswith(
        "$.nodes[3].rules.field: got 'contry'; expected a field of RoutingSubject: id, kind, "
    )
    assert ran.out.splitlines()[-1] == f"{path}: 2 problems (territory tree)"


def test_lint_findings_of_a_valid_tree_fail_the_check_unless_ignored(
    cli: Cli, tmp_path: Path
) -> None:
    nodes = [
        {"key": "dach", "rules": DACH, "priority": 1, "fallback_queue": "dach-inbox"},
        {
            "key": "germany",
            "rules": {"field": "country", "op": "eq", "value": "DE"},
            "fallback_queue": "de-inbox",
        },
        {
            "key": "nowhere",
            "rules": {
                "all": [
                    {"field": "country", "op": "eq", "value": "DE"},
                    {"field": "country", "op": "eq", "value": "FR"},
                ]
            },
            "fallback_queue": "x",
        },
    ]
    path = _file(tmp_path, "tree.json", {"kind": "territory_tree", "nodes": nodes})
    ran = cli("rules", "check", path)
    assert ran.code == 1
    assert _problems(ran.out, path) == [
        "$.nodes[1].rules: shadowed: never wins: sibling dach (priority 1 > 0) matches every "
        "subject it matches (country in ['DE', 'AT', 'CH'])",
        "$.nodes[2].rules: unreachable: no subject can match: country: no value satisfies "
        "country eq 'DE' and country eq 'FR'",
    ]
    ignored = cli("rules", "check", path, "--ignore", "shadowed", "--ignore", "unreachable")
    assert (ignored.code, ignored.out) == (0, f"{path}: ok (territory tree, 3 territories)\n")


# -- files that are not rule files -----------------------------------------------------


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"kind": "criteria",\n  "subject": "Lead",,}', "$: not valid JSON: Expecting "),
        ("[1, 2]", '$: got [1, 2]; expected an object with a "kind"'),
        ('{"nodes": []}', "$.kind: got None; expected one of criteria, scorecard, territory_tree"),
        ('{"kind": "pipeline"}', "$.kind: got 'pipeline'; expected one of criteria, "),
    ],
)
def test_what_is_not_a_rule_file_is_a_problem_too(
    cli: Cli, tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "odd.json"
    path.write_text(content, encoding="utf-8")
    ran = cli("rules", "check", str(path))
    assert ran.code == 1
    [found] = _problems(ran.out, str(path))
    assert found.startswith(problem)


def test_invalid_json_names_line_and_column(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "odd.json"
    path.write_text('{"kind": "criteria",\n  "subject": "Lead",,}', encoding="utf-8")
    [found] = _problems(cli("rules", "check", str(path)).out, str(path))
    assert found.endswith("(line 2, column 21)")


def test_several_files_fail_if_one_does_and_json_lists_each(cli: Cli, tmp_path: Path) -> None:
    good = _file(tmp_path, "tree.json", {"kind": "territory_tree", **to_data(TREE)})
    bad = _file(tmp_path, "rule.json", {"kind": "criteria", "subject": "Lead", "field": "x"})
    missing = str(tmp_path / "missing.json")
    ran = cli("rules", "check", good, bad, missing)
    assert ran.code == 1
    assert f"{good}: ok (territory tree, 3 territories)" in ran.out.splitlines()
    assert f"{missing}: $: cannot read the file: " in ran.out
    data = json.loads(cli("rules", "check", good, bad, "--json").out)
    assert [(f["file"], f["kind"], f["ok"]) for f in data] == [
        (good, "territory_tree", True),
        (bad, "criteria", False),
    ]
    assert data[1]["problems"] == [{"path": "$.op", "message": "a 'op' key", "check": "error"}]


@settings(max_examples=40, deadline=None)
@given(rule=sfa_st.criteria(Lead))
def test_every_valid_criteria_passes_the_check(rule: Criteria) -> None:
    checked = check_document({"kind": "criteria", "subject": "Lead", **criteria_to_data(rule)})
    assert checked.findings == ()
    assert checked.summary.startswith("criteria over Lead, ")


@settings(max_examples=40, deadline=None)
@given(rule=sfa_st.criteria(Lead), typo=st.sampled_from(["contry", "emial", "stauts"]))
def test_a_misspelt_field_anywhere_is_reported_at_its_path(rule: Criteria, typo: str) -> None:
    data = criteria_to_data(rule)
    try:
        path, node = _first_condition(data, "$")
    except LookupError:
        assume(False)  # only empty groups: no field to misspell
    node["field"] = typo
    checked = check_document({"kind": "criteria", "subject": "Lead", **data})
    assert f"{path}.field" in [finding.path for finding in checked.findings]


def _first_condition(node: dict[str, Any], path: str) -> tuple[str, dict[str, Any]]:
    for group in ("all", "any"):
        if group in node:
            for i, item in enumerate(node[group]):
                try:
                    return _first_condition(item, f"{path}.{group}[{i}]")
                except LookupError:
                    continue
            raise LookupError(path)
    if "not" in node:
        return _first_condition(node["not"], f"{path}.not")
    return path, node
