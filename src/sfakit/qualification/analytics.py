"""Lead analytics: conversion rates by source, campaign, region or period, and how long
leads take to qualify or convert. Pure functions over leads you pass in.

* **Conversion** is a cohort measure, as in Salesforce's lead conversion reports: the
  leads *created* inside ``window`` (a :class:`~sfakit.pipeline.Window`, half-open),
  and how many of them have converted (``converted_at`` set, and not after ``as_of``
  when given). "What share of last month's leads in the north-west region converted?"
  is ``conversion_rate(leads, window=last_month, where=field("region").eq("north-west"))``.
  :func:`conversion_by` splits the same count by any field of
  :class:`~sfakit.model.Lead` (``source``, ``campaign``, ``region`` …) or by the
  :class:`Period` of creation in a time zone.
* **Time to qualify** goes from ``created_at`` to the moment a lead was qualified,
  which the lead does not hold: pass it from the history as a mapping of lead id to
  time. **Time to convert** uses ``converted_at``. By default a lead counts when that
  moment is inside the window (like a sales-cycle report); with
  ``window_on=WindowOn.CREATED`` the window selects leads by creation instead (a
  cohort). Results are :class:`~sfakit.pipeline.DayStats` (mean, median, P90 …).

``where`` is a criteria over Lead (:mod:`sfakit.rules`); one using ``within_last``
needs ``as_of``. Rates are Decimal, unrounded (None when there are no leads); every
result carries the counts it was computed from.

>>> from datetime import datetime, timezone
>>> from sfakit.model import Lead, LeadStatus
>>> t0 = datetime(2026, 3, 2, tzinfo=timezone.utc)
>>> leads = [Lead(company="A", source="web", created_at=t0),
...          Lead(company="B", source="web", created_at=t0, converted_at=t0,
...               converted_account_id="acct_b", status=LeadStatus.CONVERTED),
...          Lead(company="C", source="fair", created_at=t0)]
>>> [(row.key, row.leads, row.converted, row.rate) for row in conversion_by(leads, "source").rows]
[('fair', 1, 0, Decimal('0')), ('web', 2, 1, Decimal('0.5'))]
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from sfakit.errors import ValidationError
from sfakit.model.leads import Lead
from sfakit.pipeline import DayStats, Window
from sfakit.rules import Criteria, FieldKind, compile_criteria, resolve_field

__all__ = [
    "ConversionRate",
    "ConversionTable",
    "LeadTimes",
    "Period",
    "WindowOn",
    "conversion_by",
    "conversion_rate",
    "time_to_convert",
    "time_to_qualify",
]

_CTX: Final = Context(prec=28, rounding=ROUND_HALF_EVEN)
_GROUPABLE: Final = frozenset(
    {FieldKind.STRING, FieldKind.ENUM, FieldKind.NUMBER, FieldKind.BOOL, FieldKind.DATE}
)


class Period(enum.StrEnum):
    """A calendar period to group leads by their creation time. Keys read ``2026-03-02``
    (day), ``2026-W10`` (ISO week), ``2026-03`` (month), ``2026-Q1`` (quarter) and
    ``2026`` (year), so they sort in time order.

    >>> Period("month") is Period.MONTH
    True
    """

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class WindowOn(enum.StrEnum):
    """Which moment of a lead a time-to-qualify window selects it by.

    >>> WindowOn("created") is WindowOn.CREATED
    True
    """

    CREATED = "created"
    REACHED = "reached"


@attrs.frozen(kw_only=True)
class ConversionRate:
    """Of ``leads`` (in one group, ``key``), how many ``converted``, and the ``rate``.

    >>> ConversionRate(key="web", leads=4, converted=1, rate=Decimal("0.25")).rate
    Decimal('0.25')
    """

    key: str | None
    leads: int
    converted: int
    rate: Decimal | None


@attrs.frozen(kw_only=True)
class ConversionTable:
    """Conversion per value of ``by`` (a field name or a period), with the ``total``.
    Rows are sorted by key, leads without a value (key None) last.

    >>> ConversionTable(by="source", rows=(), total=ConversionRate(
    ...     key=None, leads=0, converted=0, rate=None)).total.rate is None
    True
    """

    by: str
    rows: tuple[ConversionRate, ...]
    total: ConversionRate

    def row(self, key: str | None) -> ConversionRate:
        """The row of ``key``; a group with no leads has a row of zeros."""
        for row in self.rows:
            if row.key == key:
                return row
        return ConversionRate(key=key, leads=0, converted=0, rate=None)


@attrs.frozen(kw_only=True)
class LeadTimes:
    """How long leads took: of ``leads`` considered, ``reached`` have a time, and
    ``days`` are the statistics of those times.

    >>> LeadTimes(leads=0, reached=0, days=DayStats(count=0)).days.median is None
    True
    """

    leads: int
    reached: int
    days: DayStats


# -- filtering --------------------------------------------------------------------------


def _selector(
    window: Window | None, where: Criteria | None, as_of: datetime | None
) -> Callable[[Lead], bool]:
    if window is not None and not isinstance(window, Window):
        raise ValidationError("$.window", window, "a Window (sfakit.pipeline.Window) or None")
    if as_of is not None and (not isinstance(as_of, datetime) or as_of.utcoffset() is None):
        raise ValidationError("$.as_of", as_of, "a timezone-aware datetime or None")
    matches = None
    if where is not None:
        try:
            compiled = compile_criteria(where, Lead)
        except ValidationError as err:
            raise err.under("$.where") from None
        if compiled.needs_now and as_of is None:
            raise ValidationError(
                "$.as_of", None, "a timezone-aware datetime: the where criteria uses within_last"
            )
        matches = compiled.matches

    def selected(lead: Lead) -> bool:
        if window is not None and lead.created_at not in window:
            return False
        return matches is None or matches(lead, now=as_of)

    return selected


def _leads(leads: Iterable[Lead]) -> list[Lead]:
    result = []
    for index, lead in enumerate(leads):
        if not isinstance(lead, Lead):
            raise ValidationError(f"$.leads[{index}]", lead, "a Lead")
        result.append(lead)
    return result


def _converted(lead: Lead, as_of: datetime | None) -> bool:
    at = lead.converted_at
    return at is not None and (as_of is None or at <= as_of)


def _rate(key: str | None, leads: int, converted: int) -> ConversionRate:
    rate = None if leads == 0 else _CTX.divide(Decimal(converted), Decimal(leads))
    return ConversionRate(key=key, leads=leads, converted=converted, rate=rate)


# -- conversion -------------------------------------------------------------------------


def conversion_rate(
    leads: Iterable[Lead],
    *,
    window: Window | None = None,
    where: Criteria | None = None,
    as_of: datetime | None = None,
) -> ConversionRate:
    """The share of the leads created inside ``window`` (and matching ``where``) that
    converted (by ``as_of``, when given).

    >>> from datetime import datetime, timezone
    >>> from sfakit.model import Lead
    >>> conversion_rate([Lead(company="A", created_at=datetime(2026, 3, 2, tzinfo=timezone.utc))])
    ConversionRate(key=None, leads=1, converted=0, rate=Decimal('0'))
    """
    selected = _selector(window, where, as_of)
    total = converted = 0
    for lead in _leads(leads):
        if selected(lead):
            total += 1
            converted += _converted(lead, as_of)
    return _rate(None, total, converted)


def _period_key(period: Period, zone: ZoneInfo) -> Callable[[Lead], str]:
    def key(lead: Lead) -> str:
        local = lead.created_at.astimezone(zone)
        if period is Period.DAY:
            return local.date().isoformat()
        if period is Period.WEEK:
            year, week, _ = local.isocalendar()
            return f"{year}-W{week:02d}"
        if period is Period.MONTH:
            return f"{local.year}-{local.month:02d}"
        if period is Period.QUARTER:
            return f"{local.year}-Q{(local.month - 1) // 3 + 1}"
        return str(local.year)

    return key


def _zone(name: object) -> ZoneInfo:
    try:
        if isinstance(name, str) and name:
            return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        pass
    raise ValidationError("$.zone", name, "an IANA time zone name such as 'Europe/Berlin'")


def _show(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def _field_key(by: str) -> Callable[[Lead], str | None]:
    info = resolve_field(Lead, by)
    if info.type.kind not in _GROUPABLE:
        raise ValidationError(
            "$.by", by, "a field holding one value (text, enum, number, bool or date) or a Period"
        )
    names = info.names

    def key(lead: Lead) -> str | None:
        value: Any = lead
        for name in names:
            value = getattr(value, name)
            if value is None:
                return None
        return _show(value)

    return key


def conversion_by(
    leads: Iterable[Lead],
    by: str | Period,
    *,
    window: Window | None = None,
    where: Criteria | None = None,
    as_of: datetime | None = None,
    zone: str = "UTC",
) -> ConversionTable:
    """Conversion of the leads created inside ``window`` (and matching ``where``), per
    value of the Lead field ``by`` or per :class:`Period` of creation in the IANA time
    ``zone``.

    >>> from datetime import datetime, timezone
    >>> from sfakit.model import Lead
    >>> leads = [Lead(company="A", created_at=datetime(2026, m, 2, tzinfo=timezone.utc))
    ...          for m in (1, 2, 2, 4)]
    >>> [(r.key, r.leads) for r in conversion_by(leads, Period.QUARTER).rows]
    [('2026-Q1', 3), ('2026-Q2', 1)]
    """
    key: Callable[[Lead], str | None]
    if isinstance(by, Period):
        key = _period_key(by, _zone(zone))
        label = by.value
    elif isinstance(by, str):
        try:
            key = _field_key(by)
        except ValidationError as err:
            if err.path == "$.by":
                raise
            raise ValidationError("$.by", by, err.expected) from None
        label = by
    else:
        raise ValidationError("$.by", by, "a Lead field name or a Period")
    selected = _selector(window, where, as_of)
    counts: dict[str | None, list[int]] = {}
    total = converted = 0
    for lead in _leads(leads):
        if not selected(lead):
            continue
        pair = counts.setdefault(key(lead), [0, 0])
        pair[0] += 1
        total += 1
        if _converted(lead, as_of):
            pair[1] += 1
            converted += 1
    ordered = sorted(counts, key=lambda k: (k is None, k or ""))
    return ConversionTable(
        by=label,
        rows=tuple(_rate(k, counts[k][0], counts[k][1]) for k in ordered),
        total=_rate(None, total, converted),
    )


# -- time to qualify / convert ----------------------------------------------------------


def _times(
    leads: Iterable[Lead],
    reached_at: Callable[[Lead], datetime | None],
    *,
    what: str,
    window: Window | None,
    window_on: WindowOn,
    where: Criteria | None,
    as_of: datetime | None,
) -> LeadTimes:
    if not isinstance(window_on, WindowOn):
        raise ValidationError("$.window_on", window_on, "created or reached")
    cohort = window_on is WindowOn.CREATED
    selected = _selector(window if cohort else None, where, as_of)
    considered = 0
    durations: list[timedelta] = []
    for lead in _leads(leads):
        if not selected(lead):
            continue
        at = reached_at(lead)
        if at is not None and as_of is not None and at > as_of:
            at = None
        if not cohort and (at is None or (window is not None and at not in window)):
            continue
        considered += 1
        if at is None:
            continue
        if at < lead.created_at:
            raise ValidationError(
                f"$.{what}[{lead.id!r}]",
                at,
                f"a moment at or after the lead's created_at ({lead.created_at.isoformat()})",
            )
        durations.append(at - lead.created_at)
    return LeadTimes(leads=considered, reached=len(durations), days=DayStats.of(durations))


def time_to_qualify(
    leads: Iterable[Lead],
    qualified_at: Mapping[str, datetime],
    *,
    window: Window | None = None,
    window_on: WindowOn = WindowOn.REACHED,
    where: Criteria | None = None,
    as_of: datetime | None = None,
) -> LeadTimes:
    """Days from creation to qualification; ``qualified_at`` maps lead ids to when each
    was qualified (from the status history; ids of other leads are ignored).

    >>> from datetime import datetime, timedelta, timezone
    >>> from sfakit.model import Lead
    >>> t0 = datetime(2026, 3, 2, tzinfo=timezone.utc)
    >>> leads = [Lead(company=c, created_at=t0) for c in "ABC"]
    >>> history = {leads[0].id: t0 + timedelta(days=2), leads[1].id: t0 + timedelta(days=6)}
    >>> times = time_to_qualify(leads, history, window_on=WindowOn.CREATED)
    >>> times.leads, times.reached, times.days.median
    (3, 2, Decimal('4'))
    """
    if not isinstance(qualified_at, Mapping):
        raise ValidationError("$.qualified_at", qualified_at, "a mapping of lead id to datetime")

    def reached(lead: Lead) -> datetime | None:
        at = qualified_at.get(lead.id)
        if at is not None and (not isinstance(at, datetime) or at.utcoffset() is None):
            raise ValidationError(f"$.qualified_at[{lead.id!r}]", at, "a timezone-aware datetime")
        return at

    return _times(
        leads,
        reached,
        what="qualified_at",
        window=window,
        window_on=window_on,
        where=where,
        as_of=as_of,
    )


def time_to_convert(
    leads: Iterable[Lead],
    *,
    window: Window | None = None,
    window_on: WindowOn = WindowOn.REACHED,
    where: Criteria | None = None,
    as_of: datetime | None = None,
) -> LeadTimes:
    """Days from creation to conversion (``converted_at``).

    >>> from datetime import datetime, timedelta, timezone
    >>> from sfakit.model import Lead, LeadStatus
    >>> t0 = datetime(2026, 3, 2, tzinfo=timezone.utc)
    >>> won = Lead(company="A", created_at=t0, status=LeadStatus.CONVERTED,
    ...            converted_at=t0 + timedelta(days=10), converted_account_id="acct_a")
    >>> time_to_convert([won]).days.mean
    Decimal('10')
    """
    return _times(
        leads,
        lambda lead: lead.converted_at,
        what="converted_at",
        window=window,
        window_on=window_on,
        where=where,
        as_of=as_of,
    )
