"""Benchmark: Monte Carlo of a forecast period, sfakit's engines vs a naive Python loop.

Simulates D open deals (default 10,000; random amounts, win and close probabilities)
over R runs (default 10,000) with ``sfakit.forecast.stats.simulate``:

* ``engine="numpy"``: blocks of raw 32-bit words from numpy's PCG64 compared with the
  probabilities, the hit matrix times the amounts;
* ``engine="python"``: the pure-Python fallback (``random.Random``: a draw per deal and
  run, geometric jumps for deals whose outcome is nearly certain);

and with the naive baseline everyone writes first: for each run, for each deal, one
``random()`` against the probability. The naive loop is timed over fewer runs
(``--naive-runs``, default 200) and extrapolated linearly to R (its cost is exactly
proportional to the runs); the output says so.

Checks: each sample's mean lies within 5 standard errors of the exact expectation
``sum(p * amount)`` (central limit theorem; the seeds are fixed); and on the same deals
with every probability rounded to 0 or 1 all three give exactly the same totals. Prints
timings, wall and CPU (best of ``--repeat``), and the ratios (goal: numpy >= 20x the
naive loop). On a machine shared with other work the wall time also counts the time the
others held the CPU; the CPU time of this process does not, so both are shown.

    python benchmarks/bench_forecast_simulation.py [--deals D] [--runs R] [--quick]
"""

from __future__ import annotations

import argparse
import math
import random
import time
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import NamedTuple, TypeVar

from sfakit.forecast.stats import DealChance, Simulation, simulate
from sfakit.model import Money

T = TypeVar("T")


def make_deals(count: int, seed: int) -> list[DealChance]:
    rng = random.Random(seed)
    return [
        DealChance(
            deal=f"opp_{i}",
            amount=Money.of(Decimal(rng.randrange(10_000, 20_000_000)) / 100, "EUR"),
            win_probability=Decimal(rng.randrange(0, 101)) / 100,
            close_probability=rng.choice([Decimal(1), Decimal(rng.randrange(0, 101)) / 100]),
        )
        for i in range(count)
    ]


def cents(deals: list[DealChance]) -> tuple[list[float], list[int]]:
    return (
        [float(d.probability) for d in deals],
        [int(d.amount.amount * 100) for d in deals],
    )


def naive(probabilities: list[float], amounts: list[int], runs: int, seed: int) -> list[int]:
    """The hand-written loop: one draw per deal and run."""
    rng = random.Random(seed)
    draw = rng.random
    pairs = list(zip(probabilities, amounts, strict=True))
    totals = []
    for _ in range(runs):
        total = 0
        for p, amount in pairs:
            if draw() < p:
                total += amount
        totals.append(total)
    return totals


class Timing(NamedTuple):
    wall: float  # elapsed (perf_counter)
    cpu: float  # this process's CPU time, all threads (process_time)

    def scaled(self, factor: float) -> Timing:
        return Timing(self.wall * factor, self.cpu * factor)


def best(repeat: int, work: Callable[[], T]) -> tuple[Timing, T]:
    """The best wall and the best CPU time of ``repeat`` runs. On a shared machine the
    wall time also counts the time other processes held the CPU; the CPU time does not."""
    walls, cpus = [], []
    result: T
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = work()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return Timing(min(walls), min(cpus)), result


def check_mean(name: str, mean: float, runs: int, deals: list[DealChance]) -> None:
    expected = sum(float(d.probability) * float(d.amount.amount) for d in deals)
    variance = sum(
        float(d.probability) * (1 - float(d.probability)) * float(d.amount.amount) ** 2
        for d in deals
    )
    error = math.sqrt(variance / runs)
    gap = abs(mean - expected) / error if error else 0.0
    assert gap <= 5, f"{name}: mean {mean:,.2f} is {gap:.1f} standard errors from {expected:,.2f}"
    print(f"  {name:<16} mean {mean:>18,.2f} EUR  ({gap:.2f} standard errors from expected)")


