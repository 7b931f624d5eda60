"""Schedules: RFC 5545 recurrences at a wall-clock time in an IANA zone, and due planning.

A :class:`Schedule` is frozen data (it round-trips through :mod:`sfakit.codec`) built
from fields, from RFC 5545 text (:meth:`Schedule.from_rrule`, :meth:`Schedule.to_rrule`)
or from a standing order's :class:`~sfakit.model.RecurrenceSpec`
(:meth:`Schedule.from_spec`). It answers :meth:`~Schedule.between` (half-open
``[start, end)``), :meth:`~Schedule.next_after` (strictly after) and
:meth:`~Schedule.occurrences` with aware datetimes in its zone:

* month ends follow a :class:`MonthEndPolicy` (``clamp`` by default: 31 Jan → 28 Feb →
  31 Mar, as Stripe bills; ``skip`` as RFC 5545; ``last_day``);
* daylight saving is handled: a wall time in a spring-forward gap moves forward by the
  gap, a repeated one takes the first instant, nothing is emitted twice or dropped;
* a :class:`BusinessCalendar` with a :class:`BusinessDayConvention` (ISDA following,
  preceding, modified following) moves occurrences off closed days;
* queries far from the start jump to the right cycle instead of replaying.

:func:`due_occurrences` plans a scheduler run: every occurrence of its window, created
or skipped with an :class:`OccurrenceReason`, keyed ``"<owner>:<local date>"``, as a
:class:`DuePlan` of :class:`Occurrence` records with an :class:`OccurrenceAction`.
:mod:`~sfakit.recurrence.followups` holds reminders and follow-ups as rules
(:class:`FollowUpRule`). Nothing here has a clock or storage.

>>> from datetime import date, datetime, timezone
>>> s = Schedule.from_rrule("FREQ=MONTHLY;BYDAY=-1FR",
...                         dtstart=datetime(2026, 1, 1, 9, tzinfo=timezone.utc),
...                         timezone="Europe/Berlin")
>>> s.next_after(datetime(2026, 3, 1, tzinfo=timezone.utc)).isoformat()
'2026-03-27T10:00:00+01:00'
>>> Schedule.from_rrule(s.to_rrule()) == s
True
"""

from __future__ import annotations

from sfakit.recurrence.business import BusinessCalendar, BusinessDayConvention
from sfakit.recurrence.followups import (
    FollowUp,
    FollowUpAction,
    FollowUpKind,
    FollowUpRule,
    FollowUpRules,
    after_delivery,
    before_occurrence,
    idle_opportunities,
    no_order_since,
    working_moment,
)
from sfakit.recurrence.parts import Frequency, MonthEndPolicy
from sfakit.recurrence.planning import (
    DuePlan,
    Occurrence,
    OccurrenceAction,
    OccurrenceReason,
    due_occurrences,
)
from sfakit.recurrence.schedule import Schedule

__all__ = [
    "BusinessCalendar",
    "BusinessDayConvention",
    "DuePlan",
    "FollowUp",
    "FollowUpAction",
    "FollowUpKind",
    "FollowUpRule",
    "FollowUpRules",
    "Frequency",
    "MonthEndPolicy",
    "Occurrence",
    "OccurrenceAction",
    "OccurrenceReason",
    "Schedule",
    "after_delivery",
    "before_occurrence",
    "due_occurrences",
    "idle_opportunities",
    "no_order_since",
    "working_moment",
]
