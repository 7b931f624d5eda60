"""Match keys: the form in which two values are compared.

Stored records were normalised at capture (emails trimmed with a lower-case domain,
phones in E.164, ISO country codes), so the keys of those only trim and casefold. Names
need more, because people type them differently:

* :func:`text_key` folds case (``ß`` → ``ss``) and accents (Unicode NFKD, the
  Latin, Greek and Cyrillic combining marks dropped, NFC again, plus the letters NFKD
  leaves alone: ``ø`` ``æ`` ``œ`` ``ł`` ``đ`` ``þ``), deletes dots and apostrophes
  inside words (``S.A.`` → ``sa``, ``McDonald's`` → ``mcdonalds``), turns other
  punctuation into spaces and collapses white space;
* :func:`company_key` also drops the connectors ``&`` ``+`` *and* *und* *et* *en* *og*
  *och*, a leading *the*, and legal forms at the end (repeatedly: ``GmbH & Co. KG``)
  and a few that stand in front (``PT``, ``OOO``), in many languages and scripts,
  including the CJK forms written without a space (``有限公司``, ``株式会社``). A name
  that is nothing but a legal form keeps it (``AG`` stays ``ag``).

>>> company_key("Müller & Söhne GmbH & Co. KG")
'muller sohne'
>>> company_key("MÜLLER und SÖHNE gmbh")
'muller sohne'
>>> company_key("The Coca-Cola Company")
'coca cola'
>>> company_key("北京华光照明有限公司")
'北京华光照明'
>>> company_key("Nordisk Lys A/S") == company_key("NORDISK LYS AS")
True
"""

from __future__ import annotations

import unicodedata
from typing import Final

__all__ = [
    "LEGAL_FORMS",
    "company_key",
    "email_key",
    "name_key",
    "phone_key",
    "postal_code_key",
    "text_key",
    "website_key",
]

# Letters that NFKD does not decompose but that people type without their mark.
_FOLD: Final = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"}  # noqa: RUF001
)
_DELETED: Final = frozenset(".'’`´ʼ")  # noqa: RUF001  # joined: "S.A." is one token, "sa"

#: Legal forms, as the token sequences :func:`company_key` produces from them (dots
#: removed, accents folded). Stripped from the end of a name, longest first, repeatedly.
LEGAL_FORMS: Final[frozenset[tuple[str, ...]]] = frozenset(
    (form,)
    for group in (
        # English-speaking countries
        "inc incorporated corp corporation co company ltd limited llc llp lp lllp plc pllc"
        " pty pte pvt",
        # German-speaking countries
        "gmbh mbh ag kg kgaa ohg gbr ug ev eg ek ekfr se aktiengesellschaft"
        " kommanditgesellschaft haftungsbeschrankt",
        # French, Benelux, Italian, Iberian, Latin American
        "sa sas sasu sarl eurl sci snc sca scs selarl bv nv vof bvba cv cvba sprl srl srls"
        " scrl spa sapa sab sl slu sll ltda lda eireli",
        # Nordic, Central and Eastern European
        "ab as asa oy oyj aps hf ehf ks sro spol zrt kft nyrt bt doo dd ad ood ead spzoo jsc"
        " ooo zao oao pao ао ооо зао оао пао",  # noqa: RUF001  # Cyrillic too
        # Asia
        "kk yk bhd sdn tbk 株 有",
    )
    for form in group.split()
) | frozenset(
    tuple(phrase.split())
    for phrase in (
        "sp z oo",
        "sp z o o",
        "z oo",
        "z o o",
        "sa de cv",
        "sab de cv",
        "s de rl",
        "de cv",
        "kabushiki kaisha",
        "yugen kaisha",
        "godo kaisha",
        "private limited",
        "limited liability company",
        "gesellschaft mit beschrankter haftung",
        "societe anonyme",
        "societe par actions simplifiee",
        "sociedad anonima",
        "sociedade anonima",
        "societa per azioni",
        "naamloze vennootschap",
        "besloten vennootschap",
    )
)
_LONGEST_FORM: Final = max(len(form) for form in LEGAL_FORMS)
_LEADING_FORMS: Final = frozenset(
    {"the", "pt", "ooo", "zao", "oao", "pao", "ооо", "зао", "оао", "株", "有"}  # noqa: RUF001
)
_CONNECTORS: Final = frozenset({"&", "+", "and", "und", "et", "en", "og", "och"})
# CJK legal forms are written without a space, so they are cut from inside a token.
_CJK_SUFFIXES: Final = (
    "股份有限公司",
    "有限责任公司",
    "有限責任公司",
    "有限公司",
    "株式会社",
    "有限会社",
    "合同会社",
    "주식회사",
    "유한회사",
)
_CJK_PREFIXES: Final = ("株式会社", "有限会社", "合同会社", "주식회사")


