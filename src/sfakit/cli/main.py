"""The ``sfakit`` command: its arguments, which module runs each command, and exit codes.

Commands are looked up by name and their modules imported only when they run, so that
``sfakit --version`` and ``--help`` stay instant. Exit codes follow the usual
conventions: 0 done, 1 failed (an sfakit error, invalid data, problems found by
``rules check``), 2 wrong usage (argparse), 130 interrupted. Errors are printed as
``sfakit: error: <message>`` on stderr; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import platform
import sys
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from importlib import metadata
from typing import Final

__all__ = ["main"]

_DEPENDENCIES = ("attrs", "cattrs", "python-dateutil", "pluggy", "tzdata")
#: ``sfakit forecast --by`` values (those of :data:`sfakit.service.forecasting.GROUPINGS`).
FORECAST_GROUPINGS: Final = ("territory", "owner", "manager", "product_line")
#: ``sfakit rules check --ignore`` values (those of :class:`sfakit.territory.LintKind`).
LINT_KINDS: Final = ("shadowed", "tie", "unreachable", "inactive_member", "no_receiver")
#: The exit code of a command stopped by a signal it did not wait out (128 + SIGINT).
INTERRUPTED: Final = 130

_EPILOG = """\
storage: --db URL, else $SFAKIT_DATABASE_URL, else sqlite:///sfakit.db
exit codes: 0 done, 1 failed or problems found, 2 wrong usage, 130 interrupted
"""


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def _plugins() -> list[str]:
    from sfakit.plugins import plugin_manager, storage_schemes  # noqa: PLC0415

    pm = plugin_manager()
    schemes: dict[str, list[str]] = {}
    for scheme, names in storage_schemes(pm).items():
        for name in names:
            schemes.setdefault(name, []).append(f"{scheme}://")
    lines = []
    for name, _ in sorted(pm.list_name_plugin()):
        offers = f": storage {', '.join(sorted(schemes[name]))}" if name in schemes else ""
        lines.append(f"{name}{offers}")
    return lines


def info(args: argparse.Namespace) -> int:
    """Versions of Python, sfakit, its dependencies, and the plugins installed."""
    import sfakit  # noqa: PLC0415 - keep `sfakit --version` instant

    print(f"sfakit {sfakit.__version__}")
    print(f"python {platform.python_version()} ({sys.executable})")
    print(f"platform {platform.platform()}")
    print("dependencies:")
    for name in _DEPENDENCIES:
        print(f"  {name} {_version(name)}")
    print("optional:")
    for name in ("psycopg", "phonenumbers", "hypothesis"):
        print(f"  {name} {_version(name)}")
    plugins = _plugins()
    print("plugins (built-in, then entry-point group 'sfakit'):")
    for line in plugins or ["none installed"]:
        print(f"  {line}")
    return 0


# -- argument types ----------------------------------------------------------------------


def _moment(text: str) -> datetime:
    """An ISO 8601 datetime with a UTC offset, or a date (its midnight, UTC)."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 date or datetime "
            "(2026-03-02, or 2026-03-02T09:00:00+01:00)"
        ) from None
    if moment.utcoffset() is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} has no UTC offset, so it names no single moment: add one "
            "(+01:00, or Z for UTC)"
        )
    return moment


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 date (2026-11-25)") from None


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return seconds


# -- the parser --------------------------------------------------------------------------


def _common(*, top: bool) -> argparse.ArgumentParser:
    """``--db`` and ``--debug``, accepted before and after the command name. Below the
    top level they default to SUPPRESS, so that a command's parser does not overwrite
    what was given before its name."""
    parent = argparse.ArgumentParser(add_help=False)
    unset = None if top else argparse.SUPPRESS
    parent.add_argument(
        "--db",
        metavar="URL",
        default=unset,
        help="storage URL (default: $SFAKIT_DATABASE_URL, else sqlite:///sfakit.db)",
    )
    parent.add_argument(
        "--debug",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="show the traceback of an error",
    )
    return parent


