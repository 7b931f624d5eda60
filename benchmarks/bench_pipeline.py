"""Benchmark: pipeline analytics (where deals are lost, sales cycle) vs hand-written baselines.

Builds N stage changes (default 1,000,000; ``--quick``: 100,000) over about N / 5 deals of
the standard pipeline: random walks forward and back through the open stages, most ending
won or lost. Then, for the deals closed in a one-year window, computes

* losses per stage (the last open stage before closed-lost), with counts and amounts
  summed per currency, and
* the cycle time of won deals (count, mean, median, P90, min, max in days),

in two settings, checking every time that all give the same numbers and printing the
timings (best of ``--repeat``) and the ratios:

1. In memory: ``sfakit.pipeline`` (``Deals.of`` + ``losses`` + ``cycle_time``) vs a plain
   Python groupby (dict accumulation), pandas when it can be imported, and duckdb SQL over
   tables built beforehand (goal: sfakit <= 3x each). ``Deals.of`` checks and indexes the
   history once for any number of analytics, so its share is also shown separately.
2. SQLite: the deals are stored with ``tx.insert_many`` in a fresh file (the load time is
   printed, not compared); then the service's push-down, ``sfa.analyse(losses)`` (a
   ``GROUP BY``) and ``sfa.analyse(cycle_time)`` (``tx.values``: the sorted cycle times,
   one ``SELECT … ORDER BY``), both run by the database, vs hand-written SQL through
   ``sqlite3`` on the same file with the same filters (goal: <= 1.2x). Above the goal, or
   with ``--profile``, the push-down is profiled.

Moves happen at whole hours, so many deals share a cycle time; ``--any-second`` moves at
any second, so that nearly every cycle time differs, as in real data.

    python benchmarks/bench_pipeline.py [--quick | --changes N] [--repeat R] [--seed S]
        [--any-second] [--store-history] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any, TypeVar

import sfakit
from sfakit import Sfa
from sfakit.model import (
    AccountId,
    Money,
    Opportunity,
    OpportunityId,
    SalesRepId,
    StageChange,
    StageChangeId,
)
from sfakit.model.currencies import MINOR_UNITS
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
CLOCK = sfakit.ManualClock(datetime(2026, 6, 1, tzinfo=UTC))

# Per-stage results in one plain shape, so that every implementation can be compared:
# {stage: (deals, {currency: Decimal total})} and (count, mean, median, p90, min, max).
LossTable = dict[str | None, tuple[int, dict[str, Decimal]]]
CycleRow = tuple[int, Fraction, Fraction, Fraction, Fraction, Fraction]


def make_data(
    changes: int, seed: int, *, any_second: bool = False
) -> tuple[list[Opportunity], list[StageChange]]:
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
        left: str | None = None  # the last open stage the walk left, as move() keeps it
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
            if any_second:  # nearly every cycle time differs, as in real data
                at += timedelta(seconds=rng.randrange(3600, 3600 * 24 * 20))
            else:
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
            if stage in OPEN:
                left = stage
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
                last_open_stage=left,
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


# -- duckdb ---------------------------------------------------------------------------

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _epoch_us(moment: datetime) -> int:
    return (moment - EPOCH) // US


def _minor(amount: Money | None) -> int | None:
    return None if amount is None else int(amount.amount.scaleb(amount.minor_units))


def _from_minor(total: int, currency: str) -> Decimal:
    return Decimal(total).scaleb(-MINOR_UNITS[currency])


def duckdb_tables(opportunities: list[Opportunity], history: list[StageChange]) -> Any:
    """An in-memory duckdb database with tables ``changes`` and ``deals`` (moments as UTC
    ``TIMESTAMP``, amounts in minor units), built from columns of NumPy arrays."""
    import duckdb
    import numpy as np

    def moments(values: list[int | None]) -> Any:
        present = np.array([v if v is not None else 0 for v in values], dtype=np.int64)
        stamps = present.astype("datetime64[us]")
        stamps[np.array([v is None for v in values])] = np.datetime64("NaT")
        return stamps

    changes = {
        "opp": np.array([c.opportunity_id for c in history], dtype=object),
        "from_stage": np.array([c.from_stage for c in history], dtype=object),
        "to_stage": np.array([c.to_stage for c in history], dtype=object),
        "moved_at": moments([_epoch_us(c.at) for c in history]),
    }
    deals = {
        "opp": np.array([o.id for o in opportunities], dtype=object),
        "stage": np.array([o.stage for o in opportunities], dtype=object),
        "currency": np.array(
            [o.amount.currency if o.amount else None for o in opportunities], dtype=object
        ),
        "amount_minor": np.array(
            [m if (m := _minor(o.amount)) is not None else 0 for o in opportunities],
            dtype=np.int64,
        ),
        "created": moments([_epoch_us(o.created_at) for o in opportunities]),
        "closed": moments([_epoch_us(o.closed_at) if o.closed_at else None for o in opportunities]),
    }
    con = duckdb.connect()
    con.register("change_columns", changes)
    con.register("deal_columns", deals)
    con.execute("CREATE TABLE changes AS SELECT * FROM change_columns")
    con.execute(
        "CREATE TABLE deals AS SELECT opp, stage, currency, "
        "CASE WHEN currency IS NULL THEN NULL ELSE amount_minor END AS amount_minor, "
        "created, closed FROM deal_columns"
    )
    con.unregister("change_columns")
    con.unregister("deal_columns")
    return con


_DUCK_LOSSES = """
WITH last_lost AS (
    SELECT opp, arg_max(from_stage, moved_at) AS from_stage
    FROM changes WHERE to_stage = $lost GROUP BY opp
)
SELECT l.from_stage, d.currency, count(*), sum(d.amount_minor)
FROM deals d LEFT JOIN last_lost l USING (opp)
WHERE d.stage = $lost AND d.closed >= $start AND d.closed < $end
GROUP BY l.from_stage, d.currency
"""

# Percentile p = a / b at position (n - 1) * a / b, interpolated linearly between the
# ranks low and low + 1 (as DayStats does), kept exact in integers: scaled by b.
_DUCK_CYCLE = """
WITH won AS (
    SELECT epoch_us(closed) - epoch_us(created) AS us
    FROM deals WHERE stage = $won AND closed >= $start AND closed < $end
), ranked AS (
    SELECT us, row_number() OVER (ORDER BY us) - 1 AS r, count(*) OVER () AS n FROM won
), marked AS (
    SELECT us, r, n,
        (n - 1) // 2 AS low50, (n - 1) % 2 AS rest50,
        (n - 1) * 9 // 10 AS low90, (n - 1) * 9 % 10 AS rest90
    FROM ranked
)
SELECT count(*), sum(us), min(us), max(us),
    sum(CASE WHEN r = low50 THEN us * (2 - rest50) WHEN r = low50 + 1 THEN us * rest50
        ELSE 0 END),
    sum(CASE WHEN r = low90 THEN us * (10 - rest90) WHEN r = low90 + 1 THEN us * rest90
        ELSE 0 END)
