"""Hypothesis strategies that generate valid sfakit objects.

Use them to property-test your own business rules on top of sfakit. Every object they
generate passes sfakit's validation, cross-field rules included (``updated_at`` is never
before ``created_at``, a converted lead names its account, an order's lines are in the
order's currency …). Text is realistic-ish (names, companies, cities from many
languages) with a share of arbitrary Unicode mixed in.

>>> from hypothesis import given
>>> from sfakit.testing import strategies as sfa
>>> @given(sfa.opportunities(pipeline="standard"))
... def test_my_forecast_accepts_every_deal(deal):
...     assert deal.pipeline == "standard"

The entity strategies accept keyword overrides, one per field, each a strategy or a
plain value: ``opportunities(account_id=just("acct_acme"), pipeline="standard")``.
Overridden fields are drawn first and the others are derived from them where a rule ties
them together (``close_date`` is drawn on or after the date of ``created_at``, whatever
that is). When overrides themselves break a rule (say a fixed ``close_date`` before a
random ``created_at``) the example is rejected, so pin both fields in that case.
Unknown field names raise :class:`hypothesis.errors.InvalidArgument` at once.

Datetimes are spread over UTC, fixed offsets and IANA zones. Wall times that are
ambiguous in their zone (the repeated hour when clocks go back) are left out by default:
Python compares such a bare datetime unequal to every datetime in another zone, so a
round trip through ISO text (which keeps the offset, not the zone) would not compare
equal. sfakit's entities convert every datetime to a fixed offset, so they are safe
either way. Pass ``allow_ambiguous=True`` to :func:`aware_datetimes` to include them.

This module needs Hypothesis: ``pip install "sfakit[testing]"``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from functools import cache
from typing import Any, Final, TypeVar
from zoneinfo import ZoneInfo

import attrs
from hypothesis import reject
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from sfakit.errors import ValidationError
from sfakit.model.activities import (
    Activity,
    ActivityKind,
    ActivityStatus,
    Direction,
    Interaction,
)
from sfakit.model.base import Entity
from sfakit.model.currencies import MINOR_UNITS
from sfakit.model.ids import ID_PREFIXES
from sfakit.model.leads import Lead, LeadStatus
from sfakit.model.money import MAX_AMOUNT, Money
from sfakit.model.opportunities import ForecastCategory, Opportunity, StageChange
from sfakit.model.orders import (
    CatchUpPolicy,
    Order,
    OrderLine,
    OrderStatus,
    PaymentMethod,
    PricingPolicy,
    Product,
    RecurrenceSpec,
    StandingOrder,
    StandingOrderStatus,
)
from sfakit.model.parties import Account, Channel, Contact, ContactRole, SalesRep
from sfakit.model.settings import Setting, setting_id
from sfakit.model.territories import Quota, Territory
from sfakit.rules import AllOf, AnyOf, Condition, Criteria, Not, Operator
from sfakit.rules.compiled import ALLOWED_OPS
from sfakit.rules.fields import FieldInfo, FieldKind, FieldType, field_types, resolve_field

__all__ = [
    "accounts",
    "activities",
    "aware_datetimes",
    "conditions",
    "contacts",
    "criteria",
    "currencies",
    "entities",
    "ids",
    "interactions",
    "leads",
    "model_objects",
    "money",
    "opportunities",
    "order_lines",
    "orders",
    "products",
    "quotas",
    "settings",
    "recurrence_specs",
    "sales_reps",
    "stage_changes",
    "standing_orders",
    "territories",
    "value_objects",
]

T = TypeVar("T")
SearchStrategy = st.SearchStrategy

_UTC: Final = UTC
_DEFAULT_MIN: Final = datetime(2000, 1, 1, tzinfo=_UTC)
_DEFAULT_MAX: Final = datetime(2060, 12, 31, 23, 59, 59, tzinfo=_UTC)
# A day's margin at both ends, so that converting to any zone stays within datetime's range.
_EARLIEST: Final = datetime(1, 1, 2, tzinfo=_UTC)
_LATEST: Final = datetime(9999, 12, 30, tzinfo=_UTC)

_FIXED_OFFSETS: Final = tuple(
    timezone(timedelta(minutes=m))
    for m in (
        -12 * 60,
        -8 * 60,
        -(3 * 60 + 30),
        -60,
        60,
        2 * 60,
        5 * 60 + 30,
        5 * 60 + 45,
        9 * 60,
        14 * 60,
    )
)

# --------------------------------------------------------------------------- text pools

_FIRST_NAMES: Final = (
    "Anna",
    "Jürgen",
    "Zoë",
    "José",
    "Łukasz",
    "Søren",
    "Aiko",
    "Chidi",
    "Olga",
    "Priya",
    "María José",
    "Ólafur",
    "Siobhán",
    "Renée",
    "Дмитрий",
    "美咲",
    "محمد",
    "Kwame",
    "Li",
    "Ngozi",
    "François",
    "Gülşen",
    "Mateus",
    "Ingrid",
    "Tomasz",
    "Hélène",
    "Sung-min",
)
_LAST_NAMES: Final = (
    "Müller",
    "Nakamura",
    "Okafor",
    "García Márquez",
    "O'Brien",
    "Østergaard",
    "Smith",
    "Dubois",
    "Kowalczyk",
    "Çelik",
    "Nguyễn",
    "李",
    "Иванова",
    "van der Berg",
    "Åberg",
    "Ó Súilleabháin",
    "Papadopoulos",
    "Schäfer-Grünewald",
    "da Silva",
    "Kim",
    "Al-Farsi",
    "Żółkiewski",
    "Dvořák",
    "Mbeki",
    "田中",
)
_COMPANIES: Final = (
    "Acme Lighting",
    "Brightside Hotels",
    "Müller & Söhne GmbH",
    "Nordlys AS",
    "Société Générale d'Éclairage",
    "北京照明有限公司",
    "Ōsaka Denki K.K.",
    "Café Ünal",
    "Łódź Elektro Sp. z o.o.",
    "Lumière Café",
    "São Paulo Iluminação Ltda.",
    "Hotel Ritz Zürich",
    "Bäckerei Schmidt",
    "Глобал Свет ООО",  # noqa: RUF001 - deliberate non-ASCII
    "Kiwi Electrical Ltd",
    "Tienda La Única",
)
_COMPANY_SUFFIXES: Final = ("GmbH", "Ltd", "S.A.", "K.K.", "AG", "Inc.", "S.à r.l.", "AB", "Oy")
_CITIES: Final = (
    "Berlin",
    "München",
    "Zürich",
    "São Paulo",
    "Kraków",
    "Łódź",
    "Malmö",
    "東京",
    "Lagos",
    "Reykjavík",
    "Montréal",
    "Québec",
    "Москва",
    "Nairobi",
    "Auckland",
    "Córdoba",
    "İstanbul",
)
_REGIONS: Final = (
    "Bayern",
    "Île-de-France",
    "Ontario",
    "Kantō",
    "Catalunya",
    "Mazowieckie",
    "Lagos",
)
_POSTAL_CODES: Final = ("10115", "80331", "8001", "01310-100", "30-001", "SW1A 1AA", "100-0001")
_COUNTRIES: Final = (
    "DE",
    "AT",
    "CH",
    "FR",
    "GB",
    "IE",
    "US",
    "CA",
    "BR",
    "MX",
    "JP",
    "CN",
    "KR",
    "IN",
    "NG",
    "KE",
    "ZA",
    "AU",
    "NZ",
    "SE",
    "NO",
    "DK",
    "FI",
    "IS",
    "PL",
    "CZ",
    "ES",
    "PT",
    "IT",
    "TR",
)
_INDUSTRIES: Final = (
    "hospitality",
    "retail",
    "manufacturing",
    "healthcare",
    "education",
    "logistics",
    "Gastronomie",
    "construcción",
    "建設",
)
_SOURCES: Final = ("web", "trade_show", "referral", "cold_call", "partner", "campaign", "import")
_CAMPAIGNS: Final = (
    "Spring Sale 2026",
    "Light+Building Frankfurt",
    "Newsletter Q3",
    "Webinar: LED-Umrüstung",
)
_TAGS: Final = ("key-account", "b2b", "reseller", "vip", "green", "Großkunde", "nouveau", "重要")
_PRODUCT_LINES: Final = ("led-bulbs", "led-tubes", "fixtures", "smart-lighting", "services")
_PIPELINES: Final = ("standard", "enterprise", "renewals", "partner-channel")
_STAGES: Final = ("prospect", "qualify", "propose", "negotiate", "closed_won", "closed_lost")
_LANGUAGES: Final = ("de", "en", "en-GB", "fr", "ja", "pt-BR", "es", "pl", "zh-Hans", "tr")
_EMAIL_LOCALS: Final = (
    "anna",
    "j.mueller",
    "zoë",
    "josé.garcía",
    "k.nakamura",
    "sales",
    "info",
    "o'brien",
    "einkauf",
    "achats",
    "purchasing+orders",
    "李伟",
)
_EMAIL_DOMAINS: Final = (
    "example.com",
    "beispiel.de",
    "exämple.de",
    "acme.co.uk",
    "例え.jp",
    "empresa.com.br",
)
_SUBJECTS: Final = (
    "Reorder call: 1000 bulbs",
    "Send quote",
    "Site visit – Zürich",  # noqa: RUF001 - deliberate non-ASCII
    "Follow up on Angebot 4711",
    "Demo of smart-lighting",
    "Contract renewal",
    "打ち合わせ",
    "Relance devis n°2026-17",
)
_OUTCOMES: Final = ("reached", "no answer", "left voicemail", "order placed", "call back in May")
_REASONS: Final = ("no budget", "competitor won", "duplicate", "not a fit", "kein Bedarf", "spam")
_PRODUCTS: Final = (
    "LED bulb E27 9W warm white",
    "LED tube T8 120cm",
    "Pendelleuchte Ø40cm",
    "Smart dimmer",
    "Installation service (per hour)",
    "Ampoule LED GU10 5W",
)
_CARRIERS: Final = ("DHL", "UPS", "DPD", "FedEx", "La Poste", "ヤマト運輸")
_TERRITORY_NAMES: Final = (
    "EMEA",
    "DACH Nord",
    "Île-de-France",
    "関東",
    "US West",
    "Nordics",
    "LATAM Sur",
)
_TERRITORY_KEYS: Final = ("emea", "dach-north", "idf", "kanto", "us_west", "nordics", "latam-south")
_RULES: Final = (
    "FREQ=MONTHLY;INTERVAL=2",
    "FREQ=WEEKLY;BYDAY=MO",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH",
    "FREQ=MONTHLY;BYMONTHDAY=-1",
    "FREQ=MONTHLY;BYDAY=1MO",
    "FREQ=YEARLY;COUNT=5",
    "FREQ=DAILY;INTERVAL=14",
)
_WEEKDAYS: Final = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_BRANCHES: Final = ("HQ", "Filiale Nord", "Succursale de Lyon", "支店")
_WEBSITES: Final = ("https://acme.example", "https://müller-söhne.de", "www.example.co.jp")
_CONTACT_TITLES: Final = ("Einkaufsleiter", "Purchasing Agent", "CFO", "Directrice achats")
_LEAD_TITLES: Final = ("Head of Facilities", "Gérant", "Inhaber", "購買部長")
_DEAL_NAMES: Final = (
    "1000 bulbs every two months",
    "Hotel refit - 240 rooms",
    "Relamping Lager Nord",
    "店舗照明の更新",
    "Éclairage entrepôt Lyon",
)
_NEXT_STEPS: Final = ("Send revised quote", "Termin vor Ort", "Call the CFO", "Envoyer l'offre")
_ACTIVITY_NOTES: Final = ("Bring samples", "Kunde wünscht Rückruf", "Préférer le matin", "至急")
_DESCRIPTIONS: Final = ("Warmweiß 2700 K", "Dimmable, 806 lm", "ÉCO", "Ø 40 cm, IP44")
_CROCKFORD: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@cache
def _free_text(max_length: int) -> SearchStrategy[str]:
    """Arbitrary non-blank Unicode (no surrogates) of at most ``max_length`` characters."""
    return st.text(min_size=1, max_size=min(max_length, 30)).filter(str.strip)


@cache
def _text(pool: tuple[str, ...], max_length: int) -> SearchStrategy[str]:
    """Mostly from ``pool``, sometimes arbitrary non-blank Unicode of at most ``max_length``."""
    free = _free_text(max_length)
    realistic = st.sampled_from([p for p in pool if len(p) <= max_length])
    return st.one_of(realistic, realistic, realistic, free)


@cache
def _optional(strategy: SearchStrategy[T]) -> SearchStrategy[T | None]:
    return st.one_of(st.none(), strategy)


@cache
def _full_names() -> SearchStrategy[str]:
    return st.builds(
        lambda first, last: f"{first} {last}",
        st.sampled_from(_FIRST_NAMES),
        st.sampled_from(_LAST_NAMES),
    )


@cache
def _rep_names() -> SearchStrategy[str]:
    return st.one_of(_full_names(), _text(_FIRST_NAMES, 200))


@cache
def _companies() -> SearchStrategy[str]:
    built = st.builds(
        lambda last, suffix: f"{last} {suffix}",
        st.sampled_from(_LAST_NAMES),
        st.sampled_from(_COMPANY_SUFFIXES),
    )
    return st.one_of(st.sampled_from(_COMPANIES), built, _free_text(200))


@cache
def _emails() -> SearchStrategy[str]:
    return st.builds(
        lambda local, n, domain: f"{local}{n if n else ''}@{domain}",
        st.sampled_from(_EMAIL_LOCALS),
        st.integers(0, 99),
        st.sampled_from(_EMAIL_DOMAINS),
    )


@cache
def _phones() -> SearchStrategy[str]:
    return st.builds(
        lambda cc, area, number: f"+{cc} {area} {number}",
        st.sampled_from((1, 33, 41, 44, 49, 55, 81, 234, 354)),
        st.integers(10, 999),
        st.integers(100_000, 99_999_999),
    )


@cache
def _short_tuples(pool: tuple[str, ...], max_length: int) -> SearchStrategy[tuple[str, ...]]:
    return st.lists(_text(pool, max_length), max_size=4).map(tuple)


@cache
def _percentages() -> SearchStrategy[Decimal]:
    return st.integers(0, 10_000).map(lambda n: Decimal(n).scaleb(-2))


# ------------------------------------------------------------------------ basic values


def currencies() -> SearchStrategy[str]:
    """ISO 4217 codes that sfakit accepts (the keys of ``MINOR_UNITS``).

    >>> from hypothesis import given
    >>> from sfakit.model import Money
    >>> @given(currencies())
    ... def test_zero_is_zero(code):
    ...     assert Money.zero(code).is_zero()
    """
    return st.sampled_from(sorted(MINOR_UNITS))


def _to_decimal(value: Decimal | int | str, name: str) -> Decimal:
    if isinstance(value, (float, bool)):
        raise InvalidArgument(f"{name} must be a Decimal, int or numeric string, not {value!r}")
    try:
        result = Decimal(value)
    except ArithmeticError:
        raise InvalidArgument(
            f"{name} must be a Decimal, int or numeric string, not {value!r}"
        ) from None
    if not result.is_finite():
        raise InvalidArgument(f"{name} must be finite, not {value!r}")
    return result


def _currency_strategy(currency: str | SearchStrategy[str] | None) -> SearchStrategy[str]:
    if currency is None:
        return currencies()
    if isinstance(currency, SearchStrategy):
        return currency
    if currency not in MINOR_UNITS:
        raise InvalidArgument(f"unknown currency {currency!r}")
    return st.just(currency)


def money(
    currency: str | SearchStrategy[str] | None = None,
    min_amount: Decimal | int | str | None = None,
    max_amount: Decimal | int | str | None = None,
) -> SearchStrategy[Money]:
    """:class:`~sfakit.model.Money` amounts, already at the currency's minor units.

    ``currency`` is a code, a strategy of codes, or None for any currency. The bounds
    are inclusive and default to the largest range Money accepts (``|amount| <
    MAX_AMOUNT``).

    >>> from hypothesis import given
    >>> @given(money("EUR", min_amount=0, max_amount="999.99"))
    ... def test_price_fits_the_label(price):
    ...     assert len(f"{price.amount:.2f}") <= 6
    """
    lo = None if min_amount is None else _to_decimal(min_amount, "min_amount")
    hi = None if max_amount is None else _to_decimal(max_amount, "max_amount")
    if lo is not None and hi is not None and lo > hi:
        raise InvalidArgument(f"min_amount {lo} is greater than max_amount {hi}")

    def in_currency(code: str) -> SearchStrategy[Money]:
        digits = MINOR_UNITS[code]
        scale = 10**digits
        largest = int(MAX_AMOUNT) * scale - 1  # |amount| < MAX_AMOUNT, in minor units
        lo_units = -largest if lo is None else max(-largest, _ceil(lo * scale))
        hi_units = largest if hi is None else min(largest, _floor(hi * scale))
        if lo_units > hi_units:
            return st.nothing()
        return st.integers(lo_units, hi_units).map(
            lambda units: Money(Decimal(units).scaleb(-digits), code)
        )

    if isinstance(currency, str):
        _currency_strategy(currency)  # refuses an unknown code now, not at draw time
        return in_currency(currency)
    return _currency_strategy(currency).flatmap(in_currency)


def _floor(value: Decimal) -> int:
    return int(value.to_integral_value(rounding="ROUND_FLOOR"))


def _ceil(value: Decimal) -> int:
    return int(value.to_integral_value(rounding="ROUND_CEILING"))


def _unambiguous(moment: datetime) -> bool:
    return moment.replace(fold=1 - moment.fold).utcoffset() == moment.utcoffset()


@cache
def _timezone_keys() -> SearchStrategy[str]:
    # Built once: validating a timezone strategy scans the zone database.
    return st.timezone_keys()


@cache
def _zones() -> SearchStrategy[tzinfo]:
    return st.one_of(st.just(_UTC), st.sampled_from(_FIXED_OFFSETS), st.timezones())


def _as_utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidArgument(f"{name} must be a datetime, not {value!r}")
    moment = value.replace(tzinfo=_UTC) if value.utcoffset() is None else value.astimezone(_UTC)
    return min(max(moment, _EARLIEST), _LATEST)


def _place(naive_utc: datetime, zone: tzinfo) -> datetime:
    return naive_utc.replace(tzinfo=_UTC).astimezone(zone)


def aware_datetimes(
    min_value: datetime | None = None,
    max_value: datetime | None = None,
    *,
    timezones: SearchStrategy[tzinfo] | None = None,
    allow_ambiguous: bool = False,
) -> SearchStrategy[datetime]:
    """Timezone-aware datetimes between two instants, in UTC, fixed offsets or IANA zones.

    The bounds are instants (inclusive); naive bounds are taken as UTC. They default
    to 2000-01-01 and 2060-12-31 UTC. ``timezones`` replaces the mix of zones (for
    example ``just(ZoneInfo("Europe/Berlin"))``). Ambiguous wall times are left out
    unless ``allow_ambiguous`` (see the module docstring).

    >>> from datetime import datetime, timezone
    >>> from hypothesis import given
    >>> @given(aware_datetimes(min_value=datetime(2026, 1, 1, tzinfo=timezone.utc)))
    ... def test_after_new_year(moment):
    ...     assert moment.utcoffset() is not None
    ...     assert moment >= datetime(2026, 1, 1, tzinfo=timezone.utc)
    """
    lo = _as_utc(min_value if min_value is not None else _DEFAULT_MIN, "min_value")
    hi = _as_utc(max_value if max_value is not None else _DEFAULT_MAX, "max_value")
    if lo > hi:
        raise InvalidArgument(f"min_value {lo} is after max_value {hi}")
    result = st.builds(
        _place,
        st.datetimes(lo.replace(tzinfo=None), hi.replace(tzinfo=None)),
        timezones if timezones is not None else _zones(),
    )
    return result if allow_ambiguous else result.filter(_unambiguous)


Drawer = Callable[[st.DrawFn], T]


def _later(base: datetime, max_delta: timedelta = timedelta(days=400)) -> Drawer[datetime]:
    """Draws a moment from ``base`` to ``base + max_delta``, usually in ``base``'s zone.

    Computed in UTC (wall-clock arithmetic in a zone with DST could go backwards).
    """

    def draw_later(draw: st.DrawFn) -> datetime:
        start = base.astimezone(_UTC)
        limit = max(0, int((min(start + max_delta, _LATEST) - start).total_seconds()))
        delta = draw(st.integers(0, limit)) if draw(st.booleans()) else 0  # shrinks to 0
        other_zone = draw(st.booleans())
        zone = draw(_zones()) if other_zone or base.tzinfo is None else base.tzinfo
        moment = (start + timedelta(seconds=delta)).astimezone(zone)
        return moment if _unambiguous(moment) else moment.astimezone(_UTC)

    return draw_later


def _earlier(base: datetime, max_delta: timedelta = timedelta(days=30)) -> Drawer[datetime]:
    """Draws a moment from ``base - max_delta`` to ``base``, in ``base``'s zone."""

    def draw_earlier(draw: st.DrawFn) -> datetime:
        end = base.astimezone(_UTC)
        limit = max(0, int((end - max(end - max_delta, _EARLIEST)).total_seconds()))
        delta = draw(st.integers(0, limit)) if draw(st.booleans()) else 0  # shrinks to 0
        moment = (end - timedelta(seconds=delta)).astimezone(base.tzinfo)
        return moment if _unambiguous(moment) else moment.astimezone(_UTC)

    return draw_earlier


