"""What is particular to the PostgreSQL backend: schema versions and lost connections."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from sfakit.backends.postgres import open_postgres
from sfakit.errors import SchemaVersionError, StorageError
from sfakit.model import Account
from sfakit.storage.sql import SCHEMA_VERSION

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_database_written_by_a_newer_schema_is_refused(
    postgres_schemas: Callable[[], str],
) -> None:
    url = postgres_schemas()
    store = open_postgres(url)
    with store._raw_transaction() as cur:
        cur.execute(
            "UPDATE sfakit_meta SET value = %s WHERE key = 'schema_version'",
            (str(SCHEMA_VERSION + 1),),
        )
    store.close()
    with pytest.raises(SchemaVersionError) as info:
        open_postgres(url)
    assert info.value.found == SCHEMA_VERSION + 1


def test_a_lost_connection_is_a_storage_error_and_nothing_is_half_written(
    postgres_schemas: Callable[[], str],
) -> None:
    store = open_postgres(postgres_schemas())
    killer = open_postgres(store.url)
    with pytest.raises(StorageError), store.transaction() as tx:
        tx.insert(Account(name="Half", created_at=T0))
        tx._cur.execute("SELECT pg_backend_pid()")
        (pid,) = tx._cur.fetchone()
        with killer._raw_transaction() as cur:
            cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
        tx.insert(Account(name="Never", created_at=T0))
    with store.transaction(readonly=True) as tx:
        assert tx.count(Account) == 0
    store.close()
    killer.close()


def test_an_unreachable_server_is_a_storage_error() -> None:
    with pytest.raises(StorageError) as info:
        open_postgres("postgresql://postgres@127.0.0.1:1/none?connect_timeout=1")
    assert "cannot connect" in str(info.value)
