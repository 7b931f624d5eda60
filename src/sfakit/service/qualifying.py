"""Lead qualification through the service (being written)."""

from __future__ import annotations

__all__ = ["Qualifying"]


class Qualifying:
    """Mixed into :class:`~sfakit.Sfa`: capture, scoring, prediction, enrichment."""