def _maybe(drawer: Drawer[T]) -> Drawer[T | None]:
    """``drawer`` or None (shrinking towards None)."""
    return lambda draw: drawer(draw) if draw(st.booleans()) else None


def _days_after(day: date, max_days: int) -> Drawer[date]:
    return lambda draw: day + timedelta(days=draw(st.integers(0, max_days)))


def _optional_other_than(strategy: SearchStrategy[T], excluded: object) -> Drawer[T | None]:
    """An optional value that is never ``excluded`` (an entity's own id, say)."""

    def draw_other(draw: st.DrawFn) -> T | None:
        value = draw(_optional(strategy))
        return None if value == excluded else value

    return draw_other


# ------------------------------------------------------------------------------- ids


def _ulid(ms: int, randomness: int) -> str:
    value = (ms << 80) | randomness
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


_ULID_BODIES: Final = st.builds(_ulid, st.integers(0, 2**48 - 1), st.integers(0, 2**80 - 1))
_IMPORTED_BODIES: Final = st.one_of(
    st.builds(lambda n: f"SF-{n:04d}", st.integers(0, 99_999)),
    st.from_regex(r"[0-9A-Za-z][0-9A-Za-z_.\-]{0,63}", fullmatch=True),
)
_ID_BODIES: Final = st.one_of(_ULID_BODIES, _ULID_BODIES, _ULID_BODIES, _IMPORTED_BODIES)


