"""Lint a territory tree: rules that can never win, never match, or people who left.

:func:`lint_tree` reports, without routing anything:

* ``shadowed``: a sibling of higher priority (or, under the ``first_defined`` tie policy,
  of equal priority and defined earlier) matches every subject this territory matches,
  so this territory never wins (its children still can). Found syntactically: the
  sibling has no conditions, the same ones, or a subset implied by this one's
  (``country eq DE`` implies ``country in (DE, AT)``; ``postal_code startswith 803``
  implies ``startswith 80``; a narrower ``between`` implies a wider one).
* ``tie``: the same with equal priority under the ``queue`` or ``error`` policy: every
  such subject ends in the review queue (or raises).
* ``unreachable``: no subject can match: contradictory conditions in one ``all``
  (``country eq DE`` and ``country eq FR``; ``in`` lists with nothing in common; a
  prefix that no listed value has), an empty ``any``, or a parent that cannot match.
* ``inactive_member`` (given ``reps``): a member or fallback owner who is inactive or
  not on the roster: items are not lost, but the territory rests on someone who left.
* ``no_receiver``: no member can receive items and no fallback up the tree is set,
  so items that stop here go to the tree's default queue.

>>> from sfakit.rules import field
>>> from sfakit.territory import TerritoryNode, TerritoryTree
>>> tree = TerritoryTree(nodes=[
...     TerritoryNode(key="dach", rules=field("country").isin(["DE", "AT", "CH"]), priority=1,
...                   fallback_queue="dach-inbox"),
...     TerritoryNode(key="germany", rules=field("country").eq("DE"), fallback_queue="de-inbox"),
...     TerritoryNode(key="nowhere", rules=field("country").eq("DE") & field("country").eq("FR"),
...                   fallback_queue="x"),
... ])
>>> [(i.kind.value, i.territory, i.related) for i in lint_tree(tree)]
[('shadowed', 'germany', 'dach'), ('unreachable', 'nowhere', None)]
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any, cast

import attrs

from sfakit.errors import ValidationError
from sfakit.model.ids import SalesRepId
from sfakit.model.parties import SalesRep
from sfakit.rules import AllOf, AnyOf, Condition, Criteria, FieldKind, Not, Operator, resolve_field
from sfakit.territory._text import describe, describe_all
from sfakit.territory.subject import RoutingSubject
from sfakit.territory.tree import TerritoryTree, TiePolicy, as_roster

__all__ = ["LintIssue", "LintKind", "lint_tree"]

O = Operator  # noqa: E741 - a short alias keeps the tables readable


class LintKind(enum.StrEnum):
    """What :func:`lint_tree` found (see the module docs).

    >>> LintKind("unreachable") is LintKind.UNREACHABLE
    True
    """

    SHADOWED = "shadowed"
    TIE = "tie"
    UNREACHABLE = "unreachable"
    INACTIVE_MEMBER = "inactive_member"
    NO_RECEIVER = "no_receiver"


_KIND_ORDER = {kind: i for i, kind in enumerate(LintKind)}


@attrs.frozen
class LintIssue:
    """One finding: its kind, the territory, the path of the node part concerned, a
    message, and the other territory involved (the shadowing sibling, say).

    >>> LintIssue(LintKind.TIE, "north", "$.nodes[1].rules", "always ties", "south").related
    'south'
    """

    kind: LintKind
    territory: str
    path: str
    message: str
    related: str | None = None


def _conjuncts(rule: Criteria | None) -> list[Criteria]:
    if rule is None:
        return []
    if isinstance(rule, AllOf):
        found: list[Criteria] = []
        for item in rule.items:
            found.extend(_conjuncts(item))
        return found
    return [rule]


@cache
def _kind(name: str) -> FieldKind:
    return resolve_field(RoutingSubject, name).type.kind


def _usable(cond: Condition) -> bool:
    """Whether the condition's raw value is the value the field is compared with.

    Numbers given as strings are coerced at compile time; leave those alone.
    """
    if _kind(cond.field) is not FieldKind.NUMBER:
        return True
    values = cond.value if isinstance(cond.value, tuple) else (cond.value,)
    return not any(isinstance(v, str) for v in values)


def _holds(cond: Condition, value: Any) -> bool:
    """Whether ``cond`` holds for a set field whose value is ``value``."""
    op, k = cond.op, cond.value
    try:
        if op is O.EQ:
            return bool(value == k)
        if op is O.NE:
            return bool(value != k)
        if op is O.IN:
            return value in k  # type: ignore[operator]
        if op is O.NOT_IN:
            return value not in k  # type: ignore[operator]
        if op is O.LT:
            return bool(value < k)
        if op is O.LE:
            return bool(value <= k)
        if op is O.GT:
            return bool(value > k)
        if op is O.GE:
            return bool(value >= k)
        if op is O.BETWEEN:
            low, high = cast(tuple[Any, Any], k)
            return bool(low <= value <= high)
        if op is O.STARTSWITH:
            return isinstance(value, str) and value.startswith(k)  # type: ignore[arg-type]
        if op is O.CONTAINS:
            return isinstance(value, str) and k in value  # type: ignore[operator]
        if op is O.MATCHES:
            return isinstance(value, str) and re.search(k, value) is not None  # type: ignore[call-overload]
        if op is O.IS_SET:
            return True
        if op is O.IS_EMPTY:
            return not value
    except TypeError:
        return False
    return False


def _finite(cond: Condition) -> set[Any] | None:
    if cond.op is O.EQ:
        return {cond.value}
    if cond.op is O.IN:
        return set(cast(tuple[Any, ...], cond.value))
    return None


def _bounds(conds: list[Condition]) -> str | None:
    """A contradiction among range conditions on one field, or None."""
    low: Any = None
    low_strict = False
    high: Any = None
    high_strict = False
    try:
        for c in conds:
            k = c.value
            los: list[tuple[Any, bool]] = []
            his: list[tuple[Any, bool]] = []
            if c.op is O.BETWEEN:
                a, b = cast(tuple[Any, Any], k)
                los.append((a, False))
                his.append((b, False))
            elif c.op in (O.GT, O.GE):
                los.append((k, c.op is O.GT))
            elif c.op in (O.LT, O.LE):
                his.append((k, c.op is O.LT))
            for value, strict in los:
                if low is None or value > low or (value == low and strict):
                    low, low_strict = value, strict
            for value, strict in his:
                if high is None or value < high or (value == high and strict):
                    high, high_strict = value, strict
        if (
            low is not None
            and high is not None
            and (low > high or (low == high and (low_strict or high_strict)))
        ):
            return "the ranges do not overlap"
    except TypeError:
        return None
    return None


def _contradiction(conjuncts: list[Criteria]) -> str | None:
    by_field: dict[str, list[Condition]] = {}
    for c in conjuncts:
        if isinstance(c, AnyOf) and not c.items:
            return "an empty any never matches"
        if isinstance(c, Not) and isinstance(c.item, AllOf) and not c.item.items:
            return "not (always) never matches"
        if isinstance(c, Condition) and _usable(c):
            by_field.setdefault(c.field, []).append(c)
    for name, conds in by_field.items():
        shown = f"{name}: no value satisfies " + " and ".join(describe(c) for c in conds)
        allowed: set[Any] | None = None
        for c in conds:
            values = _finite(c)
            if values is not None:
                allowed = values if allowed is None else allowed & values
        if allowed is not None:
            if not {v for v in allowed if all(_holds(c, v) for c in conds)}:
                return shown
            continue
        prefixes = [c.value for c in conds if c.op is O.STARTSWITH]
        for i, p in enumerate(prefixes):
            for q in prefixes[i + 1 :]:
                if not str(p).startswith(str(q)) and not str(q).startswith(str(p)):
                    return shown
        if _bounds(conds) is not None:
            return shown
        ops = {c.op for c in conds}
        if O.IS_EMPTY in ops and ((O.STARTSWITH in ops and any(prefixes)) or O.CONTAINS in ops):
            return shown
    return None


def _cond_implies(p: Condition, s: Condition) -> bool:
    """Whether every subject ``p`` holds for also satisfies ``s`` (same field)."""
    if p == s:
        return True
    if not (_usable(p) and _usable(s)):
        return False
    values = _finite(p)
    if values is not None:
        return all(_holds(s, v) for v in values)
    if s.op is O.IS_SET and p.op not in (O.NE, O.NOT_IN, O.IS_EMPTY):
        return True
    try:
        if p.op is O.STARTSWITH and s.op is O.STARTSWITH:
            return str(p.value).startswith(str(s.value))
        if p.op is O.BETWEEN:
            low, high = cast(tuple[Any, Any], p.value)
            if s.op is O.BETWEEN:
                s_low, s_high = cast(tuple[Any, Any], s.value)
                return bool(s_low <= low and high <= s_high)
            return _holds(s, low) and _holds(s, high) and s.op in (O.GE, O.GT, O.LE, O.LT)
        pv, sv = cast(Any, p.value), cast(Any, s.value)
        if p.op in (O.GE, O.GT) and s.op in (O.GE, O.GT):
            return bool(sv < pv or (sv == pv and (s.op is O.GE or p.op is O.GT)))
        if p.op in (O.LE, O.LT) and s.op in (O.LE, O.LT):
            return bool(sv > pv or (sv == pv and (s.op is O.LE or p.op is O.LT)))
    except TypeError:
        return False
    return False


def _implies(facts: list[Criteria], claim: Criteria) -> bool:
    """Whether ``facts`` (an all-of) syntactically imply ``claim``."""
    if claim in facts:
        return True
    if isinstance(claim, Condition):
        return any(
            isinstance(f, Condition) and f.field == claim.field and _cond_implies(f, claim)
            for f in facts
        )
    if isinstance(claim, AllOf):
        return all(_implies(facts, item) for item in claim.items)
    if isinstance(claim, AnyOf):
        return any(_implies(facts, item) for item in claim.items)
    return False


def lint_tree(
    tree: TerritoryTree, *, reps: Mapping[SalesRepId, SalesRep] | Iterable[SalesRep] | None = None
) -> tuple[LintIssue, ...]:
    """Every issue found in ``tree``, by node order (see the module docs for the kinds).

    >>> from datetime import datetime, timezone
    >>> from sfakit.model import SalesRep
    >>> from sfakit.territory import Member, TerritoryNode, TerritoryTree
    >>> t0 = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> gone = SalesRep(id="rep_gone", name="Gone", active=False, created_at=t0)
    >>> tree = TerritoryTree(nodes=[TerritoryNode(key="x", members=[Member("rep_gone")],
    ...                                           fallback_queue="inbox")])
    >>> [i.message for i in lint_tree(tree, reps=[gone])]
    ['member rep_gone is inactive: reassign their items (deactivate_rep) and remove them']
    """
    if not isinstance(tree, TerritoryTree):
        raise ValidationError("$.tree", tree, "a TerritoryTree")
    own = [_conjuncts(n.rules) for n in tree.nodes]
    effective, dead, issues = _unreachable(tree, own)
    issues += _shadowing(tree, own, effective, dead)
    if reps is not None:
        issues += _people(tree, as_roster(reps))
    issues += _receivers(tree, dead)
    issues.sort(key=lambda pair: (pair[0], _KIND_ORDER[pair[1].kind]))
    return tuple(issue for _, issue in issues)


_Found = list[tuple[int, LintIssue]]


def _unreachable(
    tree: TerritoryTree, own: list[list[Criteria]]
) -> tuple[list[list[Criteria]], list[bool], _Found]:
    table = tree._table
    issues: _Found = []
    effective: list[list[Criteria]] = [[] for _ in own]
    dead = [False] * len(own)
    for i in table.order:
        p = table.parent[i]
        effective[i] = (effective[p] if p >= 0 else []) + own[i]
        key = table.keys[i]
        if p >= 0 and dead[p]:
            dead[i] = True
            issue = LintIssue(
                LintKind.UNREACHABLE,
                key,
                f"$.nodes[{i}].parent",
                f"its parent {table.keys[p]} can never match",
                table.keys[p],
            )
            issues.append((i, issue))
            continue
        reason = _contradiction(effective[i])
        if reason is not None:
            dead[i] = True
            inherited = p >= 0 and _contradiction(own[i]) is None
            where = " (with its ancestors' rules)" if inherited else ""
            issue = LintIssue(
                LintKind.UNREACHABLE,
                key,
                f"$.nodes[{i}].rules",
                f"no subject can match{where}: {reason}",
            )
            issues.append((i, issue))
    return effective, dead, issues


def _shadowing(
    tree: TerritoryTree,
    own: list[list[Criteria]],
    effective: list[list[Criteria]],
    dead: list[bool],
) -> _Found:
    table = tree._table
    issues: _Found = []
    groups: dict[int, list[int]] = {}
    for i, p in enumerate(table.parent):
        groups.setdefault(p, []).append(i)
    first_defined = tree.tie_policy is TiePolicy.FIRST_DEFINED
    for siblings in groups.values():
        ranked = sorted(siblings, key=lambda j: (-table.priority[j], j))
        for i in siblings:
            if dead[i]:
                continue
            found: LintIssue | None = None
            for j in ranked:
                if j == i or dead[j]:
                    continue
                pi, pj = table.priority[i], table.priority[j]
                if pj < pi:
                    break
                if not all(_implies(effective[i], c) for c in own[j]):
                    continue
                ki, kj = table.keys[i], table.keys[j]
                rule = describe_all(own[j])
                if pj > pi or (first_defined and j < i):
                    why = f"priority {pj} > {pi}" if pj > pi else "defined first"
                    still = "; its children still can" if table.children[i] else ""
                    found = LintIssue(
                        LintKind.SHADOWED,
                        ki,
                        f"$.nodes[{i}].rules",
                        f"never wins: sibling {kj} ({why}) matches every subject it matches "
                        f"({rule}){still}",
                        kj,
                    )
                    break
                if found is None and not first_defined and j < i:
                    then = (
                        f"they go to the review queue {tree.review_queue!r}"
                        if tree.tie_policy is TiePolicy.QUEUE
                        else "routing raises AmbiguousRouteError"
                    )
                    found = LintIssue(
                        LintKind.TIE,
                        ki,
                        f"$.nodes[{i}].priority",
                        f"ties with sibling {kj} (priority {pi}) for every subject it matches "
                        f"({rule}): {then}",
                        kj,
                    )
            if found is not None:
                issues.append((i, found))
    return issues


def _people(tree: TerritoryTree, by_id: Mapping[SalesRepId, SalesRep]) -> _Found:
    issues: _Found = []
    for i, node in enumerate(tree.nodes):
        for j, member in enumerate(node.members):
            rep = by_id.get(member.rep_id)
            if rep is None or not rep.active:
                state = "not on the roster" if rep is None else "inactive"
                issue = LintIssue(
                    LintKind.INACTIVE_MEMBER,
                    node.key,
                    f"$.nodes[{i}].members[{j}]",
                    f"member {member.rep_id} is {state}: reassign their items "
                    "(deactivate_rep) and remove them",
                )
                issues.append((i, issue))
        owner = node.fallback_owner
        if owner is not None and (by_id.get(owner) is None or not by_id[owner].active):
            issue = LintIssue(
                LintKind.INACTIVE_MEMBER,
                node.key,
                f"$.nodes[{i}].fallback_owner",
                f"fallback owner {owner} is inactive or not on the roster",
            )
            issues.append((i, issue))
    return issues


def _receivers(tree: TerritoryTree, dead: list[bool]) -> _Found:
    table, nodes = tree._table, tree.nodes
    issues: _Found = []
    for i, node in enumerate(nodes):
        if dead[i] or any(node.strategy.receives(m.role) for m in node.members):
            continue
        k = i
        while k >= 0 and nodes[k].fallback_owner is None and nodes[k].fallback_queue is None:
            k = table.parent[k]
        if k < 0:
            issue = LintIssue(
                LintKind.NO_RECEIVER,
                node.key,
                f"$.nodes[{i}].members",
                "no member receives items and no fallback is set up the tree: items that "
                f"stop here go to the default queue {tree.default_queue!r}",
            )
            issues.append((i, issue))
    return issues
