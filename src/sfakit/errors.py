"""The one error hierarchy of sfakit.

Every error sfakit raises is an :class:`SfaError`. Messages say what was wrong, with
which value, and what is allowed, so that an application can show them as they are.

Paths name the bad field the way JSONPath does: ``$`` is the object being built or
loaded, ``$.lines[2].unit_price.amount`` a field inside it.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable
from typing import Any, Final

import attrs

__all__ = [
    "ConflictError",
    "CurrencyMismatchError",
    "DuplicateError",
    "NotFoundError",
    "PluginError",
    "Problem",
    "ScheduleError",
    "SchemaVersionError",
    "SfaError",
    "StorageError",
    "TransitionError",
    "ValidationError",
    "join_path",
]


class _Missing:
    """Marks a problem that has no offending value (a missing key, say)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<missing>"

    def __reduce__(self) -> str:
        # Unpickle as the one MISSING, so that ``value is MISSING`` still holds.
        return "MISSING"


MISSING: Final = _Missing()


def _show(value: object) -> str:
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return text


def join_path(prefix: str, suffix: str) -> str:
    """Join two JSONPath-like paths.

    >>> join_path("$.lines[2]", "$.amount")
    '$.lines[2].amount'
    """
    if suffix == "$":
        return prefix
    if suffix.startswith("$"):
        suffix = suffix[1:]
    return prefix + suffix


@attrs.frozen
class Problem:
    """One bad field: where it is, what it held, and what would have been allowed."""

    path: str
    expected: str
    value: Any = MISSING

    def describe(self) -> str:
        if self.value is MISSING:
            return f"{self.path}: {self.expected}"
        return f"{self.path}: got {_show(self.value)}; expected {self.expected}"

    def under(self, prefix: str) -> Problem:
        return attrs.evolve(self, path=join_path(prefix, self.path))


class SfaError(Exception):
    """Base class of every error sfakit raises on purpose."""


class ValidationError(SfaError, ValueError):
    """Bad input: one or more fields held values that are not allowed.

    ``problems`` lists every bad field found; ``path``, ``value`` and ``expected`` are
    those of the first, for the common single-field case.

    >>> err = ValidationError("$.amount", 3.5, "a Decimal, int or numeric string, not a float")
    >>> str(err)
    '$.amount: got 3.5; expected a Decimal, int or numeric string, not a float'
    """

    problems: tuple[Problem, ...]
    subject: str | None

    def __init__(
        self,
        path: str,
        value: object = MISSING,
        expected: str = "a valid value",
        *,
        subject: str | None = None,
    ) -> None:
        self._init((Problem(path=path, expected=expected, value=value),), subject)

    def _init(self, problems: tuple[Problem, ...], subject: str | None) -> None:
        if not problems:
            raise ValueError("a ValidationError needs at least one problem")
        self.problems = problems
        self.subject = subject
        super().__init__(self._message())

    @classmethod
    def from_problems(
        cls, problems: Iterable[Problem], *, subject: str | None = None
    ) -> ValidationError:
        """Build one error that lists several bad fields."""
        err = cls.__new__(cls)
        err._init(tuple(problems), subject)
        return err

    def _message(self) -> str:
        head = f"invalid {self.subject}: " if self.subject else ""
        if len(self.problems) == 1:
            return head + self.problems[0].describe()
        lines = "\n".join("  " + p.describe() for p in self.problems)
        return f"{head}{len(self.problems)} problems:\n{lines}"

    @property
    def path(self) -> str:
        return self.problems[0].path

    @property
    def value(self) -> object:
        return self.problems[0].value

    @property
    def expected(self) -> str:
        return self.problems[0].expected

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(p.path for p in self.problems)

    def under(self, prefix: str, *, subject: str | None = None) -> ValidationError:
        """The same error re-rooted below ``prefix`` (used when a nested object fails)."""
        err = type(self).__new__(type(self))
        ValidationError._init(
            err, tuple(p.under(prefix) for p in self.problems), subject or self.subject
        )
        return err

    def __reduce__(self) -> tuple[Any, ...]:
        problems = tuple(_picklable(p) for p in self.problems)
        return (_rebuild_validation_error, (type(self), problems, self.subject))


