"""Typed, time-ordered entity ids.

An id is ``<prefix>_<ulid>``: a short prefix naming the entity kind (``acct``, ``opp``,
``lead`` …) and a 26-character ULID in Crockford base32 (48 bits of Unix milliseconds,
then 80 bits that are random, or the previous id's plus one within the same
millisecond). So ids sort by creation time as plain strings, never collide in practice,
and say what they point at: ``opp_01JD3Q8Z4X7K2M9N6P5R3T1V0W`` is an opportunity.

Ids imported from another system keep their own body (``acct_SF-0012``): any body of 1
to 64 characters from ``[0-9A-Za-z_.-]`` is accepted, but only generated ids are
time-ordered.

Each kind has its own ``NewType`` so that mypy rejects a ``LeadId`` where an
``AccountId`` is expected:

>>> from datetime import datetime, timezone
>>> lead = new_lead_id(datetime(2026, 1, 1, tzinfo=timezone.utc))
>>> lead.startswith("lead_") and len(lead) == 31
True
"""

from __future__ import annotations

import os
import re
import threading
import time
from datetime import datetime
from typing import Final, NewType

from sfakit.errors import ValidationError

__all__ = [
    "ID_PREFIXES",
    "AccountId",
    "EventId",
    "ActivityId",
    "ContactId",
    "InteractionId",
    "LeadId",
    "OpportunityId",
    "OrderId",
    "ProductId",
    "QuotaId",
    "SettingId",
    "SalesRepId",
    "StageChangeId",
    "StandingOrderId",
    "TerritoryId",
    "id_kind",
    "new_account_id",
    "new_activity_id",
    "new_contact_id",
    "new_event_id",
    "new_id",
    "new_interaction_id",
    "new_lead_id",
    "new_opportunity_id",
    "new_order_id",
    "new_product_id",
    "new_quota_id",
    "new_sales_rep_id",
    "new_stage_change_id",
    "new_standing_order_id",
    "new_territory_id",
    "new_setting_id",
]

AccountId = NewType("AccountId", str)
ContactId = NewType("ContactId", str)
LeadId = NewType("LeadId", str)
OpportunityId = NewType("OpportunityId", str)
StageChangeId = NewType("StageChangeId", str)
ActivityId = NewType("ActivityId", str)
InteractionId = NewType("InteractionId", str)
ProductId = NewType("ProductId", str)
OrderId = NewType("OrderId", str)
StandingOrderId = NewType("StandingOrderId", str)
TerritoryId = NewType("TerritoryId", str)
SalesRepId = NewType("SalesRepId", str)
QuotaId = NewType("QuotaId", str)
SettingId = NewType("SettingId", str)
EventId = NewType("EventId", str)

#: Entity kind → id prefix.
ID_PREFIXES: Final[dict[str, str]] = {
    "Account": "acct",
    "Contact": "cont",
    "Lead": "lead",
    "Opportunity": "opp",
    "StageChange": "stgc",
    "Activity": "actv",
    "Interaction": "intr",
    "Product": "prod",
    "Order": "ord",
    "StandingOrder": "stdo",
    "Territory": "terr",
    "SalesRep": "rep",
    "Quota": "quota",
    "Setting": "cfg",
    "Event": "evt",
}
_KIND_BY_PREFIX: Final = {prefix: kind for kind, prefix in ID_PREFIXES.items()}

_CROCKFORD: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_BODY: Final = re.compile(r"[0-9A-Za-z][0-9A-Za-z_.\-]{0,63}")
_ID: Final = re.compile(r"([a-z]+)_([0-9A-Za-z][0-9A-Za-z_.\-]{0,63})")
_RANDOM_BITS: Final = 80
_RANDOM_MAX: Final = (1 << _RANDOM_BITS) - 1


class _UlidSource:
    """Monotonic within a process: two ids in one millisecond still sort in order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = -1
        self._last_random = 0

    def next(self, ms: int) -> str:
        with self._lock:
            if ms == self._last_ms and self._last_random < _RANDOM_MAX:
                self._last_random += 1
            else:
                self._last_ms = ms
                self._last_random = int.from_bytes(os.urandom(10), "big")
            value = (ms << _RANDOM_BITS) | self._last_random
        chars = []
        for _ in range(26):
            chars.append(_CROCKFORD[value & 31])
            value >>= 5
        return "".join(reversed(chars))


_SOURCE: Final = _UlidSource()


def new_id(prefix: str, at: datetime | None = None) -> str:
    """A new id with ``prefix``, ordered by ``at`` (aware) or, without it, by now.

    >>> new_id("opp").startswith("opp_")
    True
    """
    if prefix not in _KIND_BY_PREFIX:
        raise ValidationError("$.prefix", prefix, f"one of {', '.join(sorted(_KIND_BY_PREFIX))}")
    if at is None:
        ms = time.time_ns() // 1_000_000
    else:
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValidationError("$.at", at, "a timezone-aware datetime")
        ms = max(0, int(at.timestamp() * 1000))
    return f"{prefix}_{_SOURCE.next(ms)}"


def id_kind(value: object) -> str | None:
    """The entity kind an id names (``"Opportunity"`` for ``opp_…``), or None if it is no id."""
    if not isinstance(value, str):
        return None
    match = _ID.fullmatch(value)
    if match is None:
        return None
    return _KIND_BY_PREFIX.get(match.group(1))


def is_id_body(value: str) -> bool:
    return _BODY.fullmatch(value) is not None


def new_account_id(at: datetime | None = None) -> AccountId:
    return AccountId(new_id("acct", at))


def new_contact_id(at: datetime | None = None) -> ContactId:
    return ContactId(new_id("cont", at))


def new_lead_id(at: datetime | None = None) -> LeadId:
    return LeadId(new_id("lead", at))


def new_opportunity_id(at: datetime | None = None) -> OpportunityId:
    return OpportunityId(new_id("opp", at))


def new_stage_change_id(at: datetime | None = None) -> StageChangeId:
    return StageChangeId(new_id("stgc", at))


def new_activity_id(at: datetime | None = None) -> ActivityId:
    return ActivityId(new_id("actv", at))


def new_interaction_id(at: datetime | None = None) -> InteractionId:
    return InteractionId(new_id("intr", at))


def new_product_id(at: datetime | None = None) -> ProductId:
    return ProductId(new_id("prod", at))


def new_order_id(at: datetime | None = None) -> OrderId:
    return OrderId(new_id("ord", at))


def new_standing_order_id(at: datetime | None = None) -> StandingOrderId:
    return StandingOrderId(new_id("stdo", at))


def new_territory_id(at: datetime | None = None) -> TerritoryId:
    return TerritoryId(new_id("terr", at))


def new_sales_rep_id(at: datetime | None = None) -> SalesRepId:
    return SalesRepId(new_id("rep", at))


def new_quota_id(at: datetime | None = None) -> QuotaId:
    return QuotaId(new_id("quota", at))


def new_setting_id(at: datetime | None = None) -> SettingId:
    return SettingId(new_id("cfg", at))


def new_event_id(at: datetime | None = None) -> EventId:
    return EventId(new_id("evt", at))
