"""Occurrence planning: which occurrences a scheduler run creates, and why it skips others.

A scheduler run covers the window ``[since, until)``: ``since`` is the watermark the
previous run left (everything before it was handled), ``until`` is where this run
stops (usually ``now``; later to create occurrences ahead of time). Every occurrence of
the window comes back exactly once as an :class:`Occurrence`, created or skipped with a
reason; nothing is silently lost, and a re-run over the same window plans the same
records with the same keys (``"<owner key>:<local date>"``), so storing them is
idempotent.

An occurrence is *missed* when it was due more than ``grace`` before ``now``: the
scheduler did not run while it was due (a misfire, in Quartz's terms). Occurrences
within ``grace`` of ``now``, or later, are on time and always created. Missed ones
follow the :class:`~sfakit.model.CatchUpPolicy`:

* ``all``: every missed occurrence is created (``caught_up``);
* ``latest``: missed occurrences collapse into the latest of them, which is created;
  the older ones are skipped (``catch_up_latest``), as Quartz's "fire once now";
* ``none``: missed occurrences are skipped (``catch_up_none``); the schedule goes on
  with the next on-time one.

Before the policy, three requests skip an occurrence whatever its timing, checked in
this order: a local date after ``ends_on`` (``after_end_date``; the plan then says the
schedule is ``finished`` once nothing remains on or before it), a local date inside a
``paused`` interval (``paused``; intervals are inclusive, an open end is None), a local
date in ``skipped`` (``skipped_by_request``). Under ``latest`` the occurrence created
is the latest missed one that no request skipped.

>>> from datetime import date, datetime, timezone
>>> from sfakit.model import CatchUpPolicy
>>> from sfakit.recurrence import Frequency, Schedule
>>> weekly = Schedule(frequency=Frequency.WEEKLY, start=date(2026, 3, 2), hour=8,
...                   timezone="UTC")
>>> plan = due_occurrences(weekly, owner_key="so_1", catch_up=CatchUpPolicy.LATEST,
...                        since=datetime(2026, 3, 1, tzinfo=timezone.utc),
...                        until=datetime(2026, 3, 23, 9, tzinfo=timezone.utc))
>>> for o in plan.occurrences:
...     print(o.key, o.action.value, o.reason.value)
so_1:2026-03-02 skip catch_up_latest
so_1:2026-03-09 skip catch_up_latest
so_1:2026-03-16 create caught_up
so_1:2026-03-23 create on_time
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, Final

import attrs

from sfakit.errors import ScheduleError, ValidationError
from sfakit.model import CatchUpPolicy
from sfakit.model.checks import aware_datetime, enum_of, optional, plain_date, text
from sfakit.recurrence.schedule import Schedule, window

__all__ = [
    "DuePlan",
    "Occurrence",
    "OccurrenceAction",
    "OccurrenceReason",
    "due_occurrences",
]

#: The most occurrences one plan may hold; plan a longer gap in several windows.
MAX_PLANNED: Final = 10_000
_FAR_FUTURE: Final = datetime(9999, 1, 1, tzinfo=UTC)


class OccurrenceAction(enum.StrEnum):
    """What the scheduler does with an occurrence."""

    CREATE = "create"
    SKIP = "skip"


class OccurrenceReason(enum.StrEnum):
    """Why: ``on_time`` and ``caught_up`` create; the others skip."""

    ON_TIME = "on_time"
    CAUGHT_UP = "caught_up"
    CATCH_UP_LATEST = "catch_up_latest"
    CATCH_UP_NONE = "catch_up_none"
    SKIPPED_BY_REQUEST = "skipped_by_request"
    PAUSED = "paused"
    AFTER_END_DATE = "after_end_date"


def _fixed_offset(value: Any) -> Any:
    # Stored with the offset in force (not the zone), so the record round-trips exactly
    # through ISO text even for a wall time that exists twice.
    if isinstance(value, datetime) and not isinstance(value.tzinfo, timezone):
        offset = value.utcoffset()
        if offset is not None:
            return value.astimezone(timezone(offset))
    return value


@attrs.frozen(kw_only=True)
class Occurrence:
    """One occurrence of a schedule, planned: create it, or skip it for ``reason``.

    ``local_date`` is the occurrence's date in the schedule's zone (after any
    business-day move), ``nominal_date`` the rule's date before that move;
    ``scheduled_at`` carries the UTC offset in force. ``key`` is
    ``"<owner key>:<local date>"``: deterministic, unique per owner (a schedule never
    yields a local date twice). ``missed`` says whether it was due more than the grace
    period before the run.
    """

    key: str = attrs.field(validator=text(max_length=300))
    local_date: date = attrs.field(validator=plain_date)
    nominal_date: date = attrs.field(validator=plain_date)
    scheduled_at: datetime = attrs.field(converter=_fixed_offset, validator=aware_datetime)
    action: OccurrenceAction = attrs.field(validator=enum_of(OccurrenceAction))
    reason: OccurrenceReason = attrs.field(validator=enum_of(OccurrenceReason))
    missed: bool = attrs.field(default=False)


@attrs.frozen(kw_only=True)
class DuePlan:
    """What one scheduler run does for one owner, with the inputs that decided it.

    ``occurrences`` covers the window ``[since, until)`` in order; ``missed_before``
    is ``now - grace``; ``next_at`` is the first occurrence at or after ``until`` (None
    when none is left on or before ``ends_on``), and ``finished`` says that none is left.
    Store ``until`` as the next run's ``since``.
    """

    owner_key: str = attrs.field(validator=text(max_length=256))
    since: datetime = attrs.field(converter=_fixed_offset, validator=aware_datetime)
    until: datetime = attrs.field(converter=_fixed_offset, validator=aware_datetime)
    missed_before: datetime = attrs.field(converter=_fixed_offset, validator=aware_datetime)
    catch_up: CatchUpPolicy = attrs.field(validator=enum_of(CatchUpPolicy))
    ends_on: date | None = attrs.field(default=None, validator=optional(plain_date))
    occurrences: tuple[Occurrence, ...] = ()
    next_at: datetime | None = attrs.field(
        default=None, converter=_fixed_offset, validator=optional(aware_datetime)
    )
    finished: bool = False

    @property
    def to_create(self) -> tuple[Occurrence, ...]:
        """The occurrences to create, in order."""
        return tuple(o for o in self.occurrences if o.action is OccurrenceAction.CREATE)

    @property
    def to_skip(self) -> tuple[Occurrence, ...]:
        """The occurrences skipped, in order (each with its reason)."""
        return tuple(o for o in self.occurrences if o.action is OccurrenceAction.SKIP)

    def counts(self) -> dict[str, int]:
        """How many occurrences each reason decided (for logs and traces)."""
        result: dict[str, int] = {}
        for occurrence in self.occurrences:
            result[occurrence.reason.value] = result.get(occurrence.reason.value, 0) + 1
        return result


def _aware(path: str, value: object) -> datetime:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValidationError(path, value, "a timezone-aware datetime (a naive one is ambiguous)")
    return value


def _sequence(path: str, value: object) -> tuple[Any, ...]:
    if not isinstance(value, (list, tuple, set, frozenset)):
        raise ValidationError(path, value, "a list or tuple")
    return tuple(value)


def _pauses(value: object) -> tuple[tuple[date, date | None], ...]:
    pauses: list[tuple[date, date | None]] = []
    for index, item in enumerate(_sequence("$.paused", value)):
        path = f"$.paused[{index}]"
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise ValidationError(path, item, "a (first date, last date or None) pair")
        first, last = item
        for part, day in (("[0]", first), ("[1]", last)):
            if (day is not None or part == "[0]") and (
                not isinstance(day, date) or isinstance(day, datetime)
            ):
                raise ValidationError(path + part, day, "a date (no time of day)")
        if last is not None and last < first:
            raise ValidationError(path, item, "a last date on or after the first")
        pauses.append((first, last))
    return tuple(pauses)


def _dates(path: str, value: object) -> frozenset[date]:
    days: set[date] = set()
    for index, day in enumerate(_sequence(path, value)):
        if not isinstance(day, date) or isinstance(day, datetime):
            raise ValidationError(f"{path}[{index}]", day, "a date (no time of day)")
        days.add(day)
    return frozenset(days)


def _paused(day: date, pauses: tuple[tuple[date, date | None], ...]) -> bool:
    return any(first <= day and (last is None or day <= last) for first, last in pauses)


def due_occurrences(
    schedule: Schedule,
    *,
    owner_key: str,
    since: datetime,
    until: datetime,
    catch_up: CatchUpPolicy,
    now: datetime | None = None,
    grace: timedelta = timedelta(days=1),
    ends_on: date | None = None,
    skipped: Collection[date] = (),
    paused: Collection[tuple[date, date | None]] = (),
    limit: int = MAX_PLANNED,
) -> DuePlan:
    """Plan the occurrences of ``schedule`` in ``[since, until)`` (see the module docs).

    ``now`` defaults to ``until``; ``grace`` (default one day) is how late an
    occurrence may be and still count as on time. More than ``limit`` occurrences in
    the window is a :class:`~sfakit.errors.ScheduleError`: plan a long outage in parts.
    """
    if not isinstance(schedule, Schedule):
        raise ValidationError("$.schedule", schedule, "a Schedule")
    if not isinstance(owner_key, str) or not owner_key.strip() or len(owner_key) > 256:
        raise ValidationError("$.owner_key", owner_key, "a non-blank string of at most 256 chars")
    low = _aware("$.since", since)
    high = _aware("$.until", until)
    if high < low:
        raise ValidationError("$.until", until, f"a moment at or after since ({since})")
    moment = high if now is None else _aware("$.now", now)
    if not isinstance(grace, timedelta) or grace < timedelta(0):
        raise ValidationError("$.grace", grace, "a timedelta of zero or more")
    if not isinstance(catch_up, CatchUpPolicy):
        raise ValidationError("$.catch_up", catch_up, "a CatchUpPolicy: all, latest or none")
    if ends_on is not None and (not isinstance(ends_on, date) or isinstance(ends_on, datetime)):
        raise ValidationError("$.ends_on", ends_on, "a date (no time of day)")
    skip_days = _dates("$.skipped", skipped)
    pauses = _pauses(paused)
    # As an instant: same-zone datetimes compare by wall time, which a fold makes ambiguous.
    missed_before = moment.astimezone(UTC) - grace

    planned: list[Occurrence] = []
    latest_missed: int | None = None
    for nominal, at in window(schedule, low, high):
        if len(planned) >= limit:
            raise ScheduleError(
                f"more than {limit} occurrences of {owner_key!r} between {since.isoformat()} "
                f"and {until.isoformat()}; plan the window in parts"
            )
        local = at.date()
        missed = at < missed_before
        action, reason = OccurrenceAction.SKIP, OccurrenceReason.AFTER_END_DATE
        if ends_on is not None and local > ends_on:
            pass
        elif _paused(local, pauses):
            reason = OccurrenceReason.PAUSED
        elif local in skip_days:
            reason = OccurrenceReason.SKIPPED_BY_REQUEST
        elif not missed:
            action, reason = OccurrenceAction.CREATE, OccurrenceReason.ON_TIME
        elif catch_up is CatchUpPolicy.ALL:
            action, reason = OccurrenceAction.CREATE, OccurrenceReason.CAUGHT_UP
        elif catch_up is CatchUpPolicy.NONE:
            reason = OccurrenceReason.CATCH_UP_NONE
        else:
            reason = OccurrenceReason.CATCH_UP_LATEST
            latest_missed = len(planned)
        planned.append(
            Occurrence(
                key=f"{owner_key}:{local.isoformat()}",
                local_date=local,
                nominal_date=nominal,
                scheduled_at=at,
                action=action,
                reason=reason,
                missed=missed,
            )
        )
    if latest_missed is not None:
        planned[latest_missed] = attrs.evolve(
            planned[latest_missed],
            action=OccurrenceAction.CREATE,
            reason=OccurrenceReason.CAUGHT_UP,
        )
    next_at = _next_at(schedule, high, ends_on)
    return DuePlan(
        owner_key=owner_key,
        since=low,
        until=high,
        missed_before=missed_before,
        catch_up=catch_up,
        ends_on=ends_on,
        occurrences=tuple(planned),
        next_at=next_at,
        finished=next_at is None,
    )


def _next_at(schedule: Schedule, at_or_after: datetime, ends_on: date | None) -> datetime | None:
    for _, found in window(schedule, at_or_after, _FAR_FUTURE):
        if ends_on is not None and found.date() > ends_on:
            return None
        return found
    return None
