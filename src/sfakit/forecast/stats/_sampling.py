"""The two samplers behind :func:`~sfakit.forecast.stats.simulation.simulate`, and the
exact summary of their run totals.

Both take per-deal probabilities (floats) and amounts (ints, in minor units) and return
one total per run, in minor units, as Python ints. A probability of 0 never wins and 1
always does, in both, exactly; deals that cannot change a total (probability 0, amount
0) draw nothing.

* ``numpy_totals`` reads the raw 32-bit words of a PCG64 bit generator seeded with
  ``seed``, one per deal and run, a block of runs at a time: a deal wins when its word
  is below ``round(p * 2**32)`` (probabilities resolved to 2**-32), and the hit matrix
  times the amounts gives the runs' totals. Words are taken in order, a block of whole
  runs at a time, so the result depends only on the seed and the inputs; the raw stream
  of PCG64 seeded by SeedSequence involves no floating point (NumPy's Generator methods
  are what may change between versions, NEP 19). The sums are
  exact: in float64 (BLAS) when the amounts' absolute sum is at most 2**53, where every
  partial sum is an exactly representable integer; in int64 otherwise.
* ``python_totals`` uses ``random.Random(seed)``. A deal whose rarer outcome has
  probability q = min(p, 1 - p) of at most 1/8 does not draw once per run: the runs in
  which the rare outcome happens form a Bernoulli process, so it jumps from one to the
  next by a geometric gap ``floor(log(1 - U) / log(1 - q))``, about ``q * runs`` draws
  instead of ``runs``. (One jump costs about eight plain draws in CPython, hence 1/8.)
  The other deals draw once per run, ``random() < p``. Either way the totals have
  exactly the distribution of the naive loop; probabilities are resolved to 2**-53.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from fractions import Fraction
from typing import Final, NamedTuple

__all__ = [
    "INT64_MAX",
    "Summary",
    "numpy_available",
    "numpy_totals",
    "python_totals",
    "summarise",
]

#: Words drawn per numpy block, the same on every machine (the result must not depend
#: on it): 1 MiB of words, so that a block's arrays stay in cache; blocks 8 times larger
#: run 3 to 4 times slower.
BLOCK_CELLS: Final = 1 << 18
EXACT_FLOAT: Final = 1 << 53
INT64_MAX: Final = (1 << 63) - 1
WORD: Final = 1 << 32
#: Below this rarer-outcome probability a deal jumps between its rare runs.
JUMP_BELOW: Final = 0.125


def numpy_available() -> bool:
    """Whether numpy can be imported (``sfakit[numeric]``)."""
    try:
        import numpy  # noqa: F401, PLC0415 - optional dependency, imported when used
    except ImportError:
        return False
    return True


def python_totals(
    probabilities: Sequence[float], amounts: Sequence[int], runs: int, seed: int
) -> list[int]:
    """Run totals with ``random.Random(seed)``: one draw per run for most deals,
    geometric jumps for deals whose outcome is nearly certain either way."""
    rng = random.Random(seed)
    base = 0
    every_run: list[tuple[float, int]] = []
    jumps: list[tuple[float, int]] = []
    for p, amount in zip(probabilities, amounts, strict=True):
        if p <= 0 or amount == 0:
            continue
        if p >= 1:
            base += amount
        elif p <= JUMP_BELOW:
            jumps.append((p, amount))
        elif p >= 1 - JUMP_BELOW:  # jump between the losses: it wins in every other run
            base += amount
            jumps.append((1.0 - p, -amount))
        else:
            every_run.append((p, amount))
    draw = rng.random
    totals = [base] * runs
    if every_run:
        for run in range(runs):
            total = base
            for p, amount in every_run:
                if draw() < p:
                    total += amount
            totals[run] = total
    log = math.log
    for rare, step in jumps:
        # < 0 and never 0 (rare >= 2**-1074). Divided by, not inverted: 1 / 2**-1074
        # overflows, and inf * log(1) would be nan.
        scale = math.log1p(-rare)
        i = -1
        room = runs - 1  # runs after i
        while True:
            # floor(gap) runs without the rare outcome, then one with it. A float compare
            # first, so that a huge gap for a tiny probability never becomes an int.
            gap = log(1.0 - draw()) / scale
            if gap >= room:
                break
            skip = int(gap) + 1
            i += skip
            room -= skip
            totals[i] += step
    return totals


def numpy_totals(
    probabilities: Sequence[float], amounts: Sequence[int], runs: int, seed: int
) -> list[int]:
    """Run totals from the raw words of numpy's PCG64, a block of runs at a time."""
    import numpy as np  # noqa: PLC0415 - optional dependency, imported when used

    certain = 0
    cuts: list[int] = []
    values: list[int] = []
    for p, amount in zip(probabilities, amounts, strict=True):
        cut = min(round(p * WORD), WORD) if p > 0 else 0  # p * 2**32 is exact
        if cut == 0 or amount == 0:
            continue
        if cut == WORD:
            certain += amount
        else:
            cuts.append(cut)
            values.append(amount)
    if not cuts:
        return [certain] * runs
    spread = sum(abs(v) for v in values)
    if spread > INT64_MAX:
        raise OverflowError("amounts too large for int64")  # the caller checks first
    exact_float = spread <= EXACT_FLOAT
    cut_row = np.array(cuts, dtype=np.uint32)
    a_col = np.array(values, dtype=np.float64 if exact_float else np.int64)
    words = np.random.PCG64(seed).random_raw
    width = len(cuts)
    block = max(1, BLOCK_CELLS // width)
    out = np.empty(runs, dtype=np.int64)
    # The comparison writes its 0/1 straight into the amounts' dtype, ready for the
    # product: no boolean matrix to convert.
    hits = np.empty((min(block, runs), width), dtype=a_col.dtype)
    for start in range(0, runs, block):
        size = min(block, runs - start)
        cells = size * width
        raw = words((cells + 1) // 2).view(np.uint32)[:cells].reshape(size, width)
        w = hits[:size]
        np.less(raw, cut_row, out=w)
        if exact_float:
            out[start : start + size] = (w @ a_col).astype(np.int64)
        else:
            out[start : start + size] = w @ a_col
    totals: list[int] = out.tolist()
    return [t + certain for t in totals] if certain else totals


class Summary(NamedTuple):
    """Exact statistics of run totals (minor units)."""

    mean: Fraction
    variance: Fraction
    minimum: int
    p10: Fraction
    p50: Fraction
    p90: Fraction
    maximum: int
    #: ``(low, high, count)``: bins ``[low, high)`` of one width, the last ``[low, high]``.
    histogram: tuple[tuple[int, int, int], ...]


def _percentile(ordered: list[int], tenths: int) -> Fraction:
    # Linear interpolation between closest ranks (NumPy's default, Excel's
    # PERCENTILE.INC), as the pipeline analytics compute theirs.
    low, rest = divmod((len(ordered) - 1) * tenths, 10)
    if rest == 0:
        return Fraction(ordered[low])
    return ordered[low] + Fraction(rest, 10) * (ordered[low + 1] - ordered[low])


def summarise(totals: list[int], bins: int) -> Summary:
    """Mean, sample variance, P10/P50/P90, extremes and a histogram of at most ``bins``
    bins, all exact. Sorts ``totals`` in place."""
    totals.sort()
    n = len(totals)
    total = sum(totals)
    mean = Fraction(total, n)
    squares = sum(t * t for t in totals)
    variance = (squares - total * mean) / (n - 1) if n > 1 else Fraction(0)
    low, high = totals[0], totals[-1]
    span = high - low
    width = -(-span // bins)  # ceiling: at most `bins` bins of whole minor units
    size = -(-span // width) if span else 1
    counts = [0] * size
    last = size - 1
    for t in totals:
        # Half-open bins, but the last one also holds its upper edge (numpy.histogram).
        counts[min((t - low) // width, last) if width else 0] += 1
    histogram = tuple(
        (low + k * width, low + (k + 1) * width, count) for k, count in enumerate(counts)
    )
    return Summary(
        mean=mean,
        variance=variance,
        minimum=low,
        p10=_percentile(totals, 1),
        p50=_percentile(totals, 5),
        p90=_percentile(totals, 9),
        maximum=high,
        histogram=histogram,
    )
