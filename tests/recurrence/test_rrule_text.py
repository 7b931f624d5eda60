"""RFC 5545 text in and out, RecurrenceSpec, the codec, and every way to get a schedule wrong."""

from __future__ import annotations

import copy
import itertools
import pickle
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings

from sfakit.codec import from_data, from_json, to_data, to_json
from sfakit.errors import ValidationError
from sfakit.model import RecurrenceSpec
from sfakit.recurrence import (
    BusinessCalendar,
    BusinessDayConvention,
    Frequency,
    MonthEndPolicy,
    Schedule,
)
from sfakit.testing.strategies import recurrence_specs

from .strategies import schedules

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 1, 31, 9, tzinfo=BERLIN)


def monthly(**fields: Any) -> Schedule:
    base: dict[str, Any] = {
        "frequency": Frequency.MONTHLY,
        "start": date(2026, 1, 31),
        "hour": 9,
        "timezone": "Europe/Berlin",
    }
    return Schedule(**{**base, **fields})


# --- reading ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "FREQ=MONTHLY;INTERVAL=2;BYDAY=2TU",
        "RRULE:FREQ=MONTHLY;INTERVAL=2;BYDAY=2TU",
        "rrule:freq=monthly;interval=2;byday=+2tu",
        "DTSTART;TZID=Europe/Berlin:20260131T090000\r\nRRULE:FREQ=MONTHLY;INTERVAL=2;BYDAY=2TU\r\n",
        "DTSTART;TZID=Europe/Berlin:20260131T090000\nRRULE:FREQ=MONTHLY;INT\n ERVAL=2;BYDAY=2TU",
    ],
)
def test_the_accepted_forms_read_alike(text: str) -> None:
    dtstart = None if "DTSTART" in text else START
    schedule = Schedule.from_rrule(text, dtstart=dtstart)
    assert schedule == monthly(interval=2, weekdays=("2TU",))


def test_the_zone_comes_from_the_tzid_the_start_or_the_z() -> None:
    from_tzid = Schedule.from_rrule("DTSTART;TZID=Asia/Tokyo:20260101T090000\nRRULE:FREQ=DAILY")
    from_zoneinfo = Schedule.from_rrule(
        "FREQ=DAILY", dtstart=datetime(2026, 1, 1, 9, tzinfo=ZoneInfo("Asia/Tokyo"))
    )
    from_z = Schedule.from_rrule("DTSTART:20260101T000000Z\nRRULE:FREQ=DAILY")
    assert from_tzid == from_zoneinfo
    assert (from_z.timezone, from_z.hour) == ("UTC", 0)


def test_a_utc_start_is_read_in_the_given_zone() -> None:
    schedule = Schedule.from_rrule(
        "DTSTART:20260101T080000Z\nRRULE:FREQ=DAILY", timezone="Europe/Berlin"
    )
    assert (schedule.timezone, schedule.start, schedule.hour) == (
        "Europe/Berlin",
        date(2026, 1, 1),
        9,
    )


def test_a_floating_start_needs_a_zone() -> None:
    text = "DTSTART:20260101T090000\nRRULE:FREQ=DAILY"
    with pytest.raises(ValidationError) as err:
        Schedule.from_rrule(text)
    assert err.value.path == "$.DTSTART"
    assert Schedule.from_rrule(text, timezone="Europe/Berlin").hour == 9


def test_a_fixed_offset_start_needs_a_zone() -> None:
    start = datetime(2026, 1, 1, 9, tzinfo=timezone(timedelta(hours=1)))
    with pytest.raises(ValidationError) as err:
        Schedule.from_rrule("FREQ=DAILY", dtstart=start)
    assert err.value.path == "$.timezone"
    assert Schedule.from_rrule("FREQ=DAILY", dtstart=start, timezone="Europe/Berlin").hour == 9


