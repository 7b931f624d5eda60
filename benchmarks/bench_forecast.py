"""Benchmark: forecast roll-up by category x period x territory, sfakit vs DuckDB.

    python benchmarks/bench_forecast.py [--n 1000000] [--objects 200000] [--sql 1000000]
                                        [--repeat 3] [--quick]

Builds N counted deals as columns (NumPy ``int64`` arrays: period index, territory node
index, category code, amount and weighted amount in cents, a missing-amount flag) over
24 fiscal months of the NRF 4-5-4 calendar and a three-level territory tree (4 regions x
5 districts x 10 territories; about 1 % of the deals in no territory). Then, on the
same arrays, in the same run:

(a) sfakit: ``forecast_columns`` — the core that ``forecast`` calls — sums every
    (period, territory, category) cell (amount, deals, weighted, missing amounts) and
    rolls the territory tree up cumulatively into a ``ForecastReport``;
(b) DuckDB: ``GROUP BY period, territory, category`` with the same sums, over the
    arrays (a replacement scan) and over a table loaded beforehand (query time only).

It checks that every cell and every subtree total agrees and prints the timings (best
of ``--repeat``) and the ratios; the goal is sfakit <= 2x DuckDB. The object API
(``forecast`` over ``--objects`` frozen ``Opportunity`` objects: classification, period
lookup, per-deal weighting, then the same core) is timed separately, per deal.

The SQL section stores ``--sql`` opportunities in SQLite (load time printed apart) and
times ``sfa.forecast`` — the service's push-down — against hand-written ``sqlite3``
GROUP BYs computing the same numbers, checking every own cell and subtree total (see
the marked section below).
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import duckdb
import numpy as np

import sfakit
from sfakit.forecast import (
    COUNTED,
    ExclusionReason,
    ForecastColumns,
    ForecastReport,
    Hierarchy,
    HierarchyNode,
    Period,
    RateTable,
    forecast,
    forecast_columns,
    nrf_calendar,
    territory_hierarchy,
)
from sfakit.model import (
    AccountId,
    ForecastCategory,
    Money,
    Opportunity,
    OpportunityId,
    TerritoryId,
)
from sfakit.pipeline import standard_pipeline
from sfakit.territory import TerritoryNode, TerritoryTree

T = TypeVar("T")

CALENDAR = nrf_calendar()
PERIODS = CALENDAR.between("FY2025-M01", "FY2026-M12")
# Per category code (closed, commit, best case, pipeline): a share of deals and the
# probability the weighted amount is computed with (closed deals carry none).
SHARES = (0.25, 0.20, 0.20, 0.35)
PROBABILITY = (0, 80, 50, 10)
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def territory_tree() -> Hierarchy:
    nodes = []
    for r in range(4):
        nodes.append(HierarchyNode(key=f"r{r}"))
        for d in range(5):
            nodes.append(HierarchyNode(key=f"r{r}d{d}", parent=f"r{r}"))
            for t in range(10):
                key = f"r{r}d{d}t{t}"
                nodes.append(HierarchyNode(key=key, parent=f"r{r}d{d}", match=f"terr_{key}"))
    return Hierarchy(dimension="territory", nodes=nodes)


def make_columns(n: int, tree: Hierarchy, seed: int) -> ForecastColumns:
    rng = np.random.default_rng(seed)
    leaves = np.array([i for i, node in enumerate(tree.nodes) if node.match is not None])
    groups = leaves[rng.integers(0, len(leaves), n)]
    groups[rng.random(n) < 0.01] = len(tree)  # the "no territory" group
    categories = rng.choice(4, size=n, p=SHARES).astype(np.int64)
    amounts = rng.integers(0, 10**9, n, dtype=np.int64)
    missing = rng.random(n) < 0.03
    amounts[missing] = 0
    probability = np.array(PROBABILITY, dtype=np.int64)[categories]
    weighted = (amounts * probability + 50) // 100  # half-up, amounts are >= 0
    return ForecastColumns(
        deal_ids=[f"opp_{i:08d}" for i in range(n)],
        periods=rng.integers(0, len(PERIODS), n, dtype=np.int64),
        groups=groups.astype(np.int64),
        categories=categories,
        amounts=amounts,
        weighted=weighted,
        missing=missing,
    )


def best_of(repeat: int, run: Callable[[], T]) -> tuple[float, T]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result  # type: ignore[return-value]


# -- (a) sfakit ----------------------------------------------------------------------------------


def run_sfakit(columns: ForecastColumns, tree: Hierarchy) -> ForecastReport:
    return forecast_columns(columns, periods=PERIODS, groups=tree, currency="EUR")


# -- (b) DuckDB ----------------------------------------------------------------------------------

QUERY = """
    SELECT period, grp, category, sum(amount) AS amount, count(*) AS deals,
           sum(weighted) AS weighted, sum(missing::INTEGER) AS missing
    FROM {source} GROUP BY ALL
