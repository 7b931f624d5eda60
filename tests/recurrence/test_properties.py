"""The laws every schedule obeys, over random schedules (see ``strategies.schedules``)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from hypothesis import given, settings
from hypothesis import strategies as st

from sfakit.recurrence import Frequency, MonthEndPolicy, Schedule

from .strategies import moments, schedules

EXAMPLES = 120


def _until(schedule: Schedule, end: datetime) -> list[datetime]:
    """The naive full enumeration: every occurrence from the first, replayed, before ``end``."""
    found = []
    for moment in schedule.occurrences():
        if moment >= end:
            break
        found.append(moment)
    return found


@settings(max_examples=EXAMPLES)
@given(schedules())
def test_occurrences_strictly_increase_as_instants(schedule: Schedule) -> None:
    instants = [o.astimezone(UTC) for o in itertools.islice(schedule.occurrences(), 150)]
    assert all(a < b for a, b in itertools.pairwise(instants))


@settings(max_examples=EXAMPLES)
@given(schedules())
def test_no_local_date_occurs_twice(schedule: Schedule) -> None:
    days = [o.date() for o in itertools.islice(schedule.occurrences(), 150)]
    assert all(a < b for a, b in itertools.pairwise(days))


@settings(max_examples=EXAMPLES)
@given(schedules())
def test_wall_time_is_kept_unless_it_does_not_exist(schedule: Schedule) -> None:
    zone = ZoneInfo(schedule.timezone)
    wanted = time(schedule.hour, schedule.minute)
    for moment in itertools.islice(schedule.occurrences(), 60):
        assert moment.tzinfo is zone
        assert moment.fold == 0  # of a repeated wall time, the first instant
        if moment.time() == wanted:
            continue
        # Moved forward by the gap: the wall time does not exist on that day.
        wall = datetime.combine(moment.date(), wanted)
        before = wall.replace(tzinfo=zone).utcoffset()
        after = wall.replace(tzinfo=zone, fold=1).utcoffset()
        assert before is not None
        assert after is not None
        assert before < after
        assert moment.replace(tzinfo=None) == wall + (after - before)


@settings(max_examples=EXAMPLES)
@given(st.data())
def test_between_is_the_filtered_full_enumeration(data: st.DataObject) -> None:
    schedule = data.draw(schedules())
    start = data.draw(moments(schedule.start, years=4))
    end = start + timedelta(hours=data.draw(st.integers(0, 400 * 24)))
    expected = [o for o in _until(schedule, end) if o >= start]
    assert list(schedule.between(start, end)) == expected


@settings(max_examples=EXAMPLES)
@given(st.data())
def test_between_is_half_open(data: st.DataObject) -> None:
    schedule = data.draw(schedules())
    first = next(schedule.occurrences(), None)
    if first is None:
        return
    later = first + timedelta(days=3)
    assert schedule.between(first, later)[:1] == (first,)
    assert first not in schedule.between(first - timedelta(days=3), first)


@settings(max_examples=EXAMPLES)
@given(st.data())
def test_next_after_is_the_first_of_between(data: st.DataObject) -> None:
    schedule = data.draw(schedules())
    moment = data.draw(moments(schedule.start, years=10))
    far = moment + timedelta(days=3 * 366)
    following = schedule.between(moment + timedelta(microseconds=1), far)
    found = schedule.next_after(moment)
    if following:
        assert found == following[0]
    else:
        assert found is None or found >= far


@settings(max_examples=EXAMPLES)
@given(st.data())
def test_far_jumps_agree_with_replaying(data: st.DataObject) -> None:
    schedule = data.draw(schedules())
    moment = data.draw(moments(schedule.start, years=40))
    replayed = next((o for o in schedule.occurrences() if o > moment), None)
    assert schedule.next_after(moment) == replayed
    jumped = schedule.occurrences(after=moment)
    assert next(jumped, None) == replayed


@settings(max_examples=EXAMPLES)
@given(st.data())
def test_local_dates_between_are_the_dates_of_the_occurrences(data: st.DataObject) -> None:
    schedule = data.draw(schedules())
    first = data.draw(
        st.dates(schedule.start - timedelta(days=40), schedule.start + timedelta(days=1500))
    )
    last = first + timedelta(days=data.draw(st.integers(0, 400)))
    end = datetime.combine(last, datetime.min.time(), ZoneInfo(schedule.timezone)) + timedelta(
        days=2
    )
    expected = [o.date() for o in _until(schedule, end) if first <= o.date() < last]
    assert list(schedule.local_dates_between(first, last)) == expected


@settings(max_examples=EXAMPLES)
@given(
    schedules(
        frequencies=(Frequency.MONTHLY,),
        policies=(MonthEndPolicy.CLAMP,),
        with_calendar=False,
        with_sets=False,
        zones=("UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"),
    ).filter(lambda s: not (s.weekdays or s.month_days or s.set_positions))
)
def test_clamp_returns_to_the_anchor_day_whenever_the_month_has_it(schedule: Schedule) -> None:
    anchor = schedule.start.day
    for moment in itertools.islice(schedule.occurrences(), 40):
        day = moment.date()  # these zones never skip a whole day
        last = (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        assert day.day == min(anchor, last.day)


@settings(max_examples=EXAMPLES)
@given(
    schedules(
        policies=(MonthEndPolicy.SKIP,),
        with_calendar=False,
        zones=("UTC", "Asia/Tokyo", "Europe/Berlin", "America/New_York"),
    ).filter(
        lambda s: (
            not (
                # python-dateutil intersects plain and numbered weekdays (BYDAY=MO,2TU is empty)
                any(w[0].isalpha() for w in s.weekdays)
                and any(not w[0].isalpha() for w in s.weekdays)
            )
        )
    )
)
def test_dates_agree_with_python_dateutil(schedule: Schedule) -> None:
    wall = datetime.combine(schedule.start, datetime.min.time()).replace(
        hour=schedule.hour, minute=schedule.minute
    )
    reference = rrulestr(schedule.rule.split(";UNTIL=")[0], dtstart=wall, forceset=True)
    for day in schedule.rdates:
        reference.rdate(datetime.combine(day, wall.time()))
    for day in schedule.exdates:
        reference.exdate(datetime.combine(day, wall.time()))
    until = schedule.until
    expected = [
        d.date()
        for d in itertools.islice(reference, 30)
        if d.year < 2400
        and (until is None or d.replace(tzinfo=ZoneInfo(schedule.timezone)) <= until)
    ]
    found = [o.date() for o in itertools.islice(schedule.occurrences(), len(expected))]
    assert found == expected


@settings(max_examples=60)
@given(st.data())
def test_count_rules_replay_to_the_same_answer(data: st.DataObject) -> None:
    schedule = data.draw(schedules(with_limits=False))
    counted = Schedule.from_rrule(schedule.to_rrule().replace("RRULE:", "RRULE:COUNT=25;", 1))
    everything = list(counted.occurrences())
    moment = data.draw(moments(schedule.start, years=6))
    assert counted.next_after(moment) == next((o for o in everything if o > moment), None)
    assert len(everything) <= 25 + len(counted.rdates)


def test_a_start_far_in_the_past_is_answered_without_replaying() -> None:
    # 3 000 years of daily occurrences would take minutes to replay; the jump is one step.
    schedule = Schedule(frequency=Frequency.DAILY, start=date(1, 1, 1), hour=9, timezone="UTC")
    moment = datetime(3000, 6, 1, 12, tzinfo=UTC)
    assert schedule.next_after(moment) == datetime(3000, 6, 2, 9, tzinfo=ZoneInfo("UTC"))
    assert len(schedule.between(moment, moment + timedelta(days=10))) == 10
