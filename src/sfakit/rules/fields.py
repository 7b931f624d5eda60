"""Resolve a dotted field path against an attrs class to the kind of value it holds.

Annotations may be strings (``from __future__ import annotations``); they are resolved
in the class's module, with ``Decimal``, ``date``, ``datetime`` and ``timedelta`` as a
fallback for classes defined where their module cannot see those names (in a function).
``X | None`` marks a nullable field, a ``NewType`` stands for its supertype, and a path
such as ``amount.amount`` walks into nested attrs classes.

>>> import attrs
>>> from decimal import Decimal
>>> @attrs.frozen
... class Deal:
...     probability: Decimal | None
>>> info = resolve_field(Deal, "probability")
>>> info.type.kind, info.nullable
(<FieldKind.NUMBER: 'number'>, (True,))
"""

from __future__ import annotations

import enum
import types
import typing
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Final

import attrs

from sfakit.errors import ValidationError

__all__ = ["FieldInfo", "FieldKind", "FieldType", "field_types", "resolve_field"]


class FieldKind(enum.StrEnum):
    """The kinds of field value a criteria can test; each allows its own operators.

    >>> FieldKind("number") is FieldKind.NUMBER
    True
    """

    NUMBER = "number"
    STRING = "string"
    BOOL = "bool"
    ENUM = "enum"
    DATE = "date"
    DATETIME = "datetime"
    DURATION = "duration"
    COLLECTION = "collection"
    OBJECT = "object"


@attrs.frozen
class FieldType:
    """What a field holds once ``| None`` and NewTypes are unwrapped.

    ``py_type`` is the scalar type (``int``, ``Decimal``, ``str``, ``bool``, ``date``,
    ``datetime``, ``timedelta``), the Enum class, the attrs class, or for a collection
    the collection type, with ``element`` the type of its items.

    >>> FieldType(FieldKind.STRING, str).describe()
    'str'
    """

    kind: FieldKind
    py_type: type
    element: FieldType | None = None

    def describe(self) -> str:
        """A short name for messages: ``'Decimal'``, ``'enum Stage'``, ``'tuple of str'``.

        >>> FieldType(FieldKind.COLLECTION, tuple, FieldType(FieldKind.STRING, str)).describe()
        'tuple of str'
        """
        if self.element is not None:
            return f"{self.py_type.__name__} of {self.element.describe()}"
        if self.kind is FieldKind.ENUM:
            return f"enum {self.py_type.__name__}"
        return self.py_type.__name__


@attrs.frozen
class FieldInfo:
    """A resolved field path: its attribute ``names``, whether each step may be None
    (``nullable``, one flag per name) and the ``type`` of the final value.

    >>> @attrs.frozen
    ... class Lead:
    ...     email: str | None
    >>> resolve_field(Lead, "email").may_be_unset
    True
    """

    path: str
    names: tuple[str, ...]
    nullable: tuple[bool, ...]
    type: FieldType

    @property
    def may_be_unset(self) -> bool:
        """True when the field or an object on the way to it may be None.

        >>> @attrs.frozen
        ... class Lead:
        ...     email: str
        >>> resolve_field(Lead, "email").may_be_unset
        False
        """
        return any(self.nullable)


_SCALARS: Final[tuple[tuple[type, FieldKind], ...]] = (
    # Order matters: bool is an int, datetime is a date.
    (bool, FieldKind.BOOL),
    (int, FieldKind.NUMBER),
    (Decimal, FieldKind.NUMBER),
    (str, FieldKind.STRING),
    (datetime, FieldKind.DATETIME),
    (date, FieldKind.DATE),
    (timedelta, FieldKind.DURATION),
)
_FALLBACK_NAMES: Final = {
    "Decimal": Decimal,
    "date": date,
    "datetime": datetime,
    "timedelta": timedelta,
}
_COLLECTIONS: Final = (tuple, frozenset, list, set)
_SUPPORTED: Final = (
    "str, int, Decimal, bool, date, datetime, timedelta, an Enum, an attrs class, "
    "tuple[X, ...] or frozenset[X], each optionally '| None' or a NewType"
)


class _UnsupportedError(Exception):
    """Internal: the annotation is not one criteria can test; carries the reason."""


