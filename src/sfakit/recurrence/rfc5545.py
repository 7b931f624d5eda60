"""RFC 5545 text to schedule fields and back.

Reads a bare rule (``FREQ=MONTHLY;BYDAY=-1FR``), an ``RRULE:`` line, or a block of
``DTSTART``, ``RRULE``, ``EXDATE`` and ``RDATE`` lines (folded lines are unfolded; CRLF
or LF). Writes the block with canonical part order, so text round-trips.

What a schedule cannot hold is refused with the rule part named: sub-daily
frequencies, more than one time of day, ``BYYEARDAY``/``BYWEEKNO``/``EXRULE``, an
``EXDATE`` or ``RDATE`` at another time of day than the schedule's.

>>> from datetime import datetime, timezone
>>> fields = parse_schedule("RRULE:FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=3",
...                         dtstart=datetime(2026, 1, 31, 9, tzinfo=timezone.utc))
>>> fields["month_days"], fields["count"], fields["timezone"]
([-1], 3, 'UTC')
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from datetime import timezone as fixed_offset
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from sfakit.errors import ValidationError
from sfakit.recurrence.business import BusinessCalendar, BusinessDayConvention
from sfakit.recurrence.localize import localize
from sfakit.recurrence.parts import Frequency, MonthEndPolicy, parse_weekday

if TYPE_CHECKING:
    from sfakit.recurrence.schedule import Schedule

__all__ = ["format_rule", "format_schedule", "parse_schedule"]

_RULE_EXPECTED: Final = "an RFC 5545 RRULE such as 'FREQ=MONTHLY;INTERVAL=2;BYDAY=2TU'"
_STAMP: Final = re.compile(r"(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z)?)?")
_INTEGER: Final = re.compile(r"[+-]?\d{1,6}")
_PROPERTIES: Final = (
    "DTSTART",
    "RRULE",
    "EXDATE",
    "RDATE",
    "X-SFAKIT-MONTH-END",
    "X-SFAKIT-BUSINESS-DAYS",
)
_PARTS: Final = (
    "FREQ",
    "INTERVAL",
    "COUNT",
    "UNTIL",
    "BYDAY",
    "BYMONTHDAY",
    "BYMONTH",
    "BYSETPOS",
    "WKST",
    "BYHOUR",
    "BYMINUTE",
    "BYSECOND",
)
_UNSUPPORTED: Final = {
    "BYYEARDAY": "days of the year are not supported; use BYMONTH with BYMONTHDAY",
    "BYWEEKNO": "week numbers are not supported; use BYMONTH with BYDAY",
    "BYEASTER": "Easter offsets are not supported; list the dates as RDATE",
}
#: Schedule fields and the rule parts they come from, to name parts in errors.
_FIELD_PARTS: Final = {
    "$.interval": "$.rule.INTERVAL",
    "$.count": "$.rule.COUNT",
    "$.until": "$.rule.UNTIL",
    "$.weekdays": "$.rule.BYDAY",
    "$.month_days": "$.rule.BYMONTHDAY",
    "$.months": "$.rule.BYMONTH",
    "$.set_positions": "$.rule.BYSETPOS",
    "$.week_start": "$.rule.WKST",
    "$.exdates": "$.EXDATE",
    "$.rdates": "$.RDATE",
}


class _Line:
    __slots__ = ("name", "params", "value")

    def __init__(self, name: str, params: dict[str, str], value: str) -> None:
        self.name = name
        self.params = params
        self.value = value


def _lines(text: str) -> list[_Line]:
    # Unfold (RFC 5545 3.1: a line starting with a space or tab continues the previous).
    raw: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line[:1] in (" ", "\t") and raw:
            raw[-1] += line[1:]
        elif line.strip():
            raw.append(line.strip())
    lines: list[_Line] = []
    for line in raw:
        if ":" not in line and "=" in line:  # a bare rule: FREQ=...;INTERVAL=...
            lines.append(_Line("RRULE", {}, line))
            continue
        head, sep, value = line.partition(":")
        if not sep:
            raise ValidationError("$.rule", line, _RULE_EXPECTED)
        name, *params = head.split(";")
        parsed: dict[str, str] = {}
        for param in params:
            key, eq, param_value = param.partition("=")
            if not eq:
                raise ValidationError("$.rule", line, f"parameters as KEY=value in {head!r}")
            parsed[key.strip().upper()] = param_value.strip().strip('"')
        name = name.strip().upper()
        if name not in _PROPERTIES:
            raise ValidationError(
                "$.rule", line, "lines of " + ", ".join(_PROPERTIES) + " (EXRULE is not supported)"
            )
        lines.append(_Line(name, parsed, value.strip()))
    return lines


def _stamp(path: str, text: str) -> tuple[datetime, bool, bool]:
    """``(naive datetime, has a time, is UTC)`` of ``YYYYMMDD[THHMMSS[Z]]``."""
    match = _STAMP.fullmatch(text.strip().upper())
    if match is None:
        raise ValidationError(
            path, text, "a date-time such as 20260131T090000 (or ...Z, or a date)"
        )
    year, month, day, hour, minute, second, utc = match.groups()
    try:
        value = datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
        )
    except ValueError:
        raise ValidationError(path, text, "a real calendar date and time") from None
    return value, hour is not None, utc is not None


def _zone(path: str, name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError, TypeError):
        raise ValidationError(
            path, name, "an IANA time zone name such as 'Europe/Berlin'"
        ) from None
    return name


def _zone_of(moment: datetime) -> str | None:
    tz = moment.tzinfo
    if isinstance(tz, ZoneInfo):
        return tz.key
    if tz is UTC or (isinstance(tz, fixed_offset) and moment.utcoffset() == timedelta(0)):
        return "UTC"
    return None


class _Start:
    """DTSTART resolved to a zone and a wall-clock time in it."""

    def __init__(self, line: _Line | None, dtstart: datetime | None, timezone: str | None) -> None:
        if timezone is not None:
            _zone("$.timezone", timezone)
        if line is not None and dtstart is not None:
            raise ValidationError("$.dtstart", dtstart, "no dtstart: the text has a DTSTART line")
        if line is not None:
            self.zone, self.wall = self._from_line(line, timezone)
        elif dtstart is not None:
            self.zone, self.wall = self._from_datetime(dtstart, timezone)
        else:
            raise ValidationError(
                "$.dtstart", None, "a start: a DTSTART line in the text or dtstart="
            )

    @staticmethod
    def _from_line(line: _Line, timezone: str | None) -> tuple[str, datetime]:
        wall, _, utc = _stamp("$.DTSTART", line.value)
        tzid = line.params.get("TZID")
        if tzid is not None:
            _zone("$.DTSTART.TZID", tzid)
            if timezone is not None and timezone != tzid:
                raise ValidationError(
                    "$.timezone", timezone, f"the DTSTART's TZID {tzid!r} (or no timezone=)"
                )
        if utc:
            zone = timezone or "UTC"
            return zone, wall.replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).replace(tzinfo=None)
        name = tzid or timezone
        if name is None:
            raise ValidationError(
                "$.DTSTART",
                line.value,
                "a start with a TZID or a trailing Z, or timezone= for a floating start",
            )
        return name, wall

    @staticmethod
    def _from_datetime(dtstart: datetime, timezone: str | None) -> tuple[str, datetime]:
        if not isinstance(dtstart, datetime) or dtstart.utcoffset() is None:
            raise ValidationError(
                "$.dtstart", dtstart, "a timezone-aware datetime (a naive one is ambiguous)"
            )
        name = timezone or _zone_of(dtstart)
        if name is None:
            raise ValidationError(
                "$.timezone",
                None,
                f"an IANA zone name: dtstart has a fixed offset ({dtstart.tzinfo}), which "
                "knows no daylight saving",
            )
        wall = dtstart.astimezone(ZoneInfo(name)).replace(tzinfo=None, microsecond=0)
        return name, wall


def _integers(path: str, text: str) -> list[int]:
    items = [t.strip() for t in text.split(",")]
    if not all(_INTEGER.fullmatch(t) for t in items):
        raise ValidationError(path, text, "comma-separated whole numbers")
    return [int(t) for t in items]


def _until(text: str, zone: str) -> datetime:
    wall, has_time, utc = _stamp("$.rule.UNTIL", text)
    if utc:
        return wall.replace(tzinfo=UTC)
    tz = ZoneInfo(zone)
    if has_time:  # floating: the schedule's wall clock
        return localize(wall.date(), wall.hour, wall.minute, wall.second, tz)
    # A date: every occurrence of that local day is included.
    return localize(wall.date() + timedelta(days=1), 0, 0, 0, tz) - timedelta(seconds=1)


def _rule_fields(text: str, start: _Start) -> dict[str, Any]:
    parts: dict[str, str] = {}
    for part in text.split(";"):
        key, eq, value = part.partition("=")
        key = key.strip().upper()
        if not eq or not key:
            raise ValidationError("$.rule", text, f"{_RULE_EXPECTED}; bad part {part!r}")
        if key in parts:
            raise ValidationError(f"$.rule.{key}", text, f"{key} once")
        if key in _UNSUPPORTED:
            raise ValidationError(f"$.rule.{key}", value, _UNSUPPORTED[key])
        if key not in _PARTS:
            raise ValidationError(f"$.rule.{key}", value, "one of the parts " + ", ".join(_PARTS))
        parts[key] = value.strip()
    if "FREQ" not in parts:
        raise ValidationError("$.rule.FREQ", text, "a FREQ part: " + _RULE_EXPECTED)
    fields: dict[str, Any] = {}
    try:
        fields["frequency"] = Frequency(parts["FREQ"].lower())
    except ValueError:
        raise ValidationError(
            "$.rule.FREQ",
            parts["FREQ"],
            "DAILY, WEEKLY, MONTHLY or YEARLY (a schedule has one time of day)",
        ) from None
    for key, name in (("INTERVAL", "interval"), ("COUNT", "count")):
        if key in parts:
            (fields[name],) = _single(f"$.rule.{key}", parts[key])
    for key, name in (
        ("BYMONTHDAY", "month_days"),
        ("BYMONTH", "months"),
        ("BYSETPOS", "set_positions"),
    ):
        if key in parts:
            fields[name] = _integers(f"$.rule.{key}", parts[key])
    if "BYDAY" in parts:
        tokens = [t.strip() for t in parts["BYDAY"].split(",")]
        for token in tokens:
            if parse_weekday(token) is None:
                raise ValidationError(
                    "$.rule.BYDAY", token, "weekdays such as MO, 2TU (second Tuesday), -1FR"
                )
        fields["weekdays"] = tokens
    if "WKST" in parts:
        fields["week_start"] = parts["WKST"]
    if "UNTIL" in parts:
        fields["until"] = _until(parts["UNTIL"], start.zone)
    for key, unit in (("BYHOUR", "hour"), ("BYMINUTE", "minute"), ("BYSECOND", "second")):
        if key in parts and _integers(f"$.rule.{key}", parts[key]) != [getattr(start.wall, unit)]:
            raise ValidationError(
                f"$.rule.{key}",
                parts[key],
                f"the start's {unit} ({getattr(start.wall, unit)}): a schedule has one time "
                "of day, given by DTSTART",
            )
    return fields


def _single(path: str, text: str) -> list[int]:
    values = _integers(path, text)
    if len(values) != 1:
        raise ValidationError(path, text, "one whole number")
    return values


def _dates(line: _Line, start: _Start, path: str) -> list[date]:
    tzid = line.params.get("TZID")
    zone = ZoneInfo(_zone(f"{path}.TZID", tzid) if tzid else start.zone)
    days: list[date] = []
    for index, item in enumerate(line.value.split(",")):
        where = f"{path}[{index}]"
        wall, has_time, utc = _stamp(where, item)
        if utc:
            wall = wall.replace(tzinfo=UTC).astimezone(ZoneInfo(start.zone)).replace(tzinfo=None)
        elif tzid:
            wall = wall.replace(tzinfo=zone).astimezone(ZoneInfo(start.zone)).replace(tzinfo=None)
        if has_time and wall.time() != start.wall.time():
            raise ValidationError(
                where,
                item,
                f"the schedule's time of day {start.wall.time().isoformat()} (or a date): "
                "a schedule has one occurrence per day",
            )
        days.append(wall.date())
    return days


def _business_days(line: _Line) -> tuple[BusinessCalendar, BusinessDayConvention]:
    path = "$.X-SFAKIT-BUSINESS-DAYS"
    try:
        convention = BusinessDayConvention(line.params.get("ADJUST", "FOLLOWING").lower())
    except ValueError:
        raise ValidationError(
            f"{path}.ADJUST",
            line.params.get("ADJUST"),
            "one of " + ", ".join(c.name for c in BusinessDayConvention),
        ) from None
    weekend_text = line.params.get("WEEKEND", "SA,SU")
    weekend = tuple(w for w in (t.strip().upper() for t in weekend_text.split(",")) if w)
    holidays = [
        _stamp(f"{path}[{i}]", item)[0].date()
        for i, item in enumerate(t for t in line.value.split(",") if t.strip())
    ]
    try:
        calendar = BusinessCalendar(weekend=weekend, holidays=tuple(holidays))
    except ValidationError as err:
        raise err.under(path) from None
    return calendar, convention


def _agree(path: str, given: Any, found: Any) -> Any:
    if given is not None and found is not None and given != found:
        raise ValidationError(path, given, f"the text's own value {found!r}, or None")
    return given if given is not None else found


def parse_schedule(
    text: str,
    *,
    dtstart: datetime | None = None,
    timezone: str | None = None,
    month_end: MonthEndPolicy | None = None,
    calendar: BusinessCalendar | None = None,
    adjustment: BusinessDayConvention | None = None,
) -> dict[str, Any]:
    """The :class:`~sfakit.recurrence.Schedule` fields that RFC 5545 ``text`` describes."""
    if not isinstance(text, str) or not text.strip() or len(text) > 100_000:
        raise ValidationError("$.rule", text, _RULE_EXPECTED)
    lines = _lines(text)
    by_name: dict[str, _Line] = {}
    exdates: list[date] = []
    rdates: list[date] = []
    for line in lines:
        if line.name in ("EXDATE", "RDATE"):
            continue
        if line.name in by_name:
            raise ValidationError(f"$.{line.name}", line.value, f"one {line.name} line")
        by_name[line.name] = line
    if "RRULE" not in by_name:
        raise ValidationError("$.rule", text, "an RRULE line: " + _RULE_EXPECTED)
    start = _Start(by_name.get("DTSTART"), dtstart, timezone)
    fields = _rule_fields(by_name["RRULE"].value, start)
    for line in lines:
        if line.name == "EXDATE":
            exdates += _dates(line, start, "$.EXDATE")
        elif line.name == "RDATE":
            rdates += _dates(line, start, "$.RDATE")
    found_policy = None
    if "X-SFAKIT-MONTH-END" in by_name:
        value = by_name["X-SFAKIT-MONTH-END"].value
        try:
            found_policy = MonthEndPolicy(value.lower())
        except ValueError:
            raise ValidationError(
                "$.X-SFAKIT-MONTH-END", value, "one of " + ", ".join(p.name for p in MonthEndPolicy)
            ) from None
    found_calendar = found_convention = None
    if "X-SFAKIT-BUSINESS-DAYS" in by_name:
        found_calendar, found_convention = _business_days(by_name["X-SFAKIT-BUSINESS-DAYS"])
    fields.update(
        start=start.wall.date(),
        timezone=start.zone,
        hour=start.wall.hour,
        minute=start.wall.minute,
        second=start.wall.second,
        exdates=exdates,
        rdates=rdates,
    )
    policy = _agree("$.month_end", month_end, found_policy)
    if policy is not None:
        fields["month_end"] = policy
    business = _agree("$.calendar", calendar, found_calendar)
    if business is not None:
        fields["calendar"] = business
    convention = _agree("$.adjustment", adjustment, found_convention)
    if convention is not None:
        fields["adjustment"] = convention
    return fields


def rename_paths(err: ValidationError) -> ValidationError:
    """``err`` with schedule field paths named as the rule parts they came from."""
    problems = []
    for problem in err.problems:
        path = problem.path
        for field, part in _FIELD_PARTS.items():
            if path == field or path.startswith((field + "[", field + ".")):
                path = part + path[len(field) :]
                break
        problems.append(attrs.evolve(problem, path=path))
    return ValidationError.from_problems(problems, subject=err.subject)


# --- writing ---------------------------------------------------------------------------


def _day_text(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"  # strftime drops zeros before 1000


def _stamp_text(moment: datetime) -> str:
    return f"{_day_text(moment.date())}T{moment.hour:02d}{moment.minute:02d}{moment.second:02d}"


def _utc_stamp(moment: datetime) -> str:
    return _stamp_text(moment.astimezone(UTC)) + "Z"


def format_rule(schedule: Schedule) -> str:
    """The ``RRULE`` value, parts in a fixed order."""
    parts = [f"FREQ={schedule.frequency.name}"]
    if schedule.interval != 1:
        parts.append(f"INTERVAL={schedule.interval}")
    if schedule.week_start != "MO":
        parts.append(f"WKST={schedule.week_start}")
    if schedule.months:
        parts.append("BYMONTH=" + ",".join(map(str, schedule.months)))
    if schedule.month_days:
        parts.append("BYMONTHDAY=" + ",".join(map(str, schedule.month_days)))
    if schedule.weekdays:
        parts.append("BYDAY=" + ",".join(schedule.weekdays))
    if schedule.set_positions:
        parts.append("BYSETPOS=" + ",".join(map(str, schedule.set_positions)))
    if schedule.count is not None:
        parts.append(f"COUNT={schedule.count}")
    if schedule.until is not None:
        parts.append("UNTIL=" + _utc_stamp(schedule.until))
    return ";".join(parts)


def format_schedule(schedule: Schedule) -> str:
    """``DTSTART``, ``RRULE``, ``EXDATE``, ``RDATE`` and ``X-SFAKIT-`` lines (LF-separated)."""
    at = time(schedule.hour, schedule.minute, schedule.second)
    utc = schedule.timezone == "UTC"
    prefix = ":" if utc else f";TZID={schedule.timezone}:"
    suffix = "Z" if utc else ""

    def stamp(day: date) -> str:
        return _stamp_text(datetime.combine(day, at)) + suffix

    lines = [f"DTSTART{prefix}{stamp(schedule.start)}", "RRULE:" + format_rule(schedule)]
    if schedule.exdates:
        lines.append(f"EXDATE{prefix}" + ",".join(map(stamp, schedule.exdates)))
    if schedule.rdates:
        lines.append(f"RDATE{prefix}" + ",".join(map(stamp, schedule.rdates)))
    if schedule.month_end is not MonthEndPolicy.CLAMP:
        lines.append(f"X-SFAKIT-MONTH-END:{schedule.month_end.name}")
    if schedule.calendar is not None:
        weekend = ",".join(schedule.calendar.weekend)
        holidays = ",".join(map(_day_text, schedule.calendar.holidays))
        lines.append(
            f"X-SFAKIT-BUSINESS-DAYS;ADJUST={schedule.adjustment.name};WEEKEND={weekend}:{holidays}"
        )
    return "\n".join(lines)
