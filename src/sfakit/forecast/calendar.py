"""Fiscal calendars as data: which days make up each fiscal year, quarter, month and week.

Two families, as in Salesforce's *standard* and *custom* fiscal years (and NetSuite's
accounting periods):

* **Monthly** (``kind="monthly"``): the year starts on the first day of ``start_month``
  and has twelve calendar months; quarters are three months.
* **Week-based** (``kind="4-4-5"``, ``"4-5-4"`` or ``"5-4-4"``): every year ends on the
  same weekday, either the **last** such weekday of its final month (``rule="last"``:
  Apple ends on the last Saturday of September) or the one **nearest** the final month's
  last day (``rule="nearest"``: the NRF retail 4-5-4 calendar ends on the Saturday
  nearest 31 January). A year then has 52 weeks, or 53 when the gap to the next year
  end is 371 days (about every five or six years). Each quarter is 13 weeks split into
  three "months" of 4, 4 and 5 weeks (or 4-5-4, 5-4-4); the 53rd week goes to the
  last month of the year, as NRF does (retailers' January gets five weeks).

**Naming.** A fiscal year is named ``FY`` + the calendar year in which it *ends* —
Salesforce's default ("Fiscal Year is Based On: The Ending Month"): with a February
start, FY2027 runs from 1 February 2026 to 31 January 2027. ``year_named_by="start"``
names it by the year it starts in instead, the other Salesforce choice and the retail
convention (NRF's FY2023 ends on 3 February 2024). For week-based years the name
follows the nominal months: the year whose last month is January 2024 ends in 2024 even
when its last day is 3 February.

**Weeks in a monthly calendar** are consecutive 7-day blocks from the first day of the
year; the 53rd, the last, holds the one or two days left over (365 = 52 x 7 + 1).

Periods are half-open ``[start, end)`` (see :mod:`sfakit.forecast.periods`). Supported
fiscal years are FY0002 to FY9998.

>>> from datetime import date
>>> cal = FiscalCalendar.monthly(start_month=2)
>>> cal.period("FY2027-Q1").start, cal.period("FY2027-Q1").last_day
(datetime.date(2026, 2, 1), datetime.date(2026, 4, 30))
>>> cal.period_of(date(2026, 12, 24), "month").name
'FY2027-M11'
>>> nrf = nrf_calendar()
>>> y2023 = nrf.year(2023)
>>> y2023.start, y2023.last_day, nrf.weeks_in(2023)
(datetime.date(2023, 1, 29), datetime.date(2024, 2, 3), 53)
"""

from __future__ import annotations

import bisect
import enum
from datetime import date, datetime, timedelta
from typing import Final

import attrs

from sfakit.errors import Problem, ValidationError
from sfakit.forecast._checks import month_number, to_enum
from sfakit.forecast.periods import (
    Period,
    PeriodKind,
    PeriodName,
    parse_period_name,
    to_period_kind,
)
from sfakit.model.checks import enum_of, optional

__all__ = [
    "CalendarKind",
    "FiscalCalendar",
    "MAX_FISCAL_YEAR",
    "MIN_FISCAL_YEAR",
    "Weekday",
    "YearEndRule",
    "YearNaming",
    "nrf_calendar",
]

MIN_FISCAL_YEAR: Final = 2
MAX_FISCAL_YEAR: Final = 9998
_WEEK: Final = timedelta(days=7)
_DAY: Final = timedelta(days=1)


class CalendarKind(enum.StrEnum):
    """Monthly (calendar months) or week-based with a 4-4-5, 4-5-4 or 5-4-4 quarter."""

    MONTHLY = "monthly"
    WEEKS_445 = "4-4-5"
    WEEKS_454 = "4-5-4"
    WEEKS_544 = "5-4-4"

    @property
    def pattern(self) -> tuple[int, int, int] | None:
        """Weeks in each month of a quarter (None for a monthly calendar).

        >>> CalendarKind("4-5-4").pattern
        (4, 5, 4)
        """
        if self is CalendarKind.MONTHLY:
            return None
        first, second, third = (int(part) for part in self.value.split("-"))
        return first, second, third


class YearEndRule(enum.StrEnum):
    """Where a week-based year ends: the ``last`` weekday of its final month, or the
    weekday ``nearest`` the final month's last day (at most three days either side)."""

    LAST = "last"
    NEAREST = "nearest"


class YearNaming(enum.StrEnum):
    """Whether ``FY2027`` is the year that ends (Salesforce's default) or starts in 2027."""

    END = "end"
    START = "start"


class Weekday(enum.StrEnum):
    """A day of the week; ``number`` is Python's (Monday 0 … Sunday 6)."""

    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"

    @property
    def number(self) -> int:
        """Python's weekday number.

        >>> Weekday.SATURDAY.number
        5
        """
        return list(Weekday).index(self)


