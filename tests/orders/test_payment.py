"""Payment decisions and what each does to a placed order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfakit.codec import from_data, to_data
from sfakit.errors import ValidationError
from sfakit.model import Account, Order, OrderStatus, PaymentMethod
from sfakit.orders import (
    OrderTransitionError,
    PaymentDecision,
    PaymentOutcome,
    apply_payment_decision,
    default_payment_decision,
    is_held,
    transition,
)

from .support import T0, draft

ACME = Account(name="Acme Lighting", created_at=T0)
LATER = T0 + timedelta(minutes=5)


def placed(method: PaymentMethod = PaymentMethod.ON_ACCOUNT) -> Order:
    return transition(draft(method=method), OrderStatus.PLACED, at=T0, confirmation_number="SO-1")


def test_the_default_approves_orders_on_account_terms() -> None:
    decision = default_payment_decision(placed(), ACME)
    assert decision.outcome is PaymentOutcome.APPROVE
    assert "Acme Lighting" in decision.reason
    assert decision.by == "sfakit.default_payments"


def test_the_default_holds_card_orders_for_manual_approval() -> None:
    decision = default_payment_decision(placed(PaymentMethod.CARD), ACME)
    assert decision.outcome is PaymentOutcome.HOLD
    assert decision.reason == "card payments are approved by hand"


@pytest.mark.parametrize(
    ("method", "status"),
    [
        (PaymentMethod.CARD, OrderStatus.PAYMENT_VERIFIED),
        (PaymentMethod.ON_ACCOUNT, OrderStatus.ON_ACCOUNT),
    ],
)
def test_an_approval_confirms_the_order_the_way_it_is_paid(
    method: PaymentMethod, status: OrderStatus
) -> None:
    order = apply_payment_decision(placed(method), PaymentDecision.approve("ok"), at=LATER)
    assert (order.status, order.confirmed_at, order.hold_reason) == (status, LATER, None)


def test_a_hold_keeps_the_order_placed_with_its_reason() -> None:
    order = apply_payment_decision(
        placed(PaymentMethod.CARD), PaymentDecision.hold("over the card limit"), at=LATER
    )
    assert order.status is OrderStatus.PLACED
    assert order.hold_reason == "over the card limit"
    assert is_held(order)
    assert order.confirmed_at is None


def test_a_decline_cancels_the_order_with_the_reason() -> None:
    order = apply_payment_decision(placed(), PaymentDecision.decline("card expired"), at=LATER)
    assert order.status is OrderStatus.CANCELLED
    assert order.cancel_reason == "payment declined: card expired"
    assert order.cancelled_at == LATER


@settings(max_examples=30)
@given(st.sampled_from(PaymentOutcome), st.sampled_from(PaymentMethod))
def test_a_decision_on_an_order_that_is_not_placed_is_refused(
    outcome: PaymentOutcome, method: PaymentMethod
) -> None:
    decision = PaymentDecision(outcome=outcome, reason="late")
    confirmed = apply_payment_decision(placed(method), PaymentDecision.approve("ok"), at=T0)
    for order in (draft(method=method), confirmed):
        with pytest.raises(OrderTransitionError):
            apply_payment_decision(order, decision, at=LATER)


def test_only_a_payment_decision_is_accepted() -> None:
    with pytest.raises(ValidationError) as info:
        apply_payment_decision(placed(), "approve", at=LATER)  # type: ignore[arg-type]
    assert info.value.path == "$.decision"


def test_a_decision_needs_a_reason_and_a_known_outcome() -> None:
    with pytest.raises(ValidationError) as info:
        PaymentDecision(outcome=PaymentOutcome.HOLD, reason=" ")
    assert info.value.path == "$.reason"
    with pytest.raises(ValidationError) as info:
        PaymentDecision(outcome="maybe", reason="unsure")  # type: ignore[arg-type]
    assert info.value.path == "$.outcome"


@given(
    st.builds(
        PaymentDecision,
        outcome=st.sampled_from(PaymentOutcome),
        reason=st.text(min_size=1, max_size=50).filter(str.strip),
        by=st.none() | st.sampled_from(["risk", "rep_anna"]),
    )
)
def test_decisions_round_trip_through_the_codec(decision: PaymentDecision) -> None:
    assert from_data(PaymentDecision, to_data(decision)) == decision
