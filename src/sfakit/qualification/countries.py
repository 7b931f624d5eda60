"""Countries as ISO 3166-1 alpha-2 codes, from a code, an alpha-3 code or an English name.

The table is in the package (:mod:`sfakit.qualification._iso3166`, generated from the
Debian ``iso-codes`` data): no dependency, and the same answers whether or not the
optional ``phonenumbers`` package is installed. Names are matched ignoring case, accents,
punctuation and a leading "the", so ``"côte d'ivoire"``, ``"Cote d Ivoire"`` and
``"Ivory Coast"`` all give ``CI``; ``St`` stands for ``Saint``.

>>> [normalise_country(text) for text in ("de", "DEU", "Germany", "the Netherlands", "UK")]
['DE', 'DE', 'DE', 'NL', 'GB']
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from sfakit.errors import ValidationError
from sfakit.qualification._iso3166 import COUNTRIES

__all__ = ["COUNTRY_EXPECTED", "country_name", "normalise_country"]

#: What a country field expects, as error messages and data-quality issues say it.
COUNTRY_EXPECTED: Final = (
    "an ISO 3166-1 country: an alpha-2 code (DE), an alpha-3 code (DEU) or an English name "
    "(Germany)"
)

_NOT_ALNUM: Final = re.compile(r"[^0-9a-z]+")
_CODE: Final = re.compile(r"[A-Za-z]{2,3}")


def _key(text: str) -> str:
    """``text`` as a lookup key: no accents, case-folded, words separated by one space."""
    plain = "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
    ).casefold()
    words = _NOT_ALNUM.sub(" ", plain.replace("&", " and ")).split()
    if words[:1] == ["the"]:
        words = words[1:]
    return " ".join("saint" if w == "st" else w for w in words)


def _tables() -> tuple[Mapping[str, str], Mapping[str, str], Mapping[str, str]]:
    codes: dict[str, str] = {}
    names: dict[str, str] = {}
    display: dict[str, str] = {}
    for alpha2, alpha3, known_as in COUNTRIES:
        codes[alpha2] = codes[alpha3] = alpha2
        display[alpha2] = known_as[0]
        for name in known_as:
            names.setdefault(_key(name), alpha2)
    return MappingProxyType(codes), MappingProxyType(names), MappingProxyType(display)


# Read-only lookups built once from the constant table.
_BY_CODE, _BY_NAME, _NAMES = _tables()


def normalise_country(text: str, path: str = "$.country") -> str:
    """The ISO 3166-1 alpha-2 code of ``text``: a code (any case), an alpha-3 code or an
    English name; a ValidationError at ``path`` when it names no country.

    Only assigned codes are accepted (``XX`` is refused), plus ``XK`` (Kosovo) and the
    aliases ``UK`` (for ``GB``) and ``EL`` (for ``GR``).

    >>> normalise_country(" united states of america "), normalise_country("Türkiye")
    ('US', 'TR')
    >>> normalise_country("Atlantis")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sfakit.errors.ValidationError: $.country: got 'Atlantis'; expected an ISO 3166-1 country...
    """
    if isinstance(text, str):
        stripped = text.strip()
        if _CODE.fullmatch(stripped):
            found = _BY_CODE.get(stripped.upper())
            if found is not None:
                return found
        found = _BY_NAME.get(_key(stripped))
        if found is not None:
            return found
    raise ValidationError(path, text, COUNTRY_EXPECTED)


def country_name(code: str) -> str:
    """The ISO short name of an alpha-2 ``code``.

    >>> country_name("CI")
    "Côte d'Ivoire"
    """
    try:
        return _NAMES[code]
    except (KeyError, TypeError):
        raise ValidationError("$.country", code, "an assigned ISO 3166-1 alpha-2 code") from None
