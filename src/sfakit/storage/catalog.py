"""Which fields of each entity kind are indexed, and how their values are stored.

Only indexed fields can be filtered, ordered or grouped on; every name a query uses is
checked against this catalog before any SQL is written, so no filter can inject SQL.
``id``, ``created_at`` and ``updated_at`` are indexed for every kind.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from operator import attrgetter
from typing import Any, Final

import attrs

from sfakit.errors import ValidationError
from sfakit.model import (
    ENTITY_TYPES,
    Entity,
    Money,
)

__all__ = ["CATALOG", "IndexKind", "IndexSpec", "KindSpec", "index_value", "kind_spec"]


class IndexKind(enum.StrEnum):
    """How an indexed value is stored and compared."""

    TEXT = "text"  # str, ids, enum values
    INT = "int"
    BOOL = "bool"
    DATE = "date"
    DATETIME = "datetime"  # compared as instants (UTC)
    MONEY = "money"  # minor units (int) + currency; summable exactly


@attrs.frozen
class IndexSpec:
    """One indexed field: its attribute name, how it is stored, and whether it is unique."""

    field: str
    kind: IndexKind
    unique: bool = False


@attrs.frozen
class KindSpec:
    """An entity kind as storage sees it: its class, table name and indexed fields."""

    name: str
    cls: type[Entity]
    table: str
    indexes: tuple[IndexSpec, ...]

    def index(self, field: str, *, path: str = "$.where") -> IndexSpec:
        for spec in self.indexes:
            if spec.field == field:
                return spec
        allowed = ", ".join(s.field for s in self.indexes)
        raise ValidationError(
            f"{path}.{field}" if path else field,
            field,
            f"an indexed field of {self.name}: one of {allowed}",
        )


_COMMON: Final = (
    IndexSpec("id", IndexKind.TEXT, unique=True),
    IndexSpec("created_at", IndexKind.DATETIME),
    IndexSpec("updated_at", IndexKind.DATETIME),
)

_T, _D, _DT, _I, _M, _B = (
    IndexKind.TEXT,
    IndexKind.DATE,
    IndexKind.DATETIME,
    IndexKind.INT,
    IndexKind.MONEY,
    IndexKind.BOOL,
)

_INDEXES: Final[dict[str, tuple[IndexSpec, ...]]] = {
    "Account": (
        IndexSpec("name", _T),
        IndexSpec("owner_id", _T),
        IndexSpec("territory_id", _T),
        IndexSpec("parent_id", _T),
        IndexSpec("industry", _T),
        IndexSpec("branch", _T),
        IndexSpec("billing_country", _T),
        IndexSpec("billing_region", _T),
        IndexSpec("last_interaction_at", _DT),
        IndexSpec("last_order_at", _DT),
        IndexSpec("territory_key", _T),
        IndexSpec("merged_into_id", _T),
    ),
    "Contact": (
        IndexSpec("account_id", _T),
        IndexSpec("last_name", _T),
        IndexSpec("owner_id", _T),
        IndexSpec("primary_email", _T),
        IndexSpec("merged_into_id", _T),
    ),
    "Lead": (
        IndexSpec("status", _T),
        IndexSpec("owner_id", _T),
        IndexSpec("territory_id", _T),
        IndexSpec("email", _T),
        IndexSpec("source", _T),
        IndexSpec("campaign", _T),
        IndexSpec("country", _T),
        IndexSpec("region", _T),
        IndexSpec("company", _T),
        IndexSpec("queue", _T),
        IndexSpec("territory_key", _T),
        IndexSpec("merged_into_id", _T),
        IndexSpec("converted_account_id", _T),
        IndexSpec("converted_contact_id", _T),
    ),
    "Opportunity": (
        IndexSpec("account_id", _T),
        IndexSpec("owner_id", _T),
        IndexSpec("territory_id", _T),
        IndexSpec("pipeline", _T),
        IndexSpec("stage", _T),
        IndexSpec("close_date", _D),
        IndexSpec("closed_at", _DT),
        IndexSpec("amount", _M),
        IndexSpec("product_line", _T),
        IndexSpec("source", _T),
        IndexSpec("forecast_category_override", _T),
        IndexSpec("primary_contact_id", _T),
        IndexSpec("lost_reason", _T),
        IndexSpec("last_open_stage", _T),
        IndexSpec("cycle_microseconds", _I),
        IndexSpec("probability_basis_points", _I),
    ),
    "StageChange": (
        IndexSpec("opportunity_id", _T),
        IndexSpec("pipeline", _T),
        IndexSpec("from_stage", _T),
        IndexSpec("to_stage", _T),
        IndexSpec("at", _DT),
    ),
    "Activity": (
        IndexSpec("owner_id", _T),
        IndexSpec("status", _T),
        IndexSpec("kind", _T),
        IndexSpec("due_at", _DT),
        IndexSpec("reminder_at", _DT),
        IndexSpec("account_id", _T),
        IndexSpec("contact_id", _T),
        IndexSpec("related_to", _T),
    ),
    "Interaction": (
        IndexSpec("contact_id", _T),
        IndexSpec("account_id", _T),
        IndexSpec("by", _T),
        IndexSpec("channel", _T),
        IndexSpec("occurred_at", _DT),
        IndexSpec("related_to", _T),
    ),
    "Product": (
        IndexSpec("sku", _T, unique=True),
        IndexSpec("product_line", _T),
        IndexSpec("active", _B),
    ),
    "Order": (
        IndexSpec("account_id", _T),
        IndexSpec("status", _T),
        IndexSpec("owner_id", _T),
        IndexSpec("placed_at", _DT),
        IndexSpec("delivered_at", _DT),
        IndexSpec("standing_order_id", _T),
        IndexSpec("confirmation_number", _T, unique=True),
        IndexSpec("occurrence_key", _T, unique=True),
        IndexSpec("contact_id", _T),
    ),
    "StandingOrder": (
        IndexSpec("account_id", _T),
        IndexSpec("status", _T),
        IndexSpec("owner_id", _T),
        IndexSpec("next_due_at", _DT),
        IndexSpec("contact_id", _T),
    ),
    "Territory": (
        IndexSpec("key", _T, unique=True),
        IndexSpec("parent_id", _T),
    ),
    "SalesRep": (
        IndexSpec("manager_id", _T),
        IndexSpec("active", _B),
        IndexSpec("email", _T),
    ),
    "Setting": (
        IndexSpec("name", _T, unique=True),
        IndexSpec("kind", _T),
    ),
    "Quota": (
        IndexSpec("period", _T),
        IndexSpec("sales_rep_id", _T),
        IndexSpec("territory_id", _T),
    ),
}

_TABLES: Final = {
    "Account": "accounts",
    "Contact": "contacts",
    "Lead": "leads",
    "Opportunity": "opportunities",
    "StageChange": "stage_changes",
    "Activity": "activities",
    "Interaction": "interactions",
    "Product": "products",
    "Order": "orders",
    "StandingOrder": "standing_orders",
    "Territory": "territories",
    "SalesRep": "sales_reps",
    "Quota": "quotas",
    "Setting": "settings",
}

#: Entity kind name → its storage description.
CATALOG: Final[Mapping[str, KindSpec]] = {
    name: KindSpec(name, cls, _TABLES[name], _COMMON + _INDEXES[name])
    for name, cls in ENTITY_TYPES.items()
}


def kind_spec(kind: type[Entity] | str) -> KindSpec:
    """The :class:`KindSpec` of an entity class or kind name."""
    name = kind if isinstance(kind, str) else getattr(kind, "__name__", repr(kind))
    try:
        return CATALOG[name]
    except KeyError:
        raise ValidationError(
            "$.kind", name, f"a stored entity kind: one of {', '.join(CATALOG)}"
        ) from None


def _primary_email(entity: Any) -> str | None:
    # Contacts are found by their first address.
    emails: tuple[str, ...] = entity.emails
    return emails[0].lower() if emails else None


def _cycle_microseconds(entity: Any) -> int | None:
    # Stored so the sales-cycle statistics can be grouped and ordered by the database.
    closed: datetime | None = entity.closed_at
    if closed is None:
        return None
    created: datetime = entity.created_at
    return (closed - created) // _MICROSECOND


_MICROSECOND: Final = timedelta(microseconds=1)

#: ``probability_basis_points`` of an override finer than a basis point (12.345 %): no
#: whole number of basis points holds it, so whoever needs it reads the deal itself.
FINER_THAN_BASIS_POINTS: Final = -1


def _probability_basis_points(entity: Any) -> int | None:
    # The override in hundredths of a percent (12.5 % is 1250), stored so that a weighted
    # forecast is computed from index columns without reading documents. Exact or absent:
    # the percentage validator allows any number of decimals, and rounding one here would
    # change a weighted figure (hence the marker, never a rounded value).
    probability: Decimal | None = entity.probability_override
    if probability is None:
        return None
    numerator, denominator = probability.as_integer_ratio()
    points, rest = divmod(numerator * 100, denominator)
    return points if rest == 0 else FINER_THAN_BASIS_POINTS


#: Indexed values that are not attributes but computed from the entity when it is written.
DERIVED: Final[Mapping[str, Callable[[Any], Any]]] = {
    "primary_email": _primary_email,
    "cycle_microseconds": _cycle_microseconds,
    "probability_basis_points": _probability_basis_points,
}


def _attribute(entity: Entity, field: str) -> Any:
    derive = DERIVED.get(field)
    return getattr(entity, field) if derive is None else derive(entity)


def utc_text(moment: datetime) -> str:
    """A fixed-width UTC ISO string (always ``+00:00``), so text order equals time order."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def index_value(spec: IndexSpec, value: Any) -> Any:
    """``value`` in the comparable plain form storage keeps for ``spec`` (None stays None).

    TEXT → str (enum values), INT → int, BOOL → bool, DATE → ``date``, DATETIME → UTC
    ``datetime``, MONEY → ``(minor_units, currency)``.
    """
    if value is None:
        return None
    kind = spec.kind
    if kind is IndexKind.TEXT:
        return value.value if isinstance(value, enum.Enum) else value
    if kind is IndexKind.DATETIME:
        return value.astimezone(UTC)
    if kind is IndexKind.MONEY:
        money: Money = value
        return (int(money.amount.scaleb(money.minor_units)), money.currency)
    return value


