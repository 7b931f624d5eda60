"""What every command shares: where the storage is, exit codes, and how errors read."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import sfakit.cli
from sfakit.cli import main as cli_main
from sfakit.cli.connect import ENVIRONMENT_VARIABLE, shown_url
from sfakit.service.forecasting import GROUPINGS
from sfakit.territory import LintKind

from .conftest import Cli


def test_the_storage_is_the_flag_else_the_environment_else_sfakit_db(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran = cli("init")
    assert ran.code == 0
    assert "storage       sqlite:///sfakit.db" in ran.out
    assert (tmp_path / "sfakit.db").exists()

    from_env = f"sqlite:///{tmp_path / 'env.db'}"
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, from_env)
    assert f"storage       {from_env}" in cli("init").out
    assert (tmp_path / "env.db").exists()

    from_flag = f"sqlite:///{tmp_path / 'flag.db'}"
    assert f"storage       {from_flag}" in cli("--db", from_flag, "init").out
    # The flag is accepted after the command's name too.
    assert f"storage       {from_flag}" in cli("init", "--db", from_flag).out


def test_an_empty_environment_variable_counts_as_unset(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, "")
    assert "storage       sqlite:///sfakit.db" in cli("init").out


def test_an_sfakit_error_is_one_line_on_stderr_without_traceback(cli: Cli, url: str) -> None:
    ran = cli("--db", url, "route", "lead_nobody")
    assert ran.code == 1
    assert ran.out == ""
    assert ran.err == "sfakit: error: no Lead with id 'lead_nobody'\n"


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_adds_the_traceback(cli: Cli, url: str, where: str) -> None:
    argv = ["--db", url, "route", "lead_nobody"]
    argv = ["--debug", *argv] if where == "before" else [*argv, "--debug"]
    ran = cli(*argv)
    assert ran.code == 1
    assert ran.err.startswith("Traceback (most recent call last):")
    assert "sfakit.errors.NotFoundError" in ran.err
    assert ran.err.endswith("sfakit: error: no Lead with id 'lead_nobody'\n")


def test_an_unexpected_error_names_its_type_and_points_at_debug(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(args: object) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr("sfakit.cli.database.init", broken)
    ran = cli("init")
    assert (ran.code, ran.out) == (1, "")
    assert ran.err == (
        "sfakit: error: unexpected RuntimeError: boom "
        "(run again with --debug to see the traceback)\n"
    )
    debug = cli("init", "--debug")
    assert "Traceback" in debug.err
    assert debug.err.endswith("sfakit: error: unexpected RuntimeError: boom\n")


def test_an_interrupted_command_exits_130(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr("sfakit.cli.database.init", interrupted)
    ran = cli("init")
    assert (ran.code, ran.err) == (130, "sfakit: interrupted\n")


def test_a_missing_file_is_an_error_not_a_traceback(cli: Cli, url: str) -> None:
    ran = cli("--db", url, "import", "nowhere.jsonl")
    assert ran.code == 1
    assert ran.err == "sfakit: error: No such file or directory: nowhere.jsonl\n"
    # The file is looked for first: no empty database is left behind.
    assert not Path(url.removeprefix("sqlite:///")).exists()


def test_a_storage_no_plugin_opens_is_an_error(cli: Cli) -> None:
    ran = cli("--db", "nosuch://x", "init")
    assert ran.code == 1
    assert ran.err.startswith("sfakit: error: no installed plugin opens storage for scheme")


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["rules"], "the following arguments are required: COMMAND"),
        (["forecast"], "the following arguments are required: --period"),
        (["forecast", "--period", "FY2027-Q1", "--by", "planet"], "invalid choice: 'planet'"),
        (["analytics", "velocity"], "invalid choice: 'velocity'"),
        (["run-due", "--now", "2026-03-02T09:00:00"], "has no UTC offset"),
        (["run-due", "--now", "yesterday"], "is not an ISO 8601 date or datetime"),
        (["worker", "--interval", "0"], "is not a positive number of seconds"),
        (["worker", "--interval", "nan"], "is not a positive number of seconds"),
        (["rules", "check"], "the following arguments are required: FILE"),
    ],
)
def test_wrong_usage_exits_2_with_the_reason(cli: Cli, argv: list[str], says: str) -> None:
    ran = cli(*argv)
    assert ran.code == 2
    assert ran.err.startswith("usage: sfakit")
    assert says in ran.err


def test_help_and_version_exit_0(cli: Cli) -> None:
    helped = cli("--help")
    assert helped.code == 0
    assert "SFAKIT_DATABASE_URL" in helped.out
    assert "130 interrupted" in helped.out
    assert cli("forecast", "--help").code == 0
    bare = cli()
    assert (bare.code, bare.out) == (0, cli_main._parser().format_help())


def test_passwords_are_never_printed(cli: Cli) -> None:
    ran = cli("--db", "memory://sales:secret@crm", "init")
    assert ran.code == 0
    assert "secret" not in ran.out
    assert "memory://sales:***@crm" in ran.out
    assert shown_url("sqlite:///x.db") == "sqlite:///x.db"


def test_the_parser_offers_what_the_library_accepts() -> None:
    assert cli_main.FORECAST_GROUPINGS == GROUPINGS
    assert tuple(kind.value for kind in LintKind) == cli_main.LINT_KINDS


@pytest.mark.parametrize(
    "name",
    [
        "sfakit.cli",
        *sorted(i.name for i in pkgutil.walk_packages(sfakit.cli.__path__, prefix="sfakit.cli.")),
    ],
)
def test_the_docstring_examples_of_the_cli_run(name: str) -> None:
    # tests/test_doctests.py leaves sfakit.cli out; its examples run here.
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
