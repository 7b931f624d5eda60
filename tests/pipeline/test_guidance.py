"""Guided selling: which moves the pipeline allows, and that a refusal lists every unmet
requirement with its trace, every broken rule and a missing lost reason."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sfakit.errors import SfaError, TransitionError, ValidationError
from sfakit.model import Contact, ContactRole, Money, Opportunity
from sfakit.pipeline import (
    Checklist,
    DealContext,
    MoveKind,
    MoveRefusedError,
    Pipeline,
    Requirement,
    Unmet,
    UnmetKind,
    available_moves,
    check_move,
    move,
    standard_pipeline,
)
from sfakit.rules import GroupTrace, LeafTrace, field

from .support import context_fields, deals, pipelines

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LATER = T0 + timedelta(days=7)


def deal(stage: str = "qualify", **fields: Any) -> Opportunity:
    base: dict[str, Any] = {
        "name": "Bulbs",
        "account_id": "acct_acme",
        "pipeline": "standard",
        "stage": stage,
        "created_at": T0,
    }
    if stage.startswith("closed"):
        base["closed_at"] = T0
    if stage == "closed_lost":
        base["lost_reason"] = "price"
    return Opportunity(**(base | fields))


def ready(stage: str = "qualify", **fields: Any) -> DealContext:
    """A context that meets every requirement of the standard pipeline."""
    opportunity = deal(stage, amount=Money.of(4800, "EUR"), next_step="Send the quote", **fields)
    return DealContext(opportunity=opportunity, contact_roles=(ContactRole.DECISION_MAKER,))


def refusal(p: Pipeline, context: DealContext, target: str, **kwargs: Any) -> MoveRefusedError:
    with pytest.raises(MoveRefusedError) as caught:
        move(p, context, target, by="rep_anna", at=LATER, **kwargs)
    return caught.value


# -- the kinds of move -----------------------------------------------------------------


def test_moving_one_step_forward_is_always_allowed_when_requirements_hold() -> None:
    p = attrs.evolve(standard_pipeline(), allow_skip_forward=False, allow_backward=False)
    option = check_move(p, ready("qualify"), "propose")
    assert option.kind is MoveKind.NEXT
    assert option.allowed
    assert option.missing == ()


def test_from_the_last_open_stage_winning_is_the_next_step() -> None:
    p = attrs.evolve(standard_pipeline(), allow_skip_forward=False)
    option = check_move(p, ready("negotiate"), "closed_won")
    assert option.kind is MoveKind.NEXT
    assert option.allowed


def test_skipping_forward_needs_the_pipeline_to_allow_it() -> None:
    strict = attrs.evolve(standard_pipeline(), allow_skip_forward=False)
    option = check_move(strict, ready("qualify"), "negotiate")
    assert option.kind is MoveKind.SKIP
    assert not option.allowed
    (rule,) = option.missing
    assert rule.kind is UnmetKind.RULE
    assert "move to 'propose' first" in rule.message
    assert check_move(standard_pipeline(), ready("qualify"), "negotiate").allowed


def test_winning_from_an_early_stage_is_a_skip() -> None:
    strict = attrs.evolve(standard_pipeline(), allow_skip_forward=False)
    assert check_move(strict, ready("prospect"), "closed_won").kind is MoveKind.SKIP
    assert not check_move(strict, ready("prospect"), "closed_won").allowed
    assert check_move(standard_pipeline(), ready("prospect"), "closed_won").allowed


def test_moving_back_needs_the_pipeline_to_allow_it_and_checks_nothing_else() -> None:
    bare = DealContext(opportunity=deal("negotiate"))  # meets no requirement at all
    option = check_move(standard_pipeline(), bare, "qualify")
    assert option.kind is MoveKind.BACK
    assert option.allowed
    strict = attrs.evolve(standard_pipeline(), allow_backward=False)
    (rule,) = check_move(strict, bare, "qualify").missing
    assert rule.kind is UnmetKind.RULE
    assert "does not allow moving back" in rule.message


def test_a_deal_can_be_lost_from_any_open_stage_with_a_listed_reason() -> None:
    strict = attrs.evolve(standard_pipeline(), allow_skip_forward=False, allow_backward=False)
    for stage in ("prospect", "qualify", "propose", "negotiate"):
        context = DealContext(opportunity=deal(stage))
        option = check_move(strict, context, "closed_lost", reason="competitor")
        assert option.kind is MoveKind.LOSE
        assert option.allowed
        assert option.needs_reason


def test_losing_needs_a_reason_from_the_list() -> None:
    context = DealContext(opportunity=deal("propose"))
    (missing,) = check_move(standard_pipeline(), context, "closed_lost").missing
    assert missing.kind is UnmetKind.REASON
    assert "a lost reason is required: one of price, competitor" in missing.message
    (unknown,) = refusal(standard_pipeline(), context, "closed_lost", reason="bad luck").unmet
    assert unknown.kind is UnmetKind.REASON
    assert "'bad luck'" in unknown.message


def test_a_closed_deal_moves_only_when_reopened() -> None:
    p = standard_pipeline()
    for stage in ("closed_won", "closed_lost"):
        context = ready(stage)
        err = refusal(p, context, "negotiate")
        (rule,) = err.unmet
        assert rule.kind is UnmetKind.RULE
        assert "reopen=True" in rule.message
        option = check_move(p, context, "negotiate", reopen=True)
        assert option.kind is MoveKind.REOPEN
        assert option.allowed


def test_reopening_checks_the_target_entry_requirements() -> None:
    context = DealContext(opportunity=deal("closed_lost"))
    option = check_move(standard_pipeline(), context, "negotiate", reopen=True)
    assert [m.requirement for m in option.missing] == ["decision_maker_known"]
    assert not check_move(standard_pipeline(), context, "prospect").allowed
    assert check_move(standard_pipeline(), context, "prospect", reopen=True).allowed


def test_reopen_is_harmless_for_an_open_deal() -> None:
    option = check_move(standard_pipeline(), ready("qualify"), "propose", reopen=True)
    assert option.kind is MoveKind.NEXT
    assert option.allowed


# -- requirements ----------------------------------------------------------------------


def test_a_refusal_lists_every_unmet_requirement_with_its_trace() -> None:
    bare = DealContext(opportunity=deal("qualify"))
    err = refusal(standard_pipeline(), bare, "closed_won")
    assert isinstance(err, TransitionError)
    assert isinstance(err, SfaError)
    assert [(m.stage, m.checklist, m.requirement) for m in err.unmet] == [
        ("qualify", Checklist.EXIT, "next_step_set"),
        ("propose", Checklist.ENTRY, "amount_set"),
        ("negotiate", Checklist.ENTRY, "decision_maker_known"),
    ]
    amount = err.unmet[1]
    assert amount.kind is UnmetKind.REQUIREMENT
    assert amount.message == "Enter the expected amount"
    assert isinstance(amount.trace, LeafTrace)
    assert amount.trace.field == "opportunity.amount"
    assert not amount.trace.matched
    next_step = err.unmet[0]
    assert isinstance(next_step.trace, GroupTrace)
    assert next_step.trace.kind == "not"
    assert err.opportunity_id == bare.opportunity.id
    assert (err.from_stage, err.target) == ("qualify", "closed_won")


def test_the_refusal_message_shows_each_item_and_its_trace() -> None:
    bare = DealContext(opportunity=deal("qualify"))
    text = str(refusal(standard_pipeline(), bare, "propose"))
    assert text.splitlines() == [
        f"cannot move {bare.opportunity.id} from 'qualify' to 'propose' (2 unmet):",
        "  - exit checklist item 'next_step_set' of 'qualify': "
        "Agree on a next step with the customer",
        "      [ ] not  at $",
        "        [x] opportunity.next_step is_empty (actual not set; field is not set)  at $.not",
        "  - entry requirement 'amount_set' of 'propose': Enter the expected amount",
        "      [ ] opportunity.amount is_set (actual not set; field is not set)  at $",
    ]


def test_rules_requirements_and_reason_are_all_listed_together() -> None:
    strict = attrs.evolve(standard_pipeline(), allow_backward=False)
    p = attrs.evolve(
        strict,
        stages=[
            attrs.evolve(
                s,
                entry_requirements=[
                    Requirement(name="active", criteria=field("activity_count").ge(3))
                ],
            )
            if s.key == "closed_lost"
            else s
            for s in strict.stages
        ],
    )
    kinds = [m.kind for m in check_move(p, ready("closed_won"), "closed_lost").missing]
    assert kinds == [UnmetKind.RULE, UnmetKind.REQUIREMENT, UnmetKind.REASON]


def test_skipped_stages_do_not_skip_their_gates() -> None:
    amount_only = DealContext(
        opportunity=deal("prospect", amount=Money.of(1, "EUR")),
        contact_roles=(ContactRole.DECISION_MAKER,),
    )
    option = check_move(standard_pipeline(), amount_only, "negotiate")
    assert option.kind is MoveKind.SKIP
    assert [m.requirement for m in option.missing] == ["next_step_set"]


def test_contacts_give_their_roles_to_the_context() -> None:
    cfo = Contact(last_name="Okafor", roles=[ContactRole.DECISION_MAKER], created_at=T0)
    context = DealContext(opportunity=deal("propose", amount=Money.of(10, "EUR")), contacts=(cfo,))
    assert context.contact_roles == (ContactRole.DECISION_MAKER,)
    assert check_move(standard_pipeline(), context, "negotiate").allowed


def test_within_last_requirements_use_the_move_time_as_now() -> None:
    recent = Requirement(
        name="recent_activity", criteria=field("last_activity_at").within_last("P14D")
    )
    base = standard_pipeline()
    p = attrs.evolve(
        base,
        stages=[
            attrs.evolve(s, entry_requirements=[recent]) if s.key == "qualify" else s
            for s in base.stages
        ],
    )
    context = DealContext(opportunity=deal("prospect"), last_activity_at=T0)
    assert check_move(p, context, "qualify", now=T0 + timedelta(days=13)).allowed
    assert not check_move(p, context, "qualify", now=T0 + timedelta(days=15)).allowed
    with pytest.raises(ValidationError) as caught:
        check_move(p, context, "qualify")
    assert caught.value.path == "$.now"
    moved, _ = move(p, context, "qualify", by=None, at=T0 + timedelta(days=1))
    assert moved.stage == "qualify"
    with pytest.raises(MoveRefusedError) as refused:
        move(p, context, "qualify", by=None, at=T0 + timedelta(days=20))
    assert [m.requirement for m in refused.value.unmet] == ["recent_activity"]


# -- bad input -------------------------------------------------------------------------


def test_unknown_target_is_a_validation_error_naming_the_stages() -> None:
    with pytest.raises(ValidationError) as caught:
        check_move(standard_pipeline(), ready(), "won")
    assert caught.value.path == "$.target"
    assert "prospect, qualify, propose, negotiate, closed_won, closed_lost" in str(caught.value)


def test_the_current_stage_is_not_a_target() -> None:
    with pytest.raises(ValidationError) as caught:
        check_move(standard_pipeline(), ready("qualify"), "qualify")
    assert caught.value.path == "$.target"


def test_a_deal_of_another_pipeline_is_refused() -> None:
    context = DealContext(opportunity=deal("qualify", pipeline="renewals"))
    with pytest.raises(ValidationError) as caught:
        available_moves(standard_pipeline(), context)
    assert caught.value.path == "$.opportunity.pipeline"
    stray = DealContext(opportunity=deal("won"))
    with pytest.raises(ValidationError) as caught:
        check_move(standard_pipeline(), stray, "qualify")
    assert caught.value.path == "$.opportunity.stage"


def test_the_context_validates_its_fields() -> None:
    with pytest.raises(ValidationError) as caught:
        DealContext(opportunity=deal(), activity_count=-1)
    assert caught.value.path == "$.activity_count"
    with pytest.raises(ValidationError) as caught:
        DealContext(opportunity=deal(), last_activity_at=datetime(2026, 1, 1))
    assert caught.value.path == "$.last_activity_at"


def test_move_refused_pickles_with_its_unmet_items() -> None:
    err = refusal(standard_pipeline(), DealContext(opportunity=deal("qualify")), "propose")
    clone = pickle.loads(pickle.dumps(err))
    assert isinstance(clone, MoveRefusedError)
    assert clone.unmet == err.unmet
    assert str(clone) == str(err)


def test_unmet_describes_rules_as_their_message() -> None:
    assert Unmet(kind=UnmetKind.RULE, message="no").describe() == "no"


# -- available moves -------------------------------------------------------------------


def test_available_moves_lists_every_other_stage_in_order() -> None:
    options = available_moves(standard_pipeline(), DealContext(opportunity=deal("propose")))
    assert [(o.target, o.kind.value, o.allowed) for o in options] == [
        ("prospect", "back", True),
        ("qualify", "back", True),
        ("negotiate", "next", False),
        ("closed_won", "skip", False),
        ("closed_lost", "lose", True),
    ]
    assert options[-1].needs_reason
    assert not options[0].needs_reason


@settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_available_moves_agree_with_check_move_and_move(data: st.DataObject) -> None:
    p = data.draw(pipelines())
    opportunity = data.draw(deals(p))
    context = DealContext(opportunity=opportunity, **data.draw(context_fields()))
    reopen = data.draw(st.booleans())
    options = available_moves(p, context, reopen=reopen, now=LATER)
    assert [o.target for o in options] == [k for k in p.keys if k != opportunity.stage]
    for option in options:
        reason = "price" if option.needs_reason else None
        checked = check_move(p, context, option.target, reason=reason, reopen=reopen, now=LATER)
        assert checked == option
        at = max(LATER, opportunity.created_at)
        if option.allowed:
            moved, _ = move(p, context, option.target, by="x", at=at, reason=reason, reopen=reopen)
            assert moved.stage == option.target
        else:
            with pytest.raises(MoveRefusedError) as caught:
                move(p, context, option.target, by="x", at=at, reason=reason, reopen=reopen)
            assert caught.value.unmet == option.missing
        for missing in option.missing:
            if missing.kind is UnmetKind.REQUIREMENT:
                assert missing.trace is not None
                assert not missing.trace.matched
