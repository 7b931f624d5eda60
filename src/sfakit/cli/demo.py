"""``sfakit demo``: the whole library at work on a made-up book, in one command.

Without ``--db`` it writes ``sfakit-demo.db`` in the current folder (a previous demo
database of that name is replaced) and the notifications to ``sfakit-demo-events.log``
beside it. With ``--db`` the storage must be empty: the demo never mixes its made-up
records with real ones.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Final

from sfakit.cli.output import print_json, write_atomically

__all__ = ["DEFAULT_FILE", "demo"]

#: The demo's database when ``--db`` is not given.
DEFAULT_FILE: Final = "sfakit-demo.db"
#: Where the demo's notifications go when ``--db`` is not given.
EVENTS_FILE: Final = "sfakit-demo-events.log"


def _fresh_default() -> tuple[str, Path]:
    database = Path(DEFAULT_FILE).resolve()
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    events = database.with_name(EVENTS_FILE)
    events.unlink(missing_ok=True)
    return f"sqlite:///{database}", events


def _check_empty(url: str) -> None:
    import sfakit  # noqa: PLC0415 - keeps `sfakit --help` instant
    from sfakit.errors import ValidationError  # noqa: PLC0415
    from sfakit.model import SalesRep, Setting  # noqa: PLC0415

    with sfakit.open(url, load_entry_points=False) as sfa, sfa.transaction(readonly=True) as tx:
        if tx.count(SalesRep) or tx.count(Setting):
            raise ValidationError(
                "--db",
                url,
                "an empty storage: the demo writes a made-up book and never mixes it with "
                f"real records (run it without --db to use {DEFAULT_FILE})",
            )


def demo(args: argparse.Namespace) -> int:
    """Run the demo and print what it did and the sales report."""
    from sfakit.cli.connect import shown_url  # noqa: PLC0415
    from sfakit.demo import SIZES, Progress, run_demo  # noqa: PLC0415
    from sfakit.report import render_html, render_text  # noqa: PLC0415

    given: str | None = getattr(args, "db", None)
    if given:
        _check_empty(given)
        url, events = given, None
    else:
        url, events = _fresh_default()
    today: date = args.today or datetime.now(UTC).date()
    size = SIZES[args.size]
    progress = Progress(sys.stderr, quiet=args.quiet or args.json)
    if not (args.quiet or args.json):
        print(
            f"sfakit demo: a {size.name} book of business (seed {args.seed}), "
            f"six months up to {today.isoformat()}, in {shown_url(url)}",
            file=sys.stderr,
        )
    started = time.perf_counter()
    result = run_demo(
        url, seed=args.seed, today=today, size=size, progress=progress, events_log=events
    )
    seconds = time.perf_counter() - started
    if args.html:
        page = render_html(result.report)
        write_atomically(Path(args.html), lambda out: out.write(page))
    if args.json:
        from sfakit.codec import to_data  # noqa: PLC0415

        print_json(
            {
                "url": shown_url(url),
                "seed": args.seed,
                "today": today.isoformat(),
                "size": size.name,
                "stored": result.stored,
                "run": to_data(result.run),
                "report": to_data(result.report),
                "seconds": round(seconds, 1),
            }
        )
        return 0
    print(_summary(result.stored, result.run))
    print(render_text(result.report))
    print(_next_steps(shown_url(url), events, args.html, seconds))
    return 0


def _summary(stored: dict[str, int], run: object) -> str:
    from sfakit.demo import DemoRun  # noqa: PLC0415

    assert isinstance(run, DemoRun)
    made = ", ".join(f"{count:,} {what}" for what, count in stored.items())
    lines = [
        "What happened",
        "=============",
        f"Made up: {made}.",
        f"Six months through the service: {run.deals_opened:,} deals opened and "
        f"{run.deals_moved:,} moves through the pipeline; {run.leads_scored:,} new leads "
        f"routed ({run.leads_routed:,} to a rep, {run.leads_queued:,} to a queue) and "
        f"scored ({run.leads_qualified:,} qualified).",
        f"The scheduler placed {run.orders_placed:,} standing-order orders (each "
        f"occurrence once), made {run.follow_up_tasks:,} follow-up tasks and "
        f"{run.customer_emails:,} customer emails, and sent {run.reminders:,} reminders; "
        f"{run.events_delivered:,} notifications went to the log.",
        "",
    ]
    return "\n".join(lines)


def _next_steps(url: str, events: Path | None, html: str | None, seconds: float) -> str:
    lines = ["", f"Done in {seconds:.0f} s."]
    if events is not None:
        lines.append(f"Notifications: {events}")
    if html:
        lines.append(f"HTML report: {html}")
    lines += [
        "Look further:",
        f"  sfakit --db {url} analytics lost",
        f"  sfakit --db {url} report --html report.html",
        f"  sfakit --db {url} analytics cycle --by owner_id",
    ]
    return "\n".join(lines)
