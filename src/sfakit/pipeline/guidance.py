"""Guided selling: which stage moves are allowed now, and what is missing for the others.

The moves (from the deal's current stage to a target):

* **next** — to the next open stage, or from the last open stage to the won stage:
  always allowed, once the requirements hold.
* **skip** — forward past one or more open stages: only if ``allow_skip_forward``.
  Skipping a stage does not skip its gates: the skipped stages' entry requirements and
  exit checklists must hold too.
* **back** — to an earlier open stage: only if ``allow_backward``; nothing is checked.
* **lose** — from any open stage to a lost stage: always allowed (a deal can be lost at
  any time, as in Salesforce), with a reason from the pipeline's ``lost_reasons``.
* **reopen** — from a closed stage: only with an explicit ``reopen=True``; the target's
  entry requirements must hold (a lost reason again if the target is lost).

A forward move (next, skip, or to the won stage) checks the current stage's exit
checklist, the entry requirements and exit checklists of every open stage passed, and the
target's entry requirements. Every unmet item is reported, each requirement with the
trace of its criteria, so a UI can show the rep exactly what to do.

>>> from datetime import datetime, timezone
>>> from sfakit.model import Opportunity
>>> from sfakit.pipeline import DealContext, standard_pipeline
>>> p = standard_pipeline()
>>> deal = Opportunity(name="Bulbs", account_id="acct_acme", pipeline="standard",
...                    stage="qualify", created_at=datetime(2026, 3, 2, tzinfo=timezone.utc))
>>> [(m.target, m.allowed) for m in available_moves(p, DealContext(opportunity=deal))][:3]
[('prospect', True), ('propose', False), ('negotiate', False)]
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import attrs

from sfakit.errors import TransitionError, ValidationError
from sfakit.model.opportunities import Opportunity
from sfakit.pipeline.context import DealContext
from sfakit.pipeline.definition import Checklist, Pipeline, Stage
from sfakit.rules import Trace, Verdict

__all__ = [
    "MoveKind",
    "MoveOption",
    "MoveRefusedError",
    "Unmet",
    "UnmetKind",
    "available_moves",
    "check_move",
]


class MoveKind(enum.StrEnum):
    """The kind of a stage move (see the module documentation).

    >>> MoveKind("skip") is MoveKind.SKIP
    True
    """

    NEXT = "next"
    SKIP = "skip"
    BACK = "back"
    LOSE = "lose"
    REOPEN = "reopen"


class UnmetKind(enum.StrEnum):
    """Why a move is refused: a stage ``requirement`` that does not hold, a pipeline
    ``rule`` (no skipping, no moving back, closed without reopen), or a missing or unknown
    lost ``reason``.

    >>> UnmetKind.REQUIREMENT.value
    'requirement'
    """

    REQUIREMENT = "requirement"
    RULE = "rule"
    REASON = "reason"


@attrs.frozen(kw_only=True)
class Unmet:
    """One thing that stands between a deal and a move.

    For a requirement, ``stage``, ``checklist`` and ``requirement`` say which, ``message``
    is its guidance, and ``trace`` shows how each condition of its criteria fared.

    >>> from sfakit.rules import LeafTrace
    >>> gap = Unmet(kind=UnmetKind.REQUIREMENT, message="Enter the expected amount",
    ...             stage="propose", checklist=Checklist.ENTRY, requirement="amount_set",
    ...             trace=LeafTrace("$", "opportunity.amount", "is_set", None, None, False))
    >>> print(gap.describe())
    entry requirement 'amount_set' of 'propose': Enter the expected amount
        [ ] opportunity.amount is_set (actual not set)  at $
    """

    kind: UnmetKind
    message: str
    stage: str | None = None
    checklist: Checklist | None = None
    requirement: str | None = None
    trace: Trace | None = None

    def describe(self) -> str:
        """One line (plus the trace, indented, for a requirement)."""
        if self.kind is not UnmetKind.REQUIREMENT:
            return self.message
        which = "entry requirement" if self.checklist is Checklist.ENTRY else "exit checklist item"
        head = f"{which} {self.requirement!r} of {self.stage!r}: {self.message}"
        if self.trace is None:
            return head
        lines = Verdict(False, self.trace).render().splitlines()[1:]
        return "\n".join([head, *("    " + line for line in lines)])


@attrs.frozen(kw_only=True)
class MoveOption:
    """A possible move for a UI: where to, which kind, whether it is allowed now, and
    everything ``missing`` for it. ``needs_reason`` is True for a lost target: the move
    then needs one of the pipeline's ``lost_reasons``.

    >>> from datetime import datetime, timezone
    >>> from sfakit.model import Opportunity
    >>> from sfakit.pipeline import DealContext, standard_pipeline
    >>> deal = Opportunity(name="Bulbs", account_id="acct_acme", pipeline="standard",
    ...                    stage="propose", created_at=datetime(2026, 3, 2, tzinfo=timezone.utc))
    >>> option = check_move(standard_pipeline(), DealContext(opportunity=deal), "negotiate")
    >>> option.kind, option.allowed, [m.requirement for m in option.missing]
    (<MoveKind.NEXT: 'next'>, False, ['decision_maker_known'])
    """

    target: str
    kind: MoveKind
    missing: tuple[Unmet, ...] = ()
    needs_reason: bool = False

    @property
    def allowed(self) -> bool:
        """True when nothing is missing."""
        return not self.missing


class MoveRefusedError(TransitionError):
    """A stage move the pipeline does not allow now; ``unmet`` lists every reason.

    >>> err = MoveRefusedError("opp_1", "qualify", "propose",
    ...                   (Unmet(kind=UnmetKind.RULE, message="skipping is not allowed"),))
    >>> print(err)
    cannot move opp_1 from 'qualify' to 'propose' (1 unmet):
      - skipping is not allowed
    """

    def __init__(
        self, opportunity_id: str, from_stage: str, target: str, unmet: tuple[Unmet, ...]
    ) -> None:
        self.opportunity_id = opportunity_id
        self.from_stage = from_stage
        self.target = target
        self.unmet = unmet
        lines = [
            f"cannot move {opportunity_id} from {from_stage!r} to {target!r} ({len(unmet)} unmet):"
        ]
        for item in unmet:
            first, *rest = item.describe().splitlines()
            lines.append(f"  - {first}")
            lines.extend(f"  {line}" for line in rest)
        super().__init__("\n".join(lines))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.opportunity_id, self.from_stage, self.target, self.unmet))


def check_context(pipeline: Pipeline, opportunity: Opportunity) -> Stage:
    """The deal's current stage, or a ValidationError if the deal is not in ``pipeline``."""
    if opportunity.pipeline != pipeline.key:
        raise ValidationError(
            "$.opportunity.pipeline",
            opportunity.pipeline,
            f"{pipeline.key!r}: the deal must be in the pipeline its moves are checked against",
        )
    if opportunity.stage not in pipeline:
        raise pipeline.unknown_stage("$.opportunity.stage", opportunity.stage)
    return pipeline.stage(opportunity.stage)


