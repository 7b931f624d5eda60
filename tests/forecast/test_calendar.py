"""Fiscal calendars: known calendars by hand, and the laws every calendar obeys."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfakit.codec import from_data, to_data
from sfakit.errors import ValidationError
from sfakit.forecast import (
    CalendarKind,
    FiscalCalendar,
    Period,
    PeriodKind,
    PeriodName,
    YearEndRule,
    nrf_calendar,
    parse_period_name,
)
from sfakit.model import Money, Quota

from .support import T0, calendars

DAY = timedelta(days=1)
KINDS = list(PeriodKind)


# -- monthly calendars -----------------------------------------------------------------------


def test_a_january_calendar_is_the_calendar_year() -> None:
    cal = FiscalCalendar.monthly()
    assert cal.year(2027) == Period(name="FY2027", start=date(2027, 1, 1), end=date(2028, 1, 1))
    assert cal.period("FY2027-Q2").start == date(2027, 4, 1)
    assert cal.period("FY2027-M12").last_day == date(2027, 12, 31)


def test_a_year_is_named_by_the_year_it_ends_in_by_default() -> None:
    # Salesforce's default: "Fiscal Year is Based On: The Ending Month".
    cal = FiscalCalendar.monthly(start_month=4)
    year = cal.year(2027)
    assert (year.start, year.last_day) == (date(2026, 4, 1), date(2027, 3, 31))
    assert cal.period_of(date(2026, 4, 1), "quarter").name == "FY2027-Q1"
    assert cal.period_of(date(2026, 3, 31), "year").name == "FY2026"


def test_a_year_can_be_named_by_the_year_it_starts_in() -> None:
    cal = FiscalCalendar.monthly(start_month=9, named_by="start")
    assert cal.year(2008).start == date(2008, 9, 1)
    assert cal.year(2008).last_day == date(2009, 8, 31)
    assert cal.period_of(date(2009, 8, 31), "month").name == "FY2008-M12"


def test_months_and_quarters_count_from_the_start_of_the_fiscal_year() -> None:
    cal = FiscalCalendar.monthly(start_month=2)
    assert cal.period("FY2027-M01").start == date(2026, 2, 1)
    assert cal.period("FY2027-Q4") == Period(
        name="FY2027-Q4", start=date(2026, 11, 1), end=date(2027, 2, 1)
    )


def test_weeks_of_a_monthly_calendar_are_seven_day_blocks_and_the_last_holds_what_is_left() -> None:
    cal = FiscalCalendar.monthly()
    assert cal.period("FY2027-W01") == Period(
        name="FY2027-W01", start=date(2027, 1, 1), end=date(2027, 1, 8)
    )
    assert cal.period("FY2027-W53").days == 1
    assert cal.period("FY2028-W53").days == 2  # a leap year
    assert cal.weeks_in(2027) == 53


# -- week-based calendars --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fiscal_year", "first", "last", "weeks"),
    [
        # NRF 4-5-4: FY'12, FY'17 and FY'23 are 53-week years (nrf.com/resources/4-5-4-calendar).
        (2012, date(2012, 1, 29), date(2013, 2, 2), 53),
        (2016, date(2016, 1, 31), date(2017, 1, 28), 52),
        (2017, date(2017, 1, 29), date(2018, 2, 3), 53),
        (2022, date(2022, 1, 30), date(2023, 1, 28), 52),
        (2023, date(2023, 1, 29), date(2024, 2, 3), 53),
        (2024, date(2024, 2, 4), date(2025, 2, 1), 52),
        (2028, date(2028, 1, 30), date(2029, 2, 3), 53),
    ],
)
def test_the_nrf_retail_calendar(fiscal_year: int, first: date, last: date, weeks: int) -> None:
    nrf = nrf_calendar()
    year = nrf.year(fiscal_year)
    assert (year.start, year.last_day, nrf.weeks_in(fiscal_year)) == (first, last, weeks)
    assert last.weekday() == 5  # a Saturday


def test_nrf_months_are_4_5_4_and_the_53rd_week_goes_to_january() -> None:
    nrf = nrf_calendar()
    assert [p.days // 7 for p in nrf.periods(2022, "month")] == [4, 5, 4] * 4
    assert [p.days // 7 for p in nrf.periods(2023, "month")] == [4, 5, 4] * 3 + [4, 5, 5]
    assert [p.days // 7 for p in nrf.periods(2023, "quarter")] == [13, 13, 13, 14]
    assert nrf.period("FY2023-W53") == Period(
        name="FY2023-W53", start=date(2024, 1, 28), end=date(2024, 2, 4)
    )


def test_years_ending_on_the_last_saturday_of_september() -> None:
    # Apple's fiscal year: 2023 and 2017 had 53 weeks.
    cal = FiscalCalendar.weeks("4-4-5", end_month=9, weekday="saturday", rule="last")
    assert cal.year(2023).start == date(2022, 9, 25)
    assert cal.year(2023).last_day == date(2023, 9, 30)
    assert [y for y in range(2015, 2025) if cal.weeks_in(y) == 53] == [2017, 2023]
    assert [p.days // 7 for p in cal.periods(2022, "month")][:3] == [4, 4, 5]


def test_5_4_4_puts_the_long_month_first() -> None:
    cal = FiscalCalendar.weeks("5-4-4", end_month=12, weekday="sunday", rule="nearest")
    assert [p.days // 7 for p in cal.periods(2026, "month")][:3] == [5, 4, 4]


def test_nearest_may_end_the_year_after_the_month() -> None:
    cal = FiscalCalendar.weeks("4-4-5", end_month=12, weekday="friday", rule="nearest")
    # 31 December 2026 is a Thursday: the nearest Friday is 1 January 2027.
    assert cal.year(2026).last_day == date(2027, 1, 1)
    assert cal.year_of(date(2027, 1, 1)) == 2026
    assert cal.year_of(date(2027, 1, 2)) == 2027


# -- names and errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["FY27", "FY2027-Q0", "FY2027-Q5", "FY2027-M13", "FY2027-W54", "fy2027", "", 2027]
)
def test_bad_names_are_refused_naming_the_value(name: object) -> None:
    with pytest.raises(ValidationError) as caught:
        FiscalCalendar.monthly().period(name)  # type: ignore[arg-type]
    assert caught.value.path == "$.period"
    assert caught.value.value == name


def test_week_53_of_a_52_week_year_is_refused() -> None:
    with pytest.raises(ValidationError, match="FY2024-W53") as caught:
        nrf_calendar().period("FY2024-W53")
    assert "52 weeks" in caught.value.expected


def test_a_week_based_calendar_needs_its_year_end_and_a_monthly_one_has_none() -> None:
    with pytest.raises(ValidationError) as caught:
        FiscalCalendar(kind="4-5-4", year_end_rule="last")
    assert caught.value.paths == ("$.year_end_weekday",)
    with pytest.raises(ValidationError) as caught:
        FiscalCalendar(year_end_rule="last", year_end_weekday="monday")
    assert caught.value.paths == ("$.year_end_rule", "$.year_end_weekday")
    with pytest.raises(ValidationError, match=r"\$\.start_month"):
        FiscalCalendar(start_month=13)
    with pytest.raises(ValidationError, match=r"\$\.kind"):
        FiscalCalendar(kind="4-4-4")
    with pytest.raises(ValidationError, match=r"\$\.end_month"):
        FiscalCalendar.weeks("4-4-5", end_month=0, weekday="monday", rule="last")


def test_out_of_range_years_and_days_are_validation_errors() -> None:
    cal = FiscalCalendar.monthly(start_month=7)
    with pytest.raises(ValidationError, match=r"\$\.fiscal_year"):
        cal.year(9999)
    with pytest.raises(ValidationError, match=r"\$\.day"):
        cal.year_of(date(9999, 12, 31))
    with pytest.raises(ValidationError, match=r"\$\.day"):
        cal.period_of("2026-01-01", "month")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"\$\.kind"):
        cal.period_of(date(2026, 1, 1), "fortnight")


def test_between_lists_consecutive_periods_of_one_kind() -> None:
    cal = nrf_calendar()
    weeks = cal.between("FY2023-W52", "FY2024-W01")
    assert [p.name for p in weeks] == ["FY2023-W52", "FY2023-W53", "FY2024-W01"]
    with pytest.raises(ValidationError, match=r"\$\.last"):
        cal.between("FY2023-Q1", "FY2023-M03")
    with pytest.raises(ValidationError, match=r"\$\.last"):
        cal.between("FY2023-Q2", "FY2023-Q1")


def test_calendar_period_names_are_valid_quota_periods() -> None:
    for period in nrf_calendar().periods(2023, "week"):
        Quota(period=period.name, amount=Money.of(1, "EUR"), sales_rep_id="rep_a", created_at=T0)


# -- laws ------------------------------------------------------------------------------------


@settings(max_examples=60)
@given(calendars(), st.integers(1990, 2060), st.sampled_from(KINDS))
def test_periods_tile_the_year_without_gap_or_overlap(
    cal: FiscalCalendar, fiscal_year: int, kind: PeriodKind
) -> None:
    year = cal.year(fiscal_year)
    periods = cal.periods(fiscal_year, kind)
    assert periods[0].start == year.start
    assert periods[-1].end == year.end
    for before, after in itertools.pairwise(periods):
        assert before.end == after.start
    assert [p.number for p in periods] == list(range(1, len(periods) + 1))
    assert cal.year(fiscal_year + 1).start == year.end  # years tile too


@settings(max_examples=60)
@given(calendars(), st.integers(1990, 2060))
def test_week_based_years_have_52_or_53_whole_weeks(cal: FiscalCalendar, fiscal_year: int) -> None:
    year = cal.year(fiscal_year)
    if cal.kind is CalendarKind.MONTHLY:
        assert year.days in (365, 366)
        return
    assert year.days in (364, 371)
    assert cal.weeks_in(fiscal_year) == year.days // 7
    assert year.last_day.weekday() == cal.year_end_weekday.number  # type: ignore[union-attr]
    month_end = _nearest_month_end(cal.end_month, year.last_day)
    if cal.year_end_rule is YearEndRule.NEAREST:
        assert abs((year.last_day - month_end).days) <= 3
    else:
        assert 0 <= (month_end - year.last_day).days < 7
    assert all(w.days == 7 for w in cal.periods(fiscal_year, "week"))


def _nearest_month_end(month: int, day: date) -> date:
    ends = [
        date(y + (month == 12), month % 12 + 1, 1) - DAY for y in range(day.year - 1, day.year + 2)
    ]
    return min(ends, key=lambda end: abs((end - day).days))


@settings(max_examples=100)
@given(calendars(), st.dates(date(1950, 1, 1), date(2090, 12, 31)), st.sampled_from(KINDS))
def test_period_of_a_day_contains_it_and_its_name_gives_it_back(
    cal: FiscalCalendar, day: date, kind: PeriodKind
) -> None:
    period = cal.period_of(day, kind)
    assert day in period
    assert period.kind is kind
    assert period.fiscal_year == cal.year_of(day)
    assert cal.period(period.name) == period
    assert str(parse_period_name(period.name)) == period.name


@settings(max_examples=60)
@given(calendars())
def test_calendars_round_trip_through_the_codec(cal: FiscalCalendar) -> None:
    assert from_data(FiscalCalendar, to_data(cal)) == cal


@given(st.integers(0, 9999), st.sampled_from(KINDS), st.integers(1, 53))
def test_period_names_round_trip(fiscal_year: int, kind: PeriodKind, number: int) -> None:
    limit = {PeriodKind.YEAR: 1, PeriodKind.QUARTER: 4, PeriodKind.MONTH: 12}.get(kind, 53)
    name = PeriodName(fiscal_year, kind, min(number, limit) if kind is not PeriodKind.YEAR else 1)
    assert parse_period_name(str(name)) == name


def test_periods_round_trip_through_the_codec_and_refuse_a_bad_range() -> None:
    period = nrf_calendar().period("FY2023-M12")
    assert from_data(Period, to_data(period)) == period
    assert to_data(period) == {"name": "FY2023-M12", "start": "2023-12-31", "end": "2024-02-04"}
    with pytest.raises(ValidationError, match=r"\$\.end"):
        Period(name="FY2023", start=date(2023, 1, 2), end=date(2023, 1, 1))
    with pytest.raises(ValidationError, match=r"\$\.name"):
        Period(name="2023", start=date(2023, 1, 1), end=date(2023, 1, 2))
