"""Settings: named configuration and state kept as plain data in storage."""

from __future__ import annotations

import re
from typing import Any, Final

import attrs

from sfakit.errors import ValidationError
from sfakit.model.base import Entity, entity_id_field
from sfakit.model.checks import text
from sfakit.model.ids import SettingId

__all__ = ["Setting", "setting_id"]

_NAME: Final = re.compile(r"[a-z0-9][a-z0-9_.\-]{0,59}")


def _name(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise ValidationError(
            f"$.{attribute.name}",
            value,
            "a name of lower-case letters, digits, '_', '.' or '-' (at most 60)",
        )


def setting_id(name: str) -> SettingId:
    """The id of the setting called ``name``: settings are found by name.

    >>> setting_id("territory-tree")
    'cfg_territory-tree'
    """
    return SettingId(f"cfg_{name}")


@attrs.frozen(kw_only=True)
class Setting(Entity):
    """A named piece of configuration or state — the territory tree, the assignment
    state, a scorecard, a trained model — stored as the JSON text of its plain-data form
    (:func:`sfakit.codec.to_json`), with ``kind`` naming the class it holds. Written
    with optimistic concurrency like every entity. Its id is ``cfg_<name>``.

    >>> from datetime import datetime, timezone
    >>> s = Setting(id=setting_id("tree"), name="tree", kind="TerritoryTree", data="{}",
    ...             created_at=datetime(2026, 3, 2, tzinfo=timezone.utc))
    >>> s.id
    'cfg_tree'
    """

    id: SettingId = entity_id_field("Setting")
    name: str = attrs.field(validator=_name)
    kind: str = attrs.field(validator=text(max_length=100))
    data: str = attrs.field(validator=text(max_length=50_000_000))

    def _check(self) -> None:
        if self.id != setting_id(self.name):
            raise ValidationError("$.id", self.id, f"{setting_id(self.name)!r}, from the name")