def test_a_single_byhour_equal_to_the_start_is_accepted() -> None:
    schedule = Schedule.from_rrule("FREQ=DAILY;BYHOUR=9;BYMINUTE=0", dtstart=START)
    assert schedule == Schedule.from_rrule("FREQ=DAILY", dtstart=START)


def test_from_spec_reads_the_standing_order_rule() -> None:
    spec = RecurrenceSpec(
        rule="FREQ=MONTHLY;BYDAY=-1FR",
        start=datetime(2026, 1, 30, 8, 15, 30, 123, tzinfo=UTC),
        timezone="Europe/Berlin",
    )
    schedule = Schedule.from_spec(spec)
    assert (schedule.start, schedule.hour, schedule.minute, schedule.second) == (
        date(2026, 1, 30),
        9,
        15,
        30,
    )
    assert schedule.weekdays == ("-1FR",)


@settings(max_examples=60)
@given(recurrence_specs())
def test_every_generated_recurrence_spec_makes_a_schedule(spec: RecurrenceSpec) -> None:
    schedule = Schedule.from_spec(spec)
    first = next(schedule.occurrences(), None)
    assert first is None or first.tzinfo == ZoneInfo(spec.timezone)
    assert schedule.rule.startswith("FREQ=")


# --- writing and round trips -------------------------------------------------------------


def test_to_rrule_writes_parts_in_a_fixed_order() -> None:
    schedule = Schedule.from_rrule(
        "RRULE:BYSETPOS=-1;BYDAY=FR,MO;WKST=SU;BYMONTH=6,1;INTERVAL=3;FREQ=MONTHLY;COUNT=5",
        dtstart=START,
    )
    assert schedule.to_rrule() == (
        "DTSTART;TZID=Europe/Berlin:20260131T090000\n"
        "RRULE:FREQ=MONTHLY;INTERVAL=3;WKST=SU;BYMONTH=1,6;BYDAY=MO,FR;BYSETPOS=-1;COUNT=5"
    )


def test_to_rrule_writes_until_in_utc_and_the_sets_in_the_zone() -> None:
    schedule = monthly(
        until=datetime(2026, 12, 31, 23, 59, 59, tzinfo=BERLIN),
        exdates=(date(2026, 3, 31),),
        rdates=(date(2026, 3, 30), date(2026, 2, 1)),
    )
    assert schedule.to_rrule() == (
        "DTSTART;TZID=Europe/Berlin:20260131T090000\n"
        "RRULE:FREQ=MONTHLY;UNTIL=20261231T225959Z\n"
        "EXDATE;TZID=Europe/Berlin:20260331T090000\n"
        "RDATE;TZID=Europe/Berlin:20260201T090000,20260330T090000"
    )


def test_to_rrule_keeps_policy_and_calendar_in_x_lines() -> None:
    schedule = monthly(
        month_end=MonthEndPolicy.LAST_DAY,
        calendar=BusinessCalendar(weekend=("FR", "SA"), holidays=(date(2026, 5, 1),)),
        adjustment=BusinessDayConvention.MODIFIED_FOLLOWING,
    )
    text = schedule.to_rrule()
    assert text.splitlines()[2:] == [
        "X-SFAKIT-MONTH-END:LAST_DAY",
        "X-SFAKIT-BUSINESS-DAYS;ADJUST=MODIFIED_FOLLOWING;WEEKEND=FR,SA:20260501",
    ]
    assert Schedule.from_rrule(text) == schedule


def test_years_before_1000_are_written_with_four_digits() -> None:
    schedule = Schedule(frequency=Frequency.YEARLY, start=date(999, 5, 1), timezone="UTC")
    assert schedule.to_rrule().splitlines()[0] == "DTSTART:09990501T000000Z"
    assert Schedule.from_rrule(schedule.to_rrule()) == schedule


@settings(max_examples=150)
@given(schedules())
def test_text_round_trips(schedule: Schedule) -> None:
    text = schedule.to_rrule()
    again = Schedule.from_rrule(text)
    assert again == schedule
    assert again.to_rrule() == text