"""

Cells = dict[tuple[int, int, int], tuple[int, int, int, int]]


def as_cells(result: dict[str, Any]) -> Cells:
    """DuckDB's result columns as {(period, group, category): (amount, deals, weighted,
    missing)}, for the equality check (not timed)."""
    names = ("period", "grp", "category", "amount", "deals", "weighted", "missing")
    rows = zip(*(result[name].tolist() for name in names), strict=True)
    return {
        (int(p), int(g), int(c)): (int(a), int(n), int(w), int(m)) for p, g, c, a, n, w, m in rows
    }


def frame(columns: ForecastColumns) -> dict[str, Any]:
    return {
        "period": columns.periods,
        "grp": columns.groups,
        "category": columns.categories,
        "amount": columns.amounts,
        "weighted": columns.weighted,
        "missing": columns.missing,
    }


def run_duckdb_scan(con: duckdb.DuckDBPyConnection, columns: ForecastColumns) -> dict[str, Any]:
    deals = frame(columns)  # noqa: F841 - read by DuckDB's replacement scan, by name
    return con.execute(QUERY.format(source="deals")).fetchnumpy()


def load_table(con: duckdb.DuckDBPyConnection, columns: ForecastColumns) -> None:
    deals = frame(columns)  # noqa: F841 - read by DuckDB's replacement scan, by name
    con.execute("CREATE OR REPLACE TABLE deals_table AS SELECT * FROM deals")


def run_duckdb_table(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    return con.execute(QUERY.format(source="deals_table")).fetchnumpy()


def run_duckdb_in_database(con: duckdb.DuckDBPyConnection) -> None:
    """The group-by alone: its result stays in DuckDB (no transfer to Python)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE result AS {QUERY.format(source='deals_table')}")


# -- checks --------------------------------------------------------------------------------------


def check_equal(report: ForecastReport, cells: Cells, tree: Hierarchy) -> int:
    """Every own cell equals DuckDB's; every subtree total equals the sum of DuckDB's
    cells below it. Returns the number of values compared."""
    compared = 0
    index = {g: i for i, g in enumerate(report.groups)}
    below: dict[int, set[int]] = {i: {i} for i in range(len(report.groups))}
    parents = [*tree.parent_indexes, -1]
    for i in range(len(report.groups)):
        p = parents[i]
        while p >= 0:
            below[p].add(i)
            p = parents[p]
    for p, period in enumerate(PERIODS):
        for group, g in index.items():
            line = report.line(period, group)
            for code, category in enumerate(COUNTED):
                amount, deals, _, _ = cells.get((p, g, code), (0, 0, 0, 0))
                assert int(line.own.amount(category).amount * 100) == amount, (period, group)
                assert line.own.count(category) == deals
                total = sum(cells.get((p, c, code), (0, 0, 0, 0))[0] for c in below[g])
                assert int(line.total.amount(category).amount * 100) == total, (period, group)
                compared += 3
            weighted = sum(cells.get((p, g, code), (0, 0, 0, 0))[2] for code in range(4))
            missing = sum(cells.get((p, g, code), (0, 0, 0, 0))[3] for code in range(4))
            assert int(line.own.weighted.amount * 100) == weighted
            assert line.own.missing_amounts == missing
            compared += 2
    grand = report.total()
    assert int(grand.closed.amount * 100) == sum(v[0] for k, v in cells.items() if k[2] == 0)
    return compared


# -- the object API ------------------------------------------------------------------------------


def make_opportunities(n: int, seed: int) -> list[Opportunity]:
    rng = random.Random(seed)
    stages = ["closed_won", "negotiate", "propose", "prospect", "qualify", "closed_lost"]
    first, last = PERIODS[0].start, PERIODS[-1].end
    span = (last - first).days
    deals = []
    for i in range(n):
        stage = rng.choice(stages)
        deals.append(
            Opportunity(
                id=OpportunityId(f"opp_bench{i:08d}"),
                name="Bench deal",
                account_id=AccountId("acct_bench"),
                pipeline="standard",
                stage=stage,
                amount=None if rng.random() < 0.03 else Money.of(rng.randrange(0, 10**7), "EUR"),
                close_date=first + timedelta(days=rng.randrange(span)),
                territory_id=TerritoryId(
                    f"terr_r{rng.randrange(4)}d{rng.randrange(5)}t{rng.randrange(10)}"
                ),
                lost_reason="price" if stage == "closed_lost" else None,
                created_at=T0,
            )
        )
    return deals


