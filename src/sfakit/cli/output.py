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
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

# One way to show values, shared with the sales report's text.
from sfakit.report._format import NONE, days, moneys, percent, table

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


def amount(money: Money | None) -> str:
    """A money amount with thousands separators, without its currency (the table's
    heading names it): ``1,500.00``."""
    return NONE if money is None else f"{money.amount:,}"


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
