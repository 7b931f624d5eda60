"""Law: blocking finds exactly the pairs that comparing every pair finds."""

from __future__ import annotations

from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import Indel, Levenshtein

from sfakit.qualification.dedupe import (
    DEFAULT_RULES,
    MatchRecord,
    MatchRuleSet,
    build_index,
    find_duplicates,
    find_matches,
)
from sfakit.qualification.dedupe._blocking import grams, length_range, slack_bound

from .support import record_fields, records, rule_sets

props = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
gram_sizes = st.sampled_from([None, 1, 2, 3, 4])


@props
@given(records(), rule_sets(), gram_sizes)
def test_blocking_finds_the_pairs_of_the_pairwise_comparison(
    batch: list[MatchRecord], rules: MatchRuleSet, q: int | None
) -> None:
    everything = find_duplicates(batch, rules, blocking=False)
    blocked = find_duplicates(batch, rules, gram_size=q)
    assert blocked.pairs == everything.pairs  # same pairs, same first rule, same scores
    assert blocked.clusters == everything.clusters
    assert blocked.stats.compared <= everything.stats.compared


@props
@given(records(), rule_sets(max_rules=2, fuzzy_only=True), gram_sizes)
def test_blocking_equals_pairwise_for_fuzzy_rules(
    batch: list[MatchRecord], rules: MatchRuleSet, q: int | None
) -> None:
    everything = find_duplicates(batch, rules, blocking=False)
    assert find_duplicates(batch, rules, gram_size=q).pairs == everything.pairs


@props
@given(records(max_size=25), gram_sizes)
def test_blocking_equals_pairwise_with_the_default_rules(
    batch: list[MatchRecord], q: int | None
) -> None:
    everything = find_duplicates(batch, DEFAULT_RULES, blocking=False)
    assert find_duplicates(batch, DEFAULT_RULES, gram_size=q).pairs == everything.pairs


@props
@given(records(), record_fields(), rule_sets(), gram_sizes)
def test_find_matches_equals_checking_every_indexed_record(
    batch: list[MatchRecord], fields: dict[str, object], rules: MatchRuleSet, q: int | None
) -> None:
    from .support import record

    kind = fields.pop("kind")
    candidate = record(kind, "new", **fields)  # type: ignore[arg-type]
    index = build_index(batch, rules, gram_size=q)
    found = find_matches(candidate, index)
    expected = {
        p.ids
        for p in find_duplicates([*batch, candidate], rules, blocking=False).pairs
        if candidate.id in p.ids
    }
    assert {p.ids for p in found} == expected
    for pair in found:  # best first: rule order, then score
        assert pair.other(candidate.id).id in index


@props
@given(records())
def test_find_matches_skips_the_record_itself(batch: list[MatchRecord]) -> None:
    index = build_index(batch)
    for r in batch:
        assert all(r.id != p.other(r.id).id for p in find_matches(r, index))


# -- the lemma the blocking rests on -----------------------------------------------------

short_texts = st.text(alphabet="abc ", min_size=1, max_size=14)


def _common(s: str, u: str, q: int) -> int:
    a, b = Counter(g for g, _ in grams(s, q)), Counter(g for g, _ in grams(u, q))
    return sum((a & b).values())


@settings(max_examples=600, deadline=None)
@given(short_texts, short_texts, st.integers(1, 4), st.integers(5000, 10000))
def test_a_ratio_match_keeps_all_but_the_bound_of_grams(s: str, u: str, q: int, t: int) -> None:
    total = len(s) + len(u)
    if (total - Indel.distance(s, u)) * 10000 < t * total:
        return  # not a match at t
    low, high = length_range(len(s), t, levenshtein=False)
    assert low <= len(u) <= high
    assert _common(s, u, q) >= len(grams(s, q)) - slack_bound(len(s), q, t, levenshtein=False)


@settings(max_examples=600, deadline=None)
@given(short_texts, short_texts, st.integers(1, 4), st.integers(5000, 10000))
def test_a_levenshtein_match_keeps_all_but_the_bound_of_grams(
    s: str, u: str, q: int, t: int
) -> None:
    longest = max(len(s), len(u))
    if (longest - Levenshtein.distance(s, u)) * 10000 < t * longest:
        return
    low, high = length_range(len(s), t, levenshtein=True)
    assert low <= len(u) <= high
    assert _common(s, u, q) >= len(grams(s, q)) - slack_bound(len(s), q, t, levenshtein=True)


def test_grams_are_numbered_by_occurrence() -> None:
    assert grams("abab", 2) == [("ab", 1), ("ba", 1), ("ab", 2)]
    assert grams("a", 2) == []


def test_blocking_compares_far_fewer_pairs_than_all() -> None:
    import random

    from .support import record

    rng = random.Random(1)

    def word() -> str:
        return "".join(rng.choice("bcdfghklmnprstvz") + rng.choice("aeiou") for _ in range(4))

    companies = [f"{word()} {word()} Ltd" for _ in range(50)]
    batch = [
        record("contact", i, first_name=word(), last_name=word(), company=companies[i % 50])
        for i in range(400)
    ]
    seven = batch[7]
    batch.append(
        record(
            "lead",
            "dup",
            first_name=seven.first_name,
            last_name=seven.last_name,
            company=companies[7].replace("Ltd", "Limited").upper(),
        )
    )
    result = find_duplicates(batch)
    assert result.stats.compared < result.stats.all_pairs // 100
    assert [p.ids for p in result.pairs] == [("cont_7", "lead_dup")]
    assert result.pairs[0].rule == "same_name_and_company"
