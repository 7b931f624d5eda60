"""Duplicates, merges and lead conversion through the service.

The pure :mod:`sfakit.qualification.dedupe` decides; this mixin reads the stored records,
calls it, and applies what it returns, each operation in one transaction:

* the match rules are the setting ``match-rules`` (:data:`DEFAULT_RULES` until one is
  stored);
* :meth:`~Deduplicating.find_duplicates` and :meth:`~Deduplicating.duplicates_of` compare
  the *live* records: tombstones (``merged_into_id`` set) and converted leads (history:
  they name the contact they became) are left out;
* :meth:`~Deduplicating.merge` executes a :class:`MergePlan`: the survivor gets the
  merged fields, every related record that pointed at a merged record points at the
  survivor, each merged record stays as a tombstone (only ``merged_into_id`` set), the
  :class:`MergeAudit` is appended to the stream ``merges`` and a ``RecordsMerged`` event
  to the outbox. Every record the merge reads is written back at the version it read, so
  a concurrent change fails the whole merge with ConflictError and nothing is written;
  :meth:`~Deduplicating.merge_history` reads the audits back;
* :meth:`~Deduplicating.convert_lead` executes a :class:`ConversionPlan`: matching
  accounts and contacts reused (only their empty fields filled), the rest created, the
  opportunity opened as :meth:`~sfakit.service.selling.Selling.open_opportunity` opens
  one (its first stage change and a ``StageChanged`` event), the lead marked converted,
  ``LeadConverted`` (and ``LeadQualified``) emitted. A second conversion raises
  :class:`AlreadyConvertedError` and changes nothing.

>>> import sfakit
>>> from sfakit.model import Contact
>>> with sfakit.open("memory://") as sfa:
...     a = sfa.create(Contact, last_name="Schmidt", emails=("anna@acme.de",))
...     b = sfa.create(Contact, last_name="Schmitt", emails=("Anna@acme.de",))
...     [pair.rule for pair in sfa.duplicates_of(b.id)]
...     merged = sfa.merge([a.id, b.id], by="rep_anna",
...                        expected_versions={a.id: 1, b.id: 1})
...     sfa.get(Contact, b.id).merged_into_id == a.id
['same_email']
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import ROUND_HALF_EVEN
from typing import Any, Final

import attrs

from sfakit.codec import from_data, from_json, to_data
from sfakit.errors import ConflictError, Problem, TransitionError, ValidationError
from sfakit.events import Event, LeadConverted, LeadQualified, RecordsMerged, StageChanged
from sfakit.model import (
    Account,
    Activity,
    Contact,
    Entity,
    Interaction,
    Lead,
    LeadStatus,
    Opportunity,
    Order,
    Setting,
    StandingOrder,
    setting_id,
)
from sfakit.model.ids import (
    AccountId,
    ContactId,
    LeadId,
    id_kind,
    new_account_id,
    new_contact_id,
    new_opportunity_id,
)
from sfakit.pipeline import Pipeline, PipelineSet, creation_change
from sfakit.qualification import dedupe
from sfakit.qualification.dedupe import (
    CONVERSION_RULES,
    DEFAULT_RULES,
    REFERENCES,
    AlreadyConvertedError,
    ConversionPlan,
    DedupeResult,
    DuplicatePair,
    MatchRecord,
    MatchRuleSet,
    MergeAudit,
    MergePlan,
    MergePolicy,
    NewIds,
    OpportunityDraft,
    RecordKind,
)
from sfakit.qualification.dedupe.merge import check_by
from sfakit.service.outbox import emit
from sfakit.service.qualifying import engagement_stream, enrichment_stream
from sfakit.storage.api import In, IsNull, Page, Storage, Transaction
from sfakit.storage.catalog import kind_spec
from sfakit.storage.common import every_page

__all__ = [
    "MATCH_RULES",
    "MERGES_STREAM",
    "MERGE_KEYS",
    "Converted",
    "Deduplicating",
    "ExpectedVersions",
    "Merged",
]

#: The setting that holds the match rules.
MATCH_RULES: Final = "match-rules"
#: The stream every merge's :class:`MergeAudit` is appended to (as codec data).
MERGES_STREAM: Final = "merges"
#: Idempotency-key namespace: a merged record's id → the position of its merge's audit.
MERGE_KEYS: Final = "merged-record"

Mergeable = Lead | Contact | Account
#: A merge's expected versions by record id (mapping keys are invariant: typed ids too).
ExpectedVersions = (
    Mapping[str, int] | Mapping[LeadId, int] | Mapping[ContactId, int] | Mapping[AccountId, int]
)
Related = Activity | Interaction | Opportunity | Order | StandingOrder | Contact | Account | Lead

_ENTITIES: Final[dict[RecordKind, type[Lead] | type[Contact] | type[Account]]] = {
    RecordKind.LEAD: Lead,
    RecordKind.CONTACT: Contact,
    RecordKind.ACCOUNT: Account,
}
_KIND_OF_ENTITY: Final = {cls.__name__: kind for kind, cls in _ENTITIES.items()}
#: The reference fields that can only hold one kind's ids; any other (``related_to``)
#: may hold any kind's.
_HOLDS: Final[Mapping[str, RecordKind]] = {
    "account_id": RecordKind.ACCOUNT,
    "parent_id": RecordKind.ACCOUNT,
    "converted_account_id": RecordKind.ACCOUNT,
    "contact_id": RecordKind.CONTACT,
    "primary_contact_id": RecordKind.CONTACT,
    "converted_contact_id": RecordKind.CONTACT,
}
#: Lead statuses of leads that take part in duplicate detection.
_LIVE_LEAD_STATUSES: Final = tuple(s for s in LeadStatus if s is not LeadStatus.CONVERTED)
_LIVE: Final = {"merged_into_id": IsNull()}
_ALL_KINDS: Final = ("lead", "contact", "account")


@attrs.frozen(kw_only=True)
class Merged:
    """A merge as executed: the plan (with its provenance and audit) and the records as
    stored afterwards — the survivor, the tombstones, the re-pointed related records —
    and the position of the audit in the ``merges`` stream."""

    plan: MergePlan
    survivor: Mergeable
    tombstones: tuple[Mergeable, ...]
    related: tuple[Related, ...]
    position: int


@attrs.frozen(kw_only=True)
class Converted:
    """A conversion as executed: the plan (what was reused and why, what was filled, what
    was created) and the records as stored afterwards. ``qualified`` says whether the
    conversion also qualified the lead (a ``LeadQualified`` event was emitted)."""

    plan: ConversionPlan
    lead: Lead
    account: Account
    contact: Contact | None
    opportunity: Opportunity | None
    qualified: bool


class Deduplicating:
    """Mixed into :class:`~sfakit.Sfa`; needs ``storage``, ``pipelines``, ``now`` and the
    settings of the routing mixin."""

    storage: Storage
    pipelines: PipelineSet
    now: Callable[[], datetime]
    save_setting: Callable[..., int]

    # -- rules ----------------------------------------------------------------------

    def set_match_rules(self, rules: MatchRuleSet, *, expected_version: int | None) -> int:
        """Store the match rules; returns the setting's new version (None creates it,
        else the version read: see ``save_setting``)."""
        if not isinstance(rules, MatchRuleSet):
            raise ValidationError("$.rules", rules, "a MatchRuleSet")
        return self.save_setting(MATCH_RULES, rules, expected_version=expected_version)

    def match_rules(self) -> MatchRuleSet:
        """The stored match rules (:data:`DEFAULT_RULES` before :meth:`set_match_rules`)."""
        with self.storage.transaction(readonly=True) as tx:
            return _rules(tx)

    # -- finding --------------------------------------------------------------------

    def find_duplicates(self, *, kinds: Iterable[str] = _ALL_KINDS) -> DedupeResult:
        """Every duplicate pair among the live records of ``kinds`` (``lead``,
        ``contact``, ``account``) under the stored rules, with the rule that matched
        each pair, the clusters and the counts (:func:`dedupe.find_duplicates`)."""
        wanted = _kinds(kinds)
        with self.storage.transaction(readonly=True) as tx:
            rules = _rules(tx)
            records = _live_records(tx, wanted)
        return dedupe.find_duplicates(records, rules)

    def duplicates_of(
        self, record_id: str, *, kinds: Iterable[str] = _ALL_KINDS
    ) -> tuple[DuplicatePair, ...]:
        """The live records of ``kinds`` that the stored lead, contact or account
        ``record_id`` matches under the stored rules, best first — at capture time, or
        before converting a lead."""
        wanted = _kinds(kinds)
        cls = _ENTITIES[_record_kind(record_id, "$.record_id")]
        with self.storage.transaction(readonly=True) as tx:
            record = tx.get(cls, record_id)
            candidate = _matchable(tx, record)
            index = dedupe.build_index(_live_records(tx, wanted), _rules(tx))
        return dedupe.find_matches(candidate, index)

    # -- merging --------------------------------------------------------------------

    def merge(
        self,
        record_ids: Sequence[str],
        *,
        survivor_id: str | None = None,
        policy: MergePolicy | None = None,
        by: str,
        expected_versions: ExpectedVersions,
    ) -> Merged:
        """Merge two or more leads, contacts or accounts (one kind) into a survivor, in
        one transaction (see the module docstring). ``expected_versions`` holds the
        version read of every merged record; a record at another version, or any related
        record changed while the merge runs, fails it with ConflictError and nothing is
        written. A tombstone cannot be merged again (TransitionError: merge its
        survivor)."""
        ids, kind = _merge_ids(record_ids)
        versions = _expected_versions(expected_versions, ids)
        check_by(by)
        cls = _ENTITIES[kind]
        with self.storage.transaction() as tx:
            records = [_live(tx, cls, rid, versions[rid]) for rid in ids]
            at = max([self.now(), *(r.updated_at for r in records)])
            # Planned once to learn the survivor: only what points at the others moves,
            # so the survivor's own (often long) history is not read.
            chosen = dedupe.plan_merge(
                records, at=at, by=by, survivor_id=survivor_id, policy=policy
            ).survivor_id
            related = _related(tx, kind, [rid for rid in ids if rid != chosen], exclude=ids)
            at = max([at, *(r.updated_at for r in related)])
            plan = dedupe.plan_merge(
                records, at=at, by=by, survivor_id=chosen, policy=policy, related=related
            )
            survivor = tx.update(plan.merged)
            by_id: dict[str, Mergeable] = {r.id: r for r in records}
            tombstones = tuple(
                tx.update(by_id[merged_id].evolve(merged_into_id=plan.survivor_id, updated_at=at))
                for merged_id in plan.merged_ids
            )
            moved = tuple(tx.update(record) for record in plan.related)
            if cls is Lead:
                _carry_lead_streams(tx, plan.merged_ids, plan.survivor_id)
            position = tx.append(MERGES_STREAM, to_data(plan.audit), at=at)
            for merged_id in plan.merged_ids:
                tx.claim_key(MERGE_KEYS, merged_id, str(position))
            emit(
                tx,
                [
                    RecordsMerged(
                        kind=kind.value,
                        survivor_id=plan.survivor_id,
                        merged_ids=plan.merged_ids,
                        by=by,
                        repointed=len(plan.repoints),
                        occurred_at=at,
                    )
                ],
            )
        return Merged(
            plan=plan, survivor=survivor, tombstones=tombstones, related=moved, position=position
        )

    def merge_history(self, record_id: str) -> list[MergeAudit]:
        """The audits of the merges that made the record ``record_id`` what it is, oldest
        first: those that merged records into it (and, before, into them), and the one
        that merged it away if it is a tombstone."""
        cls = _ENTITIES[_record_kind(record_id, "$.record_id")]
        with self.storage.transaction(readonly=True) as tx:
            tx.get(cls, record_id)
            positions = set(_audit_positions(tx, [record_id]))
            frontier, seen = [record_id], {record_id}
            while frontier:
                merged_in = every_page(tx, cls, where={"merged_into_id": In(frontier)})
                frontier = [r.id for r in merged_in if r.id not in seen]
                seen.update(frontier)
                positions.update(_audit_positions(tx, frontier))
            entries = [tx.read(MERGES_STREAM, after=p - 1, limit=1)[0] for p in sorted(positions)]
        return [from_data(MergeAudit, dict(entry.data)) for entry in entries]

    # -- converting -----------------------------------------------------------------

    def convert_lead(
        self,
        lead_id: str,
        *,
        expected_version: int,
        opportunity: OpportunityDraft | None = None,
        by: str,
    ) -> Converted:
        """Convert a lead into an account, a contact and (with a draft) an opportunity,
        reusing the live ones that match it under :data:`CONVERSION_RULES`, in one
        transaction. A converted lead raises :class:`AlreadyConvertedError` (naming the
        first conversion) whatever ``expected_version`` says; a lead changed since
        ``expected_version``, or a reused record changed meanwhile, raises ConflictError;
        in both cases nothing is written."""
        check_by(by)
        pipeline = None if opportunity is None else self._draft_pipeline(opportunity)
        with self.storage.transaction() as tx:
            lead = _convertible(tx, lead_id, expected_version)
            at = max(self.now(), lead.updated_at)
            plan = _plan_conversion(tx, lead, at, opportunity)
            was_qualified = lead.status is LeadStatus.QUALIFIED or lead.qualified_at is not None
            converted = plan.converted_lead
            if not was_qualified:
                converted = converted.evolve(qualified_at=at)
            # The lead first: of two conversions racing, the second fails here.
            stored_lead = tx.update(converted)
            stored: dict[str, Entity] = {}
            events: list[Event] = []
            if not was_qualified:
                events.append(LeadQualified(lead_id=lead.id, score=_whole(lead), occurred_at=at))
            for record in plan.created:
                stored[record.id] = tx.insert(record)
                if isinstance(record, Opportunity):
                    assert pipeline is not None  # a created opportunity comes from the draft
                    change = tx.insert(creation_change(pipeline, record, by=by))
                    events.append(
                        StageChanged(
                            opportunity_id=record.id,
                            pipeline=change.pipeline,
                            from_stage=None,
                            to_stage=change.to_stage,
                            by=by,
                            occurred_at=change.at,
                        )
                    )
            for update in plan.updates:
                stored[update.id] = tx.update(update.record)
            events.append(
                LeadConverted(
                    lead_id=lead.id,
                    account_id=plan.account_id,
                    contact_id=plan.contact_id,
                    opportunity_id=plan.opportunity_id,
                    occurred_at=at,
                )
            )
            emit(tx, events)
            account = _stored(tx, stored, Account, plan.account_id)
            contact = _stored(tx, stored, Contact, plan.contact_id)
            deal = _stored(tx, stored, Opportunity, plan.opportunity_id)
        assert account is not None
        return Converted(
            plan=plan,
            lead=stored_lead,
            account=account,
            contact=contact,
            opportunity=deal,
            qualified=not was_qualified,
        )

    def _draft_pipeline(self, draft: OpportunityDraft) -> Pipeline:
        if not isinstance(draft, OpportunityDraft):
            raise ValidationError("$.opportunity", draft, "an OpportunityDraft or None")
        if draft.pipeline not in self.pipelines:
            raise ValidationError(
                "$.opportunity.pipeline",
                draft.pipeline,
                f"one of the service's pipelines: {', '.join(self.pipelines.keys)}",
            )
        pipeline = self.pipelines.get(draft.pipeline)
        if draft.stage not in pipeline:
            raise pipeline.unknown_stage("$.opportunity.stage", draft.stage)
        return pipeline


# -- reading ----------------------------------------------------------------------------


def _rules(tx: Transaction) -> MatchRuleSet:
    found = tx.find(Setting, setting_id(MATCH_RULES))
    if found is None:
        return DEFAULT_RULES
    if found.kind != MatchRuleSet.__name__:
        raise ValidationError(f"$.{MATCH_RULES}.kind", found.kind, repr(MatchRuleSet.__name__))
    rules: MatchRuleSet = from_json(MatchRuleSet, found.data)
    return rules


def _kinds(kinds: Iterable[str]) -> frozenset[RecordKind]:
    if isinstance(kinds, (str, bytes, Mapping)) or not hasattr(kinds, "__iter__"):
        raise ValidationError("$.kinds", kinds, "a list of kinds: lead, contact, account")
    found: set[RecordKind] = set()
    for i, kind in enumerate(kinds):
        if kind not in _ALL_KINDS:
            raise ValidationError(f"$.kinds[{i}]", kind, "one of lead, contact, account")
        found.add(RecordKind(kind))
    if not found:
        raise ValidationError("$.kinds", kinds, "at least one of lead, contact, account")
    return frozenset(found)


def _record_kind(record_id: object, path: str) -> RecordKind:
    kind = _KIND_OF_ENTITY.get(id_kind(record_id) or "")
    if kind is None:
        raise ValidationError(path, record_id, "the id of a lead, contact or account")
    return kind


def _live_records(
    tx: Transaction, kinds: frozenset[RecordKind]
) -> list[Lead | Account | MatchRecord]:
    """The live records of ``kinds``; contacts with their accounts' company and address."""
    records: list[Lead | Account | MatchRecord] = []
    if RecordKind.LEAD in kinds:
        records += every_page(tx, Lead, where={**_LIVE, "status": In(_LIVE_LEAD_STATUSES)})
    accounts = every_page(tx, Account, where=_LIVE) if kinds - {RecordKind.LEAD} else []
    if RecordKind.ACCOUNT in kinds:
        records += accounts
    if RecordKind.CONTACT in kinds:
        by_id: dict[str, Account] = {a.id: a for a in accounts}
        records += [
            MatchRecord.from_contact(c, account=by_id.get(c.account_id or ""))
            for c in every_page(tx, Contact, where=_LIVE)
        ]
    return records


