"""Occurrence planning: catch-up policies, requests, end dates, and the coverage law."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfakit.codec import from_data, from_json, to_data, to_json
from sfakit.errors import ScheduleError, ValidationError
from sfakit.model import CatchUpPolicy
from sfakit.recurrence import (
    DuePlan,
    Frequency,
    Occurrence,
    OccurrenceAction,
    OccurrenceReason,
    Schedule,
    due_occurrences,
)

from .strategies import moments, schedules

BERLIN = ZoneInfo("Europe/Berlin")
WEEKLY = Schedule(
    frequency=Frequency.WEEKLY, start=date(2026, 3, 2), hour=8, timezone="Europe/Berlin"
)
SINCE = datetime(2026, 3, 1, tzinfo=UTC)
#: The run after a three-week outage, 30 minutes after the fourth Monday's occurrence.
RUN = datetime(2026, 3, 23, 7, 30, tzinfo=UTC)
CREATE, SKIP = OccurrenceAction.CREATE, OccurrenceAction.SKIP
R = OccurrenceReason


def plan(policy: CatchUpPolicy, **options: object) -> DuePlan:
    return due_occurrences(
        WEEKLY,
        owner_key="so_1",
        since=SINCE,
        until=RUN,
        catch_up=policy,
        **options,  # type: ignore[arg-type]
    )


def decisions(result: DuePlan) -> list[tuple[int, str, str]]:
    return [(o.local_date.day, o.action.value, o.reason.value) for o in result.occurrences]


def test_all_creates_every_missed_occurrence() -> None:
    assert decisions(plan(CatchUpPolicy.ALL)) == [
        (2, "create", "caught_up"),
        (9, "create", "caught_up"),
        (16, "create", "caught_up"),
        (23, "create", "on_time"),
    ]


def test_latest_creates_the_latest_missed_one_and_skips_the_older() -> None:
    assert decisions(plan(CatchUpPolicy.LATEST)) == [
        (2, "skip", "catch_up_latest"),
        (9, "skip", "catch_up_latest"),
        (16, "create", "caught_up"),
        (23, "create", "on_time"),
    ]


def test_none_skips_every_missed_occurrence() -> None:
    assert decisions(plan(CatchUpPolicy.NONE)) == [
        (2, "skip", "catch_up_none"),
        (9, "skip", "catch_up_none"),
        (16, "skip", "catch_up_none"),
        (23, "create", "on_time"),
    ]


def test_grace_decides_what_is_missed() -> None:
    assert decisions(plan(CatchUpPolicy.NONE, grace=timedelta(days=8)))[1:] == [
        (9, "skip", "catch_up_none"),
        (16, "create", "on_time"),
        (23, "create", "on_time"),
    ]
    result = plan(CatchUpPolicy.NONE, grace=timedelta(0))
    assert decisions(result)[-1] == (23, "skip", "catch_up_none")
    assert result.missed_before == RUN


def test_planning_ahead_creates_upcoming_occurrences_on_time() -> None:
    result = due_occurrences(
        WEEKLY,
        owner_key="so_1",
        since=RUN,
        until=RUN + timedelta(days=14),
        now=RUN,
        catch_up=CatchUpPolicy.NONE,
    )
    assert decisions(result) == [(30, "create", "on_time"), (6, "create", "on_time")]


def test_requests_come_before_the_policy() -> None:
    result = plan(
        CatchUpPolicy.LATEST,
        skipped=[date(2026, 3, 16)],
        paused=[(date(2026, 3, 1), date(2026, 3, 3))],
    )
    assert decisions(result) == [
        (2, "skip", "paused"),
        (9, "create", "caught_up"),  # the latest missed one nobody asked to skip
        (16, "skip", "skipped_by_request"),
        (23, "create", "on_time"),
    ]


def test_an_open_pause_skips_everything_after_its_start() -> None:
    result = plan(CatchUpPolicy.ALL, paused=[(date(2026, 3, 10), None)])
    assert [o.reason for o in result.occurrences] == [R.CAUGHT_UP, R.CAUGHT_UP, R.PAUSED, R.PAUSED]


def test_occurrences_after_the_end_date_are_skipped_and_the_plan_is_finished() -> None:
    result = plan(CatchUpPolicy.ALL, ends_on=date(2026, 3, 10))
    assert decisions(result)[2:] == [(16, "skip", "after_end_date"), (23, "skip", "after_end_date")]
    assert result.finished
    assert result.next_at is None


def test_the_plan_says_when_to_come_back() -> None:
    result = plan(CatchUpPolicy.ALL)
    assert result.next_at == datetime(2026, 3, 30, 8, tzinfo=BERLIN)
    assert not result.finished
    assert result.until == RUN
    assert result.counts() == {"caught_up": 3, "on_time": 1}
    assert [o.local_date.day for o in result.to_create] == [2, 9, 16, 23]
    assert result.to_skip == ()


def test_keys_are_owner_and_local_date() -> None:
    result = plan(CatchUpPolicy.ALL)
    assert [o.key for o in result.occurrences][:2] == ["so_1:2026-03-02", "so_1:2026-03-09"]
    occurrence = result.occurrences[0]
    assert occurrence.scheduled_at == datetime(2026, 3, 2, 8, tzinfo=BERLIN)
    assert occurrence.scheduled_at.isoformat() == "2026-03-02T08:00:00+01:00"
    assert occurrence.nominal_date == occurrence.local_date
    assert occurrence.missed


def test_a_huge_window_is_refused() -> None:
    daily = Schedule(frequency=Frequency.DAILY, start=date(2000, 1, 1), timezone="UTC")
    with pytest.raises(ScheduleError, match="plan the window in parts"):
        due_occurrences(
            daily,
            owner_key="so_1",
            since=datetime(2000, 1, 1, tzinfo=UTC),
            until=datetime(2001, 1, 1, tzinfo=UTC),
            catch_up=CatchUpPolicy.ALL,
            limit=100,
        )


@pytest.mark.parametrize(
    ("options", "path"),
    [
        ({"since": datetime(2026, 3, 1)}, "$.since"),
        ({"until": datetime(2026, 3, 1)}, "$.until"),
        ({"until": datetime(2026, 2, 1, tzinfo=UTC)}, "$.until"),
        ({"now": datetime(2026, 3, 1)}, "$.now"),
        ({"grace": timedelta(days=-1)}, "$.grace"),
        ({"catch_up": "all"}, "$.catch_up"),
        ({"owner_key": " "}, "$.owner_key"),
        ({"ends_on": datetime(2026, 3, 1, tzinfo=UTC)}, "$.ends_on"),
        ({"skipped": [date(2026, 3, 2), "2026-03-09"]}, "$.skipped[1]"),
        ({"paused": [(date(2026, 3, 9), date(2026, 3, 2))]}, "$.paused[0]"),
        ({"paused": [(date(2026, 3, 2),)]}, "$.paused[0]"),
        ({"paused": [(None, date(2026, 3, 2))]}, "$.paused[0][0]"),
        ({"paused": None}, "$.paused"),
        ({"skipped": date(2026, 3, 2)}, "$.skipped"),
        ({"schedule": "FREQ=DAILY"}, "$.schedule"),
    ],
)
def test_bad_arguments_are_named(options: dict[str, object], path: str) -> None:
    arguments: dict[str, object] = {
        "schedule": WEEKLY,
        "owner_key": "so_1",
        "since": SINCE,
        "until": RUN,
        "catch_up": CatchUpPolicy.ALL,
    }
    arguments.update(options)
    schedule = arguments.pop("schedule")
    with pytest.raises(ValidationError) as err:
        due_occurrences(schedule, **arguments)  # type: ignore[arg-type]
    assert err.value.path == path


def test_plans_round_trip_through_the_codec() -> None:
    result = plan(CatchUpPolicy.LATEST, ends_on=date(2026, 3, 20))
    assert from_data(DuePlan, to_data(result)) == result
    assert from_json(Occurrence, to_json(result.occurrences[0])) == result.occurrences[0]


# --- the laws ---------------------------------------------------------------------------


@st.composite
def windows(draw: st.DrawFn) -> tuple[Schedule, datetime, datetime, datetime]:
    schedule = draw(schedules())
    since = draw(moments(schedule.start, years=3))
    until = since + timedelta(hours=draw(st.integers(0, 200 * 24)))
    now = until - timedelta(hours=draw(st.integers(-48, 24 * 30)))
    return schedule, since, until, now


@settings(max_examples=100)
@given(windows(), st.sampled_from(CatchUpPolicy), st.data())
def test_every_occurrence_of_the_window_is_planned_exactly_once(
    window: tuple[Schedule, datetime, datetime, datetime],
    policy: CatchUpPolicy,
    data: st.DataObject,
) -> None:
    schedule, since, until, now = window
    expected = schedule.between(since, until)
    local_dates = [m.date() for m in expected]
    skipped = data.draw(st.lists(st.sampled_from(local_dates), max_size=2)) if local_dates else []
    ends_on = data.draw(st.none() | st.sampled_from(local_dates)) if local_dates else None
    result = due_occurrences(
        schedule,
        owner_key="so_x",
        since=since,
        until=until,
        now=now,
        catch_up=policy,
        skipped=skipped,
        ends_on=ends_on,
    )
    assert [o.scheduled_at for o in result.occurrences] == list(expected)
    assert [o.local_date for o in result.occurrences] == local_dates
    keys = [o.key for o in result.occurrences]
    assert len(set(keys)) == len(keys)
    for occurrence in result.occurrences:
        assert (occurrence.action is CREATE) == (occurrence.reason in (R.ON_TIME, R.CAUGHT_UP))
        assert occurrence.missed == (occurrence.scheduled_at < now - timedelta(days=1))
        if occurrence.action is CREATE:
            assert occurrence.local_date not in skipped
            assert ends_on is None or occurrence.local_date <= ends_on
    missed_created = [o for o in result.occurrences if o.reason is R.CAUGHT_UP]
    if policy is CatchUpPolicy.NONE:
        assert not missed_created
    if policy is CatchUpPolicy.LATEST:
        assert len(missed_created) <= 1
        assert all(
            o.scheduled_at < missed_created[0].scheduled_at
            for o in result.occurrences
            if o.reason is R.CATCH_UP_LATEST
        )
    if policy is CatchUpPolicy.ALL:
        assert not [
            o for o in result.occurrences if o.reason in (R.CATCH_UP_LATEST, R.CATCH_UP_NONE)
        ]
    # A re-run plans the same records: storing them is idempotent.
    again = due_occurrences(
        schedule, owner_key="so_x", since=since, until=until, now=now, catch_up=policy,
        skipped=skipped, ends_on=ends_on,
    )  # fmt: skip
    assert again == result


@settings(max_examples=60)
@given(windows(), st.integers(1, 5))
def test_consecutive_windows_plan_what_one_window_plans(
    window: tuple[Schedule, datetime, datetime, datetime], parts: int
) -> None:
    schedule, since, until, _ = window
    whole = due_occurrences(
        schedule,
        owner_key="k",
        since=since,
        until=until,
        catch_up=CatchUpPolicy.ALL,
        grace=timedelta(days=10_000),
    )
    step = (until - since) / parts
    pieces: list[Occurrence] = []
    low = since
    for index in range(parts):
        high = until if index == parts - 1 else since + step * (index + 1)
        pieces += due_occurrences(
            schedule,
            owner_key="k",
            since=low,
            until=high,
            catch_up=CatchUpPolicy.ALL,
            grace=timedelta(days=10_000),
        ).occurrences
        low = high
    assert tuple(pieces) == whole.occurrences
