"""The outbox: events written in a business transaction, then delivered by the dispatcher.

    python benchmarks/bench_outbox.py [--events 100000]

sfakit: ``emit`` N events in one transaction on SQLite, then ``dispatch_pending`` until
every one has reached the memory notifier (fan-out, per-notifier delivery queue,
completion — each step a claimed, leased unit of work).

Baseline, same run: a hand-written outbox in raw ``sqlite3`` — one table of events with
a delivered flag; insert the same N envelopes in one transaction, then read pending
rows in batches of the same size, decode each into its event (``event_from_data``, as
any outbox must before calling a notifier), deliver it to a memory notifier, and mark
the batch delivered. It has no fan-out, no per-notifier tracking, no leases or retries.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta

import sfakit
from sfakit.events import Event, LeadCaptured, event_from_data, event_to_data
from sfakit.notifiers.memory import MemoryNotifier
from sfakit.service.outbox import emit

T0 = datetime(2026, 1, 1, tzinfo=UTC)
BATCH = 1000


def make_events(n: int) -> list[Event]:
    return [
        LeadCaptured(
            lead_id=f"lead_{i:07d}", source="web", occurred_at=T0 + timedelta(milliseconds=i)
        )
        for i in range(n)
    ]


def run_sfakit(events: list[Event], folder: str) -> tuple[float, float, int]:
    inbox = MemoryNotifier()
    clock = sfakit.ManualClock(T0 + timedelta(days=1))
    with sfakit.open(
        f"sqlite:///{folder}/sfakit.db", clock=clock, plugins=[inbox], load_entry_points=False
    ) as sfa:
        sfa.dispatcher.batch = BATCH
        start = time.perf_counter()
        with sfa.transaction() as tx:
            emit(tx, events)
        written = time.perf_counter() - start
        start = time.perf_counter()
        while not sfa.dispatch_pending().idle:
            pass
        dispatched = time.perf_counter() - start
    return written, dispatched, len(inbox.events)


def run_raw(events: list[Event], folder: str) -> tuple[float, float, int]:
    db = sqlite3.connect(f"{folder}/raw.db", isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute(
        "CREATE TABLE outbox (id TEXT PRIMARY KEY, occurred_at TEXT NOT NULL, "
        "envelope TEXT NOT NULL, delivered INTEGER NOT NULL DEFAULT 0)"
    )
    db.execute("CREATE INDEX ix_outbox_pending ON outbox (delivered, occurred_at)")
    inbox = MemoryNotifier()
    start = time.perf_counter()
    db.execute("BEGIN IMMEDIATE")
    db.executemany(
        "INSERT INTO outbox (id, occurred_at, envelope) VALUES (?, ?, ?)",
        [(e.id, e.occurred_at.isoformat(), json.dumps(event_to_data(e))) for e in events],
    )
    db.execute("COMMIT")
    written = time.perf_counter() - start
    start = time.perf_counter()
    while True:
        db.execute("BEGIN IMMEDIATE")
        rows = db.execute(
            "SELECT id, envelope FROM outbox WHERE delivered = 0 ORDER BY occurred_at LIMIT ?",
            (BATCH,),
        ).fetchall()
        for _, envelope in rows:
            inbox.deliver(event_from_data(json.loads(envelope)))
        db.executemany("UPDATE outbox SET delivered = 1 WHERE id = ?", [(r[0],) for r in rows])
        db.execute("COMMIT")
        if len(rows) < BATCH:
            break
    dispatched = time.perf_counter() - start
    db.close()
    return written, dispatched, len(inbox.events)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    events = make_events(args.events)
    with tempfile.TemporaryDirectory() as folder:
        ours = run_sfakit(events, folder)
        base = run_raw(events, folder)
    assert ours[2] == base[2] == len(events), (ours, base)
    print(f"{len(events)} events to one memory notifier (SQLite)")
    for label, (write, dispatch, _) in (("sfakit", ours), ("raw", base)):
        total = write + dispatch
        print(
            f"  {label:<7} write {write:7.3f} s   dispatch {dispatch:7.3f} s   total {total:7.3f} s"
        )
    print(f"  => sfakit / raw {sum(ours[:2]) / sum(base[:2]):.2f}x (goal <= 3x)")


if __name__ == "__main__":
    main()