def _fold(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value.casefold().translate(_FOLD))
    # Only the Latin/Greek/Cyrillic diacritics go: a kana's voicing mark is a letter's
    # identity, not an accent. NFC then recomposes what is left (Hangul syllables).
    bare = "".join(c for c in decomposed if not "\u0300" <= c <= "\u036f")
    return unicodedata.normalize("NFC", bare).translate(_FOLD)


def _tokens(value: str, *, keep: frozenset[str] = frozenset()) -> list[str]:
    out: list[str] = []
    for char in _fold(value):
        if char in _DELETED:
            continue
        out.append(char if char.isalnum() or char in keep else " ")
    return "".join(out).replace("&", " & ").replace("+", " + ").split()


def text_key(value: str | None) -> str | None:
    """Case, accents and punctuation folded, white space collapsed; None when nothing is left.

    >>> text_key("  José  O'Brien-Ñúñez ")
    'jose obrien nunez'
    >>> text_key("Straße") == text_key("STRASSE")
    True
    >>> text_key(" -- ") is None
    True
    """
    if value is None:
        return None
    joined = " ".join(_tokens(value))
    return joined or None


def name_key(value: str | None) -> str | None:
    """A person's or a city's name as compared: :func:`text_key`.

    >>> name_key("Zoë") == name_key("ZOE")
    True
    """
    return text_key(value)


def _strip_legal_tail(tokens: list[str]) -> bool:
    for size in range(min(_LONGEST_FORM, len(tokens) - 1), 0, -1):
        if tuple(tokens[-size:]) in LEGAL_FORMS:
            del tokens[-size:]
            return True
    # Spaced abbreviations: "S. A." arrives as "s a", "B. V." as "b v".
    run = 0
    while run < len(tokens) - 1 and len(tokens[-1 - run]) == 1:
        run += 1
    for size in range(run, 1, -1):
        if ("".join(tokens[-size:]),) in LEGAL_FORMS:
            del tokens[-size:]
            return True
    return False


def _strip_cjk(tokens: list[str]) -> None:
    last = tokens[-1]
    for suffix in _CJK_SUFFIXES:
        if last.endswith(suffix) and len(last) > len(suffix):
            tokens[-1] = last[: -len(suffix)]
            break
        if last == suffix and len(tokens) > 1:
            tokens.pop()
            break
    first = tokens[0]
    for prefix in _CJK_PREFIXES:
        if first.startswith(prefix) and len(first) > len(prefix):
            tokens[0] = first[len(prefix) :]
            break
        if first == prefix and len(tokens) > 1:
            tokens.pop(0)
            break


def company_key(value: str | None) -> str | None:
    """A company name as compared: legal forms, connectors, case, accents, punctuation gone.

    >>> [company_key(n) for n in ("ACME Inc.", "Acme, Incorporated", "acme corp")]
    ['acme', 'acme', 'acme']
    >>> company_key("Société Générale S.A."), company_key("Ab Svensk Fisk AB")
    ('societe generale', 'ab svensk fisk')
    >>> company_key("AG")
    'ag'
    """
    if value is None:
        return None
    tokens = [t for t in _tokens(value) if t not in _CONNECTORS]
    if not tokens:
        return None
    while len(tokens) > 1 and _strip_legal_tail(tokens):
        pass
    while len(tokens) > 1 and tokens[0] in _LEADING_FORMS:
        tokens.pop(0)
    _strip_cjk(tokens)
    return " ".join(tokens)


def email_key(value: str | None) -> str | None:
    """An email address as compared: trimmed and casefolded.

    >>> email_key(" Anna.Schmidt@Example.com ")
    'anna.schmidt@example.com'
    """
    if value is None:
        return None
    return value.strip().casefold() or None


def phone_key(value: str | None) -> str | None:
    """A phone number as compared: trimmed (numbers are stored in E.164 already).

    >>> phone_key(" +4989123456 ")
    '+4989123456'
    """
    if value is None:
        return None
    return value.strip() or None


def postal_code_key(value: str | None) -> str | None:
    """A postal code as compared: without spaces, casefolded.

    >>> postal_code_key("sw1a 1aa") == postal_code_key("SW1A1AA")
    True
    """
    if value is None:
        return None
    return "".join(value.split()).casefold() or None


def website_key(value: str | None) -> str | None:
    """A website as compared: its host, without scheme, ``www.``, port, path or case.

    >>> website_key("HTTPS://www.Example.com:443/about?x=1")
    'example.com'
    """
    if value is None:
        return None
    host = value.strip().casefold()
    if "://" in host:
        host = host.split("://", 1)[1]
    for stop in "/?#":
        host = host.split(stop, 1)[0]
    host = host.rsplit("@", 1)[-1].split(":", 1)[0].rstrip(".")
    host = host.removeprefix("www.")
    return host or None
