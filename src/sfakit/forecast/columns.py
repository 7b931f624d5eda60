"""The core of every forecast roll-up: deals as columns of small integers, summed per
period, group and category.

:class:`ForecastColumns` holds one entry per *counted* deal (lost and omitted deals
never get here): the index of its period and of its group, its category code (see
:data:`CATEGORY_CODES`), its amount and weighted amount in **minor units** of the
forecast currency (``int``: sums are exact and additive), and whether its amount was
missing (counted as zero). :func:`tally` sums them into a :class:`Tally`: for every
(period, group) cell, the amount and the number of deals per category, the weighted
amount and the number of missing amounts.

:func:`~sfakit.forecast.rollup.forecast` extracts these columns from opportunities and
calls :func:`~sfakit.forecast.rollup.forecast_columns`; code that already holds the
columns (a query result, a data frame) calls ``forecast_columns`` directly and skips
building a million frozen objects. Both engines give identical results: ``python``
(plain loops, no dependency) and ``numpy`` (vectorised, exact ``int64`` sums; used by
``auto`` for large inputs when NumPy is installed and the amounts cannot overflow).

>>> t = tally(ForecastColumns(deal_ids=["opp_a", "opp_b", "opp_c"], periods=[0, 0, 1],
...                           groups=[0, 0, 0], categories=[1, 1, 3],
...                           amounts=[500, 700, 100], weighted=[400, 560, 10],
...                           missing=[False, False, False]), periods=2, groups=1)
>>> t.cell(0, 0)
(0, 1200, 0, 0, 0, 2, 0, 0, 960, 0)
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

import attrs

from sfakit.errors import SfaError, ValidationError
from sfakit.forecast._checks import allowed
from sfakit.model.opportunities import ForecastCategory

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["CATEGORY_CODES", "COUNTED", "Engine", "ForecastColumns", "Tally", "tally"]

#: The categories a forecast counts, in code order: a deal's code in
#: :attr:`ForecastColumns.categories` is its category's position here.
COUNTED: Final = (
    ForecastCategory.CLOSED,
    ForecastCategory.COMMIT,
    ForecastCategory.BEST_CASE,
    ForecastCategory.PIPELINE,
)
#: Category → code (omitted has none: omitted and lost deals are never counted).
CATEGORY_CODES: Final = {category: code for code, category in enumerate(COUNTED)}

#: Values per cell: 4 amounts, 4 deal counts, weighted amount, missing amounts.
WIDTH: Final = 10
WEIGHTED: Final = 8
MISSING: Final = 9
#: Below this many deals ``auto`` stays with plain Python (NumPy's set-up costs more).
NUMPY_THRESHOLD: Final = 20_000
_INT64_LIMIT: Final = 2**63 - 1


class Engine(enum.StrEnum):
    """Which implementation sums the columns; every engine gives the same result."""

    AUTO = "auto"
    PYTHON = "python"
    NUMPY = "numpy"


@attrs.frozen(kw_only=True, eq=False)
class ForecastColumns:
    """Counted deals as parallel columns (lists, tuples or NumPy arrays of integers).

    ``periods[i]`` and ``groups[i]`` index the report's periods and groups;
    ``categories[i]`` is a code of :data:`CATEGORY_CODES`; ``amounts[i]`` and
    ``weighted[i]`` are minor units of the forecast currency (0 for a missing amount);
    ``missing[i]`` is true when the deal had no amount. All columns have one length.

    >>> ForecastColumns(deal_ids=["opp_a"], periods=[0], groups=[0], categories=[0],
    ...                 amounts=[1], weighted=[0], missing=[])
    Traceback (most recent call last):
    ...
    sfakit.errors.ValidationError: $.missing: got 0 entries; expected one entry per deal ...
    """

    deal_ids: Sequence[str]
    periods: Sequence[int]
    groups: Sequence[int]
    categories: Sequence[int]
    amounts: Sequence[int]
    weighted: Sequence[int]
    missing: Sequence[bool]

    def __attrs_post_init__(self) -> None:
        size = len(self.deal_ids)
        for name in ("periods", "groups", "categories", "amounts", "weighted", "missing"):
            length = len(getattr(self, name))
            if length != size:
                raise ValidationError(
                    f"$.{name}",
                    _Count(length),
                    f"one entry per deal ({size} deal_ids)",
                )

    def __len__(self) -> int:
        return len(self.deal_ids)


class _Count(int):
    """An entry count that reads as such in error messages."""

    def __repr__(self) -> str:
        return f"{int(self)} entries"


@attrs.frozen
class Tally:
    """Sums per (period, group) cell: ``values[(period * groups + group) * 10 + k]`` with
    ``k`` 0-3 the amounts of the :data:`COUNTED` categories, 4-7 their deal counts, 8 the
    weighted amount and 9 the missing amounts. ``engine`` is the engine that ran.

    >>> Tally(1, 1, [0] * 10, Engine.PYTHON).cell(0, 0)
    (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    """

    periods: int
    groups: int
    values: list[int] = attrs.field(eq=False, repr=False)
    engine: Engine = attrs.field(eq=False)

    def cell(self, period: int, group: int) -> tuple[int, ...]:
        """The ten sums of one cell."""
        start = (period * self.groups + group) * WIDTH
        return tuple(self.values[start : start + WIDTH])


def tally(
    columns: ForecastColumns, *, periods: int, groups: int, engine: Engine | str = Engine.AUTO
) -> Tally:
    """Sum ``columns`` into ``periods`` x ``groups`` cells; a period, group or category
    index out of range is a ValidationError naming the deal.

    >>> cols = ForecastColumns(deal_ids=["opp_a"], periods=[3], groups=[0], categories=[0],
    ...                        amounts=[1], weighted=[0], missing=[False])
    >>> tally(cols, periods=2, groups=1)
    Traceback (most recent call last):
    ...
    sfakit.errors.ValidationError: $.periods[0]: got 3; expected a period index from 0 to 1 ...
    """
    chosen = _engine(engine)
    size = len(columns)
    if chosen is Engine.NUMPY or (chosen is Engine.AUTO and size >= NUMPY_THRESHOLD):
        try:
            import numpy  # noqa: F401, PLC0415 - optional: only the numpy engine needs it
        except ImportError:
            if chosen is Engine.NUMPY:
                raise SfaError(
                    "the numpy engine needs NumPy: pip install 'sfakit[numeric]'"
                ) from None
        else:
            result = _tally_numpy(columns, periods, groups)
            if result is not None:
                return result
    return _tally_python(columns, periods, groups)


def _engine(value: Engine | str) -> Engine:
    try:
        return Engine(value)
    except ValueError:
        raise ValidationError("$.engine", value, f"one of {allowed(Engine)}") from None


def _bad_index(columns: ForecastColumns, name: str, row: int, limit: int, what: str) -> Exception:
    value = getattr(columns, name)[row]
    return ValidationError(
        f"$.{name}[{row}]",
        int(value),
        f"a {what} index from 0 to {limit - 1} (deal {columns.deal_ids[row]!r})",
    )


def _tally_python(columns: ForecastColumns, periods: int, groups: int) -> Tally:
    values = [0] * (periods * groups * WIDTH)
    rows = zip(
        columns.periods,
        columns.groups,
        columns.categories,
        columns.amounts,
        columns.weighted,
        columns.missing,
        strict=True,
    )
    for row, (period, group, category, amount, weighted, missing) in enumerate(rows):
        # One bounds check per column: a bad index must not land in a neighbouring cell.
        if not 0 <= period < periods:
            raise _bad_index(columns, "periods", row, periods, "period")
        if not 0 <= group < groups:
            raise _bad_index(columns, "groups", row, groups, "group")
        if not 0 <= category < 4:
            raise _bad_index(columns, "categories", row, 4, "category")
        base = (period * groups + group) * WIDTH
        values[base + category] += int(amount)
        values[base + 4 + category] += 1
        values[base + WEIGHTED] += int(weighted)
        if missing:
            values[base + MISSING] += 1
    return Tally(periods, groups, values, Engine.PYTHON)


def _tally_numpy(columns: ForecastColumns, periods: int, groups: int) -> Tally | None:
    """The numpy engine, or None when int64 sums could overflow (then Python sums)."""
    import numpy as np  # noqa: PLC0415 - optional dependency

    size = len(columns)
    cells = periods * groups
    if size == 0:
        return Tally(periods, groups, [0] * (cells * WIDTH), Engine.NUMPY)
    try:
        amounts = np.asarray(columns.amounts, dtype=np.int64)
        weighted = np.asarray(columns.weighted, dtype=np.int64)
    except OverflowError:
        return None
    largest = max(
        abs(int(amounts.min())),
        abs(int(amounts.max())),
        abs(int(weighted.min())),
        abs(int(weighted.max())),
    )
    if largest * size > _INT64_LIMIT:
        return None
    period = np.asarray(columns.periods, dtype=np.int64)
    group = np.asarray(columns.groups, dtype=np.int64)
    category = np.asarray(columns.categories, dtype=np.int64)
    missing = np.asarray(columns.missing, dtype=bool)
    _check_range(columns, "periods", period, periods, "period")
    _check_range(columns, "groups", group, groups, "group")
    _check_range(columns, "categories", category, 4, "category")
    cell = period * groups + group
    slot = cell * 4 + category
    sums = np.zeros(cells * 4, dtype=np.int64)
    np.add.at(sums, slot, amounts)
    counts = np.bincount(slot, minlength=cells * 4)
    weights = np.zeros(cells, dtype=np.int64)
    np.add.at(weights, cell, weighted)
    missed = np.bincount(cell[missing], minlength=cells)
    table = np.concatenate(
        [
            sums.reshape(cells, 4),
            counts.reshape(cells, 4).astype(np.int64),
            weights.reshape(cells, 1),
            missed.reshape(cells, 1).astype(np.int64),
        ],
        axis=1,
    )
    values: list[int] = table.reshape(-1).tolist()
    return Tally(periods, groups, values, Engine.NUMPY)


def _check_range(
    columns: ForecastColumns, name: str, array: npt.NDArray[np.int64], limit: int, what: str
) -> None:
    if int(array.min()) < 0 or int(array.max()) >= limit:
        bad = (array < 0) | (array >= limit)
        raise _bad_index(columns, name, int(bad.argmax()), limit, what)
