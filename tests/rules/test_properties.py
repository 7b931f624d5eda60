"""Laws: the fast path agrees with an independent oracle and with explain; bad input only
ever raises SfaError; a criteria that compiles never fails at evaluation time."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sfakit.errors import SfaError
from sfakit.rules import (
    AllOf,
    AnyOf,
    CompiledCriteria,
    Condition,
    Criteria,
    Not,
    Operator,
    compile_criteria,
    criteria_from_data,
    criteria_to_data,
)

from .support import TEXTS, Rec, criteria, nows, oracle, records

compiled_settings = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@compiled_settings
@given(criteria, st.lists(records, min_size=1, max_size=5), nows)
def test_matches_equals_an_independent_predicate(
    node: Criteria, recs: list[Rec], now: datetime
) -> None:
    compiled = compile_criteria(node, Rec)
    for record in recs:
        assert compiled.matches(record, now=now) is oracle(node, record, now)


@compiled_settings
@given(criteria, records, nows)
def test_explain_agrees_with_matches(node: Criteria, record: Rec, now: datetime) -> None:
    compiled = compile_criteria(node, Rec)
    verdict = compiled.explain(record, now=now)
    assert verdict.matched is compiled.matches(record, now=now)
    assert all(leaf.matched for leaf in verdict.fired())
    assert verdict.render().splitlines()[0] == ("MATCHED" if verdict.matched else "NOT MATCHED")


# -- fuzzing: only SfaError may escape ----------------------------------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=8),
    st.sampled_from(["eq", "in", "between", "within_last", "matches", "P1D", "P1M", "(", "a.b"]),
)
json_like = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(
                ["field", "op", "value", "all", "any", "not", "$decimal", "$date",
                 "$datetime", "$duration", "x"]
            ) | st.text(max_size=3),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=20,
)  # fmt: skip


def _mutate(data: Any, junk: Any, choice: int) -> Any:
    """Replace one node of ``data`` (the ``choice``-th met, depth first) with ``junk``."""
    counter = [choice]

    def walk(node: Any) -> Any:
        counter[0] -= 1
        if counter[0] == 0:
            return junk
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(data)


@given(json_like)
def test_loading_random_data_raises_only_sfa_errors(data: object) -> None:
    try:
        node = criteria_from_data(data)
    except SfaError:
        return
    assert criteria_from_data(criteria_to_data(node)) == node


@given(criteria, json_like, st.integers(1, 40))
def test_loading_corrupted_valid_data_raises_only_sfa_errors(
    node: Criteria, junk: object, choice: int
) -> None:
    data = _mutate(criteria_to_data(node), junk, choice)
    try:
        loaded = criteria_from_data(data)
    except SfaError:
        return
    assert criteria_from_data(json.loads(json.dumps(criteria_to_data(loaded)))) == loaded


any_value = st.one_of(
    json_scalars,
    st.decimals(),
    st.dates(),
    st.datetimes(),
    st.datetimes(timezones=st.just(UTC)),
    st.timedeltas(),
    st.sampled_from(TEXTS),
    st.lists(st.one_of(st.integers(-2, 2), st.decimals(), st.text(max_size=3)), max_size=3),
    st.tuples(st.integers(), st.text()),
    st.builds(object),
    st.frozensets(st.integers(), max_size=2),
    st.binary(max_size=3),
)
field_paths = st.sampled_from(
    ["name", "count", "amount", "active", "due", "seen", "tier", "stage", "tags", "address",
     "address.city", "address.postcode", "region", "note", "score", "when", "labels", "wait",
     "nope", "name.x", "address.nope"]
) | st.text(max_size=6)  # fmt: skip
ops = st.sampled_from(Operator) | st.text(max_size=3)


@compiled_settings
@given(
    st.lists(st.tuples(field_paths, ops, any_value), min_size=1, max_size=3),
    st.lists(records, min_size=1, max_size=3),
    nows,
)
def test_random_conditions_fail_only_at_build_or_compile_time(
    triples: list[tuple[Any, Any, Any]], recs: list[Rec], now: datetime
) -> None:
    """Constructors and compile raise only SfaError; what compiles evaluates without error."""
    leaves: list[Criteria] = []
    for path, op, value in triples:
        try:
            leaves.append(Condition(path, op, value))
        except SfaError:
            continue
    node = AllOf([AnyOf(leaves), Not(AllOf(leaves))])
    try:
        compiled: CompiledCriteria[Rec] = compile_criteria(node, Rec)
    except SfaError:
        return
    for record in recs:
        assert compiled.explain(record, now=now).matched is compiled.matches(record, now=now)


@given(st.one_of(st.text(), st.integers(), st.none()), st.one_of(ops, st.integers()), any_value)
def test_condition_constructor_raises_only_sfa_errors(path: Any, op: Any, value: Any) -> None:
    try:
        node = Condition(path, op, value)
    except SfaError:
        return
    assert criteria_from_data(criteria_to_data(node)) == node


def test_typed_values_survive_fuzzing_examples() -> None:
    # Values the fuzzers above rarely produce but that must load cleanly.
    node = AllOf(
        [
            Condition("amount", "between", (Decimal("-1E+3"), Decimal("0.001"))),
            Condition("due", "between", [date(1, 1, 1), date(9999, 12, 31)]),
            Condition("seen", "le", datetime.max.replace(tzinfo=timezone(timedelta(hours=-23)))),
            Condition("wait", "lt", timedelta.max),
        ]
    )
    assert criteria_from_data(json.loads(json.dumps(criteria_to_data(node)))) == node
    assert compile_criteria(node, Rec).matches(Rec()) is True
