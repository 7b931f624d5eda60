"""How much does the generic converter cost against hand-written conversion code?

    python benchmarks/bench_codec.py [--n 100000] [--repeat 3] [--profile]

Builds N realistic Opportunities (Money amounts, close dates, overrides, a few closed
deals), then times, for the same objects:

(a) ``sfakit.codec.to_data`` and ``from_data`` (cattrs, with sfakit's hooks);
(b) ``opportunity_to_dict`` / ``opportunity_from_dict`` below, written by hand, doing the
    same conversions (Decimal <-> str, isoformat/fromisoformat, enum values, Money as a
    dict) and calling the same constructors, so that validation costs the same.

Both must give equal data and equal objects. The goal is a ratio of at most 2x; above
it, ``--profile`` shows where (a) spends its time.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sfakit.codec import from_data, to_data
from sfakit.model import ForecastCategory, Money, Opportunity

ZONES = [UTC, ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York"), timezone(timedelta(hours=9))]
STAGES = ["prospect", "qualify", "propose", "negotiate", "closed_won", "closed_lost"]
NAMES = [
    "1000 bulbs every two months",
    "Hotel refit - 240 rooms",
    "Relamping Lager Nord",
    "店舗照明の更新",
]
CURRENCIES = ["EUR", "USD", "JPY", "GBP", "CHF", "KWD"]


def _in_zone(moment: datetime, zone: Any) -> datetime:
    """``moment`` in ``zone``, moved out of the hour repeated when clocks go back.

    Python compares a datetime in that hour unequal to every datetime in another zone,
    even at the same instant, so its round trip through ISO text (which keeps the offset,
    not the zone) would not compare equal; the benchmark checks equality, so it avoids them.
    """
    local = moment.astimezone(zone)
    while local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
        moment += timedelta(hours=1)
        local = moment.astimezone(zone)
    return local


def make_opportunities(n: int, seed: int = 2026) -> list[Opportunity]:
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    deals = []
    for i in range(n):
        zone = rng.choice(ZONES)
        created = _in_zone(start + timedelta(seconds=rng.randrange(0, 2 * 365 * 86400)), zone)
        stage = rng.choice(STAGES)
        closed = stage.startswith("closed")
        deals.append(
            Opportunity(
                id=f"opp_{i:026d}",
                name=rng.choice(NAMES),
                account_id=f"acct_{rng.randrange(10_000):06d}",
                pipeline=rng.choice(["standard", "enterprise"]),
                stage=stage,
                amount=Money(Decimal(rng.randrange(0, 10**8)).scaleb(-2), rng.choice(CURRENCIES))
                if rng.random() < 0.9
                else None,
                close_date=created.date() + timedelta(days=rng.randrange(0, 365))
                if rng.random() < 0.8
                else None,
                owner_id=f"rep_{rng.randrange(200):04d}" if rng.random() < 0.9 else None,
                territory_id=f"terr_{rng.randrange(30):03d}" if rng.random() < 0.5 else None,
                primary_contact_id=f"cont_{rng.randrange(50_000):06d}"
                if rng.random() < 0.5
                else None,
                source=rng.choice([None, "web", "trade_show", "referral"]),
                product_line=rng.choice([None, "led-bulbs", "fixtures"]),
                probability_override=Decimal(rng.randrange(0, 101)) if rng.random() < 0.3 else None,
                forecast_category_override=rng.choice([None, None, *ForecastCategory]),
                next_step=rng.choice([None, "Send revised quote", "Termin vor Ort"]),
                lost_reason="competitor won" if stage == "closed_lost" else None,
                closed_at=_in_zone(created + timedelta(days=rng.randrange(1, 200)), zone)
                if closed
                else None,
                version=rng.randrange(0, 20),
                created_at=created,
                updated_at=_in_zone(created + timedelta(minutes=rng.randrange(0, 10_000)), zone),
            )
        )
    return deals


# --- the hand-written pair ------------------------------------------------------------


def _iso(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()


def _str(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def opportunity_to_dict(o: Opportunity) -> dict[str, Any]:
    amount = o.amount
    category = o.forecast_category_override
    return {
        "created_at": o.created_at.isoformat(),
        "updated_at": o.updated_at.isoformat(),
        "version": o.version,
        "id": o.id,
        "name": o.name,
        "account_id": o.account_id,
        "pipeline": o.pipeline,
        "stage": o.stage,
        "amount": None
        if amount is None
        else {"amount": str(amount.amount), "currency": amount.currency},
        "close_date": _iso(o.close_date),
        "owner_id": o.owner_id,
        "territory_id": o.territory_id,
        "primary_contact_id": o.primary_contact_id,
        "source": o.source,
        "product_line": o.product_line,
        "probability_override": _str(o.probability_override),
        "forecast_category_override": None if category is None else category.value,
        "next_step": o.next_step,
        "lost_reason": o.lost_reason,
        "closed_at": _iso(o.closed_at),
    }


def _datetime(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def opportunity_from_dict(d: dict[str, Any]) -> Opportunity:
    amount = d["amount"]
    category = d["forecast_category_override"]
    close_date = d["close_date"]
    probability = d["probability_override"]
    return Opportunity(
        created_at=datetime.fromisoformat(d["created_at"]),
        updated_at=datetime.fromisoformat(d["updated_at"]),
        version=d["version"],
        id=d["id"],
        name=d["name"],
        account_id=d["account_id"],
        pipeline=d["pipeline"],
        stage=d["stage"],
        amount=None if amount is None else Money(Decimal(amount["amount"]), amount["currency"]),
        close_date=None if close_date is None else date.fromisoformat(close_date),
        owner_id=d["owner_id"],
        territory_id=d["territory_id"],
        primary_contact_id=d["primary_contact_id"],
        source=d["source"],
        product_line=d["product_line"],
        probability_override=None if probability is None else Decimal(probability),
        forecast_category_override=None if category is None else ForecastCategory(category),
        next_step=d["next_step"],
        lost_reason=d["lost_reason"],
        closed_at=_datetime(d["closed_at"]),
    )


# --- timing ---------------------------------------------------------------------------


def best_of(repeat: int, run: Callable[[], Any]) -> tuple[float, Any]:
    """The fastest of ``repeat`` runs (with the garbage collector off), and its result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            started = time.perf_counter()
            result = run()
            elapsed = time.perf_counter() - started
        finally:
            gc.enable()
        best = min(best, elapsed)
    return best, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="number of opportunities")
    parser.add_argument("--repeat", type=int, default=3, help="runs per phase (best is kept)")
    parser.add_argument("--profile", action="store_true", help="profile sfakit's from/to_data")
    args = parser.parse_args(argv)

    print(f"building {args.n:,} opportunities ...", flush=True)
    deals = make_opportunities(args.n)

    t_to_sfa, data_sfa = best_of(args.repeat, lambda: [to_data(o) for o in deals])
    t_to_hand, data_hand = best_of(args.repeat, lambda: [opportunity_to_dict(o) for o in deals])
    assert data_sfa == data_hand, "the two to-data paths disagree"

    t_from_sfa, back_sfa = best_of(
        args.repeat, lambda: [from_data(Opportunity, d) for d in data_sfa]
    )
    t_from_hand, back_hand = best_of(
        args.repeat, lambda: [opportunity_from_dict(d) for d in data_hand]
    )
    assert back_sfa == deals, "sfakit's round trip changed an object"
    assert back_hand == deals, "the hand-written round trip changed an object"
    t_construct, _ = best_of(
        args.repeat,
        lambda: [o.evolve() for o in deals],  # the constructor and its validation alone
    )

    def per(t: float) -> str:
        return f"{t:8.3f} s  {t / args.n * 1e6:7.2f} us/object"

    print(f"\n{'phase':<32}{'total':>10}{'per object':>22}")
    print(f"{'to_data (sfakit)':<32}{per(t_to_sfa)}")
    print(f"{'opportunity_to_dict (hand)':<32}{per(t_to_hand)}")
    print(f"{'from_data (sfakit)':<32}{per(t_from_sfa)}")
    print(f"{'opportunity_from_dict (hand)':<32}{per(t_from_hand)}")
    print(f"{'constructor + validation only':<32}{per(t_construct)}")
    ratio_to = t_to_sfa / t_to_hand
    ratio_from = t_from_sfa / t_from_hand
    ratio = (t_to_sfa + t_from_sfa) / (t_to_hand + t_from_hand)
    verdict = "OK" if ratio <= 2 else "ABOVE GOAL: run with --profile"
    print(f"\nsfakit / hand-written: to_data {ratio_to:.2f}x, from_data {ratio_from:.2f}x")
    print(f"round trip {ratio:.2f}x (goal <= 2x): {verdict}")

    if args.profile:
        sample = data_sfa[: min(len(data_sfa), 20_000)]
        profiler = cProfile.Profile()
        profiler.enable()
        for d in sample:
            from_data(Opportunity, d)
        for o in deals[: len(sample)]:
            to_data(o)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
