"""Duplicates across leads, contacts and accounts: find them, merge them, convert leads
without creating them.

Pure functions over frozen data, no storage and no clock:

* **matching rules as data** (:class:`MatchRuleSet` of :class:`MatchRule` s, each a
  conjunction of exact or fuzzy :class:`Comparison` s, like Salesforce matching rules)
  over one record shape, :class:`MatchRecord`, built from a lead, a contact or an
  account — so a lead that marketing captured matches the contact sales typed in;
* **duplicate detection** in a batch (:func:`find_duplicates`, pairs and union-find
  :func:`clusters`) or for one record against an index built once
  (:func:`build_index`, :func:`find_matches`), with blocking that finds exactly the
  pairs comparing every pair finds, in near-linear time;
* **merge planning** (:func:`plan_merge`): survivor, field policies, provenance, the
  references to move, tombstones and an audit entry;
* **conversion planning** (:func:`plan_conversion`): a lead into an account, a contact
  and an opportunity, reusing what exists.

>>> from datetime import datetime, timezone
>>> from sfakit.model import Contact, Lead
>>> t0 = datetime(2026, 3, 2, tzinfo=timezone.utc)
>>> lead = Lead(id="lead_1", first_name="Ana", last_name="Schmidt", email="anna@acme.de",
...             created_at=t0)
>>> contact = Contact(id="cont_1", first_name="Anna", last_name="Schmidt",
...                   emails=("Anna@acme.de",), created_at=t0)
>>> result = find_duplicates([lead, contact])
>>> [(p.left.id, p.right.id, p.rule) for p in result.pairs], result.clusters
([('cont_1', 'lead_1', 'same_email')], (('cont_1', 'lead_1'),))
"""

from __future__ import annotations

from sfakit.qualification.dedupe.convert import (
    AlreadyConvertedError,
    ConversionPlan,
    FieldChange,
    NewIds,
    OpportunityDraft,
    RecordUpdate,
    Reuse,
    plan_conversion,
)
from sfakit.qualification.dedupe.index import (
    MatchIndex,
    build_index,
    find_duplicates,
    find_matches,
)
from sfakit.qualification.dedupe.keys import (
    LEGAL_FORMS,
    company_key,
    email_key,
    name_key,
    phone_key,
    postal_code_key,
    text_key,
    website_key,
)
from sfakit.qualification.dedupe.merge import (
    BUILT_IN_FIELD_POLICIES,
    REFERENCES,
    FieldPolicy,
    FieldProvenance,
    FieldRule,
    MergeAudit,
    MergePlan,
    MergePolicy,
    RecordSnapshot,
    Repoint,
    SurvivorRule,
    Tombstone,
    plan_merge,
)
from sfakit.qualification.dedupe.records import MatchRecord, RecordKind, match_record
from sfakit.qualification.dedupe.results import (
    ComparisonResult,
    DedupeResult,
    DedupeStats,
    DuplicatePair,
    RecordRef,
    RuleCount,
    clusters,
)
from sfakit.qualification.dedupe.rules import (
    CONVERSION_RULES,
    DEFAULT_RULES,
    Comparison,
    KindPair,
    MatchField,
    MatchRule,
    MatchRuleSet,
    Method,
    Scorer,
    exact,
    fuzzy,
)

__all__ = [
    "BUILT_IN_FIELD_POLICIES",
    "CONVERSION_RULES",
    "DEFAULT_RULES",
    "LEGAL_FORMS",
    "REFERENCES",
    "AlreadyConvertedError",
    "Comparison",
    "ComparisonResult",
    "ConversionPlan",
    "DedupeResult",
    "DedupeStats",
    "DuplicatePair",
    "FieldChange",
    "FieldPolicy",
    "FieldProvenance",
    "FieldRule",
    "KindPair",
    "MatchField",
    "MatchIndex",
    "MatchRecord",
    "MatchRule",
    "MatchRuleSet",
    "MergeAudit",
    "MergePlan",
    "MergePolicy",
    "Method",
    "NewIds",
    "OpportunityDraft",
    "RecordKind",
    "RecordRef",
    "RecordSnapshot",
    "RecordUpdate",
    "Repoint",
    "Reuse",
    "RuleCount",
    "Scorer",
    "SurvivorRule",
    "Tombstone",
    "build_index",
    "clusters",
    "company_key",
    "email_key",
    "exact",
    "find_duplicates",
    "find_matches",
    "fuzzy",
    "match_record",
    "name_key",
    "phone_key",
    "plan_conversion",
    "plan_merge",
    "postal_code_key",
    "text_key",
    "website_key",
]
