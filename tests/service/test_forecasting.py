"""Forecasting through the service: one call per question on every backend, and the
forecasts pushed down to the database equal the in-memory ones on random books."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.pipeline.support import pipelines

import sfakit
from sfakit import ManualClock, Sfa
from sfakit.codec import from_data
from sfakit.errors import ValidationError
from sfakit.forecast import (
    Adjustment,
    ExclusionReason,
    FiscalCalendar,
    ForecastReport,
    MissingRateError,
    QuotaSource,
    RateTable,
    forecast,
)
from sfakit.forecast.stats import time_to_close
from sfakit.model import (
    ForecastCategory,
    Money,
    Opportunity,
    Quota,
    SalesRep,
)
from sfakit.model.currencies import MINOR_UNITS
from sfakit.pipeline import PipelineSet, standard_pipeline
from sfakit.rules import field
from sfakit.service.forecasting import (
    EXCHANGE_RATES,
    FISCAL_CALENDAR,
    FORECAST_SUBMISSIONS,
    GROUPINGS,
)
from sfakit.storage import Capability, In
from sfakit.storage.catalog import DERIVED, FINER_THAN_BASIS_POINTS
from sfakit.territory import TerritoryNode, TerritoryTree

T0 = datetime(2026, 1, 5, tzinfo=UTC)
Q1 = "FY2027-Q1"  # 1 February to 30 April 2026 with a February start
EUR = "EUR"


def eur(amount: int | str) -> Money:
    return Money.of(amount, EUR)


def deal(stage: str, amount: Money | None, **fields: Any) -> Opportunity:
    base: dict[str, Any] = {
        "name": f"{stage} deal",
        "account_id": "acct_acme",
        "pipeline": "standard",
        "stage": stage,
        "amount": amount,
        "close_date": date(2026, 3, 10),
        "created_at": T0,
    }
    return Opportunity(**(base | fields))


def _organisation(sfa: Sfa) -> None:
    """Vera leads Mia, who leads Al and Bo; EMEA holds DACH and the Nordics."""
    for rep, manager in (
        ("rep_vera", None),
        ("rep_mia", "rep_vera"),
        ("rep_al", "rep_mia"),
        ("rep_bo", "rep_mia"),
    ):
        sfa.insert(SalesRep(id=rep, name=rep[4:].title(), manager_id=manager, created_at=T0))
    tree = TerritoryTree(
        nodes=[
            TerritoryNode(key="emea", name="EMEA"),
            TerritoryNode(key="dach", parent="emea", territory_id="terr_dach"),
            TerritoryNode(key="nordics", parent="emea", territory_id="terr_nordics"),
        ]
    )
    sfa.set_territory_tree(tree, expected_version=None)
    sfa.set_fiscal_calendar(FiscalCalendar.monthly(start_month=2), expected_version=None)
    sfa.set_exchange_rates(
        RateTable.of(EUR, {"USD": [("2026-01-01", "1.25")]}), expected_version=None
    )


def _book(sfa: Sfa) -> dict[str, Opportunity]:
    """The deals of the worked examples, all closing in FY2027-Q1 unless told."""
    _organisation(sfa)
    dach = {"owner_id": "rep_al", "territory_id": "terr_dach"}
    nordics = {"owner_id": "rep_bo", "territory_id": "terr_nordics", "product_line": "lamps"}
    made = {
        "won": deal("closed_won", eur(1000), closed_at=T0 + timedelta(days=40), **dach),
        "won_usd": deal(
            "closed_won",
            Money.of(125, "USD"),
            close_date=date(2026, 3, 1),
            closed_at=T0 + timedelta(days=50),
            **nordics,
        ),
        "commit": deal("negotiate", eur(500), **dach),  # 80 %: 400 weighted
        "best": deal("propose", eur(300), **nordics),  # 50 %: 150
        "override": deal("prospect", eur(200), probability_override=25, **dach),  # 50
        "upgraded": deal(  # qualify (20 %) marked best case: 20
            "qualify",
            eur(100),
            forecast_category_override=ForecastCategory.BEST_CASE,
            **nordics,
        ),
        "lost": deal(
            "closed_lost",
            eur(5000),
            lost_reason="price",
            closed_at=T0 + timedelta(days=20),
            **dach,
        ),
        "omitted": deal(
            "negotiate", eur(900), forecast_category_override=ForecastCategory.OMITTED, **dach
        ),
        "next_quarter": deal("negotiate", eur(700), close_date=date(2026, 6, 15), **dach),
        "unplaced": deal("propose", eur(40), owner_id="rep_mia"),  # no territory: 20
    }
    with sfa.transaction() as tx:
        tx.insert_many(made.values())
    return made


# -- worked examples, on every backend ----------------------------------------------------


def test_a_forecast_by_territory_rolls_up_the_stored_tree(sfa: Sfa) -> None:
    made = _book(sfa)
    report = sfa.forecast(Q1)
    assert isinstance(report, ForecastReport)
    assert report.groups == ("emea", "dach", "nordics", None)
    dach = report.line(Q1, "dach").total
    assert (dach.closed, dach.commit, dach.best_case, dach.pipeline, dach.weighted) == (
        eur(1000),
        eur(500),
        eur(0),
        eur(200),
        eur(450),
    )
    nordics = report.line(Q1, "nordics").total
    assert nordics.closed == eur(100)  # 125 USD at 1.25 on the close date
    assert nordics.best_case == eur(400)
    assert nordics.weighted == eur(170)
    emea = report.line(Q1, "emea")
    assert emea.own.deals == 0
    assert emea.total.commit_forecast == eur(1600)
    assert emea.total.best_case_forecast == eur(2000)
    assert emea.total.open_pipeline == eur(1100)
    assert report.line(Q1, None).total.best_case == eur(40)
    assert report.total().weighted == eur(640)
    # Lost and omitted deals are counted apart, never in a figure.
    assert [(e.reason, e.count) for e in report.exclusions] == [
        (ExclusionReason.LOST, 1),
        (ExclusionReason.OMITTED, 1),
    ]
    # The push-down counts; an itemised report names the deals behind each figure.
    assert report.itemised is (Capability.AGGREGATE not in sfa.storage.capabilities)
    listed = sfa.forecast(Q1, itemised=True)
    assert listed.lines == report.lines
    behind = listed.deals(Q1, "emea", "commit")
    assert {c.deal_id for c in behind} == {made[k].id for k in ("won", "won_usd", "commit")}
    assert listed.excluded("lost") == (made["lost"].id,)


def test_a_pushed_down_report_says_it_cannot_list_deals(sfa: Sfa) -> None:
    _book(sfa)
    report = sfa.forecast(Q1)
    if report.itemised:
        pytest.skip("this backend has no aggregates: every report is itemised")
    with pytest.raises(ValidationError, match="itemised") as caught:
        report.deals(Q1, "dach")
    assert caught.value.path == "$.report.itemised"
    with pytest.raises(ValidationError, match="itemised"):
        report.excluded("lost")


def test_a_forecast_by_owner_manager_or_product_line(sfa: Sfa) -> None:
    _book(sfa)
    by_owner = sfa.forecast(Q1, by="owner")
    assert by_owner.groups == ("rep_al", "rep_bo", "rep_mia")
    assert by_owner.line(Q1, "rep_al").total.commit_forecast == eur(1500)
    team = sfa.forecast(Q1, by="manager")
    assert team.groups == ("rep_vera", "rep_mia", "rep_al", "rep_bo")
    mia = team.line(Q1, "rep_mia")
    assert mia.own.best_case == eur(40)
    assert mia.total.best_case_forecast == eur(2040)
    assert team.line(Q1, "rep_vera").total == mia.total
    lines = sfa.forecast(Q1, by="product_line")
    assert lines.groups == ("lamps", None)
    assert lines.line(Q1, "lamps").total.closed == eur(100)


def test_several_periods_and_another_currency(sfa: Sfa) -> None:
    _book(sfa)
    report = sfa.forecast(["FY2027-Q1", "FY2027-Q2"], by="owner", currency="USD")
    assert [p.name for p in report.periods] == ["FY2027-Q1", "FY2027-Q2"]
    assert report.currency == "USD"
    assert report.line("FY2027-Q2", "rep_al").total.commit == Money.of(875, "USD")
    assert report.line(Q1, "rep_bo").total.closed == Money.of(125, "USD")


def test_criteria_select_the_deals_in_memory(sfa: Sfa) -> None:
    _book(sfa)
    big = sfa.forecast(Q1, by="owner", where=field("amount.amount").ge(300))
    assert big.itemised
    assert big.groups == ("rep_al", "rep_bo")
    assert big.line(Q1, "rep_al").total.pipeline == eur(0)


def test_the_calendar_and_rates_are_stored_settings(sfa: Sfa) -> None:
    assert sfa.fiscal_calendar() == FiscalCalendar.monthly()  # calendar years by default
    assert sfa.exchange_rates() is None
    sfa.insert(deal("negotiate", eur(10), owner_id="rep_al"))
    # Without a stored calendar, FY2026 is 2026 and its first quarter January to March.
    assert sfa.forecast("FY2026-Q1", by="owner", currency=EUR).total().commit == eur(10)
    version = sfa.set_fiscal_calendar(FiscalCalendar.monthly(start_month=2), expected_version=None)
    assert sfa.fiscal_calendar().period(Q1).start == date(2026, 2, 1)
    calendar, stored = sfa.setting(FiscalCalendar, FISCAL_CALENDAR)
    assert stored == version
    assert calendar.start_month == 2
    rates = RateTable.of("CHF", {EUR: [("2026-01-01", "1.05")]})
    sfa.set_exchange_rates(rates, expected_version=None)
    assert sfa.exchange_rates() == rates
    assert sfa.setting(RateTable, EXCHANGE_RATES)[0] == rates
    assert sfa.forecast(Q1, by="owner").currency == "CHF"  # the corporate currency


def test_bad_questions_are_validation_errors(sfa: Sfa) -> None:
    _organisation(sfa)
    sfa.insert(deal("closed_won", Money.of(10, "JPY"), owner_id="rep_al"))
    with pytest.raises(ValidationError) as caught:
        sfa.forecast("FY2027-Q5")
    assert (caught.value.path, caught.value.value) == ("$.period", "FY2027-Q5")
    with pytest.raises(ValidationError, match=r"\$\.by"):
        sfa.forecast(Q1, by="region")
    with pytest.raises(ValidationError, match=r"\$\.currency"):
        sfa.forecast(Q1, currency="EURO")
    with pytest.raises(ValidationError, match=r"\$\.period"):
        sfa.forecast([])
    with pytest.raises(ValidationError, match=r"\$\.where"):
        sfa.forecast(Q1, where=field("no_such_field").eq(1))
    with pytest.raises(ValidationError, match=r"\$\.by"):
        sfa.attainment(Q1, by="product_line")
    for itemised in (False, True):
        with pytest.raises(MissingRateError) as missing:
            sfa.forecast(Q1, itemised=itemised)
        assert (missing.value.currency, missing.value.day) == ("JPY", date(2026, 3, 10))


def test_without_rates_a_currency_must_be_named(sfa: Sfa) -> None:
    with pytest.raises(ValidationError, match="no exchange rates are stored"):
        sfa.forecast("FY2026-Q1")
    sfa.insert(deal("closed_won", Money.of(10, "USD")))
    for itemised in (False, True):
        with pytest.raises(ValidationError, match="USD"):
            sfa.forecast("FY2026-Q1", currency=EUR, itemised=itemised)


def test_attainment_reads_the_stored_quotas(sfa: Sfa) -> None:
    _book(sfa)
    for rep, amount in (("rep_al", 2000), ("rep_bo", 500)):
        sfa.insert(Quota(period=Q1, amount=eur(amount), sales_rep_id=rep, created_at=T0))
    sfa.insert(Quota(period=Q1, amount=eur(4000), territory_id="terr_dach", created_at=T0))
    sfa.insert(Quota(period="FY2027-Q2", amount=eur(1), sales_rep_id="rep_al", created_at=T0))
    team = sfa.attainment(Q1, by="manager")
    al = team.line(Q1, "rep_al")
    assert (al.quota, al.attainment.value) == (eur(2000), Decimal("0.5000"))
    assert al.commit_coverage.value == Decimal("0.7500")
    mia = team.line(Q1, "rep_mia")
    assert (mia.quota, mia.quota_source) == (eur(2500), QuotaSource.CHILDREN)
    regions = sfa.attainment(Q1)
    dach = regions.line(Q1, "dach")
    assert (dach.quota, dach.attainment.value) == (eur(4000), Decimal("0.2500"))
    assert regions.line(Q1, "nordics").attainment.reason == "no quota"


def test_a_submitted_forecast_round_trips_and_is_judged_against_what_was_won(
    sfa: Sfa, clock: ManualClock
) -> None:
    made = _book(sfa)
    raise_al = Adjustment(
        period=Q1,
        group="rep_al",
        category="commit",
        delta=eur(100),
        view="rep_mia",
        by="rep_mia",
        at=clock.now(),
        reason="renewal confirmed",
    )
    submitted = sfa.submit_forecast(
        Q1, by="manager", submitted_by="rep_mia", view="rep_mia", adjustments=[raise_al]
    )
    assert submitted.taken_at == clock.now()
    assert submitted.groups == ("rep_mia", "rep_al", "rep_bo")
    assert submitted.line("rep_al").forecast("commit") == eur(1600)
    assert sfa.forecast_snapshots() == [submitted]
    assert sfa.forecast_snapshots(by="territory") == []
    with sfa.transaction(readonly=True) as tx:
        (entry,) = tx.read(FORECAST_SUBMISSIONS)
    assert from_data(type(submitted), entry.data["snapshot"]) == submitted
    # The period has not ended: nothing to judge yet, unless asked for it by name.
    with pytest.raises(ValidationError, match="ended"):
        sfa.forecast_accuracy(by="manager")
    # Al wins his commit deal; the quarter ends.
    with sfa.transaction() as tx:
        won = tx.get(Opportunity, made["commit"].id)
        tx.update(won.evolve(stage="closed_won", closed_at=clock.now()))
    clock.set(datetime(2026, 5, 2, tzinfo=UTC))
    later = sfa.submit_forecast(Q1, by="manager", submitted_by="rep_vera")
    judged = sfa.forecast_accuracy(by="manager", submitted_by="rep_mia")
    points = {p.group: p for p in judged.points}
    assert set(points) == {"rep_mia", "rep_al", "rep_bo"}
    al = points["rep_al"]
    assert (al.forecast, al.actual, al.error) == (eur(1600), eur(1500), eur(100))
    assert points["rep_bo"].actual == eur(100)
    assert points["rep_bo"].error == eur(0)
    assert judged.overall(["rep_al", "rep_bo"]).wmape == Decimal("0.0625")  # 100 / 1600
    # Without a submitter, the latest submission of the period is judged.
    latest = sfa.forecast_accuracy(by="manager")
    assert {p.group for p in latest.points} == set(later.groups)
    assert next(p for p in latest.points if p.group == "rep_al").error == eur(0)


def test_a_range_is_reproducible_by_seed_and_uses_the_history(sfa: Sfa, clock: ManualClock) -> None:
    clock.set(datetime(2026, 3, 3, tzinfo=UTC))  # 29 days before FY2026-Q1 ends
    sfa.set_exchange_rates(RateTable.of(EUR, {}), expected_version=None)
    start = datetime(2025, 9, 1, tzinfo=UTC)
    history = [
        deal(
            stage,
            eur(100),
            created_at=start,
            closed_at=start + timedelta(days=days),
            close_date=date(2025, 9, 1) + timedelta(days=days),
            lost_reason="price" if stage == "closed_lost" else None,
        )
        for stage, days in (
            ("closed_won", 10),
            ("closed_lost", 20),
            ("closed_won", 30),
            ("closed_lost", 40),
        )
    ]
    young = deal("negotiate", eur(1000), created_at=datetime(2026, 2, 26, tzinfo=UTC))
    old = deal("propose", eur(400), created_at=datetime(2026, 2, 6, tzinfo=UTC), owner_id="rep_x")
    with sfa.transaction() as tx:
        tx.insert_many([*history, young, old])
    result = sfa.forecast_range("FY2026-Q1", seed=7, runs=2000)
    # Kaplan-Meier: S(5) = 1, S(34) = 3/10, so the 5-day-old deal closes in the next 29
    # days with 7/10; every deal older than 25 days closed within 40.
    chances = {c.deal: c.close_probability for c in result.deals}
    assert chances == {young.id: Decimal("0.7"), old.id: Decimal(1)}
    assert result.expected == eur(1000 * Decimal("0.56") + 200)
    assert result == sfa.forecast_range("FY2026-Q1", seed=7, runs=2000)
    assert result != sfa.forecast_range("FY2026-Q1", seed=8, runs=2000)
    assert result.p10 <= result.p50 <= result.p90
    only_x = sfa.forecast_range("FY2026-Q1", seed=7, runs=10, by="owner", group="rep_x")
    assert [c.deal for c in only_x.deals] == [old.id]
    # The chances agree with the pure statistics over the stored deals.
    table = time_to_close(sfa.deals(), as_of=clock.now())
    chance = table.close_probability(clock.now() - young.created_at, timedelta(days=29))
    assert chances[young.id] == chance.probability


def test_a_range_names_its_bad_inputs(sfa: Sfa) -> None:
    _book(sfa)
    with pytest.raises(ValidationError, match=r"\$\.period"):
        sfa.forecast_range(["FY2027-Q1", "FY2027-Q2"], seed=1)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"\$\.group"):
        sfa.forecast_range(Q1, seed=1, group="atlantis")
    with pytest.raises(ValidationError, match=r"\$\.seed"):
        sfa.forecast_range(Q1, seed=-1)
    empty = sfa.forecast_range("FY2027-Q4", seed=1, runs=10)
    assert (empty.deals, empty.p90) == ((), eur(0))


def _spy_on_reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, Any]]:
    """Record every ``query`` and ``aggregate`` call of every backend: (method, kind,
    filters)."""
    from sfakit.backends.memory import MemoryTransaction
    from sfakit.storage.sql import SqlTransaction

    calls: list[tuple[str, str, Any]] = []

    def spy(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def recorded(self: Any, kind: type, *args: Any, **kwargs: Any) -> Any:
            calls.append((name, kind.__name__, kwargs.get("where")))
            return original(self, kind, *args, **kwargs)

        return recorded

    for cls in (MemoryTransaction, SqlTransaction):
        for name in ("query", "aggregate"):
            monkeypatch.setattr(cls, name, spy(name, getattr(cls, name)))
    return calls


def test_open_deals_are_weighed_from_index_columns_without_reading_them(
    sfa: Sfa, monkeypatch: pytest.MonkeyPatch
) -> None:
    _book(sfa)
    calls = _spy_on_reads(monkeypatch)
    report = sfa.forecast(Q1)
    assert report.total().weighted == eur(640)  # the override of 25 % included
    assert [c for c in calls if c[:2] == ("query", "Opportunity")] == []
    assert ("aggregate", "Opportunity") in {c[:2] for c in calls}
    # An override finer than a basis point is read from the deal and weighed exactly:
    # 12.345 % of 100 EUR is 12.345 EUR, 12.35 EUR half-up (12.34 % would give 12.34).
    finer = sfa.insert(
        deal("prospect", eur(100), probability_override=Decimal("12.345"), owner_id="rep_bo")
    )
    calls.clear()
    report = sfa.forecast(Q1, by="owner")
    read = [where for name, kind, where in calls if (name, kind) == ("query", "Opportunity")]
    assert read == [{"id": In((finer.id,))}]
    assert report.line(Q1, "rep_bo").own.weighted == eur("170") + eur("12.35")
    assert _figures(report) == _figures(sfa.forecast(Q1, by="owner", itemised=True))
    with sfa.transaction(readonly=True) as tx:
        stored = tx.values(Opportunity, "probability_basis_points", where={"stage": "prospect"})
    assert stored == [FINER_THAN_BASIS_POINTS, 2500]  # 25 % and 12.345 %


def test_many_finer_overrides_are_read_in_chunks(sfa: Sfa, monkeypatch: pytest.MonkeyPatch) -> None:
    _organisation(sfa)
    many = [
        deal("prospect", eur(100), probability_override=Decimal("12.345"), owner_id="rep_bo")
        for _ in range(1001)
    ]
    with sfa.transaction() as tx:
        tx.insert_many(many)
    calls = _spy_on_reads(monkeypatch)
    report = sfa.forecast(Q1, by="owner")
    read = [where["id"] for name, kind, where in calls if (name, kind) == ("query", "Opportunity")]
    assert [len(ids.values) for ids in read] == [500, 500, 1]
    assert {i for ids in read for i in ids.values} == {d.id for d in many}
    assert report.line(Q1, "rep_bo").own.weighted == eur("12.35") * 1001


_BASIS_POINTS = DERIVED["probability_basis_points"]


@given(st.decimals(0, 100, places=2) | st.decimals(0, 100, allow_nan=False, allow_infinity=False))
def test_the_probability_index_holds_basis_points_exactly_or_says_it_cannot(
    probability: Decimal,
) -> None:
    points = _BASIS_POINTS(deal("prospect", None, probability_override=probability))
    hundredths = Fraction(probability) * 100
    if hundredths.denominator == 1:
        assert points == hundredths  # every override with up to two decimals
    else:
        assert points == FINER_THAN_BASIS_POINTS
    assert _BASIS_POINTS(deal("prospect", None)) is None


def test_the_probability_index_is_exact_where_rounding_in_context_is_not() -> None:
    # Decimal arithmetic rounds to 28 digits: scaleb(2) would make this 10000.
    close_to_all = Decimal("99.99999999999999999999999999999")
    assert int(close_to_all.scaleb(2)) == 10_000
    points = _BASIS_POINTS(deal("prospect", None, probability_override=close_to_all))
    assert points == FINER_THAN_BASIS_POINTS
    exact = [Decimal(n).scaleb(-2) for n in range(10_001)]
    assert [_BASIS_POINTS(deal("prospect", None, probability_override=p)) for p in exact] == list(
        range(10_001)
    )
    assert _BASIS_POINTS(deal("prospect", None, probability_override=Decimal("12.340"))) == 1234


# -- the push-down equals the in-memory path ----------------------------------------------

REPS = ("rep_a", "rep_b", "rep_c", "rep_d")
TERRITORIES = ("terr_n", "terr_s", "terr_e")
RATES = RateTable.of(
    EUR,
    {"USD": [("2024-01-01", "1.10"), ("2025-07-01", "1.0523")], "JPY": [("2024-01-01", "160.5")]},
)
PERIOD_NAMES = [f"FY{y}-Q{q}" for y in (2025, 2026) for q in range(1, 5)]
CREATED = datetime(2024, 12, 1, tzinfo=UTC)


@st.composite
def book_deals(
    draw: st.DrawFn, pipelines: PipelineSet, *, closed: bool | None = None
) -> Opportunity:
    pipeline = draw(st.sampled_from(list(pipelines)))
    stages = [
        s.key for s in pipeline.stages if closed is None or (s.is_closed and not s.is_won) == closed
    ]
    amount = None
    if draw(st.integers(0, 7)):
        currency = draw(st.sampled_from([EUR, EUR, "USD", "JPY"]))
        minor = draw(st.integers(0, 10**7))
        amount = Money(Decimal(minor).scaleb(-MINOR_UNITS[currency]), currency)
    return Opportunity(
        name="Deal",
        account_id="acct_acme",
        pipeline=pipeline.key,
        stage=draw(st.sampled_from(stages)),
        amount=amount,
        close_date=draw(st.none() | st.dates(date(2024, 12, 1), date(2027, 3, 31))),
        owner_id=draw(st.none() | st.sampled_from(REPS)),
        territory_id=draw(st.none() | st.sampled_from(TERRITORIES)),
        product_line=draw(st.none() | st.sampled_from(["lamps", "bulbs"])),
        # Up to two decimals, a whole number of basis points; more, read from the deal.
        probability_override=draw(
            st.none()
            | st.decimals(0, 100, places=draw(st.integers(0, 2)))
            | st.integers(0, 10**6).map(lambda n: Decimal(n).scaleb(-4))
        ),
        forecast_category_override=draw(st.none() | st.sampled_from(list(ForecastCategory))),
        created_at=CREATED,
    )


def _figures(report: ForecastReport) -> tuple[Any, ...]:
    """Everything a report says except the deals' ids."""
    return (
        report.currency,
        [p.name for p in report.periods],
        report.dimension,
        report.groups,
        [report.parent(g) for g in report.groups],
        report.lines,
        report.total(),
        [(e.reason, e.count) for e in report.exclusions],
    )


