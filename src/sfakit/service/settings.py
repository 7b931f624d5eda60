"""Reading and writing :class:`~sfakit.model.Setting` records inside a transaction:
the one place that turns configuration objects into stored JSON and back."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from sfakit.codec import from_json, to_json
from sfakit.errors import ConflictError, ValidationError
from sfakit.model import Setting, setting_id
from sfakit.storage.api import Transaction

__all__ = ["load_setting", "store_setting"]

T = TypeVar("T")


def load_setting(setting: Setting, kind: type[T]) -> tuple[T, int]:
    """The object ``setting`` holds (it must hold a ``kind``) and the setting's version."""
    if setting.kind != kind.__name__:
        raise ValidationError(f"$.{setting.name}.kind", setting.kind, repr(kind.__name__))
    return from_json(kind, setting.data), setting.version


def store_setting(
    tx: Transaction, name: str, value: object, expected_version: int | None, now: datetime
) -> Setting:
    """Store ``value`` as setting ``name``: created when ``expected_version`` is None
    (DuplicateError if it exists), else updated if still at that version (ConflictError
    naming the version found, None when there is none)."""
    data = to_json(value)
    kind = type(value).__name__
    if expected_version is None:
        return tx.insert(
            Setting(
                id=setting_id(name), name=name, kind=kind, data=data, created_at=now, updated_at=now
            )
        )
    current = tx.find(Setting, setting_id(name))
    if current is None or current.version != expected_version:
        raise ConflictError(
            "Setting",
            setting_id(name),
            expected_version=expected_version,
            current_version=None if current is None else current.version,
        )
    return tx.update(current.evolve(kind=kind, data=data, updated_at=max(now, current.updated_at)))
