"""A thread per request, as ``socketserver.ThreadingMixIn`` and Flask's development server
run them, leaves no SQLite connection (two file descriptors each) behind."""

from __future__ import annotations

import gc
import os
import threading
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sfakit.backends.sqlite import SqliteStorage, open_sqlite
from sfakit.model import Account

T0 = datetime(2026, 1, 1, tzinfo=UTC)
REQUESTS = 200
#: Threads running at once: a busy server, yet few enough for a low ``ulimit -n``.
AT_ONCE = 25
FD_FOLDER = Path("/proc/self/fd")


def open_descriptors() -> int | None:
    """How many file descriptors the process has open; None where that is not known."""
    return len(os.listdir(FD_FOLDER)) if FD_FOLDER.is_dir() else None


def serve(requests: int, handle: Callable[[int], None]) -> list[BaseException]:
    """Runs ``handle(n)`` for each request in a thread of its own; returns what they raised."""
    errors: list[BaseException] = []

    def request(n: int) -> None:
        try:
            handle(n)
        except BaseException as exc:
            errors.append(exc)

    for first in range(0, requests, AT_ONCE):
        wave = [
            threading.Thread(target=request, args=(n,))
            for n in range(first, min(first + AT_ONCE, requests))
        ]
        for thread in wave:
            thread.start()
        for thread in wave:
            thread.join()
    return errors


def seeded(tmp_path: Path, accounts: int) -> SqliteStorage:
    store = open_sqlite(f"sqlite:///{tmp_path / 'x.db'}")
    with store.transaction() as tx:
        tx.insert_many(Account(name=f"Account {n}", created_at=T0) for n in range(accounts))
    return store


def test_threads_that_read_once_and_end_leave_no_connection_open(tmp_path: Path) -> None:
    store = seeded(tmp_path, accounts=7)
    before = open_descriptors()
    seen: list[list[str]] = []

    def read(n: int) -> None:
        with store.transaction(readonly=True) as tx:
            seen.append(sorted(a.name for a in tx.query(Account).items))

    assert serve(REQUESTS, read) == []
    assert len(seen) == REQUESTS
    assert all(names == [f"Account {n}" for n in range(7)] for names in seen)
    assert len(store._connections) <= 2  # the main thread's, and at most one in passing
    after = open_descriptors()
    if before is not None and after is not None:
        # A leak keeps two per request (400). SQLite itself may keep the file of a
        # connection closed while others hold locks, for the next one to reuse: at most
        # about one per thread running at once.
        assert after - before <= AT_ONCE
    with store.transaction(readonly=True) as tx:
        assert tx.count(Account) == 7
    store.close()


def test_threads_that_write_once_and_end_keep_their_writes(tmp_path: Path) -> None:
    store = seeded(tmp_path, accounts=0)

    def write(n: int) -> None:
        with store.transaction() as tx:
            tx.insert(Account(name=f"Request {n}", created_at=T0))

    assert serve(REQUESTS, write) == []
    assert len(store._connections) <= 2
    store.close()
    reopened = open_sqlite(store.url)
    with reopened.transaction(readonly=True) as tx:
        names = {a.name for a in tx.query(Account, limit=1000).items}
    assert names == {f"Request {n}" for n in range(REQUESTS)}
    reopened.close()


def test_a_living_thread_keeps_its_connection_while_others_end(tmp_path: Path) -> None:
    store = seeded(tmp_path, accounts=1)
    opened, others_done, finished = threading.Event(), threading.Event(), threading.Event()
    counts: list[int] = []

    def long_lived() -> None:
        with store.transaction(readonly=True) as tx:
            counts.append(tx.count(Account))
        opened.set()
        others_done.wait(60)
        with store.transaction() as tx:  # the same connection, still open
            tx.insert(Account(name="Later", created_at=T0))
            counts.append(tx.count(Account))
        finished.set()

    def read(n: int) -> None:
        with store.transaction(readonly=True) as tx:
            tx.count(Account)

    keeper = threading.Thread(target=long_lived)
    keeper.start()
    assert opened.wait(60)
    assert serve(50, read) == []
    assert len(store._connections) >= 2  # the main thread's and the living thread's
    others_done.set()
    keeper.join()
    assert finished.is_set()
    assert counts == [1, 2]
    assert len(store._connections) == 1  # the main thread's
    store.close()


def test_a_thread_ending_after_close_and_an_unclosed_storage_are_harmless(
    tmp_path: Path,
) -> None:
    store = seeded(tmp_path, accounts=1)
    opened, closed = threading.Event(), threading.Event()

    def read_then_outlive_the_storage() -> None:
        with store.transaction(readonly=True) as tx:
            tx.count(Account)
        opened.set()
        closed.wait(60)

    thread = threading.Thread(target=read_then_outlive_the_storage)
    thread.start()
    assert opened.wait(60)
    store.close()
    closed.set()
    thread.join()
    assert store._connections == {}

    forgotten = open_sqlite(store.url)
    with forgotten.transaction(readonly=True) as tx:
        assert tx.count(Account) == 1
    ref = weakref.ref(forgotten)
    del forgotten
    gc.collect()
    assert ref() is None  # a thread's connection does not keep its storage alive
