"""Benchmark: routing leads with the compiled index vs the naive scan of the same rules.

Builds a territory tree of about ``--territories`` nodes (countries → postal regions →
postal-code territories, with product overlays, enterprise territories and postal-code
ranges), a roster, and ``--leads`` random leads, then routes a sample three ways from the
same state and asserts identical results (territory, owner, queue, outcome, trace, final
state):

* **naive scan**: every territory's rules are evaluated for every lead, and a territory
  matches when its rules and its ancestors' rules do (the reference semantics);
* **tree scan**: what ``route(lead, tree, ...)`` does without an index: it still visits
  every territory, but skips evaluating those whose parent did not match;
* **index**: ``route(lead, compile_index(tree), ...)``.

Then it routes every lead with the index. Prints per-lead timings for matching alone and
for whole routing decisions, the speed-ups (goal: >= 50x over the naive scan) and leads
per second. The scans are timed on the sample only and extrapolated (the output says so).

    python benchmarks/bench_routing.py [--leads N] [--territories N] [--sample N]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sfakit.model import SalesRep, SalesRepId
from sfakit.rules import Criteria, field
from sfakit.territory import (
    AssignmentState,
    Member,
    RoutingIndex,
    RoutingResult,
    RoutingSubject,
    Strategy,
    StrategySpec,
    TerritoryNode,
    TerritoryTree,
    compile_index,
    route_many,
)
from sfakit.territory.routing import Router
from sfakit.territory.state import Ledger


class NaiveRouter(Router):
    """Routing whose matching evaluates every territory's rules for every lead."""

    def matches(self, subject: RoutingSubject) -> list[int]:
        table = self.table
        own = [m is None or m(subject) for m in table.matchers]
        hit = [False] * len(own)
        for i in table.order:  # parents first
            p = table.parent[i]
            hit[i] = own[i] and (p < 0 or hit[p])
        return [i for i, ok in enumerate(hit) if ok]


AS_OF = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
COUNTRIES = (
    "DE", "AT", "CH", "FR", "BE", "NL", "LU", "IT", "ES", "PT",
    "GB", "IE", "DK", "SE", "NO", "FI", "PL", "CZ", "HU", "RO",
)  # fmt: skip
PRODUCTS = ("led-bulbs", "led-tubes", "fixtures", "smart-lighting", "services")
LANGUAGES = ("de", "fr", "en", "it", "es", "nl", "pl")
INDUSTRIES = ("hospitality", "retail", "manufacturing", "healthcare", "education", "logistics")


def make_reps(count: int, rng: random.Random) -> list[SalesRep]:
    reps = []
    for i in range(count):
        reps.append(
            SalesRep(
                id=SalesRepId(f"rep_{i:05d}"),
                name=f"Rep {i}",
                capacity=rng.choice((None, 40, 80, 150, 400)),
                skills=tuple(rng.sample(PRODUCTS, rng.randint(1, 3))),
                languages=tuple(rng.sample(LANGUAGES, rng.randint(1, 2))),
                active=rng.random() > 0.03,
                created_at=AS_OF,
            )
        )
    return reps


def _members(rng: random.Random, rep_ids: Sequence[str], count: int) -> list[Member]:
    return [Member(r, daily_limit=rng.choice((None, 20, 50))) for r in rng.sample(rep_ids, count)]


def _spec(rng: random.Random) -> StrategySpec:
    name = rng.choice([s for s in Strategy if s is not Strategy.DAILY_QUOTA])
    return StrategySpec(name=name, match_products=rng.random() < 0.2)


def make_tree(territories: int, rep_ids: Sequence[str], rng: random.Random) -> TerritoryTree:
    nodes: list[TerritoryNode] = []
    regions = []
    for c in COUNTRIES:
        nodes.append(
            TerritoryNode(
                key=c.lower(), rules=field("country").eq(c), fallback_queue=f"{c.lower()}-inbox"
            )
        )
        for digit in "0123456789":
            key = f"{c.lower()}-{digit}"
            regions.append((key, c, digit))
            nodes.append(
                TerritoryNode(
                    key=key,
                    parent=c.lower(),
                    rules=field("postal_code").startswith(digit),
                    members=_members(rng, rep_ids, 2),
                    strategy=_spec(rng),
                )
            )
    for key, _, _ in regions:  # overlays and enterprise teams at the leaf level
        nodes.append(
            TerritoryNode(
                key=f"{key}-fixtures",
                parent=key,
                rules=field("product_interest").contains("fixtures") & field("company_size").ge(50),
                priority=1,
                members=_members(rng, rep_ids, 2),
                strategy=StrategySpec(name="least_loaded", required_skills=["fixtures"]),
            )
        )
        nodes.append(
            TerritoryNode(
                key=f"{key}-enterprise",
                parent=key,
                rules=field("company_size").ge(1000),
                priority=2,
                members=_members(rng, rep_ids, 2),
            )
        )
    per_region, extra = divmod(max(0, territories - len(nodes)), len(regions))
    for r, (key, _, digit) in enumerate(regions):
        for suffix in rng.sample(range(100), min(per_region + (r < extra), 100)):
            prefix = f"{digit}{suffix:02d}"
            rule: Criteria
            if rng.random() < 0.1:  # a postal-code range instead of a prefix
                rule = field("postal_code").between(f"{prefix}00", f"{prefix}49")
            elif rng.random() < 0.1:
                rule = field("postal_code").startswith(prefix) & field("industry").isin(
                    rng.sample(INDUSTRIES, 3)
                )
            else:
                rule = field("postal_code").startswith(prefix)
            nodes.append(
                TerritoryNode(
                    key=f"{key}-{prefix}",
                    parent=key,
                    rules=rule,
                    members=_members(rng, rep_ids, rng.randint(2, 4)),
                    strategy=_spec(rng),
                    fallback_owner=rng.choice(rep_ids) if rng.random() < 0.3 else None,
                )
            )
    return TerritoryTree(nodes=nodes)


