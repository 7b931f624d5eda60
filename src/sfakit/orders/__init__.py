"""Orders: the status machine, confirmation numbers, payment decisions and analytics.
Pure: frozen attrs objects in, results out; no storage, no clock, no randomness of its
own (the service draws the random bits and passes the moment).

* :mod:`~sfakit.orders.status` — :data:`ORDER_TRANSITIONS` (the machine as data),
  :func:`transition`, :func:`allowed_transitions`, :class:`OrderTransitionError`.
* :mod:`~sfakit.orders.confirmation` — :func:`confirmation_number`,
  :func:`is_valid_confirmation`, :func:`normalize_confirmation`.
* :mod:`~sfakit.orders.payment` — :class:`PaymentDecision`,
  :func:`apply_payment_decision`, :func:`default_payment_decision`.
* :mod:`~sfakit.orders.analytics` — :func:`order_report` (per branch, region, period)
  and :func:`year_over_year`.

>>> from datetime import datetime, timedelta, timezone
>>> from sfakit.model import Account, Money, Order, OrderLine, OrderStatus
>>> at = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
>>> acme = Account(name="Acme", branch="north", created_at=at)
>>> draft = Order(account_id=acme.id, currency="EUR", created_at=at,
...               lines=[OrderLine(product_id="prod_bulb", quantity=1000,
...                                unit_price=Money.of("1.20", "EUR"))])
>>> placed = transition(draft, OrderStatus.PLACED, at=at,
...                     confirmation_number=confirmation_number(0x3A5F01C277))
>>> placed.confirmation_number
'SO-79F-G3G-KQH'
>>> on_terms = apply_payment_decision(placed, default_payment_decision(placed, acme), at=at)
>>> on_terms.status.value
'on_account'
>>> try:
...     transition(on_terms, OrderStatus.DELIVERED, at=at)
... except OrderTransitionError as refused:
...     print(refused)
order '...' cannot go from on_account to delivered; allowed from on_account: shipped, cancelled
>>> shipped = transition(on_terms, OrderStatus.SHIPPED, at=at + timedelta(days=1),
...                      carrier="DHL", tracking_number="00340434")
>>> order_report([shipped], [acme]).group("north").revenue
(Money('1200.00', 'EUR'),)
"""

from __future__ import annotations

from sfakit.orders.analytics import (
    BOOKED_STATUSES,
    CurrencyChange,
    OrderDimension,
    OrderGroup,
    OrderQuery,
    OrderReport,
    OrderTotals,
    Period,
    YearComparison,
    YearOverYear,
    YearOverYearQuery,
    YearOverYearRow,
    order_report,
    period_key,
    year_over_year,
)
from sfakit.orders.confirmation import (
    CONFIRMATION_BITS,
    CONFIRMATION_PREFIX,
    confirmation_number,
    is_valid_confirmation,
    normalize_confirmation,
)
from sfakit.orders.payment import (
    PaymentDecision,
    PaymentOutcome,
    apply_payment_decision,
    default_payment_decision,
)
from sfakit.orders.status import (
    FINAL_STATUSES,
    ORDER_TRANSITIONS,
    OrderTransition,
    OrderTransitionError,
    allowed_transitions,
    confirmed_status,
    is_held,
    transition,
)

__all__ = [
    "BOOKED_STATUSES",
    "CONFIRMATION_BITS",
    "CONFIRMATION_PREFIX",
    "FINAL_STATUSES",
    "ORDER_TRANSITIONS",
    "CurrencyChange",
    "OrderDimension",
    "OrderGroup",
    "OrderQuery",
    "OrderReport",
    "OrderTotals",
    "OrderTransition",
    "OrderTransitionError",
    "PaymentDecision",
    "PaymentOutcome",
    "Period",
    "YearComparison",
    "YearOverYear",
    "YearOverYearQuery",
    "YearOverYearRow",
    "allowed_transitions",
    "apply_payment_decision",
    "confirmation_number",
    "confirmed_status",
    "default_payment_decision",
    "is_held",
    "is_valid_confirmation",
    "normalize_confirmation",
    "order_report",
    "period_key",
    "transition",
    "year_over_year",
]
