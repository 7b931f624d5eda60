"""Territory routing through the service: the tree and the assignment state in storage,
leads and accounts routed one call each, realignment and rep deactivation applied in
batches.

The territory tree is the setting ``territory-tree`` and the assignment state (round-robin
cursors, today's counts) the setting ``assignment-state`` (see
:class:`~sfakit.model.Setting`). Open items per rep — what capacity limits — are counted
from storage at each decision (leads not yet converted or disqualified, opportunities in
an open stage), so they never drift from the records.

Every decision is one transaction that reads the record, the tree and the state, routes
with the pure :mod:`sfakit.territory` code, and writes the record and the state at the
versions it read, with a ``LeadAssigned`` event in the outbox. Two workers routing at
once therefore cannot both give a rep their last free slot, nor assign one lead twice:
the second one's write conflicts and it routes again, seeing the first one's decision
(a lead already owned keeps its owner: routing is sticky).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final, TypeVar

import attrs

from sfakit.errors import ConflictError, DuplicateError, NotFoundError, ValidationError
from sfakit.events import Event, LeadAssigned
from sfakit.model import (
    Account,
    Lead,
    LeadStatus,
    Opportunity,
    Quota,
    SalesRep,
    SalesRepId,
    Setting,
    setting_id,
)
from sfakit.pipeline import PipelineSet
from sfakit.service.outbox import emit
from sfakit.service.settings import load_setting, store_setting
from sfakit.storage.api import In, IsNull, Storage, Transaction
from sfakit.storage.common import every_page
from sfakit.territory import (
    AssignmentState,
    Move,
    QuotaReport,
    RealignmentPlan,
    RoutingIndex,
    RoutingResult,
    RoutingSubject,
    TerritoryTree,
    check_roster,
    compile_index,
    deactivate_rep,
    plan_realignment,
    quota_rollup,
    route,
    route_many,
)

__all__ = ["RealignmentReport", "Routing", "TERRITORY_TREE", "ASSIGNMENT_STATE"]

T = TypeVar("T")
Routed = TypeVar("Routed", Lead, Account)

#: The setting that holds the territory tree.
TERRITORY_TREE: Final = "territory-tree"
#: The setting that holds the assignment state (round-robin cursors, today's counts).
ASSIGNMENT_STATE: Final = "assignment-state"
#: How often a decision is retried when another writer got there first.
ROUTING_RETRIES: Final = 50
#: Lead statuses whose leads count as open items of their owner.
OPEN_LEAD_STATUSES: Final = (
    LeadStatus.NEW,
    LeadStatus.WORKING,
    LeadStatus.NURTURING,
    LeadStatus.QUALIFIED,
)


@attrs.frozen
class RealignmentReport:
    """What applying a realignment plan did: records ``moved`` (with a ``LeadAssigned``
    event each for leads), ``stale`` ones skipped because they changed since the plan
    (their id and why), and ``pinned`` ones left alone, in ``batches`` transactions."""

    moved: tuple[str, ...]
    stale: tuple[tuple[str, str], ...]
    pinned: tuple[str, ...]
    batches: int


class Routing:
    """Mixed into :class:`~sfakit.Sfa`; needs ``storage``, ``pipelines`` and ``now``."""

    storage: Storage
    pipelines: PipelineSet
    now: Callable[[], datetime]

    # -- settings -------------------------------------------------------------------

    def setting(self, kind: type[T], name: str) -> tuple[T, int]:
        """The object stored as setting ``name`` (a ``kind``) and its version, or
        NotFoundError."""
        with self.storage.transaction(readonly=True) as tx:
            return load_setting(tx.get(Setting, setting_id(name)), kind)

    def save_setting(self, name: str, value: object, *, expected_version: int | None) -> int:
        """Store ``value`` (any plain-data object) as setting ``name``; returns its new
        version. ``expected_version`` None creates it (DuplicateError if it exists),
        otherwise it must be the version read (ConflictError if not)."""
        with self.storage.transaction() as tx:
            return store_setting(tx, name, value, expected_version, self.now()).version

    def set_territory_tree(self, tree: TerritoryTree, *, expected_version: int | None) -> int:
        """Store the territory tree after checking every rep it names exists; returns the
        new version (see :meth:`save_setting` for ``expected_version``)."""
        with self.storage.transaction() as tx:
            check_roster(tree, every_page(tx, SalesRep))
            return store_setting(tx, TERRITORY_TREE, tree, expected_version, self.now()).version

    def territory_tree(self) -> TerritoryTree:
        """The stored territory tree (NotFoundError before :meth:`set_territory_tree`)."""
        return self.setting(TerritoryTree, TERRITORY_TREE)[0]

    def assignment_state(self) -> AssignmentState:
        """The stored assignment state, its open-item counts taken from the records now."""
        with self.storage.transaction(readonly=True) as tx:
            state, _ = self._state(tx)
            return attrs.evolve(state, open_items=self._open_items(tx))

    # -- routing --------------------------------------------------------------------

    def route_lead(
        self, lead_id: str, *, sticky: bool = True, explain: bool = False
    ) -> RoutingResult:
        """Route one lead and record the decision: owner or queue, territory, a
        ``LeadAssigned`` event. A pinned lead (``routing_pinned``) is never moved, and a
        lead that already has the owner routing gives it is not written again.
        ``explain=True`` puts every rule's and member's explanation in the trace."""
        return self._route(Lead, lead_id, sticky=sticky, explain=explain)

    def route_account(
        self, account_id: str, *, sticky: bool = True, explain: bool = False
    ) -> RoutingResult:
        """Route one account, as :meth:`route_lead` does (an account has no queue: one
        routed to a queue keeps no owner, and the event names the queue)."""
        return self._route(Account, account_id, sticky=sticky, explain=explain)

    def route_unassigned_leads(
        self, *, limit: int = 1000, batch_size: int = 100
    ) -> list[RoutingResult]:
        """Route up to ``limit`` open leads that have neither an owner nor a queue, oldest
        first, ``batch_size`` per transaction.

        Within a batch each decision sees the ones before it (as
        :func:`~sfakit.territory.route_many` does), and the batch writes its leads and the
        assignment state at the versions it read — so a batch is exactly as safe as one
        :meth:`route_lead` per lead, and much faster. If another writer got there first
        the whole batch is routed again, seeing that writer's decisions."""
        _check_batch_size(batch_size)
        with self.storage.transaction(readonly=True) as tx:
            page = tx.query(
                Lead,
                where={
                    "owner_id": IsNull(),
                    "queue": IsNull(),
                    "status": In(OPEN_LEAD_STATUSES),
                    "merged_into_id": IsNull(),
                },
                order_by="created_at",
                limit=limit,
            )
        ids = [lead.id for lead in page.items]
        results: list[RoutingResult] = []
        for start in range(0, len(ids), batch_size):
            results += self._route_leads(ids[start : start + batch_size])
        return results

    def _route_leads(self, lead_ids: Sequence[str]) -> list[RoutingResult]:
        for attempt in range(ROUTING_RETRIES):
            try:
                with self.storage.transaction() as tx:
                    leads = [tx.get(Lead, lead_id) for lead_id in lead_ids]
                    index = self._index(tx)
                    state, state_version = self._state(tx)
                    state = attrs.evolve(state, open_items=self._open_items(tx))
                    reps = {rep.id: rep for rep in every_page(tx, SalesRep)}
                    now = self.now()
                    subjects = [_subject(lead) for lead in leads]
                    batch = route_many(subjects, index, state, now, reps=reps)
                    events: list[Event] = []
                    for lead, subject, result in zip(leads, subjects, batch.results, strict=True):
                        if subject.pinned or not _changes(lead, result):
                            continue
                        placed = _placed(
                            lead,
                            owner=result.owner,
                            territory=result.territory,
                            queue=result.queue,
                            index=index,
                            now=now,
                        )
                        tx.update(placed)
                        events.append(_event(lead, result, reps, now, result.trace.steps[-1]))
                    if events:
                        store_setting(tx, ASSIGNMENT_STATE, batch.state, state_version, now)
                        emit(tx, events)
                return list(batch.results)
            except (ConflictError, DuplicateError):
                if attempt == ROUTING_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _route(
        self, kind: type[Routed], record_id: str, *, sticky: bool, explain: bool
    ) -> RoutingResult:
        for attempt in range(ROUTING_RETRIES):
            try:
                with self.storage.transaction() as tx:
                    record = tx.get(kind, record_id)
                    index = self._index(tx)
                    state, state_version = self._state(tx)
                    state = attrs.evolve(state, open_items=self._open_items(tx))
                    reps = {rep.id: rep for rep in every_page(tx, SalesRep)}
                    now = self.now()
                    subject = _subject(record)
                    result = route(
                        subject, index, state, now, reps=reps, sticky=sticky, explain=explain
                    )
                    if subject.pinned or not _changes(record, result):
                        return result
                    tx.update(
                        _placed(
                            record,
                            owner=result.owner,
                            territory=result.territory,
                            queue=result.queue,
                            index=index,
                            now=now,
                        )
                    )
                    after = state.apply(result.change)
                    store_setting(tx, ASSIGNMENT_STATE, after, state_version, now)
                    emit(tx, [_event(record, result, reps, now, result.trace.steps[-1])])
                return result
            except (ConflictError, DuplicateError):
                if attempt == ROUTING_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    # -- quotas ---------------------------------------------------------------------

    def quota_report(self, period: str) -> QuotaReport:
        """Check that the stored quotas of ``period`` (``FY2027-Q1`` …) add up the
        territory tree: per territory and currency, its own quota against the sum of
        its parts; mismatches are reported, not hidden."""
        with self.storage.transaction(readonly=True) as tx:
            quotas = every_page(tx, Quota, where={"period": period})
            tree = load_setting(tx.get(Setting, setting_id(TERRITORY_TREE)), TerritoryTree)[0]
        return quota_rollup(tree, quotas, period)

    # -- realignment ----------------------------------------------------------------

    def plan_realignment(self, new_tree: TerritoryTree) -> RealignmentPlan:
        """A dry run: which open leads and accounts switching to ``new_tree`` would move,
        from whom to whom, and the rule that caused it. Nothing is written."""
        with self.storage.transaction(readonly=True) as tx:
            reps = every_page(tx, SalesRep)
            check_roster(new_tree, reps)
            state, _ = self._state(tx)
            state = attrs.evolve(state, open_items=self._open_items(tx))
            return plan_realignment(
                self._index(tx), new_tree, self._subjects(tx), state, self.now(), reps=reps
            )

    def apply_realignment(
        self,
        new_tree: TerritoryTree,
        plan: RealignmentPlan,
        *,
        expected_tree_version: int,
        batch_size: int = 200,
    ) -> RealignmentReport:
        """Store ``new_tree`` (if the stored tree is still at ``expected_tree_version``)
        and apply ``plan`` in transactions of ``batch_size`` records. A record that
        changed since the plan (another owner now, or pinned) is skipped and reported,
        never overwritten; pinned records are never moved."""
        _check_batch_size(batch_size)
        with self.storage.transaction() as tx:
            check_roster(new_tree, every_page(tx, SalesRep))
            store_setting(tx, TERRITORY_TREE, new_tree, expected_tree_version, self.now())
        report = self._apply_moves(plan.moves, batch_size)
        return attrs.evolve(report, pinned=plan.pinned)

    def deactivate_rep(self, rep_id: str, *, batch_size: int = 200) -> RealignmentReport:
        """Mark the rep inactive and re-route their open leads and accounts by the rules
        (pinned ones stay), each move recorded with why in its ``LeadAssigned`` event."""
        _check_batch_size(batch_size)
        with self.storage.transaction() as tx:
            rep = tx.get(SalesRep, rep_id)
            if rep.active:
                tx.update(rep.evolve(active=False, updated_at=max(self.now(), rep.updated_at)))
        with self.storage.transaction(readonly=True) as tx:
            reps = every_page(tx, SalesRep)
            state, _ = self._state(tx)
            state = attrs.evolve(state, open_items=self._open_items(tx))
            owned = [s for s in self._subjects(tx) if s.owner_id == rep_id]
            plan = deactivate_rep(rep_id, owned, self._index(tx), state, self.now(), reps=reps)
        report = self._apply_moves(plan.moves, batch_size)
        return attrs.evolve(report, pinned=plan.pinned)

    def _apply_moves(self, moves: Sequence[Move], batch_size: int) -> RealignmentReport:
        moved: list[str] = []
        stale: list[tuple[str, str]] = []
        batches = 0
        for start in range(0, len(moves), batch_size):
            batch = moves[start : start + batch_size]
            with self.storage.transaction() as tx:
                reps = {rep.id: rep for rep in every_page(tx, SalesRep)}
                index = self._index(tx)
                now = self.now()
                events: list[Event] = []
                for move in batch:
                    kind: type[Lead] | type[Account] = (
                        Lead if move.subject_id.startswith("lead_") else Account
                    )
                    record = tx.find(kind, move.subject_id)
                    why = _stale(record, move)
                    if why is not None:
                        stale.append((move.subject_id, why))
                        continue
                    assert record is not None
                    tx.update(
                        _placed(
                            record,
                            owner=move.to_owner,
                            territory=move.to_territory,
                            queue=move.to_queue,
                            index=index,
                            now=now,
                        )
                    )
                    events.append(_move_event(record, move, reps, now))
                    moved.append(move.subject_id)
                emit(tx, events)
            batches += 1
        return RealignmentReport(tuple(moved), tuple(stale), (), batches)

    # -- reading --------------------------------------------------------------------

    def _index(self, tx: Transaction) -> RoutingIndex:
        setting = tx.get(Setting, setting_id(TERRITORY_TREE))
        cache: dict[str, tuple[int, RoutingIndex]] = self.__dict__.setdefault(
            "_routing_indexes", {}
        )
        cached = cache.get(setting.id)
        if cached is not None and cached[0] == setting.version:
            return cached[1]
        index = compile_index(load_setting(setting, TerritoryTree)[0])
        cache[setting.id] = (setting.version, index)
        return index

    def _state(self, tx: Transaction) -> tuple[AssignmentState, int | None]:
        found = tx.find(Setting, setting_id(ASSIGNMENT_STATE))
        if found is None:
            return AssignmentState(), None
        return load_setting(found, AssignmentState)

    def _open_items(self, tx: Transaction) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in tx.aggregate(
            Lead,
            group_by=["owner_id"],
            where={"status": In(OPEN_LEAD_STATUSES), "merged_into_id": IsNull()},
        ):
            if row.key[0] is not None:
                counts[row.key[0]] = counts.get(row.key[0], 0) + row.count
        open_stages = tuple({s.key for p in self.pipelines.pipelines for s in p.open_stages})
        for row in tx.aggregate(
            Opportunity, group_by=["owner_id"], where={"stage": In(open_stages)}
        ):
            if row.key[0] is not None:
                counts[row.key[0]] = counts.get(row.key[0], 0) + row.count
        return counts

    def _subjects(self, tx: Transaction) -> list[RoutingSubject]:
        # Tombstones of merged records stay where they were: only live records move.
        live = {"merged_into_id": IsNull()}
        leads = every_page(tx, Lead, where={"status": In(OPEN_LEAD_STATUSES), **live})
        accounts = every_page(tx, Account, where=live)
        return [_subject(lead) for lead in leads] + [_subject(a) for a in accounts]