def run_objects(deals: list[Opportunity], tree: Hierarchy) -> ForecastReport:
    return forecast(deals, pipelines=standard_pipeline(), periods=PERIODS, currency="EUR", by=tree)


# -- INTEGRATOR: SQL push-down vs raw SQL ----------------------------------------------------
#
# The same roll-up over opportunities stored in SQLite: ``sfa.forecast(periods, by="territory")``
# (the service's push-down: a GROUP BY per period for the closed deals, one narrow per-deal
# aggregate of index columns for the open deals' per-deal weighting, then ``forecast_sums``)
# against one hand-written ``sqlite3`` GROUP BY computing the same numbers — amount, deals,
# weighted amount (rounded per deal) and missing amounts per period, territory and
# category — rolled up the same tree in Python. The hand-written query takes the
# probability override either from the JSON document or from the index column
# ``probability_basis_points`` (as fast as SQL gets; the bench's overrides have two
# decimals, so the column never holds the "finer" marker). Timed twice: over the whole
# book (the last six months still open) and over the first eighteen months (every deal
# closed: the pure GROUP BY case). Loading is timed separately.

SQL_TODAY = PERIODS[18].start  # deals closing before this day are closed
SQL_STAGES = {  # open stage: (probability, category)
    "prospect": (10, "pipeline"),
    "qualify": (20, "pipeline"),
    "propose": (50, "best_case"),
    "negotiate": (80, "commit"),
}
SQL_OVERRIDES = tuple(ForecastCategory)


def sql_tree() -> TerritoryTree:
    nodes = []
    for r in range(4):
        nodes.append(TerritoryNode(key=f"r{r}"))
        for d in range(5):
            nodes.append(TerritoryNode(key=f"r{r}d{d}", parent=f"r{r}"))
            for t in range(10):
                key = f"r{r}d{d}t{t}"
                nodes.append(TerritoryNode(key=key, parent=f"r{r}d{d}", territory_id=f"terr_{key}"))
    return TerritoryTree(nodes=nodes)


def sql_deals(start: int, count: int, rng: random.Random) -> list[Opportunity]:
    """Deals ``start`` to ``start + count``: closed (won 55 %) before SQL_TODAY, open
    after it, a few with overrides, missing amounts or no territory."""
    first, last = PERIODS[0].start, PERIODS[-1].end
    span = (last - first).days
    deals = []
    for i in range(start, start + count):
        close = first + timedelta(days=rng.randrange(span))
        more: dict[str, Any] = {}
        if close < SQL_TODAY:
            won = rng.random() < 0.55
            stage = "closed_won" if won else "closed_lost"
            if not won:
                more["lost_reason"] = "price"
        else:
            stage = rng.choice(list(SQL_STAGES))
            if rng.random() < 0.1:
                more["probability_override"] = Decimal(rng.randrange(0, 10001)).scaleb(-2)
            if rng.random() < 0.1:
                more["forecast_category_override"] = rng.choice(SQL_OVERRIDES)
        territory = None
        if rng.random() >= 0.01:
            territory = f"terr_r{rng.randrange(4)}d{rng.randrange(5)}t{rng.randrange(10)}"
        deals.append(
            Opportunity(
                id=OpportunityId(f"opp_sql{i:08d}"),
                name="Bench deal",
                account_id=AccountId("acct_bench"),
                pipeline="standard",
                stage=stage,
                amount=None if rng.random() < 0.03 else Money.of(rng.randrange(0, 10**9), "EUR"),
                close_date=close,
                territory_id=None if territory is None else TerritoryId(territory),
                created_at=T0,
                **more,
            )
        )
    return deals


def sql_load(path: str, n: int, seed: int) -> float:
    """A fresh SQLite store at ``path`` with the tree and ``n`` deals; the seconds it took."""
    for leftover in (path, f"{path}-wal", f"{path}-shm"):
        if os.path.exists(leftover):
            os.remove(leftover)
    rng = random.Random(seed)
    started = time.perf_counter()
    with sfakit.open(f"sqlite:///{path}", load_entry_points=False) as sfa:
        sfa.set_territory_tree(sql_tree(), expected_version=None)
        sfa.set_exchange_rates(RateTable.of("EUR", {}), expected_version=None)
        sfa.set_fiscal_calendar(CALENDAR, expected_version=None)
        for start in range(0, n, 50_000):
            batch = sql_deals(start, min(50_000, n - start), rng)
            with sfa.transaction() as tx:
                tx.insert_many(batch)
    return time.perf_counter() - started


