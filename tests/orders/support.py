"""Strategies shared by the order tests: drafts, the details each transition needs, and
populations of orders with accounts for the analytics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from sfakit.model import (
    Account,
    AccountId,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    PaymentMethod,
    ProductId,
)
from sfakit.orders import ORDER_TRANSITIONS

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

#: A valid value for every detail a transition may need.
DETAIL_VALUES: dict[str, str] = {
    "confirmation_number": "SO-79F-G3G-KQH",
    "payment_approved_by": "rep_anna",
    "carrier": "DHL",
    "tracking_number": "00340434",
    "cancel_reason": "customer changed their mind",
    "return_reason": "damaged in transit",
}


def line(quantity: int = 10, price: str = "1.20", currency: str = "EUR") -> OrderLine:
    return OrderLine(
        product_id=ProductId("prod_bulb"), quantity=quantity, unit_price=Money.of(price, currency)
    )


def draft(
    *, method: PaymentMethod = PaymentMethod.ON_ACCOUNT, at: datetime = T0, **fields: Any
) -> Order:
    fields.setdefault("lines", [line()])
    return Order(
        account_id=fields.pop("account_id", "acct_acme"),
        currency=fields.pop("currency", "EUR"),
        payment_method=method,
        created_at=at,
        **fields,
    )


def required_details(order: Order, target: OrderStatus) -> dict[str, str]:
    """What moving ``order`` to ``target`` needs (nothing for a refused move)."""
    for rule in ORDER_TRANSITIONS:
        if rule.applies_to(order) and rule.target is target:
            return {name: DETAIL_VALUES[name] for name in rule.required}
    return {}


drafts = st.builds(
    draft,
    method=st.sampled_from(PaymentMethod),
    at=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
    ),
)
steps = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20))

BRANCHES = ("north", "south", None)
REGIONS = ("BY", "NW", None)


@st.composite
def populations(
    draw: st.DrawFn, *, currencies: tuple[str, ...] = ("EUR", "USD")
) -> tuple[list[Order], list[Account]]:
    """Accounts in a few branches and regions, and orders of any status placed over
    three years (some of them by accounts that are not in the list)."""
    accounts = [
        Account(
            name=f"Customer {i}",
            branch=draw(st.sampled_from(BRANCHES)),
            billing_region=draw(st.sampled_from(REGIONS)),
            created_at=T0,
        )
        for i in range(draw(st.integers(1, 5)))
    ]
    ids = [a.id for a in accounts] + [AccountId("acct_gone")]
    orders = []
    for _ in range(draw(st.integers(0, 25))):
        currency = draw(st.sampled_from(currencies))
        placed = datetime(2024, 1, 1, tzinfo=UTC) + draw(
            st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3 * 366))
        )
        status = draw(st.sampled_from(OrderStatus))
        orders.append(
            Order(
                account_id=draw(st.sampled_from(ids)),
                currency=currency,
                lines=[
                    line(
                        draw(st.integers(1, 500)),
                        draw(st.sampled_from(("0.99", "12.50"))),
                        currency,
                    )
                    for _ in range(draw(st.integers(0, 3)))
                ],
                status=status,
                created_at=placed - timedelta(hours=1),
                placed_at=None if status is OrderStatus.DRAFT else placed,
            )
        )
    return orders, accounts
