"""Dated exchange rates: lookups by day, exact conversion, errors that name the gap."""

from __future__ import annotations

import pickle
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfakit.codec import from_data, to_data
from sfakit.errors import ValidationError
from sfakit.forecast import CurrencyRates, DatedRate, MissingRateError, RateTable
from sfakit.model import Money
from sfakit.model.currencies import MINOR_UNITS

from .support import rate_table

CURRENCIES = ("EUR", "USD", "JPY", "KWD", "GBP")


def test_a_rate_holds_from_its_effective_date_until_the_next() -> None:
    table = rate_table()
    assert table.rate("USD", date(2025, 12, 31)) == Decimal("1.10")
    assert table.rate("USD", date(2026, 1, 1)) == Decimal("1.05")
    assert table.rate("USD", date(2030, 1, 1)) == Decimal("1.2")
    assert table.rate("EUR", date(1990, 1, 1)) == 1


def test_conversion_divides_by_the_source_rate_and_multiplies_by_the_target_rate() -> None:
    table = rate_table()
    day = date(2026, 6, 1)
    assert table.convert(Money.of("105", "USD"), "EUR", on=day) == Money.of("100", "EUR")
    assert table.convert(Money.of("100", "EUR"), "USD", on=day) == Money.of("105", "USD")
    # USD -> JPY goes through the exact cross rate, rounded once: 10 / 1.05 * 160.5
    assert table.convert(Money.of("10", "USD"), "JPY", on=day) == Money.of("1529", "JPY")
    assert table.convert(Money.of("7", "EUR"), "EUR", on=day) == Money.of("7", "EUR")


def test_conversion_rounds_half_up_like_money() -> None:
    table = RateTable.of("EUR", {"USD": [("2026-01-01", "2")]})
    day = date(2026, 1, 1)
    assert table.convert(Money.of("0.01", "USD"), "EUR", on=day) == Money.of("0.01", "EUR")
    assert table.convert(Money.of("-0.01", "USD"), "EUR", on=day) == Money.of("-0.01", "EUR")
    assert table.convert(Money.of("0.03", "USD"), "EUR", on=day) == Money.of("0.02", "EUR")


def test_a_missing_rate_names_the_currency_and_the_day() -> None:
    table = rate_table()
    with pytest.raises(MissingRateError) as caught:
        table.convert(Money.of(1, "USD"), "EUR", on=date(2023, 12, 31))
    err = caught.value
    assert (err.currency, err.day, err.path) == ("USD", date(2023, 12, 31), "$.rates.USD")
    assert "2023-12-31" in str(err)
    assert "2024-01-01" in str(err)
    assert isinstance(err, ValidationError)
    with pytest.raises(MissingRateError, match="no CHF rates"):
        table.convert(Money.of(1, "CHF"), "EUR", on=date(2026, 1, 1))
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.currency, copy.day, str(copy)) == (err.currency, err.day, str(err))


def test_bad_tables_are_refused_with_paths() -> None:
    with pytest.raises(ValidationError) as caught:
        RateTable.of("EUR", {"USD": [("2026-02-01", "1.1"), ("2026-01-01", "1.2")]})
    assert caught.value.path == "$.rates.USD.history[1].effective"
    with pytest.raises(ValidationError) as caught:
        RateTable.of("EUR", {"EUR": [("2026-01-01", "1")]})
    assert caught.value.path == "$.rates[0].currency"
    with pytest.raises(ValidationError, match=r"\$\.rate"):
        DatedRate(effective=date(2026, 1, 1), rate="0")
    with pytest.raises(ValidationError, match=r"\$\.rate"):
        DatedRate(effective=date(2026, 1, 1), rate=1.1)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"\$\.history"):
        CurrencyRates(currency="USD", history=[])
    with pytest.raises(ValidationError, match=r"\$\.rates\.USD\[0\]\.effective"):
        RateTable.of("EUR", {"USD": [("first of May", "1.1")]})
    data = to_data(rate_table())
    data["rates"].append(data["rates"][0])
    with pytest.raises(ValidationError) as caught:
        from_data(RateTable, data)
    assert caught.value.path == "$.rates[2].currency"


def test_converting_to_an_unknown_code_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"\$\.target"):
        rate_table().convert(Money.of(1, "EUR"), "XXX", on=date(2026, 1, 1))
    with pytest.raises(ValidationError, match=r"\$\.amount"):
        rate_table().convert(Decimal(1), "EUR", on=date(2026, 1, 1))  # type: ignore[arg-type]


@st.composite
def tables(draw: st.DrawFn) -> RateTable:
    corporate = draw(st.sampled_from(CURRENCIES))
    others = [c for c in CURRENCIES if c != corporate]
    rates = {}
    for currency in draw(st.lists(st.sampled_from(others), unique=True, max_size=4)):
        days = draw(
            st.lists(
                st.dates(date(2020, 1, 1), date(2030, 1, 1)), min_size=1, max_size=3, unique=True
            )
        )
        rates[currency] = [
            (day, draw(st.decimals("0.001", "10000", places=draw(st.integers(0, 6)))))
            for day in sorted(days)
        ]
    return RateTable.of(corporate, rates)


@settings(max_examples=60)
@given(tables())
def test_rate_tables_round_trip_through_the_codec(table: RateTable) -> None:
    assert from_data(RateTable, to_data(table)) == table


@settings(max_examples=100)
@given(
    tables(),
    st.integers(-(10**12), 10**12),
    st.data(),
)
def test_converting_there_and_back_is_off_by_at_most_the_rounding(
    table: RateTable, units: int, data: st.DataObject
) -> None:
    source = data.draw(st.sampled_from(table.currencies))
    target = data.draw(st.sampled_from(table.currencies))
    day = date(2031, 1, 1)  # after every rate's start
    amount = Money(Decimal(units).scaleb(-MINOR_UNITS[source]), source)
    there = table.convert(amount, target, on=day)
    back = table.convert(there, source, on=day)
    # Each rounding is at most half a minor unit of its currency: going there loses at
    # most half a target unit, worth (half a target unit / factor) in the source.
    factor = table.rate(target, day) / table.rate(source, day)
    source_unit = Decimal(1).scaleb(-MINOR_UNITS[source])
    target_unit = Decimal(1).scaleb(-MINOR_UNITS[target])
    tolerance = target_unit / 2 / factor + source_unit / 2
    assert abs(back.amount - amount.amount) <= tolerance
    # Same sign (or zero), and the exact value rounded once.
    exact = amount.amount * factor
    assert abs(there.amount - exact) <= target_unit / 2
    if amount.is_zero():
        assert there.is_zero()
