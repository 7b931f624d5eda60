"""Every built-in backend passes the conformance suite that third-party backends run."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from sfakit.backends.memory import open_memory
from sfakit.backends.postgres import open_postgres
from sfakit.backends.sqlite import open_sqlite
from sfakit.storage.api import Storage
from sfakit.testing.storage import StorageConformance

Opener = Callable[[], Storage]


class TestMemoryBackend(StorageConformance):
    @pytest.fixture
    def make_store(self) -> Callable[[], Opener]:
        def make() -> Opener:
            url = f"memory://{uuid.uuid4().hex}"
            return lambda: open_memory(url)

        return make


class TestSqliteBackend(StorageConformance):
    @pytest.fixture
    def make_store(self, sqlite_urls: Callable[[], str]) -> Callable[[], Opener]:
        def make() -> Opener:
            url = sqlite_urls()
            return lambda: open_sqlite(url)

        return make


class TestPostgresBackend(StorageConformance):
    @pytest.fixture
    def make_store(self, postgres_schemas: Callable[[], str]) -> Callable[[], Opener]:
        def make() -> Opener:
            url = postgres_schemas()
            return lambda: open_postgres(url)

        return make


def test_every_built_in_backend_runs_the_suite() -> None:
    from sfakit.plugins import plugin_manager, storage_schemes

    covered = {
        cls.__name__
        for cls in (TestMemoryBackend, TestSqliteBackend, TestPostgresBackend)
        if issubclass(cls, StorageConformance)
    }
    assert covered == {"TestMemoryBackend", "TestSqliteBackend", "TestPostgresBackend"}
    schemes = set(storage_schemes(plugin_manager(load_entry_points=False)))
    assert schemes == {"memory", "sqlite", "postgres", "postgresql"}
