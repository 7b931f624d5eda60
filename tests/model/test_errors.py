"""The error hierarchy: messages that say what, where and what is allowed; pickling; paths."""

from __future__ import annotations

import inspect
import pickle
import threading
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import sfakit.errors as errors_module
from sfakit.errors import (
    ConflictError,
    CurrencyMismatchError,
    DuplicateError,
    NotFoundError,
    PluginError,
    Problem,
    ScheduleError,
    SchemaVersionError,
    SfaError,
    StorageError,
    TransitionError,
    ValidationError,
    join_path,
)


def test_message_names_path_value_and_expected() -> None:
    err = ValidationError("$.close_date", "2026-13-01", "an ISO 8601 date such as 2026-03-01")
    message = str(err)
    assert "$.close_date" in message
    assert "'2026-13-01'" in message
    assert "an ISO 8601 date such as 2026-03-01" in message
    assert (err.path, err.value, err.expected) == (
        "$.close_date",
        "2026-13-01",
        "an ISO 8601 date such as 2026-03-01",
    )


def test_a_problem_without_a_value_says_what_is_missing() -> None:
    err = ValidationError("$.name", expected="a value: this field is required")
    assert str(err) == "$.name: a value: this field is required"
    assert err.value is errors_module.MISSING


def test_long_values_are_shortened_in_the_message() -> None:
    err = ValidationError("$.notes", "x" * 500, "at most 300 characters")
    assert len(str(err)) < 200
    assert "..." in str(err)
    assert err.value == "x" * 500  # the attribute keeps the whole value


def test_subject_prefixes_the_message() -> None:
    err = ValidationError("$.amount", 1.5, "a Decimal", subject="Money")
    assert str(err).startswith("invalid Money: ")


def test_several_problems_are_all_listed() -> None:
    err = ValidationError.from_problems(
        [
            Problem("$.name", "a string", 5),
            Problem("$.lines[0].quantity", "a quantity greater than 0", "-1"),
            Problem("$.currency", "a value: this field is required"),
        ],
        subject="Order",
    )
    message = str(err)
    assert message.startswith("invalid Order: 3 problems:")
    for path in ("$.name", "$.lines[0].quantity", "$.currency"):
        assert path in message
    assert err.paths == ("$.name", "$.lines[0].quantity", "$.currency")
    assert err.path == "$.name"  # the first problem, for the single-field case


def test_an_error_needs_at_least_one_problem() -> None:
    with pytest.raises(ValueError, match="at least one problem"):
        ValidationError.from_problems([])


def test_under_re_roots_every_path() -> None:
    err = ValidationError.from_problems(
        [Problem("$.amount", "a Decimal", 1.5), Problem("$", "an object", None)]
    )
    moved = err.under("$.lines[2].unit_price", subject="Order")
    assert moved.paths == ("$.lines[2].unit_price.amount", "$.lines[2].unit_price")
    assert moved.subject == "Order"
    assert type(moved) is ValidationError
    assert err.paths == ("$.amount", "$")  # the original is unchanged


def test_under_keeps_the_class_and_the_subject() -> None:
    err = CurrencyMismatchError("EUR", "USD", operation="add")
    moved = err.under("$.total")
    assert type(moved) is CurrencyMismatchError
    assert moved.path == "$.total.currency"


@pytest.mark.parametrize(
    ("prefix", "suffix", "joined"),
    [
        ("$.lines[2]", "$.amount", "$.lines[2].amount"),
        ("$.lines", "$[0].amount", "$.lines[0].amount"),
        ("$.a", "$", "$.a"),
        ("$", "$.a", "$.a"),
    ],
)
def test_join_path(prefix: str, suffix: str, joined: str) -> None:
    assert join_path(prefix, suffix) == joined