FROM marked
"""


def with_duckdb(con: Any) -> tuple[LossTable, CycleRow]:
    assert WINDOW.start is not None
    assert WINDOW.end is not None
    # The tables hold UTC as naive TIMESTAMPs: compare with naive UTC bounds.
    start = WINDOW.start.astimezone(UTC).replace(tzinfo=None)
    end = WINDOW.end.astimezone(UTC).replace(tzinfo=None)
    table: LossTable = {}
    for stage, currency, deals, total in con.execute(
        _DUCK_LOSSES, {"lost": LOST, "start": start, "end": end}
    ).fetchall():
        count, totals = table.get(stage, (0, {}))
        if currency is not None:
            totals[currency] = _from_minor(total, currency)
        table[stage] = (count + deals, totals)
    n, total, low, high, median2, p90x10 = con.execute(
        _DUCK_CYCLE, {"won": WON, "start": start, "end": end}
    ).fetchone()
    day = Fraction(1, US_PER_DAY)
    cycle: CycleRow = (
        n,
        Fraction(int(total), n) * day,
        Fraction(int(median2), 2) * day,
        Fraction(int(p90x10), 10) * day,
        low * day,
        high * day,
    )
    return table, cycle


# -- SQLite: the service's push-down vs hand-written SQL --------------------------------


def sqlite_load(
    folder: str, opportunities: list[Opportunity], history: list[StageChange], with_history: bool
) -> tuple[str, float]:
    """Store the deals (and the history if asked) in a fresh SQLite file with
    ``tx.insert_many``; return its path and the seconds it took."""
    path = f"{folder}/pipeline.db"
    with sfakit.open(f"sqlite:///{path}", clock=CLOCK, load_entry_points=False) as sfa:
        started = time.perf_counter()
        with sfa.transaction() as tx:
            tx.insert_many(opportunities)
            if with_history:
                tx.insert_many(history)
        return path, time.perf_counter() - started


def with_push_down(sfa: Sfa) -> tuple[Losses, DayStats]:
    return sfa.analyse(losses, window=WINDOW), sfa.analyse(cycle_time, window=WINDOW)


_SQL_WHERE = "WHERE pipeline = ? AND stage IN (?) AND closed_at >= ? AND closed_at < ?"
_SQL_LOSSES = (
    "SELECT last_open_stage, lost_reason, amount_currency, COUNT(*), SUM(amount_minor) "
    f"FROM opportunities {_SQL_WHERE} GROUP BY last_open_stage, lost_reason, amount_currency"
)
_SQL_CYCLE = f"SELECT cycle_microseconds FROM opportunities {_SQL_WHERE} ORDER BY 1"
# What the push-down sends for cycle_time (tx.values; its losses statement is _SQL_LOSSES).
_SQL_PUSHED_CYCLE = (
    f"SELECT cycle_microseconds FROM opportunities {_SQL_WHERE} "
    "ORDER BY cycle_microseconds ASC NULLS FIRST"
)


def _sql_params(stage: str) -> tuple[str, str, str, str]:
    # Moments are stored as fixed-width UTC ISO text, so text order is time order.
    assert WINDOW.start is not None
    assert WINDOW.end is not None
    start = WINDOW.start.astimezone(UTC).isoformat(timespec="microseconds")
    end = WINDOW.end.astimezone(UTC).isoformat(timespec="microseconds")
    return PIPELINE.key, stage, start, end


def sqlite3_losses(db: sqlite3.Connection) -> LossTable:
    table: LossTable = {}
    for stage, _reason, currency, deals, total in db.execute(_SQL_LOSSES, _sql_params(LOST)):
        count, totals = table.get(stage, (0, {}))
        if currency is not None:
            totals[currency] = totals.get(currency, Decimal(0)) + _from_minor(total, currency)
        table[stage] = (count + deals, totals)
    return table


def sqlite3_cycle(db: sqlite3.Connection) -> CycleRow:
    return cycle_row([us for (us,) in db.execute(_SQL_CYCLE, _sql_params(WON))])


def with_sqlite3(db: sqlite3.Connection) -> tuple[LossTable, CycleRow]:
    """The same two questions in hand-written SQL on the same file, with the filters and
    grouping the push-down uses."""
    return sqlite3_losses(db), sqlite3_cycle(db)


def profile_push_down(sfa: Sfa, db: sqlite3.Connection, repeat: int, top: int = 12) -> None:
    """Where the push-down spends its time: its own SQL run raw (the database's share),
    then the functions with the most own time under cProfile."""
    raw_time, _ = best_of(
        repeat,
        lambda: (
            db.execute(_SQL_LOSSES, _sql_params(LOST)).fetchall(),
            db.execute(_SQL_PUSHED_CYCLE, _sql_params(WON)).fetchall(),
        ),
    )
    print(f"  the push-down's two statements run raw with sqlite3: {raw_time * 1000:.1f} ms")
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeat):  # several runs, so one descheduled moment weighs less
        with_push_down(sfa)
    profiler.disable()
    stats = pstats.Stats(profiler)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in raw.values())
    print(
        f"  cProfile of {repeat} push-down runs ({total * 1000 / repeat:.1f} ms each under the "
        "profiler), functions by own time:"
    )
    ranked = sorted(raw.items(), key=lambda item: item[1][2], reverse=True)[:top]
    for (file, line, name), (_, calls, own, cumulative, _) in ranked:
        where = f"{file.rsplit('/src/', 1)[-1]}:{line}" if line else file
        print(
            f"    {own / total:6.1%} own {cumulative / total:6.1%} cumul. "
            f"{calls:>7,} calls  {name}  ({where})"
        )


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


def in_memory(
    opportunities: list[Opportunity], history: list[StageChange], repeat: int
) -> tuple[float, tuple[Losses, DayStats], tuple[LossTable, CycleRow]]:
    """sfakit.pipeline vs the dict groupby (and pandas); returns sfakit's time and result
    and the expected tables."""
    sfakit_time, result = best_of(repeat, lambda: with_sfakit(opportunities, history))
    hand_time, expected = best_of(repeat, lambda: by_hand(opportunities, history))
    prepare_time, deals = best_of(repeat, lambda: Deals.of(PIPELINE, opportunities, history))
    again_time, _ = best_of(  # the closing moves are indexed by the first run, then kept
        repeat + 1,
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
    print("\n== in memory ==")
    print(f"sfakit.pipeline:   {sfakit_time:.3f} s  (Deals.of + losses + cycle_time)")
    print(f"  of which Deals.of (checks the deals): {prepare_time:.3f} s")
    print(f"  the two again on the same Deals (history index kept): {again_time:.3f} s")
    print(f"hand-written dict: {hand_time:.3f} s")
    print(f"ratio sfakit / dict: {sfakit_time / hand_time:.2f}x (goal <= 3x)")
    try:
        import pandas  # noqa: F401
    except ImportError:
        print("pandas: not installed, skipped")
    else:
        frames = pandas_frames(opportunities, history)
        pandas_time, from_pandas = best_of(repeat, lambda: with_pandas(frames))
        assert from_pandas[0] == table, (from_pandas[0], table)
        assert same_cycle(from_pandas[1], expected[1]), (from_pandas[1], expected[1])
        print(f"pandas groupby:    {pandas_time:.3f} s (frames built beforehand)")
        print(f"ratio sfakit / pandas: {sfakit_time / pandas_time:.2f}x (goal <= 3x)")
    return sfakit_time, result, expected


def in_duckdb(
    opportunities: list[Opportunity],
    history: list[StageChange],
    repeat: int,
    sfakit_time: float,
    expected: tuple[LossTable, CycleRow],
) -> None:
    try:
        import duckdb  # noqa: F401
    except ImportError:
        print("duckdb: not installed, skipped")
        return
    started = time.perf_counter()
    con = duckdb_tables(opportunities, history)
    built = time.perf_counter() - started
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    duck_time, from_duck = best_of(repeat, lambda: with_duckdb(con))
    assert from_duck[0] == expected[0], (from_duck[0], expected[0])
    assert from_duck[1] == expected[1], (from_duck[1], expected[1])  # exact: integer SQL
    con.execute("SET threads = 1")  # as single-threaded as the Python paths
    single_time, from_single = best_of(repeat, lambda: with_duckdb(con))
    assert from_single == from_duck
    con.close()
    print(
        f"duckdb SQL:        {duck_time:.3f} s with {threads} threads, {single_time:.3f} s "
        f"with 1 (tables built beforehand in {built:.1f} s)"
    )
    print(
        f"ratio sfakit / duckdb: {sfakit_time / duck_time:.2f}x, "
        f"{sfakit_time / single_time:.2f}x single-threaded (goal <= 3x)"
    )


def in_sqlite(
    opportunities: list[Opportunity],
    *,
    history: list[StageChange],
    args: argparse.Namespace,
    sfakit_time: float,
    result: tuple[Losses, DayStats],
    expected: tuple[LossTable, CycleRow],
) -> None:
    print("\n== SQLite: sfa.analyse push-down vs hand-written SQL ==")
    with tempfile.TemporaryDirectory(prefix="bench_pipeline_") as folder:
        path, load_time = sqlite_load(folder, opportunities, history, args.store_history)
        stored = (
            f"{len(opportunities):,} opportunities + {len(history):,} stage changes"
            if args.store_history
            else f"{len(opportunities):,} opportunities (stage changes not stored: "
            "the push-down does not read them; --store-history adds them)"
        )
        print(f"loaded {stored} with tx.insert_many in {load_time:.1f} s")
        with (
            sfakit.open(f"sqlite:///{path}", clock=CLOCK, load_entry_points=False) as sfa,
            closing(sqlite3.connect(path)) as db,
        ):
            repeat = args.repeat
            push_time, pushed = best_of(repeat, lambda: with_push_down(sfa))
            sql_time, from_sql = best_of(repeat, lambda: with_sqlite3(db))
            # The push-down answers exactly as the in-memory path (reasons included).
            assert pushed == result, (pushed, result)
            assert from_sql[0] == expected[0], (from_sql[0], expected[0])
            assert from_sql[1] == expected[1], (from_sql[1], expected[1])
            parts = [
                ("losses", lambda: sfa.analyse(losses, window=WINDOW), lambda: sqlite3_losses(db)),
                (
                    "cycle_time",
                    lambda: sfa.analyse(cycle_time, window=WINDOW),
                    lambda: sqlite3_cycle(db),
                ),
            ]
            print(f"sfa.analyse(losses) + sfa.analyse(cycle_time): {push_time * 1000:.1f} ms")
            print(
                f"hand-written sqlite3 (GROUP BY; ORDER BY + percentiles): {sql_time * 1000:.1f} ms"
            )
            for name, ours, theirs in parts:
                mine, base = best_of(repeat, ours)[0], best_of(repeat, theirs)[0]
                print(
                    f"  {name}: push-down {mine * 1000:.1f} ms, sqlite3 {base * 1000:.1f} ms "
                    f"({mine / base:.2f}x)"
                )
            ratio = push_time / sql_time
            print(f"ratio push-down / sqlite3: {ratio:.2f}x (goal <= 1.2x)")
            print(f"the push-down is {sfakit_time / push_time:.0f}x faster than sfakit in memory")
            if ratio > 1.2 or args.profile:
                profile_push_down(sfa, db, repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=None, help="default 1,000,000")
    parser.add_argument("--quick", action="store_true", help="a small run: 100,000 changes")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--store-history",
        action="store_true",
        help="also store the stage changes in SQLite (the push-down does not read them)",
    )
    parser.add_argument(
        "--any-second",
        action="store_true",
        help="moves at any second instead of whole hours: nearly every cycle time differs",
    )
    parser.add_argument(
        "--profile", action="store_true", help="profile the push-down even within its goal"
    )
    args = parser.parse_args()
    changes = args.changes or (100_000 if args.quick else 1_000_000)

    started = time.perf_counter()
    opportunities, history = make_data(changes, args.seed, any_second=args.any_second)
    print(
        f"built {len(history):,} stage changes over {len(opportunities):,} deals "
        f"in {time.perf_counter() - started:.1f} s"
    )
    sfakit_time, result, expected = in_memory(opportunities, history, args.repeat)
    in_duckdb(opportunities, history, args.repeat, sfakit_time, expected)
    started = time.perf_counter()
    steps = funnel(Deals.of(PIPELINE, opportunities, history)).steps
    print(
        f"for scale: funnel, which rebuilds and checks every timeline: "
        f"{time.perf_counter() - started:.3f} s ({steps[0].reached:,} deals reached "
        f"{steps[0].stage!r})"
    )
    in_sqlite(
        opportunities,
        history=history,
        args=args,
        sfakit_time=sfakit_time,
        result=result,
        expected=expected,
    )


if __name__ == "__main__":
    main()