def check_degenerate(deals: list[DealChance], seed: int) -> None:
    # Every probability rounded to 0 or 1: each run's total is the same certain sum.
    certain = [
        DealChance(deal=d.deal, amount=d.amount, win_probability=round(d.probability))
        for d in deals
    ]
    p, a = cents(certain)
    expected = sum(x for x, q in zip(a, p, strict=True) if q == 1)
    naive_totals = naive(p, a, 20, seed)
    results = [simulate(certain, seed=seed, runs=20, engine=e) for e in ("numpy", "python")]
    assert set(naive_totals) == {expected}
    for result in results:
        assert result.minimum == result.maximum == Money.of(Decimal(expected) / 100, "EUR")
    print(f"  degenerate deals (p in {{0, 1}}): all three give exactly {expected / 100:,.2f} EUR")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--naive-runs", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--quick", action="store_true", help="1,000 deals x 2,000 runs")
    args = parser.parse_args()
    if args.quick:
        args.deals, args.runs, args.naive_runs, args.repeat = 1_000, 2_000, 100, 1
    naive_runs = min(args.naive_runs, args.runs)

    deals = make_deals(args.deals, args.seed)
    probabilities, amounts = cents(deals)
    expected = sum(Fraction(d.probability) * Fraction(d.amount.amount) for d in deals)
    print(
        f"{args.deals:,} deals x {args.runs:,} runs; expected amount won {float(expected):,.2f} EUR"
    )

    simulate(deals[:10], seed=args.seed, runs=10, engine="numpy")  # import numpy first
    t_numpy, by_numpy = best(
        args.repeat, lambda: simulate(deals, seed=args.seed, runs=args.runs, engine="numpy")
    )
    t_python, by_python = best(
        1, lambda: simulate(deals, seed=args.seed, runs=args.runs, engine="python")
    )
    t_naive_part, naive_totals = best(
        args.repeat, lambda: naive(probabilities, amounts, naive_runs, args.seed)
    )
    t_naive = t_naive_part.scaled(args.runs / naive_runs)

    print("checks")
    results: list[tuple[str, Simulation]] = [
        ("sfakit numpy", by_numpy),
        ("sfakit python", by_python),
    ]
    for name, result in results:
        check_mean(name, float(result.mean.amount), args.runs, deals)
    check_mean("naive loop", sum(naive_totals) / len(naive_totals) / 100, naive_runs, deals)
    check_degenerate(deals, args.seed)

    print("timings (wall s / CPU s)")
    print(f"  sfakit numpy     {t_numpy.wall:8.3f} / {t_numpy.cpu:7.3f}  (best of {args.repeat})")
    print(f"  sfakit python    {t_python.wall:8.3f} / {t_python.cpu:7.3f}")
    print(
        f"  naive loop       {t_naive.wall:8.3f} / {t_naive.cpu:7.3f}  (extrapolated linearly "
        f"from {naive_runs:,} runs, best of {args.repeat}: "
        f"{t_naive_part.wall:.3f} / {t_naive_part.cpu:.3f} s, x {args.runs / naive_runs:g})"
    )
    print("ratios (naive / sfakit, wall / CPU; higher is faster)")
    wall, cpu = t_naive.wall / t_numpy.wall, t_naive.cpu / t_numpy.cpu
    verdict = "met" if min(wall, cpu) >= 20 else "met on CPU time" if cpu >= 20 else "NOT met"
    if args.quick:
        verdict = "set for the full run, not --quick"
    print(f"  numpy engine     {wall:6.1f}x / {cpu:5.1f}x  (goal >= 20x: {verdict})")
    for name, slow, fast in (
        ("python engine", t_naive, t_python),
        ("numpy vs python", t_python, t_numpy),
    ):
        print(f"  {name:<16} {slow.wall / fast.wall:6.1f}x / {slow.cpu / fast.cpu:5.1f}x")


if __name__ == "__main__":
    main()
