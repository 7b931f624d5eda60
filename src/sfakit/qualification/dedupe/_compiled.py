"""A rule set compiled for speed: match keys computed once per record, comparisons as
closures over slots, fuzzy thresholds decided in exact integer arithmetic (internal).

Scores are kept in hundredths (``9050`` is 90.50) so that "at least the threshold" is an
integer comparison, never a float one: the blocking bounds in ``_blocking`` are proved for
exact scores, and a float rounding up past the threshold would break the proof.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, Final

from rapidfuzz import process
from rapidfuzz.distance import Indel, Levenshtein

from sfakit.qualification.dedupe.keys import (
    company_key,
    email_key,
    name_key,
    phone_key,
    postal_code_key,
    website_key,
)
from sfakit.qualification.dedupe.records import MatchRecord, RecordKind
from sfakit.qualification.dedupe.rules import (
    Comparison,
    MatchField,
    MatchRule,
    MatchRuleSet,
    Method,
    Scorer,
)

__all__ = ["KIND_CODES", "CompiledRule", "Matcher", "Prepared", "field_key", "sort_tokens"]

KIND_CODES: Final = {RecordKind.LEAD: 0, RecordKind.CONTACT: 1, RecordKind.ACCOUNT: 2}
FULL: Final = 10000  # a score of 100.00, in hundredths

Value = str | frozenset[str] | None
# Comparisons read values by slot; which type a slot holds is fixed by its field.
Compare = Callable[["Prepared", "Prepared"], int | None]


def _country_key(value: str | None) -> str | None:
    return value.strip().casefold() or None if value is not None else None


def field_key(record: MatchRecord, field: MatchField) -> Value:
    """The match key(s) of ``field`` of ``record``: a string, a set (emails, phones), None."""
    if field is MatchField.EMAIL:
        return frozenset(k for k in map(email_key, record.emails) if k) or None
    if field is MatchField.PHONE:
        return frozenset(k for k in map(phone_key, record.phones) if k) or None
    if field is MatchField.FIRST_NAME:
        return name_key(record.first_name)
    if field is MatchField.LAST_NAME:
        return name_key(record.last_name)
    if field is MatchField.FULL_NAME:
        return name_key(record.full_name)
    if field is MatchField.COMPANY:
        return company_key(record.company)
    if field is MatchField.WEBSITE:
        return website_key(record.website)
    if field is MatchField.COUNTRY:
        return _country_key(record.country)
    if field is MatchField.CITY:
        return name_key(record.city)
    if field is MatchField.POSTAL_CODE:
        return postal_code_key(record.postal_code)
    return record.account_id or None  # MatchField.ACCOUNT


def sort_tokens(value: str) -> str:
    """What ``token_sort_ratio`` compares: the words in sorted order, one space apart."""
    return " ".join(sorted(value.split()))


class Prepared:
    """A record's id, kind and the match keys the rule set compares, by slot."""

    __slots__ = ("id", "kind", "record", "values")

    def __init__(self, record: MatchRecord, values: list[Value]) -> None:
        self.record = record
        self.id = record.id
        self.kind = KIND_CODES[record.kind]
        self.values: list[Any] = values


def _exact_single(slot: int, blank: bool) -> Compare:
    def compare(a: Prepared, b: Prepared) -> int | None:
        value = a.values[slot]
        if value is None:
            return FULL if blank and b.values[slot] is None else None
        return FULL if value == b.values[slot] else None

    return compare


def _exact_multi(slot: int, blank: bool) -> Compare:
    def compare(a: Prepared, b: Prepared) -> int | None:
        left, right = a.values[slot], b.values[slot]
        if left is None or right is None:
            return FULL if blank and left is right else None
        return None if left.isdisjoint(right) else FULL

    return compare


def _indel(slot: int, threshold: int, blank: bool) -> Compare:
    # ratio >= t  <=>  (n + m - d) / (n + m) >= t / 100  <=>  d <= (n + m)(1 - t/100)
    slack = FULL - threshold
    distance = Indel.distance

    def compare(a: Prepared, b: Prepared) -> int | None:
        left, right = a.values[slot], b.values[slot]
        if not left or not right:
            return FULL if blank and not left and not right else None
        total = len(left) + len(right)
        most = total * slack // FULL
        if abs(len(left) - len(right)) > most:
            return None
        d = distance(left, right, score_cutoff=most)
        if d > most:
            return None
        return (total - d) * FULL // total

    return compare


def _levenshtein(slot: int, threshold: int, blank: bool) -> Compare:
    # similarity >= t  <=>  d <= max(n, m)(1 - t/100)
    slack = FULL - threshold
    distance = Levenshtein.distance

    def compare(a: Prepared, b: Prepared) -> int | None:
        left, right = a.values[slot], b.values[slot]
        if not left or not right:
            return FULL if blank and not left and not right else None
        longest = max(len(left), len(right))
        most = longest * slack // FULL
        if abs(len(left) - len(right)) > most:
            return None
        d = distance(left, right, score_cutoff=most)
        if d > most:
            return None
        return (longest - d) * FULL // longest

    return compare


def hundredths(comparison: Comparison) -> int:
    assert comparison.threshold is not None
    return int(comparison.threshold * 100)


