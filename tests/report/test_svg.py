"""The charts: bar lengths in proportion to the values, the range's marks in order,
escaped text, bad input refused."""

from __future__ import annotations

import itertools
import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sfakit.errors import ValidationError
from sfakit.model import Money
from sfakit.report import Bar, bar_chart, range_chart
from sfakit.report.svg import BAR_WIDTH, bar_lengths

from .support import MALICIOUS

_BAR = re.compile(r'<rect class="bar"[^>]*? width="([\d.]+)"')
_MARK = re.compile(r'class="(band|p50|mean|closed)" (?:x|x1|cx)="([\d.]+)"')


def widths(svg: str) -> list[Decimal]:
    return [Decimal(w) for w in _BAR.findall(svg)]


@given(st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=12))
def test_bar_widths_are_proportional_to_the_values(values: list[int]) -> None:
    svg = bar_chart(
        [Bar(label=f"stage {i}", value=v) for i, v in enumerate(values)], title="t", unit="deals"
    )
    drawn = widths(svg)
    assert len(drawn) == len(values)
    # Ordered like the values: equal values, equal bars; rounding never swaps two bars.
    for (a, width_a), (b, width_b) in itertools.pairwise(sorted(zip(values, drawn, strict=True))):
        assert width_a <= width_b
        if a == b:
            assert width_a == width_b
    top = max(values)
    for value, width in zip(values, drawn, strict=True):
        if top == 0 or value == 0:
            assert width == 0
        if value == top and top > 0:
            assert width == BAR_WIDTH
        if top > 0:  # in proportion, to the hundredth of a unit drawn
            assert abs(width - Decimal(value) * BAR_WIDTH / Decimal(top)) <= Decimal("0.005")


@given(st.lists(st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False), min_size=1))
def test_decimal_values_too(values: list[Decimal]) -> None:
    lengths = bar_lengths(values)
    if max(values) == 0:
        assert set(lengths) == {0}
    else:
        assert max(lengths) == BAR_WIDTH
    assert [lengths[i] for i in sorted(range(len(values)), key=values.__getitem__)] == sorted(
        lengths
    )


def test_labels_and_values_are_escaped() -> None:
    svg = bar_chart([Bar(label=MALICIOUS, value=1, shown="1 & more")], title="<t>", unit="u&u")
    assert "<script>" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert 'aria-label="&lt;t&gt; (u&amp;u): ' in svg
    assert ">1 &amp; more</text>" in svg


def test_long_labels_are_cut_but_the_tooltip_keeps_them() -> None:
    label = "a stage with a very long name indeed"
    svg = bar_chart([Bar(label=label, value=2)], title="t", unit="deals")
    assert f"<title>{label}: 2 deals</title>" in svg
    assert ">a stage with a very long …</text>" in svg


def test_no_bars_is_an_empty_chart() -> None:
    svg = bar_chart([], title="t", unit="deals")
    assert 'aria-label="t (deals): nothing to show"' in svg
    assert widths(svg) == []


@pytest.mark.parametrize("value", [-1, Decimal("-0.01"), 1.5, True, "3", Decimal("NaN")])
def test_a_bar_needs_a_non_negative_number(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        bar_chart([Bar(label="x", value=value)], title="t", unit="u")  # type: ignore[arg-type]
    assert info.value.path == "$.bars[0].value"


def eur(amount: int | str) -> Money:
    return Money.of(amount, "EUR")


def marks(svg: str) -> dict[str, Decimal]:
    return {name: Decimal(x) for name, x in _MARK.findall(svg)}


@given(
    st.lists(st.integers(min_value=0, max_value=10**8), min_size=3, max_size=3).map(sorted),
    st.integers(min_value=0, max_value=10**8),
    st.integers(min_value=0, max_value=10**8),
)
def test_the_range_marks_sit_in_order_on_one_axis(
    percentiles: list[int], mean: int, closed: int
) -> None:
    p10, p50, p90 = (eur(v) for v in percentiles)
    svg = range_chart(p10, p50, p90, mean=eur(mean), closed=eur(closed), title="Q2")
    at = marks(svg)
    assert at["band"] <= at["p50"]
    assert at["p50"] <= at["band"] + Decimal(
        re.findall(r'class="band"[^>]*width="([\d.]+)"', svg)[0]
    )
    # The same scale for every mark: a larger amount never sits to the left.
    amounts = {"band": percentiles[0], "p50": percentiles[1], "mean": mean, "closed": closed}
    ordered = sorted(amounts, key=amounts.__getitem__)
    assert [at[name] for name in ordered] == sorted(at[name] for name in ordered)


def test_the_range_chart_names_every_value() -> None:
    svg = range_chart(eur(100), eur("150.5"), eur(200), mean=eur(160), title="FY2026-Q2")
    assert 'aria-label="FY2026-Q2: P10-P90: 100.00 EUR to 200.00 EUR; P50 (median): 150.50' in svg
    assert "closed" not in marks(svg)
    assert svg.count("<svg") == 1
    assert svg.endswith("</svg>")


def test_the_range_chart_refuses_mixed_currencies_and_disorder() -> None:
    with pytest.raises(ValidationError) as mixed:
        range_chart(eur(1), eur(2), eur(3), mean=Money.of(2, "USD"), title="t")
    assert mixed.value.path == "$.mean.currency"
    with pytest.raises(ValidationError) as disorder:
        range_chart(eur(3), eur(2), eur(1), mean=eur(2), title="t")
    assert disorder.value.path == "$.p50"


def test_an_all_zero_range_is_drawn_at_the_origin() -> None:
    zero = eur(0)
    at = marks(range_chart(zero, zero, zero, mean=zero, closed=zero, title="t"))
    assert set(at.values()) == {Decimal(16)}
