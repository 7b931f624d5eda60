"""Lead qualification: capture and normalisation, rule-based and predictive scoring, and
lead analytics. Pure: frozen attrs objects in, results out; no storage, no clock.

* :mod:`~sfakit.qualification.capture` — :func:`capture_lead` turns a web form or CSV
  row into a valid :class:`~sfakit.model.Lead`, strictly or leniently (invalid values
  kept as :class:`~sfakit.model.DataQualityIssue` s), with :func:`normalise_email`,
  :func:`normalise_phone` (E.164; ``phonenumbers`` when installed, see
  :class:`PhoneParsing`), :func:`normalise_country` (ISO 3166-1 alpha-2) and
  :func:`normalise_text`.
* :mod:`~sfakit.qualification.scorecard` and :mod:`~sfakit.qualification.scoring` — a
  :class:`Scorecard` of :class:`ScoreRule` s in :class:`ScoreGroup` s, with caps, decay
  of :class:`Engagement` points, :class:`Disqualifier` s and :class:`GradeBand` s;
  :meth:`Scorecard.compile` gives a :class:`CompiledScorecard` whose ``score`` explains
  itself in a :class:`ScoreResult`.
* :mod:`~sfakit.qualification.predictive` — :func:`train_model` makes a naive-Bayes
  :class:`PredictiveModel` (Odoo-style, per team with a global fallback) whose
  ``predict`` gives a :class:`Prediction` and its :class:`Factor` s.
* :mod:`~sfakit.qualification.analytics` — :func:`conversion_rate`,
  :func:`conversion_by`, :func:`time_to_qualify`, :func:`time_to_convert`.

>>> from datetime import datetime, timezone
>>> from sfakit.rules import field
>>> t0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
>>> lead = capture_lead({"Company": "Brightside Hotels", "Country": "Germany",
...                      "Employees": "320", "E-mail": "Ops@Brightside.DE"}, created_at=t0)
>>> card = Scorecard(name="inbound", qualify_at=50, groups=[ScoreGroup(name="fit", rules=[
...     ScoreRule(name="dach", points=20, criteria=field("country").isin(["DE", "AT", "CH"])),
...     ScoreRule(name="large", points=40, criteria=field("company_size").ge(250)),
... ])])
>>> result = card.compile().score(lead, as_of=t0)
>>> result.score, result.grade, result.verdict
(Decimal('60.00'), 'B', <LeadVerdict.QUALIFIED: 'qualified'>)
"""

from __future__ import annotations

from sfakit.qualification.analytics import (
    ConversionRate,
    ConversionTable,
    LeadTimes,
    Period,
    WindowOn,
    conversion_by,
    conversion_rate,
    time_to_convert,
    time_to_qualify,
)
from sfakit.qualification.capture import (
    CAPTURED_FIELDS,
    COLUMN_ALIASES,
    capture_lead,
    normalise_text,
)
from sfakit.qualification.countries import COUNTRY_EXPECTED, country_name, normalise_country
from sfakit.qualification.decay import decay_factor, decay_points
from sfakit.qualification.emails import EMAIL_EXPECTED, normalise_email
from sfakit.qualification.engagement import Engagement
from sfakit.qualification.phones import (
    PHONE_EXPECTED,
    PhoneParsing,
    normalise_phone,
    phone_library_available,
)
from sfakit.qualification.predictive import (
    DERIVED_FEATURES,
    Factor,
    FieldFrequencies,
    FrequencyTable,
    LeadOutcome,
    Prediction,
    PredictiveModel,
    ValueFrequency,
    lead_features,
    train_model,
)
from sfakit.qualification.scorecard import (
    DEFAULT_GRADES,
    Disqualifier,
    GradeBand,
    Scorecard,
    ScoreGroup,
    ScoreRule,
    ScoreSubject,
)
from sfakit.qualification.scoring import (
    CompiledScorecard,
    Contribution,
    DisqualifierHit,
    EngagementCredit,
    GroupScore,
    LeadVerdict,
    ScoreResult,
)

__all__ = [
    "CAPTURED_FIELDS",
    "COLUMN_ALIASES",
    "COUNTRY_EXPECTED",
    "DEFAULT_GRADES",
    "DERIVED_FEATURES",
    "EMAIL_EXPECTED",
    "PHONE_EXPECTED",
    "CompiledScorecard",
    "Contribution",
    "ConversionRate",
    "ConversionTable",
    "Disqualifier",
    "DisqualifierHit",
    "Engagement",
    "EngagementCredit",
    "Factor",
    "FieldFrequencies",
    "FrequencyTable",
    "GradeBand",
    "GroupScore",
    "LeadOutcome",
    "LeadTimes",
    "LeadVerdict",
    "Period",
    "PhoneParsing",
    "Prediction",
    "PredictiveModel",
    "ScoreGroup",
    "ScoreResult",
    "ScoreRule",
    "ScoreSubject",
    "Scorecard",
    "ValueFrequency",
    "WindowOn",
    "capture_lead",
    "conversion_by",
    "conversion_rate",
    "country_name",
    "decay_factor",
    "decay_points",
    "lead_features",
    "normalise_country",
    "normalise_email",
    "normalise_phone",
    "normalise_text",
    "phone_library_available",
    "time_to_convert",
    "time_to_qualify",
    "train_model",
]