class CompiledRule:
    """One rule: the kind pairs it applies to and its comparisons, cheapest first."""

    __slots__ = ("comparisons", "index", "kinds", "order", "rule", "screen", "slots")

    def __init__(self, index: int, rule: MatchRule, slots: list[int]) -> None:
        self.index = index
        self.rule = rule
        self.slots = slots
        self.kinds: frozenset[int] | None = (
            frozenset(
                KIND_CODES[a] * 3 + KIND_CODES[b]
                for pair in rule.kinds
                for a, b in ((pair.first, pair.second), (pair.second, pair.first))
            )
            if rule.kinds
            else None
        )
        compiled: list[tuple[int, Compare]] = []
        for position, (comparison, slot) in enumerate(zip(rule.comparisons, slots, strict=True)):
            compiled.append((position, _compile(comparison, slot)))
        # Exact comparisons first: they are cheap and usually decide.
        exact_first = sorted(
            compiled, key=lambda pc: rule.comparisons[pc[0]].method is Method.FUZZY
        )
        self.order = tuple(exact_first)
        self.comparisons = rule.comparisons
        fuzzy = [
            (hundredths(c), slot, c.scorer is Scorer.LEVENSHTEIN)
            for c, slot in zip(rule.comparisons, slots, strict=True)
            if c.method is Method.FUZZY and not c.match_blank  # blanks would not survive
        ]
        self.screen: Screen | None = Screen(*max(fuzzy)) if fuzzy else None

    def kinds_ok(self, a: int, b: int) -> bool:
        return self.kinds is None or a * 3 + b in self.kinds

    def evaluate(self, a: Prepared, b: Prepared) -> list[int] | None:
        scores = [0] * len(self.order)
        for position, compare in self.order:
            score = compare(a, b)
            if score is None:
                return None
            scores[position] = score
        return scores


class Screen:
    """A rule's strictest fuzzy comparison, run over many candidates in one rapidfuzz call.

    It keeps every candidate within the largest distance any of them may have (a
    superset); the rule itself then decides each survivor exactly.
    """

    __slots__ = ("distance", "levenshtein", "slack", "slot")

    def __init__(self, threshold: int, slot: int, levenshtein: bool) -> None:
        self.slot = slot
        self.slack = FULL - threshold
        self.levenshtein = levenshtein
        self.distance = Levenshtein.distance if levenshtein else Indel.distance

    def survivors(
        self, probe: Prepared, candidates: Collection[int], columns: list[list[Value]]
    ) -> list[int]:
        """The ``candidates`` (record indexes) that may pass; ``columns[slot][i]`` is a value."""
        slot = self.slot
        query = probe.values[slot]
        if not isinstance(query, str) or not query:
            return []
        indexes = list(candidates)
        column = columns[slot]
        values: list[Any] = [column[i] for i in indexes]
        longest = max(map(len, filter(None, values)), default=0)
        if self.levenshtein:
            most = max(len(query), longest) * self.slack // FULL
        else:
            most = (len(query) + longest) * self.slack // FULL
        hits = process.extract(
            query,
            values,
            scorer=self.distance,
            score_cutoff=most,
            limit=None,
        )
        return [indexes[position] for _, _, position in hits]


def _compile(comparison: Comparison, slot: int) -> Compare:
    blank = comparison.match_blank
    if comparison.method is Method.EXACT:
        if comparison.field.multi_valued:
            return _exact_multi(slot, blank)
        return _exact_single(slot, blank)
    if comparison.scorer is Scorer.LEVENSHTEIN:
        return _levenshtein(slot, hundredths(comparison), blank)
    return _indel(slot, hundredths(comparison), blank)


def view_of(comparison: Comparison) -> tuple[MatchField, bool]:
    """The value a comparison reads: the field's key, token-sorted for token scorers."""
    sorted_ = comparison.method is Method.FUZZY and bool(
        comparison.scorer and comparison.scorer.sorts_tokens
    )
    return comparison.field, sorted_


class Matcher:
    """A :class:`MatchRuleSet` compiled: prepare records once, then match pairs fast."""

    __slots__ = ("rule_set", "rules", "views")

    def __init__(self, rule_set: MatchRuleSet) -> None:
        self.rule_set = rule_set
        self.views: list[tuple[MatchField, bool]] = []
        self.rules: list[CompiledRule] = []
        for index, rule in enumerate(rule_set.rules):
            slots = []
            for comparison in rule.comparisons:
                view = view_of(comparison)
                if view not in self.views:
                    self.views.append(view)
                slots.append(self.views.index(view))
            self.rules.append(CompiledRule(index, rule, slots))

    def prepare(self, record: MatchRecord) -> Prepared:
        cache: dict[MatchField, Value] = {}
        values: list[Value] = []
        for field, sorted_ in self.views:
            if field not in cache:
                cache[field] = field_key(record, field)
            value = cache[field]
            if sorted_ and isinstance(value, str):
                value = sort_tokens(value)
            values.append(value)
        return Prepared(record, values)

    def columns(self, prepared: list[Prepared]) -> list[list[Value]]:
        """Each slot's values over ``prepared``, by record index (for :class:`Screen`)."""
        return [[p.values[slot] for p in prepared] for slot in range(len(self.views))]

    def match(self, a: Prepared, b: Prepared) -> tuple[CompiledRule, list[int]] | None:
        """The first rule that matches ``a`` and ``b``, with its comparisons' scores."""
        code = a.kind * 3 + b.kind
        for rule in self.rules:
            if rule.kinds is not None and code not in rule.kinds:
                continue
            scores = rule.evaluate(a, b)
            if scores is not None:
                return rule, scores
        return None
