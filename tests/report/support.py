"""A small book of business with something in every section of the report.

As of ``T0`` (Monday 2 March 2026, 09:00 UTC; the next quarter is FY2026-Q2 on the
default calendar): eight deals of the standard pipeline moved through their stages (four
lost, two won, two open and closing in April 2026), a won deal closing in Q2, leads in
two regions and one without, exchange rates (EUR corporate), and standing orders: two
due in the next week, one later, and a cancelled, an ended and a paused one.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

from sfakit import ManualClock, Money, Sfa
from sfakit.forecast import RateTable
from sfakit.model import (
    Account,
    Contact,
    ContactRole,
    Lead,
    LeadStatus,
    Opportunity,
    OrderLine,
    Product,
    RecurrenceSpec,
    SalesRep,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MALICIOUS = "<script>alert(1)</script>"


class Book(NamedTuple):
    due: tuple[str, ...]  # the standing orders due in the week after T0, soonest first
    not_due: tuple[str, ...]  # later, cancelled, ended, paused


def eur(amount: int | str) -> Money:
    return Money.of(amount, "EUR")


def _deal(sfa: Sfa, clock: ManualClock, account: str, path: list[str], **fields: object) -> None:
    """A deal opened now and moved along ``path`` a few days apart (``lost:<reason>``
    closes it lost)."""
    deal = sfa.open_opportunity(
        name=f"deal {'-'.join(path)}",
        account_id=account,
        owner_id="rep_anna",
        by="rep_anna",
        next_step="call",
        amount=eur(1000),
        **fields,
    )
    for stage in path:
        clock.advance(timedelta(days=3))
        if stage.startswith("lost:"):
            deal, _ = sfa.close_lost(
                deal.id, reason=stage[5:], expected_version=deal.version, by="rep_anna"
            )
        else:
            deal, _ = sfa.move_opportunity(
                deal.id, stage, expected_version=deal.version, by="rep_anna"
            )


def _deals(sfa: Sfa, clock: ManualClock, account: str) -> None:
    april = date(2026, 4, 20)
    for path in (
        ["lost:price"],
        ["qualify", "lost:price"],
        ["qualify", "lost:competitor"],
        ["qualify", "propose", "lost:no_budget"],
        ["qualify", "propose", "negotiate", "closed_won"],
        ["qualify", "propose", "negotiate", "propose", "negotiate", "closed_won"],
    ):
        _deal(sfa, clock, account, path)
    _deal(sfa, clock, account, ["qualify", "propose"], close_date=april)
    _deal(sfa, clock, account, ["qualify", "propose", "negotiate"], close_date=april)
    # Won already, closing in the quarter ahead: "closed won so far".
    sfa.create(
        Opportunity,
        name="early win",
        account_id=account,
        pipeline="standard",
        stage="closed_won",
        amount=eur("2500.50"),
        close_date=date(2026, 4, 2),
        closed_at=T0 - timedelta(days=1),
    )


def _leads(sfa: Sfa, account: str) -> None:
    for region, converted in (
        ("north", True),
        ("north", False),
        ("north", False),
        ("south", True),
        ("south", True),
        (None, False),
    ):
        fields: dict[str, object] = {}
        if converted:
            fields.update(
                status=LeadStatus.CONVERTED, converted_at=T0, converted_account_id=account
            )
        sfa.create(Lead, last_name="Roe", company="Roe GmbH", region=region, **fields)


def _standing_orders(sfa: Sfa, accounts: list[str]) -> Book:
    bulb = sfa.create(Product, sku="LED-9W", name="LED bulb", unit_price=Money.of("1.20", "EUR"))
    lines = [OrderLine(product_id=bulb.id, quantity=1000, unit_price=bulb.unit_price)]

    def standing(account: str, start: datetime, **fields: object) -> str:
        return sfa.create_standing_order(
            account_id=account,
            currency="EUR",
            lines=lines,
            schedule=RecurrenceSpec(rule="FREQ=MONTHLY", start=start, timezone="Europe/Berlin"),
            **fields,
        ).id

    berlin_8 = datetime(2026, 3, 5, 7, 0, tzinfo=UTC)  # 08:00 in Berlin
    soon = standing(accounts[1], berlin_8)
    sooner = standing(accounts[0], berlin_8 - timedelta(days=2))
    later = standing(accounts[0], berlin_8 + timedelta(days=10))
    cancelled = standing(accounts[0], berlin_8)
    sfa.cancel_standing_order(cancelled, expected_version=1)
    ended = standing(accounts[0], berlin_8, ends_on=date(2026, 3, 1))
    paused = standing(accounts[0], berlin_8)
    sfa.pause_standing_order(paused, start=date(2026, 3, 1), expected_version=1)
    return Book(due=(sooner, soon), not_due=(later, cancelled, ended, paused))


def build(sfa: Sfa, clock: ManualClock) -> Book:
    """Fill the storage behind ``sfa`` (whose clock is ``clock``, set to a month before
    T0); leave the clock at T0."""
    sfa.create(SalesRep, id="rep_anna", name="Anna", email="anna@example.com")
    acme = sfa.create(Account, name="Acme Lighting")
    sfa.create(Contact, last_name="Adler", account_id=acme.id, roles=(ContactRole.DECISION_MAKER,))
    hotels = sfa.create(Account, name=f"Brightside {MALICIOUS} & Co")
    sfa.set_exchange_rates(
        RateTable.of("EUR", {"USD": [("2026-01-01", "1.10")]}), expected_version=None
    )
    _deals(sfa, clock, acme.id)
    clock.set(T0)
    _leads(sfa, acme.id)
    return _standing_orders(sfa, [acme.id, hotels.id])