RAW_QUERY = """
SELECT period, territory_id, category, COUNT(*), SUM(COALESCE(amount_minor, 0)),
       SUM(CASE WHEN category IN ('closed', 'omitted') OR amount_minor IS NULL THEN 0
                ELSE (amount_minor * basis_points + 5000) / 10000 END),
       SUM(amount_minor IS NULL)
FROM (
    SELECT CASE {period} END AS period, territory_id, amount_minor,
           CASE stage WHEN 'closed_won' THEN 'closed' WHEN 'closed_lost' THEN 'omitted'
                ELSE COALESCE(forecast_category_override, CASE stage {category} END)
           END AS category,
           CASE WHEN stage IN ('closed_won', 'closed_lost') THEN 0
                ELSE COALESCE({override}, (CASE stage {probability} END) * 100)
           END AS basis_points
    FROM opportunities
    WHERE close_date >= '{first}' AND close_date < '{last}' AND +pipeline = 'standard'
)
GROUP BY 1, 2, 3
"""

#: Where the hand-written query takes a deal's probability override from, in basis points.
OVERRIDES = {
    "JSON document": "CAST(ROUND(json_extract(data, '$.probability_override') * 100) AS INTEGER)",
    "index column": "probability_basis_points",
}

SqlCells = dict[tuple[int, str | None, str], tuple[int, int, int, int]]


def run_raw_sql(path: str, periods: tuple[Period, ...], override: str) -> SqlCells:
    """The hand-written GROUP BY (one walk of the close-date index; the period, category
    and per-deal weighting as CASE expressions, the probability override read as
    ``override`` says): {(period, territory_id, category): (deals, amount, weighted,
    missing)}; category 'omitted' holds the lost and omitted deals."""
    query = RAW_QUERY.format(
        override=OVERRIDES[override],
        period=" ".join(
            f"WHEN close_date < '{p.end.isoformat()}' THEN {i}" for i, p in enumerate(periods)
        ),
        category=" ".join(f"WHEN '{k}' THEN '{c}'" for k, (_, c) in SQL_STAGES.items()),
        probability=" ".join(f"WHEN '{k}' THEN {p}" for k, (p, _) in SQL_STAGES.items()),
        first=periods[0].start.isoformat(),
        last=periods[-1].end.isoformat(),
    )
    con = sqlite3.connect(path)
    try:
        rows = con.execute(query).fetchall()
    finally:
        con.close()
    return {(p, t, c): (n, a, w, m) for p, t, c, n, a, w, m in rows}


def run_service(path: str, periods: tuple[Period, ...]) -> ForecastReport:
    with sfakit.open(f"sqlite:///{path}", load_entry_points=False) as sfa:
        return sfa.forecast([p.name for p in periods], by="territory")


def check_sql_equal(report: ForecastReport, cells: SqlCells, tree: TerritoryTree) -> int:
    """Every own figure and subtree total of the service's report equals the raw SQL's."""
    hierarchy = territory_hierarchy(tree)
    node_of = {n.territory_id: n.key for n in tree.nodes if n.territory_id}
    by_node: dict[tuple[int, str | None, str], list[int]] = {}
    excluded = 0
    for (p, territory, category), values in cells.items():
        if category == "omitted":
            excluded += values[0]
            continue
        key = (p, node_of.get(territory), category)
        by_node[key] = [a + b for a, b in zip(by_node.get(key, [0, 0, 0, 0]), values, strict=True)]
    below = {g: {g} for g in report.groups}
    for node in hierarchy.nodes:
        for ancestor in hierarchy.path(node.key)[:-1]:
            below[ancestor].add(node.key)
    compared = 0
    for p, period in enumerate(report.periods):
        for group in report.groups:
            line = report.line(period, group)
            weighted = missing = 0
            for category in COUNTED:
                deals, amount, w, m = by_node.get((p, group, category.value), [0, 0, 0, 0])
                weighted, missing = weighted + w, missing + m
                assert line.own.count(category) == deals, (period.name, group, category)
                assert line.own.amount(category).amount.scaleb(2) == amount
                total = sum(
                    by_node.get((p, g, category.value), [0, 0, 0, 0])[1] for g in below[group]
                )
                assert line.total.amount(category).amount.scaleb(2) == total
                compared += 3
            assert line.own.weighted.amount.scaleb(2) == weighted, (period.name, group)
            assert line.own.missing_amounts == missing
            compared += 2
    assert sum(e.count for e in report.exclusions) == excluded
    return compared


