"""Lead analytics: conversion by source, campaign, region and period with the counts
behind each rate, and time to qualify or convert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfakit.errors import ValidationError
from sfakit.model import Lead, LeadStatus
from sfakit.pipeline import DayStats, Window
from sfakit.qualification import (
    ConversionRate,
    ConversionTable,
    LeadTimes,
    Period,
    WindowOn,
    conversion_by,
    conversion_rate,
    time_to_convert,
    time_to_qualify,
)
from sfakit.rules import field

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def make(created_days: float, converted_days: float | None = None, **fields: Any) -> Lead:
    created = T0 + timedelta(days=created_days)
    if converted_days is not None:
        fields.update(
            status=LeadStatus.CONVERTED,
            converted_at=created + timedelta(days=converted_days),
            converted_account_id="acct_x",
        )
    fields.setdefault("company", "Acme")
    return Lead(created_at=created, **fields)


LEADS = [
    make(5, 10, region="north-west", source="web", campaign="spring"),
    make(10, None, region="north-west", source="web", campaign="spring"),
    make(40, 3, region="north-west", source="fair"),
    make(45, None, region="north-west", source="fair"),
    make(50, None, region="north-west", source="web"),
    make(41, 20, region="south", source="web"),
    make(44, None, region=None, source="referral", campaign="spring"),
]
FEBRUARY = Window(T0 + timedelta(days=31), T0 + timedelta(days=59))


def test_what_share_of_last_months_north_west_leads_converted() -> None:
    rate = conversion_rate(LEADS, window=FEBRUARY, where=field("region").eq("north-west"))
    assert rate == ConversionRate(key=None, leads=3, converted=1, rate=Decimal(1) / Decimal(3))


def test_conversion_by_source_lists_the_counts_behind_each_rate() -> None:
    table = conversion_by(LEADS, "source")
    assert isinstance(table, ConversionTable)
    assert table.by == "source"
    assert [(r.key, r.leads, r.converted) for r in table.rows] == [
        ("fair", 2, 1),
        ("referral", 1, 0),
        ("web", 4, 2),
    ]
    assert table.row("web").rate == Decimal("0.5")
    assert table.total == ConversionRate(
        key=None, leads=7, converted=3, rate=Decimal(3) / Decimal(7)
    )
    assert table.row("carrier_pigeon") == ConversionRate(
        key="carrier_pigeon", leads=0, converted=0, rate=None
    )


def test_leads_without_a_value_are_a_group_of_their_own_listed_last() -> None:
    rows = conversion_by(LEADS, "campaign").rows
    assert [(r.key, r.leads) for r in rows] == [("spring", 3), (None, 4)]
    assert [r.key for r in conversion_by(LEADS, "region").rows] == ["north-west", "south", None]


def test_conversion_by_status_uses_enum_values() -> None:
    assert {r.key for r in conversion_by(LEADS, "status").rows} == {"new", "converted"}


@pytest.mark.parametrize(
    ("period", "keys"),
    [
        (Period.MONTH, ["2026-01", "2026-02"]),
        (Period.QUARTER, ["2026-Q1"]),
        (Period.YEAR, ["2026"]),
        (Period.WEEK, ["2026-W02", "2026-W07", "2026-W08"]),
    ],
)
def test_conversion_by_period(period: Period, keys: list[str]) -> None:
    table = conversion_by(LEADS, period)
    assert [r.key for r in table.rows] == keys
    assert sum(r.leads for r in table.rows) == len(LEADS)


def test_periods_are_read_in_a_time_zone() -> None:
    late = make(30.9)  # 2026-01-31 21:36 UTC, already February in Tokyo
    assert conversion_by([late], Period.DAY).rows[0].key == "2026-01-31"
    assert conversion_by([late], Period.MONTH, zone="Asia/Tokyo").rows[0].key == "2026-02"


def test_conversion_as_of_ignores_later_conversions() -> None:
    as_of = T0 + timedelta(days=20)
    rate = conversion_rate(LEADS, as_of=as_of, window=Window(end=as_of))
    assert (rate.leads, rate.converted) == (2, 1)
    assert conversion_rate(LEADS, as_of=T0).converted == 0


def test_criteria_with_within_last_need_as_of() -> None:
    recent = field("created_at").within_last("P10D")
    with pytest.raises(ValidationError) as caught:
        conversion_rate(LEADS, where=recent)
    assert caught.value.path == "$.as_of"
    assert conversion_rate(LEADS, where=recent, as_of=T0 + timedelta(days=51)).leads == 4


def test_bad_arguments_are_named() -> None:
    for call, path in [
        (lambda: conversion_by(LEADS, "product_interest"), "$.by"),
        (lambda: conversion_by(LEADS, "colour"), "$.by"),
        (lambda: conversion_by(LEADS, 3), "$.by"),  # type: ignore[arg-type]
        (lambda: conversion_by(LEADS, Period.DAY, zone="Mars/Base"), "$.zone"),
        (lambda: conversion_rate(LEADS, where=field("colour").eq("red")), "$.where.field"),
        (lambda: conversion_rate(LEADS, window="February"), "$.window"),  # type: ignore[arg-type]
        (lambda: conversion_rate([*LEADS, "lead"]), "$.leads[7]"),  # type: ignore[list-item]
        (lambda: conversion_rate(LEADS, as_of=datetime(2026, 1, 1)), "$.as_of"),
        (lambda: time_to_qualify(LEADS, [1, 2]), "$.qualified_at"),  # type: ignore[arg-type]
        (lambda: time_to_convert(LEADS, window_on="created"), "$.window_on"),  # type: ignore[arg-type]
    ]:
        with pytest.raises(ValidationError) as caught:
            call()
        assert caught.value.path == path


# -- time to qualify / convert -----------------------------------------------------------


def test_time_to_qualify_from_the_history() -> None:
    history = {
        LEADS[0].id: LEADS[0].created_at + timedelta(days=2),
        LEADS[1].id: LEADS[1].created_at + timedelta(days=4),
        LEADS[2].id: LEADS[2].created_at + timedelta(days=12),
        "lead_not_given": T0,
    }
    times = time_to_qualify(LEADS, history)
    assert isinstance(times, LeadTimes)
    assert (times.leads, times.reached) == (3, 3)
    assert times.days == DayStats.of([timedelta(days=d) for d in (2, 4, 12)])
    assert (times.days.mean, times.days.median) == (Decimal(6), Decimal(4))
    # Qualified inside January: the first two.
    january = Window(T0, T0 + timedelta(days=31))
    assert time_to_qualify(LEADS, history, window=january).reached == 2
    # Created inside February: five leads, one of them qualified.
    cohort = time_to_qualify(LEADS, history, window=FEBRUARY, window_on=WindowOn.CREATED)
    assert (cohort.leads, cohort.reached) == (5, 1)
    filtered = time_to_qualify(LEADS, history, where=field("source").eq("web"))
    assert filtered.reached == 2


def test_qualification_before_creation_is_an_error_naming_the_lead() -> None:
    with pytest.raises(ValidationError) as caught:
        time_to_qualify(LEADS, {LEADS[0].id: T0})
    assert caught.value.path == f"$.qualified_at[{LEADS[0].id!r}]"
    with pytest.raises(ValidationError) as caught:
        time_to_qualify(LEADS, {LEADS[0].id: datetime(2026, 3, 1)})
    assert caught.value.path == f"$.qualified_at[{LEADS[0].id!r}]"


def test_time_to_convert() -> None:
    times = time_to_convert(LEADS)
    assert (times.leads, times.reached) == (3, 3)
    assert times.days.median == Decimal(10)
    assert times.days.p90 == Decimal("18")
    assert time_to_convert(LEADS, as_of=T0 + timedelta(days=44)).reached == 2
    assert time_to_convert([]).days == DayStats(count=0)


# -- properties --------------------------------------------------------------------------

leads_lists = st.lists(
    st.builds(
        make,
        st.floats(0, 120, allow_nan=False),
        st.none() | st.floats(0, 60, allow_nan=False),
        source=st.sampled_from(["web", "fair", None]),
        region=st.sampled_from(["north", "south", None]),
    ),
    max_size=25,
)


@settings(max_examples=60)
@given(leads_lists, st.sampled_from(["source", "region", Period.MONTH, Period.WEEK]))
def test_groups_add_up_to_the_total(leads: list[Lead], by: str | Period) -> None:
    table = conversion_by(leads, by, window=FEBRUARY)
    assert (
        sum(r.leads for r in table.rows)
        == table.total.leads
        == conversion_rate(leads, window=FEBRUARY).leads
    )
    assert sum(r.converted for r in table.rows) == table.total.converted
    for row in table.rows:
        assert 0 <= row.converted <= row.leads
        assert row.rate == Decimal(row.converted) / Decimal(row.leads)


@settings(max_examples=60)
@given(leads_lists)
def test_time_to_convert_counts_what_it_says(leads: list[Lead]) -> None:
    times = time_to_convert(leads)
    assert times.reached == times.days.count == sum(1 for lead in leads if lead.converted_at)
    cohort = time_to_convert(leads, window_on=WindowOn.CREATED)
    assert cohort.leads == len(leads)