def _gates(pipeline: Pipeline, current: Stage, target: Stage) -> list[tuple[Stage, Checklist]]:
    gates = [(current, Checklist.EXIT)]
    for stage in pipeline.stages[pipeline.index(current.key) + 1 : pipeline.index(target.key)]:
        if not stage.is_closed:
            gates += [(stage, Checklist.ENTRY), (stage, Checklist.EXIT)]
    gates.append((target, Checklist.ENTRY))
    return gates


def _unmet_requirements(
    pipeline: Pipeline,
    context: DealContext,
    gates: list[tuple[Stage, Checklist]],
    now: datetime | None,
) -> list[Unmet]:
    unmet: list[Unmet] = []
    for stage, checklist in gates:
        for requirement, rule in pipeline.compiled(stage.key, checklist):
            if rule.matches(context, now=now):
                continue
            verdict = rule.explain(context, now=now)
            unmet.append(
                Unmet(
                    kind=UnmetKind.REQUIREMENT,
                    message=requirement.message or f"{requirement.name} is not met",
                    stage=stage.key,
                    checklist=checklist,
                    requirement=requirement.name,
                    trace=verdict.trace,
                )
            )
    return unmet


def _reason_problem(pipeline: Pipeline, reason: str | None) -> Unmet | None:
    allowed = ", ".join(pipeline.lost_reasons)
    if reason is None:
        return Unmet(kind=UnmetKind.REASON, message=f"a lost reason is required: one of {allowed}")
    if reason not in pipeline.lost_reasons:
        return Unmet(
            kind=UnmetKind.REASON,
            message=f"unknown lost reason {reason!r}: use one of {allowed}",
        )
    return None


