"""Stage moves: what the new deal and its history entry record, and the laws: replaying
the history of allowed moves rebuilds the final deal; a refused move changes nothing."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sfakit.errors import ValidationError
from sfakit.model import (
    ContactRole,
    ForecastCategory,
    Money,
    Opportunity,
    OpportunityId,
    StageChange,
)
from sfakit.pipeline import (
    DealContext,
    MoveRefusedError,
    Pipeline,
    check_move,
    creation_change,
    move,
    replay,
    standard_pipeline,
)

from .support import REASONS, context_fields, deals, pipelines, walks

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
P = standard_pipeline()


def deal(stage: str = "qualify", **fields: Any) -> Opportunity:
    base: dict[str, Any] = {
        "name": "Bulbs",
        "account_id": "acct_acme",
        "pipeline": "standard",
        "stage": stage,
        "amount": Money.of(4800, "EUR"),
        "next_step": "Send the quote",
        "created_at": T0,
    }
    return Opportunity(**(base | fields))


def ctx(opportunity: Opportunity) -> DealContext:
    return DealContext(opportunity=opportunity, contact_roles=(ContactRole.DECISION_MAKER,))


def test_a_move_records_from_to_when_who_why_amount_and_probability() -> None:
    at = T0 + timedelta(days=3)
    moved, change = move(P, ctx(deal()), "propose", by="rep_anna", at=at, reason="demo went well")
    assert moved.stage == "propose"
    assert (change.from_stage, change.to_stage, change.at, change.by) == (
        "qualify",
        "propose",
        at,
        "rep_anna",
    )
    assert change.reason == "demo went well"
    assert change.amount == Money.of(4800, "EUR")
    assert change.probability == Decimal(50)
    assert change.opportunity_id == moved.id
    assert change.pipeline == "standard"
    assert change.created_at == at
    assert change.updated_at == at
    assert moved.updated_at == at
    assert moved.closed_at is None


def test_a_move_resets_probability_and_category_to_the_new_stage() -> None:
    overridden = deal(
        probability_override=Decimal(35), forecast_category_override=ForecastCategory.COMMIT
    )
    moved, change = move(P, ctx(overridden), "propose", by=None, at=T0)
    assert moved.probability_override is None
    assert moved.forecast_category_override is None
    assert change.probability == 50 == P.probability_of(moved)


def test_closing_won_sets_closed_at_and_reopening_clears_it() -> None:
    won_at, reopen_at = T0 + timedelta(days=30), T0 + timedelta(days=40)
    won, change = move(P, ctx(deal("negotiate")), "closed_won", by="rep_anna", at=won_at)
    assert won.closed_at == won_at
    assert won.lost_reason is None
    assert change.probability == 100
    reopened, _ = move(P, ctx(won), "negotiate", by="rep_anna", at=reopen_at, reopen=True)
    assert reopened.closed_at is None
    assert reopened.stage == "negotiate"


def test_closing_lost_sets_the_lost_reason_and_any_later_move_clears_it() -> None:
    lost_at = T0 + timedelta(days=10)
    lost, change = move(P, ctx(deal()), "closed_lost", by="rep_anna", at=lost_at, reason="price")
    assert (lost.lost_reason, lost.closed_at, change.reason) == ("price", lost_at, "price")
    assert change.probability == 0
    back, _ = move(P, ctx(lost), "qualify", by=None, at=lost_at, reopen=True)
    assert back.lost_reason is None
    assert back.closed_at is None


def test_a_closed_deal_can_be_switched_from_lost_to_won_when_reopened() -> None:
    lost, _ = move(P, ctx(deal("negotiate")), "closed_lost", by=None, at=T0, reason="timing")
    won, _ = move(P, ctx(lost), "closed_won", by=None, at=T0 + timedelta(hours=1), reopen=True)
    assert won.stage == "closed_won"
    assert won.lost_reason is None
    assert won.closed_at is not None


def test_at_must_be_aware() -> None:
    with pytest.raises(ValidationError) as caught:
        move(P, ctx(deal()), "propose", by=None, at=datetime(2026, 3, 9))
    assert caught.value.path == "$.at"
    with pytest.raises(ValidationError) as caught:
        move(P, ctx(deal()), "propose", by=None, at="2026-03-09T00:00Z")  # type: ignore[arg-type]
    assert caught.value.path == "$.at"


def test_at_before_creation_or_before_the_close_is_an_error() -> None:
    with pytest.raises(ValidationError) as caught:
        move(P, ctx(deal()), "propose", by=None, at=T0 - timedelta(seconds=1))
    assert caught.value.path == "$.at"
    assert "creation" in caught.value.expected
    won, _ = move(P, ctx(deal("negotiate")), "closed_won", by=None, at=T0 + timedelta(days=2))
    with pytest.raises(ValidationError) as caught:
        move(P, ctx(won), "negotiate", by=None, at=T0 + timedelta(days=1), reopen=True)
    assert caught.value.path == "$.at"
    assert "closed" in caught.value.expected


def test_an_at_in_another_offset_is_the_same_instant() -> None:
    tokyo = timezone(timedelta(hours=9))
    at = (T0 + timedelta(days=1)).astimezone(tokyo)
    moved, change = move(P, ctx(deal()), "propose", by=None, at=at)
    assert change.at == at
    assert moved.updated_at == at


def test_unknown_target_or_other_pipeline_names_the_allowed_stages() -> None:
    with pytest.raises(ValidationError) as caught:
        move(P, ctx(deal()), "Proposal", by=None, at=T0)
    assert caught.value.path == "$.target"
    assert "one of the stages of pipeline 'standard': prospect, qualify" in str(caught.value)
    renewals = standard_pipeline("renewals")
    with pytest.raises(ValidationError) as caught:
        move(renewals, ctx(deal()), "propose", by=None, at=T0)
    assert caught.value.path == "$.opportunity.pipeline"


# -- creation entry and replay -----------------------------------------------------------


def test_the_creation_entry_starts_the_history() -> None:
    start = deal("prospect")
    entry = creation_change(P, start, by="import")
    assert (entry.from_stage, entry.to_stage, entry.at, entry.by) == (
        None,
        "prospect",
        T0,
        "import",
    )
    assert entry.probability == 10
    assert entry.amount == start.amount
    moved, change = move(P, ctx(start), "qualify", by=None, at=T0 + timedelta(days=1))
    assert replay(P, start, [entry, change]) == moved
    assert replay(P, start, []) == start


def test_replay_refuses_an_inconsistent_history() -> None:
    start = deal("prospect")
    _, first = move(P, ctx(start), "qualify", by=None, at=T0)
    bad_from = attrs.evolve(first, from_stage="propose", to_stage="negotiate")
    with pytest.raises(ValidationError) as caught:
        replay(P, start, [first, bad_from])
    assert caught.value.paths == ("$[1].from_stage",)
    assert caught.value.subject == "history"
    with pytest.raises(ValidationError) as caught:
        replay(P, start, [attrs.evolve(first, opportunity_id=OpportunityId("opp_other"))])
    assert caught.value.paths == ("$[0].opportunity_id",)
    with pytest.raises(ValidationError) as caught:
        replay(P, start, [attrs.evolve(first, to_stage="won", pipeline="renewals")])
    assert caught.value.paths == ("$[0].pipeline", "$[0].to_stage")
    with pytest.raises(ValidationError) as caught:
        replay(P, start, [first, creation_change(P, start)])
    assert caught.value.paths == ("$[1].from_stage",)
    early = attrs.evolve(first, at=T0 - timedelta(days=1), created_at=T0 - timedelta(days=1))
    with pytest.raises(ValidationError) as caught:
        replay(P, start, [early])
    assert caught.value.paths == ("$[0].at",)


# -- laws ------------------------------------------------------------------------------

law_settings = settings(max_examples=120, suppress_health_check=[HealthCheck.too_slow])


@law_settings
@given(st.data())
def test_replaying_the_history_of_allowed_moves_rebuilds_the_final_deal(
    data: st.DataObject,
) -> None:
    p = data.draw(pipelines())
    walk = data.draw(walks(p, max_steps=10))
    assert replay(p, walk.initial, walk.history) == walk.final
    moves = [c for c in walk.history if c.from_stage is not None]
    for earlier, later in itertools.pairwise(moves):
        assert later.from_stage == earlier.to_stage
        assert later.at >= earlier.at
    for change in moves:
        assert change.probability == p.stage(change.to_stage).probability
        assert change.amount == walk.initial.amount


@law_settings
@given(st.data())
def test_the_final_deal_is_consistent_with_its_stage(data: st.DataObject) -> None:
    p = data.draw(pipelines())
    walk = data.draw(walks(p, max_steps=10))
    final, stage = walk.final, p.stage(walk.final.stage)
    assert (final.closed_at is not None) == stage.is_closed
    assert (final.lost_reason is not None) == stage.is_lost
    if stage.is_lost:
        assert final.lost_reason in p.lost_reasons
    if walk.history and walk.history[-1].from_stage is not None:
        assert final.probability_override is None
        assert final.forecast_category_override is None
        assert final.closed_at in (None, walk.history[-1].at)


@law_settings
@given(st.data())
def test_a_refused_move_raises_and_changes_nothing(data: st.DataObject) -> None:
    p = data.draw(pipelines())
    opportunity = data.draw(deals(p))
    context = DealContext(opportunity=opportunity, **data.draw(context_fields()))
    target = data.draw(st.sampled_from([k for k in p.keys if k != opportunity.stage]))
    reason = data.draw(st.sampled_from((*REASONS, "not a reason", None)))
    reopen = data.draw(st.booleans())
    at = opportunity.created_at + timedelta(days=1)
    option = check_move(p, context, target, reason=reason, reopen=reopen, now=at)
    before = (attrs.asdict(opportunity, recurse=False), attrs.asdict(context, recurse=False))
    if option.allowed:
        moved, change = move(p, context, target, by="x", at=at, reason=reason, reopen=reopen)
        assert moved.stage == target
        assert change.to_stage == target
    else:
        with pytest.raises(MoveRefusedError) as caught:
            move(p, context, target, by="x", at=at, reason=reason, reopen=reopen)
        assert caught.value.unmet == option.missing
        assert caught.value.unmet
    after = (attrs.asdict(opportunity, recurse=False), attrs.asdict(context, recurse=False))
    assert before == after
    assert context.opportunity is opportunity


@law_settings
@given(pipelines(requirements=False, skip=False, back=False), st.data())
def test_without_skip_or_back_a_deal_visits_open_stages_in_order(
    p: Pipeline, data: st.DataObject
) -> None:
    first = p.open_stages[0].key
    walk = data.draw(walks(p, start=first, max_steps=10, reopen=False))
    open_keys = [s.key for s in p.open_stages]
    visited = [first] + [c.to_stage for c in walk.history if c.from_stage is not None]
    opens = [k for k in visited if k in open_keys]
    assert opens == open_keys[: len(opens)]


def test_replay_refuses_what_is_not_a_stage_change() -> None:
    start = deal("prospect")
    _, change = move(P, ctx(start), "qualify", by=None, at=T0)
    assert isinstance(change, StageChange)
    with pytest.raises(ValidationError) as caught:
        replay(P, start, [change, "qualify"])  # type: ignore[list-item]
    assert caught.value.paths == ("$[1]",)
