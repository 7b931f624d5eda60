"""Lead capture: strict capture reports every problem at once; lenient capture keeps every
invalid raw value as a data-quality issue; both agree on valid input."""

from __future__ import annotations

import sys
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfakit.codec import from_data, from_json, to_data, to_json
from sfakit.errors import ValidationError
from sfakit.model import DataQualityIssue, Lead, LeadId, LeadStatus
from sfakit.qualification import (
    CAPTURED_FIELDS,
    COLUMN_ALIASES,
    PhoneParsing,
    capture_lead,
)
from sfakit.testing import strategies as sfa

from .support import T0

LEAD_ID = LeadId("lead_capture")


def capture(raw: dict[str, Any], **options: Any) -> Lead:
    options.setdefault("lead_id", LEAD_ID)
    return capture_lead(raw, created_at=T0, **options)


def problems(raw: dict[str, Any], **options: Any) -> dict[str, ValidationError]:
    with pytest.raises(ValidationError) as caught:
        capture(raw, **options)
    assert caught.value.subject == "lead"
    return {p.path: p for p in caught.value.problems}  # type: ignore[misc]


# -- examples ----------------------------------------------------------------------------


def test_a_web_form_becomes_a_normalised_lead() -> None:
    lead = capture(
        {
            "first_name": "  Chiamaka ",
            "last_name": "Okafor",
            "company": "Brightside   Hotels",
            "title": "Head of Facilities",
            "email": " Chi.Okafor@Brightside-Hotels.COM",
            "phone": "0802 123 4567",
            "country": "Nigeria",
            "region": "Lagos",
            "postal_code": "100001",
            "city": "Lagos",
            "industry": "hospitality",
            "company_size": "1,200",
            "product_interest": "led-bulbs; fixtures, led-bulbs |",
            "language": "en",
            "source": "web",
            "campaign": "spring-2026",
            "status": "Working",
            "owner_id": "rep_anna",
            "territory_id": "terr_lagos",
            "submit": "Send",
        },
        ignore=["submit"],
    )
    assert lead.first_name == "Chiamaka"
    assert lead.company == "Brightside Hotels"
    assert lead.email == "Chi.Okafor@brightside-hotels.com"
    assert lead.phone == "+2348021234567"
    assert lead.country == "NG"
    assert lead.company_size == 1200
    assert lead.product_interest == ("led-bulbs", "fixtures")
    assert lead.status is LeadStatus.WORKING
    assert (lead.owner_id, lead.territory_id) == ("rep_anna", "terr_lagos")
    assert lead.quality_issues == ()
    assert (lead.id, lead.created_at) == (LEAD_ID, T0)


def test_csv_headers_are_recognised() -> None:
    lead = capture(
        {
            "Last Name": "Weiß",
            "E-mail": "j.weiss@example.de",
            "Phone Number": "030 1234567",
            "Country Code": "de",
            "ZIP": "10115",
            "Organization": "Bäckerei Weiß",
            "Number of Employees": "12",
            "utm_source": "newsletter",
        }
    )
    assert (lead.last_name, lead.company, lead.postal_code) == ("Weiß", "Bäckerei Weiß", "10115")
    assert (lead.email, lead.phone, lead.country) == ("j.weiss@example.de", "+49301234567", "DE")
    assert (lead.company_size, lead.source) == (12, "newsletter")


def test_every_alias_names_a_captured_field() -> None:
    assert set(COLUMN_ALIASES.values()) <= set(CAPTURED_FIELDS)
    assert set(CAPTURED_FIELDS) <= {a.name for a in attrs.fields(Lead)}


def test_blank_values_are_not_given() -> None:
    lead = capture({"company": "Acme", "email": "   ", "phone": "", "title": None})
    assert (lead.email, lead.phone, lead.title) == (None, None, None)
    assert lead.quality_issues == ()


def test_postal_codes_are_upper_cased() -> None:
    assert capture({"company": "Acme", "postal_code": " sw1a  1aa"}).postal_code == "SW1A 1AA"


def test_phones_are_read_in_the_lead_country_else_the_default_region() -> None:
    assert (
        capture({"company": "A", "country": "FR", "phone": "01 42 68 53 00"}).phone
        == "+33142685300"
    )
    lead = capture({"company": "A", "phone": "030 1234567"}, default_region="Germany")
    assert lead.phone == "+49301234567"
    assert lead.country is None
    lead = capture(
        {"company": "A", "country": "Atlantis", "phone": "030 1234567"},
        default_region="DE",
        lenient=True,
    )
    assert lead.phone == "+49301234567"


