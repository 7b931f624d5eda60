"""Opportunity operations of the service: open a deal, move it through its pipeline.

Each is one transaction: load the deal and what its stage rules look at (account,
contacts and their roles, activity count, when it entered its stage), call the pure
:mod:`sfakit.pipeline` code, then save the deal at the version it was read, append the
:class:`~sfakit.model.StageChange` to its history, and emit ``StageChanged`` (plus
``OpportunityWon`` / ``OpportunityLost`` on closing) to the outbox.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sfakit.errors import ConflictError
from sfakit.events import Event, OpportunityLost, OpportunityWon, StageChanged
from sfakit.model import Account, Activity, Contact, Opportunity, StageChange
from sfakit.pipeline import (
    DealContext,
    Deals,
    MoveOption,
    PipelineSet,
    available_moves,
    creation_change,
    move,
)
from sfakit.service.outbox import emit
from sfakit.storage.api import Storage, Transaction
from sfakit.storage.common import every_page

__all__ = ["Selling"]

E = TypeVar("E", Opportunity, StageChange)


def _stage_events(change: StageChange, deal: Opportunity, pipelines: PipelineSet) -> list[Event]:
    events: list[Event] = [
        StageChanged(
            opportunity_id=deal.id,
            pipeline=change.pipeline,
            from_stage=change.from_stage,
            to_stage=change.to_stage,
            by=change.by,
            occurred_at=change.at,
        )
    ]
    stage = pipelines.get(deal.pipeline).stage(deal.stage)
    if change.from_stage is not None and stage.is_won:
        events.append(
            OpportunityWon(opportunity_id=deal.id, amount=deal.amount, occurred_at=change.at)
        )
    elif change.from_stage is not None and stage.is_lost:
        events.append(
            OpportunityLost(
                opportunity_id=deal.id, reason=deal.lost_reason or "unknown", occurred_at=change.at
            )
        )
    return events


def deal_context(tx: Transaction, deal: Opportunity) -> DealContext:
    """What stage rules may look at, read in the caller's transaction."""
    account = tx.find(Account, deal.account_id)
    contacts = tuple(every_page(tx, Contact, where={"account_id": deal.account_id}))
    activities = tx.count(Activity, where={"related_to": deal.id})
    last = tx.query(
        StageChange,
        where={"opportunity_id": deal.id},
        order_by="at",
        descending=True,
        limit=1,
    ).items
    return DealContext(
        opportunity=deal,
        account=account,
        contacts=contacts,
        activity_count=activities,
        stage_entered_at=last[0].at if last else None,
    )


class Selling:
    """Mixed into :class:`~sfakit.Sfa`; needs ``storage``, ``pipelines`` and ``now``."""

    storage: Storage
    pipelines: PipelineSet
    now: Callable[[], datetime]

    def open_opportunity(self, *, by: str | None = None, **fields: Any) -> Opportunity:
        """Create a deal (in its pipeline's first stage unless ``stage`` is given) and its
        first history entry, in one transaction.
        """
        now = self.now()
        fields.setdefault("pipeline", self.pipelines.pipelines[0].key)
        pipeline = self.pipelines.get(fields["pipeline"])
        fields.setdefault("stage", pipeline.stages[0].key)
        fields.setdefault("created_at", now)
        deal = Opportunity(updated_at=max(now, fields["created_at"]), **fields)
        change = creation_change(pipeline, deal, by=by)
        with self.storage.transaction() as tx:
            stored = tx.insert(deal)
            tx.insert(change)
            emit(tx, _stage_events(change, stored, self.pipelines))
        return stored

    def move_opportunity(
        self,
        opportunity_id: str,
        target: str,
        *,
        expected_version: int,
        by: str | None,
        reason: str | None = None,
        reopen: bool = False,
    ) -> tuple[Opportunity, StageChange]:
        """Move a deal to ``target`` if its rules allow it now (else
        :class:`~sfakit.pipeline.MoveRefusedError` listing everything missing, and
        nothing changes); ConflictError if the deal changed since ``expected_version``.
        """
        with self.storage.transaction() as tx:
            deal = tx.get(Opportunity, opportunity_id)
            if deal.version != expected_version:
                raise ConflictError(
                    "Opportunity",
                    opportunity_id,
                    expected_version=expected_version,
                    current_version=deal.version,
                )
            pipeline = self.pipelines.get(deal.pipeline)
            moved, change = move(
                pipeline,
                deal_context(tx, deal),
                target,
                by=by,
                at=self.now(),
                reason=reason,
                reopen=reopen,
            )
            stored = tx.update(moved)
            tx.insert(change)
            emit(tx, _stage_events(change, stored, self.pipelines))
        return stored, change

    def close_won(
        self, opportunity_id: str, *, expected_version: int, by: str | None
    ) -> tuple[Opportunity, StageChange]:
        """Move a deal to its pipeline's won stage."""
        won = self._pipeline_of(opportunity_id).won_stage.key
        return self.move_opportunity(opportunity_id, won, expected_version=expected_version, by=by)

    def close_lost(
        self, opportunity_id: str, *, reason: str, expected_version: int, by: str | None
    ) -> tuple[Opportunity, StageChange]:
        """Move a deal to its pipeline's (first) lost stage, with a listed reason."""
        lost = self._pipeline_of(opportunity_id).lost_stages[0].key
        return self.move_opportunity(
            opportunity_id, lost, expected_version=expected_version, by=by, reason=reason
        )

    def _pipeline_of(self, opportunity_id: str) -> Any:
        with self.storage.transaction(readonly=True) as tx:
            deal = tx.get(Opportunity, opportunity_id)
        return self.pipelines.get(deal.pipeline)

    def moves_for(self, opportunity_id: str, *, reopen: bool = False) -> list[MoveOption]:
        """For a UI: every move, whether it is possible now, and what is missing if not."""
        with self.storage.transaction(readonly=True) as tx:
            deal = tx.get(Opportunity, opportunity_id)
            context = deal_context(tx, deal)
        return available_moves(
            self.pipelines.get(deal.pipeline), context, now=self.now(), reopen=reopen
        )

    def deals(self, pipeline: str | None = None) -> Deals:
        """Every deal of a pipeline (the first one by default) with its stage history, read
        in one transaction, ready for the :mod:`sfakit.pipeline` analytics:
        ``losses(sfa.deals()).worst`` answers "at which stage do we lose most deals?".
        """
        chosen = self.pipelines.get(pipeline) if pipeline else self.pipelines.pipelines[0]
        where = {"pipeline": chosen.key}
        with self.storage.transaction(readonly=True) as tx:
            opportunities = every_page(tx, Opportunity, where=where)
            history = every_page(tx, StageChange, where=where, order_by="at")
        return Deals.of(chosen, opportunities, history)

    def stage_history(self, opportunity_id: str) -> list[StageChange]:
        """The deal's stage changes, oldest first."""
        with self.storage.transaction(readonly=True) as tx:
            return list(
                tx.query(
                    StageChange,
                    where={"opportunity_id": opportunity_id},
                    order_by="at",
                    limit=10_000,
                ).items
            )