ERRORS: list[SfaError] = [
    SfaError("something went wrong"),
    ValidationError("$.amount", 1.5, "a Decimal"),
    ValidationError("$.name", expected="a value: this field is required"),
    ValidationError.from_problems([Problem("$.a", "x", 1), Problem("$.b", "y")], subject="Order"),
    CurrencyMismatchError("EUR", "USD", operation="compare"),
    TransitionError("cannot move from won to qualify"),
    ConflictError("Opportunity", "opp_1", expected_version=3, current_version=4),
    ConflictError("Opportunity", "opp_1", expected_version=3, current_version=None),
    NotFoundError("Account", "acct_1"),
    NotFoundError("Account", "SF-1", field="external_id"),
    DuplicateError("Product", "LED-1", existing_id="prod_1"),
    DuplicateError("Product", "LED-1"),
    ScheduleError("the rule never produces an occurrence"),
    PluginError("no plugin offers geocoding", plugin="geo", hook="geocode"),
    StorageError("database is locked"),
    SchemaVersionError("sqlite:///sfa.db", 3, 2),
]
ATTRIBUTES = (
    "problems",
    "subject",
    "path",
    "value",
    "expected",
    "entity",
    "id",
    "key",
    "field",
    "expected_version",
    "current_version",
    "existing_id",
    "plugin",
    "hook",
    "url",
    "found",
    "supported",
)


@pytest.mark.parametrize("err", ERRORS, ids=lambda e: type(e).__name__)
def test_errors_survive_a_pickle_round_trip(err: SfaError) -> None:
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is type(err)
    assert str(copy) == str(err)
    assert copy.args == err.args
    for name in ATTRIBUTES:
        if hasattr(err, name):
            assert getattr(copy, name) == getattr(err, name), name


any_value = st.one_of(
    st.none(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(),
    st.binary(),
    st.lists(st.integers()),
    st.dictionaries(st.text(), st.integers()),
)


@given(st.lists(st.tuples(st.text(), st.text(), any_value), min_size=1, max_size=5))
def test_any_validation_error_survives_a_pickle_round_trip(
    problems: list[tuple[str, str, Any]],
) -> None:
    err = ValidationError.from_problems(Problem(p, e, v) for p, e, v in problems)
    copy = pickle.loads(pickle.dumps(err))
    assert str(copy) == str(err)
    assert copy.problems == err.problems


@pytest.mark.parametrize(
    "value",
    [(x for x in ()), threading.Lock(), lambda: None],
    ids=["generator", "lock", "lambda"],
)
def test_a_validation_error_about_an_unpicklable_value_still_pickles(value: object) -> None:
    err = ValidationError("$.lines", value, "a tuple")
    copy = pickle.loads(pickle.dumps(err))
    assert str(copy) == str(err)
    assert copy.path == "$.lines"
    assert repr(copy.value) == repr(value)


def test_a_missing_value_stays_missing_after_pickling() -> None:
    copy = pickle.loads(pickle.dumps(ValidationError("$.name", expected="a value")))
    assert copy.value is errors_module.MISSING
    assert str(copy) == "$.name: a value"


def _public_error_classes() -> list[type[BaseException]]:
    return [
        obj
        for name, obj in vars(errors_module).items()
        if name in errors_module.__all__ and inspect.isclass(obj) and issubclass(obj, BaseException)
    ]


def test_every_public_error_is_an_sfa_error() -> None:
    classes = _public_error_classes()
    assert all(issubclass(cls, SfaError) for cls in classes), classes


def test_every_public_error_is_in_the_pickling_test() -> None:
    assert set(_public_error_classes()) == {type(e) for e in ERRORS}


def test_hierarchy() -> None:
    assert issubclass(CurrencyMismatchError, ValidationError)
    assert issubclass(ValidationError, ValueError)  # callers catching ValueError still work
    assert issubclass(NotFoundError, LookupError)
    for cls in (TransitionError, ConflictError, DuplicateError, ScheduleError, PluginError):
        assert not issubclass(cls, ValidationError)


def test_conflict_error_says_how_to_recover() -> None:
    err = ConflictError("Order", "ord_1", expected_version=2, current_version=5)
    assert "version 5" in str(err)
    assert "reload" in str(err)
    gone = ConflictError("Order", "ord_1", expected_version=2, current_version=None)
    assert "no longer exists" in str(gone)


def test_currency_mismatch_names_both_currencies_and_the_operation() -> None:
    err = CurrencyMismatchError("EUR", "JPY", operation="add")
    assert "EUR" in str(err)
    assert "JPY" in str(err)
    assert "add" in str(err)
    assert err.path == "$.currency"
