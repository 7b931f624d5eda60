"""The ``sfakit`` command: operate sfakit on any storage URL from a shell, cron or a
container.

``sfakit init``, ``run-due``, ``worker``, ``route``, ``forecast``, ``analytics``,
``rules check``, ``export`` and ``import`` (see ``docs/cli.md``). Each module holds one
command group and is imported only when its command runs; :func:`sfakit.cli.main.main`
parses the arguments, runs the command and turns errors into ``sfakit: error: …`` and
an exit code.

>>> from sfakit.cli.main import main
>>> main(["--db", "memory://doctest", "init", "--json"])  # doctest: +ELLIPSIS
{
  "url": "memory://doctest",
  "backend": "sfakit.backends.memory.MemoryStorage",
  ...
0
"""
