"""The :class:`Schedule`: an RFC 5545 recurrence with a wall-clock time in an IANA zone.

A schedule is data (it round-trips through :func:`sfakit.codec.to_data` exactly) and
answers questions about time: :meth:`Schedule.between`, :meth:`Schedule.next_after`,
:meth:`Schedule.occurrences`, :meth:`Schedule.local_dates_between`. Every answer is a
timezone-aware datetime in the schedule's zone, computed as follows:

1. the rule's nominal dates (:mod:`sfakit.recurrence.expand`; ``COUNT`` counts these),
   cut at ``until`` (inclusive, compared as instants), plus ``rdates``, minus
   ``exdates``;
2. each date moved to a business day when the schedule has a ``calendar``;
3. the wall-clock time placed in the zone (:mod:`sfakit.recurrence.localize`);
4. an occurrence that lands on the local date of the one before it is merged into
   that one: a schedule never yields one local date twice (two dates adjusted onto the
   same business day, or a day a zone skipped, as Samoa skipped 30 December 2011).

>>> from datetime import date, datetime, timezone
>>> s = Schedule(frequency=Frequency.MONTHLY, start=date(2026, 1, 31), hour=9,
...              timezone="Europe/Berlin")
>>> [d.date().isoformat() for d in s.between(datetime(2026, 1, 1, tzinfo=timezone.utc),
...                                          datetime(2026, 5, 1, tzinfo=timezone.utc))]
['2026-01-31', '2026-02-28', '2026-03-31', '2026-04-30']
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

import attrs

from sfakit.errors import ValidationError
from sfakit.model.checks import (
    aware_datetime,
    enum_of,
    instance_of,
    optional,
    plain_date,
    timezone_name,
    tuple_of,
)
from sfakit.recurrence.business import (
    WEEKDAY_NAMES,
    BusinessCalendar,
    BusinessDayConvention,
)
from sfakit.recurrence.expand import LAST_ORDINAL, Expander, impossibility
from sfakit.recurrence.localize import wall_clock
from sfakit.recurrence.parts import Frequency, MonthEndPolicy, parse_weekday, weekday_token

if TYPE_CHECKING:
    from sfakit.model import RecurrenceSpec

__all__ = ["Schedule"]

_MAX_REPEAT: Final = 10_000  # as RecurrenceSpec allows for INTERVAL and COUNT


# --- converters and validators --------------------------------------------------------


def _whole(low: int, high: int, *, nonzero: bool = False) -> Any:
    expected = f"a whole number from {low} to {high}" + (", not 0" if nonzero else "")

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if type(value) is not int or not low <= value <= high or (nonzero and value == 0):
            raise ValidationError(f"$.{attribute.name}", value, expected)

    return check


def _sorted_unique(value: Any) -> Any:
    # Canonical order, so that schedules meaning the same compare equal; bad items stay
    # for the validator to name.
    if isinstance(value, (list, tuple, set, frozenset)):
        items = tuple(value)
        try:
            if all(type(v) is int for v in items) or all(
                isinstance(v, date) and not isinstance(v, datetime) for v in items
            ):
                return tuple(sorted(set(items)))
        except TypeError:
            pass
        return items
    return value


def _canonical_weekdays(value: Any) -> Any:
    if isinstance(value, (list, tuple, set, frozenset)):
        items = tuple(value)
        parsed = [parse_weekday(v) for v in items]
        if all(p is not None for p in parsed):
            pairs = {p for p in parsed if p is not None}
            ordered = sorted(pairs, key=lambda p: (p[0], p[1] or 0))
            return tuple(weekday_token(wd, n) for wd, n in ordered)
        return items
    return value


def _check_weekdays(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    expected = "RFC 5545 weekdays such as 'MO', '2TU' (second Tuesday) or '-1FR' (last Friday)"
    if not isinstance(value, tuple):
        raise ValidationError("$.weekdays", value, "a tuple of " + expected)
    for index, token in enumerate(value):
        parsed = parse_weekday(token)
        if parsed is None or (parsed[1] is not None and abs(parsed[1]) > 53):
            raise ValidationError(f"$.weekdays[{index}]", token, expected)


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


def _check_week_start(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value not in WEEKDAY_NAMES:
        raise ValidationError("$.week_start", value, "a weekday name: " + " ".join(WEEKDAY_NAMES))


def _to_utc(value: Any) -> Any:
    # UNTIL is an instant. Occurrences fall on whole seconds, so dropping microseconds
    # changes no answer and lets the RFC 5545 text (whole seconds) round-trip.
    if isinstance(value, datetime) and value.utcoffset() is not None:
        return value.astimezone(UTC).replace(microsecond=0)
    return value


def _aware(path: str, value: object) -> datetime:
    if not isinstance(value, datetime):
        raise ValidationError(path, value, "a timezone-aware datetime")
    if value.utcoffset() is None:
        raise ValidationError(path, value, "a timezone-aware datetime (a naive one is ambiguous)")
    return value


def _plain(path: str, value: object) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ValidationError(path, value, "a date (no time of day)")
    return value


# --- the schedule ---------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Schedule:
    """A recurrence: an RFC 5545 rule from a start date, at a wall-clock time in a zone.

    Fields map to RFC 5545 rule parts: ``frequency`` (``FREQ``), ``interval``,
    ``weekdays`` (``BYDAY``: ``"MO"``, ``"2TU"``, ``"-1FR"``), ``month_days``
    (``BYMONTHDAY``, negative from the month's end), ``months`` (``BYMONTH``),
    ``set_positions`` (``BYSETPOS``), ``week_start`` (``WKST``), ``count`` or ``until``
    (an inclusive instant, stored in UTC), ``exdates`` and ``rdates`` (dates: a schedule
    has one occurrence per day at ``hour:minute:second``). ``start`` is the local date
    the rule counts from; it is an occurrence when it matches the rule (as in
    python-dateutil). ``month_end`` is the :class:`MonthEndPolicy` of rules anchored on
    the start's day of month; ``calendar`` and ``adjustment`` move occurrences off
    closed days. Lists are stored sorted and without repeats.

    >>> from datetime import date
    >>> s = Schedule(frequency=Frequency.MONTHLY, start=date(2026, 1, 13),
    ...              weekdays=("2TU",), hour=10, timezone="America/New_York")
    >>> s.rule
    'FREQ=MONTHLY;BYDAY=2TU'
    """

    frequency: Frequency = attrs.field(validator=enum_of(Frequency))
    start: date = attrs.field(validator=plain_date)
    timezone: str = attrs.field(validator=timezone_name)
    hour: int = attrs.field(default=0, validator=_whole(0, 23))
    minute: int = attrs.field(default=0, validator=_whole(0, 59))
    second: int = attrs.field(default=0, validator=_whole(0, 59))
    interval: int = attrs.field(default=1, validator=_whole(1, _MAX_REPEAT))
    weekdays: tuple[str, ...] = attrs.field(
        default=(), converter=_canonical_weekdays, validator=_check_weekdays
    )
    month_days: tuple[int, ...] = attrs.field(
        default=(), converter=_sorted_unique, validator=tuple_of(_whole(-31, 31, nonzero=True))
    )
    months: tuple[int, ...] = attrs.field(
        default=(), converter=_sorted_unique, validator=tuple_of(_whole(1, 12))
    )
    set_positions: tuple[int, ...] = attrs.field(
        default=(), converter=_sorted_unique, validator=tuple_of(_whole(-366, 366, nonzero=True))
    )
    week_start: str = attrs.field(default="MO", converter=_upper, validator=_check_week_start)
    count: int | None = attrs.field(default=None, validator=optional(_whole(1, _MAX_REPEAT)))
    until: datetime | None = attrs.field(
        default=None, converter=_to_utc, validator=optional(aware_datetime)
    )
    exdates: tuple[date, ...] = attrs.field(
        default=(), converter=_sorted_unique, validator=tuple_of(plain_date)
    )
    rdates: tuple[date, ...] = attrs.field(
        default=(), converter=_sorted_unique, validator=tuple_of(plain_date)
    )
    month_end: MonthEndPolicy = attrs.field(
        default=MonthEndPolicy.CLAMP, validator=enum_of(MonthEndPolicy)
    )
    calendar: BusinessCalendar | None = attrs.field(
        default=None, validator=optional(instance_of(BusinessCalendar, "a BusinessCalendar"))
    )
    adjustment: BusinessDayConvention = attrs.field(
        default=BusinessDayConvention.FOLLOWING, validator=enum_of(BusinessDayConvention)
    )
    _engine: _Engine = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        weekdays = [p for p in map(parse_weekday, self.weekdays) if p is not None]
        self._check_rule(weekdays)
        expander = Expander(
            frequency=self.frequency,
            start=self.start,
            interval=self.interval,
            week_start=WEEKDAY_NAMES.index(self.week_start),
            months=self.months,
            month_days=self.month_days,
            weekdays=weekdays,
            set_positions=self.set_positions,
            count=self.count,
            month_end=self.month_end,
        )
        object.__setattr__(self, "_engine", _Engine(self, expander))

    def __reduce__(self) -> tuple[Any, ...]:
        # The engine holds closures: pickle the data and build the engine again.
        fields = {a.name: getattr(self, a.name) for a in attrs.fields(Schedule) if a.init}
        return (_rebuild, (fields,))

    def _check_rule(self, weekdays: Sequence[tuple[int, int | None]]) -> None:
        if self.count is not None and self.until is not None:
            raise ValidationError(
                "$.until", self.until, "no until when count is given (RFC 5545: COUNT or UNTIL)"
            )
        if self.month_days and self.frequency is Frequency.WEEKLY:
            raise ValidationError(
                "$.month_days", self.month_days, "no month days in a weekly rule (RFC 5545)"
            )
        for index, (_, n) in enumerate(weekdays):
            if n is None:
                continue
            path = f"$.weekdays[{index}]"
            if self.frequency in (Frequency.DAILY, Frequency.WEEKLY):
                raise ValidationError(
                    path,
                    self.weekdays[index],
                    "a plain weekday such as 'TU': a position ('2TU') needs a monthly or "
                    "yearly rule",
                )
            per_month = self.frequency is Frequency.MONTHLY or bool(self.months)
            if per_month and abs(n) > 5:
                raise ValidationError(
                    path, self.weekdays[index], "a position from -5 to 5 within a month"
                )
        problem = impossibility(
            frequency=self.frequency,
            start=self.start,
            interval=self.interval,
            months=self.months,
            month_days=self.month_days,
            weekdays=weekdays,
            set_positions=self.set_positions,
            month_end=self.month_end,
        )
        if problem is not None:
            raise ValidationError(*problem)

    # --- construction from text and specs --------------------------------------------

    @classmethod
    def from_rrule(
        cls,
        text: str,
        *,
        dtstart: datetime | None = None,
        timezone: str | None = None,
        month_end: MonthEndPolicy | None = None,
        calendar: BusinessCalendar | None = None,
        adjustment: BusinessDayConvention | None = None,
    ) -> Schedule:
        """Parse RFC 5545 text: ``"FREQ=...;..."``, ``"RRULE:FREQ=..."`` or lines of
        ``DTSTART``/``RRULE``/``EXDATE``/``RDATE`` (and the ``X-SFAKIT-`` lines that
        :meth:`to_rrule` writes).

        The start comes from ``DTSTART`` or ``dtstart`` (one of them); the zone from
        ``timezone``, else the ``TZID`` of ``DTSTART``, else ``dtstart``'s ZoneInfo, else
        UTC for a ``...Z`` start. A fixed UTC offset is not a zone (it knows no daylight
        saving) and needs ``timezone``.

        >>> s = Schedule.from_rrule("DTSTART;TZID=Europe/Berlin:20260130T090000\\n"
        ...                         "RRULE:FREQ=WEEKLY;BYDAY=FR;COUNT=4")
        >>> s.timezone, s.weekdays, s.count
        ('Europe/Berlin', ('FR',), 4)
        """
        from sfakit.recurrence.rfc5545 import parse_schedule, rename_paths  # noqa: PLC0415

        fields = parse_schedule(
            text,
            dtstart=dtstart,
            timezone=timezone,
            month_end=month_end,
            calendar=calendar,
            adjustment=adjustment,
        )
        try:
            return cls(**fields)
        except ValidationError as err:
            raise rename_paths(err) from None

    @classmethod
    def from_spec(
        cls,
        spec: RecurrenceSpec,
        *,
        month_end: MonthEndPolicy | None = None,
        calendar: BusinessCalendar | None = None,
        adjustment: BusinessDayConvention | None = None,
    ) -> Schedule:
        """The schedule of a standing order's :class:`~sfakit.model.RecurrenceSpec`.

        The wall-clock time of ``spec.start`` in ``spec.timezone`` (to the second) is
        the time of every occurrence; errors name the spec's fields (``$.rule.BYDAY``).

        >>> from datetime import datetime
        >>> from zoneinfo import ZoneInfo
        >>> from sfakit.model import RecurrenceSpec
        >>> spec = RecurrenceSpec(rule="FREQ=MONTHLY;INTERVAL=2",
        ...                       start=datetime(2026, 1, 31, 8, tzinfo=ZoneInfo("Europe/Berlin")),
        ...                       timezone="Europe/Berlin")
        >>> s = Schedule.from_spec(spec)
        >>> (s.start.isoformat(), s.hour, s.interval, s.month_end.value)
        ('2026-01-31', 8, 2, 'clamp')
        """
        from sfakit.model import RecurrenceSpec  # noqa: PLC0415 - keeps the import light

        if not isinstance(spec, RecurrenceSpec):
            raise ValidationError("$", spec, "a RecurrenceSpec")
        return cls.from_rrule(
            spec.rule,
            dtstart=spec.start,
            timezone=spec.timezone,
            month_end=month_end,
            calendar=calendar,
            adjustment=adjustment,
        )

    def to_rrule(self) -> str:
        """RFC 5545 text: ``DTSTART``, ``RRULE`` and, when present, ``EXDATE``, ``RDATE``.

        Two non-standard lines (``X-`` properties, which other readers ignore) keep
        what RFC 5545 cannot say: ``X-SFAKIT-MONTH-END`` when the policy is not the
        default ``clamp``, ``X-SFAKIT-BUSINESS-DAYS`` when there is a calendar. So
        ``Schedule.from_rrule(s.to_rrule()) == s`` for every schedule.

        >>> from datetime import date
        >>> print(Schedule(frequency=Frequency.YEARLY, start=date(2024, 2, 29), hour=9,
        ...                timezone="UTC", month_end=MonthEndPolicy.SKIP).to_rrule())
        DTSTART:20240229T090000Z
        RRULE:FREQ=YEARLY
        X-SFAKIT-MONTH-END:SKIP
        """
        from sfakit.recurrence.rfc5545 import format_schedule  # noqa: PLC0415 - module cycle

        return format_schedule(self)

    @property
    def rule(self) -> str:
        """The ``RRULE`` value alone (``FREQ=...``), as a RecurrenceSpec holds it."""
        from sfakit.recurrence.rfc5545 import format_rule  # noqa: PLC0415 - module cycle

        return format_rule(self)

    @property
    def zone(self) -> ZoneInfo:
        """The schedule's time zone."""
        return self._engine.zone

    @property
    def dtstart(self) -> datetime:
        """The start date at the schedule's wall-clock time, as an instant in its zone."""
        return self._engine.at(self.start.toordinal())

    # --- queries ----------------------------------------------------------------------

    def between(self, start: datetime, end: datetime) -> tuple[datetime, ...]:
        """Occurrences at or after ``start`` and before ``end``: the half-open ``[start, end)``.

        Bounds are compared as instants and may be in any zone; both must be aware.
        Far from the schedule's start the expansion jumps to the right cycle.
        """
        low = _aware("$.start", start).astimezone(UTC)
        high = _aware("$.end", end).astimezone(UTC)
        if high < low:
            raise ValidationError("$.end", end, f"a moment at or after the start {start}")
        found: list[datetime] = []
        for _, moment in self._engine.instances(self._engine.local_ordinal(low)):
            if moment >= high:
                break
            if moment >= low:
                found.append(moment)
        return tuple(found)

    def next_after(self, moment: datetime) -> datetime | None:
        """The first occurrence strictly after ``moment`` (None when there is none).

        Computed from the cycle holding ``moment``, not by replaying from the start
        (except for ``count`` rules, which must count what came before).
        """
        after = _aware("$.moment", moment).astimezone(UTC)
        for _, found in self._engine.instances(self._engine.local_ordinal(after)):
            if found > after:
                return found
        return None

    def occurrences(self, after: datetime | None = None) -> Iterator[datetime]:
        """Every occurrence in order, from the first, or only those strictly after ``after``.

        Endless for a rule without ``count`` or ``until``: take what you need
        (``itertools.islice``).
        """
        if after is None:
            return (moment for _, moment in self._engine.instances(0, jump=False))
        bound = _aware("$.after", after).astimezone(UTC)
        pairs = self._engine.instances(self._engine.local_ordinal(bound))
        return (moment for _, moment in pairs if moment > bound)

    def local_dates_between(self, start: date, end: date) -> tuple[date, ...]:
        """The local dates of the occurrences from ``start`` up to, not including, ``end``."""
        low = _plain("$.start", start).toordinal()
        high = _plain("$.end", end).toordinal()
        if high < low:
            raise ValidationError("$.end", end, f"a date on or after the start {start}")
        found: list[date] = []
        for _, moment in self._engine.instances(low - self._engine.margin):
            day = moment.toordinal()
            if day >= high:
                break
            if day >= low:
                found.append(moment.date())
        return tuple(found)


def _rebuild(fields: dict[str, Any]) -> Schedule:
    return Schedule(**fields)


class _Engine:
    """What a schedule computes with, built once per schedule (not part of its data)."""

    __slots__ = (
        "adjust",
        "at",
        "exdates",
        "expander",
        "margin",
        "rdates",
        "until",
        "until_ordinal",
        "zone",
    )

    def __init__(self, schedule: Schedule, expander: Expander) -> None:
        self.expander = expander
        self.zone = ZoneInfo(schedule.timezone)
        self.at = wall_clock(self.zone, schedule.hour, schedule.minute, schedule.second)
        self.exdates = frozenset(d.toordinal() for d in schedule.exdates)
        self.rdates = tuple(
            o for o in (d.toordinal() for d in schedule.rdates) if o <= LAST_ORDINAL
        )
        self.until = schedule.until
        self.until_ordinal = (
            None if schedule.until is None else schedule.until.astimezone(self.zone).toordinal()
        )
        calendar, convention = schedule.calendar, schedule.adjustment
        if calendar is None:
            self.adjust = None
            closure = 0
        else:
            self.adjust = lambda o: calendar.adjust_ordinal(o, convention)
            closure = calendar.longest_closure
        # How far a nominal date can be from its local date: business-day moves, plus a
        # day each way for zone offsets and days a zone skips.
        self.margin = closure + 2

    def local_ordinal(self, moment: datetime) -> int:
        """Where to start expanding for occurrences at or after ``moment``."""
        return moment.astimezone(self.zone).toordinal() - self.margin

    def rule_ordinals(self, from_ordinal: int, *, jump: bool) -> Iterator[int]:
        found = self.expander.ordinals(from_ordinal, jump=jump)
        if self.until is None or self.until_ordinal is None:
            return found
        return self._until(found, self.until, self.until_ordinal)

    def _until(self, found: Iterator[int], until: datetime, last: int) -> Iterator[int]:
        for o in found:
            # Only dates next to UNTIL's local date need the exact instant comparison.
            if o >= last + 2 or (o > last - 2 and self.at(o) > until):
                return
            yield o

    def instances(self, from_ordinal: int, *, jump: bool = True) -> Iterator[tuple[int, datetime]]:
        """``(nominal ordinal, occurrence)`` pairs in order, for nominal dates from
        ``from_ordinal`` on (callers subtract :attr:`margin` from a local date)."""
        found = self.rule_ordinals(from_ordinal, jump=jump)
        if self.rdates:
            found = _merge(found, (o for o in self.rdates if o >= from_ordinal))
        exdates, adjust, at = self.exdates, self.adjust, self.at
        last_day = -1
        for nominal in found:
            if nominal in exdates:
                continue
            moment = at(nominal if adjust is None else adjust(nominal))
            day = moment.toordinal()
            if day <= last_day:
                continue  # merged into the occurrence already on that local date
            last_day = day
            yield nominal, moment


def _merge(first: Iterator[int], second: Iterator[int]) -> Iterator[int]:
    """Two increasing streams as one, without repeats."""
    end = LAST_ORDINAL + 1  # past every date: an exhausted stream sorts last
    a = next(first, end)
    b = next(second, end)
    while a < end or b < end:
        if a <= b:
            yield a
            if a == b:
                b = next(second, end)
            a = next(first, end)
        else:
            yield b
            b = next(second, end)


def window(schedule: Schedule, start: datetime, end: datetime) -> Iterator[tuple[date, datetime]]:
    """``(nominal date, occurrence)`` for the occurrences in ``[start, end)`` (for planning).

    ``start`` and ``end`` must be aware (the caller has checked them).
    """
    low = start.astimezone(UTC)
    high = end.astimezone(UTC)
    engine = schedule._engine  # the same package: not part of the schedule's data
    for nominal, moment in engine.instances(engine.local_ordinal(low)):
        if moment >= high:
            return
        if moment >= low:
            yield date.fromordinal(nominal), moment
