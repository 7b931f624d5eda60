"""A compiled routing index: which territories can match a subject, without scanning all.

A node matches only when its parent does, so matching walks down from the roots, and
:func:`compile_index` files the children of each node (and the roots) under a *key*
that every subject their own rules match must have:

* ``field eq v`` / ``field in (v, w)`` on a text field: exact-value tables;
* ``field startswith p``: a prefix table per field (postal codes: ``80`` finds ``80331``);
* ``collection contains v`` (``product_interest``, ``tags``): exact-value tables;
* ``field between [low, high]`` on a text field (postal-code ranges): a sorted range
  table, searched by bisection;
* ``all`` of conditions: the rarest key among its items; ``any`` of keyed conditions:
  filed under each of them; an empty ``any`` never matches and is filed nowhere.

Children with no key (general criteria: ranges, negations, numbers) are residual: they
are checked whenever their parent matches. Candidates are checked with the compiled
rules, so the matches are exactly those of the naive scan of the tree, which
:func:`~sfakit.territory.route` uses when given the tree itself.

>>> from sfakit.rules import field
>>> from sfakit.territory import RoutingSubject, TerritoryNode, TerritoryTree
>>> tree = TerritoryTree(nodes=[
...     TerritoryNode(key="de", rules=field("country").eq("DE")),
...     TerritoryNode(key="munich", parent="de", rules=field("postal_code").startswith("80")),
...     TerritoryNode(key="big", rules=field("company_size").ge(1000)),
... ])
>>> index = compile_index(tree)
>>> index.matching(RoutingSubject(id="lead_1", country="DE", postal_code="80331"))
('de', 'munich')
>>> index.stats.residual
1
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from typing import Final, cast

import attrs

from sfakit.errors import ValidationError
from sfakit.rules import AllOf, AnyOf, Condition, Criteria, FieldKind, Operator, resolve_field
from sfakit.rules.fields import field_types
from sfakit.territory.subject import RoutingSubject
from sfakit.territory.tree import TerritoryTree

__all__ = ["IndexStats", "RoutingIndex", "compile_index"]

_Key = tuple[str, str, object]  # (kind: eq | prefix | has | range, field, value)
_Option = frozenset[_Key]  # a node can match only if the subject has one of these keys


def _subject_fields() -> tuple[frozenset[str], frozenset[str]]:
    strings: set[str] = set()
    collections: set[str] = set()
    for name in field_types(RoutingSubject):
        ftype = resolve_field(RoutingSubject, name).type
        if ftype.kind is FieldKind.STRING:
            strings.add(name)
        elif (
            ftype.kind is FieldKind.COLLECTION
            and ftype.element is not None
            and ftype.element.kind is FieldKind.STRING
        ):
            collections.add(name)
    return frozenset(strings), frozenset(collections)


_STRINGS, _COLLECTIONS = _subject_fields()
_NEVER: Final[_Option] = frozenset()


def _options(rule: Criteria | None) -> list[_Option]:
    """Alternative key sets, each necessary for ``rule`` to match (any one will do)."""
    if rule is None:
        return []
    if isinstance(rule, Condition):
        name, op, value = rule.field, rule.op, rule.value
        if name in _STRINGS:
            if op is Operator.EQ and isinstance(value, str):
                return [frozenset({("eq", name, value)})]
            if op is Operator.IN and isinstance(value, tuple):
                return [frozenset(("eq", name, v) for v in value if isinstance(v, str))]
            if op is Operator.STARTSWITH and isinstance(value, str) and value:
                return [frozenset({("prefix", name, value)})]
            if op is Operator.BETWEEN and isinstance(value, tuple):
                return [frozenset({("range", name, value)})]
        elif name in _COLLECTIONS and op is Operator.CONTAINS and isinstance(value, str):
            return [frozenset({("has", name, value)})]
        return []
    if isinstance(rule, AllOf):
        found: list[_Option] = []
        for item in rule.items:
            found.extend(_options(item))
        return found
    if isinstance(rule, AnyOf):
        if not rule.items:
            return [_NEVER]
        union: set[_Key] = set()
        for item in rule.items:
            alternatives = _options(item)
            if not alternatives:
                return []
            union |= min(alternatives, key=len)
        return [frozenset(union)]
    return []  # Not: nothing is necessary


@attrs.frozen
class IndexStats:
    """How the index filed the territories: by exact value, by prefix, by collection
    element, left to the residual scan, or never matching at all.

    >>> IndexStats(territories=3, exact=2, prefix=0, contains=0, ranges=0, residual=1,
    ...            never=0).residual
    1
    """

    territories: int
    exact: int
    prefix: int
    contains: int
    ranges: int
    residual: int
    never: int


# (field, lows, highs, running highest high, node) sorted by low, for one field.
_Ranges = tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[int, ...]]


def _ranges(name: str, entries: list[tuple[str, str, int]]) -> _Ranges:
    entries = sorted(entries)
    reach: list[str] = []
    for _, high, _ in entries:
        reach.append(high if not reach or high > reach[-1] else reach[-1])
    return (
        name,
        tuple(e[0] for e in entries),
        tuple(e[1] for e in entries),
        tuple(reach),
        tuple(e[2] for e in entries),
    )


@attrs.frozen(eq=False)
class _Group:
    """The children of one node (or the roots), filed by key (internal)."""

    exact: tuple[tuple[str, dict[str, tuple[int, ...]]], ...]
    prefix: tuple[tuple[str, tuple[int, ...], dict[str, tuple[int, ...]]], ...]
    has: tuple[tuple[str, dict[str, tuple[int, ...]]], ...]
    ranges: tuple[_Ranges, ...]
    residual: tuple[int, ...]

    def candidates(self, subject: RoutingSubject) -> set[int] | tuple[int, ...]:
        if not (self.exact or self.prefix or self.has or self.ranges):
            return self.residual
        found = set(self.residual)
        for name, table in self.exact:
            value = getattr(subject, name)
            if value is not None:
                hit = table.get(value)
                if hit:
                    found.update(hit)
        for name, lengths, table in self.prefix:
            value = getattr(subject, name)
            if value:
                size = len(value)
                for length in lengths:
                    if length > size:
                        break
                    hit = table.get(value[:length])
                    if hit:
                        found.update(hit)
        for name, table in self.has:
            for value in getattr(subject, name):
                hit = table.get(value)
                if hit:
                    found.update(hit)
        for name, lows, highs, reach, ids in self.ranges:
            value = getattr(subject, name)
            if value is not None:
                # Sorted by low; reach[j] is the highest high up to j, so the walk back
                # stops at the first run of ranges that all end before the value.
                j = bisect_right(lows, value) - 1
                while j >= 0 and reach[j] >= value:
                    if highs[j] >= value:
                        found.add(ids[j])
                    j -= 1
        return found


def _group(children: tuple[int, ...], own: list[list[_Option]], counts: Counter[str]) -> _Group:
    frequency: Counter[_Key] = Counter()
    for i in children:
        frequency.update(set().union(*own[i]) if own[i] else ())
    tables: dict[str, dict[str, dict[str, list[int]]]] = {"eq": {}, "prefix": {}, "has": {}}
    ranges: dict[str, list[tuple[str, str, int]]] = {}
    residual: list[int] = []
    for i in children:
        if not own[i]:
            residual.append(i)
            counts["residual"] += 1
            continue
        best = min(
            own[i], key=lambda o: (sum(frequency[k] for k in o), len(o), sorted(map(repr, o)))
        )
        if not best:
            counts["never"] += 1
            continue
        kinds = set()
        for kind, name, value in sorted(best, key=repr):
            if kind == "range":
                low, high = cast(tuple[str, str], value)
                ranges.setdefault(name, []).append((low, high, i))
            else:
                tables[kind].setdefault(name, {}).setdefault(cast(str, value), []).append(i)
            kinds.add(kind)
        for kind, stat in (("range", "ranges"), ("prefix", "prefix"), ("has", "contains")):
            if kind in kinds:
                counts[stat] += 1
                break
        else:
            counts["exact"] += 1

    def freeze(kind: str) -> dict[str, dict[str, tuple[int, ...]]]:
        return {
            name: {value: tuple(sorted(set(ids))) for value, ids in values.items()}
            for name, values in sorted(tables[kind].items())
        }

    return _Group(
        exact=tuple(freeze("eq").items()),
        prefix=tuple(
            (name, tuple(sorted({len(v) for v in values})), values)
            for name, values in freeze("prefix").items()
        ),
        has=tuple(freeze("has").items()),
        ranges=tuple(_ranges(name, entries) for name, entries in sorted(ranges.items())),
        residual=tuple(residual),
    )


@attrs.frozen(eq=False)
class RoutingIndex:
    """A :class:`~sfakit.territory.tree.TerritoryTree` compiled for fast matching; made by
    :func:`compile_index`. Pass it to :func:`~sfakit.territory.route` in place of the tree.

    >>> from sfakit.territory import TerritoryNode, TerritoryTree
    >>> compile_index(TerritoryTree(nodes=[TerritoryNode(key="world")])).stats.residual
    1
    """

    tree: TerritoryTree
    stats: IndexStats
    _roots: _Group = attrs.field(repr=False)
    _groups: tuple[_Group | None, ...] = attrs.field(repr=False)

    def matching(self, subject: RoutingSubject) -> tuple[str, ...]:
        """The keys of every territory matching ``subject``, in definition order.

        >>> from sfakit.territory import RoutingSubject, TerritoryNode, TerritoryTree
        >>> index = compile_index(TerritoryTree(nodes=[TerritoryNode(key="world")]))
        >>> index.matching(RoutingSubject(id="lead_1"))
        ('world',)
        """
        if not isinstance(subject, RoutingSubject):
            raise ValidationError("$.subject", subject, "a RoutingSubject")
        keys = self.tree._table.keys
        return tuple(keys[i] for i in self.match(subject))

    def match(self, subject: RoutingSubject) -> list[int]:
        """Indexes of the matching nodes, ascending (internal; no type check)."""
        matchers = self.tree._table.matchers
        groups = self._groups
        found: list[int] = []
        pending = [self._roots]
        while pending:
            group = pending.pop()
            for i in group.candidates(subject):
                matcher = matchers[i]
                if matcher is None or matcher(subject):
                    found.append(i)
                    below = groups[i]
                    if below is not None:
                        pending.append(below)
        found.sort()
        return found


def compile_index(tree: TerritoryTree) -> RoutingIndex:
    """Compile ``tree`` into a :class:`RoutingIndex` (results identical to the scan).

    >>> from sfakit.rules import field
    >>> from sfakit.territory import TerritoryNode, TerritoryTree
    >>> tree = TerritoryTree(nodes=[
    ...     TerritoryNode(key="fr", rules=field("country").isin(["FR", "MC"])),
    ...     TerritoryNode(key="de", rules=field("country").eq("DE")),
    ...     TerritoryNode(key="lamps", rules=field("product_interest").contains("fixtures")),
    ...     TerritoryNode(key="big", rules=field("company_size").ge(1000)),
    ... ])
    >>> stats = compile_index(tree).stats
    >>> stats.exact, stats.contains, stats.residual
    (2, 1, 1)
    """
    if not isinstance(tree, TerritoryTree):
        raise ValidationError("$.tree", tree, "a TerritoryTree")
    table = tree._table
    own = [_options(node.rules) for node in tree.nodes]
    counts = Counter[str]()
    roots = tuple(i for i, p in enumerate(table.parent) if p < 0)
    root_group = _group(roots, own, counts)
    groups = tuple(
        _group(children, own, counts) if children else None for children in table.children
    )
    return RoutingIndex(
        tree=tree,
        stats=IndexStats(
            territories=len(tree.nodes),
            exact=counts["exact"],
            prefix=counts["prefix"],
            contains=counts["contains"],
            ranges=counts["ranges"],
            residual=counts["residual"],
            never=counts["never"],
        ),
        roots=root_group,
        groups=groups,
    )
