"""Benchmark: compiled criteria vs an equivalent hand-written lambda.

Evaluates a 10-leaf criteria (nested all/any; eq, in, gt, between, startswith, is_set over
str, Decimal, int and date fields) over N records of a frozen attrs class, checks that
both give the same match count, and prints both timings and their ratio (goal: <= 3x).

    python benchmarks/bench_rules.py [--records N]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import attrs

from sfakit.rules import all_of, any_of, compile_criteria, field


@attrs.frozen
class Deal:
    name: str
    stage: str
    country: str
    amount: Decimal
    employees: int
    probability: int
    close_date: date
    owner: str | None


STAGES = ("qualify", "proposal", "negotiation", "won", "lost")
COUNTRIES = ("DE", "FR", "FI", "AT", "US", "GB")
NAMES = ("Acme Lighting", "Bolt GmbH", "Acme Corp", "Fjord Oy", "Globex", "Initech")

CRITERIA = all_of(
    field("stage").isin(["qualify", "proposal", "negotiation"]),
    field("amount").gt(Decimal("1000")),
    any_of(
        field("country").eq("DE"),
        field("country").startswith("F"),
        field("name").startswith("Acme"),
    ),
    field("close_date").between(date(2026, 1, 1), date(2026, 9, 30)),
    any_of(field("owner").is_set(), field("employees").gt(500)),
    field("probability").between(20, 90),
    field("employees").gt(5),
)

_OPEN = frozenset({"qualify", "proposal", "negotiation"})
_LIMIT = Decimal("1000")
_START, _END = date(2026, 1, 1), date(2026, 9, 30)


def by_hand(d: Deal) -> bool:
    return (
        d.stage in _OPEN
        and d.amount > _LIMIT
        and (d.country == "DE" or d.country.startswith("F") or d.name.startswith("Acme"))
        and _START <= d.close_date <= _END
        and (d.owner is not None or d.employees > 500)
        and 20 <= d.probability <= 90
        and d.employees > 5
    )


def make_records(n: int, seed: int = 42) -> list[Deal]:
    rng = random.Random(seed)
    amounts = [Decimal(rng.randrange(0, 500_000)) / 100 for _ in range(1000)]
    first = date(2025, 10, 1)
    return [
        Deal(
            name=rng.choice(NAMES),
            stage=rng.choice(STAGES),
            country=rng.choice(COUNTRIES),
            amount=rng.choice(amounts),
            employees=rng.randrange(0, 1000),
            probability=rng.randrange(0, 101),
            close_date=first + timedelta(days=rng.randrange(0, 450)),
            owner=rng.choice((None, "rep_1", "rep_2")),
        )
        for _ in range(n)
    ]


def best_time(predicate: Callable[[Deal], bool], records: list[Deal]) -> tuple[float, int]:
    best, count = float("inf"), 0
    for _ in range(3):
        start = time.perf_counter()
        count = sum(1 for r in records if predicate(r))
        best = min(best, time.perf_counter() - start)
    return best, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    args = parser.parse_args()

    started = time.perf_counter()
    records = make_records(args.records)
    print(f"built {len(records):,} records in {time.perf_counter() - started:.1f} s")

    compiled = compile_criteria(CRITERIA, Deal)
    matches = compiled.matches
    compiled_time, compiled_count = best_time(matches, records)
    hand_time, hand_count = best_time(by_hand, records)
    assert compiled_count == hand_count, (compiled_count, hand_count)

    per = 1e9 / max(len(records), 1)
    print(f"matching records: {compiled_count:,}")
    print(f"compiled criteria: {compiled_time:.3f} s ({compiled_time * per:.0f} ns/record)")
    print(f"hand-written:      {hand_time:.3f} s ({hand_time * per:.0f} ns/record)")
    print(f"ratio: {compiled_time / hand_time:.2f}x (goal <= 3x)")


if __name__ == "__main__":
    main()
