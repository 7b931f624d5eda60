"""Order analytics: orders and revenue per branch, region and period; year over year.

Every figure is counted over the orders passed in, with their accounts (for ``branch``
and ``billing_region``). An order counts at the moment it was placed (``placed_at``;
orders recorded without one count at ``created_at``, as ``Sfa.record_order`` does for
``last_order_at``), in the calendar of the query's time zone, and only if its status is
one of the query's ``statuses`` — by default the *booked* ones (payment verified,
on account, shipped, delivered): placed orders still waiting for payment, cancelled and
returned orders are left out, as in Salesforce's "Orders by Status" reports.

Revenue is the orders' line totals as :class:`~sfakit.model.Money`, one amount per
currency: amounts in different currencies are never added up (convert first if you
need one figure). Each result carries its order counts and how many orders were left
out and why.

>>> from datetime import datetime, timezone
>>> from sfakit.model import Account, Money, Order, OrderLine
>>> at = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
>>> north = Account(name="Acme", branch="north", created_at=at)
>>> line = OrderLine(product_id="prod_bulb", quantity=1000, unit_price=Money.of("1.20", "EUR"))
>>> order = Order(account_id=north.id, currency="EUR", lines=[line],
...               status=OrderStatus.SHIPPED, created_at=at, placed_at=at)
>>> query = OrderQuery(group_by=[OrderDimension.BRANCH, OrderDimension.PERIOD])
>>> report = order_report([order], [north], query)
>>> [(g.key, g.orders, g.revenue) for g in report.groups]
[(('north', '2026-03'), 1, (Money('1200.00', 'EUR'),))]
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from sfakit.errors import ValidationError
from sfakit.model.checks import (
    enum_of,
    instance_of,
    non_negative_int,
    optional,
    plain_date,
    text,
    timezone_name,
    to_tuple,
    tuple_of,
)
from sfakit.model.money import Money
from sfakit.model.orders import Order, OrderStatus
from sfakit.model.parties import Account

__all__ = [
    "BOOKED_STATUSES",
    "CurrencyChange",
    "OrderDimension",
    "OrderGroup",
    "OrderQuery",
    "OrderReport",
    "OrderTotals",
    "Period",
    "YearComparison",
    "YearOverYear",
    "YearOverYearQuery",
    "YearOverYearRow",
    "order_report",
    "period_key",
    "year_over_year",
]

# Accounts as a list, or by id.
_Accounts = Iterable[Account] | Mapping[Any, Account]

#: The statuses counted by default: the order is confirmed and not undone.
BOOKED_STATUSES: Final = (
    OrderStatus.PAYMENT_VERIFIED,
    OrderStatus.ON_ACCOUNT,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
)


class Period(enum.StrEnum):
    """A calendar period: keys read ``2026-03``, ``2026-Q1`` and ``2026``.

    >>> Period("quarter") is Period.QUARTER
    True
    """

    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class OrderDimension(enum.StrEnum):
    """What orders are grouped by: the account's ``branch`` or ``billing_region``, or
    the ``period`` the order was placed in.

    >>> OrderDimension("region").value
    'region'
    """

    BRANCH = "branch"
    REGION = "region"
    PERIOD = "period"


def period_key(moment: datetime, period: Period, timezone: str = "UTC") -> str:
    """The key of the ``period`` that holds ``moment`` on the calendar of ``timezone``.

    >>> from datetime import datetime, timezone
    >>> new_year_eve = datetime(2025, 12, 31, 23, 30, tzinfo=timezone.utc)
    >>> period_key(new_year_eve, Period.QUARTER)
    '2025-Q4'
    >>> period_key(new_year_eve, Period.MONTH, "Europe/Berlin")
    '2026-01'
    """
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise ValidationError("$.moment", moment, "a timezone-aware datetime")
    if not isinstance(period, Period):
        raise ValidationError("$.period", period, "a Period: one of month, quarter, year")
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        raise ValidationError(
            "$.timezone", timezone, "an IANA time zone name such as 'Europe/Berlin'"
        ) from None
    local = moment.astimezone(zone)
    chosen = period
    if chosen is Period.YEAR:
        return f"{local.year:04d}"
    if chosen is Period.QUARTER:
        return f"{local.year:04d}-Q{(local.month - 1) // 3 + 1}"
    return f"{local.year:04d}-{local.month:02d}"


def _unique(instance: Any, attribute: attrs.Attribute[Any], value: tuple[Any, ...]) -> None:
    for index, item in enumerate(value):
        if item in value[:index]:
            raise ValidationError(f"$.{attribute.name}[{index}]", item, "no value twice")


def _statuses(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    tuple_of(enum_of(OrderStatus))(instance, attribute, value)
    if not value:
        raise ValidationError(f"$.{attribute.name}", value, "at least one order status")
    _unique(instance, attribute, value)
    if OrderStatus.DRAFT in value:
        raise ValidationError(
            f"$.{attribute.name}[{value.index(OrderStatus.DRAFT)}]",
            OrderStatus.DRAFT,
            "a status of placed orders (a draft has not been ordered)",
        )


def _aware(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (not isinstance(value, datetime) or value.utcoffset() is None):
        raise ValidationError(f"$.{attribute.name}", value, "a timezone-aware datetime")


def _dimensions(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    tuple_of(enum_of(OrderDimension))(instance, attribute, value)
    _unique(instance, attribute, value)


@attrs.frozen(kw_only=True)
class OrderQuery:
    """Which orders to count and how to group them.

    ``group_by`` lists dimensions (none: only the total); ``period`` and ``timezone``
    decide the period keys; ``since`` (inclusive) and ``until`` (exclusive) bound the
    moment orders were placed.

    >>> OrderQuery(group_by=[OrderDimension.REGION], period=Period.QUARTER).group_by
    (<OrderDimension.REGION: 'region'>,)
    """

    group_by: tuple[OrderDimension, ...] = attrs.field(
        default=(OrderDimension.BRANCH,), converter=to_tuple, validator=_dimensions
    )
    period: Period = attrs.field(default=Period.MONTH, validator=enum_of(Period))
    timezone: str = attrs.field(default="UTC", validator=timezone_name)
    statuses: tuple[OrderStatus, ...] = attrs.field(
        default=BOOKED_STATUSES, converter=to_tuple, validator=_statuses
    )
    since: datetime | None = attrs.field(default=None, validator=_aware)
    until: datetime | None = attrs.field(default=None, validator=_aware)

    def __attrs_post_init__(self) -> None:
        if self.since is not None and self.until is not None and self.until <= self.since:
            raise ValidationError(
                "$.until", self.until, f"a moment after since ({self.since.isoformat()})"
            )


def _revenue(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    tuple_of(instance_of(Money, "Money"))(instance, attribute, value)
    codes = [m.currency for m in value]
    if codes != sorted(set(codes)):
        raise ValidationError(
            f"$.{attribute.name}", codes, "one amount per currency, sorted by currency code"
        )


@attrs.frozen(kw_only=True)
class OrderTotals:
    """How many orders, and their revenue: one :class:`~sfakit.model.Money` per
    currency, sorted by currency code.

    >>> OrderTotals(orders=2, revenue=[Money.of("5", "EUR")]).in_currency("USD")
    Money('0.00', 'USD')
    """

    orders: int = attrs.field(validator=non_negative_int)
    revenue: tuple[Money, ...] = attrs.field(default=(), converter=to_tuple, validator=_revenue)

    def in_currency(self, currency: str) -> Money:
        """The revenue in ``currency`` (zero if no counted order was in it)."""
        for amount in self.revenue:
            if amount.currency == currency:
                return amount
        return Money.zero(currency)


@attrs.frozen(kw_only=True)
class OrderGroup(OrderTotals):
    """The totals of one group; ``key`` holds its value of each ``group_by`` dimension,
    None where the account has no branch or region (or is unknown)."""

    key: tuple[str | None, ...] = attrs.field(
        converter=to_tuple, validator=tuple_of(optional(text(max_length=200)))
    )


@attrs.frozen(kw_only=True)
class OrderReport:
    """The groups (sorted by key, None last), their ``total``, and what was counted:
    of the ``considered`` orders, ``excluded_status`` had another status and
    ``outside_window`` were placed outside since/until; ``unknown_accounts`` of the
    counted ones had no account among those given (they are grouped under None).
    """

    query: OrderQuery = attrs.field(validator=instance_of(OrderQuery, "an OrderQuery"))
    groups: tuple[OrderGroup, ...] = attrs.field(
        converter=to_tuple, validator=tuple_of(instance_of(OrderGroup, "an OrderGroup"))
    )
    total: OrderTotals = attrs.field(validator=instance_of(OrderTotals, "OrderTotals"))
    considered: int = attrs.field(validator=non_negative_int)
    excluded_status: int = attrs.field(validator=non_negative_int)
    outside_window: int = attrs.field(validator=non_negative_int)
    unknown_accounts: int = attrs.field(validator=non_negative_int)

    def group(self, *key: str | None) -> OrderGroup | None:
        """The group with ``key`` (one value per dimension), or None if no order had it."""
        return next((g for g in self.groups if g.key == key), None)


class _Tally:
    """Order counts and per-currency sums, built up one order at a time."""

    def __init__(self) -> None:
        self.orders = 0
        self.sums: dict[str, Money] = {}

    def add(self, order: Order) -> None:
        self.orders += 1
        total = order.total
        self.sums[total.currency] = (
            self.sums.get(total.currency, Money.zero(total.currency)) + total
        )

    def totals(self) -> OrderTotals:
        return OrderTotals(orders=self.orders, revenue=self._revenue())

    def group(self, key: tuple[str | None, ...]) -> OrderGroup:
        return OrderGroup(key=key, orders=self.orders, revenue=self._revenue())

    def _revenue(self) -> tuple[Money, ...]:
        return tuple(self.sums[code] for code in sorted(self.sums))


def _sort_key(key: tuple[str | None, ...]) -> tuple[tuple[bool, str], ...]:
    return tuple((part is None, part or "") for part in key)


def _orders(orders: Iterable[Order]) -> list[Order]:
    found = list(orders)
    for index, order in enumerate(found):
        if not isinstance(order, Order):
            raise ValidationError(f"$.orders[{index}]", order, "an Order")
    return found


def _accounts(accounts: _Accounts) -> dict[str, Account]:
    values = accounts.values() if isinstance(accounts, Mapping) else accounts
    found: dict[str, Account] = {}
    for index, account in enumerate(values):
        if not isinstance(account, Account):
            raise ValidationError(f"$.accounts[{index}]", account, "an Account")
        found[account.id] = account
    return found


def _placed(order: Order) -> datetime:
    return order.placed_at or order.created_at


def _dimension_value(
    dimension: OrderDimension, account: Account | None, moment: datetime, query: OrderQuery
) -> str | None:
    if dimension is OrderDimension.PERIOD:
        return period_key(moment, query.period, query.timezone)
    if account is None:
        return None
    return account.branch if dimension is OrderDimension.BRANCH else account.billing_region


def order_report(
    orders: Iterable[Order],
    accounts: _Accounts,
    query: OrderQuery | None = None,
) -> OrderReport:
    """Orders and revenue per group of ``query.group_by`` (by branch by default)."""
    chosen = OrderQuery() if query is None else query
    if not isinstance(chosen, OrderQuery):
        raise ValidationError("$.query", chosen, "an OrderQuery")
    found, by_id = _orders(orders), _accounts(accounts)
    wanted = set(chosen.statuses)
    groups: dict[tuple[str | None, ...], _Tally] = {}
    total = _Tally()
    excluded = outside = unknown = 0
    for order in found:
        moment = _placed(order)
        if order.status not in wanted:
            excluded += 1
            continue
        if (chosen.since is not None and moment < chosen.since) or (
            chosen.until is not None and moment >= chosen.until
        ):
            outside += 1
            continue
        account = by_id.get(order.account_id)
        unknown += account is None
        key = tuple(_dimension_value(d, account, moment, chosen) for d in chosen.group_by)
        groups.setdefault(key, _Tally()).add(order)
        total.add(order)
    return OrderReport(
        query=chosen,
        groups=[groups[key].group(key) for key in sorted(groups, key=_sort_key)],
        total=total.totals(),
        considered=len(found),
        excluded_status=excluded,
        outside_window=outside,
        unknown_accounts=unknown,
    )


# -- year over year -------------------------------------------------------------------


def _by(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value not in (OrderDimension.BRANCH, OrderDimension.REGION):
        raise ValidationError(f"$.{attribute.name}", value, "branch or region")


def _year(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 2 <= value <= 9999:
        raise ValidationError(f"$.{attribute.name}", value, "a year from 2 to 9999")


@attrs.frozen(kw_only=True)
class YearOverYearQuery:
    """Compare ``year`` with the year before, per ``by`` (branch or region).

    With ``through`` (a day of ``year``), both years are cut at that calendar day, so a
    year in progress is compared with the same part of the last one (year to date);
    29 February is matched by 28 February.

    >>> from datetime import date
    >>> YearOverYearQuery(year=2026, through=date(2026, 6, 30)).by.value
    'branch'
    """

    year: int = attrs.field(validator=_year)
    by: OrderDimension = attrs.field(default=OrderDimension.BRANCH, validator=_by)
    timezone: str = attrs.field(default="UTC", validator=timezone_name)
    statuses: tuple[OrderStatus, ...] = attrs.field(
        default=BOOKED_STATUSES, converter=to_tuple, validator=_statuses
    )
    through: date | None = attrs.field(default=None, validator=optional(plain_date))

    def __attrs_post_init__(self) -> None:
        if self.through is not None and self.through.year != self.year:
            raise ValidationError("$.through", self.through, f"a day of {self.year}")

    @property
    def last_year_through(self) -> date | None:
        """The day last year's part ends on (None: the whole year)."""
        if self.through is None:
            return None
        day = self.through
        if (day.month, day.day) == (2, 29):
            return date(day.year - 1, 2, 28)
        return day.replace(year=day.year - 1)


