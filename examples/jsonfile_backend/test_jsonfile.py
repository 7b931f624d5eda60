"""The toy backend runs sfakit's storage conformance suite, as any backend author would."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sfakit_jsonfile

import sfakit
from sfakit.model import Account
from sfakit.storage.api import Storage
from sfakit.testing.storage import StorageConformance


class TestJsonFileBackend(StorageConformance):
    @pytest.fixture
    def make_store(self, tmp_path: Path) -> Callable[[], Callable[[], Storage]]:
        counter = itertools.count()

        def make() -> Callable[[], Storage]:
            url = f"jsonfile://{tmp_path}/store{next(counter)}.json"
            return lambda: sfakit_jsonfile.sfakit_open_storage(url=url)

        return make


def test_data_survives_reopening_the_file(tmp_path: Path) -> None:
    url = f"jsonfile://{tmp_path}/crm.json"
    now = datetime(2026, 1, 1, tzinfo=UTC)
    options = {"plugins": [sfakit_jsonfile], "load_entry_points": False}
    with sfakit.open(url, **options) as sfa:
        acme = sfa.create(Account, name="Acme", created_at=now)
    sfakit_jsonfile.OPEN_FILES.clear()  # as if in a new process: read from the file
    with sfakit.open(url, **options) as sfa:
        assert sfa.get(Account, acme.id) == acme
        assert [c.op for c in sfa.changes()] == ["insert"]
