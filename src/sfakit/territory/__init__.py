"""Territory management and lead distribution: pure functions over frozen data.

A :class:`TerritoryTree` of :class:`TerritoryNode` s (region → district → territory, any
depth) holds criteria over a :class:`RoutingSubject` (built from a lead or an account),
members by role, an assignment :class:`StrategySpec` and fallbacks. :func:`route` picks
the deepest matching territory and, within it, a member — round robin, least loaded,
weighted, capacity- or daily-quota-weighted — never past a rep's capacity, with a trace
that says why. :func:`compile_index` makes routing fast for thousands of territories
with identical results; :func:`lint_tree` finds shadowed and unreachable territories;
:func:`plan_realignment` and :func:`deactivate_rep` plan moves as a dry run;
:func:`quota_rollup` checks that quotas add up.

Nothing here touches storage, the clock or the network: the assignment state
(round-robin cursors, open items, today's counts) is an explicit
:class:`AssignmentState` in, :class:`StateChange` out.

>>> from datetime import datetime, timezone
>>> from sfakit.model import SalesRep
>>> from sfakit.rules import field
>>> t0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
>>> reps = [SalesRep(id="rep_anna", name="Anna", languages=("de",), created_at=t0),
...         SalesRep(id="rep_ben", name="Ben", languages=("en",), created_at=t0)]
>>> tree = TerritoryTree(nodes=[
...     TerritoryNode(key="dach", rules=field("country").isin(["DE", "AT", "CH"]),
...                   members=[Member("rep_ben"), Member("rep_anna")],
...                   strategy=StrategySpec(match_language=True)),
... ])
>>> lead = RoutingSubject(id="lead_1", country="AT", language="de")
>>> result = route(lead, compile_index(tree), AssignmentState(), t0, reps=reps)
>>> result.owner, result.trace.steps[-1]
('rep_anna', 'round_robin: rep_anna is next from the first member (2 members)')
"""

from __future__ import annotations

from sfakit.territory.index import IndexStats, RoutingIndex, compile_index
from sfakit.territory.lint import LintIssue, LintKind, lint_tree
from sfakit.territory.quotas import (
    QuotaReport,
    QuotaRollup,
    RollupStatus,
    quota_rollup,
    quota_totals,
)
from sfakit.territory.realign import (
    Move,
    MoveCause,
    RealignmentPlan,
    batches,
    deactivate_rep,
    plan_realignment,
)
from sfakit.territory.routing import (
    AmbiguousRouteError,
    Outcome,
    RoutingBatch,
    RoutingResult,
    RoutingTrace,
    RuleCheck,
    matching_territories,
    route,
    route_many,
)
from sfakit.territory.state import AssignmentState, StateChange
from sfakit.territory.strategies import Choice, MemberNote, choose_member, is_available, speaks
from sfakit.territory.subject import RoutingSubject, SizeBand, SubjectKind, size_band
from sfakit.territory.tree import (
    Member,
    Strategy,
    StrategySpec,
    TerritoryNode,
    TerritoryTree,
    TiePolicy,
    check_roster,
    load_tree,
    roster,
)

__all__ = [
    "AmbiguousRouteError",
    "AssignmentState",
    "Choice",
    "IndexStats",
    "LintIssue",
    "LintKind",
    "Member",
    "MemberNote",
    "Move",
    "MoveCause",
    "Outcome",
    "QuotaReport",
    "QuotaRollup",
    "RealignmentPlan",
    "RollupStatus",
    "RoutingBatch",
    "RoutingIndex",
    "RoutingResult",
    "RoutingSubject",
    "RoutingTrace",
    "RuleCheck",
    "SizeBand",
    "StateChange",
    "Strategy",
    "StrategySpec",
    "SubjectKind",
    "TerritoryNode",
    "TerritoryTree",
    "TiePolicy",
    "batches",
    "check_roster",
    "choose_member",
    "compile_index",
    "deactivate_rep",
    "is_available",
    "lint_tree",
    "load_tree",
    "matching_territories",
    "plan_realignment",
    "quota_rollup",
    "quota_totals",
    "roster",
    "route",
    "route_many",
    "size_band",
    "speaks",
]
