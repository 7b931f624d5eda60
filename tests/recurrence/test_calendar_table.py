"""The calendar edge cases, as a table in the style of dateutil's tests/test_rrule.py.

Each case: RFC 5545 text (with DTSTART), the schedule options, and the first
occurrences as ISO 8601 text with the offset in force.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sfakit.recurrence import (
    BusinessCalendar,
    BusinessDayConvention,
    MonthEndPolicy,
    Schedule,
)

CLAMP, SKIP, LAST_DAY = MonthEndPolicy.CLAMP, MonthEndPolicy.SKIP, MonthEndPolicy.LAST_DAY
FOLLOWING = BusinessDayConvention.FOLLOWING
PRECEDING = BusinessDayConvention.PRECEDING
MODIFIED_FOLLOWING = BusinessDayConvention.MODIFIED_FOLLOWING
XMAS = BusinessCalendar(holidays=(date(2026, 12, 25),))
BERLIN = ZoneInfo("Europe/Berlin")


def berlin(stamp: str, rule: str, *extra: str) -> str:
    return "\n".join((f"DTSTART;TZID=Europe/Berlin:{stamp}", f"RRULE:{rule}", *extra))


def days(*isos: str, at: str = "09:00:00") -> list[str]:
    """ISO stamps for dates at ``at`` in Berlin, each with the offset in force that day."""
    wall = time.fromisoformat(at)
    return [datetime.combine(date.fromisoformat(iso), wall, BERLIN).isoformat() for iso in isos]


Case = tuple[str, str, dict[str, Any], list[str]]

MONTH_ENDS: list[Case] = [
    (
        "clamp returns to the 31st",
        berlin("20260131T090000", "FREQ=MONTHLY"),
        {"month_end": CLAMP},
        days("2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31"),
    ),
    (
        "skip drops short months (RFC 5545)",
        berlin("20260131T090000", "FREQ=MONTHLY"),
        {"month_end": SKIP},
        days("2026-01-31", "2026-03-31", "2026-05-31", "2026-07-31", "2026-08-31"),
    ),
    (
        "last day of every month",
        berlin("20260131T090000", "FREQ=MONTHLY"),
        {"month_end": LAST_DAY},
        days("2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31"),
    ),
    (
        "last day whatever the anchor",
        berlin("20260115T090000", "FREQ=MONTHLY"),
        {"month_end": LAST_DAY},
        days("2026-01-31", "2026-02-28", "2026-03-31"),
    ),
    (
        "clamp in a leap year",
        berlin("20240130T090000", "FREQ=MONTHLY"),
        {"month_end": CLAMP},
        days("2024-01-30", "2024-02-29", "2024-03-30", "2024-04-30"),
    ),
    (
        "the 29th is skipped only outside leap years",
        berlin("20240129T090000", "FREQ=MONTHLY"),
        {"month_end": SKIP},
        days("2024-01-29", "2024-02-29", "2024-03-29"),
    ),
    (
        "the 29th in a common year",
        berlin("20250129T090000", "FREQ=MONTHLY"),
        {"month_end": SKIP},
        days("2025-01-29", "2025-03-29", "2025-04-29"),
    ),
    (
        "29 February clamps to the 28th",
        berlin("20240229T090000", "FREQ=YEARLY"),
        {"month_end": CLAMP},
        days("2024-02-29", "2025-02-28", "2026-02-28", "2027-02-28", "2028-02-29"),
    ),
    (
        "29 February is skipped to the next leap year",
        berlin("20240229T090000", "FREQ=YEARLY"),
        {"month_end": SKIP},
        days("2024-02-29", "2028-02-29", "2032-02-29"),
    ),
    (
        "29 February as the last day of February",
        berlin("20240229T090000", "FREQ=YEARLY"),
        {"month_end": LAST_DAY},
        days("2024-02-29", "2025-02-28", "2026-02-28", "2027-02-28", "2028-02-29"),
    ),
    (
        "every two months from 31 August",
        berlin("20260831T090000", "FREQ=MONTHLY;INTERVAL=2"),
        {},
        days("2026-08-31", "2026-10-31", "2026-12-31", "2027-02-28", "2027-04-30", "2027-06-30"),
    ),
    (
        "clamp with BYMONTH",
        berlin("20260131T090000", "FREQ=MONTHLY;BYMONTH=2,4,6"),
        {},
        days("2026-02-28", "2026-04-30", "2026-06-30", "2027-02-28"),
    ),
    (
        "yearly in two months, clamped",
        berlin("20260831T090000", "FREQ=YEARLY;BYMONTH=2,8"),
        {},
        days("2026-08-31", "2027-02-28", "2027-08-31", "2028-02-29"),
    ),
    (
        "an explicit BYMONTHDAY=31 keeps RFC 5545's meaning",
        berlin("20260131T090000", "FREQ=MONTHLY;BYMONTHDAY=31"),
        {"month_end": CLAMP},
        days("2026-01-31", "2026-03-31", "2026-05-31"),
    ),
    (
        "COUNT counts clamped occurrences",
        berlin("20260131T090000", "FREQ=MONTHLY;COUNT=4"),
        {},
        days("2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30"),
    ),
]

WEEKDAYS: list[Case] = [
    (
        "second Tuesday",
        berlin("20260101T090000", "FREQ=MONTHLY;BYDAY=2TU"),
        {},
        days("2026-01-13", "2026-02-10", "2026-03-10", "2026-04-14"),
    ),
    (
        "last Friday",
        berlin("20260101T090000", "FREQ=MONTHLY;BYDAY=-1FR"),
        {},
        days("2026-01-30", "2026-02-27", "2026-03-27", "2026-04-24"),
    ),
    (
        "fifth Monday, only in months that have one",
        berlin("20260101T090000", "FREQ=MONTHLY;BYDAY=5MO"),
        {},
        days("2026-03-30", "2026-06-29", "2026-08-31", "2026-11-30"),
    ),
    (
        "20th Monday of the year",
        berlin("20260101T090000", "FREQ=YEARLY;BYDAY=20MO"),
        {},
        days("2026-05-18", "2027-05-17", "2028-05-15"),
    ),
    (
        "fourth Thursday of November",
        berlin("20260101T090000", "FREQ=YEARLY;BYMONTH=11;BYDAY=4TH"),
        {},
        days("2026-11-26", "2027-11-25", "2028-11-23"),
    ),
    (
        "last working day of the month (BYSETPOS)",
        berlin("20260101T090000", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1"),
        {},
        days("2026-01-30", "2026-02-27", "2026-03-31", "2026-04-30", "2026-05-29"),
    ),
    (
        "every Monday and the second Tuesday (RFC 5545 union)",
        berlin("20260101T090000", "FREQ=MONTHLY;BYDAY=MO,2TU"),
        {},
        days("2026-01-05", "2026-01-12", "2026-01-13", "2026-01-19", "2026-01-26"),
    ),
    (
        "Friday the 13th",
        berlin("20260101T090000", "FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13"),
        {},
        days("2026-02-13", "2026-03-13", "2026-11-13", "2027-08-13"),
    ),
    (
        "fortnightly from a Wednesday",
        berlin("20260107T090000", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH"),
        {},
        days("2026-01-08", "2026-01-20", "2026-01-22", "2026-02-03"),
    ),
    (
        "RFC 5545 WKST example, week starting Monday",
        "DTSTART;TZID=America/New_York:19970805T090000\n"
        "RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO",
        {},
        [f"1997-08-{d:02d}T09:00:00-04:00" for d in (5, 10, 19, 24)],
    ),
    (
        "RFC 5545 WKST example, week starting Sunday",
        "DTSTART;TZID=America/New_York:19970805T090000\n"
        "RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU",
        {},
        [f"1997-08-{d:02d}T09:00:00-04:00" for d in (5, 17, 19, 31)],
    ),
]

MONTH_DAYS: list[Case] = [
    (
        "last day by -1",
        berlin("20260101T090000", "FREQ=MONTHLY;BYMONTHDAY=-1"),
        {},
        days("2026-01-31", "2026-02-28", "2026-03-31"),
    ),
    (
        "third-last day in a leap February",
        berlin("20240101T090000", "FREQ=MONTHLY;BYMONTHDAY=-3"),
        {},
        days("2024-01-29", "2024-02-27", "2024-03-29"),
    ),
    (
        "first and last",
        berlin("20260101T090000", "FREQ=MONTHLY;BYMONTHDAY=1,-1"),
        {},
        days("2026-01-01", "2026-01-31", "2026-02-01", "2026-02-28"),
    ),
    (
        "-30 does not exist in February",
        berlin("20260101T090000", "FREQ=MONTHLY;BYMONTHDAY=-30"),
        {},
        days("2026-01-02", "2026-03-02", "2026-04-01", "2026-05-02"),
    ),
]

DAYLIGHT_SAVING: list[Case] = [
    (
        "Berlin spring gap: 02:30 becomes 03:30",
        berlin("20260328T023000", "FREQ=DAILY;COUNT=3"),
        {},
        ["2026-03-28T02:30:00+01:00", "2026-03-29T03:30:00+02:00", "2026-03-30T02:30:00+02:00"],
    ),
    (
        "Berlin autumn fold: the first 02:30",
        berlin("20261024T023000", "FREQ=DAILY;COUNT=3"),
        {},
        ["2026-10-24T02:30:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"],
    ),
    (
        "New York spring gap",
        "DTSTART;TZID=America/New_York:20260307T023000\nRRULE:FREQ=DAILY;COUNT=3",
        {},
        ["2026-03-07T02:30:00-05:00", "2026-03-08T03:30:00-04:00", "2026-03-09T02:30:00-04:00"],
    ),
    (
        "New York autumn fold",
        "DTSTART;TZID=America/New_York:20261031T013000\nRRULE:FREQ=DAILY;COUNT=3",
        {},
        ["2026-10-31T01:30:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"],
    ),
    (
        "Lord Howe's 30-minute spring gap",
        "DTSTART;TZID=Australia/Lord_Howe:20261003T021500\nRRULE:FREQ=DAILY;COUNT=3",
        {},
        ["2026-10-03T02:15:00+10:30", "2026-10-04T02:45:00+11:00", "2026-10-05T02:15:00+11:00"],
    ),
    (
        "Lord Howe's 30-minute fold",
        "DTSTART;TZID=Australia/Lord_Howe:20260404T014500\nRRULE:FREQ=DAILY;COUNT=3",
        {},
        ["2026-04-04T01:45:00+11:00", "2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30"],
    ),
    (
        "Tokyo has no daylight saving",
        "DTSTART;TZID=Asia/Tokyo:20260328T023000\nRRULE:FREQ=DAILY;COUNT=3",
        {},
        ["2026-03-28T02:30:00+09:00", "2026-03-29T02:30:00+09:00", "2026-03-30T02:30:00+09:00"],
    ),
    (
        "Santiago skips midnight",
        "DTSTART;TZID=America/Santiago:20260905T000000\nRRULE:FREQ=DAILY;COUNT=3",
        {},
        ["2026-09-05T00:00:00-04:00", "2026-09-06T01:00:00-03:00", "2026-09-07T00:00:00-03:00"],
    ),
    (
        "Samoa skipped 30 December 2011: that occurrence merges into the 31st",
        "DTSTART;TZID=Pacific/Apia:20111228T090000\nRRULE:FREQ=DAILY;COUNT=5",
        {},
        [
            "2011-12-28T09:00:00-10:00",
            "2011-12-29T09:00:00-10:00",
            "2011-12-31T09:00:00+14:00",
            "2012-01-01T09:00:00+14:00",
        ],
    ),
    (
        "monthly on a gap day",
        berlin("20260101T023000", "FREQ=MONTHLY;BYDAY=-1SU;COUNT=3"),
        {},
        ["2026-01-25T02:30:00+01:00", "2026-02-22T02:30:00+01:00", "2026-03-29T03:30:00+02:00"],
    ),
]

SETS_AND_LIMITS: list[Case] = [
    (
        "EXDATE removes and RDATE adds; COUNT counts the rule only",
        berlin(
            "20260105T090000",
            "FREQ=WEEKLY;COUNT=4",
            "EXDATE;TZID=Europe/Berlin:20260112T090000",
            "RDATE;TZID=Europe/Berlin:20260114T090000",
        ),
        {},
        days("2026-01-05", "2026-01-14", "2026-01-19", "2026-01-26"),
    ),
    (
        "an RDATE on an occurrence's date is one occurrence",
        berlin("20260105T090000", "FREQ=WEEKLY;COUNT=2", "RDATE;VALUE=DATE:20260112"),
        {},
        days("2026-01-05", "2026-01-12"),
    ),
    (
        "EXDATE as a date, and in UTC",
        berlin(
            "20260105T090000",
            "FREQ=DAILY;COUNT=4",
            "EXDATE;VALUE=DATE:20260106",
            "EXDATE:20260107T080000Z",
        ),
        {},
        days("2026-01-05", "2026-01-08"),
    ),
    (
        "UNTIL is inclusive",
        berlin("20260101T090000", "FREQ=DAILY;UNTIL=20260104T080000Z"),
        {},
        days("2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"),
    ),
    (
        "UNTIL one second earlier",
        berlin("20260101T090000", "FREQ=DAILY;UNTIL=20260104T075959Z"),
        {},
        days("2026-01-01", "2026-01-02", "2026-01-03"),
    ),
    (
        "UNTIL as a date includes that day",
        berlin("20260101T090000", "FREQ=DAILY;UNTIL=20260103"),
        {},
        days("2026-01-01", "2026-01-02", "2026-01-03"),
    ),
    (
        "an RDATE after UNTIL still occurs (RFC 5545)",
        berlin("20260101T090000", "FREQ=DAILY;UNTIL=20260102T235959Z", "RDATE;VALUE=DATE:20260110"),
        {},
        days("2026-01-01", "2026-01-02", "2026-01-10"),
    ),
    (
        "the start is an occurrence only if it matches",
        berlin("20260107T090000", "FREQ=WEEKLY;BYDAY=MO;COUNT=2"),
        {},
        days("2026-01-12", "2026-01-19"),
    ),
]

BUSINESS_DAYS: list[Case] = [
    (
        "following: Sunday to Monday, Christmas to Monday",
        berlin("20261025T090000", "FREQ=MONTHLY;BYMONTHDAY=25;COUNT=3"),
        {"calendar": XMAS, "adjustment": FOLLOWING},
        days("2026-10-26", "2026-11-25", "2026-12-28"),
    ),
    (
        "preceding: Sunday to Friday, Christmas to Christmas Eve",
        berlin("20261025T090000", "FREQ=MONTHLY;BYMONTHDAY=25;COUNT=3"),
        {"calendar": XMAS, "adjustment": PRECEDING},
        days("2026-10-23", "2026-11-25", "2026-12-24"),
    ),
    (
        "following crosses the month end",
        berlin("20260131T090000", "FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=5"),
        {"calendar": XMAS, "adjustment": FOLLOWING},
        days("2026-02-02", "2026-03-02", "2026-03-31", "2026-04-30", "2026-06-01"),
    ),
    (
        "modified following stays in the month at month end",
        berlin("20260131T090000", "FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=5"),
        {"calendar": XMAS, "adjustment": MODIFIED_FOLLOWING},
        days("2026-01-30", "2026-02-27", "2026-03-31", "2026-04-30", "2026-05-29"),
    ),
    (
        "modified following mid-month is following",
        berlin("20261025T090000", "FREQ=MONTHLY;BYMONTHDAY=25;COUNT=3"),
        {"calendar": XMAS, "adjustment": MODIFIED_FOLLOWING},
        days("2026-10-26", "2026-11-25", "2026-12-28"),
    ),
    (
        "Saturday and Sunday both move to Monday: Monday occurs once",
        berlin("20260102T090000", "FREQ=DAILY;COUNT=5"),
        {"calendar": BusinessCalendar(), "adjustment": FOLLOWING},
        days("2026-01-02", "2026-01-05", "2026-01-06"),
    ),
    (
        "a Friday-Saturday weekend",
        berlin("20260105T090000", "FREQ=WEEKLY;BYDAY=FR;COUNT=2"),
        {"calendar": BusinessCalendar(weekend=("FR", "SA")), "adjustment": PRECEDING},
        days("2026-01-08", "2026-01-15"),
    ),
]


def _ids(cases: list[Case]) -> list[str]:
    return [case[0] for case in cases]


@pytest.mark.parametrize(
    ("name", "text", "options", "expected"),
    MONTH_ENDS + WEEKDAYS + MONTH_DAYS + DAYLIGHT_SAVING + SETS_AND_LIMITS + BUSINESS_DAYS,
    ids=_ids(
        MONTH_ENDS + WEEKDAYS + MONTH_DAYS + DAYLIGHT_SAVING + SETS_AND_LIMITS + BUSINESS_DAYS
    ),
)
def test_first_occurrences(
    name: str, text: str, options: dict[str, Any], expected: list[str]
) -> None:
    schedule = Schedule.from_rrule(text, **options)
    found = [o.isoformat() for o in itertools.islice(schedule.occurrences(), len(expected) + 1)]
    if schedule.count is not None or schedule.until is not None:
        assert found == expected
    else:
        assert found[: len(expected)] == expected