def _matchable(tx: Transaction, record: Mergeable) -> Lead | Account | MatchRecord:
    if isinstance(record, Contact):
        account = None if record.account_id is None else tx.find(Account, record.account_id)
        return MatchRecord.from_contact(record, account=account)
    return record


def _stored(
    tx: Transaction, stored: Mapping[str, Entity], kind: type[Any], record_id: str | None
) -> Any:
    if record_id is None:
        return None
    return stored.get(record_id) or tx.get(kind, record_id)


# -- merging ----------------------------------------------------------------------------


def _merge_ids(record_ids: object) -> tuple[list[str], RecordKind]:
    expected = "a list of two or more ids of leads, contacts or accounts"
    if isinstance(record_ids, (str, bytes, Mapping)) or not hasattr(record_ids, "__iter__"):
        raise ValidationError("$.record_ids", record_ids, expected)
    ids = list(record_ids)
    if len(ids) < 2:
        raise ValidationError("$.record_ids", ids, expected)
    problems: list[Problem] = []
    first: tuple[int, RecordKind] | None = None
    seen: dict[str, int] = {}
    for i, rid in enumerate(ids):
        kind = _KIND_OF_ENTITY.get(id_kind(rid) or "")
        path = f"$.record_ids[{i}]"
        if kind is None:
            problems.append(Problem(path, "the id of a lead, contact or account", rid))
            continue
        if first is None:
            first = (i, kind)
        elif kind is not first[1]:
            problems.append(
                Problem(
                    path,
                    f"a {first[1].value} id like record_ids[{first[0]}]: records of different "
                    "kinds are never merged; a lead becomes a contact through conversion "
                    "(convert_lead)",
                    rid,
                )
            )
        if rid in seen:
            problems.append(
                Problem(path, f"an id not listed before (record_ids[{seen[rid]}] is it)", rid)
            )
        seen.setdefault(rid, i)
    if problems:
        raise ValidationError.from_problems(problems)
    assert first is not None
    return ids, first[1]


