"""Sales forecasting: fiscal calendars, category roll-ups, adjustments, snapshots, quota
attainment, multiple currencies and forecast accuracy. Pure: frozen attrs objects in,
results out; no storage, no clock.

* :mod:`~sfakit.forecast.calendar` and :mod:`~sfakit.forecast.periods` —
  :class:`FiscalCalendar` (monthly, 4-4-5, 4-5-4, 5-4-4; last or nearest weekday),
  :class:`Period` (half-open ``[start, end)``), :func:`nrf_calendar`.
* :mod:`~sfakit.forecast.rollup` — :func:`forecast`: deals by :class:`ForecastLine`
  per period and group (owner, territory, product line, or a :class:`Hierarchy` rolled
  up cumulatively), Salesforce's cumulative categories, weighted pipeline, the deals
  behind every number; :func:`forecast_columns` over pre-extracted
  :class:`ForecastColumns` for large volumes; :func:`forecast_sums` over sums a database
  made (a report that counts its deals without listing them).
* :mod:`~sfakit.forecast.adjustments` and :mod:`~sfakit.forecast.snapshots` — owner
  and manager :class:`Adjustment` s layered on the raw numbers; frozen
  :class:`ForecastSnapshot` s.
* :mod:`~sfakit.forecast.quota` — :func:`attainment`: attainment, commit and pipeline
  coverage, rolled up.
* :mod:`~sfakit.forecast.currency` — :class:`RateTable` of dated rates, exact conversion.
* :mod:`~sfakit.forecast.accuracy` — :func:`accuracy`: MAPE, WMAPE and bias.
* :mod:`~sfakit.forecast.recurring` — :func:`project_recurring`: standing orders' revenue
  per period, reported apart.

(Statistical forecasts live in :mod:`sfakit.forecast.stats`.)

>>> from datetime import date, datetime, timezone
>>> from sfakit.model import Money, Opportunity
>>> from sfakit.pipeline import standard_pipeline
>>> t0 = datetime(2026, 1, 5, tzinfo=timezone.utc)
>>> calendar = FiscalCalendar.monthly(start_month=2)
>>> deals = [Opportunity(name=n, account_id="acct_a", pipeline="standard", stage=s,
...                      amount=Money.of(a, "EUR"), close_date=date(2026, 3, 10),
...                      owner_id="rep_al", created_at=t0)
...          for n, s, a in [("A", "closed_won", 800), ("B", "negotiate", 400),
...                          ("C", "prospect", 1000)]]
>>> report = forecast(deals, pipelines=standard_pipeline(), currency="EUR",
...                   periods=calendar.periods(2027, "quarter"))
>>> q1 = report.line("FY2027-Q1", "rep_al").total
>>> str(q1.closed), str(q1.commit_forecast), str(q1.open_pipeline), str(q1.weighted)
('800.00 EUR', '1200.00 EUR', '1400.00 EUR', '420.00 EUR')
>>> [c.deal_id for c in report.deals("FY2027-Q1", "rep_al", "commit", cumulative=False)]
['opp_...']
"""

from __future__ import annotations

from sfakit.forecast.accuracy import AccuracyPoint, AccuracyReport, AccuracyStats, accuracy
from sfakit.forecast.adjustments import AdjustedFigure, AdjustedForecast, Adjustment, adjust
from sfakit.forecast.calendar import (
    CalendarKind,
    FiscalCalendar,
    Weekday,
    YearEndRule,
    YearNaming,
    nrf_calendar,
)
from sfakit.forecast.columns import (
    CATEGORY_CODES,
    COUNTED,
    Engine,
    ForecastColumns,
    Tally,
    tally,
)
from sfakit.forecast.currency import (
    CurrencyRates,
    DatedRate,
    MissingRateError,
    RateBasis,
    RateTable,
)
from sfakit.forecast.extract import Exclusion, ExclusionReason
from sfakit.forecast.figures import Contribution, ForecastFigures, ForecastLine
from sfakit.forecast.hierarchy import (
    Dimension,
    Hierarchy,
    HierarchyNode,
    manager_hierarchy,
    territory_hierarchy,
)
from sfakit.forecast.periods import Period, PeriodKind, PeriodName, parse_period_name
from sfakit.forecast.quota import Attainment, AttainmentReport, QuotaSource, Ratio, attainment
from sfakit.forecast.recurring import RecurringLine, RecurringProjection, project_recurring
from sfakit.forecast.rollup import ForecastReport, forecast, forecast_columns, forecast_sums
from sfakit.forecast.snapshots import ForecastSnapshot, SnapshotLine, snapshot

__all__ = [
    "RecurringLine",
    "RecurringProjection",
    "project_recurring",
    "CATEGORY_CODES",
    "COUNTED",
    "AccuracyPoint",
    "AccuracyReport",
    "AccuracyStats",
    "AdjustedFigure",
    "AdjustedForecast",
    "Adjustment",
    "Attainment",
    "AttainmentReport",
    "CalendarKind",
    "Contribution",
    "CurrencyRates",
    "DatedRate",
    "Dimension",
    "Engine",
    "Exclusion",
    "ExclusionReason",
    "FiscalCalendar",
    "ForecastColumns",
    "ForecastFigures",
    "ForecastLine",
    "ForecastReport",
    "ForecastSnapshot",
    "Hierarchy",
    "HierarchyNode",
    "MissingRateError",
    "Period",
    "PeriodKind",
    "PeriodName",
    "QuotaSource",
    "RateBasis",
    "RateTable",
    "Ratio",
    "SnapshotLine",
    "Tally",
    "Weekday",
    "YearEndRule",
    "YearNaming",
    "accuracy",
    "adjust",
    "attainment",
    "forecast",
    "forecast_columns",
    "forecast_sums",
    "manager_hierarchy",
    "nrf_calendar",
    "parse_period_name",
    "snapshot",
    "tally",
    "territory_hierarchy",
]