def _url(backend: str, request: pytest.FixtureRequest) -> str:
    if backend == "memory":
        return f"memory://{uuid.uuid4().hex}"
    make: Callable[[], str] = request.getfixturevalue(
        "sqlite_urls" if backend == "sqlite" else "postgres_schemas"
    )
    return make()


def _in_periods(deals: list[Opportunity], names: list[str], known: set[str]) -> list[Opportunity]:
    calendar = FiscalCalendar.monthly()
    periods = [calendar.period(n) for n in names]
    return [
        d
        for d in deals
        if d.pipeline in known
        and d.close_date is not None
        and any(d.close_date in p for p in periods)
    ]


@pytest.mark.parametrize("backend", ["memory", "sqlite", "postgres"])
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_pushed_down_forecasts_equal_the_in_memory_ones(
    backend: str, request: pytest.FixtureRequest, data: st.DataObject
) -> None:
    other = attrs.evolve(data.draw(pipelines(requirements=False)), key="enterprise")
    chosen = PipelineSet((standard_pipeline(), other))
    stranger = attrs.evolve(standard_pipeline(), key="elsewhere")  # not the service's
    deals = data.draw(
        st.lists(book_deals(PipelineSet((*chosen, stranger))), max_size=30), label="deals"
    )
    names = data.draw(
        st.lists(st.sampled_from(PERIOD_NAMES), min_size=1, max_size=3, unique=True),
        label="periods",
    )
    by = data.draw(st.sampled_from(GROUPINGS), label="by")
    currency = data.draw(st.sampled_from([EUR, "USD"]), label="currency")
    clock = ManualClock(datetime(2027, 6, 1, tzinfo=UTC))
    url = _url(backend, request)
    with sfakit.open(url, clock=clock, load_entry_points=False, pipelines=chosen) as service:
        assert Capability.AGGREGATE in service.storage.capabilities
        service.set_exchange_rates(RATES, expected_version=None)
        managers = {"rep_a": None, "rep_b": "rep_a", "rep_c": "rep_a", "rep_d": "rep_c"}
        with service.transaction() as tx:
            tx.insert_many(
                SalesRep(id=r, name=r, manager_id=m, created_at=CREATED)
                for r, m in managers.items()
            )
            tx.insert_many(deals)
        tree = TerritoryTree(
            nodes=[
                TerritoryNode(key="all"),
                TerritoryNode(key="north", parent="all", territory_id="terr_n"),
                TerritoryNode(key="south", parent="all", territory_id="terr_s"),
            ]
        )
        if data.draw(st.booleans(), label="tree"):
            service.set_territory_tree(tree, expected_version=None)
        pushed = service.forecast(names, by=by, currency=currency)
        in_memory = service.forecast(names, by=by, currency=currency, itemised=True)
        assert not pushed.itemised
        assert in_memory.itemised
        assert _figures(pushed) == _figures(in_memory)
        # And both are the pure core's answer over the same deals.
        counted = _in_periods(deals, names, {p.key for p in chosen})
        grouping = in_memory.hierarchy or in_memory.dimension
        assert grouping is not None
        pure = forecast(
            counted,
            pipelines=chosen,
            periods=in_memory.periods,
            currency=currency,
            by=grouping,
            rates=RATES,
        )
        assert pure.lines == pushed.lines
        # Lost and omitted deals never count: adding some changes no figure.
        extra = data.draw(st.lists(book_deals(chosen, closed=True), max_size=5), label="lost")
        omitted = data.draw(st.lists(book_deals(chosen), max_size=3), label="omitted")
        omitted = [
            o.evolve(
                stage=next(s.key for s in chosen.get(o.pipeline).stages if not s.is_closed),
                forecast_category_override=ForecastCategory.OMITTED,
            )
            for o in omitted
        ]
        with service.transaction() as tx:
            tx.insert_many([*extra, *omitted])
        after = service.forecast(names, by=by, currency=currency)
        assert after.lines == pushed.lines
        assert after.total() == pushed.total()
        added = len(_in_periods([*extra, *omitted], names, {p.key for p in chosen}))
        assert sum(e.count for e in after.exclusions) == added + sum(
            e.count for e in pushed.exclusions
        )
        assert _figures(after) == _figures(
            service.forecast(names, by=by, currency=currency, itemised=True)
        )


