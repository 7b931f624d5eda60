"""An ``Sfa`` on each built-in backend, with a manual clock."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from tests.backends.conftest import postgres_schemas, sqlite_urls  # noqa: F401 - fixtures

import sfakit
from sfakit import ManualClock, Sfa

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def storage_url(
    request: pytest.FixtureRequest,
) -> str:
    if request.param == "memory":
        return f"memory://{uuid.uuid4().hex}"
    if request.param == "sqlite":
        make: Callable[[], str] = request.getfixturevalue("sqlite_urls")
        return make()
    make = request.getfixturevalue("postgres_schemas")
    return make()


@pytest.fixture
def sfa(storage_url: str, clock: ManualClock) -> Iterator[Sfa]:
    with sfakit.open(storage_url, clock=clock, load_entry_points=False) as service:
        yield service
