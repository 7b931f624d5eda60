"""Clocks: the manual clock for tests, the system clock, and the Clock protocol."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sfakit.clock import Clock, ManualClock, SystemClock, require_aware
from sfakit.errors import ValidationError
from sfakit.testing.strategies import aware_datetimes

START = datetime(2026, 1, 31, 9, tzinfo=UTC)


def test_manual_clock_stands_still() -> None:
    clock = ManualClock(START)
    assert clock.now() == START
    assert clock.now() == START


@given(aware_datetimes(), st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3650)))
def test_advance_moves_forward_by_the_delta(start: datetime, delta: timedelta) -> None:
    clock = ManualClock(start)
    assert clock.advance(delta) == start + delta
    assert clock.now() == start + delta


@given(aware_datetimes(), aware_datetimes())
def test_set_jumps_to_a_later_moment(start: datetime, moment: datetime) -> None:
    clock = ManualClock(min(start, moment))
    target = max(start, moment)
    assert clock.set(target) == target
    assert clock.now() == target


def test_set_refuses_to_go_back() -> None:
    clock = ManualClock(START)
    with pytest.raises(ValidationError) as info:
        clock.set(START - timedelta(seconds=1))
    assert info.value.path == "$.moment"
    assert clock.now() == START


def test_advance_refuses_a_negative_delta() -> None:
    clock = ManualClock(START)
    with pytest.raises(ValidationError) as info:
        clock.advance(timedelta(seconds=-1))
    assert info.value.path == "$.delta"
    assert clock.now() == START


def test_going_back_is_allowed_when_asked_for() -> None:
    clock = ManualClock(START, allow_backwards=True)
    assert clock.set(START - timedelta(days=1)) == START - timedelta(days=1)
    assert clock.advance(timedelta(hours=-1)) == START - timedelta(days=1, hours=1)


@pytest.mark.parametrize(
    "use",
    [
        ManualClock,
        lambda naive: ManualClock(START).set(naive),
        lambda naive: ManualClock(START, allow_backwards=True).set(naive),
    ],
    ids=["start", "set", "set-backwards-allowed"],
)
def test_manual_clock_refuses_naive_datetimes(use: object) -> None:
    with pytest.raises(ValidationError) as info:
        use(datetime(2026, 1, 31, 9))  # type: ignore[operator]
    assert "timezone-aware" in info.value.expected


@pytest.mark.parametrize("delta", [5, 1.5, "1h", None])
def test_advance_refuses_what_is_not_a_timedelta(delta: object) -> None:
    with pytest.raises(ValidationError) as info:
        ManualClock(START).advance(delta)  # type: ignore[arg-type]
    assert info.value.path == "$.delta"


def test_setting_the_same_moment_in_another_zone_is_not_going_back() -> None:
    clock = ManualClock(START)
    same = START.astimezone(timezone(timedelta(hours=-5)))
    assert clock.set(same) == START


def test_manual_clock_is_safe_to_advance_from_many_threads() -> None:
    clock = ManualClock(START)

    def tick() -> None:
        for _ in range(1000):
            clock.advance(timedelta(seconds=1))

    threads = [threading.Thread(target=tick) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert clock.now() == START + timedelta(seconds=8000)


def test_system_clock_returns_an_aware_now() -> None:
    before = datetime.now(UTC)
    now = SystemClock().now()
    after = datetime.now(UTC)
    assert now.utcoffset() is not None
    assert before <= now <= after


def test_system_clock_uses_the_zone_given() -> None:
    zone = timezone(timedelta(hours=9))
    now = SystemClock(zone).now()
    assert now.tzinfo is zone


def test_both_clocks_are_clocks() -> None:
    assert isinstance(ManualClock(START), Clock)
    assert isinstance(SystemClock(), Clock)
    assert not isinstance(object(), Clock)


def test_require_aware_names_the_path() -> None:
    assert require_aware(START) is START
    with pytest.raises(ValidationError) as info:
        require_aware(datetime(2026, 1, 1), "$.as_of")
    assert info.value.path == "$.as_of"
    with pytest.raises(ValidationError):
        require_aware("2026-01-01T00:00:00+00:00")
