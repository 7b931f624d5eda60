"""Fixtures that give each test a fresh store on every built-in backend."""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import urlencode

import pytest

POSTGRES_HELP = (
    "PostgreSQL tests need a server: set SFAKIT_TEST_POSTGRES_DSN, e.g. "
    "SFAKIT_TEST_POSTGRES_DSN=postgresql://postgres@127.0.0.1:5432/test"
)


def postgres_dsn() -> str:
    dsn = os.environ.get("SFAKIT_TEST_POSTGRES_DSN")
    if not dsn:
        if os.environ.get("SFAKIT_REQUIRE_POSTGRES"):
            pytest.fail("SFAKIT_REQUIRE_POSTGRES is set but SFAKIT_TEST_POSTGRES_DSN is not")
        pytest.skip(POSTGRES_HELP)
    return dsn


@pytest.fixture
def postgres_schemas() -> Iterator[Callable[[], str]]:
    """Makes fresh PostgreSQL schemas and returns URLs bound to them; drops them afterwards."""
    psycopg = pytest.importorskip("psycopg")
    dsn = postgres_dsn()
    made: list[str] = []

    def make() -> str:
        schema = f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        made.append(schema)
        sep = "&" if "?" in dsn else "?"
        return f"{dsn}{sep}{urlencode({'options': f'-csearch_path={schema}', 'pool_max': 4})}"

    yield make
    with psycopg.connect(dsn, autocommit=True) as conn:
        for schema in made:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture
def sqlite_urls(tmp_path: object) -> Callable[[], str]:
    counter = itertools.count()
    return lambda: f"sqlite:///{tmp_path}/store{next(counter)}.db"
