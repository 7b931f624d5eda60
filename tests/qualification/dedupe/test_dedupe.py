"""Finding duplicates: symmetric, across kinds, explained, clustered."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from sfakit.errors import ValidationError
from sfakit.model import Account, Contact, Lead
from sfakit.qualification.dedupe import (
    DEFAULT_RULES,
    DuplicatePair,
    MatchField,
    MatchRecord,
    MatchRule,
    MatchRuleSet,
    RecordKind,
    RecordRef,
    Scorer,
    build_index,
    clusters,
    exact,
    find_duplicates,
    find_matches,
    fuzzy,
    match_record,
    name_key,
    plan_merge,
)

from .support import T0, make, record, records, rule_sets

props = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- laws --------------------------------------------------------------------------------


@props
@given(records(), rule_sets(), st.randoms(use_true_random=False))
def test_dedupe_is_symmetric(batch: list[MatchRecord], rules: MatchRuleSet, rnd) -> None:  # type: ignore[no-untyped-def]
    shuffled = list(batch)
    rnd.shuffle(shuffled)
    assert find_duplicates(shuffled, rules).pairs == find_duplicates(batch, rules).pairs
    assert find_duplicates(batch[::-1], rules).pairs == find_duplicates(batch, rules).pairs


@props
@given(records(), rule_sets())
def test_pairs_are_ordered_and_unique(batch: list[MatchRecord], rules: MatchRuleSet) -> None:
    pairs = find_duplicates(batch, rules).pairs
    ids = [p.ids for p in pairs]
    assert ids == sorted(set(ids))
    assert all(left < right for left, right in ids)
    for pair in pairs:
        assert pair.score == min((c.score for c in pair.comparisons), default=Decimal(100))
        assert all(c.passed for c in pair.comparisons)


@props
@given(records(), rule_sets())
def test_clusters_partition_the_duplicate_records(
    batch: list[MatchRecord], rules: MatchRuleSet
) -> None:
    result = find_duplicates(batch, rules)
    in_pairs = {i for p in result.pairs for i in p.ids}
    members = [i for c in result.clusters for i in c]
    assert sorted(members) == sorted(in_pairs)  # each duplicate record in exactly one cluster
    where = {i: n for n, c in enumerate(result.clusters) for i in c}
    for pair in result.pairs:
        assert where[pair.left.id] == where[pair.right.id]
    for cluster in result.clusters:  # connected: no cluster splits into two without a pair
        assert len(cluster) >= 2
        reached = {cluster[0]}
        grew = True
        while grew:
            grew = False
            for p in result.pairs:
                if (p.left.id in reached) != (p.right.id in reached):
                    reached |= set(p.ids)
                    grew = True
        assert reached == set(cluster)


@props
@given(records(max_size=12))
def test_stats_count_pairs_by_first_rule(batch: list[MatchRecord]) -> None:
    result = find_duplicates(batch)
    assert result.stats.pairs == len(result.pairs) == sum(c.pairs for c in result.stats.by_rule)
    assert [c.rule for c in result.stats.by_rule] == list(DEFAULT_RULES.names())
    assert result.rules == DEFAULT_RULES


def test_first_rule_in_order_is_reported() -> None:
    a = record("lead", 1, last_name="Schmidt", emails=["a@x.de"], phones=["+491"])
    b = record("lead", 2, last_name="Schmidt", emails=["a@x.de"], phones=["+491"])
    assert find_duplicates([a, b]).pairs[0].rule == "same_email"
    phone_first = MatchRuleSet(rules=[DEFAULT_RULES.rules[1], DEFAULT_RULES.rules[0]])
    assert find_duplicates([a, b], phone_first).pairs[0].rule == "same_phone_and_last_name"


# -- across kinds ------------------------------------------------------------------------


def test_a_lead_matches_a_contact_by_email() -> None:
    lead = make(
        Lead,
        id="lead_m",
        first_name="Kenji",
        last_name="Nakamura",
        email="k.nakamura@example.com",
        created_at=T0,
    )
    contact = make(
        Contact,
        id="cont_s",
        last_name="Nakamura",
        emails=("K.Nakamura@Example.com",),
        created_at=T0,
    )
    (pair,) = find_duplicates([lead, contact]).pairs
    assert (pair.left, pair.right) == (
        RecordRef(RecordKind.CONTACT, "cont_s"),
        RecordRef(RecordKind.LEAD, "lead_m"),
    )
    assert pair.rule == "same_email"
    assert pair.comparisons[0].left == "k.nakamura@example.com"
    assert find_matches(lead, build_index([contact]))[0].ids == pair.ids


def test_a_contact_takes_its_company_from_its_account() -> None:
    acme = make(
        Account, id="acct_acme", name="ACME Lighting GmbH", billing_country="DE", created_at=T0
    )
    anna = make(
        Contact,
        id="cont_anna",
        account_id="acct_acme",
        first_name="Anna",
        last_name="Schmidt",
        created_at=T0,
    )
    lead = make(
        Lead,
        id="lead_anna",
        first_name="Anna",
        last_name="Schmidt",
        company="Acme Lighting",
        created_at=T0,
    )
    result = find_duplicates([acme, anna, lead])
    assert [(p.ids, p.rule) for p in result.pairs] == [
        (("cont_anna", "lead_anna"), "same_name_and_company")
    ]
    # Without the account, the contact has no company: only the index can tell.
    assert find_duplicates([anna, lead]).pairs == ()


def test_company_rules_do_not_match_people() -> None:
    a = record("lead", 1, last_name="Okafor", company="Brightside Hotels", country="NG")
    b = record("lead", 2, last_name="Adeyemi", company="Brightside Hotels Ltd", country="NG")
    c = record("account", 3, company="Brightside Hotels Limited", country="NG")
    d = record("account", 4, company="BRIGHTSIDE HOTELS", country="NG")
    result = find_duplicates([a, b, c, d])
    assert [(p.ids, p.rule) for p in result.pairs] == [
        (("acct_3", "acct_4"), "same_company_and_country")
    ]


def test_records_are_built_from_entities() -> None:
    acme = make(
        Account,
        id="acct_1",
        name="Acme",
        website="https://acme.de",
        billing_city="Köln",
        created_at=T0,
    )
    assert match_record(acme) == MatchRecord(
        kind=RecordKind.ACCOUNT, id="acct_1", company="Acme", website="https://acme.de", city="Köln"
    )
    with pytest.raises(ValidationError) as caught:
        MatchRecord.from_contact(
            make(Contact, id="cont_1", last_name="X", account_id="acct_2", created_at=T0),
            account=acme,
        )
    assert caught.value.path == "$.account.id"
    with pytest.raises(ValidationError) as caught:
        MatchRecord(kind=RecordKind.LEAD, id="cont_1")
    assert caught.value.path == "$.id"
    with pytest.raises(ValidationError):
        match_record("lead_1")  # type: ignore[arg-type]


# -- scores ------------------------------------------------------------------------------


names = st.text(alphabet="ab cé", min_size=1, max_size=12).filter(str.strip)


@settings(max_examples=300, deadline=None)
@given(names, names, st.sampled_from(list(Scorer)))
def test_scores_are_rapidfuzz_scores(a: str, b: str, scorer: Scorer) -> None:
    rules = MatchRuleSet(
        rules=[
            MatchRule(name="r", comparisons=[fuzzy(MatchField.LAST_NAME, "0.01", scorer=scorer)])
        ]
    )
    pairs = find_duplicates(
        [record("lead", 1, last_name=a), record("lead", 2, last_name=b)], rules
    ).pairs
    ka, kb = name_key(a), name_key(b)
    assert ka
    assert kb
    expected = {
        Scorer.RATIO: fuzz.ratio(ka, kb),
        Scorer.TOKEN_SORT_RATIO: fuzz.token_sort_ratio(ka, kb),
        Scorer.LEVENSHTEIN: Levenshtein.normalized_similarity(ka, kb) * 100,
    }[scorer]
    if expected < 0.01:
        assert pairs == ()
        return
    (pair,) = pairs
    assert abs(float(pair.score) - expected) < 0.01 + 1e-9
    assert pair.score <= Decimal(str(expected)) + Decimal("0.000001")  # truncated, never up


def test_a_fuzzy_pair_explains_itself() -> None:
    a = record("lead", 1, first_name="Anna", last_name="Schmidt", company="Acme GmbH")
    b = record("contact", 2, first_name="Anna", last_name="Schmitt", company="ACME")
    (pair,) = find_duplicates([a, b]).pairs
    assert pair.explain() == (
        "cont_2 ~ lead_1 by same_name_and_company: full_name 'anna schmitt' ~ "
        "'anna schmidt' token_sort_ratio 91.66 >= 90 and company 'acme' ~ 'acme' "
        "token_sort_ratio 100.00 >= 90"
    )


def test_blank_fields_match_only_when_the_rule_says_so() -> None:
    a = record("account", 1, company="Acme")
    b = record("account", 2, company="Acme")
    strict = MatchRuleSet(
        rules=[MatchRule(name="r", comparisons=[fuzzy("company", 90), exact("country")])]
    )
    blank = MatchRuleSet(
        rules=[
            MatchRule(
                name="r", comparisons=[fuzzy("company", 90), exact("country", match_blank=True)]
            )
        ]
    )
    assert find_duplicates([a, b], strict).pairs == ()
    assert [p.ids for p in find_duplicates([a, b], blank).pairs] == [("acct_1", "acct_2")]
    c = record("account", 3, company="Acme", country="DE")
    assert find_duplicates([a, c], blank).pairs == ()


# -- bad input ---------------------------------------------------------------------------


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        find_duplicates([record("lead", 1), record("lead", 2), record("lead", 1)])
    assert caught.value.path == "$.records[2].id"


@pytest.mark.parametrize("gram_size", [0, 6, "3", True])
def test_gram_size_is_checked(gram_size: object) -> None:
    with pytest.raises(ValidationError) as caught:
        find_duplicates([], gram_size=gram_size)  # type: ignore[arg-type]
    assert caught.value.path == "$.gram_size"


@pytest.mark.parametrize("records", [None, "lead_1", {"id": "lead_1"}, 3])
def test_records_must_be_a_collection(records: object) -> None:
    with pytest.raises(ValidationError) as caught:
        find_duplicates(records)  # type: ignore[arg-type]
    assert caught.value.path == "$.records"
    with pytest.raises(ValidationError) as caught:
        plan_merge(records, at=T0, by="me")  # type: ignore[arg-type]
    assert caught.value.path == "$.records"


def test_other_bad_input_is_refused() -> None:
    with pytest.raises(ValidationError):
        find_duplicates([], rules="default")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        find_matches(record("lead", 1), index=[])  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        build_index([record("lead", 1)]).record("lead_2")


def test_clusters_join_pairs_transitively() -> None:
    def pair(a: str, b: str) -> DuplicatePair:
        return DuplicatePair.of(
            RecordRef(RecordKind.LEAD, a), RecordRef(RecordKind.LEAD, b), rule="r", comparisons=()
        )

    assert clusters(
        [pair("lead_c", "lead_d"), pair("lead_b", "lead_a"), pair("lead_d", "lead_a")]
    ) == (("lead_a", "lead_b", "lead_c", "lead_d"),)
    assert clusters([]) == ()
