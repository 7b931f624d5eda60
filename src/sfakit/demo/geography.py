"""Where the demo's customers are: sales regions, countries, and how each is split."""

from __future__ import annotations

from typing import Final, NamedTuple


class Country(NamedTuple):
    code: str  # ISO 3166-1 alpha-2
    region: str  # the sales region: EMEA, Americas or APAC
    language: str
    timezone: str
    weight: int  # relative share of leads and accounts
    split: bool  # split into ten territories by the first digit of the postal code


REGIONS: Final = ("EMEA", "Americas", "APAC")

COUNTRIES: Final = (
    Country("DE", "EMEA", "de", "Europe/Berlin", 16, True),
    Country("AT", "EMEA", "de", "Europe/Vienna", 3, False),
    Country("CH", "EMEA", "de", "Europe/Zurich", 3, False),
    Country("FR", "EMEA", "fr", "Europe/Paris", 9, True),
    Country("GB", "EMEA", "en", "Europe/London", 8, False),
    Country("IT", "EMEA", "it", "Europe/Rome", 6, True),
    Country("ES", "EMEA", "es", "Europe/Madrid", 5, True),
    Country("NL", "EMEA", "nl", "Europe/Amsterdam", 4, True),
    Country("BE", "EMEA", "fr", "Europe/Brussels", 2, False),
    Country("SE", "EMEA", "sv", "Europe/Stockholm", 3, True),
    Country("PL", "EMEA", "pl", "Europe/Warsaw", 4, True),
    Country("DK", "EMEA", "da", "Europe/Copenhagen", 2, False),
    Country("NO", "EMEA", "no", "Europe/Oslo", 2, False),
    Country("FI", "EMEA", "fi", "Europe/Helsinki", 1, False),
    Country("IE", "EMEA", "en", "Europe/Dublin", 1, False),
    Country("PT", "EMEA", "pt", "Europe/Lisbon", 2, False),
    Country("US", "Americas", "en", "America/New_York", 18, True),
    Country("CA", "Americas", "en", "America/Toronto", 4, False),
    Country("MX", "Americas", "es", "America/Mexico_City", 3, True),
    Country("BR", "Americas", "pt", "America/Sao_Paulo", 4, True),
    Country("AR", "Americas", "es", "America/Argentina/Buenos_Aires", 1, False),
    Country("CL", "Americas", "es", "America/Santiago", 1, False),
    Country("JP", "APAC", "ja", "Asia/Tokyo", 6, True),
    Country("AU", "APAC", "en", "Australia/Sydney", 4, True),
    Country("SG", "APAC", "en", "Asia/Singapore", 2, False),
    Country("IN", "APAC", "en", "Asia/Kolkata", 4, True),
    Country("KR", "APAC", "ko", "Asia/Seoul", 2, False),
    Country("NZ", "APAC", "en", "Pacific/Auckland", 1, False),
    Country("CN", "APAC", "zh", "Asia/Shanghai", 3, False),
)

#: Countries a few leads come from that no territory covers: they wait in a queue.
UNCOVERED: Final = ("ZA", "EG", "TR")
