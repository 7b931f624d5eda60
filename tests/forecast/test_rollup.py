"""Category roll-ups: a worked example, and the laws of cumulative forecasts."""

from __future__ import annotations

import sys
from collections import Counter
from datetime import date
from decimal import Decimal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfakit.errors import NotFoundError, SfaError, ValidationError
from sfakit.forecast import (
    CATEGORY_CODES,
    Dimension,
    Engine,
    ExclusionReason,
    FiscalCalendar,
    ForecastColumns,
    ForecastFigures,
    ForecastReport,
    Hierarchy,
    MissingRateError,
    RateBasis,
    forecast,
    forecast_columns,
    manager_hierarchy,
    tally,
)
from sfakit.model import ForecastCategory, Money, Opportunity
from sfakit.pipeline import PipelineSet, standard_pipeline

from .support import (
    PIPELINE,
    deal_lists,
    deals,
    manager_reps,
    opp,
    rate_table,
    territory_hierarchies,
)

CAL = FiscalCalendar.monthly()
QUARTERS = CAL.between("FY2025-Q1", "FY2027-Q4")
FY2026 = CAL.periods(2026, "quarter")
C = ForecastCategory


def run(items: list[Opportunity], **kwargs: object) -> ForecastReport:
    options: dict[str, object] = {"pipelines": PIPELINE, "periods": QUARTERS, "currency": "EUR"}
    options.update(kwargs)
    return forecast(items, **options)  # type: ignore[arg-type]


def snapshot_of(report: ForecastReport) -> list[tuple[object, ...]]:
    return [(line.period, line.group, line.own, line.total) for line in report.lines]


# -- a worked example ------------------------------------------------------------------------


def worked_example() -> tuple[list[Opportunity], dict[str, Opportunity]]:
    named = {
        "won": opp("closed_won", 1000),
        "commit": opp("negotiate", 500),
        "best": opp("propose", 300),
        "pipe": opp("prospect", 200, probability_override=50),
        "upgraded": opp("qualify", 100, forecast_category_override=C.BEST_CASE),
        "no_amount": opp("negotiate", None),
        "omitted": opp("negotiate", 999, forecast_category_override=C.OMITTED),
        "lost": opp("closed_lost", 5000),
        "undated": opp("propose", 70, close_date=None),
        "later": opp("propose", 80, close_date=date(2031, 1, 1)),
        "won_override_ignored": opp(
            "closed_won", 10, forecast_category_override=C.OMITTED, probability_override=0
        ),
    }
    return list(named.values()), named


def test_a_hand_computed_forecast() -> None:
    items, named = worked_example()
    report = forecast(items, pipelines=PIPELINE, periods=FY2026, currency="EUR")
    line = report.line("FY2026-Q1", "rep_a")
    f = line.total
    assert f == line.own
    assert (f.closed, f.commit, f.best_case, f.pipeline) == (
        Money.of(1010, "EUR"),
        Money.of(500, "EUR"),
        Money.of(400, "EUR"),
        Money.of(200, "EUR"),
    )
    assert f.commit_forecast == Money.of(1510, "EUR")
    assert f.best_case_forecast == Money.of(1910, "EUR")
    assert f.open_pipeline == Money.of(1100, "EUR")
    # 500 x 80 % + 300 x 50 % + 200 x 50 % (override) + 100 x 20 % (qualify's probability)
    assert f.weighted == Money.of(670, "EUR")
    assert (f.closed_deals, f.commit_deals, f.best_case_deals, f.pipeline_deals) == (2, 2, 2, 1)
    assert f.missing_amounts == 1
    assert report.excluded("omitted") == (named["omitted"].id,)
    assert report.excluded(ExclusionReason.LOST) == (named["lost"].id,)
    assert report.excluded("no_close_date") == (named["undated"].id,)
    assert report.excluded("outside_periods") == (named["later"].id,)
    assert report.line("FY2026-Q2", "rep_a").total == ForecastFigures.zero("EUR")


