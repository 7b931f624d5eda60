"""The vocabulary of a recurrence rule: frequencies, month-end policies, weekday tokens.

Weekdays are written the RFC 5545 way: ``"TU"`` is every Tuesday, ``"2TU"`` the second
Tuesday of the month (or year), ``"-1FR"`` the last Friday.

>>> parse_weekday("-1fr")
(4, -1)
>>> weekday_token(1, 2)
'2TU'
"""

from __future__ import annotations

import enum
import re
from typing import Any, Final

from sfakit.recurrence.business import WEEKDAY_NAMES

__all__ = [
    "Frequency",
    "MonthEndPolicy",
    "parse_weekday",
    "weekday_token",
]

_TOKEN: Final = re.compile(r"([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)")


class Frequency(enum.StrEnum):
    """How often the rule's period repeats (RFC 5545 ``FREQ``); finer ones are not offered.

    A schedule has one wall-clock time per day, so sub-daily frequencies have no use
    here (a standing order, a visit plan, a billing run repeat by the day at most).
    """

    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    YEARLY = "yearly"


class MonthEndPolicy(enum.StrEnum):
    """What a rule anchored on the start's day of month does when a month is too short.

    * ``clamp`` (the default): the month's last day, then back to the anchor day
      (31 Jan → 28/29 Feb → 31 Mar), as Stripe's billing cycle anchors do;
    * ``skip``: months without the day are skipped, as RFC 5545 and python-dateutil do;
    * ``last_day``: always the month's last day, whatever the anchor.

    The policy applies only when the day of month comes from the start (``FREQ=MONTHLY``
    or ``FREQ=YEARLY`` without ``BYMONTHDAY`` or ``BYDAY``); an explicit ``BYMONTHDAY=31``
    keeps RFC 5545's meaning. For anchor days 1-28 ``clamp`` and ``skip`` agree.
    """

    CLAMP = "clamp"
    SKIP = "skip"
    LAST_DAY = "last_day"


def parse_weekday(text: Any) -> tuple[int, int | None] | None:
    """``(weekday, n)`` for a token such as ``"MO"``, ``"2TU"`` or ``"-1FR"``; None if malformed.

    ``weekday`` counts from Monday = 0; ``n`` is None for "every such weekday".
    """
    if not isinstance(text, str):
        return None
    match = _TOKEN.fullmatch(text.strip().upper())
    if match is None:
        return None
    number, name = match.groups()
    n = int(number) if number is not None else None
    if n == 0:
        return None
    return WEEKDAY_NAMES.index(name), n


def weekday_token(weekday: int, n: int | None = None) -> str:
    """The canonical token: ``weekday_token(4, -1) == "-1FR"`` (no ``+`` sign)."""
    return ("" if n is None else str(n)) + WEEKDAY_NAMES[weekday]
