"""Progress bars for the demo's long steps, on a stream (stderr by default).

On a terminal a bar redraws in place (``\\r``) at most ten times a second; elsewhere
(a log, CI) each step prints one line when it ends, so logs stay readable.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final, TextIO

__all__ = ["Progress", "Step"]

WIDTH: Final = 28
_REDRAW_SECONDS: Final = 0.1


class Step:
    """One step's bar: call :meth:`advance` as work gets done."""

    def __init__(self, progress: Progress, label: str, total: int) -> None:
        self.progress = progress
        self.label = label
        self.total = max(total, 0)
        self.done = 0
        self.started = time.perf_counter()
        self._drawn = 0.0

    def advance(self, count: int = 1) -> None:
        self.done = min(self.done + count, self.total) if self.total else self.done + count
        now = time.perf_counter()
        if self.progress.live and now - self._drawn >= _REDRAW_SECONDS:
            self._drawn = now
            self.progress.draw(self.line(now), end="\r")

    def line(self, now: float) -> str:
        seconds = now - self.started
        if not self.total:
            return f"{self.label:<34} {'':{WIDTH + 19}} {seconds:5.1f} s"
        filled = round(WIDTH * self.done / self.total)
        bar = "#" * filled + "." * (WIDTH - filled)
        return f"{self.label:<34} [{bar}] {self.done:>7,}/{self.total:<7,} {seconds:5.1f} s"


class Progress:
    """Where the bars go; ``quiet`` draws none."""

    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = quiet
        isatty = getattr(self.stream, "isatty", None)
        self.live = not quiet and bool(isatty and isatty())
        self.seconds: dict[str, float] = {}

    def draw(self, text: str, *, end: str) -> None:
        self.stream.write(text + end)
        self.stream.flush()

    @contextmanager
    def step(self, label: str, total: int = 0) -> Iterator[Step]:
        """A bar for the block; its line is finished (and timed) when the block ends."""
        step = Step(self, label, total)
        yield step
        now = time.perf_counter()
        self.seconds[label] = now - step.started
        if not self.quiet:
            if total:
                step.done = step.total
            self.draw(step.line(now) + (" " * 4 if self.live else ""), end="\n")
