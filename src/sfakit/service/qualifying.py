"""Lead qualification through the service: capture, scoring, prediction, enrichment and
lead analytics, each one call over storage around the pure :mod:`sfakit.qualification`.

* **Capture** (:meth:`Qualifying.capture`) normalises a web form or CSV row with
  :func:`~sfakit.qualification.capture_lead`, stores the lead and emits ``LeadCaptured``
  in the same transaction; an ``idempotency_key`` makes a double-submitted form store
  one lead.
* **Scoring.** The scorecard is the setting ``lead-scorecard``. A lead's engagement is
  read from storage (see *Engagement* below); the score, grade and ``scored_at`` are
  saved on the lead, and a lead never qualified before whose verdict is *qualified*
  moves to status ``qualified`` with ``qualified_at`` and one ``LeadQualified`` event.
  The service recomputes these derived values itself, so a concurrent change makes it
  retry, never fail.
* **Prediction.** :meth:`Qualifying.train_lead_model` trains the naive-Bayes model from
  the stored outcomes — a converted lead whose opportunity was won is *won*; a
  disqualified lead, or a converted one whose opportunity was lost, is *lost*; any other
  lead is not an example yet — and stores it as the setting ``lead-model``.
* **Enrichment.** Plugins implementing ``sfakit_enrich_lead`` propose field values with
  a confidence; :meth:`Qualifying.enrich_lead` applies them under an
  :class:`EnrichmentPolicy` (by default only empty fields are filled) and records each
  applied value, with the plugin, the time, the confidence and the old and new value,
  in the lead's stream ``lead-enrichment:<lead id>``.
* **Analytics**: conversion by any field or period, time to qualify and to convert,
  over the stored leads (merged leads, which are tombstones, are left out).

**Engagement** of a lead, in time order, is:

* every *done* :class:`~sfakit.model.Activity` whose ``related_to`` is the lead, as
  kind ``<activity kind>_done`` (``call_done``, ``meeting_done`` …) at its
  ``completed_at``, with its ``outcome`` as the detail (open and cancelled activities
  did not happen);
* every :class:`~sfakit.model.Interaction` whose ``related_to`` is the lead, as kind
  ``<channel>_<direction>`` (``email_inbound``, ``call_outbound`` …) at its
  ``occurred_at``, with its ``outcome`` as the detail;
* every event recorded with :meth:`Qualifying.record_engagement` (web visits, email
  opens, webinars …: kinds as the application names them), kept in the lead's stream
  ``lead-engagement:<lead id>``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Final, TypeVar

import attrs
import pluggy

from sfakit.clock import require_aware
from sfakit.codec import from_data, to_data
from sfakit.errors import ConflictError, DuplicateError, NotFoundError, PluginError, ValidationError
from sfakit.events import Event, LeadCaptured, LeadQualified
from sfakit.model import (
    Activity,
    ActivityStatus,
    Interaction,
    Lead,
    LeadStatus,
    Opportunity,
    Setting,
    setting_id,
)
from sfakit.model.base import fix_offsets
from sfakit.model.checks import (
    aware_datetime,
    instance_of,
    non_negative_int,
    optional,
    text,
    to_decimal,
    to_tuple,
)
from sfakit.pipeline import PipelineSet, Window
from sfakit.plugins import call_each
from sfakit.qualification import (
    CompiledScorecard,
    ConversionTable,
    Engagement,
    LeadOutcome,
    LeadTimes,
    LeadVerdict,
    Period,
    PhoneParsing,
    Prediction,
    PredictiveModel,
    Scorecard,
    ScoreResult,
    ScoreSubject,
    WindowOn,
    capture_lead,
    conversion_by,
    normalise_country,
    normalise_email,
    normalise_phone,
    normalise_text,
    time_to_convert,
    time_to_qualify,
    train_model,
)
from sfakit.rules import Criteria
from sfakit.service.outbox import emit
from sfakit.service.settings import load_setting, store_setting
from sfakit.storage.api import In, IsNull, Range, Storage, StreamEntry, Transaction, Where
from sfakit.storage.catalog import kind_spec
from sfakit.storage.common import every_page

__all__ = [
    "ENRICHABLE_FIELDS",
    "LEAD_MODEL",
    "LEAD_SCORECARD",
    "EnrichmentPolicy",
    "EnrichmentProposal",
    "EnrichmentRecord",
    "EnrichmentResult",
    "LeadModel",
    "Qualifying",
    "ScoredLead",
    "SkippedProposal",
    "engagement_stream",
    "enrichment_stream",
]

T = TypeVar("T")

#: The setting that holds the lead scorecard.
LEAD_SCORECARD: Final = "lead-scorecard"
#: The setting that holds the trained predictive model (a :class:`LeadModel`).
LEAD_MODEL: Final = "lead-model"
#: How often an operation that recomputes derived values is retried on a conflict.
QUALIFYING_RETRIES: Final = 20
#: The idempotency-key namespace of captures.
CAPTURE_KEYS: Final = "lead-capture"
#: Statuses a batch scores by default: leads still being worked.
SCORED_STATUSES: Final = (
    LeadStatus.NEW,
    LeadStatus.WORKING,
    LeadStatus.NURTURING,
    LeadStatus.QUALIFIED,
)
#: Statuses from which a qualified verdict moves a lead to ``qualified``.
_QUALIFIABLE: Final = (LeadStatus.NEW, LeadStatus.WORKING, LeadStatus.NURTURING)
#: Lead fields a plugin may propose values for.
ENRICHABLE_FIELDS: Final = (
    "first_name",
    "last_name",
    "company",
    "title",
    "email",
    "phone",
    "country",
    "region",
    "postal_code",
    "city",
    "industry",
    "company_size",
    "product_interest",
    "language",
)
# Fields set by the outcome itself: a model learning from them would only learn that.
_LEAKING_FIELDS: Final = frozenset(
    {
        "status",
        "disqualification_reason",
        "converted_at",
        "converted_account_id",
        "converted_contact_id",
        "converted_opportunity_id",
        "merged_into_id",
        "qualified_at",
        "id",
        "version",
        "created_at",
        "updated_at",
    }
)
_PAGE: Final = 1000
_MICROSECOND: Final = timedelta(microseconds=1)


def engagement_stream(lead_id: str) -> str:
    """The stream of engagement recorded for a lead.

    >>> engagement_stream("lead_01")
    'lead-engagement:lead_01'
    """
    return f"lead-engagement:{lead_id}"


def enrichment_stream(lead_id: str) -> str:
    """The stream of values enrichment applied to a lead (its provenance).

    >>> enrichment_stream("lead_01")
    'lead-enrichment:lead_01'
    """
    return f"lead-enrichment:{lead_id}"


# -- enrichment data --------------------------------------------------------------------


class EnrichmentPolicy(enum.StrEnum):
    """When a proposed value may replace the lead's value.

    * ``fill_empty`` (the default): only empty fields are filled; nothing is overwritten.
    * ``overwrite_if_more_confident``: a value is replaced when the proposal is more
      confident than the value's own recorded enrichment; a value not set by enrichment
      (typed by a person, captured from a form) counts as certain (confidence 1), so it
      is never replaced under this policy.
    * ``overwrite``: the most confident proposal replaces any value.

    >>> EnrichmentPolicy("fill_empty") is EnrichmentPolicy.FILL_EMPTY
    True
    """

    FILL_EMPTY = "fill_empty"
    OVERWRITE_IF_MORE_CONFIDENT = "overwrite_if_more_confident"
    OVERWRITE = "overwrite"


EnrichmentValue = str | int | tuple[str, ...]


def _enrichable(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value not in ENRICHABLE_FIELDS:
        raise ValidationError(
            "$.field", value, f"a Lead field enrichment may fill: {', '.join(ENRICHABLE_FIELDS)}"
        )


def _proposal_value(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, str) and value.strip():
        return
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return
    if isinstance(value, tuple) and value and all(isinstance(v, str) for v in value):
        return
    raise ValidationError(
        "$.value", value, "a non-blank string, a whole number >= 0 or a non-empty list of strings"
    )


def _confidence(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or not 0 <= value <= 1:
        raise ValidationError(
            f"$.{attribute.name}", value, "a Decimal from 0 to 1 (an int or numeric string)"
        )


@attrs.frozen(kw_only=True)
class EnrichmentProposal:
    """A value a plugin proposes for one field of a lead: how sure it is
    (``confidence`` from 0 to 1, a Decimal) and where the value came from (``source``,
    and optionally a ``reference`` such as a register number or a URL).

    >>> p = EnrichmentProposal(field="industry", value="hospitality", confidence="0.8",
    ...                        source="company-register")
    >>> p.confidence
    Decimal('0.8')
    """

    field: str = attrs.field(validator=_enrichable)
    value: EnrichmentValue = attrs.field(converter=to_tuple, validator=_proposal_value)
    confidence: Decimal = attrs.field(converter=to_decimal, validator=_confidence)
    source: str = attrs.field(validator=text(max_length=200))
    reference: str | None = attrs.field(default=None, validator=optional(text(max_length=1000)))


@attrs.frozen(kw_only=True)
class EnrichmentRecord:
    """One value enrichment applied: which lead and field, the ``old`` and ``new``
    value, the ``confidence``, the ``plugin`` that proposed it and its ``source`` and
    ``reference``, the ``policy`` it was applied under, when (``at``), and the lead's
    version after the change."""

    lead_id: str
    field: str
    old: EnrichmentValue | None
    new: EnrichmentValue
    confidence: Decimal
    plugin: str
    source: str
    reference: str | None
    policy: EnrichmentPolicy
    at: datetime
    lead_version: int


@attrs.frozen(kw_only=True)
class SkippedProposal:
    """A proposal that was not applied, and why (``reason``)."""

    plugin: str
    proposal: EnrichmentProposal
    reason: str


@attrs.frozen(kw_only=True)
class EnrichmentResult:
    """What :meth:`Qualifying.enrich_lead` did: the ``lead`` as stored afterwards, the
    values ``applied`` (also recorded in its enrichment stream) and every proposal
    ``skipped``, with why."""

    lead: Lead
    applied: tuple[EnrichmentRecord, ...]
    skipped: tuple[SkippedProposal, ...]


# -- scoring and model data -------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ScoredLead:
    """One lead of a batch: its ``result``; whether the score was ``saved`` on the lead
    (not when the lead holds a score of a later moment) and whether this scoring
    ``qualified`` it (status ``qualified``, one ``LeadQualified`` event)."""

    lead_id: str
    result: ScoreResult
    saved: bool
    qualified: bool


@attrs.frozen(kw_only=True)
class LeadModel:
    """The stored predictive model: the :class:`~sfakit.qualification.PredictiveModel`,
    the Lead field whose value names a lead's team (``team_field``, None: one model for
    all), when it was trained, and how many closed leads had no known outcome yet
    (``unresolved``: converted without an opportunity, or with one still open).

    It is plain data and round-trips through :func:`sfakit.codec.to_json`."""

    model: PredictiveModel = attrs.field(validator=instance_of(PredictiveModel, "a model"))
    team_field: str | None = attrs.field(validator=optional(text(max_length=100)))
    trained_at: datetime = attrs.field(validator=aware_datetime)
    unresolved: int = attrs.field(default=0, validator=non_negative_int)

    def __attrs_post_init__(self) -> None:
        fix_offsets(self)


# -- small helpers ----------------------------------------------------------------------


def _read_all(tx: Transaction, stream: str) -> list[StreamEntry]:
    entries: list[StreamEntry] = []
    while True:
        page = tx.read(stream, after=entries[-1].position if entries else 0, limit=_PAGE)
        entries.extend(page)
        if len(page) < _PAGE:
            return entries


def _lead_id(value: object, path: str = "$.lead_id") -> str:
    if not isinstance(value, str) or not value:
        raise ValidationError(path, value, "a lead id")
    return value


def _not_merged(lead: Lead, path: str = "$.lead_id") -> None:
    if lead.merged_into_id is not None:
        raise ValidationError(
            path, lead.id, f"a lead that is not merged (it was merged into {lead.merged_into_id})"
        )


def _load(setting: Setting, kind: type[T]) -> T:
    return load_setting(setting, kind)[0]


def _expected_version(value: object) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
        return value
    raise ValidationError(
        "$.expected_version", value, "None (create) or the version read (a whole number >= 1)"
    )


def _check_batch_size(batch_size: object) -> int:
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValidationError("$.batch_size", batch_size, "a whole number of at least 1")
    return batch_size


def _engagement_order(event: Engagement) -> tuple[datetime, str, str]:
    return (event.at, event.kind, event.detail or "")


def _activity_engagement(activity: Activity) -> Engagement | None:
    if activity.status is not ActivityStatus.DONE or activity.completed_at is None:
        return None
    return Engagement(
        kind=f"{activity.kind.value}_done", at=activity.completed_at, detail=activity.outcome
    )


def _interaction_engagement(interaction: Interaction) -> Engagement:
    return Engagement(
        kind=f"{interaction.channel.value}_{interaction.direction.value}",
        at=interaction.occurred_at,
        detail=interaction.outcome,
    )


def _interactions_about(tx: Transaction, lead_ids: Sequence[str]) -> list[Interaction]:
    wanted = frozenset(lead_ids)
    if any(ix.field == "related_to" for ix in kind_spec(Interaction).indexes):
        return every_page(tx, Interaction, where={"related_to": In(tuple(wanted))})
    # Interaction.related_to is not indexed: the only complete answer is a full read.
    return [i for i in every_page(tx, Interaction) if i.related_to in wanted]


def _engagements(tx: Transaction, lead_ids: Sequence[str]) -> dict[str, list[Engagement]]:
    found: dict[str, list[Engagement]] = {lead_id: [] for lead_id in lead_ids}
    for start in range(0, len(lead_ids), _PAGE):
        chunk = tuple(lead_ids[start : start + _PAGE])
        done = every_page(
            tx, Activity, where={"related_to": In(chunk), "status": ActivityStatus.DONE}
        )
        for activity in done:
            event = _activity_engagement(activity)
            if event is not None and activity.related_to in found:
                found[activity.related_to].append(event)
    for interaction in _interactions_about(tx, lead_ids):
        if interaction.related_to in found:
            found[interaction.related_to].append(_interaction_engagement(interaction))
    for lead_id, events in found.items():
        for entry in _read_all(tx, engagement_stream(lead_id)):
            events.append(from_data(Engagement, entry.data))
        events.sort(key=_engagement_order)
    return found


def _uses_engagement(scorer: CompiledScorecard) -> bool:
    card = scorer.scorecard
    rules = [rule.subject for group in card.groups for rule in group.rules]
    stops = [disqualifier.subject for disqualifier in card.disqualifiers]
    return ScoreSubject.ENGAGEMENT in rules + stops


def _score_int(score: Decimal) -> int:
    return int(score.to_integral_value(rounding=ROUND_HALF_EVEN))


def _is_empty(value: object) -> bool:
    return value is None or value in ("", ())


def _plain(value: object) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _unplain(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _record_data(record: EnrichmentRecord) -> dict[str, Any]:
    return {
        "field": record.field,
        "old": _plain(record.old),
        "new": _plain(record.new),
        "confidence": str(record.confidence),
        "plugin": record.plugin,
        "source": record.source,
        "reference": record.reference,
        "policy": record.policy.value,
        "lead_version": record.lead_version,
    }


def _record(lead_id: str, entry: StreamEntry) -> EnrichmentRecord:
    data = entry.data
    return EnrichmentRecord(
        lead_id=lead_id,
        field=str(data["field"]),
        old=_unplain(data["old"]),
        new=_unplain(data["new"]),
        confidence=Decimal(str(data["confidence"])),
        plugin=str(data["plugin"]),
        source=str(data["source"]),
        reference=data["reference"],
        policy=EnrichmentPolicy(data["policy"]),
        at=entry.recorded_at,
        lead_version=int(data["lead_version"]),
    )


def _policy(value: object) -> EnrichmentPolicy:
    if isinstance(value, EnrichmentPolicy):
        return value
    for policy in EnrichmentPolicy:
        if policy.value == value:
            return policy
    allowed = ", ".join(p.value for p in EnrichmentPolicy)
    raise ValidationError("$.policy", value, f"an EnrichmentPolicy: one of {allowed}")


def _normalised(lead: Lead, proposal: EnrichmentProposal) -> EnrichmentValue:
    """The proposal's value as capture would store it; ValidationError if it is not
    valid for the field."""
    name, value = proposal.field, proposal.value
    path = f"$.{name}"
    if name == "company_size":
        if not isinstance(value, int):
            raise ValidationError(path, value, "a whole number of employees")
        result: EnrichmentValue = value
    elif name == "product_interest":
        if not isinstance(value, tuple):
            raise ValidationError(path, value, "a list of product names")
        items = (normalise_text(item) for item in value)
        result = tuple(dict.fromkeys(item for item in items if item))
    elif not isinstance(value, str):
        raise ValidationError(path, value, "a string")
    elif name == "email":
        result = normalise_email(value, path)
    elif name == "country":
        result = normalise_country(value, path)
    elif name == "phone":
        result = normalise_phone(value, lead.country, path=path)
    else:
        cleaned = normalise_text(value)
        result = cleaned.upper() if cleaned and name == "postal_code" else cleaned or ""
    lead.evolve(**{name: result})  # the model's own validators have the last word
    return result


def _proposals(
    lead: Lead, answers: Iterable[tuple[str, Any]]
) -> list[tuple[str, EnrichmentProposal, EnrichmentValue]]:
    hook = "sfakit_enrich_lead"
    found: list[tuple[str, EnrichmentProposal, EnrichmentValue]] = []
    for plugin, answer in answers:
        if answer is None:
            continue
        if not isinstance(answer, list | tuple):
            raise PluginError(
                f"plugin {plugin!r} returned {answer!r} from {hook}; expected a list of "
                "EnrichmentProposal",
                plugin=plugin,
                hook=hook,
            )
        for proposal in answer:
            if not isinstance(proposal, EnrichmentProposal):
                raise PluginError(
                    f"plugin {plugin!r} returned {proposal!r} from {hook}, which is not an "
                    "EnrichmentProposal",
                    plugin=plugin,
                    hook=hook,
                )
            try:
                value = _normalised(lead, proposal)
            except ValidationError as err:
                raise PluginError(
                    f"plugin {plugin!r} proposed an invalid value in {hook}: {err}",
                    plugin=plugin,
                    hook=hook,
                ) from err
            found.append((plugin, proposal, value))
    return found


def _known_confidence(lead: Lead, history: Sequence[EnrichmentRecord]) -> dict[str, Decimal]:
    """The confidence of each current value that enrichment set (and nobody changed)."""
    known: dict[str, Decimal] = {}
    for record in history:
        if getattr(lead, record.field) == record.new:
            known[record.field] = record.confidence
        else:
            known.pop(record.field, None)
    return known


# -- the mixin --------------------------------------------------------------------------


class Qualifying:
    """Mixed into :class:`~sfakit.Sfa`: capture, scoring, prediction, enrichment and
    lead analytics. Needs ``storage``, ``pipelines``, ``plugins`` and ``now``."""

    storage: Storage
    pipelines: PipelineSet
    plugins: pluggy.PluginManager
    now: Callable[[], datetime]

    def _lead_retry(self, operation: Callable[[Transaction], T]) -> T:
        for attempt in range(QUALIFYING_RETRIES):
            try:
                with self.storage.transaction() as tx:
                    return operation(tx)
            except ConflictError:
                if attempt == QUALIFYING_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _lead_cached(self, setting: Setting, build: Callable[[Setting], T]) -> T:
        # Parsed (and compiled) settings are reused while their stored text is the same.
        cache: dict[str, tuple[str, Any]] = self.__dict__.setdefault("_qualifying_cache", {})
        hit = cache.get(setting.name)
        if hit is not None and hit[0] == setting.data:
            value: T = hit[1]
            return value
        value = build(setting)
        cache[setting.name] = (setting.data, value)
        return value

    # -- capture --------------------------------------------------------------------

    def capture(
        self,
        raw: Mapping[str, str | None],
        *,
        lenient: bool = False,
        source: str | None = None,
        default_region: str | None = None,
        phone_parsing: PhoneParsing = PhoneParsing.AUTO,
        ignore: Iterable[str] = (),
        idempotency_key: str | None = None,
    ) -> Lead:
        """Capture a lead from ``raw`` (a web form's or CSV row's fields), store it and
        emit ``LeadCaptured``; returns the stored lead.

        Strict capture raises one ValidationError naming every bad field; lenient capture
        (``lenient=True``) keeps invalid values as the lead's ``quality_issues``.
        ``source`` is used when the input names no source. A lead captured as
        ``qualified`` gets ``qualified_at`` and a ``LeadQualified`` event too. A second
        capture with the same ``idempotency_key`` stores nothing and returns the first
        lead (a form submitted twice).
        """
        if not isinstance(raw, Mapping):
            raise ValidationError("$.raw", raw, "a mapping of field or column names to strings")
        origin = None
        if source is not None:
            origin = normalise_text(source) if isinstance(source, str) else None
            if origin is None or len(origin) > 200:
                raise ValidationError("$.source", source, "a source name of 1-200 characters")
        if idempotency_key is not None and (
            not isinstance(idempotency_key, str) or not 0 < len(idempotency_key) <= 500
        ):
            raise ValidationError(
                "$.idempotency_key", idempotency_key, "a non-empty string of at most 500 characters"
            )
        now = self.now()
        lead = capture_lead(
            raw,
            created_at=now,
            lenient=lenient,
            default_region=default_region,
            phone_parsing=phone_parsing,
            ignore=ignore,
        )
        changes: dict[str, Any] = {"updated_at": now}
        if origin is not None and lead.source is None:
            changes["source"] = origin
        if lead.status is LeadStatus.QUALIFIED:
            changes["qualified_at"] = now
        lead = lead.evolve(**changes)

        def operation(tx: Transaction) -> Lead:
            if idempotency_key is not None:
                first = tx.key_value(CAPTURE_KEYS, idempotency_key)
                if first is not None:
                    return tx.get(Lead, first)
                tx.claim_key(CAPTURE_KEYS, idempotency_key, lead.id)
            stored = tx.insert(lead)
            events: list[Event] = [
                LeadCaptured(lead_id=stored.id, source=stored.source, occurred_at=now)
            ]
            if stored.status is LeadStatus.QUALIFIED:
                events.append(LeadQualified(lead_id=stored.id, occurred_at=now))
            emit(tx, events)
            return stored

        for attempt in range(QUALIFYING_RETRIES):
            try:
                with self.storage.transaction() as tx:
                    return operation(tx)
            except DuplicateError:
                # Another capture with the same key won the race: the next try finds it.
                if idempotency_key is None or attempt == QUALIFYING_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    # -- the scorecard and engagement -----------------------------------------------

    def set_lead_scorecard(self, scorecard: Scorecard, *, expected_version: int | None) -> int:
        """Store the lead scorecard (setting ``lead-scorecard``); returns its new version.
        ``expected_version`` None creates it (DuplicateError if there is one), otherwise it
        must be the version read (ConflictError if not)."""
        if not isinstance(scorecard, Scorecard):
            raise ValidationError("$.scorecard", scorecard, "a Scorecard")
        expected = _expected_version(expected_version)
        with self.storage.transaction() as tx:
            return store_setting(tx, LEAD_SCORECARD, scorecard, expected, self.now()).version

    def lead_scorecard(self) -> tuple[Scorecard, int]:
        """The stored lead scorecard and its version (NotFoundError before
        :meth:`set_lead_scorecard`)."""
        with self.storage.transaction(readonly=True) as tx:
            setting = self._lead_setting(tx, LEAD_SCORECARD)
        return _load(setting, Scorecard), setting.version

    def _lead_setting(self, tx: Transaction, name: str) -> Setting:
        found = tx.find(Setting, setting_id(name))
        if found is None:
            raise NotFoundError("Setting", name, field="name")
        return found

    def _lead_scorer(self, tx: Transaction) -> CompiledScorecard:
        setting = self._lead_setting(tx, LEAD_SCORECARD)
        return self._lead_cached(setting, lambda s: _load(s, Scorecard).compile())

    def record_engagement(
        self, lead_id: str, kind: str, *, at: datetime | None = None, detail: str | None = None
    ) -> Engagement:
        """Record something the lead did (``page_view``, ``email_open``,
        ``webinar_attended`` …, with an optional ``detail``) at ``at`` (default now, never
        later), in its engagement stream, for scoring."""
        now = self.now()
        moment = now if at is None else require_aware(at, "$.at")
        if moment > now:
            raise ValidationError("$.at", at, f"a moment at or before now ({now.isoformat()})")
        event = Engagement(kind=kind, at=moment, detail=detail)
        with self.storage.transaction() as tx:
            lead = tx.get(Lead, _lead_id(lead_id))
            _not_merged(lead)
            tx.append(engagement_stream(lead.id), to_data(event), at=now)
        return event

    def lead_engagements(self, lead_id: str) -> list[Engagement]:
        """The lead's engagement as scoring sees it, oldest first (see the module doc)."""
        with self.storage.transaction(readonly=True) as tx:
            lead = tx.get(Lead, _lead_id(lead_id))
            return _engagements(tx, [lead.id])[lead.id]

    # -- scoring --------------------------------------------------------------------

    def _lead_as_of(self, as_of: object) -> datetime:
        now = self.now()
        if as_of is None:
            return now
        moment = require_aware(as_of, "$.as_of")
        if moment > now:
            raise ValidationError(
                "$.as_of",
                as_of,
                f"a moment at or before now ({now.isoformat()}): the score is saved on the lead",
            )
        return moment

    def score_lead(self, lead_id: str, *, as_of: datetime | None = None) -> ScoreResult:
        """Score the lead with the stored scorecard and its engagement as of ``as_of``
        (default now; never later) and save ``score``, ``grade`` and ``scored_at`` — unless
        the lead holds a score of a later moment. A lead never qualified before, in status
        new, working or nurturing, whose verdict is qualified moves to ``qualified`` with
        ``qualified_at`` = ``as_of`` and one ``LeadQualified`` event. Returns the explained
        result; the same ``as_of`` and data always give the same result."""
        moment = self._lead_as_of(as_of)
        return self._score_batch([_lead_id(lead_id)], moment, traces=True)[0].result

    def score_leads(
        self,
        lead_ids: Iterable[str] | None = None,
        *,
        as_of: datetime | None = None,
        statuses: Iterable[LeadStatus] = SCORED_STATUSES,
        batch_size: int = 200,
        traces: bool = False,
    ) -> list[ScoredLead]:
        """Score many leads as :meth:`score_lead` does, ``batch_size`` per transaction:
        the leads given, or every lead in ``statuses`` (open ones by default) that is not
        merged and existed at ``as_of``, oldest first. ``traces=True`` keeps the criteria
        traces in the results."""
        moment = self._lead_as_of(as_of)
        size = _check_batch_size(batch_size)
        scored: list[ScoredLead] = []
        if lead_ids is not None:
            if isinstance(lead_ids, str):
                raise ValidationError("$.lead_ids", lead_ids, "a list of lead ids")
            ids = list(
                dict.fromkeys(_lead_id(i, f"$.lead_ids[{n}]") for n, i in enumerate(lead_ids))
            )
            for start in range(0, len(ids), size):
                scored += self._score_batch(ids[start : start + size], moment, traces=traces)
            return scored
        wanted = tuple(statuses)
        for index, status in enumerate(wanted):
            if not isinstance(status, LeadStatus):
                raise ValidationError(f"$.statuses[{index}]", status, "a LeadStatus")
        where: Where = {
            "status": In(wanted),
            "merged_into_id": IsNull(),
            "created_at": Range(high=moment + _MICROSECOND),
        }
        cursor = None
        while True:
            with self.storage.transaction(readonly=True) as tx:
                page = tx.query(Lead, where=where, order_by="created_at", limit=size, cursor=cursor)
            if page.items:
                scored += self._score_batch([lead.id for lead in page.items], moment, traces=traces)
            if page.next_cursor is None:
                return scored
            cursor = page.next_cursor

    def _score_batch(
        self, lead_ids: Sequence[str], as_of: datetime, *, traces: bool
    ) -> list[ScoredLead]:
        def operation(tx: Transaction) -> list[ScoredLead]:
            scorer = self._lead_scorer(tx)
            now = self.now()
            leads = [tx.get(Lead, lead_id) for lead_id in lead_ids]
            for index, lead in enumerate(leads):
                path = "$.lead_id" if len(leads) == 1 else f"$.lead_ids[{index}]"
                _not_merged(lead, path)
                if as_of < lead.created_at:
                    raise ValidationError(
                        "$.as_of",
                        as_of,
                        f"a moment at or after lead {lead.id}'s created_at "
                        f"({lead.created_at.isoformat()})",
                    )
            engagement = _engagements(tx, lead_ids) if _uses_engagement(scorer) else {}
            results: list[ScoredLead] = []
            events: list[Event] = []
            for lead in leads:
                result = scorer.score(lead, engagement.get(lead.id, ()), as_of=as_of, traces=traces)
                saved = lead.scored_at is None or as_of >= lead.scored_at
                qualified = (
                    saved
                    and result.verdict is LeadVerdict.QUALIFIED
                    and lead.status in _QUALIFIABLE
                    and lead.qualified_at is None
                )
                if saved:
                    changes: dict[str, Any] = {
                        "score": result.score,
                        "grade": result.grade,
                        "scored_at": as_of,
                        "updated_at": max(now, lead.updated_at),
                    }
                    if qualified:
                        changes.update(status=LeadStatus.QUALIFIED, qualified_at=as_of)
                        events.append(
                            LeadQualified(
                                lead_id=lead.id, score=_score_int(result.score), occurred_at=as_of
                            )
                        )
                    tx.update(lead.evolve(**changes))
                results.append(
                    ScoredLead(lead_id=lead.id, result=result, saved=saved, qualified=qualified)
                )
            if events:
                emit(tx, events)
            return results

        return self._lead_retry(operation)

    # -- prediction -----------------------------------------------------------------

    def train_lead_model(
        self,
        *,
        fields: Iterable[str],
        team_field: str | None = "territory_key",
        min_team_examples: int = 50,
        smoothing: Decimal | int | str = 1,
    ) -> LeadModel:
        """Train the naive-Bayes model on the stored outcomes and store it as the setting
        ``lead-model`` (replacing the one there); returns it.

        A converted lead whose opportunity is won is *won*; a disqualified lead, or a
        converted one whose opportunity is lost, is *lost*; a converted lead without an
        opportunity or with an open one is counted as ``unresolved``; merged leads are
        left out. ``team_field`` names the Lead field whose value is a lead's team (the
        territory by default; None for one model for all). ``fields`` may not include
        fields the outcome sets (status, disqualification_reason, converted_* …)."""
        names = self._lead_model_fields(fields)
        if team_field is not None and (
            team_field not in attrs.fields_dict(Lead) or team_field in _LEAKING_FIELDS
        ):
            raise ValidationError(
                "$.team_field", team_field, "None or a Lead field naming the lead's team"
            )
        examples: list[tuple[Lead, LeadOutcome, str | None]] = []
        unresolved = 0
        with self.storage.transaction(readonly=True) as tx:
            closed = every_page(
                tx,
                Lead,
                where={
                    "status": In((LeadStatus.CONVERTED, LeadStatus.DISQUALIFIED)),
                    "merged_into_id": IsNull(),
                },
            )
            deals = self._lead_deals(
                tx,
                [lead.converted_opportunity_id for lead in closed if lead.converted_opportunity_id],
            )
        for lead in closed:
            outcome = self._lead_outcome(lead, deals)
            if outcome is None:
                unresolved += 1
            else:
                examples.append((lead, outcome, _team(lead, team_field)))
        try:
            model = train_model(
                examples,
                fields=names,
                smoothing=smoothing,
                min_team_examples=min_team_examples,
            )
        except ValidationError as err:
            if err.path == "$.examples":
                raise ValidationError(
                    "$.examples",
                    f"{err.value} ({unresolved} unresolved)",
                    "stored history with at least one won and one lost lead",
                ) from None
            raise
        trained = LeadModel(
            model=model, team_field=team_field, trained_at=self.now(), unresolved=unresolved
        )

        def operation(tx: Transaction) -> None:
            current = tx.find(Setting, setting_id(LEAD_MODEL))
            version = None if current is None else current.version
            store_setting(tx, LEAD_MODEL, trained, version, trained.trained_at)

        for attempt in range(QUALIFYING_RETRIES):
            try:
                self._lead_retry(operation)
                return trained
            except DuplicateError:
                if attempt == QUALIFYING_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _lead_model_fields(fields: Iterable[str]) -> tuple[str, ...]:
        if isinstance(fields, str):
            raise ValidationError("$.fields", fields, "a list of field names")
        names = tuple(fields)
        for index, name in enumerate(names):
            if name in _LEAKING_FIELDS:
                raise ValidationError(
                    f"$.fields[{index}]",
                    name,
                    "a field the outcome does not set (status, disqualification_reason, "
                    "converted_*, qualified_at, ids and timestamps give the answer away)",
                )
        return names

    def _lead_deals(self, tx: Transaction, ids: Sequence[str]) -> dict[str, Opportunity]:
        found: dict[str, Opportunity] = {}
        unique = sorted(set(ids))
        for start in range(0, len(unique), _PAGE):
            chunk = tuple(unique[start : start + _PAGE])
            for deal in every_page(tx, Opportunity, where={"id": In(chunk)}):
                found[deal.id] = deal
        return found

    def _lead_outcome(self, lead: Lead, deals: Mapping[str, Opportunity]) -> LeadOutcome | None:
        if lead.status is LeadStatus.DISQUALIFIED:
            return LeadOutcome.LOST
        deal = deals.get(lead.converted_opportunity_id or "")
        if deal is None or deal.pipeline not in self.pipelines:
            return None  # deleted, or in a pipeline this service does not know
        pipeline = self.pipelines.get(deal.pipeline)
        if deal.stage not in {s.key for s in pipeline.stages}:
            return None
        stage = pipeline.stage(deal.stage)
        if stage.is_won:
            return LeadOutcome.WON
        return LeadOutcome.LOST if stage.is_lost else None

    def lead_model(self) -> LeadModel:
        """The stored predictive model (NotFoundError before :meth:`train_lead_model`)."""
        with self.storage.transaction(readonly=True) as tx:
            setting = self._lead_setting(tx, LEAD_MODEL)
        return self._lead_cached(setting, lambda s: _load(s, LeadModel))

    def predict_lead(self, lead_id: str) -> Prediction:
        """The stored model's probability that the lead is won, with its factors (the
        lead's team model when its team has enough history, else the global one)."""
        with self.storage.transaction(readonly=True) as tx:
            lead = tx.get(Lead, _lead_id(lead_id))
            setting = self._lead_setting(tx, LEAD_MODEL)
        trained = self._lead_cached(setting, lambda s: _load(s, LeadModel))
        return trained.model.predict(lead, team=_team(lead, trained.team_field))

    # -- enrichment -----------------------------------------------------------------

    def enrich_lead(
        self,
        lead_id: str,
        *,
        policy: EnrichmentPolicy | str = EnrichmentPolicy.FILL_EMPTY,
        min_confidence: Decimal | int | str = 0,
        expected_version: int | None = None,
    ) -> EnrichmentResult:
        """Ask every ``sfakit_enrich_lead`` plugin for values and apply, per field, the
        most confident proposal (the first plugin's on a tie) that ``policy`` allows and
        that is at least ``min_confidence``; every applied value is recorded in the lead's
        enrichment stream. A plugin that fails or proposes an invalid value is a
        PluginError naming it, and nothing is applied.

        Plugins are called outside any transaction; the policy is then applied to the
        lead as stored at that moment, so a value someone typed meanwhile is never lost.
        With ``expected_version``, the lead must still be at that version (else
        ConflictError, nothing applied)."""
        chosen = _policy(policy)
        threshold = to_decimal(min_confidence)
        if (
            not isinstance(threshold, Decimal)
            or not threshold.is_finite()
            or not 0 <= threshold <= 1
        ):
            raise ValidationError("$.min_confidence", min_confidence, "a Decimal from 0 to 1")
        if expected_version is not None:
            _expected_version(expected_version)
        with self.storage.transaction(readonly=True) as tx:
            lead = tx.get(Lead, _lead_id(lead_id))
        _not_merged(lead)
        _check_version(lead, expected_version)
        proposals = _proposals(lead, call_each(self.plugins, "sfakit_enrich_lead", lead=lead))

        def operation(tx: Transaction) -> EnrichmentResult:
            current = tx.get(Lead, lead.id)
            _not_merged(current)
            _check_version(current, expected_version)
            stream = enrichment_stream(current.id)
            history = [_record(current.id, e) for e in _read_all(tx, stream)]
            changes, picked, skipped = _decide(
                current, proposals, chosen, threshold, _known_confidence(current, history)
            )
            if not changes:
                return EnrichmentResult(lead=current, applied=(), skipped=tuple(skipped))
            now = self.now()
            stored = tx.update(current.evolve(updated_at=max(now, current.updated_at), **changes))
            applied = tuple(
                EnrichmentRecord(
                    lead_id=stored.id,
                    field=proposal.field,
                    old=getattr(current, proposal.field),
                    new=value,
                    confidence=proposal.confidence,
                    plugin=plugin,
                    source=proposal.source,
                    reference=proposal.reference,
                    policy=chosen,
                    at=now,
                    lead_version=stored.version,
                )
                for plugin, proposal, value in picked
            )
            tx.append_many(stream, [(_record_data(record), now) for record in applied])
            return EnrichmentResult(lead=stored, applied=applied, skipped=tuple(skipped))

        return self._lead_retry(operation)

    def enrichment_history(self, lead_id: str) -> list[EnrichmentRecord]:
        """Every value enrichment applied to the lead, oldest first: the provenance of
        its enriched fields."""
        with self.storage.transaction(readonly=True) as tx:
            lead = tx.get(Lead, _lead_id(lead_id))
            return [_record(lead.id, e) for e in _read_all(tx, enrichment_stream(lead.id))]

    # -- analytics ------------------------------------------------------------------

    def _unmerged_leads(self, window: Window | None) -> list[Lead]:
        if window is not None and not isinstance(window, Window):
            raise ValidationError("$.window", window, "a Window (sfakit.pipeline.Window) or None")
        where: dict[str, Any] = {"merged_into_id": IsNull()}
        if window is not None and (window.start is not None or window.end is not None):
            where["created_at"] = Range(low=window.start, high=window.end)
        with self.storage.transaction(readonly=True) as tx:
            return every_page(tx, Lead, where=where, order_by="created_at")

    def lead_conversion(
        self,
        by: str | Period,
        *,
        window: Window | None = None,
        where: Criteria | None = None,
        as_of: datetime | None = None,
        zone: str = "UTC",
    ) -> ConversionTable:
        """Conversion of the stored leads created in ``window`` (and matching ``where``)
        per value of the Lead field ``by`` (``source``, ``campaign``, ``region`` …) or per
        :class:`~sfakit.qualification.Period` of creation in ``zone``; see
        :func:`~sfakit.qualification.conversion_by`."""
        leads = self._unmerged_leads(window)
        return conversion_by(leads, by, window=window, where=where, as_of=as_of, zone=zone)

    def lead_time_to_qualify(
        self,
        *,
        window: Window | None = None,
        window_on: WindowOn = WindowOn.REACHED,
        where: Criteria | None = None,
        as_of: datetime | None = None,
    ) -> LeadTimes:
        """Days from creation to ``qualified_at`` of the stored leads; see
        :func:`~sfakit.qualification.time_to_qualify` for ``window`` and ``window_on``."""
        leads = self._unmerged_leads(window if window_on is WindowOn.CREATED else None)
        qualified: dict[str, datetime] = {
            lead.id: lead.qualified_at for lead in leads if lead.qualified_at is not None
        }
        return time_to_qualify(
            leads, qualified, window=window, window_on=window_on, where=where, as_of=as_of
        )

    def lead_time_to_convert(
        self,
        *,
        window: Window | None = None,
        window_on: WindowOn = WindowOn.REACHED,
        where: Criteria | None = None,
        as_of: datetime | None = None,
    ) -> LeadTimes:
        """Days from creation to ``converted_at`` of the stored leads; see
        :func:`~sfakit.qualification.time_to_convert`."""
        leads = self._unmerged_leads(window if window_on is WindowOn.CREATED else None)
        return time_to_convert(leads, window=window, window_on=window_on, where=where, as_of=as_of)


