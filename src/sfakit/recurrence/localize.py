"""Wall-clock time to an instant: the daylight-saving rules every schedule follows.

Occurrences are computed as dates and a wall-clock time, then placed in the zone:

* a wall time that does not exist (the hour skipped when clocks go forward) moves
  forward by the length of the gap: 02:30 on the last Sunday of March in Europe/Berlin
  is 03:30 CEST, 02:15 on Lord Howe Island's 30-minute spring gap is 02:45;
* a wall time that exists twice (clocks go back) is the first of the two instants
  (``fold=0``), so a 02:30 occurrence happens once, in summer time.

This is what python-dateutil does not do (it emits the non-existent time as is).

>>> from datetime import date
>>> from zoneinfo import ZoneInfo
>>> at = wall_clock(ZoneInfo("Europe/Berlin"), 2, 30, 0)
>>> at(date(2026, 3, 29).toordinal()).isoformat()
'2026-03-29T03:30:00+02:00'
>>> at(date(2026, 10, 25).toordinal()).isoformat()
'2026-10-25T02:30:00+02:00'
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["localize", "wall_clock"]


def wall_clock(zone: ZoneInfo, hour: int, minute: int, second: int) -> Callable[[int], datetime]:
    """A function from a date ordinal to that day's occurrence instant in ``zone``."""
    first = time(hour, minute, second, tzinfo=zone)
    second_instant = time(hour, minute, second, tzinfo=zone, fold=1)
    from_ordinal = date.fromordinal
    combine = datetime.combine
    zero = timedelta(0)

    def at(ordinal: int) -> datetime:
        day = from_ordinal(ordinal)
        moment = combine(day, first)
        before = moment.utcoffset() or zero
        after = combine(day, second_instant).utcoffset() or zero
        if before >= after:  # an ordinary time, or the first of two (fold=0)
            return moment
        # In the gap: read with the offset in force before it, the instant is the wall
        # time moved forward by the gap.
        return (moment.replace(tzinfo=None) - before).replace(tzinfo=UTC).astimezone(zone)

    return at


def localize(day: date, hour: int, minute: int, second: int, zone: ZoneInfo) -> datetime:
    """The instant of ``day`` at the wall-clock time in ``zone``, by the rules above."""
    return wall_clock(zone, hour, minute, second)(day.toordinal())
