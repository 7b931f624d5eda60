"""What a sales report holds: plain frozen values, one class per section.

Every number is copied from a service answer, unrounded (rates and day counts are the
``Decimal`` the analytics give; rounding is for display). A section that could not be
computed is None and named, with the reason, in :attr:`SalesReport.no_data`: a report
never shows a zero it did not count. :func:`sfakit.codec.to_data` gives the report as
plain data and :func:`~sfakit.codec.from_data` rebuilds it:

>>> from datetime import datetime, timezone
>>> from sfakit.codec import from_data, to_data
>>> from sfakit.forecast import FiscalCalendar
>>> empty = SalesReport(
...     as_of=datetime(2026, 3, 2, 9, tzinfo=timezone.utc),
...     pipeline="standard",
...     period=FiscalCalendar.monthly().period("FY2026-Q2"),
...     no_data=[NoData(section=section, reason="nothing stored yet") for section in Section],
... )
>>> empty.reason(Section.FORECAST)
'nothing stored yet'
>>> from_data(SalesReport, to_data(empty)) == empty
True
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

import attrs

from sfakit.errors import Problem, ValidationError
from sfakit.forecast import Period
from sfakit.model import Money
from sfakit.model.checks import aware_datetime, to_tuple

__all__ = [
    "DealsLost",
    "DueStandingOrder",
    "DueStandingOrders",
    "ForecastRange",
    "FunnelStage",
    "LeadConversion",
    "NoData",
    "PipelineFunnel",
    "RegionConversion",
    "SalesCycle",
    "SalesReport",
    "Section",
    "StageLoss",
]


class Section(enum.StrEnum):
    """The sections of a report, in the order they are shown.

    >>> Section("forecast") is Section.FORECAST
    True
    """

    FUNNEL = "funnel"
    LOSSES = "losses"
    CYCLE = "cycle"
    LEADS = "leads"
    FORECAST = "forecast"
    STANDING_ORDERS = "standing_orders"


@attrs.frozen(kw_only=True)
class NoData:
    """Why ``section`` is missing: the service's error message, or what was not there.

    >>> NoData(section=Section.LEADS, reason="no leads yet").reason
    'no leads yet'
    """

    section: Section
    reason: str


@attrs.frozen(kw_only=True)
class FunnelStage:
    """Deals that reached ``stage`` (or a later one), and their ``share`` of the deals
    that entered the funnel.

    >>> FunnelStage(stage="propose", reached=3, share=Decimal("0.6")).reached
    3
    """

    stage: str
    reached: int
    share: Decimal | None


@attrs.frozen(kw_only=True)
class PipelineFunnel:
    """The cumulative funnel: ``deals`` entered it, ``lost`` of them were lost, and per
    stage of the selling path how many got at least that far (so the counts never grow
    along the path).

    >>> PipelineFunnel(deals=0, lost=0, stages=()).stages
    ()
    """

    deals: int
    lost: int
    stages: tuple[FunnelStage, ...]


@attrs.frozen(kw_only=True)
class StageLoss:
    """Deals ``lost`` after ``stage`` (their last open stage; None: never in one), their
    ``share`` of every lost deal, their amounts per currency (``without_amount`` of them
    had none), and the most frequent lost reasons (at most three, ``(reason, deals)``,
    reason None when none was given).

    >>> StageLoss(stage="propose", lost=2, share=Decimal("0.5"), amounts=(),
    ...           without_amount=2, reasons=(("price", 2),)).reasons[0]
    ('price', 2)
    """

    stage: str | None
    lost: int
    share: Decimal | None
    amounts: tuple[Money, ...]
    without_amount: int
    reasons: tuple[tuple[str | None, int], ...]


@attrs.frozen(kw_only=True)
class DealsLost:
    """Where deals are lost: ``lost`` deals in all, one row per open stage in pipeline
    order (zeros included).

    >>> DealsLost(lost=0, stages=()).lost
    0
    """

    lost: int
    stages: tuple[StageLoss, ...]


@attrs.frozen(kw_only=True)
class SalesCycle:
    """Closed deals: ``won`` and ``lost``, the ``win_rate`` by count, and the days from
    creation to close of the won deals whose close moment is known (``timed_deals``).

    >>> SalesCycle(won=1, lost=3, win_rate=Decimal("0.25"), timed_deals=1,
    ...            average_days=Decimal(12), median_days=Decimal(12)).win_rate
    Decimal('0.25')
    """

    won: int
    lost: int
    win_rate: Decimal | None
    timed_deals: int
    average_days: Decimal | None
    median_days: Decimal | None


@attrs.frozen(kw_only=True)
class RegionConversion:
    """Of the ``leads`` of ``region`` (None: leads without one), how many ``converted``.

    >>> RegionConversion(region="north", leads=4, converted=1, rate=Decimal("0.25")).rate
    Decimal('0.25')
    """

    region: str | None
    leads: int
    converted: int
    rate: Decimal | None


@attrs.frozen(kw_only=True)
class LeadConversion:
    """Lead conversion over every stored lead, in total and by region (sorted by region,
    leads without one last).

    >>> LeadConversion(leads=0, converted=0, rate=None, regions=()).rate is None
    True
    """

    leads: int
    converted: int
    rate: Decimal | None
    regions: tuple[RegionConversion, ...]


@attrs.frozen(kw_only=True)
class ForecastRange:
    """What the ``deals`` open deals closing in the period may bring (a Monte Carlo of
    ``runs`` runs from ``seed``): P10, P50, P90 and the mean, in ``currency``; and what
    was already won in the period (``closed_won``, from ``closed_deals`` deals).

    >>> eur = Money.of(0, "EUR")
    >>> ForecastRange(currency="EUR", deals=0, runs=1, seed=0, p10=eur, p50=eur, p90=eur,
    ...               mean=eur, closed_won=eur, closed_deals=0).currency
    'EUR'
    """

    currency: str
    deals: int
    runs: int
    seed: int
    p10: Money
    p50: Money
    p90: Money
    mean: Money
    closed_won: Money
    closed_deals: int


@attrs.frozen(kw_only=True)
class DueStandingOrder:
    """A standing order next due at ``due_at`` (UTC): the occurrence of ``local_date`` in
    its schedule's ``timezone``, for the account ``account_id`` (``account_name`` when
    the account is stored).

    >>> from datetime import timezone
    >>> DueStandingOrder(id="so_1", account_id="acct_1", account_name="Acme",
    ...                  local_date=date(2026, 3, 31), timezone="Europe/Berlin",
    ...                  due_at=datetime(2026, 3, 31, 6, tzinfo=timezone.utc)).local_date
    datetime.date(2026, 3, 31)
    """

    id: str
    account_id: str
    account_name: str | None
    local_date: date
    timezone: str
    due_at: datetime


@attrs.frozen(kw_only=True)
class DueStandingOrders:
    """The active standing orders next due before ``until``, soonest first (those due
    before the report's moment are overdue: no scheduler pass has ordered them yet).

    >>> from datetime import timezone
    >>> DueStandingOrders(until=datetime(2026, 3, 9, tzinfo=timezone.utc), orders=()).count
    0
    """

    until: datetime
    orders: tuple[DueStandingOrder, ...]

    @property
    def count(self) -> int:
        return len(self.orders)


def _sections(report: SalesReport) -> dict[Section, object]:
    return {
        Section.FUNNEL: report.funnel,
        Section.LOSSES: report.losses,
        Section.CYCLE: report.cycle,
        Section.LEADS: report.leads,
        Section.FORECAST: report.forecast,
        Section.STANDING_ORDERS: report.standing_orders,
    }


@attrs.frozen(kw_only=True)
class SalesReport:
    """A book of business at a glance, as of ``as_of``: the funnel, where deals are lost
    and the sales cycle of ``pipeline``, lead conversion by region, the forecast range of
    ``period``, and the standing orders due soon. Each section is None exactly when
    :attr:`no_data` says why.

    Build one with :func:`~sfakit.report.collect_report`; show it with
    :func:`~sfakit.report.render_text` or :func:`~sfakit.report.render_html`.
    """

    as_of: datetime = attrs.field(validator=aware_datetime)
    pipeline: str
    period: Period
    funnel: PipelineFunnel | None = None
    losses: DealsLost | None = None
    cycle: SalesCycle | None = None
    leads: LeadConversion | None = None
    forecast: ForecastRange | None = None
    standing_orders: DueStandingOrders | None = None
    no_data: tuple[NoData, ...] = attrs.field(default=(), converter=to_tuple)

    def __attrs_post_init__(self) -> None:
        explained = {gap.section for gap in self.no_data}
        problems = [
            Problem(
                "$.no_data",
                f"a reason for the missing section {section.value}"
                if value is None
                else f"no reason for the section {section.value}, which is there",
            )
            for section, value in _sections(self).items()
            if (value is None) != (section in explained)
        ]
        if len(explained) != len(self.no_data):
            problems.append(Problem("$.no_data", "one reason per missing section"))
        if problems:
            raise ValidationError.from_problems(problems, subject="sales report")

    def reason(self, section: Section | str) -> str | None:
        """Why ``section`` is missing; None when it is there."""
        for gap in self.no_data:
            if gap.section == section:
                return gap.reason
        return None
