"""Kaplan-Meier: the textbook 6-MP table, a small table of deals worked by hand, and laws
over random observations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfakit.codec import from_data, to_data
from sfakit.errors import ValidationError
from sfakit.forecast.stats import (
    CloseChance,
    Observation,
    SurvivalRow,
    SurvivalTable,
    kaplan_meier,
    time_to_close,
)
from sfakit.model import Opportunity
from sfakit.pipeline import Deals

from .support import DAY, LOST, T0, WON, P, deal

# Freireich et al. (1963), the 6-MP arm: weeks in remission, "+" = censored (still in
# remission at the end). The classic worked example of Kaplan-Meier (Kleinbaum & Klein,
# Survival Analysis, ch. 2; Collett, Modelling Survival Data, 1.4).
SIX_MP = "6 6 6 6+ 7 9+ 10 10+ 11+ 13 16 17+ 19+ 20+ 22 23 25+ 32+ 32+ 34+ 35+"


def six_mp() -> SurvivalTable:
    return kaplan_meier(
        Observation(duration=int(x.rstrip("+")), closed=not x.endswith("+")) for x in SIX_MP.split()
    )


def D(value: Fraction) -> Decimal:  # noqa: N802 - reads like the math
    return Decimal(value.numerator) / Decimal(value.denominator)


def test_six_mp_table_matches_the_hand_computed_one() -> None:
    f = Fraction
    s6 = f(18, 21)
    s7 = s6 * f(16, 17)
    s10 = s7 * f(14, 15)
    s13 = s10 * f(11, 12)
    s16 = s13 * f(10, 11)
    s22 = s16 * f(6, 7)
    s23 = s22 * f(5, 6)
    expected = [
        # time, at risk, events, censored, S(t)
        (6, 21, 3, 1, s6),
        (7, 17, 1, 0, s7),
        (9, 16, 0, 1, s7),
        (10, 15, 1, 1, s10),
        (11, 13, 0, 1, s10),
        (13, 12, 1, 0, s13),
        (16, 11, 1, 0, s16),
        (17, 10, 0, 1, s16),
        (19, 9, 0, 1, s16),
        (20, 8, 0, 1, s16),
        (22, 7, 1, 0, s22),
        (23, 6, 1, 0, s23),
        (25, 5, 0, 1, s23),
        (32, 4, 0, 2, s23),
        (34, 2, 0, 1, s23),
        (35, 1, 0, 1, s23),
    ]
    table = six_mp()
    assert [(r.time, r.at_risk, r.events, r.censored, r.survival) for r in table.rows] == [
        (Decimal(t), n, d, c, D(s)) for t, n, d, c, s in expected
    ]
    # The rounded values printed in the textbooks.
    assert [f"{r.survival:.4f}" for r in table.rows if r.events] == [
        "0.8571", "0.8067", "0.7529", "0.6902", "0.6275", "0.5378", "0.4482",
    ]  # fmt: skip
    assert (table.observations, table.events, table.censored) == (21, 9, 12)
    assert table.median == 23


def test_close_probability_is_one_minus_the_ratio_of_survivals() -> None:
    table = six_mp()
    chance = table.close_probability(age=6, within=timedelta(days=4))
    assert chance == CloseChance(
        age=Decimal(6),
        within=Decimal(4),
        survival_at_age=D(Fraction(18, 21)),
        survival_at_end=D(Fraction(18, 21) * Fraction(16, 17) * Fraction(14, 15)),
        probability=D(1 - Fraction(16, 17) * Fraction(14, 15)),
        beyond_data=False,
    )
    assert table.close_probability(age=0, within=5).probability == 0
    assert table.survival_at(timedelta(days=6, hours=12)) == D(Fraction(18, 21))


def test_past_the_longest_duration_survival_is_flat_and_the_answer_says_so() -> None:
    chance = six_mp().close_probability(age=30, within=10)
    assert (chance.probability, chance.beyond_data) == (0, True)


def test_no_estimate_when_every_deal_had_closed_by_that_age() -> None:
    table = kaplan_meier([Observation(duration=5, closed=True)])
    chance = table.close_probability(age=6, within=1)
    assert chance.probability is None
    assert chance.reason == "every deal in the history closed by day 5; none stayed open 6 days"
    assert not chance.beyond_data  # S is 0 there for certain, not by assumption


def test_no_observations_no_estimate() -> None:
    chance = kaplan_meier([]).close_probability(age=0, within=30)
    assert chance.probability is None
    assert chance.reason
    assert kaplan_meier([]).median is None


def test_deals_worked_by_hand() -> None:
    # As of day 30: A won on day 10, B lost on day 20, C lost on day 20, D open since
    # day 0 (censored at 30), E won on day 40 (after as_of: censored at 30), F open since
    # day 25 (censored at 5), G created after as_of, H closed with no known moment.
    as_of = T0 + 30 * DAY
    made = [
        deal(["propose", WON], 0, step=10 * DAY),
        deal(["propose", LOST], 1, step=20 * DAY),
        deal(["qualify", "propose", LOST], 2, step=10 * DAY),
        deal(["propose"], 3),
        deal(["negotiate", WON], 4, step=40 * DAY),
        deal(["prospect"], 5, created=T0 + 25 * DAY),
        deal(["prospect"], 6, created=T0 + 31 * DAY),
        deal([LOST], 7, closed_at=False),
    ]
    deals = Deals.of(P, [o for o, _ in made], [m for _, moves in made for m in moves])
    table = time_to_close(deals, as_of=as_of)
    # t=5: 6 at risk, 1 censored; t=10: 5 at risk, 1 event -> S = 4/5;
    # t=20: 4 at risk, 2 events -> S = 4/5 * 2/4 = 2/5; t=30: 2 at risk, 2 censored.
    assert [(r.time, r.at_risk, r.events, r.censored, r.survival) for r in table.rows] == [
        (5, 6, 0, 1, 1),
        (10, 5, 1, 0, Decimal("0.8")),
        (20, 4, 2, 0, Decimal("0.4")),
        (30, 2, 0, 2, Decimal("0.4")),
    ]
    assert (table.as_of, table.not_yet_created, table.unknown_close) == (as_of, 1, 1)
    # A deal open for 10 days closes within the next 10 with 1 - (2/5) / (4/5) = 1/2.
    assert table.close_probability(timedelta(days=10), timedelta(days=10)).probability == Decimal(
        "0.5"
    )
    assert from_data(SurvivalTable, to_data(table)) == table


def test_naive_as_of_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        time_to_close(Deals.of(P, []), as_of=datetime(2026, 1, 1))
    assert caught.value.path == "$.as_of"


@pytest.mark.parametrize(("age", "within"), [(-1, 1), (1, -1), (1.5, 1), (1, timedelta(days=-1))])
def test_negative_or_float_durations_are_refused(age: object, within: object) -> None:
    with pytest.raises(ValidationError) as caught:
        six_mp().close_probability(age, within)  # type: ignore[arg-type]
    assert caught.value.path in ("$.age", "$.within")


def test_observations_refuse_negative_durations() -> None:
    with pytest.raises(ValidationError) as caught:
        Observation(duration=-1, closed=True)
    assert caught.value.path == "$.duration"


def test_tables_loaded_from_data_must_be_consistent() -> None:
    data = to_data(six_mp())
    data["rows"][2]["at_risk"] = 15
    data["rows"][4]["survival"] = "0.75"
    with pytest.raises(ValidationError) as caught:
        from_data(SurvivalTable, data)
    # The wrong count shows twice: it does not follow from row 1, nor leads to row 3.
    assert caught.value.paths == ("$.rows[2].at_risk", "$.rows[3].at_risk", "$.rows[4].survival")


def test_rows_must_be_in_time_order() -> None:
    rows = [
        SurvivalRow(time=5, at_risk=2, events=0, censored=1, survival=1),
        SurvivalRow(time=4, at_risk=1, events=0, censored=1, survival=1),
    ]
    with pytest.raises(ValidationError) as caught:
        SurvivalTable(rows=rows)
    assert caught.value.paths == ("$.rows[1].time",)


observations = st.lists(
    st.builds(Observation, duration=st.integers(0, 60), closed=st.booleans()), max_size=40
)


@settings(max_examples=100)
@given(observations)
def test_survival_falls_stays_in_0_1_and_accounts_for_every_observation(
    items: list[Observation],
) -> None:
    table = kaplan_meier(items)
    assert table.observations == len(items)
    assert table.events == sum(o.closed for o in items)
    survivals = [r.survival for r in table.rows]
    assert survivals == sorted(survivals, reverse=True)
    assert all(0 <= s <= 1 for s in survivals)
    assert from_data(SurvivalTable, to_data(table)) == table


@settings(max_examples=100)
@given(st.lists(st.integers(0, 60), min_size=1, max_size=40), st.integers(0, 61))
def test_without_censoring_it_is_the_share_still_open(durations: list[int], t: int) -> None:
    table = kaplan_meier(Observation(duration=d, closed=True) for d in durations)
    share = Fraction(sum(d > t for d in durations), len(durations))
    assert table.survival_at(t) == D(share)


@settings(max_examples=100)
@given(observations, st.integers(0, 70), st.integers(0, 30), st.integers(0, 30))
def test_close_probability_is_a_probability_that_grows_with_the_horizon(
    items: list[Observation], age: int, short: int, extra: int
) -> None:
    table = kaplan_meier(items)
    near = table.close_probability(age, short)
    far = table.close_probability(age, short + extra)
    if near.probability is None:
        assert far.probability is None
        assert near.reason == far.reason
        return
    assert far.probability is not None
    assert 0 <= near.probability <= far.probability <= 1
    assert from_data(CloseChance, to_data(far)) == far


def test_a_deal_created_exactly_at_as_of_is_censored_at_zero() -> None:
    opportunity = Opportunity(
        name="Now",
        account_id="acct_a",
        pipeline="standard",
        stage="prospect",
        created_at=datetime(2026, 2, 1, tzinfo=UTC),
    )
    table = time_to_close(Deals.of(P, [opportunity]), as_of=opportunity.created_at)
    assert [(r.time, r.censored) for r in table.rows] == [(0, 1)]
