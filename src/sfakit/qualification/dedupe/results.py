"""What duplicate detection returns: pairs with the rule and scores that matched them,
and clusters of records that are all one customer.

A :class:`DuplicatePair` is symmetric: its ``left`` record has the smaller id, whatever
order the records came in. :func:`clusters` joins pairs transitively (union-find): if
A matches B and B matches C, A, B and C are one cluster even when A and C do not match.

>>> pairs = [DuplicatePair.of(RecordRef(RecordKind.LEAD, "lead_2"),
...                           RecordRef(RecordKind.CONTACT, "cont_1"), rule="same_email",
...                           comparisons=())]
>>> pairs[0].left.id, pairs[0].right.id
('cont_1', 'lead_2')
>>> clusters(pairs)
(('cont_1', 'lead_2'),)
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import attrs

from sfakit.errors import ValidationError
from sfakit.model.checks import enum_of, id_of_any, instance_of, non_negative_int, text, to_tuple
from sfakit.qualification.dedupe.records import RecordKind
from sfakit.qualification.dedupe.rules import MatchField, MatchRuleSet, Method, Scorer

__all__ = [
    "ComparisonResult",
    "DedupeResult",
    "DedupeStats",
    "DuplicatePair",
    "RecordRef",
    "RuleCount",
    "clusters",
]


@attrs.frozen(order=True)
class RecordRef:
    """A record by kind and id.

    >>> RecordRef(RecordKind.ACCOUNT, "acct_1")
    RecordRef(kind=<RecordKind.ACCOUNT: 'account'>, id='acct_1')
    """

    kind: RecordKind = attrs.field(validator=enum_of(RecordKind))
    id: str = attrs.field(validator=id_of_any)


def _score(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Decimal) or not 0 <= value <= 100:
        raise ValidationError(f"$.{attribute.name}", value, "a Decimal from 0 to 100")


@attrs.frozen(kw_only=True)
class ComparisonResult:
    """One comparison of a matching pair: the keys compared and the score (0-100).

    For an email or phone comparison ``left`` and ``right`` are the value they share.

    >>> ComparisonResult(field=MatchField.EMAIL, method=Method.EXACT, score=Decimal(100),
    ...                  left="a@x.de", right="a@x.de").passed
    True
    """

    field: MatchField = attrs.field(validator=enum_of(MatchField))
    method: Method = attrs.field(validator=enum_of(Method))
    scorer: Scorer | None = None
    threshold: Decimal | None = None
    score: Decimal = attrs.field(validator=_score)
    left: str = attrs.field(validator=instance_of(str, "a string"))
    right: str = attrs.field(validator=instance_of(str, "a string"))

    @property
    def passed(self) -> bool:
        return self.threshold is None or self.score >= self.threshold


@attrs.frozen(kw_only=True)
class DuplicatePair:
    """Two records that one rule matched, with the score of each of its comparisons.

    ``score`` is the rule's weakest comparison (100 for exact ones).

    >>> pair = DuplicatePair.of(RecordRef(RecordKind.LEAD, "lead_1"),
    ...                         RecordRef(RecordKind.LEAD, "lead_0"), rule="same_email",
    ...                         comparisons=())
    >>> pair.ids, pair.other("lead_0").id, pair.score
    (('lead_0', 'lead_1'), 'lead_1', Decimal('100'))
    """

    left: RecordRef = attrs.field(validator=instance_of(RecordRef, "a RecordRef"))
    right: RecordRef = attrs.field(validator=instance_of(RecordRef, "a RecordRef"))
    rule: str = attrs.field(validator=text(max_length=100))
    score: Decimal = attrs.field(validator=_score)
    comparisons: tuple[ComparisonResult, ...] = attrs.field(converter=to_tuple)

    def __attrs_post_init__(self) -> None:
        if not self.left.id < self.right.id:
            raise ValidationError(
                "$.right.id", self.right.id, f"an id after left's ({self.left.id!r})"
            )

    @classmethod
    def of(
        cls,
        a: RecordRef,
        b: RecordRef,
        *,
        rule: str,
        comparisons: Iterable[ComparisonResult],
    ) -> DuplicatePair:
        """The pair of ``a`` and ``b`` in either order: the smaller id goes left."""
        items = tuple(comparisons)
        if b.id < a.id:
            a, b = b, a
            items = tuple(attrs.evolve(c, left=c.right, right=c.left) for c in items)
        score = min((c.score for c in items), default=Decimal(100))
        return cls(left=a, right=b, rule=rule, score=score, comparisons=items)

    @property
    def ids(self) -> tuple[str, str]:
        return self.left.id, self.right.id

    def other(self, record_id: str) -> RecordRef:
        """The record of the pair that is not ``record_id``."""
        if record_id == self.left.id:
            return self.right
        if record_id == self.right.id:
            return self.left
        raise ValidationError("$.record_id", record_id, f"one of {self.ids}")

    def explain(self) -> str:
        """One line: which rule, and each comparison's score.

        >>> DuplicatePair.of(RecordRef(RecordKind.LEAD, "lead_1"),
        ...                  RecordRef(RecordKind.CONTACT, "cont_1"), rule="same_email",
        ...                  comparisons=[ComparisonResult(field=MatchField.EMAIL,
        ...                      method=Method.EXACT, score=Decimal(100),
        ...                      left="a@x.de", right="a@x.de")]).explain()
        "cont_1 ~ lead_1 by same_email: email 'a@x.de' = 'a@x.de'"
        """
        parts = []
        for c in self.comparisons:
            if c.method is Method.EXACT:
                parts.append(f"{c.field.value} {c.left!r} = {c.right!r}")
            else:
                assert c.scorer is not None
                parts.append(
                    f"{c.field.value} {c.left!r} ~ {c.right!r} "
                    f"{c.scorer.value} {c.score} >= {c.threshold}"
                )
        return f"{self.left.id} ~ {self.right.id} by {self.rule}: " + " and ".join(parts)


@attrs.frozen
class RuleCount:
    """How many pairs a rule matched first."""

    rule: str
    pairs: int = attrs.field(validator=non_negative_int)


@attrs.frozen(kw_only=True)
class DedupeStats:
    """The work done: records read, pairs compared, pairs found per rule.

    ``compared`` is every pair the rules were evaluated on: all ``n(n-1)/2`` without
    blocking, the candidates that share a blocking key with it.
    """

    records: int = attrs.field(validator=non_negative_int)
    compared: int = attrs.field(validator=non_negative_int)
    pairs: int = attrs.field(validator=non_negative_int)
    by_rule: tuple[RuleCount, ...] = attrs.field(converter=to_tuple)
    blocking: bool = attrs.field(validator=instance_of(bool, "true or false"))

    @property
    def all_pairs(self) -> int:
        """``n(n-1)/2``: what comparing every pair would cost."""
        return self.records * (self.records - 1) // 2


@attrs.frozen(kw_only=True)
class DedupeResult:
    """The pairs found (sorted by ids), their clusters, the rules used and the work done."""

    pairs: tuple[DuplicatePair, ...] = attrs.field(converter=to_tuple)
    clusters: tuple[tuple[str, ...], ...] = attrs.field(converter=to_tuple)
    rules: MatchRuleSet
    stats: DedupeStats

    def pair_ids(self) -> frozenset[tuple[str, str]]:
        """The pairs as ``(left id, right id)``, for comparing results."""
        return frozenset(p.ids for p in self.pairs)


def clusters(pairs: Iterable[DuplicatePair]) -> tuple[tuple[str, ...], ...]:
    """Records joined by pairs, transitively (union-find): sorted ids, sorted clusters.

    >>> def pair(a, b):
    ...     return DuplicatePair.of(RecordRef(RecordKind.LEAD, a), RecordRef(RecordKind.LEAD, b),
    ...                             rule="r", comparisons=())
    >>> clusters([pair("lead_a", "lead_b"), pair("lead_c", "lead_b"), pair("lead_x", "lead_y")])
    (('lead_a', 'lead_b', 'lead_c'), ('lead_x', 'lead_y'))
    """
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:  # path compression keeps later finds short
            parent[x], x = root, parent[x]
        return root

    for pair in pairs:
        a, b = pair.left.id, pair.right.id
        parent.setdefault(a, a)
        parent.setdefault(b, b)
        ra, rb = find(a), find(b)
        if ra != rb:
            if rb < ra:
                ra, rb = rb, ra
            parent[rb] = ra
    groups: dict[str, list[str]] = {}
    for x in parent:
        groups.setdefault(find(x), []).append(x)
    return tuple(sorted(tuple(sorted(g)) for g in groups.values()))