@attrs.frozen
class _Year:
    """The boundaries of one fiscal year, derived once per calendar and year."""

    fiscal_year: int
    start: date
    end: date
    months: tuple[date, ...]  # 13 dates: the start of each month, then the year's end
    weeks: int


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _month_end(year: int, month: int) -> date:
    return _add_months(date(year, month, 1), 1) - _DAY


def _anchor(year: int, month: int, weekday: int, rule: YearEndRule) -> date:
    """The last day of a week-based year whose final month is ``year``-``month``."""
    last = _month_end(year, month)
    if rule is YearEndRule.LAST:
        return last - timedelta(days=(last.weekday() - weekday) % 7)
    ahead = (weekday - last.weekday()) % 7
    return last + timedelta(days=ahead if ahead <= 3 else ahead - 7)


def _to_kind(value: object) -> object:
    return to_enum(CalendarKind)(value)


def _to_naming(value: object) -> object:
    return to_enum(YearNaming)(value)


def _to_weekday(value: object) -> object:
    return None if value is None else to_enum(Weekday)(value)


def _to_rule(value: object) -> object:
    return None if value is None else to_enum(YearEndRule)(value)


@attrs.frozen(kw_only=True)
class FiscalCalendar:
    """A fiscal calendar: monthly or week-based, starting in ``start_month``.

    For a week-based calendar ``year_end_rule`` and ``year_end_weekday`` say where each
    year ends (in the month before ``start_month``); a monthly calendar has neither.
    Build one with :meth:`monthly` or :meth:`weeks`, or from data:

    >>> from sfakit.codec import from_data, to_data
    >>> cal = FiscalCalendar.weeks("4-4-5", end_month=12, weekday="saturday", rule="last")
    >>> to_data(cal)["year_end_rule"], from_data(FiscalCalendar, to_data(cal)) == cal
    ('last', True)
    >>> FiscalCalendar(kind="4-4-5")
    Traceback (most recent call last):
    ...
    sfakit.errors.ValidationError: invalid fiscal calendar: 2 problems:
      $.year_end_rule: a year-end rule (last or nearest) for a week-based calendar
      $.year_end_weekday: the weekday every year ends on, for a week-based calendar
    """

    kind: CalendarKind = attrs.field(
        default=CalendarKind.MONTHLY,
        converter=_to_kind,
        validator=enum_of(CalendarKind),
    )
    start_month: int = attrs.field(default=1, validator=month_number)
    year_named_by: YearNaming = attrs.field(
        default=YearNaming.END, converter=_to_naming, validator=enum_of(YearNaming)
    )
    year_end_rule: YearEndRule | None = attrs.field(
        default=None, converter=_to_rule, validator=optional(enum_of(YearEndRule))
    )
    year_end_weekday: Weekday | None = attrs.field(
        default=None, converter=_to_weekday, validator=optional(enum_of(Weekday))
    )
    # Derived boundaries, cached per instance: not data, not compared.
    _years: dict[int, _Year] = attrs.field(
        init=False, factory=dict, eq=False, repr=False, hash=False
    )

    def __attrs_post_init__(self) -> None:
        problems: list[Problem] = []
        weekly = self.kind is not CalendarKind.MONTHLY
        if weekly and self.year_end_rule is None:
            problems.append(
                Problem(
                    "$.year_end_rule", "a year-end rule (last or nearest) for a week-based calendar"
                )
            )
        if weekly and self.year_end_weekday is None:
            problems.append(
                Problem(
                    "$.year_end_weekday",
                    "the weekday every year ends on, for a week-based calendar",
                )
            )
        if not weekly:
            for name in ("year_end_rule", "year_end_weekday"):
                value = getattr(self, name)
                if value is not None:
                    problems.append(
                        Problem(f"$.{name}", "null: a monthly calendar ends on a month end", value)
                    )
        if problems:
            raise ValidationError.from_problems(problems, subject="fiscal calendar")

    # -- constructors -------------------------------------------------------------------

    @classmethod
    def monthly(
        cls, *, start_month: int = 1, named_by: YearNaming | str = YearNaming.END
    ) -> FiscalCalendar:
        """A calendar of calendar months starting in ``start_month`` (Salesforce's
        standard fiscal year).

        >>> FiscalCalendar.monthly(start_month=4).year(2027).start
        datetime.date(2026, 4, 1)
        """
        return cls(
            kind=CalendarKind.MONTHLY,
            start_month=start_month,
            year_named_by=named_by,
        )

    @classmethod
    def weeks(
        cls,
        pattern: CalendarKind | str,
        *,
        end_month: int,
        weekday: Weekday | str,
        rule: YearEndRule | str,
        named_by: YearNaming | str = YearNaming.END,
    ) -> FiscalCalendar:
        """A week-based calendar whose years end on ``weekday`` (the ``last`` one of
        ``end_month``, or the one ``nearest`` its last day).

        >>> apple = FiscalCalendar.weeks("4-4-5", end_month=9, weekday="saturday", rule="last")
        >>> apple.year(2023).start, apple.year(2023).last_day, apple.weeks_in(2023)
        (datetime.date(2022, 9, 25), datetime.date(2023, 9, 30), 53)
        """
        if (
            not isinstance(end_month, int)
            or isinstance(end_month, bool)
            or not 1 <= end_month <= 12
        ):
            raise ValidationError("$.end_month", end_month, "a month number from 1 to 12")
        return cls(
            kind=pattern,
            start_month=end_month % 12 + 1,
            year_named_by=named_by,
            year_end_rule=rule,
            year_end_weekday=weekday,
        )

    # -- years ----------------------------------------------------------------------------

    @property
    def end_month(self) -> int:
        """The (nominal) last month of every fiscal year."""
        return (self.start_month - 2) % 12 + 1

    def _end_year(self, fiscal_year: int) -> int:
        # The calendar year of the nominal last month.
        if self.year_named_by is YearNaming.END or self.start_month == 1:
            return fiscal_year
        return fiscal_year + 1

    def _named(self, start_year: int) -> int:
        # The fiscal year whose nominal first month is in calendar year ``start_year``.
        if self.year_named_by is YearNaming.START or self.start_month == 1:
            return start_year
        return start_year + 1

    def _year(self, fiscal_year: int, path: str = "$.fiscal_year") -> _Year:
        cached = self._years.get(fiscal_year)
        if cached is not None:
            return cached
        if (
            not isinstance(fiscal_year, int)
            or isinstance(fiscal_year, bool)
            or not MIN_FISCAL_YEAR <= fiscal_year <= MAX_FISCAL_YEAR
        ):
            raise ValidationError(
                path,
                fiscal_year,
                f"a fiscal year from {MIN_FISCAL_YEAR} to {MAX_FISCAL_YEAR}",
            )
        end_year, end_month = self._end_year(fiscal_year), self.end_month
        pattern = self.kind.pattern
        if pattern is None:
            start = _add_months(date(end_year, end_month, 1), -11)
            months = tuple(_add_months(start, k) for k in range(13))
            end = months[-1]
            weeks = -(-(end - start).days // 7)
        else:
            rule, weekday = self.year_end_rule, self.year_end_weekday
            assert rule is not None  # checked when built
            assert weekday is not None
            start = _anchor(end_year - 1, end_month, weekday.number, rule) + _DAY
            end = _anchor(end_year, end_month, weekday.number, rule) + _DAY
            weeks = (end - start).days // 7
            lengths = list(pattern) * 4
            lengths[-1] += weeks - 52  # the 53rd week goes to the last month
            boundaries = [start]
            for length in lengths:
                boundaries.append(boundaries[-1] + length * _WEEK)
            months = tuple(boundaries)
        year = _Year(fiscal_year, start, end, months, weeks)
        self._years[fiscal_year] = year
        return year

    def weeks_in(self, fiscal_year: int) -> int:
        """How many weeks the year has: 52 or 53 in a week-based calendar; 53 in a monthly
        one, whose 53rd week is the one or two days left over.

        >>> nrf_calendar().weeks_in(2022), nrf_calendar().weeks_in(2023)
        (52, 53)
        """
        return self._year(fiscal_year).weeks

    def year_of(self, day: date) -> int:
        """The fiscal year ``day`` falls in.

        >>> from datetime import date
        >>> FiscalCalendar.monthly(start_month=10).year_of(date(2026, 10, 1))
        2027
        """
        _check_day(day)
        month = self.start_month
        start_year = day.year if day.month >= month else day.year - 1
        fiscal_year = self._named(start_year)
        if not MIN_FISCAL_YEAR <= fiscal_year <= MAX_FISCAL_YEAR:
            raise _out_of_range(day)
        if self.kind is not CalendarKind.MONTHLY:
            # A week-based year ends up to six days away from its nominal month end.
            year = self._year(fiscal_year)
            if day < year.start:
                fiscal_year -= 1
            elif day >= year.end:
                fiscal_year += 1
            if not MIN_FISCAL_YEAR <= fiscal_year <= MAX_FISCAL_YEAR:
                raise _out_of_range(day)
        return fiscal_year

    # -- periods --------------------------------------------------------------------------

    def year(self, fiscal_year: int) -> Period:
        """The whole fiscal year as a period."""
        y = self._year(fiscal_year)
        return Period(name=f"FY{fiscal_year:04d}", start=y.start, end=y.end)

    def periods(self, fiscal_year: int, kind: PeriodKind | str) -> tuple[Period, ...]:
        """Every period of ``kind`` in the year, in order; they tile the year exactly.

        >>> [p.name for p in FiscalCalendar.monthly().periods(2027, "quarter")]
        ['FY2027-Q1', 'FY2027-Q2', 'FY2027-Q3', 'FY2027-Q4']
        """
        period_kind = to_period_kind(kind)
        y = self._year(fiscal_year)
        return tuple(
            self._build(y, period_kind, index) for index in range(1, _count(y, period_kind) + 1)
        )

    def period(self, name: str) -> Period:
        """The period named ``name`` (``FY2027``, ``FY2027-Q1``, ``FY2027-M03``,
        ``FY2027-W05``), or a ValidationError naming it.

        >>> FiscalCalendar.monthly().period("FY2027-W53").days
        1
        >>> nrf_calendar().period("FY2024-W53")
        Traceback (most recent call last):
        ...
        sfakit.errors.ValidationError: $.period: got 'FY2024-W53'; expected a week of FY2024...
        """
        parts = parse_period_name(name)
        y = self._year(parts.fiscal_year, "$.period")
        count = _count(y, parts.kind)
        if parts.number > count:
            raise ValidationError(
                "$.period",
                name,
                f"a week of FY{parts.fiscal_year:04d}, which has {count} weeks in this calendar",
            )
        return self._build(y, parts.kind, parts.number)

    def period_of(self, day: date, kind: PeriodKind | str) -> Period:
        """The period of ``kind`` that contains ``day``.

        >>> from datetime import date
        >>> nrf_calendar().period_of(date(2024, 2, 3), "month").name
        'FY2023-M12'
        """
        period_kind = to_period_kind(kind)
        y = self._year(self.year_of(day))
        return self._build(y, period_kind, _index_of(y, period_kind, day))

    def between(self, first: str, last: str) -> tuple[Period, ...]:
        """The periods from ``first`` to ``last`` inclusive, which must be of one kind.

        >>> [p.name for p in FiscalCalendar.monthly().between("FY2026-Q4", "FY2027-Q2")]
        ['FY2026-Q4', 'FY2027-Q1', 'FY2027-Q2']
        """
        start, stop = self.period(first), self.period(last)
        if start.kind is not stop.kind:
            raise ValidationError("$.last", last, f"a {start.kind.value} like {first!r}")
        if stop.start < start.start:
            raise ValidationError("$.last", last, f"a period at or after {first!r}")
        found = []
        current = start
        while True:
            found.append(current)
            if current.name == stop.name:
                return tuple(found)
            current = self.period_of(current.end, start.kind)

    def _build(self, y: _Year, kind: PeriodKind, index: int) -> Period:
        name = str(PeriodName(y.fiscal_year, kind, index))
        if kind is PeriodKind.YEAR:
            return Period(name=name, start=y.start, end=y.end)
        if kind is PeriodKind.QUARTER:
            return Period(name=name, start=y.months[3 * index - 3], end=y.months[3 * index])
        if kind is PeriodKind.MONTH:
            return Period(name=name, start=y.months[index - 1], end=y.months[index])
        start = y.start + (index - 1) * _WEEK
        return Period(name=name, start=start, end=min(start + _WEEK, y.end))


def _check_day(day: object) -> None:
    if not isinstance(day, date) or isinstance(day, datetime):
        raise ValidationError("$.day", day, "a date (no time of day)")


def _out_of_range(day: date) -> ValidationError:
    return ValidationError(
        "$.day",
        day,
        f"a date in fiscal years FY{MIN_FISCAL_YEAR:04d} to FY{MAX_FISCAL_YEAR:04d}",
    )


def _count(y: _Year, kind: PeriodKind) -> int:
    return {PeriodKind.YEAR: 1, PeriodKind.QUARTER: 4, PeriodKind.MONTH: 12}.get(kind, y.weeks)


def _index_of(y: _Year, kind: PeriodKind, day: date) -> int:
    if kind is PeriodKind.YEAR:
        return 1
    if kind is PeriodKind.WEEK:
        return (day - y.start).days // 7 + 1
    month = bisect.bisect_right(y.months, day)
    return month if kind is PeriodKind.MONTH else (month - 1) // 3 + 1


def nrf_calendar() -> FiscalCalendar:
    """The National Retail Federation's 4-5-4 calendar: the year ends on the Saturday
    nearest 31 January and is named by the year it starts in (FY2023: 29 January 2023 to
    3 February 2024, a 53-week year like FY2012, FY2017 and FY2028).

    >>> nrf_calendar().period("FY2023-M12").days
    35
    """
    return FiscalCalendar.weeks(
        CalendarKind.WEEKS_454,
        end_month=1,
        weekday=Weekday.SATURDAY,
        rule=YearEndRule.NEAREST,
        named_by=YearNaming.START,
    )
