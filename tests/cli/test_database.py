"""``init``, ``export`` and ``import``: the storage, and every entity out and back in."""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sfakit
from sfakit import ManualClock
from sfakit.cli.database import records
from sfakit.codec import to_data
from sfakit.errors import DuplicateError
from sfakit.model import ENTITY_TYPES, Entity, Lead
from sfakit.storage.sql import SCHEMA_VERSION
from sfakit.testing import strategies as sfa_st

from .conftest import Cli
from .support import T0, Book


def _lines(text: str) -> list[str]:
    return text.splitlines()


# -- init ------------------------------------------------------------------------------


def test_init_creates_the_database_and_names_backend_and_schema(cli: Cli, url: str) -> None:
    ran = cli("--db", url, "init")
    assert ran.code == 0
    assert ran.out.splitlines() == [
        f"storage       {url}",
        "backend       sfakit.backends.sqlite.SqliteStorage",
        f"schema        version {SCHEMA_VERSION} (up to date)",
        "capabilities  aggregate, concurrent_workers",
    ]
    assert Path(url.removeprefix("sqlite:///")).exists()
    # Running it again on a migrated database changes nothing and says the same.
    assert cli("--db", url, "init").out == ran.out


def test_init_as_json(cli: Cli) -> None:
    ran = cli("--db", "memory://init-json", "init", "--json")
    assert json.loads(ran.out) == {
        "url": "memory://init-json",
        "backend": "sfakit.backends.memory.MemoryStorage",
        "schema_version": None,
        "capabilities": ["aggregate"],
    }


# -- export ----------------------------------------------------------------------------


def test_export_writes_every_entity_as_one_json_line_kinds_in_order_ids_sorted(
    cli: Cli, book: Book
) -> None:
    ran = cli("--db", book.url, "export")
    assert ran.code == 0
    lines = [json.loads(line) for line in _lines(ran.out)]
    assert all(set(line) == {"kind", "data"} for line in lines)
    kinds = [line["kind"] for line in lines]
    order = list(ENTITY_TYPES)
    assert kinds == sorted(kinds, key=order.index)
    for kind in set(kinds):
        ids = [line["data"]["id"] for line in lines if line["kind"] == kind]
        assert ids == sorted(ids)
    with sfakit.open(book.url, load_entry_points=False) as sfa:
        lead = sfa.get(Lead, book.lead_at)
        assert {"kind": "Lead", "data": to_data(lead)} in lines
        stored = sum(len(sfa.query(kind, limit=10_000).items) for kind in ENTITY_TYPES.values())
    assert len(lines) == stored
    assert ran.err == f"exported {stored} records (" + ran.err.split("(", 1)[1]


def test_export_to_a_file_replaces_it_whole(cli: Cli, book: Book, tmp_path: Path) -> None:
    target = tmp_path / "dump.jsonl"
    target.write_text("old contents\n")
    ran = cli("--db", book.url, "export", "--out", str(target))
    assert ran.code == 0
    assert ran.out.startswith("exported ")
    assert ran.out.rstrip().endswith(f"to {target}")
    assert target.read_text(encoding="utf-8") == cli("--db", book.url, "export").out
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_an_export_that_fails_leaves_the_old_file(
    cli: Cli, book: Book, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "dump.jsonl"
    target.write_text("old contents\n")

    def broken(sfa: object) -> object:
        yield "Lead", {}
        raise sfakit.errors.StorageError("the disk went away")

    monkeypatch.setattr("sfakit.cli.database.records", broken)
    ran = cli("--db", book.url, "export", "--out", str(target))
    assert (ran.code, ran.err) == (1, "sfakit: error: the disk went away\n")
    assert target.read_text() == "old contents\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


# -- the round trip --------------------------------------------------------------------


def test_a_book_survives_export_and_import_line_for_line(
    cli: Cli, book: Book, tmp_path: Path
) -> None:
    first = cli("--db", book.url, "export", "--out", str(tmp_path / "one.jsonl"))
    assert first.code == 0
    copy = f"sqlite:///{tmp_path / 'copy.db'}"
    loaded = cli("--db", copy, "import", str(tmp_path / "one.jsonl"))
    assert loaded.code == 0, loaded.err
    assert loaded.out.startswith("imported ")
    again = cli("--db", copy, "export")
    assert again.out == (tmp_path / "one.jsonl").read_text(encoding="utf-8")
    # Versions were kept: deals moved through stages are at versions above 1.
    versions = [json.loads(line)["data"]["version"] for line in _lines(again.out)]
    assert max(versions) > 1


def _store(url: str, entities: list[Entity], bumps: list[int]) -> None:
    with sfakit.open(url, clock=ManualClock(T0), load_entry_points=False) as sfa:
        for entity, bump in zip(entities, bumps, strict=False):
            try:
                stored = sfa.insert(entity.evolve(version=0))
            except DuplicateError:  # a unique field drawn twice (sku, setting name…)
                continue
            with sfa.transaction() as tx:
                for _ in range(bump):
                    stored = tx.update(stored)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    entities=st.lists(sfa_st.entities(), min_size=1, max_size=16, unique_by=lambda e: e.id),
    bumps=st.lists(st.integers(0, 3), max_size=16),
)
def test_export_import_export_is_the_identity_on_sqlite(
    entities: list[Entity], bumps: list[int]
) -> None:
    from sfakit.cli.main import main

    with tempfile.TemporaryDirectory() as folder:
        one, two = (f"sqlite:///{Path(folder) / name}" for name in ("one.db", "two.db"))
        dump = Path(folder) / "dump.jsonl"
        _store(one, entities, bumps)
        assert main(["--db", one, "export", "--out", str(dump)]) == 0
        assert main(["--db", two, "import", str(dump)]) == 0
        with sfakit.open(one, load_entry_points=False) as a, sfakit.open(two) as b:
            exported = list(records(a))
            assert list(records(b)) == exported
        lines = dump.read_text(encoding="utf-8").splitlines()
        assert [json.loads(line) for line in lines] == [
            {"kind": kind, "data": data} for kind, data in exported
        ]


