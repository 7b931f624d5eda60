"""What routing looks at: a :class:`RoutingSubject`, built from a lead or an account.

Territory rules are criteria over this one record type, whatever is being routed, so a
rule such as ``country eq DE`` or ``postal_code startswith 80`` means the same for a
lead and for an account. Build one with :meth:`RoutingSubject.from_lead` or
:meth:`RoutingSubject.from_account`; the routing fields are copied, nothing else.

>>> from datetime import datetime, timezone
>>> from sfakit.model import Lead
>>> lead = Lead(company="Müller & Söhne GmbH", country="DE", postal_code="80331",
...             company_size=120, product_interest=("led-bulbs",), language="de",
...             created_at=datetime(2026, 3, 2, tzinfo=timezone.utc))
>>> subject = RoutingSubject.from_lead(lead)
>>> subject.country, subject.size_band, subject.kind
('DE', <SizeBand.MEDIUM: 'medium'>, <SubjectKind.LEAD: 'lead'>)
"""

from __future__ import annotations

import enum
from typing import Any

import attrs

from sfakit.errors import ValidationError
from sfakit.model.checks import (
    country_code,
    enum_of,
    id_of,
    id_of_any,
    instance_of,
    non_negative_int,
    optional,
    text,
    to_tuple,
    tuple_of,
)
from sfakit.model.ids import SalesRepId
from sfakit.model.leads import Lead
from sfakit.model.parties import Account

__all__ = ["RoutingSubject", "SizeBand", "SubjectKind", "size_band"]


class SubjectKind(enum.StrEnum):
    """What kind of record a :class:`RoutingSubject` stands for.

    >>> SubjectKind("account") is SubjectKind.ACCOUNT
    True
    """

    LEAD = "lead"
    ACCOUNT = "account"
    OPPORTUNITY = "opportunity"


class SizeBand(enum.StrEnum):
    """Company size by head count: micro 0-9, small 10-49, medium 50-249 (the EU SME
    bands), large 250-999, enterprise 1000 and more.

    >>> SizeBand.MEDIUM.value
    'medium'
    """

    MICRO = "micro"
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"
    ENTERPRISE = "enterprise"


_BANDS = (
    (10, SizeBand.MICRO),
    (50, SizeBand.SMALL),
    (250, SizeBand.MEDIUM),
    (1000, SizeBand.LARGE),
)


def size_band(employees: int | None) -> SizeBand | None:
    """The :class:`SizeBand` of a head count (None when the count is unknown).

    >>> [size_band(n) for n in (9, 10, 1000)]
    [<SizeBand.MICRO: 'micro'>, <SizeBand.SMALL: 'small'>, <SizeBand.ENTERPRISE: 'enterprise'>]
    >>> size_band(None) is None
    True
    """
    if employees is None:
        return None
    for limit, band in _BANDS:
        if employees < limit:
            return band
    return SizeBand.ENTERPRISE


def _default_band(subject: Any) -> SizeBand | None:
    size = subject.company_size
    return size_band(size) if isinstance(size, int) and not isinstance(size, bool) else None


