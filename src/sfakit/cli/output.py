"""What the commands print: plain-text tables, numbers for people, JSON for programs.

Only the standard library: a table is columns padded to their widest cell, numbers
right-aligned, an unset value shown as ``-``.

>>> print(table(["stage", "deals"], [["qualify", "12"], ["propose", "3"]], right={1}))
stage    deals
-------  -----
qualify     12
propose      3
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TextIO, TypeVar

if TYPE_CHECKING:
    from sfakit.model import Money

__all__ = [
    "NONE",
    "amount",
    "days",
    "moneys",
    "percent",
    "print_json",
    "table",
    "write_atomically",
]

T = TypeVar("T")

#: How a value that is not there is shown.
NONE: Final = "-"


def table(
    headers: Sequence[str], rows: Iterable[Sequence[str]], *, right: Iterable[int] = ()
) -> str:
    """``rows`` under ``headers``, columns two spaces apart, those in ``right`` aligned
    right (numbers); no trailing spaces."""
    cells = [list(row) for row in rows]
    aligned_right = set(right)
    widths = [len(header) for header in headers]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(values: Sequence[str]) -> str:
        padded = (
            value.rjust(width) if i in aligned_right else value.ljust(width)
            for i, (value, width) in enumerate(zip(values, widths, strict=True))
        )
        return "  ".join(padded).rstrip()

    rule = ["-" * width for width in widths]
    return "\n".join([line(headers), line(rule), *(line(row) for row in cells)])


def amount(money: Money | None) -> str:
    """A money amount with thousands separators, without its currency (the table's
    heading names it): ``1,500.00``."""
    return NONE if money is None else f"{money.amount:,}"


def moneys(values: Iterable[Money]) -> str:
    """Amounts in several currencies, each with its code: ``900.00 EUR, 120.00 USD``."""
    shown = [f"{m.amount:,} {m.currency}" for m in values]
    return ", ".join(shown) if shown else NONE


def days(value: Decimal | None) -> str:
    """A number of days to one decimal (durations are exact until shown)."""
    return NONE if value is None else f"{value:.1f}"


def percent(rate: Decimal | None) -> str:
    """A rate (0 to 1) as a percentage to one decimal; None (0 / 0) as ``-``."""
    return NONE if rate is None else f"{rate * 100:.1f}%"


def print_json(data: Any) -> None:
    """``data`` (plain JSON-able data, as :func:`sfakit.codec.to_data` gives) on stdout."""
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def write_atomically(path: Path, write: Callable[[TextIO], T]) -> T:
    """Call ``write`` on a file beside ``path``, then rename it over ``path``: a failure
    never leaves a half-written file where a good one was. The file gets the usual
    permissions (0666 less the umask), not the private ones of a temporary file."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            result = write(out)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return result
