"""Predictive scoring: probabilities stay in the clamp range, training does not depend on
the order of examples, small teams fall back to the global model, models round-trip, and
the model finds the signal in a synthetic history (AUC on a held-out split)."""

from __future__ import annotations

import math
import pickle
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfakit.codec import from_data, from_json, to_data, to_json
from sfakit.errors import ValidationError
from sfakit.model import DataQualityIssue, LeadStatus
from sfakit.qualification import (
    DERIVED_FEATURES,
    Factor,
    FieldFrequencies,
    FrequencyTable,
    LeadOutcome,
    Prediction,
    PredictiveModel,
    ValueFrequency,
    lead_features,
    train_model,
)

from .support import auc, lead, synthetic_history

FIELDS = ["source", "country", "industry", "size_band"]

example_lists = st.lists(
    st.tuples(
        st.fixed_dictionaries(
            {
                "source": st.sampled_from(["web", "referral", "fair", None]),
                "country": st.sampled_from(["DE", "FR", "US"]),
                "tags": st.lists(st.sampled_from(["a", "b", "c"]), max_size=2),
            }
        ),
        st.sampled_from(["won", "lost"]),
        st.sampled_from([None, "emea", "apac"]),
    ),
    min_size=2,
    max_size=40,
).filter(lambda xs: {o for _, o, _ in xs} == {"won", "lost"})


# -- examples ----------------------------------------------------------------------------


def test_a_hand_computed_prediction() -> None:
    examples = [({"source": "referral"}, "won", None)] * 3 + [
        ({"source": "cold_call"}, "lost", None),
        ({"source": "cold_call"}, "lost", None),
        ({"source": "cold_call"}, "lost", None),
        ({"source": "referral"}, "lost", None),
    ]
    model = train_model(examples, fields=["source"])
    prediction = model.predict({"source": "referral"})
    # prior ln(4/5); P(referral|won) = 4/5, P(referral|lost) = 2/6: logit = ln(4/5 * 12/5)
    assert math.isclose(float(prediction.logit), math.log(0.8 * 2.4), rel_tol=1e-12)
    assert prediction.probability == Decimal("0.6575")
    (factor,) = prediction.factors
    assert (factor.field, factor.value, factor.won, factor.lost) == ("source", "referral", 3, 1)
    assert prediction.logit == prediction.prior + factor.weight
    assert (prediction.won, prediction.lost, prediction.model_team) == (3, 4, None)


def test_factors_are_sorted_by_how_much_they_moved_the_prediction() -> None:
    model = train_model(synthetic_history(2000, seed=7), fields=FIELDS)
    prediction = model.predict(
        {"source": "referral", "country": "DE", "industry": "education", "size_band": "small"}
    )
    weights = [abs(f.weight) for f in prediction.factors]
    assert weights == sorted(weights, reverse=True)
    assert prediction.factors[0].value == "referral"
    assert prediction.factors[0].weight > 0
    education = next(f for f in prediction.factors if f.value == "education")
    assert education.weight < 0


def test_unseen_and_missing_values_say_nothing() -> None:
    model = train_model(synthetic_history(500, seed=1), fields=FIELDS)
    blank = model.predict({})
    odd = model.predict({"source": "carrier_pigeon", "country": None})
    assert blank.factors == odd.factors == ()
    assert blank.probability == odd.probability
    assert odd.unseen == (("source", "carrier_pigeon"),)
    assert blank.logit == blank.prior


def test_multi_valued_fields_count_each_item() -> None:
    examples = [({"tags": ["a", "b"]}, "won", None), ({"tags": ("b",)}, "lost", None)]
    model = train_model(examples, fields=["tags"])
    assert model.overall.fields[0].values == (
        ValueFrequency(value="a", won=1, lost=0),
        ValueFrequency(value="b", won=1, lost=1),
    )
    assert {f.value for f in model.predict({"tags": ["a", "b", "a"]}).factors} == {"a", "b"}


