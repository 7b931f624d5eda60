"""The territory tree as data: nodes with rules, members, a strategy and a fallback.

A :class:`TerritoryTree` is a tuple of :class:`TerritoryNode` s, each naming its parent by
key: region → district → territory, to any depth. A node's ``rules`` are criteria over
:class:`~sfakit.territory.subject.RoutingSubject`; a node matches a subject when its rules
match (no rules: always) *and its parent matches*. Rules name fields, never people: who
works a territory is its ``members`` (a rep id and a role), so a rep who leaves is a data
change, not a rule change.

Building a tree checks it whole and reports every problem with the path of the bad
node (``$.nodes[4].parent``): duplicate keys, unknown parents, cycles, rules that do not
compile, unknown strategy names, negative weights or limits. :func:`check_roster` then
checks the rep ids against a roster of :class:`~sfakit.model.SalesRep`.

>>> from sfakit.rules import field
>>> tree = TerritoryTree(nodes=[
...     TerritoryNode(key="dach", rules=field("country").isin(["DE", "AT", "CH"])),
...     TerritoryNode(key="bavaria", parent="dach", rules=field("postal_code").startswith("8"),
...                   members=[Member("rep_anna"), Member("rep_ben")]),
... ])
>>> tree.path("bavaria")
('dach', 'bavaria')
>>> TerritoryTree(nodes=[TerritoryNode(key="x", parent="nowhere")])  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
sfakit.errors.ValidationError: invalid territory tree: $.nodes[0].parent: got 'nowhere'; ...
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs

from sfakit.codec import from_data
from sfakit.errors import NotFoundError, Problem, ValidationError
from sfakit.model.checks import (
    enum_of,
    id_of,
    instance_of,
    non_negative_int,
    optional,
    text,
    to_tuple,
    tuple_of,
)
from sfakit.model.ids import SalesRepId, TerritoryId
from sfakit.model.parties import SalesRep
from sfakit.rules import AllOf, AnyOf, CompiledCriteria, Condition, Criteria, Not, compile_criteria
from sfakit.territory.subject import RoutingSubject

__all__ = [
    "Member",
    "Strategy",
    "StrategySpec",
    "TerritoryNode",
    "TerritoryTree",
    "TiePolicy",
    "check_roster",
    "load_tree",
    "roster",
]

_KEY: Final = re.compile(r"[a-z0-9][a-z0-9_\-]{0,99}")
_KEY_EXPECTED: Final = "a key of lower-case letters, digits, '_' or '-' (at most 100)"


def _key(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or _KEY.fullmatch(value) is None:
        raise ValidationError(f"$.{attribute.name}", value, _KEY_EXPECTED)


def _keys(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    tuple_of(_key)(instance, attribute, value)


# Converters: a str taken as an id (the validator checks it), so that typed code can
# write ``Member("rep_anna")`` without wrapping every literal in SalesRepId.
def _to_rep_id(value: str) -> SalesRepId:
    return SalesRepId(value)


def _to_optional_rep_id(value: str | None) -> SalesRepId | None:
    return None if value is None else SalesRepId(value)


def _optional_territory_id(value: str | None) -> TerritoryId | None:
    return None if value is None else TerritoryId(value)


class Strategy(enum.StrEnum):
    """How a territory picks one of its members for a new item.

    * ``round_robin``: the next eligible member after the one who got the last item.
    * ``least_loaded``: the eligible member with the fewest open items.
    * ``weighted``: the lowest open items / member ``weight`` ratio.
    * ``capacity_weighted``: the lowest open items / rep ``capacity`` ratio (Odoo).
    * ``daily_quota``: the lowest assigned today / member ``daily_limit`` ratio.

    Ties always go to the member next in round-robin order, so each is fair too.

    >>> Strategy("least_loaded") is Strategy.LEAST_LOADED
    True
    """

    ROUND_ROBIN = "round_robin"
    LEAST_LOADED = "least_loaded"
    WEIGHTED = "weighted"
    CAPACITY_WEIGHTED = "capacity_weighted"
    DAILY_QUOTA = "daily_quota"


_STRATEGIES: Final = ", ".join(s.value for s in Strategy)


def _to_strategy(value: object) -> object:
    if isinstance(value, str) and not isinstance(value, Strategy):
        try:
            return Strategy(value)
        except ValueError:
            return value
    return value


def _strategy(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Strategy):
        raise ValidationError(f"$.{attribute.name}", value, f"a strategy: one of {_STRATEGIES}")


@attrs.frozen(kw_only=True)
class StrategySpec:
    """Which members may receive items and how one is chosen.

    ``roles``: the member roles that receive items (empty: every role).
    ``required_skills``: skills every chosen rep must have (``SalesRep.skills``).
    ``match_language``: the rep must speak the subject's language (``SalesRep.languages``;
    ``en`` and ``en-GB`` match, by primary subtag, ignoring case).
    ``match_products``: the rep's skills must include at least one of the subject's
    ``product_interest``. Both filters pass when the subject has no such data.

    >>> spec = StrategySpec(name="least_loaded", roles=["sales"], match_language=True)
    >>> spec.name, spec.roles
    (<Strategy.LEAST_LOADED: 'least_loaded'>, ('sales',))
    >>> StrategySpec(name="random")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sfakit.errors.ValidationError: $.name: got 'random'; expected a strategy: one of round_robin...
    """

    name: Strategy = attrs.field(
        default=Strategy.ROUND_ROBIN, converter=_to_strategy, validator=_strategy
    )
    roles: tuple[str, ...] = attrs.field(default=(), converter=to_tuple, validator=_keys)
    required_skills: tuple[str, ...] = attrs.field(
        default=(), converter=to_tuple, validator=tuple_of(text(max_length=100))
    )
    match_language: bool = attrs.field(default=False, validator=instance_of(bool, "true or false"))
    match_products: bool = attrs.field(default=False, validator=instance_of(bool, "true or false"))

    def receives(self, role: str) -> bool:
        """Whether members with ``role`` may be given items.

        >>> StrategySpec(roles=["sales"]).receives("manager")
        False
        """
        return not self.roles or role in self.roles


@attrs.frozen
class Member:
    """A rep working a territory in a role (``sales``, ``manager``, ``overlay`` …).

    ``weight`` is the member's share for the ``weighted`` strategy (0: receives nothing
    new); ``daily_limit`` caps the items they get per day in this territory (None: no
    cap) and is the share of the ``daily_quota`` strategy.

    >>> Member("rep_anna", "sales", weight=2)
    Member(rep_id='rep_anna', role='sales', weight=2, daily_limit=None)
    >>> Member("rep_anna", weight=-1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sfakit.errors.ValidationError: $.weight: got -1; expected a whole number >= 0
    """

    rep_id: SalesRepId = attrs.field(converter=_to_rep_id, validator=id_of("SalesRep"))
    role: str = attrs.field(default="sales", validator=_key)
    weight: int = attrs.field(default=1, kw_only=True, validator=non_negative_int)
    daily_limit: int | None = attrs.field(
        default=None, kw_only=True, validator=optional(non_negative_int)
    )


def _members(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    tuple_of(instance_of(Member, "a Member"))(instance, attribute, value)


def _name_default(node: Any) -> Any:
    return node.key


def _criteria(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not isinstance(value, Condition | AllOf | AnyOf | Not):
        raise ValidationError(
            "$.rules", value, "a criteria (Condition, AllOf, AnyOf or Not) or None"
        )


@attrs.frozen(kw_only=True)
class TerritoryNode:
    """One territory: where it hangs, what it matches, who works it, how items are given.

    ``priority`` breaks ties between matching territories at the same depth (higher
    wins). ``fallback_owner`` (a rep) or ``fallback_queue`` (a queue name) receive items
    when no member qualifies; without either, the parent's fallback applies, and at the
    top the tree's ``default_queue``. ``territory_id`` links the node to the stored
    :class:`~sfakit.model.Territory` (quotas refer to territories by id).

    >>> from sfakit.rules import field
    >>> node = TerritoryNode(key="munich", parent="bavaria",
    ...                      rules=field("postal_code").startswith("80"),
    ...                      members=[Member("rep_anna")], fallback_queue="bavaria-inbox")
    >>> node.name, node.strategy.name
    ('munich', <Strategy.ROUND_ROBIN: 'round_robin'>)
    >>> TerritoryNode(key="x", rules=field("contry").eq("DE"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sfakit.errors.ValidationError: invalid territory: $.rules.field: got 'contry'; ...
    """

    key: str = attrs.field(validator=_key)
    name: str = attrs.field(
        default=attrs.Factory(_name_default, takes_self=True), validator=text(max_length=200)
    )
    parent: str | None = attrs.field(default=None, validator=optional(_key))
    rules: Criteria | None = attrs.field(default=None, validator=_criteria)
    priority: int = attrs.field(default=0, validator=instance_of(int, "a whole number"))
    members: tuple[Member, ...] = attrs.field(default=(), converter=to_tuple, validator=_members)
    strategy: StrategySpec = attrs.field(
        factory=StrategySpec, validator=instance_of(StrategySpec, "a StrategySpec")
    )
    fallback_owner: SalesRepId | None = attrs.field(
        default=None, converter=_to_optional_rep_id, validator=optional(id_of("SalesRep"))
    )
    fallback_queue: str | None = attrs.field(default=None, validator=optional(text(max_length=100)))
    territory_id: TerritoryId | None = attrs.field(
        default=None, converter=_optional_territory_id, validator=optional(id_of("Territory"))
    )
    _compiled: CompiledCriteria[RoutingSubject] | None = attrs.field(
        init=False, default=None, eq=False, repr=False
    )

    def __attrs_post_init__(self) -> None:
        problems: list[Problem] = []
        if self.parent == self.key:
            problems.append(Problem("$.parent", "another territory than itself", self.parent))
        seen: dict[str, int] = {}
        for i, member in enumerate(self.members):
            if member.rep_id in seen:
                first = seen[member.rep_id]
                problems.append(
                    Problem(
                        f"$.members[{i}].rep_id",
                        f"each rep at most once per territory (also members[{first}])",
                        member.rep_id,
                    )
                )
            seen.setdefault(member.rep_id, i)
            if (
                self.strategy.name is Strategy.DAILY_QUOTA
                and self.strategy.receives(member.role)
                and member.daily_limit is None
            ):
                problems.append(
                    Problem(
                        f"$.members[{i}].daily_limit",
                        "a daily limit: the daily_quota strategy shares items by it",
                        None,
                    )
                )
        if self.rules is not None:
            try:
                compiled = compile_criteria(self.rules, RoutingSubject)
            except ValidationError as exc:
                problems.extend(exc.under("$.rules").problems)
            else:
                object.__setattr__(self, "_compiled", compiled)
        if problems:
            raise ValidationError.from_problems(problems, subject="territory")

    @property
    def compiled(self) -> CompiledCriteria[RoutingSubject] | None:
        """The rules compiled against RoutingSubject (None when the node has no rules).

        >>> TerritoryNode(key="all").compiled is None
        True
        """
        return self._compiled


class TiePolicy(enum.StrEnum):
    """What happens when several territories match at the same depth and priority.

    * ``queue`` (default, as Salesforce leaves such records unassigned): the subject goes
      to the tree's ``review_queue`` with no territory; the trace lists the tied ones.
    * ``first_defined``: the tied territory defined first in ``nodes`` wins.
    * ``error``: :func:`~sfakit.territory.route` raises ``AmbiguousRouteError``.

    >>> TiePolicy("first_defined") is TiePolicy.FIRST_DEFINED
    True
    """

    QUEUE = "queue"
    FIRST_DEFINED = "first_defined"
    ERROR = "error"


def _to_tie_policy(value: object) -> object:
    if isinstance(value, str) and not isinstance(value, TiePolicy):
        try:
            return TiePolicy(value)
        except ValueError:
            return value
    return value


def _nodes(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    tuple_of(instance_of(TerritoryNode, "a TerritoryNode"))(instance, attribute, value)


def _fields_of(rule: Criteria | None) -> frozenset[str]:
    if rule is None:
        return frozenset()
    if isinstance(rule, Condition):
        return frozenset((rule.field.split(".")[0],))
    if isinstance(rule, Not):
        return _fields_of(rule.item)
    found: frozenset[str] = frozenset()
    for item in rule.items:
        found |= _fields_of(item)
    return found


@attrs.frozen(eq=False)
class _Table:
    """The tree flattened into parallel lists for the routing loops (internal)."""

    keys: tuple[str, ...]
    index_of: Mapping[str, int]
    parent: tuple[int, ...]  # -1 for a root
    depth: tuple[int, ...]
    priority: tuple[int, ...]
    order: tuple[int, ...]  # parents before children: by depth, then definition
    matchers: tuple[Any, ...]  # the compiled `matches` of each node, or None
    children: tuple[tuple[int, ...], ...]
    rule_fields: tuple[frozenset[str], ...]
    all_fields: tuple[str, ...]
    member_ids: tuple[frozenset[str], ...]


def _cycle_problems(nodes: tuple[TerritoryNode, ...], index_of: Mapping[str, int]) -> list[Problem]:
    problems: list[Problem] = []
    state = [0] * len(nodes)  # 0 unvisited, 1 on the current walk, 2 known to reach a root
    for start in range(len(nodes)):
        walk: list[int] = []
        i: int | None = start
        while i is not None and state[i] == 0:
            state[i] = 1
            walk.append(i)
            parent = nodes[i].parent
            i = index_of.get(parent) if parent is not None else None
        if i is not None and state[i] == 1:  # came back to a node of this walk: a cycle
            loop = walk[walk.index(i) :]
            shown = " → ".join(nodes[j].key for j in [*loop, i])
            first = min(loop)
            problems.append(
                Problem(
                    f"$.nodes[{first}].parent",
                    f"a parent that does not lead back to {nodes[first].key!r} (cycle: {shown})",
                    nodes[first].parent,
                )
            )
        for j in walk:
            state[j] = 2
    return problems


def _build_table(nodes: tuple[TerritoryNode, ...]) -> _Table:
    problems: list[Problem] = []
    index_of: dict[str, int] = {}
    ids: dict[str, int] = {}
    for i, node in enumerate(nodes):
        if node.key in index_of:
            problems.append(
                Problem(
                    f"$.nodes[{i}].key",
                    f"a key no other territory has (nodes[{index_of[node.key]}] has it)",
                    node.key,
                )
            )
        else:
            index_of[node.key] = i
        if node.territory_id is not None:
            if node.territory_id in ids:
                problems.append(
                    Problem(
                        f"$.nodes[{i}].territory_id",
                        f"an id no other node has (nodes[{ids[node.territory_id]}] has it)",
                        node.territory_id,
                    )
                )
            ids.setdefault(node.territory_id, i)
    for i, node in enumerate(nodes):
        if node.parent is not None and node.parent not in index_of:
            known = sorted(index_of)
            shown = ", ".join(known[:10]) + (", …" if len(known) > 10 else "")
            problems.append(
                Problem(
                    f"$.nodes[{i}].parent",
                    f"the key of a territory in this tree, or None for a root ({shown})",
                    node.parent,
                )
            )
    if problems:
        raise ValidationError.from_problems(problems, subject="territory tree")
    problems = _cycle_problems(nodes, index_of)
    if problems:
        raise ValidationError.from_problems(problems, subject="territory tree")
    parent = tuple(-1 if n.parent is None else index_of[n.parent] for n in nodes)
    depth = [-1] * len(nodes)
    for i in range(len(nodes)):
        chain: list[int] = []
        j = i
        while depth[j] < 0 and parent[j] >= 0:
            chain.append(j)
            j = parent[j]
        depth[j] = max(depth[j], 0)
        for k in reversed(chain):
            depth[k] = depth[parent[k]] + 1
    children: list[list[int]] = [[] for _ in nodes]
    for i, p in enumerate(parent):
        if p >= 0:
            children[p].append(i)
    rule_fields = tuple(_fields_of(n.rules) for n in nodes)
    return _Table(
        keys=tuple(n.key for n in nodes),
        index_of=index_of,
        parent=parent,
        depth=tuple(depth),
        priority=tuple(n.priority for n in nodes),
        order=tuple(sorted(range(len(nodes)), key=lambda i: (depth[i], i))),
        matchers=tuple(None if n.compiled is None else n.compiled.matches for n in nodes),
        children=tuple(tuple(c) for c in children),
        rule_fields=rule_fields,
        all_fields=tuple(sorted(frozenset().union(*rule_fields))),
        member_ids=tuple(frozenset(m.rep_id for m in n.members) for n in nodes),
    )


@attrs.frozen(kw_only=True)
class TerritoryTree:
    """Every territory, with the policies that apply to the whole tree.

    ``tie_policy`` decides ties (see :class:`TiePolicy`); ``review_queue`` receives tied
    subjects under the ``queue`` policy; ``default_queue`` receives subjects no
    territory matches and items no fallback anywhere up the tree could take.

    >>> tree = TerritoryTree(nodes=[TerritoryNode(key="world")], tie_policy="first_defined")
    >>> tree.tie_policy, tree.default_queue, len(tree)
    (<TiePolicy.FIRST_DEFINED: 'first_defined'>, 'unassigned', 1)
    """

    nodes: tuple[TerritoryNode, ...] = attrs.field(converter=to_tuple, validator=_nodes)
    tie_policy: TiePolicy = attrs.field(
        default=TiePolicy.QUEUE,
        converter=_to_tie_policy,
        validator=enum_of(TiePolicy),
    )
    review_queue: str = attrs.field(default="territory-review", validator=text(max_length=100))
    default_queue: str = attrs.field(default="unassigned", validator=text(max_length=100))
    _table: _Table = attrs.field(init=False, default=None, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_table", _build_table(self.nodes))

    def __len__(self) -> int:
        return len(self.nodes)

    def node(self, key: str) -> TerritoryNode:
        """The node with ``key``, or :class:`~sfakit.errors.NotFoundError`.

        >>> TerritoryTree(nodes=[TerritoryNode(key="world")]).node("world").key
        'world'
        """
        index = self._table.index_of.get(key)
        if index is None:
            raise NotFoundError("territory", key, field="key")
        return self.nodes[index]

    def path(self, key: str) -> tuple[str, ...]:
        """The keys from the root down to ``key``.

        >>> tree = TerritoryTree(nodes=[TerritoryNode(key="a"), TerritoryNode(key="b", parent="a")])
        >>> tree.path("b")
        ('a', 'b')
        """
        self.node(key)
        table = self._table
        i = table.index_of[key]
        keys = []
        while i >= 0:
            keys.append(table.keys[i])
            i = table.parent[i]
        return tuple(reversed(keys))

    def children(self, key: str | None = None) -> tuple[str, ...]:
        """The keys of the children of ``key`` (of the roots for None), in definition order.

        >>> tree = TerritoryTree(nodes=[TerritoryNode(key="a"), TerritoryNode(key="b", parent="a")])
        >>> tree.children(), tree.children("a")
        (('a',), ('b',))
        """
        table = self._table
        if key is None:
            return tuple(table.keys[i] for i, p in enumerate(table.parent) if p < 0)
        self.node(key)
        return tuple(table.keys[i] for i in table.children[table.index_of[key]])

    def replace_node(self, key: str, **changes: Any) -> TerritoryTree:
        """A copy of the tree with node ``key`` changed (and checked again).

        >>> tree = TerritoryTree(nodes=[TerritoryNode(key="a")])
        >>> tree.replace_node("a", priority=5).node("a").priority
        5
        """
        index = self._table.index_of.get(key)
        if index is None:
            raise NotFoundError("territory", key, field="key")
        nodes = list(self.nodes)
        nodes[index] = attrs.evolve(nodes[index], **changes)
        return attrs.evolve(self, nodes=tuple(nodes))


def roster(reps: Iterable[SalesRep]) -> dict[SalesRepId, SalesRep]:
    """Reps by id, the form routing reads them in; the same id twice is an error.

    >>> from datetime import datetime, timezone
    >>> t0 = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> sorted(roster([SalesRep(id="rep_anna", name="Anna", created_at=t0)]))
    ['rep_anna']
    """
    by_id: dict[SalesRepId, SalesRep] = {}
    for i, rep in enumerate(reps):
        if not isinstance(rep, SalesRep):
            raise ValidationError(f"$[{i}]", rep, "a SalesRep")
        if rep.id in by_id:
            raise ValidationError(f"$[{i}].id", rep.id, "each rep once in a roster")
        by_id[rep.id] = rep
    return by_id


def as_roster(
    reps: Mapping[SalesRepId, SalesRep] | Iterable[SalesRep],
) -> Mapping[SalesRepId, SalesRep]:
    if isinstance(reps, Mapping):
        return reps
    return roster(reps)


def check_roster(
    tree: TerritoryTree, reps: Mapping[SalesRepId, SalesRep] | Iterable[SalesRep]
) -> None:
    """Check that every rep the tree names is on the roster; raise one ValidationError
    listing each unknown one by path. Inactive reps are allowed (:func:`lint_tree` warns).

    A ``capacity_weighted`` territory also needs a capacity on each receiving rep.

    >>> from datetime import datetime, timezone
    >>> t0 = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> tree = TerritoryTree(nodes=[TerritoryNode(key="x", members=[Member("rep_gone")])])
    >>> try:
    ...     check_roster(tree, [SalesRep(id="rep_anna", name="Anna", created_at=t0)])
    ... except ValidationError as err:
    ...     print(err.path, "|", err.expected)
    $.nodes[0].members[0].rep_id | a rep on the roster
    """
    by_id = as_roster(reps)
    problems: list[Problem] = []
    for i, node in enumerate(tree.nodes):
        for j, member in enumerate(node.members):
            path = f"$.nodes[{i}].members[{j}].rep_id"
            rep = by_id.get(member.rep_id)
            if rep is None:
                problems.append(Problem(path, "a rep on the roster", member.rep_id))
            elif (
                node.strategy.name is Strategy.CAPACITY_WEIGHTED
                and node.strategy.receives(member.role)
                and rep.capacity is None
            ):
                problems.append(
                    Problem(
                        path,
                        "a rep with a capacity: the capacity_weighted strategy shares items by it",
                        member.rep_id,
                    )
                )
        if node.fallback_owner is not None and node.fallback_owner not in by_id:
            problems.append(
                Problem(f"$.nodes[{i}].fallback_owner", "a rep on the roster", node.fallback_owner)
            )
    if problems:
        raise ValidationError.from_problems(problems, subject="territory tree")


def load_tree(
    data: object, *, reps: Mapping[SalesRepId, SalesRep] | Iterable[SalesRep] | None = None
) -> TerritoryTree:
    """Build a tree from plain data (``sfakit.codec.to_data`` form) and, given ``reps``,
    check it against the roster.

    >>> from sfakit.codec import to_data
    >>> tree = TerritoryTree(nodes=[TerritoryNode(key="world")])
    >>> load_tree(to_data(tree)) == tree
    True
    >>> try:
    ...     load_tree({"nodes": [{"key": "a", "strategy": {"name": "lottery"}}]})
    ... except ValidationError as err:
    ...     print(err.path)
    $.nodes[0].strategy.name
    """
    tree = from_data(TerritoryTree, data)
    if reps is not None:
        check_roster(tree, reps)
    return tree