def field_types(cls: type) -> dict[str, object]:
    """The resolved annotation of each attrs field of ``cls``, in declaration order.

    >>> @attrs.frozen
    ... class Lead:
    ...     score: int
    >>> field_types(Lead)
    {'score': <class 'int'>}
    """
    try:
        try:
            attrs.resolve_types(cls)
        except NameError:
            attrs.resolve_types(cls, localns=_FALLBACK_NAMES)
    except Exception as exc:
        # Any error here is a forward reference the class's module cannot resolve.
        raise ValidationError(
            "$.field", cls.__name__, f"an attrs class whose annotations resolve ({exc})"
        ) from None
    return {a.name: a.type for a in attrs.fields(cls)}


def _unwrap(annotation: object) -> tuple[object, bool]:
    """Strip Annotated, NewType and ``| None``; report whether None was allowed."""
    nullable = False
    for _ in range(32):
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif isinstance(annotation, typing.NewType):
            annotation = annotation.__supertype__
        elif origin is typing.Union or origin is types.UnionType:
            args = typing.get_args(annotation)
            rest = [a for a in args if a is not type(None)]
            if len(rest) != 1:
                raise _UnsupportedError(f"a union of several types ({annotation})")
            nullable = nullable or len(rest) < len(args)
            annotation = rest[0]
        else:
            return annotation, nullable
    raise _UnsupportedError(f"a type nested too deeply ({annotation})")


def _classify(annotation: object, *, element: bool = False) -> tuple[FieldType, bool]:
    tp, nullable = _unwrap(annotation)
    origin = typing.get_origin(tp)
    if origin in _COLLECTIONS and not element:
        assert isinstance(origin, type)
        args = typing.get_args(tp)
        if origin is tuple:
            if len(args) != 2 or args[1] is not Ellipsis:
                raise _UnsupportedError(f"a fixed-length tuple ({tp}); use tuple[X, ...]")
            args = args[:1]
        if len(args) != 1:
            raise _UnsupportedError(f"a collection without an item type ({tp})")
        item, _ = _classify(args[0], element=True)
        return FieldType(FieldKind.COLLECTION, origin, item), nullable
    if tp in _COLLECTIONS:
        raise _UnsupportedError(f"a collection without an item type ({tp!r})")
    if isinstance(tp, type):
        if issubclass(tp, enum.Enum):
            return FieldType(FieldKind.ENUM, tp), nullable
        for base, kind in _SCALARS:
            if issubclass(tp, base):
                return FieldType(kind, base), nullable
        if issubclass(tp, float):
            raise _UnsupportedError("a float; money and rates are Decimal in sfakit")
        if attrs.has(tp) and not element:
            return FieldType(FieldKind.OBJECT, tp), nullable
    where = "an item type" if element else "a field type"
    raise _UnsupportedError(f"{where} criteria cannot test ({tp!r})")


def resolve_field(subject_type: type, path: str) -> FieldInfo:
    """Resolve ``path`` (``"amount.amount"``) against the attrs class ``subject_type``.

    Raises :class:`~sfakit.errors.ValidationError` at ``$.field`` for an unknown field
    (listing the fields there are) or a field of a type criteria cannot test.

    >>> @attrs.frozen
    ... class Lead:
    ...     score: int
    >>> resolve_field(Lead, "scroe")
    Traceback (most recent call last):
    ...
    sfakit.errors.ValidationError: $.field: got 'scroe'; expected a field of Lead: score
    """
    names = tuple(path.split("."))
    nullable: list[bool] = []
    cls = subject_type
    field_type: FieldType | None = None
    for depth, name in enumerate(names):
        where = ".".join(names[:depth])
        if field_type is not None:
            if field_type.kind is not FieldKind.OBJECT:
                raise ValidationError(
                    "$.field",
                    path,
                    f"a path into an object: {where!r} is a {field_type.describe()}",
                )
            cls = field_type.py_type
        hints = field_types(cls)
        if name not in hints:
            at = f" (at {where!r})" if where else ""
            raise ValidationError(
                "$.field", path, f"a field of {cls.__name__}{at}: {', '.join(hints)}"
            )
        try:
            field_type, may_be_none = _classify(hints[name])
        except _UnsupportedError as exc:
            raise ValidationError(
                "$.field", path, f"a field of a supported type ({_SUPPORTED}), not {exc}"
            ) from None
        nullable.append(may_be_none)
    assert field_type is not None
    return FieldInfo(path, names, tuple(nullable), field_type)