@attrs.frozen(kw_only=True)
class CurrencyChange:
    """One currency's revenue this year and last, the change, and the growth in percent
    (to one decimal; None when last year had no revenue in it)."""

    currency: str = attrs.field(validator=text(max_length=3))
    this_year: Money = attrs.field(validator=instance_of(Money, "Money"))
    last_year: Money = attrs.field(validator=instance_of(Money, "Money"))
    change: Money = attrs.field(validator=instance_of(Money, "Money"))
    growth_percent: Decimal | None = attrs.field(
        default=None, validator=optional(instance_of(Decimal, "a Decimal"))
    )

    @classmethod
    def of(cls, this_year: Money, last_year: Money) -> CurrencyChange:
        change = this_year - last_year
        growth = (
            None
            if last_year.is_zero()
            else (change.amount / last_year.amount * 100).quantize(Decimal("0.1"))
        )
        return cls(
            currency=this_year.currency,
            this_year=this_year,
            last_year=last_year,
            change=change,
            growth_percent=growth,
        )


@attrs.frozen(kw_only=True)
class YearComparison:
    """Order counts of both years and the revenue change per currency (every currency
    either year had, sorted by code)."""

    orders_this_year: int = attrs.field(validator=non_negative_int)
    orders_last_year: int = attrs.field(validator=non_negative_int)
    currencies: tuple[CurrencyChange, ...] = attrs.field(
        default=(),
        converter=to_tuple,
        validator=tuple_of(instance_of(CurrencyChange, "a CurrencyChange")),
    )

    def in_currency(self, currency: str) -> CurrencyChange:
        """The comparison in ``currency`` (zeros if neither year had it)."""
        for change in self.currencies:
            if change.currency == currency:
                return change
        return CurrencyChange.of(Money.zero(currency), Money.zero(currency))


