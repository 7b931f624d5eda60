"""Notifiers: where events go once their transaction has committed.

A notifier has a unique ``name``, says which event types it ``accepts``, and
``deliver``s one event at a time. Raising :class:`DeliveryError` with
``permanent=True`` gives up on that delivery at once (a 4xx from a webhook, a mailbox
that does not exist); any other exception is retried later with backoff.

Notifiers are plugins: subclass :class:`NotifierPlugin` and pass an instance in
``sfakit.open(url, plugins=[...])``, or install it under the ``sfakit`` entry points.

>>> from sfakit.notifiers.memory import MemoryNotifier
>>> notifier = MemoryNotifier()
>>> notifier.name, notifier.accepts("order.placed")
('memory', True)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from sfakit.errors import SfaError
from sfakit.plugins import hookimpl

if TYPE_CHECKING:
    from sfakit.events import Event

__all__ = ["DeliveryError", "Notifier", "NotifierPlugin"]


class DeliveryError(SfaError):
    """A delivery failed. ``permanent`` failures are not retried."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        self.permanent = permanent
        super().__init__(message)


@runtime_checkable
class Notifier(Protocol):
    """What the dispatcher needs of a notifier."""

    name: str

    def accepts(self, event_type: str) -> bool:
        """Whether events of this type should be delivered here."""
        ...

    def deliver(self, event: Event) -> None:
        """Deliver one event; raise to have it retried (or DeliveryError(permanent=True))."""
        ...


class NotifierPlugin:
    """Base class for notifiers: registers itself through the ``sfakit_notifiers`` hook.

    ``event_types`` limits what it accepts (all events when empty).
    """

    name: str = "notifier"

    def __init__(self, *, name: str | None = None, event_types: Iterable[str] = ()) -> None:
        if name is not None:
            self.name = name
        self.event_types = frozenset(event_types)

    def accepts(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types

    def deliver(self, event: Event) -> None:
        raise NotImplementedError

    @hookimpl
    def sfakit_notifiers(self) -> list[Notifier]:
        return [self]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"