def _check_batch_size(batch_size: object) -> None:
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValidationError("$.batch_size", batch_size, "a whole number of at least 1")


def _subject(record: Lead | Account) -> RoutingSubject:
    if isinstance(record, Lead):
        return RoutingSubject.from_lead(record, pinned=record.routing_pinned)
    return RoutingSubject.from_account(record, pinned=record.routing_pinned)


def _changes(record: Lead | Account, result: RoutingResult) -> bool:
    queue = record.queue if isinstance(record, Lead) else None
    wanted_queue = result.queue if isinstance(record, Lead) else None
    return (record.owner_id, record.territory_key, queue) != (
        result.owner,
        result.territory,
        wanted_queue,
    )


def _territory_id(index: RoutingIndex, key: str | None) -> Any:
    if key is None:
        return None
    try:
        return index.tree.node(key).territory_id
    except NotFoundError:
        return None


def _placed(
    record: Lead | Account,
    *,
    owner: SalesRepId | None,
    territory: str | None,
    queue: str | None,
    index: RoutingIndex,
    now: datetime,
) -> Lead | Account:
    changes: dict[str, Any] = {
        "owner_id": owner,
        "territory_key": territory,
        "territory_id": _territory_id(index, territory),
        "updated_at": max(now, record.updated_at),
    }
    if isinstance(record, Lead):
        changes["queue"] = queue  # an account has no queue: it stays without owner
    return record.evolve(**changes)


