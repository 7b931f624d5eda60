"""Business calendars and the ISDA conventions."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfakit.codec import from_data, to_data
from sfakit.errors import ValidationError
from sfakit.recurrence import BusinessCalendar, BusinessDayConvention

from .strategies import calendars

FOLLOWING = BusinessDayConvention.FOLLOWING
PRECEDING = BusinessDayConvention.PRECEDING
MODIFIED_FOLLOWING = BusinessDayConvention.MODIFIED_FOLLOWING
# 2026: 1 May is a Friday, 25 and 26 December a Friday and a Saturday.
GERMANY_2026 = BusinessCalendar(
    holidays=(date(2026, 5, 1), date(2026, 12, 25), date(2026, 12, 26), date(2026, 12, 31))
)


@pytest.mark.parametrize(
    ("day", "convention", "expected"),
    [
        (date(2026, 5, 1), FOLLOWING, date(2026, 5, 4)),
        (date(2026, 5, 1), PRECEDING, date(2026, 4, 30)),
        (date(2026, 5, 1), MODIFIED_FOLLOWING, date(2026, 5, 4)),
        (date(2026, 5, 4), PRECEDING, date(2026, 5, 4)),
        (date(2026, 12, 25), FOLLOWING, date(2026, 12, 28)),
        (date(2026, 12, 31), FOLLOWING, date(2027, 1, 1)),
        (date(2026, 12, 31), MODIFIED_FOLLOWING, date(2026, 12, 30)),
        (date(2026, 1, 31), MODIFIED_FOLLOWING, date(2026, 1, 30)),
        (date(2026, 2, 28), MODIFIED_FOLLOWING, date(2026, 2, 27)),
        (date(2026, 3, 1), MODIFIED_FOLLOWING, date(2026, 3, 2)),
        (date(2026, 3, 1), PRECEDING, date(2026, 2, 27)),
    ],
)
def test_conventions(day: date, convention: BusinessDayConvention, expected: date) -> None:
    assert GERMANY_2026.adjust(day, convention) == expected


def test_longest_closure_joins_weekends_and_holidays() -> None:
    assert BusinessCalendar().longest_closure == 2
    assert BusinessCalendar(weekend=()).longest_closure == 0
    assert GERMANY_2026.longest_closure == 3  # Fri 25 Dec to Sun 27 Dec
    monday = BusinessCalendar(holidays=(date(2026, 4, 6),))  # Easter Monday
    assert monday.longest_closure == 3  # Sat, Sun and the Monday


def test_weekend_names_are_canonical() -> None:
    assert BusinessCalendar(weekend=["su", "SA", "SA"]) == BusinessCalendar()
    assert BusinessCalendar(weekend=("SU", "SA")).weekend == ("SA", "SU")


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"weekend": ("MO", "TU", "WE", "TH", "FR", "SA", "SU")}, "$.weekend"),
        ({"weekend": ("SA", "XX")}, "$.weekend[1]"),
        ({"weekend": "SA"}, "$.weekend"),
        ({"holidays": (date(2026, 1, 1), "2026-01-02")}, "$.holidays[1]"),
        ({"holidays": (datetime(2026, 1, 1),)}, "$.holidays[0]"),
    ],
)
def test_bad_calendars_are_named(fields: dict[str, object], path: str) -> None:
    with pytest.raises(ValidationError) as err:
        BusinessCalendar(**fields)  # type: ignore[arg-type]
    assert err.value.path == path


@settings(max_examples=100)
@given(
    calendars(),
    st.dates(date(2014, 1, 1), date(2036, 12, 31)),
    st.sampled_from(BusinessDayConvention),
)
def test_adjusted_days_are_business_days_within_the_longest_closure(
    calendar: BusinessCalendar, day: date, convention: BusinessDayConvention
) -> None:
    moved = calendar.adjust(day, convention)
    assert calendar.is_business_day(moved)
    assert abs((moved - day).days) <= calendar.longest_closure
    if calendar.is_business_day(day):
        assert moved == day
    if convention is MODIFIED_FOLLOWING:
        assert moved.month == day.month or calendar.longest_closure >= 28


@settings(max_examples=100)
@given(
    calendars(),
    st.dates(date(2014, 1, 1), date(2036, 12, 31)),
    st.sampled_from(BusinessDayConvention),
)
def test_adjustment_never_reorders_dates(
    calendar: BusinessCalendar, day: date, convention: BusinessDayConvention
) -> None:
    # Why a schedule can merge neighbours instead of sorting: the moves keep the order.
    later = day + timedelta(days=1)
    assert calendar.adjust(day, convention) <= calendar.adjust(later, convention)


@settings(max_examples=60)
@given(calendars())
def test_calendars_round_trip(calendar: BusinessCalendar) -> None:
    assert from_data(BusinessCalendar, to_data(calendar)) == calendar
