"""The expansion engine: a rule's nominal dates, as proleptic Gregorian ordinals.

A rule repeats a *period* (a day, a week starting on ``WKST``, a month, a year) every
``interval`` periods from the start's period; cycle ``k`` is the period ``k * interval``
periods after it. Within a period the ``BYxxx`` parts pick days exactly as RFC 5545
and python-dateutil do (``BYMONTH`` limits, ``BYMONTHDAY``/``BYDAY`` expand or limit by
frequency, ``BYSETPOS`` picks from the period's sorted set, the first week starts at
the start's day), with three changes:

* a rule anchored on the start's day of month follows a :class:`MonthEndPolicy`;
* ``BYDAY=MO,2TU`` is every Monday *and* the second Tuesday (RFC 5545), where dateutil
  intersects the two and yields nothing;
* cycles can be jumped: the dates of cycle ``k`` depend only on ``k``, so a query 30 years
  after the start computes ``k`` and starts there instead of replaying every occurrence
  (python-dateutil's ``after``/``between`` replay from ``DTSTART``, its issue 654). A
  ``COUNT`` rule must know how many occurrences came before, so it is replayed from the
  start; it has at most 10 000 occurrences and the replay touches dates only.

Nothing here knows about time zones or business days: see :mod:`sfakit.recurrence.schedule`.

>>> from datetime import date
>>> rule = Expander(frequency=Frequency.MONTHLY, start=date(2026, 1, 31))
>>> [date.fromordinal(o).isoformat() for o in rule.ordinals(limit=3)]
['2026-01-31', '2026-02-28', '2026-03-31']
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator, Sequence
from datetime import date
from itertools import islice
from typing import Final

from sfakit.recurrence.parts import Frequency, MonthEndPolicy

__all__ = ["LAST_ORDINAL", "Expander", "impossibility"]

#: Occurrences end with the year 9998: the last year is room for zone offsets and moves.
LAST_ORDINAL: Final = date(9998, 12, 31).toordinal()
_LAST_YEAR: Final = 9998
_MONTH_LENGTHS: Final = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_MAX_MONTH_LENGTHS: Final = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _days_in_month(year: int, month: int) -> int:
    if month == 2 and calendar.isleap(year):
        return 29
    return _MONTH_LENGTHS[month - 1]


def _month_start(year: int, month: int) -> int:
    return date(year, month, 1).toordinal()


def _weekday(ordinal: int) -> int:
    return (ordinal + 6) % 7  # ordinal 1 (0001-01-01) was a Monday


def _weekdays_in(lo: int, hi: int, weekdays: frozenset[int]) -> list[int]:
    days: list[int] = []
    first = _weekday(lo)
    for wd in weekdays:
        o = lo + (wd - first) % 7
        while o <= hi:
            days.append(o)
            o += 7
    days.sort()
    return days


def _nth_in(lo: int, hi: int, nth: Sequence[tuple[int, int]]) -> set[int]:
    days: set[int] = set()
    for wd, n in nth:
        if n > 0:
            o = lo + (wd - _weekday(lo)) % 7 + (n - 1) * 7
            if o <= hi:
                days.add(o)
        else:
            o = hi - (_weekday(hi) - wd) % 7 + (n + 1) * 7
            if o >= lo:
                days.add(o)
    return days


def _pick(days: list[int], positions: Sequence[int]) -> list[int]:
    picked: set[int] = set()
    size = len(days)
    for pos in positions:
        index = pos - 1 if pos > 0 else size + pos
        if 0 <= index < size:
            picked.add(days[index])
    return sorted(picked)


class Expander:
    """The nominal dates of one recurrence rule (internal; a :class:`Schedule` builds one).

    Arguments mirror RFC 5545: ``weekdays`` as ``(weekday, n)`` pairs (Monday = 0, ``n``
    None for "every"), ``week_start`` as a weekday number.
    """

    __slots__ = (
        "anchor_day",
        "anchored",
        "count",
        "frequency",
        "interval",
        "month_days_neg",
        "month_days_pos",
        "month_end",
        "months",
        "nth",
        "p0",
        "plain",
        "positions",
        "start",
        "start_ordinal",
        "week_offsets",
        "week_start",
    )

    def __init__(
        self,
        *,
        frequency: Frequency,
        start: date,
        interval: int = 1,
        week_start: int = 0,
        months: Sequence[int] = (),
        month_days: Sequence[int] = (),
        weekdays: Sequence[tuple[int, int | None]] = (),
        set_positions: Sequence[int] = (),
        count: int | None = None,
        month_end: MonthEndPolicy = MonthEndPolicy.CLAMP,
    ) -> None:
        self.frequency = frequency
        self.start = start
        self.start_ordinal = start.toordinal()
        self.interval = interval
        self.week_start = week_start
        self.count = count
        self.month_end = month_end
        self.positions = tuple(set_positions)
        self.month_days_pos = frozenset(d for d in month_days if d > 0)
        self.month_days_neg = frozenset(d for d in month_days if d < 0)
        self.plain = frozenset(wd for wd, n in weekdays if n is None)
        self.nth = tuple((wd, n) for wd, n in weekdays if n is not None)
        self.anchored = frequency in (Frequency.MONTHLY, Frequency.YEARLY) and not (
            month_days or weekdays
        )
        self.anchor_day = start.day
        chosen = frozenset(months)
        if frequency is Frequency.YEARLY and self.anchored and not chosen:
            chosen = frozenset((start.month,))  # dateutil: BYMONTH defaults to the start's
        self.months = chosen
        if frequency is Frequency.WEEKLY and not weekdays:
            self.plain = frozenset((start.weekday(),))
        self.week_offsets = tuple(sorted((wd - week_start) % 7 for wd in self.plain))
        self.p0 = self.period_of(self.start_ordinal)

    # --- periods ---------------------------------------------------------------------

    def period_of(self, ordinal: int) -> int:
        """The index of the period holding ``ordinal`` (days, weeks, months or years)."""
        if self.frequency is Frequency.DAILY:
            return ordinal
        if self.frequency is Frequency.WEEKLY:
            return (ordinal - 1 - self.week_start) // 7
        day = date.fromordinal(ordinal)
        if self.frequency is Frequency.MONTHLY:
            return day.year * 12 + day.month - 1
        return day.year

    def first_cycle_for(self, ordinal: int) -> int:
        """The last cycle that starts on or before ``ordinal``'s period (0 at the latest)."""
        return max(0, (self.period_of(ordinal) - self.p0) // self.interval)

    # --- public iteration ------------------------------------------------------------

    def ordinals(
        self, from_ordinal: int = 0, *, jump: bool = True, limit: int | None = None
    ) -> Iterator[int]:
        """Nominal dates on or after ``from_ordinal``, in order (at most ``limit`` of them).

        With ``jump`` (and no ``COUNT``) expansion starts at the cycle holding
        ``from_ordinal``; without, it replays from the start. Both give the same dates.
        """
        cycle = 0
        if jump and self.count is None and from_ordinal > self.start_ordinal:
            cycle = self.first_cycle_for(from_ordinal)
        found = self._from_cycle(cycle)
        if self.count is not None:
            found = islice(found, self.count)
        selected = (o for o in found if o >= from_ordinal)
        return selected if limit is None else islice(selected, limit)

    def _from_cycle(self, cycle: int) -> Iterator[int]:
        if self.frequency is Frequency.DAILY:
            return self._daily(cycle)
        if self.frequency is Frequency.WEEKLY:
            return self._weekly(cycle)
        if self.frequency is Frequency.MONTHLY:
            return self._monthly(cycle)
        return self._yearly(cycle)

    # --- frequencies -----------------------------------------------------------------

    def _daily(self, cycle: int) -> Iterator[int]:
        step = self.interval
        first = self.start_ordinal
        o = first + cycle * step
        if not (self.months or self.month_days_pos or self.month_days_neg or self.plain):
            if self.positions and not ({1, -1} & set(self.positions)):
                return
            while o <= LAST_ORDINAL:
                yield o
                o += step
            return
        keep_single = not self.positions or bool({1, -1} & set(self.positions))
        if not keep_single:
            return
        months, plain = self.months, self.plain
        pos, neg = self.month_days_pos, self.month_days_neg
        while o <= LAST_ORDINAL:
            day = date.fromordinal(o)
            if months and day.month not in months:
                # Jump to the first cycle inside the next allowed month instead of day by day.
                target = self._next_allowed_month(day.year, day.month)
                o = first + -(-(target - first) // step) * step
                continue
            if (not plain or _weekday(o) in plain) and (
                not (pos or neg)
                or day.day in pos
                or day.day - _days_in_month(day.year, day.month) - 1 in neg
            ):
                yield o
            o += step

    def _next_allowed_month(self, year: int, month: int) -> int:
        for _ in range(12):
            month += 1
            if month == 13:
                year, month = year + 1, 1
            if month in self.months:
                break
        if year > _LAST_YEAR:
            return LAST_ORDINAL + 1
        return _month_start(year, month)

    def _weekly(self, cycle: int) -> Iterator[int]:
        period = self.p0 + cycle * self.interval
        months, positions, offsets = self.months, self.positions, self.week_offsets
        while True:
            week = 7 * period + 1 + self.week_start
            if week > LAST_ORDINAL:
                return
            # The first week starts on the start's day (as in dateutil): BYSETPOS counts from it.
            low = self.start_ordinal if period == self.p0 else week
            days = [week + off for off in offsets if week + off >= low]
            if months:
                days = [o for o in days if date.fromordinal(o).month in months]
            if positions:
                days = _pick(days, positions)
            for o in days:
                if o <= LAST_ORDINAL:
                    yield o
            period += self.interval

    def _monthly(self, cycle: int) -> Iterator[int]:
        period = self.p0 + cycle * self.interval
        first, months, positions = self.start_ordinal, self.months, self.positions
        while True:
            year, index = divmod(period, 12)
            if year > _LAST_YEAR:
                return
            month = index + 1
            if not months or month in months:
                days = self._month_days(year, (month,), by_year=False)
                if positions:
                    days = _pick(days, positions)
                for o in days:
                    if o >= first:
                        yield o
            period += self.interval

    def _yearly(self, cycle: int) -> Iterator[int]:
        year = self.start.year + cycle * self.interval
        first, positions = self.start_ordinal, self.positions
        months = tuple(sorted(self.months)) if self.months else tuple(range(1, 13))
        by_year = not self.months
        while year <= _LAST_YEAR:
            days = self._month_days(year, months, by_year=by_year)
            if positions:
                days = _pick(days, positions)
            for o in days:
                if o >= first:
                    yield o
            year += self.interval

    def _month_days(self, year: int, months: Sequence[int], *, by_year: bool) -> list[int]:
        """The days of ``months`` of ``year`` the rule selects, before BYSETPOS."""
        days: list[int] = []
        if self.anchored:
            for month in months:
                day = self._anchor_in(year, month)
                if day is not None:
                    days.append(day)
            return days
        nth_of_year: set[int] = set()
        if self.nth and by_year:
            nth_of_year = _nth_in(
                date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal(), self.nth
            )
        pos, neg, plain = self.month_days_pos, self.month_days_neg, self.plain
        for month in months:
            length = _days_in_month(year, month)
            lo = _month_start(year, month)
            hi = lo + length - 1
            nth = nth_of_year if by_year else (_nth_in(lo, hi, self.nth) if self.nth else set())
            if pos or neg:
                chosen = {lo + d - 1 for d in pos if d <= length}
                chosen.update(hi + d + 1 for d in neg if -d <= length)
                picked = sorted(chosen)
                if plain or self.nth:
                    picked = [o for o in picked if _weekday(o) in plain or o in nth]
                days.extend(picked)
            else:
                found = set(_weekdays_in(lo, hi, plain)) if plain else set()
                found.update(o for o in nth if lo <= o <= hi)
                days.extend(sorted(found))
        return days

    def _anchor_in(self, year: int, month: int) -> int | None:
        length = _days_in_month(year, month)
        policy = self.month_end
        if policy is MonthEndPolicy.LAST_DAY:
            day = length
        elif self.anchor_day <= length:
            day = self.anchor_day
        elif policy is MonthEndPolicy.CLAMP:
            day = length
        else:
            return None
        return _month_start(year, month) + day - 1


def impossibility(
    *,
    frequency: Frequency,
    start: date,
    interval: int,
    months: Sequence[int],
    month_days: Sequence[int],
    weekdays: Sequence[tuple[int, int | None]],
    set_positions: Sequence[int],
    month_end: MonthEndPolicy = MonthEndPolicy.CLAMP,
) -> tuple[str, object, str] | None:
    """``(path, value, expected)`` when the rule can never occur, for the usual mistakes.

    Catches day/month combinations no reachable month has (``BYMONTH=2;BYMONTHDAY=30``,
    or ``INTERVAL=12;BYMONTHDAY=30`` from February), an anchor day the chosen months lack
    under ``skip``, months a monthly interval never reaches, weekdays a daily interval
    never reaches, and ``BYSETPOS`` beyond what a period can hold. Rules that occur only
    rarely (29 February on a Monday) are fine; anything else ends with the year 9998.
    """
    allowed = set(months or range(1, 13))
    if frequency is Frequency.MONTHLY:
        reached = {(start.month - 1 + k * interval) % 12 + 1 for k in range(12)}
        if not reached & allowed:
            return (
                "$.months",
                tuple(months),
                f"a month reached every {interval} months from {start.isoformat()}: "
                f"{', '.join(str(m) for m in sorted(reached))}; the rule would never occur",
            )
        allowed &= reached
    longest = max(_MAX_MONTH_LENGTHS[m - 1] for m in allowed)
    reachable_day = any(abs(d) <= longest for d in month_days)
    if month_days and frequency is not Frequency.WEEKLY and not reachable_day:
        return (
            "$.month_days",
            tuple(month_days),
            "a day of month that the months the rule reaches have; it would never occur",
        )
    anchored = frequency in (Frequency.MONTHLY, Frequency.YEARLY) and not (month_days or weekdays)
    if anchored and month_end is MonthEndPolicy.SKIP:
        chosen = months or ((start.month,) if frequency is Frequency.YEARLY else allowed)
        if start.day > max(_MAX_MONTH_LENGTHS[m - 1] for m in chosen if m in allowed):
            return (
                "$.months",
                tuple(months),
                f"months with a day {start.day} (the start's day), or another month-end "
                "policy than skip; the rule would never occur",
            )
    plain = {wd for wd, n in weekdays if n is None}
    if frequency is Frequency.DAILY and plain:
        reached_days = {(start.weekday() + k * interval) % 7 for k in range(7)}
        if not reached_days & plain:
            return (
                "$.weekdays",
                tuple(sorted(plain)),
                f"a weekday reached every {interval} days from {start.isoformat()}; "
                "the rule would never occur",
            )
    size = _largest_period(frequency, months, month_days, weekdays)
    if set_positions and all(abs(p) > size for p in set_positions):
        return (
            "$.set_positions",
            tuple(set_positions),
            f"a position from -{size} to {size}: a period of this rule holds at most {size} "
            "days; the rule would never occur",
        )
    return None


def _largest_period(
    frequency: Frequency,
    months: Sequence[int],
    month_days: Sequence[int],
    weekdays: Sequence[tuple[int, int | None]],
) -> int:
    """An upper bound on how many days one period of the rule selects (before BYSETPOS)."""
    plain = sum(1 for _, n in weekdays if n is None)
    nth = len(weekdays) - plain
    if frequency is Frequency.DAILY:
        return 1
    if frequency is Frequency.WEEKLY:
        return plain or 1
    month_count = 1 if frequency is Frequency.MONTHLY else (len(months) or 12)
    if not (month_days or weekdays):
        return month_count  # anchored: one day a month
    per_month = len(month_days) if month_days else 5 * plain + nth
    if frequency is Frequency.YEARLY and not months and weekdays and not month_days:
        return 53 * plain + nth  # numbered weekdays count through the year
    return per_month * month_count
