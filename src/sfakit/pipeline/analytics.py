"""Pipeline analytics: funnel, conversion, where deals are lost, win rate, sales cycle,
time in stage and velocity. Pure functions over :class:`~sfakit.pipeline.deals.Deals`.

Numbers: counts are ``int``; rates, ratios and day counts are ``Decimal``, computed to
28 significant digits (the ``decimal`` default) and never rounded, so round them for
display; durations are exact (microseconds) until divided into days. Money is summed per
currency and returned as a tuple of :class:`~sfakit.model.Money`, one per currency,
sorted by currency code: currencies never mix. A rate over nothing (0 / 0) is None.

What counts where:

* **funnel** and **conversion** — stage *entries* inside the window: the deal's start
  (at its creation) and every move.
* **losses**, **win rate**, **cycle time** — deals *closed* inside the window, by their
  current state (as Salesforce reports do: a deal lost, then reopened and won, counts as
  won), with their current amount.
* **time in stage** — stays that *ended* inside the window.
* **velocity** — deals open now, with the win rate, average won amount and cycle length
  of deals closed inside the window.

Every result carries the counts it was computed from. Filter with
:meth:`Deals.where <sfakit.pipeline.deals.Deals.where>` and split with
:meth:`Deals.group_by <sfakit.pipeline.deals.Deals.group_by>`:

>>> from datetime import datetime, timedelta, timezone
>>> from sfakit.model import Money, Opportunity
>>> from sfakit.pipeline import Deals, standard_pipeline
>>> t0 = datetime(2026, 1, 5, tzinfo=timezone.utc)
>>> def deal(stage, days, rep):
...     return Opportunity(name="Bulbs", account_id="acct_acme", pipeline="standard",
...                        stage=stage, owner_id=rep, amount=Money.of(1000, "EUR"),
...                        created_at=t0, closed_at=t0 + timedelta(days=days))
>>> deals = Deals.of(standard_pipeline(), [deal("closed_won", 30, "rep_anna"),
...                                        deal("closed_won", 50, "rep_anna"),
...                                        deal("closed_lost", 10, "rep_ben")])
>>> {rep: cycle_time(group).mean for rep, group in deals.group_by("owner_id").items()}
{'rep_anna': Decimal('40'), 'rep_ben': None}
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal

import attrs

from sfakit.errors import ValidationError
from sfakit.model.money import Money
from sfakit.model.opportunities import Opportunity
from sfakit.pipeline.deals import Deals, Window
from sfakit.pipeline.definition import Pipeline

__all__ = [
    "Conversion",
    "Conversions",
    "CurrencyVelocity",
    "CurrencyWinRate",
    "DayStats",
    "Funnel",
    "FunnelStep",
    "LossRow",
    "LossCount",
    "Losses",
    "Outcome",
    "StageTime",
    "StageCount",
    "StageTimes",
    "Velocity",
    "WinRate",
    "conversion",
    "cycle_time",
    "funnel",
    "losses",
    "time_in_stage",
    "velocity",
    "win_rate",
]

_CTX = Context(prec=28, rounding=ROUND_HALF_EVEN)
_US = timedelta(microseconds=1)
_US_PER_DAY = Decimal(86_400_000_000)


def _ratio(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    if whole == 0:
        return None
    return _CTX.divide(Decimal(part), Decimal(whole))


def _days(microseconds: int | Decimal) -> Decimal:
    return _CTX.divide(Decimal(microseconds), _US_PER_DAY)


def _percentile(ordered: list[int], numerator: int, denominator: int) -> Decimal:
    # Linear interpolation between closest ranks (NumPy's default, Excel's PERCENTILE.INC),
    # in integers until one exact division, so that whole results print without a ".0".
    low, rest = divmod((len(ordered) - 1) * numerator, denominator)
    if rest == 0:
        return Decimal(ordered[low])
    scaled = ordered[low] * denominator + (ordered[low + 1] - ordered[low]) * rest
    return _CTX.divide(Decimal(scaled), Decimal(denominator))


def _moneys(totals: dict[str, Decimal]) -> tuple[Money, ...]:
    return tuple(Money(totals[c], c) for c in sorted(totals))


def _sum(values: Iterable[Decimal | int]) -> Decimal:
    total = Decimal(0)
    for value in values:
        total = _CTX.add(total, value)
    return total


class Outcome(enum.StrEnum):
    """Which closed deals a cycle-time statistic covers.

    >>> Outcome("closed") is Outcome.CLOSED
    True
    """

    WON = "won"
    LOST = "lost"
    CLOSED = "closed"


@attrs.frozen(kw_only=True)
class DayStats:
    """Durations in days: how many, mean, median, 90th percentile, shortest, longest.

    Percentiles interpolate linearly between the closest ranks (so the median of an even
    count is the mean of the middle two). All are None when ``count`` is 0.

    >>> from datetime import timedelta
    >>> stats = DayStats.of([timedelta(days=d) for d in (10, 20, 30, 100)])
    >>> stats.count, stats.mean, stats.median, stats.p90
    (4, Decimal('40'), Decimal('25'), Decimal('79'))
    """

    count: int
    mean: Decimal | None = None
    median: Decimal | None = None
    p90: Decimal | None = None
    minimum: Decimal | None = None
    maximum: Decimal | None = None

    @classmethod
    def of(cls, durations: Iterable[timedelta]) -> DayStats:
        """The statistics of ``durations``."""
        return cls.of_microseconds([d // _US for d in durations])

    @classmethod
    def of_microseconds(cls, durations: list[int]) -> DayStats:
        """The statistics of durations given in whole microseconds (sorted in place)."""
        if not durations:
            return cls(count=0)
        durations.sort()
        n = len(durations)
        return cls(
            count=n,
            # Python integers add exactly, so one sum is what a Decimal add per value gave
            # (while totals fit the context's 28 digits), at a fraction of the cost.
            mean=_days(_CTX.divide(Decimal(sum(durations)), Decimal(n))),
            median=_days(_percentile(durations, 1, 2)),
            p90=_days(_percentile(durations, 9, 10)),
            minimum=_days(durations[0]),
            maximum=_days(durations[-1]),
        )


def _stage_flags(deals: Deals) -> tuple[frozenset[str], frozenset[str], str]:
    pipeline = deals.pipeline
    open_keys = frozenset(s.key for s in pipeline.open_stages)
    lost_keys = frozenset(s.key for s in pipeline.lost_stages)
    return open_keys, lost_keys, pipeline.won_stage.key


def _closed_in(deals: Deals, opportunity: Opportunity, window: Window | None) -> bool:
    if window is None:
        return True
    closed = opportunity.closed_at
    if closed is None:
        closed = deals.closed_at(opportunity)
    return closed is not None and closed in window


# -- funnel ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class FunnelStep:
    """How many deals reached ``stage``.

    >>> FunnelStep(stage="propose", reached=12).reached
    12
    """

    stage: str
    reached: int


@attrs.frozen(kw_only=True)
class Funnel:
    """Deals that reached each stage of the selling path (the open stages, then the won
    stage), out of ``deals`` that entered any stage in the window; ``lost`` of them
    reached a lost stage there.

    >>> from sfakit.pipeline import Deals, standard_pipeline
    >>> [step.stage for step in funnel(Deals.of(standard_pipeline(), [])).steps][-2:]
    ['negotiate', 'closed_won']
    """

    deals: int
    steps: tuple[FunnelStep, ...]
    lost: int
    cumulative: bool

    def reached(self, stage: str) -> int:
        """The count of ``stage`` (a ValidationError if it is not on the selling path)."""
        for step in self.steps:
            if step.stage == stage:
                return step.reached
        raise _unknown_stage(stage, [s.stage for s in self.steps])


def _path(deals: Deals) -> list[str]:
    pipeline = deals.pipeline
    return [s.key for s in pipeline.open_stages] + [pipeline.won_stage.key]


def funnel(deals: Deals, *, window: Window | None = None, cumulative: bool = False) -> Funnel:
    """Per stage of the selling path, the deals that entered it inside ``window``.

    With ``cumulative=True`` a deal that reached a stage also counts for every earlier
    stage, even those it skipped (HubSpot's cumulative deal funnel): the counts then never
    increase along the path. Without it they do not increase either for a pipeline that
    allows neither skipping nor moving back, when deals start in the first stage, none is
    reopened and the window is open.

    >>> from datetime import datetime, timezone
    >>> from sfakit.model import Opportunity, StageChange
    >>> from sfakit.pipeline import Deals, standard_pipeline
    >>> t0 = datetime(2026, 3, 2, tzinfo=timezone.utc)
    >>> deal = Opportunity(name="A", account_id="acct_a", pipeline="standard",
    ...                    stage="propose", amount=Money.of(10, "EUR"), created_at=t0)
    >>> skip = StageChange(opportunity_id=deal.id, pipeline="standard", from_stage="prospect",
    ...                    to_stage="propose", at=t0, created_at=t0)
    >>> deals = Deals.of(standard_pipeline(), [deal], [skip])
    >>> [s.reached for s in funnel(deals).steps]
    [1, 0, 1, 0, 0]
    >>> [s.reached for s in funnel(deals, cumulative=True).steps]
    [1, 1, 1, 0, 0]
    """
    path = _path(deals)
    rank = {key: i for i, key in enumerate(path)}
    _, lost_keys, _ = _stage_flags(deals)
    reached = [0] * len(path)
    active = lost = 0
    for timeline in deals.timelines:
        seen: set[int] = set()
        was_lost = counted = False
        for stage, at in timeline.entries():
            if window is not None and at not in window:
                continue
            counted = True
            r = rank.get(stage)
            if r is None:
                was_lost = was_lost or stage in lost_keys
            else:
                seen.add(r)
        if not counted:
            continue
        active += 1
        lost += was_lost
        if cumulative:
            for r in range(max(seen, default=-1) + 1):
                reached[r] += 1
        else:
            for r in seen:
                reached[r] += 1
    steps = tuple(FunnelStep(stage=k, reached=n) for k, n in zip(path, reached, strict=True))
    return Funnel(deals=active, steps=steps, lost=lost, cumulative=cumulative)


# -- conversion -----------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Conversion:
    """Of the deals that ``entered`` ``from_stage``, how many ``advanced`` to
    ``to_stage`` or beyond later, and the ``rate`` (None when none entered).

    >>> Conversion(from_stage="qualify", to_stage="propose", entered=4, advanced=1,
    ...            rate=Decimal("0.25")).rate
    Decimal('0.25')
    """

    from_stage: str
    to_stage: str
    entered: int
    advanced: int
    rate: Decimal | None


@attrs.frozen(kw_only=True)
class Conversions:
    """Stage-to-stage conversion along the selling path, one step per pair of stages.

    >>> from sfakit.pipeline import Deals, standard_pipeline
    >>> conversion(Deals.of(standard_pipeline(), [])).steps[0].rate is None
    True
    """

    steps: tuple[Conversion, ...]


def conversion(deals: Deals, *, window: Window | None = None) -> Conversions:
    """For each stage of the selling path, the deals that entered it inside ``window``
    and the share that later moved further along the path (skips count as advancing).

    >>> from datetime import datetime, timezone
    >>> from sfakit.model import Opportunity, StageChange
    >>> from sfakit.pipeline import Deals, standard_pipeline
    >>> t0 = datetime(2026, 3, 2, tzinfo=timezone.utc)
    >>> a, b = (Opportunity(name=n, account_id="acct_a", pipeline="standard", stage=s,
    ...                     created_at=t0) for n, s in (("A", "qualify"), ("B", "prospect")))
    >>> step = StageChange(opportunity_id=a.id, pipeline="standard", from_stage="prospect",
    ...                    to_stage="qualify", at=t0, created_at=t0)
    >>> first = conversion(Deals.of(standard_pipeline(), [a, b], [step])).steps[0]
    >>> first.entered, first.advanced, first.rate
    (2, 1, Decimal('0.5'))
    """
    path = _path(deals)
    rank = {key: i for i, key in enumerate(path)}
    last = len(path) - 1
    entered = [0] * last
    advanced = [0] * last
    for timeline in deals.timelines:
        entries = timeline.entries()
        ranks = [rank.get(stage, -1) for stage, _ in entries]
        best_after = [-1] * (len(ranks) + 1)
        for i in range(len(ranks) - 1, -1, -1):
            best_after[i] = max(ranks[i], best_after[i + 1])
        done: set[int] = set()
        for i, (_, at) in enumerate(entries):
            r = ranks[i]
            if r < 0 or r == last or r in done:
                continue
            if window is not None and at not in window:
                continue
            done.add(r)
            entered[r] += 1
            if best_after[i + 1] > r:
                advanced[r] += 1
    return Conversions(
        steps=tuple(
            Conversion(
                from_stage=path[r],
                to_stage=path[r + 1],
                entered=entered[r],
                advanced=advanced[r],
                rate=_ratio(advanced[r], entered[r]),
            )
            for r in range(last)
        )
    )


# -- losses ---------------------------------------------------------------------------


#: One pre-counted group of lost deals: last open stage, lost reason, currency (None: no
#: amount), summed amount, number of deals.
LossCount = tuple[str | None, str | None, str | None, Decimal, int]

#: One pre-counted group of closed deals: stage, currency (None: no amount), summed
#: amount, number of deals.
StageCount = tuple[str, str | None, Decimal, int]


@attrs.frozen(kw_only=True)
class LossRow:
    """Deals lost after ``stage`` (their last open stage; None for deals that never were
    in an open stage): how many, their amounts per currency, how many had no amount, and
    the lost reasons, most frequent first.

    >>> LossRow(stage="propose", deals=2, amounts=(Money.of(900, "EUR"),),
    ...         without_amount=0, reasons=(("price", 2),)).reasons[0]
    ('price', 2)
    """

    stage: str | None
    deals: int
    amounts: tuple[Money, ...]
    without_amount: int
    reasons: tuple[tuple[str | None, int], ...]


@attrs.frozen(kw_only=True)
class Losses:
    """Where deals are lost: one row per open stage (in pipeline order, zero rows
    included), plus a row for stage None when some deal never was in an open stage.

    >>> from sfakit.pipeline import Deals, standard_pipeline
    >>> result = losses(Deals.of(standard_pipeline(), []))
    >>> result.lost, result.worst is None
    (0, True)
    """

    lost: int
    rows: tuple[LossRow, ...]

    @property
    def worst(self) -> LossRow | None:
        """The row with the most lost deals (the earliest stage on a tie); None if none."""
        best = max(self.rows, key=lambda row: row.deals, default=None)
        return best if best is not None and best.deals else None

    def row(self, stage: str | None) -> LossRow:
        """The row of ``stage`` (a ValidationError if there is none)."""
        for row in self.rows:
            if row.stage == stage:
                return row
        raise _unknown_stage(stage, [r.stage for r in self.rows])

    @classmethod
    def from_counts(cls, pipeline: Pipeline, counts: Iterable[LossCount]) -> Losses:
        """The losses of pre-counted groups — ``(stage, reason, currency, amount, deals)``
        tuples, as a database ``GROUP BY`` gives them (``currency`` None for deals without
        an amount): how the service answers from SQL with the in-memory result's shape.

        >>> from sfakit.pipeline import standard_pipeline
        >>> result = Losses.from_counts(standard_pipeline(),
        ...                             [("propose", "price", "EUR", Decimal("900"), 2)])
        >>> result.lost, result.worst.amounts
        (2, (Money('900.00', 'EUR'),))
        """
        order: list[str | None] = [s.key for s in pipeline.open_stages]
        counts_by: dict[str | None, int] = dict.fromkeys(order, 0)
        totals: dict[str | None, dict[str, Decimal]] = {k: {} for k in order}
        bare: dict[str | None, int] = dict.fromkeys(order, 0)
        reasons: dict[str | None, dict[str | None, int]] = {k: {} for k in order}
        lost = 0
        for stage, reason, currency, amount, deals in counts:
            if stage not in counts_by:
                counts_by[stage], totals[stage], bare[stage], reasons[stage] = 0, {}, 0, {}
            counts_by[stage] += deals
            lost += deals
            if currency is None:
                bare[stage] += deals
            else:
                by_currency = totals[stage]
                by_currency[currency] = _CTX.add(by_currency.get(currency, Decimal(0)), amount)
            by_reason = reasons[stage]
            by_reason[reason] = by_reason.get(reason, 0) + deals
        rows = tuple(
            LossRow(
                stage=k,
                deals=counts_by[k],
                amounts=_moneys(totals[k]),
                without_amount=bare[k],
                reasons=tuple(sorted(reasons[k].items(), key=_by_frequency)),
            )
            for k in counts_by
        )
        return cls(lost=lost, rows=rows)


def _by_frequency(item: tuple[str | None, int]) -> tuple[int, bool, str]:
    return -item[1], item[0] is None, item[0] or ""


def losses(deals: Deals, *, window: Window | None = None) -> Losses:
    """Which stage deals closed lost inside ``window`` were lost at: the last open stage
    each was in before closing lost.

    >>> from datetime import datetime, timezone
    >>> from sfakit.model import Opportunity, StageChange
    >>> from sfakit.pipeline import Deals, standard_pipeline
    >>> t0 = datetime(2026, 3, 2, tzinfo=timezone.utc)
    >>> deal = Opportunity(name="A", account_id="acct_a", pipeline="standard",
    ...                    stage="closed_lost", amount=Money.of(500, "EUR"), lost_reason="price",
    ...                    created_at=t0, closed_at=t0)
    >>> lose = StageChange(opportunity_id=deal.id, pipeline="standard", from_stage="propose",
    ...                    to_stage="closed_lost", at=t0, created_at=t0)
    >>> worst = losses(Deals.of(standard_pipeline(), [deal], [lose])).worst
    >>> worst.stage, worst.deals, worst.amounts, worst.reasons
    ('propose', 1, (Money('500.00', 'EUR'),), (('price', 1),))
    """
    open_keys, lost_keys, _ = _stage_flags(deals)
    found: list[tuple[Opportunity, str | None]] = []
    unsure: list[Opportunity] = []
    for opportunity in deals:
        if opportunity.stage not in lost_keys or not _closed_in(deals, opportunity, window):
            continue
        # Usually the move that closed the deal says where it was lost; otherwise (a deal
        # that went from won to lost, or no such move) walk back through its timeline.
        move = deals.closing_move(opportunity)
        if move is not None and move.to_stage == opportunity.stage and move.from_stage in open_keys:
            found.append((opportunity, move.from_stage))
        else:
            unsure.append(opportunity)
    if unsure:
        for timeline in deals.timelines_of(unsure):
            stage: str | None = None
            for move in reversed(timeline.moves):
                if move.from_stage in open_keys:
                    stage = move.from_stage
                    break
            found.append((timeline.opportunity, stage))
    return Losses.from_counts(
        deals.pipeline,
        ((stage, o.lost_reason, *_currency_and_amount(o.amount), 1) for o, stage in found),
    )


def _currency_and_amount(amount: Money | None) -> tuple[str | None, Decimal]:
    return (None, Decimal(0)) if amount is None else (amount.currency, amount.amount)


# -- win rate -------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class CurrencyWinRate:
    """Won and lost amounts in one currency, and won / (won + lost).

    >>> CurrencyWinRate(currency="EUR", won=Money.of(300, "EUR"), lost=Money.of(100, "EUR"),
    ...                 rate=Decimal("0.75")).rate
    Decimal('0.75')
    """

    currency: str
    won: Money
    lost: Money
    rate: Decimal | None


@attrs.frozen(kw_only=True)
class WinRate:
    """Deals closed in the window: ``won``, ``lost``, ``rate`` = won / (won + lost) by
    count; by amount per currency in ``amounts`` (deals without an amount are left out
    there and counted in ``without_amount``).

    >>> from sfakit.pipeline import Deals, standard_pipeline
    >>> win_rate(Deals.of(standard_pipeline(), [])).rate is None
    True
    """

    won: int
    lost: int
    rate: Decimal | None
    amounts: tuple[CurrencyWinRate, ...]
    without_amount: int

    @classmethod
    def from_counts(cls, pipeline: Pipeline, counts: Iterable[StageCount]) -> WinRate:
        """The win rate of pre-counted groups of closed deals — ``(stage, currency,
        amount, deals)`` tuples, as a database ``GROUP BY`` gives them (``currency`` None
        for deals without an amount); groups of open stages are ignored.

        >>> from sfakit.pipeline import standard_pipeline
        >>> WinRate.from_counts(standard_pipeline(), [("closed_won", "EUR", Decimal(300), 1),
        ...                                          ("closed_lost", None, Decimal(0), 3)]).rate
        Decimal('0.25')
        """
        lost_keys = frozenset(s.key for s in pipeline.lost_stages)
        won_key = pipeline.won_stage.key
        won = lost = bare = 0
        won_totals: dict[str, Decimal] = {}
        lost_totals: dict[str, Decimal] = {}
        for stage, currency, amount, deals in counts:
            is_won = stage == won_key
            if not is_won and stage not in lost_keys:
                continue
            if is_won:
                won += deals
            else:
                lost += deals
            if currency is None:
                bare += deals
            else:
                totals = won_totals if is_won else lost_totals
                totals[currency] = _CTX.add(totals.get(currency, Decimal(0)), amount)
        rows = []
        for currency in sorted(won_totals.keys() | lost_totals.keys()):
            w = won_totals.get(currency, Decimal(0))
            lo = lost_totals.get(currency, Decimal(0))
            rows.append(
                CurrencyWinRate(
                    currency=currency,
                    won=Money(w, currency),
                    lost=Money(lo, currency),
                    rate=_ratio(w, _CTX.add(w, lo)),
                )
            )
        return cls(
            won=won,
            lost=lost,
            rate=_ratio(won, won + lost),
            amounts=tuple(rows),
            without_amount=bare,
        )


def win_rate(deals: Deals, *, window: Window | None = None) -> WinRate:
    """The win rate of the deals closed inside ``window``, by count and by amount.

    >>> from datetime import datetime, timezone
    >>> from sfakit.model import Opportunity
    >>> from sfakit.pipeline import Deals, standard_pipeline
    >>> t0 = datetime(2026, 3, 2, tzinfo=timezone.utc)
    >>> won, lost = (Opportunity(name="A", account_id="acct_a", pipeline="standard", stage=s,
    ...                          amount=Money.of(a, "EUR"), created_at=t0, closed_at=t0)
    ...              for s, a in (("closed_won", 300), ("closed_lost", 100)))
    >>> result = win_rate(Deals.of(standard_pipeline(), [won, lost]))
    >>> result.rate, result.amounts[0].rate
    (Decimal('0.5'), Decimal('0.75'))
    """
    _, lost_keys, won_key = _stage_flags(deals)
    return WinRate.from_counts(
        deals.pipeline,
        (
            (o.stage, *_currency_and_amount(o.amount), 1)
            for o in deals
            if (o.stage == won_key or o.stage in lost_keys) and _closed_in(deals, o, window)
        ),
    )


# -- cycle time -----------------------------------------------------------------------


def _cycle_microseconds(
    deals: Deals, window: Window | None, outcome: Outcome
) -> tuple[list[int], dict[str, list[Decimal]]]:
    _, lost_keys, won_key = _stage_flags(deals)
    wanted = {
        Outcome.WON: frozenset({won_key}),
        Outcome.LOST: lost_keys,
        Outcome.CLOSED: lost_keys | {won_key},
    }[outcome]
    durations: list[int] = []
    amounts: dict[str, list[Decimal]] = {}
    for opportunity in deals:
        if opportunity.stage not in wanted:
            continue
        closed = opportunity.closed_at
        if closed is None:
            closed = deals.closed_at(opportunity)
        if closed is None or (window is not None and closed not in window):
            continue
        durations.append((closed - opportunity.created_at) // _US)
        if opportunity.amount is not None:
            amounts.setdefault(opportunity.amount.currency, []).append(opportunity.amount.amount)
    return durations, amounts


def cycle_time(
    deals: Deals, *, window: Window | None = None, outcome: Outcome = Outcome.WON
) -> DayStats:
    """Sales cycle length, from creation to close, of the deals closed inside ``window``
    with ``outcome`` (won by default, as "average sales cycle" usually means). A closed
    deal with no known close moment is left out.

    >>> from datetime import datetime, timedelta, timezone
    >>> from sfakit.model import Opportunity
    >>> from sfakit.pipeline import Deals, standard_pipeline
    >>> t0 = datetime(2026, 3, 2, tzinfo=timezone.utc)
    >>> won = Opportunity(name="A", account_id="acct_a", pipeline="standard",
    ...                   stage="closed_won", created_at=t0, closed_at=t0 + timedelta(days=45))
    >>> cycle_time(Deals.of(standard_pipeline(), [won])).median
    Decimal('45')
    """
    durations, _ = _cycle_microseconds(deals, window, outcome)
    return DayStats.of_microseconds(durations)


# -- time in stage --------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class StageTime:
    """How long deals stayed in ``stage`` before leaving it.

    >>> StageTime(stage="propose", days=DayStats(count=0)).days.mean is None
    True
    """

    stage: str
    days: DayStats


@attrs.frozen(kw_only=True)
class StageTimes:
    """Time spent in each stage, in pipeline order.

    >>> from sfakit.pipeline import Deals, standard_pipeline
    >>> len(time_in_stage(Deals.of(standard_pipeline(), [])).stages)
    6
    """

    stages: tuple[StageTime, ...]

    def of(self, stage: str) -> DayStats:
        """The statistics of ``stage`` (a ValidationError if the pipeline has no such stage)."""
        for row in self.stages:
            if row.stage == stage:
                return row.days
        raise _unknown_stage(stage, [r.stage for r in self.stages])


def time_in_stage(deals: Deals, *, window: Window | None = None) -> StageTimes:
    """Per stage, how long deals stayed in it: every stay that ended (by a move) inside
    ``window``; stays still going on are not counted.

    >>> from datetime import datetime, timedelta, timezone
    >>> from sfakit.model import Opportunity, StageChange
    >>> from sfakit.pipeline import Deals, standard_pipeline
    >>> t0 = datetime(2026, 3, 2, tzinfo=timezone.utc)
    >>> deal = Opportunity(name="A", account_id="acct_a", pipeline="standard",
    ...                    stage="qualify", created_at=t0)
    >>> step = StageChange(opportunity_id=deal.id, pipeline="standard", from_stage="prospect",
    ...                    to_stage="qualify", at=t0 + timedelta(days=6), created_at=t0)
    >>> time_in_stage(Deals.of(standard_pipeline(), [deal], [step])).of("prospect").mean
    Decimal('6')
    """
    keys = deals.pipeline.keys
    durations: dict[str, list[int]] = {k: [] for k in keys}
    for timeline in deals.timelines:
        stage, since = timeline.start_stage, timeline.start_at
        for move in timeline.moves:
            if window is None or move.at in window:
                durations[stage].append((move.at - since) // _US)
            stage, since = move.to_stage, move.at
    return StageTimes(
        stages=tuple(StageTime(stage=k, days=DayStats.of_microseconds(durations[k])) for k in keys)
    )


# -- velocity -------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class CurrencyVelocity:
    """Velocity in one currency: open deals with an amount in it, the average won amount,
    and the expected money won per day.

    >>> CurrencyVelocity(currency="EUR", open_deals=10, average_won=Money.of(900, "EUR"),
    ...                  per_day=Money.of(75, "EUR")).per_day
    Money('75.00', 'EUR')
    """

    currency: str
    open_deals: int
    average_won: Money | None
    per_day: Money | None


@attrs.frozen(kw_only=True)
class Velocity:
    """Pipeline velocity: open deals * win rate * average won amount / average cycle
    days, per currency. ``open_deals`` counts every open deal, ``won`` and ``lost`` the
    deals closed in the window that the win rate and cycle come from.

    >>> from sfakit.pipeline import Deals, standard_pipeline
    >>> velocity(Deals.of(standard_pipeline(), [])).currencies
    ()
    """

    open_deals: int
    won: int
    lost: int
    win_rate: Decimal | None
    average_cycle_days: Decimal | None
    currencies: tuple[CurrencyVelocity, ...]


def velocity(deals: Deals, *, window: Window | None = None) -> Velocity:
    """How much money the pipeline is expected to win per day, per currency (the
    "sales velocity" of Salesforce and HubSpot): for each currency, the open deals with an
    amount in it * the win rate by count * the average won amount in it / the average
    sales cycle in days, the last three from deals closed inside ``window``.

    >>> from datetime import datetime, timedelta, timezone
    >>> from sfakit.model import Opportunity
    >>> from sfakit.pipeline import Deals, standard_pipeline
    >>> t0 = datetime(2026, 3, 2, tzinfo=timezone.utc)
    >>> def deal(stage, amount, days=None):
    ...     return Opportunity(name="A", account_id="acct_a", pipeline="standard", stage=stage,
    ...                        amount=Money.of(amount, "EUR"), created_at=t0,
    ...                        closed_at=None if days is None else t0 + timedelta(days=days))
    >>> result = velocity(Deals.of(standard_pipeline(), [
    ...     deal("closed_won", 1000, 20), deal("closed_lost", 500, 10),
    ...     deal("propose", 800), deal("qualify", 800)]))
    >>> result.win_rate, result.average_cycle_days, result.currencies[0].per_day
    (Decimal('0.5'), Decimal('20'), Money('50.00', 'EUR'))
    """
    open_keys, lost_keys, won_key = _stage_flags(deals)
    open_total = 0
    open_by_currency: dict[str, int] = {}
    lost = 0
    for opportunity in deals:
        if opportunity.stage in open_keys:
            open_total += 1
            if opportunity.amount is not None:
                currency = opportunity.amount.currency
                open_by_currency[currency] = open_by_currency.get(currency, 0) + 1
        elif opportunity.stage in lost_keys and _closed_in(deals, opportunity, window):
            lost += 1
    cycles, won_amounts = _cycle_microseconds(deals, window, Outcome.WON)
    won = sum(1 for o in deals if o.stage == won_key and _closed_in(deals, o, window))
    rate = _ratio(won, won + lost)
    cycle = _days(_CTX.divide(_sum(cycles), Decimal(len(cycles)))) if cycles else None
    rows = []
    for currency in sorted(open_by_currency.keys() | won_amounts.keys()):
        amounts = won_amounts.get(currency, [])
        average = _CTX.divide(_sum(amounts), Decimal(len(amounts))) if amounts else None
        count = open_by_currency.get(currency, 0)
        per_day = None
        if average is not None and rate is not None and cycle:
            value = _CTX.divide(_CTX.multiply(_CTX.multiply(Decimal(count), rate), average), cycle)
            per_day = Money(value, currency)
        rows.append(
            CurrencyVelocity(
                currency=currency,
                open_deals=count,
                average_won=None if average is None else Money(average, currency),
                per_day=per_day,
            )
        )
    return Velocity(
        open_deals=open_total,
        won=won,
        lost=lost,
        win_rate=rate,
        average_cycle_days=cycle,
        currencies=tuple(rows),
    )


def _unknown_stage(stage: object, known: Iterable[object]) -> ValidationError:
    return ValidationError(
        "$.stage", stage, f"one of the stages in this result: {', '.join(map(str, known))}"
    )
