"""A notifier that keeps what it was given, for tests and for embedding apps that poll.

>>> from datetime import datetime, timezone
>>> from sfakit.events import LeadCaptured
>>> inbox = MemoryNotifier()
>>> inbox.deliver(LeadCaptured(lead_id="lead_1",
...                            occurred_at=datetime(2026, 1, 1, tzinfo=timezone.utc)))
>>> [e.type for e in inbox.events]
['lead.captured']
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from sfakit.events import Event
from sfakit.notifiers import NotifierPlugin

__all__ = ["MemoryNotifier"]


class MemoryNotifier(NotifierPlugin):
    """Collects delivered events in ``events`` (thread-safe)."""

    name = "memory"

    def __init__(self, *, name: str | None = None, event_types: Iterable[str] = ()) -> None:
        super().__init__(name=name, event_types=event_types)
        self._lock = threading.Lock()
        self.events: list[Event] = []

    def deliver(self, event: Event) -> None:
        with self._lock:
            self.events.append(event)
