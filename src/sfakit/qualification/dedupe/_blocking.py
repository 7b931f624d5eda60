"""Blocking: which pairs are worth comparing, without losing any pair that matches (internal).

Every pair a rule can match shares a *blocking key*; only records that share one are
compared. The keys are chosen so that the pairs found are exactly those a comparison of
all pairs finds — this is a proof, not a heuristic, and the tests check it.

**Exact comparisons** must be equal, so a rule's key starts with the match keys of its
exact comparisons (one key per value of a multi-valued field: a contact with two
emails is filed twice).

**A fuzzy comparison** adds one q-gram of its value, chosen by *prefix filtering*
(Chaudhuri et al. 2006, "A primitive operator for similarity joins"; Xiao et al. 2008,
Ed-Join). Number the q-grams of a string ``s`` (length ``n``) by occurrence, ``("ab", 1),
("ab", 2)``, so that a multiset is a set, and sort them by one global order (rarest
first). If ``s`` and ``u`` share at least ``|G(s)| - B`` q-grams, then the first shared
gram lies among the first ``B + 1`` grams of ``s`` — its *prefix* — and likewise for
``u``: so a matching pair shares a prefix gram. ``B`` bounds how many of ``s``'s
q-grams a match can destroy, given the threshold ``t`` (θ = t/100):

* InDel scores (``ratio``, ``token_sort_ratio``: ``2·LCS / (n + m) >= θ``): aligning
  ``s`` with ``u``, each of the ``n - LCS`` characters of ``s`` left out destroys at most
  ``q`` grams and each of the at most ``m - LCS`` gaps where ``u`` has extra characters
  at most ``q - 1``. With ``LCS >= θ(n + m)/2`` and ``m`` in
  ``[θn/(2-θ), (2-θ)n/θ]`` that bound is linear in ``m``, so it is largest at an end:
  ``B = max(q·n·(2-2θ)/(2-θ), (q-1)·n·(2-2θ)/θ)``;
* ``levenshtein`` (``1 - edits / max(n, m) >= θ``): at most ``(1-θ)·n/θ`` edits, each
  destroying at most ``q`` grams: ``B = q·n·(1-θ)/θ``.

A string with no more than ``B`` grams (a *short* one) has no such guarantee. It files
all its grams, so a long partner still shares one with it; two short strings may share
none, so short strings are also filed by length and a short string is compared with
every short string of a compatible length (``m`` in the ranges above) in its block.

**Two fuzzy comparisons** of one rule (a name and a company) block together: a matching
pair shares a prefix gram of each, so it shares a key made of one of each (the cross
product of the two prefixes) — far more selective than either alone, as two people with
similar names rarely also work at companies with similar names. A rule with an exact
comparison on an identifier (email, phone, website, account) blocks on that alone.

**Blanks**: where a comparison lets two blanks match (``match_blank``), a blank is filed
under a key of its own (exact) or one blank token (fuzzy), so two blanks meet.

Scores are decided in exact integer arithmetic (``_compiled``), so the bounds hold for
the scores actually compared. The gram order only has to be the same for both strings of
a pair: grams an index has never seen sort first. Keys are hashed; two keys that collide
only add a candidate the rule then rejects.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Final

from sfakit.qualification.dedupe._compiled import (
    FULL,
    KIND_CODES,
    CompiledRule,
    Matcher,
    Prepared,
    hundredths,
)
from sfakit.qualification.dedupe.rules import MatchField, Method, Scorer

__all__ = ["Blocker", "GramFilter", "auto_gram_size", "grams", "length_range", "slack_bound"]

Gram = tuple[object, int]  # (q-gram, occurrence); filed and probed as its hash
Signature = tuple[list[int], list[int]]  # the keys a record is filed under, and probes
Candidates = list[set[int]]  # per rule

_LENGTH: Final = object()  # tags the length token of a short value: equal to no q-gram
_BLANK: Final[tuple[int]] = (hash((object(), 0)),)  # the one token of a blank that may match
_NOTHING: Final[Signature] = ([], [])
_EXACT_RANGE: Final = 256  # partner lengths to try one by one for the tighter bound
#: Exact comparisons on these fields make blocks small enough on their own.
_SELECTIVE: Final = frozenset(
    {MatchField.EMAIL, MatchField.PHONE, MatchField.WEBSITE, MatchField.ACCOUNT}
)


def slack_bound(n: int, q: int, threshold: int, *, levenshtein: bool) -> int:
    """The most q-grams of a length-``n`` string that a match at ``threshold`` destroys.

    The bound of the module docstring. Over a narrow range of partner lengths it is
    taken for each whole length ``m`` and whole common-subsequence length (or edit
    count), which is a little tighter; over a wide one (very low thresholds) the
    continuous bound is used, which is never smaller.
    """
    low, high = length_range(n, threshold, levenshtein=levenshtein)
    if high - low > _EXACT_RANGE:
        if levenshtein:
            return q * n * (FULL - threshold) // threshold
        by_deletions = q * n * (2 * FULL - 2 * threshold) // (2 * FULL - threshold)
        by_insertions = (q - 1) * n * (2 * FULL - 2 * threshold) // threshold
        return max(by_deletions, by_insertions)
    worst = 0
    for m in range(low, high + 1):
        if levenshtein:
            edits = max(n, m) * (FULL - threshold) // FULL
            inserted = max(0, m - n)  # each insertion destroys one gram fewer
            if edits < abs(n - m):
                continue
            kills = (q - 1) * inserted + q * (edits - inserted)
        else:
            common = -(-threshold * (n + m) // (2 * FULL))  # the least LCS that matches
            if common > min(n, m):
                continue
            kills = q * (n - common) + (q - 1) * (m - common)
        worst = max(worst, kills)
    return worst


def length_range(n: int, threshold: int, *, levenshtein: bool) -> tuple[int, int]:
    """The lengths a partner of a length-``n`` string can have at ``threshold``."""
    if levenshtein:
        return -(-threshold * n // FULL), FULL * n // threshold
    low = -(-threshold * n // (2 * FULL - threshold))
    return low, (2 * FULL - threshold) * n // threshold


def auto_gram_size(threshold: int) -> int:
    """Trigrams from a threshold of 90, bigrams from 75, single characters below.

    Longer grams are rarer, but a match may destroy more of them: below these
    thresholds most values would be short (see above) and blocks would grow.
    """
    if threshold >= 9000:
        return 3
    return 2 if threshold >= 7500 else 1


def grams(value: str, q: int) -> list[tuple[str, int]]:
    """The q-grams of ``value``, each numbered by its occurrence."""
    seen: dict[str, int] = {}
    out: list[tuple[str, int]] = []
    for i in range(len(value) - q + 1):
        gram = value[i : i + q]
        occurrence = seen[gram] = seen.get(gram, 0) + 1
        out.append((gram, occurrence))
    return out


class GramFilter:
    """The tokens one fuzzy comparison files and probes a value under.

    A long value files and probes its prefix grams; a short one files all its grams and
    its length, and probes all its grams and every compatible length.
    """

    __slots__ = ("blank", "bounds", "counts", "levenshtein", "longest", "q", "slot", "threshold")

    def __init__(
        self, slot: int, q: int, threshold: int, *, levenshtein: bool, blank: bool
    ) -> None:
        self.slot = slot
        self.blank = blank
        self.q = q
        self.threshold = threshold
        self.levenshtein = levenshtein
        self.counts: Counter[str] = Counter()
        self.longest = 0  # of the values counted: no partner is longer
        self.bounds: dict[int, tuple[int, int, int]] = {}  # length -> prefix, low, high

    def _bounds(self, n: int) -> tuple[int, int, int]:
        found = self.bounds.get(n)
        if found is None:
            keep = slack_bound(n, self.q, self.threshold, levenshtein=self.levenshtein) + 1
            low, high = length_range(n, self.threshold, levenshtein=self.levenshtein)
            # Partners are among the records counted: none is longer than the longest.
            found = self.bounds[n] = (keep, max(low, 1), min(high, self.longest))
        return found

    def count(self, records: Iterable[Prepared]) -> None:
        q, slot, counts = self.q, self.slot, self.counts
        longest = 0
        for record in records:
            value = record.values[slot]
            if isinstance(value, str):
                counts.update({value[i : i + q] for i in range(len(value) - q + 1)})
                longest = max(longest, len(value))
        self.longest = longest

    def share(self, other: GramFilter) -> None:
        """Use ``other``'s counts: same value, same q."""
        self.counts, self.longest = other.counts, other.longest

    def tokens(self, record: Prepared) -> tuple[Sequence[int], Sequence[int]] | None:
        value = record.values[self.slot]
        if not isinstance(value, str) or not value:
            return (_BLANK, _BLANK) if self.blank else None
        counts = self.counts
        ordered: list[Gram] = sorted(  # rarest first; ties by the gram itself: a total order
            grams(value, self.q),
            key=lambda g: (counts[g[0]], g[0], g[1]),  # type: ignore[index]
        )
        n = len(value)
        keep, low, high = self._bounds(n)
        # Tokens as their hashes: keys are hashed anyway, and ints hash fastest.
        if len(ordered) >= keep:
            prefix = [hash(g) for g in ordered[:keep]]
            return prefix, prefix
        every = [hash(g) for g in ordered]
        filed = [*every, hash((_LENGTH, n))]
        probed = every + [hash((_LENGTH, m)) for m in range(low, high + 1)]
        return filed, probed