def _expected_versions(expected: object, ids: Sequence[str]) -> dict[str, int]:
    if not isinstance(expected, Mapping):
        raise ValidationError(
            "$.expected_versions", expected, "a mapping from each merged id to its version read"
        )
    problems: list[Problem] = []
    for rid in ids:
        version = expected.get(rid)
        path = f"$.expected_versions.{rid}"
        if version is None:
            problems.append(Problem(path, "the version read of every merged record"))
        elif type(version) is not int or version < 1:
            problems.append(Problem(path, "a stored version (a whole number, at least 1)", version))
    for key in expected:
        if key not in ids:
            problems.append(
                Problem(f"$.expected_versions.{key}", "only the ids of the merged records", key)
            )
    if problems:
        raise ValidationError.from_problems(problems)
    return {rid: expected[rid] for rid in ids}


def _live(tx: Transaction, cls: type[Mergeable], record_id: str, expected: int) -> Mergeable:
    record = tx.get(cls, record_id)
    if record.version != expected:
        raise ConflictError(
            cls.__name__, record_id, expected_version=expected, current_version=record.version
        )
    if record.merged_into_id is not None:
        raise TransitionError(
            f"{cls.__name__} {record_id!r} was merged into {record.merged_into_id!r}: a "
            f"tombstone is not merged again (merge {record.merged_into_id!r} instead)"
        )
    return record


