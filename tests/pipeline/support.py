"""Strategies shared by the pipeline tests: random valid pipelines, deals, contexts, and
populations of deals with a history made only of moves the pipeline allowed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs
from hypothesis import strategies as st

from sfakit.model import (
    AccountId,
    ContactRole,
    ForecastCategory,
    Money,
    Opportunity,
    OpportunityId,
    SalesRepId,
    StageChange,
)
from sfakit.pipeline import (
    DealContext,
    Pipeline,
    Requirement,
    Stage,
    check_move,
    creation_change,
    move,
)
from sfakit.rules import field
from sfakit.testing import strategies as sfa

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
REASONS = ("price", "competitor", "no_budget")
ZONES = (UTC, timezone(timedelta(hours=-8)), timezone(timedelta(hours=5, minutes=30)))

#: Simple requirements over DealContext that random contexts meet about half the time.
POOL = (
    Requirement(name="amount_set", criteria=field("opportunity.amount").is_set()),
    Requirement(name="next_step", criteria=~field("opportunity.next_step").is_empty()),
    Requirement(
        name="decision_maker",
        criteria=field("contact_roles").contains("decision_maker"),
        message="Add the decision maker",
    ),
    Requirement(name="active", criteria=field("activity_count").ge(2)),
    Requirement(name="quote", criteria=field("documents").contains("quote")),
)

OPEN_CATEGORIES = (
    ForecastCategory.PIPELINE,
    ForecastCategory.BEST_CASE,
    ForecastCategory.COMMIT,
    ForecastCategory.OMITTED,
)


def requirement_lists(arbitrary: bool) -> st.SearchStrategy[tuple[Requirement, ...]]:
    if arbitrary:
        item = st.builds(
            Requirement,
            name=st.sampled_from(["a", "b", "c"]),
            criteria=sfa.criteria(DealContext, max_leaves=4),
            message=st.none() | st.just("Do this first"),
        )
        return st.lists(item, max_size=2, unique_by=lambda r: r.name).map(tuple)
    return st.lists(st.sampled_from(POOL), max_size=2, unique_by=lambda r: r.name).map(tuple)


@st.composite
def pipelines(
    draw: st.DrawFn,
    *,
    requirements: bool = True,
    arbitrary: bool = False,
    skip: bool | None = None,
    back: bool | None = None,
    max_open: int = 5,
) -> Pipeline:
    """Valid pipelines: 1-``max_open`` open stages ``s0``…, a won stage and 1-2 lost ones
    (``won``, ``lost``, ``lost2``) in random order after them."""
    reqs = requirement_lists(arbitrary) if requirements else st.just(())
    n_open = draw(st.integers(1, max_open))
    stages = [
        Stage(
            key=f"s{i}",
            label=f"Stage {i}",
            probability=draw(st.integers(0, 100)),
            forecast_category=draw(st.sampled_from(OPEN_CATEGORIES)),
            entry_requirements=draw(reqs),
            exit_checklist=draw(reqs),
        )
        for i in range(n_open)
    ]
    closed = [
        Stage(
            key="won",
            label="Won",
            probability=100,
            forecast_category=ForecastCategory.CLOSED,
            is_closed=True,
            is_won=True,
            entry_requirements=draw(reqs),
        ),
        Stage(
            key="lost",
            label="Lost",
            probability=0,
            forecast_category=ForecastCategory.OMITTED,
            is_closed=True,
        ),
    ]
    if draw(st.booleans()):
        closed.append(
            Stage(
                key="lost2",
                label="No decision",
                probability=0,
                forecast_category=ForecastCategory.OMITTED,
                is_closed=True,
                entry_requirements=draw(reqs),
            )
        )
    closed = draw(st.permutations(closed))
    return Pipeline(
        key=draw(st.sampled_from(["standard", "enterprise"])),
        label="Test pipeline",
        stages=(*stages, *closed),
        lost_reasons=REASONS,
        allow_skip_forward=draw(st.booleans()) if skip is None else skip,
        allow_backward=draw(st.booleans()) if back is None else back,
    )


AMOUNTS = st.none() | st.builds(
    Money.of, st.integers(0, 100_000), st.sampled_from(["EUR", "USD", "JPY"])
)


@st.composite
def deals(draw: st.DrawFn, pipeline: Pipeline, *, start: str | None = None) -> Opportunity:
    """A deal in an open stage of ``pipeline`` (``start`` if given)."""
    stage = start or draw(st.sampled_from([s.key for s in pipeline.open_stages]))
    created = T0 + draw(st.timedeltas(timedelta(0), timedelta(days=90)))
    zone = draw(st.sampled_from(ZONES))
    return Opportunity(
        id=OpportunityId(draw(sfa.ids("Opportunity"))),
        name="Deal",
        account_id=AccountId("acct_acme"),
        pipeline=pipeline.key,
        stage=stage,
        amount=draw(AMOUNTS),
        owner_id=draw(st.sampled_from([SalesRepId("rep_anna"), SalesRepId("rep_ben"), None])),
        product_line=draw(st.sampled_from(["bulbs", "tubes"])),
        next_step=draw(st.none() | st.just("Call the CFO")),
        probability_override=draw(st.none() | st.integers(0, 100).map(Decimal)),
        forecast_category_override=draw(st.none() | st.sampled_from(OPEN_CATEGORIES)),
        created_at=created.astimezone(zone),
    )


@st.composite
def context_fields(draw: st.DrawFn) -> dict[str, Any]:
    """What a context adds to the deal: roles, activity, documents."""
    return {
        "contact_roles": tuple(
            draw(
                st.lists(
                    st.sampled_from([ContactRole.DECISION_MAKER, ContactRole.BUYER]),
                    unique=True,
                    max_size=2,
                )
            )
        ),
        "activity_count": draw(st.integers(0, 3)),
        "documents": tuple(draw(st.lists(st.sampled_from(["quote", "nda"]), unique=True))),
    }


@attrs.frozen
class Walk:
    """A deal, the moves made (the history) and where it ended."""

    initial: Opportunity
    history: tuple[StageChange, ...]
    final: Opportunity


@st.composite
def walks(
    draw: st.DrawFn,
    pipeline: Pipeline,
    *,
    start: str | None = None,
    max_steps: int = 6,
    reopen: bool = True,
    creation_entry: bool | None = None,
) -> Walk:
    """A deal moved by random attempts, keeping those the pipeline allows."""
    initial = draw(deals(pipeline, start=start))
    opportunity = initial
    history: list[StageChange] = []
    if draw(st.booleans()) if creation_entry is None else creation_entry:
        history.append(creation_change(pipeline, initial))
    at = initial.created_at
    for _ in range(draw(st.integers(0, max_steps))):
        target = draw(st.sampled_from([k for k in pipeline.keys if k != opportunity.stage]))
        at = at + draw(st.timedeltas(timedelta(0), timedelta(days=40)))
        context = DealContext(opportunity=opportunity, **draw(context_fields()))
        reason = draw(st.sampled_from(REASONS)) if pipeline.stage(target).is_lost else None
        option = check_move(pipeline, context, target, reason=reason, reopen=reopen, now=at)
        if option.allowed:
            opportunity, change = move(
                pipeline, context, target, by="rep_anna", at=at, reason=reason, reopen=reopen
            )
            history.append(change)
    return Walk(initial, tuple(history), opportunity)


def populations(
    pipeline: Pipeline, *, max_deals: int = 12, **options: Any
) -> st.SearchStrategy[list[Walk]]:
    """Several walks in one pipeline (unique deal ids come from the id generator)."""
    return st.lists(
        walks(pipeline, **options), max_size=max_deals, unique_by=lambda w: w.initial.id
    )
