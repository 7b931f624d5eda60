"""Order operations of the service: place, approve payment, ship, deliver, cancel, return.

Each is one storage transaction: load the order, check it is still at the version the
caller read (else :class:`~sfakit.errors.ConflictError`), apply the pure
:mod:`sfakit.orders` status machine at the clock's ``now``, save, and emit the events
to the outbox. A refused move raises :class:`~sfakit.orders.OrderTransitionError`
listing the allowed ones, and nothing is written.

Placing an order also draws its confirmation number (40 bits from :mod:`secrets`),
asks the ``sfakit_verify_payment`` plugin hook for a payment decision, and refreshes
the account's ``last_order_at`` the way :meth:`~sfakit.Sfa.record_order` does.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Final

import attrs
import pluggy

from sfakit.errors import ConflictError, DuplicateError, PluginError, ValidationError
from sfakit.events import (
    Event,
    OrderCancelled,
    OrderConfirmed,
    OrderDelivered,
    OrderPaymentHeld,
    OrderPlaced,
    OrderReturned,
    OrderShipped,
)
from sfakit.model import Account, Contact, Order, OrderStatus
from sfakit.orders import (
    CONFIRMATION_BITS,
    OrderQuery,
    OrderReport,
    PaymentDecision,
    YearOverYear,
    YearOverYearQuery,
    apply_payment_decision,
    confirmation_number,
    confirmed_status,
    is_held,
    normalize_confirmation,
    order_report,
    transition,
    year_over_year,
)
from sfakit.plugins import call_hook
from sfakit.service.interactions import touch_account
from sfakit.service.outbox import emit
from sfakit.storage.api import In, Storage, Transaction
from sfakit.storage.common import every_page

__all__ = ["Ordering"]

#: Confirmation numbers drawn per placing before giving up (each is checked against
#: the unique index; at 40 bits a second draw is already rare).
CONFIRMATION_DRAWS: Final = 8
#: Times a placing is retried when another order took its number at the same moment.
PLACING_ATTEMPTS: Final = 3

_ACCOUNT_BATCH: Final = 500
# What a caller may give for a new order; the rest is set as it moves on.
_DRAFT_FIELDS: Final = frozenset(
    {
        "id",
        "account_id",
        "contact_id",
        "currency",
        "lines",
        "payment_method",
        "owner_id",
        "standing_order_id",
        "occurrence_key",
        "created_at",
    }
)


def _touch_last_order(tx: Transaction, order: Order, now: datetime) -> None:
    # The same bookkeeping as Sfa.record_order, so dormant-account lookups see it.
    touch_account(tx, order.account_id, "last_order_at", order.placed_at or now, now)


def _order_event(
    kind: Callable[..., Event], tx: Transaction, order: Order, at: datetime, **extra: Any
) -> Event:
    contact = None if order.contact_id is None else tx.find(Contact, order.contact_id)
    return kind(
        order_id=order.id,
        account_id=order.account_id,
        confirmation_number=order.confirmation_number,
        total=order.total,
        contact_email=contact.emails[0] if contact and contact.emails else None,
        occurred_at=at,
        **extra,
    )


def _placing_events(tx: Transaction, order: Order, at: datetime) -> list[Event]:
    events = [_order_event(OrderPlaced, tx, order, at)]
    if order.status is confirmed_status(order.payment_method):
        events.append(_order_event(OrderConfirmed, tx, order, at))
    elif order.status is OrderStatus.CANCELLED:
        events.append(_order_event(OrderCancelled, tx, order, at, reason=order.cancel_reason))
    elif is_held(order):
        events.append(_order_event(OrderPaymentHeld, tx, order, at, reason=order.hold_reason))
    return events


def _check_version(order: Order, expected_version: int) -> None:
    if order.version != expected_version:
        raise ConflictError(
            "Order", order.id, expected_version=expected_version, current_version=order.version
        )


class Ordering:
    """Mixed into :class:`~sfakit.Sfa`; needs ``storage``, ``plugins`` and ``now``."""

    storage: Storage
    plugins: pluggy.PluginManager
    now: Callable[[], datetime]

    # -- placing ----------------------------------------------------------------------

    def place_order(
        self,
        order_id: str | None = None,
        *,
        expected_version: int | None = None,
        at: datetime | None = None,
        **fields: Any,
    ) -> Order:
        """Place a stored draft (``order_id`` at ``expected_version``), or a new order
        built from ``fields`` (``account_id``, ``currency``, ``lines`` …), in one
        transaction.

        The order gets a confirmation number and ``placed_at``; ``OrderPlaced`` is
        emitted with the number. Then the payment hook decides: *approve* moves it on to
        ``payment_verified`` (card) or ``on_account`` and emits ``OrderConfirmed``;
        *hold* keeps it ``placed`` with its ``hold_reason`` (see :meth:`approve_payment`);
        *decline* cancels it with the reason. The stored order is returned. ``at`` is
        the moment of placing (default: the clock; the scheduler passes its run's).
        """
        if at is not None and at.utcoffset() is None:
            raise ValidationError("$.at", at, "a timezone-aware datetime")
        if order_id is not None and fields:
            raise ValidationError(
                "$.fields", sorted(fields), "no order fields when placing a stored draft"
            )
        if order_id is not None and expected_version is None:
            raise ValidationError(
                "$.expected_version", expected_version, "the version of the draft you read"
            )
        unknown = sorted(set(fields) - _DRAFT_FIELDS)
        if unknown:
            allowed = ", ".join(sorted(_DRAFT_FIELDS))
            raise ValidationError(
                f"$.{unknown[0]}", fields[unknown[0]], f"an order field: {allowed}"
            )
        version = expected_version or 0
        drawn: list[str] = []

        def operation(tx: Transaction) -> Order:
            now = self.now() if at is None else at
            if order_id is None:
                draft = Order(**{"created_at": now, **fields})
            else:
                draft = tx.get(Order, order_id)
                _check_version(draft, version)
            return self._place_in(tx, draft, now, stored=order_id is not None, drawn=drawn)

        for attempt in range(PLACING_ATTEMPTS):
            drawn.clear()
            try:
                with self.storage.transaction() as tx:
                    return operation(tx)
            except DuplicateError:
                # Only a number taken by a concurrent placing is worth another try; any
                # other duplicate (an id, a standing order's occurrence) is the caller's.
                if (
                    attempt == PLACING_ATTEMPTS - 1
                    or not drawn
                    or not self._number_taken(drawn[-1])
                ):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _place_in(
        self, tx: Transaction, draft: Order, now: datetime, *, stored: bool, drawn: list[str]
    ) -> Order:
        """Place ``draft`` inside the caller's transaction (inserting it unless it is
        ``stored`` already): number, payment decision, account bookkeeping, events."""
        number = self._free_confirmation_number(tx)
        drawn.append(number)
        placed = transition(draft, OrderStatus.PLACED, at=now, confirmation_number=number)
        account = tx.get(Account, placed.account_id)
        decided = apply_payment_decision(placed, self._verify_payment(placed, account), at=now)
        stamped = decided.evolve(updated_at=max(now, decided.created_at))
        result = tx.update(stamped) if stored else tx.insert(stamped)
        _touch_last_order(tx, result, now)
        emit(tx, _placing_events(tx, result, now))
        return result

    def _confirmation_bits(self) -> int:
        """Random bits for a confirmation number (a method, so tests can replace it)."""
        return secrets.randbits(CONFIRMATION_BITS)

    def _free_confirmation_number(self, tx: Transaction) -> str:
        for _ in range(CONFIRMATION_DRAWS):
            number = confirmation_number(self._confirmation_bits())
            if tx.count(Order, where={"confirmation_number": number}) == 0:
                return number
        raise DuplicateError("Order", f"confirmation_number={number}")

    def _number_taken(self, number: str) -> bool:
        with self.storage.transaction(readonly=True) as tx:
            return tx.count(Order, where={"confirmation_number": number}) > 0

    def _verify_payment(self, order: Order, account: Account) -> PaymentDecision:
        decision = call_hook(self.plugins, "sfakit_verify_payment", order=order, account=account)
        if not isinstance(decision, PaymentDecision):
            raise PluginError(
                f"sfakit_verify_payment returned {decision!r}, not a PaymentDecision "
                "(is the built-in sfakit.default_payments plugin unregistered?)",
                hook="sfakit_verify_payment",
            )
        return decision

    # -- moving on --------------------------------------------------------------------

    def _move(
        self,
        order_id: str,
        expected_version: int,
        target: Callable[[Order], OrderStatus],
        events: Callable[[Transaction, Order, datetime], list[Event]],
        **details: Any,
    ) -> Order:
        with self.storage.transaction() as tx:
            now = self.now()
            order = tx.get(Order, order_id)
            _check_version(order, expected_version)
            moved = transition(order, target(order), at=now, **details)
            stored = tx.update(moved.evolve(updated_at=max(now, moved.created_at)))
            emit(tx, events(tx, stored, now))
        return stored

    def approve_payment(self, order_id: str, *, expected_version: int, by: str) -> Order:
        """Approve by hand the payment of a placed (held) order: it moves on to
        ``payment_verified`` (card) or ``on_account``, ``payment_approved_by`` is
        ``by``, and ``OrderConfirmed`` is emitted."""
        return self._move(
            order_id,
            expected_version,
            lambda order: confirmed_status(order.payment_method),
            lambda tx, order, at: [_order_event(OrderConfirmed, tx, order, at)],
            payment_approved_by=by,
        )

    def ship_order(
        self, order_id: str, *, carrier: str, tracking_number: str, expected_version: int
    ) -> Order:
        """Mark a confirmed order shipped with ``carrier`` and ``tracking_number``, and
        emit ``OrderShipped`` (with them and the confirmation number)."""
        return self._move(
            order_id,
            expected_version,
            lambda order: OrderStatus.SHIPPED,
            lambda tx, order, at: [
                _order_event(
                    OrderShipped,
                    tx,
                    order,
                    at,
                    carrier=order.carrier,
                    tracking_number=order.tracking_number,
                )
            ],
            carrier=carrier,
            tracking_number=tracking_number,
        )

    def deliver_order(self, order_id: str, *, expected_version: int) -> Order:
        """Mark a shipped order delivered."""
        return self._move(
            order_id,
            expected_version,
            lambda order: OrderStatus.DELIVERED,
            lambda tx, order, at: [_order_event(OrderDelivered, tx, order, at)],
        )

    def cancel_order(self, order_id: str, *, reason: str, expected_version: int) -> Order:
        """Cancel an order that has not shipped (draft, placed or confirmed), with why."""
        return self._move(
            order_id,
            expected_version,
            lambda order: OrderStatus.CANCELLED,
            lambda tx, order, at: [_order_event(OrderCancelled, tx, order, at, reason=reason)],
            cancel_reason=reason,
        )

    def return_order(self, order_id: str, *, reason: str, expected_version: int) -> Order:
        """Record that a shipped or delivered order came back, with why."""
        return self._move(
            order_id,
            expected_version,
            lambda order: OrderStatus.RETURNED,
            lambda tx, order, at: [_order_event(OrderReturned, tx, order, at, reason=reason)],
            return_reason=reason,
        )

    # -- reading ----------------------------------------------------------------------

    def order_by_confirmation(self, number: str) -> Order | None:
        """The order with confirmation ``number`` (read forgivingly: case, spaces,
        ``O``/``0`` …), or None. A number whose check symbol is wrong is a
        :class:`~sfakit.errors.ValidationError`: it was mistyped."""
        canonical = normalize_confirmation(number)
        with self.storage.transaction(readonly=True) as tx:
            found = tx.query(Order, where={"confirmation_number": canonical}, limit=1).items
        return found[0] if found else None

    def _orders_and_accounts(
        self, statuses: Sequence[OrderStatus]
    ) -> tuple[int, list[Order], list[Account]]:
        with self.storage.transaction(readonly=True) as tx:
            considered = tx.count(Order)
            orders = every_page(tx, Order, where={"status": In(tuple(s.value for s in statuses))})
            ids = sorted({o.account_id for o in orders})
            accounts: list[Account] = []
            for start in range(0, len(ids), _ACCOUNT_BATCH):
                batch = tuple(ids[start : start + _ACCOUNT_BATCH])
                accounts += every_page(tx, Account, where={"id": In(batch)})
        return considered, orders, accounts

    def order_analytics(self, query: OrderQuery | None = None) -> OrderReport:
        """Orders and revenue per branch, region and/or period
        (:func:`sfakit.orders.order_report`) over every stored order, read in one
        transaction."""
        chosen = OrderQuery() if query is None else query
        if not isinstance(chosen, OrderQuery):
            raise ValidationError("$.query", chosen, "an OrderQuery")
        considered, orders, accounts = self._orders_and_accounts(chosen.statuses)
        report = order_report(orders, accounts, chosen)
        # The store left out orders of other statuses: count them as the pure function
        # would have, so the report explains every stored order.
        return attrs.evolve(
            report,
            considered=considered,
            excluded_status=report.excluded_status + considered - report.considered,
        )

    def order_year_over_year(self, query: YearOverYearQuery) -> YearOverYear:
        """A year against the one before, per branch or region
        (:func:`sfakit.orders.year_over_year`), over every stored order."""
        if not isinstance(query, YearOverYearQuery):
            raise ValidationError("$.query", query, "a YearOverYearQuery")
        considered, orders, accounts = self._orders_and_accounts(query.statuses)
        result = year_over_year(orders, accounts, query)
        return attrs.evolve(
            result,
            considered=considered,
            excluded_status=result.excluded_status + considered - result.considered,
        )
