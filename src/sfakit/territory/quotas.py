"""Quotas per rep and per territory, and whether they add up the tree.

A :class:`~sfakit.model.Quota` belongs to a rep or to a territory (by the stored
territory's id, which a node carries as ``territory_id``) for a fiscal period such as
``FY2027-Q1``. :func:`quota_rollup` compares, for each territory and each currency, the
territory's own quota with the sum of its *parts*: its child territories' quotas or,
for a territory without children, its receiving members' quotas. Every difference is
reported with the numbers; nothing is converted between currencies or hidden.

>>> from datetime import datetime, timezone
>>> from sfakit.model import Money, Quota
>>> from sfakit.territory import Member, TerritoryNode, TerritoryTree
>>> t0 = datetime(2026, 1, 5, tzinfo=timezone.utc)
>>> tree = TerritoryTree(nodes=[TerritoryNode(key="munich", territory_id="terr_muc",
...                                           members=[Member("rep_a"), Member("rep_b")])])
>>> quotas = [Quota(period="FY2027", amount=Money.of(100_000, "EUR"),
...                 territory_id="terr_muc", created_at=t0),
...           Quota(period="FY2027", amount=Money.of(60_000, "EUR"), sales_rep_id="rep_a",
...                 created_at=t0),
...           Quota(period="FY2027", amount=Money.of(30_000, "EUR"), sales_rep_id="rep_b",
...                 created_at=t0)]
>>> row = quota_rollup(tree, quotas, "FY2027").rows[0]
>>> row.status, str(row.parts_total), str(row.difference)
(<RollupStatus.MISMATCH: 'mismatch'>, '90000.00 EUR', '10000.00 EUR')
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

import attrs

from sfakit.errors import ValidationError
from sfakit.model.money import Money
from sfakit.model.territories import Quota
from sfakit.territory.tree import TerritoryTree

__all__ = ["QuotaReport", "QuotaRollup", "RollupStatus", "quota_rollup", "quota_totals"]


class RollupStatus(enum.StrEnum):
    """How a territory's own quota compares with its parts' sum, in one currency.

    >>> RollupStatus("missing_own") is RollupStatus.MISSING_OWN
    True
    """

    OK = "ok"
    MISMATCH = "mismatch"
    #: The parts carry a quota in this currency; the territory has none.
    MISSING_OWN = "missing_own"
    #: The territory has a quota in this currency; none of its parts carries any.
    MISSING_PARTS = "missing_parts"


@attrs.frozen
class QuotaRollup:
    """One territory, period and currency: its own quota, its parts and their sum.

    ``parts`` names each child territory (by key) or member rep (by id) with its amount.

    >>> row = QuotaRollup("t", "FY2027", "EUR", None, Money.of(5, "EUR"),
    ...                   (("rep_a", Money.of(5, "EUR")),), RollupStatus.MISSING_OWN)
    >>> str(row.difference)
    '-5.00 EUR'
    """

    territory: str
    period: str
    currency: str
    own: Money | None
    parts_total: Money
    parts: tuple[tuple[str, Money], ...]
    status: RollupStatus

    @property
    def difference(self) -> Money:
        """Own quota minus the parts' sum (positive: the parts fall short).

        >>> QuotaRollup("t", "FY2027", "EUR", Money.of(5, "EUR"), Money.of(5, "EUR"), (),
        ...             RollupStatus.OK).difference.is_zero()
        True
        """
        own = self.own if self.own is not None else Money.zero(self.currency)
        return own - self.parts_total


@attrs.frozen
class QuotaReport:
    """Every roll-up row of a period, and the territory quotas whose territory is not in
    the tree (``unmatched``).

    >>> QuotaReport("FY2027", (), ()).ok
    True
    """

    period: str
    rows: tuple[QuotaRollup, ...]
    unmatched: tuple[Quota, ...]

    @property
    def mismatches(self) -> tuple[QuotaRollup, ...]:
        """The rows that do not add up.

        >>> QuotaReport("FY2027", (), ()).mismatches
        ()
        """
        return tuple(row for row in self.rows if row.status is not RollupStatus.OK)

    @property
    def ok(self) -> bool:
        """True when every row adds up and every quota found its territory."""
        return not self.mismatches and not self.unmatched


def _quotas(quotas: Iterable[Quota]) -> list[Quota]:
    items = list(quotas)
    for i, quota in enumerate(items):
        if not isinstance(quota, Quota):
            raise ValidationError(f"$.quotas[{i}]", quota, "a Quota")
    return items


def _add(totals: dict[str, Money], amount: Money) -> None:
    current = totals.get(amount.currency)
    totals[amount.currency] = amount if current is None else current + amount


def quota_totals(
    quotas: Iterable[Quota],
    period: str,
    *,
    rep_id: str | None = None,
    territory_id: str | None = None,
) -> dict[str, Money]:
    """The quota of one rep or one territory for ``period``, per currency.

    >>> from datetime import datetime, timezone
    >>> t0 = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> qs = [Quota(period="FY2027-Q1", amount=Money.of(10, "EUR"), sales_rep_id="rep_a",
    ...             created_at=t0),
    ...       Quota(period="FY2027-Q1", amount=Money.of(4, "USD"), sales_rep_id="rep_a",
    ...             created_at=t0)]
    >>> {c: str(m) for c, m in quota_totals(qs, "FY2027-Q1", rep_id="rep_a").items()}
    {'EUR': '10.00 EUR', 'USD': '4.00 USD'}
    """
    if (rep_id is None) == (territory_id is None):
        raise ValidationError("$.rep_id", rep_id, "exactly one of rep_id or territory_id")
    totals: dict[str, Money] = {}
    for quota in _quotas(quotas):
        if quota.period != period:
            continue
        if (rep_id is not None and quota.sales_rep_id == rep_id) or (
            territory_id is not None and quota.territory_id == territory_id
        ):
            _add(totals, quota.amount)
    return totals


def quota_rollup(tree: TerritoryTree, quotas: Iterable[Quota], period: str) -> QuotaReport:
    """Check, per territory and currency, that the parts' quotas add up to its own.

    >>> from sfakit.territory import TerritoryNode, TerritoryTree
    >>> tree = TerritoryTree(nodes=[TerritoryNode(key="world")])
    >>> quota_rollup(tree, [], "FY2027").rows
    ()
    """
    if not isinstance(tree, TerritoryTree):
        raise ValidationError("$.tree", tree, "a TerritoryTree")
    items = [q for q in _quotas(quotas) if q.period == period]
    by_territory: dict[str, dict[str, Money]] = {}
    by_rep: dict[str, dict[str, Money]] = {}
    for quota in items:
        if quota.territory_id is not None:
            _add(by_territory.setdefault(quota.territory_id, {}), quota.amount)
        elif quota.sales_rep_id is not None:
            _add(by_rep.setdefault(quota.sales_rep_id, {}), quota.amount)
    known = {n.territory_id for n in tree.nodes if n.territory_id is not None}
    unmatched = tuple(
        q for q in items if q.territory_id is not None and q.territory_id not in known
    )
    table = tree._table

    def own_of(index: int) -> dict[str, Money]:
        tid = tree.nodes[index].territory_id
        return by_territory.get(tid, {}) if tid is not None else {}

    rows: list[QuotaRollup] = []
    for i, node in enumerate(tree.nodes):
        own = own_of(i)
        parts: list[tuple[str, Money]] = []
        if table.children[i]:
            for c in table.children[i]:
                parts.extend((table.keys[c], m) for m in own_of(c).values())
        else:
            for member in node.members:
                if node.strategy.receives(member.role):
                    parts.extend((member.rep_id, m) for m in by_rep.get(member.rep_id, {}).values())
        currencies = sorted(set(own) | {m.currency for _, m in parts})
        for currency in currencies:
            mine = tuple((who, m) for who, m in parts if m.currency == currency)
            total = Money.sum((m for _, m in mine), currency=currency)
            own_amount = own.get(currency)
            if own_amount is None:
                status = RollupStatus.MISSING_OWN
            elif not mine:
                status = RollupStatus.MISSING_PARTS
            elif own_amount == total:
                status = RollupStatus.OK
            else:
                status = RollupStatus.MISMATCH
            rows.append(QuotaRollup(node.key, period, currency, own_amount, total, mine, status))
    return QuotaReport(period, tuple(rows), unmatched)
