"""Recurring revenue: what standing orders will bring per period, from their schedules.

Reported apart from the pipeline forecast (a standing order is not a deal to win).
Each standing order contributes the occurrences of its schedule inside a period that
it has not ordered yet (after its ``handled_until`` watermark), leaving out skipped
dates, paused dates and dates after its end; cancelled standing orders contribute
nothing. An occurrence is valued at the lines in effect on its date
(:meth:`~sfakit.model.StandingOrder.lines_on`; for price-at-occurrence orders, the
lines' current prices as the estimate), converted to the report currency at the
occurrence date's rate.

>>> from datetime import date, datetime
>>> from zoneinfo import ZoneInfo
>>> from sfakit.forecast import FiscalCalendar
>>> from sfakit.model import Money, OrderLine, RecurrenceSpec, StandingOrder
>>> bulbs = StandingOrder(account_id="acct_hotel", currency="EUR",
...     lines=[OrderLine(product_id="prod_bulb", quantity=1000,
...                      unit_price=Money.of("1.20", "EUR"))],
...     schedule=RecurrenceSpec(rule="FREQ=MONTHLY;INTERVAL=2",
...         start=datetime(2026, 1, 31, 8, tzinfo=ZoneInfo("Europe/Berlin")),
...         timezone="Europe/Berlin"),
...     created_at=datetime(2026, 1, 5, tzinfo=ZoneInfo("UTC")))
>>> year = FiscalCalendar.monthly().periods(2026, "quarter")
>>> projection = project_recurring([bulbs], year, currency="EUR")
>>> for line in projection.lines:
...     print(line.period, line.amount, line.occurrences)
FY2026-Q1 2400.00 EUR 2
FY2026-Q2 1200.00 EUR 1
FY2026-Q3 2400.00 EUR 2
FY2026-Q4 1200.00 EUR 1
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, time

import attrs

from sfakit.errors import ValidationError
from sfakit.forecast.currency import RateTable
from sfakit.forecast.periods import Period
from sfakit.model import Money, StandingOrder, StandingOrderStatus
from sfakit.recurrence import Schedule

__all__ = ["RecurringLine", "RecurringProjection", "project_recurring"]


@attrs.frozen
class RecurringLine:
    """One period's recurring revenue: the amount, how many occurrences make it, and
    the standing orders they come from."""

    period: str
    amount: Money
    occurrences: int
    standing_order_ids: tuple[str, ...]


@attrs.frozen
class RecurringProjection:
    """Recurring revenue per period (in period order), in one currency."""

    currency: str
    lines: tuple[RecurringLine, ...]

    def line(self, period: str) -> RecurringLine:
        """The line of ``period`` (a ValidationError naming the periods if none)."""
        for found in self.lines:
            if found.period == period:
                return found
        raise ValidationError("$.period", period, f"one of {[p.period for p in self.lines]}")


def project_recurring(
    standing_orders: Iterable[StandingOrder],
    periods: Sequence[Period],
    *,
    currency: str,
    rates: RateTable | None = None,
) -> RecurringProjection:
    """Project the standing orders' revenue per period (see the module docs).

    A standing order in another currency than ``currency`` needs ``rates``; a missing
    rate is the rate table's error naming the currency and the day.
    """
    orders = list(standing_orders)
    for index, order in enumerate(orders):
        if not isinstance(order, StandingOrder):
            raise ValidationError(f"$.standing_orders[{index}]", order, "a StandingOrder")
        if order.currency != currency and rates is None:
            raise ValidationError(
                "$.rates", None, f"a rate table: {order.id} is in {order.currency}, not {currency}"
            )
    lines = []
    for period in periods:
        total = Money.zero(currency)
        count = 0
        sources: list[str] = []
        for order in orders:
            amount, occurrences = _in_period(order, period, currency, rates)
            if occurrences:
                total += amount
                count += occurrences
                sources.append(order.id)
        lines.append(RecurringLine(period.name, total, count, tuple(sources)))
    return RecurringProjection(currency, tuple(lines))


def _in_period(
    order: StandingOrder, period: Period, currency: str, rates: RateTable | None
) -> tuple[Money, int]:
    if order.status is StandingOrderStatus.CANCELLED:
        return Money.zero(currency), 0
    schedule = Schedule.from_spec(order.schedule)
    zone = schedule.zone
    low = datetime.combine(period.start, time(), tzinfo=zone)
    high = datetime.combine(period.end, time(), tzinfo=zone)
    if order.handled_until is not None:
        # Occurrences before the watermark were ordered: actual revenue, not projected.
        low = max(low, order.handled_until)
    total = Money.zero(currency)
    count = 0
    if high <= low:
        return total, count
    for moment in schedule.between(low, high):
        day = moment.date()
        if order.ends_on is not None and day > order.ends_on:
            break
        if day in order.skipped_dates or order.paused_on(day):
            continue
        value = Money.sum((line.total for line in order.lines_on(day)), currency=order.currency)
        if order.currency != currency:
            assert rates is not None
            value = rates.convert(value, currency, on=day)
        total += value
        count += 1
    return total, count
