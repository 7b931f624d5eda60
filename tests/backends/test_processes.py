"""Several worker processes claiming due work from one database take each item once."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

import sfakit

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ITEMS = 200
WORKERS = 4


def _worker(url: str, name: str, results: multiprocessing.Queue[list[str]]) -> None:
    done: list[str] = []
    with sfakit.open(url, load_entry_points=False) as sfa:
        while True:
            with sfa.transaction() as tx:
                items = tx.claim_due("jobs", now=T0, worker=name, lease=timedelta(hours=1), limit=3)
            if not items:
                break
            for item in items:
                with sfa.transaction() as tx:
                    tx.complete(item)
                    tx.append("done", {"key": item.key, "worker": name}, at=T0)
                done.append(item.key)
    results.put(done)


def _run_workers(url: str) -> list[str]:
    with sfakit.open(url, load_entry_points=False) as sfa, sfa.transaction() as tx:
        for i in range(ITEMS):
            tx.enqueue("jobs", f"job-{i:04d}", due_at=T0, payload={"i": i})
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue[list[str]] = context.Queue()
    processes = [
        context.Process(target=_worker, args=(url, f"proc-{n}", results)) for n in range(WORKERS)
    ]
    for p in processes:
        p.start()
    collected: list[str] = []
    for _ in processes:
        collected.extend(results.get(timeout=120))
    for p in processes:
        p.join(timeout=60)
        assert p.exitcode == 0
    return collected


def _assert_each_item_once(url: str, collected: list[str]) -> None:
    counts = Counter(collected)
    assert len(counts) == ITEMS
    assert max(counts.values()) == 1
    with sfakit.open(url, load_entry_points=False) as sfa, sfa.transaction(readonly=True) as tx:
        logged = [e.data["key"] for e in tx.read("done", limit=10_000)]
    assert sorted(logged) == sorted(collected)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_worker_processes_take_each_due_item_exactly_once(
    backend: str, request: pytest.FixtureRequest
) -> None:
    fixture = "sqlite_urls" if backend == "sqlite" else "postgres_schemas"
    make_url: Callable[[], str] = request.getfixturevalue(fixture)
    url = make_url()
    collected = _run_workers(url)
    _assert_each_item_once(url, collected)