@attrs.frozen(kw_only=True)
class YearOverYearRow(YearComparison):
    """The comparison for one branch or region (``key`` None: accounts without one)."""

    key: str | None = attrs.field(validator=optional(text(max_length=200)))


@attrs.frozen(kw_only=True)
class YearOverYear:
    """Rows per branch or region (sorted, None last), their ``total``, and what was
    counted: of the ``considered`` orders, ``excluded_status`` had another status,
    ``outside_window`` fell in neither compared span, and ``unknown_accounts`` of the
    counted ones had no account among those given."""

    query: YearOverYearQuery = attrs.field(
        validator=instance_of(YearOverYearQuery, "a YearOverYearQuery")
    )
    rows: tuple[YearOverYearRow, ...] = attrs.field(
        converter=to_tuple, validator=tuple_of(instance_of(YearOverYearRow, "a YearOverYearRow"))
    )
    total: YearComparison = attrs.field(validator=instance_of(YearComparison, "a YearComparison"))
    considered: int = attrs.field(validator=non_negative_int)
    excluded_status: int = attrs.field(validator=non_negative_int)
    outside_window: int = attrs.field(validator=non_negative_int)
    unknown_accounts: int = attrs.field(validator=non_negative_int)

    def row(self, key: str | None) -> YearOverYearRow | None:
        """The row of one branch or region, or None if neither year had an order there."""
        return next((r for r in self.rows if r.key == key), None)