def _band_matches_size(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not isinstance(value, SizeBand):
        allowed = ", ".join(b.value for b in SizeBand)
        raise ValidationError("$.size_band", value, f"a SizeBand: one of {allowed}")
    expected = _default_band(instance)
    if expected is not None and value is not expected:
        raise ValidationError(
            "$.size_band",
            value,
            f"{expected.value!r} for company_size {instance.company_size} (or leave it out)",
        )


_opt_text = optional(text(max_length=200))


def _optional_rep_id(value: str | None) -> SalesRepId | None:
    return None if value is None else SalesRepId(value)


@attrs.frozen(kw_only=True)
class RoutingSubject:
    """The fields territory rules and assignment strategies look at.

    ``id`` is the routed record's id; ``owner_id`` its current owner (for sticky
    ownership); ``pinned`` marks a record whose owner routing must never change.
    ``size_band`` is derived from ``company_size`` when that is known; give it alone
    when only the band is known. Collections (``product_interest``, ``tags``) are
    tested with ``contains``.

    >>> s = RoutingSubject(id="lead_1", country="FR", language="fr",
    ...                    product_interest=["fixtures"], pinned=True)
    >>> s.product_interest, s.pinned, s.size_band is None
    (('fixtures',), True, True)
    """

    id: str = attrs.field(validator=id_of_any)
    kind: SubjectKind = attrs.field(default=SubjectKind.LEAD, validator=enum_of(SubjectKind))
    country: str | None = attrs.field(default=None, validator=optional(country_code))
    region: str | None = attrs.field(default=None, validator=_opt_text)
    postal_code: str | None = attrs.field(default=None, validator=optional(text(max_length=20)))
    city: str | None = attrs.field(default=None, validator=_opt_text)
    industry: str | None = attrs.field(default=None, validator=_opt_text)
    company_size: int | None = attrs.field(default=None, validator=optional(non_negative_int))
    size_band: SizeBand | None = attrs.field(
        default=attrs.Factory(_default_band, takes_self=True), validator=_band_matches_size
    )
    product_interest: tuple[str, ...] = attrs.field(
        default=(), converter=to_tuple, validator=tuple_of(text(max_length=100))
    )
    language: str | None = attrs.field(default=None, validator=optional(text(max_length=35)))
    source: str | None = attrs.field(default=None, validator=_opt_text)
    tags: tuple[str, ...] = attrs.field(
        default=(), converter=to_tuple, validator=tuple_of(text(max_length=100))
    )
    owner_id: SalesRepId | None = attrs.field(
        default=None, converter=_optional_rep_id, validator=optional(id_of("SalesRep"))
    )
    pinned: bool = attrs.field(default=False, validator=instance_of(bool, "true or false"))

    @classmethod
    def from_lead(cls, lead: Lead, *, pinned: bool = False) -> RoutingSubject:
        """The routing fields of ``lead``.

        >>> from datetime import datetime, timezone
        >>> lead = Lead(last_name="Dubois", country="FR", postal_code="75001",
        ...             created_at=datetime(2026, 3, 2, tzinfo=timezone.utc))
        >>> RoutingSubject.from_lead(lead).postal_code
        '75001'
        """
        if not isinstance(lead, Lead):
            raise ValidationError("$.lead", lead, "a Lead")
        return cls(
            id=lead.id,
            kind=SubjectKind.LEAD,
            country=lead.country,
            region=lead.region,
            postal_code=lead.postal_code,
            city=lead.city,
            industry=lead.industry,
            company_size=lead.company_size,
            product_interest=lead.product_interest,
            language=lead.language,
            source=lead.source,
            owner_id=lead.owner_id,
            pinned=pinned,
        )

    @classmethod
    def from_account(
        cls,
        account: Account,
        *,
        pinned: bool = False,
        product_interest: tuple[str, ...] = (),
        language: str | None = None,
    ) -> RoutingSubject:
        """The routing fields of ``account`` (its billing address; its tags as ``tags``).

        An account records no product interest or language: pass them when known.

        >>> from datetime import datetime, timezone
        >>> acme = Account(name="Acme", billing_country="AT", employee_count=12,
        ...                created_at=datetime(2026, 1, 5, tzinfo=timezone.utc))
        >>> s = RoutingSubject.from_account(acme, language="de")
        >>> s.kind, s.country, s.size_band, s.language
        (<SubjectKind.ACCOUNT: 'account'>, 'AT', <SizeBand.SMALL: 'small'>, 'de')
        """
        if not isinstance(account, Account):
            raise ValidationError("$.account", account, "an Account")
        return cls(
            id=account.id,
            kind=SubjectKind.ACCOUNT,
            country=account.billing_country,
            region=account.billing_region,
            postal_code=account.billing_postal_code,
            city=account.billing_city,
            industry=account.industry,
            company_size=account.employee_count,
            product_interest=product_interest,
            language=language,
            tags=account.tags,
            owner_id=account.owner_id,
            pinned=pinned,
        )