def column_readers(spec: KindSpec) -> list[tuple[IndexKind, Callable[[Entity], Any]]]:
    """Each stored index column (money has two), in table order and without ``id``, as
    ``(how it is stored, a function reading its plain value from an entity)``.

    The money currency column is stored as TEXT.
    """
    readers: list[tuple[IndexKind, Callable[[Entity], Any]]] = []
    for ix in spec.indexes:
        if ix.field == "id":
            continue
        get: Callable[[Entity], Any] = DERIVED.get(ix.field) or attrgetter(ix.field)
        if ix.kind is IndexKind.MONEY:
            readers.append((IndexKind.INT, partial(_money_minor, get)))
            readers.append((IndexKind.TEXT, partial(_money_currency, get)))
        elif ix.kind is IndexKind.TEXT:
            readers.append((IndexKind.TEXT, partial(_text, get)))
        else:
            readers.append((ix.kind, get))
    return readers


def _text(get: Callable[[Entity], Any], entity: Entity) -> Any:
    value = get(entity)
    return value.value if isinstance(value, enum.Enum) else value


def _money_minor(get: Callable[[Entity], Any], entity: Entity) -> int | None:
    money: Money | None = get(entity)
    return None if money is None else int(money.amount.scaleb(money.minor_units))


def _money_currency(get: Callable[[Entity], Any], entity: Entity) -> str | None:
    money: Money | None = get(entity)
    return None if money is None else money.currency


def entity_index_values(spec: KindSpec, entity: Entity) -> dict[str, Any]:
    """Every indexed field of ``entity`` → its stored form."""
    return {ix.field: index_value(ix, _attribute(entity, ix.field)) for ix in spec.indexes}
