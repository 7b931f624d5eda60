"""The built-in payment verification, registered as a plugin exactly like the backends.

It answers ``sfakit_verify_payment`` last (``trylast``), so any installed or explicitly
passed plugin that returns a decision overrides it: orders on account terms are
approved (charged to the account), card orders are held until someone approves them
with ``Sfa.approve_payment``. See :func:`sfakit.orders.default_payment_decision`.

>>> from sfakit.plugins import call_hook, plugin_manager
>>> from datetime import datetime, timezone
>>> from sfakit.model import Account, Order, PaymentMethod
>>> at = datetime(2026, 3, 2, tzinfo=timezone.utc)
>>> acme = Account(name="Acme", created_at=at)
>>> order = Order(account_id=acme.id, currency="EUR", created_at=at,
...               payment_method=PaymentMethod.ON_ACCOUNT)
>>> pm = plugin_manager(load_entry_points=False)
>>> call_hook(pm, "sfakit_verify_payment", order=order, account=acme).outcome.value
'approve'
"""

from __future__ import annotations

from sfakit.model import Account, Order
from sfakit.orders import PaymentDecision, default_payment_decision
from sfakit.plugins import hookimpl

__all__ = ["sfakit_verify_payment"]


@hookimpl(trylast=True)
def sfakit_verify_payment(order: Order, account: Account) -> PaymentDecision:
    """Approve orders on account terms; hold card orders for manual approval."""
    return default_payment_decision(order, account)