def test_leads_are_examples_too() -> None:
    good = lead(email="a@acme.example", company_size=400, source="referral")
    bad = lead(
        company_size=3,
        source="fair",
        quality_issues=[DataQualityIssue(field="email", value="a@", expected="an email")],
    )
    model = train_model(
        [(good, LeadOutcome.WON, None), (bad, LeadOutcome.LOST, None)],
        fields=["source", "size_band", "email_state", "email_domain", "status"],
    )
    features = lead_features(bad, ["email_state", "phone_state", "size_band", "status"])
    assert features == {
        "email_state": ("invalid",),
        "phone_state": ("missing",),
        "size_band": ("micro",),
        "status": (LeadStatus.NEW.value,),
    }
    assert model.predict(good).probability > model.predict(bad).probability
    assert set(DERIVED_FEATURES) == {"email_state", "phone_state", "email_domain", "size_band"}


def test_unknown_lead_fields_are_refused_by_path() -> None:
    with pytest.raises(ValidationError) as caught:
        lead_features(lead(), ["source", "sauce"])
    assert caught.value.path == "$.fields[1]"
    assert "email_state" in caught.value.expected
    examples = [(lead(), "won", None), (lead(), "lost", None)]
    with pytest.raises(ValidationError) as caught:
        train_model(examples, fields=["sauce"])
    assert caught.value.paths == ("$.fields[0]",)


def test_bad_examples_are_reported_by_index() -> None:
    with pytest.raises(ValidationError) as caught:
        train_model(
            [
                ({"source": "web"}, "won", None),
                ({"source": "web"}, "maybe", None),
                ({"source": 1.5}, "lost", None),
                ({"source": "web"}, "lost", ""),
                "not an example",
            ],
            fields=["source"],
        )
    assert caught.value.paths == (
        "$.examples[1][1]",
        "$.examples[2][0].source",
        "$.examples[3][2]",
        "$.examples[4]",
    )


def test_training_needs_both_outcomes_and_a_field() -> None:
    with pytest.raises(ValidationError) as caught:
        train_model([({"source": "web"}, "won", None)], fields=["source"])
    assert caught.value.path == "$.examples"
    with pytest.raises(ValidationError) as caught:
        train_model([({"source": "web"}, "won", None)], fields=[])
    assert caught.value.path == "$.fields"


def test_a_model_checks_its_tables() -> None:
    table = FrequencyTable(
        team=None, won=1, lost=1, fields=[FieldFrequencies(field="source", values=[])]
    )
    with pytest.raises(ValidationError) as caught:
        PredictiveModel(fields=["source", "source"], overall=table)
    assert "$.fields[1]" in caught.value.paths
    with pytest.raises(ValidationError) as caught:
        PredictiveModel(fields=["country"], overall=table, floor="0.9", ceiling="0.1")
    assert set(caught.value.paths) == {"$.overall.fields", "$.ceiling"}
    with pytest.raises(ValidationError) as caught:
        FieldFrequencies(
            field="source",
            values=[
                ValueFrequency(value="web", won=1, lost=0),
                ValueFrequency(value="fax", won=0, lost=1),
            ],
        )
    assert caught.value.path == "$.values[1].value"
    with pytest.raises(ValidationError) as caught:
        PredictiveModel(fields=["source"], overall=table, teams=[table])
    assert caught.value.path == "$.teams[0].team"


# -- properties --------------------------------------------------------------------------


@settings(max_examples=80)
@given(example_lists, st.sampled_from([None, "emea", "apac", "nowhere"]), st.integers(1, 30))
def test_probabilities_stay_in_the_clamp_range(
    examples: list[Any], team: str | None, threshold: int
) -> None:
    model = train_model(examples, fields=["source", "country", "tags"], min_team_examples=threshold)
    for subject, _, _ in examples[:5]:
        prediction = model.predict(subject, team=team)
        assert Decimal("0.01") <= prediction.probability <= Decimal("0.99")
        assert prediction.probability.as_tuple().exponent >= -4


def test_clamping_keeps_certainty_out() -> None:
    examples = [({"source": "referral"}, "won", None)] * 200 + [
        ({"source": "fax"}, "lost", None)
    ] * 200
    model = train_model(examples, fields=["source"])
    assert model.predict({"source": "referral"}).probability == Decimal("0.99")
    assert model.predict({"source": "fax"}).probability == Decimal("0.01")
    wide = train_model(examples, fields=["source"], floor="0.001", ceiling="0.999")
    assert wide.predict({"source": "referral"}).probability == Decimal("0.995")


