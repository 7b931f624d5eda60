"""Lead capture: raw strings from a web form or a CSV row in, a valid Lead out.

Every value is normalised on the way in: text is put in Unicode NFC form, trimmed, and
inner runs of whitespace become one space; an empty or blank value is None (not given).
Emails go through :func:`~sfakit.qualification.normalise_email`, phones through
:func:`~sfakit.qualification.normalise_phone` (read in the lead's country, else in
``default_region``), countries through :func:`~sfakit.qualification.normalise_country`;
postal codes are upper-cased (``sw1a 1aa`` → ``SW1A 1AA``); ``company_size`` is a whole
number (``1,200`` is accepted); ``product_interest`` is a list separated by ``,``, ``;``
or ``|``; ``status`` is a :class:`~sfakit.model.LeadStatus` value in any case (capture
does not convert leads, so ``converted`` is refused); ``owner_id`` and ``territory_id``
are sfakit ids.

Keys are the names of :class:`~sfakit.model.Lead`'s fields, in any case and with spaces
or hyphens for underscores, or a common column header (``E-mail``, ``Zip``, ``Surname``,
``Organization``, ``Employees``, ``utm_source`` … see ``COLUMN_ALIASES``). Keys listed in
``ignore`` (a form's ``submit`` button, say) are skipped.

**Strict** capture (the default) raises one :class:`~sfakit.errors.ValidationError`
listing every bad value by field (``$.email``, ``$.phone`` …), unknown column and
missing cross-field value. **Lenient** capture (``lenient=True``) stores only the valid
values; each invalid one is kept on the lead as a
:class:`~sfakit.model.DataQualityIssue` (field, the raw value as given, what was
expected), so nothing is silently dropped and a data steward can fix it later. Even
lenient capture raises when no valid value identifies the lead (a last name, company,
email or phone): there is nothing to store the issues on.

>>> from datetime import datetime, timezone
>>> t0 = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
>>> lead = capture_lead({"Last Name": " Okafor ", "E-mail": "Chi@Brightside.COM",
...                      "Country": "Nigeria", "Phone": "0802 123 4567 ext. 7",
...                      "Employees": "1,200", "Mobile": "call me"},
...                     created_at=t0, lenient=True)
>>> lead.email, lead.phone, lead.country, lead.company_size
('Chi@brightside.com', '+2348021234567;ext=7', 'NG', 1200)
>>> [(issue.field, issue.value) for issue in lead.quality_issues]
[('phone', 'call me')]
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final

import attrs

from sfakit.errors import Problem, ValidationError
from sfakit.model.checks import aware_datetime
from sfakit.model.leads import DataQualityIssue, Lead, LeadStatus
from sfakit.qualification.countries import normalise_country
from sfakit.qualification.emails import normalise_email
from sfakit.qualification.phones import PhoneParsing, normalise_phone

__all__ = ["CAPTURED_FIELDS", "COLUMN_ALIASES", "capture_lead", "normalise_text"]

_TEXT_200: Final = (
    "source",
    "campaign",
    "first_name",
    "last_name",
    "company",
    "title",
    "region",
    "city",
    "industry",
    "disqualification_reason",
)

#: The Lead fields capture fills, in the order they are read.
CAPTURED_FIELDS: Final = (
    "status",
    "source",
    "campaign",
    "first_name",
    "last_name",
    "company",
    "title",
    "email",
    "country",
    "phone",
    "region",
    "postal_code",
    "city",
    "industry",
    "company_size",
    "product_interest",
    "language",
    "owner_id",
    "territory_id",
    "disqualification_reason",
)

#: Common column headers and form field names, by the Lead field they fill.
COLUMN_ALIASES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "e_mail": "email",
        "email_address": "email",
        "mail": "email",
        "phone_number": "phone",
        "telephone": "phone",
        "tel": "phone",
        "mobile": "phone",
        "mobile_phone": "phone",
        "firstname": "first_name",
        "given_name": "first_name",
        "lastname": "last_name",
        "surname": "last_name",
        "family_name": "last_name",
        "company_name": "company",
        "organisation": "company",
        "organization": "company",
        "job_title": "title",
        "zip": "postal_code",
        "zip_code": "postal_code",
        "postcode": "postal_code",
        "post_code": "postal_code",
        "country_code": "country",
        "state": "region",
        "province": "region",
        "employees": "company_size",
        "number_of_employees": "company_size",
        "employee_count": "company_size",
        "products": "product_interest",
        "lead_source": "source",
        "utm_source": "source",
        "utm_campaign": "campaign",
        "lead_status": "status",
    }
)

_NOT_ALNUM: Final = re.compile(r"[^0-9a-z]+")
_WHITESPACE: Final = re.compile(r"\s+")
_WHOLE_NUMBER: Final = re.compile(r"\d{1,3}(?:([,' _\u00a0])\d{3})(?:\1\d{3})*|\d{1,9}")
_LIST_SEPARATORS: Final = re.compile(r"[,;|]")
_CAPTURABLE_STATUSES: Final = tuple(s for s in LeadStatus if s is not LeadStatus.CONVERTED)
_STATUS_EXPECTED: Final = (
    f"a lead status: one of {', '.join(s.value for s in _CAPTURABLE_STATUSES)} "
    "(leads are converted by conversion, not captured as converted)"
)
_IDENTIFIERS: Final = ("last_name", "company", "email", "phone")


def normalise_text(text: str) -> str | None:
    """``text`` in NFC form, trimmed, with inner whitespace runs made one space; None
    when nothing is left.

    >>> normalise_text("  Brightside \\n  Hotels "), normalise_text("   ")
    ('Brightside Hotels', None)
    """
    cleaned = _WHITESPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()
    return cleaned or None


class _BadValueError(Exception):
    """Internal: a value that is not valid for its field, with what was expected."""

    def __init__(self, expected: str) -> None:
        super().__init__(expected)
        self.expected = expected


def _model_check(name: str, value: object) -> None:
    """Run the Lead field's own validator, so capture accepts exactly what Lead accepts."""
    attribute = getattr(attrs.fields(Lead), name)
    validator: Callable[[Any, Any, Any], None] | None = attribute.validator
    if validator is not None:
        try:
            validator(None, attribute, value)
        except ValidationError as err:
            raise _BadValueError(err.expected) from None


