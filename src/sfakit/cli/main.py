"""``sfakit --version`` and ``sfakit info``; more commands join as the library grows."""

from __future__ import annotations

import argparse
import platform
import sys
from collections.abc import Sequence
from importlib import metadata

__all__ = ["main"]

_DEPENDENCIES = ("attrs", "cattrs", "python-dateutil", "pluggy", "tzdata")


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


def _info() -> int:
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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sfakit", description="Sales Force Automation logic as a library."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version('sfakit')}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser(
        "info", help="show versions of Python, sfakit, its dependencies and plugins"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sfakit`` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "info":
        return _info()
    parser.print_help()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
