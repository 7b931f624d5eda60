"""Benchmark: pipeline analytics (where deals are lost, sales cycle) vs a hand-written groupby.

Builds N stage changes (default 1,000,000) over about N / 5 deals of the standard
pipeline: random walks forward and back through the open stages, most ending won or lost.
Then, for the deals closed in a one-year window, computes

* losses per stage (the last open stage before closed-lost), with counts and amounts
  summed per currency, and
* the cycle time of won deals (count, mean, median, P90, min, max in days),

once with ``sfakit.pipeline`` (``Deals.of`` + ``losses`` + ``cycle_time``) and once with
a plain Python groupby (dict accumulation), plus pandas when it can be imported. It
checks that all give the same numbers and prints the timings (best of ``--repeat``) and
the ratio (goal: <= 3x). ``Deals.of`` checks and indexes the history once for any number
of analytics, so its share is also shown separately.

    python benchmarks/bench_pipeline.py [--changes N] [--repeat R] [--seed S]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any, TypeVar

from sfakit.model import (
    AccountId,
    Money,
    Opportunity,
    OpportunityId,
    SalesRepId,
    StageChange,
    StageChangeId,
)
from sfakit.pipeline import (
    DayStats,
    Deals,
    Losses,
    Window,
    cycle_time,
    funnel,
    losses,
    standard_pipeline,
)

T = TypeVar("T")

PIPELINE = standard_pipeline()
OPEN = [s.key for s in PIPELINE.open_stages]
WON, LOST = PIPELINE.won_stage.key, PIPELINE.lost_stages[0].key
START = datetime(2025, 1, 1, tzinfo=UTC)
WINDOW = Window(datetime(2025, 4, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
US = timedelta(microseconds=1)
US_PER_DAY = 86_400_000_000

# Per-stage results in one plain shape, so that every implementation can be compared:
# {stage: (deals, {currency: Decimal total})} and (count, mean, median, p90, min, max).
LossTable = dict[str | None, tuple[int, dict[str, Decimal]]]
CycleRow = tuple[int, Fraction, Fraction, Fraction, Fraction, Fraction]


def make_data(changes: int, seed: int) -> tuple[list[Opportunity], list[StageChange]]:
    rng = random.Random(seed)
    amounts = [
        None if rng.random() < 0.05 else Money.of(rng.randrange(100, 200_000), currency)
        for currency in rng.choices(("EUR", "USD", "JPY"), (70, 25, 5), k=5_000)
    ]
    probability = {s.key: s.probability for s in PIPELINE.stages}
    opportunities: list[Opportunity] = []
    history: list[StageChange] = []
    serial = 0
    while len(history) < changes:
        created = START + timedelta(minutes=rng.randrange(0, 365 * 24 * 60))
        amount = rng.choice(amounts)
        stage, at = OPEN[0], created
        opp_id = OpportunityId(f"opp_bench{len(opportunities):08d}")
        steps = min(rng.randint(1, 9), changes - len(history))
        for step in range(steps):
            index = OPEN.index(stage) if stage in OPEN else -1
            last = step == steps - 1
            if last and rng.random() < 0.8:
                target = WON if rng.random() < 0.55 else LOST
            elif index > 0 and rng.random() < 0.25:
                target = OPEN[index - 1]
            else:
                target = OPEN[min(index + 1, len(OPEN) - 1)]
                if target == stage:
                    target = OPEN[index - 1]
            at += timedelta(hours=rng.randrange(1, 24 * 20))
            serial += 1
            history.append(
                StageChange(
                    id=StageChangeId(f"stgc_bench{serial:09d}"),
                    opportunity_id=opp_id,
                    pipeline=PIPELINE.key,
                    from_stage=stage,
                    to_stage=target,
                    at=at,
                    by="rep_bench",
                    reason="price" if target == LOST else None,
                    amount=amount,
                    probability=probability[target],
                    created_at=at,
                )
            )
            stage = target
        closed = stage in (WON, LOST)
        opportunities.append(
            Opportunity(
                id=opp_id,
                name="Bench deal",
                account_id=AccountId("acct_bench"),
                pipeline=PIPELINE.key,
                stage=stage,
                amount=amount,
                owner_id=SalesRepId(rng.choice(("rep_anna", "rep_ben", "rep_chen"))),
                lost_reason="price" if stage == LOST else None,
                closed_at=at if closed else None,
                created_at=created,
                updated_at=at,
            )
        )
    rng.shuffle(history)  # as if read from storage in no particular order
    return opportunities, history


# -- sfakit ---------------------------------------------------------------------------


def with_sfakit(
    opportunities: list[Opportunity], history: list[StageChange]
) -> tuple[Losses, DayStats]:
    deals = Deals.of(PIPELINE, opportunities, history)
    return losses(deals, window=WINDOW), cycle_time(deals, window=WINDOW)


def sfakit_tables(result: tuple[Losses, DayStats]) -> tuple[LossTable, CycleRow]:
    lost, stats = result
    table: LossTable = {
        row.stage: (row.deals, {m.currency: m.amount for m in row.amounts})
        for row in lost.rows
        if row.deals
    }
    assert stats.mean is not None
    assert stats.median is not None
    assert stats.p90 is not None
    assert stats.minimum is not None
    assert stats.maximum is not None
    cycle = (
        stats.count,
        Fraction(stats.mean),
        Fraction(stats.median),
        Fraction(stats.p90),
        Fraction(stats.minimum),
        Fraction(stats.maximum),
    )
    return table, cycle


# -- plain Python groupby ---------------------------------------------------------------


def percentile(ordered: list[int], p: Fraction) -> Fraction:
    position = (len(ordered) - 1) * p
    low = int(position)
    if low + 1 >= len(ordered):
        return Fraction(ordered[low])
    return ordered[low] + (ordered[low + 1] - ordered[low]) * (position - low)


def cycle_row(durations: list[int]) -> CycleRow:
    durations.sort()
    day = Fraction(1, US_PER_DAY)
    return (
        len(durations),
        Fraction(sum(durations), len(durations)) * day,
        percentile(durations, Fraction(1, 2)) * day,
        percentile(durations, Fraction(9, 10)) * day,
        durations[0] * day,
        durations[-1] * day,
    )


def by_hand(
    opportunities: list[Opportunity], history: list[StageChange]
) -> tuple[LossTable, CycleRow]:
    start, end = WINDOW.start, WINDOW.end
    assert start is not None
    assert end is not None
    lost_at: dict[str, tuple[datetime, str | None]] = {}
    for change in history:
        if change.to_stage == LOST:
            seen = lost_at.get(change.opportunity_id)
            if seen is None or change.at >= seen[0]:
                lost_at[change.opportunity_id] = (change.at, change.from_stage)
    table: LossTable = {}
    durations: list[int] = []
    for deal in opportunities:
        closed = deal.closed_at
        if closed is None or not start <= closed < end:
            continue
        if deal.stage == WON:
            durations.append((closed - deal.created_at) // US)
        elif deal.stage == LOST:
            stage = lost_at[deal.id][1]
            count, totals = table.get(stage, (0, {}))
            if deal.amount is not None:
                currency = deal.amount.currency
                totals[currency] = totals.get(currency, Decimal(0)) + deal.amount.amount
            table[stage] = (count + 1, totals)
    return table, cycle_row(durations)


# -- pandas, when it is installed -------------------------------------------------------


def pandas_frames(opportunities: list[Opportunity], history: list[StageChange]) -> Any:
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]

    changes = pd.DataFrame(
        {
            "opp": [c.opportunity_id for c in history],
            "from_stage": [c.from_stage for c in history],
            "to_stage": [c.to_stage for c in history],
            "at": [c.at.astimezone(UTC) for c in history],
        }
    )
    deals = pd.DataFrame(
        {
            "opp": [o.id for o in opportunities],
            "stage": [o.stage for o in opportunities],
            "currency": [o.amount.currency if o.amount else None for o in opportunities],
            "amount": [o.amount.amount if o.amount else None for o in opportunities],
            "created": [o.created_at.astimezone(UTC) for o in opportunities],
            "closed": [o.closed_at.astimezone(UTC) if o.closed_at else None for o in opportunities],
        }
    )
    return changes, deals


def with_pandas(frames: Any) -> tuple[LossTable, CycleRow]:
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]

    changes, deals = frames
    start, end = pd.Timestamp(WINDOW.start), pd.Timestamp(WINDOW.end)
    closed = deals[deals["closed"].notna()]
    closed = closed[(closed["closed"] >= start) & (closed["closed"] < end)]
    lost_moves = changes[changes["to_stage"] == LOST].sort_values("at", kind="stable")
    last_lost = lost_moves.groupby("opp").tail(1)[["opp", "from_stage"]]
    lost = closed[closed["stage"] == LOST].merge(last_lost, on="opp", how="left")
    table: LossTable = {}
    for stage, group in lost.groupby("from_stage", dropna=False):
        priced = group[group["currency"].notna()]
        sums = priced.groupby("currency")["amount"].apply(lambda s: sum(s, Decimal(0)))
        key = None if pd.isna(stage) else str(stage)
        table[key] = (len(group), {str(c): Decimal(v) for c, v in sums.items()})
    won = closed[closed["stage"] == WON]
    spans = (won["closed"] - won["created"]) // pd.Timedelta(microseconds=1)
    return table, cycle_row([int(v) for v in spans])


def same_cycle(a: CycleRow, b: CycleRow) -> bool:
    """Equal counts, and statistics equal to 24 significant digits (sfakit's are Decimals
    with 28; the baseline's exact fractions)."""
    tolerance, one = Fraction(1, 10**24), Fraction(1)
    pairs = zip(a[1:], b[1:], strict=True)
    return a[0] == b[0] and all(abs(x - y) <= tolerance * max(abs(y), one) for x, y in pairs)


# -- driver ---------------------------------------------------------------------------


def best_of(repeat: int, run: Callable[[], T]) -> tuple[float, T]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
    assert result is not None
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    started = time.perf_counter()
    opportunities, history = make_data(args.changes, args.seed)
    print(
        f"built {len(history):,} stage changes over {len(opportunities):,} deals "
        f"in {time.perf_counter() - started:.1f} s"
    )

    sfakit_time, result = best_of(args.repeat, lambda: with_sfakit(opportunities, history))
    hand_time, expected = best_of(args.repeat, lambda: by_hand(opportunities, history))
    prepare_time, deals = best_of(args.repeat, lambda: Deals.of(PIPELINE, opportunities, history))
    again_time, _ = best_of(  # the closing moves are indexed by the first run, then kept
        args.repeat + 1,
        lambda: (losses(deals, window=WINDOW), cycle_time(deals, window=WINDOW)),
    )
    table, cycle = sfakit_tables(result)
    assert table == expected[0], (table, expected[0])
    assert same_cycle(cycle, expected[1]), (cycle, expected[1])

    lost, stats = result
    worst = lost.worst
    assert worst is not None
    print(
        f"closed lost in window: {lost.lost:,}; most at {worst.stage!r} ({worst.deals:,}); "
        f"won: {stats.count:,}, mean cycle {float(stats.mean or 0):.1f} d, "
        f"P90 {float(stats.p90 or 0):.1f} d"
    )
    print(f"sfakit.pipeline:   {sfakit_time:.3f} s  (Deals.of + losses + cycle_time)")
    print(f"  of which Deals.of (checks the deals): {prepare_time:.3f} s")
    print(f"  the two again on the same Deals (history index kept): {again_time:.3f} s")
    print(f"hand-written dict: {hand_time:.3f} s")
    try:
        import pandas  # noqa: F401
    except ImportError:
        print("pandas: not installed, skipped")
    else:
        frames = pandas_frames(opportunities, history)
        pandas_time, from_pandas = best_of(args.repeat, lambda: with_pandas(frames))
        assert from_pandas[0] == table, (from_pandas[0], table)
        assert same_cycle(from_pandas[1], expected[1]), (from_pandas[1], expected[1])
        print(f"pandas groupby:    {pandas_time:.3f} s (frames built beforehand)")
    print(f"ratio: {sfakit_time / hand_time:.2f}x (goal <= 3x)")
    started = time.perf_counter()
    steps = funnel(Deals.of(PIPELINE, opportunities, history)).steps
    print(
        f"for scale: funnel, which rebuilds and checks every timeline: "
        f"{time.perf_counter() - started:.3f} s ({steps[0].reached:,} deals reached "
        f"{steps[0].stage!r})"
    )


if __name__ == "__main__":
    main()
