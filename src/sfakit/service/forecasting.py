"""Forecasting through the service (being written)."""

from __future__ import annotations

__all__ = ["Forecasting"]


class Forecasting:
    """Mixed into :class:`~sfakit.Sfa`: forecasts over the stored deals."""