def assess(
    pipeline: Pipeline,
    context: DealContext,
    target: str,
    *,
    reopen: bool,
    now: datetime | None,
    reason: str | None,
    check_reason: bool,
) -> MoveOption:
    """The one place that decides a move (used by :func:`check_move`,
    :func:`available_moves` and :func:`~sfakit.pipeline.transitions.move`)."""
    current = check_context(pipeline, context.opportunity)
    if target not in pipeline:
        raise pipeline.unknown_stage("$.target", target)
    goal = pipeline.stage(target)
    if goal.key == current.key:
        raise ValidationError(
            "$.target", target, f"a stage other than the deal's current stage {current.key!r}"
        )
    rules: list[Unmet] = []
    gates: list[tuple[Stage, Checklist]] = []
    here, there = pipeline.index(current.key), pipeline.index(goal.key)
    if current.is_closed:
        kind = MoveKind.REOPEN
        if not reopen:
            rules.append(
                Unmet(
                    kind=UnmetKind.RULE,
                    message=f"the deal is closed ({current.key!r}): pass reopen=True to reopen it",
                )
            )
        gates = [(goal, Checklist.ENTRY)]
    elif goal.is_lost:
        kind = MoveKind.LOSE
        gates = [(goal, Checklist.ENTRY)]
    elif there > here:
        passed = [s.key for s in pipeline.stages[here + 1 : there] if not s.is_closed]
        kind = MoveKind.SKIP if passed else MoveKind.NEXT
        if passed and not pipeline.allow_skip_forward:
            rules.append(
                Unmet(
                    kind=UnmetKind.RULE,
                    message=f"pipeline {pipeline.key!r} does not allow skipping stages: "
                    f"move to {passed[0]!r} first",
                )
            )
        gates = _gates(pipeline, current, goal)
    else:
        kind = MoveKind.BACK
        if not pipeline.allow_backward:
            rules.append(
                Unmet(
                    kind=UnmetKind.RULE,
                    message=f"pipeline {pipeline.key!r} does not allow moving back "
                    f"from {current.key!r} to {goal.key!r}",
                )
            )
    missing = rules + _unmet_requirements(pipeline, context, gates, now)
    if goal.is_lost and check_reason:
        problem = _reason_problem(pipeline, reason)
        if problem is not None:
            missing.append(problem)
    return MoveOption(target=goal.key, kind=kind, missing=tuple(missing), needs_reason=goal.is_lost)


def check_move(
    pipeline: Pipeline,
    context: DealContext,
    target: str,
    *,
    reason: str | None = None,
    reopen: bool = False,
    now: datetime | None = None,
) -> MoveOption:
    """Whether :func:`~sfakit.pipeline.transitions.move` would accept this move, and if
    not, everything missing (a lost target needs ``reason`` here too).

    ``now`` is needed by requirements that use ``within_last``. An unknown ``target``,
    the current stage, or a deal of another pipeline is a ValidationError.

    >>> from datetime import datetime, timezone
    >>> from sfakit.model import Opportunity
    >>> from sfakit.pipeline import DealContext, standard_pipeline
    >>> deal = Opportunity(name="Bulbs", account_id="acct_acme", pipeline="standard",
    ...                    stage="qualify", created_at=datetime(2026, 3, 2, tzinfo=timezone.utc))
    >>> option = check_move(standard_pipeline(), DealContext(opportunity=deal), "closed_lost",
    ...                     reason="bad luck")
    >>> print(option.missing[0].describe())  # doctest: +ELLIPSIS
    unknown lost reason 'bad luck': use one of price, competitor, no_budget, ...
    """
    return assess(
        pipeline, context, target, reopen=reopen, now=now, reason=reason, check_reason=True
    )


def available_moves(
    pipeline: Pipeline,
    context: DealContext,
    *,
    now: datetime | None = None,
    reopen: bool = False,
) -> list[MoveOption]:
    """Every stage the deal could move to, in pipeline order (the current one left out),
    each saying whether it is allowed now and what is missing. Lost targets are not
    refused for want of a reason here: their ``needs_reason`` tells the UI to ask for one.

    >>> from datetime import datetime, timezone
    >>> from sfakit.model import Money, Opportunity
    >>> from sfakit.pipeline import DealContext, standard_pipeline
    >>> deal = Opportunity(name="Bulbs", account_id="acct_acme", pipeline="standard",
    ...                    stage="qualify", next_step="Send the quote",
    ...                    amount=Money.of(4800, "EUR"),
    ...                    created_at=datetime(2026, 3, 2, tzinfo=timezone.utc))
    >>> for option in available_moves(standard_pipeline(), DealContext(opportunity=deal)):
    ...     print(option.target, option.kind.value, option.allowed, len(option.missing))
    prospect back True 0
    propose next True 0
    negotiate skip False 1
    closed_won skip False 1
    closed_lost lose True 0
    """
    current = check_context(pipeline, context.opportunity)
    return [
        assess(pipeline, context, key, reopen=reopen, now=now, reason=None, check_reason=False)
        for key in pipeline.keys
        if key != current.key
    ]
