"""``sfakit report``: the sales report as text, JSON or one HTML page."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import sfakit
from sfakit.codec import from_data
from sfakit.pipeline import losses
from sfakit.report import SalesReport, Section

from .conftest import Cli
from .support import Book


def test_text_report(cli: Cli, book: Book) -> None:
    ran = cli("--db", book.url, "report", "--as-of", "2026-03-02")
    assert ran.code == 0, ran.err
    assert ran.out.startswith("Sales report as of 2026-03-02 00:00 UTC, pipeline standard\n")
    for heading in (
        "Where deals are lost",
        "Sales cycle",
        "Lead conversion by region",
        "Forecast FY2026-Q2 (2026-04-01 to 2026-06-30)",
        "Standing orders due next week",
    ):
        assert f"\n{heading}\n{'=' * len(heading)}\n" in ran.out
    assert "3 deals lost." in ran.out
    assert "prospect        1  33.3%  1 without amount  price (1)" in ran.out
    assert "propose         1  33.3%  1,000.00 EUR      competitor (1)" in ran.out
    # No exchange rates stored: the forecast says why it has no data.
    assert "no data: $.currency: got None; expected a currency code" in ran.out
    assert "1 due by 2026-03-09 00:00 UTC." in ran.out
    assert ran.err == ""


def test_json_report_round_trips(cli: Cli, book: Book) -> None:
    ran = cli("--db", book.url, "report", "--as-of", "2026-03-02T10:00:00+01:00", "--json")
    assert ran.code == 0, ran.err
    report = from_data(SalesReport, json.loads(ran.out))
    assert report.as_of.isoformat() == "2026-03-02T10:00:00+01:00"
    with sfakit.open(book.url, load_entry_points=False) as sfa:
        expected = sfa.analyse(losses)
    assert report.losses is not None
    assert [s.lost for s in report.losses.stages] == [row.deals for row in expected.rows]
    assert report.reason(Section.FORECAST) is not None
    assert report.standing_orders is not None
    assert [o.id for o in report.standing_orders.orders] == [book.standing_order]


def test_forecast_of_a_chosen_period_and_currency(cli: Cli, forecast_book: str) -> None:
    ran = cli(
        "--db", forecast_book, "report", "--period", "FY2027-Q1", "--currency", "EUR",
        "--seed", "3", "--runs", "300", "--json",
    )  # fmt: skip
    assert ran.code == 0, ran.err
    report = from_data(SalesReport, json.loads(ran.out))
    assert report.period.name == "FY2027-Q1"
    assert report.forecast is not None
    assert (report.forecast.seed, report.forecast.runs, report.forecast.deals) == (3, 300, 4)
    assert str(report.forecast.closed_won.amount) == "1000.00"


def test_html_report_is_written_to_the_file(cli: Cli, book: Book, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    ran = cli("--db", book.url, "report", "--as-of", "2026-03-02", "--html", str(page))
    assert ran.code == 0, ran.err
    assert ran.err == f"wrote {page}\n"
    assert ran.out == ""
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert html.count("<svg") == 2  # funnel and losses; the forecast has no data
    assert "no data: $.currency" in html
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_bad_period_is_an_error(cli: Cli, book: Book) -> None:
    ran = cli("--db", book.url, "report", "--period", "2027-Q1")
    assert ran.code == 1
    assert ran.out == ""
    assert ran.err.startswith("sfakit: error: $.period: got '2027-Q1'; expected a fiscal period")


def test_a_bad_as_of_is_a_usage_error(cli: Cli, book: Book) -> None:
    ran = cli("--db", book.url, "report", "--as-of", "2026-03-02T09:00:00")
    assert ran.code == 2
    assert "has no UTC offset" in ran.err


def test_the_console_script_runs_it(book: Book, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SFAKIT_DATABASE_URL"}
    done = subprocess.run(
        [sys.executable, "-m", "sfakit.cli.main", "--db", book.url, "report", "--as-of",
         "2026-03-02", "--runs", "100"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Where deals are lost" in done.stdout
    assert "Acme Lighting" in done.stdout
    failed = subprocess.run(
        [sys.executable, "-m", "sfakit.cli.main", "--db", book.url, "report", "--period", "Q1"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert failed.returncode == 1
    assert failed.stderr.startswith("sfakit: error: $.period: got 'Q1'")


def test_written_files_get_the_usual_permissions(cli: Cli, book: Book, tmp_path: Path) -> None:
    # Written through a private temporary file, but not left private: 0666 less the umask.
    previous = os.umask(0o022)
    try:
        page, export = tmp_path / "report.html", tmp_path / "book.jsonl"
        assert cli("--db", book.url, "report", "--html", str(page)).code == 0
        assert cli("--db", book.url, "export", "--out", str(export)).code == 0
    finally:
        os.umask(previous)
    assert page.stat().st_mode & 0o777 == 0o644
    assert export.stat().st_mode & 0o777 == 0o644
