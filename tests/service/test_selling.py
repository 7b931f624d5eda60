"""Deals moving through their pipeline via the service, on every backend."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sfakit import ConflictError, ManualClock, Sfa
from sfakit.model import Account, Contact, ContactRole, Money
from sfakit.pipeline import MoveRefusedError


def open_deal(sfa: Sfa, **fields: object) -> tuple[Account, object]:
    acme = sfa.create(Account, name="Acme Lighting")
    deal = sfa.open_opportunity(
        name="1000 bulbs every two months", account_id=acme.id, by="rep_anna", **fields
    )
    return acme, deal


def test_a_new_deal_starts_in_the_first_stage_with_its_first_history_entry(sfa: Sfa) -> None:
    _, deal = open_deal(sfa)
    assert deal.stage == "prospect"
    assert deal.version == 1
    (entry,) = sfa.stage_history(deal.id)
    assert (entry.from_stage, entry.to_stage, entry.by) == (None, "prospect", "rep_anna")
    assert [e.type for _, e in sfa.events()] == ["opportunity.stage_changed"]


def test_a_deal_moves_forward_and_closes_won_with_events(sfa: Sfa, clock: ManualClock) -> None:
    acme, deal = open_deal(sfa, amount=Money.of("4800", "EUR"), next_step="send quote")
    sfa.create(Contact, last_name="Adler", account_id=acme.id, roles=(ContactRole.DECISION_MAKER,))
    version = deal.version
    for target in ("qualify", "propose", "negotiate"):
        clock.advance(timedelta(days=3))
        deal, change = sfa.move_opportunity(
            deal.id, target, expected_version=version, by="rep_anna"
        )
        version = deal.version
        assert change.to_stage == target
    deal, change = sfa.close_won(deal.id, expected_version=version, by="rep_anna")
    assert (deal.stage, deal.closed_at) == ("closed_won", clock.now())
    assert change.probability == 100
    assert [c.to_stage for c in sfa.stage_history(deal.id)] == [
        "prospect", "qualify", "propose", "negotiate", "closed_won",
    ]  # fmt: skip
    types = [e.type for _, e in sfa.events()]
    assert types.count("opportunity.stage_changed") == 5
    assert types[-1] == "opportunity.won"


def test_a_refused_move_lists_what_is_missing_and_changes_nothing(sfa: Sfa) -> None:
    _, deal = open_deal(sfa)
    deal, _ = sfa.move_opportunity(deal.id, "qualify", expected_version=1, by="rep_anna")
    events_before = len(sfa.events())
    with pytest.raises(MoveRefusedError) as info:
        sfa.move_opportunity(deal.id, "negotiate", expected_version=deal.version, by="rep_anna")
    missing = " ".join(u.message for u in info.value.unmet)
    assert "next step" in missing
    assert "amount" in missing
    assert "decides" in missing
    assert sfa.get(type(deal), deal.id) == deal
    assert len(sfa.stage_history(deal.id)) == 2
    assert len(sfa.events()) == events_before
    options = {o.target: o for o in sfa.moves_for(deal.id)}
    assert options["closed_lost"].needs_reason
    assert not options["negotiate"].allowed
    assert {m.requirement for m in options["negotiate"].missing} >= {"next_step_set"}


def test_closing_lost_needs_a_listed_reason(sfa: Sfa) -> None:
    _, deal = open_deal(sfa)
    with pytest.raises(MoveRefusedError):
        sfa.close_lost(deal.id, reason="bad luck", expected_version=1, by="rep_anna")
    lost, _ = sfa.close_lost(deal.id, reason="competitor", expected_version=1, by="rep_anna")
    assert (lost.stage, lost.lost_reason) == ("closed_lost", "competitor")
    last = sfa.events()[-1][1]
    assert (last.type, last.reason) == ("opportunity.lost", "competitor")


def test_a_stale_move_is_a_conflict(sfa: Sfa) -> None:
    _, deal = open_deal(sfa)
    sfa.move_opportunity(deal.id, "qualify", expected_version=1, by="rep_anna")
    with pytest.raises(ConflictError) as info:
        sfa.move_opportunity(
            deal.id, "closed_lost", expected_version=1, by="rep_bob", reason="price"
        )
    assert info.value.current_version == 2


def test_reopening_a_closed_deal_needs_the_flag(sfa: Sfa, clock: ManualClock) -> None:
    _, deal = open_deal(sfa)
    lost, _ = sfa.close_lost(deal.id, reason="timing", expected_version=1, by="rep_anna")
    clock.advance(timedelta(days=30))
    with pytest.raises(MoveRefusedError):
        sfa.move_opportunity(deal.id, "prospect", expected_version=lost.version, by="rep_anna")
    reopened, change = sfa.move_opportunity(
        deal.id, "prospect", expected_version=lost.version, by="rep_anna", reopen=True
    )
    assert (reopened.stage, reopened.closed_at, reopened.lost_reason) == ("prospect", None, None)
    assert change.from_stage == "closed_lost"


def test_the_stage_where_most_deals_are_lost_is_one_call_on_every_backend(
    sfa: Sfa, clock: ManualClock
) -> None:
    from sfakit.pipeline import Deals, cycle_time, losses, win_rate

    acme = sfa.create(Account, name="Acme")
    plans = [("qualify", "price"), ("qualify", "timing"), (None, "competitor"), ("qualify", None)]
    for n, (first_move, lost_reason) in enumerate(plans):
        deal = sfa.open_opportunity(name=f"deal {n}", account_id=acme.id, by="rep_anna")
        clock.advance(timedelta(days=2))
        if first_move:
            deal, _ = sfa.move_opportunity(
                deal.id, first_move, expected_version=deal.version, by="x"
            )
        clock.advance(timedelta(days=5))
        if lost_reason:
            sfa.close_lost(deal.id, reason=lost_reason, expected_version=deal.version, by="x")
    deals = sfa.deals()
    assert isinstance(deals, Deals)
    assert len(deals) == 4
    worst = losses(deals).worst
    assert worst is not None
    assert (worst.stage, worst.deals) == ("qualify", 2)
    assert losses(deals).row("prospect").deals == 1
    rate = win_rate(deals)
    assert (rate.won, rate.lost) == (0, 3)
    assert cycle_time(deals).count == 0
