"""Quota attainment and coverage; forecast accuracy against actuals."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings

from sfakit.errors import ValidationError
from sfakit.forecast import (
    AccuracyPoint,
    AccuracyStats,
    FiscalCalendar,
    ForecastReport,
    Hierarchy,
    HierarchyNode,
    QuotaSource,
    Ratio,
    accuracy,
    attainment,
    forecast,
    manager_hierarchy,
    snapshot,
)
from sfakit.model import Money, Opportunity, Quota

from .support import PIPELINE, T0, deal_lists, manager_reps, opp, rate_table

CAL = FiscalCalendar.monthly()
Q = CAL.periods(2026, "quarter")
T = datetime(2026, 1, 2, tzinfo=UTC)


def quota(amount: int | str, currency: str = "EUR", period: str = "FY2026-Q1", **who: str) -> Quota:
    return Quota(period=period, amount=Money.of(amount, currency), created_at=T0, **who)  # type: ignore[arg-type]


def team(items: list[Opportunity]) -> ForecastReport:
    return forecast(
        items, pipelines=PIPELINE, periods=Q, currency="EUR", by=manager_hierarchy(manager_reps())
    )


def test_attainment_and_coverage_per_rep_and_rolled_up() -> None:
    report = team(
        [
            opp("closed_won", 750, owner_id="rep_b"),
            opp("negotiate", 100, owner_id="rep_b"),
            opp("prospect", 300, owner_id="rep_b"),
        ]
    )
    quotas = [
        quota(1000, sales_rep_id="rep_b"),
        quota(500, sales_rep_id="rep_d"),
        quota(0, sales_rep_id="rep_a"),
        quota(99, period="FY2027-Q1", sales_rep_id="rep_e"),  # another period
    ]
    result = attainment(report, quotas)
    rep_b = result.line("FY2026-Q1", "rep_b")
    assert (rep_b.quota, rep_b.quota_source) == (Money.of(1000, "EUR"), QuotaSource.OWN)
    assert rep_b.attainment.value == Decimal("0.7500")
    assert rep_b.commit_coverage.value == Decimal("0.8500")
    assert rep_b.pipeline_coverage.value == Decimal("1.6000")  # 400 open / 250 remaining
    assert rep_b.remaining == Money.of(250, "EUR")

    rep_c = result.line("FY2026-Q1", "rep_c")
    assert (rep_c.quota, rep_c.quota_source) == (Money.of(500, "EUR"), QuotaSource.CHILDREN)
    assert rep_c.attainment.value == Decimal("0.0000")

    rep_a = result.line("FY2026-Q1", "rep_a")  # a zero quota of its own wins over children
    assert rep_a.quota == Money.of(0, "EUR")
    assert rep_a.attainment.value is None
    assert rep_a.attainment.reason == "the quota is zero"

    rep_e = result.line("FY2026-Q1", "rep_e")
    assert (rep_e.quota, rep_e.quota_source, rep_e.remaining) == (None, QuotaSource.NONE, None)
    assert rep_e.attainment.reason == rep_e.pipeline_coverage.reason == "no quota"


def test_pipeline_coverage_of_a_met_quota_is_none_with_the_reason() -> None:
    report = team([opp("closed_won", 1200, owner_id="rep_b"), opp("propose", 50, owner_id="rep_b")])
    line = attainment(report, [quota(1000, sales_rep_id="rep_b")]).line("FY2026-Q1", "rep_b")
    assert line.attainment.value == Decimal("1.2000")
    assert line.pipeline_coverage.value is None
    assert "nothing left to cover" in (line.pipeline_coverage.reason or "")
    assert line.pipeline_coverage.denominator == Money.of(-200, "EUR")


def test_territory_quotas_are_found_by_the_nodes_stored_territory() -> None:
    tree = Hierarchy(
        dimension="territory",
        nodes=[
            HierarchyNode(key="emea", match="terr_e"),
            HierarchyNode(key="dach", parent="emea", match="terr_n"),
            HierarchyNode(key="nordics", parent="emea"),
        ],
    )
    report = forecast(
        [opp("closed_won", 300, territory_id="terr_n")],
        pipelines=PIPELINE,
        periods=Q,
        currency="EUR",
        by=tree,
    )
    result = attainment(report, [quota(600, territory_id="terr_n")])
    assert result.line("FY2026-Q1", "dach").attainment.value == Decimal("0.5000")
    emea = result.line("FY2026-Q1", "emea")
    assert (emea.quota_source, emea.attainment.value) == (QuotaSource.CHILDREN, Decimal("0.5000"))
    assert result.line("FY2026-Q1", "nordics").quota_source is QuotaSource.NONE
    flat = forecast(
        [opp("closed_won", 300, territory_id="terr_n")],
        pipelines=PIPELINE,
        periods=Q,
        currency="EUR",
        by="territory",
    )
    flat_line = attainment(flat, [quota(600, territory_id="terr_n")]).line("FY2026-Q1", "terr_n")
    assert flat_line.attainment.value == Decimal("0.5000")


def test_quotas_in_another_currency_convert_at_the_period_start_or_are_refused() -> None:
    report = team([opp("closed_won", 500, owner_id="rep_b")])
    usd = [quota("1050", "USD", sales_rep_id="rep_b")]
    line = attainment(report, usd, rates=rate_table()).line("FY2026-Q1", "rep_b")
    assert line.quota == Money.of(1000, "EUR")  # 1.05 on 2026-01-01
    with pytest.raises(ValidationError) as caught:
        attainment(report, usd)
    assert caught.value.path == "$.quotas[0].amount.currency"
    with pytest.raises(ValidationError, match=r"\$\.quotas\[0\]"):
        attainment(report, ["quota"])  # type: ignore[list-item]
    by_line = forecast([], pipelines=PIPELINE, periods=Q, currency="EUR", by="product_line")
    with pytest.raises(ValidationError, match="product_line"):
        attainment(by_line, usd)


@settings(max_examples=30, deadline=None)
@given(deal_lists())
def test_ratios_are_none_exactly_when_the_denominator_is_not_positive(
    items: list[Opportunity],
) -> None:
    quotas = [quota(q, sales_rep_id=r) for q, r in ((0, "rep_b"), (1000, "rep_c"), (5, "rep_d"))]
    for line in attainment(team(items), quotas).lines:
        for ratio in (line.attainment, line.commit_coverage, line.pipeline_coverage):
            positive = ratio.denominator is not None and ratio.denominator.amount > 0
            assert (ratio.value is None) == (not positive)
            assert (ratio.reason is None) == positive


def test_ratio_of_rounds_half_up_to_four_places() -> None:
    assert Ratio.of(Money.of(1, "EUR"), Money.of(3, "EUR")).value == Decimal("0.3333")
    assert Ratio.of(Money.of(2, "EUR"), Money.of(3, "EUR")).value == Decimal("0.6667")


# -- accuracy --------------------------------------------------------------------------------


def accuracy_case() -> tuple[list[object], ForecastReport]:
    submitted = forecast(
        [
            opp("negotiate", 100, owner_id="rep_b"),
            opp("negotiate", 50, owner_id="rep_c"),
            opp("negotiate", 200, owner_id="rep_b", close_date=date(2026, 5, 1)),
        ],
        pipelines=PIPELINE,
        periods=Q,
        currency="EUR",
    )
    snapshots = [snapshot(submitted, p, taken_at=T) for p in ("FY2026-Q1", "FY2026-Q2")]
    actuals = forecast(
        [
            opp("closed_won", 80, owner_id="rep_b"),
            opp("closed_won", 250, owner_id="rep_b", close_date=date(2026, 5, 3)),
        ],
        pipelines=PIPELINE,
        periods=Q,
        currency="EUR",
    )
    return snapshots, actuals  # type: ignore[return-value]


def test_mape_wmape_and_bias_by_hand() -> None:
    snapshots, actuals = accuracy_case()
    result = accuracy(snapshots, actuals)  # type: ignore[arg-type]
    point = next(p for p in result.points if (p.period, p.group) == ("FY2026-Q1", "rep_b"))
    assert (point.forecast, point.actual, point.error, point.ape) == (
        Money.of(100, "EUR"),
        Money.of(80, "EUR"),
        Money.of(20, "EUR"),
        Decimal("0.2500"),
    )
    by_group = {s.key: s for s in result.by_group()}
    assert (by_group["rep_b"].mape, by_group["rep_b"].wmape, by_group["rep_b"].bias) == (
        Decimal("0.2250"),
        Decimal("0.2121"),
        Decimal("-0.0909"),
    )
    rep_c = by_group["rep_c"]
    assert (rep_c.mape, rep_c.wmape, rep_c.bias, rep_c.zero_actuals) == (None, None, None, 2)
    assert rep_c.total_error == Money.of(50, "EUR")
    assert rep_c.notes
    overall = result.overall()
    assert (overall.mape, overall.wmape, overall.bias) == (
        Decimal("0.2250"),
        Decimal("0.3636"),
        Decimal("0.0606"),
    )
    by_period = {s.key: s for s in result.by_period()}
    assert (by_period["FY2026-Q1"].wmape, by_period["FY2026-Q1"].bias) == (
        Decimal("0.8750"),
        Decimal("0.8750"),
    )
    assert by_period["FY2026-Q2"].bias == Decimal("-0.2000")
    assert result.overall(["rep_b"]) == AccuracyStats.of(
        None, [p for p in result.points if p.group == "rep_b"], "EUR"
    )


def test_a_group_missing_from_the_actuals_counts_as_nothing_won() -> None:
    snapshots, _ = accuracy_case()
    empty = forecast([], pipelines=PIPELINE, periods=Q, currency="EUR")
    result = accuracy(snapshots, empty, category="best_case")  # type: ignore[arg-type]
    assert all(not p.actual_found and p.actual.is_zero() for p in result.points)
    assert result.overall().mape is None
    point = AccuracyPoint(
        period="FY2026-Q1", group="x", forecast=Money.of(1, "EUR"), actual=Money.of(0, "EUR")
    )
    assert point.ape is None


def test_bad_accuracy_inputs_are_named() -> None:
    snapshots, actuals = accuracy_case()
    with pytest.raises(ValidationError, match="one snapshot per period"):
        accuracy([snapshots[0], snapshots[0]], actuals)  # type: ignore[list-item]
    other = forecast([], pipelines=PIPELINE, periods=Q, currency="USD")
    with pytest.raises(ValidationError, match=r"\$\.snapshots\[0\]\.currency"):
        accuracy(snapshots, other)  # type: ignore[arg-type]
    later = forecast([], pipelines=PIPELINE, periods=CAL.periods(2027, "quarter"), currency="EUR")
    with pytest.raises(ValidationError, match=r"\$\.snapshots\[0\]\.period\.name"):
        accuracy(snapshots, later)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"\$\.category"):
        accuracy(snapshots, actuals, category="omitted")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"\$\.actuals"):
        accuracy(snapshots, "actuals")  # type: ignore[arg-type]
