"""The demo's made-up book: seeded, the promised size, and consistent with the library's
own rules (histories replay, routing decisions match the tree)."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfakit.demo import SIZES, generate
from sfakit.demo.dataset import SIMULATED_DAYS
from sfakit.model import LeadStatus, StageChange
from sfakit.pipeline import replay, standard_pipeline
from sfakit.territory import RoutingSubject, matching_territories

TODAY = date(2026, 11, 25)


def _entry(change: StageChange) -> tuple[object, ...]:
    return (change.opportunity_id, change.from_stage, change.to_stage, change.at, change.reason)


@pytest.fixture(scope="module")
def book():  # type: ignore[no-untyped-def]
    return generate(7, TODAY, SIZES["small"])


def test_the_same_seed_and_day_make_the_same_book(book) -> None:  # type: ignore[no-untyped-def]
    again = generate(7, TODAY, SIZES["small"])
    # Equal record for record; history entries get fresh ids, like every StageChange.
    assert attrs.evolve(again, stage_changes=()) == attrs.evolve(book, stage_changes=())
    assert [_entry(c) for c in again.stage_changes] == [_entry(c) for c in book.stage_changes]
    other = generate(8, TODAY, SIZES["small"])
    assert other.leads != book.leads


def test_the_full_size_is_what_the_demo_promises() -> None:
    size = SIZES["full"]
    assert (size.reps, size.leads, size.opportunities, size.standing_orders) == (
        50,
        20_000,
        5_000,
        500,
    )


def test_the_book_has_its_size_and_about_two_hundred_territories(book) -> None:  # type: ignore[no-untyped-def]
    size = SIZES["small"]
    assert len(book.reps) == size.reps
    assert len(book.leads) + len(book.arrivals) == size.leads
    opened_later = sum(1 for step in book.deal_steps if step.stage is None)
    assert len(book.opportunities) + opened_later == size.opportunities
    assert len(book.standing_orders) == size.standing_orders
    assert len(book.accounts) == size.accounts
    assert 180 <= len(book.tree.nodes) <= 220
    statuses = Counter(lead.status for lead in book.leads)
    assert statuses[LeadStatus.CONVERTED] > 0
    assert statuses[LeadStatus.DISQUALIFIED] > 0
    assert {lead.source for lead in book.leads} >= {"web", "referral", "trade_show"}


def test_every_stored_deal_is_what_replaying_its_history_gives(book) -> None:  # type: ignore[no-untyped-def]
    pipeline = standard_pipeline()
    history: dict[str, list] = {}  # type: ignore[type-arg]
    for change in book.stage_changes:
        history.setdefault(change.opportunity_id, []).append(change)
    assert set(history) == {deal.id for deal in book.opportunities}
    for deal in book.opportunities:
        changes = history[deal.id]
        assert [c.at for c in changes] == sorted(c.at for c in changes)
        assert changes[-1].to_stage == deal.stage
        initial = deal.evolve(stage=changes[0].to_stage, closed_at=None, lost_reason=None)
        replayed = replay(pipeline, initial, changes[1:])
        assert (replayed.stage, replayed.closed_at, replayed.lost_reason) == (
            deal.stage,
            deal.closed_at,
            deal.lost_reason,
        )
        if deal.stage == "closed_lost":
            assert deal.lost_reason in pipeline.lost_reasons
            assert deal.last_open_stage == changes[-1].from_stage


def test_worked_leads_sit_in_a_territory_their_fields_match(book) -> None:  # type: ignore[no-untyped-def]
    for lead in book.leads[:300]:
        matching = matching_territories(RoutingSubject.from_lead(lead), book.tree)
        if lead.territory_key is None:
            assert lead.queue is not None
        else:
            assert lead.territory_key in matching


@settings(max_examples=3, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**31), days=st.integers(0, 3000))
def test_any_seed_and_day_make_a_consistent_book(seed: int, days: int) -> None:
    today = date(2024, 1, 1) + timedelta(days=days)
    book = generate(seed, today, SIZES["small"])
    end = book.start + timedelta(days=SIMULATED_DAYS)
    assert end.date() == today
    assert all(lead.created_at < book.start for lead in book.leads)
    assert all(book.start <= a.at < end for a in book.arrivals)
    assert [s.at for s in book.deal_steps] == sorted(s.at for s in book.deal_steps)
    ids = [lead.id for lead in book.leads] + [a.lead.id for a in book.arrivals]
    assert len(ids) == len(set(ids))
