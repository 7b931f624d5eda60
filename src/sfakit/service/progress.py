"""How far the follow-up rules and the reminders have looked, so that the next run looks
only at what changed since.

A scheduler runs every few seconds or minutes; scanning every account, deal and open
task each time would make each run cost as much as the whole book. Instead each rule
keeps the moment ``until`` its last complete run looked, the ``position`` of the change
feed it had read, and the ids of records it could not act on yet (``pending``: nobody
owned them). The next run reads only records whose deciding moment falls after
``until`` less :data:`GRACE`, the records the change feed names after ``position``
(whatever their timestamps say: an import may write a record dated years ago), and the
pending ones. Nothing is decided from this state alone: every follow-up is
still created under its idempotency key, so looking twice at a record is harmless, and
the state only spares looking at records an earlier run already settled.

The state is written after a run completes: a run that fails leaves it as it was, and
the next run looks again from there. A run merges its state with the stored one (latest
``until``, union of ``pending``); when two runs write at once, the first one's stays.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Final, TypeVar

import attrs

from sfakit.errors import ConflictError, DuplicateError
from sfakit.model import Setting, setting_id
from sfakit.model.checks import aware_datetime, to_tuple
from sfakit.recurrence.followups import FollowUpKind
from sfakit.service.settings import load_setting, store_setting
from sfakit.storage.api import Storage, Transaction
from sfakit.storage.common import CHANGES

__all__ = [
    "FOLLOW_UP_PROGRESS",
    "GRACE",
    "REMINDER_PROGRESS",
    "FollowUpProgress",
    "ReminderProgress",
    "RuleProgress",
    "load_progress",
    "changed_after",
    "read_changes",
    "save_progress",
]

#: The setting that holds each follow-up rule's progress.
FOLLOW_UP_PROGRESS: Final = "follow-up-progress"
#: The setting that holds how far reminders have been sent.
REMINDER_PROGRESS: Final = "reminder-progress"
#: How far before ``until`` a run looks again: more than a day, because rules count days
#: in each owner's time zone (up to 14 hours from UTC), and slack for writers whose
#: clocks lag or whose transactions commit late.
GRACE: Final = timedelta(days=2)
_FEED_PAGE: Final = 5_000

P = TypeVar("P", "FollowUpProgress", "ReminderProgress")


@attrs.frozen(kw_only=True)
class RuleProgress:
    """How far one rule has looked: its ``key``, the ``kind`` and ``days`` it had then (a
    changed rule looks at everything again), ``until``, the change-feed ``position`` and
    the ``pending`` record ids."""

    key: str
    kind: FollowUpKind
    days: int
    until: datetime = attrs.field(validator=aware_datetime)
    position: int = 0
    pending: tuple[str, ...] = attrs.field(default=(), converter=to_tuple)


@attrs.frozen(kw_only=True)
class FollowUpProgress:
    """Every rule's :class:`RuleProgress`, by rule key."""

    rules: tuple[RuleProgress, ...] = attrs.field(default=(), converter=to_tuple)

    def of(self, key: str, kind: FollowUpKind, days: int) -> RuleProgress | None:
        """The progress of rule ``key``, if it was recorded for the same kind and days."""
        for entry in self.rules:
            if entry.key == key and entry.kind is kind and entry.days == days:
                return entry
        return None

    def merge(self, other: FollowUpProgress) -> FollowUpProgress:
        """Both runs' progress: the later ``until`` and every pending id of each rule."""
        merged = {entry.key: entry for entry in self.rules}
        for entry in other.rules:
            mine = merged.get(entry.key)
            if mine is None or (mine.kind, mine.days) != (entry.kind, entry.days):
                merged[entry.key] = entry
                continue
            merged[entry.key] = attrs.evolve(
                mine,
                until=max(mine.until, entry.until),
                position=max(mine.position, entry.position),
                pending=tuple(sorted({*mine.pending, *entry.pending})),
            )
        return FollowUpProgress(rules=tuple(merged[key] for key in sorted(merged)))


@attrs.frozen(kw_only=True)
class ReminderProgress:
    """Reminders were sent for every activity due ``until`` then, as changed up to the
    change-feed ``position``."""

    until: datetime = attrs.field(validator=aware_datetime)
    position: int = 0

    def merge(self, other: ReminderProgress) -> ReminderProgress:
        return ReminderProgress(
            until=max(self.until, other.until), position=max(self.position, other.position)
        )


def load_progress(storage: Storage, name: str, kind: type[P]) -> P | None:
    """The stored progress ``name`` (a ``kind``), or None before the first run."""
    with storage.transaction(readonly=True) as tx:
        found = tx.find(Setting, setting_id(name))
    return None if found is None else load_setting(found, kind)[0]


def save_progress(storage: Storage, name: str, progress: P, now: datetime) -> None:
    """Store ``progress``, merged with what is stored. If another run stores its own at
    the same time, that one stays: progress only spares work, and a run that could not
    record its own leaves the next run to look a little further back, never to miss
    anything — so many schedulers at once never queue up behind this write."""
    kind = type(progress)
    merge: Callable[[P, P], P] = kind.merge
    try:
        with storage.transaction() as tx:
            found = tx.find(Setting, setting_id(name))
            if found is None:
                store_setting(tx, name, progress, None, now)
                return
            stored, version = load_setting(found, kind)
            store_setting(tx, name, merge(stored, progress), version, now)
    except (ConflictError, DuplicateError):
        return


def read_changes(tx: Transaction, position: int) -> tuple[list[tuple[int, str, str]], int]:
    """The change feed after ``position`` as (position, kind, id), and the last position."""
    read: list[tuple[int, str, str]] = []
    while True:
        entries = tx.read(CHANGES, after=position, limit=_FEED_PAGE)
        read += [(e.position, str(e.data["kind"]), str(e.data["id"])) for e in entries]
        if entries:
            position = entries[-1].position
        if len(entries) < _FEED_PAGE:
            return read, position


def changed_after(changes: list[tuple[int, str, str]], position: int) -> dict[str, set[str]]:
    """The ids of the records ``changes`` names after ``position``, by kind."""
    changed: dict[str, set[str]] = {}
    for at, kind, record_id in changes:
        if at > position:
            changed.setdefault(kind, set()).add(record_id)
    return changed