# -- bad imports -----------------------------------------------------------------------


def test_every_bad_line_is_reported_and_nothing_is_imported(
    cli: Cli, book: Book, tmp_path: Path, url: str
) -> None:
    good = _lines(cli("--db", book.url, "export").out)
    first_lead = next(line for line in good if json.loads(line)["kind"] == "Lead")
    lead = json.loads(first_lead)
    bad_lead = {"kind": "Lead", "data": {**lead["data"], "company_size": "big", "status": "hot"}}
    lines = [
        first_lead,
        "{not json",
        json.dumps({"kind": "Lion", "data": {}}),
        "",
        json.dumps(bad_lead),
        json.dumps({"kind": "Lead"}),
        first_lead,
        *(line for line in good if line != first_lead),
    ]
    dump = tmp_path / "bad.jsonl"
    dump.write_text("\n".join(lines) + "\n", encoding="utf-8")
    copy = f"sqlite:///{tmp_path / 'copy.db'}"
    ran = cli("--db", copy, "import", str(dump))
    assert ran.code == 1
    err = ran.err.splitlines()
    assert err[0].startswith(f"{dump}:2: $: got '{{not json'; expected a JSON object (")
    assert err[1].startswith(f"{dump}:3: $.kind: got 'Lion'; expected one of Account, Contact")
    assert err[2].startswith(f"{dump}:5: $.data.status: got 'hot'; expected one of new, ")
    assert err[3] == f"{dump}:5: $.data.company_size: got 'big'; expected a whole number"
    assert err[4] == f"""{dump}:6: $: got ['kind']; expected exactly the keys "kind" and "data\""""
    assert err[5] == f"{dump}:7: $.data.id: {lead['data']['id']!r} was already on line 1"
    assert err[6] == f"sfakit: error: {dump}: 5 bad lines; nothing was imported"
    assert len(err) == 7
    assert cli("--db", copy, "export").out == ""


def test_importing_records_that_exist_imports_nothing(cli: Cli, book: Book, tmp_path: Path) -> None:
    dump = tmp_path / "dump.jsonl"
    assert cli("--db", book.url, "export", "--out", str(dump)).code == 0
    before = cli("--db", book.url, "export").out
    ran = cli("--db", book.url, "import", str(dump))
    assert ran.code == 1
    assert ran.err.startswith("sfakit: error: ")
    assert ran.err.rstrip().endswith("nothing was imported (import into an empty database)")
    assert cli("--db", book.url, "export").out == before


def test_import_reads_stdin_given_a_dash(
    cli: Cli, book: Book, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dump = cli("--db", book.url, "export").out
    monkeypatch.setattr("sys.stdin", io.StringIO(dump))
    copy = f"sqlite:///{tmp_path / 'copy.db'}"
    ran = cli("--db", copy, "import", "-")
    assert ran.code == 0, ran.err
    assert cli("--db", copy, "export").out == dump


def test_a_file_that_is_not_utf8_is_refused(cli: Cli, tmp_path: Path, url: str) -> None:
    dump = tmp_path / "latin1.jsonl"
    dump.write_bytes('{"kind": "Lead", "data": {"last_name": "Müller"}}\n'.encode("latin-1"))
    ran = cli("--db", url, "import", str(dump))
    assert ran.code == 1
    assert ran.err.startswith(f"sfakit: error: {dump}: not UTF-8 text (")
    assert ran.err.rstrip().endswith("nothing was imported")