def test_the_deals_behind_a_number() -> None:
    items, named = worked_example()
    report = forecast(items, pipelines=PIPELINE, periods=FY2026, currency="EUR")
    commit = report.deals("FY2026-Q1", "rep_a", "commit")
    assert {c.deal_id for c in commit} == {
        named[k].id for k in ("won", "won_override_ignored", "commit", "no_amount")
    }
    assert sum(c.amount.amount for c in commit) == Decimal(1510)
    only = report.deals("FY2026-Q1", "rep_a", "commit", cumulative=False)
    assert {c.deal_id for c in only} == {named["commit"].id, named["no_amount"].id}
    missing = [c for c in report.deals("FY2026-Q1", "rep_a") if c.amount_missing]
    assert [c.deal_id for c in missing] == [named["no_amount"].id]
    with pytest.raises(ValidationError, match=r"\$\.category"):
        report.deals("FY2026-Q1", "rep_a", "omitted")


def test_lookups_name_what_is_missing() -> None:
    report = forecast([opp("propose")], pipelines=PIPELINE, periods=FY2026, currency="EUR")
    with pytest.raises(ValidationError, match="FY2026-Q1, FY2026-Q2"):
        report.line("FY2027-Q1", "rep_a")
    with pytest.raises(NotFoundError, match="rep_zed"):
        report.line("FY2026-Q1", "rep_zed")
    with pytest.raises(ValidationError, match=r"\$\.reason"):
        report.excluded("forgotten")
    assert report.excluded("lost") == ()
    assert "1 deals counted" in repr(report)


def test_grouping_by_product_line_and_territory_is_flat_with_none_last() -> None:
    items = [
        opp("propose", 1, product_line="lamps", territory_id="terr_n"),
        opp("propose", 2, product_line="bulbs"),
        opp("propose", 4, product_line="lamps", territory_id="terr_s"),
    ]
    by_line = run(items, by="product_line", periods=FY2026)
    assert by_line.groups == ("bulbs", "lamps")
    assert by_line.line("FY2026-Q1", "lamps").own.best_case == Money.of(5, "EUR")
    by_territory = run(items, by=Dimension.TERRITORY, periods=FY2026)
    assert by_territory.groups == ("terr_n", "terr_s", None)
    assert by_territory.line("FY2026-Q1", None).own.best_case == Money.of(2, "EUR")
    assert by_territory.dimension is Dimension.TERRITORY


def test_a_manager_hierarchy_rolls_reps_up_to_their_managers() -> None:
    items = [
        opp("negotiate", 100, owner_id="rep_a"),
        opp("negotiate", 20, owner_id="rep_b"),
        opp("negotiate", 3, owner_id="rep_d"),
        opp("negotiate", 4000, owner_id=None),
    ]
    report = run(items, by=manager_hierarchy(manager_reps()), periods=FY2026)
    commit = {g: report.line("FY2026-Q1", g).total.commit for g in report.groups}
    assert commit == {
        "rep_a": Money.of(123, "EUR"),
        "rep_b": Money.of(20, "EUR"),
        "rep_c": Money.of(3, "EUR"),
        "rep_d": Money.of(3, "EUR"),
        "rep_e": Money.of(0, "EUR"),
        None: Money.of(4000, "EUR"),
    }
    assert report.line("FY2026-Q1", "rep_a").own.commit == Money.of(100, "EUR")
    assert report.children("rep_a") == ("rep_b", "rep_c")
    assert report.parent("rep_d") == "rep_c"
    assert report.line("FY2026-Q1", "rep_d").label == "REP_D"
    assert report.total("FY2026-Q1").commit == Money.of(4123, "EUR")
    assert report.deals("FY2026-Q1", "rep_c", own_only=True) == ()
    assert len(report.deals("FY2026-Q1", "rep_c")) == 1


def test_the_no_node_group_appears_only_when_a_deal_needs_it() -> None:
    report = run([opp("propose", owner_id="rep_b")], by=manager_hierarchy(manager_reps()))
    assert None not in report.groups


