"""``run-due`` makes one pass; ``worker`` makes them until a signal, and stops cleanly."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

import sfakit
from sfakit.events import LeadCaptured
from sfakit.model import Order
from sfakit.notifiers.memory import MemoryNotifier
from sfakit.service.outbox import emit

from .conftest import Cli
from .support import Book

#: Only a safety net against a hung child: no assertion depends on how long things take.
PATIENCE = 60.0


def test_run_due_makes_one_pass_and_says_what_it_did(cli: Cli, book: Book) -> None:
    ran = cli("--db", book.url, "run-due", "--now", "2026-03-31T12:00:00Z")
    assert ran.code == 0, ran.err
    lines = ran.out.splitlines()
    # The bulbs were due on 31 January and 31 March: both ordered, each placed.
    assert lines[0] == "standing orders  1 handled, 0 already taken by another run"
    assert lines[1] == "orders           2 created and placed, 0 earlier drafts placed"
    assert lines[2] == "skipped          0"
    assert lines[4] == "reminders        0 sent"
    assert lines[5].startswith("notifications    ")
    with sfakit.open(book.url, load_entry_points=False) as sfa:
        assert len(sfa.query(Order).items) == 2
    # Exactly once: the same pass again finds nothing due.
    again = cli("--db", book.url, "run-due", "--now", "2026-03-31T12:00:00Z", "--json")
    data = json.loads(again.out)
    assert (data["run"]["created"], data["run"]["handled"]) == ([], 0)
    assert data["dispatch"]["fanned_out"] == 0


def test_run_due_as_json_lists_the_orders(cli: Cli, book: Book) -> None:
    ran = cli("--db", book.url, "run-due", "--now", "2026-02-01", "--json")
    data = json.loads(ran.out)
    assert len(data["run"]["created"]) == 1
    assert data["run"]["follow_ups"] == {"tasks": [], "emails": [], "already": [], "unowned": []}
    assert data["dispatch"]["waiting"] >= 1  # no notifier installed: left in the outbox


# -- the worker, as a real process receiving real signals ----------------------------

#: Runs the command with ``Sfa.run_due`` held until the file ``release`` exists, and
#: each pass's start and end written to ``passes``: a pass under way, on demand.
HELD_PASS = """
import pathlib, sys, time
from sfakit.cli.main import main
from sfakit.service.sfa import Sfa

marks = pathlib.Path(sys.argv[1])
original = Sfa.run_due

def note(text):
    with (marks / "passes").open("a") as f:
        f.write(text + "\\n")

def run_due(self, *args, **kwargs):
    note("started")
    while not (marks / "release").exists():
        time.sleep(0.01)
    report = original(self, *args, **kwargs)
    note("finished")
    return report

Sfa.run_due = run_due
raise SystemExit(main(sys.argv[2:]))
"""


class Stream:
    """The lines of one of the worker's pipes, read as they come."""

    def __init__(self, pipe: IO[str]) -> None:
        self.pipe = pipe
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.pipe:
            self.lines.put(line)

    def expect(self, text: str) -> str:
        """The first line (from now on) containing ``text``."""
        deadline = time.monotonic() + PATIENCE
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=deadline - time.monotonic())
            except queue.Empty:
                break
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"the worker never said {text!r}; it said {self.seen}")

    def rest(self) -> str:
        self.reader.join(timeout=PATIENCE)
        self.pipe.close()
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return "".join(self.seen)


class Worker:
    """A worker process, its stdout and stderr."""

    def __init__(self, argv: list[str]) -> None:
        self.process = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        assert self.process.stderr is not None
        self.out = Stream(self.process.stdout)
        self.err = Stream(self.process.stderr)

    def signal(self, number: int) -> None:
        self.process.send_signal(number)

    def finish(self) -> tuple[int, str, str]:
        code = self.process.wait(timeout=PATIENCE)
        return code, self.out.rest(), self.err.rest()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def workers() -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.kill()


def _wait_for(path: Path, text: str) -> list[str]:
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        lines = path.read_text().split() if path.exists() else []
        if text in lines:
            return lines
        time.sleep(0.01)
    raise AssertionError(f"{path} never said {text!r}")


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_the_worker_works_then_stops_on_a_signal_while_it_waits(
    book: Book, workers: list[Worker], stop: signal.Signals
) -> None:
    # An hour between passes: only the signal can end the wait in time for the test.
    argv = [sys.executable, "-m", "sfakit.cli.main", "--db", book.url, "worker"]
    worker = Worker([*argv, "--interval", "3600"])
    workers.append(worker)
    worker.err.expect("started on")
    # Its first pass orders the bulbs due since January (the clock is the real one).
    assert " orders created" in worker.out.expect(" pass: ")
    worker.signal(stop)
    code, _, err = worker.finish()
    assert code == 0, err
    assert f"{stop.name} received: stopping after the current pass" in err
    assert f"stopped on {stop.name} after 1 pass" in err
    with sfakit.open(book.url, load_entry_points=False) as sfa:
        assert len(sfa.query(Order).items) >= 5


