"""Match rules are data: they round-trip exactly and refuse what makes no sense."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given

from sfakit.codec import from_data, from_json, to_data, to_json
from sfakit.errors import ValidationError
from sfakit.qualification.dedupe import (
    CONVERSION_RULES,
    DEFAULT_RULES,
    Comparison,
    KindPair,
    MatchField,
    MatchRule,
    MatchRuleSet,
    Method,
    RecordKind,
    Scorer,
    exact,
    fuzzy,
)

from .support import rule_sets


@given(rule_sets())
def test_rule_sets_round_trip_exactly(rules: MatchRuleSet) -> None:
    assert from_data(MatchRuleSet, to_data(rules)) == rules
    assert from_json(MatchRuleSet, to_json(rules)) == rules


@pytest.mark.parametrize("rules", [DEFAULT_RULES, CONVERSION_RULES])
def test_the_built_in_rule_sets_round_trip(rules: MatchRuleSet) -> None:
    assert from_data(MatchRuleSet, to_data(rules)) == rules


def test_rules_load_from_plain_data() -> None:
    data = {
        "rules": [
            {
                "name": "same_company_in_city",
                "comparisons": [
                    {"field": "company", "method": "fuzzy", "scorer": "ratio", "threshold": "88.5"},
                    {"field": "city", "method": "exact"},
                ],
                "kinds": [{"first": "account", "second": "account"}],
            }
        ]
    }
    rule = from_data(MatchRuleSet, data).rules[0]
    assert rule.comparisons[0] == fuzzy(MatchField.COMPANY, "88.5", scorer=Scorer.RATIO)
    assert rule.applies_to(RecordKind.ACCOUNT, RecordKind.ACCOUNT)
    assert not rule.applies_to(RecordKind.LEAD, RecordKind.ACCOUNT)


def test_bad_rule_data_names_each_bad_field() -> None:
    data = {
        "rules": [
            {"name": "a", "comparisons": [{"field": "emial", "method": "exact"}]},
            {
                "name": "b",
                "comparisons": [
                    {"field": "company", "method": "fuzzy", "scorer": "jaro", "threshold": "90"}
                ],
            },
        ]
    }
    with pytest.raises(ValidationError) as caught:
        from_data(MatchRuleSet, data)
    assert set(caught.value.paths) == {
        "$.rules[0].comparisons[0].field",
        "$.rules[1].comparisons[0].scorer",
    }


@pytest.mark.parametrize(
    ("build", "path"),
    [
        (lambda: fuzzy(MatchField.EMAIL, 90), "$.field"),
        (lambda: fuzzy(MatchField.COUNTRY, 90), "$.field"),
        (lambda: fuzzy(MatchField.COMPANY, 0), "$.threshold"),
        (lambda: fuzzy(MatchField.COMPANY, 101), "$.threshold"),
        (lambda: fuzzy(MatchField.COMPANY, "90.125"), "$.threshold"),
        (lambda: fuzzy(MatchField.COMPANY, "ninety"), "$.threshold"),
        (lambda: fuzzy("colour", 90), "$.field"),
        (lambda: fuzzy(MatchField.COMPANY, 90, scorer="jaro"), "$.scorer"),
        (lambda: Comparison(field=MatchField.EMAIL, threshold=Decimal(90)), "$.threshold"),
        (lambda: Comparison(field=MatchField.COMPANY, method=Method.FUZZY), "$.scorer"),
        (lambda: MatchRule(name="empty", comparisons=[]), "$.comparisons"),
        (lambda: MatchRuleSet(rules=[]), "$.rules"),
    ],
)
def test_comparisons_and_rules_refuse_nonsense(build, path: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as caught:
        build()
    assert caught.value.path == path


def test_rule_names_are_unique() -> None:
    rule = MatchRule(name="same", comparisons=[exact("email")])
    with pytest.raises(ValidationError) as caught:
        MatchRuleSet(rules=[rule, rule])
    assert caught.value.path == "$.rules[1].name"
    assert "rules[0]" in caught.value.expected


def test_kind_pairs_are_unordered() -> None:
    pair = KindPair(RecordKind.LEAD, RecordKind.ACCOUNT)
    assert pair.covers(RecordKind.ACCOUNT, RecordKind.LEAD)
    assert not pair.covers(RecordKind.LEAD, RecordKind.LEAD)


def test_rules_describe_themselves() -> None:
    assert DEFAULT_RULES.rule("same_phone_and_last_name").describe() == (
        "same_phone_and_last_name: phone exact and last_name token_sort_ratio >= 85"
    )
    with pytest.raises(ValidationError):
        DEFAULT_RULES.rule("nope")
