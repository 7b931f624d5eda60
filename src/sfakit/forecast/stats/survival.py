"""Time to close with the Kaplan-Meier estimator, and the chance that an open deal
closes within the next days.

Each deal is one :class:`Observation`: its age in days from creation to close when it
closed (the *event*), or from creation to the evaluation time ``as_of`` while it is still
open (*censored*: it stayed open at least that long). The event is the close, won or
lost. Closing is what a period forecast needs to know about time (will this deal close
inside the quarter?); whether it is won is a separate estimate (per-stage win rates, the
Markov chain). Counting only wins as events and treating lost deals as censored would
pretend that lost deals could still be won later, and overstate the chance of a close
(the competing-risks bias).

:func:`kaplan_meier` gives the survival table (Kaplan & Meier, 1958): at each distinct
duration ``t``, the deals ``at_risk`` (still open just before ``t``), the ``events`` and
``censored`` there, and ``S(t) = Π (1 - events / at_risk)`` over the durations up to
``t``: the probability that a deal stays open longer than ``t`` days. Censored
observations at ``t`` count as at risk at ``t`` (events first, the usual convention).
S is computed exactly in fractions and rounded once, to 28 significant digits.

``close_probability(age, within)`` is ``1 - S(age + within) / S(age)``: the probability
that a deal open at ``age`` closes within the next ``within`` days. Past the longest
observed duration S is taken as flat (Gill's convention), which makes the answer a lower
bound there; ``beyond_data`` says so.

>>> table = kaplan_meier([Observation(duration=d, closed=c)
...                       for d, c in ((10, True), (20, False), (30, True))])
>>> [(str(r.time), r.at_risk, r.events, r.censored, f"{r.survival:.4f}") for r in table.rows]
[('10', 3, 1, 0, '0.6667'), ('20', 2, 0, 1, '0.6667'), ('30', 1, 1, 0, '0.0000')]
>>> table.close_probability(age=15, within=20).probability
Decimal('1')
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import attrs

from sfakit.errors import Problem, ValidationError
from sfakit.forecast.stats._numbers import days, decimal_of, non_negative_decimal, unit_interval
from sfakit.model.checks import (
    aware_datetime,
    instance_of,
    non_negative_int,
    optional,
    text,
    to_decimal,
    to_tuple,
    tuple_of,
)
from sfakit.pipeline.deals import Deals

__all__ = [
    "CloseChance",
    "Observation",
    "SurvivalRow",
    "SurvivalTable",
    "kaplan_meier",
    "time_to_close",
]

_bool = instance_of(bool, "true or false")


def _to_days(value: object) -> object:
    """Converter: a timedelta becomes days (exact to the microsecond); the rest as
    ``to_decimal`` (ints and numeric strings are days; floats are left to be refused)."""
    if isinstance(value, timedelta) and value >= timedelta(0):
        return days(value, "$.duration")
    return to_decimal(value)


@attrs.frozen(kw_only=True)
class Observation:
    """One deal's ``duration`` in days (a Decimal, int, numeric string or timedelta):
    until it ``closed``, or (``closed`` false) until the evaluation time, when it was
    still open (censored).

    >>> from datetime import timedelta
    >>> Observation(duration="12.5", closed=False).duration
    Decimal('12.5')
    >>> Observation(duration=timedelta(days=3, hours=12), closed=True).duration
    Decimal('3.5')
    """

    duration: Decimal = attrs.field(converter=_to_days, validator=non_negative_decimal)
    closed: bool = attrs.field(validator=_bool)


@attrs.frozen(kw_only=True)
class SurvivalRow:
    """One distinct duration ``time`` (days): the deals ``at_risk`` just before it, the
    ``events`` (closes) and ``censored`` observations at it, and ``survival`` S(time),
    the probability of staying open longer than ``time``.

    >>> SurvivalRow(time=6, at_risk=21, events=3, censored=1, survival="0.8").at_risk
    21
    """

    time: Decimal = attrs.field(converter=to_decimal, validator=non_negative_decimal)
    at_risk: int = attrs.field(validator=non_negative_int)
    events: int = attrs.field(validator=non_negative_int)
    censored: int = attrs.field(validator=non_negative_int)
    survival: Decimal = attrs.field(converter=to_decimal, validator=unit_interval)


@attrs.frozen(kw_only=True)
class CloseChance:
    """The chance that a deal open at ``age`` days closes within the next ``within``
    days: ``probability = 1 - survival_at_end / survival_at_age``. None (with a
    ``reason``) when the history says nothing about deals of that age. ``beyond_data``:
    ``age + within`` lies past the longest observed duration, where S is taken as flat,
    so the probability is a lower bound.

    >>> CloseChance(age=0, within=30, survival_at_age=1, survival_at_end="0.25",
    ...             probability="0.75", beyond_data=False).probability
    Decimal('0.75')
    """

    age: Decimal = attrs.field(converter=to_decimal, validator=non_negative_decimal)
    within: Decimal = attrs.field(converter=to_decimal, validator=non_negative_decimal)
    survival_at_age: Decimal = attrs.field(converter=to_decimal, validator=unit_interval)
    survival_at_end: Decimal = attrs.field(converter=to_decimal, validator=unit_interval)
    probability: Decimal | None = attrs.field(
        converter=to_decimal, validator=optional(unit_interval)
    )
    beyond_data: bool = attrs.field(validator=_bool)
    reason: str | None = attrs.field(default=None, validator=optional(text(max_length=500)))

    def __attrs_post_init__(self) -> None:
        if (self.probability is None) == (self.reason is None):
            raise ValidationError(
                "$.reason", self.reason, "a reason exactly when there is no probability"
            )


@attrs.frozen(kw_only=True)
class SurvivalTable:
    """The Kaplan-Meier table: one :class:`SurvivalRow` per distinct duration, in order.

    When built from deals by :func:`time_to_close`, ``as_of`` is the evaluation time and
    ``not_yet_created`` and ``unknown_close`` count the deals left out (created after
    ``as_of``; closed with no known close moment). The rows are checked for consistency
    (each row's ``at_risk`` is the previous one's less its events and censored; S is the
    product of the rows' factors), so a table loaded from data is one KM could produce.

    >>> from sfakit.codec import from_data, to_data
    >>> table = kaplan_meier([Observation(duration=5, closed=True)])
    >>> from_data(SurvivalTable, to_data(table)) == table, table.median
    (True, Decimal('5'))
    """

    rows: tuple[SurvivalRow, ...] = attrs.field(
        converter=to_tuple, validator=tuple_of(instance_of(SurvivalRow, "a SurvivalRow"))
    )
    as_of: datetime | None = attrs.field(default=None, validator=optional(aware_datetime))
    not_yet_created: int = attrs.field(default=0, validator=non_negative_int)
    unknown_close: int = attrs.field(default=0, validator=non_negative_int)
    _exact: tuple[Fraction, ...] = attrs.field(init=False, eq=False, repr=False, hash=False)
    _times: tuple[Decimal, ...] = attrs.field(init=False, eq=False, repr=False, hash=False)

    def __attrs_post_init__(self) -> None:
        problems: list[Problem] = []
        exact: list[Fraction] = []
        survival = Fraction(1)
        previous: SurvivalRow | None = None
        for i, row in enumerate(self.rows):
            at = f"$.rows[{i}]"
            if previous is not None:
                if row.time <= previous.time:
                    problems.append(
                        Problem(
                            f"{at}.time", f"a time after rows[{i - 1}] ({previous.time})", row.time
                        )
                    )
                left = previous.at_risk - previous.events - previous.censored
                if row.at_risk != left:
                    problems.append(
                        Problem(
                            f"{at}.at_risk",
                            f"{left}: rows[{i - 1}].at_risk less its events and censored",
                            row.at_risk,
                        )
                    )
            if row.events + row.censored < 1 or row.events + row.censored > row.at_risk:
                problems.append(
                    Problem(
                        f"{at}.events",
                        f"events + censored from 1 to at_risk ({row.at_risk})",
                        row.events,
                    )
                )
            elif row.events:
                survival *= 1 - Fraction(row.events, row.at_risk)
            if row.survival != decimal_of(survival):
                problems.append(
                    Problem(
                        f"{at}.survival",
                        f"{decimal_of(survival)}, the product of (1 - events / at_risk) so far",
                        row.survival,
                    )
                )
            exact.append(survival)
            previous = row
        if previous is not None and previous.at_risk != previous.events + previous.censored:
            problems.append(
                Problem(
                    f"$.rows[{len(self.rows) - 1}].at_risk",
                    "events + censored: every deal at risk ends in the last row",
                    previous.at_risk,
                )
            )
        if problems:
            raise ValidationError.from_problems(problems, subject="survival table")
        object.__setattr__(self, "_exact", tuple(exact))
        object.__setattr__(self, "_times", tuple(row.time for row in self.rows))

    @property
    def observations(self) -> int:
        """How many observations the table rests on."""
        return self.rows[0].at_risk if self.rows else 0

    @property
    def events(self) -> int:
        """How many observations are closes."""
        return sum(row.events for row in self.rows)

    @property
    def censored(self) -> int:
        """How many observations are deals still open at the evaluation time."""
        return sum(row.censored for row in self.rows)

    def _survival(self, time: Decimal) -> Fraction:
        k = bisect.bisect_right(self._times, time)
        return self._exact[k - 1] if k else Fraction(1)

    def survival_at(self, age: timedelta | Decimal | int) -> Decimal:
        """S(age): the probability that a deal stays open longer than ``age`` (a
        timedelta, or days). 1 before the first row; flat after the last.

        >>> kaplan_meier([Observation(duration=4, closed=True),
        ...               Observation(duration=8, closed=True)]).survival_at(5)
        Decimal('0.5')
        """
        return decimal_of(self._survival(days(age, "$.age")))

    @property
    def median(self) -> Decimal | None:
        """The median time to close: the first time where S falls to 1/2 or below (None
        if it never does)."""
        half = Fraction(1, 2)
        return next((t for t, s in zip(self._times, self._exact, strict=True) if s <= half), None)

    def close_probability(
        self, age: timedelta | Decimal | int, within: timedelta | Decimal | int
    ) -> CloseChance:
        """The chance that a deal open at ``age`` closes within the next ``within``
        (timedeltas, or days): ``1 - S(age + within) / S(age)``.

        >>> table = kaplan_meier([Observation(duration=d, closed=True) for d in (10, 20, 30, 40)])
        >>> table.close_probability(age=15, within=10).probability
        Decimal('0.3333333333333333333333333333')
        """
        a, d = days(age, "$.age"), days(within, "$.within")
        end = a + d
        s_age, s_end = self._survival(a), self._survival(end)
        last = self.rows[-1].time if self.rows else None
        beyond = last is not None and end > last and self._exact[-1] > 0
        probability: Decimal | None = None
        reason: str | None = None
        if last is None:
            reason = "no observations: nothing is known about how long deals stay open"
        elif s_age == 0:
            reason = f"every deal in the history closed by day {last}; none stayed open {a} days"
        else:
            probability = decimal_of(1 - s_end / s_age)
        return CloseChance(
            age=a,
            within=d,
            survival_at_age=decimal_of(s_age),
            survival_at_end=decimal_of(s_end),
            probability=probability,
            beyond_data=beyond,
            reason=reason,
        )


def kaplan_meier(observations: Iterable[Observation]) -> SurvivalTable:
    """The Kaplan-Meier survival table of ``observations``.

    >>> kaplan_meier([]).rows
    ()
    """
    tally: dict[Decimal, list[int]] = {}
    for i, item in enumerate(observations):
        if not isinstance(item, Observation):
            raise ValidationError(f"$.observations[{i}]", item, "an Observation")
        counts = tally.setdefault(item.duration, [0, 0])
        counts[0 if item.closed else 1] += 1
    at_risk = sum(events + censored for events, censored in tally.values())
    survival = Fraction(1)
    rows: list[SurvivalRow] = []
    for time in sorted(tally):
        events, censored = tally[time]
        if events:
            survival *= 1 - Fraction(events, at_risk)
        rows.append(
            SurvivalRow(
                time=time,
                at_risk=at_risk,
                events=events,
                censored=censored,
                survival=decimal_of(survival),
            )
        )
        at_risk -= events + censored
    return SurvivalTable(rows=tuple(rows))


def time_to_close(deals: Deals, *, as_of: datetime) -> SurvivalTable:
    """Kaplan-Meier time to close of ``deals``, as seen at ``as_of``.

    A deal closed (won or lost) at or before ``as_of`` is an event at its age then; a deal
    still open, or closed only after ``as_of``, is censored at its age at ``as_of`` (so a
    past ``as_of`` replays what was known then, by the deals' current close moments).
    Deals created after ``as_of`` and closed deals with no known close moment are left
    out and counted.

    >>> from datetime import datetime, timedelta, timezone
    >>> from sfakit.model import Opportunity
    >>> from sfakit.pipeline import Deals, standard_pipeline
    >>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> deals = Deals.of(standard_pipeline(), [
    ...     Opportunity(name="A", account_id="acct_a", pipeline="standard", stage="closed_won",
    ...                 created_at=t0, closed_at=t0 + timedelta(days=30)),
    ...     Opportunity(name="B", account_id="acct_b", pipeline="standard", stage="propose",
    ...                 created_at=t0)])
    >>> table = time_to_close(deals, as_of=t0 + timedelta(days=45))
    >>> [(str(r.time), r.events, r.censored) for r in table.rows]
    [('30', 1, 0), ('45', 0, 1)]
    """
    aware_datetime(None, _AS_OF, as_of)
    closed_keys = frozenset(s.key for s in deals.pipeline.stages if s.is_closed)
    observations: list[Observation] = []
    not_yet_created = unknown_close = 0
    for opportunity in deals:
        if opportunity.created_at > as_of:
            not_yet_created += 1
            continue
        closed_at = deals.closed_at(opportunity) if opportunity.stage in closed_keys else None
        if opportunity.stage in closed_keys and closed_at is None:
            unknown_close += 1
            continue
        if closed_at is not None and closed_at <= as_of:
            age, closed = closed_at - opportunity.created_at, True
        else:
            age, closed = as_of - opportunity.created_at, False
        observations.append(Observation(duration=age, closed=closed))
    table = kaplan_meier(observations)
    return SurvivalTable(
        rows=table.rows,
        as_of=as_of,
        not_yet_created=not_yet_created,
        unknown_close=unknown_close,
    )


_AS_OF = attrs.fields(SurvivalTable).as_of