class RuleBlocker:
    """The blocking keys of one rule, and the records filed under them.

    Keys are hashes: two different keys that collide only add candidates, which the
    rule then rejects, so a collision costs time, never a pair.
    """

    __slots__ = ("exact", "filters", "kinds", "postings", "rule")

    def __init__(self, rule: CompiledRule, filters: list[GramFilter]) -> None:
        self.rule = rule
        self.exact = [
            (slot, comparison.field.multi_valued, comparison.match_blank)
            for comparison, slot in zip(rule.comparisons, rule.slots, strict=True)
            if comparison.method is Method.EXACT
        ]
        self.filters = filters
        self.kinds: frozenset[int] | None = (
            frozenset(KIND_CODES[k] for pair in rule.rule.kinds for k in (pair.first, pair.second))
            if rule.rule.kinds
            else None
        )
        self.postings: dict[int, int | list[int]] = {}

    def signature(self, record: Prepared) -> Signature:
        if self.kinds is not None and record.kind not in self.kinds:
            return _NOTHING
        parts: list[list[object]] = []
        for slot, multi, blank in self.exact:
            value = record.values[slot]
            if value is None:
                if not blank:
                    return _NOTHING
                parts.append([None])  # blank: filed with the other blanks
            else:
                parts.append(sorted(value) if multi else [value])
        filed: list[list[object]] = [list(p) for p in parts]
        probed: list[list[object]] = [list(p) for p in parts]
        for gram_filter in self.filters:
            tokens = gram_filter.tokens(record)
            if tokens is None:
                return _NOTHING
            filed.append(tokens[0])  # type: ignore[arg-type]
            probed.append(tokens[1])  # type: ignore[arg-type]
        if filed == probed:
            keys = [hash(key) for key in itertools.product(*filed)]
            return keys, keys
        return (
            [hash(key) for key in itertools.product(*filed)],
            [hash(key) for key in itertools.product(*probed)],
        )

    def add(self, signature: Signature, index: int) -> None:
        postings = self.postings
        for key in signature[0]:
            filed = postings.get(key)
            if filed is None:
                postings[key] = index  # most keys hold one record: no list for those
            elif isinstance(filed, int):
                if filed != index:
                    postings[key] = [filed, index]
            elif filed[-1] != index:
                filed.append(index)

    def candidates(self, signature: Signature, out: set[int]) -> None:
        postings = self.postings
        for key in signature[1]:
            filed = postings.get(key)
            if filed is None:
                continue
            if isinstance(filed, int):
                out.add(filed)
            else:
                out.update(filed)


