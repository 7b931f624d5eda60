"""Pipeline analytics through the service: one call per question, and the answers pushed
down to the database equal the in-memory ones on random books of deals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.pipeline.support import T0, pipelines, populations

import sfakit
from sfakit import ManualClock, Sfa
from sfakit.model import Account, Contact, ContactRole, Opportunity, StageChange
from sfakit.pipeline import (
    Deals,
    Outcome,
    PipelineSet,
    Window,
    conversion,
    cycle_time,
    funnel,
    losses,
    time_in_stage,
    velocity,
    win_rate,
)
from sfakit.rules import field
from sfakit.storage import Capability

GROUPS = (None, "owner_id", "territory_id", "source", "product_line", "lost_reason")


def _windows() -> st.SearchStrategy[Window | None]:
    moment = st.integers(0, 400).map(lambda d: T0 + timedelta(days=d))
    return st.none() | st.builds(
        lambda a, b: Window(min(a, b) if a and b else a, max(a, b) if a and b else b),
        st.none() | moment,
        st.none() | moment,
    )


def _expected(
    deals: Deals,
    group_by: str | None,
    metric: Callable[..., Any],
    window: Window | None,
    options: dict[str, Any],
) -> Any:
    if group_by is None:
        return metric(deals, window=window, **options)
    return {
        key: metric(group, window=window, **options)
        for key, group in deals.group_by(group_by).items()
    }


@pytest.mark.parametrize("backend", ["memory", "sqlite", "postgres"])
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_pushed_down_analytics_equal_the_in_memory_ones(
    backend: str, request: pytest.FixtureRequest, data: st.DataObject
) -> None:
    p = data.draw(pipelines(requirements=False))
    walks = data.draw(populations(p, max_deals=10))
    finals = [w.final for w in walks]
    history = [c for w in walks for c in w.history]
    # Deals of the book carry the fields the push-down groups by.
    owners = st.sampled_from([None, "rep_anna", "rep_ben"])
    finals = [
        o.evolve(
            owner_id=data.draw(owners),
            territory_id=data.draw(st.sampled_from([None, "terr_north", "terr_south"])),
            source=data.draw(st.sampled_from([None, "web", "fair"])),
        )
        for o in finals
    ]
    window = data.draw(_windows())
    group_by = data.draw(st.sampled_from(GROUPS))
    outcome = data.draw(st.sampled_from(list(Outcome)))
    url = _url(backend, request)
    clock = ManualClock(T0 + timedelta(days=500))
    with sfakit.open(
        url, clock=clock, load_entry_points=False, pipelines=PipelineSet((p,))
    ) as service:
        assert Capability.AGGREGATE in service.storage.capabilities
        with service.transaction() as tx:
            tx.insert_many(finals)
            tx.insert_many(history)
        deals = Deals.of(p, finals, history)
        for metric, options in ((losses, {}), (win_rate, {}), (cycle_time, {"outcome": outcome})):
            expected = _expected(deals, group_by, metric, window, options)
            if group_by is None:
                assert service.analyse(metric, window=window, **options) == expected
            else:
                got = service.analyse_by(group_by, metric, window=window, **options)
                assert got == expected
                assert list(got) == list(expected)


def _url(backend: str, request: pytest.FixtureRequest) -> str:
    import uuid

    if backend == "memory":
        return f"memory://{uuid.uuid4().hex}"
    make: Callable[[], str] = request.getfixturevalue(
        "sqlite_urls" if backend == "sqlite" else "postgres_schemas"
    )
    return make()


def _book(sfa: Sfa, clock: ManualClock) -> None:
    acme = sfa.create(Account, name="Acme")
    sfa.create(Contact, last_name="Adler", account_id=acme.id, roles=(ContactRole.DECISION_MAKER,))
    plans = [
        ("rep_anna", ["qualify", "closed_lost"], "price"),
        ("rep_anna", ["qualify", "propose", "closed_lost"], "competitor"),
        ("rep_ben", ["closed_lost"], "price"),
        ("rep_ben", ["qualify", "propose", "negotiate", "closed_won"], None),
        ("rep_ben", ["qualify"], None),
    ]
    for n, (owner, path, reason) in enumerate(plans):
        deal = sfa.open_opportunity(
            name=f"deal {n}", account_id=acme.id, owner_id=owner, by=owner, next_step="call"
        )
        for stage in path:
            clock.advance(timedelta(days=3))
            if stage == "closed_lost":
                deal, _ = sfa.close_lost(
                    deal.id, reason=reason or "price", expected_version=deal.version, by=owner
                )
            else:
                if deal.amount is None:
                    with sfa.transaction() as tx:
                        deal = tx.update(deal.evolve(amount=sfakit.Money.of(1000, "EUR")))
                deal, _ = sfa.move_opportunity(
                    deal.id, stage, expected_version=deal.version, by=owner
                )


def test_each_question_is_one_call(sfa: Sfa, clock: ManualClock) -> None:
    _book(sfa, clock)
    worst = sfa.analyse(losses).worst
    assert worst is not None
    # One deal each was lost at prospect, qualify and propose: the earliest stage wins a tie.
    assert (worst.stage, worst.deals) == ("prospect", 1)
    assert [row.deals for row in sfa.analyse(losses).rows[:3]] == [1, 1, 1]
    by_owner = sfa.analyse_by("owner_id", losses)
    assert list(by_owner) == ["rep_anna", "rep_ben"]
    assert by_owner["rep_anna"].lost == 2
    assert by_owner["rep_ben"].row("prospect").deals == 1
    rate = sfa.analyse(win_rate)
    assert (rate.won, rate.lost) == (1, 3)
    cycle = sfa.analyse(cycle_time)
    assert (cycle.count, cycle.mean) == (1, 12)
    assert sfa.analyse(cycle_time, outcome=Outcome.CLOSED).count == 4
    assert sfa.analyse(funnel).reached("qualify") == 4
    assert sfa.analyse(funnel, cumulative=True).reached("prospect") == 5
    assert sfa.analyse(conversion).steps[0].entered == 5
    assert sfa.analyse(velocity).open_deals == 1
    assert sfa.analyse(time_in_stage).of("qualify").count == 3
    # Criteria are answered in memory, with the same shape.
    assert sfa.analyse(losses, where=field("owner_id").eq("rep_ben")).lost == 1
    # An analytic of one's own works too.
    assert sfa.analyse(lambda deals, window: len(deals)) == 5


def test_bad_questions_are_validation_errors(sfa: Sfa) -> None:
    with pytest.raises(sfakit.ValidationError, match="group_by"):
        sfa.analyse_by("no_such_field", funnel)
    with pytest.raises(sfakit.ValidationError, match=r"\$\.options"):
        sfa.analyse(losses, outcome=Outcome.WON)


def test_the_in_memory_helpers_agree_with_the_calls(sfa: Sfa, clock: ManualClock) -> None:
    _book(sfa, clock)
    deals = sfa.deals()
    assert sfa.analyse(funnel) == funnel(deals)
    assert sfa.analyse(conversion) == conversion(deals)
    assert sfa.analyse(velocity) == velocity(deals)
    with sfa.transaction(readonly=True) as tx:
        assert tx.count(StageChange) >= 5
        assert tx.count(Opportunity, where={"last_open_stage": "qualify"}) >= 1


def test_cycle_time_is_read_as_sorted_durations_not_grouped_per_deal(
    sfa: Sfa, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sfakit.backends.memory import MemoryTransaction
    from sfakit.storage.sql import SqlTransaction

    _book(sfa, clock)
    calls: list[tuple[Any, ...]] = []

    def spy(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def recorded(self: Any, kind: type, *args: Any, **kwargs: Any) -> Any:
            field = args[0] if args else None
            calls.append((name, field, tuple(kwargs.get("group_by") or ()) or None))
            return original(self, kind, *args, **kwargs)

        return recorded

    for cls in (MemoryTransaction, SqlTransaction):
        for name in ("values", "aggregate"):
            monkeypatch.setattr(cls, name, spy(name, getattr(cls, name)))

    assert sfa.analyse(cycle_time).count == 1
    assert calls == [("values", "cycle_microseconds", None)]
    calls.clear()
    by_owner = sfa.analyse_by("owner_id", cycle_time)
    assert calls == [
        ("values", "cycle_microseconds", ("owner_id",)),
        ("aggregate", None, ("owner_id",)),  # every owner of the pipeline's deals
    ]
    # rep_anna won nothing, yet has her group, as in memory.
    assert {owner: stats.count for owner, stats in by_owner.items()} == {
        "rep_anna": 0,
        "rep_ben": 1,
    }
    assert by_owner == {
        owner: cycle_time(group) for owner, group in sfa.deals().group_by("owner_id").items()
    }
