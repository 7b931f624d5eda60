"""Storage throughput: sfakit's backends vs raw database code doing the same job.

    python benchmarks/bench_storage.py [--n 100000] [--postgres postgresql://...]

For each backend it times, in one run:

* inserting N opportunities in one transaction (``tx.insert_many``), against raw
  ``executemany`` (and ``COPY`` on PostgreSQL) of the same rows into an identical table,
  the rows built by hand-written code (JSON of a hand-written dict plus index columns);
* N point reads by id in one transaction (``tx.get``), against a raw ``SELECT`` plus
  ``json.loads`` plus the hand-written dict → ``Opportunity`` conversion, and against a
  bare raw ``SELECT`` that builds no object at all.

sfakit also appends one change-feed entry per insert (a guarantee of the contract);
the raw baseline does not, so the insert ratio includes that work.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from bench_codec import make_opportunities, opportunity_from_dict, opportunity_to_dict

from sfakit.backends.sqlite import SqliteDialect, open_sqlite
from sfakit.model import Opportunity
from sfakit.storage.catalog import kind_spec, utc_text
from sfakit.storage.common import with_version
from sfakit.storage.sql import schema_statements


def make_new_opportunities(n: int) -> list[Opportunity]:
    """The codec benchmark's opportunities, as never-stored entities (version 0)."""
    return [with_version(o, 0) for o in make_opportunities(n)]


def hand_object(d: dict[str, Any]) -> Opportunity:
    return opportunity_from_dict(d)


def hand_row(
    o: Opportunity, moment: Callable[[datetime], Any], day: Callable[[date], Any]
) -> tuple[Any, ...]:
    money = o.amount
    return (
        o.id,
        1,
        json.dumps({**opportunity_to_dict(o), "version": 1}),
        moment(o.created_at),
        moment(o.updated_at),
        o.account_id,
        o.owner_id,
        o.territory_id,
        o.pipeline,
        o.stage,
        None if o.close_date is None else day(o.close_date),
        None if o.closed_at is None else moment(o.closed_at),
        None if money is None else int(money.amount.scaleb(money.minor_units)),
        None if money is None else money.currency,
        o.product_line,
        o.source,
        None if o.forecast_category_override is None else o.forecast_category_override.value,
    )


COLUMNS = (
    "id, version, data, created_at, updated_at, account_id, owner_id, territory_id, pipeline, "
    "stage, close_date, closed_at, amount_minor, amount_currency, product_line, source, "
    "forecast_category_override"
)


REPEAT = 3


def timed(label: str, fn: Callable[[], Any], reset: Callable[[], Any] | None = None) -> float:
    """The best of REPEAT runs when ``reset`` can empty the table between them, else one."""
    best = float("inf")
    for _ in range(REPEAT if reset else 1):
        if reset:
            reset()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    print(f"  {label:<46} {best:8.3f} s")
    return best


def ratio(label: str, ours: float, base: float, goal: str) -> None:
    print(f"  => {label:<43} {ours / base:8.2f}x   (goal {goal})")


def bench_sqlite(deals: list[Opportunity], folder: str) -> None:
    n = len(deals)
    print(f"SQLite ({n} opportunities)")
    store = open_sqlite(f"sqlite:///{folder}/sfakit.db")

    def sfakit_insert() -> None:
        with store.transaction() as tx:
            tx.insert_many(deals)

    raw = sqlite3.connect(f"{folder}/raw.db", isolation_level=None)
    raw.execute("PRAGMA journal_mode = WAL")
    raw.execute("PRAGMA synchronous = NORMAL")
    for statement in schema_statements(SqliteDialect()):
        raw.execute(statement)
    placeholders = ", ".join(["?"] * len(COLUMNS.split(",")))

    def raw_insert() -> None:
        rows = [hand_row(o, utc_text, date.isoformat) for o in deals]
        raw.execute("BEGIN IMMEDIATE")
        raw.executemany(f"INSERT INTO opportunities ({COLUMNS}) VALUES ({placeholders})", rows)
        raw.execute("COMMIT")

    def empty_sfakit() -> None:
        with store._raw_transaction(readonly=False) as cur:
            cur.execute("DELETE FROM opportunities")
            cur.execute("DELETE FROM sfakit_streams")

    def empty_raw() -> None:
        raw.execute("DELETE FROM opportunities")

    ours = timed("sfakit insert_many, one transaction", sfakit_insert, empty_sfakit)
    base = timed("raw sqlite3 executemany, one transaction", raw_insert, empty_raw)
    ratio("insert", ours, base, "<= 1.3x")

    ids = [o.id for o in deals]
    loaded: list[Opportunity] = []

    def sfakit_get() -> None:
        with store.transaction(readonly=True) as tx:
            loaded.extend(tx.get(Opportunity, i) for i in ids)

    def raw_get_objects() -> None:
        cur = raw.cursor()
        out = [
            hand_object(
                json.loads(
                    cur.execute("SELECT data FROM opportunities WHERE id = ?", (i,)).fetchone()[0]
                )
            )
            for i in ids
        ]
        assert out == loaded

    def raw_get_rows() -> None:
        cur = raw.cursor()
        for i in ids:
            cur.execute("SELECT data FROM opportunities WHERE id = ?", (i,)).fetchone()

    ours = timed("sfakit get by id", sfakit_get)
    assert loaded == [o.evolve(version=1) for o in deals]
    base = timed("raw SELECT + json + hand-written object", raw_get_objects)
    bare = timed("raw SELECT only (no object)", raw_get_rows)
    ratio("get vs raw SELECT building the object", ours, base, "<= 1.5x")
    ratio("get vs bare raw SELECT", ours, bare, "for information")
    store.close()
    raw.close()


