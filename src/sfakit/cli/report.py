"""``sfakit report``: the sales report of the stored book, as text, JSON or an HTML page.

The report is :func:`sfakit.report.collect_report`'s: the funnel, where deals are lost
and the sales cycle of ``--pipeline``, lead conversion by region, the forecast range of
``--period`` (by default the quarter after the one of ``--as-of``) and the standing
orders due in the week after ``--as-of``. Text goes to stdout; ``--json`` prints
:func:`sfakit.codec.to_data` of the report instead; ``--html FILE`` writes the page
(whole or not at all: beside FILE, then renamed over it) and says so on stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sfakit.cli.connect import opened
from sfakit.cli.output import print_json, write_atomically
from sfakit.codec import to_data
from sfakit.report import collect_report, render_html, render_text

__all__ = ["report", "write_page"]


def write_page(path: Path, page: str) -> None:
    """Write ``page`` to ``path`` through a file beside it, renamed over it once
    complete, so that a failure never leaves half a page."""
    write_atomically(path, lambda out: out.write(page))


def report(args: argparse.Namespace) -> int:
    """Collect the report, then print it (text or ``--json``) and/or write ``--html``."""
    with opened(args) as sfa:
        sales = collect_report(
            sfa,
            as_of=args.as_of,
            period=args.period,
            pipeline=args.pipeline,
            seed=args.seed,
            runs=args.runs,
            currency=args.currency,
        )
    if args.html:
        write_page(Path(args.html), render_html(sales))
        print(f"wrote {args.html}", file=sys.stderr)
    if args.json:
        print_json(to_data(sales))
    elif not args.html:
        sys.stdout.write(render_text(sales))
    return 0
