"""Territories (the sales-force tree) and quotas."""

from __future__ import annotations

import re
from typing import Any, Final

import attrs

from sfakit.errors import ValidationError
from sfakit.model.base import Entity, entity_id_field
from sfakit.model.checks import (
    id_of,
    instance_of,
    optional,
    text,
    to_tuple,
    tuple_of,
)
from sfakit.model.ids import QuotaId, SalesRepId, TerritoryId
from sfakit.model.money import Money

__all__ = ["Quota", "Territory"]

_KEY: Final = re.compile(r"[a-z0-9][a-z0-9_\-]{0,99}")
_PERIOD: Final = re.compile(r"FY\d{4}(-(Q[1-4]|M(0[1-9]|1[0-2])|W(0[1-9]|[1-4]\d|5[0-3])))?")


def _key(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or _KEY.fullmatch(value) is None:
        raise ValidationError(
            f"$.{attribute.name}", value, "a key of lower-case letters, digits, '_' or '-'"
        )


@attrs.frozen(kw_only=True)
class Territory(Entity):
    """A node of the territory tree (region → district → territory, any depth).

    Members are reps; the routing rules and assignment strategy live with the
    territory-management package, which reads them from this record's ``key``.
    """

    id: TerritoryId = entity_id_field("Territory")
    key: str = attrs.field(validator=_key)
    name: str = attrs.field(validator=text(max_length=200))
    parent_id: TerritoryId | None = attrs.field(
        default=None, validator=optional(id_of("Territory"))
    )
    priority: int = attrs.field(default=0, validator=instance_of(int, "a whole number"))
    member_ids: tuple[SalesRepId, ...] = attrs.field(
        default=(), converter=to_tuple, validator=tuple_of(id_of("SalesRep"))
    )

    def _check(self) -> None:
        if self.parent_id is not None and self.parent_id == self.id:
            raise ValidationError("$.parent_id", self.parent_id, "another territory than itself")
        if len(set(self.member_ids)) != len(self.member_ids):
            raise ValidationError("$.member_ids", self.member_ids, "each rep at most once")


def _period(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or _PERIOD.fullmatch(value) is None:
        raise ValidationError(
            f"$.{attribute.name}", value, "a fiscal period such as FY2027, FY2027-Q1, FY2027-M04"
        )


@attrs.frozen(kw_only=True)
class Quota(Entity):
    """What a rep or a territory is to sell in a fiscal period (exactly one of the two)."""

    id: QuotaId = entity_id_field("Quota")
    period: str = attrs.field(validator=_period)
    amount: Money = attrs.field(validator=instance_of(Money, "Money"))
    sales_rep_id: SalesRepId | None = attrs.field(
        default=None, validator=optional(id_of("SalesRep"))
    )
    territory_id: TerritoryId | None = attrs.field(
        default=None, validator=optional(id_of("Territory"))
    )

    def _check(self) -> None:
        if (self.sales_rep_id is None) == (self.territory_id is None):
            raise ValidationError(
                "$.sales_rep_id", self.sales_rep_id, "exactly one of sales_rep_id or territory_id"
            )
