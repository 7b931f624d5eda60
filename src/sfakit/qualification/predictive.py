"""Predictive lead scoring: a naive-Bayes model of won and lost history, as in Odoo.

Odoo's predictive lead scoring (``crm.lead.scoring.frequency``) counts, for chosen fields
and per sales team, how often each value occurred on won and on lost leads, and turns
the counts into a probability with naive Bayes. This module does the same, as data:

* :func:`train_model` counts ``(subject, outcome, team)`` examples — a subject is a
  :class:`~sfakit.model.Lead` or a mapping of field names to values — into a
  :class:`FrequencyTable` for all examples and one per team. Counting is
  order-independent: the same examples in any order give an equal model.
* A **team model** is used for a team with at least ``min_team_examples`` examples (50
  by default), at least one won and one lost; any other team, and a lead without a
  team, gets the **global model** (``Prediction.fell_back`` says so). Odoo keeps
  per-team frequencies the same way; the threshold keeps a team with a handful of
  deals from getting wild probabilities.
* :meth:`PredictiveModel.predict` computes, with additive (Laplace) ``smoothing`` a,
  ``P(value | won) = (won count + a) / (field's won total + a * K)`` (K: the values seen
  for the field), likewise for lost, and adds the log-likelihood ratio of each field
  value to the prior log-odds ``ln((won + a) / (lost + a))``. The probability
  ``1 / (1 + e^-logit)`` is clamped to ``[floor, ceiling]`` ([0.01, 0.99] by default,
  as Odoo clamps) and rounded to 4 decimals. A value never seen in training says
  nothing: it is skipped and listed in ``unseen``; a missing value (None) is skipped.
  Multi-valued fields (``product_interest``) count each item, like Odoo's tags.
* Each :class:`Factor` is one field value's log-likelihood ratio (natural log,
  positive towards won), sorted by how much it moved the prediction.

Everything is Decimal arithmetic (``ln`` and ``exp`` are correctly rounded), so a
prediction is the same on every machine; a model round-trips exactly through
:func:`sfakit.codec.to_data` / ``from_data``.

Besides :class:`~sfakit.model.Lead` fields, a lead offers derived features:
``email_state`` and ``phone_state`` (``valid``, ``invalid`` — a data-quality issue was
recorded for it — or ``missing``, as Odoo's email and phone quality features),
``email_domain`` and ``size_band`` (micro/small/medium/large/enterprise from
``company_size``).

>>> examples = [({"source": "referral"}, "won", None)] * 3 + [
...     ({"source": "cold_call"}, "lost", None)] * 3 + [({"source": "referral"}, "lost", None)]
>>> model = train_model(examples, fields=["source"])
>>> prediction = model.predict({"source": "referral"})
>>> prediction.probability, prediction.factors[0].value
(Decimal('0.6575'), 'referral')
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Any, Final

import attrs

from sfakit.errors import Problem, ValidationError
from sfakit.model.checks import (
    instance_of,
    non_negative_int,
    optional,
    text,
    to_decimal,
    to_tuple,
    tuple_of,
)
from sfakit.model.leads import Lead
from sfakit.territory.subject import size_band

__all__ = [
    "DERIVED_FEATURES",
    "Factor",
    "FieldFrequencies",
    "FrequencyTable",
    "LeadOutcome",
    "Prediction",
    "PredictiveModel",
    "ValueFrequency",
    "lead_features",
    "train_model",
]

_CTX: Final = Context(prec=28, rounding=ROUND_HALF_EVEN)
_ONE: Final = Decimal(1)
_PROBABILITY_STEP: Final = Decimal("0.0001")

#: Features computed from a Lead besides its own fields.
DERIVED_FEATURES: Final = ("email_state", "phone_state", "email_domain", "size_band")


class LeadOutcome(enum.StrEnum):
    """How a lead in the training history ended.

    >>> LeadOutcome("won") is LeadOutcome.WON
    True
    """

    WON = "won"
    LOST = "lost"


_name = text(max_length=100)


@attrs.frozen(kw_only=True)
class ValueFrequency:
    """How often one field value occurred on won and on lost examples.

    >>> ValueFrequency(value="referral", won=30, lost=10).won
    30
    """

    value: str = attrs.field(validator=text(max_length=1000, allow_empty=True))
    won: int = attrs.field(validator=non_negative_int)
    lost: int = attrs.field(validator=non_negative_int)


@attrs.frozen(kw_only=True)
class FieldFrequencies:
    """The value counts of one field, sorted by value.

    >>> FieldFrequencies(field="source", values=[ValueFrequency(value="web", won=1, lost=2)]
    ...                  ).values[0].lost
    2
    """

    field: str = attrs.field(validator=_name)
    values: tuple[ValueFrequency, ...] = attrs.field(
        converter=to_tuple, validator=tuple_of(instance_of(ValueFrequency, "a ValueFrequency"))
    )

    def __attrs_post_init__(self) -> None:
        names = [v.value for v in self.values]
        for index in range(1, len(names)):
            if names[index] <= names[index - 1]:
                raise ValidationError(
                    f"$.values[{index}].value",
                    names[index],
                    f"values sorted and unique (after {names[index - 1]!r})",
                )


@attrs.frozen(kw_only=True)
class FrequencyTable:
    """The counts of one model: all examples (``team`` None) or one team's.

    >>> FrequencyTable(team="emea", won=40, lost=60, fields=[]).won
    40
    """

    team: str | None = attrs.field(validator=optional(_name))
    won: int = attrs.field(validator=non_negative_int)
    lost: int = attrs.field(validator=non_negative_int)
    fields: tuple[FieldFrequencies, ...] = attrs.field(
        converter=to_tuple,
        validator=tuple_of(instance_of(FieldFrequencies, "a FieldFrequencies")),
    )

    @property
    def examples(self) -> int:
        """How many examples were counted."""
        return self.won + self.lost


@attrs.frozen(kw_only=True)
class Factor:
    """One field value's evidence: its won and lost counts in the model used and its
    ``weight``, the log-likelihood ratio ``ln(P(value | won) / P(value | lost))``.

    >>> Factor(field="source", value="referral", won=30, lost=10,
    ...        weight=Decimal("0.9")).weight > 0
    True
    """

    field: str
    value: str
    won: int
    lost: int
    weight: Decimal


@attrs.frozen(kw_only=True)
class Prediction:
    """The probability that a lead is won, and why.

    ``team`` is the team asked for, ``model_team`` the team whose model was used (None:
    the global one), ``fell_back`` true when a team was asked for but the global model
    was used. ``won`` and ``lost`` count the examples behind that model; ``prior`` is
    its log-odds, ``logit`` the prior plus every factor's weight, ``probability`` the
    logistic of the logit, clamped and rounded to 4 decimals. ``unseen`` lists
    ``(field, value)`` pairs the model has never seen.

    >>> Prediction(probability=Decimal("0.5"), team=None, model_team=None, fell_back=False,
    ...            won=1, lost=1, prior=Decimal(0), logit=Decimal(0)).probability
    Decimal('0.5')
    """

    probability: Decimal
    team: str | None
    model_team: str | None
    fell_back: bool
    won: int
    lost: int
    prior: Decimal
    logit: Decimal
    factors: tuple[Factor, ...] = ()
    unseen: tuple[tuple[str, str], ...] = ()


# -- features ---------------------------------------------------------------------------


def _scalar(value: object, path: str) -> str:
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | Decimal):
        return str(value)
    raise ValidationError(path, value, "a str, int, bool, Decimal or enum feature value")


def _values(value: object, path: str) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, tuple | list | set | frozenset):
        items = {_scalar(item, f"{path}[{i}]") for i, item in enumerate(value)}
        items.discard("")
        return tuple(sorted(items))
    return (_scalar(value, path),)


def _state(lead: Lead, name: str) -> str:
    if any(issue.field == name for issue in lead.quality_issues):
        return "invalid"
    return "valid" if getattr(lead, name) is not None else "missing"


_LEAD_FIELDS: Final = frozenset(a.name for a in attrs.fields(Lead)) - {"quality_issues"}


def _lead_value(lead: Lead, name: str, path: str) -> object:
    if name == "email_state":
        return _state(lead, "email")
    if name == "phone_state":
        return _state(lead, "phone")
    if name == "email_domain":
        return lead.email.rpartition("@")[2] if lead.email else None
    if name == "size_band":
        return size_band(lead.company_size)
    if name not in _LEAD_FIELDS:
        allowed = ", ".join([*sorted(_LEAD_FIELDS), *DERIVED_FEATURES])
        raise ValidationError(path, name, f"a Lead field or derived feature: {allowed}")
    return getattr(lead, name)


def lead_features(
    subject: Lead | Mapping[str, object], fields: Iterable[str]
) -> dict[str, tuple[str, ...]]:
    """The values of ``fields`` in ``subject`` (a Lead or a mapping), as the model counts
    them: strings, each item of a collection separately, none for a missing value.

    >>> from datetime import datetime, timezone
    >>> lead = Lead(company="Acme", email="anna@acme.example", company_size=120,
    ...             product_interest=("fixtures", "led-bulbs"),
    ...             created_at=datetime(2026, 3, 2, tzinfo=timezone.utc))
    >>> features = lead_features(lead, ["size_band", "email_domain", "product_interest",
    ...                                 "phone_state"])
    >>> features["size_band"], features["email_domain"], features["phone_state"]
    (('medium',), ('acme.example',), ('missing',))
    >>> features["product_interest"]
    ('fixtures', 'led-bulbs')
    """
    features: dict[str, tuple[str, ...]] = {}
    for index, name in enumerate(fields):
        path = f"$.fields[{index}]"
        if isinstance(subject, Lead):
            value = _lead_value(subject, name, path)
        elif isinstance(subject, Mapping):
            value = subject.get(name)
        else:
            raise ValidationError("$.subject", subject, "a Lead or a mapping of field values")
        features[name] = _values(value, f"$.{name}")
    return features


# -- the model --------------------------------------------------------------------------


def _probability(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or not 0 < value < 1:
        raise ValidationError(f"$.{attribute.name}", value, "a Decimal between 0 and 1 (exclusive)")


def _positive(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        raise ValidationError(f"$.{attribute.name}", value, "a positive Decimal (1 for Laplace)")


def _at_least_one(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    non_negative_int(instance, attribute, value)
    if value < 1:
        raise ValidationError(f"$.{attribute.name}", value, "a whole number >= 1")


_Counts = dict[str, tuple[int, int]]
# Per field: value -> (won, lost), the won and lost totals, and how many values.
_FieldIndex = tuple[_Counts, int, int, int]


def _index(table: FrequencyTable) -> dict[str, _FieldIndex]:
    index: dict[str, _FieldIndex] = {}
    for frequencies in table.fields:
        counts = {v.value: (v.won, v.lost) for v in frequencies.values}
        won = sum(w for w, _ in counts.values())
        lost = sum(lo for _, lo in counts.values())
        index[frequencies.field] = (counts, won, lost, len(counts))
    return index


@attrs.frozen(kw_only=True)
class PredictiveModel:
    """A trained naive-Bayes model as data; made by :func:`train_model`.

    >>> from sfakit.codec import from_data, to_data
    >>> model = train_model([({"source": "web"}, "won", "emea"),
    ...                      ({"source": "fax"}, "lost", "emea")], fields=["source"])
    >>> from_data(PredictiveModel, to_data(model)) == model
    True
    """

    fields: tuple[str, ...] = attrs.field(converter=to_tuple, validator=tuple_of(_name))
    overall: FrequencyTable = attrs.field(validator=instance_of(FrequencyTable, "a FrequencyTable"))
    teams: tuple[FrequencyTable, ...] = attrs.field(
        default=(),
        converter=to_tuple,
        validator=tuple_of(instance_of(FrequencyTable, "a FrequencyTable")),
    )
    smoothing: Decimal = attrs.field(default=_ONE, converter=to_decimal, validator=_positive)
    min_team_examples: int = attrs.field(default=50, validator=_at_least_one)
    floor: Decimal = attrs.field(
        default=Decimal("0.01"), converter=to_decimal, validator=_probability
    )
    ceiling: Decimal = attrs.field(
        default=Decimal("0.99"), converter=to_decimal, validator=_probability
    )
    _indexes: dict[str | None, dict[str, _FieldIndex]] = attrs.field(
        init=False, eq=False, repr=False, hash=False
    )

    def __attrs_post_init__(self) -> None:
        problems: list[Problem] = []
        fields = list(self.fields)
        for index in range(len(fields)):
            if fields[index] in fields[:index]:
                problems.append(
                    Problem(f"$.fields[{index}]", "a field not listed before", fields[index])
                )
        if self.floor >= self.ceiling:
            problems.append(
                Problem("$.ceiling", f"a probability above floor ({self.floor})", self.ceiling)
            )
        if self.overall.team is not None:
            problems.append(
                Problem("$.overall.team", "None: the global model has no team", self.overall.team)
            )
        if self.overall.won < 1 or self.overall.lost < 1:
            problems.append(
                Problem("$.overall", "at least one won and one lost example", self.overall.examples)
            )
        tables = [("$.overall", self.overall)] + [
            (f"$.teams[{i}]", t) for i, t in enumerate(self.teams)
        ]
        for path, table in tables:
            names = [f.field for f in table.fields]
            if names != fields:
                problems.append(
                    Problem(
                        f"{path}.fields", f"one table per model field, in order: {fields}", names
                    )
                )
        teams = [t.team for t in self.teams]
        for index, team in enumerate(teams):
            if team is None:
                problems.append(Problem(f"$.teams[{index}].team", "a team name", None))
            elif index and teams[index - 1] is not None and team <= str(teams[index - 1]):
                problems.append(
                    Problem(f"$.teams[{index}].team", "teams sorted and unique by name", team)
                )
        if problems:
            raise ValidationError.from_problems(problems, subject="predictive model")
        indexes: dict[str | None, dict[str, _FieldIndex]] = {None: _index(self.overall)}
        for table in self.teams:
            indexes[table.team] = _index(table)
        object.__setattr__(self, "_indexes", indexes)

    def __reduce__(self) -> tuple[Any, ...]:
        fields = {a.name: getattr(self, a.name) for a in attrs.fields(type(self)) if a.init}
        return (_rebuild, (fields,))

    def table_for(self, team: str | None) -> FrequencyTable:
        """The counts a prediction for ``team`` uses: the team's when it has enough
        history (``min_team_examples``, with both outcomes), else the global ones."""
        if team is not None:
            for table in self.teams:
                if table.team == team:
                    if table.examples >= self.min_team_examples and table.won and table.lost:
                        return table
                    break
        return self.overall

    def predict(
        self, subject: Lead | Mapping[str, object], *, team: str | None = None
    ) -> Prediction:
        """The probability that ``subject`` is won, with the factors behind it.

        >>> model = train_model([({"source": "web"}, "won", None),
        ...                      ({"source": "fax"}, "lost", None)], fields=["source"])
        >>> model.predict({"source": "web"}, team="emea").fell_back
        True
        """
        table = self.table_for(team)
        index = self._indexes[table.team]
        alpha = self.smoothing
        prior = _CTX.ln(_CTX.divide(table.won + alpha, table.lost + alpha))
        features = lead_features(subject, self.fields)
        factors: list[tuple[int, Factor]] = []
        unseen: list[tuple[str, str]] = []
        logit = prior
        for position, name in enumerate(self.fields):
            counts, won_total, lost_total, kinds = index[name]
            for value in features[name]:
                found = counts.get(value)
                if found is None:
                    unseen.append((name, value))
                    continue
                won, lost = found
                p_won = _CTX.divide(won + alpha, won_total + alpha * kinds)
                p_lost = _CTX.divide(lost + alpha, lost_total + alpha * kinds)
                weight = _CTX.ln(_CTX.divide(p_won, p_lost))
                logit = _CTX.add(logit, weight)
                factors.append(
                    (position, Factor(field=name, value=value, won=won, lost=lost, weight=weight))
                )
        factors.sort(key=lambda pair: (-abs(pair[1].weight), pair[0], pair[1].value))
        probability = _CTX.divide(_ONE, _CTX.add(_ONE, _CTX.exp(_CTX.minus(logit))))
        probability = min(max(probability, self.floor), self.ceiling)
        return Prediction(
            probability=probability.quantize(_PROBABILITY_STEP, rounding=ROUND_HALF_EVEN),
            team=team,
            model_team=table.team,
            fell_back=team is not None and table.team is None,
            won=table.won,
            lost=table.lost,
            prior=prior,
            logit=logit,
            factors=tuple(f for _, f in factors),
            unseen=tuple(unseen),
        )


def _rebuild(fields: dict[str, Any]) -> PredictiveModel:
    return PredictiveModel(**fields)


# -- training ---------------------------------------------------------------------------


class _Tally:
    """Counts for one model while training."""

    __slots__ = ("counts", "lost", "won")

    def __init__(self, fields: tuple[str, ...]) -> None:
        self.won = 0
        self.lost = 0
        self.counts: dict[str, dict[str, list[int]]] = {name: {} for name in fields}

    def add(self, features: Mapping[str, tuple[str, ...]], won: bool) -> None:
        if won:
            self.won += 1
        else:
            self.lost += 1
        slot = 0 if won else 1
        for name, values in features.items():
            table = self.counts[name]
            for value in values:
                pair = table.get(value)
                if pair is None:
                    pair = table[value] = [0, 0]
                pair[slot] += 1

    def table(self, team: str | None) -> FrequencyTable:
        return FrequencyTable(
            team=team,
            won=self.won,
            lost=self.lost,
            fields=tuple(
                FieldFrequencies(
                    field=name,
                    values=tuple(
                        ValueFrequency(value=value, won=pair[0], lost=pair[1])
                        for value, pair in sorted(counts.items())
                    ),
                )
                for name, counts in self.counts.items()
            ),
        )


def _outcome(value: object, path: str) -> LeadOutcome:
    if isinstance(value, LeadOutcome):
        return value
    if isinstance(value, str):
        for outcome in LeadOutcome:
            if outcome.value == value:
                return outcome
    raise ValidationError(path, value, "won or lost")


def train_model(
    examples: Iterable[tuple[Lead | Mapping[str, object], LeadOutcome | str, str | None]],
    *,
    fields: Iterable[str],
    smoothing: Decimal | int | str = 1,
    min_team_examples: int = 50,
    floor: Decimal | str = "0.01",
    ceiling: Decimal | str = "0.99",
) -> PredictiveModel:
    """Count ``examples`` — ``(lead or field mapping, "won" or "lost", team or None)`` —
    over ``fields`` into a :class:`PredictiveModel`. Needs at least one won and one lost
    example; every bad example is reported by index (``$.examples[3][1]``).

    >>> model = train_model([({"country": "DE"}, "won", "dach"),
    ...                      ({"country": "FR"}, "lost", None)], fields=["country"])
    >>> model.overall.won, model.overall.lost, [t.team for t in model.teams]
    (1, 1, ['dach'])
    """
    names = tuple(fields)
    if not names:
        raise ValidationError("$.fields", [], "at least one field to learn from")
    overall = _Tally(names)
    teams: dict[str, _Tally] = {}
    problems: list[Problem] = []
    for index, example in enumerate(examples):
        path = f"$.examples[{index}]"
        if not isinstance(example, tuple) or len(example) != 3:
            problems.append(
                Problem(path, "a tuple (lead or field mapping, outcome, team)", example)
            )
            continue
        subject, outcome, team = example
        try:
            won = _outcome(outcome, f"{path}[1]") is LeadOutcome.WON
            if team is not None and (not isinstance(team, str) or not team.strip()):
                raise ValidationError(f"{path}[2]", team, "a team name or None")
            features = lead_features(subject, names)
        except ValidationError as err:
            if err.path.startswith("$.fields"):
                raise  # a field no Lead has: the same for every example, say it once
            problems.extend(
                p if p.path.startswith(path) else p.under(f"{path}[0]") for p in err.problems
            )
            continue
        overall.add(features, won)
        if team is not None:
            tally = teams.get(team)
            if tally is None:
                tally = teams[team] = _Tally(names)
            tally.add(features, won)
    if problems:
        raise ValidationError.from_problems(problems, subject="training examples")
    if not overall.won or not overall.lost:
        raise ValidationError(
            "$.examples",
            f"{overall.won} won, {overall.lost} lost",
            "at least one won and one lost example",
        )
    return PredictiveModel(
        fields=names,
        overall=overall.table(None),
        teams=tuple(teams[team].table(team) for team in sorted(teams)),
        smoothing=smoothing,
        min_team_examples=min_team_examples,
        floor=floor,
        ceiling=ceiling,
    )