@cache
def ids(kind: str) -> SearchStrategy[str]:
    """Valid ids of one entity kind: ``ids("Account")`` (or by prefix, ``ids("acct")``).

    Mostly generated-style ids (prefix, ``_`` and a 26-character ULID), sometimes ids
    imported from another system (``acct_SF-0012``), which sfakit accepts too. The
    result is a plain ``str``; cast it to the NewType (``AccountId``) if mypy asks.

    >>> from hypothesis import given
    >>> @given(ids("Opportunity"))
    ... def test_is_an_opportunity_id(opp_id):
    ...     assert opp_id.startswith("opp_")
    """
    if kind in ID_PREFIXES:
        prefix = ID_PREFIXES[kind]
    elif kind in ID_PREFIXES.values():
        prefix = kind
    else:
        raise InvalidArgument(
            f"unknown entity kind {kind!r}; use one of {', '.join(sorted(ID_PREFIXES))}"
        )
    return _ID_BODIES.map(lambda body: f"{prefix}_{body}")


_ANY_ID: Final = st.builds(
    lambda prefix, body: f"{prefix}_{body}",
    st.sampled_from(sorted(ID_PREFIXES.values())),
    _ID_BODIES,
)

# ------------------------------------------------------------------------ entities


Overrides = Mapping[str, SearchStrategy[Any]]