def test_several_pipelines_and_their_errors() -> None:
    renewals = standard_pipeline("renewals")
    both = PipelineSet([PIPELINE, renewals])
    items = [opp("propose", 10), opp("propose", 5, pipeline="renewals")]
    assert run(items, pipelines=both, periods=FY2026).total().best_case == Money.of(15, "EUR")
    with pytest.raises(ValidationError) as caught:
        run(items)
    assert caught.value.path == "$.opportunities[1].pipeline"
    with pytest.raises(ValidationError) as caught:
        run([opp("propose"), attrs.evolve(opp("propose"), stage="haggle")])
    assert caught.value.path == "$.opportunities[1].stage"
    with pytest.raises(ValidationError, match=r"\$\.pipelines"):
        run(items, pipelines=[PIPELINE])
    with pytest.raises(ValidationError, match=r"\$\.opportunities\[0\]"):
        run(["opp_x"])  # type: ignore[list-item]


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValidationError, match=r"\$\.currency"):
        run([], currency="EURO")
    with pytest.raises(ValidationError, match=r"\$\.by"):
        run([], by="colour")
    with pytest.raises(ValidationError, match=r"\$\.engine"):
        run([opp("propose")], engine="gpu")
    with pytest.raises(ValidationError, match=r"\$\.rate_basis"):
        run([], rate_basis="yesterday")
    with pytest.raises(ValidationError, match=r"\$\.rates"):
        run([], rates={"USD": 1})
    with pytest.raises(ValidationError, match=r"\$\.periods"):
        run([], periods=[])
    with pytest.raises(ValidationError, match=r"\$\.periods\[0\]"):
        run([], periods=["FY2026-Q1"])
    with pytest.raises(ValidationError) as caught:
        run([], periods=[CAL.period("FY2026"), CAL.period("FY2026-Q3")])
    assert caught.value.path == "$.periods[1]"
    with pytest.raises(ValidationError, match=r"\$\.periods\[1\]\.name"):
        run([], periods=[CAL.period("FY2026-Q3"), CAL.period("FY2026-Q3")])


# -- currencies --------------------------------------------------------------------------------


def test_foreign_amounts_convert_at_the_close_date_or_the_period_start() -> None:
    items = [opp("negotiate", "105", currency="USD", close_date=date(2026, 1, 20))]
    at_close = run(items, rates=rate_table(), periods=FY2026)
    assert at_close.total().commit == Money.of(100, "EUR")  # 1.05 from 2026-01-01
    at_start = run(
        [opp("negotiate", "110", currency="USD", close_date=date(2025, 12, 20))],
        rates=rate_table(),
        periods=CAL.periods(2025, "year"),
        rate_basis=RateBasis.PERIOD_START,
    )
    assert at_start.total().commit == Money.of(100, "EUR")  # 1.10 on 2025-01-01


def test_foreign_amounts_without_rates_or_a_rate_are_errors() -> None:
    items = [opp("propose"), opp("negotiate", 1, currency="USD")]
    with pytest.raises(ValidationError) as caught:
        run(items)
    assert caught.value.path == "$.opportunities[1].amount.currency"
    early = [opp("negotiate", 1, currency="USD", close_date=date(2023, 6, 1))]
    with pytest.raises(MissingRateError) as missing:
        run(early, rates=rate_table(), periods=CAL.periods(2023, "quarter"))
    assert missing.value.currency == "USD"
    assert missing.value.day == date(2023, 6, 1)
    assert any("opportunities[0]" in note for note in missing.value.__notes__)


@settings(max_examples=40, deadline=None)
@given(st.lists(deals(currencies=("EUR", "USD", "JPY")), max_size=20))
def test_converting_in_the_forecast_equals_converting_each_deal_first(
    items: list[Opportunity],
) -> None:
    table = rate_table()
    converted = [
        attrs.evolve(d, amount=table.convert(d.amount, "EUR", on=d.close_date))
        if d.amount is not None and d.close_date is not None
        else d
        for d in items
    ]
    assert snapshot_of(run(items, rates=table)) == snapshot_of(run(converted))


# -- laws ------------------------------------------------------------------------------------


