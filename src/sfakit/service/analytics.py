"""Pipeline analytics through the service: one call per question.

:meth:`~PipelineAnalytics.analyse` runs any analytic of :mod:`sfakit.pipeline.analytics`
over the stored deals of one pipeline, optionally inside a time ``window`` and for the
deals matching rules-DSL ``where`` criteria; :meth:`~PipelineAnalytics.analyse_by` does
it per value of a field (a dict sorted by key, None last, as :meth:`Deals.group_by
<sfakit.pipeline.deals.Deals.group_by>` gives).

Where the backend offers :attr:`~sfakit.storage.Capability.AGGREGATE`, losses, win rate
and cycle time are computed by the database when there are no ``where`` criteria and
``group_by`` is an indexed text field: losses and win rate by ``GROUP BY`` over the
opportunities' indexed columns (``last_open_stage``, ``lost_reason``, ``stage``), cycle
time from the sorted ``cycle_microseconds`` column (``Transaction.values``: one per deal,
since a median needs them all). The result is then assembled by the same code as in
memory, so both paths give identical answers (a property the test suite checks on every
backend). The push-down reads ``closed_at``, which service moves always set; deals
imported closed without it count in memory only (where their history supplies the
moment).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, TypeVar

from sfakit.errors import ValidationError
from sfakit.model import Opportunity
from sfakit.pipeline import (
    DayStats,
    Deals,
    Losses,
    Outcome,
    Pipeline,
    Window,
    WinRate,
    cycle_time,
    losses,
    win_rate,
)
from sfakit.rules import Criteria
from sfakit.service.selling import Selling
from sfakit.storage.api import AggregateRow, Capability, In, NotNull, Range, Transaction, Where
from sfakit.storage.catalog import IndexKind, kind_spec

__all__ = ["PipelineAnalytics"]

R = TypeVar("R")

_OPPORTUNITIES = kind_spec(Opportunity)


def _group_key(value: Any) -> tuple[bool, Any]:
    return (value is None, value if value is not None else 0)


class PipelineAnalytics(Selling):
    """Mixed into :class:`~sfakit.Sfa`, after :class:`~sfakit.service.selling.Selling`
    whose :meth:`deals` it reads for the in-memory path."""

    # -- loading --------------------------------------------------------------------

    def _pipeline(self, key: str | None) -> Pipeline:
        return self.pipelines.get(key) if key else self.pipelines.pipelines[0]

    def _pushable(self, where: Criteria | None, group_by: str | None) -> bool:
        if where is not None or Capability.AGGREGATE not in self.storage.capabilities:
            return False
        if group_by is None:
            return True
        spec = next((ix for ix in _OPPORTUNITIES.indexes if ix.field == group_by), None)
        return spec is not None and spec.kind is IndexKind.TEXT

    def _pushed(
        self,
        chosen: Pipeline,
        group_by: str | None,
        fields: list[str],
        stages: Iterable[str],
        *,
        window: Window | None,
        assemble: Callable[[list[AggregateRow]], R],
        money: bool = False,
    ) -> R | dict[Any, R]:
        where = _closed_in(chosen, stages, window)
        groups = [group_by] if group_by else []
        with self.storage.transaction(readonly=True) as tx:
            rows = tx.aggregate(
                Opportunity,
                group_by=[*groups, *fields],
                sum=["amount"] if money else [],
                where=where,
            )
            if group_by is None:
                return assemble(rows)
            keys = _group_keys(tx, chosen, group_by)
        split: dict[Any, list[AggregateRow]] = {key: [] for key in keys}
        for row in rows:
            split.setdefault(row.key[0], []).append(
                AggregateRow(key=row.key[1:], count=row.count, sums=row.sums)
            )
        return {key: assemble(split[key]) for key in sorted(split, key=_group_key)}

    # -- one call per question ------------------------------------------------------

    def analyse(
        self,
        metric: Callable[..., R],
        pipeline: str | None = None,
        *,
        window: Window | None = None,
        where: Criteria | None = None,
        **options: Any,
    ) -> R:
        """Run an analytic of :mod:`sfakit.pipeline` (``funnel``, ``conversion``,
        ``losses``, ``win_rate``, ``cycle_time``, ``time_in_stage``, ``velocity``, or a
        function of your own taking :class:`~sfakit.pipeline.Deals` and ``window``) over
        the stored deals of ``pipeline`` (the first one by default) that match ``where``.
        ``options`` go to the analytic (``outcome=``, ``cumulative=``).

        "At which stage do we lose most deals?" is ``sfa.analyse(losses).worst``.
        """
        _check_options(metric, options)
        pushed = self._push_down(metric, where, None)
        if pushed is not None:
            result: R = pushed(self._pipeline(pipeline), None, window, options)
            return result
        deals = self._selected(pipeline, where)
        return metric(deals, window=window, **options)

    def analyse_by(
        self,
        group_by: str,
        metric: Callable[..., R],
        pipeline: str | None = None,
        *,
        window: Window | None = None,
        where: Criteria | None = None,
        **options: Any,
    ) -> dict[Any, R]:
        """:meth:`analyse` per value of the opportunity's field path ``group_by``
        (``owner_id``, ``territory_id``, ``source``, ``amount.currency`` …): a dict sorted
        by key, None last, with a group for every value the pipeline's deals have."""
        _check_options(metric, options)
        pushed = self._push_down(metric, where, group_by)
        if pushed is not None:
            grouped: dict[Any, R] = pushed(self._pipeline(pipeline), group_by, window, options)
            return grouped
        deals = self._selected(pipeline, where)
        return {
            key: metric(group, window=window, **options)
            for key, group in deals.group_by(group_by).items()
        }

    def _selected(self, pipeline: str | None, where: Criteria | None) -> Deals:
        deals = self.deals(self._pipeline(pipeline).key)
        return deals if where is None else deals.where(where, now=self.now())

    def _push_down(
        self, metric: Callable[..., Any], where: Criteria | None, group_by: str | None
    ) -> Callable[[Pipeline, str | None, Window | None, dict[str, Any]], Any] | None:
        pushed = {
            losses: self._losses,
            win_rate: self._win_rate,
            cycle_time: self._cycle_time,
        }.get(metric)
        return pushed if pushed is not None and self._pushable(where, group_by) else None

    def _losses(
        self, chosen: Pipeline, group_by: str | None, window: Window | None, _: dict[str, Any]
    ) -> Any:
        def assemble(rows: list[AggregateRow]) -> Losses:
            return Losses.from_counts(
                chosen,
                (
                    (stage, reason, currency, _amount(row), row.count)
                    for row in rows
                    for stage, reason, currency in [row.key]
                ),
            )

        lost = [s.key for s in chosen.lost_stages]
        fields = ["last_open_stage", "lost_reason"]
        return self._pushed(
            chosen, group_by, fields, lost, window=window, assemble=assemble, money=True
        )

    def _win_rate(
        self, chosen: Pipeline, group_by: str | None, window: Window | None, _: dict[str, Any]
    ) -> Any:
        def assemble(rows: list[AggregateRow]) -> WinRate:
            return WinRate.from_counts(
                chosen,
                (
                    (stage, currency, _amount(row), row.count)
                    for row in rows
                    for stage, currency in [row.key]
                ),
            )

        closed = [chosen.won_stage.key, *(s.key for s in chosen.lost_stages)]
        return self._pushed(
            chosen, group_by, ["stage"], closed, window=window, assemble=assemble, money=True
        )

    def _cycle_time(
        self,
        chosen: Pipeline,
        group_by: str | None,
        window: Window | None,
        options: dict[str, Any],
    ) -> Any:
        outcome = Outcome(options.get("outcome", Outcome.WON))
        won = [chosen.won_stage.key]
        lost = [s.key for s in chosen.lost_stages]
        stages = {Outcome.WON: won, Outcome.LOST: lost, Outcome.CLOSED: won + lost}[outcome]
        # Statistics need every duration, so they are read sorted (one per deal) rather
        # than grouped: a GROUP BY would give about one group per deal anyway.
        where = _closed_in(chosen, stages, window)
        if group_by is None:
            with self.storage.transaction(readonly=True) as tx:
                durations = tx.values(Opportunity, "cycle_microseconds", where=where)
            return DayStats.of_microseconds(durations)
        with self.storage.transaction(readonly=True) as tx:
            grouped = tx.values(Opportunity, "cycle_microseconds", where=where, group_by=[group_by])
            keys = _group_keys(tx, chosen, group_by)
        split: dict[Any, list[int]] = {key: [] for key in keys}
        for (key,), durations in grouped.items():
            split[key] = durations
        return {key: DayStats.of_microseconds(split[key]) for key in sorted(split, key=_group_key)}