def _overrides(cls: type, given: Mapping[str, Any]) -> dict[str, SearchStrategy[Any]]:
    names = {a.name for a in attrs.fields(cls)}
    unknown = sorted(set(given) - names)
    if unknown:
        raise InvalidArgument(
            f"{cls.__name__} has no field {', '.join(unknown)}; its fields are: "
            + ", ".join(a.name for a in attrs.fields(cls))
        )
    return {k: v if isinstance(v, SearchStrategy) else st.just(v) for k, v in given.items()}


@cache
def _tuples(
    element: SearchStrategy[T], max_size: int, *, min_size: int = 0, unique: bool = False
) -> SearchStrategy[tuple[T, ...]]:
    return st.lists(element, min_size=min_size, max_size=max_size, unique=unique).map(tuple)


class _Fields:
    """Draws each field from its override if there is one, else from the default.

    A default is a strategy or a function of ``draw`` (for values that depend on fields
    drawn before). Defaults are built from cached strategies: building new strategy
    objects for every example would cost more than drawing from them.
    """

    __slots__ = ("_draw", "_overrides", "values")

    def __init__(self, draw: st.DrawFn, overrides: Overrides) -> None:
        self._draw = draw
        self._overrides = overrides
        self.values: dict[str, Any] = {}

    def __call__(self, name: str, default: SearchStrategy[T] | Drawer[T]) -> T:
        value: T
        if name in self._overrides:
            value = self._draw(self._overrides[name])
        elif isinstance(default, SearchStrategy):
            value = self._draw(default)
        else:
            value = default(self._draw)
        self.values[name] = value
        return value

    def stamps(self) -> datetime:
        """``created_at``, ``updated_at`` (not before it) and ``version``; returns created_at."""
        created_at: datetime = self("created_at", aware_datetimes())
        self("updated_at", _later(created_at))
        self("version", st.integers(0, 1000))
        return created_at

    def build(self, cls: Callable[..., T]) -> T:
        try:
            return cls(**self.values)
        except ValidationError:
            if self._overrides:
                reject()  # the overrides contradict a cross-field rule
            raise


_NONE: Final = st.none()


@st.composite
def _accounts(draw: st.DrawFn, overrides: Overrides) -> Account:
    f = _Fields(draw, overrides)
    f.stamps()
    own_id = f("id", ids("Account"))
    f("name", _companies())
    f("owner_id", _optional(ids("SalesRep")))
    f("territory_id", _optional(ids("Territory")))
    f("territory_key", _optional(_TERRITORY_KEY_STRATEGY))
    f("routing_pinned", st.booleans())
    f("parent_id", _optional_other_than(ids("Account"), own_id))
    f("industry", _optional(_text(_INDUSTRIES, 200)))
    f("branch", _optional(_text(_BRANCHES, 200)))
    f("billing_country", _optional(st.sampled_from(_COUNTRIES)))
    f("billing_region", _optional(_text(_REGIONS, 200)))
    f("billing_postal_code", _optional(_text(_POSTAL_CODES, 20)))
    f("billing_city", _optional(_text(_CITIES, 200)))
    f("website", _optional(st.sampled_from(_WEBSITES)))
    f("employee_count", _optional(st.integers(0, 500_000)))
    f("annual_revenue", _optional(money(min_amount=0, max_amount=10**12)))
    f("tags", _short_tuples(_TAGS, 100))
    return f.build(Account)


def accounts(**overrides: Any) -> SearchStrategy[Account]:
    """Valid :class:`~sfakit.model.Account` objects; keyword arguments override fields.

    >>> from hypothesis import given, strategies as st
    >>> @given(accounts(billing_country=st.sampled_from(["DE", "AT", "CH"])))
    ... def test_dach_accounts_route_to_dach(account):
    ...     assert account.billing_country in {"DE", "AT", "CH"}
    """
    return _accounts(_overrides(Account, overrides))


