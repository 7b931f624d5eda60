"""``sfakit --version`` and ``sfakit info`` as a user runs them."""

from __future__ import annotations

import subprocess
import sys

import sfakit


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sfakit.cli.main", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_version_prints_the_package_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"sfakit {sfakit.__version__}"


def test_info_lists_python_dependencies_and_storage_plugins() -> None:
    result = run("info")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"sfakit {sfakit.__version__}" in out
    assert "python 3." in out
    for dependency in ("attrs", "cattrs", "python-dateutil", "pluggy", "tzdata"):
        assert dependency in out
    assert "sfakit.backends.sqlite: storage sqlite://" in out
    assert "sfakit.backends.memory: storage memory://" in out


def test_an_unknown_command_exits_with_usage_error() -> None:
    result = run("frobnicate")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