def test_phones_without_phonenumbers_keep_their_digits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "phonenumbers", None)
    assert capture({"company": "A", "country": "DE", "phone": "030 123 4567"}).phone == "0301234567"
    lead = capture({"company": "A", "phone": "+49 30 1234567"}, phone_parsing=PhoneParsing.AUTO)
    assert lead.phone == "+49301234567"


def test_strict_capture_reports_every_problem_at_once() -> None:
    found = problems(
        {
            "company": "Acme",
            "email": "nobody@",
            "phone": "12",
            "country": "Atlantis",
            "company_size": "about 50",
            "status": "hot",
            "owner_id": "anna",
            "favourite_colour": "teal",
            "first_name": "x" * 201,
        }
    )
    assert set(found) == {
        "$.email",
        "$.phone",
        "$.country",
        "$.company_size",
        "$.status",
        "$.owner_id",
        "$.favourite_colour",
        "$.first_name",
    }
    assert found["$.email"].value == "nobody@"  # type: ignore[attr-defined]
    assert "new, working" in found["$.status"].expected  # type: ignore[attr-defined]


def test_a_disqualified_lead_needs_a_reason() -> None:
    assert set(problems({"company": "Acme", "status": "disqualified"})) == {
        "$.disqualification_reason"
    }
    lead = capture(
        {"company": "Acme", "status": "disqualified", "disqualification_reason": "budget"}
    )
    assert lead.status is LeadStatus.DISQUALIFIED
    assert lead.disqualification_reason == "budget"


def test_leads_are_not_captured_converted() -> None:
    assert set(problems({"company": "Acme", "status": "converted"})) == {"$.status"}


def test_a_lead_nothing_identifies_is_refused_even_leniently() -> None:
    for lenient in (False, True):
        found = problems({"first_name": "Anna", "email": "anna@"}, lenient=lenient)
        assert set(found) == {"$.email", "$.last_name"}


def test_the_same_field_twice_is_a_problem() -> None:
    assert set(problems({"company": "Acme", "email": "a@b.org", "E-mail": "c@d.org"})) == {
        "$.email"
    }
    lead = capture({"company": "Acme", "email": "a@b.org", "E-mail": "c@d.org"}, lenient=True)
    assert lead.email == "a@b.org"
    assert lead.quality_issues[0].value == "c@d.org"


def test_non_string_values_are_a_caller_error_in_both_modes() -> None:
    for lenient in (False, True):
        with pytest.raises(ValidationError) as caught:
            capture({"company": "Acme", "company_size": 12}, lenient=lenient)
        assert caught.value.path == "$.company_size"


def test_capture_needs_an_aware_creation_time() -> None:
    with pytest.raises(ValidationError) as caught:
        capture_lead({"company": "Acme"}, created_at=T0.replace(tzinfo=None))
    assert caught.value.path == "$.created_at"


def test_a_bad_default_region_names_the_argument() -> None:
    with pytest.raises(ValidationError) as caught:
        capture({"company": "Acme"}, default_region="Atlantis")
    assert caught.value.path == "$.default_region"


def test_lenient_capture_keeps_invalid_values_as_issues() -> None:
    raw = {
        "company": "Acme",
        "email": " nobody@ ",
        "phone": "call me",
        "country": "Atlantis",
        "status": "disqualified",
        "favourite colour": "teal",
        "city": "Berlin",
    }
    lead = capture(raw, lenient=True)
    assert (lead.email, lead.phone, lead.country) == (None, None, None)
    assert lead.status is LeadStatus.NEW
    assert lead.city == "Berlin"
    issues = {issue.field: issue for issue in lead.quality_issues}
    assert set(issues) == {"email", "phone", "country", "status", "favourite colour"}
    assert issues["email"].value == " nobody@ "  # the raw value, untouched
    assert issues["status"].value == "disqualified"
    assert "reason" in issues["status"].expected


def test_issues_round_trip_with_the_lead() -> None:
    lead = capture({"company": "Acme", "email": "nobody@"}, lenient=True)
    assert from_data(Lead, to_data(lead)) == lead
    assert from_json(Lead, to_json(lead)) == lead
    assert to_data(lead)["quality_issues"] == [
        {"field": "email", "value": "nobody@", "expected": "an email address like name@example.com"}
    ]


def test_a_data_quality_issue_checks_its_fields() -> None:
    with pytest.raises(ValidationError) as caught:
        DataQualityIssue(field="", value="x", expected="y")
    assert caught.value.path == "$.field"
    assert DataQualityIssue(field="email", value="", expected="an email").value == ""


issue_lists = st.lists(
    st.builds(
        DataQualityIssue,
        field=st.sampled_from(["email", "phone", "Favourite colour"]),
        value=st.text(max_size=12),
        expected=st.sampled_from(["an email address like name@example.com", "a phone number"]),
    ),
    max_size=3,
)


