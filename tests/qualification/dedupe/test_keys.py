"""Match keys: what two values must agree on to match, in many languages."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sfakit.qualification.dedupe import (
    company_key,
    email_key,
    name_key,
    phone_key,
    postal_code_key,
    text_key,
    website_key,
)

SAME_COMPANY = [
    # German: legal forms stacked, "&"/"und", umlauts and ß
    ("Müller & Söhne GmbH & Co. KG", "MULLER UND SOHNE", None),
    ("Müller & Söhne GmbH", "Muller und Sohne", "muller sohne"),
    ("Großhandel Weiß AG", "GROSSHANDEL WEISS", "grosshandel weiss"),
    ("Bäckerei Schmitt e.K.", "Backerei Schmitt", None),
    ("Hahn Bau UG (haftungsbeschränkt)", "Hahn Bau", "hahn bau"),
    ("Siemens Aktiengesellschaft", "Siemens AG", "siemens"),
    # English: Inc/Incorporated/Corp/LLC/Ltd/Limited/PLC, "&"/"and", a leading "The"
    ("ACME Inc.", "Acme, Incorporated", "acme"),
    ("The Coca-Cola Company", "Coca Cola Co.", "coca cola"),
    ("Procter & Gamble Co.", "Procter and Gamble", "procter gamble"),
    ("Brightside Hotels Limited", "Brightside Hotels Ltd", "brightside hotels"),
    ("Infosys Pvt. Ltd.", "Infosys Private Limited", "infosys"),
    # French, Spanish, Italian, Portuguese
    ("Société Générale S.A.", "SOCIETE GENERALE SA", "societe generale"),
    ("Boulangerie Dupont SARL", "Boulangerie Dupont S.A.R.L.", "boulangerie dupont"),
    ("Zara España, S.L.", "Zara Espana SL", "zara espana"),
    ("Grupo Bimbo, S.A.B. de C.V.", "Grupo Bimbo", "grupo bimbo"),
    ("Fiat S.p.A.", "FIAT SpA", "fiat"),
    ("Natura Cosméticos Ltda.", "Natura Cosmeticos", "natura cosmeticos"),
    # Dutch, Nordic, Polish, Czech
    ("Philips N.V.", "Philips NV", "philips"),
    ("Heineken B. V.", "Heineken BV", "heineken"),
    ("Ørsted A/S", "Orsted AS", "orsted"),
    ("Nokia Oyj", "Nokia", "nokia"),
    ("Łódź Meble sp. z o.o.", "Lodz Meble Sp. z o. o.", None),
    ("Škoda Auto a.s.", "Skoda Auto", "skoda auto"),
    # Russian, Chinese, Japanese, Korean
    ("ООО Ромашка", "Ромашка", "ромашка"),  # noqa: RUF001
    ("北京华光照明有限公司", "北京华光照明", "北京华光照明"),
    ("台積電股份有限公司", "台積電", "台積電"),
    ("トヨタ自動車株式会社", "株式会社 トヨタ自動車", "トヨタ自動車"),
    ("(株)資生堂", "資生堂", "資生堂"),
    ("삼성전자 주식회사", "삼성전자", "삼성전자"),
]


@pytest.mark.parametrize(("a", "b", "key"), SAME_COMPANY)
def test_spellings_of_one_company_have_one_key(a: str, b: str, key: str | None) -> None:
    assert company_key(a) == company_key(b)
    if key is not None:
        assert company_key(a) == key


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Acme Lighting GmbH", "Acme Heating GmbH"),
        ("Müller Bau GmbH", "Müller Holz GmbH"),
        ("ジョン株式会社", "ション株式会社"),  # a kana's voicing mark is not an accent
    ],
)
def test_different_companies_keep_different_keys(a: str, b: str) -> None:
    assert company_key(a) != company_key(b)


def test_transliterated_umlauts_differ_in_the_key_but_match_fuzzily() -> None:
    from rapidfuzz import fuzz

    a, b = company_key("Müller & Söhne GmbH"), company_key("Mueller und Soehne")
    assert (a, b) == ("muller sohne", "mueller soehne")
    assert fuzz.token_sort_ratio("muller sohne", "mueller soehne") >= 90


def test_a_name_that_is_only_a_legal_form_keeps_it() -> None:
    assert company_key("AG") == "ag"
    assert company_key("Co. Ltd.") == "co"
    assert company_key("  &  ") is None
    assert company_key(None) is None


def test_legal_forms_go_only_at_the_ends() -> None:
    assert company_key("AG Rheinland Consulting GmbH") == "ag rheinland consulting"
    assert company_key("Corp Design Studio") == "corp design studio"


def test_the_other_keys_only_trim_and_fold() -> None:
    assert email_key("  Anna@Example.COM ") == "anna@example.com"
    assert phone_key(" +4989123 ") == "+4989123"
    assert postal_code_key("sw1a 1aa") == "sw1a1aa"
    assert website_key("http://WWW.acme.de:8080/de/index.html") == "acme.de"
    assert website_key("acme.de") == "acme.de"
    assert website_key("  ") is None
    assert name_key("José-María O'Neil") == "jose maria oneil"
    assert [k(None) for k in (email_key, phone_key, postal_code_key, website_key)] == [None] * 4


latin = st.text(alphabet="aAäÄéÉßøØłŁ çÇ-.'&,", max_size=20)


@given(latin)
def test_text_key_is_idempotent(value: str) -> None:
    once = text_key(value)
    assert once is None or text_key(once) == once


@given(latin)
def test_text_key_ignores_case_and_accents(value: str) -> None:
    assert text_key(value.upper()) == text_key(value.lower())
    assert text_key(value) == text_key(value.replace("ä", "a").replace("é", "e"))


@given(latin)
def test_keys_are_trimmed_and_single_spaced(value: str) -> None:
    for key in (text_key(value), company_key(value)):
        assert key is None or (key == key.strip() and "  " not in key and key)
