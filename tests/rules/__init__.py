"""Tests of sfakit.rules."""
