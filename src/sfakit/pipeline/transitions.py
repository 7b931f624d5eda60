"""Stage moves: a new opportunity and the history entry that records the move.

:func:`move` checks the move (see :mod:`sfakit.pipeline.guidance`), then returns the
deal in its new stage and a :class:`~sfakit.model.StageChange` recording from, to, when,
who, why, and the amount and probability the deal has after the move (as Salesforce's
*OpportunityHistory* does). Like Salesforce, a stage move resets the deal's probability
and forecast category to the new stage's: the overrides are cleared. Closing sets
``closed_at``; reopening clears it; closing lost sets ``lost_reason``, any other move
clears it. Leaving an open stage records it as ``last_open_stage`` (where a lost deal
was lost).

:func:`replay` rebuilds the deal from its initial state and its history: replaying the
changes made by :func:`move` gives the deal :func:`move` returned.

>>> from datetime import datetime, timezone
>>> from sfakit.model import Opportunity
>>> from sfakit.pipeline import DealContext, standard_pipeline
>>> p = standard_pipeline()
>>> t0 = datetime(2026, 3, 2, tzinfo=timezone.utc)
>>> deal = Opportunity(name="Bulbs", account_id="acct_acme", pipeline="standard",
...                    stage="prospect", created_at=t0)
>>> later = datetime(2026, 3, 9, tzinfo=timezone.utc)
>>> moved, change = move(p, DealContext(opportunity=deal), "qualify", by="rep_anna", at=later)
>>> moved.stage, change.from_stage, change.probability
('qualify', 'prospect', Decimal('20'))
>>> replay(p, deal, [change]) == moved
True
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sfakit.errors import Problem, ValidationError
from sfakit.model.opportunities import Opportunity, StageChange
from sfakit.pipeline.context import DealContext
from sfakit.pipeline.definition import Pipeline, Stage
from sfakit.pipeline.guidance import MoveRefusedError, assess, check_context

__all__ = ["creation_change", "move", "replay"]


def _check_at(at: object) -> datetime:
    if not isinstance(at, datetime) or at.utcoffset() is None:
        raise ValidationError(
            "$.at", at, "a timezone-aware datetime (a naive datetime is ambiguous)"
        )
    return at


def _apply(
    opportunity: Opportunity, current: Stage, target: Stage, at: datetime, reason: str | None
) -> Opportunity:
    return opportunity.evolve(
        stage=target.key,
        last_open_stage=opportunity.last_open_stage if current.is_closed else current.key,
        probability_override=None,
        forecast_category_override=None,
        closed_at=at if target.is_closed else None,
        lost_reason=reason if target.is_lost else None,
        updated_at=max(opportunity.updated_at, at),
    )


def move(
    pipeline: Pipeline,
    context: DealContext,
    target: str,
    *,
    by: str | None,
    at: datetime,
    reason: str | None = None,
    reopen: bool = False,
) -> tuple[Opportunity, StageChange]:
    """Move ``context.opportunity`` to stage ``target``; return the new deal and its
    history entry (whose ``created_at`` is ``at``).

    Raises :class:`~sfakit.pipeline.guidance.MoveRefusedError` (a
    :class:`~sfakit.errors.TransitionError`) listing everything unmet, and
    :class:`~sfakit.errors.ValidationError` for bad input: a naive ``at`` or one before
    the deal was created (or, when reopening, before it closed), an unknown target, a
    deal of another pipeline. ``at`` is also the ``now`` of ``within_last`` requirements.

    >>> from datetime import datetime, timezone
    >>> from sfakit.model import Opportunity
    >>> from sfakit.pipeline import DealContext, standard_pipeline
    >>> deal = Opportunity(name="Bulbs", account_id="acct_acme", pipeline="standard",
    ...                    stage="qualify", created_at=datetime(2026, 3, 2, tzinfo=timezone.utc))
    >>> lost, change = move(standard_pipeline(), DealContext(opportunity=deal), "closed_lost",
    ...                     by="rep_anna", at=datetime(2026, 4, 1, tzinfo=timezone.utc),
    ...                     reason="price")
    >>> lost.lost_reason, lost.closed_at.date(), change.reason
    ('price', datetime.date(2026, 4, 1), 'price')
    """
    at = _check_at(at)
    opportunity = context.opportunity
    current = check_context(pipeline, opportunity)
    if at < opportunity.created_at:
        raise ValidationError(
            "$.at",
            at,
            f"a moment at or after the deal's creation ({opportunity.created_at.isoformat()})",
        )
    if current.is_closed and opportunity.closed_at is not None and at < opportunity.closed_at:
        raise ValidationError(
            "$.at",
            at,
            f"a moment at or after the deal was closed ({opportunity.closed_at.isoformat()})",
        )
    option = assess(
        pipeline, context, target, reopen=reopen, now=at, reason=reason, check_reason=True
    )
    if not option.allowed:
        raise MoveRefusedError(opportunity.id, current.key, option.target, option.missing)
    goal = pipeline.stage(option.target)
    moved = _apply(opportunity, current, goal, at, reason)
    change = StageChange(
        opportunity_id=opportunity.id,
        pipeline=pipeline.key,
        from_stage=current.key,
        to_stage=goal.key,
        at=at,
        by=by,
        reason=reason,
        amount=moved.amount,
        probability=pipeline.probability_of(moved),
        created_at=at,
    )
    return moved, change


def creation_change(
    pipeline: Pipeline, opportunity: Opportunity, *, by: str | None = None
) -> StageChange:
    """The first history entry of a new deal: ``from_stage`` None, into its stage, at its
    ``created_at``. Analytics then know which stage the deal started in even when it has
    not moved yet.

    >>> from datetime import datetime, timezone
    >>> from sfakit.model import Opportunity
    >>> from sfakit.pipeline import standard_pipeline
    >>> deal = Opportunity(name="Bulbs", account_id="acct_acme", pipeline="standard",
    ...                    stage="prospect", created_at=datetime(2026, 3, 2, tzinfo=timezone.utc))
    >>> entry = creation_change(standard_pipeline(), deal)
    >>> entry.from_stage, entry.to_stage, entry.at == deal.created_at
    (None, 'prospect', True)
    """
    check_context(pipeline, opportunity)
    return StageChange(
        opportunity_id=opportunity.id,
        pipeline=pipeline.key,
        from_stage=None,
        to_stage=opportunity.stage,
        at=opportunity.created_at,
        by=by,
        amount=opportunity.amount,
        probability=pipeline.probability_of(opportunity),
        created_at=opportunity.created_at,
    )


def replay(pipeline: Pipeline, initial: Opportunity, history: Iterable[StageChange]) -> Opportunity:
    """The deal after applying ``history`` (in the order given) to ``initial``.

    The history is taken as fact: the pipeline's move rules and requirements are not
    checked again (they may have changed since). It must be consistent, though: every
    change is of this deal and pipeline, starts from the stage the previous one ended in
    and goes to a stage the pipeline has; a creation entry (``from_stage`` None) may only
    come first. Otherwise a ValidationError names the entry (``$[3].from_stage``).

    >>> from datetime import datetime, timezone
    >>> from sfakit.model import Opportunity, StageChange
    >>> from sfakit.pipeline import standard_pipeline
    >>> t0 = datetime(2026, 3, 2, tzinfo=timezone.utc)
    >>> deal = Opportunity(name="Bulbs", account_id="acct_acme", pipeline="standard",
    ...                    stage="prospect", created_at=t0)
    >>> won = StageChange(opportunity_id=deal.id, pipeline="standard", from_stage="prospect",
    ...                   to_stage="closed_won", at=t0, created_at=t0)
    >>> replay(standard_pipeline(), deal, [won]).closed_at == t0
    True
    """
    check_context(pipeline, initial)
    state = initial
    for index, change in enumerate(history):
        problems = _inconsistencies(pipeline, state, change, index)
        if problems:
            raise ValidationError.from_problems(
                [p.under(f"$[{index}]") for p in problems], subject="history"
            )
        if change.from_stage is None:
            continue  # the creation entry: the deal is already there
        state = _apply(
            state,
            pipeline.stage(state.stage),
            pipeline.stage(change.to_stage),
            change.at,
            change.reason,
        )
    return state


def _inconsistencies(
    pipeline: Pipeline, state: Opportunity, change: object, index: int
) -> list[Problem]:
    if not isinstance(change, StageChange):
        return [Problem("$", "a StageChange", change)]
    problems: list[Problem] = []
    if change.opportunity_id != state.id:
        problems.append(Problem("$.opportunity_id", f"{state.id!r}", change.opportunity_id))
    if change.pipeline != pipeline.key:
        problems.append(Problem("$.pipeline", f"{pipeline.key!r}", change.pipeline))
    if change.to_stage not in pipeline:
        problems.append(
            Problem(
                "$.to_stage", f"one of the stages of pipeline {pipeline.key!r}", change.to_stage
            )
        )
    if change.from_stage is None:
        if index != 0 or change.to_stage != state.stage:
            problems.append(
                Problem(
                    "$.from_stage",
                    f"{state.stage!r}: only the first entry may be the creation entry "
                    "(from_stage null), into the deal's initial stage",
                    None,
                )
            )
    elif change.from_stage != state.stage:
        problems.append(
            Problem(
                "$.from_stage",
                f"{state.stage!r}, the stage the previous entry left the deal in",
                change.from_stage,
            )
        )
    if change.at < state.created_at:
        problems.append(
            Problem(
                "$.at",
                f"a moment at or after the deal's creation ({state.created_at.isoformat()})",
                change.at,
            )
        )
    return problems