def _stale(record: Lead | Account | None, move: Move) -> str | None:
    if record is None:
        return "deleted since the plan"
    if record.routing_pinned:
        return "pinned since the plan"
    if record.owner_id != move.from_owner:
        return f"owner changed since the plan (now {record.owner_id})"
    return None


def _email(reps: Mapping[SalesRepId, SalesRep], rep_id: str | None) -> str | None:
    rep = reps.get(SalesRepId(rep_id)) if rep_id else None
    return rep.email if rep is not None else None


def _event(
    record: Lead | Account,
    result: RoutingResult,
    reps: Mapping[SalesRepId, SalesRep],
    now: datetime,
    reason: str,
) -> LeadAssigned:
    return LeadAssigned(
        lead_id=record.id,
        owner_id=result.owner,
        previous_owner_id=record.owner_id,
        territory_key=result.territory,
        queue=result.queue,
        reason=reason[:1000],
        owner_email=_email(reps, result.owner),
        occurred_at=now,
    )


def _move_event(
    record: Lead | Account, move: Move, reps: Mapping[SalesRepId, SalesRep], now: datetime
) -> LeadAssigned:
    return LeadAssigned(
        lead_id=record.id,
        owner_id=move.to_owner,
        previous_owner_id=move.from_owner,
        territory_key=move.to_territory,
        queue=move.to_queue,
        reason=f"{move.cause.value}: {move.detail}"[:1000],
        owner_email=_email(reps, move.to_owner),
        occurred_at=now,
    )
