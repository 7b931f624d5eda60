"""Benchmark: sfakit schedules vs raw python-dateutil rrules on the same rules.

Sections (run all, or pick with ``--section``):

* **occurrences**: the occurrences of ``--schedules`` random schedules over one year,
  ``Schedule.between`` vs ``rrule.between`` (objects built beforehand; build times are
  printed too). The rules are drawn where the two agree (``month_end=skip``, wall
  times outside daylight-saving gaps, no mixed ``BYDAY=MO,2TU``), and the results are
  checked equal. Goal: sfakit at most 1.2x dateutil's time.
* **next_after**: the next occurrence 30 years after the start, ``Schedule.next_after``
  vs ``rrule.after`` (which replays every occurrence from ``DTSTART``, dateutil issue
  654), on rules without ``COUNT``; results checked equal. Goal: at least 100x faster.

* **run_due**: ``--standing`` standing orders (100k; 10k with ``--quick``) due once
  each, in a SQLite file: one ``sfa.run_due`` pass, which plans each occurrence, creates
  and places its order (confirmation number, payment decision, ``OrderPlaced`` /
  ``OrderConfirmed`` in the outbox, the account's ``last_order_at``) and moves the
  standing order's watermark, vs raw ``sqlite3`` inserts of the same order rows (and,
  second baseline, the inserts plus the watermark updates), in transactions of 100 rows
  as ``run_due`` uses. Goal: at most 3x the raw inserts.

    python benchmarks/bench_recurrence.py [--quick] [--schedules N] [--section NAME]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

from sfakit.recurrence import MonthEndPolicy, Schedule

ZONES = ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC", "Australia/Lord_Howe")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def random_rule(rng: random.Random) -> str:
    """A rule of the kinds sales schedules use, in RFC 5545 text."""
    kind = rng.choice(("daily", "workdays", "weekly", "monthly", "nth", "month_end", "yearly"))
    interval = rng.choice((1, 1, 1, 2, 3))
    parts = []
    if kind == "daily":
        parts = ["FREQ=DAILY"]
    elif kind == "workdays":
        parts = ["FREQ=DAILY", "BYDAY=MO,TU,WE,TH,FR"]
    elif kind == "weekly":
        days = rng.sample(WEEKDAYS[:5], rng.randint(1, 3))
        parts = ["FREQ=WEEKLY", "BYDAY=" + ",".join(days)]
    elif kind == "monthly":
        parts = ["FREQ=MONTHLY"]
    elif kind == "nth":
        parts = ["FREQ=MONTHLY", f"BYDAY={rng.choice((1, 2, 3, -1))}{rng.choice(WEEKDAYS[:5])}"]
    elif kind == "month_end":
        parts = ["FREQ=MONTHLY", "BYMONTHDAY=" + rng.choice(("-1", "1,15", "28,-1"))]
    else:
        parts = ["FREQ=YEARLY"]
    if interval > 1:
        parts.append(f"INTERVAL={interval}")
    return ";".join(parts)


def random_start(rng: random.Random, year: int) -> datetime:
    zone = ZoneInfo(rng.choice(ZONES))
    day = datetime(year, 1, 1) + timedelta(days=rng.randrange(365))
    # 06:00-20:59: no zone above has a daylight-saving gap or fold then.
    return day.replace(hour=rng.randint(6, 20), minute=rng.choice((0, 15, 30)), tzinfo=zone)


def build(count: int, year: int, seed: int) -> list[tuple[Schedule, rrule]]:
    rng = random.Random(seed)
    pairs = []
    for _ in range(count):
        text, start = random_rule(rng), random_start(rng, year)
        ours = Schedule.from_rrule(text, dtstart=start, month_end=MonthEndPolicy.SKIP)
        theirs = rrulestr(text, dtstart=start)
        pairs.append((ours, theirs))
    return pairs


def timed(run: Callable[[], object]) -> tuple[float, object]:
    begin = time.perf_counter()
    result = run()
    return time.perf_counter() - begin, result


def best_of(repeat: int, run: Callable[[], object]) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        elapsed, result = timed(run)
        times.append(elapsed)
    return min(times), result


def section_occurrences(args: argparse.Namespace) -> None:
    count = 1_000 if args.quick else args.schedules
    zone = ZoneInfo("UTC")
    low, high = datetime(2026, 1, 1, tzinfo=zone), datetime(2027, 1, 1, tzinfo=zone)
    build_start = time.perf_counter()
    rng = random.Random(args.seed)
    texts = [(random_rule(rng), random_start(rng, 2025)) for _ in range(count)]
    ours_built = [
        Schedule.from_rrule(t, dtstart=s, month_end=MonthEndPolicy.SKIP) for t, s in texts
    ]
    ours_build = time.perf_counter() - build_start
    theirs_build, theirs_built = timed(lambda: [rrulestr(t, dtstart=s) for t, s in texts])
    assert isinstance(theirs_built, list)

    def ours() -> list[tuple[datetime, ...]]:
        return [s.between(low, high) for s in ours_built]

    def theirs() -> list[tuple[datetime, ...]]:
        found = []
        for rule, (_, start) in zip(theirs_built, texts, strict=True):
            # dateutil compares in the rule's zone: give it the bounds there.
            a, b = low.astimezone(start.tzinfo), high.astimezone(start.tzinfo)
            found.append(tuple(d for d in rule.between(a, b, inc=True) if d < b))
        return found

    repeat = 1 if args.quick else 3
    ours_time, ours_result = best_of(repeat, ours)
    theirs_time, theirs_result = best_of(repeat, theirs)
    assert ours_result == theirs_result, "sfakit and dateutil disagree"
    total = sum(len(r) for r in ours_result)  # type: ignore[attr-defined]
    ratio = ours_time / theirs_time
    print(f"occurrences: {count} schedules, {total} occurrences in 2026 (results equal)")
    print(f"  build:   sfakit {ours_build * 1e3:8.1f} ms   dateutil {theirs_build * 1e3:8.1f} ms")
    print(f"  between: sfakit {ours_time * 1e3:8.1f} ms   dateutil {theirs_time * 1e3:8.1f} ms")
    print(f"  ratio sfakit/dateutil: {ratio:.2f}x (goal <= 1.2x)")


def section_next_after(args: argparse.Namespace) -> None:
    count = 20 if args.quick else max(20, args.schedules // 50)
    pairs = build(count, 1996, args.seed + 1)
    moments = [ours.dtstart + timedelta(days=30 * 365) for ours, _ in pairs]

    def ours() -> list[datetime | None]:
        return [s.next_after(m) for (s, _), m in zip(pairs, moments, strict=True)]

    def theirs() -> list[datetime | None]:
        return [r.after(m) for (_, r), m in zip(pairs, moments, strict=True)]

    ours_time, ours_result = best_of(1 if args.quick else 3, ours)
    theirs_time, theirs_result = timed(theirs)
    assert ours_result == theirs_result, "sfakit and dateutil disagree"
    ratio = theirs_time / ours_time
    print(f"next_after 30 years out: {count} schedules (results equal)")
    print(
        f"  sfakit {ours_time / count * 1e6:8.1f} us/query   "
        f"dateutil after() {theirs_time / count * 1e6:10.1f} us/query"
    )
    print(f"  speed-up: {ratio:.0f}x (goal >= 100x)")


#: Sections by name, run in this order; the scheduler's ``run_due`` is added later.
def _standing_orders(count: int, start: datetime) -> tuple[list[Any], list[Any]]:
    from sfakit.model import Account, Money, OrderLine, RecurrenceSpec, StandingOrder

    berlin = ZoneInfo("Europe/Berlin")
    accounts = [Account(name=f"Customer {n}", created_at=start) for n in range(count // 10)]
    line = OrderLine(product_id="prod_bulb", quantity=1000, unit_price=Money.of("1.2", "EUR"))
    standing = []
    for n in range(count):
        first = datetime(2026, 1, 6 + n % 25, 8, tzinfo=berlin)
        spec = RecurrenceSpec(rule="FREQ=MONTHLY;INTERVAL=2", start=first, timezone="Europe/Berlin")
        standing.append(
            StandingOrder(
                account_id=accounts[n % len(accounts)].id,
                currency="EUR",
                lines=[line],
                schedule=spec,
                next_due_at=first,
                created_at=start,
            )
        )
    return accounts, standing


def _raw_writes(folder: Path, orders: list[Any], standing: list[Any], *, updates: bool) -> float:
    """Time sqlite3 writing the same order rows (and the watermark updates) in
    transactions of 100, into a copy of the schema."""
    from sfakit.backends.sqlite import SqliteDialect
    from sfakit.model import Order, StandingOrder
    from sfakit.storage.catalog import kind_spec
    from sfakit.storage.sql import entity_row

    dialect = SqliteDialect()
    rows = [[o.id, o.version, *entity_row(kind_spec(Order), dialect, o)] for o in orders]
    so_rows = [entity_row(kind_spec(StandingOrder), dialect, s) for s in standing]
    raw = sqlite3.connect(folder / f"raw-{updates}.db", isolation_level=None)
    raw.execute("PRAGMA journal_mode=WAL")
    raw.execute("PRAGMA synchronous=NORMAL")
    source = sqlite3.connect(folder / "run_due.db")
    names = "('orders', 'standing_orders')"
    for (sql,) in source.execute(f"SELECT sql FROM sqlite_master WHERE name IN {names}"):
        raw.execute(sql)
    source.close()
    marks = ", ".join(["?"] * (2 + len(so_rows[0])))
    raw.executemany(
        f"INSERT INTO standing_orders VALUES ({marks})",
        [[s.id, 1, *r] for s, r in zip(standing, so_rows, strict=True)],
    )
    marks = ", ".join(["?"] * len(rows[0]))
    started = time.perf_counter()
    for at in range(0, len(rows), 100):
        raw.execute("BEGIN")
        raw.executemany(f"INSERT INTO orders VALUES ({marks})", rows[at : at + 100])
        if updates:
            raw.executemany(
                "UPDATE standing_orders SET version = version + 1, data = ? WHERE id = ?",
                [
                    (r[0], s.id)
                    for s, r in zip(standing[at : at + 100], so_rows[at : at + 100], strict=True)
                ],
            )
        raw.execute("COMMIT")
    elapsed = time.perf_counter() - started
    raw.close()
    return elapsed


def section_run_due(args: argparse.Namespace) -> None:
    import sfakit
    from sfakit.model import Order

    count = 10_000 if args.quick else args.standing
    start = datetime(2026, 1, 5, tzinfo=ZoneInfo("UTC"))
    run_at = datetime(2026, 2, 1, tzinfo=ZoneInfo("UTC"))
    accounts, standing = _standing_orders(count, start)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clock = sfakit.ManualClock(start)
        with sfakit.open(f"sqlite:///{folder / 'run_due.db'}", clock=clock) as sfa:
            started = time.perf_counter()
            with sfa.transaction() as tx:
                tx.insert_many(accounts)
                tx.insert_many(standing)
            loaded = time.perf_counter() - started
            print(f"run_due: loaded {count:,} standing orders in {loaded:.1f} s")
            clock.set(run_at)
            started = time.perf_counter()
            report = sfa.run_due(run_at)
            sfakit_time = time.perf_counter() - started
            assert len(report.created) == count, (len(report.created), count)
            with sfa.transaction(readonly=True) as tx:
                orders = list(tx.query(Order, limit=count).items)
        assert len(orders) == count
        baseline = {
            "inserts": _raw_writes(folder, orders, standing, updates=False),
            "inserts+updates": _raw_writes(folder, orders, standing, updates=True),
        }
    print(
        f"run_due: sfakit {sfakit_time:.2f} s for {count:,} orders ({count / sfakit_time:,.0f}/s)"
    )
    for name, seconds in baseline.items():
        print(f"  raw sqlite3 {name}: {seconds:.2f} s -> ratio {sfakit_time / seconds:.1f}x")
    print("  (goal: <= 3x the raw inserts)")


SECTIONS: dict[str, Callable[[argparse.Namespace], None]] = {
    "occurrences": section_occurrences,
    "next_after": section_next_after,
    "run_due": section_run_due,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a small run")
    parser.add_argument("--schedules", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--standing", type=int, default=100_000)
    parser.add_argument("--section", choices=sorted(SECTIONS), action="append")
    args = parser.parse_args(argv)
    for name in args.section or list(SECTIONS):
        SECTIONS[name](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