@settings(max_examples=150)
@given(schedules())
def test_data_round_trips(schedule: Schedule) -> None:
    data = to_data(schedule)
    assert from_data(Schedule, data) == schedule
    assert from_json(Schedule, to_json(schedule)) == schedule


def test_data_is_plain_and_readable() -> None:
    schedule = monthly(weekdays=("-1FR",), until=datetime(2026, 12, 31, tzinfo=UTC))
    data = to_data(schedule)
    assert data["frequency"] == "monthly"
    assert data["weekdays"] == ["-1FR"]
    assert data["until"] == "2026-12-31T00:00:00+00:00"
    assert data["calendar"] is None
    assert "_engine" not in data
    assert "engine" not in data


@settings(max_examples=40)
@given(schedules())
def test_schedules_pickle_and_copy(schedule: Schedule) -> None:
    again = pickle.loads(pickle.dumps(schedule))
    assert again == schedule
    assert copy.deepcopy(schedule) == schedule
    assert list(itertools.islice(again.occurrences(), 5)) == list(
        itertools.islice(schedule.occurrences(), 5)
    )


def test_equal_meaning_is_equal_data() -> None:
    a = monthly(weekdays=("fr", "MO", "+2tu", "MO"), exdates=[date(2026, 3, 1), date(2026, 2, 1)])
    b = monthly(weekdays=("MO", "2TU", "FR"), exdates=(date(2026, 2, 1), date(2026, 3, 1)))
    assert a == b
    assert hash(a) == hash(b)


