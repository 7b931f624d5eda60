"""``sfakit run-due`` and ``sfakit worker``: the scheduler and the notification outbox.

A *pass* is one :meth:`~sfakit.Sfa.run_due` (standing orders, follow-ups, reminders,
each created exactly once however many passes run at once) followed by one
:meth:`~sfakit.Sfa.dispatch_pending` (the events just recorded, and any earlier ones
still due, delivered to the notifiers). ``run-due`` makes one pass, for cron or a
Kubernetes CronJob; ``worker`` makes one every ``--interval`` seconds until stopped,
as a systemd service or a container's main process would.

Without a notifier installed (no plugin under the ``sfakit`` entry points), a pass
leaves the events in the outbox for a dispatcher that has notifiers, and says so on
stderr: ``run-due`` each time, ``worker`` whenever their number changes.

A worker stops gracefully (see :mod:`sfakit.cli.signals`): on SIGTERM or SIGINT it
finishes the pass under way and exits 0; a second signal exits at once with 130. A
pass that fails with an sfakit error (a database locked past its timeout, say) is
reported and the worker goes on: the next pass retries, and exactly-once creation
makes that safe.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections import Counter
from datetime import UTC, datetime

import attrs

from sfakit.cli.connect import database_url, opened, shown_url
from sfakit.cli.output import print_json
from sfakit.clock import ManualClock
from sfakit.codec import to_data
from sfakit.errors import SfaError
from sfakit.service import Sfa
from sfakit.service.outbox import DispatchReport
from sfakit.service.scheduling import RunReport

__all__ = ["Pass", "describe", "one_pass", "run_due", "worker"]


@attrs.frozen
class Pass:
    """What one pass did: the scheduler's report and the dispatcher's."""

    run: RunReport
    dispatch: DispatchReport

    @property
    def idle(self) -> bool:
        """Nothing was due: no order, skip, follow-up, reminder or notification."""
        run = self.run
        follow_ups = run.follow_ups
        return (
            self.dispatch.idle
            and not (run.created or run.skipped or run.placed or run.reminders)
            and not (follow_ups.tasks or follow_ups.emails or follow_ups.unowned)
        )


def one_pass(sfa: Sfa) -> Pass:
    """One scheduler pass, then one dispatcher pass."""
    run = sfa.run_due()
    return Pass(run=run, dispatch=sfa.dispatch_pending())


def _count(n: int, what: str, plural: str | None = None) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {plural or what + 's'}"


def describe(done: Pass) -> list[str]:
    """The pass in a few lines of text."""
    run, dispatch, follow = done.run, done.dispatch, done.run.follow_ups
    reasons = Counter(reason for _, reason in run.skipped)
    why = ", ".join(f"{reason} {n}" for reason, n in sorted(reasons.items()))
    return [
        f"standing orders  {run.handled} handled, {run.taken} already taken by another run",
        f"orders           {len(run.created)} created and placed, "
        f"{_count(len(run.placed), 'earlier draft')} placed",
        f"skipped          {len(run.skipped)}" + (f" ({why})" if why else ""),
        f"follow-ups       {_count(len(follow.tasks), 'task')}, "
        f"{_count(len(follow.emails), 'email')}, {len(follow.already)} made before, "
        f"{len(follow.unowned)} without owner",
        f"reminders        {len(run.reminders)} sent",
        f"notifications    {dispatch.fanned_out} events fanned out, {dispatch.delivered} "
        f"delivered, {dispatch.retried} to retry, {dispatch.dead} given up",
    ]


def _warn_if_waiting(done: Pass, prefix: str) -> None:
    warning = done.dispatch.warning
    if warning is not None:
        print(f"{prefix}sfakit: warning: {warning}", file=sys.stderr, flush=True)


def _json(done: Pass) -> dict[str, object]:
    return {"run": to_data(done.run), "dispatch": to_data(done.dispatch)}


def run_due(args: argparse.Namespace) -> int:
    """One pass, at ``--now`` if given (a catch-up or a rehearsal), else now."""
    clock = None if args.now is None else ManualClock(args.now)
    with opened(args, clock=clock) as sfa:
        done = one_pass(sfa)
    if args.json:
        print_json(_json(done))
    else:
        print("\n".join(describe(done)))
    _warn_if_waiting(done, "")
    return 0


def _stamp() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _one_line(done: Pass) -> str:
    run, dispatch = done.run, done.dispatch
    follow = run.follow_ups
    return (
        f"{_stamp()} pass: {len(run.created)} orders created, {len(run.placed)} drafts placed, "
        f"{len(run.skipped)} skipped, {len(follow.tasks) + len(follow.emails)} follow-ups, "
        f"{len(run.reminders)} reminders, {dispatch.delivered} notifications delivered, "
        f"{dispatch.retried} to retry, {dispatch.dead} given up"
    )


def worker(args: argparse.Namespace) -> int:
    """Passes every ``--interval`` seconds until SIGTERM or SIGINT."""
    from sfakit.cli.signals import GracefulStop  # noqa: PLC0415 - POSIX signals, worker only

    name = "sfakit worker"
    passes = failed = waiting = 0
    with opened(args) as sfa, GracefulStop(name) as stop:
        print(
            f"{name}: started on {shown_url(database_url(args))} (pid {os.getpid()}), "
            f"a pass every {args.interval:g}s; SIGTERM or Ctrl-C stops it after the "
            "current pass",
            file=sys.stderr,
            flush=True,
        )
        while not stop.requested:
            try:
                done = one_pass(sfa)
            except SfaError as exc:
                failed += 1
                if args.debug:
                    traceback.print_exc()
                print(f"{_stamp()} sfakit: error: {exc}", file=sys.stderr, flush=True)
            else:
                if not done.idle:
                    print(_one_line(done), flush=True)
                if done.dispatch.waiting != waiting:  # once per change, not every pass
                    _warn_if_waiting(done, f"{_stamp()} ")
                    waiting = done.dispatch.waiting
            passes += 1
            stop.wait(args.interval)
        received = stop.received.name if stop.received else "a stop request"
    print(
        f"{name}: stopped on {received} after {_count(passes, 'pass', 'passes')}"
        + (f" ({failed} failed)" if failed else ""),
        file=sys.stderr,
        flush=True,
    )
    return 0
