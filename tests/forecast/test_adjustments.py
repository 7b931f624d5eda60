"""Owner and manager adjustments, and submitted snapshots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfakit.codec import from_data, from_json, to_data, to_json
from sfakit.errors import NotFoundError, ValidationError
from sfakit.forecast import (
    AdjustedForecast,
    Adjustment,
    FiscalCalendar,
    ForecastReport,
    ForecastSnapshot,
    Hierarchy,
    adjust,
    forecast,
    manager_hierarchy,
    snapshot,
)
from sfakit.model import ForecastCategory, Money, Opportunity

from .support import PIPELINE, deal_lists, manager_reps, opp, territory_hierarchies

CAL = FiscalCalendar.monthly()
Q = CAL.periods(2026, "quarter")
T = datetime(2026, 1, 10, tzinfo=UTC)
HOUR = timedelta(hours=1)


def team_report() -> ForecastReport:
    deals = [
        opp("negotiate", 1000, owner_id="rep_a"),
        opp("negotiate", 100, owner_id="rep_b"),
        opp("negotiate", 10, owner_id="rep_d"),
        opp("propose", 7, owner_id="rep_d"),
    ]
    return forecast(
        deals, pipelines=PIPELINE, periods=Q, currency="EUR", by=manager_hierarchy(manager_reps())
    )


def adj(group: str, view: str, delta: int, at: datetime = T, **more: object) -> Adjustment:
    fields: dict[str, object] = {
        "period": "FY2026-Q1",
        "group": group,
        "category": "commit",
        "delta": Money.of(delta, "EUR"),
        "view": view,
        "by": view,
        "at": at,
    }
    return Adjustment(**(fields | more))  # type: ignore[arg-type]


ADJUSTMENTS = [
    adj("rep_b", "rep_b", 50, T + HOUR, reason="big order coming"),
    adj("rep_a", "rep_a", 999, T + HOUR),
    adj("rep_b", "rep_a", -30, T),  # senior, though older than the rep's own
    adj("rep_d", "rep_c", 5),
    adj("rep_d", "rep_d", 100, T + 2 * HOUR),
    adj("rep_a", "rep_a", 1, T + 2 * HOUR),  # the latest of rep_a's own two
]


def commit(view: AdjustedForecast, group: str) -> Money:
    return view.figure("FY2026-Q1", group, "commit").adjusted


def test_each_rep_sees_their_own_adjustment() -> None:
    report = team_report()
    assert commit(adjust(report, ADJUSTMENTS, view="rep_b"), "rep_b") == Money.of(150, "EUR")
    assert commit(adjust(report, ADJUSTMENTS, view="rep_d"), "rep_d") == Money.of(110, "EUR")


def test_a_managers_adjustment_overrides_the_reps_in_the_managers_view() -> None:
    report = team_report()
    mid = adjust(report, ADJUSTMENTS, view="rep_c")
    assert commit(mid, "rep_d") == Money.of(15, "EUR")
    assert commit(mid, "rep_c") == Money.of(15, "EUR")  # rolls up the adjusted rep_d
    with pytest.raises(ValidationError, match=r"\$\.figure"):
        mid.figure("FY2026-Q1", "rep_b", "commit")  # not in rep_c's view

    top = adjust(report, ADJUSTMENTS, view="rep_a")
    rep_b = top.figure("FY2026-Q1", "rep_b", "commit")
    assert (rep_b.raw, rep_b.rolled_up, rep_b.adjusted) == (
        Money.of(100, "EUR"),
        Money.of(100, "EUR"),
        Money.of(70, "EUR"),
    )
    assert rep_b.applied == ADJUSTMENTS[2]
    assert rep_b.superseded == (ADJUSTMENTS[0],)
    rep_a = top.figure("FY2026-Q1", "rep_a", "commit")
    assert rep_a.raw == Money.of(1110, "EUR")
    assert rep_a.rolled_up == Money.of(1000 + 70 + 15, "EUR")
    assert rep_a.adjusted == Money.of(1086, "EUR")
    assert rep_a.applied == ADJUSTMENTS[5]
    assert rep_a.superseded == (ADJUSTMENTS[1],)
    assert rep_a.change == Money.of(-24, "EUR")
    whole = set(adjust(report, ADJUSTMENTS).figures)
    assert whole == set(top.figures) | set(adjust(report, [], view="rep_e").figures)


def test_other_figures_and_periods_are_untouched_and_raw_is_kept() -> None:
    report = team_report()
    top = adjust(report, ADJUSTMENTS)
    best = top.figure("FY2026-Q1", "rep_a", ForecastCategory.BEST_CASE)
    assert best.adjusted == best.raw == Money.of(1117, "EUR")
    assert top.figure("FY2026-Q2", "rep_a", "commit").adjusted.is_zero()
    assert report.line("FY2026-Q1", "rep_a").total.commit_forecast == Money.of(1110, "EUR")


def test_adjusting_to_a_target_amount() -> None:
    report = team_report()
    view = adjust(report, ADJUSTMENTS, view="rep_a")
    wanted = view.adjustment_to(
        Money.of(200, "EUR"),
        period="FY2026-Q1",
        group="rep_b",
        category="commit",
        by="rep_a",
        at=T + 3 * HOUR,
        reason="confirmed by the buyer",
    )
    assert (wanted.delta, wanted.view) == (Money.of(100, "EUR"), "rep_a")
    after = adjust(report, [*ADJUSTMENTS, wanted], view="rep_a")
    assert commit(after, "rep_b") == Money.of(200, "EUR")
    with pytest.raises(ValidationError, match=r"\$\.view"):
        adjust(report, []).adjustment_to(
            Money.of(1, "EUR"),
            period="FY2026-Q1",
            group="rep_b",
            category="commit",
            by="x",
            at=T,
        )


def test_bad_adjustments_are_reported_by_path() -> None:
    report = team_report()
    bad = [
        adj("rep_b", "rep_c", 1),  # rep_c is not above rep_b
        adj("rep_zed", "rep_zed", 1),
        adj("rep_b", "rep_b", 1, period="FY2030-Q1"),
        attrs.evolve(adj("rep_b", "rep_b", 1), delta=Money.of(1, "USD")),
    ]
    with pytest.raises(ValidationError) as caught:
        adjust(report, bad)
    assert caught.value.paths == (
        "$.adjustments[0].view",
        "$.adjustments[1].group",
        "$.adjustments[2].period",
        "$.adjustments[3].delta.currency",
    )
    with pytest.raises(ValidationError, match="closed is what was won"):
        adj("rep_b", "rep_b", 1, category="closed")
    with pytest.raises(ValidationError, match=r"\$\.at"):
        adj("rep_b", "rep_b", 1, at=datetime(2026, 1, 1))
    with pytest.raises(ValidationError, match=r"\$\.view"):
        adjust(report, [], view="rep_zed")
    with pytest.raises(ValidationError, match=r"\$\.report"):
        adjust("report", [])  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None)
@given(deal_lists(), territory_hierarchies())
def test_without_adjustments_every_figure_is_its_raw_figure(
    items: list[Opportunity], hierarchy: Hierarchy
) -> None:
    report = forecast(items, pipelines=PIPELINE, periods=Q, currency="EUR", by=hierarchy)
    for figure in adjust(report, []).figures:
        assert figure.adjusted == figure.rolled_up == figure.raw
        assert figure.applied is None


@settings(max_examples=40, deadline=None)
@given(deal_lists(), st.lists(st.integers(-1000, 1000), min_size=1, max_size=4))
def test_owner_adjustments_of_a_flat_report_apply_the_latest(
    items: list[Opportunity], deltas: list[int]
) -> None:
    report = forecast(items, pipelines=PIPELINE, periods=Q, currency="EUR", by="owner")
    groups = [g for g in report.groups if g is not None]
    if not groups:
        return
    group = groups[0]
    made = [adj(group, group, d, T + i * HOUR) for i, d in enumerate(deltas)]
    figure = adjust(report, made).figure("FY2026-Q1", group, "commit")
    assert figure.adjusted == figure.raw + Money.of(deltas[-1], "EUR")
    assert len(figure.superseded) == len(deltas) - 1


# -- snapshots -------------------------------------------------------------------------------


def test_a_snapshot_freezes_the_adjusted_view() -> None:
    report = team_report()
    snap = snapshot(
        report,
        "FY2026-Q1",
        taken_at=T + 4 * HOUR,
        submitted_by="rep_a",
        view="rep_c",
        adjustments=ADJUSTMENTS,
    )
    assert snap.groups == ("rep_c", "rep_d")
    assert snap.line("rep_d").forecast("commit") == Money.of(15, "EUR")
    assert snap.line("rep_d").raw("commit") == Money.of(10, "EUR")
    assert snap.line("rep_d").forecast("closed") == Money.of(0, "EUR")
    assert snap.line("rep_d").adjustments == (ADJUSTMENTS[3],)
    assert snap.line("rep_c").parent == "rep_a"
    assert snap.period == CAL.period("FY2026-Q1")
    assert from_json(ForecastSnapshot, to_json(snap)) == snap
    with pytest.raises(NotFoundError):
        snap.line("rep_b")
    with pytest.raises(ValidationError, match=r"\$\.period"):
        snapshot(report, "FY2027-Q1", taken_at=T)


def test_a_snapshot_refuses_mixed_currencies_and_repeated_groups() -> None:
    snap = snapshot(team_report(), Q[0], taken_at=T)
    data = to_data(snap)
    data["lines"].append(data["lines"][0])
    data["lines"][1]["commit"]["currency"] = "USD"
    with pytest.raises(ValidationError) as caught:
        from_data(ForecastSnapshot, data)
    last = f"$.lines[{len(data['lines']) - 1}].group"
    assert set(caught.value.paths) >= {"$.lines[1].commit.currency", last}


@settings(max_examples=30, deadline=None)
@given(deal_lists(), territory_hierarchies(), st.sampled_from(Q))
def test_snapshots_round_trip_through_the_codec(
    items: list[Opportunity], hierarchy: Hierarchy, period: object
) -> None:
    report = forecast(items, pipelines=PIPELINE, periods=Q, currency="EUR", by=hierarchy)
    snap = snapshot(report, period, taken_at=T, submitted_by="rep_a")  # type: ignore[arg-type]
    assert from_data(ForecastSnapshot, to_data(snap)) == snap
    for line in snap.lines:
        assert line.figures == report.line(period, line.group).total  # type: ignore[arg-type]
