"""The domain model: frozen attrs entities, Money and typed ids.

Every entity is immutable; change one with :func:`evolve` (or ``entity.evolve(...)``),
which validates the copy the way the constructor does.
"""

from __future__ import annotations

from sfakit.model.activities import Activity, ActivityKind, ActivityStatus, Direction, Interaction
from sfakit.model.base import Entity, evolve
from sfakit.model.ids import (
    AccountId,
    ActivityId,
    ContactId,
    InteractionId,
    LeadId,
    OpportunityId,
    OrderId,
    ProductId,
    QuotaId,
    SalesRepId,
    SettingId,
    StageChangeId,
    StandingOrderId,
    TerritoryId,
    id_kind,
    new_id,
)
from sfakit.model.leads import DataQualityIssue, Lead, LeadStatus
from sfakit.model.money import Money
from sfakit.model.opportunities import ForecastCategory, Opportunity, StageChange
from sfakit.model.orders import (
    CatchUpPolicy,
    LineChange,
    Order,
    OrderLine,
    OrderStatus,
    Pause,
    PaymentMethod,
    PricingPolicy,
    Product,
    RecurrenceSpec,
    StandingOrder,
    StandingOrderStatus,
)
from sfakit.model.parties import Account, Channel, Contact, ContactRole, SalesRep
from sfakit.model.settings import Setting, setting_id
from sfakit.model.territories import Quota, Territory

#: Every stored entity class, by name.
ENTITY_TYPES: dict[str, type[Entity]] = {
    cls.__name__: cls
    for cls in (
        Account,
        Contact,
        Lead,
        Opportunity,
        StageChange,
        Activity,
        Interaction,
        Product,
        Order,
        StandingOrder,
        Territory,
        SalesRep,
        Quota,
        Setting,
    )
}

__all__ = [
    "ENTITY_TYPES",
    "Account",
    "AccountId",
    "Activity",
    "ActivityId",
    "ActivityKind",
    "ActivityStatus",
    "CatchUpPolicy",
    "Channel",
    "Contact",
    "ContactId",
    "ContactRole",
    "DataQualityIssue",
    "Direction",
    "Entity",
    "ForecastCategory",
    "Interaction",
    "InteractionId",
    "Lead",
    "LeadId",
    "LeadStatus",
    "LineChange",
    "Money",
    "Opportunity",
    "OpportunityId",
    "Order",
    "OrderId",
    "OrderLine",
    "OrderStatus",
    "Pause",
    "PaymentMethod",
    "PricingPolicy",
    "Product",
    "ProductId",
    "Quota",
    "QuotaId",
    "Setting",
    "SettingId",
    "RecurrenceSpec",
    "SalesRep",
    "SalesRepId",
    "StageChange",
    "StageChangeId",
    "StandingOrder",
    "StandingOrderId",
    "StandingOrderStatus",
    "Territory",
    "TerritoryId",
    "evolve",
    "id_kind",
    "new_id",
    "setting_id",
]