def _json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def _command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    handler: str,
    help: str,
) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        name, help=help, description=help, parents=[_common(top=False)], epilog=_EPILOG
    )
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.set_defaults(handler=handler)
    return parser


def _demo_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = _command(
        commands,
        "demo",
        "sfakit.cli.demo:demo",
        "make up a realistic book of business, live six months of it, print the sales report",
    )
    demo.add_argument(
        "--size",
        choices=("small", "full"),
        default="full",
        help="full: 50 reps, 20k leads, 5k deals, 500 standing orders; small: a twentieth",
    )
    demo.add_argument("--seed", type=int, default=7, metavar="N", help="(default: 7)")
    demo.add_argument(
        "--today",
        type=_day,
        metavar="DATE",
        help="the last simulated day (default: today, UTC)",
    )
    demo.add_argument("--html", metavar="FILE", help="also write the report as an HTML page")
    demo.add_argument("--quiet", action="store_true", help="no progress bars")
    _json(demo)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sfakit",
        description="Sales Force Automation logic as a library.",
        parents=[_common(top=True)],
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version('sfakit')}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    _demo_command(commands)

    _command(
        commands,
        "info",
        "sfakit.cli.main:info",
        "show versions of Python, sfakit, its dependencies and plugins",
    )

    init = _command(
        commands,
        "init",
        "sfakit.cli.database:init",
        "create or migrate the storage; show its backend and schema version",
    )
    _json(init)

    run_due = _command(
        commands,
        "run-due",
        "sfakit.cli.scheduler:run_due",
        "one scheduler pass (orders, follow-ups, reminders), then dispatch notifications",
    )
    run_due.add_argument(
        "--now",
        type=_moment,
        metavar="MOMENT",
        help="run as if it were MOMENT (ISO 8601 with offset, or a date), e.g. to rehearse",
    )
    _json(run_due)

    worker = _command(
        commands,
        "worker",
        "sfakit.cli.scheduler:worker",
        "run-due and dispatch every --interval seconds until SIGTERM or SIGINT",
    )
    worker.add_argument(
        "--interval",
        type=_seconds,
        default=10.0,
        metavar="SECONDS",
        help="seconds between passes (default: 10)",
    )

    route = _command(
        commands,
        "route",
        "sfakit.cli.route:route",
        "route a lead: its territory and owner or queue, recorded",
    )
    route.add_argument("lead_id", metavar="LEAD_ID")
    route.add_argument("--explain", action="store_true", help="show every rule and member")
    _json(route)

    forecast = _command(
        commands,
        "forecast",
        "sfakit.cli.forecast:forecast",
        "forecast of fiscal periods: closed, commit, best case, pipeline, weighted",
    )
    forecast.add_argument(
        "--period",
        action="append",
        required=True,
        metavar="PERIOD",
        help="a fiscal period such as FY2027-Q1, FY2027-M02 or FY2027 (repeatable)",
    )
    forecast.add_argument("--by", choices=FORECAST_GROUPINGS, default="territory")
    forecast.add_argument(
        "--currency",
        metavar="CODE",
        help="ISO 4217 code (default: the exchange rates' corporate currency)",
    )
    _json(forecast)

    analytics = _command(
        commands,
        "analytics",
        "sfakit.cli.analytics:analytics",
        "pipeline analytics: the funnel, where deals are lost, the sales cycle",
    )
    analytics.add_argument(
        "metric",
        choices=("funnel", "lost", "cycle"),
        help="funnel: deals per stage reached; lost: where and why deals were lost; "
        "cycle: days from creation to close",
    )
    analytics.add_argument("--pipeline", metavar="KEY", help="default: the first pipeline")
    analytics.add_argument(
        "--by", metavar="FIELD", help="one result per value of an opportunity field (owner_id)"
    )
    analytics.add_argument("--since", type=_moment, metavar="MOMENT", help="window start")
    analytics.add_argument("--until", type=_moment, metavar="MOMENT", help="window end (excl.)")
    analytics.add_argument(
        "--cumulative", action="store_true", help="funnel: count every stage passed through"
    )
    analytics.add_argument(
        "--outcome",
        choices=("won", "lost", "closed"),
        default="won",
        help="cycle: which closed deals (default: won)",
    )
    _json(analytics)

    sales_report = _command(
        commands,
        "report",
        "sfakit.cli.report:report",
        "the sales report: funnel, where deals are lost, sales cycle, lead conversion by "
        "region, forecast range, standing orders due next week",
    )
    sales_report.add_argument(
        "--period",
        metavar="PERIOD",
        help="the fiscal period to forecast, such as FY2027-Q1 "
        "(default: the quarter after the one of --as-of)",
    )
    sales_report.add_argument(
        "--as-of",
        dest="as_of",
        type=_moment,
        metavar="MOMENT",
        help="the report's moment (ISO 8601 with offset, or a date; default: now)",
    )
    sales_report.add_argument("--pipeline", metavar="KEY", help="default: the first pipeline")
    sales_report.add_argument(
        "--currency",
        metavar="CODE",
        help="forecast currency (default: the exchange rates' corporate currency)",
    )
    sales_report.add_argument(
        "--seed", type=int, default=0, metavar="N", help="forecast simulation seed (default: 0)"
    )
    sales_report.add_argument(
        "--runs", type=int, default=2000, metavar="N", help="simulation runs (default: 2000)"
    )
    sales_report.add_argument(
        "--html", metavar="FILE", help="write the report to FILE as one self-contained HTML page"
    )
    _json(sales_report)

    rules = commands.add_parser(
        "rules", help="check rule files", description="check rule files", epilog=_EPILOG
    )
    rule_commands = rules.add_subparsers(dest="rules_command", metavar="COMMAND", required=True)
    check = _command(
        rule_commands,
        "check",
        "sfakit.cli.check:check",
        "check JSON files holding a criteria, a scorecard or a territory tree "
        '(told apart by their "kind")',
    )
    check.add_argument("files", nargs="+", metavar="FILE")
    check.add_argument(
        "--ignore",
        action="append",
        choices=LINT_KINDS,
        metavar="KIND",
        help=f"territory lint kind not to report (repeatable): {', '.join(LINT_KINDS)}",
    )
    _json(check)

    export = _command(
        commands,
        "export",
        "sfakit.cli.database:export_records",
        'every stored entity as JSON lines: {"kind": "Lead", "data": {...}}',
    )
    export.add_argument("--out", metavar="FILE", help="write to FILE (default: stdout)")

    load = _command(
        commands,
        "import",
        "sfakit.cli.database:import_records",
        "read an export into the storage, all or nothing",
    )
    load.add_argument("file", metavar="FILE", help="an export file, or - for stdin")
    return parser


