"""Routing: which territory a subject belongs to, and who (or which queue) gets it.

:func:`route` decides in this order:

1. **Territory.** Every territory whose rules match, and whose parent matches, is a
   match. The deepest match wins; among equally deep ones the highest ``priority``;
   a remaining tie follows the tree's :class:`~sfakit.territory.tree.TiePolicy`.
   A rule reading a field the subject lacks fails (the criteria semantics: only
   ``ne``, ``not_in`` and ``is_empty`` hold on an unset field), so the rules that can
   decide do; the trace names the missing fields, and with ``explain=True`` each rule
   that could not decide.
2. **Pinned** subjects keep their owner, whatever matched (no owner: review queue).
3. **Sticky**: an owner who is an active member of the winning territory keeps the
   subject (``sticky=False`` re-assigns it).
4. **Strategy**: the territory's strategy picks an eligible member
   (:mod:`sfakit.territory.strategies`).
5. **Fallback** when nobody qualifies: the territory's ``fallback_owner`` if available
   and below capacity, else its ``fallback_queue``, else the same up the tree, else the
   tree's ``default_queue``. No territory at all: ``default_queue``.

Every result names a territory, an owner or a queue; owner and queue never both.
The state is not changed in place: the result carries a
:class:`~sfakit.territory.state.StateChange` (``state.apply(result.change)``), and
:func:`route_many` threads the state through a batch.

>>> from datetime import datetime, timezone
>>> from sfakit.model import SalesRep
>>> from sfakit.rules import field
>>> from sfakit.territory import (AssignmentState, Member, RoutingSubject, TerritoryNode,
...                               TerritoryTree)
>>> t0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
>>> reps = [SalesRep(id="rep_anna", name="Anna", created_at=t0)]
>>> tree = TerritoryTree(nodes=[
...     TerritoryNode(key="de", rules=field("country").eq("DE"), members=[Member("rep_anna")]),
... ])
>>> result = route(RoutingSubject(id="lead_1", country="DE"), tree, AssignmentState(), t0,
...                reps=reps)
>>> result.territory, result.owner, result.queue, result.outcome
('de', 'rep_anna', None, <Outcome.ASSIGNED: 'assigned'>)
>>> route(RoutingSubject(id="lead_2", country="FR"), tree, AssignmentState(), t0,
...       reps=reps).queue
'unassigned'
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import datetime

import attrs

from sfakit.errors import SfaError, ValidationError
from sfakit.model.ids import SalesRepId
from sfakit.model.parties import SalesRep
from sfakit.rules import Verdict
from sfakit.territory.index import RoutingIndex
from sfakit.territory.state import AssignmentState, Ledger, StateChange
from sfakit.territory.strategies import MemberNote, day_of, is_available, select
from sfakit.territory.subject import RoutingSubject
from sfakit.territory.tree import TerritoryTree, TiePolicy, as_roster

__all__ = [
    "AmbiguousRouteError",
    "Outcome",
    "RoutingBatch",
    "RoutingResult",
    "RoutingTrace",
    "RuleCheck",
    "matching_territories",
    "route",
    "route_many",
]


class Outcome(enum.StrEnum):
    """How a routing decision was reached.

    >>> Outcome.KEPT.value
    'kept'
    """

    #: The territory's strategy chose a member.
    ASSIGNED = "assigned"
    #: Sticky: the owner is an active member of the winning territory.
    KEPT = "kept"
    #: The subject is pinned: its owner never changes.
    PINNED = "pinned"
    #: No member qualified; a fallback owner took it.
    FALLBACK_OWNER = "fallback_owner"
    #: No member qualified and no fallback owner could: a fallback or the default queue.
    QUEUED = "queued"
    #: No territory matched: the tree's default queue.
    NO_TERRITORY = "no_territory"
    #: Several territories tied (queue policy): the tree's review queue.
    TIE = "tie"


class AmbiguousRouteError(SfaError):
    """Raised under ``TiePolicy.ERROR`` when territories tie for a subject.

    >>> err = AmbiguousRouteError("lead_1", ("north", "south"), depth=1, priority=0)
    >>> err.territories
    ('north', 'south')
    """

    def __init__(
        self, subject_id: str, territories: tuple[str, ...], *, depth: int, priority: int
    ) -> None:
        self.subject_id = subject_id
        self.territories = territories
        self.depth = depth
        self.priority = priority
        super().__init__(
            f"{subject_id!r} matches {len(territories)} territories at depth {depth} with "
            f"priority {priority}: {', '.join(territories)}; the tree's tie_policy is "
            "'error': give one a higher priority, narrow a rule, or choose the 'queue' or "
            "'first_defined' policy"
        )

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_ambiguous, (self.subject_id, self.territories, self.depth, self.priority))


def _rebuild_ambiguous(
    subject_id: str, territories: tuple[str, ...], depth: int, priority: int
) -> AmbiguousRouteError:
    return AmbiguousRouteError(subject_id, territories, depth=depth, priority=priority)


@attrs.frozen
class RuleCheck:
    """One territory rule evaluated for a subject (``explain=True``): whether it matched,
    which fields it reads that the subject lacks, and the criteria's own explanation
    (None for a territory without rules).

    >>> check = RuleCheck("de", False, ("country",), None)
    >>> check.undecided
    True
    """

    territory: str
    matched: bool
    missing: tuple[str, ...]
    verdict: Verdict | None

    @property
    def undecided(self) -> bool:
        """It did not match and reads a field the subject lacks: it could not decide.

        >>> RuleCheck("de", False, (), None).undecided
        False
        """
        return not self.matched and bool(self.missing)


@attrs.frozen
class RoutingTrace:
    """Why a subject went where it went.

    ``matched``: every matching territory; ``tied``: the territories that tied;
    ``missing_fields``: fields some rule reads that the subject lacks; ``checks``: with
    ``explain``, each rule evaluated (top-down; territories under a parent that did not
    match are not evaluated); ``members``: with ``explain``, each member of the winning
    territory and why they were or were not eligible; ``steps``: the decision in words.

    >>> trace = RoutingTrace(("de",), (), (), (), (), ("deepest match: de",))
    >>> print(trace.render())
    deepest match: de
    """

    matched: tuple[str, ...]
    tied: tuple[str, ...]
    missing_fields: tuple[str, ...]
    checks: tuple[RuleCheck, ...]
    members: tuple[MemberNote, ...]
    steps: tuple[str, ...]

    @property
    def undecided(self) -> tuple[str, ...]:
        """The territories whose rule could not decide for lack of a field (``explain``).

        >>> RoutingTrace((), (), ("country",), (RuleCheck("de", False, ("country",), None),),
        ...              (), ()).undecided
        ('de',)
        """
        return tuple(c.territory for c in self.checks if c.undecided)

    def render(self) -> str:
        """The steps, then (with ``explain``) each rule and member, as readable text.

        >>> print(RoutingTrace((), (), (), (RuleCheck("de", True, (), None),),
        ...                    (MemberNote("rep_a", "sales", True, "eligible", 0, 0),),
        ...                    ("no rules",)).render())
        no rules
        rules:
          [x] de (no rules: always matches)
        members:
          [x] rep_a (sales): eligible; 0 open, 0 today
        """
        lines = list(self.steps)
        if self.checks:
            lines.append("rules:")
            for check in self.checks:
                mark = "[x]" if check.matched else "[ ]"
                extra = ""
                if check.undecided:
                    extra = f"; could not decide: {', '.join(check.missing)} not set"
                if check.verdict is None:
                    lines.append(f"  {mark} {check.territory} (no rules: always matches)")
                    continue
                lines.append(f"  {mark} {check.territory}{extra}")
                lines.extend("    " + line for line in check.verdict.render().splitlines()[1:])
        if self.members:
            lines.append("members:")
            for note in self.members:
                mark = "[x]" if note.eligible else "[ ]"
                lines.append(
                    f"  {mark} {note.rep_id} ({note.role}): {note.reason}; "
                    f"{note.open_items} open, {note.assigned_today} today"
                )
        return "\n".join(lines)


@attrs.frozen
class RoutingResult:
    """Where a subject goes: ``territory`` (None when none or a tie), ``owner`` or
    ``queue`` (exactly one of the two), how (``outcome``), why (``trace``) and what it
    changes in the assignment state (``change``).

    >>> from datetime import date
    >>> r = RoutingResult("lead_1", None, None, "unassigned", Outcome.NO_TERRITORY,
    ...                   RoutingTrace((), (), (), (), (), ()), StateChange(day=date(2026, 3, 2)))
    >>> r.queue
    'unassigned'
    """

    subject_id: str
    territory: str | None
    owner: SalesRepId | None
    queue: str | None
    outcome: Outcome
    trace: RoutingTrace
    change: StateChange


@attrs.frozen
class RoutingBatch:
    """The results of :func:`route_many`, in input order, and the state after them all.

    >>> RoutingBatch((), AssignmentState()).results
    ()
    """

    results: tuple[RoutingResult, ...]
    state: AssignmentState


#: What counts as a missing field: None, an empty text, an empty collection.
_UNSET = (None, "", ())


class Router:
    """Routes subjects one after another against one tree, roster and ledger (internal)."""

    def __init__(
        self,
        tree: TerritoryTree | RoutingIndex,
        reps: Mapping[SalesRepId, SalesRep] | Iterable[SalesRep],
        *,
        sticky: bool,
        explain: bool,
    ) -> None:
        if isinstance(tree, RoutingIndex):
            self.index: RoutingIndex | None = tree
            self.tree = tree.tree
        elif isinstance(tree, TerritoryTree):
            self.index = None
            self.tree = tree
        else:
            raise ValidationError("$.tree", tree, "a TerritoryTree or a RoutingIndex")
        if not isinstance(sticky, bool):
            raise ValidationError("$.sticky", sticky, "true or false")
        self.reps = as_roster(reps)
        self.sticky = sticky
        self.explain = explain
        self.table = tree.tree._table if isinstance(tree, RoutingIndex) else tree._table

    def scan(self, subject: RoutingSubject) -> list[int]:
        """The naive scan: every node, parents first; a node under a failed parent fails."""
        table = self.table
        parent, matchers = table.parent, table.matchers
        hit = bytearray(len(parent))
        found = []
        for i in table.order:
            p = parent[i]
            if p >= 0 and not hit[p]:
                continue
            matcher = matchers[i]
            if matcher is None or matcher(subject):
                hit[i] = 1
                found.append(i)
        found.sort()
        return found

    def explain_scan(self, subject: RoutingSubject) -> tuple[list[int], tuple[RuleCheck, ...]]:
        table = self.table
        hit = bytearray(len(table.parent))
        checks = []
        for i in table.order:
            p = table.parent[i]
            if p >= 0 and not hit[p]:
                continue
            compiled = self.tree.nodes[i].compiled
            verdict = None if compiled is None else compiled.explain(subject)
            matched = verdict is None or verdict.matched
            missing = tuple(
                f for f in sorted(table.rule_fields[i]) if getattr(subject, f) in _UNSET
            )
            checks.append(RuleCheck(table.keys[i], matched, missing, verdict))
            if matched:
                hit[i] = 1
        return [i for i in range(len(hit)) if hit[i]], tuple(checks)

    def matches(self, subject: RoutingSubject) -> list[int]:
        return self.index.match(subject) if self.index is not None else self.scan(subject)

    def best(self, matched: list[int]) -> list[int]:
        """The deepest matches of the highest priority among them (non-empty input)."""
        depth, priority = self.table.depth, self.table.priority
        best: list[int] = []
        top = (-1, 0)
        for i in matched:
            rank = (depth[i], priority[i])
            if rank > top:
                top, best = rank, [i]
            elif rank == top:
                best.append(i)
        return best

    def territory_of(self, subject: RoutingSubject) -> str | None:
        """The winning territory's key; None for no match or a tie not settled by policy."""
        matched = self.matches(subject)
        if not matched:
            return None
        best = self.best(matched)
        if len(best) == 1 or self.tree.tie_policy is TiePolicy.FIRST_DEFINED:
            return self.table.keys[best[0]]
        return None

    def route(self, subject: RoutingSubject, ledger: Ledger) -> RoutingResult:
        if not isinstance(subject, RoutingSubject):
            raise ValidationError(
                "$.subject",
                subject,
                "a RoutingSubject (build one with RoutingSubject.from_lead or from_account)",
            )
        checks: tuple[RuleCheck, ...] = ()
        if self.explain:
            matched, checks = self.explain_scan(subject)
        else:
            matched = self.matches(subject)
        keys = self.table.keys
        missing = tuple(f for f in self.table.all_fields if getattr(subject, f) in _UNSET)
        steps: list[str] = []
        if missing:
            steps.append(f"not set, so rules reading them could not decide: {', '.join(missing)}")
        chosen, tied = self.pick(subject, matched, steps)
        territory = None if chosen is None else keys[chosen]
        owner, queue, outcome, cursor, notes = self.assign(subject, chosen, tied, ledger, steps)
        old = subject.owner_id
        opened: list[tuple[str, int]] = []
        today: tuple[tuple[str, int], ...] = ()
        if owner != old and outcome is not Outcome.PINNED:
            if old is not None:
                opened.append((old, -1))
            if owner is not None:
                opened.append((owner, 1))
                today = ((owner, 1),)
        change = StateChange(
            day=ledger.day,
            territory=territory if cursor is not None else None,
            last_assigned=cursor,
            open_items=tuple(opened),
            assigned_today=today,
        )
        ledger.record(change)
        trace = RoutingTrace(
            tuple(keys[i] for i in matched),
            tuple(keys[i] for i in tied),
            missing,
            checks,
            notes,
            tuple(steps),
        )
        return RoutingResult(subject.id, territory, owner, queue, outcome, trace, change)

    def pick(
        self, subject: RoutingSubject, matched: list[int], steps: list[str]
    ) -> tuple[int | None, tuple[int, ...]]:
        """The winning node (None: no match or an unsettled tie) and the tied nodes."""
        if not matched:
            steps.append("no territory matched")
            return None, ()
        table, keys = self.table, self.table.keys
        best = self.best(matched)
        deepest, top = table.depth[best[0]], table.priority[best[0]]
        if len(best) == 1:
            steps.append(
                f"matched {', '.join(keys[i] for i in matched)}; deepest: {keys[best[0]]} "
                f"(depth {deepest}, priority {top})"
            )
            return best[0], ()
        names = ", ".join(keys[i] for i in best)
        policy = self.tree.tie_policy
        if policy is TiePolicy.FIRST_DEFINED:
            steps.append(
                f"tie at depth {deepest}, priority {top} between {names}: "
                f"{keys[best[0]]} is defined first (tie policy first_defined)"
            )
            return best[0], tuple(best)
        if policy is TiePolicy.ERROR and not subject.pinned:
            raise AmbiguousRouteError(
                subject.id, tuple(keys[i] for i in best), depth=deepest, priority=top
            )
        steps.append(f"tie at depth {deepest}, priority {top} between {names}")
        return None, tuple(best)

    def assign(
        self,
        subject: RoutingSubject,
        chosen: int | None,
        tied: tuple[int, ...],
        ledger: Ledger,
        steps: list[str],
    ) -> tuple[SalesRepId | None, str | None, Outcome, SalesRepId | None, tuple[MemberNote, ...]]:
        """(owner, queue, outcome, new round-robin cursor, member notes)."""
        tree, old = self.tree, subject.owner_id
        if subject.pinned:
            if old is None:
                steps.append(f"pinned without an owner: {tree.review_queue}")
                return None, tree.review_queue, Outcome.PINNED, None, ()
            steps.append(f"pinned: {old} keeps it")
            return old, None, Outcome.PINNED, None, ()
        if chosen is None:
            if tied:
                steps.append(f"tie policy queue: {tree.review_queue}")
                return None, tree.review_queue, Outcome.TIE, None, ()
            steps.append(f"default queue: {tree.default_queue}")
            return None, tree.default_queue, Outcome.NO_TERRITORY, None, ()
        if self.sticky and old is not None and old in self.table.member_ids[chosen]:
            rep = self.reps.get(old)
            if rep is not None and rep.active:
                steps.append(
                    f"sticky: {old} is an active member of {self.table.keys[chosen]} and keeps it"
                )
                return old, None, Outcome.KEPT, None, ()
        rep_id, how, notes = select(
            tree.nodes[chosen], subject, self.reps, ledger, explain=self.explain
        )
        steps.append(how)
        if rep_id is not None:
            return rep_id, None, Outcome.ASSIGNED, rep_id, notes
        owner, queue = self.fallback(chosen, ledger, steps)
        return owner, queue, Outcome.FALLBACK_OWNER if owner else Outcome.QUEUED, None, notes

    def fallback(
        self, chosen: int, ledger: Ledger, steps: list[str]
    ) -> tuple[SalesRepId | None, str | None]:
        """Walk up from ``chosen``: the first available fallback owner or fallback queue."""
        tree = self.tree
        i = chosen
        while i >= 0:
            node = tree.nodes[i]
            owner = node.fallback_owner
            if owner is not None:
                rep = self.reps.get(owner)
                if rep is None:
                    steps.append(f"fallback owner {owner} of {node.key} is not on the roster")
                elif not is_available(rep, ledger.day):
                    steps.append(f"fallback owner {owner} of {node.key} is not available")
                elif rep.capacity is not None and ledger.open_count(owner) >= rep.capacity:
                    steps.append(f"fallback owner {owner} of {node.key} is at capacity")
                else:
                    steps.append(f"fallback owner of {node.key}: {owner}")
                    return owner, None
            if node.fallback_queue is not None:
                steps.append(f"fallback queue of {node.key}: {node.fallback_queue}")
                return None, node.fallback_queue
            i = self.table.parent[i]
        steps.append(f"no fallback up the tree: {tree.default_queue}")
        return None, tree.default_queue


