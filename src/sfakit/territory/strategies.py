"""Choosing a member of a territory: eligibility filters, then the territory's strategy.

A member is *eligible* when their role receives items, they are on the roster, active
and not out of office (``out_of_office_until`` on or after the day of ``as_of``), have
the required skills, pass the language and product filters, are below their capacity
(``SalesRep.capacity`` open items) and below their ``daily_limit`` today. Nobody is ever
given an item past a limit. Among eligible members the strategy picks one; every tie
goes to the member next in round-robin order after the one who got the territory's last
item, so the result is deterministic and fair. See
:class:`~sfakit.territory.tree.Strategy` for the strategies.

>>> from datetime import datetime, timezone
>>> from sfakit.model import SalesRep
>>> from sfakit.territory import AssignmentState, Member, RoutingSubject, TerritoryNode
>>> t0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
>>> reps = {r.id: r for r in (SalesRep(id="rep_anna", name="Anna", created_at=t0),
...                           SalesRep(id="rep_ben", name="Ben", active=False, created_at=t0))}
>>> node = TerritoryNode(key="munich", members=[Member("rep_ben"), Member("rep_anna")])
>>> choice = choose_member(node, RoutingSubject(id="lead_1"), AssignmentState(), t0, reps=reps)
>>> choice.rep_id, choice.notes[0].reason
('rep_anna', 'inactive')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime

import attrs

from sfakit.errors import ValidationError
from sfakit.model.ids import SalesRepId
from sfakit.model.parties import SalesRep
from sfakit.territory.state import AssignmentState, Ledger, StateChange
from sfakit.territory.subject import RoutingSubject
from sfakit.territory.tree import Member, Strategy, TerritoryNode, as_roster

__all__ = ["Choice", "MemberNote", "choose_member", "is_available", "speaks"]


def is_available(rep: SalesRep, day: date) -> bool:
    """Active and not out of office on ``day`` (``out_of_office_until`` is inclusive).

    >>> from datetime import datetime, timezone
    >>> rep = SalesRep(name="Anna", out_of_office_until=date(2026, 3, 6),
    ...                created_at=datetime(2026, 1, 5, tzinfo=timezone.utc))
    >>> is_available(rep, date(2026, 3, 6)), is_available(rep, date(2026, 3, 7))
    (False, True)
    """
    return rep.active and (rep.out_of_office_until is None or rep.out_of_office_until < day)


def _primary(tag: str) -> str:
    return tag.split("-", 1)[0].casefold()


def speaks(rep: SalesRep, language: str) -> bool:
    """Whether ``rep`` speaks ``language``, comparing primary subtags (``en-GB`` ~ ``en``).

    >>> from datetime import datetime, timezone
    >>> rep = SalesRep(name="Anna", languages=("de", "en-GB"),
    ...                created_at=datetime(2026, 1, 5, tzinfo=timezone.utc))
    >>> speaks(rep, "en"), speaks(rep, "EN-us"), speaks(rep, "fr")
    (True, True, False)
    """
    wanted = _primary(language)
    return any(_primary(spoken) == wanted for spoken in rep.languages)


@attrs.frozen
class MemberNote:
    """How one member fared: eligible or why not, with the numbers the strategy used.

    >>> MemberNote("rep_a", "sales", False, "at capacity (5 of 5 open)", 5, 0).eligible
    False
    """

    rep_id: str
    role: str
    eligible: bool
    reason: str
    open_items: int
    assigned_today: int


@attrs.frozen
class Choice:
    """The member a strategy chose (None: nobody qualified), how, and the notes on every
    member (empty when routing ran without ``explain``). ``state`` is the state after
    giving the item to the chosen rep (unchanged when nobody was chosen).

    >>> from datetime import date
    >>> Choice(None, "no member qualifies", (), AssignmentState()).rep_id is None
    True
    """

    rep_id: SalesRepId | None
    how: str
    notes: tuple[MemberNote, ...]
    state: AssignmentState


def _ineligible(
    member: Member,
    node: TerritoryNode,
    subject: RoutingSubject,
    reps: Mapping[SalesRepId, SalesRep],
    *,
    open_items: int,
    today_items: int,
    day: date,
) -> str | None:
    spec = node.strategy
    if not spec.receives(member.role):
        return f"role {member.role!r} receives no items here"
    rep = reps.get(member.rep_id)
    if rep is None:
        return "not on the roster"
    if not rep.active:
        return "inactive"
    if rep.out_of_office_until is not None and rep.out_of_office_until >= day:
        return f"out of office until {rep.out_of_office_until.isoformat()}"
    if spec.required_skills:
        missing = [s for s in spec.required_skills if s not in rep.skills]
        if missing:
            return "lacks skill " + ", ".join(missing)
    if spec.match_language and subject.language is not None and not speaks(rep, subject.language):
        return f"does not speak {subject.language!r}"
    if (
        spec.match_products
        and subject.product_interest
        and not any(p in rep.skills for p in subject.product_interest)
    ):
        return "knows none of " + ", ".join(subject.product_interest)
    if rep.capacity is not None and open_items >= rep.capacity:
        return f"at capacity ({open_items} of {rep.capacity} open)"
    if member.daily_limit is not None and today_items >= member.daily_limit:
        return f"reached the daily limit ({today_items} of {member.daily_limit} today)"
    name = spec.name
    if name is Strategy.WEIGHTED and member.weight == 0:
        return "weight 0: takes no new items"
    if name is Strategy.CAPACITY_WEIGHTED and rep.capacity is None:
        return "no capacity set (capacity_weighted shares by it)"
    return None


def _share(
    name: Strategy, member: Member, rep: SalesRep, open_items: int, today_items: int
) -> tuple[int, int]:
    """The strategy's load and share: lower load / share is chosen first."""
    if name is Strategy.LEAST_LOADED:
        return open_items, 1
    if name is Strategy.WEIGHTED:
        return open_items, member.weight
    if name is Strategy.CAPACITY_WEIGHTED:
        assert rep.capacity  # eligible: a capacity above its open items
        return open_items, rep.capacity
    assert member.daily_limit  # DAILY_QUOTA, eligible: a limit above today's count
    return today_items, member.daily_limit