def _indexed(cls: type[Entity], field: str) -> bool:
    return any(spec.field == field for spec in kind_spec(cls).indexes)


def _related(
    tx: Transaction, kind: RecordKind, ids: Sequence[str], *, exclude: Iterable[str]
) -> list[Related]:
    """Every record of a type in :data:`REFERENCES` with a reference to one of ``ids``,
    except those in ``exclude`` (the merged records themselves).

    Indexed reference fields are queried; for the others the type's records are read
    page by page (an index on such a field would spare that scan).
    """
    wanted = set(ids)
    found: dict[str, Related] = {}
    for cls, fields in REFERENCES.items():
        relevant = [f for f in fields if _HOLDS.get(f, kind) is kind]
        for field in (f for f in relevant if _indexed(cls, f)):
            batch: list[Related] = every_page(tx, cls, where={field: In(ids)})
            for record in batch:
                found.setdefault(record.id, record)
        scanned = [f for f in relevant if not _indexed(cls, f)]
        if scanned:
            for record in _pointing(tx, cls, scanned, wanted):
                found.setdefault(record.id, record)
    excluded = set(exclude)
    return [record for rid, record in found.items() if rid not in excluded]


def _pointing(
    tx: Transaction, cls: type[Related], fields: Sequence[str], ids: set[str]
) -> Iterator[Related]:
    cursor = None
    while True:
        page: Page[Related] = tx.query(cls, limit=1000, cursor=cursor)
        for record in page.items:
            if any(getattr(record, f) in ids for f in fields):
                yield record
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _audit_positions(tx: Transaction, record_ids: Iterable[str]) -> Iterator[int]:
    for rid in record_ids:
        value = tx.key_value(MERGE_KEYS, rid)
        if value is not None:
            yield int(value)


