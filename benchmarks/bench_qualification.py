"""Benchmark: lead qualification.

**Scoring.** A 30-rule scorecard (22 lead rules in two capped groups, 8 engagement rules
with decay, a total cap and two hard disqualifiers) scores ``--leads`` leads (1,000,000;
100,000 with ``--quick``), cycling through a pool of distinct random leads with 0-8
engagement events each. The same scores are computed by a hand-written if-chain: every
rule inlined as Python comparisons on the lead's fields, the same caps, and the same
decay arithmetic (``sfakit.qualification.decay``, so that results are equal to the
last digit). Both run in the same process on the same leads; the results are checked
equal on a sample (against the full explained ``score()`` too). Prints leads per second
and the ratio (goal: sfakit ``points()`` at most 3x the if-chain's time), and the speed
of the explained ``score()`` with and without criteria traces.

**Predictive scoring.** A seeded synthetic won/lost history with real signal (a logistic
model of source, country, industry and size, a team effect and noise) is split 75/25;
a naive-Bayes model is trained on the first part and its AUC measured on the held-out
part, next to the AUC of a feature with no signal (about 0.5).

    python benchmarks/bench_qualification.py [--quick] [--leads N] [--pool N] [--seed N]
"""

from __future__ import annotations

import argparse
import math
import random
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sfakit.model import Lead, LeadId
from sfakit.qualification import (
    Disqualifier,
    Engagement,
    Scorecard,
    ScoreGroup,
    ScoreRule,
    train_model,
)
from sfakit.qualification.decay import decayed_units, factor_for
from sfakit.rules import field

AS_OF = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
T0 = datetime(2026, 1, 1, tzinfo=UTC)
COUNTRIES = ("DE", "AT", "CH", "FR", "GB", "US", "NG", "IN", "BR", "JP")
INDUSTRIES = ("retail", "hospitality", "manufacturing", "education", "healthcare", "logistics")
SOURCES = ("web", "referral", "fair", "partner", "cold_call", "newsletter")
TITLES = ("Head of Facilities", "CEO", "Intern", "Buyer", "Chief Operating Officer", "Student")
PRODUCTS = ("led-bulbs", "led-tubes", "fixtures", "smart-lighting", "services")
KINDS = ("page_view", "email_open", "email_click", "webinar_attended", "form_submitted", "demo")
PAGES = ("/pricing", "/blog/led", "/careers", "/case-studies", "/contact")
HALF_LIFE_US = 30 * 86_400 * 1_000_000


# -- the scorecard ---------------------------------------------------------------------------


def scorecard() -> Scorecard:
    def rule(name: str, points: int | str, criteria: object, **extra: object) -> ScoreRule:
        return ScoreRule(name=name, points=points, criteria=criteria, **extra)  # type: ignore[arg-type]

    def eng(name: str, points: int | str, criteria: object, **extra: object) -> ScoreRule:
        return rule(name, points, criteria, subject="engagement", **extra)

    firmographics = [
        rule("dach", 15, field("country").isin(["DE", "AT", "CH"])),
        rule("western_europe", 8, field("country").isin(["FR", "GB"])),
        rule("us", 10, field("country").eq("US")),
        rule("enterprise", 25, field("company_size").ge(1000)),
        rule("mid_market", 15, field("company_size").between(250, 999)),
        rule("small", 5, field("company_size").between(50, 249)),
        rule("micro", -10, field("company_size").lt(10)),
        rule("hospitality", 12, field("industry").eq("hospitality")),
        rule("retail", 10, field("industry").eq("retail")),
        rule("education", -15, field("industry").eq("education")),
        rule("fixtures", 8, field("product_interest").contains("fixtures")),
        rule("smart", 6, field("product_interest").contains("smart-lighting")),
    ]
    contact = [
        rule("decision_maker", 12, field("title").matches("(?i)chief|ceo|head")),
        rule("buyer", 8, field("title").eq("Buyer")),
        rule("student", -20, field("title").eq("Student")),
        rule("has_phone", 5, field("phone").is_set()),
        rule("has_email", 3, field("email").is_set()),
        rule("referral", 15, field("source").eq("referral")),
        rule("partner", 10, field("source").eq("partner")),
        rule("cold", -5, field("source").eq("cold_call")),
        rule("campaign", "2.5", field("campaign").startswith("spring")),
        rule("fresh", 5, field("created_at").within_last("P30D")),
    ]
    engagement = [
        eng(
            "pricing",
            15,
            field("kind").eq("page_view") & field("detail").eq("/pricing"),
            max_count=2,
        ),
        eng("case_study", 6, field("kind").eq("page_view") & field("detail").eq("/case-studies")),
        eng("careers", -5, field("kind").eq("page_view") & field("detail").eq("/careers")),
        eng("opened", 2, field("kind").eq("email_open"), max_count=None),
        eng("clicked", 4, field("kind").eq("email_click"), max_count=3),
        eng("webinar", 20, field("kind").eq("webinar_attended"), half_life="P60D"),
        eng("form", 10, field("kind").eq("form_submitted")),
        eng("demo", 30, field("kind").eq("demo"), half_life="P14D"),
    ]
    return Scorecard(
        name="bench",
        qualify_at=60,
        disqualify_below=0,
        half_life="P30D",
        max_points=100,
        groups=[
            ScoreGroup(name="firmographics", rules=firmographics, max_points=50),
            ScoreGroup(name="contact", rules=contact, min_points=-20, max_points=30),
            ScoreGroup(name="engagement", rules=engagement, max_points=60),
        ],
        disqualifiers=[
            Disqualifier(
                name="rival",
                reason="competitor",
                criteria=field("email").matches(r"@rival\.example$"),
            ),
            Disqualifier(
                name="unsubscribed",
                reason="unsubscribed",
                subject="engagement",
                criteria=field("kind").eq("unsubscribed"),
            ),
        ],
    )