def _compare(this: _Tally, last: _Tally) -> dict[str, Any]:
    codes = sorted(set(this.sums) | set(last.sums))
    return {
        "orders_this_year": this.orders,
        "orders_last_year": last.orders,
        "currencies": [
            CurrencyChange.of(
                this.sums.get(code, Money.zero(code)), last.sums.get(code, Money.zero(code))
            )
            for code in codes
        ],
    }


def year_over_year(
    orders: Iterable[Order],
    accounts: _Accounts,
    query: YearOverYearQuery,
) -> YearOverYear:
    """Orders and revenue of ``query.year`` against the year before, per branch or
    region ("branch year-over-year")."""
    if not isinstance(query, YearOverYearQuery):
        raise ValidationError("$.query", query, "a YearOverYearQuery")
    found, by_id = _orders(orders), _accounts(accounts)
    zone = ZoneInfo(query.timezone)
    wanted = set(query.statuses)
    spans = ((query.year, query.through), (query.year - 1, query.last_year_through))
    tallies: dict[str | None, tuple[_Tally, _Tally]] = {}
    totals = (_Tally(), _Tally())
    excluded = outside = unknown = 0
    for order in found:
        if order.status not in wanted:
            excluded += 1
            continue
        local = _placed(order).astimezone(zone).date()
        which = next(
            (
                i
                for i, (y, end) in enumerate(spans)
                if local.year == y and (end is None or local <= end)
            ),
            None,
        )
        if which is None:
            outside += 1
            continue
        account = by_id.get(order.account_id)
        unknown += account is None
        key = _dimension_value(query.by, account, _placed(order), OrderQuery())
        tallies.setdefault(key, (_Tally(), _Tally()))[which].add(order)
        totals[which].add(order)
    rows = [
        YearOverYearRow(key=key, **_compare(*tallies[key]))
        for key in sorted(tallies, key=lambda k: (k is None, k or ""))
    ]
    return YearOverYear(
        query=query,
        rows=rows,
        total=YearComparison(**_compare(*totals)),
        considered=len(found),
        excluded_status=excluded,
        outside_window=outside,
        unknown_accounts=unknown,
    )
