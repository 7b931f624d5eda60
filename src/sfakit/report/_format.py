"""How the report's values read, the same in text and HTML.

Money keeps its currency and exact minor units with thousands separators (never a
float); rates are percentages to one decimal; day counts to one decimal; an absent
value is ``-``.

>>> from decimal import Decimal
>>> from sfakit.model import Money
>>> money(Money.of("1234567.5", "EUR")), percent(Decimal("0.3333")), days(Decimal("12.25"))
('1,234,567.50 EUR', '33.3%', '12.2')
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Final

from sfakit.model import Money

NONE: Final = "-"
#: How a group without a value (a lead without region, a deal never in an open stage) reads.
UNSET: Final = "(none)"


def money(value: Money | None) -> str:
    return NONE if value is None else f"{value.amount:,} {value.currency}"


def moneys(values: Iterable[Money]) -> str:
    shown = [money(value) for value in values]
    return ", ".join(shown) if shown else NONE


def amounts(values: Iterable[Money], without_amount: int) -> str:
    """Amounts per currency, and how many deals had none: ``900.00 EUR (+1 without amount)``."""
    shown = moneys(values)
    if not without_amount:
        return shown
    missing = f"{without_amount} without amount"
    return missing if shown == NONE else f"{shown} (+{missing})"


def percent(rate: Decimal | None) -> str:
    return NONE if rate is None else f"{rate * 100:.1f}%"


def days(value: Decimal | None) -> str:
    return NONE if value is None else f"{value:.1f}"


def group(value: str | None) -> str:
    return UNSET if value is None else value


def moment(value: datetime) -> str:
    """A moment in UTC to the minute: ``2026-03-02 09:00 UTC``."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def table(
    headers: Sequence[str], rows: Iterable[Sequence[str]], *, right: Iterable[int] = ()
) -> str:
    """``rows`` under ``headers``, columns two spaces apart, those in ``right`` aligned
    right (numbers); no trailing spaces.

    >>> print(table(["stage", "deals"], [["qualify", "12"]], right={1}))
    stage    deals
    -------  -----
    qualify     12
    """
    cells = [list(row) for row in rows]
    aligned_right = set(right)
    widths = [len(header) for header in headers]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(values: Sequence[str]) -> str:
        padded = (
            value.rjust(width) if i in aligned_right else value.ljust(width)
            for i, (value, width) in enumerate(zip(values, widths, strict=True))
        )
        return "  ".join(padded).rstrip()

    rule = ["-" * width for width in widths]
    return "\n".join([line(headers), line(rule), *(line(row) for row in cells)])