@st.composite
def _contacts(draw: st.DrawFn, overrides: Overrides) -> Contact:
    f = _Fields(draw, overrides)
    f.stamps()
    f("id", ids("Contact"))
    f("account_id", _optional(ids("Account")))
    f("first_name", _optional(_text(_FIRST_NAMES, 200)))
    f("last_name", _text(_LAST_NAMES, 200))
    f("title", _optional(_text(_CONTACT_TITLES, 200)))
    f("roles", _tuples(st.sampled_from(ContactRole), 3, unique=True))
    f("emails", _tuples(_emails(), 3, unique=True))
    f("phones", _tuples(_phones(), 2))
    f("preferred_channel", _optional(st.sampled_from(Channel)))
    f("timezone", _optional(_timezone_keys()))
    f("language", _optional(st.sampled_from(_LANGUAGES)))
    f("owner_id", _optional(ids("SalesRep")))
    f("do_not_contact", st.booleans())
    return f.build(Contact)


def contacts(**overrides: Any) -> SearchStrategy[Contact]:
    """Valid :class:`~sfakit.model.Contact` objects; keyword arguments override fields.

    >>> from hypothesis import given
    >>> @given(contacts(do_not_contact=True))
    ... def test_no_mailing_to_opted_out(contact):
    ...     assert contact.do_not_contact
    """
    return _contacts(_overrides(Contact, overrides))


@st.composite
def _sales_reps(draw: st.DrawFn, overrides: Overrides) -> SalesRep:
    f = _Fields(draw, overrides)
    created_at = f.stamps()
    own_id = f("id", ids("SalesRep"))
    f("name", _rep_names())
    f("email", _optional(_emails()))
    f("manager_id", _optional_other_than(ids("SalesRep"), own_id))
    f("active", st.booleans())
    f("capacity", _optional(st.integers(0, 500)))
    f("skills", _short_tuples(_PRODUCT_LINES, 100))
    f("languages", _tuples(st.sampled_from(_LANGUAGES), 3, unique=True))
    f("timezone", _optional(_timezone_keys()))
    f("out_of_office_until", _maybe(_days_after(created_at.date(), 60)))
    return f.build(SalesRep)


def sales_reps(**overrides: Any) -> SearchStrategy[SalesRep]:
    """Valid :class:`~sfakit.model.SalesRep` objects; keyword arguments override fields.

    >>> from hypothesis import given
    >>> @given(sales_reps(active=True, capacity=None))
    ... def test_active_reps_without_limit_can_take_leads(rep):
    ...     assert rep.active and rep.capacity is None
    """
    return _sales_reps(_overrides(SalesRep, overrides))


@st.composite
def _leads(draw: st.DrawFn, overrides: Overrides) -> Lead:
    f = _Fields(draw, overrides)
    created_at = f.stamps()
    f("id", ids("Lead"))
    status = f("status", st.sampled_from(LeadStatus))
    f("source", _optional(_text(_SOURCES, 200)))
    f("campaign", _optional(_text(_CAMPAIGNS, 200)))
    f("first_name", _optional(_text(_FIRST_NAMES, 200)))
    last_name = f("last_name", _optional(_text(_LAST_NAMES, 200)))
    company = f("company", _optional(_companies()))
    email = f("email", _optional(_emails()))
    # At least one of last_name, company, email or phone identifies the lead.
    identified = bool(last_name or company or email)
    f("phone", _optional(_phones()) if identified else _phones())
    f("title", _optional(_text(_LEAD_TITLES, 200)))
    f("country", _optional(st.sampled_from(_COUNTRIES)))
    f("region", _optional(_text(_REGIONS, 200)))
    f("postal_code", _optional(_text(_POSTAL_CODES, 20)))
    f("city", _optional(_text(_CITIES, 200)))
    f("industry", _optional(_text(_INDUSTRIES, 200)))
    f("company_size", _optional(st.integers(0, 100_000)))
    f("product_interest", _short_tuples(_PRODUCT_LINES, 100))
    f("language", _optional(st.sampled_from(_LANGUAGES)))
    f("owner_id", _optional(ids("SalesRep")))
    f("territory_id", _optional(ids("Territory")))
    f("territory_key", _optional(_TERRITORY_KEY_STRATEGY))
    f("routing_pinned", st.booleans())
    f("queue", _optional(st.sampled_from(("review", "unassigned", "inbox"))))
    disqualified = status is LeadStatus.DISQUALIFIED
    f("disqualification_reason", _text(_REASONS, 200) if disqualified else _NONE)
    converted = status is LeadStatus.CONVERTED
    f("converted_at", _later(created_at) if converted else _NONE)
    f("converted_account_id", ids("Account") if converted else _NONE)
    f("converted_contact_id", _optional(ids("Contact")) if converted else _NONE)
    f("converted_opportunity_id", _optional(ids("Opportunity")) if converted else _NONE)
    return f.build(Lead)


def leads(**overrides: Any) -> SearchStrategy[Lead]:
    """Valid :class:`~sfakit.model.Lead` objects in every status; keyword arguments override fields.

    A disqualified lead has a reason, a converted one its account and time, and each
    has at least one of last name, company, email or phone.

    >>> from hypothesis import given
    >>> from sfakit.model import LeadStatus
    >>> @given(leads(status=LeadStatus.CONVERTED))
    ... def test_converted_leads_name_their_account(lead):
    ...     assert lead.converted_account_id is not None
    """
    return _leads(_overrides(Lead, overrides))


_CLOSED_STAGES: Final = frozenset({"closed_won", "closed_lost"})


@st.composite
def _opportunities(draw: st.DrawFn, overrides: Overrides) -> Opportunity:
    f = _Fields(draw, overrides)
    created_at = f.stamps()
    f("id", ids("Opportunity"))
    f("name", _text(_DEAL_NAMES, 200))
    f("account_id", ids("Account"))
    f("pipeline", _text(_PIPELINES, 100))
    stage = f("stage", _text(_STAGES, 100))
    f("amount", _optional(money(min_amount=0, max_amount=10**9)))
    f("close_date", _maybe(_days_after(created_at.date(), 730)))
    f("owner_id", _optional(ids("SalesRep")))
    f("territory_id", _optional(ids("Territory")))
    f("primary_contact_id", _optional(ids("Contact")))
    f("source", _optional(_text(_SOURCES, 200)))
    f("product_line", _optional(_text(_PRODUCT_LINES, 200)))
    f("probability_override", _optional(_percentages()))
    f("forecast_category_override", _optional(st.sampled_from(ForecastCategory)))
    f("next_step", _optional(_text(_NEXT_STEPS, 500)))
    f("lost_reason", _text(_REASONS, 200) if stage == "closed_lost" else _NONE)
    f("closed_at", _later(created_at) if stage in _CLOSED_STAGES else _NONE)
    return f.build(Opportunity)


def opportunities(**overrides: Any) -> SearchStrategy[Opportunity]:
    """Valid :class:`~sfakit.model.Opportunity` objects; keyword arguments override fields.

    ``close_date`` is on or after the creation date and ``closed_at`` (set for the
    ``closed_won`` / ``closed_lost`` stages) after ``created_at``.

    >>> from hypothesis import given, strategies as st
    >>> @given(opportunities(pipeline=st.just("standard"), account_id="acct_acme"))
    ... def test_deals_of_acme(deal):
    ...     assert deal.account_id == "acct_acme"
    """
    return _opportunities(_overrides(Opportunity, overrides))


