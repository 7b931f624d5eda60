"""Lead conversion planning: a lead becomes an account and a contact (and perhaps an
opportunity), reusing the ones that exist instead of entering the customer twice.

:func:`plan_conversion` looks the lead up in a :class:`MatchIndex` of the existing
accounts and contacts (built with :data:`CONVERSION_RULES`): a matching contact is
reused (and its account with it), else a matching account; only what matches nothing is
created. Reused records only get their **empty** fields filled from the lead — a value
someone entered is never overwritten — and each change is listed. The plan changes
nothing; the service applies it. Planning again once the plan is applied creates
nothing new (the created records now match the lead), and a lead that is already
converted is refused with :class:`AlreadyConvertedError`, which names the first
conversion. Salesforce's lead conversion works the same way (choose an existing account
and contact or create them; the lead keeps ``ConvertedAccountId`` and friends).

>>> from datetime import datetime, timezone
>>> from sfakit.model import Account, Lead
>>> from sfakit.qualification.dedupe import CONVERSION_RULES, build_index
>>> t0 = datetime(2026, 3, 2, tzinfo=timezone.utc)
>>> acme = Account(id="acct_acme", name="ACME Lighting GmbH", billing_country="DE",
...                created_at=t0)
>>> index = build_index([acme], CONVERSION_RULES)
>>> lead = Lead(id="lead_1", first_name="Anna", last_name="Schmidt", company="Acme Lighting",
...             country="DE", city="München", email="anna@acme.de", created_at=t0)
>>> plan = plan_conversion(lead, index, at=datetime(2026, 3, 9, tzinfo=timezone.utc),
...                        new_ids=NewIds(contact="cont_anna"))
>>> plan.account_id, plan.contact_id, [r.rule for r in plan.reused]
('acct_acme', 'cont_anna', ['lead_company_is_account'])
>>> plan.updates[0].changes[0]
FieldChange(field='billing_city', old=None, new='München')
>>> plan.converted_lead.status.value
'converted'
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final, TypeVar

import attrs

from sfakit.errors import TransitionError, ValidationError
from sfakit.model.checks import (
    id_of,
    instance_of,
    optional,
    plain_date,
    text,
)
from sfakit.model.ids import (
    AccountId,
    ContactId,
    LeadId,
    OpportunityId,
    new_account_id,
    new_contact_id,
    new_opportunity_id,
)
from sfakit.model.leads import Lead, LeadStatus
from sfakit.model.money import Money
from sfakit.model.opportunities import Opportunity
from sfakit.model.parties import Account, Contact
from sfakit.qualification.dedupe.index import MatchIndex, find_matches
from sfakit.qualification.dedupe.merge import check_at
from sfakit.qualification.dedupe.records import RecordKind, listed
from sfakit.qualification.dedupe.results import DuplicatePair

__all__ = [
    "AlreadyConvertedError",
    "ConversionPlan",
    "FieldChange",
    "NewIds",
    "OpportunityDraft",
    "RecordUpdate",
    "Reuse",
    "plan_conversion",
]

R = TypeVar("R", Account, Contact)

#: Lead field → account field, filled when the account's is empty.
ACCOUNT_FROM_LEAD: Final = (
    ("industry", "industry"),
    ("country", "billing_country"),
    ("region", "billing_region"),
    ("postal_code", "billing_postal_code"),
    ("city", "billing_city"),
    ("company_size", "employee_count"),
    ("owner_id", "owner_id"),
    ("territory_id", "territory_id"),
)
#: Lead field → contact field, filled when the contact's is empty.
CONTACT_FROM_LEAD: Final = (
    ("first_name", "first_name"),
    ("title", "title"),
    ("email", "emails"),
    ("phone", "phones"),
    ("language", "language"),
    ("owner_id", "owner_id"),
)


class AlreadyConvertedError(TransitionError):
    """The lead was converted before; the message names that conversion."""

    def __init__(self, lead_id: str, account_id: str | None, converted_at: datetime | None) -> None:
        self.lead_id = lead_id
        self.account_id = account_id
        self.converted_at = converted_at
        when = converted_at.isoformat() if converted_at else "an unknown time"
        super().__init__(
            f"lead {lead_id!r} is already converted: into account {account_id!r} at {when}; "
            "a lead is converted once (work on that account instead)"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (AlreadyConvertedError, (self.lead_id, self.account_id, self.converted_at))


@attrs.frozen(kw_only=True)
class OpportunityDraft:
    """The opportunity to open with the conversion (Salesforce's "create opportunity").

    >>> OpportunityDraft(name="LED retrofit", pipeline="standard", stage="qualify").amount is None
    True
    """

    name: str = attrs.field(validator=text(max_length=200))
    pipeline: str = attrs.field(validator=text(max_length=100))
    stage: str = attrs.field(validator=text(max_length=100))
    amount: Money | None = attrs.field(
        default=None, validator=optional(instance_of(Money, "Money"))
    )
    close_date: date | None = attrs.field(default=None, validator=optional(plain_date))


@attrs.frozen(kw_only=True)
class NewIds:
    """Ids for the records a conversion creates (None: generated from ``at``).

    >>> NewIds(account="acct_new").account
    'acct_new'
    """

    account: AccountId | None = attrs.field(default=None, validator=optional(id_of("Account")))
    contact: ContactId | None = attrs.field(default=None, validator=optional(id_of("Contact")))
    opportunity: OpportunityId | None = attrs.field(
        default=None, validator=optional(id_of("Opportunity"))
    )


@attrs.frozen
class FieldChange:
    """One field filled: it was empty (``old``), it gets the lead's value (``new``)."""

    field: str
    old: Any
    new: Any


@attrs.frozen(kw_only=True)
class RecordUpdate:
    """The changes to one existing record, and the record after them."""

    entity: str
    id: str
    changes: tuple[FieldChange, ...]
    record: Account | Contact


@attrs.frozen(kw_only=True)
class Reuse:
    """An existing record the conversion uses instead of creating one, and why.

    ``rule`` is the match rule that found it (``via_contact`` for the account of a
    reused contact, ``chosen`` for one the caller named); ``score`` that rule's score.
    """

    kind: RecordKind
    id: str
    rule: str
    score: Decimal | None
    reason: str


@attrs.frozen(kw_only=True)
class ConversionPlan:
    """What converting a lead does: records to create, fields to fill on records to
    reuse (and which rule found them), and the converted lead.
    """

    lead_id: LeadId
    account_id: AccountId
    contact_id: ContactId | None
    opportunity_id: OpportunityId | None
    converted_lead: Lead
    created: tuple[Account | Contact | Opportunity, ...]
    updates: tuple[RecordUpdate, ...]
    reused: tuple[Reuse, ...]
    matches: tuple[DuplicatePair, ...]
    notes: tuple[str, ...]


def _empty(value: object) -> bool:
    return value is None or value in ("", ())


def _lead_value(lead: Lead, name: str) -> object:
    value = getattr(lead, name)
    if name in ("email", "phone"):
        return (value,) if value else ()
    return value


def _fill(
    record: R, lead: Lead, mapping: Iterable[tuple[str, str]], at: datetime
) -> tuple[R, tuple[FieldChange, ...]]:
    changes = []
    for lead_field, field in mapping:
        old, new = getattr(record, field), _lead_value(lead, lead_field)
        if _empty(old) and not _empty(new):
            changes.append(FieldChange(field, old, new))
    if not changes:
        return record, ()
    updated = record.evolve(
        **{c.field: c.new for c in changes}, updated_at=max(at, record.updated_at)
    )
    return updated, tuple(changes)


def _account_name(lead: Lead) -> str:
    if lead.company:
        return lead.company
    return " ".join(p for p in (lead.first_name, lead.last_name) if p)


def _best(
    matches: tuple[DuplicatePair, ...], lead_id: str, kind: RecordKind, index: MatchIndex
) -> tuple[DuplicatePair, Any] | None:
    for pair in matches:  # best first
        other = pair.other(lead_id)
        entity = index.entities.get(other.id)
        if other.kind is kind and entity is not None:
            return pair, entity
    return None


class _Builder:
    """The plan as it is put together, one decision at a time."""

    def __init__(self, lead: Lead, index: MatchIndex, at: datetime, ids: NewIds) -> None:
        self.lead = lead
        self.index = index
        self.at = at
        self.ids = ids
        self.matches = find_matches(lead, index)
        self.notes: list[str] = []
        self.reused: list[Reuse] = []
        self.created: list[Account | Contact | Opportunity] = []
        self.updates: list[RecordUpdate] = []

    def reuse(
        self, kind: RecordKind, record_id: str, rule: str, pair: DuplicatePair | None, reason: str
    ) -> None:
        score = pair.score if pair is not None else None
        self.reused.append(Reuse(kind=kind, id=record_id, rule=rule, score=score, reason=reason))

    def find_contact(self, contact_id: str | None) -> Contact | None:
        contact: Contact | None = _chosen(self.index, contact_id, Contact, "$.contact_id")
        if contact is not None:
            self.reuse(RecordKind.CONTACT, contact.id, "chosen", None, "named by the caller")
            return contact
        found = _best(self.matches, self.lead.id, RecordKind.CONTACT, self.index)
        if found is None:
            return None
        pair, contact = found
        assert contact is not None
        self.reuse(RecordKind.CONTACT, contact.id, pair.rule, pair, pair.explain())
        return contact

    def settle_account(self, account_id: str | None, contact: Contact | None) -> AccountId:
        account: Account | None = _chosen(self.index, account_id, Account, "$.account_id")
        if account is not None:
            self.reuse(RecordKind.ACCOUNT, account.id, "chosen", None, "named by the caller")
        elif contact is not None and contact.account_id is not None:
            why = f"the account of reused contact {contact.id}"
            self.reuse(RecordKind.ACCOUNT, contact.account_id, "via_contact", None, why)
            found = self.index.entities.get(contact.account_id)
            if not isinstance(found, Account):
                self.notes.append(
                    f"account {contact.account_id} of contact {contact.id} is not in the "
                    "index: it is used as it is, without filling its fields"
                )
                return contact.account_id
            account = found
        else:
            match = _best(self.matches, self.lead.id, RecordKind.ACCOUNT, self.index)
            if match is not None:
                pair, account = match
                assert account is not None
                self.reuse(RecordKind.ACCOUNT, account.id, pair.rule, pair, pair.explain())
        if account is not None:
            filled, changes = _fill(account, self.lead, ACCOUNT_FROM_LEAD, self.at)
            if changes:
                self.updates.append(
                    RecordUpdate(entity="Account", id=account.id, changes=changes, record=filled)
                )
            return account.id
        lead = self.lead
        created = Account(
            id=self.ids.account or new_account_id(self.at),
            name=_account_name(lead),
            industry=lead.industry,
            billing_country=lead.country,
            billing_region=lead.region,
            billing_postal_code=lead.postal_code,
            billing_city=lead.city,
            employee_count=lead.company_size,
            owner_id=lead.owner_id,
            territory_id=lead.territory_id,
            created_at=self.at,
        )
        self.created.append(created)
        return created.id

    def settle_contact(self, contact: Contact | None, account_id: AccountId) -> ContactId | None:
        lead, at = self.lead, self.at
        if contact is None:
            if not lead.last_name:
                self.notes.append("the lead has no last name: no contact is created")
                return None
            created = Contact(
                id=self.ids.contact or new_contact_id(at),
                account_id=account_id,
                first_name=lead.first_name,
                last_name=lead.last_name,
                title=lead.title,
                emails=(lead.email,) if lead.email else (),
                phones=(lead.phone,) if lead.phone else (),
                language=lead.language,
                owner_id=lead.owner_id,
                created_at=at,
            )
            self.created.append(created)
            return created.id
        filled, changes = _fill(contact, lead, CONTACT_FROM_LEAD, at)
        if filled.account_id is None:
            filled = filled.evolve(account_id=account_id, updated_at=max(at, filled.updated_at))
            changes = (*changes, FieldChange("account_id", None, account_id))
        elif filled.account_id != account_id:
            self.notes.append(
                f"contact {contact.id} belongs to account {contact.account_id}, not to "
                f"{account_id}: its account is left as it is"
            )
        if changes:
            self.updates.append(
                RecordUpdate(entity="Contact", id=contact.id, changes=changes, record=filled)
            )
        return contact.id

    def settle_opportunity(
        self,
        draft: OpportunityDraft | None,
        existing: Iterable[Opportunity],
        account_id: AccountId,
        contact_id: ContactId | None,
    ) -> OpportunityId | None:
        if draft is None:
            return None
        wanted = draft.name.strip().casefold()
        for i, opportunity in enumerate(
            listed(existing, "$.opportunities", "a list of Opportunities")
        ):
            if not isinstance(opportunity, Opportunity):
                raise ValidationError(f"$.opportunities[{i}]", opportunity, "an Opportunity")
            if (
                opportunity.account_id == account_id
                and opportunity.name.strip().casefold() == wanted
            ):
                self.notes.append(
                    f"opportunity {opportunity.id} of the account has that name: reused"
                )
                return opportunity.id
        lead = self.lead
        created = Opportunity(
            id=self.ids.opportunity or new_opportunity_id(self.at),
            name=draft.name,
            account_id=account_id,
            pipeline=draft.pipeline,
            stage=draft.stage,
            amount=draft.amount,
            close_date=draft.close_date,
            owner_id=lead.owner_id,
            territory_id=lead.territory_id,
            primary_contact_id=contact_id,
            source=lead.source,
            created_at=self.at,
        )
        self.created.append(created)
        return created.id


def _check_lead(lead: Lead, at: datetime) -> None:
    if not isinstance(lead, Lead):
        raise ValidationError("$.lead", lead, "a Lead")
    check_at(at)
    if lead.status is LeadStatus.CONVERTED or lead.converted_account_id is not None:
        raise AlreadyConvertedError(lead.id, lead.converted_account_id, lead.converted_at)
    if not (lead.company or lead.last_name):
        raise ValidationError(
            "$.lead.company", None, "a company or a last name to name the account after"
        )
    if lead.updated_at > at:
        raise ValidationError(
            "$.at", at, f"a moment at or after the lead's last change ({lead.updated_at})"
        )


def plan_conversion(
    lead: Lead,
    index: MatchIndex,
    *,
    at: datetime,
    opportunity: OpportunityDraft | None = None,
    opportunities: Iterable[Opportunity] = (),
    account_id: str | None = None,
    contact_id: str | None = None,
    new_ids: NewIds | None = None,
) -> ConversionPlan:
    """Plan converting ``lead`` into an account, a contact and optionally an opportunity.

    ``index`` holds the existing accounts and contacts (as entities: build it from
    ``Account`` and ``Contact`` records with :data:`CONVERSION_RULES`). ``account_id``
    and ``contact_id`` name existing records to use instead of the matches.
    ``opportunities`` are the existing ones: one of the account with the draft's name is
    reused rather than opened twice. The lead needs a company or a last name (the
    account is named after it); without a last name no contact is made. New records get
    the ids in ``new_ids``, or ids generated from ``at``.

    A matching contact is preferred to a matching account: the contact's own account is
    reused with it (the person already works there).
    """
    _check_lead(lead, at)
    if not isinstance(index, MatchIndex):
        raise ValidationError("$.index", index, "a MatchIndex (see build_index)")
    if opportunity is not None and not isinstance(opportunity, OpportunityDraft):
        raise ValidationError("$.opportunity", opportunity, "an OpportunityDraft or None")
    if new_ids is not None and not isinstance(new_ids, NewIds):
        raise ValidationError("$.new_ids", new_ids, "a NewIds or None")
    plan = _Builder(lead, index, at, new_ids or NewIds())
    contact = plan.find_contact(contact_id)
    final_account = plan.settle_account(account_id, contact)
    final_contact = plan.settle_contact(contact, final_account)
    final_opportunity = plan.settle_opportunity(
        opportunity, opportunities, final_account, final_contact
    )
    converted = lead.evolve(
        status=LeadStatus.CONVERTED,
        converted_at=at,
        converted_account_id=final_account,
        converted_contact_id=final_contact,
        converted_opportunity_id=final_opportunity,
        updated_at=at,
    )
    return ConversionPlan(
        lead_id=lead.id,
        account_id=final_account,
        contact_id=final_contact,
        opportunity_id=final_opportunity,
        converted_lead=converted,
        created=tuple(plan.created),
        updates=tuple(plan.updates),
        reused=tuple(plan.reused),
        matches=plan.matches,
        notes=tuple(plan.notes),
    )


def _chosen(index: MatchIndex, record_id: str | None, cls: type[Any], path: str) -> Any:
    if record_id is None:
        return None
    entity = index.entities.get(record_id)
    if not isinstance(entity, cls):
        raise ValidationError(path, record_id, f"the id of a {cls.__name__} in the index")
    return entity