@settings(max_examples=60)
@given(example_lists, st.randoms(use_true_random=False))
def test_training_does_not_depend_on_the_order_of_examples(examples: list[Any], rnd: Any) -> None:
    shuffled = list(examples)
    rnd.shuffle(shuffled)
    fields = ["source", "country", "tags"]
    assert train_model(shuffled, fields=fields) == train_model(examples, fields=fields)


@settings(max_examples=60)
@given(example_lists)
def test_models_round_trip_through_data(examples: list[Any]) -> None:
    model = train_model(examples, fields=["source", "country", "tags"], min_team_examples=3)
    assert from_data(PredictiveModel, to_data(model)) == model
    assert from_json(PredictiveModel, to_json(model)) == model
    assert pickle.loads(pickle.dumps(model)) == model
    reloaded = from_data(PredictiveModel, to_data(model))
    for subject, _, team in examples[:3]:
        assert reloaded.predict(subject, team=team) == model.predict(subject, team=team)


def test_a_small_team_falls_back_to_the_global_model() -> None:
    history = synthetic_history(3000, seed=11)
    model = train_model(history, fields=FIELDS)  # tiny_team has about 30 examples
    tiny = next(t for t in model.teams if t.team == "tiny_team")
    emea = next(t for t in model.teams if t.team == "emea")
    assert tiny.examples < model.min_team_examples <= emea.examples
    subject = {"source": "web", "country": "FR"}
    fallback = model.predict(subject, team="tiny_team")
    assert (fallback.model_team, fallback.fell_back) == (None, True)
    assert fallback.probability == model.predict(subject).probability
    assert model.table_for("tiny_team") is model.overall
    own = model.predict(subject, team="emea")
    assert (own.model_team, own.fell_back, own.won, own.lost) == (
        "emea",
        False,
        emea.won,
        emea.lost,
    )
    unknown = model.predict(subject, team="mars")
    assert unknown.fell_back
    assert unknown.team == "mars"
    # With a lower threshold the small team gets its own model.
    low = train_model(history, fields=FIELDS, min_team_examples=10)
    assert low.predict(subject, team="tiny_team").model_team == "tiny_team"


def test_a_team_with_one_outcome_only_falls_back() -> None:
    examples = [({"source": "web"}, "won", "solo")] * 60 + [({"source": "fax"}, "lost", None)] * 5
    model = train_model(examples, fields=["source"])
    assert model.predict({"source": "web"}, team="solo").fell_back


def test_the_model_finds_the_signal_on_a_held_out_split() -> None:
    history = synthetic_history(4000, seed=2026)
    train, test = history[:3000], history[3000:]
    model = train_model(train, fields=FIELDS)
    scores = [model.predict(subject, team=team).probability for subject, _, team in test]
    area = auc(scores, [outcome == "won" for _, outcome, _ in test])
    assert area > 0.7, area
    # A model of a feature with no signal is no better than chance.
    noise = [
        ({"coin": "heads" if i % 2 else "tails"}, outcome, None)
        for i, (_, outcome, _) in enumerate(history)
    ]
    flat = train_model(noise[:3000], fields=["coin"])
    flat_scores = [flat.predict(s).probability for s, _, _ in noise[3000:]]
    assert abs(auc(flat_scores, [o == "won" for _, o, _ in noise[3000:]]) - 0.5) < 0.06


def test_the_auc_helper() -> None:
    assert auc([Decimal(1), Decimal(2)], [False, True]) == 1.0
    assert auc([Decimal(2), Decimal(1)], [False, True]) == 0.0
    assert auc([Decimal(1), Decimal(1)], [False, True]) == 0.5


def test_result_classes() -> None:
    factor = Factor(field="source", value="web", won=1, lost=2, weight=Decimal("-0.5"))
    prediction = Prediction(
        probability=Decimal("0.4"),
        team=None,
        model_team=None,
        fell_back=False,
        won=1,
        lost=2,
        prior=Decimal("-0.69"),
        logit=Decimal("-1.19"),
        factors=(factor,),
    )
    assert prediction.factors[0].weight < 0
