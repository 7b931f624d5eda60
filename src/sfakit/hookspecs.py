"""The hooks sfakit calls. A plugin implements any of them with :data:`sfakit.hookimpl`.

Every hook name starts with ``sfakit_``; every argument is passed by keyword, so a
plugin names only the arguments it needs. Built-in backends implement these hooks
exactly as third-party plugins do (see :mod:`sfakit.backends`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sfakit.model import Account, Lead, Order
    from sfakit.notifiers import Notifier
    from sfakit.orders import PaymentDecision
    from sfakit.service.qualifying import EnrichmentProposal
    from sfakit.storage.api import Storage

__all__ = [
    "hookspec",
    "sfakit_enrich_lead",
    "sfakit_notifiers",
    "sfakit_open_storage",
    "sfakit_storage_schemes",
    "sfakit_verify_payment",
]

#: Marks a function in this module as a hook specification.
hookspec = pluggy.HookspecMarker("sfakit")


@hookspec
def sfakit_storage_schemes() -> list[str]:
    """The URL schemes this plugin can open storage for, e.g. ``["sqlite"]``.

    Called to list what is available (``sfakit info`` and the error for an unknown
    scheme). Every plugin's list is collected.
    """
    raise NotImplementedError


@hookspec(firstresult=True)
def sfakit_open_storage(url: str) -> Storage | None:
    """Open a storage backend for ``url``, or return None if the scheme is not yours.

    Called once by :func:`sfakit.open`; the first plugin that returns a backend wins.
    Raise :class:`sfakit.errors.SfaError` subclasses for a URL you own but cannot
    open (a bad path, a database written by a newer schema).
    """
    raise NotImplementedError


@hookspec
def sfakit_notifiers() -> list[Notifier]:
    """The notifiers this plugin contributes: objects with a unique ``name``, an
    ``accepts(event_type)`` filter and a ``deliver(event)`` method.

    Called once when an :class:`~sfakit.Sfa` is opened; every plugin's list is
    collected. Each event is delivered to every notifier that accepts its type, each
    notifier tracked on its own, so one that fails never delays or repeats another.
    """
    raise NotImplementedError


@hookspec(firstresult=True)
def sfakit_verify_payment(order: Order, account: Account) -> PaymentDecision | None:
    """Decide whether a just-placed ``order`` of ``account`` may go ahead: return a
    :class:`~sfakit.orders.PaymentDecision` to approve it, hold it for manual approval,
    or decline it (always with a reason), or None to leave the decision to the next
    plugin.

    Called by ``Sfa.place_order`` inside the placing transaction, so keep it quick and
    do not write to sfakit's storage; the first plugin that returns a decision wins.
    The built-in :mod:`sfakit.default_payments` answers last: it approves orders on
    account terms and holds card orders.
    """
    raise NotImplementedError


@hookspec
def sfakit_enrich_lead(lead: Lead) -> Sequence[EnrichmentProposal] | None:
    """Propose values for fields of ``lead`` (a firmographic lookup by email domain, a
    company register, a postcode table): a list of
    :class:`~sfakit.service.qualifying.EnrichmentProposal` — field, value, confidence
    from 0 to 1, and the source it came from — or None (nothing to propose).

    Called by ``Sfa.enrich_lead`` outside any storage transaction, once per plugin (every
    plugin may propose; wrappers are not supported), so a plugin may call a remote
    service; do not write to sfakit's storage. The service, not the plugin, decides
    what is applied: by default only empty fields are filled, and each applied value is
    recorded with the plugin's name, the time, the confidence and the old and new value.
    Any exception, or a result that is not a list of proposals, becomes a
    :class:`~sfakit.errors.PluginError` naming the plugin and this hook.
    """
    raise NotImplementedError
