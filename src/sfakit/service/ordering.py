"""Order operations of the service (being written)."""

from __future__ import annotations

__all__ = ["Ordering"]


class Ordering:
    """Mixed into :class:`~sfakit.Sfa`: placing, paying, shipping and returning orders."""
