"""The ``sfakit`` command."""
