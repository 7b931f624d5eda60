"""Typed, time-ordered ids: their format, their order, their kinds and their validators."""

from __future__ import annotations

import re
import typing
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from sfakit.errors import ValidationError
from sfakit.model import (
    Activity,
    ActivityKind,
    Channel,
    Interaction,
    Money,
    Opportunity,
    Order,
    Quota,
    Territory,
    id_kind,
    new_id,
)
from sfakit.model import ids as ids_module
from sfakit.model.checks import id_of, id_of_any
from sfakit.model.ids import ID_PREFIXES
from sfakit.testing.strategies import aware_datetimes, ids

CROCKFORD_ID = re.compile(r"(?P<prefix>[a-z]+)_(?P<body>[0-9A-HJKMNP-TV-Z]{26})")
KINDS = sorted(ID_PREFIXES)
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

# Ids order by their millisecond, which is >= 0 only from 1970 on.
after_epoch = aware_datetimes(min_value=datetime(1970, 1, 1, tzinfo=UTC))


def snake(kind: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", kind).lower()


@pytest.mark.parametrize("kind", KINDS)
@given(at=after_epoch)
def test_generated_ids_are_the_prefix_and_26_crockford_characters(kind: str, at: datetime) -> None:
    value = new_id(ID_PREFIXES[kind], at)
    match = CROCKFORD_ID.fullmatch(value)
    assert match is not None, value
    assert match["prefix"] == ID_PREFIXES[kind]


def test_ids_without_a_time_use_now() -> None:
    before = new_id("opp", datetime.now(UTC) - timedelta(seconds=1))
    now = new_id("opp")
    after = new_id("opp", datetime.now(UTC) + timedelta(seconds=1))
    assert before < now < after


@given(st.lists(after_epoch, min_size=2, max_size=20))
def test_ids_made_in_time_order_sort_in_time_order(moments: list[datetime]) -> None:
    moments.sort()
    made = [new_id("lead", at) for at in moments]
    assert made == sorted(made)
    assert len(set(made)) == len(made)


@given(after_epoch, after_epoch)
def test_ids_of_different_milliseconds_sort_by_time_whatever_the_order_made(
    first: datetime, second: datetime
) -> None:
    # Made in either order, the id of the earlier millisecond sorts first.
    ms = (int(first.timestamp() * 1000), int(second.timestamp() * 1000))
    assume(ms[0] != ms[1])
    a, b = new_id("acct", second), new_id("acct", first)
    assert (b < a) == (ms[0] < ms[1])


def test_many_ids_in_the_same_millisecond_are_unique_and_increasing() -> None:
    made = [new_id("ord", NOW) for _ in range(10_000)]
    assert len(set(made)) == len(made)
    assert made == sorted(made)
    assert len({m[:14] for m in made}) == 1  # the same time part: "ord_" + 10 characters


@pytest.mark.parametrize("kind", KINDS)
def test_id_kind_names_the_entity(kind: str) -> None:
    assert id_kind(new_id(ID_PREFIXES[kind], NOW)) == kind
    assert id_kind(f"{ID_PREFIXES[kind]}_SF-0012") == kind


@given(st.one_of(st.text(), st.integers(), st.none(), st.binary(), st.lists(st.text())))
def test_id_kind_of_anything_else_is_none_or_a_real_kind(value: Any) -> None:
    kind = id_kind(value)
    assert kind is None or (isinstance(value, str) and value.startswith(ID_PREFIXES[kind] + "_"))


@pytest.mark.parametrize(
    "value", ["", "opp", "opp_", "xyz_01ABC", "OPP_01ABC", "opp_-x", "opp_a b", 5, None, b"opp_x"]
)
def test_id_kind_of_non_ids_is_none(value: object) -> None:
    assert id_kind(value) is None


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_has_a_str_newtype_and_a_factory_of_its_kind(kind: str) -> None:
    newtype = getattr(ids_module, f"{kind}Id")
    assert isinstance(newtype, typing.NewType)
    assert newtype.__supertype__ is str
    factory = getattr(ids_module, f"new_{snake(kind)}_id")
    made = factory(NOW)
    assert type(made) is str
    assert id_kind(made) == kind


def test_new_id_rejects_an_unknown_prefix() -> None:
    with pytest.raises(ValidationError) as info:
        new_id("nope")
    assert info.value.path == "$.prefix"


def test_new_id_rejects_a_naive_datetime() -> None:
    with pytest.raises(ValidationError) as info:
        new_id("opp", datetime(2026, 1, 1))
    assert info.value.path == "$.at"


def test_ids_before_1970_are_still_valid() -> None:
    value = new_id("opp", datetime(1900, 1, 1, tzinfo=timezone(timedelta(hours=-5))))
    assert CROCKFORD_ID.fullmatch(value)


@given(kind=st.sampled_from(KINDS), data=st.data())
def test_the_ids_strategy_makes_ids_of_that_kind(kind: str, data: st.DataObject) -> None:
    value = data.draw(ids(kind))
    assert id_kind(value) == kind
    id_of(kind)(None, _attribute("some_id"), value)  # passes the validator


def _attribute(name: str) -> attrs.Attribute[Any]:
    return attrs.fields(attrs.make_class("Holder", [name]))[0]


# --- validators reject an id of another kind, naming the field --------------------------


def _other_kind(kind: str) -> st.SearchStrategy[str]:
    return st.sampled_from([k for k in KINDS if k != kind]).flatmap(ids)


@given(st.data())
def test_validators_reject_an_id_of_another_kind_naming_the_field(data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(KINDS))
    wrong = data.draw(_other_kind(kind))
    with pytest.raises(ValidationError) as info:
        id_of(kind)(None, _attribute("owner_id"), wrong)
    assert info.value.path == "$.owner_id"
    assert info.value.value == wrong
    assert ID_PREFIXES[kind] + "_" in info.value.expected


ENTITY_FIELDS = [
    (
        Opportunity,
        "account_id",
        {"name": "n", "account_id": "lead_x", "pipeline": "p", "stage": "s"},
    ),
    (
        Opportunity,
        "owner_id",
        {"name": "n", "account_id": "acct_x", "pipeline": "p", "stage": "s", "owner_id": "acct_x"},
    ),
    (Order, "account_id", {"account_id": "cont_x", "currency": "EUR"}),
    (
        Quota,
        "territory_id",
        {"period": "FY2026", "amount": Money.of("1", "EUR"), "territory_id": "rep_x"},
    ),
    (Territory, "member_ids[1]", {"key": "k", "name": "n", "member_ids": ("rep_a", "terr_b")}),
    (
        Interaction,
        "contact_id",
        {"channel": Channel.CALL, "summary": "s", "occurred_at": NOW, "contact_id": "acct_x"},
    ),
    (Activity, "owner_id", {"kind": ActivityKind.CALL, "subject": "s", "owner_id": "cont_x"}),
]


@pytest.mark.parametrize(
    ("cls", "field", "kwargs"),
    ENTITY_FIELDS,
    ids=[f"{c.__name__}.{f}" for c, f, _ in ENTITY_FIELDS],
)
def test_entities_reject_an_id_of_another_kind_in_that_field(
    cls: type, field: str, kwargs: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError) as info:
        cls(created_at=NOW, **kwargs)
    assert info.value.path == f"$.{field}"


@pytest.mark.parametrize("value", ["nope_x", "", 5, None, "acct"])
def test_id_of_any_rejects_non_ids(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        id_of_any(None, _attribute("related_to"), value)
    assert info.value.path == "$.related_to"


@pytest.mark.parametrize("body", ["SF-0012", "a", "x" * 64, "A.b_c-9"])
def test_imported_ids_with_any_valid_body_are_accepted(body: str) -> None:
    id_of("Account")(None, _attribute("account_id"), f"acct_{body}")
    assert id_kind(f"acct_{body}") == "Account"


@pytest.mark.parametrize("body", ["", "x" * 65, "-a", "a b", "ä", "a/b"])
def test_ids_with_a_bad_body_are_rejected(body: str) -> None:
    with pytest.raises(ValidationError):
        id_of("Account")(None, _attribute("account_id"), f"acct_{body}")


def test_mypy_rejects_an_id_of_one_kind_where_another_is_expected(tmp_path: Any) -> None:
    api = pytest.importorskip("mypy.api")
    snippet = tmp_path / "snippet.py"
    snippet.write_text(
        "from sfakit.model.ids import AccountId, LeadId, new_account_id, new_lead_id\n"
        "def owner(account: AccountId) -> None: ...\n"
        "owner(new_account_id())\n"
        "owner(new_lead_id())\n"
        "lead: LeadId = new_lead_id()\n"
        "owner(lead)\n"
    )
    out, _, status = api.run(
        ["--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache"), str(snippet)]
    )
    assert status == 1, out
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert [line.split(":")[1] for line in errors] == ["4", "6"], out
    assert all('"LeadId"' in line and '"AccountId"' in line for line in errors), out
