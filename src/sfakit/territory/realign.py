"""Realignment as a dry run: who moves from whom to whom, and which rule caused it.

:func:`plan_realignment` routes every subject under the new tree (with sticky
ownership: an owner who is still an active member of the new territory keeps the
record) and compares with the old tree and the current owners. :func:`deactivate_rep`
re-routes the open items of a rep who leaves. Both return a :class:`RealignmentPlan`
and change nothing: the service applies the moves, in batches (:func:`batches`), and
saves ``plan.state``. Pinned records never move; those that would have are listed in
``plan.pinned`` for a person to look at.

>>> from datetime import datetime, timezone
>>> from sfakit.model import SalesRep
>>> from sfakit.rules import field
>>> from sfakit.territory import (AssignmentState, Member, RoutingSubject, TerritoryNode,
...                               TerritoryTree)
>>> t0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
>>> reps = [SalesRep(id=f"rep_{n}", name=n, created_at=t0) for n in ("anna", "ben")]
>>> old = TerritoryTree(nodes=[TerritoryNode(key="de", rules=field("country").eq("DE"),
...                                          members=[Member("rep_anna")])])
>>> new = old.replace_node("de", members=[Member("rep_ben")])
>>> lead = RoutingSubject(id="lead_1", country="DE", owner_id="rep_anna")
>>> plan = plan_realignment(old, new, [lead], AssignmentState(), t0, reps=reps)
>>> move = plan.moves[0]
>>> move.from_owner, move.to_owner, move.cause
('rep_anna', 'rep_ben', <MoveCause.OWNER_NOT_MEMBER: 'owner_not_member'>)
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import datetime

import attrs

from sfakit.errors import NotFoundError, ValidationError
from sfakit.model.ids import SalesRepId
from sfakit.model.parties import SalesRep
from sfakit.rules import Criteria
from sfakit.territory._text import describe
from sfakit.territory.index import RoutingIndex
from sfakit.territory.routing import Outcome, Router, RoutingResult
from sfakit.territory.state import AssignmentState, Ledger
from sfakit.territory.strategies import day_of
from sfakit.territory.subject import RoutingSubject
from sfakit.territory.tree import TerritoryTree, as_roster

__all__ = ["Move", "MoveCause", "RealignmentPlan", "batches", "deactivate_rep", "plan_realignment"]


class MoveCause(enum.StrEnum):
    """Why a record moves.

    >>> MoveCause("territory_changed") is MoveCause.TERRITORY_CHANGED
    True
    """

    #: It now matches another territory (a rule changed, or the tree did).
    TERRITORY_CHANGED = "territory_changed"
    #: No territory matches it any more: the default queue.
    NO_TERRITORY = "no_territory"
    #: Territories now tie for it: the review queue.
    TIE = "tie"
    #: Its owner is no longer a member of its territory.
    OWNER_NOT_MEMBER = "owner_not_member"
    #: Its owner is inactive, left the roster, or is being deactivated.
    OWNER_UNAVAILABLE = "owner_unavailable"
    #: It had no owner and now gets one.
    UNOWNED = "unowned"


@attrs.frozen
class Move:
    """One record's move: from owner/territory to owner or queue/territory, the cause,
    the rule behind it (the new territory's, or for ``no_territory`` the old one's) and
    a sentence that says it all.

    >>> m = Move("lead_1", "rep_a", "rep_b", None, "de", "de", MoveCause.OWNER_NOT_MEMBER,
    ...          None, "rep_a is no longer a member of de")
    >>> m.changes_owner
    True
    """

    subject_id: str
    from_owner: SalesRepId | None
    to_owner: SalesRepId | None
    to_queue: str | None
    from_territory: str | None
    to_territory: str | None
    cause: MoveCause
    rule: Criteria | None
    detail: str

    @property
    def changes_owner(self) -> bool:
        """False for a record that changes territory but keeps its owner.

        >>> Move("lead_1", "rep_a", "rep_a", None, "a", "b", MoveCause.TERRITORY_CHANGED,
        ...      None, "").changes_owner
        False
        """
        return self.from_owner != self.to_owner


def batches(
    moves: Iterable[Move], size: int, *, by_destination: bool = False
) -> tuple[tuple[Move, ...], ...]:
    """Split moves into batches of at most ``size`` for applying one transaction each.

    With ``by_destination`` the moves are grouped by new owner (or queue) first and no
    batch mixes two destinations, so each owner can be told once per batch.

    >>> ms = [Move(f"lead_{i}", None, to, None, None, "t", MoveCause.UNOWNED, None, "")
    ...       for i, to in enumerate(["rep_a", "rep_b", "rep_a"])]
    >>> [[m.subject_id for m in b] for b in batches(ms, 2, by_destination=True)]
    [['lead_0', 'lead_2'], ['lead_1']]
    """
    if type(size) is not int or size < 1:
        raise ValidationError("$.size", size, "a whole number >= 1")
    items = list(moves)
    if not by_destination:
        return tuple(tuple(items[i : i + size]) for i in range(0, len(items), size))
    groups: dict[str, list[Move]] = {}
    for move in items:
        groups.setdefault(move.to_owner or f"queue:{move.to_queue}", []).append(move)
    out: list[tuple[Move, ...]] = []
    for group in groups.values():
        out.extend(tuple(group[i : i + size]) for i in range(0, len(group), size))
    return tuple(out)


@attrs.frozen
class RealignmentPlan:
    """The moves (in subject order), the pinned records that would have moved, how many
    records stay as they are, and the assignment state after the moves.

    >>> plan = RealignmentPlan((), (), 3, AssignmentState())
    >>> plan.unchanged, plan.summary()
    (3, {})
    """

    moves: tuple[Move, ...]
    pinned: tuple[str, ...]
    unchanged: int
    state: AssignmentState

    def batches(self, size: int, *, by_destination: bool = False) -> tuple[tuple[Move, ...], ...]:
        """:func:`batches` of this plan's moves.

        >>> RealignmentPlan((), (), 0, AssignmentState()).batches(100)
        ()
        """
        return batches(self.moves, size, by_destination=by_destination)

    def summary(self) -> dict[tuple[str | None, str | None], int]:
        """How many records go from each owner (None: unowned) to each owner or queue.

        >>> m = Move("lead_1", "rep_a", None, "inbox", "a", None, MoveCause.NO_TERRITORY,
        ...          None, "")
        >>> RealignmentPlan((m,), (), 0, AssignmentState()).summary()
        {('rep_a', 'queue:inbox'): 1}
        """
        counts: dict[tuple[str | None, str | None], int] = {}
        for move in self.moves:
            to = move.to_owner if move.to_owner is not None else f"queue:{move.to_queue}"
            key = (move.from_owner, to)
            counts[key] = counts.get(key, 0) + 1
        return counts


def _subjects(subjects: Iterable[RoutingSubject]) -> list[RoutingSubject]:
    items = list(subjects)
    for i, subject in enumerate(items):
        if not isinstance(subject, RoutingSubject):
            raise ValidationError(f"$.subjects[{i}]", subject, "a RoutingSubject")
    return items


def _rule(router: Router, key: str | None) -> Criteria | None:
    if key is None:
        return None
    index = router.table.index_of.get(key)
    return None if index is None else router.tree.nodes[index].rules


def _move(
    subject: RoutingSubject,
    before: str | None,
    result: RoutingResult,
    *,
    old: Router,
    new: Router,
    reps: Mapping[SalesRepId, SalesRep],
) -> Move:
    owner = subject.owner_id
    after = result.territory
    target = result.owner or f"queue {result.queue}"
    rep = reps.get(owner) if owner is not None else None
    rule = _rule(new, after)
    if result.outcome is Outcome.TIE:
        cause = MoveCause.TIE
        detail = f"territories now tie ({', '.join(result.trace.tied)}): {target}"
    elif result.outcome is Outcome.NO_TERRITORY:
        cause = MoveCause.NO_TERRITORY
        rule = _rule(new, before) or _rule(old, before)
        detail = f"no territory matches any more (was {before}: {describe(rule)}): {target}"
    elif before != after:
        cause = MoveCause.TERRITORY_CHANGED
        detail = f"now matches {after} ({describe(rule)}), was {before}: {target}"
    elif owner is not None and (rep is None or not rep.active):
        cause = MoveCause.OWNER_UNAVAILABLE
        detail = f"{owner} is {'not on the roster' if rep is None else 'inactive'}: {target}"
    elif owner is None:
        cause = MoveCause.UNOWNED
        detail = f"unowned in {after}: {target}"
    else:
        cause = MoveCause.OWNER_NOT_MEMBER
        detail = f"{owner} is no longer a member of {after}: {target}"
    return Move(subject.id, owner, result.owner, result.queue, before, after, cause, rule, detail)


def plan_realignment(
    old_tree: TerritoryTree | RoutingIndex,
    new_tree: TerritoryTree | RoutingIndex,
    subjects: Iterable[RoutingSubject],
    state: AssignmentState,
    as_of: datetime,
    *,
    reps: Mapping[SalesRepId, SalesRep] | Iterable[SalesRep],
    sticky: bool = True,
) -> RealignmentPlan:
    """Plan the moves that switching from ``old_tree`` to ``new_tree`` implies.

    A record is unchanged when it keeps its owner and territory. New owners are chosen
    by the new territories' strategies, in subject order, against ``state``.

    >>> from datetime import datetime, timezone
    >>> from sfakit.rules import field
    >>> from sfakit.territory import TerritoryNode, TerritoryTree
    >>> t0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    >>> old = TerritoryTree(nodes=[TerritoryNode(key="de", rules=field("country").eq("DE"))])
    >>> new = TerritoryTree(nodes=[TerritoryNode(key="de", rules=field("country").eq("AT"))])
    >>> lead = RoutingSubject(id="lead_1", country="DE")
    >>> plan = plan_realignment(old, new, [lead], AssignmentState(), t0, reps={})
    >>> plan.moves[0].detail
    "no territory matches any more (was de: country eq 'AT'): queue unassigned"
    """
    reps_ = as_roster(reps)
    old = Router(old_tree, reps_, sticky=True, explain=False)
    new = Router(new_tree, reps_, sticky=sticky, explain=False)
    ledger = Ledger(state, day_of(as_of))
    moves: list[Move] = []
    pinned: list[str] = []
    unchanged = 0
    for subject in _subjects(subjects):
        before = old.territory_of(subject)
        if subject.pinned:
            after = new.territory_of(subject)
            owner = subject.owner_id
            index = new.table.index_of.get(after) if after is not None else None
            stays = (
                after == before
                and index is not None
                and owner is not None
                and owner in new.table.member_ids[index]
            )
            if stays or (after == before and owner is None):
                unchanged += 1
            else:
                pinned.append(subject.id)
            continue
        result = new.route(subject, ledger)
        if result.owner == subject.owner_id and result.territory == before:
            unchanged += 1
            continue
        moves.append(_move(subject, before, result, old=old, new=new, reps=reps_))
    return RealignmentPlan(tuple(moves), tuple(pinned), unchanged, ledger.state())


def deactivate_rep(
    rep_id: str,
    subjects: Iterable[RoutingSubject],
    tree: TerritoryTree | RoutingIndex,
    state: AssignmentState,
    as_of: datetime,
    *,
    reps: Mapping[SalesRepId, SalesRep] | Iterable[SalesRep],
) -> RealignmentPlan:
    """Plan re-routing the open items of ``rep_id`` as if they were inactive.

    Only subjects owned by the rep are considered (others count as unchanged); pinned
    ones stay and are listed in ``pinned``. Their open items move to new owners, so the
    state's count for the rep goes down as theirs go up.

    >>> from datetime import datetime, timezone
    >>> from sfakit.model import SalesRep
    >>> from sfakit.territory import Member, TerritoryNode, TerritoryTree
    >>> t0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    >>> reps = [SalesRep(id=f"rep_{n}", name=n, created_at=t0) for n in ("anna", "ben")]
    >>> tree = TerritoryTree(nodes=[TerritoryNode(
    ...     key="world", members=[Member("rep_anna"), Member("rep_ben")])])
    >>> items = [RoutingSubject(id="lead_1", owner_id="rep_anna"),
    ...          RoutingSubject(id="lead_2", owner_id="rep_anna", pinned=True)]
    >>> state = AssignmentState(open_items={"rep_anna": 2})
    >>> plan = deactivate_rep("rep_anna", items, tree, state, t0, reps=reps)
    >>> [(m.to_owner, m.cause.value) for m in plan.moves], plan.pinned
    ([('rep_ben', 'owner_unavailable')], ('lead_2',))
    >>> plan.state.open_items
    {'rep_anna': 1, 'rep_ben': 1}
    """
    by_id = dict(as_roster(reps))
    rep = by_id.get(SalesRepId(rep_id))
    if rep is None:
        raise NotFoundError("SalesRep", rep_id)
    by_id[rep.id] = attrs.evolve(rep, active=False)
    router = Router(tree, by_id, sticky=True, explain=False)
    ledger = Ledger(state, day_of(as_of))
    moves: list[Move] = []
    pinned: list[str] = []
    unchanged = 0
    for subject in _subjects(subjects):
        if subject.owner_id != rep_id:
            unchanged += 1
            continue
        if subject.pinned:
            pinned.append(subject.id)
            continue
        before = router.territory_of(subject)
        result = router.route(subject, ledger)
        target = result.owner or f"queue {result.queue}"
        moves.append(
            Move(
                subject.id,
                subject.owner_id,
                result.owner,
                result.queue,
                before,
                result.territory,
                MoveCause.OWNER_UNAVAILABLE,
                _rule(router, result.territory),
                f"{rep_id} is deactivated; {result.trace.steps[-1]}: {target}",
            )
        )
    return RealignmentPlan(tuple(moves), tuple(pinned), unchanged, ledger.state())