def _postgres_insert(store: Any, raw: Any, deals: list[Opportunity]) -> None:
    def sfakit_insert() -> None:
        with store.transaction() as tx:
            tx.insert_many(deals)

    placeholders = ", ".join(["%s"] * len(COLUMNS.split(",")))

    def raw_executemany() -> None:
        rows = [hand_row(o, lambda m: m, lambda d: d) for o in deals]
        with raw.transaction(), raw.cursor() as cur:
            cur.executemany(f"INSERT INTO opportunities ({COLUMNS}) VALUES ({placeholders})", rows)

    def raw_copy() -> None:
        rows = [hand_row(o, lambda m: m, lambda d: d) for o in deals]
        with (
            raw.transaction(),
            raw.cursor() as cur,
            cur.copy(f"COPY opportunities ({COLUMNS}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)

    def empty_sfakit() -> None:
        with store._raw_transaction() as cur:
            cur.execute("TRUNCATE opportunities, sfakit_streams")

    def empty_raw() -> None:
        with raw.transaction():
            raw.execute("TRUNCATE opportunities")

    ours = timed("sfakit insert_many, one transaction", sfakit_insert, empty_sfakit)
    base = timed("raw psycopg executemany, one transaction", raw_executemany, empty_raw)
    copy_time = timed("raw psycopg COPY, one transaction", raw_copy, empty_raw)
    ratio("insert vs executemany", ours, base, "<= 1.3x")
    ratio("insert vs COPY", ours, copy_time, "for information")


def _postgres_get(store: Any, raw: Any, deals: list[Opportunity]) -> None:
    ids = [o.id for o in deals]
    loaded: list[Opportunity] = []

    def sfakit_get() -> None:
        with store.transaction(readonly=True) as tx:
            loaded.extend(tx.get(Opportunity, i) for i in ids)

    def raw_get_objects() -> None:
        with raw.cursor() as cur:
            out = []
            for i in ids:
                cur.execute("SELECT data FROM opportunities WHERE id = %s", (i,))
                out.append(hand_object(json.loads(cur.fetchone()[0])))
        raw.rollback()
        assert out == loaded

    ours = timed("sfakit get by id", sfakit_get)
    base = timed("raw SELECT + json + hand-written object", raw_get_objects)
    ratio("get vs raw SELECT building the object", ours, base, "<= 1.5x")


def bench_postgres(deals: list[Opportunity], dsn: str) -> None:
    import psycopg

    from sfakit.backends.postgres import PostgresDialect, open_postgres

    print(f"PostgreSQL ({len(deals)} opportunities)")
    schemas = [f"bench_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    admin = psycopg.connect(dsn, autocommit=True)
    for schema in schemas:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        store = open_postgres(f"{dsn}?options=-csearch_path%3D{schemas[0]}")
        raw = psycopg.connect(dsn, options=f"-csearch_path={schemas[1]}")
        with raw.transaction():
            for statement in schema_statements(PostgresDialect()):
                raw.execute(statement)
        _postgres_insert(store, raw, deals)
        _postgres_get(store, raw, deals)
        store.close()
        raw.close()
    finally:
        for schema in schemas:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per insert (best kept)")
    parser.add_argument("--postgres", default=os.environ.get("SFAKIT_TEST_POSTGRES_DSN"))
    args = parser.parse_args()
    global REPEAT  # noqa: PLW0603 - a script-wide setting
    REPEAT = args.repeat
    deals = make_new_opportunities(args.n)
    assert kind_spec(Opportunity).table == "opportunities"
    with tempfile.TemporaryDirectory() as folder:
        bench_sqlite(deals, folder)
    if args.postgres:
        bench_postgres(deals, args.postgres)
    else:
        print("PostgreSQL skipped: pass --postgres DSN or set SFAKIT_TEST_POSTGRES_DSN")


if __name__ == "__main__":
    main()
