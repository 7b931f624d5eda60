"""The storage conformance suite: run it against your backend to prove the contract.

Subclass :class:`StorageConformance` in a test module of your own and provide one
fixture, ``make_store``: a callable that creates a fresh, empty store each time it is
called and returns an *opener* for it — a callable that opens a new connection to that
store (tests open two or more to race them). Every test below then runs against your
backend::

    import itertools
    import pytest
    from sfakit.testing.storage import StorageConformance
    from mypackage import open_my_storage

    class TestMyBackend(StorageConformance):
        @pytest.fixture
        def make_store(self, tmp_path):
            counter = itertools.count()

            def make():
                url = f"mine://{tmp_path}/db{next(counter)}"
                return lambda: open_my_storage(url)

            return make

The suite needs pytest and hypothesis (``pip install 'sfakit[testing]'``).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from sfakit.backends.memory import MemoryStorage
from sfakit.errors import ConflictError, DuplicateError, NotFoundError, ValidationError
from sfakit.model import (
    Account,
    AccountId,
    Interaction,
    Money,
    Opportunity,
    Product,
    SalesRepId,
    new_id,
)
from sfakit.model.parties import Channel
from sfakit.storage.api import In, IsNull, NotNull, Range, Storage, Transaction
from sfakit.storage.common import every_page

__all__ = ["StorageConformance"]

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


class _AbortError(Exception):
    """Raised on purpose to abort a transaction."""


def account(name: str = "Acme", *, at: datetime = T0, **fields: Any) -> Account:
    return Account(name=name, created_at=at, **fields)


def opportunity(account_id: str, index: int, **fields: Any) -> Opportunity:
    defaults: dict[str, Any] = {
        "name": f"deal {index}",
        "account_id": account_id,
        "pipeline": "standard",
        "stage": ("qualify", "propose", "negotiate")[index % 3],
        "amount": Money.of(100 * index, ("EUR", "USD")[index % 2]) if index % 5 else None,
        "close_date": None if index % 4 == 0 else date(2026, 1 + index % 12, 1 + index % 28),
        "owner_id": f"rep_{index % 3}",
        "created_at": T0 + timedelta(minutes=index),
    }
    defaults.update(fields)
    return Opportunity(**defaults)


class StorageConformance:
    """Every guarantee of :mod:`sfakit.storage.api`, as tests. See the module docstring."""

    #: Threads used by the concurrency tests.
    threads: ClassVar[int] = 8

    @pytest.fixture
    def make_store(self) -> Callable[[], Callable[[], Storage]]:
        raise NotImplementedError("provide a `make_store` fixture in your subclass")

    @pytest.fixture
    def open_storage(
        self, make_store: Callable[[], Callable[[], Storage]]
    ) -> Callable[[], Storage]:
        return make_store()

    @pytest.fixture
    def storage(self, open_storage: Callable[[], Storage]) -> Iterator[Storage]:
        store = open_storage()
        yield store
        store.close()

    # -- entities -------------------------------------------------------------------

    def test_insert_stores_version_one_and_get_returns_an_equal_entity(
        self, storage: Storage
    ) -> None:
        with storage.transaction() as tx:
            stored = tx.insert(account(tags=("vip", "north")))
        assert stored.version == 1
        with storage.transaction(readonly=True) as tx:
            assert tx.get(Account, stored.id) == stored
            assert tx.find(Account, stored.id) == stored

    def test_every_field_survives_storage_exactly(self, storage: Storage) -> None:
        with storage.transaction() as tx:
            acct = tx.insert(account(annual_revenue=Money.of("1234567.891", "KWD")))
            deal = tx.insert(
                opportunity(
                    acct.id,
                    7,
                    probability_override=Decimal("33.5"),
                    created_at=datetime(
                        2026,
                        3,
                        29,
                        1,
                        30,
                        0,
                        123456,
                        tzinfo=timezone(timedelta(hours=5, minutes=30)),
                    ),
                )
            )
        with storage.transaction(readonly=True) as tx:
            loaded = tx.get(Opportunity, deal.id)
            assert loaded == deal
            assert loaded.created_at.utcoffset() == timedelta(hours=5, minutes=30)
            assert tx.get(Account, acct.id).annual_revenue == Money.of("1234567.891", "KWD")

    def test_get_of_a_missing_id_raises_not_found(self, storage: Storage) -> None:
        with storage.transaction(readonly=True) as tx, pytest.raises(NotFoundError) as info:
            tx.get(Account, "acct_missing")
        assert "acct_missing" in str(info.value)
        with storage.transaction(readonly=True) as tx:
            assert tx.find(Account, "acct_missing") is None

    def test_inserting_the_same_id_twice_raises_duplicate_and_keeps_the_first(
        self, storage: Storage
    ) -> None:
        first = account("First")
        with storage.transaction() as tx:
            tx.insert(first)
        with storage.transaction() as tx, pytest.raises(DuplicateError):
            tx.insert(account("Second", id=first.id))
        with storage.transaction(readonly=True) as tx:
            assert tx.get(Account, first.id).name == "First"
            assert tx.count(Account) == 1

    def test_a_unique_field_refuses_a_second_row(self, storage: Storage) -> None:
        price = Money.of("1.20", "EUR")
        with storage.transaction() as tx:
            tx.insert(Product(sku="BULB-60W", name="Bulb", unit_price=price, created_at=T0))
        with storage.transaction() as tx, pytest.raises(DuplicateError) as info:
            tx.insert(Product(sku="BULB-60W", name="Other", unit_price=price, created_at=T0))
        assert "BULB-60W" in str(info.value)
        with storage.transaction(readonly=True) as tx:
            assert tx.count(Product, where={"sku": "BULB-60W"}) == 1

    def test_update_to_a_taken_unique_value_raises_duplicate(self, storage: Storage) -> None:
        price = Money.of("1.20", "EUR")
        with storage.transaction() as tx:
            tx.insert(Product(sku="A", name="A", unit_price=price, created_at=T0))
            b = tx.insert(Product(sku="B", name="B", unit_price=price, created_at=T0))
        with pytest.raises(DuplicateError), storage.transaction() as tx:
            tx.update(b.evolve(sku="A"))
        with storage.transaction(readonly=True) as tx:
            assert tx.get(Product, b.id).sku == "B"

    def test_insert_refuses_an_entity_that_was_already_stored(self, storage: Storage) -> None:
        with storage.transaction() as tx:
            stored = tx.insert(account())
        with storage.transaction() as tx, pytest.raises(ValidationError) as info:
            tx.insert(stored)
        assert info.value.path == "$.version"

    def test_insert_many_stores_every_entity_and_feeds_each_in_order(
        self, storage: Storage
    ) -> None:
        batch = [account(f"A{n}") for n in range(5)] + [
            opportunity("acct_x", n) for n in range(1, 4)
        ]
        mixed = [batch[0], batch[5], *batch[1:5], *batch[6:]]
        with storage.transaction() as tx:
            assert tx.insert_many(mixed) == len(mixed)
        with storage.transaction(readonly=True) as tx:
            assert tx.get(Account, batch[3].id) == batch[3].evolve(version=1)
            assert tx.get(Opportunity, batch[6].id) == batch[6].evolve(version=1)
            feed = tx.read("changes")
        assert [(e.data["id"], e.data["version"]) for e in feed] == [(e.id, 1) for e in mixed]

    def test_insert_many_with_a_duplicate_leaves_none_behind(self, storage: Storage) -> None:
        with storage.transaction() as tx:
            first = tx.insert(account("First"))
        batch = [account("New 1"), account("Again", id=first.id), account("New 2")]
        with pytest.raises(DuplicateError) as info, storage.transaction() as tx:
            tx.insert_many(batch)
        assert info.value.existing_id == first.id
        with storage.transaction(readonly=True) as tx:
            assert tx.count(Account) == 1
            assert len(tx.read("changes")) == 1

    def test_update_with_the_current_version_bumps_it(self, storage: Storage) -> None:
        with storage.transaction() as tx:
            stored = tx.insert(account())
        with storage.transaction() as tx:
            updated = tx.update(stored.evolve(name="Acme GmbH"))
        assert updated.version == 2
        with storage.transaction(readonly=True) as tx:
            assert tx.get(Account, stored.id) == updated

    def test_a_stale_update_raises_conflict_with_the_current_version_and_changes_nothing(
        self, storage: Storage
    ) -> None:
        with storage.transaction() as tx:
            v1 = tx.insert(account())
        with storage.transaction() as tx:
            v2 = tx.update(v1.evolve(name="Winner"))
        with storage.transaction() as tx, pytest.raises(ConflictError) as info:
            tx.update(v1.evolve(name="Loser"))
        assert info.value.current_version == 2
        assert info.value.expected_version == 1
        with storage.transaction(readonly=True) as tx:
            assert tx.get(Account, v1.id) == v2

    def test_updating_a_record_that_does_not_exist_is_a_conflict(self, storage: Storage) -> None:
        ghost = account().evolve(version=3)
        with storage.transaction() as tx, pytest.raises(ConflictError) as info:
            tx.update(ghost)
        assert info.value.current_version is None

    def test_delete_checks_the_version(self, storage: Storage) -> None:
        with storage.transaction() as tx:
            v1 = tx.insert(account())
            tx.update(v1.evolve(name="B"))
        with storage.transaction() as tx, pytest.raises(ConflictError):
            tx.delete(Account, v1.id, expected_version=1, at=T0)
        with storage.transaction() as tx:
            tx.delete(Account, v1.id, expected_version=2, at=T0)
        with storage.transaction(readonly=True) as tx:
            assert tx.find(Account, v1.id) is None

    def test_a_readonly_transaction_refuses_writes(self, storage: Storage) -> None:
        with storage.transaction(readonly=True) as tx, pytest.raises(ValidationError):
            tx.insert(account())

    # -- atomicity ------------------------------------------------------------------

    def test_an_exception_inside_a_transaction_leaves_nothing_behind(
        self, storage: Storage
    ) -> None:
        with storage.transaction() as tx:
            kept = tx.insert(account("Kept"))
        with pytest.raises(_AbortError), storage.transaction() as tx:
            tx.insert(account("Gone"))
            tx.update(kept.evolve(name="Changed"))
            tx.claim_key("orders", "occurrence-1", "ord_x")
            tx.append("audit", {"n": 1}, at=T0)
            tx.enqueue("reminders", "r1", due_at=T0, payload={"a": 1})
            raise _AbortError
        with storage.transaction(readonly=True) as tx:
            assert tx.count(Account) == 1
            assert tx.get(Account, kept.id) == kept
            assert tx.key_value("orders", "occurrence-1") is None
            assert tx.read("audit") == []
        with storage.transaction() as tx:
            assert tx.claim_due("reminders", now=T0, worker="w", lease=timedelta(minutes=1)) == []

    def test_a_conflict_inside_a_transaction_rolls_back_its_earlier_writes(
        self, storage: Storage
    ) -> None:
        with storage.transaction() as tx:
            v1 = tx.insert(account("A"))
            tx.update(v1.evolve(name="B"))
        with pytest.raises(ConflictError), storage.transaction() as tx:
            tx.insert(account("Should vanish"))
            tx.update(v1.evolve(name="stale"))
        with storage.transaction(readonly=True) as tx:
            assert tx.count(Account) == 1

    # -- concurrency ----------------------------------------------------------------

    def test_two_connections_racing_on_one_record_lose_no_update(
        self, open_storage: Callable[[], Storage]
    ) -> None:
        first, second = open_storage(), open_storage()
        try:
            with first.transaction() as tx:
                v1 = tx.insert(account("Original"))
            with second.transaction(readonly=True) as tx:
                seen_by_second = tx.get(Account, v1.id)
            with first.transaction() as tx:
                tx.update(v1.evolve(name="First wins"))
            with second.transaction() as tx, pytest.raises(ConflictError) as info:
                tx.update(seen_by_second.evolve(name="Second loses"))
            assert info.value.current_version == 2
            with second.transaction(readonly=True) as tx:
                assert tx.get(Account, v1.id).name == "First wins"
        finally:
            first.close()
            second.close()

    def test_concurrent_read_modify_write_with_retries_counts_every_increment(
        self, open_storage: Callable[[], Storage]
    ) -> None:
        stores = [open_storage() for _ in range(self.threads)]
        try:
            with stores[0].transaction() as tx:
                counter = tx.insert(account("Counter", employee_count=0))
            increments = 5
            errors: list[BaseException] = []

            def work(store: Storage) -> None:
                try:
                    for _ in range(increments):
                        while True:
                            try:
                                with store.transaction() as tx:
                                    current = tx.get(Account, counter.id)
                                    tx.update(
                                        current.evolve(
                                            employee_count=(current.employee_count or 0) + 1
                                        )
                                    )
                                break
                            except ConflictError:
                                continue
                except BaseException as exc:  # surfaced below
                    errors.append(exc)

            threads = [threading.Thread(target=work, args=(s,)) for s in stores]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=120)
            assert errors == []
            with stores[0].transaction(readonly=True) as tx:
                final = tx.get(Account, counter.id)
            assert final.employee_count == increments * self.threads
            assert final.version == 1 + increments * self.threads
        finally:
            for s in stores:
                s.close()

    def test_workers_claiming_concurrently_take_each_item_exactly_once(
        self, open_storage: Callable[[], Storage]
    ) -> None:
        total = 120
        stores = [open_storage() for _ in range(self.threads)]
        try:
            with stores[0].transaction() as tx:
                for i in range(total):
                    tx.enqueue("jobs", f"job-{i:03d}", due_at=T0, payload={"i": i})
            done: list[str] = []
            lock = threading.Lock()
            errors: list[BaseException] = []

            def work(store: Storage, name: str) -> None:
                try:
                    while True:
                        with store.transaction() as tx:
                            items = tx.claim_due(
                                "jobs", now=T0, worker=name, lease=timedelta(hours=1), limit=5
                            )
                        if not items:
                            return
                        for item in items:
                            with store.transaction() as tx:
                                tx.complete(item)
                            with lock:
                                done.append(item.key)
                except BaseException as exc:
                    errors.append(exc)

            threads = [
                threading.Thread(target=work, args=(s, f"worker-{n}")) for n, s in enumerate(stores)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=120)
            assert errors == []
            counts = Counter(done)
            assert len(counts) == total
            assert max(counts.values()) == 1
        finally:
            for s in stores:
                s.close()

    # -- queries --------------------------------------------------------------------

    @pytest.fixture
    def deals(self, storage: Storage) -> list[Opportunity]:
        with storage.transaction() as tx:
            acct = tx.insert(account())
            other = tx.insert(account("Other"))
            return [tx.insert(opportunity(acct.id if i % 4 else other.id, i)) for i in range(1, 41)]

    def test_equality_filter_returns_exactly_the_matching_rows(
        self, storage: Storage, deals: list[Opportunity]
    ) -> None:
        with storage.transaction(readonly=True) as tx:
            found = every_page(tx, Opportunity, where={"stage": "propose"}, limit=7)
        assert {d.id for d in found} == {d.id for d in deals if d.stage == "propose"}

    def test_in_range_null_and_notnull_filters(
        self, storage: Storage, deals: list[Opportunity]
    ) -> None:
        low, high = date(2026, 3, 1), date(2026, 7, 1)
        with storage.transaction(readonly=True) as tx:
            in_stages = every_page(tx, Opportunity, where={"stage": In(("qualify", "negotiate"))})
            in_range = every_page(tx, Opportunity, where={"close_date": Range(low, high)})
            undated = every_page(tx, Opportunity, where={"close_date": IsNull()})
            dated = every_page(tx, Opportunity, where={"close_date": NotNull()})
            combined = every_page(
                tx, Opportunity, where={"owner_id": "rep_1", "close_date": Range(low=low)}
            )
        assert {d.id for d in in_stages} == {d.id for d in deals if d.stage != "propose"}
        assert {d.id for d in in_range} == {
            d.id for d in deals if d.close_date is not None and low <= d.close_date < high
        }
        assert {d.id for d in undated} == {d.id for d in deals if d.close_date is None}
        assert len(dated) + len(undated) == len(deals)
        assert {d.id for d in combined} == {
            d.id
            for d in deals
            if d.owner_id == "rep_1" and d.close_date is not None and d.close_date >= low
        }

    @pytest.mark.parametrize("descending", [False, True])
    @pytest.mark.parametrize("order_by", ["id", "close_date", "created_at", "stage"])
    def test_pages_cover_every_row_once_in_a_stable_order(
        self, storage: Storage, deals: list[Opportunity], order_by: str, descending: bool
    ) -> None:
        with storage.transaction(readonly=True) as tx:
            found = every_page(tx, Opportunity, order_by=order_by, descending=descending, limit=6)
            again = every_page(tx, Opportunity, order_by=order_by, descending=descending, limit=11)
        assert [d.id for d in found] == [d.id for d in again]
        assert sorted(d.id for d in found) == sorted(d.id for d in deals)

        def key(d: Opportunity) -> tuple[Any, ...]:
            value = getattr(d, order_by)
            if isinstance(value, datetime):
                value = value.astimezone(UTC)
            return (value is not None, value if value is not None else 0, d.id)

        assert [d.id for d in found] == [d.id for d in sorted(deals, key=key, reverse=descending)]

    def test_rows_added_behind_the_cursor_do_not_shift_later_pages(
        self, storage: Storage, deals: list[Opportunity]
    ) -> None:
        with storage.transaction(readonly=True) as tx:
            first = tx.query(Opportunity, order_by="id", limit=10)
        with storage.transaction() as tx:
            tx.insert(opportunity(deals[0].account_id, 99, id="opp_0000000000"))
        with storage.transaction(readonly=True) as tx:
            rest = every_page(tx, Opportunity, order_by="id", limit=10, cursor=first.next_cursor)
        seen = [d.id for d in first.items] + [d.id for d in rest]
        assert sorted(seen) == sorted(d.id for d in deals)

    def test_count_agrees_with_query(self, storage: Storage, deals: list[Opportunity]) -> None:
        with storage.transaction(readonly=True) as tx:
            assert tx.count(Opportunity) == len(deals)
            assert tx.count(Opportunity, where={"owner_id": "rep_2"}) == sum(
                d.owner_id == "rep_2" for d in deals
            )

    def test_aggregate_counts_and_sums_money_per_currency(
        self, storage: Storage, deals: list[Opportunity]
    ) -> None:
        with storage.transaction(readonly=True) as tx:
            rows = tx.aggregate(Opportunity, group_by=["stage"], sum=["amount"])
        expected: dict[tuple[Any, ...], list[Any]] = {}
        for d in deals:
            key = (d.stage, d.amount.currency if d.amount else None)
            bucket = expected.setdefault(key, [0, Decimal(0)])
            bucket[0] += 1
            bucket[1] += d.amount.amount if d.amount else 0
        assert {r.key: (r.count, r.sums["amount"]) for r in rows} == {
            k: (v[0], v[1]) for k, v in expected.items()
        }
        assert [r.key for r in rows] == sorted(
            expected, key=lambda k: tuple((v is not None, v or "") for v in k)
        )

    def test_aggregate_agrees_with_the_in_memory_backend(
        self, storage: Storage, deals: list[Opportunity]
    ) -> None:
        reference = MemoryStorage()
        with reference.transaction() as tx:
            for d in deals:
                tx.insert(d.evolve(version=0))
        for group_by in (["owner_id"], ["stage", "close_date"], []):
            where = {"close_date": Range(low=date(2026, 2, 1))}
            with storage.transaction(readonly=True) as tx:
                got = tx.aggregate(Opportunity, group_by=group_by, sum=["amount"], where=where)
            with reference.transaction(readonly=True) as tx:
                want = tx.aggregate(Opportunity, group_by=group_by, sum=["amount"], where=where)
            assert got == want

    def test_aggregate_orders_groups_unset_first_then_text_by_code_point(
        self, storage: Storage
    ) -> None:
        owners = [None, "rep_adam", "rep_Bea", "rep_9x", "rep_Zoe", None, "rep_adam"]
        with storage.transaction() as tx:
            acct = tx.insert(account())
            for n, owner in enumerate(owners, start=1):
                tx.insert(opportunity(acct.id, n, owner_id=owner))
        with storage.transaction(readonly=True) as tx:
            rows = tx.aggregate(Opportunity, group_by=["owner_id"])
        assert [(r.key, r.count) for r in rows] == [
            ((None,), 2),
            (("rep_9x",), 1),
            (("rep_Bea",), 1),
            (("rep_Zoe",), 1),
            (("rep_adam",), 2),
        ]

    # -- values ---------------------------------------------------------------------

    def test_values_lists_one_field_sorted_with_unset_values_first(
        self, storage: Storage, deals: list[Opportunity]
    ) -> None:
        with storage.transaction(readonly=True) as tx:
            dates = tx.values(Opportunity, "close_date")
            proposed = tx.values(Opportunity, "created_at", where={"stage": "propose"})
        undated = sum(d.close_date is None for d in deals)
        assert undated > 0
        assert dates[:undated] == [None] * undated
        assert dates[undated:] == sorted(d.close_date for d in deals if d.close_date)
        assert _typed(proposed) == _typed(
            sorted(d.created_at.astimezone(UTC) for d in deals if d.stage == "propose")
        )

    def test_values_by_group_are_sorted_within_groups_in_aggregate_order(
        self, storage: Storage, deals: list[Opportunity]
    ) -> None:
        where = {"close_date": NotNull()}
        with storage.transaction(readonly=True) as tx:
            grouped = tx.values(Opportunity, "close_date", where=where, group_by=["owner_id"])
            rows = tx.aggregate(Opportunity, group_by=["owner_id"], where=where)
            everything = tx.values(Opportunity, "id", group_by=[])
        assert list(grouped) == [r.key for r in rows]
        for (owner,), dates in grouped.items():
            assert dates == sorted(
                d.close_date for d in deals if d.owner_id == owner and d.close_date
            )
        assert everything == {(): sorted(d.id for d in deals)}

    def test_values_keep_the_type_of_each_index_kind(self, storage: Storage) -> None:
        price = Money.of("1.20", "EUR")
        with storage.transaction() as tx:
            for n, active in enumerate([True, False, True]):
                tx.insert(
                    Product(
                        sku=f"SKU-{n}", name="Bulb", unit_price=price, active=active, created_at=T0
                    )
                )
        with storage.transaction(readonly=True) as tx:
            flags = tx.values(Product, "active")
            by_flag = tx.values(Product, "sku", group_by=["active"])
            none = tx.values(Product, "sku", where={"sku": "SKU-9"}, group_by=["active"])
        assert _typed(flags) == _typed([False, True, True])
        assert [_typed(list(key)) for key in by_flag] == [_typed([False]), _typed([True])]
        assert by_flag == {(False,): ["SKU-1"], (True,): ["SKU-0", "SKU-2"]}
        assert none == {}

    def test_values_agree_with_filtering_and_sorting_in_python(
        self, make_store: Callable[[], Callable[[], Storage]]
    ) -> None:
        store = make_store()()
        try:
            _values_property(store)
        finally:
            store.close()

    def test_values_refuse_fields_that_are_not_indexed_or_are_money(self, storage: Storage) -> None:
        with storage.transaction(readonly=True) as tx:
            with pytest.raises(ValidationError) as info:
                tx.values(Opportunity, "next_step")
            assert info.value.path == "$.field.next_step"
            assert "indexed field" in str(info.value)
            with pytest.raises(ValidationError) as info:
                tx.values(Opportunity, "amount")
            assert info.value.path == "$.field.amount"
            assert "not money" in str(info.value)
            with pytest.raises(ValidationError) as info:
                tx.values(Opportunity, "stage", group_by=["stage", "name; DROP TABLE x"])
            assert "name; DROP TABLE x" in str(info.value)
            with pytest.raises(ValidationError) as info:
                tx.values(Opportunity, "stage", group_by="owner_id")
            assert info.value.path == "$.group_by"
            with pytest.raises(ValidationError) as info:
                tx.values(Opportunity, "stage", where={"close_date": "2026-01-01"})
            assert "close_date" in str(info.value)

    def test_filters_on_unknown_or_unindexed_fields_are_refused(self, storage: Storage) -> None:
        with storage.transaction(readonly=True) as tx:
            with pytest.raises(ValidationError) as info:
                tx.query(Opportunity, where={"name; DROP TABLE opportunities": "x"})
            assert "indexed field" in str(info.value)
            with pytest.raises(ValidationError):
                tx.query(Opportunity, order_by="next_step")
            with pytest.raises(ValidationError):
                tx.query(Opportunity, where={"close_date": "2026-01-01"})
            with pytest.raises(ValidationError):
                tx.query(Opportunity, limit=0)

    def test_a_cursor_from_another_query_is_refused(
        self, storage: Storage, deals: list[Opportunity]
    ) -> None:
        with storage.transaction(readonly=True) as tx:
            page = tx.query(Opportunity, order_by="close_date", limit=3)
            assert page.next_cursor is not None
            with pytest.raises(ValidationError) as info:
                tx.query(Opportunity, order_by="created_at", cursor=page.next_cursor)
            assert info.value.path == "$.cursor"
            with pytest.raises(ValidationError):
                tx.query(Opportunity, cursor="not a cursor")

    def test_filter_values_with_quotes_are_data_not_sql(self, storage: Storage) -> None:
        tricky = "O'Brien'); DROP TABLE accounts; --"
        with storage.transaction() as tx:
            tx.insert(account(tricky))
        with storage.transaction(readonly=True) as tx:
            assert [a.name for a in tx.query(Account, where={"name": tricky}).items] == [tricky]
            assert tx.count(Account) == 1

    def test_datetime_filters_compare_instants_across_time_zones(self, storage: Storage) -> None:
        with storage.transaction() as tx:
            acct = tx.insert(account())
            tokyo = timezone(timedelta(hours=9))
            for hour in range(6):
                tx.insert(
                    Interaction(
                        channel=Channel.CALL,
                        account_id=acct.id,
                        summary=f"call {hour}",
                        occurred_at=datetime(2026, 1, 2, hour, tzinfo=tokyo),
                        created_at=T0,
                    )
                )
        boundary = datetime(2026, 1, 1, 18, tzinfo=UTC)  # = 03:00 in Tokyo
        with storage.transaction(readonly=True) as tx:
            later = every_page(tx, Interaction, where={"occurred_at": Range(low=boundary)})
        assert sorted(i.summary for i in later) == ["call 3", "call 4", "call 5"]

    # -- idempotency keys -----------------------------------------------------------

    def test_a_key_is_claimed_once_and_the_second_claim_names_the_first(
        self, storage: Storage
    ) -> None:
        with storage.transaction() as tx:
            tx.claim_key("occurrence", "stdo_1/2026-03-31", "ord_first")
        with storage.transaction() as tx, pytest.raises(DuplicateError) as info:
            tx.claim_key("occurrence", "stdo_1/2026-03-31", "ord_second")
        assert info.value.existing_id == "ord_first"
        with storage.transaction(readonly=True) as tx:
            assert tx.key_value("occurrence", "stdo_1/2026-03-31") == "ord_first"
            assert tx.key_value("other", "stdo_1/2026-03-31") is None

    # -- streams --------------------------------------------------------------------

    def test_streams_are_read_in_order_from_a_cursor(self, storage: Storage) -> None:
        with storage.transaction() as tx:
            positions = [tx.append("audit", {"n": n}, at=T0) for n in range(5)]
            tx.append("other", {"n": "x"}, at=T0)
        assert positions == [1, 2, 3, 4, 5]
        with storage.transaction(readonly=True) as tx:
            assert [e.data["n"] for e in tx.read("audit", after=2)] == [2, 3, 4]
            assert [e.position for e in tx.read("audit", after=0, limit=2)] == [1, 2]
            assert tx.read("audit", after=5) == []
            assert [e.data["n"] for e in tx.read("other")] == ["x"]

    def test_every_entity_write_appends_to_the_change_feed(self, storage: Storage) -> None:
        with storage.transaction() as tx:
            v1 = tx.insert(account())
            v2 = tx.update(v1.evolve(name="B"))
            tx.delete(Account, v1.id, expected_version=v2.version, at=T0 + timedelta(days=1))
        with storage.transaction(readonly=True) as tx:
            feed = tx.read("changes")
        assert [(e.data["op"], e.data["version"]) for e in feed] == [
            ("insert", 1),
            ("update", 2),
            ("delete", 3),
        ]
        assert all(e.data["kind"] == "Account" and e.data["id"] == v1.id for e in feed)

    def test_concurrent_appends_get_distinct_consecutive_positions(
        self, open_storage: Callable[[], Storage]
    ) -> None:
        stores = [open_storage() for _ in range(4)]
        try:
            errors: list[BaseException] = []

            def work(store: Storage, n: int) -> None:
                try:
                    for i in range(15):
                        with store.transaction() as tx:
                            tx.append("log", {"writer": n, "i": i}, at=T0)
                except BaseException as exc:
                    errors.append(exc)

            threads = [threading.Thread(target=work, args=(s, n)) for n, s in enumerate(stores)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=120)
            assert errors == []
            with stores[0].transaction(readonly=True) as tx:
                entries = tx.read("log", limit=1000)
            assert [e.position for e in entries] == list(range(1, 61))
            for n in range(4):
                assert [e.data["i"] for e in entries if e.data["writer"] == n] == list(range(15))
        finally:
            for s in stores:
                s.close()

    # -- due work -------------------------------------------------------------------

    def test_enqueue_is_idempotent_per_key(self, storage: Storage) -> None:
        with storage.transaction() as tx:
            assert tx.enqueue("q", "k", due_at=T0, payload={"v": 1}) is True
            assert tx.enqueue("q", "k", due_at=T0, payload={"v": 2}) is False
        with storage.transaction() as tx:
            items = tx.claim_due("q", now=T0, worker="w", lease=timedelta(minutes=5))
        assert [(i.key, dict(i.payload)) for i in items] == [("k", {"v": 1})]

    def test_only_due_items_are_claimed_earliest_first(self, storage: Storage) -> None:
        with storage.transaction() as tx:
            tx.enqueue("q", "later", due_at=T0 + timedelta(hours=2), payload={})
            tx.enqueue("q", "second", due_at=T0 + timedelta(minutes=2), payload={})
            tx.enqueue("q", "first", due_at=T0 + timedelta(minutes=1), payload={})
            tx.enqueue("other", "elsewhere", due_at=T0, payload={})
        with storage.transaction() as tx:
            items = tx.claim_due(
                "q", now=T0 + timedelta(hours=1), worker="w", lease=timedelta(minutes=5)
            )
        assert [i.key for i in items] == ["first", "second"]

    def test_a_leased_item_is_not_claimed_again_until_the_lease_ends(
        self, storage: Storage
    ) -> None:
        lease = timedelta(minutes=10)
        with storage.transaction() as tx:
            tx.enqueue("q", "k", due_at=T0, payload={})
        with storage.transaction() as tx:
            (mine,) = tx.claim_due("q", now=T0, worker="a", lease=lease)
        with storage.transaction() as tx:
            assert tx.claim_due("q", now=T0 + timedelta(minutes=5), worker="b", lease=lease) == []
        with storage.transaction() as tx:
            (theirs,) = tx.claim_due("q", now=T0 + timedelta(minutes=11), worker="b", lease=lease)
        assert theirs.attempt == mine.attempt + 1
        with storage.transaction() as tx, pytest.raises(ConflictError):
            tx.complete(mine)  # the lease passed to b: a may not complete it
        with storage.transaction() as tx:
            tx.complete(theirs)
        with storage.transaction() as tx:
            assert tx.claim_due("q", now=T0 + timedelta(days=1), worker="c", lease=lease) == []

    def test_retry_gives_work_back_due_at_a_later_time(self, storage: Storage) -> None:
        lease = timedelta(minutes=10)
        with storage.transaction() as tx:
            tx.enqueue("q", "k", due_at=T0, payload={"x": 1})
        with storage.transaction() as tx:
            (item,) = tx.claim_due("q", now=T0, worker="a", lease=lease)
            tx.retry(item, due_at=T0 + timedelta(hours=1), error="SMTP 451")
        with storage.transaction() as tx:
            assert tx.claim_due("q", now=T0 + timedelta(minutes=30), worker="a", lease=lease) == []
            (again,) = tx.claim_due("q", now=T0 + timedelta(hours=1), worker="a", lease=lease)
        assert again.attempt == 2
        assert dict(again.payload) == {"x": 1}

    def test_failed_work_is_dead_until_redriven(self, storage: Storage) -> None:
        lease = timedelta(minutes=10)

        def state(tx: Transaction) -> str | None:
            status = tx.work_status("q", "k")
            return None if status is None else status.state

        with storage.transaction() as tx:
            tx.enqueue("q", "k", due_at=T0, payload={"x": 1})
            assert state(tx) == "pending"
        with storage.transaction() as tx:
            (item,) = tx.claim_due("q", now=T0, worker="a", lease=lease)
            assert state(tx) == "claimed"
            tx.fail(item, error="550 mailbox unavailable")
        with storage.transaction() as tx:
            dead = tx.work_status("q", "k")
            assert dead is not None
            assert (dead.state, dead.error, dead.attempt) == ("dead", "550 mailbox unavailable", 1)
            assert tx.claim_due("q", now=T0 + timedelta(days=9), worker="a", lease=lease) == []
            assert [w.key for w in tx.work_in("q", state="dead")] == ["k"]
            assert tx.redrive("q", "k", due_at=T0 + timedelta(hours=1)) is True
            assert tx.redrive("q", "k", due_at=T0) is False  # no longer dead
        with storage.transaction() as tx:
            (again,) = tx.claim_due("q", now=T0 + timedelta(hours=1), worker="b", lease=lease)
            assert again.attempt == 2
            tx.complete(again)
            assert state(tx) == "done"
            assert tx.work_status("q", "missing") is None

    def test_batch_operations_match_their_single_forms(self, storage: Storage) -> None:
        lease = timedelta(minutes=5)
        with storage.transaction() as tx:
            positions = tx.append_many(
                "log", [({"n": n}, T0 + timedelta(seconds=n)) for n in range(3)]
            )
            assert positions == [1, 2, 3]
            assert tx.append("log", {"n": 3}, at=T0) == 4
            tx.enqueue("q", "k1", due_at=T0, payload={"old": True})
            added = tx.enqueue_many(
                "q", [(f"k{n}", T0 + timedelta(seconds=n), {"n": n}) for n in range(4)]
            )
        assert added == 3  # k1 was queued already and keeps its payload
        with storage.transaction() as tx:
            assert [e.data["n"] for e in tx.read("log")] == [0, 1, 2, 3]
            items = tx.claim_due("q", now=T0 + timedelta(minutes=1), worker="a", lease=lease)
            assert [(i.key, dict(i.payload)) for i in items][:2] == [
                ("k0", {"n": 0}),
                ("k1", {"old": True}),
            ]
        with storage.transaction() as tx:
            taken = tx.claim_due("q", now=T0 + timedelta(hours=1), worker="b", lease=lease)
            assert [i.key for i in taken] == [i.key for i in items]  # a's lease ran out
        with storage.transaction() as tx:
            assert tx.complete_many(items) == items  # a lost them all, and nothing changed
            assert tx.complete_many(taken[:2]) == []
            states = [tx.work_status("q", i.key) for i in taken]
        assert [st.state if st else None for st in states] == ["done", "done", "claimed", "claimed"]

    def test_work_in_lists_a_queue_by_due_time(self, storage: Storage) -> None:
        with storage.transaction() as tx:
            for n, minutes in enumerate((30, 10, 20)):
                tx.enqueue("q", f"k{n}", due_at=T0 + timedelta(minutes=minutes), payload={})
            tx.enqueue("other", "x", due_at=T0, payload={})
        with storage.transaction(readonly=True) as tx:
            assert [w.key for w in tx.work_in("q")] == ["k1", "k2", "k0"]
            assert [w.key for w in tx.work_in("q", state="pending", limit=2)] == ["k1", "k2"]
            assert tx.work_in("q", state="done") == []

    # -- model-based ----------------------------------------------------------------

    def test_random_operation_sequences_match_the_in_memory_backend(
        self, make_store: Callable[[], Callable[[], Storage]]
    ) -> None:
        machine = _paired_machine(make_store)
        settings_ = settings(
            max_examples=15,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        from hypothesis.stateful import run_state_machine_as_test  # noqa: PLC0415

        run_state_machine_as_test(machine, settings=settings_)


def _typed(values: list[Any]) -> list[tuple[str, Any, Any]]:
    """Values with their types (``True == 1``) and UTC offsets, to compare exactly."""
    return [
        (type(v).__name__, v, v.utcoffset() if isinstance(v, datetime) else None) for v in values
    ]


def _none_first(value: Any) -> tuple[bool, Any]:
    return (value is not None, value if value is not None else 0)


#: ``values`` filters of the property below, each with the same test in plain Python.
_VALUE_FILTERS: list[tuple[dict[str, Any] | None, Callable[[Opportunity], bool]]] = [
    (None, lambda d: True),
    ({"stage": In(("Qualify", "won"))}, lambda d: d.stage in ("Qualify", "won")),
    ({"closed_at": NotNull()}, lambda d: d.closed_at is not None),
    ({"owner_id": IsNull()}, lambda d: d.owner_id is None),
    (
        {"close_date": Range(low=date(2026, 2, 1), high=date(2026, 5, 1))},
        lambda d: d.close_date is not None and date(2026, 2, 1) <= d.close_date < date(2026, 5, 1),
    ),
]

#: Field → its plain index value read from a deal (as ``aggregate`` keys give it).
_VALUE_FIELDS: dict[str, Callable[[Opportunity], Any]] = {
    "id": lambda d: d.id,
    "stage": lambda d: d.stage,
    "owner_id": lambda d: d.owner_id,
    "source": lambda d: d.source,
    "close_date": lambda d: d.close_date,
    "created_at": lambda d: d.created_at.astimezone(UTC),
    "closed_at": lambda d: d.closed_at and d.closed_at.astimezone(UTC),
    "cycle_microseconds": lambda d: (
        None if d.closed_at is None else (d.closed_at - d.created_at) // timedelta(microseconds=1)
    ),
}


def _random_deals(account_id: str) -> st.SearchStrategy[list[Opportunity]]:
    """Deals whose indexed fields take few values (so groups and ties occur), unset ones
    included, and whose moments are in several time zones."""

    @st.composite
    def deal(draw: st.DrawFn) -> Opportunity:
        zone = draw(
            st.sampled_from([UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=9))])
        )
        created = (T0 + timedelta(minutes=draw(st.integers(0, 60 * 24 * 90)))).astimezone(zone)
        closed_after = draw(st.none() | st.integers(0, 10**7))  # seconds
        close_after = draw(st.none() | st.integers(0, 120))  # days
        return Opportunity(
            name="deal",
            account_id=AccountId(account_id),
            pipeline="standard",
            created_at=created,
            closed_at=None if closed_after is None else created + timedelta(seconds=closed_after),
            close_date=None if close_after is None else created.date() + timedelta(close_after),
            # Mixed case, digits and accents: text must sort by code point on every database.
            stage=draw(st.sampled_from(["propose", "Qualify", "won", "_hold"])),
            owner_id=draw(
                st.sampled_from([None, *map(SalesRepId, ["rep_adam", "rep_Bea", "rep_9x"])])
            ),
            source=draw(st.sampled_from([None, "web", "Fair", "ärger"])),
        )

    return st.lists(deal(), max_size=12)


def _values_property(store: Storage) -> None:
    """``values`` (and the group order of ``aggregate``) equal filtering and sorting the
    same random deals in Python: for every field, filter and grouping."""
    groupings = st.sampled_from([None, [], ["stage"], ["owner_id"], ["source", "close_date"]])

    @settings(
        max_examples=30,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        deals=_random_deals("acct_values"),
        field=st.sampled_from(sorted(_VALUE_FIELDS)),
        filtered=st.sampled_from(_VALUE_FILTERS),
        group_by=groupings,
    )
    def check(
        deals: list[Opportunity],
        field: str,
        filtered: tuple[dict[str, Any] | None, Callable[[Opportunity], bool]],
        group_by: list[str] | None,
    ) -> None:
        where, keep = filtered
        read = _VALUE_FIELDS[field]
        chosen = [d for d in deals if keep(d)]
        with store.transaction() as tx:
            tx.insert_many(deals)
        try:
            with store.transaction(readonly=True) as tx:
                if group_by is None:
                    got: Any = tx.values(Opportunity, field, where=where)
                    want: Any = sorted((read(d) for d in chosen), key=_none_first)
                    assert _typed(got) == _typed(want)
                    return
                got = tx.values(Opportunity, field, where=where, group_by=group_by)
                rows = tx.aggregate(Opportunity, group_by=group_by, where=where)
            buckets: dict[tuple[Any, ...], list[Any]] = {}
            for d in chosen:
                key = tuple(_VALUE_FIELDS[g](d) for g in group_by)
                buckets.setdefault(key, []).append(read(d))
            order = sorted(buckets, key=lambda k: tuple(_none_first(v) for v in k))
            want = {k: sorted(buckets[k], key=_none_first) for k in order}
            assert [(_typed(list(k)), _typed(v)) for k, v in got.items()] == [
                (_typed(list(k)), _typed(v)) for k, v in want.items()
            ]
            assert [r.key for r in rows] == order
            assert [r.count for r in rows] == [len(buckets[k]) for k in order]
        finally:
            with store.transaction() as tx:
                for d in deals:
                    tx.delete(Opportunity, d.id, expected_version=1, at=T0)

    check()


def _paired_machine(
    make_store: Callable[[], Callable[[], Storage]],
) -> type[RuleBasedStateMachine]:
    """A state machine that applies each random operation to the backend and to memory."""

    stages = st.sampled_from(["qualify", "propose", "negotiate", "won"])

    class Paired(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.backend = make_store()()
            self.model = MemoryStorage()
            with self.backend.transaction() as tx:
                self.account = tx.insert(account())
            with self.model.transaction() as tx:
                tx.insert(self.account.evolve(version=0))
            self.ids: list[str] = []
            self.step = 0

        def both(self, action: Callable[[Transaction], Any]) -> tuple[Any, Any]:
            results = []
            for store in (self.backend, self.model):
                try:
                    with store.transaction() as tx:
                        results.append(("ok", action(tx)))
                except (ConflictError, DuplicateError, NotFoundError) as exc:
                    results.append(("error", type(exc).__name__))
            return results[0], results[1]

        @rule(
            stage=stages, amount=st.integers(0, 10_000), owner=st.sampled_from(["rep_a", "rep_b"])
        )
        def insert(self, stage: str, amount: int, owner: str) -> None:
            self.step += 1
            deal = opportunity(
                self.account.id,
                self.step,
                id=new_id("opp", T0 + timedelta(seconds=self.step)),
                stage=stage,
                amount=Money.of(amount, "EUR"),
                owner_id=owner,
            )
            got, want = self.both(lambda tx: tx.insert(deal))
            assert got == want
            self.ids.append(deal.id)

        @rule(data=st.data(), stage=stages, stale=st.booleans())
        def update(self, data: st.DataObject, stage: str, stale: bool) -> None:
            if not self.ids:
                return
            target = data.draw(st.sampled_from(self.ids))
            with self.model.transaction(readonly=True) as tx:
                current = tx.get(Opportunity, target)
            version = current.version - 1 if stale and current.version > 1 else current.version
            changed = current.evolve(stage=stage, version=version)
            got, want = self.both(lambda tx: tx.update(changed))
            assert got == want

        @rule(data=st.data())
        def delete(self, data: st.DataObject) -> None:
            if not self.ids:
                return
            target = data.draw(st.sampled_from(self.ids))
            with self.model.transaction(readonly=True) as tx:
                current = tx.get(Opportunity, target)
            got, want = self.both(
                lambda tx: tx.delete(Opportunity, target, expected_version=current.version, at=T0)
            )
            assert got == want
            self.ids.remove(target)

        @rule(key=st.sampled_from(["a", "b", "c"]))
        def claim_key(self, key: str) -> None:
            got, want = self.both(lambda tx: tx.claim_key("ns", key, f"value-{self.step}"))
            assert got == want

        @invariant()
        def same_contents(self) -> None:
            with self.backend.transaction(readonly=True) as tx:
                got = every_page(tx, Opportunity, order_by="stage", limit=7)
                got_agg = tx.aggregate(Opportunity, group_by=["owner_id"], sum=["amount"])
                got_feed = [e.data for e in tx.read("changes")]
            with self.model.transaction(readonly=True) as tx:
                want = every_page(tx, Opportunity, order_by="stage", limit=7)
                want_agg = tx.aggregate(Opportunity, group_by=["owner_id"], sum=["amount"])
                want_feed = [e.data for e in tx.read("changes")]
            assert got == want
            assert got_agg == want_agg
            assert got_feed == want_feed

        def teardown(self) -> None:
            self.backend.close()

    return Paired