def route(
    subject: RoutingSubject,
    tree: TerritoryTree | RoutingIndex,
    state: AssignmentState,
    as_of: datetime,
    *,
    reps: Mapping[SalesRepId, SalesRep] | Iterable[SalesRep],
    sticky: bool = True,
    explain: bool = False,
) -> RoutingResult:
    """Route one subject (see the module docs for the order of decisions).

    ``tree`` is a :class:`TerritoryTree` (scanned) or a :class:`RoutingIndex` compiled
    from it (same results, faster for large trees). ``reps`` is the roster, by id or as
    an iterable. ``as_of`` (aware) decides out-of-office and which day's counts apply.
    ``explain=True`` adds each rule's and each member's explanation to the trace.

    >>> from datetime import datetime, timezone
    >>> from sfakit.territory import TerritoryNode, TerritoryTree
    >>> t0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    >>> tree = TerritoryTree(nodes=[TerritoryNode(key="world", fallback_queue="inbox")])
    >>> r = route(RoutingSubject(id="lead_1"), tree, AssignmentState(), t0, reps={})
    >>> r.territory, r.queue, r.outcome
    ('world', 'inbox', <Outcome.QUEUED: 'queued'>)
    """
    router = Router(tree, reps, sticky=sticky, explain=explain)
    return router.route(subject, Ledger(state, day_of(as_of)))