@st.composite
def _stage_changes(draw: st.DrawFn, overrides: Overrides) -> StageChange:
    f = _Fields(draw, overrides)
    created_at = f.stamps()
    f("id", ids("StageChange"))
    f("opportunity_id", ids("Opportunity"))
    f("pipeline", _text(_PIPELINES, 100))
    to_stage = f("to_stage", _text(_STAGES, 100))
    f("from_stage", _optional_other_than(_text(_STAGES, 100), to_stage))
    f("at", _earlier(created_at, timedelta(minutes=5)))
    f("by", _optional(st.one_of(ids("SalesRep"), _full_names(), st.just("system"))))
    f("reason", _optional(_text(_REASONS, 500)))
    f("amount", _optional(money(min_amount=0, max_amount=10**9)))
    f("probability", _optional(_percentages()))
    return f.build(StageChange)


def stage_changes(**overrides: Any) -> SearchStrategy[StageChange]:
    """Valid :class:`~sfakit.model.StageChange` entries (``from_stage`` never equals ``to_stage``).

    >>> from hypothesis import given
    >>> @given(stage_changes(from_stage=None))
    ... def test_first_entries(change):
    ...     assert change.from_stage is None
    """
    return _stage_changes(_overrides(StageChange, overrides))


@st.composite
def _activities(draw: st.DrawFn, overrides: Overrides) -> Activity:
    f = _Fields(draw, overrides)
    created_at = f.stamps()
    f("kind", st.sampled_from(ActivityKind))
    f("id", ids("Activity"))
    f("subject", _text(_SUBJECTS, 300))
    f("owner_id", ids("SalesRep"))
    status = f("status", st.sampled_from(ActivityStatus))
    due_at = f("due_at", _maybe(_later(created_at)))
    f("reminder_at", _maybe(_earlier(due_at, timedelta(days=7)) if due_at else _later(created_at)))
    f("account_id", _optional(ids("Account")))
    f("contact_id", _optional(ids("Contact")))
    f("related_to", _optional(_ANY_ID))
    done = status is ActivityStatus.DONE
    f("completed_at", _later(created_at) if done else _NONE)
    f("outcome", _text(_OUTCOMES, 300) if done else _NONE)
    f("notes", _optional(_text(_ACTIVITY_NOTES, 5000)))
    return f.build(Activity)


def activities(**overrides: Any) -> SearchStrategy[Activity]:
    """Valid :class:`~sfakit.model.Activity` objects; keyword arguments override fields.

    Done activities have ``completed_at`` (others do not) and ``reminder_at`` is never
    after ``due_at``.

    >>> from hypothesis import given
    >>> from sfakit.model import ActivityStatus
    >>> @given(activities(status=ActivityStatus.OPEN))
    ... def test_open_activities_are_not_completed(activity):
    ...     assert activity.completed_at is None
    """
    return _activities(_overrides(Activity, overrides))


@st.composite
def _interactions(draw: st.DrawFn, overrides: Overrides) -> Interaction:
    f = _Fields(draw, overrides)
    created_at = f.stamps()
    f("id", ids("Interaction"))
    f("channel", st.sampled_from(Channel))
    f("direction", st.sampled_from(Direction))
    f("occurred_at", _earlier(created_at))
    contact_id = f("contact_id", _optional(ids("Contact")))
    f("account_id", ids("Account") if contact_id is None else _optional(ids("Account")))
    f("by", _optional(ids("SalesRep")))
    f("summary", _text(_SUBJECTS, 300))
    f("outcome", _optional(_text(_OUTCOMES, 300)))
    f("notes", _optional(_text(_ACTIVITY_NOTES, 5000)))
    f("related_to", _optional(_ANY_ID))
    return f.build(Interaction)


def interactions(**overrides: Any) -> SearchStrategy[Interaction]:
    """Valid :class:`~sfakit.model.Interaction` objects (each with a contact, an account or both).

    >>> from hypothesis import given
    >>> @given(interactions(account_id="acct_acme"))
    ... def test_timeline_of_acme(interaction):
    ...     assert interaction.account_id == "acct_acme"
    """
    return _interactions(_overrides(Interaction, overrides))


_SKUS: Final = st.builds(
    "{}-{:05d}".format, st.sampled_from(("LED", "TUBE", "FIX", "SVC")), st.integers(0, 99_999)
)


@st.composite
def _products(draw: st.DrawFn, overrides: Overrides) -> Product:
    f = _Fields(draw, overrides)
    f.stamps()
    f("id", ids("Product"))
    f("sku", _SKUS)
    f("name", _text(_PRODUCTS, 200))
    f("unit_price", money(min_amount=0, max_amount=100_000))
    f("product_line", _optional(_text(_PRODUCT_LINES, 200)))
    f("active", st.booleans())
    f("description", _optional(_text(_DESCRIPTIONS, 2000)))
    return f.build(Product)


def products(**overrides: Any) -> SearchStrategy[Product]:
    """Valid :class:`~sfakit.model.Product` objects with a non-negative list price.

    >>> from hypothesis import given
    >>> @given(products(unit_price=money("EUR", 0, 100)))
    ... def test_cheap_products_in_euro(product):
    ...     assert product.unit_price.currency == "EUR"
    """
    return _products(_overrides(Product, overrides))


@cache
def _quantities() -> SearchStrategy[Decimal]:
    return st.one_of(
        st.integers(1, 100_000).map(Decimal),
        st.integers(1, 10_000_000).map(lambda n: Decimal(n).scaleb(-3)),
    )


@cache
def _order_lines(currency: str | None) -> SearchStrategy[OrderLine]:
    return st.builds(
        OrderLine,
        product_id=ids("Product"),
        quantity=_quantities(),
        unit_price=money(currency, min_amount=0, max_amount=100_000),
        description=_optional(_text(_PRODUCTS, 500)),
    )


def order_lines(currency: str | SearchStrategy[str] | None = None) -> SearchStrategy[OrderLine]:
    """Valid :class:`~sfakit.model.OrderLine` values priced in ``currency`` (any if None).

    >>> from hypothesis import given
    >>> @given(order_lines(currency="JPY"))
    ... def test_yen_lines_have_whole_totals(line):
    ...     assert line.total.amount == line.total.amount.to_integral_value()
    """
    if isinstance(currency, SearchStrategy):
        return currency.flatmap(_order_lines)
    _currency_strategy(currency)  # refuses an unknown code now
    return _order_lines(currency)


_PLACED: Final = frozenset(OrderStatus) - {OrderStatus.DRAFT}
_SHIPPED: Final = frozenset({OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.RETURNED})
_DELIVERED: Final = frozenset({OrderStatus.DELIVERED, OrderStatus.RETURNED})
_CONFIRMATIONS: Final = st.builds("SO-{:06d}".format, st.integers(1, 999_999))
_TRACKING: Final = _optional(st.from_regex(r"[0-9A-Z]{10,20}", fullmatch=True))


