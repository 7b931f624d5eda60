"""Stopping a long-running command cleanly on SIGTERM or SIGINT.

The first signal only asks to stop: the work under way finishes (a scheduler pass is
many transactions, each whole, and a pass cut short would leave its report untold), and
the loop ends before the next one. A second signal stops at once: the handler raises
:class:`KeyboardInterrupt` wherever the program is, the open transaction rolls back,
and the command exits 130 — the convention of ``systemd``, Kubernetes and Gunicorn
(TERM, wait for the grace period, then KILL) and of shells (128 + SIGINT).

Waiting between passes wakes as soon as a signal arrives: the signal module writes a
byte to a socket (:func:`signal.set_wakeup_fd`) that the wait selects on, so no signal
arriving just before the wait is missed, and the handler itself never touches a lock.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import sys
import threading
from types import FrameType, TracebackType
from typing import Any, Final

from sfakit.errors import SfaError

__all__ = ["GracefulStop"]

#: The signals that ask a long-running command to stop.
STOP_SIGNALS: Final = (signal.SIGTERM, signal.SIGINT)


class GracefulStop:
    """A context manager that turns the first stop signal into :attr:`requested` and
    the second into :class:`KeyboardInterrupt`; handlers are restored on exit."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.received: signal.Signals | None = None
        self._previous: dict[int, Any] = {}
        self._previous_fd = -1
        self._reader: socket.socket | None = None
        self._writer: socket.socket | None = None
        self._stderr_fd: int | None = None

    @property
    def requested(self) -> bool:
        """Whether a stop signal has arrived."""
        return self.received is not None

    def __enter__(self) -> GracefulStop:
        if threading.current_thread() is not threading.main_thread():
            raise SfaError(f"{self.name} must run in the main thread: only it receives signals")
        try:
            self._stderr_fd = sys.stderr.fileno()
        except (AttributeError, OSError, ValueError):
            self._stderr_fd = None  # stderr is captured in memory: write to it as usual
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        for number in STOP_SIGNALS:
            self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        signal.set_wakeup_fd(self._previous_fd)
        for sock in (self._reader, self._writer):
            if sock is not None:
                sock.close()

    def _handle(self, number: int, frame: FrameType | None) -> None:
        if self.received is not None:
            raise KeyboardInterrupt
        self.received = signal.Signals(number)
        self._say(
            f"{self.name}: {self.received.name} received: stopping after the current pass "
            "(send it again to stop at once)\n"
        )

    def _say(self, text: str) -> None:
        # A handler may run while the main thread is inside a buffered write to
        # stderr; writing to the file descriptor itself cannot re-enter that buffer.
        if self._stderr_fd is not None:
            with contextlib.suppress(OSError):
                os.write(self._stderr_fd, text.encode(errors="replace"))
        else:
            sys.stderr.write(text)

    def wait(self, seconds: float) -> bool:
        """Sleep ``seconds`` or until a stop signal arrives; returns :attr:`requested`."""
        if self.requested or self._reader is None:
            return self.requested
        select.select([self._reader], [], [], seconds)
        with contextlib.suppress(BlockingIOError):
            while self._reader.recv(512):
                pass
        return self.requested