def route_many(
    subjects: Iterable[RoutingSubject],
    tree: TerritoryTree | RoutingIndex,
    state: AssignmentState,
    as_of: datetime,
    *,
    reps: Mapping[SalesRepId, SalesRep] | Iterable[SalesRep],
    sticky: bool = True,
    explain: bool = False,
) -> RoutingBatch:
    """Route subjects in order, each seeing the state the ones before it left.

    ``route_many(ss, ...).results[k]`` equals routing ``ss[k]`` alone against the state
    after applying the changes of ``ss[:k]``.

    >>> from datetime import datetime, timezone
    >>> from sfakit.model import SalesRep
    >>> from sfakit.territory import Member, TerritoryNode, TerritoryTree
    >>> t0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    >>> reps = [SalesRep(id=f"rep_{n}", name=n, created_at=t0) for n in "abc"]
    >>> tree = TerritoryTree(nodes=[TerritoryNode(
    ...     key="world", members=[Member("rep_a"), Member("rep_b"), Member("rep_c")])])
    >>> leads = [RoutingSubject(id=f"lead_{i}") for i in range(4)]
    >>> batch = route_many(leads, tree, AssignmentState(), t0, reps=reps)
    >>> [r.owner for r in batch.results], batch.state.last_assigned
    (['rep_a', 'rep_b', 'rep_c', 'rep_a'], {'world': 'rep_a'})
    """
    router = Router(tree, reps, sticky=sticky, explain=explain)
    ledger = Ledger(state, day_of(as_of))
    results = tuple(router.route(subject, ledger) for subject in subjects)
    return RoutingBatch(results, ledger.state())


def matching_territories(
    subject: RoutingSubject, tree: TerritoryTree | RoutingIndex
) -> tuple[str, ...]:
    """The keys of every territory matching ``subject`` (its parent matching too).

    >>> from sfakit.rules import field
    >>> from sfakit.territory import TerritoryNode, TerritoryTree
    >>> tree = TerritoryTree(nodes=[
    ...     TerritoryNode(key="de", rules=field("country").eq("DE")),
    ...     TerritoryNode(key="north", parent="de", rules=field("postal_code").startswith("2")),
    ... ])
    >>> matching_territories(RoutingSubject(id="lead_1", country="AT", postal_code="2000"), tree)
    ()
    """
    router = Router(tree, {}, sticky=True, explain=False)
    if not isinstance(subject, RoutingSubject):
        raise ValidationError("$.subject", subject, "a RoutingSubject")
    return tuple(router.table.keys[i] for i in router.matches(subject))
