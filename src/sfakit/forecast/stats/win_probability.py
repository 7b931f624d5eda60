"""Per-stage win probability learned from closed deals: P(won | reached the stage).

For every open stage, :func:`learn_win_probabilities` counts the closed deals that
*reached* it (entered it at least once: their first stage or any later move) and how
many of those were *won*, and divides. A deal is judged by its current state, as the
pipeline analytics (and Salesforce reports) do: lost, reopened and then won counts as
won. Open deals are left out: their outcome is not known yet.

An optional :class:`BetaPrior` adds pseudo-counts: with ``alpha`` pseudo-wins and
``beta`` pseudo-losses the estimate is the posterior mean of a Beta(alpha, beta) prior,
``(won + alpha) / (reached + alpha + beta)``; :meth:`BetaPrior.laplace` (1, 1) is
Laplace's rule of succession. It keeps a stage reached by three deals, all lost, from
reading as a certain loss. A stage no closed deal reached has no estimate (None, with
the reason), never 0 and never the prior alone: a prior is not evidence.

>>> from datetime import datetime, timezone
>>> from sfakit.model import Opportunity
>>> from sfakit.pipeline import Deals, standard_pipeline
>>> t0 = datetime(2026, 3, 2, tzinfo=timezone.utc)
>>> won, lost = (Opportunity(name=n, account_id="acct_a", pipeline="standard", stage=s,
...                          created_at=t0, closed_at=t0)
...              for n, s in (("A", "closed_won"), ("B", "closed_lost")))
>>> learned = learn_win_probabilities(Deals.of(standard_pipeline(), [won, lost]))
>>> learned.closed_deals, learned.row("prospect").reached
(2, 0)
>>> learned.row("prospect").reason
"no closed deal reached stage 'prospect'"
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import attrs

from sfakit.errors import Problem, ValidationError
from sfakit.forecast.stats._numbers import decimal_of, positive_decimal, unit_interval
from sfakit.model.checks import (
    instance_of,
    non_negative_int,
    optional,
    text,
    to_decimal,
    to_tuple,
    tuple_of,
)
from sfakit.model.opportunities import Opportunity
from sfakit.pipeline.deals import Deals, Window

__all__ = ["BetaPrior", "StageWinProbability", "WinProbabilities", "learn_win_probabilities"]

_key = text(max_length=100)


@attrs.frozen(kw_only=True)
class BetaPrior:
    """A Beta(``alpha``, ``beta``) prior on a win probability: ``alpha`` pseudo-wins and
    ``beta`` pseudo-losses added to the counts of every stage.

    >>> BetaPrior.laplace()
    BetaPrior(alpha=Decimal('1'), beta=Decimal('1'))
    >>> BetaPrior(alpha="0.5", beta="0.5").mean
    Decimal('0.5')
    """

    alpha: Decimal = attrs.field(converter=to_decimal, validator=positive_decimal)
    beta: Decimal = attrs.field(converter=to_decimal, validator=positive_decimal)

    @classmethod
    def laplace(cls) -> BetaPrior:
        """Laplace's rule of succession: one pseudo-win and one pseudo-loss."""
        return cls(alpha=Decimal(1), beta=Decimal(1))

    @property
    def mean(self) -> Decimal:
        """The prior's own estimate, alpha / (alpha + beta)."""
        return decimal_of(Fraction(self.alpha) / (Fraction(self.alpha) + Fraction(self.beta)))

    def estimate(self, won: int, reached: int) -> Fraction:
        """The posterior mean, exactly."""
        return (won + Fraction(self.alpha)) / (reached + Fraction(self.alpha) + Fraction(self.beta))


@attrs.frozen(kw_only=True)
class StageWinProbability:
    """Of the closed deals that ``reached`` ``stage``, how many were ``won``, and the
    estimated ``probability`` of winning (0 to 1); None with a ``reason`` when no closed
    deal reached the stage.

    >>> from decimal import Decimal
    >>> StageWinProbability(stage="propose", reached=4, won=1, probability=Decimal("0.25"))
    ... # doctest: +ELLIPSIS
    StageWinProbability(stage='propose', reached=4, won=1, probability=Decimal('0.25'), ...)
    """

    stage: str = attrs.field(validator=_key)
    reached: int = attrs.field(validator=non_negative_int)
    won: int = attrs.field(validator=non_negative_int)
    probability: Decimal | None = attrs.field(
        converter=to_decimal, validator=optional(unit_interval)
    )
    reason: str | None = attrs.field(default=None, validator=optional(text(max_length=500)))

    def __attrs_post_init__(self) -> None:
        problems: list[Problem] = []
        if self.won > self.reached:
            problems.append(Problem("$.won", f"at most reached ({self.reached})", self.won))
        if (self.probability is None) != (self.reason is not None):
            problems.append(
                Problem("$.reason", "a reason exactly when there is no probability", self.reason)
            )
        if (self.reached == 0) != (self.probability is None):
            problems.append(
                Problem(
                    "$.probability",
                    "None exactly when no deal reached the stage",
                    self.probability,
                )
            )
        if problems:
            raise ValidationError.from_problems(problems, subject="stage win probability")


