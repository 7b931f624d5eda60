"""Pipeline definitions: every invariant is checked, with the path of the bad stage, when
built and when loaded; the data form round-trips exactly; compiled criteria stay out of it."""

from __future__ import annotations

import copy
import json
import pickle
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings

from sfakit.codec import from_data, from_json, to_data, to_json
from sfakit.errors import NotFoundError, ValidationError
from sfakit.model import AccountId, ForecastCategory, Opportunity
from sfakit.pipeline import (
    Checklist,
    Pipeline,
    PipelineSet,
    Requirement,
    Stage,
    standard_pipeline,
)
from sfakit.rules import CompiledCriteria, field

from .support import pipelines

C = ForecastCategory


def data() -> dict[str, Any]:
    return to_data(standard_pipeline())  # type: ignore[no-any-return]


def load_problems(payload: dict[str, Any]) -> dict[str, ValidationError]:
    with pytest.raises(ValidationError) as caught:
        from_data(Pipeline, payload)
    return {p.path: caught.value for p in caught.value.problems}


def paths_of(payload: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        from_data(Pipeline, payload)
    return list(caught.value.paths)


# -- round trip ------------------------------------------------------------------------


def test_standard_pipeline_round_trips_through_data_and_json() -> None:
    p = standard_pipeline()
    assert from_data(Pipeline, to_data(p)) == p
    assert from_json(Pipeline, to_json(p)) == p


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(pipelines(arbitrary=True))
def test_any_valid_pipeline_round_trips_exactly(p: Pipeline) -> None:
    loaded = from_data(Pipeline, json.loads(json.dumps(to_data(p))))
    assert loaded == p
    assert to_data(loaded) == to_data(p)


def test_compiled_criteria_are_not_part_of_the_data_nor_of_equality() -> None:
    p = standard_pipeline()
    payload = to_data(p)
    assert set(payload) == {
        "key",
        "label",
        "stages",
        "lost_reasons",
        "allow_skip_forward",
        "allow_backward",
        "description",
    }
    ((requirement, rule),) = p.compiled("propose", Checklist.ENTRY)
    assert isinstance(rule, CompiledCriteria)
    assert rule.criteria == requirement.criteria
    # A second build compiles anew, yet compares equal.
    again = from_data(Pipeline, payload)
    assert again.compiled("propose", Checklist.ENTRY)[0][1] is not rule
    assert again == p
    assert hash(again) == hash(p)


def test_pipelines_pickle_and_copy_and_recompile() -> None:
    p = standard_pipeline()
    for clone in (pickle.loads(pickle.dumps(p)), copy.deepcopy(p), copy.copy(p)):
        assert clone == p
        assert clone.compiled("negotiate", Checklist.ENTRY)[0][0].name == "decision_maker_known"


def test_evolve_revalidates_and_recompiles() -> None:
    p = standard_pipeline()
    strict = attrs.evolve(p, allow_skip_forward=False)
    assert strict.allow_skip_forward is False
    assert strict.compiled("qualify", Checklist.EXIT)
    with pytest.raises(ValidationError) as caught:
        attrs.evolve(p, lost_reasons=())
    assert caught.value.path == "$.lost_reasons"


# -- stage invariants (built in Python: paths are the stage's own) -----------------------


def stage(**fields: Any) -> Stage:
    base: dict[str, Any] = {
        "key": "s",
        "label": "S",
        "probability": 10,
        "forecast_category": C.PIPELINE,
    }
    return Stage(**(base | fields))


@pytest.mark.parametrize(
    ("fields", "path", "expected"),
    [
        ({"is_won": True}, "$.is_won", "false unless is_closed is true"),
        (
            {"is_closed": True, "is_won": True, "probability": 90, "forecast_category": C.CLOSED},
            "$.probability",
            "100 for the won stage",
        ),
        (
            {"is_closed": True, "is_won": True, "probability": 100, "forecast_category": C.COMMIT},
            "$.forecast_category",
            "closed for the won stage",
        ),
        (
            {"is_closed": True, "probability": 5, "forecast_category": C.OMITTED},
            "$.probability",
            "0 for a lost stage",
        ),
        (
            {"is_closed": True, "probability": 0, "forecast_category": C.PIPELINE},
            "$.forecast_category",
            "omitted for a lost stage (a lost deal never counts in a forecast)",
        ),
        (
            {"forecast_category": C.CLOSED},
            "$.forecast_category",
            "pipeline, best_case, commit or omitted for an open stage "
            "(closed is for closed stages)",
        ),
        ({"probability": 101}, "$.probability", "a Decimal percentage from 0 to 100"),
        ({"probability": "-1"}, "$.probability", "a Decimal percentage from 0 to 100"),
    ],
)
def test_stage_invariants_name_the_bad_field(
    fields: dict[str, Any], path: str, expected: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        stage(**fields)
    assert caught.value.path == path
    assert caught.value.expected == expected


def test_a_closed_stage_has_no_exit_checklist() -> None:
    item = Requirement(name="x", criteria=field("activity_count").ge(1))
    with pytest.raises(ValidationError) as caught:
        stage(is_closed=True, probability=0, forecast_category=C.OMITTED, exit_checklist=[item])
    assert caught.value.path == "$.exit_checklist"


def test_requirement_names_are_unique_within_a_list() -> None:
    a = Requirement(name="a", criteria=field("activity_count").ge(1))
    with pytest.raises(ValidationError) as caught:
        stage(entry_requirements=[a, a])
    assert caught.value.path == "$.entry_requirements[1].name"
    assert stage(entry_requirements=[a], exit_checklist=[a]).exit_checklist == (a,)


def test_a_requirement_needs_a_criteria_node() -> None:
    with pytest.raises(ValidationError) as caught:
        Requirement(name="x", criteria={"field": "activity_count", "op": "is_set"})  # type: ignore[arg-type]
    assert caught.value.path == "$.criteria"


# -- pipeline invariants, loaded from data: paths point at the stage ---------------------


def test_loading_reports_the_path_of_the_bad_stage() -> None:
    payload = data()
    payload["stages"][3]["probability"] = "120"
    payload["stages"][4]["forecast_category"] = "commit"
    assert paths_of(payload) == ["$.stages[3].probability", "$.stages[4].forecast_category"]


def test_won_probability_must_be_100_when_loaded() -> None:
    payload = data()
    payload["stages"][4]["probability"] = "90"
    assert paths_of(payload) == ["$.stages[4].probability"]


def test_lost_stage_must_be_omitted_with_probability_zero_when_loaded() -> None:
    payload = data()
    payload["stages"][5]["probability"] = "10"
    payload["stages"][5]["forecast_category"] = "pipeline"
    assert paths_of(payload) == ["$.stages[5].probability", "$.stages[5].forecast_category"]


def test_open_stage_never_in_category_closed_when_loaded() -> None:
    payload = data()
    payload["stages"][1]["forecast_category"] = "closed"
    assert paths_of(payload) == ["$.stages[1].forecast_category"]


def test_stage_keys_are_unique() -> None:
    payload = data()
    payload["stages"][2]["key"] = "prospect"
    problems = load_problems(payload)
    assert list(problems) == ["$.stages[2].key"]
    assert "stages[0]" in problems["$.stages[2].key"].expected


def test_exactly_one_won_stage() -> None:
    none_won = data()
    none_won["stages"][4] |= {"is_won": False, "probability": "0", "forecast_category": "omitted"}
    assert paths_of(none_won) == ["$.stages"]

    two_won = data()
    two_won["stages"][5] |= {"is_won": True, "probability": "100", "forecast_category": "closed"}
    assert paths_of(two_won) == ["$.stages[5].is_won", "$.stages"]  # and then no lost stage


def test_at_least_one_lost_stage() -> None:
    payload = data()
    del payload["stages"][5]
    problems = load_problems(payload)
    assert list(problems) == ["$.stages"]
    assert "lost stage" in str(problems["$.stages"])


def test_at_least_one_open_stage() -> None:
    payload = data()
    payload["stages"] = payload["stages"][4:]
    assert paths_of(payload) == ["$.stages"]


def test_open_stages_come_before_closed_ones() -> None:
    payload = data()
    stages = payload["stages"]
    payload["stages"] = [stages[0], stages[4], stages[1], stages[2], stages[3], stages[5]]
    assert paths_of(payload) == [
        "$.stages[2].is_closed",
        "$.stages[3].is_closed",
        "$.stages[4].is_closed",
    ]


def test_lost_reasons_are_required_and_unique() -> None:
    payload = data()
    payload["lost_reasons"] = []
    assert paths_of(payload) == ["$.lost_reasons"]
    payload["lost_reasons"] = ["price", "timing", "price"]
    assert paths_of(payload) == ["$.lost_reasons[2]"]
    payload["lost_reasons"] = ["price", ""]
    assert paths_of(payload) == ["$.lost_reasons[1]"]


def test_criteria_must_compile_against_the_deal_context() -> None:
    payload = data()
    payload["stages"][2]["entry_requirements"][0]["criteria"] = {
        "all": [
            {"field": "opportunity.amonut", "op": "is_set"},
            {"field": "activity_count", "op": "gt", "value": "many"},
        ]
    }
    payload["stages"][3]["entry_requirements"][0]["criteria"] = {
        "field": "contact_roles",
        "op": "contains",
        "value": "chief_wizard",
    }
    problems = load_problems(payload)
    assert list(problems) == [
        "$.stages[2].entry_requirements[0].criteria.all[0].field",
        "$.stages[2].entry_requirements[0].criteria.all[1].value",
        "$.stages[3].entry_requirements[0].criteria.value",
    ]
    err = problems["$.stages[3].entry_requirements[0].criteria.value"]
    assert err.subject == "Pipeline"
    assert "decision_maker" in str(err)  # what is allowed


def test_every_pipeline_problem_is_reported_at_once() -> None:
    payload = data()
    payload["stages"][1]["key"] = "prospect"
    payload["lost_reasons"] = ["price", "price"]
    payload["stages"][2]["entry_requirements"][0]["criteria"] = {"field": "nope", "op": "is_set"}
    assert sorted(paths_of(payload)) == [
        "$.lost_reasons[1]",
        "$.stages[1].key",
        "$.stages[2].entry_requirements[0].criteria.field",
    ]


def test_built_in_python_the_paths_are_the_same() -> None:
    p = standard_pipeline()
    stages = list(p.stages)
    stages[1] = attrs.evolve(stages[1], key="prospect")
    with pytest.raises(ValidationError) as caught:
        attrs.evolve(p, stages=stages)
    assert caught.value.paths == ("$.stages[1].key",)
    assert caught.value.subject == "pipeline"


def test_unknown_fields_are_refused_when_loading() -> None:
    payload = data()
    payload["stages"][0]["colour"] = "red"
    assert paths_of(payload) == ["$.stages[0].colour"]


# -- lookups ---------------------------------------------------------------------------


def test_lookups_follow_the_stage_order() -> None:
    p = standard_pipeline()
    assert p.keys == ("prospect", "qualify", "propose", "negotiate", "closed_won", "closed_lost")
    assert [s.key for s in p.open_stages] == ["prospect", "qualify", "propose", "negotiate"]
    assert p.won_stage.key == "closed_won"
    assert [s.key for s in p.lost_stages] == ["closed_lost"]
    assert p.index("propose") == 2
    assert "propose" in p
    assert "won" not in p


def test_unknown_stage_names_the_stages_there_are() -> None:
    with pytest.raises(ValidationError) as caught:
        standard_pipeline().stage("won")
    assert caught.value.path == "$.stage"
    assert "prospect, qualify, propose, negotiate, closed_won, closed_lost" in str(caught.value)


def test_probability_and_category_follow_overrides_only_while_open() -> None:
    p = standard_pipeline()
    deal = Opportunity(
        name="A",
        account_id=AccountId("acct_a"),
        pipeline="standard",
        stage="propose",
        probability_override=Decimal(65),
        forecast_category_override=C.COMMIT,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert p.probability_of(deal) == 65
    assert p.forecast_category_of(deal) is C.COMMIT
    plain = deal.evolve(probability_override=None, forecast_category_override=None)
    assert p.probability_of(plain) == 50
    assert p.forecast_category_of(plain) is C.BEST_CASE
    won = deal.evolve(stage="closed_won", closed_at=deal.created_at)
    assert p.probability_of(won) == 100
    assert p.forecast_category_of(won) is C.CLOSED
    lost = deal.evolve(stage="closed_lost", closed_at=deal.created_at)
    assert p.probability_of(lost) == 0
    assert p.forecast_category_of(lost) is C.OMITTED


# -- pipeline sets ---------------------------------------------------------------------


def test_pipeline_set_finds_pipelines_by_key_and_deal() -> None:
    standard, renewals = standard_pipeline(), standard_pipeline("renewals")
    pipelines_ = PipelineSet([standard, renewals])
    assert pipelines_.get("renewals") is renewals
    assert pipelines_.keys == ("standard", "renewals")
    assert len(pipelines_) == 2
    assert list(pipelines_) == [standard, renewals]
    assert "standard" in pipelines_
    deal = Opportunity(
        name="A",
        account_id=AccountId("acct_a"),
        pipeline="renewals",
        stage="qualify",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert pipelines_.for_opportunity(deal) is renewals
    with pytest.raises(NotFoundError, match="no Pipeline with key 'partner'"):
        pipelines_.get("partner")


def test_pipeline_set_keys_are_unique_and_it_round_trips() -> None:
    with pytest.raises(ValidationError) as caught:
        PipelineSet([standard_pipeline(), standard_pipeline()])
    assert caught.value.path == "$.pipelines[1].key"
    both = PipelineSet([standard_pipeline(), standard_pipeline("renewals")])
    assert from_data(PipelineSet, to_data(both)) == both
    assert pickle.loads(pickle.dumps(both)).get("renewals") == both.get("renewals")
