"""``sfakit route LEAD_ID [--explain]``: route one lead and say where it went and why.

The decision is recorded as :meth:`~sfakit.Sfa.route_lead` records it (owner, territory
or queue on the lead, a ``LeadAssigned`` event); routing is sticky, so running it again
on a lead already assigned changes nothing.
"""

from __future__ import annotations

import argparse

from sfakit.cli.connect import opened
from sfakit.cli.output import NONE, print_json
from sfakit.errors import NotFoundError, SfaError
from sfakit.service.routing import TERRITORY_TREE
from sfakit.territory import RoutingResult

__all__ = ["route", "to_json_data"]


def to_json_data(result: RoutingResult, *, explain: bool) -> dict[str, object]:
    """The decision as plain data (the trace rendered as text with ``explain``)."""
    trace = result.trace
    return {
        "lead": result.subject_id,
        "territory": result.territory,
        "owner": result.owner,
        "queue": result.queue,
        "outcome": result.outcome.value,
        "matched": list(trace.matched),
        "tied": list(trace.tied),
        "missing_fields": list(trace.missing_fields),
        "steps": list(trace.steps),
        "explanation": trace.render() if explain else None,
    }


def route(args: argparse.Namespace) -> int:
    """Route the lead, print the decision (and with ``--explain`` the whole trace)."""
    with opened(args) as sfa:
        try:
            result = sfa.route_lead(args.lead_id, explain=args.explain)
        except NotFoundError as exc:
            if exc.entity != "Setting":
                raise
            raise SfaError(
                f"no territory tree is stored (setting {TERRITORY_TREE!r}): store one with "
                "Sfa.set_territory_tree(tree), after checking it with `sfakit rules check`"
            ) from exc
    if args.json:
        print_json(to_json_data(result, explain=args.explain))
        return 0
    trace = result.trace
    print(f"lead       {result.subject_id}")
    print(f"territory  {result.territory or NONE}")
    print(f"owner      {result.owner or NONE}")
    print(f"queue      {result.queue or NONE}")
    print(f"outcome    {result.outcome.value}")
    if args.explain:
        print("why:")
        for line in trace.render().splitlines():
            print(f"  {line}")
    elif trace.steps:
        print(f"why        {trace.steps[-1]}")
    return 0
