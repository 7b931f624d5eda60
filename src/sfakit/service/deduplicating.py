"""Duplicates, merges and lead conversion through the service (being written)."""

from __future__ import annotations

__all__ = ["Deduplicating"]


class Deduplicating:
    """Mixed into :class:`~sfakit.Sfa`: finding duplicates, merging, converting leads."""
