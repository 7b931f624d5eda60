"""A toy third-party storage backend: ``jsonfile:///path/store.json``.

It keeps the in-memory backend's data structures and writes them to one JSON file
after every committed transaction, and reads them back on open. Its transactions are
the memory backend's, so queries, ``aggregate`` and ``values`` (its
``Capability.AGGREGATE``) come with them. It is slow and single-process, but it is a
real, persistent backend, and it passes sfakit's storage conformance suite (see
``test_jsonfile.py`` beside it). Install it with its
``pyproject.toml`` and sfakit finds it through the ``sfakit`` entry-point group.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sfakit import from_data, hookimpl, to_data
from sfakit.backends.memory import MemoryStorage, MemoryTransaction, _State
from sfakit.model import ENTITY_TYPES
from sfakit.storage.api import StreamEntry
from sfakit.storage.catalog import entity_index_values, kind_spec

# Every connection to one file in this process shares one state (and its lock).
OPEN_FILES: dict[Path, _State] = {}


class JsonFileStorage(MemoryStorage):
    def __init__(self, url: str, path: Path) -> None:
        path = path.resolve()
        if path not in OPEN_FILES:
            OPEN_FILES[path] = _load(path) if path.exists() else _State()
        super().__init__(url, state=OPEN_FILES[path])
        self.path = path

    @contextmanager
    def transaction(self, *, readonly: bool = False) -> Iterator[MemoryTransaction]:
        with super().transaction(readonly=readonly) as tx:
            yield tx
            if not readonly:  # still under the store's lock: the file matches the commit
                _save(self._state, self.path)


def _save(state: _State, path: Path) -> None:
    doc = {
        "rows": {k: [to_data(e) for e, _ in t.values()] for k, t in state.rows.items()},
        "keys": [[ns, key, value] for (ns, key), value in state.keys.items()],
        "streams": {
            s: [[e.data, e.recorded_at.isoformat()] for e in es] for s, es in state.streams.items()
        },
        "work": [
            [
                q,
                k,
                {
                    **r,
                    "due_at": r["due_at"].isoformat(),
                    "lease_until": r["lease_until"] and r["lease_until"].isoformat(),
                },
            ]
            for (q, k), r in state.work.items()
        ],
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc))
    tmp.replace(path)  # atomic on POSIX: a crash leaves the old file or the new one


def _load(path: Path) -> _State:
    doc: dict[str, Any] = json.loads(path.read_text())
    state = _State()
    for kind, rows in doc["rows"].items():
        spec = kind_spec(kind)
        for data in rows:
            entity = from_data(ENTITY_TYPES[kind], data)
            values = entity_index_values(spec, entity)
            state.rows.setdefault(kind, {})[entity.id] = (entity, values)
            for ix in spec.indexes:
                if ix.unique and ix.field != "id" and values[ix.field] is not None:
                    state.unique.setdefault(kind, {})[(ix.field, values[ix.field])] = entity.id
    state.keys = {(ns, key): value for ns, key, value in doc["keys"]}
    for stream, entries in doc["streams"].items():
        state.streams[stream] = [
            StreamEntry(stream, n, data, datetime.fromisoformat(at))
            for n, (data, at) in enumerate(entries, start=1)
        ]
    for queue, key, record in doc["work"]:
        record["due_at"] = datetime.fromisoformat(record["due_at"])
        record["lease_until"] = record["lease_until"] and datetime.fromisoformat(
            record["lease_until"]
        )
        state.work[(queue, key)] = record
    return state


@hookimpl
def sfakit_storage_schemes() -> list[str]:
    return ["jsonfile"]


@hookimpl
def sfakit_open_storage(url: str) -> JsonFileStorage | None:
    if not url.startswith("jsonfile://"):
        return None
    return JsonFileStorage(url, Path(url.removeprefix("jsonfile://")))
