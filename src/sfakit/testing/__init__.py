"""Helpers for testing code built on sfakit.

:mod:`sfakit.testing.strategies` holds Hypothesis strategies that generate valid
entities, value objects, ids, money and time-zone-aware datetimes, for property tests of
your own business rules. The helpers need Hypothesis (``pip install "sfakit[testing]"``);
this package itself imports nothing, so importing ``sfakit.testing`` never requires it.
"""

from __future__ import annotations

__all__: list[str] = []