_MEASURE = {
    Strategy.LEAST_LOADED: "the fewest open items",
    Strategy.WEIGHTED: "the lowest open items / weight",
    Strategy.CAPACITY_WEIGHTED: "the lowest open items / capacity",
    Strategy.DAILY_QUOTA: "the lowest assigned today / daily limit",
}


def select(
    node: TerritoryNode,
    subject: RoutingSubject,
    reps: Mapping[SalesRepId, SalesRep],
    ledger: Ledger,
    *,
    explain: bool,
) -> tuple[SalesRepId | None, str, tuple[MemberNote, ...]]:
    """The chosen rep, how, and (with ``explain``) a note per member (internal)."""
    members = node.members
    count = len(members)
    name = node.strategy.name
    day = ledger.day
    start = 0
    last = ledger.last_assigned(node.key)
    if last is not None:
        for i, member in enumerate(members):
            if member.rep_id == last:
                start = i + 1
                break
    notes: list[MemberNote] = []
    best: Member | None = None
    best_load, best_share = 0, 1
    eligible = 0
    for step in range(count):
        member = members[(start + step) % count]
        open_items = ledger.open_count(member.rep_id)
        today_items = ledger.today_count(member.rep_id)
        reason = _ineligible(
            member, node, subject, reps, open_items=open_items, today_items=today_items, day=day
        )
        if explain:
            notes.append(
                MemberNote(
                    member.rep_id,
                    member.role,
                    reason is None,
                    reason or "eligible",
                    open_items,
                    today_items,
                )
            )
        if reason is not None:
            continue
        eligible += 1
        if name is Strategy.ROUND_ROBIN:
            if best is None:
                best = member
                if not explain:
                    break
            continue
        load, share = _share(name, member, reps[member.rep_id], open_items, today_items)
        if best is None or load * best_share < best_load * share:  # load/share < best's
            best, best_load, best_share = member, load, share
    order = tuple(sorted(notes, key=lambda n: _position(members, n.rep_id)))
    if best is None:
        return None, f"{name.value}: no member qualifies ({count} members)", order
    of = f"{eligible} of {count} members eligible" if explain else f"{count} members"
    if name is Strategy.ROUND_ROBIN:
        after = f"after {last}" if last is not None and start else "from the first member"
        how = f"round_robin: {best.rep_id} is next {after} ({of})"
    else:
        ratio = str(best_load) if best_share == 1 else f"{best_load}/{best_share}"
        how = f"{name.value}: {best.rep_id} has {_MEASURE[name]} ({ratio}; {of})"
    return best.rep_id, how, order


def _position(members: tuple[Member, ...], rep_id: str) -> int:
    for i, member in enumerate(members):
        if member.rep_id == rep_id:
            return i
    return len(members)


def choose_member(
    node: TerritoryNode,
    subject: RoutingSubject,
    state: AssignmentState,
    as_of: datetime,
    *,
    reps: Mapping[SalesRepId, SalesRep] | Iterable[SalesRep],
) -> Choice:
    """Apply ``node``'s filters and strategy to pick a member for ``subject``.

    Pure: the returned :class:`Choice` carries the next state (the chosen rep's counts
    and the territory's cursor moved on). Fallbacks are routing's business, not this.

    >>> from datetime import datetime, timezone
    >>> from sfakit.model import SalesRep
    >>> from sfakit.territory import StrategySpec
    >>> t0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    >>> reps = [SalesRep(id=f"rep_{n}", name=n, created_at=t0) for n in ("a", "b")]
    >>> node = TerritoryNode(key="t", members=[Member("rep_a"), Member("rep_b")],
    ...                      strategy=StrategySpec(name="least_loaded"))
    >>> state = AssignmentState(open_items={"rep_a": 3, "rep_b": 1})
    >>> choose_member(node, RoutingSubject(id="lead_1"), state, t0, reps=reps).rep_id
    'rep_b'
    """
    if not isinstance(node, TerritoryNode):
        raise ValidationError("$.node", node, "a TerritoryNode")
    if not isinstance(subject, RoutingSubject):
        raise ValidationError("$.subject", subject, "a RoutingSubject")
    day = day_of(as_of)
    ledger = Ledger(state, day)
    rep_id, how, notes = select(node, subject, as_roster(reps), ledger, explain=True)
    if rep_id is not None:
        ledger.record(
            StateChange(
                day=day,
                territory=node.key,
                last_assigned=rep_id,
                open_items=((rep_id, 1),),
                assigned_today=((rep_id, 1),),
            )
        )
    return Choice(rep_id, how, notes, ledger.state())


def day_of(as_of: object) -> date:
    if not isinstance(as_of, datetime) or as_of.utcoffset() is None:
        raise ValidationError("$.as_of", as_of, "a timezone-aware datetime")
    return as_of.date()
