"""The order status machine: allowed moves are taken, refused ones name the allowed."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfakit.codec import from_data, to_data
from sfakit.errors import TransitionError, ValidationError
from sfakit.model import Order, OrderStatus, PaymentMethod
from sfakit.orders import (
    FINAL_STATUSES,
    ORDER_TRANSITIONS,
    OrderTransition,
    OrderTransitionError,
    allowed_transitions,
    confirmed_status,
    is_held,
    transition,
)

from .support import T0, draft, drafts, required_details, steps

S = OrderStatus
STAMPS = {
    S.PLACED: "placed_at",
    S.PAYMENT_VERIFIED: "confirmed_at",
    S.ON_ACCOUNT: "confirmed_at",
    S.SHIPPED: "shipped_at",
    S.DELIVERED: "delivered_at",
    S.CANCELLED: "cancelled_at",
    S.RETURNED: "returned_at",
}
UNCHANGED = ("id", "account_id", "currency", "lines", "payment_method", "created_at", "version")


def walk(order: Order, targets: list[OrderStatus], at: datetime) -> Order:
    for target in targets:
        order = transition(order, target, at=at, **required_details(order, target))
    return order


# -- the machine as data ----------------------------------------------------------------


def test_the_happy_paths_of_both_payment_methods() -> None:
    card = walk(draft(method=PaymentMethod.CARD), [S.PLACED, S.PAYMENT_VERIFIED, S.SHIPPED], T0)
    terms = walk(draft(), [S.PLACED, S.ON_ACCOUNT, S.SHIPPED, S.DELIVERED], T0)
    assert card.status is S.SHIPPED
    assert (card.carrier, card.tracking_number) == ("DHL", "00340434")
    assert terms.status is S.DELIVERED
    assert terms.delivered_at == T0


def test_the_allowed_targets_of_every_status() -> None:
    def allowed(status: OrderStatus, method: PaymentMethod) -> set[str]:
        order = draft(method=method).evolve(status=status)
        return {s.value for s in allowed_transitions(order)}

    on_terms, card = PaymentMethod.ON_ACCOUNT, PaymentMethod.CARD
    assert allowed(S.DRAFT, card) == {"placed", "cancelled"}
    assert allowed(S.PLACED, card) == {"payment_verified", "cancelled"}
    assert allowed(S.PLACED, on_terms) == {"on_account", "cancelled"}
    assert allowed(S.PAYMENT_VERIFIED, card) == {"shipped", "cancelled"}
    assert allowed(S.ON_ACCOUNT, on_terms) == {"shipped", "cancelled"}
    assert allowed(S.SHIPPED, card) == {"delivered", "returned"}
    assert allowed(S.DELIVERED, on_terms) == {"returned"}
    assert allowed(S.CANCELLED, card) == allowed(S.RETURNED, on_terms) == set()


def test_final_statuses_are_exactly_those_no_transition_leaves() -> None:
    sources = {t.source for t in ORDER_TRANSITIONS}
    assert set(FINAL_STATUSES) == set(S) - sources


def test_every_status_is_reachable_from_draft() -> None:
    reached, frontier = {S.DRAFT}, [S.DRAFT]
    while frontier:
        source = frontier.pop()
        for rule in ORDER_TRANSITIONS:
            if rule.source is source and rule.target not in reached:
                reached.add(rule.target)
                frontier.append(rule.target)
    assert reached == set(S)


def test_the_machine_round_trips_through_the_codec() -> None:
    data = to_data(list(ORDER_TRANSITIONS))
    assert tuple(from_data(list[OrderTransition], data)) == ORDER_TRANSITIONS
    assert data[0] == {
        "source": "draft",
        "target": "placed",
        "required": ["confirmation_number"],
        "optional": [],
        "stamp": "placed_at",
        "payment_method": None,
    }


def test_a_transition_with_an_unknown_detail_field_is_refused_when_built() -> None:
    with pytest.raises(ValidationError) as info:
        OrderTransition(source=S.DRAFT, target=S.PLACED, required=("lines",), stamp="placed_at")
    assert info.value.path == "$.required[0]"
    with pytest.raises(ValidationError) as info:
        OrderTransition(source=S.DRAFT, target=S.PLACED, stamp="updated_at")
    assert info.value.path == "$.stamp"


def test_confirmed_status_follows_the_payment_method() -> None:
    assert confirmed_status(PaymentMethod.CARD) is S.PAYMENT_VERIFIED
    assert confirmed_status(PaymentMethod.ON_ACCOUNT) is S.ON_ACCOUNT


# -- properties -------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(drafts, st.data())
def test_any_sequence_of_allowed_transitions_is_accepted(order: Order, data: st.DataObject) -> None:
    at = order.created_at
    seen = [order.status]
    while allowed_transitions(order):
        target = data.draw(st.sampled_from(allowed_transitions(order)))
        at += data.draw(steps)
        moved = transition(order, target, at=at, **required_details(order, target))
        assert moved.status is target
        assert getattr(moved, STAMPS[target]) == at
        for name in UNCHANGED:
            assert getattr(moved, name) == getattr(order, name), name
        order = moved
        seen.append(target)
    assert order.status in FINAL_STATUSES
    assert len(seen) <= 6  # no cycles: every path ends


@settings(max_examples=150, deadline=None)
@given(drafts, st.lists(st.sampled_from(S), max_size=8), st.data())
def test_refused_transitions_change_nothing_and_name_the_allowed_targets(
    order: Order, targets: list[OrderStatus], data: st.DataObject
) -> None:
    at = order.created_at
    for target in targets:
        allowed = allowed_transitions(order)
        at += data.draw(steps)
        if target in allowed:
            order = transition(order, target, at=at, **required_details(order, target))
            continue
        before = to_data(order)
        with pytest.raises(OrderTransitionError) as info:
            transition(order, target, at=at, cancel_reason="x", carrier="x", tracking_number="x")
        assert to_data(order) == before
        assert info.value.allowed == allowed
        assert (info.value.current, info.value.target) == (order.status, target)
        message = str(info.value)
        for status in allowed:
            assert status.value in message
        if not allowed:
            assert "is final" in message


@settings(max_examples=100, deadline=None)
@given(drafts, st.data())
def test_timestamps_never_go_backwards_along_a_path(order: Order, data: st.DataObject) -> None:
    at = order.created_at
    while allowed_transitions(order):
        target = data.draw(st.sampled_from(allowed_transitions(order)))
        at += data.draw(steps)
        order = transition(order, target, at=at, **required_details(order, target))
    stamps = [
        order.created_at,
        order.placed_at,
        order.confirmed_at,
        order.shipped_at,
        order.delivered_at,
        order.returned_at,
    ]
    present = [s for s in stamps if s is not None]
    assert present == sorted(present)


# -- refusals and bad input -------------------------------------------------------------


def test_a_refusal_is_a_transition_error_and_pickles() -> None:
    order = walk(draft(), [S.PLACED, S.ON_ACCOUNT, S.SHIPPED], T0)
    with pytest.raises(TransitionError) as info:
        transition(order, S.CANCELLED, at=T0, cancel_reason="too late")
    assert str(info.value) == (
        f"order {order.id!r} cannot go from shipped to cancelled; "
        "allowed from shipped: delivered, returned"
    )
    copy = pickle.loads(pickle.dumps(info.value))
    assert str(copy) == str(info.value)
    assert copy.allowed == (S.DELIVERED, S.RETURNED)


def test_a_card_order_cannot_be_charged_to_the_account() -> None:
    placed = walk(draft(method=PaymentMethod.CARD), [S.PLACED], T0)
    with pytest.raises(OrderTransitionError) as info:
        transition(placed, S.ON_ACCOUNT, at=T0)
    assert info.value.allowed == (S.PAYMENT_VERIFIED, S.CANCELLED)


def test_an_unknown_target_is_refused_with_the_allowed_ones() -> None:
    with pytest.raises(OrderTransitionError) as info:
        transition(draft(), "teleported", at=T0)
    assert "'teleported'" in str(info.value)
    assert info.value.allowed == (S.PLACED, S.CANCELLED)


def test_a_target_may_be_given_by_its_value() -> None:
    assert transition(draft(), "placed", at=T0, confirmation_number="SO-1").status is S.PLACED


def test_a_missing_required_detail_names_it() -> None:
    on_terms = walk(draft(), [S.PLACED, S.ON_ACCOUNT], T0)
    with pytest.raises(ValidationError) as info:
        transition(on_terms, S.SHIPPED, at=T0, carrier="DHL")
    assert info.value.path == "$.tracking_number"
    assert "shipped" in info.value.expected


def test_an_unexpected_detail_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        transition(draft(), S.CANCELLED, at=T0, cancel_reason="dup", lines=())
    assert info.value.path == "$.lines"
    with pytest.raises(ValidationError) as info:
        transition(
            walk(draft(), [S.PLACED, S.ON_ACCOUNT, S.SHIPPED], T0),
            S.DELIVERED,
            at=T0,
            carrier="UPS",
        )
    assert "no details" in info.value.expected


def test_a_blank_detail_is_refused_by_the_order_itself() -> None:
    with pytest.raises(ValidationError) as info:
        transition(draft(), S.CANCELLED, at=T0, cancel_reason="  ")
    assert info.value.path == "$.cancel_reason"


def test_a_naive_or_earlier_moment_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        transition(draft(), S.PLACED, at=datetime(2026, 1, 5), confirmation_number="SO-1")
    assert info.value.path == "$.at"
    placed = walk(draft(), [S.PLACED], T0 + timedelta(days=2))
    with pytest.raises(ValidationError) as info:
        transition(placed, S.ON_ACCOUNT, at=T0 + timedelta(days=1))
    assert info.value.path == "$.at"
    assert "placed_at" in info.value.expected


def test_an_order_without_lines_cannot_be_placed() -> None:
    with pytest.raises(ValidationError) as info:
        transition(draft(lines=[]), S.PLACED, at=T0, confirmation_number="SO-1")
    assert info.value.path == "$.lines"


def test_an_order_is_held_while_placed_with_a_hold_reason() -> None:
    placed = walk(draft(method=PaymentMethod.CARD), [S.PLACED], T0)
    assert not is_held(placed)
    held = placed.evolve(hold_reason="card payments are approved by hand")
    assert is_held(held)
    approved = transition(held, S.PAYMENT_VERIFIED, at=T0, payment_approved_by="rep_anna")
    assert not is_held(approved)
    assert approved.payment_approved_by == "rep_anna"
    assert approved.confirmed_at == datetime(2026, 1, 5, 9, tzinfo=UTC)
