"""Why a criteria matched a record or not: a trace tree and its rendering.

:meth:`~sfakit.rules.compiled.CompiledCriteria.explain` evaluates every node (no
short-circuit) so that the trace is complete; each group's ``matched`` still follows
the usual all/any/not logic.

>>> leaf = LeafTrace("$", "stage", "eq", "won", "won", True, None)
>>> print(Verdict(True, leaf).render())
MATCHED
[x] stage eq 'won' (actual 'won')  at $
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal, TypeAlias

import attrs

from sfakit.rules.nodes import format_duration

__all__ = ["GroupTrace", "LeafTrace", "Trace", "Verdict", "show_value"]


@attrs.frozen
class LeafTrace:
    """How one condition fared: ``expected`` is the (coerced) value it tested against,
    ``actual`` the field's value (None when it or an object on the way is not set).

    >>> LeafTrace("$.all[0]", "score", "gt", 50, 70, True, None).matched
    True
    """

    path: str
    field: str
    op: str
    expected: object
    actual: object
    matched: bool
    note: str | None = None

    def describe(self) -> str:
        """One line: ``score gt 50 (actual 70)``, plus the note when there is one.

        >>> LeafTrace("$", "score", "gt", 50, None, False, "field is not set").describe()
        'score gt 50 (actual not set; field is not set)'
        """
        test = f"{self.field} {self.op}"
        if self.op not in ("is_set", "is_empty"):
            test += f" {show_value(self.expected)}"
        detail = f"actual {show_value(self.actual)}"
        if self.note:
            detail += f"; {self.note}"
        return f"{test} ({detail})"


@attrs.frozen
class GroupTrace:
    """How an all/any/not group fared, with the trace of every child.

    >>> GroupTrace("$", "any", False, ()).matched
    False
    """

    path: str
    kind: Literal["all", "any", "not"]
    matched: bool
    children: tuple[Trace, ...]


Trace: TypeAlias = LeafTrace | GroupTrace
"""A node of a trace tree: ``GroupTrace("$", "not", True, (LeafTrace(...),))``."""


def show_value(value: object) -> str:
    """A value as a rule author would write it: ``1000``, ``2026-01-31``, ``P14D``.

    >>> show_value(Decimal("1000.50")), show_value(timedelta(days=14)), show_value(None)
    ('1000.50', 'P14D', 'not set')
    """
    if value is None:
        return "not set"
    if isinstance(value, enum.Enum):
        return show_value(value.value)
    if isinstance(value, bool | int | Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, tuple | list | frozenset | set):
        return "[" + ", ".join(show_value(v) for v in value) + "]"
    return repr(value)


def _leaves(trace: Trace) -> Iterator[LeafTrace]:
    if isinstance(trace, LeafTrace):
        yield trace
    else:
        for child in trace.children:
            yield from _leaves(child)


def _lines(trace: Trace, depth: int) -> Iterator[str]:
    mark = "[x]" if trace.matched else "[ ]"
    indent = "  " * depth
    if isinstance(trace, LeafTrace):
        yield f"{indent}{mark} {trace.describe()}  at {trace.path}"
        return
    yield f"{indent}{mark} {trace.kind}  at {trace.path}"
    for child in trace.children:
        yield from _lines(child, depth + 1)


@attrs.frozen
class Verdict:
    """The outcome of :meth:`~sfakit.rules.compiled.CompiledCriteria.explain`.

    >>> v = Verdict(False, LeafTrace("$", "score", "gt", 50, 10, False))
    >>> v.matched, v.fired()
    (False, ())
    """

    matched: bool
    trace: Trace

    def fired(self) -> tuple[LeafTrace, ...]:
        """The conditions that held, in tree order.

        >>> leaf = LeafTrace("$", "score", "gt", 50, 70, True)
        >>> Verdict(True, leaf).fired() == (leaf,)
        True
        """
        return tuple(leaf for leaf in _leaves(self.trace) if leaf.matched)

    def render(self) -> str:
        """Readable text: a headline, then one line per node, ``[x]`` for those that held.

        >>> print(Verdict(False, LeafTrace("$", "score", "gt", 50, 10, False)).render())
        NOT MATCHED
        [ ] score gt 50 (actual 10)  at $
        """
        head = "MATCHED" if self.matched else "NOT MATCHED"
        return "\n".join([head, *_lines(self.trace, 0)])