class Blocker:
    """The blocking keys of every rule of a compiled rule set, over one set of records.

    Gram frequencies come from ``records`` (the whole batch, or the records an index is
    built from); then records are filed with :meth:`add` and looked up with
    :meth:`candidates`, which returns each rule's candidates separately: a pair needs
    checking only against the rules whose keys it shares.

    Which comparisons a rule blocks on: its exact ones; if none of those is on an
    identifier (email, phone, website, account), also its one or two fuzzy comparisons
    with the highest thresholds (two together: a pair must share a token of each).
    """

    __slots__ = ("rules",)

    def __init__(
        self, matcher: Matcher, records: list[Prepared], gram_size: int | None = None
    ) -> None:
        filters: dict[tuple[int, int, int, bool, bool], GramFilter] = {}
        self.rules: list[RuleBlocker] = []
        for rule in matcher.rules:
            comparisons = rule.comparisons
            fuzzy = [i for i, c in enumerate(comparisons) if c.method is Method.FUZZY]
            selective = any(c.method is Method.EXACT and c.field in _SELECTIVE for c in comparisons)
            chosen = (
                [] if selective else sorted(fuzzy, key=lambda i: -hundredths(comparisons[i]))[:2]
            )
            rule_filters = []
            for i in chosen:
                threshold = hundredths(comparisons[i])
                levenshtein = comparisons[i].scorer is Scorer.LEVENSHTEIN
                blank = comparisons[i].match_blank
                q = gram_size or auto_gram_size(threshold)
                key = (rule.slots[i], q, threshold, levenshtein, blank)
                if key not in filters:
                    filters[key] = GramFilter(
                        rule.slots[i], q, threshold, levenshtein=levenshtein, blank=blank
                    )
                rule_filters.append(filters[key])
            self.rules.append(RuleBlocker(rule, rule_filters))
        # One order per (value, q), shared by every filter that reads it.
        counted: dict[tuple[int, int], GramFilter] = {}
        for gram_filter in filters.values():
            first = counted.get((gram_filter.slot, gram_filter.q))
            if first is None:
                gram_filter.count(records)
                counted[(gram_filter.slot, gram_filter.q)] = gram_filter
            else:
                gram_filter.share(first)

    def signatures(self, record: Prepared) -> list[Signature]:
        return [rule.signature(record) for rule in self.rules]

    def add(self, signatures: list[Signature], index: int) -> None:
        for rule, signature in zip(self.rules, signatures, strict=True):
            rule.add(signature, index)

    def candidates(self, signatures: list[Signature]) -> Candidates:
        out: Candidates = []
        for rule, signature in zip(self.rules, signatures, strict=True):
            found: set[int] = set()
            rule.candidates(signature, found)
            out.append(found)
        return out

    def keys(self) -> dict[str, int]:
        """How many distinct keys each rule filed records under, by rule name."""
        return {rule.rule.rule.name: len(rule.postings) for rule in self.rules}