def _closed_in(chosen: Pipeline, stages: Iterable[str], window: Window | None) -> Where:
    """The deals of ``chosen`` closed in one of ``stages`` (inside ``window`` if given)."""
    closed: Any = NotNull()
    if window is not None and (window.start is not None or window.end is not None):
        closed = Range(window.start, window.end)
    return {"pipeline": chosen.key, "stage": In(tuple(stages)), "closed_at": closed}


def _group_keys(tx: Transaction, chosen: Pipeline, group_by: str) -> list[Any]:
    """Every value of ``group_by`` the deals of ``chosen`` have: each is a group of the
    answer, as in memory, even with nothing closed in it."""
    rows = tx.aggregate(Opportunity, group_by=[group_by], where={"pipeline": chosen.key})
    return [row.key[0] for row in rows]


def _check_options(metric: Callable[..., Any], options: dict[str, Any]) -> None:
    try:
        inspect.signature(metric).bind(None, window=None, **options)
    except TypeError as exc:
        name = getattr(metric, "__name__", repr(metric))
        raise ValidationError(
            "$.options", sorted(options), f"options {name}() accepts ({exc})"
        ) from None
    except ValueError:  # no signature to check (a builtin): let the call decide
        pass


def _amount(row: AggregateRow) -> Decimal:
    total = row.sums.get("amount", 0)
    return total if isinstance(total, Decimal) else Decimal(total)