def run_sql_pushdown(url: str, n: int, *, repeat: int = 3, seed: int = 2026) -> None:
    """Load ``n`` deals into the SQLite file ``url`` and time the service's forecast
    against the hand-written GROUP BYs, over the whole book and over its closed months."""
    tree = sql_tree()
    load_time = sql_load(url, n, seed)
    print(f"SQL push-down on SQLite: {n:,} stored opportunities, {len(tree.nodes)} territories")
    print(f"  loading (insert_many in batches of 50,000): {load_time:.1f} s")
    for label, periods in (
        ("24 months, the last 6 open", PERIODS),
        ("the 18 closed months", PERIODS[:18]),
    ):
        service_time, report = best_of(repeat, lambda chosen=periods: run_service(url, chosen))
        total = report.total()
        omitted = sum(e.count for e in report.exclusions if e.reason is ExclusionReason.OMITTED)
        weighed = total.open_deals + omitted
        print(f"  {label} ({weighed:,} open deals weighed one by one):")
        print(f"    {'sfa.forecast (push-down)':<50} {service_time * 1000:7.0f} ms")
        for override in OVERRIDES:
            raw_time, cells = best_of(
                repeat, lambda chosen=periods, o=override: run_raw_sql(url, chosen, o)
            )
            compared = check_sql_equal(report, cells, tree)
            baseline = f"hand-written GROUP BY, override from {override}"
            print(
                f"    {baseline:<50} {raw_time * 1000:7.0f} ms  "
                f"ratio {service_time / raw_time:5.2f}x (goal <= 1.2x)"
            )
        print(f"    equal: {compared:,} values compared against each")


# -- main ----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="deals as columns")
    parser.add_argument("--objects", type=int, default=200_000, help="Opportunity objects")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--sql", type=int, default=1_000_000, help="stored opportunities (0: skip)")
    parser.add_argument("--quick", action="store_true", help="a small run (50,000 deals)")
    args = parser.parse_args()
    if args.quick:
        args.n, args.objects, args.repeat, args.sql = 50_000, 10_000, 2, 50_000

    tree = territory_tree()
    shape = f"{len(PERIODS)} periods x {len(tree) + 1} territory groups x 4 categories"
    print(f"{args.n:,} deals; {shape}")
    columns = make_columns(args.n, tree, args.seed)

    sfakit_time, report = best_of(args.repeat, lambda: run_sfakit(columns, tree))
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    scan_time, scanned = best_of(args.repeat, lambda: run_duckdb_scan(con, columns))
    load_table(con, columns)
    table_time, tabled = best_of(args.repeat, lambda: run_duckdb_table(con))
    inside_time, _ = best_of(args.repeat, lambda: run_duckdb_in_database(con))
    cells = as_cells(scanned)
    assert cells == as_cells(tabled)
    compared = check_equal(report, cells, tree)
    lines_time, _ = best_of(1, lambda: len(run_sfakit(columns, tree).lines))

    rows = [
        (f"sfakit forecast_columns ({report.tally_engine} engine + tree roll-up)", sfakit_time),
        ("duckdb GROUP BY over the arrays, fetchnumpy", scan_time),
        ("duckdb GROUP BY over a loaded table, fetchnumpy", table_time),
        ("duckdb GROUP BY over a loaded table, result kept in duckdb", inside_time),
    ]
    for label, seconds in rows:
        print(f"  {label:<62} {seconds * 1000:8.1f} ms")
    for label, seconds in rows[1:]:
        against = label.removeprefix("duckdb GROUP BY ")
        print(f"  ratio sfakit / duckdb {against:<48} {sfakit_time / seconds:5.2f}x")
    print("  (goal: sfakit <= 2x duckdb)")
    print(f"  equal totals: {compared:,} values compared (every own cell and subtree total)")
    count = len(report.lines)
    print(
        f"  materialising all {count:,} ForecastLines (Money objects): {lines_time * 1000:.0f} ms"
    )

    if args.objects:
        deals = make_opportunities(args.objects, args.seed)
        objects_time, by_objects = best_of(1, lambda: run_objects(deals, tree))
        counted = by_objects.total().deals
        print(
            f"object API: forecast() over {len(deals):,} Opportunity objects "
            f"({counted:,} counted): {objects_time:.2f} s, "
            f"{objects_time / len(deals) * 1e6:.2f} us per deal"
        )
    if args.sql:
        path = os.path.join(tempfile.gettempdir(), f"sfakit_bench_forecast_{os.getpid()}.db")
        try:
            run_sql_pushdown(path, args.sql, repeat=args.repeat, seed=args.seed)
        finally:
            for leftover in (path, f"{path}-wal", f"{path}-shm"):
                if os.path.exists(leftover):
                    os.remove(leftover)


if __name__ == "__main__":
    main()
