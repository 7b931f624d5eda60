"""What a forecast is grouped by: one field of the deal, flat or as a hierarchy.

A :class:`Dimension` names the deal field that places a deal in a group: its
``owner_id``, ``territory_id`` or ``product_line``. Grouped flat, each distinct value
(and "none") is a group. A :class:`Hierarchy` arranges groups in a tree — the manager
chain (rep → manager → their manager, from :attr:`~sfakit.model.SalesRep.manager_id`)
or the territory tree — and a forecast then rolls each node up **cumulatively**: a
node's total is its own deals plus the totals of its children, as Salesforce's
collaborative forecasts roll reps up to their managers and territories to their parents.

A node's ``match`` is the field value that places deals on it directly (the rep's id,
the stored territory's id); a node without one (a region with no territory record) only
collects its children. Hierarchies are data and check themselves: unique keys, known
parents, no cycles, each ``match`` on one node.

>>> from datetime import datetime, timezone
>>> from sfakit.model import SalesRep
>>> t0 = datetime(2026, 1, 5, tzinfo=timezone.utc)
>>> team = manager_hierarchy([
...     SalesRep(id="rep_vp", name="Vera", created_at=t0),
...     SalesRep(id="rep_mia", name="Mia", manager_id="rep_vp", created_at=t0),
...     SalesRep(id="rep_al", name="Al", manager_id="rep_mia", created_at=t0)])
>>> team.path("rep_al"), team.children("rep_vp")
(('rep_vp', 'rep_mia', 'rep_al'), ('rep_mia',))
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

import attrs

from sfakit.errors import NotFoundError, Problem, ValidationError
from sfakit.model.checks import enum_of, instance_of, optional, text, to_tuple, tuple_of
from sfakit.model.opportunities import Opportunity
from sfakit.model.parties import SalesRep
from sfakit.territory import TerritoryTree

__all__ = ["Dimension", "Hierarchy", "HierarchyNode", "manager_hierarchy", "territory_hierarchy"]


class Dimension(enum.StrEnum):
    """The deal field that places a deal in a forecast group.

    >>> from datetime import datetime, timezone
    >>> deal = Opportunity(name="A", account_id="acct_a", pipeline="standard", stage="qualify",
    ...     product_line="lamps", created_at=datetime(2026, 1, 5, tzinfo=timezone.utc))
    >>> Dimension.PRODUCT_LINE.value_of(deal), Dimension.OWNER.value_of(deal)
    ('lamps', None)
    """

    OWNER = "owner"
    TERRITORY = "territory"
    PRODUCT_LINE = "product_line"

    @property
    def field(self) -> str:
        """The :class:`~sfakit.model.Opportunity` field read."""
        return _FIELDS[self]

    def value_of(self, opportunity: Opportunity) -> str | None:
        """The deal's value of this dimension (None: it has none)."""
        value: str | None = getattr(opportunity, _FIELDS[self])
        return value


_FIELDS = {
    Dimension.OWNER: "owner_id",
    Dimension.TERRITORY: "territory_id",
    Dimension.PRODUCT_LINE: "product_line",
}
_key = text(max_length=200)


def _to_dimension(value: Any) -> Any:
    if isinstance(value, str) and not isinstance(value, Dimension):
        try:
            return Dimension(value)
        except ValueError:
            return value
    return value


@attrs.frozen(kw_only=True)
class HierarchyNode:
    """One node: its key (the forecast line's group), its parent, the deal field value
    that places deals on it (``match``) and a label for display.

    >>> HierarchyNode(key="emea", label="Europe").parent is None
    True
    """

    key: str = attrs.field(validator=_key)
    parent: str | None = attrs.field(default=None, validator=optional(_key))
    match: str | None = attrs.field(default=None, validator=optional(_key))
    label: str | None = attrs.field(default=None, validator=optional(_key))