def _team(lead: Lead, team_field: str | None) -> str | None:
    if team_field is None:
        return None
    value = getattr(lead, team_field)
    if isinstance(value, enum.Enum):
        value = value.value
    if value is None or isinstance(value, str):
        return value or None
    raise ValidationError(f"$.{team_field}", value, "a team name (text) or None")


def _check_version(lead: Lead, expected_version: int | None) -> None:
    if expected_version is not None and lead.version != expected_version:
        raise ConflictError(
            "Lead", lead.id, expected_version=expected_version, current_version=lead.version
        )


def _decide(
    lead: Lead,
    proposals: Sequence[tuple[str, EnrichmentProposal, EnrichmentValue]],
    policy: EnrichmentPolicy,
    threshold: Decimal,
    known: Mapping[str, Decimal],
) -> tuple[
    dict[str, EnrichmentValue],
    list[tuple[str, EnrichmentProposal, EnrichmentValue]],
    list[SkippedProposal],
]:
    """Which proposals to apply: per field the most confident one (the first on a tie),
    if the policy lets it replace the current value."""
    skipped: list[SkippedProposal] = []
    best: dict[str, tuple[str, EnrichmentProposal, EnrichmentValue]] = {}
    for plugin, proposal, value in proposals:
        if proposal.confidence < threshold:
            low = f"confidence {proposal.confidence} is below min_confidence {threshold}"
            skipped.append(SkippedProposal(plugin=plugin, proposal=proposal, reason=low))
            continue
        held = best.get(proposal.field)
        if held is None or proposal.confidence > held[1].confidence:
            if held is not None:
                skipped.append(_outbid(held, plugin, proposal))
            best[proposal.field] = (plugin, proposal, value)
        else:
            skipped.append(_outbid((plugin, proposal, value), held[0], held[1]))
    changes: dict[str, EnrichmentValue] = {}
    picked: list[tuple[str, EnrichmentProposal, EnrichmentValue]] = []
    for name in ENRICHABLE_FIELDS:
        if name not in best:
            continue
        plugin, proposal, value = best[name]
        reason = _refusal(getattr(lead, name), value, proposal.confidence, policy, known.get(name))
        if reason is not None:
            skipped.append(SkippedProposal(plugin=plugin, proposal=proposal, reason=reason))
            continue
        changes[name] = value
        picked.append(best[name])
    return changes, picked, skipped


def _outbid(
    loser: tuple[str, EnrichmentProposal, EnrichmentValue],
    plugin: str,
    winner: EnrichmentProposal,
) -> SkippedProposal:
    how = (
        "as confident and answered first"
        if winner.confidence == loser[1].confidence
        else (f"more confident ({winner.confidence})")
    )
    return SkippedProposal(
        plugin=loser[0],
        proposal=loser[1],
        reason=f"plugin {plugin!r} proposed {winner.field} {how}",
    )


def _refusal(
    current: object,
    value: EnrichmentValue,
    confidence: Decimal,
    policy: EnrichmentPolicy,
    known: Decimal | None,
) -> str | None:
    if current == value:
        return "the lead already has this value"
    if _is_empty(current) or policy is EnrichmentPolicy.OVERWRITE:
        return None
    if policy is EnrichmentPolicy.FILL_EMPTY:
        return "the field has a value and the policy is fill_empty"
    if known is None:
        return (
            "the field's value was not set by enrichment, so it counts as certain "
            "(overwrite_if_more_confident never replaces it)"
        )
    if confidence > known:
        return None
    return f"not more confident than the current value's {known}"
