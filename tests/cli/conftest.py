"""Running ``sfakit`` in-process, and databases with something in them.

``cli(*argv)`` calls :func:`sfakit.cli.main.main` and returns its exit code with what
it printed; ``book`` is a SQLite database with a sales team, a territory tree, leads,
closed and open deals and a standing order; ``forecast_book`` one with the team, the
tree and deals closing in FY2027-Q1.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest

from sfakit.cli.connect import ENVIRONMENT_VARIABLE
from sfakit.cli.main import main

from .support import Book, seed, seed_forecast


class Ran(NamedTuple):
    code: int
    out: str
    err: str


Cli = Callable[..., Ran]


@pytest.fixture(autouse=True)
def _no_database_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Neither the developer's SFAKIT_DATABASE_URL nor ./sfakit.db may leak into a test.
    monkeypatch.delenv(ENVIRONMENT_VARIABLE, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    def run(*argv: str) -> Ran:
        capsys.readouterr()
        code = main(list(argv))
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    return run


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'crm.db'}"


@pytest.fixture
def book(url: str) -> Book:
    return seed(url)


@pytest.fixture
def forecast_book(url: str) -> str:
    seed_forecast(url)
    return url
