"""Recording an interaction inside a caller's transaction: shared by every operation
that logs one (logging a call, completing an activity)."""

from __future__ import annotations

from datetime import datetime

from sfakit.events import InteractionLogged
from sfakit.model import Account, Contact, Interaction
from sfakit.service.outbox import emit
from sfakit.storage.api import Transaction

__all__ = ["record_interaction", "touch_account"]


def touch_account(
    tx: Transaction, account_id: str, field: str, moment: datetime, now: datetime
) -> None:
    """Move the account's ``field`` (``last_interaction_at``, ``last_order_at``) forward
    to ``moment``; never backward."""
    account = tx.get(Account, account_id)
    current: datetime | None = getattr(account, field)
    if current is None or moment > current:
        tx.update(account.evolve(**{field: moment, "updated_at": max(now, account.created_at)}))


def record_interaction(tx: Transaction, interaction: Interaction, now: datetime) -> Interaction:
    """Store ``interaction`` (a contact's counts for the contact's account too), refresh
    the account's ``last_interaction_at`` and emit ``InteractionLogged``."""
    if interaction.account_id is None and interaction.contact_id is not None:
        contact = tx.get(Contact, interaction.contact_id)
        if contact.account_id is not None:
            interaction = interaction.evolve(account_id=contact.account_id)
    stored = tx.insert(interaction)
    if stored.account_id is not None:
        touch_account(tx, stored.account_id, "last_interaction_at", stored.occurred_at, now)
    emit(
        tx,
        [
            InteractionLogged(
                interaction_id=stored.id,
                account_id=stored.account_id,
                contact_id=stored.contact_id,
                channel=stored.channel.value,
                occurred_at=now,
            )
        ],
    )
    return stored
