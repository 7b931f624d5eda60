"""A notifier that writes each event to the standard ``logging`` module.

>>> import logging
>>> LogNotifier(level=logging.DEBUG).logger.name
'sfakit.events'
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable

from sfakit.events import Event, event_to_data
from sfakit.notifiers import NotifierPlugin

__all__ = ["LogNotifier"]


class LogNotifier(NotifierPlugin):
    """Logs ``<type> <id> <data as JSON>`` to the ``sfakit.events`` logger."""

    name = "log"

    def __init__(
        self,
        *,
        name: str | None = None,
        event_types: Iterable[str] = (),
        logger: logging.Logger | None = None,
        level: int = logging.INFO,
    ) -> None:
        super().__init__(name=name, event_types=event_types)
        self.logger = logger or logging.getLogger("sfakit.events")
        self.level = level

    def deliver(self, event: Event) -> None:
        envelope = event_to_data(event)
        self.logger.log(
            self.level,
            "%s %s %s",
            event.type,
            event.id,
            json.dumps(envelope["data"], ensure_ascii=False, sort_keys=True),
        )
