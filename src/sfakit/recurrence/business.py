"""Business days: a calendar of closed days and the ISDA rules that move a date off them.

A :class:`BusinessCalendar` is data: the weekday names that are weekend days and a list
of holiday dates (days outside the list are business days unless they fall on a
weekend). :class:`BusinessDayConvention` says where a date that falls on a closed day
goes, with the meaning the 2006 ISDA Definitions (section 4.12) give the terms:

* ``following``: the next business day;
* ``preceding``: the previous business day;
* ``modified_following``: the next business day, unless that is in the next calendar
  month; then the previous business day (a payment due on Saturday 31 January moves
  back to Friday 30 January rather than into February).

>>> from datetime import date
>>> cal = BusinessCalendar(holidays=(date(2026, 12, 25), date(2026, 12, 26)))
>>> cal.adjust(date(2026, 12, 25), BusinessDayConvention.FOLLOWING)
datetime.date(2026, 12, 28)
>>> cal.adjust(date(2026, 1, 31), BusinessDayConvention.MODIFIED_FOLLOWING)
datetime.date(2026, 1, 30)
"""

from __future__ import annotations

import enum
from datetime import date
from typing import Any, Final

import attrs

from sfakit.errors import ValidationError
from sfakit.model.checks import plain_date, to_tuple, tuple_of

__all__ = ["WEEKDAY_NAMES", "BusinessCalendar", "BusinessDayConvention"]

#: RFC 5545 weekday names, Monday first (the index is ``date.weekday()``).
WEEKDAY_NAMES: Final = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


class BusinessDayConvention(enum.StrEnum):
    """Where an occurrence on a closed day moves (ISDA 2006, section 4.12)."""

    FOLLOWING = "following"
    PRECEDING = "preceding"
    MODIFIED_FOLLOWING = "modified_following"


def _weekend_days(value: Any) -> Any:
    # Canonical form (upper case, calendar order, no repeats) so equal calendars are equal.
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        names = {v.strip().upper() for v in value}
        if names <= set(WEEKDAY_NAMES):
            return tuple(n for n in WEEKDAY_NAMES if n in names)
    return to_tuple(value)


def _check_weekend(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    expected = "a tuple of weekday names (MO TU WE TH FR SA SU), at most six of them"
    if not isinstance(value, tuple) or len(value) > 6:
        raise ValidationError("$.weekend", value, expected)
    for index, name in enumerate(value):
        if name not in WEEKDAY_NAMES:
            raise ValidationError(f"$.weekend[{index}]", name, expected)


def _sorted_dates(value: Any) -> Any:
    if isinstance(value, (list, tuple, set, frozenset)):
        items = tuple(value)
        if all(isinstance(d, date) for d in items):
            try:
                return tuple(sorted(set(items)))
            except TypeError:  # a datetime among dates: left for the validator
                return items
        return items
    return value


@attrs.frozen(kw_only=True)
class BusinessCalendar:
    """Which days are business days: not a ``weekend`` weekday and not a ``holidays`` date.

    ``weekend`` holds RFC 5545 weekday names (default Saturday and Sunday; an empty tuple
    for a seven-day business); at least one weekday must stay open. ``holidays`` are
    sorted and de-duplicated on construction. The calendar knows only the holidays it
    lists: days of years it has no holidays for are business days unless at a weekend.

    >>> from datetime import date
    >>> gulf = BusinessCalendar(weekend=("FR", "SA"))
    >>> gulf.is_business_day(date(2026, 3, 6)), gulf.is_business_day(date(2026, 3, 8))
    (False, True)
    """

    weekend: tuple[str, ...] = attrs.field(
        default=("SA", "SU"), converter=_weekend_days, validator=_check_weekend
    )
    holidays: tuple[date, ...] = attrs.field(
        default=(), converter=_sorted_dates, validator=tuple_of(plain_date)
    )
    _closed_weekdays: frozenset[int] = attrs.field(init=False, eq=False, repr=False)
    _holiday_ordinals: frozenset[int] = attrs.field(init=False, eq=False, repr=False)
    _longest_closure: int = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        closed = frozenset(WEEKDAY_NAMES.index(n) for n in self.weekend)
        holidays = frozenset(d.toordinal() for d in self.holidays)
        object.__setattr__(self, "_closed_weekdays", closed)
        object.__setattr__(self, "_holiday_ordinals", holidays)
        object.__setattr__(self, "_longest_closure", self._measure_longest_closure())

    def is_business_day(self, day: date) -> bool:
        """True when ``day`` is neither a weekend day nor a holiday."""
        return self.is_open(day.toordinal())

    def is_open(self, ordinal: int) -> bool:
        """:meth:`is_business_day` for a proleptic Gregorian ordinal (``date.toordinal()``)."""
        return (ordinal + 6) % 7 not in self._closed_weekdays and (
            ordinal not in self._holiday_ordinals
        )

    @property
    def longest_closure(self) -> int:
        """The longest run of consecutive closed days: how far an adjustment can move a date.

        >>> from datetime import date
        >>> BusinessCalendar(holidays=(date(2026, 12, 25),)).longest_closure  # Fri + weekend
        3
        """
        return self._longest_closure

    def adjust(self, day: date, convention: BusinessDayConvention) -> date:
        """``day`` moved to a business day by ``convention`` (unchanged if it is one)."""
        return date.fromordinal(self.adjust_ordinal(day.toordinal(), convention))

    def adjust_ordinal(self, ordinal: int, convention: BusinessDayConvention) -> int:
        """:meth:`adjust` on proleptic Gregorian ordinals."""
        if self.is_open(ordinal):
            return ordinal
        if convention is BusinessDayConvention.PRECEDING:
            return self._step(ordinal, -1)
        later = self._step(ordinal, 1)
        if convention is BusinessDayConvention.FOLLOWING:
            return later
        if date.fromordinal(later).month != date.fromordinal(ordinal).month:
            return self._step(ordinal, -1)
        return later

    def _step(self, ordinal: int, direction: int) -> int:
        # Terminates: at least one weekday is open and the holidays are finite.
        ordinal += direction
        while not self.is_open(ordinal):
            ordinal += direction
        return ordinal

    def _measure_longest_closure(self) -> int:
        longest = _longest_weekend_run(self._closed_weekdays)
        covered = -1  # the last day of the closure measured last
        for ordinal in sorted(self._holiday_ordinals):
            if ordinal <= covered:
                continue
            first = ordinal
            while not self.is_open(first - 1):  # a weekend before the holiday belongs to it
                first -= 1
            covered = ordinal
            while not self.is_open(covered + 1):
                covered += 1
            longest = max(longest, covered - first + 1)
        return longest


def _longest_weekend_run(closed: frozenset[int]) -> int:
    longest = 0
    for first in range(7):
        run = 0
        while run < 7 and (first + run) % 7 in closed:
            run += 1
        longest = max(longest, run)
    return longest
