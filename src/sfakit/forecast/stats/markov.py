"""An absorbing Markov chain over stage moves: where a deal in a stage ends up, and after
how many moves.

The states are the pipeline's stages: the open stages are *transient*, the closed ones
(won, lost) *absorbing*. :func:`learn_chain` counts every observed move out of an open
stage (``Transition``: from, to, how many); the estimated probability of moving from
``i`` to ``j`` is ``moves(i → j) / moves out of i`` (the maximum-likelihood estimate).
Moves out of a closed stage (a deal reopened) are counted in ``reopenings`` and
otherwise left out: in the model a close is final.

With ``Q`` the transient-to-transient and ``R`` the transient-to-absorbing probabilities,
the *fundamental matrix* ``N = (I - Q)⁻¹`` holds the expected number of visits to each
stage, ``B = N·R`` the probability of ending in each closed stage (each row sums to 1),
and ``t = N·1`` the expected number of moves until the deal closes (Kemeny & Snell,
*Finite Markov Chains*, ch. III; Grinstead & Snell, *Introduction to Probability*,
§11.2). Everything is solved exactly in fractions (Gauss-Jordan on a matrix the size of
the pipeline), and rounded once to 28 significant digits in :class:`StageOutlook`.

A stage with no observed move out has no estimate: nothing says where its deals go.
Neither has a stage whose observed moves can lead to such a stage, or that never leads to
a close (deals seen only moving back and forth). Those stages get None with the reason;
the others are solved on their own, which is exact, since no observed move leads from
them to an unknown stage.

>>> chain = AbsorbingChain(pipeline="p", transient=["talk"], absorbing=["won", "lost"],
...                        won_stage="won",
...                        transitions=[Transition(from_stage="talk", to_stage="won", moves=1),
...                                     Transition(from_stage="talk", to_stage="lost", moves=3)])
>>> chain.outlook("talk").win_probability
Decimal('0.25')
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import NamedTuple

import attrs

from sfakit.errors import Problem, ValidationError
from sfakit.forecast.stats._numbers import decimal_of, non_negative_decimal, unit_interval
from sfakit.model.checks import (
    instance_of,
    non_negative_int,
    optional,
    text,
    to_decimal,
    to_tuple,
    tuple_of,
)
from sfakit.pipeline.deals import Deals, Window

__all__ = [
    "AbsorbingChain",
    "ClosingProbability",
    "StageOutlook",
    "Transition",
    "learn_chain",
]

_key = text(max_length=100)
_keys = tuple_of(_key)

Matrix = tuple[tuple[Fraction, ...], ...]


def _positive_int(instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValidationError(f"$.{attribute.name}", value, "a whole number >= 1")


@attrs.frozen(kw_only=True)
class Transition:
    """``moves`` observed moves from ``from_stage`` to ``to_stage``.

    >>> Transition(from_stage="propose", to_stage="negotiate", moves=12).moves
    12
    """

    from_stage: str = attrs.field(validator=_key)
    to_stage: str = attrs.field(validator=_key)
    moves: int = attrs.field(validator=_positive_int)


@attrs.frozen(kw_only=True)
class ClosingProbability:
    """The probability that a deal ends in closed ``stage``.

    >>> ClosingProbability(stage="closed_won", probability="0.4").probability
    Decimal('0.4')
    """

    stage: str = attrs.field(validator=_key)
    probability: Decimal = attrs.field(converter=to_decimal, validator=unit_interval)


@attrs.frozen(kw_only=True)
class StageOutlook:
    """Where a deal now in ``stage`` ends up: the ``win_probability``, the probability of
    each closed stage (``closing``), the ``expected_moves`` until it closes, and the
    ``moves_out`` of the stage the estimate rests on. Without an estimate the numbers are
    None (``closing`` empty) and ``reason`` says why.

    >>> StageOutlook(stage="qualify", moves_out=0, win_probability=None,
    ...              reason="no observed move out of stage 'qualify'").closing
    ()
    """

    stage: str = attrs.field(validator=_key)
    moves_out: int = attrs.field(validator=non_negative_int)
    win_probability: Decimal | None = attrs.field(
        converter=to_decimal, validator=optional(unit_interval)
    )
    closing: tuple[ClosingProbability, ...] = attrs.field(
        default=(),
        converter=to_tuple,
        validator=tuple_of(instance_of(ClosingProbability, "a ClosingProbability")),
    )
    expected_moves: Decimal | None = attrs.field(
        default=None, converter=to_decimal, validator=optional(non_negative_decimal)
    )
    reason: str | None = attrs.field(default=None, validator=optional(text(max_length=500)))

    def __attrs_post_init__(self) -> None:
        known = self.win_probability is not None
        problems: list[Problem] = []
        if known == (self.reason is not None):
            problems.append(
                Problem("$.reason", "a reason exactly when there is no estimate", self.reason)
            )
        if known != (self.expected_moves is not None) or known != bool(self.closing):
            problems.append(
                Problem(
                    "$.expected_moves",
                    "expected_moves and closing given exactly when win_probability is",
                    self.expected_moves,
                )
            )
        if problems:
            raise ValidationError.from_problems(problems, subject="stage outlook")


class _Solution(NamedTuple):
    counts: dict[str, dict[str, int]]
    exits: dict[str, int]
    solvable: tuple[str, ...]
    fundamental: Matrix
    absorption: Matrix
    steps: tuple[Fraction, ...]
    reasons: dict[str, str]


@attrs.frozen(kw_only=True)
class AbsorbingChain:
    """The chain learned from stage moves: the observed ``transitions`` between the
    ``transient`` (open) and into the ``absorbing`` (closed) stages of ``pipeline``, one of
    which is the ``won_stage``. This is the data; the solution (exact fractions) is
    computed when the chain is built or loaded, and is not part of the data.

    ``reopenings`` counts moves out of closed stages that were left out, ``deals`` the
    deals whose history was read.

    >>> from sfakit.codec import from_data, to_data
    >>> chain = AbsorbingChain(pipeline="p", transient=["a", "b"], absorbing=["won", "lost"],
    ...     won_stage="won", transitions=[
    ...         Transition(from_stage="a", to_stage="b", moves=3),
    ...         Transition(from_stage="a", to_stage="lost", moves=1),
    ...         Transition(from_stage="b", to_stage="won", moves=1),
    ...         Transition(from_stage="b", to_stage="a", moves=1),
    ...         Transition(from_stage="b", to_stage="lost", moves=2)])
    >>> [str(x) for row in chain.absorption_matrix() for x in row]
    ['3/13', '10/13', '4/13', '9/13']
    >>> from_data(AbsorbingChain, to_data(chain)) == chain
    True
    """

    pipeline: str = attrs.field(validator=_key)
    transient: tuple[str, ...] = attrs.field(converter=to_tuple, validator=_keys)
    absorbing: tuple[str, ...] = attrs.field(converter=to_tuple, validator=_keys)
    won_stage: str = attrs.field(validator=_key)
    transitions: tuple[Transition, ...] = attrs.field(
        converter=to_tuple, validator=tuple_of(instance_of(Transition, "a Transition"))
    )
    reopenings: int = attrs.field(default=0, validator=non_negative_int)
    deals: int = attrs.field(default=0, validator=non_negative_int)
    _solution: _Solution = attrs.field(init=False, eq=False, repr=False, hash=False)

    def __attrs_post_init__(self) -> None:
        problems = self._problems()
        if problems:
            raise ValidationError.from_problems(problems, subject="absorbing chain")
        object.__setattr__(self, "_solution", _solve(self))

    def _problems(self) -> list[Problem]:
        problems: list[Problem] = []
        if not self.transient:
            problems.append(Problem("$.transient", "at least one open stage", []))
        if not self.absorbing:
            problems.append(Problem("$.absorbing", "at least one closed stage", []))
        seen: dict[str, str] = {}
        for name in ("transient", "absorbing"):
            for i, key in enumerate(getattr(self, name)):
                if key in seen:
                    problems.append(
                        Problem(f"$.{name}[{i}]", f"a stage not already in {seen[key]}", key)
                    )
                seen.setdefault(key, name)
        if self.won_stage not in self.absorbing:
            problems.append(
                Problem(
                    "$.won_stage",
                    f"one of the absorbing stages: {', '.join(self.absorbing)}",
                    self.won_stage,
                )
            )
        transient = frozenset(self.transient)
        pairs: dict[tuple[str, str], int] = {}
        for i, move in enumerate(self.transitions):
            if move.from_stage not in transient:
                problems.append(
                    Problem(
                        f"$.transitions[{i}].from_stage",
                        f"one of the transient stages: {', '.join(self.transient)}",
                        move.from_stage,
                    )
                )
            if move.to_stage not in seen:
                problems.append(
                    Problem(
                        f"$.transitions[{i}].to_stage",
                        f"one of the stages: {', '.join(self.transient + self.absorbing)}",
                        move.to_stage,
                    )
                )
            pair = (move.from_stage, move.to_stage)
            if pair in pairs:
                problems.append(
                    Problem(
                        f"$.transitions[{i}]",
                        f"a pair of stages not already counted in transitions[{pairs[pair]}]",
                        f"{move.from_stage} -> {move.to_stage}",
                    )
                )
            pairs.setdefault(pair, i)
        return problems

    # -- exact results --------------------------------------------------------------

    @property
    def solvable(self) -> tuple[str, ...]:
        """The transient stages that have an estimate, in order: the rows of
        :meth:`fundamental_matrix` and :meth:`absorption_matrix`."""
        return self._solution.solvable

    def transition_probability(self, from_stage: str, to_stage: str) -> Fraction | None:
        """The estimated probability of a move from ``from_stage`` (transient) to
        ``to_stage``, exactly; None when no move out of ``from_stage`` was observed."""
        self._check_stage(from_stage, self.transient, "$.from_stage")
        self._check_stage(to_stage, self.transient + self.absorbing, "$.to_stage")
        exits = self._solution.exits[from_stage]
        if exits == 0:
            return None
        return Fraction(self._solution.counts[from_stage].get(to_stage, 0), exits)

    def fundamental_matrix(self) -> Matrix:
        """``N = (I - Q)⁻¹`` over :attr:`solvable`: ``N[i][j]`` is the expected number of
        times a deal now in stage i will be in stage j (counting now) before it closes."""
        return self._solution.fundamental

    def absorption_matrix(self) -> Matrix:
        """``B = N·R``: rows :attr:`solvable`, columns ``absorbing``; ``B[i][k]`` is the
        probability that a deal now in stage i ends in closed stage k. Rows sum to 1."""
        return self._solution.absorption

    def expected_moves(self) -> tuple[Fraction, ...]:
        """``t = N·1`` over :attr:`solvable`: the expected number of moves until a close."""
        return self._solution.steps

    # -- outlooks -------------------------------------------------------------------

    def outlook(self, stage: str) -> StageOutlook:
        """Where a deal now in ``stage`` ends up. A closed stage is its own end: a won
        deal has win probability 1 and no moves left, a lost one 0.

        >>> AbsorbingChain(pipeline="p", transient=["a"], absorbing=["won", "lost"],
        ...                won_stage="won", transitions=[]).outlook("a").reason
        "no observed move out of stage 'a'"
        """
        self._check_stage(stage, self.transient + self.absorbing, "$.stage")
        solution = self._solution
        if stage in self.absorbing:
            return StageOutlook(
                stage=stage,
                moves_out=0,
                win_probability=Decimal(int(stage == self.won_stage)),
                closing=tuple(
                    ClosingProbability(stage=k, probability=Decimal(int(k == stage)))
                    for k in self.absorbing
                ),
                expected_moves=Decimal(0),
            )
        exits = solution.exits[stage]
        if stage in solution.reasons:
            return StageOutlook(
                stage=stage, moves_out=exits, win_probability=None, reason=solution.reasons[stage]
            )
        row = solution.solvable.index(stage)
        ends = solution.absorption[row]
        return StageOutlook(
            stage=stage,
            moves_out=exits,
            win_probability=decimal_of(ends[self.absorbing.index(self.won_stage)]),
            closing=tuple(
                ClosingProbability(stage=k, probability=decimal_of(p))
                for k, p in zip(self.absorbing, ends, strict=True)
            ),
            expected_moves=decimal_of(solution.steps[row]),
        )

    @property
    def outlooks(self) -> tuple[StageOutlook, ...]:
        """The outlook of every open stage, in order."""
        return tuple(self.outlook(stage) for stage in self.transient)

    def win_probability(self, stage: str) -> Decimal | None:
        """P(eventually won | now in ``stage``); None when the stage has no estimate."""
        return self.outlook(stage).win_probability

    def _check_stage(self, stage: str, allowed: tuple[str, ...], path: str) -> None:
        if stage not in allowed:
            raise ValidationError(path, stage, f"one of the stages: {', '.join(allowed)}")


def _solve(chain: AbsorbingChain) -> _Solution:
    transient, absorbing = chain.transient, chain.absorbing
    counts: dict[str, dict[str, int]] = {s: {} for s in transient}
    for move in chain.transitions:
        counts[move.from_stage][move.to_stage] = move.moves
    exits = {s: sum(counts[s].values()) for s in transient}
    reasons = {s: f"no observed move out of stage {s!r}" for s in transient if exits[s] == 0}
    good = [s for s in transient if s not in reasons]
    changed = True
    while changed:
        changed = False
        for s in list(good):
            target = next((t for t in transient if t in counts[s] and t in reasons), None)
            if target is not None:
                reasons[s] = f"deals move from it to stage {target!r}, which has no estimate"
                good.remove(s)
                changed = True
        ends = {s for s in good if any(t in counts[s] for t in absorbing)}
        grew = True
        while grew:
            before = len(ends)
            ends.update(s for s in good if any(t in ends for t in counts[s]))
            grew = len(ends) > before
        for s in [s for s in good if s not in ends]:
            reasons[s] = "its observed moves never lead to a closed stage"
            good.remove(s)
            changed = True
    size = len(good)
    index = {s: i for i, s in enumerate(good)}
    minus_q = [[Fraction(int(i == j)) for j in range(size)] for i in range(size)]
    width = len(absorbing)
    r = [[Fraction(0)] * width for _ in range(size)]
    for s in good:
        i = index[s]
        for t, moves in counts[s].items():
            p = Fraction(moves, exits[s])
            if t in index:
                minus_q[i][index[t]] -= p
            else:
                r[i][absorbing.index(t)] += p
    n = _inverse(minus_q)
    b = tuple(
        tuple(sum((n[i][m] * r[m][k] for m in range(size)), Fraction(0)) for k in range(width))
        for i in range(size)
    )
    steps = tuple(sum(row, Fraction(0)) for row in n)
    return _Solution(counts, exits, tuple(good), n, b, steps, reasons)


def _inverse(matrix: list[list[Fraction]]) -> Matrix:
    # Gauss-Jordan with exact fractions. I - Q is invertible here: from every remaining
    # stage a close is reachable, so Q**k -> 0 (Kemeny & Snell, theorem 3.2.1).
    size = len(matrix)
    work = [row[:] + [Fraction(int(i == j)) for j in range(size)] for i, row in enumerate(matrix)]
    for col in range(size):
        pivot = next(r for r in range(col, size) if work[r][col] != 0)
        work[col], work[pivot] = work[pivot], work[col]
        lead = work[col][col]
        work[col] = [x / lead for x in work[col]]
        for r in range(size):
            factor = work[r][col]
            if r != col and factor != 0:
                work[r] = [x - factor * y for x, y in zip(work[r], work[col], strict=True)]
    return tuple(tuple(row[size:]) for row in work)


def learn_chain(deals: Deals, *, window: Window | None = None) -> AbsorbingChain:
    """The chain of ``deals``' pipeline, from every move in their history (only those
    made inside ``window`` when given), open deals' moves included.

    >>> from datetime import datetime, timezone
    >>> from sfakit.model import Opportunity, StageChange
    >>> from sfakit.pipeline import Deals, standard_pipeline
    >>> t0 = datetime(2026, 3, 2, tzinfo=timezone.utc)
    >>> deal = Opportunity(name="A", account_id="acct_a", pipeline="standard",
    ...                    stage="closed_won", created_at=t0, closed_at=t0)
    >>> step = StageChange(opportunity_id=deal.id, pipeline="standard", from_stage="negotiate",
    ...                    to_stage="closed_won", at=t0, created_at=t0)
    >>> chain = learn_chain(Deals.of(standard_pipeline(), [deal], [step]))
    >>> chain.transitions, chain.win_probability("negotiate")
    ((Transition(from_stage='negotiate', to_stage='closed_won', moves=1),), Decimal('1'))
    """
    pipeline = deals.pipeline
    transient = tuple(s.key for s in pipeline.open_stages)
    absorbing = tuple(s.key for s in pipeline.stages if s.is_closed)
    closed = frozenset(absorbing)
    counts: dict[tuple[str, str], int] = {}
    reopenings = 0
    for timeline in deals.timelines:
        for move in timeline.moves:
            if window is not None and move.at not in window:
                continue
            if move.from_stage is None:  # consistent histories have none past the first
                continue
            if move.from_stage in closed:
                reopenings += 1
                continue
            pair = (move.from_stage, move.to_stage)
            counts[pair] = counts.get(pair, 0) + 1
    rank = pipeline.index
    return AbsorbingChain(
        pipeline=pipeline.key,
        transient=transient,
        absorbing=absorbing,
        won_stage=pipeline.won_stage.key,
        transitions=tuple(
            Transition(from_stage=a, to_stage=b, moves=counts[a, b])
            for a, b in sorted(counts, key=lambda pair: (rank(pair[0]), rank(pair[1])))
        ),
        reopenings=reopenings,
        deals=len(deals),
    )