# --- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("FREQ=HOURLY", "$.rule.FREQ"),
        ("FREQ=FORTNIGHTLY", "$.rule.FREQ"),
        ("INTERVAL=2", "$.rule.FREQ"),
        ("FREQ=DAILY;INTERVAL=0", "$.rule.INTERVAL"),
        ("FREQ=DAILY;INTERVAL=two", "$.rule.INTERVAL"),
        ("FREQ=DAILY;INTERVAL=1,2", "$.rule.INTERVAL"),
        ("FREQ=DAILY;COUNT=0", "$.rule.COUNT"),
        ("FREQ=DAILY;COUNT=3;UNTIL=20261231T000000Z", "$.rule.UNTIL"),
        ("FREQ=DAILY;UNTIL=2026-12-31", "$.rule.UNTIL"),
        ("FREQ=DAILY;UNTIL=20260231", "$.rule.UNTIL"),
        ("FREQ=MONTHLY;BYDAY=XX", "$.rule.BYDAY"),
        ("FREQ=MONTHLY;BYDAY=6MO", "$.rule.BYDAY[0]"),
        ("FREQ=WEEKLY;BYDAY=2MO", "$.rule.BYDAY[0]"),
        ("FREQ=MONTHLY;BYMONTHDAY=32", "$.rule.BYMONTHDAY[0]"),
        ("FREQ=MONTHLY;BYMONTHDAY=0", "$.rule.BYMONTHDAY[0]"),
        ("FREQ=WEEKLY;BYMONTHDAY=1", "$.rule.BYMONTHDAY"),
        ("FREQ=MONTHLY;BYMONTH=13", "$.rule.BYMONTH[0]"),
        ("FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30", "$.rule.BYMONTHDAY"),
        ("FREQ=MONTHLY;INTERVAL=12;BYMONTH=6", "$.rule.BYMONTH"),
        ("FREQ=DAILY;INTERVAL=7;BYDAY=TU", "$.rule.BYDAY"),
        ("FREQ=DAILY;BYSETPOS=2", "$.rule.BYSETPOS"),
        ("FREQ=WEEKLY;BYDAY=MO,TU;BYSETPOS=3", "$.rule.BYSETPOS"),
        ("FREQ=MONTHLY;BYSETPOS=-2", "$.rule.BYSETPOS"),
        ("FREQ=MONTHLY;BYMONTHDAY=1,15;BYSETPOS=3,-3", "$.rule.BYSETPOS"),
        ("FREQ=MONTHLY;BYSETPOS=0;BYDAY=MO", "$.rule.BYSETPOS[0]"),
        ("FREQ=DAILY;WKST=XX", "$.rule.WKST"),
        ("FREQ=DAILY;BYHOUR=9,17", "$.rule.BYHOUR"),
        ("FREQ=DAILY;BYMINUTE=30", "$.rule.BYMINUTE"),
        ("FREQ=YEARLY;BYYEARDAY=100", "$.rule.BYYEARDAY"),
        ("FREQ=YEARLY;BYWEEKNO=20", "$.rule.BYWEEKNO"),
        ("FREQ=DAILY;COLOUR=red", "$.rule.COLOUR"),
        ("FREQ=DAILY;FREQ=WEEKLY", "$.rule.FREQ"),
        ("FREQ=DAILY;;", "$.rule"),
        ("", "$.rule"),
    ],
)
def test_bad_rules_name_the_part(text: str, path: str) -> None:
    with pytest.raises(ValidationError) as err:
        Schedule.from_rrule(text, dtstart=START)
    assert err.value.path == path
    assert str(err.value).startswith(path)


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("DTSTART;TZID=Mars/Olympus:20260101T090000\nRRULE:FREQ=DAILY", "$.DTSTART.TZID"),
        ("DTSTART;TZID=Europe/Berlin:2026-01-01\nRRULE:FREQ=DAILY", "$.DTSTART"),
        ("DTSTART;TZID=Europe/Berlin:20260101T090000", "$.rule"),
        ("RRULE:FREQ=DAILY\nRRULE:FREQ=WEEKLY", "$.RRULE"),
        ("RRULE:FREQ=DAILY\nEXRULE:FREQ=WEEKLY", "$.rule"),
        ("RRULE:FREQ=DAILY\nEXDATE;TZID=Europe/Berlin:20260105T100000", "$.EXDATE[0]"),
        ("RRULE:FREQ=DAILY\nRDATE:20260105T080000Z,2026", "$.RDATE[1]"),
        ("RRULE:FREQ=DAILY\nX-SFAKIT-MONTH-END:SOMETIMES", "$.X-SFAKIT-MONTH-END"),
        (
            "RRULE:FREQ=DAILY\nX-SFAKIT-BUSINESS-DAYS;ADJUST=NEAREST:",
            "$.X-SFAKIT-BUSINESS-DAYS.ADJUST",
        ),
        (
            "RRULE:FREQ=DAILY\nX-SFAKIT-BUSINESS-DAYS;WEEKEND=MO,TU,WE,TH,FR,SA,SU:",
            "$.X-SFAKIT-BUSINESS-DAYS.weekend",
        ),
        ("RRULE:FREQ=DAILY\nDTSTART", "$.rule"),
    ],
)
def test_bad_text_names_the_line(text: str, path: str) -> None:
    dtstart = None if "DTSTART" in text else START
    with pytest.raises(ValidationError) as err:
        Schedule.from_rrule(text, dtstart=dtstart)
    assert err.value.path == path


def test_an_anchor_day_no_chosen_month_has_is_refused_under_skip() -> None:
    text = "FREQ=MONTHLY;BYMONTH=2,4,6,9,11"
    with pytest.raises(ValidationError) as err:
        Schedule.from_rrule(text, dtstart=START, month_end=MonthEndPolicy.SKIP)
    assert err.value.path == "$.rule.BYMONTH"
    assert Schedule.from_rrule(text, dtstart=START).months == (2, 4, 6, 9, 11)


def test_a_month_day_no_reached_month_has_is_refused() -> None:
    february = datetime(2026, 2, 1, 9, tzinfo=BERLIN)
    with pytest.raises(ValidationError) as err:
        Schedule.from_rrule("FREQ=MONTHLY;INTERVAL=12;BYMONTHDAY=30,31", dtstart=february)
    assert err.value.path == "$.rule.BYMONTHDAY"
    assert Schedule.from_rrule("FREQ=MONTHLY;INTERVAL=12;BYMONTHDAY=29", dtstart=february)