@st.composite
def _orders(draw: st.DrawFn, overrides: Overrides) -> Order:
    f = _Fields(draw, overrides)
    created_at = f.stamps()
    f("id", ids("Order"))
    f("account_id", ids("Account"))
    f("contact_id", _optional(ids("Contact")))
    currency = f("currency", currencies())
    f("lines", _tuples(_order_lines(currency), 5))
    status = f("status", st.sampled_from(OrderStatus))
    f("payment_method", st.sampled_from(PaymentMethod))
    placed, shipped = status in _PLACED, status in _SHIPPED
    f("confirmation_number", _CONFIRMATIONS if placed else _NONE)
    f("owner_id", _optional(ids("SalesRep")))
    placed_at = f("placed_at", _later(created_at, timedelta(days=30)) if placed else _NONE)
    after_placing = placed_at or created_at
    shipped_at = f("shipped_at", _later(after_placing, timedelta(days=14)) if shipped else _NONE)
    after_shipping = shipped_at or after_placing
    delivered = status in _DELIVERED
    f("delivered_at", _later(after_shipping, timedelta(days=10)) if delivered else _NONE)
    f("carrier", _text(_CARRIERS, 200) if shipped else _NONE)
    f("tracking_number", _TRACKING if shipped else _NONE)
    standing = f("standing_order_id", _optional(ids("StandingOrder")))
    key = f"{standing}@{created_at.date().isoformat()}"
    f("occurrence_key", st.just(key) if standing else _NONE)
    return f.build(Order)


def orders(**overrides: Any) -> SearchStrategy[Order]:
    """Valid :class:`~sfakit.model.Order` objects: 0-5 lines, all in the order's currency.

    Timestamps follow the status (a shipped order has ``placed_at <= shipped_at``).

    >>> from hypothesis import given
    >>> @given(orders(currency="EUR"))
    ... def test_totals_are_in_euro(order):
    ...     assert order.total.currency == "EUR"
    """
    return _orders(_overrides(Order, overrides))


@cache
def _rules() -> SearchStrategy[str]:
    def build(freq: str, interval: int, byday: list[str], count: int | None) -> str:
        parts = [f"FREQ={freq}"]
        if interval > 1:
            parts.append(f"INTERVAL={interval}")
        if byday and freq in ("WEEKLY", "MONTHLY"):
            parts.append("BYDAY=" + ",".join(byday))
        if count is not None:
            parts.append(f"COUNT={count}")
        return ";".join(parts)

    built = st.builds(
        build,
        st.sampled_from(("DAILY", "WEEKLY", "MONTHLY", "YEARLY")),
        st.integers(1, 12),
        st.lists(st.sampled_from(_WEEKDAYS), max_size=3, unique=True),
        _optional(st.integers(1, 50)),
    )
    return st.one_of(st.sampled_from(_RULES), built)


@st.composite
def _recurrence_specs(draw: st.DrawFn) -> RecurrenceSpec:
    name = draw(_timezone_keys())
    moment = draw(aware_datetimes(timezones=st.just(_UTC)))
    start = moment.astimezone(ZoneInfo(name))
    while not _unambiguous(start):  # see the module docstring
        moment += timedelta(hours=1)
        start = moment.astimezone(ZoneInfo(name))
    return RecurrenceSpec(rule=draw(_rules()), start=start, timezone=name)


def recurrence_specs() -> SearchStrategy[RecurrenceSpec]:
    """Valid :class:`~sfakit.model.RecurrenceSpec` values: an RRULE, a start in an IANA zone.

    ``start`` is expressed in the spec's own ``timezone``.

    >>> from hypothesis import given
    >>> @given(recurrence_specs())
    ... def test_rules_have_a_frequency(spec):
    ...     assert spec.rule.startswith("FREQ=")
    """
    return _recurrence_specs()


@st.composite
def _standing_orders(draw: st.DrawFn, overrides: Overrides) -> StandingOrder:
    f = _Fields(draw, overrides)
    created_at = f.stamps()
    f("id", ids("StandingOrder"))
    f("account_id", ids("Account"))
    f("contact_id", _optional(ids("Contact")))
    currency = f("currency", currencies())
    f("lines", _tuples(_order_lines(currency), 4, min_size=1))
    f("schedule", recurrence_specs())
    f("status", st.sampled_from(StandingOrderStatus))
    f("pricing", st.sampled_from(PricingPolicy))
    f("catch_up", st.sampled_from(CatchUpPolicy))
    f("payment_method", st.sampled_from(PaymentMethod))
    f("ends_on", _maybe(_days_after(created_at.date(), 3 * 365)))
    f("owner_id", _optional(ids("SalesRep")))
    return f.build(StandingOrder)


def standing_orders(**overrides: Any) -> SearchStrategy[StandingOrder]:
    """Valid :class:`~sfakit.model.StandingOrder` objects: 1-4 lines in the order's currency.

    >>> from hypothesis import given
    >>> from sfakit.model import StandingOrderStatus
    >>> @given(standing_orders(status=StandingOrderStatus.ACTIVE))
    ... def test_active_standing_orders_have_lines(standing):
    ...     assert standing.lines
    """
    return _standing_orders(_overrides(StandingOrder, overrides))


_TERRITORY_KEY_STRATEGY: Final = st.one_of(
    st.sampled_from(_TERRITORY_KEYS),
    st.from_regex(r"[a-z0-9][a-z0-9_\-]{0,20}", fullmatch=True),
)


@st.composite
def _territories(draw: st.DrawFn, overrides: Overrides) -> Territory:
    f = _Fields(draw, overrides)
    f.stamps()
    own_id = f("id", ids("Territory"))
    f("key", _TERRITORY_KEY_STRATEGY)
    f("name", _text(_TERRITORY_NAMES, 200))
    f("parent_id", _optional_other_than(ids("Territory"), own_id))
    f("priority", st.integers(-100, 100))
    f("member_ids", _tuples(ids("SalesRep"), 5, unique=True))
    return f.build(Territory)


def territories(**overrides: Any) -> SearchStrategy[Territory]:
    """Valid :class:`~sfakit.model.Territory` nodes (unique members, never their own parent).

    >>> from hypothesis import given
    >>> @given(territories(parent_id=None))
    ... def test_roots(territory):
    ...     assert territory.parent_id is None
    """
    return _territories(_overrides(Territory, overrides))


@cache
def _periods() -> SearchStrategy[str]:
    suffixes = st.one_of(
        st.just(""),
        st.integers(1, 4).map("-Q{}".format),
        st.integers(1, 12).map("-M{:02d}".format),
        st.integers(1, 53).map("-W{:02d}".format),
    )
    return st.builds("FY{}{}".format, st.integers(2000, 2099), suffixes)


@st.composite
def _quotas(draw: st.DrawFn, overrides: Overrides) -> Quota:
    f = _Fields(draw, overrides)
    f.stamps()
    f("id", ids("Quota"))
    f("period", _periods())
    f("amount", money(min_amount=0, max_amount=10**10))
    rep = f("sales_rep_id", _optional(ids("SalesRep")))
    f("territory_id", ids("Territory") if rep is None else _NONE)
    return f.build(Quota)


def quotas(**overrides: Any) -> SearchStrategy[Quota]:
    """Valid :class:`~sfakit.model.Quota` objects: for a rep or a territory, never both.

    >>> from hypothesis import given
    >>> @given(quotas(period="FY2027-Q1"))
    ... def test_first_quarter(quota):
    ...     assert quota.period == "FY2027-Q1"
    """
    return _quotas(_overrides(Quota, overrides))