# -- running a command -------------------------------------------------------------------


def _handler(name: str) -> Callable[[argparse.Namespace], int]:
    module, _, function = name.partition(":")
    found: Callable[[argparse.Namespace], int] = getattr(importlib.import_module(module), function)
    return found


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    return code if isinstance(code, int) else 1


def _fail(message: str, *, debug: bool) -> int:
    if debug:
        traceback.print_exc()
    print(f"sfakit: error: {message}", file=sys.stderr)
    return 1


def _silence_stdout() -> None:
    # The reader went away (`sfakit export | head`): point stdout at /dev/null so that
    # flushing it at exit does not complain a second time.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sfakit`` console script; returns the exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (2)
        return _exit_code(exc.code)
    if args.command is None:
        parser.print_help()
        return 0
    debug: bool = getattr(args, "debug", False)
    from sfakit.errors import SfaError  # noqa: PLC0415 - after parsing: --help stays instant

    try:
        return _handler(args.handler)(args)
    except KeyboardInterrupt:
        if debug:
            traceback.print_exc()
        print("sfakit: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return 1
    except SfaError as exc:
        return _fail(str(exc), debug=debug)
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        return _fail(f"{exc.strerror or exc}{where}", debug=debug)
    except Exception as exc:
        hint = "" if debug else " (run again with --debug to see the traceback)"
        return _fail(f"unexpected {type(exc).__name__}: {exc}{hint}", debug=debug)


if __name__ == "__main__":
    raise SystemExit(main())
