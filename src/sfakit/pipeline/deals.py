"""The input of pipeline analytics: deals with their stage history.

:meth:`Deals.of` takes a pipeline, opportunities and the stage history (every
:class:`~sfakit.model.StageChange`, in any order). Each deal's :class:`Timeline` is the
stage it started in and its moves in time order (ties keep the order given).
Opportunities of other pipelines, and changes of deals not given, are left out, so the
whole history stream can be passed with any selection of deals. The opportunities are
checked at once; the history when first read: it must be consistent (each move starts
where the previous one ended, the last one ends in the deal's stage), or a
:class:`~sfakit.errors.ValidationError` names the bad entry (``$.history[12].from_stage``).

Filter with :meth:`Deals.where` (a criteria over :class:`~sfakit.model.Opportunity`),
split with :meth:`Deals.group_by` (any field path of Opportunity), then run the
analytics of :mod:`sfakit.pipeline.analytics` on the result.

>>> from datetime import datetime, timezone
>>> from sfakit.model import Opportunity
>>> from sfakit.pipeline import standard_pipeline
>>> from sfakit.rules import field
>>> t0 = datetime(2026, 3, 2, tzinfo=timezone.utc)
>>> deals = Deals.of(standard_pipeline(), [
...     Opportunity(name="A", account_id="acct_a", pipeline="standard", stage="qualify",
...                 owner_id="rep_anna", created_at=t0),
...     Opportunity(name="B", account_id="acct_b", pipeline="standard", stage="propose",
...                 owner_id="rep_ben", created_at=t0)])
>>> len(deals.where(field("stage").eq("qualify"))), sorted(deals.group_by("owner_id"))
(1, ['rep_anna', 'rep_ben'])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from operator import attrgetter
from typing import Any, NamedTuple, NoReturn

import attrs

from sfakit.errors import Problem, ValidationError
from sfakit.model.checks import aware_datetime, optional
from sfakit.model.opportunities import Opportunity, StageChange
from sfakit.pipeline.definition import Pipeline
from sfakit.rules import Criteria, compile_criteria, resolve_field

__all__ = ["Deals", "Timeline", "Window"]

_AT = attrgetter("at")


@attrs.frozen
class Window:
    """A half-open time window ``[start, end)``; either end may be open (None).

    >>> from datetime import datetime, timezone
    >>> q1 = Window(datetime(2026, 1, 1, tzinfo=timezone.utc),
    ...             datetime(2026, 4, 1, tzinfo=timezone.utc))
    >>> datetime(2026, 3, 31, 23, tzinfo=timezone.utc) in q1, q1.end in q1
    (True, False)
    """

    start: datetime | None = attrs.field(default=None, validator=optional(aware_datetime))
    end: datetime | None = attrs.field(default=None, validator=optional(aware_datetime))

    def __attrs_post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValidationError(
                "$.end", self.end, f"a moment at or after start ({self.start.isoformat()})"
            )

    def __contains__(self, moment: object) -> bool:
        if not isinstance(moment, datetime):
            return False
        return (self.start is None or self.start <= moment) and (
            self.end is None or moment < self.end
        )


class Timeline(NamedTuple):
    """One deal and its path through the pipeline: the stage it started in (at
    ``start_at``, its creation) and its ``moves`` in time order.

    >>> from datetime import datetime, timezone
    >>> from sfakit.model import Opportunity
    >>> from sfakit.pipeline import standard_pipeline
    >>> deal = Opportunity(name="A", account_id="acct_a", pipeline="standard",
    ...                    stage="qualify", created_at=datetime(2026, 3, 2, tzinfo=timezone.utc))
    >>> Deals.of(standard_pipeline(), [deal]).timelines[0].entries()[0][0]
    'qualify'
    """

    opportunity: Opportunity
    start_stage: str
    start_at: datetime
    moves: tuple[StageChange, ...]

    def entries(self) -> list[tuple[str, datetime]]:
        """Every ``(stage, entered_at)`` in order, the start first."""
        return [(self.start_stage, self.start_at), *((m.to_stage, m.at) for m in self.moves)]


class _History:
    """The stage history behind a :class:`Deals` and every set derived from it (by
    ``where`` or ``group_by``): indexed lazily, at most once per deal, and shared."""

    __slots__ = ("changes", "closing", "deals", "given", "pipeline", "stages", "timelines")

    def __init__(
        self,
        pipeline: Pipeline,
        deals: dict[str, Opportunity],
        given: Sequence[Opportunity],
        changes: Sequence[StageChange],
    ) -> None:
        self.pipeline = pipeline
        self.stages = frozenset(pipeline.keys)
        self.deals = deals
        self.given = given
        self.changes = changes
        self.timelines: dict[str, Timeline] = {}
        self.closing: dict[str, StageChange] | None = None

    def timelines_of(
        self, opportunities: Sequence[Opportunity], *, only: bool = False
    ) -> tuple[Timeline, ...]:
        """The timelines of ``opportunities``. A pass over the history builds those of
        every deal not built yet (so that the groups of a ``group_by`` cost one pass in
        all), or with ``only`` just those asked for."""
        cache = self.timelines
        if any(o.id not in cache for o in opportunities):
            wanted: dict[str, Opportunity]
            if only:
                wanted = {o.id: o for o in opportunities if o.id not in cache}
            else:
                wanted = {k: o for k, o in self.deals.items() if k not in cache}
            buckets: dict[str, list[StageChange]] = {}
            for change in self.changes:
                deal_id = change.opportunity_id
                bucket = buckets.get(deal_id)
                if bucket is not None:
                    bucket.append(change)
                elif deal_id in wanted:
                    buckets[deal_id] = [change]
            for key, opportunity in wanted.items():
                cache[key] = _timeline(self, opportunity, buckets.get(key, []))
        return tuple(cache[o.id] for o in opportunities)

    def closing_moves(self) -> dict[str, StageChange]:
        if self.closing is None:
            closed = frozenset(s.key for s in self.pipeline.stages if s.is_closed)
            closing: dict[str, StageChange] = {}
            seen = closing.get
            for change in self.changes:
                if change.to_stage in closed:
                    last = seen(change.opportunity_id)
                    # The latest; on a tie the later one given, as a stable sort would.
                    if last is None or change.at >= last.at:
                        closing[change.opportunity_id] = change
            self.closing = closing
        return self.closing


class Deals:
    """Deals of one pipeline and their stage history; build with :meth:`of`.

    Iterating gives the opportunities. ``timelines`` gives each deal with its path; it
    is built from the history on first use (one pass over it, then kept), and that is
    when the history is checked. Analytics that only need when and how a deal closed
    (losses, win rate, cycle time, velocity) read just the closing moves, which is much
    cheaper on a long history; they check what they read.

    >>> from sfakit.pipeline import standard_pipeline
    >>> len(Deals.of(standard_pipeline(), []))
    0
    """

    __slots__ = ("_history", "_timelines", "opportunities", "pipeline")

    def __init__(self, history: _History, opportunities: tuple[Opportunity, ...]) -> None:
        self._history = history
        self._timelines: tuple[Timeline, ...] | None = None
        self.pipeline = history.pipeline
        self.opportunities = opportunities

    @classmethod
    def of(
        cls,
        pipeline: Pipeline,
        opportunities: Iterable[Opportunity],
        history: Iterable[StageChange] = (),
    ) -> Deals:
        """The ``opportunities`` of ``pipeline`` (checked now) with their ``history``."""
        given = opportunities if isinstance(opportunities, Sequence) else tuple(opportunities)
        changes = history if isinstance(history, Sequence) else tuple(history)
        key, stages = pipeline.key, frozenset(pipeline.keys)
        deals: dict[str, Opportunity] = {}
        bad = False
        for opportunity in given:
            if opportunity.pipeline == key:
                bad = bad or opportunity.stage not in stages or opportunity.id in deals
                deals[opportunity.id] = opportunity
        if bad:
            _bad_opportunities(pipeline, given)
        return cls(_History(pipeline, deals, given, changes), tuple(deals.values()))

    @property
    def timelines(self) -> tuple[Timeline, ...]:
        """Each deal with its path, in the order of ``opportunities``."""
        if self._timelines is None:
            self._timelines = self._history.timelines_of(self.opportunities)
        return self._timelines

    def timelines_of(self, opportunities: Iterable[Opportunity]) -> tuple[Timeline, ...]:
        """The timelines of just these deals (given to :meth:`of`), without building the
        others: one pass over the history."""
        items = tuple(opportunities)
        known = self._history.deals
        for item in items:
            if known.get(item.id) is not item:
                raise ValidationError(
                    "$.opportunities", item.id, "a deal of this set (given to Deals.of)"
                )
        return self._history.timelines_of(items, only=True)

    def closing_move(self, opportunity: Opportunity) -> StageChange | None:
        """The deal's last move into a closed stage, if its history has one."""
        return self._history.closing_moves().get(opportunity.id)

    def closed_at(self, opportunity: Opportunity) -> datetime | None:
        """When a closed deal closed: its ``closed_at``, else the time of the move that
        closed it (None for a deal that is open, or closed with no known moment)."""
        if opportunity.closed_at is not None or opportunity.stage not in self.pipeline:
            return opportunity.closed_at
        if not self.pipeline.stage(opportunity.stage).is_closed:
            return None
        move = self.closing_move(opportunity)
        return move.at if move is not None and move.to_stage == opportunity.stage else None

    def __len__(self) -> int:
        return len(self.opportunities)

    def __iter__(self) -> Iterator[Opportunity]:
        return iter(self.opportunities)

    def __repr__(self) -> str:
        return f"<Deals of {self.pipeline.key!r}: {len(self)}>"

    def where(self, criteria: Criteria, *, now: datetime | None = None) -> Deals:
        """The deals whose opportunity matches ``criteria`` (``now`` for ``within_last``).

        >>> from sfakit.pipeline import standard_pipeline
        >>> from sfakit.rules import field
        >>> len(Deals.of(standard_pipeline(), []).where(field("amount.amount").ge(1000)))
        0
        """
        try:
            rule = compile_criteria(criteria, Opportunity)
        except ValidationError as exc:
            raise exc.under("$.where") from None
        matches = rule.matches
        return Deals(self._history, tuple(o for o in self.opportunities if matches(o, now=now)))

    def select(self, predicate: Callable[[Opportunity], bool]) -> Deals:
        """The deals whose opportunity ``predicate`` accepts (a plain Python filter)."""
        return Deals(self._history, tuple(o for o in self.opportunities if predicate(o)))

    def group_by(self, path: str) -> dict[Any, Deals]:
        """The deals split by the value of the opportunity's field ``path`` (``owner_id``,
        ``territory_id``, ``product_line``, ``amount.currency`` …); deals where it is not
        set are under None. Groups are sorted by key, None last.

        >>> from sfakit.pipeline import standard_pipeline
        >>> Deals.of(standard_pipeline(), []).group_by("owner_id")
        {}
        """
        try:
            info = resolve_field(Opportunity, path)
        except ValidationError as exc:
            raise ValidationError("$.group_by", path, exc.expected) from None
        read = _reader(info.names)
        groups: dict[Any, list[Opportunity]] = {}
        for opportunity in self.opportunities:
            groups.setdefault(read(opportunity), []).append(opportunity)
        try:
            keys = sorted(groups, key=lambda k: (k is None, k if k is not None else 0))
        except TypeError:  # keys of kinds that do not order: keep first-seen order
            keys = list(groups)
        return {k: Deals(self._history, tuple(groups[k])) for k in keys}


