"""Where sfakit reads the time. Nothing else in sfakit asks the system for "now".

Pass a :class:`ManualClock` in tests to make time-dependent behaviour (reminders, decay,
"no order in six months") deterministic:

>>> from datetime import datetime, timedelta, timezone
>>> clock = ManualClock(datetime(2026, 1, 31, 9, tzinfo=timezone.utc))
>>> clock.advance(timedelta(days=1)).isoformat()
'2026-02-01T09:00:00+00:00'
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Protocol, runtime_checkable

from sfakit.errors import ValidationError

__all__ = ["Clock", "ManualClock", "SystemClock", "require_aware"]


def require_aware(value: object, path: str = "$.now") -> datetime:
    """``value`` if it is a timezone-aware datetime, else a ValidationError naming ``path``."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValidationError(
            path, value, "a timezone-aware datetime (a naive datetime is ambiguous)"
        )
    return value


@runtime_checkable
class Clock(Protocol):
    """Anything with a ``now()`` that returns a timezone-aware datetime."""

    def now(self) -> datetime:
        """The current moment, timezone-aware."""
        ...


class SystemClock:
    """The real time, in UTC (or in ``tz`` if given).

    >>> SystemClock().now().tzinfo is not None
    True
    """

    __slots__ = ("_tz",)

    def __init__(self, tz: tzinfo = UTC) -> None:
        self._tz = tz

    def now(self) -> datetime:
        return datetime.now(self._tz)

    def __repr__(self) -> str:
        return f"SystemClock({self._tz!r})"


class ManualClock:
    """A clock that stands still until told to move: ``set`` or ``advance`` it.

    Thread-safe, so concurrent tests can share one. It refuses to go backwards unless
    ``allow_backwards=True`` was given, because code under test may rely on time
    moving forward.
    """

    __slots__ = ("_allow_backwards", "_lock", "_now")

    def __init__(self, start: datetime, *, allow_backwards: bool = False) -> None:
        self._now = require_aware(start, "$.start")
        self._allow_backwards = allow_backwards
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, moment: datetime) -> datetime:
        """Jump to ``moment`` and return it."""
        require_aware(moment, "$.moment")
        with self._lock:
            if moment < self._now and not self._allow_backwards:
                raise ValidationError(
                    "$.moment",
                    moment,
                    f"a moment at or after {self._now.isoformat()} (the clock does not go back "
                    "unless created with allow_backwards=True)",
                )
            self._now = moment
            return moment

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta`` and return the new now."""
        if not isinstance(delta, timedelta):
            raise ValidationError("$.delta", delta, "a timedelta")
        with self._lock:
            if delta < timedelta(0) and not self._allow_backwards:
                raise ValidationError("$.delta", delta, "a timedelta >= 0")
            self._now = self._now + delta
            return self._now

    def __repr__(self) -> str:
        return f"ManualClock({self._now.isoformat()})"
