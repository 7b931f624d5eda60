"""Rule-based scoring: the explanation sums to the score, caps hold, decay halves at the
half-life and never raises a score, disqualifiers stop scoring, results are deterministic."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfakit.codec import from_data, from_json, to_data, to_json
from sfakit.errors import ValidationError
from sfakit.model import Lead
from sfakit.qualification import (
    DEFAULT_GRADES,
    CompiledScorecard,
    Disqualifier,
    Engagement,
    GradeBand,
    LeadVerdict,
    Scorecard,
    ScoreGroup,
    ScoreResult,
    ScoreRule,
    ScoreSubject,
    decay_factor,
    decay_points,
)
from sfakit.rules import GroupTrace, LeafTrace, field

from .support import AS_OF, engagement_lists, event, inbound_scorecard, lead, leads, scorecards

HUNDREDTH = Decimal("0.01")


def fit_card(**changes: object) -> Scorecard:
    fields: dict[str, object] = {
        "name": "fit",
        "qualify_at": 50,
        "groups": [
            ScoreGroup(
                name="fit",
                rules=[
                    ScoreRule(name="dach", points=20, criteria=field("country").isin(["DE", "AT"])),
                    ScoreRule(name="large", points=40, criteria=field("company_size").ge(250)),
                ],
            )
        ],
    }
    fields.update(changes)
    return Scorecard(**fields)  # type: ignore[arg-type]


# -- examples ----------------------------------------------------------------------------


def test_an_inbound_lead_scored_step_by_step() -> None:
    scorer = inbound_scorecard().compile()
    subject = lead(country="DE", company_size=400, industry="retail")
    events = [
        event("page_view", 0, "/pricing"),
        event("page_view", 30, "/pricing"),
        event("page_view", 60, "/pricing"),  # a third visit: max_count is 2
        event("webinar_attended", 60),
        event("email_open", 1),
        event("email_open", 400),
        event("page_view", -1, "/pricing"),  # tomorrow: not counted
    ]
    result = scorer.score(subject, events, as_of=AS_OF)
    fit = result.contribution("large")
    assert (fit.matched, fit.before_decay, fit.after_decay) == (
        True,
        Decimal("30.00"),
        Decimal("30.00"),
    )
    pricing = result.contribution("pricing_page")
    assert pricing.events == 2
    assert [c.points for c in pricing.credits] == [Decimal("15.00"), Decimal("7.50")]
    assert (pricing.before_decay, pricing.after_decay) == (Decimal("30.00"), Decimal("22.50"))
    assert result.contribution("webinar").after_decay == Decimal("12.50")  # its own half-life
    assert result.contribution("email_open").events == 2
    groups = {g.name: g for g in result.groups}
    assert groups["fit"].before_cap == Decimal("65.00")  # 20 + 30 + 15
    assert groups["fit"].after_cap == Decimal("50.00")
    assert result.score == sum(c.after_cap for c in result.contributions)
    assert result.ignored_engagements == 1
    assert result.verdict is LeadVerdict.QUALIFIED
    assert result.grade == "A"
    assert isinstance(result.contribution("dach").trace.trace, LeafTrace)  # type: ignore[union-attr]
    assert isinstance(pricing.trace.trace, GroupTrace)  # type: ignore[union-attr]
    text = result.render()
    assert "fit: 50.00 (before cap 65.00)" in text
    assert "[x] pricing_page: +15 x 2 events, decayed to +22.50" in text
    assert "1 engagement(s) after as_of not counted" in text


def test_a_hard_disqualifier_stops_scoring_with_its_reason() -> None:
    scorer = inbound_scorecard().compile()
    rival = lead(country="DE", company_size=400, email="spy@rival.example")
    result = scorer.score(rival, [event("webinar_attended", 1)], as_of=AS_OF)
    assert result.verdict is LeadVerdict.DISQUALIFIED
    assert result.reason == "works for a competitor"
    assert (result.score, result.grade, result.contributions) == (Decimal("0.00"), None, ())
    assert result.disqualified_by is not None
    assert result.disqualified_by.name == "rival"
    assert result.disqualified_by.trace is not None
    assert result.disqualified_by.trace.matched
    assert scorer.points(rival, as_of=AS_OF) == Decimal("0.00")
    with pytest.raises(ValidationError):
        result.contribution("dach")
    assert "stopped by disqualifier 'rival'" in result.render()


def test_an_engagement_disqualifier_names_the_event() -> None:
    scorer = inbound_scorecard().compile()
    stop = event("unsubscribed", 3)
    result = scorer.score(lead(country="DE"), [event("email_open", 1), stop], as_of=AS_OF)
    assert result.disqualified_by is not None
    assert result.disqualified_by.engagement == stop
    # An unsubscribe that happens after as_of does not count yet.
    later = scorer.score(lead(country="DE"), [event("unsubscribed", -3)], as_of=AS_OF)
    assert later.verdict is not LeadVerdict.DISQUALIFIED


def test_a_low_score_disqualifies_with_a_reason_and_keeps_its_grade() -> None:
    result = inbound_scorecard().compile().score(lead(company_size=3), as_of=AS_OF)
    assert result.score == Decimal("-10.00")
    assert result.verdict is LeadVerdict.DISQUALIFIED
    assert result.reason == "score -10.00 is below disqualify_below (10)"
    assert result.grade == "D"
    assert result.disqualified_by is None


@pytest.mark.parametrize(
    ("country", "size", "score", "verdict"),
    [
        ("DE", 300, "60.00", LeadVerdict.QUALIFIED),  # at or above qualify_at (50)
        ("FR", 300, "40.00", LeadVerdict.NURTURE),
        ("DE", 10, "20.00", LeadVerdict.NURTURE),  # disqualify_below (20) is not reached
        ("FR", 10, "0.00", LeadVerdict.DISQUALIFIED),
    ],
)
def test_verdict_thresholds(country: str, size: int, score: str, verdict: LeadVerdict) -> None:
    result = (
        fit_card(disqualify_below=20)
        .compile()
        .score(lead(country=country, company_size=size), as_of=AS_OF)
    )
    assert (result.score, result.verdict) == (Decimal(score), verdict)


def test_grades_come_from_a_group_when_asked() -> None:
    card = inbound_scorecard(grade_group="fit")
    result = card.compile().score(
        lead(country="FR"), [event("webinar_attended", 0)] * 3, as_of=AS_OF
    )
    assert result.score == Decimal("25.00")
    assert result.grade == "D"  # fit points are 0, whatever the engagement
    assert DEFAULT_GRADES[0] == GradeBand(grade="A", min_score=75)


def test_without_a_half_life_engagement_does_not_decay() -> None:
    card = inbound_scorecard(half_life=None)
    result = card.compile().score(lead(), [event("page_view", 365, "/pricing")], as_of=AS_OF)
    assert result.contribution("pricing_page").after_decay == Decimal("15.00")
    assert result.contribution("webinar").matched is False


def test_negative_caps_shrink_negative_points() -> None:
    card = Scorecard(
        name="penalties",
        qualify_at=0,
        min_points=-15,
        groups=[
            ScoreGroup(
                name="red_flags",
                rules=[
                    ScoreRule(name="tiny", points=-20, criteria=field("company_size").lt(10)),
                    ScoreRule(
                        name="student", points=-10, criteria=field("industry").eq("education")
                    ),
                ],
            )
        ],
    )
    result = card.compile().score(lead(company_size=1, industry="education"), as_of=AS_OF)
    assert result.score == Decimal("-15.00")
    assert [c.after_cap for c in result.contributions] == [Decimal("-10.00"), Decimal("-5.00")]


def test_scoring_checks_its_arguments() -> None:
    scorer = inbound_scorecard().compile()
    with pytest.raises(ValidationError) as caught:
        scorer.score(lead(), as_of=AS_OF.replace(tzinfo=None))
    assert caught.value.path == "$.as_of"
    with pytest.raises(ValidationError) as caught:
        scorer.points(lead(), [event("email_open", 1), "opened"], as_of=AS_OF)  # type: ignore[list-item]
    assert caught.value.path == "$.engagements[1]"
    with pytest.raises(ValidationError) as caught:
        scorer.points({"company": "Acme"}, as_of=AS_OF)  # type: ignore[arg-type]
    assert caught.value.path == "$.lead"
    with pytest.raises(ValidationError):
        CompiledScorecard("inbound")  # type: ignore[arg-type]
    assert repr(scorer) == "CompiledScorecard('inbound')"


def test_lead_criteria_may_use_the_scoring_time() -> None:
    card = fit_card(
        groups=[
            ScoreGroup(
                name="fresh",
                rules=[
                    ScoreRule(
                        name="new", points=10, criteria=field("created_at").within_last("P7D")
                    )
                ],
            )
        ]
    )
    subject = lead()
    assert card.compile().points(subject, as_of=subject.created_at + timedelta(days=1)) == 10
    assert card.compile().points(subject, as_of=subject.created_at + timedelta(days=8)) == 0


# -- the scorecard as data ---------------------------------------------------------------


def test_a_scorecard_round_trips_through_data_json_and_pickle() -> None:
    card = inbound_scorecard()
    assert from_data(Scorecard, to_data(card)) == card
    assert from_json(Scorecard, to_json(card)) == card
    assert pickle.loads(pickle.dumps(card)) == card
    assert to_data(card)["groups"][1]["rules"][1]["half_life"] == "P60D"


@settings(max_examples=60)
@given(scorecards())
def test_random_scorecards_round_trip(card: Scorecard) -> None:
    assert from_data(Scorecard, to_data(card)) == card


def test_durations_are_stored_in_one_spelling() -> None:
    assert inbound_scorecard(half_life="P4W").half_life == "P28D"
    assert inbound_scorecard(half_life=timedelta(hours=36)).half_life == "P1DT12H"


def test_every_problem_of_a_scorecard_is_reported_by_path() -> None:
    data = to_data(inbound_scorecard())
    data["groups"][0]["rules"][1]["criteria"]["field"] = "company_sise"
    data["groups"][0]["rules"][2]["name"] = "dach"
    data["groups"][0]["rules"][0]["points"] = "1.005"
    data["groups"][0]["rules"][0]["half_life"] = "P1D"
    data["groups"][1]["max_points"] = "-1"
    data["groups"][1]["name"] = "fit"
    data["min_points"] = "5"
    data["disqualify_below"] = "70"
    data["grade_group"] = "nope"
    data["grades"] = [{"grade": "A", "min_score": "50"}, {"grade": "B", "min_score": "60"}]
    data["disqualifiers"][1]["criteria"] = {"field": "kind", "op": "gt", "value": 3}
    with pytest.raises(ValidationError) as caught:
        from_data(Scorecard, data)
    paths = set(caught.value.paths)
    assert paths >= {
        "$.groups[0].rules[1].criteria.field",
        "$.groups[0].rules[2].name",
        "$.groups[0].rules[0].points",
        "$.groups[0].rules[0].half_life",
        "$.groups[1].max_points",
        "$.groups[1].name",
        "$.min_points",
        "$.disqualify_below",
        "$.grade_group",
        "$.grades[1].min_score",
        "$.disqualifiers[1].criteria.value",
    }, paths


def test_a_bad_field_of_a_nested_rule_is_reported_by_path() -> None:
    data = to_data(inbound_scorecard())
    data["groups"][1]["rules"][0]["half_life"] = "P1M"
    data["groups"][1]["rules"][1]["points"] = 2.5
    with pytest.raises(ValidationError) as caught:
        from_data(Scorecard, data)
    assert caught.value.paths == (
        "$.groups[1].rules[0].half_life",
        "$.groups[1].rules[1].points",
    )
    assert "months and years have no fixed length" in caught.value.problems[0].expected


@pytest.mark.parametrize(
    ("grades", "path"),
    [
        ([], "$.grades"),
        ([GradeBand(grade="A", min_score=10)], "$.grades[0].min_score"),
        ([GradeBand(grade="A"), GradeBand(grade="B")], "$.grades[0].min_score"),
        ([GradeBand(grade="A", min_score=10), GradeBand(grade="A")], "$.grades[1].grade"),
        ([GradeBand(grade="A", min_score="10.001"), GradeBand(grade="B")], "$.grades[0].min_score"),
    ],
)
def test_grade_bands_are_checked(grades: list[GradeBand], path: str) -> None:
    with pytest.raises(ValidationError) as caught:
        fit_card(grades=grades)
    assert path in caught.value.paths


def test_rule_fields_are_checked() -> None:
    with pytest.raises(ValidationError) as caught:
        ScoreRule(name="x", points=1.5, criteria=field("country").eq("DE"))  # type: ignore[arg-type]
    assert caught.value.path == "$.points"
    with pytest.raises(ValidationError) as caught:
        ScoreRule(name="x", points=1, criteria="country = DE")  # type: ignore[arg-type]
    assert caught.value.path == "$.criteria"
    with pytest.raises(ValidationError) as caught:
        ScoreRule(name="x", points=1, criteria=field("kind").eq("a"), subject="account")
    assert caught.value.path == "$.subject"
    with pytest.raises(ValidationError) as caught:
        ScoreRule(
            name="x", points=1, subject="engagement", criteria=field("kind").eq("a"), max_count=0
        )
    assert caught.value.path == "$.max_count"
    with pytest.raises(ValidationError) as caught:
        ScoreRule(
            name="x",
            points=1,
            subject="engagement",
            criteria=field("kind").eq("a"),
            half_life="-P1D",
        )
    assert caught.value.path == "$.half_life"
    with pytest.raises(ValidationError) as caught:
        fit_card(places=7)
    assert caught.value.path == "$.places"


def test_engagement_rules_compile_against_engagements() -> None:
    with pytest.raises(ValidationError) as caught:
        fit_card(
            groups=[
                ScoreGroup(
                    name="e",
                    rules=[
                        ScoreRule(
                            name="x",
                            points=1,
                            subject=ScoreSubject.ENGAGEMENT,
                            criteria=field("country").eq("DE"),
                        )
                    ],
                )
            ]
        )
    assert caught.value.path == "$.groups[0].rules[0].criteria.field"
    assert "a field of Engagement" in caught.value.expected


def test_points_need_at_most_places_decimals() -> None:
    card = fit_card(places=0, qualify_at=50)
    assert card.compile().points(lead(country="DE"), as_of=AS_OF) == Decimal("20")
    with pytest.raises(ValidationError):
        fit_card(places=0, qualify_at="0.5")


# -- decay -------------------------------------------------------------------------------

ages = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3000))
half_lives = st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=400))
positive_points = st.decimals(min_value="0.01", max_value=1000, places=2)


@given(positive_points, ages, ages, half_lives)
def test_decay_never_raises_positive_points(
    points: Decimal, a: timedelta, b: timedelta, half_life: timedelta
) -> None:
    early, late = sorted((a, b))
    assert decay_points(points, late, half_life) <= decay_points(points, early, half_life)
    assert decay_points(points, early, half_life) <= points


@given(positive_points, half_lives, st.integers(0, 30))
def test_decay_halves_at_every_half_life(points: Decimal, half_life: timedelta, k: int) -> None:
    assert decay_factor(half_life * k, half_life) == Decimal(1) / Decimal(2**k)
    expected = (points / Decimal(2**k)).quantize(HUNDREDTH)  # exact division, half-even
    assert decay_points(points, half_life * k, half_life) == expected


@given(half_lives, st.integers(1, 50), st.integers(1, 10**6))
def test_decay_is_monotone_around_each_half_life(half_life: timedelta, k: int, us: int) -> None:
    tick = timedelta(microseconds=min(us, half_life // timedelta(microseconds=1) - 1) or 1)
    at = half_life * k
    assert decay_factor(at - tick, half_life) >= decay_factor(at, half_life)
    assert decay_factor(at, half_life) >= decay_factor(at + tick, half_life)


def test_decay_arguments_are_checked() -> None:
    with pytest.raises(ValidationError) as caught:
        decay_factor(timedelta(days=1), timedelta(0))
    assert caught.value.path == "$.half_life"
    with pytest.raises(ValidationError) as caught:
        decay_points(1.5, timedelta(days=1), timedelta(days=1))  # type: ignore[arg-type]
    assert caught.value.path == "$.points"
    assert decay_factor(timedelta(days=-1), timedelta(days=1)) == 1
    assert decay_factor(timedelta(days=10**5), timedelta(days=1)) == 0


@settings(max_examples=40)
@given(st.lists(st.integers(0, 400), min_size=2, max_size=6))
def test_a_score_falls_as_time_passes(offsets: list[int]) -> None:
    scorer = inbound_scorecard().compile()
    subject = lead(country="DE")
    events = [
        event("page_view", 0, "/pricing", as_of=AS_OF),
        event("webinar_attended", 0, as_of=AS_OF),
    ]
    scores = [
        scorer.points(subject, events, as_of=AS_OF + timedelta(days=d)) for d in sorted(offsets)
    ]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] > scorer.points(subject, as_of=AS_OF) or offsets[0] > 300


# -- properties of every score -----------------------------------------------------------


@settings(max_examples=150)
@given(scorecards(), leads(), engagement_lists())
def test_the_explanation_sums_to_the_score_and_caps_hold(
    card: Scorecard, subject: Lead, events: list[Engagement]
) -> None:
    scorer = card.compile()
    result = scorer.score(subject, events, as_of=AS_OF)
    assert result.score == sum((c.after_cap for c in result.contributions), Decimal("0.00"))
    assert result.score == scorer.points(subject, events, as_of=AS_OF)
    assert result.score.as_tuple().exponent == -card.places
    if result.disqualified_by is not None:
        assert result.groups == ()
        assert result.score == 0
        return
    for group, spec in zip(result.groups, card.groups, strict=True):
        members = [c for c in result.contributions if c.group == group.name]
        assert group.before_cap == sum((c.after_decay for c in members), Decimal(0))
        assert group.points == sum((c.after_cap for c in members), Decimal(0))
        if spec.max_points is not None:
            assert group.after_cap <= spec.max_points
            assert group.points <= spec.max_points
        if spec.min_points is not None:
            assert group.after_cap >= spec.min_points
            assert group.points >= spec.min_points
        if spec.min_points is None and spec.max_points is None:
            assert group.after_cap == group.before_cap
    if card.max_points is not None:
        assert result.score <= card.max_points
    if card.min_points is not None:
        assert result.score >= card.min_points
    for c in result.contributions:
        # A cap shrinks toward zero; decay too; neither changes a sign.
        assert abs(c.after_cap) <= abs(c.after_decay) <= abs(c.before_decay)
        assert c.after_cap * c.after_decay >= 0
        assert c.after_decay * c.before_decay >= 0
        assert c.matched == (c.events > 0)
        assert c.after_decay == sum((cr.points for cr in c.credits), Decimal(0)) or not c.credits
        if c.subject is ScoreSubject.ENGAGEMENT:
            rule = next(r for r in card.rules() if r.name == c.rule)
            assert rule.max_count is None or c.events <= rule.max_count
            assert all(cr.engagement.at <= AS_OF for cr in c.credits)


@settings(max_examples=80)
@given(scorecards(), leads(), engagement_lists(), st.randoms(use_true_random=False))
def test_scoring_is_deterministic(
    card: Scorecard, subject: Lead, events: list[Engagement], rnd: object
) -> None:
    first = card.compile().score(subject, events, as_of=AS_OF)
    again = from_data(Scorecard, to_data(card)).compile().score(subject, list(events), as_of=AS_OF)
    assert again == first
    shuffled = list(events)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    # Order only matters among events at the same moment; the score never depends on it.
    assert card.compile().points(subject, shuffled, as_of=AS_OF) == first.score


@settings(max_examples=60)
@given(scorecards(disqualifiers=False), leads(), engagement_lists())
def test_a_matching_hard_disqualifier_always_short_circuits(
    card: Scorecard, subject: Lead, events: list[Engagement]
) -> None:
    stop = Disqualifier(name="stop", reason="never", criteria=field("company").eq("Acme"))
    stopped = Scorecard(**{**_fields(card), "disqualifiers": (stop,)})
    result = stopped.compile().score(subject, events, as_of=AS_OF)
    assert result.verdict is LeadVerdict.DISQUALIFIED
    assert result.reason == "never"
    assert result.contributions == ()
    assert result.score == 0
    assert result.grade is None


@settings(max_examples=60)
@given(scorecards(), leads(), engagement_lists())
def test_traces_agree_with_matching(
    card: Scorecard, subject: Lead, events: list[Engagement]
) -> None:
    result = card.compile().score(subject, events, as_of=AS_OF)
    quick = card.compile().score(subject, events, as_of=AS_OF, traces=False)
    assert quick.score == result.score
    assert all(c.trace is None for c in quick.contributions)
    for c in result.contributions:
        if c.subject is ScoreSubject.LEAD or c.matched:
            assert c.trace is not None
            assert c.trace.matched == c.matched


def test_results_compare_as_values() -> None:
    scorer = inbound_scorecard().compile()
    first = scorer.score(lead(), as_of=AS_OF)
    assert isinstance(first, ScoreResult)
    assert first == scorer.score(lead(), as_of=AS_OF)
    later = scorer.score(lead(), as_of=datetime(2026, 6, 2, tzinfo=UTC))
    assert later != first  # the moment is part of the result
    assert later.score == first.score


def _fields(card: Scorecard) -> dict[str, object]:
    return {name: getattr(card, name) for name in (
        "name", "groups", "qualify_at", "disqualify_below", "grades", "grade_group",
        "min_points", "max_points", "half_life", "places",
    )}  # fmt: skip