def _text(name: str, max_length: int, *, upper: bool = False) -> Callable[[str], object]:
    def parse(raw: str) -> object:
        value = normalise_text(raw)
        if value is not None and upper:
            value = value.upper()
        if value is not None and len(value) > max_length:
            raise _BadValueError(f"at most {max_length} characters")
        _model_check(name, value)
        return value

    return parse


def _company_size(raw: str) -> object:
    text = raw.strip()
    if _WHOLE_NUMBER.fullmatch(text) is None:
        raise _BadValueError("a whole number of employees such as 120 or 1,200")
    return int(re.sub(r"\D", "", text))


def _product_interest(raw: str) -> object:
    items: dict[str, None] = {}
    for part in _LIST_SEPARATORS.split(raw):
        item = normalise_text(part)
        if item is None:
            continue
        if len(item) > 100:
            raise _BadValueError(
                "a list of products separated by , ; or |, each at most 100 characters"
            )
        items[item] = None
    return tuple(items)


def _status(raw: str) -> object:
    text = raw.strip().lower()
    for status in _CAPTURABLE_STATUSES:
        if status.value == text:
            return status
    raise _BadValueError(_STATUS_EXPECTED)


def _id_field(name: str) -> Callable[[str], object]:
    def parse(raw: str) -> object:
        value = raw.strip()
        _model_check(name, value)
        return value

    return parse


def _guarded(normalise: Callable[[str, str], str], name: str) -> Callable[[str], object]:
    def parse(raw: str) -> object:
        try:
            return normalise(raw, f"$.{name}")
        except ValidationError as err:
            raise _BadValueError(err.expected) from None

    return parse


_PARSERS: Final[Mapping[str, Callable[[str], object]]] = MappingProxyType(
    {
        **{name: _text(name, 200) for name in _TEXT_200},
        "postal_code": _text("postal_code", 20, upper=True),
        "language": _text("language", 35),
        "company_size": _company_size,
        "product_interest": _product_interest,
        "status": _status,
        "email": _guarded(normalise_email, "email"),
        "country": _guarded(normalise_country, "country"),
        "owner_id": _id_field("owner_id"),
        "territory_id": _id_field("territory_id"),
    }
)


def _column_key(key: str) -> str:
    return _NOT_ALNUM.sub("_", key.strip().casefold()).strip("_")


def _field_for(key: str) -> str | None:
    name = _column_key(key)
    if name in _PARSERS or name == "phone":
        return name
    return COLUMN_ALIASES.get(name)


@attrs.define
class _Capture:
    """The state of one capture: values read so far and the problems met."""

    values: dict[str, Any] = attrs.Factory(dict)
    raws: dict[str, str] = attrs.Factory(dict)
    problems: list[Problem] = attrs.Factory(list)
    issues: list[DataQualityIssue] = attrs.Factory(list)

    def bad(self, field: str, raw: str, expected: str) -> None:
        self.problems.append(Problem(f"$.{field}", expected, raw))
        self.issues.append(DataQualityIssue(field=field, value=raw, expected=expected))


