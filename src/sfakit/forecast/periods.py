"""Fiscal periods: a name such as ``FY2027-Q1`` and the days it covers.

A :class:`Period` covers the **half-open** range of days ``[start, end)``: ``start`` is
its first day and ``end`` the first day of the period after it, so consecutive periods
meet exactly (``q1.end == q2.start``) and a period's length is ``end - start``.
``last_day`` is the inclusive last day, for display.

Names are those :class:`~sfakit.model.Quota` accepts: ``FY2027`` (the year),
``FY2027-Q1`` … ``Q4``, ``FY2027-M01`` … ``M12`` and ``FY2027-W01`` … ``W53``; months
and weeks are numbered from the start of the fiscal year, not the calendar year.

>>> from datetime import date
>>> q1 = Period(name="FY2027-Q1", start=date(2026, 2, 1), end=date(2026, 5, 1))
>>> q1.kind, q1.fiscal_year, q1.number, q1.last_day
(<PeriodKind.QUARTER: 'quarter'>, 2027, 1, datetime.date(2026, 4, 30))
>>> date(2026, 4, 30) in q1, date(2026, 5, 1) in q1
(True, False)
"""

from __future__ import annotations

import enum
import re
from datetime import date, timedelta
from typing import Any, Final, NamedTuple

import attrs

from sfakit.errors import ValidationError
from sfakit.forecast._checks import allowed, to_enum
from sfakit.model.checks import plain_date

__all__ = ["Period", "PeriodKind", "PeriodName", "parse_period_name"]


class PeriodKind(enum.StrEnum):
    """How long a period is: a fiscal year, quarter, month (or 4/5-week period) or week.

    >>> PeriodKind("quarter").letter
    'Q'
    """

    YEAR = "year"
    QUARTER = "quarter"
    MONTH = "month"
    WEEK = "week"

    @property
    def letter(self) -> str:
        """The letter in period names (``Q``, ``M``, ``W``; empty for the year)."""
        return _LETTERS[self]


_LETTERS: Final = {
    PeriodKind.YEAR: "",
    PeriodKind.QUARTER: "Q",
    PeriodKind.MONTH: "M",
    PeriodKind.WEEK: "W",
}
_BY_LETTER: Final = {letter: kind for kind, letter in _LETTERS.items() if letter}
#: The same language as Quota's period check, with groups.
_NAME: Final = re.compile(
    r"FY(\d{4})(?:-(?:(Q)([1-4])|(M)(0[1-9]|1[0-2])|(W)(0[1-9]|[1-4]\d|5[0-3])))?"
)
NAME_EXPECTED: Final = (
    "a fiscal period name: FY2027, FY2027-Q1 (Q1-Q4), FY2027-M03 (M01-M12) or FY2027-W05 (W01-W53)"
)


class PeriodName(NamedTuple):
    """A period name taken apart: fiscal year, kind and number within the year."""

    fiscal_year: int
    kind: PeriodKind
    number: int

    def __str__(self) -> str:
        if self.kind is PeriodKind.YEAR:
            return f"FY{self.fiscal_year:04d}"
        width = 1 if self.kind is PeriodKind.QUARTER else 2
        return f"FY{self.fiscal_year:04d}-{self.kind.letter}{self.number:0{width}d}"


def parse_period_name(name: object, path: str = "$.period") -> PeriodName:
    """Take a period name apart, or raise a ValidationError naming it.

    >>> parse_period_name("FY2027-M03")
    PeriodName(fiscal_year=2027, kind=<PeriodKind.MONTH: 'month'>, number=3)
    >>> str(parse_period_name("FY2027-W05"))
    'FY2027-W05'
    >>> parse_period_name("FY2027-Q5")
    Traceback (most recent call last):
    ...
    sfakit.errors.ValidationError: $.period: got 'FY2027-Q5'; expected a fiscal period name: ...
    """
    match = _NAME.fullmatch(name) if isinstance(name, str) else None
    if match is None:
        raise ValidationError(path, name, NAME_EXPECTED)
    year = int(match[1])
    for letter_group in (2, 4, 6):
        letter = match[letter_group]
        if letter is not None:
            return PeriodName(year, _BY_LETTER[letter], int(match[letter_group + 1]))
    return PeriodName(year, PeriodKind.YEAR, 1)


def _period_name(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    parse_period_name(value, f"$.{attribute.name}")


@attrs.frozen(kw_only=True)
class Period:
    """One fiscal period: its name and the half-open day range ``[start, end)``.

    Build periods with a :class:`~sfakit.forecast.calendar.FiscalCalendar`; a period is
    plain data (``to_data`` gives its name and both dates) and knows nothing of the
    calendar that made it.

    >>> from datetime import date
    >>> Period(name="FY2027", start=date(2027, 1, 1), end=date(2027, 1, 1))
    Traceback (most recent call last):
    ...
    sfakit.errors.ValidationError: $.end: got datetime.date(2027, 1, 1); expected a day after...
    """

    name: str = attrs.field(validator=_period_name)
    start: date = attrs.field(validator=plain_date)
    end: date = attrs.field(validator=plain_date)

    def __attrs_post_init__(self) -> None:
        if self.end <= self.start:
            raise ValidationError(
                "$.end",
                self.end,
                f"a day after start ({self.start.isoformat()}): periods are half-open [start, end)",
            )

    @property
    def parts(self) -> PeriodName:
        """The name taken apart."""
        return parse_period_name(self.name)

    @property
    def kind(self) -> PeriodKind:
        return self.parts.kind

    @property
    def fiscal_year(self) -> int:
        return self.parts.fiscal_year

    @property
    def number(self) -> int:
        """The number within the fiscal year (1 for the year itself)."""
        return self.parts.number

    @property
    def last_day(self) -> date:
        """The last day in the period (``end`` is the first day after it)."""
        return self.end - timedelta(days=1)

    @property
    def days(self) -> int:
        """How many days the period covers."""
        return (self.end - self.start).days

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day < self.end

    def __str__(self) -> str:
        return f"{self.name} [{self.start.isoformat()}, {self.end.isoformat()})"


def to_period_kind(value: object, path: str = "$.kind") -> PeriodKind:
    """``value`` as a PeriodKind (a member or its value), or a ValidationError."""
    kind = to_enum(PeriodKind)(value)
    if not isinstance(kind, PeriodKind):
        raise ValidationError(path, value, f"a period kind: one of {allowed(PeriodKind)}")
    return kind
