"""The query methods: bounds, zones, validation and the endings of finite schedules."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sfakit.errors import ValidationError
from sfakit.recurrence import Frequency, Schedule

BERLIN = ZoneInfo("Europe/Berlin")
DAILY = Schedule(
    frequency=Frequency.DAILY, start=date(2026, 1, 1), hour=9, timezone="Europe/Berlin"
)


def test_between_returns_aware_datetimes_in_the_schedules_zone() -> None:
    found = DAILY.between(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 3, tzinfo=UTC))
    assert found == (datetime(2026, 1, 1, 9, tzinfo=BERLIN), datetime(2026, 1, 2, 9, tzinfo=BERLIN))
    assert all(moment.tzinfo is BERLIN for moment in found)


def test_between_includes_its_start_and_excludes_its_end() -> None:
    nine = datetime(2026, 1, 2, 9, tzinfo=BERLIN)
    assert DAILY.between(nine, nine + timedelta(days=1)) == (nine,)
    assert DAILY.between(nine - timedelta(days=1, seconds=-1), nine) == ()
    assert DAILY.between(nine, nine) == ()


def test_bounds_in_other_zones_compare_as_instants() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    # 09:00 Berlin is 17:00 Tokyo in winter.
    assert DAILY.between(
        datetime(2026, 1, 2, 17, tzinfo=tokyo), datetime(2026, 1, 2, 18, tzinfo=tokyo)
    ) == (datetime(2026, 1, 2, 9, tzinfo=BERLIN),)


def test_bounds_on_a_repeated_hour_compare_as_instants() -> None:
    # Python compares same-zone datetimes by wall time; the schedule compares instants.
    fold = Schedule(
        frequency=Frequency.DAILY,
        start=date(2026, 10, 24),
        hour=2,
        minute=30,
        timezone="Europe/Berlin",
    )
    second_half_hour = datetime(2026, 10, 25, 2, 0, tzinfo=BERLIN, fold=1)  # 01:00 UTC
    first = datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN)  # 00:30 UTC, before the bound
    assert first.astimezone(UTC) < second_half_hour.astimezone(UTC)
    assert fold.next_after(second_half_hour) == datetime(2026, 10, 26, 2, 30, tzinfo=BERLIN)
    assert fold.between(second_half_hour, second_half_hour + timedelta(hours=2)) == ()


def test_next_after_is_strict() -> None:
    nine = datetime(2026, 1, 2, 9, tzinfo=BERLIN)
    assert DAILY.next_after(nine) == nine + timedelta(days=1)
    assert DAILY.next_after(nine - timedelta(seconds=1)) == nine


def test_a_finished_schedule_has_no_next() -> None:
    counted = Schedule(frequency=Frequency.WEEKLY, start=date(2026, 1, 5), count=3, timezone="UTC")
    assert len(list(counted.occurrences())) == 3
    assert counted.next_after(datetime(2026, 1, 19, tzinfo=UTC)) is None
    assert counted.next_after(datetime(2090, 1, 1, tzinfo=UTC)) is None
    until = Schedule(
        frequency=Frequency.DAILY,
        start=date(2026, 1, 1),
        until=datetime(2026, 1, 3, 12, tzinfo=UTC),
        timezone="UTC",
    )
    assert [o.day for o in until.occurrences()] == [1, 2, 3]


def test_occurrences_after_a_moment_start_there() -> None:
    after = datetime(2040, 6, 1, 12, tzinfo=UTC)
    first = next(DAILY.occurrences(after))
    assert first == datetime(2040, 6, 2, 9, tzinfo=BERLIN)


def test_local_dates_between_is_half_open() -> None:
    assert DAILY.local_dates_between(date(2026, 1, 30), date(2026, 2, 2)) == (
        date(2026, 1, 30),
        date(2026, 1, 31),
        date(2026, 2, 1),
    )
    assert DAILY.local_dates_between(date(2025, 12, 1), date(2026, 1, 2)) == (date(2026, 1, 1),)


def test_dtstart_and_zone() -> None:
    assert DAILY.dtstart == datetime(2026, 1, 1, 9, tzinfo=BERLIN)
    assert DAILY.zone is BERLIN


@pytest.mark.parametrize(
    ("call", "path"),
    [
        (lambda: DAILY.between(datetime(2026, 1, 1), datetime(2026, 2, 1, tzinfo=UTC)), "$.start"),
        (lambda: DAILY.between(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1)), "$.end"),
        (
            lambda: DAILY.between(
                datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)
            ),
            "$.end",
        ),
        (lambda: DAILY.between("2026-01-01", datetime(2026, 1, 1, tzinfo=UTC)), "$.start"),
        (lambda: DAILY.next_after(datetime(2026, 1, 1)), "$.moment"),
        (lambda: DAILY.occurrences(datetime(2026, 1, 1)), "$.after"),
        (lambda: DAILY.local_dates_between(date(2026, 2, 1), date(2026, 1, 1)), "$.end"),
        (lambda: DAILY.local_dates_between(datetime(2026, 1, 1), date(2026, 2, 1)), "$.start"),
    ],
)
def test_bad_query_arguments_are_named(call: object, path: str) -> None:
    with pytest.raises(ValidationError) as err:
        call()  # type: ignore[operator]
    assert err.value.path == path


def test_the_last_years_end_the_schedule() -> None:
    late = Schedule(frequency=Frequency.YEARLY, start=date(9990, 1, 1), timezone="UTC")
    years = [o.year for o in itertools.islice(late.occurrences(), 20)]
    assert years == list(range(9990, 9999))
