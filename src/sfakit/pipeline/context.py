"""What guided selling knows about a deal: the record that stage requirements test.

Stage requirements are criteria (:mod:`sfakit.rules`) compiled against
:class:`DealContext`, so a rule names its field from here: ``opportunity.amount``,
``opportunity.next_step``, ``contact_roles``, ``activity_count``, ``account.industry``.
The application builds a context from what it loaded (the service does this for you);
this package never reads storage.

>>> from datetime import datetime, timezone
>>> from sfakit.model import Contact, ContactRole, Opportunity
>>> t0 = datetime(2026, 3, 2, tzinfo=timezone.utc)
>>> deal = Opportunity(name="Bulbs", account_id="acct_acme", pipeline="standard",
...                    stage="qualify", created_at=t0)
>>> cfo = Contact(last_name="Okafor", roles=[ContactRole.DECISION_MAKER], created_at=t0)
>>> DealContext(opportunity=deal, contacts=(cfo,)).contact_roles
(<ContactRole.DECISION_MAKER: 'decision_maker'>,)
"""

from __future__ import annotations

from datetime import datetime

import attrs

from sfakit.model.checks import (
    aware_datetime,
    enum_of,
    instance_of,
    non_negative_int,
    optional,
    text,
    to_tuple,
    tuple_of,
)
from sfakit.model.opportunities import Opportunity
from sfakit.model.parties import Account, Contact, ContactRole

__all__ = ["DealContext"]


def _roles_of(context: DealContext) -> tuple[ContactRole, ...]:
    roles: dict[ContactRole, None] = {}
    for contact in context.contacts:
        roles.update(dict.fromkeys(contact.roles))
    return tuple(roles)


@attrs.frozen(kw_only=True)
class DealContext:
    """Everything a stage requirement may test about one deal.

    * ``opportunity`` — the deal itself (``opportunity.amount is_set``,
      ``opportunity.next_step is_empty`` …).
    * ``account`` — the customer, when loaded (``account.industry eq "retail"``).
    * ``contacts`` — the people involved in this deal.
    * ``contact_roles`` — the roles they play in it (Salesforce's *opportunity contact
      roles*); by default every role of ``contacts``, each once, so that
      ``contact_roles contains decision_maker`` asks "do we know the decision maker?".
    * ``activity_count`` and ``last_activity_at`` — calls, meetings, visits logged.
    * ``stage_entered_at`` — when the deal entered its current stage (for
      ``stage_entered_at within_last P30D``).
    * ``documents`` — kinds of documents attached (``"quote"``, ``"contract"`` …).

    >>> from datetime import datetime, timezone
    >>> from sfakit.model import Opportunity
    >>> deal = Opportunity(name="Bulbs", account_id="acct_acme", pipeline="standard",
    ...                    stage="qualify", created_at=datetime(2026, 3, 2, tzinfo=timezone.utc))
    >>> DealContext(opportunity=deal, activity_count=3, documents=["quote"]).documents
    ('quote',)
    """

    opportunity: Opportunity = attrs.field(validator=instance_of(Opportunity, "an Opportunity"))
    account: Account | None = attrs.field(
        default=None, validator=optional(instance_of(Account, "an Account"))
    )
    contacts: tuple[Contact, ...] = attrs.field(
        default=(), converter=to_tuple, validator=tuple_of(instance_of(Contact, "a Contact"))
    )
    contact_roles: tuple[ContactRole, ...] = attrs.field(
        default=attrs.Factory(_roles_of, takes_self=True),
        converter=to_tuple,
        validator=tuple_of(enum_of(ContactRole)),
    )
    activity_count: int = attrs.field(default=0, validator=non_negative_int)
    last_activity_at: datetime | None = attrs.field(
        default=None, validator=optional(aware_datetime)
    )
    stage_entered_at: datetime | None = attrs.field(
        default=None, validator=optional(aware_datetime)
    )
    documents: tuple[str, ...] = attrs.field(
        default=(), converter=to_tuple, validator=tuple_of(text(max_length=100))
    )
