"""The demo end to end, small: its report agrees with the library's own answers, every
standing-order occurrence was ordered once, and the command works as a subprocess."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from tests.backends.conftest import postgres_schemas  # noqa: F401 - fixture

import sfakit
from sfakit import ManualClock, Sfa
from sfakit.demo import SIZES, DemoResult, Progress, run_demo
from sfakit.model import Order, StandingOrder
from sfakit.pipeline import cycle_time, funnel, losses, win_rate
from sfakit.storage.common import every_page

TODAY = date(2026, 11, 25)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    folder = tmp_path_factory.mktemp("demo")
    bars = io.StringIO()
    result = run_demo(
        f"sqlite:///{folder}/demo.db",
        seed=7,
        today=TODAY,
        size=SIZES["small"],
        progress=Progress(bars),
        events_log=folder / "events.log",
    )
    assert "Living six months" in bars.getvalue()
    return result


@pytest.fixture
def sfa(demo: DemoResult) -> Iterator[Sfa]:
    # The service as it stood when the report was written.
    with sfakit.open(demo.url, clock=ManualClock(demo.report.as_of)) as service:
        yield service


def test_the_report_is_what_the_library_answers(demo: DemoResult, sfa: Sfa) -> None:
    report = demo.report
    assert report.no_data == ()
    assert report.funnel is not None
    assert report.losses is not None
    assert report.cycle is not None
    assert report.leads is not None
    assert report.forecast is not None
    assert report.standing_orders is not None
    steps = sfa.analyse(funnel, cumulative=True).steps
    assert [(s.stage, s.reached) for s in report.funnel.stages] == [
        (s.stage, s.reached) for s in steps
    ]
    lost = sfa.analyse(losses)
    assert report.losses.lost == lost.lost
    assert [(row.stage, row.lost) for row in report.losses.stages] == [
        (row.stage, row.deals) for row in lost.rows
    ]
    rate = sfa.analyse(win_rate)
    days = sfa.analyse(cycle_time)
    assert (report.cycle.won, report.cycle.lost, report.cycle.win_rate) == (
        rate.won,
        rate.lost,
        rate.rate,
    )
    assert (report.cycle.average_days, report.cycle.median_days) == (days.mean, days.median)
    table = sfa.lead_conversion("region")
    assert [(r.region, r.leads, r.converted) for r in report.leads.regions] == [
        (row.key, row.leads, row.converted) for row in table.rows
    ]
    assert report.leads.leads == SIZES["small"].leads
    simulation = sfa.forecast_range(report.period.name, seed=demo.seed, runs=report.forecast.runs)
    assert (report.forecast.p10, report.forecast.p50, report.forecast.p90) == (
        simulation.p10,
        simulation.p50,
        simulation.p90,
    )
    assert report.period.name == "FY2027-Q1"  # the quarter after 25 November 2026


def test_every_occurrence_was_ordered_once_and_every_message_logged(
    demo: DemoResult, sfa: Sfa
) -> None:
    with sfa.transaction(readonly=True) as tx:
        orders = every_page(tx, Order)
        standing = every_page(tx, StandingOrder)
    keys = Counter(order.occurrence_key for order in orders if order.occurrence_key)
    assert sum(keys.values()) == demo.run.orders_placed > 0
    assert max(keys.values()) == 1
    assert all(s.handled_until is not None for s in standing)
    assert demo.events_log is not None
    lines = demo.events_log.read_text(encoding="utf-8").splitlines()
    assert len(lines) == demo.run.events_delivered > 0
    assert {line.split()[0] for line in lines} >= {"order.placed", "lead.assigned"}


def test_the_run_did_what_a_sales_team_does(demo: DemoResult) -> None:
    run = demo.run
    assert run.leads_routed + run.leads_queued == run.leads_scored > 0
    assert run.deals_opened > 0
    assert run.deals_moved > run.deals_opened
    assert run.follow_up_tasks > 0
    assert run.reminders > 0


def _sfakit(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sfakit.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src"), **(env or {})},
        check=False,
    )


def test_the_command_prints_the_report_and_replaces_its_own_database(tmp_path: Path) -> None:
    first = _sfakit("demo", "--size", "small", "--today", "2026-11-25", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    for heading in (
        "Where deals are lost",
        "Sales cycle",
        "Lead conversion by region",
        "Forecast FY2027-Q1",
        "Standing orders due next week",
    ):
        assert heading in first.stdout
    assert "Living six months, day by day" in first.stderr  # one line per step off a tty
    assert (tmp_path / "sfakit-demo.db").exists()
    again = _sfakit(
        "demo",
        "--size",
        "small",
        "--today",
        "2026-11-25",
        "--json",
        "--html",
        "r.html",
        cwd=tmp_path,
    )
    assert again.returncode == 0, again.stderr
    data = json.loads(again.stdout)
    assert data["stored"]["leads"] == SIZES["small"].leads
    assert data["report"]["leads"]["leads"] == SIZES["small"].leads  # not doubled
    assert "<svg" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_the_command_refuses_a_storage_with_records(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/mine.db"
    with sfakit.open(url) as sfa:
        sfa.create(sfakit.model.SalesRep, name="Real Person")
    ran = _sfakit("demo", "--size", "small", "--db", url, cwd=tmp_path)
    assert ran.returncode == 1
    assert "sfakit: error: --db" in ran.stderr
    assert "an empty storage" in ran.stderr
    assert "Traceback" not in ran.stderr
    bad = _sfakit("demo", "--today", "25.11.2026", cwd=tmp_path)
    assert bad.returncode == 2
    assert "is not an ISO 8601 date" in bad.stderr


def test_the_demo_runs_on_postgresql(postgres_schemas: Callable[[], str]) -> None:  # noqa: F811
    url = postgres_schemas()
    result = run_demo(url, seed=3, today=TODAY, size=SIZES["small"], progress=Progress(quiet=True))
    assert result.report.no_data == ()
    with sfakit.open(url, clock=ManualClock(result.report.as_of)) as sfa:
        assert result.report.losses is not None
        assert result.report.losses.lost == sfa.analyse(losses).lost
        with sfa.transaction(readonly=True) as tx:
            keys = Counter(o.occurrence_key for o in every_page(tx, Order))
    assert max(keys.values()) == 1
    assert sum(keys.values()) == result.run.orders_placed
