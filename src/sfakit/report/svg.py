"""Charts as inline SVG, written directly: horizontal bars, and a forecast range.

Why no plotting library: the report must open offline from one file, so a chart is
markup inside the page, not a script or an image fetched from elsewhere; a bar chart is
a dozen ``<rect>`` and ``<text>`` elements, which a few lines write, where matplotlib,
Plotly or Vega would add a heavy dependency (and a JavaScript runtime for the last two)
to sfakit for them. Written here, the output is also **deterministic** — the same values
give the same bytes, with none of the random element ids, timestamps or embedded fonts
that plotting libraries put in their SVG — so a page can be compared, cached and tested;
it is **small** (a chart is well under two kilobytes); and every text in it goes through
:func:`html.escape`, so a stage or region name cannot inject markup.

Lengths are computed in ``Decimal`` and written to two decimals, so they do not depend
on float formatting: the longest bar takes the full width, a zero bar none, and bars are
ordered as their values are.

>>> svg = bar_chart([Bar(label="won", value=3), Bar(label="lost", value=1)],
...                 title="Deals", unit="deals")
>>> svg.startswith('<svg class="chart" role="img"'), 'width="360"' in svg, 'width="120"' in svg
(True, True, True)
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Final

import attrs

from sfakit.errors import ValidationError
from sfakit.model import Money
from sfakit.report._format import money

__all__ = ["BAR_WIDTH", "Bar", "bar_chart", "bar_lengths", "range_chart"]

_CTX: Final = Context(prec=28, rounding=ROUND_HALF_EVEN)
_CENT: Final = Decimal("0.01")

#: The length of the longest bar, in SVG user units.
BAR_WIDTH: Final = 360
_WIDTH: Final = 640
_LABEL_END: Final = 172  # labels are right-aligned up to here; bars start 8 units later
_BAR_START: Final = _LABEL_END + 8
_ROW: Final = 26
_BAR_HEIGHT: Final = 16
_PAD: Final = 8
_MAX_LABEL: Final = 26  # longer labels are cut (the bar's tooltip keeps them whole)
_FONT: Final = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="12"'

_BAR_COLOUR: Final = "#4c78a8"
_BAND_COLOUR: Final = "#9ecae9"
_P50_COLOUR: Final = "#1f4e79"
_MEAN_COLOUR: Final = "#e45756"
_CLOSED_COLOUR: Final = "#54a24b"
_AXIS_COLOUR: Final = "#888888"


@attrs.frozen(kw_only=True)
class Bar:
    """One bar: its ``label``, its ``value`` (a non-negative count or amount) and how
    the value reads beside it (``shown``; by default the value itself).

    >>> Bar(label="propose", value=3).text
    '3'
    """

    label: str
    value: int | Decimal
    shown: str | None = None

    @property
    def text(self) -> str:
        return str(self.value) if self.shown is None else self.shown


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _number(value: Decimal) -> str:
    """A coordinate to two decimals, without trailing zeros: ``120``, ``33.33``."""
    text = f"{value.quantize(_CENT, context=_CTX):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _check_value(value: object, path: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ValidationError(path, value, "a whole number or Decimal >= 0")
    number = Decimal(value)
    if not number.is_finite() or number < 0:
        raise ValidationError(path, value, "a whole number or Decimal >= 0")
    return number


def bar_lengths(values: Sequence[int | Decimal], full: int | Decimal = BAR_WIDTH) -> list[Decimal]:
    """Each value's bar length, in proportion, the largest taking ``full``, rounded to
    two decimals (half to even); all zero when every value is zero.

    >>> bar_lengths([0, 1, 3], full=360)
    [Decimal('0.00'), Decimal('120.00'), Decimal('360.00')]
    """
    numbers = [_check_value(v, f"$.values[{i}]") for i, v in enumerate(values)]
    top = max(numbers, default=Decimal(0))
    if top == 0:
        return [Decimal(0).quantize(_CENT) for _ in numbers]
    scale = Decimal(full)
    return [
        _CTX.divide(_CTX.multiply(n, scale), top).quantize(_CENT, context=_CTX) for n in numbers
    ]


def _label(text: str) -> str:
    return text if len(text) <= _MAX_LABEL else text[: _MAX_LABEL - 1] + "…"


def _open(width: int, height: int, summary: str) -> str:
    return (
        f'<svg class="chart" role="img" aria-label="{_e(summary)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" {_FONT}>'
        f"<title>{_e(summary)}</title>"
    )


def bar_chart(bars: Sequence[Bar], *, title: str, unit: str) -> str:
    """Horizontal bars, one row per bar in the order given, each labelled on its left and
    with its value on its right; ``title`` and every bar (``unit`` after the values) make
    the chart's accessible summary.

    >>> svg = bar_chart([Bar(label="<b>", value=0)], title="Stages", unit="deals")
    >>> "&lt;b&gt;" in svg and "<b>" not in svg, 'width="0"' in svg
    (True, True)
    """
    for i, bar in enumerate(bars):
        if not isinstance(bar, Bar):
            raise ValidationError(f"$.bars[{i}]", bar, "a Bar")
        _check_value(bar.value, f"$.bars[{i}].value")
    lengths = bar_lengths([bar.value for bar in bars])
    listed = "; ".join(f"{bar.label} {bar.text}" for bar in bars) or "nothing to show"
    summary = f"{title} ({unit}): {listed}"
    height = 2 * _PAD + _ROW * len(bars)
    parts = [_open(_WIDTH, height, summary)]
    for row, (bar, length) in enumerate(zip(bars, lengths, strict=True)):
        top = _PAD + row * _ROW
        baseline = top + _BAR_HEIGHT - 4
        parts.append(
            f'<text class="label" x="{_LABEL_END}" y="{baseline}" text-anchor="end" '
            f'fill="currentColor">{_e(_label(bar.label))}</text>'
            f'<rect class="bar" x="{_BAR_START}" y="{top}" width="{_number(length)}" '
            f'height="{_BAR_HEIGHT}" fill="{_BAR_COLOUR}">'
            f"<title>{_e(f'{bar.label}: {bar.text} {unit}')}</title></rect>"
            f'<text class="value" x="{_number(_BAR_START + length + 6)}" y="{baseline}" '
            f'fill="currentColor">{_e(bar.text)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


# -- the forecast range ------------------------------------------------------------------

_AXIS_START: Final = 16
_AXIS_Y: Final = 64
_BAND_TOP: Final = 30
_LEGEND_Y: Final = 100
_LEGEND_ROW: Final = 18


def range_chart(
    p10: Money,
    p50: Money,
    p90: Money,
    *,
    mean: Money,
    closed: Money | None = None,
    title: str,
) -> str:
    """A forecast range on one axis from zero: the P10-P90 band, the P50 as a line, the
    mean as a dot, and (when given) what was already won as a dashed line, with a legend
    that names each value.

    >>> from sfakit.model import Money
    >>> eur = lambda n: Money.of(n, "EUR")
    >>> svg = range_chart(eur(100), eur(150), eur(200), mean=eur(150), title="Q2")
    >>> 'class="band" x="320" y="30" width="304"' in svg
    True
    """
    named = {"p10": p10, "p50": p50, "p90": p90, "mean": mean}
    if closed is not None:
        named["closed"] = closed
    currency = p50.currency if isinstance(p50, Money) else None
    for name, value in named.items():
        if not isinstance(value, Money):
            raise ValidationError(f"$.{name}", value, "a Money")
        if value.currency != currency:
            raise ValidationError(f"$.{name}.currency", value.currency, repr(currency))
    if not p10 <= p50 <= p90:
        raise ValidationError("$.p50", str(p50), "p10 <= p50 <= p90")
    amounts = [value.amount for value in named.values()]
    low, high = min([Decimal(0), *amounts]), max([Decimal(0), *amounts])
    full = Decimal(_WIDTH - 2 * _AXIS_START)

    def x(amount: Decimal) -> Decimal:
        if high == low:
            return Decimal(_AXIS_START)
        offset = _CTX.divide(_CTX.multiply(amount - low, full), high - low)
        return (Decimal(_AXIS_START) + offset).quantize(_CENT, context=_CTX)

    legend = [
        ("band", f"P10-P90: {money(p10)} to {money(p90)}"),
        ("p50", f"P50 (median): {money(p50)}"),
        ("mean", f"mean: {money(mean)}"),
    ]
    if closed is not None:
        legend.append(("closed", f"closed won so far: {money(closed)}"))
    summary = f"{title}: " + "; ".join(text for _, text in legend)
    height = _LEGEND_Y + _LEGEND_ROW * len(legend)
    band_x, band_end = x(p10.amount), x(p90.amount)
    p50_x, mean_x = _number(x(p50.amount)), _number(x(mean.amount))
    axis_end = _AXIS_START + int(full)
    parts = [
        _open(_WIDTH, height, summary),
        f'<line class="axis" x1="{_AXIS_START}" y1="{_AXIS_Y}" x2="{axis_end}" y2="{_AXIS_Y}" '
        f'stroke="{_AXIS_COLOUR}"/>',
        f'<text class="label" x="{_AXIS_START}" y="{_AXIS_Y + 16}" text-anchor="start" '
        f'fill="currentColor">{_e(money(Money(low, currency)))}</text>',
        f'<text class="label" x="{axis_end}" y="{_AXIS_Y + 16}" text-anchor="end" '
        f'fill="currentColor">{_e(money(Money(high, currency)))}</text>',
        f'<rect class="band" x="{_number(band_x)}" y="{_BAND_TOP}" '
        f'width="{_number(band_end - band_x)}" height="28" fill="{_BAND_COLOUR}"/>',
        f'<line class="p50" x1="{p50_x}" y1="{_BAND_TOP - 6}" x2="{p50_x}" y2="{_AXIS_Y}" '
        f'stroke="{_P50_COLOUR}" stroke-width="3"/>',
        f'<circle class="mean" cx="{mean_x}" cy="{_BAND_TOP + 14}" r="5" fill="{_MEAN_COLOUR}"/>',
    ]
    if closed is not None:
        closed_x = _number(x(closed.amount))
        parts.append(
            f'<line class="closed" x1="{closed_x}" y1="{_BAND_TOP - 10}" x2="{closed_x}" '
            f'y2="{_AXIS_Y}" stroke="{_CLOSED_COLOUR}" stroke-width="2" stroke-dasharray="4 3"/>'
        )
    for row, (kind, text) in enumerate(legend):
        y = _LEGEND_Y + row * _LEGEND_ROW
        parts.append(
            _swatch(kind, _AXIS_START, y - 4)
            + (
                f'<text class="legend" x="{_AXIS_START + 20}" y="{y}" '
                f'fill="currentColor">{_e(text)}</text>'
            )
        )
    parts.append("</svg>")
    return "".join(parts)


def _swatch(kind: str, x: int, middle: int) -> str:
    """The legend's small sample of each mark, centred on ``middle``."""
    if kind == "band":
        return f'<rect x="{x}" y="{middle - 6}" width="14" height="12" fill="{_BAND_COLOUR}"/>'
    if kind == "p50":
        return (
            f'<line x1="{x + 7}" y1="{middle - 7}" x2="{x + 7}" y2="{middle + 7}" '
            f'stroke="{_P50_COLOUR}" stroke-width="3"/>'
        )
    if kind == "mean":
        return f'<circle cx="{x + 7}" cy="{middle}" r="5" fill="{_MEAN_COLOUR}"/>'
    return (
        f'<line x1="{x + 7}" y1="{middle - 7}" x2="{x + 7}" y2="{middle + 7}" '
        f'stroke="{_CLOSED_COLOUR}" stroke-width="2" stroke-dasharray="4 3"/>'
    )