lost_or_omitted = st.one_of(
    deals().map(lambda d: attrs.evolve(d, stage="closed_lost", lost_reason="price")),
    deals()
    .filter(lambda d: d.stage not in ("closed_won", "closed_lost"))
    .map(lambda d: attrs.evolve(d, forecast_category_override=C.OMITTED)),
)


@settings(max_examples=40, deadline=None)
@given(deal_lists(), st.lists(lost_or_omitted, max_size=8), st.randoms())
def test_lost_and_omitted_deals_never_change_any_total(
    items: list[Opportunity], extra: list[Opportunity], random: object
) -> None:
    mixed = items + extra
    random.shuffle(mixed)  # type: ignore[attr-defined]
    for by in ("owner", "territory", "product_line", manager_hierarchy(manager_reps())):
        assert snapshot_of(run(mixed, by=by)) == snapshot_of(run(items, by=by))


@settings(max_examples=40, deadline=None)
@given(deal_lists(), territory_hierarchies())
def test_a_parent_total_is_its_own_deals_plus_its_children_totals(
    items: list[Opportunity], hierarchy: Hierarchy
) -> None:
    for by in (hierarchy, manager_hierarchy(manager_reps())):
        report = run(items, by=by)
        for line in report.lines:
            children = [report.line(line.period, c).total for c in report.children(line.group)]
            assert line.total == sum(children, line.own)
        grand = sum((line.own for line in report.lines), ForecastFigures.zero("EUR"))
        assert report.total() == grand


@settings(max_examples=40, deadline=None)
@given(deal_lists(), territory_hierarchies())
def test_a_hierarchy_node_holds_the_deals_of_its_match(
    items: list[Opportunity], hierarchy: Hierarchy
) -> None:
    flat = run(items, by="territory")
    tree = run(items, by=hierarchy)
    for node in hierarchy.nodes:
        for period in QUARTERS:
            own = tree.line(period, node.key).own
            expected = (
                flat.line(period, node.match).own
                if node.match is not None and node.match in flat.groups
                else ForecastFigures.zero("EUR")
            )
            assert own == expected


@settings(max_examples=50, deadline=None)
@given(deal_lists(missing=True))
def test_cumulative_figures_are_ordered_for_non_negative_amounts(
    items: list[Opportunity],
) -> None:
    for line in run(items).lines:
        f = line.total
        assert f.closed <= f.commit_forecast <= f.best_case_forecast
        assert f.commit <= f.open_pipeline
        assert f.weighted <= f.open_pipeline
        assert f.missing_amounts <= f.deals
        assert f.forecast("best_case") == f.best_case_forecast
        assert f.forecast_deals("pipeline") == f.open_deals


@settings(max_examples=40, deadline=None)
@given(deal_lists())
def test_every_deal_is_counted_once_or_excluded_once(items: list[Opportunity]) -> None:
    report = run(items)
    counted = [c.deal_id for line in report.lines for c in report.deals(line.period, line.group)]
    excluded = [d for e in report.exclusions for d in e.deal_ids]
    assert Counter(counted + excluded) == Counter(d.id for d in items)
    assert report.total().deals == len(counted)
    assert report.total().missing_amounts == sum(
        1 for d in items if d.amount is None and d.id in set(counted)
    )


@settings(max_examples=40, deadline=None)
@given(deal_lists(negative=True), st.sampled_from(list(ForecastCategory)[:4]), st.booleans())
def test_the_deals_behind_a_figure_add_up_to_it(
    items: list[Opportunity], category: ForecastCategory, cumulative: bool
) -> None:
    report = run(items, by=manager_hierarchy(manager_reps()))
    for line in report.lines:
        behind = report.deals(line.period, line.group, category, cumulative=cumulative)
        figure = line.total.forecast(category) if cumulative else line.total.amount(category)
        assert Money.sum((c.amount for c in behind), currency="EUR") == figure
        count = line.total.forecast_deals(category) if cumulative else line.total.count(category)
        assert len(behind) == count
    for line in report.lines:
        behind = report.deals(line.period, line.group)
        assert Money.sum((c.weighted for c in behind), currency="EUR") == line.total.weighted


