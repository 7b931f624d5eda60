"""``Sfa``: every business operation is one storage transaction.

An operation loads what it needs, calls the pure domain code, and saves with the
versions it loaded, so a concurrent change makes it fail with
:class:`~sfakit.errors.ConflictError` instead of being overwritten. Where the service
itself keeps derived data up to date (an account's last interaction), it retries the
whole operation a few times on such a conflict, since no user decision is at stake.

>>> import sfakit
>>> with sfakit.open("memory://") as sfa:
...     acme = sfa.create(sfakit.model.Account, name="Acme")
...     acme.version
1
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Final, Self, TypeVar

import attrs
import pluggy

from sfakit.clock import Clock, SystemClock, require_aware
from sfakit.errors import ConflictError, NotFoundError, PluginError, ValidationError
from sfakit.events import Event, OrderPlaced, event_from_data
from sfakit.model import (
    Account,
    Contact,
    ContactRole,
    Entity,
    Interaction,
    Order,
)
from sfakit.notifiers import Notifier
from sfakit.pipeline import PipelineSet, standard_pipeline
from sfakit.plugins import call_hook, plugin_manager, storage_schemes
from sfakit.service.analytics import PipelineAnalytics
from sfakit.service.deduplicating import Deduplicating
from sfakit.service.followups import FollowUps
from sfakit.service.forecasting import Forecasting
from sfakit.service.interactions import record_interaction, touch_account
from sfakit.service.ordering import Ordering
from sfakit.service.outbox import (
    EVENTS_STREAM,
    OUTBOX_QUEUE,
    DeliveryStatus,
    Dispatcher,
    DispatchReport,
    RetryPolicy,
    delivery_queue,
    emit,
)
from sfakit.service.qualifying import Qualifying
from sfakit.service.routing import Routing
from sfakit.service.scheduling import Scheduling
from sfakit.storage.api import IsNull, Page, Range, Storage, Transaction, Where
from sfakit.storage.common import CHANGES, every_page

__all__ = ["Change", "Sfa", "open_sfa"]

E = TypeVar("E", bound=Entity)
R = TypeVar("R")

#: How often an operation that only refreshes derived data is retried on a conflict.
DERIVED_RETRIES: Final = 5


@attrs.frozen
class Change:
    """One entry of the change feed: which record changed, to which version, how."""

    position: int
    kind: str
    id: str
    version: int
    op: str  # insert, update or delete
    at: datetime


class Sfa(
    PipelineAnalytics,
    Routing,
    Forecasting,
    Ordering,
    Scheduling,
    FollowUps,
    Qualifying,
    Deduplicating,
):
    """The sfakit application service. Make one with :func:`sfakit.open`.

    It owns the storage backend (closed by :meth:`close` or on leaving a ``with``
    block), the clock, and the plugin manager.
    """

    def __init__(
        self,
        storage: Storage,
        *,
        clock: Clock,
        plugins: pluggy.PluginManager,
        retry_policy: RetryPolicy | None = None,
        pipelines: PipelineSet | None = None,
    ) -> None:
        self.storage = storage
        self.pipelines = pipelines or PipelineSet((standard_pipeline(),))
        self.clock = clock
        self.plugins = plugins
        self.notifiers = _collect_notifiers(plugins)
        self.dispatcher = Dispatcher(storage, self.notifiers, now=self.now, policy=retry_policy)
        self._closed = False

    # -- lifecycle ------------------------------------------------------------------

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.storage.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Sfa({self.storage!r})"

    def now(self) -> datetime:
        return require_aware(self.clock.now(), "$.clock.now()")

    @contextmanager
    def transaction(self, *, readonly: bool = False) -> Iterator[Transaction]:
        """A raw storage transaction, for work the service has no operation for."""
        with self.storage.transaction(readonly=readonly) as tx:
            yield tx

    def _retrying(self, operation: Callable[[Transaction], R]) -> R:
        for attempt in range(DERIVED_RETRIES):
            try:
                with self.storage.transaction() as tx:
                    return operation(tx)
            except ConflictError:
                if attempt == DERIVED_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    # -- any entity -----------------------------------------------------------------

    def create(self, kind: type[E], **fields: Any) -> E:
        """Build and store a new ``kind`` with ``fields``; timestamps come from the clock."""
        now = self.now()
        entity = kind(created_at=fields.pop("created_at", now), updated_at=now, **fields)
        return self.insert(entity)

    def insert(self, entity: E) -> E:
        """Store a new entity built by the caller (version 0)."""
        with self.storage.transaction() as tx:
            return tx.insert(entity)

    def get(self, kind: type[E], id: str) -> E:
        """The stored entity, or NotFoundError."""
        with self.storage.transaction(readonly=True) as tx:
            return tx.get(kind, id)

    def save(self, entity: E) -> E:
        """Store a changed entity read at ``entity.version``; stamps ``updated_at``.

        A client that edited an old copy gets a ConflictError carrying the version the
        server holds now, and nothing is overwritten.
        """
        stamped = entity.evolve(updated_at=max(self.now(), entity.created_at))
        with self.storage.transaction() as tx:
            return tx.update(stamped)

    def update(self, kind: type[E], id: str, *, expected_version: int, **changes: Any) -> E:
        """Apply ``changes`` to the stored entity if it is still at ``expected_version``."""
        if "version" in changes or "id" in changes:
            raise ValidationError("$.changes", sorted(changes), "fields other than id and version")
        with self.storage.transaction() as tx:
            current = tx.get(kind, id)
            if current.version != expected_version:
                raise ConflictError(
                    kind.__name__,
                    id,
                    expected_version=expected_version,
                    current_version=current.version,
                )
            changed = current.evolve(updated_at=max(self.now(), current.created_at), **changes)
            return tx.update(changed)

    def query(
        self,
        kind: type[E],
        *,
        where: Where | None = None,
        order_by: str = "id",
        descending: bool = False,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[E]:
        """One page of ``kind`` filtered on indexed fields (see :mod:`sfakit.storage.api`)."""
        with self.storage.transaction(readonly=True) as tx:
            return tx.query(
                kind,
                where=where,
                order_by=order_by,
                descending=descending,
                limit=limit,
                cursor=cursor,
            )

    def changes(self, *, after: int = 0, limit: int = 1000) -> list[Change]:
        """The change feed after position ``after``, in commit order (for sync clients)."""
        with self.storage.transaction(readonly=True) as tx:
            entries = tx.read(CHANGES, after=after, limit=limit)
        return [
            Change(
                position=e.position,
                kind=str(e.data["kind"]),
                id=str(e.data["id"]),
                version=int(e.data["version"]),
                op=str(e.data["op"]),
                at=e.recorded_at,
            )
            for e in entries
        ]

    # -- events and notifications ---------------------------------------------------

    def events(self, *, after: int = 0, limit: int = 1000) -> list[tuple[int, Event]]:
        """Recorded events after stream position ``after``, as (position, event) pairs."""
        with self.storage.transaction(readonly=True) as tx:
            entries = tx.read(EVENTS_STREAM, after=after, limit=limit)
        return [(e.position, event_from_data(e.data)) for e in entries]

    def dispatch_pending(self) -> DispatchReport:
        """One dispatcher pass: fan out new events, deliver every due delivery once."""
        return self.dispatcher.run_once()

    def run_dispatcher(self, stop: threading.Event, *, interval: float = 1.0) -> DispatchReport:
        """Dispatch until ``stop`` is set (for a worker process or thread)."""
        return self.dispatcher.run_forever(stop, interval=interval)

    def delivery_status(self, event_id: str) -> list[DeliveryStatus]:
        """Where an event stands with each notifier that accepts it."""
        with self.storage.transaction(readonly=True) as tx:
            outbox = tx.work_status(OUTBOX_QUEUE, event_id)
            if outbox is None:
                raise NotFoundError("Event", event_id)
            return self.dispatcher.status(tx, event_id, str(outbox.payload["type"]))

    def dead_deliveries(self, notifier: str | None = None) -> list[DeliveryStatus]:
        """Deliveries given up on, with their last error (all notifiers, or one)."""
        names = [notifier] if notifier is not None else list(self.notifiers)
        found = []
        with self.storage.transaction(readonly=True) as tx:
            for name in names:
                for work in tx.work_in(delivery_queue(name), state="dead", limit=10_000):
                    found.append(
                        DeliveryStatus(work.key, name, "dead", work.attempt, None, work.error)
                    )
        return found

    def redrive(self, event_id: str, notifier: str) -> bool:
        """Try a dead delivery again (now); False if it was not dead."""
        if notifier not in self.notifiers:
            raise ValidationError("$.notifier", notifier, f"one of {', '.join(self.notifiers)}")
        with self.storage.transaction() as tx:
            return tx.redrive(delivery_queue(notifier), event_id, due_at=self.now())

    # -- contacts and history -------------------------------------------------------

    def contacts_of(self, account_id: str, *, role: ContactRole | None = None) -> list[Contact]:
        """The account's contacts (only those with ``role`` when given), by last name.

        "Who is this customer's purchasing agent?" is
        ``sfa.contacts_of(acme.id, role=ContactRole.PURCHASING_AGENT)``.
        """
        with self.storage.transaction(readonly=True) as tx:
            contacts = every_page(
                tx, Contact, where={"account_id": account_id}, order_by="last_name"
            )
        if role is None:
            return contacts
        return [c for c in contacts if role in c.roles]

    def log_interaction(self, **fields: Any) -> Interaction:
        """Record what happened with a contact or account, and refresh the account's
        ``last_interaction_at``. ``occurred_at`` defaults to now.

        A contact's interaction counts for the contact's account too.
        """
        now = self.now()
        fields.setdefault("occurred_at", now)
        fields.setdefault("created_at", now)

        def operation(tx: Transaction) -> Interaction:
            return record_interaction(tx, Interaction(**fields), now)

        return self._retrying(operation)

    def record_order(self, order: Order) -> Order:
        """Store a new order and refresh its account's ``last_order_at``.

        Full order management (placing, confirming, shipping) builds on this.
        """
        now = self.now()

        def operation(tx: Transaction) -> Order:
            stored = tx.insert(order)
            moment = stored.placed_at or stored.created_at
            touch_account(tx, stored.account_id, "last_order_at", moment, now)
            contact = None if stored.contact_id is None else tx.find(Contact, stored.contact_id)
            emit(
                tx,
                [
                    OrderPlaced(
                        order_id=stored.id,
                        account_id=stored.account_id,
                        confirmation_number=stored.confirmation_number,
                        total=stored.total,
                        contact_email=contact.emails[0] if contact and contact.emails else None,
                        occurred_at=now,
                    )
                ],
            )
            return stored

        return self._retrying(operation)

    def timeline(
        self,
        *,
        contact_id: str | None = None,
        account_id: str | None = None,
        newest_first: bool = True,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[Interaction]:
        """A contact's or an account's interactions in time order, one page at a time."""
        where = _one_owner(contact_id, account_id)
        with self.storage.transaction(readonly=True) as tx:
            return tx.query(
                Interaction,
                where=where,
                order_by="occurred_at",
                descending=newest_first,
                limit=limit,
                cursor=cursor,
            )

    def last_interaction(
        self, *, contact_id: str | None = None, account_id: str | None = None
    ) -> Interaction | None:
        """When did we last contact X? The latest interaction, or None if there was none."""
        page = self.timeline(contact_id=contact_id, account_id=account_id, limit=1)
        return page.items[0] if page.items else None

    def dormant_accounts(self, *, since: datetime, without: str = "order") -> list[Account]:
        """Accounts with no ``"order"`` or no ``"interaction"`` at or after ``since``.

        Accounts that never had one are included. Served by an index on the account's
        ``last_order_at`` / ``last_interaction_at``.
        """
        require_aware(since, "$.since")
        fields = {"order": "last_order_at", "interaction": "last_interaction_at"}
        if without not in fields:
            raise ValidationError("$.without", without, "'order' or 'interaction'")
        field = fields[without]
        with self.storage.transaction(readonly=True) as tx:
            never = every_page(tx, Account, where={field: IsNull()}, order_by="id")
            before = every_page(tx, Account, where={field: Range(high=since)}, order_by="id")
        return sorted(never + before, key=lambda a: a.id)


def _collect_notifiers(pm: pluggy.PluginManager) -> dict[str, Notifier]:
    found: dict[str, Notifier] = {}
    for group in call_hook(pm, "sfakit_notifiers"):
        for notifier in group:
            if not isinstance(notifier, Notifier):
                raise PluginError(
                    f"sfakit_notifiers returned {notifier!r}, which is not a notifier "
                    "(it needs name, accepts(event_type) and deliver(event))",
                    hook="sfakit_notifiers",
                )
            if notifier.name in found:
                raise PluginError(
                    f"two notifiers are named {notifier.name!r}; give one another name",
                    hook="sfakit_notifiers",
                )
            found[notifier.name] = notifier
    return found


def _one_owner(contact_id: str | None, account_id: str | None) -> Where:
    if (contact_id is None) == (account_id is None):
        raise ValidationError("$.contact_id", contact_id, "exactly one of contact_id or account_id")
    return {"contact_id": contact_id} if contact_id is not None else {"account_id": account_id}


def open_sfa(
    url: str = "sqlite:///sfakit.db",
    *,
    clock: Clock | None = None,
    plugins: tuple[object, ...] | list[object] = (),
    load_entry_points: bool = True,
    retry_policy: RetryPolicy | None = None,
    pipelines: PipelineSet | None = None,
) -> Sfa:
    """Open sfakit on the storage at ``url`` (see :func:`sfakit.open`)."""
    if not isinstance(url, str) or "://" not in url:
        raise ValidationError("$.url", url, "a storage URL such as sqlite:///sfakit.db")
    pm = plugin_manager(plugins, load_entry_points=load_entry_points)
    storage = call_hook(pm, "sfakit_open_storage", url=url)
    if storage is None:
        offered = storage_schemes(pm)
        scheme = url.split("://", 1)[0]
        listing = ", ".join(f"{s}:// ({', '.join(names)})" for s, names in sorted(offered.items()))
        raise PluginError(
            f"no installed plugin opens storage for scheme {scheme!r}; available: {listing}",
            hook="sfakit_open_storage",
        )
    return Sfa(
        storage,
        clock=clock or SystemClock(),
        plugins=pm,
        retry_policy=retry_policy,
        pipelines=pipelines,
    )