def test_a_signal_during_a_pass_lets_it_finish_then_the_worker_exits_0(
    book: Book, workers: list[Worker], tmp_path: Path
) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    argv = [sys.executable, "-c", HELD_PASS, str(marks), "--db", book.url, "worker"]
    worker = Worker([*argv, "--interval", "0.01"])
    workers.append(worker)
    _wait_for(marks / "passes", "started")
    worker.signal(signal.SIGTERM)
    worker.err.expect("SIGTERM received: stopping after the current pass")
    # The pass is still held: the worker waits for it rather than dropping it.
    assert worker.process.poll() is None
    (marks / "release").touch()
    code, _, err = worker.finish()
    assert code == 0, err
    assert (marks / "passes").read_text().split() == ["started", "finished"]
    assert "stopped on SIGTERM after 1 pass" in err


def test_a_second_signal_stops_the_worker_at_once_with_130(
    book: Book, workers: list[Worker], tmp_path: Path
) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    argv = [sys.executable, "-c", HELD_PASS, str(marks), "--db", book.url, "worker"]
    worker = Worker([*argv, "--interval", "0.01"])
    workers.append(worker)
    _wait_for(marks / "passes", "started")
    worker.signal(signal.SIGINT)
    worker.err.expect("SIGINT received")
    worker.signal(signal.SIGINT)
    code, _, err = worker.finish()
    assert code == 130, err
    assert err.rstrip().endswith("sfakit: interrupted")
    # The pass was cut short where it stood: it never finished and ordered nothing.
    assert (marks / "passes").read_text().split() == ["started"]
    with sfakit.open(book.url, load_entry_points=False) as sfa:
        assert sfa.query(Order).items == ()


# -- without a notifier installed, events stay in the outbox -------------------------


def test_run_due_without_notifiers_leaves_the_events_and_warns(cli: Cli, book: Book) -> None:
    ran = cli("--db", book.url, "run-due", "--now", "2026-03-31T12:00:00Z", "--json")
    assert ran.code == 0, ran.err
    data = json.loads(ran.out)
    waiting = data["dispatch"]["waiting"]
    assert waiting >= 2  # at least the two orders placed
    assert data["dispatch"]["fanned_out"] == 0
    assert ran.err == (
        f"sfakit: warning: no notifier installed: {waiting} events left in the outbox "
        "for a dispatcher with notifiers\n"
    )
    inbox = MemoryNotifier()
    with sfakit.open(book.url, plugins=[inbox], load_entry_points=False) as sfa:
        recorded = [event.id for _, event in sfa.events()]
        assert len(recorded) == waiting
        assert sfa.dispatch_pending().delivered == waiting
        assert sfa.dispatch_pending().idle
    assert sorted(event.id for event in inbox.events) == sorted(recorded)  # each once


def test_run_due_with_nothing_waiting_warns_of_nothing(cli: Cli, url: str) -> None:
    ran = cli("--db", url, "run-due")
    assert (ran.code, ran.err) == (0, "")


def test_the_worker_warns_once_while_the_same_events_wait(
    book: Book, workers: list[Worker]
) -> None:
    argv = [sys.executable, "-m", "sfakit.cli.main", "--db", book.url, "worker"]
    worker = Worker([*argv, "--interval", "0.01"])
    workers.append(worker)
    first = worker.err.expect("sfakit: warning: no notifier installed: ")
    waiting = int(first.split("installed: ")[1].split()[0])
    with sfakit.open(book.url, load_entry_points=False) as sfa, sfa.transaction() as tx:
        emit(tx, [LeadCaptured(lead_id="lead_new", occurred_at=sfa.now())])
    worker.err.expect(f"no notifier installed: {waiting + 1} events left")
    worker.signal(signal.SIGTERM)
    code, _, err = worker.finish()
    assert code == 0, err
    # Said when the number changed, not on each of the passes in between.
    assert err.count("no notifier installed") == 2
    with sfakit.open(book.url, load_entry_points=False) as sfa:
        assert sfa.dispatch_pending().waiting == len(sfa.events()) == waiting + 1