@settings(max_examples=30)
@given(sfa.leads(), issue_lists)
def test_leads_with_issues_round_trip(lead: Lead, issues: list[DataQualityIssue]) -> None:
    with_issues = lead.evolve(quality_issues=issues)
    assert with_issues.quality_issues == tuple(issues)
    assert from_data(Lead, to_data(with_issues)) == with_issues
    assert from_json(Lead, to_json(with_issues)) == with_issues


# -- properties --------------------------------------------------------------------------

valid_values: dict[str, st.SearchStrategy[str]] = {
    "first_name": st.sampled_from(["Anna", " Jürgen ", "Chi  Chi"]),
    "last_name": st.sampled_from(["Okafor", "Weiß", "O'Brien"]),
    "email": st.sampled_from(["anna@example.com", "Jo@Müller.DE", "x+y@Sub.Example.org "]),
    "phone": st.sampled_from(["+49 30 1234567", "+1 (415) 555-0100 ext. 9", "0044 20 7946 0958"]),
    "country": st.sampled_from(["DE", "deu", "Germany", "United States", "UK"]),
    "company_size": st.sampled_from(["0", "12", "1,200", "100 000"]),
    "product_interest": st.sampled_from(["led-bulbs", "a; b, a", "fixtures|services"]),
    "status": st.sampled_from(["new", "Working", "NURTURING", "qualified"]),
    "postal_code": st.sampled_from(["80331", "sw1a 1aa"]),
    "source": st.sampled_from(["web", "trade show"]),
}
invalid_values: dict[str, st.SearchStrategy[str]] = {
    "email": st.sampled_from(["nobody@", "a@@b.c", "@x.org", "a b@c.de"]),
    "phone": st.sampled_from(["12", "call me", "+999 1", "()"]),
    "country": st.sampled_from(["Atlantis", "XX", "Germanyy"]),
    "company_size": st.sampled_from(["-3", "about 50", "1.5", "1,20"]),
    "status": st.sampled_from(["hot", "converted", "closed"]),
    "postal_code": st.just("1" * 21),
    "first_name": st.just("n" * 201),
    "owner_id": st.sampled_from(["anna", "acct_x"]),
}


@st.composite
def valid_rows(draw: st.DrawFn) -> dict[str, str]:
    row = {"company": "Acme"}
    for name, values in valid_values.items():
        if draw(st.booleans()):
            row[name] = draw(values)
    return row


@st.composite
def mixed_rows(draw: st.DrawFn) -> dict[str, str]:
    row = draw(valid_rows())
    for name, values in invalid_values.items():
        if draw(st.booleans()):
            row[name] = draw(values)
    if draw(st.booleans()):
        row["Unknown Column"] = draw(st.text(min_size=1, max_size=5).filter(str.strip))
    if draw(st.booleans()):
        row[draw(st.sampled_from(["city", "title", "region"]))] = draw(st.text(max_size=8))
    return row


@settings(max_examples=80)
@given(valid_rows())
def test_strict_and_lenient_capture_agree_on_valid_input(row: dict[str, str]) -> None:
    strict = capture(row)
    assert capture(row, lenient=True) == strict
    assert strict.quality_issues == ()


@settings(max_examples=120)
@given(mixed_rows())
def test_lenient_capture_never_loses_a_raw_value(row: dict[str, str]) -> None:
    lead = capture(row, lenient=True)
    issues = {(issue.field, issue.value) for issue in lead.quality_issues}
    for key, raw in row.items():
        if not raw.strip():
            continue
        name = key if hasattr(lead, key) else {"Unknown Column": key}.get(key, key)
        stored = getattr(lead, name, None)
        if name == "status" and raw.strip().lower() != stored.value:  # type: ignore[union-attr]
            stored = None  # the default status, not the one given
        assert stored not in (None, ()) or (name, raw) in issues, (key, raw)
    # Strict capture refuses exactly when lenient capture found an issue.
    if issues:
        with pytest.raises(ValidationError) as caught:
            capture(row)
        assert len(caught.value.problems) == len(lead.quality_issues)
    else:
        assert capture(row) == lead


def _as_row(lead: Lead) -> dict[str, str]:
    row: dict[str, str] = {}
    for name in CAPTURED_FIELDS:
        value = getattr(lead, name)
        if value is None or value == ():
            continue
        if isinstance(value, tuple):
            row[name] = ", ".join(value)
        elif isinstance(value, LeadStatus):
            row[name] = value.value
        else:
            row[name] = str(value)
    return row


@settings(max_examples=80)
@given(valid_rows())
def test_capturing_a_captured_lead_again_changes_nothing(row: dict[str, str]) -> None:
    once = capture(row)
    assert capture(_as_row(once)) == once
