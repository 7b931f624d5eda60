"""What every stored entity has: an id, a version and its timestamps.

``version`` is 0 for a record that was never stored; storage sets it to 1 on the first
write and adds one on every write after that, refusing a write whose expected version
is stale. ``created_at`` and ``updated_at`` are timezone-aware; ``updated_at`` defaults
to ``created_at``, and the id, when not given, is generated from ``created_at`` so ids
sort in creation order.

Entities are frozen: :func:`evolve` (or :meth:`Entity.evolve`) returns a changed copy.

Datetimes are kept with a fixed UTC offset: one given in an IANA zone
(``ZoneInfo("Europe/Berlin")``) becomes the same instant and wall time with that zone's
offset at that moment. Plain data keeps only the offset, so this is what makes a stored
and reloaded record compare equal to the original — even in the hour repeated when
clocks go back, where Python's comparison of zone-aware datetimes is not an instant
comparison. Where the zone itself matters (schedules, a contact's working hours) it is
stored by name in its own field.

>>> from datetime import datetime, timezone
>>> from zoneinfo import ZoneInfo
>>> from sfakit.model import Account
>>> berlin = datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=ZoneInfo("Europe/Berlin"))
>>> Account(name="Acme", created_at=berlin).created_at.isoformat()
'2026-10-25T02:30:00+01:00'
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Self, TypeVar

import attrs

from sfakit.errors import ValidationError
from sfakit.model.checks import aware_datetime, non_negative_int
from sfakit.model.ids import ID_PREFIXES, new_id

__all__ = ["Entity", "entity_id_field", "evolve"]


@attrs.frozen(kw_only=True)
class Entity:
    """Base class of stored entities. Subclasses add an ``id`` made by :func:`entity_id_field`."""

    if TYPE_CHECKING:
        # Each subclass declares its own typed id (AccountId, LeadId …).
        id: str

    created_at: datetime = attrs.field(validator=aware_datetime)
    updated_at: datetime = attrs.field(
        default=attrs.Factory(lambda self: self.created_at, takes_self=True),
        validator=aware_datetime,
    )
    version: int = attrs.field(default=0, validator=non_negative_int)

    def __attrs_post_init__(self) -> None:
        fix_offsets(self)
        if self.updated_at < self.created_at:
            raise ValidationError(
                "$.updated_at",
                self.updated_at,
                f"a moment at or after created_at ({self.created_at.isoformat()})",
            )
        self._check()

    def _check(self) -> None:
        """Cross-field rules of a subclass; raise ValidationError naming the field."""

    def evolve(self, **changes: Any) -> Self:
        """A copy with ``changes`` applied and validated (the original is untouched)."""
        return attrs.evolve(self, **changes)


def entity_id_field(kind: str) -> Any:
    """The ``id`` field of entity ``kind``: validated, generated from ``created_at`` when absent."""
    from sfakit.model.checks import id_of  # noqa: PLC0415 - keeps the import graph flat

    prefix = ID_PREFIXES[kind]
    return attrs.field(
        default=attrs.Factory(
            lambda self: new_id(prefix, _id_time(self.created_at)), takes_self=True
        ),
        validator=id_of(kind),
    )


T = TypeVar("T")

_DATETIME_FIELDS: dict[type, tuple[str, ...]] = {}


def fix_offsets(instance: attrs.AttrsInstance) -> None:
    """Give every datetime field of a frozen attrs ``instance`` a fixed UTC offset."""
    cls = type(instance)
    names = _DATETIME_FIELDS.get(cls)
    if names is None:
        # Annotations may be strings or, once resolved, types: any that mentions a date
        # is a candidate, and the value itself decides.
        names = _DATETIME_FIELDS[cls] = tuple(
            a.name for a in attrs.fields(cls) if "date" in str(a.type)
        )
    for name in names:
        value = getattr(instance, name)
        if isinstance(value, datetime) and type(value.tzinfo) is not timezone:
            offset = value.utcoffset()
            if offset is not None:  # validators have refused naive values already
                object.__setattr__(instance, name, value.astimezone(timezone(offset)))


def _id_time(value: object) -> datetime | None:
    # A bad created_at is reported by its own validator; the id falls back to now.
    if isinstance(value, datetime) and value.utcoffset() is not None:
        return value
    return None


def evolve(entity: T, **changes: Any) -> T:
    """``attrs.evolve`` for entities and value objects: a validated, changed copy."""
    return attrs.evolve(entity, **changes)  # type: ignore[misc]
