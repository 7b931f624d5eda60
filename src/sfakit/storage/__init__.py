"""The storage contract that every backend plugin fulfils, and what backends share.

:mod:`sfakit.storage.api` defines the protocol; :mod:`sfakit.storage.catalog` says which
entity fields are indexed; backends live in :mod:`sfakit.backends`.
"""

from __future__ import annotations

from sfakit.storage.api import (
    AggregateRow,
    Capability,
    In,
    IsNull,
    NotNull,
    Page,
    Range,
    Storage,
    StreamEntry,
    Transaction,
    WorkItem,
    WorkStatus,
)
from sfakit.storage.catalog import CATALOG, IndexKind, IndexSpec, KindSpec, kind_spec

__all__ = [
    "CATALOG",
    "AggregateRow",
    "Capability",
    "In",
    "IndexKind",
    "IndexSpec",
    "IsNull",
    "KindSpec",
    "NotNull",
    "Page",
    "Range",
    "Storage",
    "StreamEntry",
    "Transaction",
    "WorkItem",
    "WorkStatus",
    "kind_spec",
]