class _Shown:
    """Stands in for a bad value that cannot be pickled; shows as the value did."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text

    def __reduce__(self) -> tuple[Any, ...]:
        return (_Shown, (self.text,))


def _picklable(problem: Problem) -> Problem:
    # A ValidationError must cross process boundaries even when the bad value (a
    # generator, a lock, a lambda) cannot: keep its repr, so the message is unchanged.
    try:
        pickle.dumps(problem.value)
    except Exception:
        return attrs.evolve(problem, value=_Shown(repr(problem.value)))
    return problem


def _rebuild_validation_error(
    cls: type[ValidationError], problems: tuple[Problem, ...], subject: str | None
) -> ValidationError:
    err = cls.__new__(cls)
    ValidationError._init(err, problems, subject)
    return err


class CurrencyMismatchError(ValidationError):
    """Two amounts of different currencies met in one calculation or comparison."""

    def __init__(self, left: str, right: str, *, operation: str = "combine") -> None:
        super().__init__(
            "$.currency",
            right,
            f"{left!r}: cannot {operation} {left} with {right}; convert one amount first",
        )


class TransitionError(SfaError):
    """A state change that the rules do not allow (a stage move, an order status change)."""


class ConflictError(SfaError):
    """A write was based on a stale version: someone else changed the record first.

    ``current_version`` is the version the store holds now (``None`` when the record
    was deleted), so a client can reload and retry.
    """

    def __init__(
        self,
        entity: str,
        id: str,
        *,
        expected_version: int,
        current_version: int | None,
    ) -> None:
        self.entity = entity
        self.id = id
        self.expected_version = expected_version
        self.current_version = current_version
        now = (
            "it no longer exists"
            if current_version is None
            else f"it is at version {current_version}"
        )
        super().__init__(
            f"{entity} {id!r} was changed by someone else: this write expected version "
            f"{expected_version}, but {now}; reload it and apply the change again"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_conflict,
            (self.entity, self.id, self.expected_version, self.current_version),
        )


def _rebuild_conflict(
    entity: str, id: str, expected_version: int, current_version: int | None
) -> ConflictError:
    return ConflictError(
        entity, id, expected_version=expected_version, current_version=current_version
    )


class NotFoundError(SfaError, LookupError):
    """No record of that kind has that id (or key)."""

    def __init__(self, entity: str, key: str, *, field: str = "id") -> None:
        self.entity = entity
        self.key = key
        self.field = field
        super().__init__(f"no {entity} with {field} {key!r}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_not_found, (self.entity, self.key, self.field))


def _rebuild_not_found(entity: str, key: str, field: str) -> NotFoundError:
    return NotFoundError(entity, key, field=field)


class DuplicateError(SfaError):
    """A record with the same unique key already exists."""

    def __init__(self, entity: str, key: str, *, existing_id: str | None = None) -> None:
        self.entity = entity
        self.key = key
        self.existing_id = existing_id
        where = f" (it is {existing_id!r})" if existing_id else ""
        super().__init__(f"a {entity} with key {key!r} already exists{where}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_duplicate, (self.entity, self.key, self.existing_id))


def _rebuild_duplicate(entity: str, key: str, existing_id: str | None) -> DuplicateError:
    return DuplicateError(entity, key, existing_id=existing_id)


class ScheduleError(SfaError):
    """A schedule that cannot be built or cannot produce what was asked of it."""


class StorageError(SfaError):
    """The storage backend could not do its job: a database locked past the busy
    timeout, a lost connection, a schema written by a newer sfakit. The transaction was
    rolled back; nothing was half-written.
    """


class SchemaVersionError(StorageError):
    """The database was written by a different schema version than this sfakit knows."""

    def __init__(self, url: str, found: int, supported: int) -> None:
        self.url = url
        self.found = found
        self.supported = supported
        super().__init__(
            f"{url}: the database has schema version {found}, but this sfakit supports up to "
            f"{supported}; upgrade sfakit to open it (it was written by a newer version)"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (SchemaVersionError, (self.url, self.found, self.supported))


class PluginError(SfaError):
    """A plugin failed, is missing, or no plugin offers what was asked for.

    ``plugin`` and ``hook`` name the culprit when there is one.
    """

    def __init__(self, message: str, *, plugin: str | None = None, hook: str | None = None) -> None:
        self.plugin = plugin
        self.hook = hook
        super().__init__(message)