# -- the hand-written if-chain ---------------------------------------------------------------


def _clamp(value: int, low: int | None, high: int | None) -> int:
    if high is not None and value > high:
        return high
    if low is not None and value < low:
        return low
    return value


def _decay(units: int, age: int, half_life: int, cache: dict[tuple[int, int], Decimal]) -> int:
    if age == 0:
        return units
    key = (age, half_life)
    factor = cache.get(key)
    if factor is None:
        factor = cache[key] = factor_for(age, half_life)
    return decayed_units(units, factor)


def score_by_hand(  # noqa: PLR0915 - the baseline is one long if-chain on purpose
    lead: Lead, events: Sequence[Engagement], as_of: datetime
) -> Decimal:
    """The same scorecard, written out as if-statements (points in hundredths)."""
    email = lead.email
    if email is not None and email.endswith("@rival.example"):
        return Decimal("0.00")
    aged = []
    for e in events:
        if e.kind == "unsubscribed" and e.at <= as_of:
            return Decimal("0.00")
        age = (as_of - e.at) // timedelta(microseconds=1)
        if age >= 0:
            aged.append((age, e))
    aged.sort(key=lambda pair: pair[0])

    fit = 0
    country, size, industry = lead.country, lead.company_size, lead.industry
    if country in ("DE", "AT", "CH"):
        fit += 1500
    if country in ("FR", "GB"):
        fit += 800
    if country == "US":
        fit += 1000
    if size is not None:
        if size >= 1000:
            fit += 2500
        if 250 <= size <= 999:
            fit += 1500
        if 50 <= size <= 249:
            fit += 500
        if size < 10:
            fit -= 1000
    if industry == "hospitality":
        fit += 1200
    if industry == "retail":
        fit += 1000
    if industry == "education":
        fit -= 1500
    if "fixtures" in lead.product_interest:
        fit += 800
    if "smart-lighting" in lead.product_interest:
        fit += 600

    contact = 0
    title = lead.title
    if title is not None:
        lowered = title.lower()
        if "chief" in lowered or "ceo" in lowered or "head" in lowered:
            contact += 1200
        if title == "Buyer":
            contact += 800
        if title == "Student":
            contact -= 2000
    if lead.phone is not None:
        contact += 500
    if email is not None:
        contact += 300
    if lead.source == "referral":
        contact += 1500
    if lead.source == "partner":
        contact += 1000
    if lead.source == "cold_call":
        contact -= 500
    if lead.campaign is not None and lead.campaign.startswith("spring"):
        contact += 250
    if as_of - timedelta(days=30) <= lead.created_at <= as_of:
        contact += 500

    engaged = 0
    cache: dict[tuple[int, int], Decimal] = {}
    pricing = case_study = careers = clicked = webinar = form = demo = 0
    for age, e in aged:
        kind, detail = e.kind, e.detail
        if kind == "page_view":
            if detail == "/pricing" and pricing < 2:
                engaged += _decay(1500, age, HALF_LIFE_US, cache)
                pricing += 1
            elif detail == "/case-studies" and case_study < 1:
                engaged += _decay(600, age, HALF_LIFE_US, cache)
                case_study += 1
            elif detail == "/careers" and careers < 1:
                engaged += _decay(-500, age, HALF_LIFE_US, cache)
                careers += 1
        elif kind == "email_open":
            engaged += _decay(200, age, HALF_LIFE_US, cache)
        elif kind == "email_click" and clicked < 3:
            engaged += _decay(400, age, HALF_LIFE_US, cache)
            clicked += 1
        elif kind == "webinar_attended" and webinar < 1:
            engaged += _decay(2000, age, 2 * HALF_LIFE_US, cache)
            webinar += 1
        elif kind == "form_submitted" and form < 1:
            engaged += _decay(1000, age, HALF_LIFE_US, cache)
            form += 1
        elif kind == "demo" and demo < 1:
            engaged += _decay(3000, age, HALF_LIFE_US * 14 // 30, cache)
            demo += 1
    total = _clamp(fit, None, 5000) + _clamp(contact, -2000, 3000) + _clamp(engaged, None, 6000)
    return Decimal(_clamp(total, None, 10000)).scaleb(-2)


# -- data ------------------------------------------------------------------------------------


def make_pool(count: int, rng: random.Random) -> list[tuple[Lead, list[Engagement]]]:
    pool = []
    for i in range(count):
        created = AS_OF - timedelta(days=rng.uniform(0, 120))
        lead = Lead(
            id=LeadId(f"lead_{i:07d}"),
            company=f"Company {i}",
            country=rng.choice(COUNTRIES),
            company_size=rng.choice([None, rng.randint(1, 9), rng.randint(10, 3000)]),
            industry=rng.choice([*INDUSTRIES, None]),
            title=rng.choice([*TITLES, None]),
            email=rng.choice(
                [None, f"p{i}@example.com", f"p{i}@rival.example"] + [f"x{i}@a.org"] * 20
            ),
            phone=rng.choice([None, "+493012345678"]),
            source=rng.choice([*SOURCES, None]),
            campaign=rng.choice([None, "spring-2026", "autumn-2025"]),
            product_interest=tuple(rng.sample(PRODUCTS, rng.randint(0, 2))),
            created_at=created,
        )
        events = []
        for _ in range(rng.randint(0, 8)):
            kind = rng.choice(KINDS) if rng.random() > 0.002 else "unsubscribed"
            events.append(
                Engagement(
                    kind=kind,
                    detail=rng.choice(PAGES) if kind == "page_view" else None,
                    at=AS_OF - timedelta(seconds=rng.randint(-86_400, 200 * 86_400)),
                )
            )
        pool.append((lead, events))
    return pool


# -- predictive ------------------------------------------------------------------------------

_EFFECTS: dict[str, dict[str, float]] = {
    "source": {"referral": 1.4, "partner": 0.8, "web": 0.0, "fair": -0.3, "cold_call": -1.2},
    "country": {"DE": 0.5, "US": 0.3, "GB": 0.1, "FR": -0.2, "NG": -0.4, "IN": -0.6},
    "industry": {"hospitality": 0.6, "retail": 0.2, "manufacturing": 0.0, "education": -0.9},
    "size_band": {"micro": -0.8, "small": -0.2, "medium": 0.3, "large": 0.6, "enterprise": 0.4},
}


def synthetic_history(count: int, seed: int) -> list[tuple[dict[str, object], str, str | None]]:
    """Won/lost examples whose outcome follows a logistic model of the features."""
    rng = random.Random(seed)
    bias = {"emea": 0.4, "americas": -0.2, "apac": 0.0, "tiny_team": 1.5}
    examples: list[tuple[dict[str, object], str, str | None]] = []
    for _ in range(count):
        features: dict[str, object] = {k: rng.choice(sorted(v)) for k, v in _EFFECTS.items()}
        team = rng.choices(
            ["emea", "americas", "apac", "tiny_team", None], weights=[40, 30, 20, 1, 9]
        )[0]
        logit = -0.3 + sum(_EFFECTS[k][str(v)] for k, v in features.items())
        logit += bias.get(team or "", 0.0) + rng.gauss(0, 0.5)
        won = rng.random() < 1 / (1 + math.exp(-logit))
        examples.append((features, "won" if won else "lost", team))
    return examples


def auc(scores: Sequence[Decimal], positives: Sequence[bool]) -> float:
    """Area under the ROC curve by the Mann-Whitney rank sum (ties count half)."""
    pairs = sorted(zip(scores, positives, strict=True), key=lambda p: p[0])
    ranks = [0.0] * len(pairs)
    i = 0
    while i < len(pairs):
        j = i
        while j + 1 < len(pairs) and pairs[j + 1][0] == pairs[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2 + 1
        i = j + 1
    n_pos = sum(1 for _, p in pairs if p)
    n_neg = len(pairs) - n_pos
    rank_sum = sum(r for r, (_, p) in zip(ranks, pairs, strict=True) if p)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


# -- running ---------------------------------------------------------------------------------


def timed(
    label: str, run: Callable[[Lead, list[Engagement], datetime], object], pool: list, n: int
) -> float:
    size = len(pool)
    start = time.perf_counter()
    for i in range(n):
        lead, events = pool[i % size]
        run(lead, events, AS_OF)
    elapsed = time.perf_counter() - start
    print(f"  {label:<44} {elapsed:8.2f} s  {n / elapsed:>12,.0f} leads/s")
    return elapsed


def bench_scoring(leads: int, pool_size: int, seed: int) -> None:
    rng = random.Random(seed)
    card = scorecard()
    scorer = card.compile()
    assert len(card.rules()) == 30
    pool = make_pool(pool_size, rng)
    sample = pool[: min(len(pool), 5000)]
    for lead, events in sample:
        expected = score_by_hand(lead, events, AS_OF)
        assert scorer.points(lead, events, as_of=AS_OF) == expected, lead.id
        assert scorer.score(lead, events, as_of=AS_OF, traces=False).score == expected, lead.id
    for lead, events in sample[:500]:
        assert scorer.score(lead, events, as_of=AS_OF).score == score_by_hand(lead, events, AS_OF)
        assert scorer.points(lead, as_of=AS_OF) == score_by_hand(lead, [], AS_OF)
    qualified = sum(scorer.points(lead, ev, as_of=AS_OF) >= 60 for lead, ev in sample)
    print(
        f"scoring: 30 rules, {leads:,} leads from a pool of {len(pool):,} "
        f"({sum(len(e) for _, e in pool) / len(pool):.1f} events each); "
        f"{len(sample):,} checked equal, {qualified / len(sample):.0%} qualified"
    )
    by_hand = timed("hand-written if-chain", score_by_hand, pool, leads)
    fast = timed(
        "sfakit CompiledScorecard.points()",
        lambda lead, events, as_of: scorer.points(lead, events, as_of=as_of),
        pool,
        leads,
    )
    explained_n = max(leads // 10, 1)
    quick = timed(
        f"sfakit score(traces=False) ({explained_n:,})",
        lambda lead, events, as_of: scorer.score(lead, events, as_of=as_of, traces=False),
        pool,
        explained_n,
    )
    full = timed(
        f"sfakit score() with traces ({explained_n:,})",
        lambda lead, events, as_of: scorer.score(lead, events, as_of=as_of),
        pool,
        explained_n,
    )
    no_events = [(lead, []) for lead, _ in pool]
    print("  the same leads without engagement (rule evaluation only, no decay):")
    fit_by_hand = timed("hand-written if-chain", score_by_hand, no_events, leads)
    fit_fast = timed(
        "sfakit CompiledScorecard.points()",
        lambda lead, events, as_of: scorer.points(lead, events, as_of=as_of),
        no_events,
        leads,
    )
    print(f"  ratio points() / if-chain: {fast / by_hand:.2f}x with engagement (goal <= 3x),")
    print(f"                             {fit_fast / fit_by_hand:.2f}x for lead rules only")
    print(
        f"  explained score(): {quick / explained_n * leads / by_hand:.1f}x without traces, "
        f"{full / explained_n * leads / by_hand:.1f}x with traces"
    )


def bench_predictive(count: int, seed: int) -> None:
    fields = ["source", "country", "industry", "size_band"]
    history = synthetic_history(count, seed)
    cut = count * 3 // 4
    train, test = history[:cut], history[cut:]
    start = time.perf_counter()
    model = train_model(train, fields=fields)
    trained = time.perf_counter() - start
    start = time.perf_counter()
    scores = [model.predict(subject, team=team).probability for subject, _, team in test]
    predicted = time.perf_counter() - start
    labels = [outcome == "won" for _, outcome, _ in test]
    area = auc(scores, labels)
    coin = [
        ({"coin": "heads" if i % 2 else "tails"}, o, None) for i, (_, o, _) in enumerate(history)
    ]
    flat = train_model(coin[:cut], fields=["coin"])
    flat_area = auc([flat.predict(s).probability for s, _, _ in coin[cut:]], labels)
    won = sum(labels)
    print(
        f"predictive: naive Bayes on {len(train):,} examples ({trained:.2f} s), held out "
        f"{len(test):,} ({won / len(test):.0%} won; {len(test) / predicted:,.0f} predictions/s)"
    )
    print(f"  AUC on the held-out split: {area:.3f} (no-signal feature: {flat_area:.3f})")
    assert area > 0.6, area


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100,000 leads instead of 1,000,000")
    parser.add_argument("--leads", type=int, default=None)
    parser.add_argument("--pool", type=int, default=20_000, help="distinct random leads")
    parser.add_argument("--history", type=int, default=20_000, help="synthetic won/lost examples")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    leads = args.leads or (100_000 if args.quick else 1_000_000)
    bench_scoring(leads, min(args.pool, leads), args.seed)
    bench_predictive(args.history, args.seed)
    # -- dedupe: the duplicate-detection benchmark is added here -------------------------


if __name__ == "__main__":
    main()
