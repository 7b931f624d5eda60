"""Contacts, interaction history, timelines and dormant accounts through ``sfakit.open``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from sfakit import ConflictError, ManualClock, Sfa, ValidationError
from sfakit.model import (
    Account,
    Channel,
    Contact,
    ContactRole,
    Direction,
    Money,
    Order,
    OrderLine,
)


def test_created_entities_are_stored_with_clock_timestamps(sfa: Sfa, clock: ManualClock) -> None:
    acme = sfa.create(Account, name="Acme Lighting", billing_country="DE")
    assert acme.version == 1
    assert acme.created_at == clock.now() == acme.updated_at
    assert sfa.get(Account, acme.id) == acme


def test_update_applies_changes_only_at_the_expected_version(sfa: Sfa, clock: ManualClock) -> None:
    acme = sfa.create(Account, name="Acme")
    clock.advance(timedelta(hours=1))
    renamed = sfa.update(Account, acme.id, expected_version=1, name="Acme GmbH")
    assert (renamed.name, renamed.version, renamed.updated_at) == ("Acme GmbH", 2, clock.now())
    with pytest.raises(ConflictError) as info:
        sfa.update(Account, acme.id, expected_version=1, name="Stale")
    assert info.value.current_version == 2
    assert sfa.get(Account, acme.id).name == "Acme GmbH"


def test_a_sync_client_saving_an_old_copy_gets_the_server_version(sfa: Sfa) -> None:
    acme = sfa.create(Account, name="Acme")
    sfa.save(acme.evolve(industry="lighting"))
    with pytest.raises(ConflictError) as info:
        sfa.save(acme.evolve(industry="retail"))
    assert (info.value.expected_version, info.value.current_version) == (1, 2)
    assert sfa.get(Account, acme.id).industry == "lighting"


def test_contacts_of_an_account_can_be_filtered_by_role(sfa: Sfa) -> None:
    acme = sfa.create(Account, name="Acme")
    other = sfa.create(Account, name="Other")
    agent = sfa.create(
        Contact,
        last_name="Nakamura",
        account_id=acme.id,
        roles=(ContactRole.PURCHASING_AGENT, ContactRole.BUYER),
    )
    sfa.create(
        Contact, last_name="Adams", account_id=acme.id, roles=(ContactRole.ACCOUNTS_PAYABLE,)
    )
    sfa.create(Contact, last_name="Zed", account_id=other.id, roles=(ContactRole.PURCHASING_AGENT,))
    assert [c.last_name for c in sfa.contacts_of(acme.id)] == ["Adams", "Nakamura"]
    assert sfa.contacts_of(acme.id, role=ContactRole.PURCHASING_AGENT) == [agent]


def test_a_contacts_interaction_counts_for_its_account(sfa: Sfa, clock: ManualClock) -> None:
    acme = sfa.create(Account, name="Acme")
    buyer = sfa.create(Contact, last_name="Okafor", account_id=acme.id)
    logged = sfa.log_interaction(
        channel=Channel.CALL,
        direction=Direction.OUTBOUND,
        contact_id=buyer.id,
        summary="Asked about reorder",
        by="rep_anna",
    )
    assert logged.account_id == acme.id
    assert sfa.get(Account, acme.id).last_interaction_at == clock.now()
    assert sfa.last_interaction(contact_id=buyer.id) == logged
    assert sfa.last_interaction(account_id=acme.id) == logged


def test_the_timeline_is_in_time_order_and_pages(sfa: Sfa, clock: ManualClock) -> None:
    acme = sfa.create(Account, name="Acme")
    berlin = timezone(timedelta(hours=1))
    moments = [datetime(2026, 2, day, 10, tzinfo=berlin) for day in (5, 1, 20, 11, 3, 27, 9)]
    for n, moment in enumerate(moments):
        sfa.log_interaction(
            channel=Channel.EMAIL, account_id=acme.id, summary=f"mail {n}", occurred_at=moment
        )
    newest_first = []
    page = sfa.timeline(account_id=acme.id, limit=3)
    newest_first.extend(page.items)
    while page.next_cursor:
        page = sfa.timeline(account_id=acme.id, limit=3, cursor=page.next_cursor)
        newest_first.extend(page.items)
    assert [i.occurred_at for i in newest_first] == sorted(moments, reverse=True)
    oldest = sfa.timeline(account_id=acme.id, newest_first=False, limit=1).items[0]
    assert oldest.occurred_at == min(moments)
    assert sfa.get(Account, acme.id).last_interaction_at == max(moments)


def test_an_older_interaction_logged_late_does_not_move_last_contact_back(sfa: Sfa) -> None:
    acme = sfa.create(Account, name="Acme")
    recent = datetime(2026, 3, 1, tzinfo=UTC)
    sfa.log_interaction(
        channel=Channel.VISIT, account_id=acme.id, summary="visit", occurred_at=recent
    )
    sfa.log_interaction(
        channel=Channel.CALL,
        account_id=acme.id,
        summary="old call",
        occurred_at=recent - timedelta(days=30),
    )
    assert sfa.get(Account, acme.id).last_interaction_at == recent


def test_last_interaction_of_someone_never_contacted_is_none(sfa: Sfa) -> None:
    quiet = sfa.create(Contact, last_name="Quiet")
    assert sfa.last_interaction(contact_id=quiet.id) is None


def test_timeline_needs_exactly_one_of_contact_or_account(sfa: Sfa) -> None:
    with pytest.raises(ValidationError) as info:
        sfa.timeline()
    assert info.value.path == "$.contact_id"


def test_dormant_accounts_are_those_without_an_order_since_the_date(
    sfa: Sfa, clock: ManualClock
) -> None:
    six_months_ago = clock.now() - timedelta(days=182)
    regular = sfa.create(Account, name="Regular")
    lapsed = sfa.create(Account, name="Lapsed")
    never = sfa.create(Account, name="Never ordered")
    line = OrderLine(product_id="prod_bulb", quantity=1000, unit_price=Money.of("1.20", "EUR"))
    for account, days_ago in ((regular, 10), (lapsed, 400)):
        placed = clock.now() - timedelta(days=days_ago)
        sfa.record_order(
            Order(
                account_id=account.id,
                currency="EUR",
                lines=(line,),
                placed_at=placed,
                created_at=placed,
            )
        )
    dormant = sfa.dormant_accounts(since=six_months_ago, without="order")
    assert {a.id for a in dormant} == {lapsed.id, never.id}


def test_dormant_by_interaction_uses_the_last_interaction(sfa: Sfa, clock: ManualClock) -> None:
    talked = sfa.create(Account, name="Talked")
    silent = sfa.create(Account, name="Silent")
    sfa.log_interaction(channel=Channel.CHAT, account_id=talked.id, summary="chat")
    since = clock.now() - timedelta(days=1)
    assert [a.id for a in sfa.dormant_accounts(since=since, without="interaction")] == [silent.id]
    with pytest.raises(ValidationError):
        sfa.dormant_accounts(since=since, without="visit")
    with pytest.raises(ValidationError):
        sfa.dormant_accounts(since=datetime(2026, 1, 1), without="order")


def test_the_change_feed_lists_every_committed_change_in_order(sfa: Sfa) -> None:
    acme = sfa.create(Account, name="Acme")
    sfa.update(Account, acme.id, expected_version=1, name="Acme AG")
    buyer = sfa.create(Contact, last_name="B", account_id=acme.id)
    feed = sfa.changes()
    assert [(c.kind, c.id, c.version, c.op) for c in feed] == [
        ("Account", acme.id, 1, "insert"),
        ("Account", acme.id, 2, "update"),
        ("Contact", buyer.id, 1, "insert"),
    ]
    assert [c.position for c in sfa.changes(after=feed[0].position)] == [
        c.position for c in feed[1:]
    ]


def test_a_failed_operation_leaves_no_change_behind(sfa: Sfa) -> None:
    before = len(sfa.changes())
    with pytest.raises(ValidationError):
        sfa.log_interaction(channel=Channel.CALL, summary="nobody")  # no contact, no account
    assert len(sfa.changes()) == before
