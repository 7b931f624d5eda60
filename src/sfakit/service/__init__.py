"""The application service: one place that composes storage, clock, plugins and the core."""

from __future__ import annotations

from sfakit.service.sfa import Change, Sfa, open_sfa

__all__ = ["Change", "Sfa", "open_sfa"]