@st.composite
def _settings(draw: st.DrawFn, overrides: Overrides) -> Setting:
    f = _Fields(draw, overrides)
    f.stamps()
    name = f("name", _TERRITORY_KEY_STRATEGY)
    f("id", st.just(setting_id(name)))
    f("kind", st.sampled_from(["TerritoryTree", "AssignmentState", "Scorecard"]))
    f(
        "data",
        st.builds(json.dumps, st.dictionaries(_TERRITORY_KEY_STRATEGY, st.integers(), max_size=3)),
    )
    return f.build(Setting)


def settings(**overrides: Any) -> SearchStrategy[Setting]:
    """Valid :class:`~sfakit.model.Setting` objects (their data some JSON object).

    >>> from hypothesis import given
    >>> @given(settings(kind="Scorecard"))
    ... def test_found_by_name(setting):
    ...     assert setting.id == "cfg_" + setting.name
    """
    return _settings(_overrides(Setting, overrides))


# --------------------------------------------------------------------------- unions


def entities() -> SearchStrategy[Entity]:
    """Any stored entity: one of every strategy above for an :class:`~sfakit.model.Entity`.

    >>> from hypothesis import given
    >>> @given(entities())
    ... def test_every_entity_has_an_id(entity):
    ...     assert "_" in entity.id
    """
    return st.one_of(
        accounts(),
        contacts(),
        leads(),
        opportunities(),
        stage_changes(),
        activities(),
        interactions(),
        products(),
        orders(),
        standing_orders(),
        territories(),
        sales_reps(),
        quotas(),
        settings(),
    )


def value_objects() -> SearchStrategy[Money | OrderLine | RecurrenceSpec]:
    """Any value object: :class:`Money`, :class:`OrderLine` or :class:`RecurrenceSpec`.

    >>> from hypothesis import given
    >>> @given(value_objects())
    ... def test_hashable(value):
    ...     assert hash(value) == hash(value)
    """
    return st.one_of(money(), order_lines(), recurrence_specs())


def model_objects() -> SearchStrategy[Any]:
    """Any entity or value object: ``entities() | value_objects()``.

    >>> from hypothesis import given
    >>> from sfakit.codec import from_data, to_data
    >>> @given(model_objects())
    ... def test_round_trip(obj):
    ...     assert from_data(type(obj), to_data(obj)) == obj
    """
    return st.one_of(entities(), value_objects())


# --- rules DSL strategies ---

_ORDERABLE_OPS: Final = (Operator.LT, Operator.LE, Operator.GT, Operator.GE)


def _field_paths(subject_type: type, depth: int = 2) -> list[FieldInfo]:
    """Every testable field path of ``subject_type``, walking into nested attrs classes."""
    found: list[FieldInfo] = []
    for name in field_types(subject_type):
        try:
            info = resolve_field(subject_type, name)
        except ValidationError:
            continue  # a field of a type criteria cannot test
        found.append(info)
        if info.type.kind is FieldKind.OBJECT and depth > 1:
            for inner in _field_paths(info.type.py_type, depth - 1):
                try:
                    found.append(resolve_field(subject_type, f"{name}.{inner.path}"))
                except ValidationError:
                    continue
    return found


def _values_of(ftype: FieldType) -> SearchStrategy[Any]:
    kind, py_type = ftype.kind, ftype.py_type
    if kind is FieldKind.NUMBER:
        if py_type is int:
            return st.integers(-(10**6), 10**6)
        return st.decimals(min_value=-(10**6), max_value=10**6, places=2, allow_nan=False)
    if kind is FieldKind.STRING:
        return st.text(max_size=8)
    if kind is FieldKind.BOOL:
        return st.booleans()
    if kind is FieldKind.ENUM:
        return st.sampled_from(list(py_type))  # type: ignore[call-overload]
    if kind is FieldKind.DATE:
        return st.dates(date(2000, 1, 1), date(2040, 12, 31))
    if kind is FieldKind.DATETIME:
        return aware_datetimes()
    if kind is FieldKind.DURATION:
        return st.timedeltas(timedelta(days=-400), timedelta(days=400))
    raise InvalidArgument(f"no values for a {ftype.describe()} field")


@st.composite
def _condition(draw: st.DrawFn, info: FieldInfo) -> Condition:
    kind = info.type.kind
    op = draw(st.sampled_from(sorted(ALLOWED_OPS[kind], key=lambda o: o.value)))
    if op in (Operator.IS_SET, Operator.IS_EMPTY):
        return Condition(info.path, op)
    if kind is FieldKind.COLLECTION:
        element = info.type.element
        assert element is not None
        return Condition(info.path, op, draw(_values_of(element)))
    if op is Operator.WITHIN_LAST:
        return Condition(
            info.path, op, draw(st.timedeltas(timedelta(hours=1), timedelta(days=800)))
        )
    if op is Operator.MATCHES:
        return Condition(info.path, op, re.escape(draw(st.text(max_size=4))))
    values = _values_of(info.type)
    if op in (Operator.IN, Operator.NOT_IN):
        return Condition(info.path, op, tuple(draw(st.lists(values, min_size=1, max_size=4))))
    if op is Operator.BETWEEN:
        low, high = sorted((draw(values), draw(values)))
        return Condition(info.path, op, (low, high))
    return Condition(info.path, op, draw(values))


def conditions(subject_type: type) -> SearchStrategy[Condition]:
    """One valid leaf condition over any testable field of ``subject_type``.

    Every operator the field's kind allows can be drawn, with a value of the right
    type (a sorted pair for ``between``, a non-empty tuple for ``in``, an escaped regex
    for ``matches``).

    >>> from hypothesis import given
    >>> from sfakit.model import Lead
    >>> from sfakit.rules import compile_criteria
    >>> @given(conditions(Lead))
    ... def test_every_condition_compiles(condition):
    ...     compile_criteria(condition, Lead)
    """
    paths = _field_paths(subject_type)
    if not paths:
        raise InvalidArgument(f"{subject_type.__name__} has no field criteria can test")
    return st.sampled_from(paths).flatmap(_condition)


def criteria(subject_type: type, *, max_leaves: int = 8) -> SearchStrategy[Criteria]:
    """Random criteria trees (``all`` / ``any`` / ``not`` over :func:`conditions`) that
    compile against ``subject_type``: for properties of your own rules, scorecards and
    routing, such as "the data form round-trips" or "explain agrees with matches".

    >>> from hypothesis import given
    >>> from sfakit.model import Opportunity
    >>> from sfakit.rules import criteria_from_data, criteria_to_data
    >>> @given(criteria(Opportunity))
    ... def test_rules_survive_storage(rule):
    ...     assert criteria_from_data(criteria_to_data(rule)) == rule
    >>> test_rules_survive_storage()
    """
    leaves = conditions(subject_type)

    def extend(children: SearchStrategy[Criteria]) -> SearchStrategy[Criteria]:
        groups = st.lists(children, min_size=1, max_size=4)
        return st.one_of(
            groups.map(lambda items: AllOf(tuple(items))),
            groups.map(lambda items: AnyOf(tuple(items))),
            children.map(Not),
        )

    return st.recursive(leaves, extend, max_leaves=max_leaves)
