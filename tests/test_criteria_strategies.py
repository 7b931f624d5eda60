"""The public criteria strategies make rules that compile, explain and round-trip."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfakit.model import Account, Lead, Opportunity
from sfakit.rules import compile_criteria, criteria_from_data, criteria_to_data
from sfakit.testing import strategies as sfa

NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("subject", "records"),
    [(Lead, sfa.leads()), (Opportunity, sfa.opportunities()), (Account, sfa.accounts())],
)
def test_generated_criteria_compile_and_explain_agrees_with_matches(subject, records) -> None:
    @settings(max_examples=60)
    @given(sfa.criteria(subject), st.lists(records, min_size=1, max_size=3))
    def check(rule, sample) -> None:
        compiled = compile_criteria(rule, subject)
        for record in sample:
            assert compiled.explain(record, now=NOW).matched is compiled.matches(record, now=NOW)

    check()


@given(sfa.criteria(Opportunity))
def test_generated_criteria_round_trip_through_data(rule) -> None:
    assert criteria_from_data(criteria_to_data(rule)) == rule


def test_every_field_kind_of_a_lead_is_reachable() -> None:
    seen: set[str] = set()

    @settings(max_examples=300)
    @given(sfa.conditions(Lead))
    def collect(condition) -> None:
        seen.add(condition.field)

    collect()
    assert {"status", "email", "company_size", "created_at", "product_interest"} <= seen
