"""Resolving dotted field paths against attrs classes."""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, NewType, Optional

import attrs
import pytest

from sfakit.errors import ValidationError
from sfakit.rules import FieldKind, resolve_field

from .support import Address, Rec, Stage, Tier

AccountId = NewType("AccountId", str)
MaybeId = NewType("MaybeId", AccountId)


class Plain:
    pass


@attrs.frozen
class Money:
    amount: Decimal
    currency: str


@attrs.frozen
class Odd:
    ratio: float
    blob: dict[str, int]
    either: int | str
    pair: tuple[int, int]
    nested: tuple[tuple[str, ...], ...]
    objects: tuple[Money, ...]
    plain: Plain
    untyped_list: list  # type: ignore[type-arg]
    legacy: Optional[Money]  # noqa: UP045 - the old spelling must work too
    annotated: Annotated[int, "units"]
    owner: MaybeId | None
    prices: frozenset[Decimal]
    items: list[date]


@pytest.mark.parametrize(
    ("path", "kind", "py_type", "nullable"),
    [
        ("name", FieldKind.STRING, str, (False,)),
        ("count", FieldKind.NUMBER, int, (False,)),
        ("amount", FieldKind.NUMBER, Decimal, (False,)),
        ("active", FieldKind.BOOL, bool, (False,)),
        ("due", FieldKind.DATE, date, (False,)),
        ("seen", FieldKind.DATETIME, datetime, (False,)),
        ("wait", FieldKind.DURATION, timedelta, (False,)),
        ("tier", FieldKind.ENUM, Tier, (False,)),
        ("stage", FieldKind.ENUM, Stage, (False,)),
        ("tags", FieldKind.COLLECTION, tuple, (False,)),
        ("labels", FieldKind.COLLECTION, frozenset, (False,)),
        ("address", FieldKind.OBJECT, Address, (True,)),
        ("address.postcode", FieldKind.STRING, str, (True, True)),
        ("address.city", FieldKind.STRING, str, (True, False)),
        ("region", FieldKind.STRING, str, (False,)),
        ("score", FieldKind.NUMBER, int, (True,)),
    ],
)
def test_field_kinds_of_the_test_record(
    path: str, kind: FieldKind, py_type: type, nullable: tuple[bool, ...]
) -> None:
    info = resolve_field(Rec, path)
    assert (info.type.kind, info.type.py_type, info.nullable) == (kind, py_type, nullable)
    assert info.names == tuple(path.split("."))


def test_collection_element_types_are_resolved() -> None:
    tags = resolve_field(Rec, "tags").type
    labels = resolve_field(Rec, "labels").type
    assert tags.element is not None
    assert tags.element.kind is FieldKind.STRING
    assert labels.element is not None
    assert labels.element.py_type is Stage
    assert resolve_field(Odd, "prices").type.describe() == "frozenset of Decimal"
    assert resolve_field(Odd, "items").type.describe() == "list of date"


def test_newtype_of_newtype_with_none_unwraps_to_str() -> None:
    info = resolve_field(Odd, "owner")
    assert info.type.kind is FieldKind.STRING
    assert info.may_be_unset


def test_optional_and_annotated_are_unwrapped() -> None:
    assert resolve_field(Odd, "legacy.amount").nullable == (True, False)
    assert resolve_field(Odd, "annotated").type.py_type is int


def test_unknown_field_lists_the_fields_of_the_class() -> None:
    with pytest.raises(ValidationError) as info:
        resolve_field(Money, "amonut")
    assert info.value.path == "$.field"
    assert info.value.expected == "a field of Money: amount, currency"


def test_unknown_nested_field_names_the_nested_class() -> None:
    with pytest.raises(ValidationError) as info:
        resolve_field(Rec, "address.zip")
    assert "Address (at 'address'): city, postcode" in info.value.expected


def test_a_path_cannot_walk_into_a_scalar() -> None:
    with pytest.raises(ValidationError, match="'name' is a str"):
        resolve_field(Rec, "name.length")


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("ratio", "float"),
        ("blob", "dict"),
        ("either", "union"),
        ("pair", "fixed-length tuple"),
        ("nested", "item type"),
        ("objects", "item type"),
        ("plain", "Plain"),
        ("untyped_list", "without an item type"),
    ],
)
def test_unsupported_types_fail_clearly(path: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as info:
        resolve_field(Odd, path)
    assert info.value.path == "$.field"


def test_enum_subclass_is_an_enum_not_a_str() -> None:
    class Mood(enum.StrEnum):
        UP = "up"

    @attrs.frozen
    class Local:
        mood: Mood

    # Mood is local to this function, so the string annotation cannot resolve.
    with pytest.raises(ValidationError, match="annotations resolve"):
        resolve_field(Local, "mood")


def test_local_classes_using_stdlib_types_still_resolve() -> None:
    @attrs.frozen
    class Local:
        when: datetime
        price: Decimal | None

    assert resolve_field(Local, "when").type.kind is FieldKind.DATETIME
    assert resolve_field(Local, "price").type.kind is FieldKind.NUMBER
