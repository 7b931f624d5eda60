"""sfakit: Sales Force Automation logic as a library.

The names most applications need are importable from here; the domain model lives in
:mod:`sfakit.model`, the criteria DSL in :mod:`sfakit.rules`, and the converter to and
from plain data in :mod:`sfakit.codec`.
"""

from __future__ import annotations

from sfakit.clock import Clock, ManualClock, SystemClock
from sfakit.codec import from_data, from_json, to_data, to_json
from sfakit.errors import (
    ConflictError,
    CurrencyMismatchError,
    DuplicateError,
    NotFoundError,
    PluginError,
    ScheduleError,
    SfaError,
    TransitionError,
    ValidationError,
)
from sfakit.hookspecs import hookspec
from sfakit.model import Money
from sfakit.plugins import hookimpl
from sfakit.service import Sfa, open_sfa

#: Open sfakit on a storage URL: ``sfakit.open("sqlite:///sfakit.db")``.
open = open_sfa

__version__ = "0.1.0"

__all__ = [
    "Clock",
    "ConflictError",
    "CurrencyMismatchError",
    "DuplicateError",
    "ManualClock",
    "Money",
    "Sfa",
    "NotFoundError",
    "PluginError",
    "ScheduleError",
    "SfaError",
    "SystemClock",
    "TransitionError",
    "ValidationError",
    "__version__",
    "from_data",
    "from_json",
    "hookimpl",
    "hookspec",
    "open",
    "to_data",
    "to_json",
]
