"""``sfakit init``, ``sfakit export`` and ``sfakit import``: the storage itself.

**Export** writes every stored entity as one JSON line, ``{"kind": "Lead", "data":
{...}}``, ``data`` being :func:`sfakit.codec.to_data` of the entity (its ``version``
included). Kinds come in the order of :data:`sfakit.model.ENTITY_TYPES` (accounts
before the contacts that name them), each sorted by id, all read in one transaction: a
consistent snapshot, and the same database always gives the same bytes.

**Import** reads such lines into a database in **one transaction**: every line is
checked (all bad lines are reported, with their line numbers and field paths) and
nothing is written unless all are good. Each record keeps its ``version``: it is
inserted, then written again until it is at the version it had, since the storage
contract only lets a version grow one write at a time — so a client that read version 7
before the move can still save. Export, import into an empty database and export again
gives identical lines.

Events, the outbox, the change feed, claimed keys (reminders sent, follow-ups made) and
forecast submissions are history, not entities, and are not exported.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Final

from sfakit.cli.connect import database_url, opened, shown_url
from sfakit.cli.output import print_json, write_atomically
from sfakit.codec import from_data, to_data
from sfakit.errors import DuplicateError, SfaError, ValidationError
from sfakit.model import ENTITY_TYPES, Entity
from sfakit.service import Sfa
from sfakit.storage.api import Transaction
from sfakit.storage.sql import SCHEMA_VERSION, SqlTransaction

__all__ = ["export_records", "import_records", "init", "parse_line", "records"]

#: Records read per query while exporting, and inserted per statement while importing.
BATCH: Final = 500
#: Bad lines reported one by one before the rest are only counted.
MAX_SHOWN: Final = 100
_LINE_KEYS: Final = ("kind", "data")


# -- init ------------------------------------------------------------------------------


def init(args: argparse.Namespace) -> int:
    """Open (and so create or migrate) the storage; say what it is."""
    url = database_url(args)
    with opened(args) as sfa:
        storage = type(sfa.storage)
        with sfa.transaction(readonly=True) as tx:
            version = SCHEMA_VERSION if isinstance(tx, SqlTransaction) else None
        capabilities = sorted(c.value for c in sfa.storage.capabilities)
    backend = f"{storage.__module__}.{storage.__qualname__}"
    if args.json:
        print_json(
            {
                "url": shown_url(url),
                "backend": backend,
                "schema_version": version,
                "capabilities": capabilities,
            }
        )
        return 0
    print(f"storage       {shown_url(url)}")
    print(f"backend       {backend}")
    if version is None:
        print("schema        none (this backend has no schema to migrate)")
    else:
        print(f"schema        version {version} (up to date)")
    print(f"capabilities  {', '.join(capabilities) or 'none'}")
    return 0


# -- export ----------------------------------------------------------------------------


def records(sfa: Sfa) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every stored entity as ``(kind, data)``, kinds in :data:`ENTITY_TYPES` order, each
    by id, read in one transaction."""
    with sfa.transaction(readonly=True) as tx:
        for name, kind in ENTITY_TYPES.items():
            cursor: str | None = None
            while True:
                page = tx.query(kind, order_by="id", limit=BATCH, cursor=cursor)
                for entity in page.items:
                    yield name, to_data(entity)
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor


def _write(sfa: Sfa, out: IO[str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for name, data in records(sfa):
        out.write(json.dumps({"kind": name, "data": data}))  # ASCII: no raw line separators
        out.write("\n")
        counts[name] += 1
    return counts


def _summary(counts: Counter[str]) -> str:
    parts = ", ".join(f"{name} {counts[name]}" for name in ENTITY_TYPES if counts[name])
    total = sum(counts.values())
    return f"{total} record{'' if total == 1 else 's'}" + (f" ({parts})" if parts else "")


def export_records(args: argparse.Namespace) -> int:
    """Write every entity as JSON lines to ``--out`` (atomically) or stdout."""
    with opened(args) as sfa:
        if args.out is None:
            counts = _write(sfa, sys.stdout)
            sys.stdout.flush()
            print(f"exported {_summary(counts)}", file=sys.stderr)
            return 0
        target = Path(args.out)
        # Written beside the target and renamed over it: a failed export never leaves a
        # half-written file where a good one was.
        counts = write_atomically(target, lambda out: _write(sfa, out))
    print(f"exported {_summary(counts)} to {target}")
    return 0


# -- import ----------------------------------------------------------------------------


def parse_line(text: str) -> tuple[str, Entity]:
    """One export line as ``(kind, entity)``; a ValidationError names each bad field by
    path (``$.data.email``)."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValidationError("$", text[:40], f"a JSON object ({exc})") from None
    if not isinstance(data, dict):
        raise ValidationError("$", data, 'a JSON object {"kind": ..., "data": {...}}')
    extra = [key for key in data if key not in _LINE_KEYS]
    if extra or "kind" not in data or "data" not in data:
        raise ValidationError(
            "$", sorted(data), 'exactly the keys "kind" and "data"', subject="record"
        )
    name = data["kind"]
    kind = ENTITY_TYPES.get(name) if isinstance(name, str) else None
    if kind is None:
        raise ValidationError("$.kind", name, f"one of {', '.join(ENTITY_TYPES)}")
    try:
        return name, from_data(kind, data["data"])
    except ValidationError as exc:
        raise exc.under("$.data") from None


def _stored(tx: Transaction, entities: list[Entity]) -> None:
    tx.insert_many(entity.evolve(version=0) for entity in entities)
    for entity in entities:
        # The contract only lets a version grow by one per write.
        for version in range(1, entity.version):
            tx.update(entity.evolve(version=version))


class _Reader:
    """Checks lines, remembers ids, collects what is wrong with each bad line (one
    message per bad field, as a compiler lists each error with its line)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []
        self.bad = 0
        self.hidden = 0
        self.first_line: dict[str, int] = {}

    def complain(self, number: int, *messages: str) -> None:
        self.bad += 1
        for message in messages:
            if len(self.problems) < MAX_SHOWN:
                self.problems.append(f"{self.source}:{number}: {message}")
            else:
                self.hidden += 1

    def read(self, number: int, text: str) -> tuple[str, Entity] | None:
        try:
            name, entity = parse_line(text)
        except ValidationError as exc:
            self.complain(number, *(problem.describe() for problem in exc.problems))
            return None
        first = self.first_line.setdefault(entity.id, number)
        if first != number:
            self.complain(number, f"$.data.id: {entity.id!r} was already on line {first}")
            return None
        if entity.version < 1:
            self.complain(number, f"$.data.version: got {entity.version}; expected 1 or more")
            return None
        return name, entity


def _import(sfa: Sfa, lines: IO[str], reader: _Reader) -> Counter[str]:
    counts: Counter[str] = Counter()
    batch: list[Entity] = []
    with sfa.transaction() as tx:
        for number, text in enumerate(lines, start=1):
            if not text.strip():
                continue
            found = reader.read(number, text.rstrip("\r\n"))
            if found is None or reader.bad:
                continue  # keep checking, but write nothing once a line is bad
            counts[found[0]] += 1
            batch.append(found[1])
            if len(batch) >= BATCH:
                _stored(tx, batch)
                batch = []
        if reader.bad:
            raise _BadLinesError()
        _stored(tx, batch)
    return counts


class _BadLinesError(Exception):
    """Rolls the import back once every line has been checked."""


def import_records(args: argparse.Namespace) -> int:
    """Read an export into the storage, all or nothing."""
    source = "<stdin>" if args.file == "-" else args.file
    reader = _Reader(source)
    with contextlib.ExitStack() as stack:
        # The file first: a missing one must not leave a new empty database behind.
        lines = (
            sys.stdin
            if args.file == "-"
            else stack.enter_context(open(args.file, encoding="utf-8"))
        )
        sfa = stack.enter_context(opened(args))
        try:
            counts = _import(sfa, lines, reader)
        except UnicodeDecodeError as exc:
            raise SfaError(f"{source}: not UTF-8 text ({exc}); nothing was imported") from None
        except _BadLinesError:
            for problem in reader.problems:
                print(problem, file=sys.stderr)
            if reader.hidden:
                print(f"... and {reader.hidden} more problems", file=sys.stderr)
            raise SfaError(
                f"{source}: {reader.bad} bad line{'' if reader.bad == 1 else 's'}; "
                "nothing was imported"
            ) from None
        except DuplicateError as exc:
            raise SfaError(f"{exc}; nothing was imported (import into an empty database)") from exc
    print(f"imported {_summary(counts)} into {shown_url(database_url(args))}")
    return 0
