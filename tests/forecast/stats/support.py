"""Deals with stage histories for the statistics tests: a deal is a path of stages, one
day per move, in the standard pipeline."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from sfakit.model import AccountId, Money, Opportunity, OpportunityId, StageChange
from sfakit.pipeline import Deals, standard_pipeline

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
P = standard_pipeline()
OPEN = tuple(s.key for s in P.open_stages)
WON = P.won_stage.key
LOST = P.lost_stages[0].key
CLOSED = (WON, LOST)


def deal(
    path: Sequence[str],
    index: int,
    *,
    created: datetime = T0,
    step: timedelta = DAY,
    amount: Money | None = None,
    closed_at: bool = True,
) -> tuple[Opportunity, list[StageChange]]:
    """A deal that started in ``path[0]`` and moved along the rest, one ``step`` apart;
    ``closed_at`` set to its last move when it ends closed (unless told not to)."""
    ident = OpportunityId(f"opp_{index}")
    moves = [
        StageChange(
            opportunity_id=ident,
            pipeline=P.key,
            from_stage=a,
            to_stage=b,
            at=created + (k + 1) * step,
            created_at=created + (k + 1) * step,
        )
        for k, (a, b) in enumerate(itertools.pairwise(path))
    ]
    end = path[-1]
    opportunity = Opportunity(
        id=ident,
        name=f"Deal {index}",
        account_id=AccountId("acct_acme"),
        pipeline=P.key,
        stage=end,
        amount=amount,
        created_at=created,
        closed_at=created + (len(path) - 1) * step if end in CLOSED and closed_at else None,
    )
    return opportunity, moves


def deals_of(paths: Sequence[Sequence[str]], **options: object) -> Deals:
    """The deals walking ``paths`` (deal ``i`` walks ``paths[i]``)."""
    opportunities: list[Opportunity] = []
    history: list[StageChange] = []
    for i, path in enumerate(paths):
        opportunity, moves = deal(path, i, **options)  # type: ignore[arg-type]
        opportunities.append(opportunity)
        history.extend(moves)
    return Deals.of(P, opportunities, history)


@st.composite
def paths(draw: st.DrawFn, *, reopen: bool = True, max_moves: int = 6) -> list[str]:
    """A walk through the standard pipeline from an open stage: any stage may follow any
    other (skips, moves back, closes, and reopening a closed deal when ``reopen``)."""
    path = [draw(st.sampled_from(OPEN))]
    for _ in range(draw(st.integers(0, max_moves))):
        current = path[-1]
        if current in CLOSED and not reopen:
            break
        path.append(draw(st.sampled_from([k for k in P.keys if k != current])))
    return path


closed_paths = paths(reopen=False).filter(lambda p: p[-1] in CLOSED)
