"""What is particular to the SQLite backend: files, schema versions, locking."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sfakit.backends.sqlite import open_sqlite
from sfakit.errors import SchemaVersionError, StorageError, ValidationError
from sfakit.model import Account
from sfakit.storage.sql import SCHEMA_VERSION

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_the_schema_version_is_recorded_and_the_journal_is_wal(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    open_sqlite(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as conn:
        (version,) = conn.execute(
            "SELECT value FROM sfakit_meta WHERE key='schema_version'"
        ).fetchone()
        (mode,) = conn.execute("PRAGMA journal_mode").fetchone()
    assert int(version) == SCHEMA_VERSION
    assert mode == "wal"


def test_reopening_keeps_the_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    store = open_sqlite(url)
    with store.transaction() as tx:
        acme = tx.insert(Account(name="Acme", created_at=T0))
    store.close()
    store = open_sqlite(url)
    with store.transaction(readonly=True) as tx:
        assert tx.get(Account, acme.id) == acme
    store.close()


def test_a_database_written_by_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    open_sqlite(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as conn:
        conn.execute(
            "UPDATE sfakit_meta SET value = ? WHERE key = 'schema_version'",
            (str(SCHEMA_VERSION + 1),),
        )
    with pytest.raises(SchemaVersionError) as info:
        open_sqlite(f"sqlite:///{path}")
    assert info.value.found == SCHEMA_VERSION + 1
    assert "upgrade sfakit" in str(info.value)


def test_a_writer_locked_out_past_the_busy_timeout_gets_a_storage_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}?busy_timeout=200"
    holder, waiter = open_sqlite(url), open_sqlite(url)
    started, release = threading.Event(), threading.Event()

    def hold_the_write_lock() -> None:
        with holder.transaction() as tx:
            tx.insert(Account(name="Holder", created_at=T0))
            started.set()
            release.wait(10)

    thread = threading.Thread(target=hold_the_write_lock)
    thread.start()
    started.wait(10)
    try:
        with pytest.raises(StorageError) as info, waiter.transaction() as tx:
            tx.insert(Account(name="Waiter", created_at=T0))
        assert "locked" in str(info.value)
    finally:
        release.set()
        thread.join()
    with waiter.transaction(readonly=True) as tx:
        assert [a.name for a in tx.query(Account).items] == ["Holder"]
    holder.close()
    waiter.close()


def test_in_memory_sqlite_works_across_threads() -> None:
    store = open_sqlite("sqlite:///:memory:")
    results: list[int] = []

    def write(n: int) -> None:
        with store.transaction() as tx:
            tx.insert(Account(name=f"A{n}", created_at=T0))
        results.append(n)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with store.transaction(readonly=True) as tx:
        assert tx.count(Account) == 4
    store.close()


@pytest.mark.parametrize(
    "url",
    ["sqlite://host/x.db", "sqlite:///", "sqlite:///x.db?busy_timeout=soon"],
)
def test_malformed_urls_are_validation_errors(url: str) -> None:
    with pytest.raises(ValidationError) as info:
        open_sqlite(url)
    assert info.value.path.startswith("$.url")


def test_a_missing_folder_is_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError) as info:
        open_sqlite(f"sqlite:///{tmp_path}/nope/s.db")
    assert "does not exist" in str(info.value)


def test_a_closed_storage_refuses_work(tmp_path: Path) -> None:
    store = open_sqlite(f"sqlite:///{tmp_path / 's.db'}")
    store.close()
    with pytest.raises(ValidationError), store.transaction():
        pass
