"""Which storage a command works on, and opening sfakit on it.

The URL comes from ``--db``, else the environment variable ``SFAKIT_DATABASE_URL``,
else ``sqlite:///sfakit.db`` (a file in the current folder) — the order of the
twelve-factor "config in the environment" convention, with the flag winning as in
``psql``/``DATABASE_URL`` tools. Opening migrates the storage (see
:func:`sfakit.storage.sql.migrate`).

>>> shown_url("postgresql://sales:secret@db.example.com/crm")
'postgresql://sales:***@db.example.com/crm'
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from sfakit.clock import Clock
    from sfakit.service import Sfa

__all__ = ["DEFAULT_URL", "ENVIRONMENT_VARIABLE", "database_url", "opened", "shown_url"]

#: The storage used when neither ``--db`` nor the environment names one.
DEFAULT_URL: Final = "sqlite:///sfakit.db"
#: The environment variable that names the storage when ``--db`` is not given.
ENVIRONMENT_VARIABLE: Final = "SFAKIT_DATABASE_URL"


def database_url(args: argparse.Namespace) -> str:
    """``--db``, else ``$SFAKIT_DATABASE_URL`` (if not empty), else :data:`DEFAULT_URL`."""
    given: str | None = getattr(args, "db", None)
    return given or os.environ.get(ENVIRONMENT_VARIABLE) or DEFAULT_URL


def shown_url(url: str) -> str:
    """``url`` with its password hidden, fit to print or log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


@contextmanager
def opened(args: argparse.Namespace, *, clock: Clock | None = None) -> Iterator[Sfa]:
    """sfakit opened on the command's storage (closed when the block ends)."""
    import sfakit  # noqa: PLC0415 - keeps `sfakit --version` and `--help` instant

    with sfakit.open(database_url(args), clock=clock) as sfa:
        yield sfa
