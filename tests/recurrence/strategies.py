"""Hypothesis strategies for schedules (to move to ``sfakit.testing.strategies`` later).

``schedules()`` draws valid :class:`~sfakit.recurrence.Schedule` values over every rule
part a schedule supports, in zones with and without daylight saving (Lord Howe's
30-minute shift, Samoa's skipped day included), at wall times that fall into DST gaps
and folds, with COUNT or UNTIL, EXDATE/RDATE, every month-end policy and, sometimes, a
business calendar.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

from hypothesis import assume
from hypothesis import strategies as st

from sfakit.errors import ValidationError
from sfakit.recurrence import (
    BusinessCalendar,
    BusinessDayConvention,
    Frequency,
    MonthEndPolicy,
    Schedule,
)

ZONES: Final = (
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Tokyo",  # no daylight saving
    "Pacific/Apia",  # skipped 30 December 2011
    "America/Santiago",  # changes at midnight
)
WEEKDAYS: Final = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
#: Wall times that hit the gaps and folds of the zones above, and ordinary ones.
TIMES: Final = ((0, 0), (0, 30), (1, 30), (2, 0), (2, 15), (2, 30), (3, 0), (9, 0), (23, 30))


def dates(
    first: date = date(1995, 1, 1), last: date = date(2045, 12, 31)
) -> st.SearchStrategy[date]:
    """Dates, with month ends and leap days drawn often."""
    month_ends = st.builds(
        lambda y, m, back: _month_end(y, m) - timedelta(days=back),
        st.integers(first.year, last.year - 1),
        st.integers(1, 12),
        st.integers(0, 3),
    )
    return st.one_of(st.dates(first, last), month_ends)


def _month_end(year: int, month: int) -> date:
    after = date(year + month // 12, month % 12 + 1, 1)
    return after - timedelta(days=1)


def calendars() -> st.SearchStrategy[BusinessCalendar]:
    """Business calendars: a weekend of zero to three days and up to 30 holidays."""
    return st.builds(
        BusinessCalendar,
        weekend=st.lists(st.sampled_from(WEEKDAYS), max_size=3, unique=True).map(tuple),
        holidays=st.lists(dates(date(2015, 1, 1), date(2035, 12, 31)), max_size=30).map(tuple),
    )


def _weekday_tokens(frequency: Frequency) -> st.SearchStrategy[list[str]]:
    plain = st.sampled_from(WEEKDAYS)
    if frequency in (Frequency.DAILY, Frequency.WEEKLY):
        return st.lists(plain, max_size=4, unique=True)
    nth = st.builds(
        lambda n, wd: f"{n}{wd}",
        st.sampled_from((1, 2, 3, 4, 5, -1, -2, -5)),
        plain,
    )
    return st.lists(st.one_of(plain, nth), max_size=3, unique=True)


@st.composite
def schedules(
    draw: st.DrawFn,
    *,
    zones: tuple[str, ...] = ZONES,
    frequencies: tuple[Frequency, ...] = tuple(Frequency),
    policies: tuple[MonthEndPolicy, ...] = tuple(MonthEndPolicy),
    with_calendar: bool = True,
    with_sets: bool = True,
    with_limits: bool = True,
) -> Schedule:
    """Valid schedules; the keyword arguments narrow what is drawn."""
    frequency = draw(st.sampled_from(frequencies))
    start = draw(dates())
    hour, minute = draw(st.sampled_from(TIMES))
    fields: dict[str, Any] = {
        "frequency": frequency,
        "start": start,
        "timezone": draw(st.sampled_from(zones)),
        "hour": hour,
        "minute": minute,
        "interval": draw(st.sampled_from((1, 1, 1, 2, 3, 5))),
        "week_start": draw(st.sampled_from(("MO", "MO", "SU", "WE"))),
        "month_end": draw(st.sampled_from(policies)),
    }
    shape = draw(st.sampled_from(("anchored", "anchored", "weekdays", "month_days", "both")))
    if shape in ("weekdays", "both"):
        fields["weekdays"] = draw(_weekday_tokens(frequency))
    if shape in ("month_days", "both") and frequency is not Frequency.WEEKLY:
        fields["month_days"] = draw(
            st.lists(
                st.sampled_from((1, 2, 15, 28, 29, 30, 31, -1, -2, -7)), max_size=3, unique=True
            )
        )
    if draw(st.integers(0, 4)) == 0:
        fields["months"] = draw(st.lists(st.integers(1, 12), min_size=1, max_size=4, unique=True))
    if draw(st.integers(0, 6)) == 0:
        fields["set_positions"] = draw(
            st.lists(st.sampled_from((1, 2, -1, -2)), min_size=1, max_size=2, unique=True)
        )
    if with_limits:
        limit = draw(st.sampled_from(("none", "none", "count", "until")))
        if limit == "count":
            fields["count"] = draw(st.integers(1, 60))
        elif limit == "until":
            days = draw(st.integers(0, 3 * 366))
            fields["until"] = datetime.combine(start, datetime.min.time(), UTC) + timedelta(
                days=days, hours=draw(st.integers(0, 23))
            )
    if with_sets:
        near = st.builds(lambda d: start + timedelta(days=d), st.integers(-10, 400))
        fields["exdates"] = draw(st.lists(near, max_size=3))
        fields["rdates"] = draw(st.lists(near, max_size=3))
    if with_calendar and draw(st.integers(0, 3)) == 0:
        fields["calendar"] = draw(calendars())
        fields["adjustment"] = draw(st.sampled_from(BusinessDayConvention))
    try:
        return Schedule(**fields)
    except ValidationError:
        assume(False)  # a rule that can never occur (BYMONTH=2;BYMONTHDAY=30 and the like)
        raise  # pragma: no cover - assume(False) does not return


def moments(around: date, *, years: int = 3) -> st.SearchStrategy[datetime]:
    """Aware instants (UTC) from a month before ``around`` to ``years`` after it."""
    base = datetime.combine(around, datetime.min.time(), UTC)
    return st.integers(-31 * 24 * 60, years * 366 * 24 * 60).map(
        lambda minutes: base + timedelta(minutes=minutes)
    )
