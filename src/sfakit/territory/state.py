"""Assignment state as data: round-robin cursors, open items and today's assignments.

Strategies read an :class:`AssignmentState` and routing returns a :class:`StateChange`
(small: one cursor, a few counter deltas) that :meth:`AssignmentState.apply` turns into
the next state. The service persists the state (or applies the deltas to counters it
keeps) in the same transaction as the assignments; nothing here has a clock or storage.

``assigned_today`` counts for ``day`` only: a change for a later day starts from zero.

>>> from datetime import date
>>> state = AssignmentState(open_items={"rep_anna": 3})
>>> change = StateChange(day=date(2026, 3, 2), territory="munich",
...                      last_assigned="rep_anna", open_items=(("rep_anna", 1),),
...                      assigned_today=(("rep_anna", 1),))
>>> after = state.apply(change)
>>> after.open_count("rep_anna"), after.today_count("rep_anna", date(2026, 3, 2))
(4, 1)
>>> after.last_assigned
{'munich': 'rep_anna'}
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import attrs

from sfakit.errors import ValidationError
from sfakit.model.checks import id_of, optional, plain_date
from sfakit.model.ids import SalesRepId, is_id_body

__all__ = ["AssignmentState", "StateChange"]

_rep_id = id_of("SalesRep")


def _optional_rep_id(value: str | None) -> SalesRepId | None:
    return None if value is None else SalesRepId(value)


def _drop_zeros(value: object) -> object:
    if isinstance(value, Mapping):
        return {k: v for k, v in value.items() if not (type(v) is int and v == 0)}
    return value


def _copy(value: object) -> object:
    return dict(value) if isinstance(value, Mapping) else value


def _check_rep(path: str, key: object) -> None:
    if not isinstance(key, str) or not key.startswith("rep_") or not is_id_body(key[4:]):
        raise ValidationError(
            path, key, "a SalesRep id ('rep_' followed by 1-64 of [0-9A-Za-z_.-])"
        )


def _counts(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, dict):
        raise ValidationError(f"$.{attribute.name}", value, "a mapping of rep id to count")
    for key, count in value.items():
        _check_rep(f"$.{attribute.name}[{key}]", key)
        if type(count) is not int or count < 0:
            raise ValidationError(f"$.{attribute.name}[{key}]", count, "a whole number >= 0")


def _cursors(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, dict):
        raise ValidationError(f"$.{attribute.name}", value, "a mapping of territory key to rep id")
    for key, rep in value.items():
        if not isinstance(key, str) or not key:
            raise ValidationError(f"$.{attribute.name}", key, "territory keys")
        _check_rep(f"$.{attribute.name}[{key}]", rep)


@attrs.frozen(kw_only=True)
class StateChange:
    """What one routing decision changes: the territory's round-robin cursor (the rep
    who got the item) and deltas to open-item and today's counts, for ``day``.

    >>> from datetime import date
    >>> StateChange(day=date(2026, 3, 2)).is_empty
    True
    """

    day: date = attrs.field(validator=plain_date)
    territory: str | None = None
    last_assigned: SalesRepId | None = attrs.field(
        default=None, converter=_optional_rep_id, validator=optional(_rep_id)
    )
    open_items: tuple[tuple[str, int], ...] = ()
    assigned_today: tuple[tuple[str, int], ...] = ()

    @property
    def is_empty(self) -> bool:
        """Nothing changes but, perhaps, the day.

        >>> from datetime import date
        >>> StateChange(day=date(2026, 3, 2), open_items=(("rep_a", 1),)).is_empty
        False
        """
        return self.last_assigned is None and not self.open_items and not self.assigned_today


@attrs.frozen(kw_only=True, unsafe_hash=False)
class AssignmentState:
    """Everything assignment strategies remember between calls, as plain data.

    ``last_assigned``: territory key → the rep who got its last item (the round-robin
    cursor). ``open_items``: rep → open leads and opportunities (what capacity limits).
    ``assigned_today``: rep → items assigned on ``day``. Zero counts are dropped, so
    equal states compare equal. Not hashable (it holds dicts).

    >>> from datetime import date
    >>> s = AssignmentState(day=date(2026, 3, 2), open_items={"rep_a": 2, "rep_b": 0})
    >>> s.open_items, s.today_count("rep_a", date(2026, 3, 2))
    ({'rep_a': 2}, 0)
    """

    day: date | None = attrs.field(default=None, validator=optional(plain_date))
    last_assigned: dict[str, str] = attrs.field(factory=dict, converter=_copy, validator=_cursors)
    open_items: dict[str, int] = attrs.field(factory=dict, converter=_drop_zeros, validator=_counts)
    assigned_today: dict[str, int] = attrs.field(
        factory=dict, converter=_drop_zeros, validator=_counts
    )

    def open_count(self, rep_id: str) -> int:
        """Open items held by ``rep_id``.

        >>> AssignmentState(open_items={"rep_a": 2}).open_count("rep_b")
        0
        """
        return self.open_items.get(rep_id, 0)

    def today_count(self, rep_id: str, day: date) -> int:
        """Items ``rep_id`` was given on ``day`` (0 when the state is of another day).

        >>> from datetime import date
        >>> s = AssignmentState(day=date(2026, 3, 1), assigned_today={"rep_a": 4})
        >>> s.today_count("rep_a", date(2026, 3, 1)), s.today_count("rep_a", date(2026, 3, 2))
        (4, 0)
        """
        return self.assigned_today.get(rep_id, 0) if self.day == day else 0

    def apply(self, change: StateChange) -> AssignmentState:
        """The state after ``change`` (counts never go below zero).

        >>> from datetime import date
        >>> s = AssignmentState(day=date(2026, 3, 1), assigned_today={"rep_a": 4})
        >>> s.apply(StateChange(day=date(2026, 3, 2))).assigned_today
        {}
        """
        ledger = Ledger(self, change.day, path="$.day")
        ledger.record(change)
        return ledger.state()


class Ledger:
    """A working copy of a state for a run of decisions (internal): it reads through to
    the state and keeps only what changed, so a batch costs nothing per rep on the roster.
    """

    __slots__ = ("_base_today", "_last", "_open", "_state", "_today", "day")

    def __init__(self, state: AssignmentState, day: date, *, path: str = "$.as_of") -> None:
        if not isinstance(state, AssignmentState):
            raise ValidationError("$.state", state, "an AssignmentState")
        if state.day is not None and day < state.day:
            raise ValidationError(
                path,
                day,
                f"a moment on or after the state's day ({state.day.isoformat()}): the state "
                "already counts assignments of that day",
            )
        self._state = state
        self.day = day
        self._base_today: Mapping[str, int] = state.assigned_today if state.day == day else {}
        self._open: dict[str, int] = {}
        self._today: dict[str, int] = {}
        self._last: dict[str, str] = {}

    def open_count(self, rep_id: str) -> int:
        value = self._open.get(rep_id)
        return self._state.open_items.get(rep_id, 0) if value is None else value

    def today_count(self, rep_id: str) -> int:
        value = self._today.get(rep_id)
        return self._base_today.get(rep_id, 0) if value is None else value

    def last_assigned(self, territory: str) -> str | None:
        value = self._last.get(territory)
        return self._state.last_assigned.get(territory) if value is None else value

    def record(self, change: StateChange) -> None:
        if change.day != self.day:
            raise ValidationError("$.day", change.day, f"a change for {self.day.isoformat()}")
        for rep, delta in change.open_items:
            self._open[rep] = max(0, self.open_count(rep) + delta)
        for rep, delta in change.assigned_today:
            self._today[rep] = max(0, self.today_count(rep) + delta)
        if change.territory is not None and change.last_assigned is not None:
            self._last[change.territory] = change.last_assigned

    def state(self) -> AssignmentState:
        last = {**self._state.last_assigned, **self._last}
        open_items = {**self._state.open_items, **self._open}
        today = {**self._base_today, **self._today}
        return AssignmentState(
            day=self.day, last_assigned=last, open_items=open_items, assigned_today=today
        )
