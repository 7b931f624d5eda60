"""Order analytics: per branch, region and period; year over year; the counts add up."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfakit.codec import from_data, to_data
from sfakit.errors import ValidationError
from sfakit.model import Account, Money, Order, OrderStatus
from sfakit.orders import (
    BOOKED_STATUSES,
    CurrencyChange,
    OrderDimension,
    OrderQuery,
    OrderReport,
    OrderTotals,
    Period,
    YearOverYear,
    YearOverYearQuery,
    order_report,
    period_key,
    year_over_year,
)

from .support import T0, line, populations

D = OrderDimension
ZONES = ("UTC", "Europe/Berlin", "America/Los_Angeles", "Asia/Kolkata")
queries = st.builds(
    OrderQuery,
    group_by=st.sampled_from(
        [list(c) for n in range(4) for c in combinations(list(OrderDimension), n)]
    ),
    period=st.sampled_from(Period),
    timezone=st.sampled_from(ZONES),
    statuses=st.sampled_from([BOOKED_STATUSES, (OrderStatus.CANCELLED,), tuple(OrderStatus)[1:]]),
)

NORTH = Account(name="North GmbH", branch="north", billing_region="BY", created_at=T0)
SOUTH = Account(name="South AG", branch="south", billing_region="BW", created_at=T0)
NOWHERE = Account(name="Loose Ltd", created_at=T0)


def booked(
    account: Account,
    placed: datetime,
    amount: str = "100.00",
    currency: str = "EUR",
    status: OrderStatus = OrderStatus.SHIPPED,
) -> Order:
    return Order(
        account_id=account.id,
        currency=currency,
        lines=[line(1, amount, currency)],
        status=status,
        created_at=placed,
        placed_at=placed,
    )


def revenue(orders: list[Order]) -> dict[str, Money]:
    sums: dict[str, Money] = {}
    for order in orders:
        sums[order.currency] = sums.get(order.currency, Money.zero(order.currency)) + order.total
    return sums


# -- examples ---------------------------------------------------------------------------


def test_orders_and_revenue_per_branch_keep_currencies_apart() -> None:
    orders = [
        booked(NORTH, T0, "100.00"),
        booked(NORTH, T0, "50.00", "USD"),
        booked(SOUTH, T0, "20.00"),
        booked(NOWHERE, T0, "5.00"),
    ]
    report = order_report(orders, [NORTH, SOUTH, NOWHERE])
    assert [(g.key, g.orders) for g in report.groups] == [
        (("north",), 2),
        (("south",), 1),
        ((None,), 1),
    ]
    north = report.group("north")
    assert north is not None
    assert north.revenue == (Money.of("100", "EUR"), Money.of("50", "USD"))
    assert north.in_currency("JPY") == Money.zero("JPY")
    assert report.total == OrderTotals(
        orders=4, revenue=[Money.of("125", "EUR"), Money.of("50", "USD")]
    )
    assert report.group("west") is None


def test_periods_follow_the_calendar_of_the_time_zone() -> None:
    new_year_eve = datetime(2025, 12, 31, 23, 30, tzinfo=UTC)
    orders = [booked(NORTH, new_year_eve)]
    by_period = OrderQuery(group_by=[D.PERIOD], period=Period.YEAR)
    assert order_report(orders, [NORTH], by_period).groups[0].key == ("2025",)
    berlin = OrderQuery(group_by=[D.PERIOD], period=Period.YEAR, timezone="Europe/Berlin")
    assert order_report(orders, [NORTH], berlin).groups[0].key == ("2026",)


@pytest.mark.parametrize(
    ("month", "period", "key"),
    [
        (1, Period.QUARTER, "2026-Q1"),
        (4, Period.QUARTER, "2026-Q2"),
        (12, Period.QUARTER, "2026-Q4"),
        (7, Period.MONTH, "2026-07"),
        (7, Period.YEAR, "2026"),
    ],
)
def test_period_keys(month: int, period: Period, key: str) -> None:
    assert period_key(datetime(2026, month, 15, tzinfo=UTC), period) == key


def test_period_key_refuses_bad_input() -> None:
    with pytest.raises(ValidationError) as info:
        period_key(datetime(2026, 1, 1), Period.MONTH)
    assert info.value.path == "$.moment"
    with pytest.raises(ValidationError) as info:
        period_key(T0, "month")  # type: ignore[arg-type]
    assert info.value.path == "$.period"
    with pytest.raises(ValidationError) as info:
        period_key(T0, Period.MONTH, "Mars/Olympus")
    assert info.value.path == "$.timezone"


def test_only_booked_orders_count_by_default_and_the_rest_is_explained() -> None:
    orders = [
        booked(NORTH, T0, status=OrderStatus.DELIVERED),
        booked(NORTH, T0, status=OrderStatus.ON_ACCOUNT),
        booked(NORTH, T0, status=OrderStatus.PLACED),
        booked(NORTH, T0, status=OrderStatus.CANCELLED),
        booked(NORTH, T0 - timedelta(days=400)),
    ]
    since = OrderQuery(since=T0 - timedelta(days=30))
    report = order_report(orders, [NORTH], since)
    assert (report.total.orders, report.excluded_status, report.outside_window) == (2, 2, 1)
    assert report.considered == 5
    cancelled = order_report(orders, [NORTH], OrderQuery(statuses=[OrderStatus.CANCELLED]))
    assert cancelled.total.orders == 1


def test_orders_of_unknown_accounts_are_counted_under_none() -> None:
    report = order_report([booked(NORTH, T0)], [], OrderQuery(group_by=[D.REGION]))
    assert report.unknown_accounts == 1
    assert report.groups[0].key == (None,)


def test_accounts_may_be_given_as_a_mapping() -> None:
    report = order_report([booked(SOUTH, T0)], {SOUTH.id: SOUTH}, OrderQuery(group_by=[D.REGION]))
    assert report.groups[0].key == ("BW",)


def test_without_dimensions_there_is_one_group() -> None:
    report = order_report(
        [booked(NORTH, T0), booked(SOUTH, T0)], [NORTH, SOUTH], OrderQuery(group_by=[])
    )
    assert [(g.key, g.orders) for g in report.groups] == [((), 2)]


def test_bad_queries_name_the_field() -> None:
    cases = [
        ({"group_by": [D.BRANCH, D.BRANCH]}, "$.group_by[1]"),
        ({"group_by": ["branch"]}, "$.group_by[0]"),
        ({"statuses": []}, "$.statuses"),
        ({"statuses": [OrderStatus.SHIPPED, OrderStatus.DRAFT]}, "$.statuses[1]"),
        ({"timezone": "Mars/Olympus"}, "$.timezone"),
        ({"since": datetime(2026, 1, 1)}, "$.since"),
        ({"since": T0, "until": T0}, "$.until"),
    ]
    for fields, path in cases:
        with pytest.raises(ValidationError) as info:
            OrderQuery(**fields)  # type: ignore[arg-type]
        assert info.value.path == path, fields


def test_bad_inputs_name_the_position() -> None:
    with pytest.raises(ValidationError) as info:
        order_report([booked(NORTH, T0), "order"], [NORTH])  # type: ignore[list-item]
    assert info.value.path == "$.orders[1]"
    with pytest.raises(ValidationError) as info:
        order_report([], [NORTH, None])  # type: ignore[list-item]
    assert info.value.path == "$.accounts[1]"
    with pytest.raises(ValidationError) as info:
        order_report([], [], "branch")  # type: ignore[arg-type]
    assert info.value.path == "$.query"


# -- properties -------------------------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(populations(), queries)
def test_the_groups_add_up_to_the_total(
    population: tuple[list[Order], list[Account]], query: OrderQuery
) -> None:
    orders, accounts = population
    report = order_report(orders, accounts, query)
    assert sum(g.orders for g in report.groups) == report.total.orders
    for currency in {m.currency for m in report.total.revenue}:
        summed = Money.sum((g.in_currency(currency) for g in report.groups), currency=currency)
        assert summed == report.total.in_currency(currency)
    assert report.total.orders + report.excluded_status + report.outside_window == len(orders)
    assert report.considered == len(orders)
    keys = [g.key for g in report.groups]
    assert len(set(keys)) == len(keys)
    assert all(len(k) == len(query.group_by) for k in keys)


@settings(max_examples=60, deadline=None)
@given(populations(), st.sampled_from(ZONES))
def test_the_total_is_what_a_plain_loop_counts(
    population: tuple[list[Order], list[Account]], zone: str
) -> None:
    orders, accounts = population
    since = datetime(2025, 1, 1, tzinfo=UTC)
    report = order_report(orders, accounts, OrderQuery(timezone=zone, since=since))
    counted = [
        o for o in orders if o.status in BOOKED_STATUSES and o.placed_at and o.placed_at >= since
    ]
    assert report.total.orders == len(counted)
    assert {m.currency: m for m in report.total.revenue} == revenue(counted)
    known = {a.id for a in accounts}
    assert report.unknown_accounts == sum(o.account_id not in known for o in counted)


@settings(max_examples=60, deadline=None)
@given(populations(), st.sampled_from(Period))
def test_summing_out_the_period_gives_the_branch_figures(
    population: tuple[list[Order], list[Account]], period: Period
) -> None:
    orders, accounts = population
    fine = order_report(orders, accounts, OrderQuery(group_by=[D.BRANCH, D.PERIOD], period=period))
    coarse = order_report(orders, accounts, OrderQuery(group_by=[D.BRANCH]))
    counts: Counter[str | None] = Counter()
    for group in fine.groups:
        counts[group.key[0]] += group.orders
    assert counts == Counter({g.key[0]: g.orders for g in coarse.groups})


@settings(max_examples=25, deadline=None)
@given(populations(), queries)
def test_queries_and_reports_round_trip_through_the_codec(
    population: tuple[list[Order], list[Account]], query: OrderQuery
) -> None:
    report = order_report(*population, query)
    assert from_data(OrderQuery, to_data(query)) == query
    assert from_data(OrderReport, to_data(report)) == report


# -- year over year ---------------------------------------------------------------------


def test_branch_year_over_year_with_growth_per_currency() -> None:
    orders = [
        booked(NORTH, datetime(2025, 3, 1, tzinfo=UTC), "200.00"),
        booked(NORTH, datetime(2026, 3, 1, tzinfo=UTC), "250.00"),
        booked(NORTH, datetime(2026, 4, 1, tzinfo=UTC), "30.00", "USD"),
        booked(SOUTH, datetime(2025, 5, 1, tzinfo=UTC), "80.00"),
        booked(SOUTH, datetime(2024, 5, 1, tzinfo=UTC), "999.00"),
    ]
    result = year_over_year(orders, [NORTH, SOUTH], YearOverYearQuery(year=2026))
    north, south = result.row("north"), result.row("south")
    assert north is not None
    assert south is not None
    assert (north.orders_this_year, north.orders_last_year) == (2, 1)
    eur = north.in_currency("EUR")
    assert (eur.change, eur.growth_percent) == (Money.of("50", "EUR"), Decimal("25.0"))
    usd = north.in_currency("USD")
    assert (usd.last_year, usd.growth_percent) == (Money.zero("USD"), None)
    assert south.in_currency("EUR").growth_percent == Decimal("-100.0")
    assert result.total.in_currency("EUR").this_year == Money.of("250", "EUR")
    assert result.outside_window == 1
    assert result.row("west") is None


def test_year_to_date_compares_the_same_part_of_both_years() -> None:
    orders = [
        booked(NORTH, datetime(2025, 2, 28, 12, tzinfo=UTC)),
        booked(NORTH, datetime(2025, 3, 1, 12, tzinfo=UTC)),
        booked(NORTH, datetime(2024, 2, 29, 12, tzinfo=UTC)),
        booked(NORTH, datetime(2024, 3, 1, 12, tzinfo=UTC)),
    ]
    query = YearOverYearQuery(year=2024 + 1, through=date(2025, 2, 28))
    assert query.last_year_through == date(2024, 2, 28)
    leap = YearOverYearQuery(year=2024, through=date(2024, 2, 29))
    assert leap.last_year_through == date(2023, 2, 28)
    result = year_over_year(orders, [NORTH], query)
    assert (result.total.orders_this_year, result.total.orders_last_year) == (1, 0)
    assert result.outside_window == 3


def test_year_over_year_by_region_in_a_time_zone() -> None:
    eve = datetime(2025, 12, 31, 23, 30, tzinfo=UTC)
    query = YearOverYearQuery(year=2026, by=D.REGION, timezone="Europe/Berlin")
    result = year_over_year([booked(SOUTH, eve)], [SOUTH], query)
    assert [(r.key, r.orders_this_year) for r in result.rows] == [("BW", 1)]


def test_bad_year_over_year_queries_name_the_field() -> None:
    cases = [
        ({"year": 1}, "$.year"),
        ({"year": True}, "$.year"),
        ({"year": 2026, "by": D.PERIOD}, "$.by"),
        ({"year": 2026, "through": date(2025, 12, 31)}, "$.through"),
        ({"year": 2026, "statuses": [OrderStatus.DRAFT]}, "$.statuses[0]"),
    ]
    for fields, path in cases:
        with pytest.raises(ValidationError) as info:
            YearOverYearQuery(**fields)  # type: ignore[arg-type]
        assert info.value.path == path, fields
    with pytest.raises(ValidationError):
        year_over_year([], [], OrderQuery())  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(populations(), st.sampled_from([D.BRANCH, D.REGION]), st.sampled_from(ZONES))
def test_year_over_year_rows_add_up_and_match_the_yearly_report(
    population: tuple[list[Order], list[Account]], by: OrderDimension, zone: str
) -> None:
    orders, accounts = population
    result = year_over_year(orders, accounts, YearOverYearQuery(year=2026, by=by, timezone=zone))
    assert sum(r.orders_this_year for r in result.rows) == result.total.orders_this_year
    assert sum(r.orders_last_year for r in result.rows) == result.total.orders_last_year
    counted = result.total.orders_this_year + result.total.orders_last_year
    assert counted + result.excluded_status + result.outside_window == result.considered
    yearly = order_report(
        orders, accounts, OrderQuery(group_by=[by, D.PERIOD], period=Period.YEAR, timezone=zone)
    )
    for row in result.rows:
        this = yearly.group(row.key, "2026")
        last = yearly.group(row.key, "2025")
        assert row.orders_this_year == (this.orders if this else 0)
        assert row.orders_last_year == (last.orders if last else 0)
        for change in row.currencies:
            assert change.this_year == (
                this.in_currency(change.currency) if this else Money.zero(change.currency)
            )
            assert change.change == change.this_year - change.last_year
    assert from_data(YearOverYear, to_data(result)) == result


def test_currency_change_of_zero_last_year_has_no_growth() -> None:
    change = CurrencyChange.of(Money.of("10", "EUR"), Money.zero("EUR"))
    assert (change.change, change.growth_percent) == (Money.of("10", "EUR"), None)
