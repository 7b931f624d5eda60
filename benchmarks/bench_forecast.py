"""Benchmark: forecast roll-up by category x period x territory, sfakit vs DuckDB.

    python benchmarks/bench_forecast.py [--n 1000000] [--objects 200000] [--repeat 3] [--quick]

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
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import duckdb
import numpy as np

from sfakit.forecast import (
    COUNTED,
    ForecastColumns,
    ForecastReport,
    Hierarchy,
    HierarchyNode,
    forecast,
    forecast_columns,
    nrf_calendar,
)
from sfakit.model import AccountId, Money, Opportunity, OpportunityId, TerritoryId
from sfakit.pipeline import standard_pipeline

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
# The storage integration will add here the comparison of the same roll-up pushed down
# to the database (the service's SQL query over stored opportunities, feeding
# ``forecast_columns``) against a hand-written raw SQL ``GROUP BY`` on SQLite/PostgreSQL.
# Expected shape:
#
#     def run_sql_pushdown(url: str, n: int) -> tuple[float, float, bool]:
#         """(pushdown seconds, raw SQL seconds, equal totals)"""
#
# and a line in ``main`` printing both timings and their ratio.


def run_sql_pushdown(url: str, n: int) -> tuple[float, float, bool] | None:
    """Placeholder for the integrator (see the marked section above)."""
    del url, n
    return None


# -- main ----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="deals as columns")
    parser.add_argument("--objects", type=int, default=200_000, help="Opportunity objects")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--quick", action="store_true", help="a small run (50,000 deals)")
    args = parser.parse_args()
    if args.quick:
        args.n, args.objects, args.repeat = 50_000, 10_000, 2

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
    if run_sql_pushdown("", args.n) is None:
        print("SQL push-down vs raw SQL: not measured here (integrator section)")


if __name__ == "__main__":
    main()