def _columns(
    raw: Mapping[str, str | None], ignore: frozenset[str], state: _Capture
) -> dict[str, str]:
    """The raw value of each field, by field name; unknown or doubled columns are problems."""
    by_field: dict[str, str] = {}
    source_key: dict[str, str] = {}
    for key, value in raw.items():
        if not isinstance(key, str):
            raise ValidationError("$", key, "column names that are strings", subject="lead")
        if key in ignore or _column_key(key) in ignore:
            continue
        if value is not None and not isinstance(value, str):
            raise ValidationError(
                f"$.{key}", value, "a string or None (raw form or CSV input)", subject="lead"
            )
        name = _field_for(key)
        if name is None:
            if value is not None and value.strip():
                state.bad(key, value, "a Lead field or a known column header (see COLUMN_ALIASES)")
            continue
        if value is None or not value.strip():
            continue
        if name in by_field:
            state.bad(name, value, f"one value for {name} (already given as {source_key[name]!r})")
            continue
        by_field[name] = value
        source_key[name] = key
    return by_field


def _read(
    by_field: Mapping[str, str], state: _Capture, region: str | None, parsing: PhoneParsing
) -> None:
    for name in CAPTURED_FIELDS:
        raw = by_field.get(name)
        if raw is None:
            continue
        value: object
        try:
            if name == "phone":
                country = state.values.get("country")
                phone_region = country if isinstance(country, str) else region
                try:
                    value = normalise_phone(raw, phone_region, parsing=parsing)
                except ValidationError as err:
                    if err.path != "$.phone":
                        raise  # a bad argument (parsing), not a bad value
                    raise _BadValueError(err.expected) from None
            else:
                value = _PARSERS[name](raw)
        except _BadValueError as bad:
            state.bad(name, raw, bad.expected)
            continue
        if value is not None and value != ():
            state.values[name] = value
            state.raws[name] = raw


def _cross_field(state: _Capture) -> None:
    values = state.values
    if values.get("status") is LeadStatus.DISQUALIFIED and not values.get(
        "disqualification_reason"
    ):
        expected = "a disqualification_reason when the status is disqualified"
        state.problems.append(Problem("$.disqualification_reason", expected, None))
        # Lenient: the lead stays new, and the status given is kept as an issue.
        state.issues.append(
            DataQualityIssue(field="status", value=state.raws["status"], expected=expected)
        )
        del values["status"]


def capture_lead(
    raw: Mapping[str, str | None],
    *,
    created_at: datetime,
    lenient: bool = False,
    default_region: str | None = None,
    phone_parsing: PhoneParsing = PhoneParsing.AUTO,
    ignore: Iterable[str] = (),
    lead_id: str | None = None,
) -> Lead:
    """A new :class:`~sfakit.model.Lead` from ``raw`` (column or form field → string).

    ``created_at`` is the capture time (aware); ``lead_id`` an id to give the lead
    (generated from ``created_at`` when None); ``default_region`` the country (ISO code
    or name) to read national phone numbers in when the lead has no valid country;
    ``phone_parsing`` how to read phones (:class:`~sfakit.qualification.PhoneParsing`).

    Strict capture raises one ValidationError listing every problem; lenient capture
    records invalid values as ``quality_issues`` and raises only when the lead cannot
    be identified.

    >>> from datetime import datetime, timezone
    >>> t0 = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
    >>> capture_lead({"company": "Acme", "email": "nobody@", "country": "Atlantis"},
    ...              created_at=t0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sfakit.errors.ValidationError: invalid lead: 2 problems:
      $.email: got 'nobody@'; expected an email address like name@example.com
      $.country: got 'Atlantis'; expected an ISO 3166-1 country...
    >>> lead = capture_lead({"company": "Acme", "email": "nobody@"}, created_at=t0,
    ...                     lenient=True)
    >>> lead.email, [(i.field, i.value) for i in lead.quality_issues]
    (None, [('email', 'nobody@')])
    """
    try:
        aware_datetime(None, attrs.fields(Lead).created_at, created_at)
    except ValidationError as err:
        raise err.under("$", subject="lead") from None
    region = None
    if default_region is not None:
        region = normalise_country(default_region, "$.default_region")
    state = _Capture()
    ignored = frozenset(ignore) | frozenset(_column_key(k) for k in ignore)
    by_field = _columns(raw, ignored, state)
    _read(by_field, state, region, phone_parsing)
    _cross_field(state)
    values = state.values
    if not any(values.get(name) for name in _IDENTIFIERS):
        identify = Problem(
            "$.last_name",
            "at least one valid last_name, company, email or phone to identify the lead",
            None,
        )
        raise ValidationError.from_problems([*state.problems, identify], subject="lead")
    if state.problems and not lenient:
        raise ValidationError.from_problems(state.problems, subject="lead")
    extra: dict[str, Any] = {} if lead_id is None else {"id": lead_id}
    return Lead(created_at=created_at, quality_issues=tuple(state.issues), **values, **extra)
