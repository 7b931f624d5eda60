"""Merge planning: duplicates into one survivor, with nothing lost and everything explained.

:func:`plan_merge` takes two or more records of one kind (leads, contacts or accounts)
and the records that point at them, and returns a :class:`MergePlan` — it changes
nothing; the service applies the plan in one transaction. The plan holds:

* the **survivor**, chosen explicitly or by the :class:`MergePolicy`'s
  :class:`SurvivorRule` (the oldest record, or the most complete), with every field
  merged by a :class:`FieldPolicy` and its :class:`FieldProvenance` (which record the
  value came from, and why);
* a :class:`Repoint` for every reference to a merged record — activities,
  interactions, opportunities, orders, standing orders, the contacts of a merged
  account, accounts whose parent it was, leads converted into it — and those related
  records as they are after the merge;
* a :class:`Tombstone` per merged record (its id → the survivor's), and a
  :class:`MergeAudit` with the full data of every record before the merge, which
  round-trips through :mod:`sfakit.codec`.

Like Salesforce's merge, the survivor keeps its id and creation time; unlike it, every
field's origin is recorded, and a contact that anyone asked not to be contacted stays
so (``do_not_contact`` merges with ``any_true``). Records of different kinds are never
merged: a lead becomes a contact through conversion (:func:`plan_conversion`).

>>> from datetime import datetime, timezone
>>> from sfakit.model import Contact
>>> t0 = datetime(2026, 1, 5, tzinfo=timezone.utc)
>>> old = Contact(id="cont_old", last_name="Schmidt", emails=("a@acme.de",), created_at=t0)
>>> new = Contact(id="cont_new", first_name="Anna", last_name="Schmitt",
...               emails=("anna@acme.de",), created_at=datetime(2026, 2, 1, tzinfo=timezone.utc))
>>> plan = plan_merge([old, new], at=datetime(2026, 3, 2, tzinfo=timezone.utc), by="rep_anna")
>>> plan.survivor_id, plan.merged.first_name, plan.merged.emails
('cont_old', 'Anna', ('a@acme.de', 'anna@acme.de'))
>>> plan.provenance_of("first_name").reason
'survivor cont_old had none; newest non-empty value, from cont_new'
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import attrs

from sfakit.codec import from_json, to_json
from sfakit.errors import Problem, ValidationError
from sfakit.model.activities import Activity, Interaction
from sfakit.model.checks import (
    aware_datetime,
    enum_of,
    id_of_any,
    instance_of,
    text,
    to_tuple,
    tuple_of,
)
from sfakit.model.leads import Lead, LeadStatus
from sfakit.model.opportunities import Opportunity
from sfakit.model.orders import Order, StandingOrder
from sfakit.model.parties import Account, Contact
from sfakit.qualification.dedupe.records import RecordKind, listed

__all__ = [
    "FieldPolicy",
    "FieldProvenance",
    "FieldRule",
    "MergeAudit",
    "MergePlan",
    "MergePolicy",
    "RecordSnapshot",
    "Repoint",
    "SurvivorRule",
    "Tombstone",
    "plan_merge",
]

Mergeable = Lead | Contact | Account
Related = Activity | Interaction | Opportunity | Order | StandingOrder | Contact | Account | Lead

_KINDS: Final[dict[type, RecordKind]] = {
    Lead: RecordKind.LEAD,
    Contact: RecordKind.CONTACT,
    Account: RecordKind.ACCOUNT,
}
#: Fields of each related record type that hold the id of a lead, contact or account.
REFERENCES: Final[dict[type, tuple[str, ...]]] = {
    Activity: ("account_id", "contact_id", "related_to"),
    Interaction: ("account_id", "contact_id", "related_to"),
    Opportunity: ("account_id", "primary_contact_id"),
    Order: ("account_id", "contact_id"),
    StandingOrder: ("account_id", "contact_id"),
    Contact: ("account_id",),
    Account: ("parent_id",),
    Lead: ("converted_account_id", "converted_contact_id"),
}
# merged_into_id is the tombstone mark the service sets, never a value to merge.
_FIXED: Final = frozenset({"id", "created_at", "updated_at", "version", "merged_into_id"})


def _mergeable_fields(cls: type) -> tuple[str, ...]:
    return tuple(a.name for a in attrs.fields(cls) if a.name not in _FIXED)


_FIELDS: Final = {cls: _mergeable_fields(cls) for cls in _KINDS}
_ALL_FIELDS: Final = frozenset(name for names in _FIELDS.values() for name in names)


class SurvivorRule(enum.StrEnum):
    """Which record survives when none is named.

    * ``oldest``: the earliest created (ties: the smaller id) — the customer's first
      record keeps its history and id;
    * ``most_complete``: the one with the most non-empty fields (ties: the oldest).

    >>> SurvivorRule("most_complete") is SurvivorRule.MOST_COMPLETE
    True
    """

    OLDEST = "oldest"
    MOST_COMPLETE = "most_complete"


class FieldPolicy(enum.StrEnum):
    """How one field of the survivor is chosen from the merged records.

    Empty means None, ``""`` or ``()``; ``False`` is a value. "Newest" is by
    ``updated_at`` (ties: the survivor, then the smaller id).

    * ``survivor``: the survivor's value, even an empty one;
    * ``keep_non_empty``: the survivor's value, or when it has none the newest
      non-empty value of the others;
    * ``newest``: the newest non-empty value of any record;
    * ``oldest``: the non-empty value of the earliest created record;
    * ``union``: (lists) every record's items, the survivor's first, without repeats;
    * ``max``: the greatest non-empty value (the latest date, the largest number);
    * ``any_true``: (flags) true when any record has it true.

    >>> FieldPolicy.UNION.value
    'union'
    """

    SURVIVOR = "survivor"
    KEEP_NON_EMPTY = "keep_non_empty"
    NEWEST = "newest"
    OLDEST = "oldest"
    UNION = "union"
    MAX = "max"
    ANY_TRUE = "any_true"


def _known_field(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or value not in _ALL_FIELDS:
        raise ValidationError(
            "$.field",
            value,
            "a field of Lead, Contact or Account other than id, created_at, updated_at and version",
        )


@attrs.frozen
class FieldRule:
    """The policy for one field (a field the merged kind does not have is ignored).

    >>> FieldRule("phones", FieldPolicy.SURVIVOR).policy
    <FieldPolicy.SURVIVOR: 'survivor'>
    """

    field: str = attrs.field(validator=_known_field)
    policy: FieldPolicy = attrs.field(validator=enum_of(FieldPolicy))


#: Field policies that apply unless a :class:`FieldRule` names the field: lists are
#: united, consent flags and "last …" timestamps cannot go back, and a lead's status
#: stays the survivor's (its disqualification reason belongs to that status).
BUILT_IN_FIELD_POLICIES: Final[Mapping[str, FieldPolicy]] = {
    "emails": FieldPolicy.UNION,
    "phones": FieldPolicy.UNION,
    "roles": FieldPolicy.UNION,
    "tags": FieldPolicy.UNION,
    "product_interest": FieldPolicy.UNION,
    "do_not_contact": FieldPolicy.ANY_TRUE,
    "last_interaction_at": FieldPolicy.MAX,
    "last_order_at": FieldPolicy.MAX,
    "status": FieldPolicy.SURVIVOR,
    "disqualification_reason": FieldPolicy.SURVIVOR,
}


def _unique_fields(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    tuple_of(instance_of(FieldRule, "a FieldRule"))(instance, attribute, value)
    seen: dict[str, int] = {}
    for i, rule in enumerate(value):
        if rule.field in seen:
            raise ValidationError(
                f"$.fields[{i}].field",
                rule.field,
                f"a field not named before (fields[{seen[rule.field]}] names it)",
            )
        seen[rule.field] = i


@attrs.frozen(kw_only=True)
class MergePolicy:
    """How to merge: which record survives, and each field's :class:`FieldPolicy`.

    A field gets the policy its :class:`FieldRule` names, else its built-in one
    (:data:`BUILT_IN_FIELD_POLICIES`), else ``default``.

    >>> policy = MergePolicy(survivor=SurvivorRule.MOST_COMPLETE,
    ...                      fields=[FieldRule("owner_id", FieldPolicy.NEWEST)])
    >>> policy.policy_for("owner_id"), policy.policy_for("emails"), policy.policy_for("title")
    (<FieldPolicy.NEWEST: 'newest'>, <FieldPolicy.UNION: 'union'>, \
<FieldPolicy.KEEP_NON_EMPTY: 'keep_non_empty'>)
    """

    survivor: SurvivorRule = attrs.field(
        default=SurvivorRule.OLDEST, validator=enum_of(SurvivorRule)
    )
    default: FieldPolicy = attrs.field(
        default=FieldPolicy.KEEP_NON_EMPTY, validator=enum_of(FieldPolicy)
    )
    fields: tuple[FieldRule, ...] = attrs.field(
        default=(), converter=to_tuple, validator=_unique_fields
    )

    def policy_for(self, field: str) -> FieldPolicy:
        for rule in self.fields:
            if rule.field == field:
                return rule.policy
        return BUILT_IN_FIELD_POLICIES.get(field, self.default)


@attrs.frozen(kw_only=True)
class FieldProvenance:
    """Where one merged field's value came from: the records, the policy, and why.

    ``changed`` says whether it differs from the survivor's own value.
    """

    field: str = attrs.field(validator=text(max_length=100))
    policy: FieldPolicy = attrs.field(validator=enum_of(FieldPolicy))
    sources: tuple[str, ...] = attrs.field(converter=to_tuple, validator=tuple_of(id_of_any))
    changed: bool = attrs.field(validator=instance_of(bool, "true or false"))
    reason: str = attrs.field(validator=text(max_length=1000))


@attrs.frozen(kw_only=True)
class Repoint:
    """One reference to move: ``entity`` ``record_id``'s ``field`` from ``old_id`` to ``new_id``.

    >>> Repoint(entity="Opportunity", record_id="opp_1", field="account_id",
    ...         old_id="acct_dup", new_id="acct_main").field
    'account_id'
    """

    entity: str = attrs.field(validator=text(max_length=50))
    record_id: str = attrs.field(validator=id_of_any)
    field: str = attrs.field(validator=text(max_length=100))
    old_id: str = attrs.field(validator=id_of_any)
    new_id: str = attrs.field(validator=id_of_any)


@attrs.frozen(kw_only=True)
class Tombstone:
    """What is left of a merged record: its id now means the survivor's.

    >>> from datetime import datetime, timezone
    >>> Tombstone(kind=RecordKind.CONTACT, merged_id="cont_dup", survivor_id="cont_main",
    ...           at=datetime(2026, 3, 2, tzinfo=timezone.utc), by="rep_anna").survivor_id
    'cont_main'
    """

    kind: RecordKind = attrs.field(validator=enum_of(RecordKind))
    merged_id: str = attrs.field(validator=id_of_any)
    survivor_id: str = attrs.field(validator=id_of_any)
    at: datetime = attrs.field(validator=aware_datetime)
    by: str = attrs.field(validator=text(max_length=200))


@attrs.frozen(kw_only=True)
class RecordSnapshot:
    """A record's full data as JSON text (exact, and storable as it is).

    >>> from datetime import datetime, timezone
    >>> acme = Account(id="acct_1", name="Acme", created_at=datetime(2026, 1, 1,
    ...                tzinfo=timezone.utc))
    >>> RecordSnapshot.of(acme).load() == acme
    True
    """

    entity: str = attrs.field(validator=text(max_length=50))
    id: str = attrs.field(validator=id_of_any)
    data: str = attrs.field(validator=text(max_length=10_000_000))

    @classmethod
    def of(cls, record: Mergeable | Related) -> RecordSnapshot:
        return cls(entity=type(record).__name__, id=record.id, data=to_json(record))

    def load(self) -> Mergeable | Related:
        """The record, rebuilt from the snapshot."""
        kinds: dict[str, type[Any]] = {cls.__name__: cls for cls in REFERENCES}
        if self.entity not in kinds:
            raise ValidationError("$.entity", self.entity, f"one of {', '.join(kinds)}")
        loaded: Mergeable | Related = from_json(kinds[self.entity], self.data)
        return loaded


@attrs.frozen(kw_only=True)
class MergeAudit:
    """Who merged what, when, how, and every record as it was before.

    ``before`` holds the merged records (the survivor first); ``related_before`` the
    related records the merge changes; ``after`` the survivor as merged. With
    ``repoints`` and ``provenance`` the merge can be inspected, and undone by hand,
    without any other source.
    """

    kind: RecordKind = attrs.field(validator=enum_of(RecordKind))
    survivor_id: str = attrs.field(validator=id_of_any)
    merged_ids: tuple[str, ...] = attrs.field(converter=to_tuple, validator=tuple_of(id_of_any))
    at: datetime = attrs.field(validator=aware_datetime)
    by: str = attrs.field(validator=text(max_length=200))
    survivor_reason: str = attrs.field(validator=text(max_length=1000))
    policy: MergePolicy = attrs.field(validator=instance_of(MergePolicy, "a MergePolicy"))
    before: tuple[RecordSnapshot, ...] = attrs.field(converter=to_tuple)
    related_before: tuple[RecordSnapshot, ...] = attrs.field(converter=to_tuple)
    after: RecordSnapshot = attrs.field(validator=instance_of(RecordSnapshot, "a snapshot"))
    provenance: tuple[FieldProvenance, ...] = attrs.field(converter=to_tuple)
    repoints: tuple[Repoint, ...] = attrs.field(converter=to_tuple)


@attrs.frozen(kw_only=True)
class MergePlan:
    """The merge, planned: the survivor as merged, its provenance, the references to
    move and the related records after the move, the tombstones and the audit entry.
    """

    kind: RecordKind
    survivor_id: str
    merged_ids: tuple[str, ...]
    merged: Mergeable
    survivor_reason: str
    provenance: tuple[FieldProvenance, ...]
    repoints: tuple[Repoint, ...]
    related: tuple[Related, ...]
    tombstones: tuple[Tombstone, ...]
    audit: MergeAudit

    def provenance_of(self, field: str) -> FieldProvenance:
        """The provenance of ``field``."""
        for item in self.provenance:
            if item.field == field:
                return item
        raise ValidationError("$.field", field, "a field of the merged record")


def check_at(at: object, path: str = "$.at") -> None:
    """``at`` must be a timezone-aware datetime."""
    if not isinstance(at, datetime) or at.utcoffset() is None:
        raise ValidationError(path, at, "a timezone-aware datetime (a naive datetime is ambiguous)")


def check_by(by: object, path: str = "$.by") -> None:
    """``by`` must name who acts: a non-blank string of at most 200 characters."""
    if not isinstance(by, str) or not by.strip() or len(by) > 200:
        raise ValidationError(path, by, "a non-blank string of at most 200 characters")


def _empty(value: object) -> bool:
    return value is None or value in ("", ())


def _check_records(records: Sequence[Any]) -> tuple[type, RecordKind]:
    if not records or len(records) < 2:
        raise ValidationError("$.records", len(records), "at least two records to merge")
    first = records[0]
    if type(first) not in _KINDS:
        raise ValidationError("$.records[0]", first, "a Lead, Contact or Account")
    cls = type(first)
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for i, record in enumerate(records):
        if type(record) is not cls:
            if type(record) in _KINDS:
                expected = (
                    f"a {cls.__name__} like records[0] ({first.id}): records of different "
                    "kinds are never merged; a lead becomes a contact through conversion "
                    "(plan_conversion)"
                )
            else:
                expected = f"a {cls.__name__} like records[0]"
            problems.append(Problem(f"$.records[{i}]", expected, getattr(record, "id", record)))
            continue
        if record.id in seen:
            problems.append(
                Problem(
                    f"$.records[{i}].id",
                    f"a record not listed before (records[{seen[record.id]}] is it)",
                    record.id,
                )
            )
        seen[record.id] = i
        if isinstance(record, Lead) and record.status is LeadStatus.CONVERTED:
            problems.append(
                Problem(
                    f"$.records[{i}].status",
                    "a lead that is not converted: a converted lead is history; merge the "
                    "contacts and accounts it became instead",
                    record.status.value,
                )
            )
    if problems:
        raise ValidationError.from_problems(problems)
    return cls, _KINDS[cls]


def _filled(record: Mergeable) -> int:
    return sum(not _empty(getattr(record, name)) for name in _FIELDS[type(record)])


def _choose_survivor(
    records: Sequence[Mergeable], survivor_id: str | None, rule: SurvivorRule
) -> tuple[Mergeable, str]:
    if survivor_id is not None:
        for record in records:
            if record.id == survivor_id:
                return record, f"named by the caller ({survivor_id})"
        ids = ", ".join(r.id for r in records)
        raise ValidationError("$.survivor_id", survivor_id, f"one of the merged ids: {ids}")
    oldest = min(records, key=lambda r: (r.created_at, r.id))
    if rule is SurvivorRule.OLDEST:
        return oldest, f"oldest: created {oldest.created_at.isoformat()}"
    best = min(records, key=lambda r: (-_filled(r), r.created_at, r.id))
    total = len(_FIELDS[type(best)])
    return best, f"most complete: {_filled(best)} of {total} fields filled"


def _newest_first(records: Sequence[Mergeable], survivor: Mergeable) -> list[Mergeable]:
    return sorted(records, key=lambda r: (-r.updated_at.timestamp(), r is not survivor, r.id))


def _merge_field(
    name: str,
    policy: FieldPolicy,
    survivor: Mergeable,
    records: Sequence[Mergeable],
    path: str,
) -> tuple[object, tuple[str, ...], str]:
    """The merged value of ``name``, the records it came from, and why.

    ``path`` names where the policy was set, for the error when it does not fit the field.
    """
    own = getattr(survivor, name)
    newest = _newest_first(records, survivor)
    if policy is FieldPolicy.SURVIVOR:
        return own, (survivor.id,), f"survivor {survivor.id}'s value (policy survivor)"
    if policy is FieldPolicy.KEEP_NON_EMPTY:
        if not _empty(own):
            return own, (survivor.id,), f"survivor {survivor.id}'s value"
        for record in newest:
            value = getattr(record, name)
            if record is not survivor and not _empty(value):
                why = f"survivor {survivor.id} had none; newest non-empty value, from {record.id}"
                return value, (record.id,), why
        return own, (survivor.id,), "no record has a value"
    if policy in (FieldPolicy.NEWEST, FieldPolicy.OLDEST):
        ordered = (
            newest
            if policy is FieldPolicy.NEWEST
            else sorted(records, key=lambda r: (r.created_at, r is not survivor, r.id))
        )
        for record in ordered:
            value = getattr(record, name)
            if not _empty(value):
                return value, (record.id,), f"{policy.value} non-empty value, from {record.id}"
        return own, (survivor.id,), "no record has a value"
    if policy is FieldPolicy.UNION:
        if not isinstance(own, tuple):
            raise ValidationError(path, policy.value, f"a policy for a single value ({name})")
        items: list[object] = []
        sources: list[str] = []
        for record in [survivor, *(r for r in newest if r is not survivor)]:
            added = [v for v in getattr(record, name) if v not in items]
            if added or record is survivor:
                items.extend(added)
                sources.append(record.id)
        extra = len(items) - len(own)
        return tuple(items), tuple(sources), f"union: survivor's {len(own)} and {extra} more"
    if policy is FieldPolicy.ANY_TRUE:
        if not isinstance(own, bool):
            raise ValidationError(path, policy.value, f"a policy for a non-flag ({name})")
        holders = tuple(r.id for r in records if getattr(r, name) is True)
        if holders:
            return True, holders, f"true in {', '.join(holders)}"
        return False, (survivor.id,), "false in every record"
    # FieldPolicy.MAX
    candidates = [r for r in newest if not _empty(getattr(r, name))]
    if not candidates:
        return own, (survivor.id,), "no record has a value"
    try:
        best = max(candidates, key=lambda r: getattr(r, name))
    except TypeError:
        raise ValidationError(
            path, policy.value, f"a policy for values that do not order ({name})"
        ) from None
    return getattr(best, name), (best.id,), f"greatest value, from {best.id}"


def _references(record: Related) -> tuple[str, ...]:
    for cls, fields in REFERENCES.items():
        if type(record) is cls:
            return fields
    raise ValidationError(
        "$.related",
        record,
        "an Activity, Interaction, Opportunity, Order, StandingOrder, Contact, Account or Lead",
    )


def _check_time(at: datetime, records: Iterable[Mergeable | Related], where: str) -> None:
    for i, record in enumerate(records):
        if record.updated_at > at:
            raise ValidationError(
                "$.at",
                at,
                f"a moment at or after the last change of every record the merge reads; "
                f"{where}[{i}] ({record.id}) changed at {record.updated_at.isoformat()}",
            )


def plan_merge(
    records: Sequence[Mergeable],
    *,
    at: datetime,
    by: str,
    survivor_id: str | None = None,
    policy: MergePolicy | None = None,
    related: Iterable[Related] = (),
) -> MergePlan:
    """Plan the merge of ``records`` (two or more of one kind) into one survivor.

    ``related`` are the records that may point at them (any of the types in
    :data:`REFERENCES`); those that do are re-pointed at the survivor, the others are
    left out of the plan. ``at`` (timezone-aware, not before any record's last change)
    and ``by`` are recorded in the tombstones and the audit.
    """
    check_at(at)
    check_by(by)
    policy = MergePolicy() if policy is None else policy
    if not isinstance(policy, MergePolicy):
        raise ValidationError("$.policy", policy, "a MergePolicy")
    items = listed(records, "$.records", "a list of Leads, Contacts or Accounts to merge")
    cls, kind = _check_records(items)
    related_items = listed(related, "$.related", "a list of records that may point at them")
    merged_ids = {r.id for r in items}
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, record in enumerate(related_items):
        _references(record)
        if record.id in merged_ids:
            problems.append(
                Problem(f"$.related[{i}]", "a record other than those merged", record.id)
            )
        elif record.id in seen:
            problems.append(Problem(f"$.related[{i}]", "a record not listed before", record.id))
        seen.add(record.id)
    if problems:
        raise ValidationError.from_problems(problems)
    _check_time(at, items, "records")
    _check_time(at, related_items, "related")

    survivor, reason = _choose_survivor(items, survivor_id, policy.survivor)
    others = tuple(r.id for r in items if r is not survivor)
    changes: dict[str, Any] = {}
    provenance: list[FieldProvenance] = []
    for name in _FIELDS[cls]:
        field_policy = policy.policy_for(name)
        value, sources, why = _merge_field(
            name, field_policy, survivor, items, _policy_path(policy, name)
        )
        if isinstance(value, str) and value in merged_ids and name in _references_of(cls):
            # A reference to a merged record now means the survivor: itself, so none.
            why += f"; it pointed at merged {value}, so it is cleared"
            value = None
        changes[name] = value
        provenance.append(
            FieldProvenance(
                field=name,
                policy=field_policy,
                sources=sources,
                changed=value != getattr(survivor, name),
                reason=why,
            )
        )
    merged = attrs.evolve(survivor, **changes, updated_at=at)

    repoints: list[Repoint] = []
    moved: list[Related] = []
    moved_before: list[RecordSnapshot] = []
    for record in related_items:
        updates: dict[str, Any] = {
            name: survivor.id
            for name in _references(record)
            if getattr(record, name) in merged_ids and getattr(record, name) != survivor.id
        }
        if not updates:
            continue
        for name in updates:
            repoints.append(
                Repoint(
                    entity=type(record).__name__,
                    record_id=record.id,
                    field=name,
                    old_id=getattr(record, name),
                    new_id=survivor.id,
                )
            )
        moved_before.append(RecordSnapshot.of(record))
        moved.append(attrs.evolve(record, **updates, updated_at=at))

    tombstones = tuple(
        Tombstone(kind=kind, merged_id=other, survivor_id=survivor.id, at=at, by=by)
        for other in others
    )
    audit = MergeAudit(
        kind=kind,
        survivor_id=survivor.id,
        merged_ids=others,
        at=at,
        by=by,
        survivor_reason=reason,
        policy=policy,
        before=(
            RecordSnapshot.of(survivor),
            *(RecordSnapshot.of(r) for r in items if r is not survivor),
        ),
        related_before=moved_before,
        after=RecordSnapshot.of(merged),
        provenance=provenance,
        repoints=repoints,
    )
    return MergePlan(
        kind=kind,
        survivor_id=survivor.id,
        merged_ids=others,
        merged=merged,
        survivor_reason=reason,
        provenance=tuple(provenance),
        repoints=tuple(repoints),
        related=tuple(moved),
        tombstones=tombstones,
        audit=audit,
    )


def _policy_path(policy: MergePolicy, name: str) -> str:
    for i, rule in enumerate(policy.fields):
        if rule.field == name:
            return f"$.policy.fields[{i}].policy"
    return "$.policy.default"


def _references_of(cls: type) -> tuple[str, ...]:
    return REFERENCES.get(cls, ())