@attrs.frozen(kw_only=True)
class Hierarchy:
    """Nodes of one :class:`Dimension` in a tree (several roots allowed).

    >>> from sfakit.codec import from_data, to_data
    >>> tree = Hierarchy(dimension="territory", nodes=[HierarchyNode(key="emea"),
    ...     HierarchyNode(key="dach", parent="emea", match="terr_dach")])
    >>> from_data(Hierarchy, to_data(tree)) == tree, tree.node_of("terr_dach")
    (True, 'dach')
    >>> Hierarchy(dimension="owner", nodes=[HierarchyNode(key="a", parent="b"),
    ...                                     HierarchyNode(key="b", parent="a")])
    Traceback (most recent call last):
    ...
    sfakit.errors.ValidationError: invalid hierarchy: $.nodes[0].parent: got 'b'; expected a parent
    that is not below the node itself (a -> b -> a is a cycle)
    """

    dimension: Dimension = attrs.field(converter=_to_dimension, validator=enum_of(Dimension))
    nodes: tuple[HierarchyNode, ...] = attrs.field(
        converter=to_tuple, validator=tuple_of(instance_of(HierarchyNode, "a HierarchyNode"))
    )
    _index: dict[str, int] = attrs.field(init=False, eq=False, repr=False, hash=False)
    _parents: tuple[int, ...] = attrs.field(init=False, eq=False, repr=False, hash=False)
    _by_match: dict[str, int] = attrs.field(init=False, eq=False, repr=False, hash=False)

    def __attrs_post_init__(self) -> None:
        problems: list[Problem] = []
        index: dict[str, int] = {}
        by_match: dict[str, int] = {}
        for i, node in enumerate(self.nodes):
            if node.key in index:
                problems.append(
                    Problem(
                        f"$.nodes[{i}].key", f"a key not used by nodes[{index[node.key]}]", node.key
                    )
                )
            index.setdefault(node.key, i)
            if node.match is not None:
                if node.match in by_match:
                    problems.append(
                        Problem(
                            f"$.nodes[{i}].match",
                            f"a value not matched by nodes[{by_match[node.match]}] already",
                            node.match,
                        )
                    )
                by_match.setdefault(node.match, i)
        parents: list[int] = []
        for i, node in enumerate(self.nodes):
            if node.parent is None:
                parents.append(-1)
            elif node.parent not in index:
                problems.append(
                    Problem(f"$.nodes[{i}].parent", "the key of another node", node.parent)
                )
                parents.append(-1)
            else:
                parents.append(index[node.parent])
        problems.extend(_cycles(self.nodes, parents))
        if problems:
            raise ValidationError.from_problems(problems, subject="hierarchy")
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_parents", tuple(parents))
        object.__setattr__(self, "_by_match", by_match)

    @property
    def keys(self) -> tuple[str, ...]:
        """The node keys, in definition order."""
        return tuple(self._index)

    @property
    def parent_indexes(self) -> tuple[int, ...]:
        """For each node, the index of its parent (-1 for a root)."""
        return self._parents

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def __len__(self) -> int:
        return len(self.nodes)

    def index(self, key: str) -> int:
        """The position of node ``key``, or :class:`~sfakit.errors.NotFoundError`."""
        try:
            return self._index[key]
        except (KeyError, TypeError):
            raise NotFoundError("hierarchy node", str(key), field="key") from None

    def node_of(self, value: str | None) -> str | None:
        """The key of the node a deal with this field ``value`` is placed on (None: none)."""
        found = self._by_match.get(value) if value is not None else None
        return None if found is None else self.nodes[found].key

    def match_index(self, value: str | None) -> int:
        """Like :meth:`node_of`, as a node index (-1: none)."""
        if value is None:
            return -1
        return self._by_match.get(value, -1)

    def path(self, key: str) -> tuple[str, ...]:
        """The keys from the root down to ``key``."""
        i = self.index(key)
        keys = []
        while i >= 0:
            keys.append(self.nodes[i].key)
            i = self._parents[i]
        return tuple(reversed(keys))

    def children(self, key: str | None = None) -> tuple[str, ...]:
        """The keys of ``key``'s children (of the roots for None), in definition order."""
        parent = -1 if key is None else self.index(key)
        return tuple(n.key for n, p in zip(self.nodes, self._parents, strict=True) if p == parent)


def _cycles(nodes: tuple[HierarchyNode, ...], parents: list[int]) -> list[Problem]:
    problems: list[Problem] = []
    state = [0] * len(nodes)  # 0 unseen, 1 on the current walk, 2 known to reach a root
    for start in range(len(nodes)):
        walk: list[int] = []
        i = start
        while i >= 0 and state[i] == 0:
            state[i] = 1
            walk.append(i)
            i = parents[i]
        if i >= 0 and state[i] == 1:
            cycle = walk[walk.index(i) :]
            names = " -> ".join(nodes[j].key for j in [*cycle, i])
            first = min(cycle)
            problems.append(
                Problem(
                    f"$.nodes[{first}].parent",
                    f"a parent that is not below the node itself ({names} is a cycle)",
                    nodes[first].parent,
                )
            )
        for j in walk:
            state[j] = 2
    return problems


def manager_hierarchy(reps: Iterable[SalesRep]) -> Hierarchy:
    """The manager chain of ``reps``: each rep is a node under their ``manager_id``, and
    deals are placed by ``owner_id``. A manager who is not among ``reps`` is an error.

    >>> from datetime import datetime, timezone
    >>> t0 = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> manager_hierarchy([SalesRep(id="rep_al", name="Al", manager_id="rep_gone",
    ...                             created_at=t0)])
    Traceback (most recent call last):
    ...
    sfakit.errors.ValidationError: $.reps[0].manager_id: got 'rep_gone'; expected the id of a rep...
    """
    items = list(reps)
    ids = set()
    for i, rep in enumerate(items):
        if not isinstance(rep, SalesRep):
            raise ValidationError(f"$.reps[{i}]", rep, "a SalesRep")
        ids.add(rep.id)
    for i, rep in enumerate(items):
        if rep.manager_id is not None and rep.manager_id not in ids:
            raise ValidationError(
                f"$.reps[{i}].manager_id", rep.manager_id, "the id of a rep in reps"
            )
    return Hierarchy(
        dimension=Dimension.OWNER,
        nodes=[
            HierarchyNode(key=rep.id, parent=rep.manager_id, match=rep.id, label=rep.name)
            for rep in items
        ],
    )


def territory_hierarchy(tree: TerritoryTree) -> Hierarchy:
    """The territory tree as a forecast hierarchy: nodes by territory key, deals placed
    by ``territory_id`` on the node that carries that stored territory's id.

    >>> from sfakit.territory import TerritoryNode, TerritoryTree
    >>> tree = TerritoryTree(nodes=[TerritoryNode(key="emea"),
    ...     TerritoryNode(key="dach", parent="emea", territory_id="terr_dach")])
    >>> territory_hierarchy(tree).node_of("terr_dach")
    'dach'
    """
    if not isinstance(tree, TerritoryTree):
        raise ValidationError("$.tree", tree, "a TerritoryTree")
    return Hierarchy(
        dimension=Dimension.TERRITORY,
        nodes=[
            HierarchyNode(key=n.key, parent=n.parent, match=n.territory_id, label=n.name)
            for n in tree.nodes
        ],
    )