# -- converting -------------------------------------------------------------------------


def _convertible(tx: Transaction, lead_id: str, expected_version: int) -> Lead:
    lead = tx.get(Lead, lead_id)
    if lead.status is LeadStatus.CONVERTED or lead.converted_account_id is not None:
        raise AlreadyConvertedError(lead.id, lead.converted_account_id, lead.converted_at)
    if lead.merged_into_id is not None:
        raise TransitionError(
            f"lead {lead_id!r} was merged into {lead.merged_into_id!r}: convert that record"
        )
    if lead.version != expected_version:
        raise ConflictError(
            "Lead", lead_id, expected_version=expected_version, current_version=lead.version
        )
    return lead


def _plan_conversion(
    tx: Transaction, lead: Lead, at: datetime, draft: OpportunityDraft | None
) -> ConversionPlan:
    accounts = every_page(tx, Account, where=_LIVE)
    contacts = every_page(tx, Contact, where=_LIVE)
    index = dedupe.build_index([*accounts, *contacts], CONVERSION_RULES)
    # Fixed once, so that planning again with the account's opportunities gives the same.
    ids = NewIds(
        account=new_account_id(at),
        contact=new_contact_id(at),
        opportunity=None if draft is None else new_opportunity_id(at),
    )
    plan = dedupe.plan_conversion(lead, index, at=at, opportunity=draft, new_ids=ids)
    if draft is None or plan.account_id == ids.account:
        return plan
    # A reused account may already have this deal: plan again knowing its opportunities.
    existing = every_page(tx, Opportunity, where={"account_id": plan.account_id})
    if not existing:
        return plan
    return dedupe.plan_conversion(
        lead, index, at=at, opportunity=draft, opportunities=existing, new_ids=ids
    )


def _whole(lead: Lead) -> int | None:
    # LeadQualified carries a whole score, rounded as the qualifying mixin rounds it.
    if lead.score is None:
        return None
    return int(lead.score.to_integral_value(rounding=ROUND_HALF_EVEN))


def _carry_lead_streams(tx: Transaction, merged_ids: Sequence[str], survivor_id: str) -> None:
    # A merged lead's engagement and enrichment provenance follow it to the survivor, so
    # its score and its history lose nothing; the tombstone keeps its own copy.
    for stream_of in (engagement_stream, enrichment_stream):
        for merged_id in merged_ids:
            after = 0
            while True:
                entries = tx.read(stream_of(merged_id), after=after, limit=1000)
                if not entries:
                    break
                tx.append_many(stream_of(survivor_id), [(e.data, e.recorded_at) for e in entries])
                after = entries[-1].position