@attrs.frozen(kw_only=True)
class WinProbabilities:
    """P(won | reached stage) for every open stage of ``pipeline``, in pipeline order,
    learned from ``closed_deals`` closed deals (``won_deals`` of them won) that closed in
    ``window`` (any time when None), with the ``prior`` used, if any.

    >>> from sfakit.pipeline import Deals, standard_pipeline
    >>> learned = learn_win_probabilities(Deals.of(standard_pipeline(), []))
    >>> [row.stage for row in learned.stages], learned.probability("qualify")
    (['prospect', 'qualify', 'propose', 'negotiate'], None)
    """

    pipeline: str = attrs.field(validator=_key)
    closed_deals: int = attrs.field(validator=non_negative_int)
    won_deals: int = attrs.field(validator=non_negative_int)
    stages: tuple[StageWinProbability, ...] = attrs.field(
        converter=to_tuple,
        validator=tuple_of(instance_of(StageWinProbability, "a StageWinProbability")),
    )
    prior: BetaPrior | None = attrs.field(
        default=None, validator=optional(instance_of(BetaPrior, "a BetaPrior"))
    )
    window: Window | None = attrs.field(
        default=None, validator=optional(instance_of(Window, "a Window"))
    )

    def __attrs_post_init__(self) -> None:
        problems: list[Problem] = []
        if self.won_deals > self.closed_deals:
            problems.append(
                Problem(
                    "$.won_deals", f"at most closed_deals ({self.closed_deals})", self.won_deals
                )
            )
        seen: set[str] = set()
        for i, row in enumerate(self.stages):
            if row.stage in seen:
                problems.append(Problem(f"$.stages[{i}].stage", "a stage listed once", row.stage))
            seen.add(row.stage)
            if row.reached > self.closed_deals:
                problems.append(
                    Problem(
                        f"$.stages[{i}].reached",
                        f"at most closed_deals ({self.closed_deals})",
                        row.reached,
                    )
                )
        if problems:
            raise ValidationError.from_problems(problems, subject="win probabilities")

    def row(self, stage: str) -> StageWinProbability:
        """The row of ``stage`` (a ValidationError naming the stages if there is none)."""
        for row in self.stages:
            if row.stage == stage:
                return row
        raise ValidationError(
            "$.stage",
            stage,
            f"one of the open stages in this result: {', '.join(r.stage for r in self.stages)}",
        )

    def probability(self, stage: str) -> Decimal | None:
        """The estimate for ``stage``; None when no closed deal reached it."""
        return self.row(stage).probability


def _closed_in(deals: Deals, opportunity: Opportunity, window: Window | None) -> bool:
    if window is None:
        return True
    closed = deals.closed_at(opportunity)
    return closed is not None and closed in window


def learn_win_probabilities(
    deals: Deals, *, prior: BetaPrior | None = None, window: Window | None = None
) -> WinProbabilities:
    """P(won | reached stage) for each open stage, from the deals closed in ``window``
    (every closed deal when None; with a window, a closed deal with no known close moment
    is left out), with ``prior`` pseudo-counts added when given.

    >>> from datetime import datetime, timezone
    >>> from sfakit.model import Opportunity, StageChange
    >>> from sfakit.pipeline import Deals, standard_pipeline
    >>> t0 = datetime(2026, 3, 2, tzinfo=timezone.utc)
    >>> won = Opportunity(name="A", account_id="acct_a", pipeline="standard",
    ...                   stage="closed_won", created_at=t0, closed_at=t0)
    >>> step = StageChange(opportunity_id=won.id, pipeline="standard", from_stage="propose",
    ...                    to_stage="closed_won", at=t0, created_at=t0)
    >>> deals = Deals.of(standard_pipeline(), [won], [step])
    >>> learn_win_probabilities(deals).probability("propose")
    Decimal('1')
    >>> learn_win_probabilities(deals, prior=BetaPrior.laplace()).probability("propose")
    Decimal('0.6666666666666666666666666667')
    """
    pipeline = deals.pipeline
    order = [s.key for s in pipeline.open_stages]
    won_key = pipeline.won_stage.key
    lost_keys = frozenset(s.key for s in pipeline.lost_stages)
    closed = [
        o
        for o in deals
        if (o.stage == won_key or o.stage in lost_keys) and _closed_in(deals, o, window)
    ]
    reached = dict.fromkeys(order, 0)
    won = dict.fromkeys(order, 0)
    won_deals = 0
    for timeline in deals.timelines_of(closed):
        is_won = timeline.opportunity.stage == won_key
        won_deals += is_won
        for stage in {stage for stage, _ in timeline.entries() if stage in reached}:
            reached[stage] += 1
            won[stage] += is_won
    where = "" if window is None else " in the window"
    return WinProbabilities(
        pipeline=pipeline.key,
        closed_deals=len(closed),
        won_deals=won_deals,
        stages=tuple(_row(k, reached[k], won[k], prior, where) for k in order),
        prior=prior,
        window=window,
    )


def _row(
    stage: str, reached: int, won: int, prior: BetaPrior | None, where: str
) -> StageWinProbability:
    if reached == 0:
        return StageWinProbability(
            stage=stage,
            reached=0,
            won=0,
            probability=None,
            reason=f"no closed deal{where} reached stage {stage!r}",
        )
    exact = Fraction(won, reached) if prior is None else prior.estimate(won, reached)
    return StageWinProbability(stage=stage, reached=reached, won=won, probability=decimal_of(exact))
