"""A small, known book of business for the command tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

import sfakit
from sfakit import ManualClock, Money, Sfa
from sfakit.model import (
    Account,
    Contact,
    ContactRole,
    Lead,
    Opportunity,
    OrderLine,
    Product,
    RecurrenceSpec,
    SalesRep,
)
from sfakit.rules import field
from sfakit.territory import Member, TerritoryNode, TerritoryTree

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
#: The standing order's first occurrence: 31 January 2026, 08:00 in Berlin.
FIRST_DUE = datetime(2026, 1, 31, 8, 0, tzinfo=BERLIN)

TREE = TerritoryTree(
    nodes=[
        TerritoryNode(key="emea", name="EMEA", fallback_queue="emea-inbox"),
        TerritoryNode(
            key="dach",
            parent="emea",
            territory_id="terr_dach",
            rules=field("country").isin(["DE", "AT", "CH"]),
            members=[Member("rep_anna"), Member("rep_ben")],
        ),
        TerritoryNode(
            key="france",
            parent="emea",
            territory_id="terr_france",
            rules=field("country").eq("FR"),
            members=[Member("rep_chloe")],
        ),
    ]
)


class Book(NamedTuple):
    url: str
    lead_at: str  # a lead from Austria: dach
    lead_us: str  # a lead no territory takes
    standing_order: str


def eur(amount: int | str) -> Money:
    return Money.of(amount, "EUR")


def _team(sfa: Sfa) -> None:
    for rep_id, name in (("rep_anna", "Anna"), ("rep_ben", "Ben"), ("rep_chloe", "Chloé")):
        sfa.create(SalesRep, id=rep_id, name=name, email=f"{rep_id}@example.com")
    sfa.set_territory_tree(TREE, expected_version=None)


def _closed_deals(sfa: Sfa, clock: ManualClock, account: str) -> None:
    """Five deals through the standard pipeline (as the service's analytics tests):
    three lost (after prospect, qualify, propose), one won in 12 days, one open."""
    plans = [
        ("rep_anna", ["qualify", "closed_lost"], "price"),
        ("rep_anna", ["qualify", "propose", "closed_lost"], "competitor"),
        ("rep_ben", ["closed_lost"], "price"),
        ("rep_ben", ["qualify", "propose", "negotiate", "closed_won"], None),
        ("rep_ben", ["qualify"], None),
    ]
    for n, (owner, path, reason) in enumerate(plans):
        deal = sfa.open_opportunity(
            name=f"deal {n}", account_id=account, owner_id=owner, by=owner, next_step="call"
        )
        for stage in path:
            clock.advance(timedelta(days=3))
            if stage == "closed_lost":
                deal, _ = sfa.close_lost(
                    deal.id, reason=reason or "price", expected_version=deal.version, by=owner
                )
                continue
            if deal.amount is None:
                with sfa.transaction() as tx:
                    deal = tx.update(deal.evolve(amount=eur(1000)))
            deal, _ = sfa.move_opportunity(deal.id, stage, expected_version=deal.version, by=owner)


def _forecast_deals(sfa: Sfa, account: str) -> None:
    """Deals closing in FY2027-Q1 (January to March 2027 on the default calendar)."""
    close = date(2027, 2, 15)
    won_at = datetime(2026, 6, 1, tzinfo=UTC)
    for stage, amount, territory, extra in (
        ("closed_won", 1000, "terr_dach", {"closed_at": won_at}),
        ("negotiate", 500, "terr_dach", {}),
        ("propose", 300, "terr_dach", {}),
        ("closed_lost", 9999, "terr_dach", {"closed_at": won_at, "lost_reason": "price"}),
        ("prospect", 200, "terr_france", {}),
        ("qualify", 100, None, {}),
    ):
        sfa.create(
            Opportunity,
            name=f"{stage} deal",
            account_id=account,
            pipeline="standard",
            stage=stage,
            amount=eur(amount),
            close_date=close,
            territory_id=territory,
            owner_id="rep_anna",
            **extra,
        )


def _standing_order(sfa: Sfa, account: str) -> str:
    bulb = sfa.create(Product, sku="LED-9W", name="LED bulb", unit_price=Money.of("1.20", "EUR"))
    return sfa.create_standing_order(
        account_id=account,
        currency="EUR",
        lines=[OrderLine(product_id=bulb.id, quantity=1000, unit_price=bulb.unit_price)],
        schedule=RecurrenceSpec(
            rule="FREQ=MONTHLY;INTERVAL=2", start=FIRST_DUE, timezone="Europe/Berlin"
        ),
    ).id


def seed(url: str) -> Book:
    """Fill the database at ``url``; return the ids the tests name."""
    clock = ManualClock(T0)
    with sfakit.open(url, clock=clock, load_entry_points=False) as sfa:
        _team(sfa)
        acme = sfa.create(Account, name="Acme Lighting")
        sfa.create(
            Contact, last_name="Adler", account_id=acme.id, roles=(ContactRole.DECISION_MAKER,)
        )
        lead_at = sfa.create(Lead, last_name="Huber", country="AT").id
        lead_us = sfa.create(Lead, last_name="Smith", country="US").id
        standing = _standing_order(sfa, acme.id)
        _closed_deals(sfa, clock, acme.id)
    return Book(url, lead_at, lead_us, standing)


def seed_forecast(url: str) -> None:
    """The team and tree, and only the deals closing in FY2027-Q1."""
    with sfakit.open(url, clock=ManualClock(T0), load_entry_points=False) as sfa:
        _team(sfa)
        _forecast_deals(sfa, sfa.create(Account, name="Acme Lighting").id)
