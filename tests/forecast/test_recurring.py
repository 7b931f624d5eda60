"""Recurring revenue projected from standing orders' schedules."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfakit.errors import ValidationError
from sfakit.forecast import FiscalCalendar, RateTable, project_recurring
from sfakit.model import (
    LineChange,
    Money,
    OrderLine,
    Pause,
    RecurrenceSpec,
    StandingOrder,
    StandingOrderStatus,
)
from sfakit.recurrence import Schedule

BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 1, 5, tzinfo=UTC)
QUARTERS = FiscalCalendar.monthly().periods(2026, "quarter")
MONTHS = FiscalCalendar.monthly().periods(2026, "month")


def _line(quantity: int = 1000, price: str = "1.20", currency: str = "EUR") -> OrderLine:
    return OrderLine(
        product_id="prod_bulb", quantity=quantity, unit_price=Money.of(price, currency)
    )


def _bulbs(rule: str = "FREQ=MONTHLY;INTERVAL=2", **fields: object) -> StandingOrder:
    options: dict[str, object] = {
        "account_id": "acct_hotel",
        "currency": "EUR",
        "lines": [_line()],
        "schedule": RecurrenceSpec(
            rule=rule, start=datetime(2026, 1, 31, 8, tzinfo=BERLIN), timezone="Europe/Berlin"
        ),
        "created_at": T0,
    }
    options.update(fields)
    return StandingOrder(**options)  # type: ignore[arg-type]


def test_every_two_months_kept_to_the_month_end() -> None:
    projection = project_recurring([_bulbs()], QUARTERS, currency="EUR")
    assert [(line.amount, line.occurrences) for line in projection.lines] == [
        (Money.of(2400, "EUR"), 2),
        (Money.of(1200, "EUR"), 1),
        (Money.of(2400, "EUR"), 2),
        (Money.of(1200, "EUR"), 1),
    ]
    assert len(projection.line("FY2026-Q2").standing_order_ids) == 1


def test_skips_pauses_end_dates_watermarks_and_line_changes_count() -> None:
    standing = _bulbs(
        skipped_dates=[date(2026, 3, 31)],
        pauses=[Pause(start=date(2026, 7, 1), end=date(2026, 7, 31))],
        ends_on=date(2026, 10, 31),
        handled_until=datetime(2026, 2, 1, tzinfo=UTC),  # January was ordered already
        line_changes=[
            LineChange(effective_from=date(2026, 5, 1), lines=[_line(500)], changed_at=T0)
        ],
    )
    projection = project_recurring([standing], QUARTERS, currency="EUR")
    assert [line.occurrences for line in projection.lines] == [0, 1, 1, 0]
    assert projection.line("FY2026-Q2").amount == Money.of(600, "EUR")  # 500 from May on
    assert projection.line("FY2026-Q3").amount == Money.of(600, "EUR")  # September only
    cancelled = _bulbs(status=StandingOrderStatus.CANCELLED)
    assert project_recurring([cancelled], QUARTERS, currency="EUR").lines[0].occurrences == 0


def test_other_currencies_convert_at_the_occurrence_date_and_need_rates() -> None:
    dollars = _bulbs(currency="USD", lines=[_line(price="1.00", currency="USD")])
    with pytest.raises(ValidationError, match=r"\$\.rates"):
        project_recurring([dollars], QUARTERS, currency="EUR")
    rates = RateTable.of("EUR", {"USD": [("2026-01-01", "1.25")]})
    projection = project_recurring([dollars], QUARTERS, currency="EUR", rates=rates)
    assert projection.lines[0].amount == Money.of(1600, "EUR")  # 2 x 1000 USD / 1.25


@settings(max_examples=60, deadline=None)
@given(
    rule=st.sampled_from(
        ["FREQ=WEEKLY", "FREQ=MONTHLY", "FREQ=MONTHLY;INTERVAL=2", "FREQ=DAILY;INTERVAL=10"]
    ),
    day=st.integers(1, 28),
)
def test_months_add_up_to_the_quarters_and_count_every_occurrence(rule: str, day: int) -> None:
    standing = _bulbs(
        rule=rule,
        schedule=RecurrenceSpec(
            rule=rule, start=datetime(2026, 1, day, 9, tzinfo=BERLIN), timezone="Europe/Berlin"
        ),
    )
    months = project_recurring([standing], MONTHS, currency="EUR")
    quarters = project_recurring([standing], QUARTERS, currency="EUR")
    for q, quarter in enumerate(quarters.lines):
        parts = months.lines[3 * q : 3 * q + 3]
        assert quarter.occurrences == sum(p.occurrences for p in parts)
        assert quarter.amount == Money.sum((p.amount for p in parts), currency="EUR")
    schedule = Schedule.from_spec(standing.schedule)
    expected = len(schedule.local_dates_between(date(2026, 1, 1), date(2027, 1, 1)))
    assert sum(line.occurrences for line in quarters.lines) == expected