def test_recurring_revenue_projects_the_standing_orders_not_yet_ordered(sfa: Sfa) -> None:
    from zoneinfo import ZoneInfo

    from sfakit.model import Account, OrderLine, Product, RecurrenceSpec

    hotel = sfa.create(Account, name="Brightside")
    bulb = sfa.create(Product, sku="LED", name="Bulb", unit_price=Money.of("1.20", "EUR"))
    sfa.create_standing_order(
        account_id=hotel.id,
        currency="EUR",
        lines=[OrderLine(product_id=bulb.id, quantity=1000, unit_price=bulb.unit_price)],
        schedule=RecurrenceSpec(
            rule="FREQ=MONTHLY",
            start=datetime(2026, 3, 10, 8, tzinfo=ZoneInfo("Europe/Berlin")),
            timezone="Europe/Berlin",
        ),
    )
    before = sfa.recurring_revenue(["FY2026-Q1", "FY2026-Q2"], currency="EUR")
    assert [line.occurrences for line in before.lines] == [1, 3]
    sfa.run_due(datetime(2026, 3, 10, 12, tzinfo=UTC))  # March is ordered now
    after = sfa.recurring_revenue("FY2026-Q1", currency="EUR")
    assert (after.lines[0].occurrences, after.lines[0].amount) == (0, Money.of(0, "EUR"))