@settings(max_examples=40, deadline=None)
@given(deal_lists(negative=True), territory_hierarchies())
def test_every_engine_gives_the_same_report(items: list[Opportunity], hierarchy: Hierarchy) -> None:
    python = run(items, by=hierarchy, engine="python")
    numpy = run(items, by=hierarchy, engine=Engine.NUMPY)
    assert python.tally_engine is Engine.PYTHON
    assert numpy.tally_engine is Engine.NUMPY
    assert snapshot_of(python) == snapshot_of(numpy)


# -- the columnar core -----------------------------------------------------------------------


def columns(**changes: object) -> ForecastColumns:
    base: dict[str, object] = {
        "deal_ids": ["opp_a", "opp_b"],
        "periods": [0, 1],
        "groups": [0, 1],
        "categories": [CATEGORY_CODES[C.COMMIT], CATEGORY_CODES[C.CLOSED]],
        "amounts": [100, 200],
        "weighted": [80, 0],
        "missing": [False, False],
    }
    return ForecastColumns(**(base | changes))  # type: ignore[arg-type]


def test_forecast_columns_reports_pre_extracted_deals() -> None:
    report = forecast_columns(
        columns(), periods=FY2026[:2], groups=["north", "south"], currency="JPY"
    )
    assert report.line("FY2026-Q1", "north").own.commit == Money.of(100, "JPY")
    assert report.line("FY2026-Q2", "south").own.closed == Money.of(200, "JPY")
    assert report.dimension is None


@pytest.mark.parametrize("engine", ["python", "numpy"])
def test_out_of_range_indexes_name_the_deal(engine: str) -> None:
    for name, value in (("periods", [0, 2]), ("groups", [0, -1]), ("categories", [0, 4])):
        with pytest.raises(ValidationError, match="opp_b") as caught:
            tally(columns(**{name: value}), periods=2, groups=2, engine=engine)
        assert caught.value.path == f"$.{name}[1]"


def test_columns_must_have_one_length_and_groups_must_be_unique() -> None:
    with pytest.raises(ValidationError, match=r"\$\.weighted"):
        columns(weighted=[1])
    with pytest.raises(ValidationError, match=r"\$\.groups"):
        forecast_columns(columns(), periods=FY2026, groups=["x", "x"], currency="EUR")
    with pytest.raises(ValidationError, match=r"\$\.groups\[1\]"):
        forecast_columns(columns(), periods=FY2026, groups=["x", 3], currency="EUR")  # type: ignore[list-item]


def test_numpy_steps_aside_when_int64_could_overflow() -> None:
    huge = columns(amounts=[10**20, 10**20], weighted=[0, 0])
    counted = tally(huge, periods=2, groups=2, engine="numpy")
    assert counted.engine is Engine.PYTHON
    assert counted.cell(0, 0)[1] == 10**20


def test_auto_uses_numpy_for_large_inputs() -> None:
    size = 30_000
    big = ForecastColumns(
        deal_ids=[f"opp_{i}" for i in range(size)],
        periods=[i % 4 for i in range(size)],
        groups=[i % 3 for i in range(size)],
        categories=[i % 4 for i in range(size)],
        amounts=list(range(size)),
        weighted=[i // 2 for i in range(size)],
        missing=[i % 7 == 0 for i in range(size)],
    )
    auto = tally(big, periods=4, groups=3)
    python = tally(big, periods=4, groups=3, engine="python")
    assert auto.engine is Engine.NUMPY
    assert auto.values == python.values
    assert tally(columns(), periods=2, groups=2).engine is Engine.PYTHON


def test_without_numpy_auto_sums_in_python_and_numpy_is_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "numpy", None)  # import numpy now raises ImportError
    size = 25_000
    big = ForecastColumns(
        deal_ids=["opp_x"] * size,
        periods=[0] * size,
        groups=[0] * size,
        categories=[1] * size,
        amounts=[1] * size,
        weighted=[1] * size,
        missing=[False] * size,
    )
    assert tally(big, periods=1, groups=1).engine is Engine.PYTHON
    with pytest.raises(SfaError, match="sfakit\\[numeric\\]"):
        tally(big, periods=1, groups=1, engine="numpy")