def test_start_given_twice_is_refused() -> None:
    with pytest.raises(ValidationError) as err:
        Schedule.from_rrule("DTSTART:20260101T000000Z\nRRULE:FREQ=DAILY", dtstart=START)
    assert err.value.path == "$.dtstart"


def test_a_naive_or_missing_start_is_refused() -> None:
    with pytest.raises(ValidationError) as err:
        Schedule.from_rrule("FREQ=DAILY", dtstart=datetime(2026, 1, 1, 9))
    assert err.value.path == "$.dtstart"
    assert "naive" in str(err.value)
    with pytest.raises(ValidationError, match=r"\$\.dtstart"):
        Schedule.from_rrule("FREQ=DAILY")


def test_an_unknown_zone_is_refused() -> None:
    with pytest.raises(ValidationError) as err:
        Schedule.from_rrule("FREQ=DAILY", dtstart=START, timezone="Europe/Atlantis")
    assert (err.value.path, err.value.value) == ("$.timezone", "Europe/Atlantis")
    with pytest.raises(ValidationError) as err:
        monthly(timezone="Europe/Atlantis")
    assert err.value.path == "$.timezone"


def test_a_conflicting_zone_or_policy_is_refused() -> None:
    text = "DTSTART;TZID=Europe/Berlin:20260101T090000\nRRULE:FREQ=DAILY\nX-SFAKIT-MONTH-END:SKIP"
    with pytest.raises(ValidationError, match=r"\$\.timezone"):
        Schedule.from_rrule(text, timezone="Asia/Tokyo")
    with pytest.raises(ValidationError, match=r"\$\.month_end"):
        Schedule.from_rrule(text, month_end=MonthEndPolicy.CLAMP)
    assert Schedule.from_rrule(text, month_end=MonthEndPolicy.SKIP).month_end is MonthEndPolicy.SKIP


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"interval": 0}, "$.interval"),
        ({"interval": True}, "$.interval"),
        ({"hour": 24}, "$.hour"),
        ({"minute": -1}, "$.minute"),
        ({"count": 3, "until": datetime(2027, 1, 1, tzinfo=UTC)}, "$.until"),
        ({"until": datetime(2027, 1, 1)}, "$.until"),
        ({"start": datetime(2026, 1, 31, 9, tzinfo=UTC)}, "$.start"),
        ({"weekdays": "MO"}, "$.weekdays"),
        ({"weekdays": ("MO", "2XX")}, "$.weekdays[1]"),
        ({"weekdays": ("60MO",)}, "$.weekdays[0]"),
        ({"months": (0,)}, "$.months[0]"),
        ({"month_days": (1, "2")}, "$.month_days[1]"),
        ({"exdates": (datetime(2026, 1, 1, tzinfo=UTC),)}, "$.exdates[0]"),
        ({"week_start": "XX"}, "$.week_start"),
        ({"month_end": "clamp"}, "$.month_end"),
        ({"calendar": "DE"}, "$.calendar"),
        ({"frequency": "monthly"}, "$.frequency"),
    ],
)
def test_bad_fields_are_named(fields: dict[str, Any], path: str) -> None:
    with pytest.raises(ValidationError) as err:
        monthly(**fields)
    assert err.value.path == path


def test_from_spec_refuses_what_is_not_a_spec() -> None:
    with pytest.raises(ValidationError) as err:
        Schedule.from_spec("FREQ=DAILY")  # type: ignore[arg-type]
    assert err.value.path == "$"


def test_from_data_reports_bad_fields_by_path() -> None:
    data = to_data(monthly())
    data["interval"] = 0
    data["weekdays"] = ["ZZ"]
    with pytest.raises(ValidationError) as err:
        from_data(Schedule, data)
    assert err.value.paths[0] in ("$.interval", "$.weekdays", "$.weekdays[0]")
