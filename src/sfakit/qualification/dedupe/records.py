"""What matching looks at: a :class:`MatchRecord`, one shape for leads, contacts and accounts.

Marketing captures a lead, sales types the same person in as a contact: to see that they
are one customer, both must be compared field by field in the same terms. A
:class:`MatchRecord` carries the comparable fields of any of the three kinds — names,
company, emails, phones, website, address, the account a contact belongs to — so one
set of rules finds duplicates within a kind and across kinds.

>>> from datetime import datetime, timezone
>>> from sfakit.model import Account, Contact, Lead
>>> t0 = datetime(2026, 3, 2, tzinfo=timezone.utc)
>>> acme = Account(id="acct_acme", name="Acme GmbH", billing_country="DE", created_at=t0)
>>> anna = Contact(id="cont_anna", account_id="acct_acme", first_name="Anna",
...                last_name="Schmidt", emails=("anna@acme.de",), created_at=t0)
>>> MatchRecord.from_contact(anna, account=acme).company
'Acme GmbH'
>>> MatchRecord.from_lead(Lead(id="lead_1", last_name="Schmidt", email="anna@acme.de",
...                            created_at=t0)).emails
('anna@acme.de',)
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import attrs

from sfakit.errors import ValidationError
from sfakit.model.checks import (
    enum_of,
    id_of_any,
    optional,
    text,
    to_tuple,
    tuple_of,
)
from sfakit.model.ids import id_kind
from sfakit.model.leads import Lead
from sfakit.model.parties import Account, Contact

__all__ = ["MatchRecord", "RecordKind", "match_record"]


class RecordKind(enum.StrEnum):
    """The kind of record a :class:`MatchRecord` stands for.

    >>> RecordKind("contact").entity
    'Contact'
    """

    LEAD = "lead"
    CONTACT = "contact"
    ACCOUNT = "account"

    @property
    def entity(self) -> str:
        """The sfakit entity name (``Lead``, ``Contact``, ``Account``)."""
        return self.value.capitalize()


_opt_text = optional(text(max_length=200))


def _id_matches_kind(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    id_of_any(instance, attribute, value)
    kind = instance.kind
    if isinstance(kind, RecordKind) and id_kind(value) != kind.entity:
        raise ValidationError("$.id", value, f"a {kind.entity} id, as kind is {kind.value!r}")


@attrs.frozen(kw_only=True)
class MatchRecord:
    """The comparable fields of a lead, a contact or an account.

    Values are as stored; rules compare their match keys (see
    :mod:`sfakit.qualification.dedupe.keys`). A contact has the company and address of
    its account when that is given to :meth:`from_contact`; ``account_id`` is the
    account a contact belongs to.

    >>> r = MatchRecord(kind=RecordKind.LEAD, id="lead_7", last_name="Okafor",
    ...                 emails=["ada@brightside.ng"])
    >>> r.emails, r.full_name
    (('ada@brightside.ng',), 'Okafor')
    """

    kind: RecordKind = attrs.field(validator=enum_of(RecordKind))
    id: str = attrs.field(validator=_id_matches_kind)
    first_name: str | None = attrs.field(default=None, validator=_opt_text)
    last_name: str | None = attrs.field(default=None, validator=_opt_text)
    company: str | None = attrs.field(default=None, validator=_opt_text)
    emails: tuple[str, ...] = attrs.field(
        default=(), converter=to_tuple, validator=tuple_of(text(max_length=254))
    )
    phones: tuple[str, ...] = attrs.field(
        default=(), converter=to_tuple, validator=tuple_of(text(max_length=40))
    )
    website: str | None = attrs.field(default=None, validator=optional(text(max_length=500)))
    country: str | None = attrs.field(default=None, validator=_opt_text)
    city: str | None = attrs.field(default=None, validator=_opt_text)
    postal_code: str | None = attrs.field(default=None, validator=_opt_text)
    account_id: str | None = attrs.field(default=None, validator=optional(id_of_any))

    @property
    def full_name(self) -> str | None:
        """First and last name, as one string (None when both are missing)."""
        parts = [p for p in (self.first_name, self.last_name) if p]
        return " ".join(parts) or None

    @classmethod
    def from_lead(cls, lead: Lead) -> MatchRecord:
        """The comparable fields of ``lead`` (its email and phone, company and address)."""
        if not isinstance(lead, Lead):
            raise ValidationError("$.lead", lead, "a Lead")
        return cls(
            kind=RecordKind.LEAD,
            id=lead.id,
            first_name=lead.first_name,
            last_name=lead.last_name,
            company=lead.company,
            emails=(lead.email,) if lead.email else (),
            phones=(lead.phone,) if lead.phone else (),
            country=lead.country,
            city=lead.city,
            postal_code=lead.postal_code,
        )

    @classmethod
    def from_contact(cls, contact: Contact, *, account: Account | None = None) -> MatchRecord:
        """The comparable fields of ``contact``, with company and address from ``account``.

        ``account`` must be the contact's own account (``contact.account_id``).
        """
        if not isinstance(contact, Contact):
            raise ValidationError("$.contact", contact, "a Contact")
        if account is not None:
            if not isinstance(account, Account):
                raise ValidationError("$.account", account, "an Account or None")
            if account.id != contact.account_id:
                raise ValidationError(
                    "$.account.id",
                    account.id,
                    f"the contact's own account ({contact.account_id!r})",
                )
        return cls(
            kind=RecordKind.CONTACT,
            id=contact.id,
            first_name=contact.first_name,
            last_name=contact.last_name,
            company=account.name if account else None,
            emails=contact.emails,
            phones=contact.phones,
            website=account.website if account else None,
            country=account.billing_country if account else None,
            city=account.billing_city if account else None,
            postal_code=account.billing_postal_code if account else None,
            account_id=contact.account_id,
        )

    @classmethod
    def from_account(cls, account: Account) -> MatchRecord:
        """The comparable fields of ``account``: its name as ``company``, billing address."""
        if not isinstance(account, Account):
            raise ValidationError("$.account", account, "an Account")
        return cls(
            kind=RecordKind.ACCOUNT,
            id=account.id,
            company=account.name,
            website=account.website,
            country=account.billing_country,
            city=account.billing_city,
            postal_code=account.billing_postal_code,
        )


Matchable = MatchRecord | Lead | Contact | Account


def listed(items: object, path: str, expected: str) -> list[Any]:
    """``items`` as a list, or a ValidationError when it is not a collection of records."""
    if isinstance(items, (str, bytes, Mapping)) or not hasattr(items, "__iter__"):
        raise ValidationError(path, items, expected)
    return list(items)


def match_record(
    item: Matchable, *, accounts: Mapping[str, Account] | None = None, path: str = "$"
) -> MatchRecord:
    """``item`` as a :class:`MatchRecord`; a contact takes its account from ``accounts``.

    >>> from datetime import datetime, timezone
    >>> acme = Account(id="acct_acme", name="Acme", created_at=datetime(2026, 1, 1,
    ...                tzinfo=timezone.utc))
    >>> match_record(acme).kind
    <RecordKind.ACCOUNT: 'account'>
    """
    if isinstance(item, MatchRecord):
        return item
    if isinstance(item, Lead):
        return MatchRecord.from_lead(item)
    if isinstance(item, Contact):
        account = (accounts or {}).get(item.account_id) if item.account_id else None
        return MatchRecord.from_contact(item, account=account)
    if isinstance(item, Account):
        return MatchRecord.from_account(item)
    raise ValidationError(path, item, "a MatchRecord, Lead, Contact or Account")