def _reader(names: tuple[str, ...]) -> Callable[[object], Any]:
    if len(names) == 1:
        return attrgetter(names[0])

    def read(record: object) -> Any:
        value: Any = record
        for name in names:
            value = getattr(value, name)
            if value is None:
                return None
        return value

    return read


def _bad_opportunities(pipeline: Pipeline, given: Sequence[Opportunity]) -> NoReturn:
    problems: list[Problem] = []
    first: dict[str, int] = {}
    for i, opportunity in enumerate(given):
        if opportunity.pipeline != pipeline.key:
            continue
        if opportunity.stage not in pipeline:
            error = pipeline.unknown_stage(f"$.opportunities[{i}].stage", opportunity.stage)
            problems.extend(error.problems)
        if opportunity.id in first:
            problems.append(
                Problem(
                    f"$.opportunities[{i}].id",
                    f"an id not used by opportunities[{first[opportunity.id]}]",
                    opportunity.id,
                )
            )
        first.setdefault(opportunity.id, i)
    raise ValidationError.from_problems(problems, subject="deals")


def _timeline(history: _History, opportunity: Opportunity, bucket: list[StageChange]) -> Timeline:
    created = opportunity.created_at
    if not bucket:
        return Timeline(opportunity, opportunity.stage, created, ())
    previous = bucket[0].at
    for change in bucket:
        if change.at < previous:
            bucket.sort(key=_AT)  # stable: equal times keep the order given
            break
        previous = change.at
    pipeline, stages, changes = history.pipeline, history.stages, history.changes
    first = bucket[0]
    start_at = created
    if first.from_stage is None:
        start_stage, start_at, moves = first.to_stage, first.at, tuple(bucket[1:])
    else:
        start_stage, moves = first.from_stage, tuple(bucket)
    if start_stage not in stages:
        name = "to_stage" if first.from_stage is None else "from_stage"
        raise pipeline.unknown_stage(f"$.history[{_position(changes, first)}].{name}", start_stage)
    stage, key = start_stage, pipeline.key
    for move in moves:
        if (
            move.from_stage != stage
            or move.to_stage not in stages
            or move.pipeline != key
            or move.at < created
        ):
            _inconsistent(pipeline, opportunity, move, stage, changes)
        stage = move.to_stage
    if stage != opportunity.stage:
        index = _position(history.given, opportunity)
        raise ValidationError(
            f"$.opportunities[{index}].stage",
            opportunity.stage,
            f"{stage!r}, the stage its stage history ends in",
            subject="deals",
        )
    return Timeline(opportunity, start_stage, start_at, moves)


def _position(items: Sequence[object], item: object) -> int:
    return next(i for i, x in enumerate(items) if x is item)


def _inconsistent(
    pipeline: Pipeline,
    opportunity: Opportunity,
    move: StageChange,
    stage: str | None,
    history: Sequence[StageChange],
) -> NoReturn:
    at = f"$.history[{_position(history, move)}]"
    if move.pipeline != pipeline.key:
        raise ValidationError(f"{at}.pipeline", move.pipeline, f"{pipeline.key!r}", subject="deals")
    if move.to_stage not in pipeline:
        raise pipeline.unknown_stage(f"{at}.to_stage", move.to_stage)
    if move.at < opportunity.created_at:
        raise ValidationError(
            f"{at}.at",
            move.at,
            f"a moment at or after the deal's creation ({opportunity.created_at.isoformat()})",
            subject="deals",
        )
    raise ValidationError(
        f"{at}.from_stage",
        move.from_stage,
        f"{stage!r}, the stage the deal's previous entry left it in (only the first entry "
        "may be a creation entry with from_stage null)",
        subject="deals",
    )
