"""Orders through the service on every backend: place, pay, ship, deliver, cancel, return."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import cycle
from typing import Any

import pytest

import sfakit
from sfakit import ConflictError, ManualClock, Sfa
from sfakit.errors import DuplicateError, PluginError, ValidationError
from sfakit.events import OrderConfirmed, OrderPlaced, OrderShipped
from sfakit.model import (
    Account,
    Contact,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    PaymentMethod,
    ProductId,
)
from sfakit.orders import (
    OrderDimension,
    OrderQuery,
    OrderTransitionError,
    PaymentDecision,
    YearOverYearQuery,
    confirmation_number,
    is_held,
    is_valid_confirmation,
    order_report,
    year_over_year,
)
from sfakit.plugins import hookimpl

S = OrderStatus
BULBS = OrderLine(
    product_id=ProductId("prod_bulb"), quantity=1000, unit_price=Money.of("1.20", "EUR")
)


def customer(sfa: Sfa, **fields: Any) -> Account:
    return sfa.create(Account, name=fields.pop("name", "Acme Lighting"), **fields)


def place(sfa: Sfa, account: Account, **fields: Any) -> Order:
    fields.setdefault("lines", [BULBS])
    return sfa.place_order(account_id=account.id, currency="EUR", **fields)


def events(sfa: Sfa, after: int = 0) -> list[Any]:
    return [e for _, e in sfa.events(after=after)]


def last_position(sfa: Sfa) -> int:
    found = sfa.events()
    return found[-1][0] if found else 0


# -- placing ----------------------------------------------------------------------------


def test_an_order_on_account_terms_is_placed_and_charged_in_one_step(
    sfa: Sfa, clock: ManualClock
) -> None:
    acme = customer(sfa)
    buyer = sfa.create(Contact, last_name="Adler", account_id=acme.id, emails=["k@example.com"])
    order = place(sfa, acme, contact_id=buyer.id)
    assert order.status is S.ON_ACCOUNT
    assert order.version == 1
    assert order.placed_at == order.confirmed_at == clock.now()
    assert order.confirmation_number is not None
    assert is_valid_confirmation(order.confirmation_number)
    placed, confirmed = events(sfa)
    assert isinstance(placed, OrderPlaced)
    assert isinstance(confirmed, OrderConfirmed)
    for event in (placed, confirmed):
        assert event.order_id == order.id
        assert event.confirmation_number == order.confirmation_number
        assert event.total == Money.of("1200", "EUR")
        assert event.contact_email == "k@example.com"
    assert sfa.get(Order, order.id) == order


def test_placing_refreshes_the_accounts_last_order(sfa: Sfa, clock: ManualClock) -> None:
    acme = customer(sfa)
    clock.advance(timedelta(days=3))
    order = place(sfa, acme)
    assert sfa.get(Account, acme.id).last_order_at == order.placed_at
    dormant = sfa.dormant_accounts(since=clock.now() - timedelta(days=1))
    assert acme.id not in [a.id for a in dormant]


def test_a_stored_draft_is_placed_at_the_version_read(sfa: Sfa, clock: ManualClock) -> None:
    acme = customer(sfa)
    draft = sfa.create(Order, account_id=acme.id, currency="EUR", lines=[BULBS])
    assert sfa.get(Account, acme.id).last_order_at is None  # a draft is not an order yet
    clock.advance(timedelta(hours=2))
    order = sfa.place_order(draft.id, expected_version=draft.version)
    assert (order.id, order.status, order.version) == (draft.id, S.ON_ACCOUNT, 2)
    assert order.placed_at == clock.now()
    assert sfa.get(Account, acme.id).last_order_at == clock.now()


def test_placing_a_stale_draft_is_a_conflict_and_writes_nothing(sfa: Sfa) -> None:
    acme = customer(sfa)
    draft = sfa.create(Order, account_id=acme.id, currency="EUR", lines=[BULBS])
    sfa.update(Order, draft.id, expected_version=1, lines=[BULBS, BULBS])
    with pytest.raises(ConflictError) as info:
        sfa.place_order(draft.id, expected_version=1)
    assert info.value.current_version == 2
    assert sfa.get(Order, draft.id).status is S.DRAFT
    assert events(sfa) == []


def test_placing_a_draft_needs_its_version_and_no_other_fields(sfa: Sfa) -> None:
    acme = customer(sfa)
    draft = sfa.create(Order, account_id=acme.id, currency="EUR", lines=[BULBS])
    with pytest.raises(ValidationError) as info:
        sfa.place_order(draft.id)
    assert info.value.path == "$.expected_version"
    with pytest.raises(ValidationError) as info:
        sfa.place_order(draft.id, expected_version=1, currency="USD")
    assert info.value.path == "$.fields"
    with pytest.raises(ValidationError) as info:
        place(sfa, acme, status=S.SHIPPED)
    assert info.value.path == "$.status"


def test_an_order_without_lines_is_not_placed(sfa: Sfa) -> None:
    acme = customer(sfa)
    with pytest.raises(ValidationError) as info:
        place(sfa, acme, lines=[])
    assert info.value.path == "$.lines"
    assert not sfa.query(Order).items
    assert events(sfa) == []


def test_a_card_order_is_held_until_approved_by_hand(sfa: Sfa, clock: ManualClock) -> None:
    acme = customer(sfa)
    held = place(sfa, acme, payment_method=PaymentMethod.CARD)
    assert held.status is S.PLACED
    assert is_held(held)
    assert held.hold_reason == "card payments are approved by hand"
    assert [e.type for e in events(sfa)] == ["order.placed", "order.payment_held"]
    mark = last_position(sfa)
    clock.advance(timedelta(hours=1))
    approved = sfa.approve_payment(held.id, expected_version=held.version, by="rep_anna")
    assert approved.status is S.PAYMENT_VERIFIED
    assert (approved.payment_approved_by, approved.confirmed_at) == ("rep_anna", clock.now())
    (confirmed,) = events(sfa, after=mark)
    assert isinstance(confirmed, OrderConfirmed)
    assert confirmed.confirmation_number == held.confirmation_number


def test_approving_an_already_confirmed_order_is_refused(sfa: Sfa) -> None:
    order = place(sfa, customer(sfa))
    with pytest.raises(OrderTransitionError) as info:
        sfa.approve_payment(order.id, expected_version=order.version, by="rep_anna")
    assert info.value.allowed == (S.SHIPPED, S.CANCELLED)


# -- the payment hook -------------------------------------------------------------------


class Decliner:
    @hookimpl
    def sfakit_verify_payment(self, order: Order, account: Account) -> PaymentDecision:
        return PaymentDecision.decline(f"{account.name} is blocked", by="risk")


class Approver:
    @hookimpl
    def sfakit_verify_payment(self, order: Order, account: Account) -> PaymentDecision | None:
        if order.payment_method is PaymentMethod.CARD:
            return PaymentDecision.approve("card authorised", by="psp")
        return None


class Broken:
    @hookimpl
    def sfakit_verify_payment(self, order: Order, account: Account) -> object:
        return "approve"


@pytest.fixture
def open_with(storage_url: str, clock: ManualClock) -> Iterator[Any]:
    opened: list[Sfa] = []

    def make(*plugins: object) -> Sfa:
        service = sfakit.open(storage_url, clock=clock, plugins=plugins, load_entry_points=False)
        opened.append(service)
        return service

    yield make
    for service in opened:
        service.close()


def test_a_declined_payment_cancels_the_order_with_the_reason(open_with: Any) -> None:
    sfa = open_with(Decliner())
    order = place(sfa, customer(sfa, name="Shady Ltd"))
    assert order.status is S.CANCELLED
    assert order.cancel_reason == "payment declined: Shady Ltd is blocked"
    assert [e.type for e in events(sfa)] == ["order.placed", "order.cancelled"]


def test_a_plugin_decides_what_it_knows_and_leaves_the_rest_to_the_default(
    open_with: Any,
) -> None:
    sfa = open_with(Approver())
    acme = customer(sfa)
    assert place(sfa, acme, payment_method=PaymentMethod.CARD).status is S.PAYMENT_VERIFIED
    assert place(sfa, acme).status is S.ON_ACCOUNT


def test_a_plugin_answering_nonsense_is_a_plugin_error_and_nothing_is_placed(
    open_with: Any,
) -> None:
    sfa = open_with(Broken())
    acme = customer(sfa)
    with pytest.raises(PluginError) as info:
        place(sfa, acme)
    assert info.value.hook == "sfakit_verify_payment"
    assert not sfa.query(Order).items
    assert sfa.get(Account, acme.id).last_order_at is None


# -- shipping and after -----------------------------------------------------------------


def test_ship_deliver_and_return(sfa: Sfa, clock: ManualClock) -> None:
    buyer_account = customer(sfa)
    order = place(sfa, buyer_account)
    mark = last_position(sfa)
    clock.advance(timedelta(days=1))
    shipped = sfa.ship_order(
        order.id, carrier="DHL", tracking_number="00340434", expected_version=order.version
    )
    assert (shipped.status, shipped.shipped_at) == (S.SHIPPED, clock.now())
    (event,) = events(sfa, after=mark)
    assert isinstance(event, OrderShipped)
    assert (event.carrier, event.tracking_number) == ("DHL", "00340434")
    assert event.confirmation_number == order.confirmation_number
    clock.advance(timedelta(days=2))
    delivered = sfa.deliver_order(order.id, expected_version=shipped.version)
    assert (delivered.status, delivered.delivered_at) == (S.DELIVERED, clock.now())
    clock.advance(timedelta(days=5))
    returned = sfa.return_order(
        order.id, reason="wrong wattage", expected_version=delivered.version
    )
    assert (returned.status, returned.return_reason) == (S.RETURNED, "wrong wattage")
    assert returned.version == 4
    assert [e.type for e in events(sfa, after=mark)][1:] == ["order.delivered", "order.returned"]
    assert sfa.get(Order, order.id) == returned


def test_cancelling_before_shipping(sfa: Sfa) -> None:
    order = place(sfa, customer(sfa))
    cancelled = sfa.cancel_order(order.id, reason="ordered twice", expected_version=1)
    assert (cancelled.status, cancelled.cancel_reason) == (S.CANCELLED, "ordered twice")
    assert events(sfa)[-1].type == "order.cancelled"


def test_a_refused_move_changes_nothing_and_names_the_allowed_ones(sfa: Sfa) -> None:
    held = place(sfa, customer(sfa), payment_method=PaymentMethod.CARD)
    before = events(sfa)
    with pytest.raises(OrderTransitionError) as info:
        sfa.ship_order(held.id, carrier="DHL", tracking_number="1", expected_version=1)
    assert info.value.allowed == (S.PAYMENT_VERIFIED, S.CANCELLED)
    assert "payment_verified, cancelled" in str(info.value)
    with pytest.raises(OrderTransitionError):
        sfa.return_order(held.id, reason="never came", expected_version=1)
    assert sfa.get(Order, held.id) == held
    assert events(sfa) == before


def test_a_missing_detail_is_refused_before_anything_is_written(sfa: Sfa) -> None:
    order = place(sfa, customer(sfa))
    with pytest.raises(ValidationError) as info:
        sfa.ship_order(order.id, carrier=" ", tracking_number="1", expected_version=1)
    assert info.value.path == "$.carrier"
    assert sfa.get(Order, order.id) == order


def test_every_move_on_a_stale_version_is_a_conflict(sfa: Sfa) -> None:
    order = place(sfa, customer(sfa))
    shipped = sfa.ship_order(order.id, carrier="DHL", tracking_number="1", expected_version=1)
    moves: list[Callable[[], Order]] = [
        lambda: sfa.ship_order(order.id, carrier="UPS", tracking_number="2", expected_version=1),
        lambda: sfa.cancel_order(order.id, reason="late", expected_version=1),
        lambda: sfa.deliver_order(order.id, expected_version=1),
        lambda: sfa.return_order(order.id, reason="broken", expected_version=1),
        lambda: sfa.approve_payment(order.id, expected_version=1, by="x"),
    ]
    for stale in moves:
        with pytest.raises(ConflictError) as info:
            stale()
        assert (info.value.expected_version, info.value.current_version) == (1, 2)
    assert sfa.get(Order, order.id) == shipped


# -- confirmation numbers ---------------------------------------------------------------


def test_a_taken_confirmation_number_is_drawn_again(
    sfa: Sfa, monkeypatch: pytest.MonkeyPatch
) -> None:
    acme = customer(sfa)
    draws = iter([7, 7, 7, 8])
    monkeypatch.setattr(sfa, "_confirmation_bits", lambda: next(draws))
    first, second = place(sfa, acme), place(sfa, acme)
    assert first.confirmation_number == confirmation_number(7)
    assert second.confirmation_number == confirmation_number(8)


def test_a_broken_random_source_fails_loudly(sfa: Sfa, monkeypatch: pytest.MonkeyPatch) -> None:
    acme = customer(sfa)
    monkeypatch.setattr(sfa, "_confirmation_bits", lambda: 7)
    place(sfa, acme)
    with pytest.raises(DuplicateError) as info:
        place(sfa, acme)
    assert "confirmation_number" in str(info.value)
    assert len(sfa.query(Order).items) == 1


def test_a_number_taken_by_a_concurrent_placing_is_retried(
    sfa: Sfa, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Simulate the race: the check finds the number free, then another writer takes it.
    acme = customer(sfa)
    rival = sfa.place_order(account_id=acme.id, currency="EUR", lines=[BULBS])
    numbers = cycle([5, 6])
    monkeypatch.setattr(sfa, "_confirmation_bits", lambda: next(numbers))
    real = type(sfa)._free_confirmation_number
    calls = {"n": 0}

    def racing(self: Sfa, tx: Any) -> str:
        calls["n"] += 1
        if calls["n"] == 1:
            return rival.confirmation_number or ""
        return real(self, tx)

    monkeypatch.setattr(type(sfa), "_free_confirmation_number", racing)
    order = place(sfa, acme)
    assert order.confirmation_number == confirmation_number(5)
    assert calls["n"] == 2


def test_orders_are_found_by_a_forgivingly_typed_confirmation_number(sfa: Sfa) -> None:
    order = place(sfa, customer(sfa))
    number = order.confirmation_number or ""
    assert sfa.order_by_confirmation(number.lower().replace("-", " ")) == order
    assert sfa.order_by_confirmation(confirmation_number(12345)) in (None, order)
    with pytest.raises(ValidationError):
        sfa.order_by_confirmation(number[:-1] + ("0" if number[-1] != "0" else "1"))


# -- analytics --------------------------------------------------------------------------


def test_order_analytics_is_one_call_and_agrees_with_the_pure_report(
    sfa: Sfa, clock: ManualClock
) -> None:
    north = customer(sfa, name="North", branch="north", billing_region="BY")
    south = customer(sfa, name="South", branch="south", billing_region="BW")
    clock.set(datetime(2026, 6, 1, 9, tzinfo=UTC))
    place(sfa, north)
    place(sfa, south, payment_method=PaymentMethod.CARD)  # held: not booked
    clock.set(datetime(2027, 6, 1, 9, tzinfo=UTC))
    place(sfa, north)
    second = place(sfa, north)
    sfa.cancel_order(second.id, reason="duplicate", expected_version=second.version)
    sfa.create(Order, account_id=south.id, currency="EUR", lines=[BULBS])  # a draft
    query = OrderQuery(group_by=[OrderDimension.BRANCH, OrderDimension.PERIOD])
    report = sfa.order_analytics(query)
    orders = sfa.query(Order, limit=100).items
    accounts = sfa.query(Account, limit=100).items
    assert report == order_report(orders, accounts, query)
    assert [(g.key, g.orders) for g in report.groups] == [
        (("north", "2026-06"), 1),
        (("north", "2027-06"), 1),
    ]
    assert (report.considered, report.excluded_status) == (5, 3)
    assert sfa.order_analytics().total.in_currency("EUR") == Money.of("2400", "EUR")
    yoy_query = YearOverYearQuery(year=2027, through=date(2027, 6, 30))
    yoy = sfa.order_year_over_year(yoy_query)
    assert yoy == year_over_year(orders, accounts, yoy_query)
    row = yoy.row("north")
    assert row is not None
    assert (row.orders_this_year, row.orders_last_year) == (1, 1)


def test_analytics_queries_are_checked(sfa: Sfa) -> None:
    with pytest.raises(ValidationError):
        sfa.order_analytics("branch")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        sfa.order_year_over_year(OrderQuery())  # type: ignore[arg-type]
