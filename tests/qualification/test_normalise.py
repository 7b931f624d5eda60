"""Normalisers: examples for emails, phones (with and without phonenumbers) and
countries, and the laws every normaliser keeps (idempotence, errors at the field's path)."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfakit.errors import ValidationError
from sfakit.qualification import (
    COUNTRY_EXPECTED,
    EMAIL_EXPECTED,
    PhoneParsing,
    country_name,
    normalise_country,
    normalise_email,
    normalise_phone,
    normalise_text,
    phone_library_available,
)
from sfakit.qualification._iso3166 import COUNTRIES
from sfakit.qualification.countries import _key

# -- emails ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("anna@example.com", "anna@example.com"),
        ("  Anna.Okafor@Brightside-Hotels.COM \n", "Anna.Okafor@brightside-hotels.com"),
        ("o'brien+leads@Example.co.UK", "o'brien+leads@example.co.uk"),
        ("Anna Okafor <anna@Example.com>", "anna@example.com"),
        ("<anna@example.com>", "anna@example.com"),
        ("MAILTO:anna@example.com", "anna@example.com"),
        ("jürgen@Müller.DE", "jürgen@xn--mller-kva.de"),
        ("info@straße.de", "info@xn--strae-oqa.de"),  # IDNA 2008: ß is kept, not "ss"
        ("info@xn--strae-oqa.de", "info@xn--strae-oqa.de"),
        ("user@sub.xn--80ak6aa92e.com", "user@sub.xn--80ak6aa92e.com"),
    ],
)
def test_emails_are_normalised(raw: str, expected: str) -> None:
    assert normalise_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "anna",
        "anna@",
        "@example.com",
        "anna@@example.com",
        "anna@example",
        "anna@example.",
        "anna@.example.com",
        "anna@exa mple.com",
        "an na@example.com",
        "anna..okafor@example.com",
        ".anna@example.com",
        "anna.@example.com",
        '"anna okafor"@example.com',
        "anna@[192.0.2.1]",
        "anna@192.0.2.1",
        "anna@-example.com",
        "anna@example-.com",
        "anna@exa_mple.com",
        "a" * 65 + "@example.com",
        "anna@" + "a" * 64 + ".com",
        "anna@example.c😀m",
    ],
)
def test_bad_emails_are_refused_at_their_path(raw: str) -> None:
    with pytest.raises(ValidationError) as caught:
        normalise_email(raw, "$.rows[3].email")
    assert caught.value.path == "$.rows[3].email"
    assert caught.value.value == raw
    assert caught.value.expected.startswith(EMAIL_EXPECTED)


def test_a_non_string_email_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        normalise_email(42)  # type: ignore[arg-type]
    assert caught.value.path == "$.email"


emails = st.builds(
    lambda local, domain, tld, case: (
        f"{local}@{domain}.{tld}".upper() if case else f"{local}@{domain}.{tld}"
    ),
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._%+-]{0,10}[A-Za-z0-9]", fullmatch=True),
    st.from_regex(r"[a-zäöüß][a-z0-9äöüß-]{0,8}[a-z0-9äöüß]", fullmatch=True),
    st.sampled_from(["de", "com", "org", "co.uk"]),
    st.booleans(),
)


@given(st.one_of(emails, st.text(max_size=30)))
def test_normalising_an_email_twice_changes_nothing(raw: str) -> None:
    try:
        once = normalise_email(raw)
    except ValidationError:
        return
    assert normalise_email(once) == once
    assert once == once.strip()
    domain = once.rpartition("@")[2]
    assert domain == domain.lower()
    assert domain.isascii()


@given(emails)
def test_the_local_part_is_kept_as_given(raw: str) -> None:
    if ".." in raw:
        return
    try:
        result = normalise_email(raw)
    except ValidationError:
        return
    assert result.rpartition("@")[0] == raw.rpartition("@")[0]


# -- phones ------------------------------------------------------------------------------

LIBRARY_CASES = [
    # national formats, read in the lead's country
    ("030 1234567", "DE", "+49301234567"),
    ("(030) 123 45 67", "DE", "+49301234567"),
    ("(415) 555-0100", "US", "+14155550100"),
    ("020 7946 0958", "GB", "+442079460958"),
    ("01 42 68 53 00", "FR", "+33142685300"),
    # international formats, whatever the country
    ("+49 30 1234567", None, "+49301234567"),
    ("+49 (0)30 1234567", None, "+49301234567"),
    ("0049 30 1234567", None, "+49301234567"),
    ("0049 30 1234567", "DE", "+49301234567"),
    ("+1-415-555-0100", "DE", "+14155550100"),
    ("+44 20 7946 0958", "US", "+442079460958"),
    ("tel:+1-415-555-0100", None, "+14155550100"),
    ("1-800-FLOWERS", "US", "+18003569377"),
    # extensions
    ("+1 (415) 555-0100 ext. 123", None, "+14155550100;ext=123"),
    ("415 555 0100 x12", "US", "+14155550100;ext=12"),
    ("030 1234567 #7", "DE", "+49301234567;ext=7"),
    ("tel:+1-415-555-0100;ext=7", None, "+14155550100;ext=7"),
    ("+14155550100;ext=123", None, "+14155550100;ext=123"),
]

DIGITS_CASES = [
    ("030 1234567", "DE", "0301234567"),
    ("(415) 555-0100", "US", "4155550100"),
    ("+49 30 1234567", None, "+49301234567"),
    ("+49 (0)30 1234567", None, "+49301234567"),
    ("0049 30 1234567", None, "+49301234567"),
    ("tel:+1-415-555-0100", None, "+14155550100"),
    ("+1 (415) 555-0100 ext. 123", None, "+14155550100;ext=123"),
    ("415.555.0100 x12", "US", "4155550100;ext=12"),
    ("030/1234567 #7", "DE", "0301234567;ext=7"),
    ("+14155550100;ext=123", None, "+14155550100;ext=123"),
]


def test_the_phone_extra_is_installed_here() -> None:
    assert phone_library_available()


@pytest.mark.parametrize(("raw", "region", "expected"), LIBRARY_CASES)
def test_phones_become_e164_with_phonenumbers(raw: str, region: str | None, expected: str) -> None:
    assert normalise_phone(raw, region) == expected
    assert normalise_phone(raw, region, parsing=PhoneParsing.LIBRARY) == expected


@pytest.mark.parametrize(("raw", "region", "expected"), DIGITS_CASES)
def test_the_digits_only_fallback(raw: str, region: str | None, expected: str) -> None:
    assert normalise_phone(raw, region, parsing=PhoneParsing.DIGITS) == expected


@pytest.mark.parametrize(("raw", "region", "expected"), DIGITS_CASES)
def test_without_phonenumbers_auto_falls_back_to_digits(
    monkeypatch: pytest.MonkeyPatch, raw: str, region: str | None, expected: str
) -> None:
    monkeypatch.setitem(sys.modules, "phonenumbers", None)  # import now raises ImportError
    assert not phone_library_available()
    assert normalise_phone(raw, region) == expected


def test_insisting_on_phonenumbers_without_it_names_the_argument(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "phonenumbers", None)
    with pytest.raises(ValidationError) as caught:
        normalise_phone("+49 30 1234567", parsing=PhoneParsing.LIBRARY)
    assert caught.value.path == "$.parsing"
    assert "phonenumbers" in caught.value.expected


@pytest.mark.parametrize(
    ("raw", "region", "hint"),
    [
        ("12", "DE", "valid number for DE"),
        ("030 1234567", None, "no country is known"),
        ("not a phone", "DE", ""),
        ("+999 123 4567", None, ""),
        ("", "DE", ""),
        ("   ", "DE", ""),
    ],
)
def test_bad_phones_are_refused_with_phonenumbers(raw: str, region: str | None, hint: str) -> None:
    with pytest.raises(ValidationError) as caught:
        normalise_phone(raw, region, path="$.mobile")
    assert caught.value.path == "$.mobile"
    assert hint in caught.value.expected


@pytest.mark.parametrize(
    "raw", ["12", "+49 12", "1-800-FLOWERS", "030 1234 ☎", "+1234567890123456"]
)
def test_bad_phones_are_refused_by_the_fallback(raw: str) -> None:
    with pytest.raises(ValidationError) as caught:
        normalise_phone(raw, "DE", parsing=PhoneParsing.DIGITS)
    assert caught.value.path == "$.phone"


def test_an_unknown_region_is_ignored_not_an_error() -> None:
    assert normalise_phone("+49 30 1234567", "ZZ") == "+49301234567"


phone_texts = st.one_of(
    st.from_regex(r"(\+|00)?[1-9][0-9 ()./-]{5,18}( (ext\.?|x|#) ?[0-9]{1,4})?", fullmatch=True),
    st.text(alphabet="0123456789+-() x#;=ext", max_size=25),
)


@settings(max_examples=150)
@given(
    phone_texts,
    st.sampled_from([None, "DE", "US", "GB", "FR"]),
    st.sampled_from(list(PhoneParsing)),
)
def test_normalising_a_phone_twice_changes_nothing(
    raw: str, region: str | None, parsing: PhoneParsing
) -> None:
    try:
        once = normalise_phone(raw, region, parsing=parsing)
    except ValidationError:
        return
    assert normalise_phone(once, region, parsing=parsing) == once
    number = once.partition(";ext=")[0]
    assert number.lstrip("+").isdigit()
    if parsing is not PhoneParsing.DIGITS:
        assert number.startswith("+")
        assert len(number) <= 16


# -- countries ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("DE", "DE"),
        ("de", "DE"),
        (" deu ", "DE"),
        ("Germany", "DE"),
        ("GERMANY", "DE"),
        ("United Kingdom", "GB"),
        ("UK", "GB"),
        ("Great Britain", "GB"),
        ("England", "GB"),
        ("USA", "US"),
        ("U.S.A.", "US"),
        ("United States of America", "US"),
        ("the Netherlands", "NL"),
        ("Holland", "NL"),
        ("Côte d'Ivoire", "CI"),
        ("cote divoire", None),
        ("Cote d Ivoire", "CI"),
        ("Ivory Coast", "CI"),
        ("South Korea", "KR"),
        ("Korea, Republic of", "KR"),
        ("Republic of Korea", "KR"),
        ("North Korea", "KP"),
        ("Russia", "RU"),
        ("Russian Federation", "RU"),
        ("Czech Republic", "CZ"),
        ("Czechia", "CZ"),
        ("Türkiye", "TR"),
        ("Turkey", "TR"),
        ("St Kitts and Nevis", "KN"),
        ("Saint Kitts & Nevis", "KN"),
        ("Bosnia and Herzegovina", "BA"),
        ("Democratic Republic of the Congo", "CD"),
        ("Congo, The Democratic Republic of the", "CD"),
        ("Viet Nam", "VN"),
        ("Vietnam", "VN"),
        ("Kosovo", "XK"),
        ("EL", "GR"),
        ("Atlantis", None),
        ("XX", None),
        ("", None),
        ("D", None),
    ],
)
def test_countries_by_code_alpha3_and_name(raw: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(ValidationError) as caught:
            normalise_country(raw)
        assert caught.value.path == "$.country"
        assert caught.value.expected == COUNTRY_EXPECTED
    else:
        assert normalise_country(raw) == expected


def test_the_table_has_every_assigned_code_once_and_no_ambiguous_name() -> None:
    alpha2 = [row[0] for row in COUNTRIES]
    alpha3 = [row[1] for row in COUNTRIES]
    assert len(alpha2) == len(set(alpha2)) == 250  # 249 ISO 3166-1 + Kosovo
    assert len(set(alpha3)) == len(alpha3)
    owner: dict[str, str] = {}
    for code, _, names in COUNTRIES:
        for name in names:
            owner.setdefault(_key(name), code)
            assert owner[_key(name)] == code, f"{name!r} names {owner[_key(name)]} and {code}"
    # No name is spelled like another country's code.
    codes = {c.casefold(): a2 for a2, a3, _ in COUNTRIES for c in (a2, a3)}
    for key, code in owner.items():
        assert codes.get(key, code) == code


@given(st.sampled_from(COUNTRIES))
def test_every_code_and_name_finds_its_country(row: tuple[str, str, tuple[str, ...]]) -> None:
    code, alpha3, names = row
    for text in (code, code.lower(), alpha3, *names, names[0].upper()):
        assert normalise_country(text) == code
    assert country_name(code) == names[0]


@given(st.text(max_size=12))
def test_normalising_a_country_twice_changes_nothing(raw: str) -> None:
    try:
        once = normalise_country(raw)
    except ValidationError:
        return
    assert normalise_country(once) == once
    assert len(once) == 2
    assert once.isupper()


def test_country_name_of_an_unknown_code() -> None:
    with pytest.raises(ValidationError):
        country_name("XX")


# -- text --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Brightside   Hotels\t", "Brightside Hotels"),
        ("Mu\u0308ller", "Müller"),  # decomposed → composed (NFC)
        ("\n \t", None),
        ("", None),
        ("a\u00a0b", "a b"),
    ],
)
def test_text_is_trimmed_and_composed(raw: str, expected: str | None) -> None:
    assert normalise_text(raw) == expected


@given(st.text())
def test_normalising_text_twice_changes_nothing(raw: str) -> None:
    once = normalise_text(raw)
    if once is not None:
        assert normalise_text(once) == once
        assert once == once.strip()