def make_leads(count: int, rep_ids: Sequence[str], rng: random.Random) -> list[RoutingSubject]:
    leads = []
    for i in range(count):
        country = rng.choice(COUNTRIES) if rng.random() > 0.05 else rng.choice(("US", "JP", "BR"))
        postal = f"{rng.randrange(100_000):05d}" if rng.random() > 0.03 else None
        leads.append(
            RoutingSubject(
                id=f"lead_{i:07d}",
                country=country,
                postal_code=postal,
                industry=rng.choice(INDUSTRIES),
                company_size=rng.choice((5, 20, 80, 300, 2000)),
                product_interest=tuple(rng.sample(PRODUCTS, rng.randint(0, 2))),
                language=rng.choice(LANGUAGES),
                owner_id=rng.choice(rep_ids) if rng.random() < 0.2 else None,
                pinned=rng.random() < 0.01,
            )
        )
    return leads


def per_lead(
    fn: Callable[[RoutingSubject], object], sample: list[RoutingSubject]
) -> tuple[float, list[object]]:
    start = time.perf_counter()
    out = [fn(s) for s in sample]
    return (time.perf_counter() - start) / len(sample), out


def route_all(
    router: Router, sample: list[RoutingSubject], state: AssignmentState
) -> tuple[float, list[RoutingResult], AssignmentState]:
    ledger = Ledger(state, AS_OF.date())
    start = time.perf_counter()
    results = [router.route(s, ledger) for s in sample]
    return (time.perf_counter() - start) / len(sample), results, ledger.state()


def compare(
    tree: TerritoryTree,
    index: RoutingIndex,
    roster: dict[SalesRepId, SalesRep],
    sample: list[RoutingSubject],
) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """Route the sample three ways; check they agree; return per-lead match and route times."""
    state = AssignmentState()
    naive = NaiveRouter(tree, roster, sticky=True, explain=False)
    scan = Router(tree, roster, sticky=True, explain=False)
    fast = Router(index, roster, sticky=True, explain=False)
    # Matching alone: which territories match, the part the index replaces.
    naive_match, a = per_lead(naive.matches, sample)
    scan_match, b = per_lead(scan.matches, sample)
    index_match, c = per_lead(index.match, sample)
    assert a == b == c, "the three ways of matching disagree"
    # Whole routing decisions, the same sample from the same state.
    naive_each, naive_results, naive_state = route_all(naive, sample, state)
    scan_each, scan_results, scan_state = route_all(scan, sample, state)
    fast_each, fast_results, fast_state = route_all(fast, sample, state)
    assert naive_results == scan_results == fast_results, "the index routes differently"
    assert naive_state == scan_state == fast_state
    assert fast_results == list(route_many(sample, index, state, AS_OF, reps=roster).results)
    print(f"sample of {len(sample):,} leads: identical results from all three")
    return (naive_match, scan_match, index_match), (naive_each, scan_each, fast_each)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--territories", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=1_000, help="leads routed by the scans")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    t = time.perf_counter()
    reps = make_reps(max(10, args.territories // 4), rng)
    rep_ids = [r.id for r in reps]
    tree = make_tree(args.territories, rep_ids, rng)
    leads = make_leads(args.leads, rep_ids, rng)
    built = time.perf_counter() - t
    t = time.perf_counter()
    index = compile_index(tree)
    compiled = time.perf_counter() - t
    stats = index.stats
    print(
        f"{len(tree.nodes):,} territories, {len(reps):,} reps, {len(leads):,} leads "
        f"(built in {built:.1f}s; index compiled in {compiled:.2f}s: {stats.exact:,} exact, "
        f"{stats.prefix:,} prefix, {stats.contains:,} contains, {stats.ranges:,} range, "
        f"{stats.residual:,} residual)"
    )
    roster = {r.id: r for r in reps}
    sample = leads[: min(args.sample, len(leads))]
    (naive_match, scan_match, index_match), (naive_each, scan_each, fast_each) = compare(
        tree, index, roster, sample
    )

    t = time.perf_counter()
    full = route_many(leads, index, AssignmentState(), AS_OF, reps=roster)
    full_time = time.perf_counter() - t
    outcomes: dict[str, int] = {}
    for r in full.results:
        outcomes[r.outcome.value] = outcomes.get(r.outcome.value, 0) + 1

    n = len(leads)
    print(f"per lead, on the sample       {'naive scan':>12} {'tree scan':>12} {'index':>10}")
    print(
        f"  matching only               {naive_match * 1e6:>9,.0f} µs {scan_match * 1e6:>9,.0f} µs"
        f" {index_match * 1e6:>7,.1f} µs"
    )
    print(
        f"  whole routing decision      {naive_each * 1e6:>9,.0f} µs {scan_each * 1e6:>9,.0f} µs"
        f" {fast_each * 1e6:>7,.1f} µs"
    )
    print(
        f"speed-up of the index, whole routing: {naive_each / fast_each:,.0f}x over the naive "
        f"scan, {scan_each / fast_each:,.0f}x over the tree scan (matching only: "
        f"{naive_match / index_match:,.0f}x and {scan_match / index_match:,.0f}x)"
    )
    print(
        f"all {n:,} leads: index {full_time:.1f}s = {n / full_time:,.0f} leads/s; naive scan "
        f"extrapolated from the sample: {naive_each * n:,.0f}s, tree scan {scan_each * n:,.0f}s"
    )
    print(f"outcomes: {outcomes}")


if __name__ == "__main__":
    main()
