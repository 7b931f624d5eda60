"""Strategies and builders shared by the forecast tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from sfakit.forecast import (
    CalendarKind,
    FiscalCalendar,
    Hierarchy,
    HierarchyNode,
    RateTable,
    Weekday,
    YearEndRule,
    YearNaming,
)
from sfakit.model import ForecastCategory, Money, Opportunity, SalesRep
from sfakit.pipeline import standard_pipeline

T0 = datetime(2020, 1, 1, tzinfo=UTC)
PIPELINE = standard_pipeline()
STAGES = PIPELINE.keys
REPS = ("rep_a", "rep_b", "rep_c", "rep_d", "rep_e")
TERRITORIES = ("terr_n", "terr_s", "terr_e", "terr_w")
LINES = ("lamps", "bulbs", "fixtures")


def calendars() -> st.SearchStrategy[FiscalCalendar]:
    monthly = st.builds(
        FiscalCalendar.monthly,
        start_month=st.integers(1, 12),
        named_by=st.sampled_from(list(YearNaming)),
    )
    weekly = st.builds(
        FiscalCalendar.weeks,
        st.sampled_from([k for k in CalendarKind if k is not CalendarKind.MONTHLY]),
        end_month=st.integers(1, 12),
        weekday=st.sampled_from(list(Weekday)),
        rule=st.sampled_from(list(YearEndRule)),
        named_by=st.sampled_from(list(YearNaming)),
    )
    return monthly | weekly


def opp(stage: str, amount: int | str | None = 100, **fields: Any) -> Opportunity:
    """A standard-pipeline deal closing in January 2026 unless told otherwise."""
    base: dict[str, Any] = {
        "name": "Deal",
        "account_id": "acct_acme",
        "pipeline": "standard",
        "stage": stage,
        "amount": None if amount is None else Money.of(amount, fields.pop("currency", "EUR")),
        "close_date": date(2026, 1, 15),
        "owner_id": "rep_a",
        "created_at": T0,
    }
    if stage == "closed_lost":
        base["lost_reason"] = "price"
    return Opportunity(**(base | fields))


@st.composite
def deals(
    draw: st.DrawFn,
    *,
    currencies: tuple[str, ...] = ("EUR",),
    negative: bool = False,
    missing: bool = True,
) -> Opportunity:
    """A deal of the standard pipeline with random stage, overrides, amount, close date,
    owner, territory and product line (any of them possibly unset)."""
    stage = draw(st.sampled_from(STAGES))
    low = -(10**9) if negative else 0
    amount = None
    if not missing or draw(st.integers(0, 9)) > 0:
        currency = draw(st.sampled_from(currencies))
        amount = Money(Decimal(draw(st.integers(low, 10**9))).scaleb(-2), currency)
    close = (
        draw(st.dates(date(2025, 1, 1), date(2027, 12, 31))) if draw(st.integers(0, 9)) else None
    )
    fields: dict[str, Any] = {
        "name": "Deal",
        "account_id": "acct_acme",
        "pipeline": "standard",
        "stage": stage,
        "amount": amount,
        "close_date": close,
        "owner_id": draw(st.none() | st.sampled_from(REPS)),
        "territory_id": draw(st.none() | st.sampled_from(TERRITORIES)),
        "product_line": draw(st.none() | st.sampled_from(LINES)),
        "probability_override": draw(
            st.none() | st.decimals(0, 100, places=draw(st.integers(0, 2)))
        ),
        "forecast_category_override": draw(st.none() | st.sampled_from(list(ForecastCategory))),
        "created_at": T0,
    }
    if stage == "closed_lost":
        fields["lost_reason"] = "price"
    return Opportunity(**fields)


def deal_lists(**kwargs: Any) -> st.SearchStrategy[list[Opportunity]]:
    return st.lists(deals(**kwargs), max_size=25)


def manager_reps() -> list[SalesRep]:
    """rep_a manages rep_b and rep_c; rep_c manages rep_d; rep_e is alone."""
    managers = {"rep_a": None, "rep_b": "rep_a", "rep_c": "rep_a", "rep_d": "rep_c", "rep_e": None}
    return [
        SalesRep(id=rep, name=rep.upper(), manager_id=manager, created_at=T0)
        for rep, manager in managers.items()
    ]


@st.composite
def territory_hierarchies(draw: st.DrawFn) -> Hierarchy:
    """A random tree over a few nodes, some of them matching stored territories."""
    size = draw(st.integers(1, 7))
    nodes = []
    matches = list(TERRITORIES)
    for i in range(size):
        parent = draw(st.none() | st.integers(0, i - 1)) if i else None
        match = matches.pop(0) if matches and draw(st.booleans()) else None
        nodes.append(
            HierarchyNode(key=f"t{i}", parent=None if parent is None else f"t{parent}", match=match)
        )
    return Hierarchy(dimension="territory", nodes=nodes)


def rate_table() -> RateTable:
    return RateTable.of(
        "EUR",
        {
            "USD": [("2024-01-01", "1.10"), ("2026-01-01", "1.05"), ("2027-01-01", "1.2")],
            "JPY": [("2024-01-01", "160.5")],
        },
    )
