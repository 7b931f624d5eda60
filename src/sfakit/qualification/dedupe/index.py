"""Finding duplicates: in a batch (:func:`find_duplicates`) or for one new record against
an index built once (:func:`build_index`, :func:`find_matches`).

Both compare only pairs that share a blocking key (see ``_blocking``), which finds the
same pairs as comparing every pair — ``find_duplicates(..., blocking=False)`` does that,
as the reference — in close to linear time. Records may be :class:`MatchRecord` s or
the leads, contacts and accounts themselves; a contact takes its company and address
from its account when the account is among the records (or in the index).

>>> from datetime import datetime, timezone
>>> from sfakit.model import Account, Contact, Lead
>>> t0 = datetime(2026, 3, 2, tzinfo=timezone.utc)
>>> acme = Account(id="acct_acme", name="ACME Lighting GmbH", billing_country="DE",
...                created_at=t0)
>>> anna = Contact(id="cont_anna", account_id="acct_acme", first_name="Anna",
...                last_name="Schmidt", created_at=t0)
>>> index = build_index([acme, anna])
>>> lead = Lead(id="lead_9", first_name="Anna", last_name="Schmitt",
...             company="Acme Lighting", created_at=t0)
>>> [(p.rule, str(p.score)) for p in find_matches(lead, index)]
[('same_name_and_company', '91.66')]
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from types import MappingProxyType
from typing import Final

from sfakit.errors import Problem, ValidationError
from sfakit.model.leads import Lead
from sfakit.model.parties import Account, Contact
from sfakit.qualification.dedupe._blocking import Blocker, Candidates
from sfakit.qualification.dedupe._compiled import CompiledRule, Matcher, Prepared, Value
from sfakit.qualification.dedupe.records import Matchable, MatchRecord, listed, match_record
from sfakit.qualification.dedupe.results import (
    ComparisonResult,
    DedupeResult,
    DedupeStats,
    DuplicatePair,
    RecordRef,
    RuleCount,
    clusters,
)
from sfakit.qualification.dedupe.rules import DEFAULT_RULES, MatchRuleSet, Method

__all__ = ["MatchIndex", "build_index", "find_duplicates", "find_matches"]

Entity = Lead | Contact | Account
_HUNDREDTH: Final = Decimal("0.01")
_SCREEN_FROM: Final = 8  # fewer candidates than this: one call each is as fast


def _check_gram_size(gram_size: int | None) -> None:
    if gram_size is not None and (type(gram_size) is not int or not 1 <= gram_size <= 5):
        raise ValidationError("$.gram_size", gram_size, "None (automatic) or 1 to 5")


def _check_rules(rules: MatchRuleSet) -> None:
    if not isinstance(rules, MatchRuleSet):
        raise ValidationError("$.rules", rules, "a MatchRuleSet")


def _records(items: Iterable[Matchable]) -> tuple[list[MatchRecord], dict[str, Entity]]:
    """Records as MatchRecords (contacts with their accounts), unique ids, and the entities."""
    given = listed(items, "$.records", "a list of MatchRecords, Leads, Contacts or Accounts")
    accounts: dict[str, Account] = {i.id: i for i in given if isinstance(i, Account)}
    records: list[MatchRecord] = []
    entities: dict[str, Entity] = {}
    seen: dict[str, int] = {}
    problems: list[Problem] = []
    for i, item in enumerate(given):
        record = match_record(item, accounts=accounts, path=f"$.records[{i}]")
        if record.id in seen:
            problems.append(
                Problem(
                    f"$.records[{i}].id",
                    f"an id not used before (records[{seen[record.id]}] has it)",
                    record.id,
                )
            )
            continue
        seen[record.id] = i
        records.append(record)
        if not isinstance(item, MatchRecord):
            entities[item.id] = item
    if problems:
        raise ValidationError.from_problems(problems)
    return records, entities


def _pair(a: Prepared, b: Prepared, rule: CompiledRule, scores: list[int]) -> DuplicatePair:
    results = []
    for comparison, slot, score in zip(rule.comparisons, rule.slots, scores, strict=True):
        left, right = a.values[slot], b.values[slot]
        if isinstance(left, frozenset) and isinstance(right, frozenset):
            left = right = min(left & right)
        left, right = left or "", right or ""  # both blank, where blanks match
        results.append(
            ComparisonResult(
                field=comparison.field,
                method=comparison.method,
                scorer=comparison.scorer,
                threshold=comparison.threshold,
                score=(Decimal(score) / 100).quantize(_HUNDREDTH)
                if comparison.method is Method.FUZZY
                else Decimal(100),
                left=str(left),
                right=str(right),
            )
        )
    return DuplicatePair.of(
        RecordRef(a.record.kind, a.id),
        RecordRef(b.record.kind, b.id),
        rule=rule.rule.name,
        comparisons=results,
    )


class MatchIndex:
    """Records prepared and filed under their blocking keys, for :func:`find_matches`.

    Build it once with :func:`build_index`; it does not change afterwards. ``entities``
    are the leads, contacts and accounts it was built from (not the bare MatchRecords),
    by id, so that conversion can read and fill their fields.
    """

    __slots__ = (
        "_accounts",
        "_blocker",
        "_by_id",
        "_columns",
        "_matcher",
        "_prepared",
        "entities",
    )

    def __init__(
        self,
        matcher: Matcher,
        blocker: Blocker,
        prepared: list[Prepared],
        entities: Mapping[str, Entity],
    ) -> None:
        self._matcher = matcher
        self._blocker = blocker
        self._prepared = prepared
        self._by_id = {p.id: i for i, p in enumerate(prepared)}
        self._columns = matcher.columns(prepared)
        self.entities: Mapping[str, Entity] = MappingProxyType(dict(entities))
        self._accounts = {k: v for k, v in entities.items() if isinstance(v, Account)}

    @property
    def rules(self) -> MatchRuleSet:
        return self._matcher.rule_set

    def __len__(self) -> int:
        return len(self._prepared)

    def __contains__(self, record_id: object) -> bool:
        return record_id in self._by_id

    def record(self, record_id: str) -> MatchRecord:
        """The indexed record ``record_id``."""
        try:
            return self._prepared[self._by_id[record_id]].record
        except KeyError:
            raise ValidationError("$.record_id", record_id, "the id of an indexed record") from None

    def accounts(self) -> Mapping[str, Account]:
        """The indexed accounts, by id (a contact candidate takes its company from these)."""
        return MappingProxyType(self._accounts)


def build_index(
    records: Iterable[Matchable],
    rules: MatchRuleSet = DEFAULT_RULES,
    *,
    gram_size: int | None = None,
) -> MatchIndex:
    """An index of ``records`` under ``rules``, for checking new records one at a time.

    ``gram_size`` is the q of the q-grams fuzzy rules block on (None: 3 for thresholds
    of 90 and more, 2 from 75, else 1). It changes speed only, never the result.
    """
    _check_rules(rules)
    _check_gram_size(gram_size)
    items, entities = _records(records)
    matcher = Matcher(rules)
    prepared = [matcher.prepare(r) for r in items]
    blocker = Blocker(matcher, prepared, gram_size)
    for i, p in enumerate(prepared):
        blocker.add(blocker.signatures(p), i)
    return MatchIndex(matcher, blocker, prepared, entities)


def find_matches(candidate: Matchable, index: MatchIndex) -> tuple[DuplicatePair, ...]:
    """The indexed records ``candidate`` matches, best first (rule order, then score).

    A record with the candidate's own id is skipped, so a stored record can be checked
    against an index that holds it. A contact candidate takes its account from the index.
    """
    if not isinstance(index, MatchIndex):
        raise ValidationError("$.index", index, "a MatchIndex (see build_index)")
    record = match_record(candidate, accounts=index.accounts(), path="$.candidate")
    matcher = index._matcher
    probe = matcher.prepare(record)
    blocker = index._blocker
    found: list[tuple[int, int, str, DuplicatePair]] = []
    for other, rule, scores in _verify(
        probe,
        blocker.candidates(blocker.signatures(probe)),
        index._prepared,
        matcher,
        index._columns,
    ):
        if other.id != probe.id:
            pair = _pair(probe, other, rule, scores)
            found.append((rule.index, -min(scores), other.id, pair))
    found.sort(key=lambda item: item[:3])
    return tuple(item[3] for item in found)


def find_duplicates(
    records: Iterable[Matchable],
    rules: MatchRuleSet = DEFAULT_RULES,
    *,
    blocking: bool = True,
    gram_size: int | None = None,
) -> DedupeResult:
    """Every pair of ``records`` that a rule matches, with clusters and counts.

    ``blocking=False`` compares all ``n(n-1)/2`` pairs: the reference that blocking is
    tested against (and the benchmark's baseline). Each pair is reported once, with the
    first rule (in ``rules`` order) that matches it.
    """
    _check_rules(rules)
    _check_gram_size(gram_size)
    items, _ = _records(records)
    matcher = Matcher(rules)
    prepared = [matcher.prepare(r) for r in items]
    pairs: list[DuplicatePair] = []
    compared = 0
    match = matcher.match
    if blocking:
        blocker = Blocker(matcher, prepared, gram_size)
        columns = matcher.columns(prepared)
        for i, probe in enumerate(prepared):
            signatures = blocker.signatures(probe)
            candidates = blocker.candidates(signatures)
            compared += sum(map(len, candidates))
            for other, rule, scores in _verify(probe, candidates, prepared, matcher, columns):
                pairs.append(_pair(probe, other, rule, scores))
            blocker.add(signatures, i)
    else:
        for i, probe in enumerate(prepared):
            for other in prepared[i + 1 :]:
                hit = match(probe, other)
                if hit is not None:
                    pairs.append(_pair(probe, other, *hit))
        compared = len(prepared) * (len(prepared) - 1) // 2
    pairs.sort(key=lambda p: p.ids)
    counts = dict.fromkeys(rules.names(), 0)
    for pair in pairs:
        counts[pair.rule] += 1
    stats = DedupeStats(
        records=len(prepared),
        compared=compared,
        pairs=len(pairs),
        by_rule=tuple(RuleCount(name, n) for name, n in counts.items()),
        blocking=blocking,
    )
    return DedupeResult(pairs=pairs, clusters=clusters(pairs), rules=rules, stats=stats)


def _verify(
    probe: Prepared,
    candidates: Candidates,
    prepared: Sequence[Prepared],
    matcher: Matcher,
    columns: list[list[Value]],
) -> Iterator[tuple[Prepared, CompiledRule, list[int]]]:
    """The candidates that match, each with the first rule that matches it.

    A pair that matches a rule shares that rule's keys, so it is among that rule's
    candidates: checking each candidate only against the rules that proposed it, in
    rule order, finds the same first rule as checking every rule.
    """
    decided: set[int] = set()
    for rule, proposed in zip(matcher.rules, candidates, strict=True):
        todo: Collection[int] = proposed - decided if decided else proposed
        if not todo:
            continue
        if rule.screen is not None and len(todo) > _SCREEN_FROM:
            todo = rule.screen.survivors(probe, todo, columns)
        kinds = rule.kinds
        for j in todo:
            other = prepared[j]
            if kinds is not None and probe.kind * 3 + other.kind not in kinds:
                continue
            scores = rule.evaluate(probe, other)
            if scores is not None:
                decided.add(j)
                yield other, rule, scores
