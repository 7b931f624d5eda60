"""The report's book, on memory:// and on a SQLite file: the service answers the same."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import NamedTuple

import pytest

import sfakit
from sfakit import ManualClock, Sfa

from .support import T0, Book, build


class Opened(NamedTuple):
    sfa: Sfa
    book: Book


@pytest.fixture(params=["memory", "sqlite"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'crm.db'}"


@pytest.fixture
def stocked(url: str) -> Iterator[Opened]:
    clock = ManualClock(T0 - timedelta(days=90))
    with sfakit.open(url, clock=clock, load_entry_points=False) as sfa:
        book = build(sfa, clock)
        yield Opened(sfa, book)


@pytest.fixture
def empty() -> Iterator[Sfa]:
    with sfakit.open("memory://", clock=ManualClock(T0), load_entry_points=False) as sfa:
        yield sfa
