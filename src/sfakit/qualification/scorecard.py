"""Scorecards as data: rules worth points, grouped, capped, decaying, with grades.

A :class:`Scorecard` holds named :class:`ScoreGroup` s (``fit`` and ``engagement`` by
convention, any names allowed). Each :class:`ScoreRule` is a criteria (:mod:`sfakit.rules`)
worth ``points`` — negative points are allowed ("student email domain: -20"):

* a **lead rule** (``subject=lead``) tests the :class:`~sfakit.model.Lead` itself
  (``company_size ge 250``, ``country in [DE, AT, CH]``);
* an **engagement rule** (``subject=engagement``) tests each
  :class:`~sfakit.qualification.Engagement` passed in with the lead (``kind eq
  "webinar_attended"``); the ``max_count`` most recent matching events score (one by
  default: "has attended a webinar"; None for every one), each decayed by its age with the
  rule's ``half_life`` or else the scorecard's (an ISO 8601 duration such as ``"P30D"``;
  None on the scorecard means engagement does not decay).

A group may have a ``min_points`` (at most 0) and a ``max_points`` (at least 0), and so may
the whole scorecard: caps are explicit, so a score never silently saturates, and decay
lets an old score fall — the two ways HubSpot and Odoo scores end up "stuck at 100".
:class:`Disqualifier` s are hard stops ("competitor's email domain", "unsubscribed"):
when one matches the lead (or any engagement), scoring stops with its reason.
:class:`GradeBand` s turn the score (or one group's points, ``grade_group``, as Pardot
grades fit separately from engagement) into a grade, A to D by default, and
``qualify_at`` / ``disqualify_below`` into a verdict.

Points have at most ``places`` decimals (2 by default) and every value computed is
rounded to them, so results are exact Decimals. Building a scorecard (or loading one
with :func:`sfakit.codec.from_data`) checks everything and compiles every criteria,
reporting each problem by path (``$.groups[1].rules[0].criteria.field``);
:meth:`Scorecard.compile` returns the :class:`~sfakit.qualification.CompiledScorecard`
that scores leads.

>>> from decimal import Decimal
>>> from sfakit.rules import field
>>> card = Scorecard(name="inbound", qualify_at=50, groups=[
...     ScoreGroup(name="fit", max_points=60, rules=[
...         ScoreRule(name="dach", points=20, criteria=field("country").isin(["DE", "AT", "CH"])),
...         ScoreRule(name="big", points=40, criteria=field("company_size").ge(250)),
...     ]),
...     ScoreGroup(name="engagement", rules=[
...         ScoreRule(name="pricing_page", points=15, subject="engagement",
...                   criteria=field("kind").eq("page_view") & field("detail").eq("/pricing")),
...     ]),
... ])
>>> [rule.name for rule in card.rules()]
['dach', 'big', 'pricing_page']
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

import attrs

from sfakit.errors import Problem, ValidationError
from sfakit.model.checks import (
    enum_of,
    instance_of,
    non_negative_int,
    optional,
    text,
    to_decimal,
    to_tuple,
    tuple_of,
)
from sfakit.model.leads import Lead
from sfakit.qualification.engagement import Engagement
from sfakit.rules import (
    AllOf,
    AnyOf,
    CompiledCriteria,
    Condition,
    Criteria,
    Not,
    compile_criteria,
    format_duration,
    parse_duration,
)

if TYPE_CHECKING:
    from sfakit.qualification.scoring import CompiledScorecard

__all__ = [
    "DEFAULT_GRADES",
    "Disqualifier",
    "GradeBand",
    "ScoreGroup",
    "ScoreRule",
    "ScoreSubject",
    "Scorecard",
]

#: The largest number of points one rule, cap or threshold may hold (either sign).
MAX_POINTS: Final = Decimal(1_000_000)
_NODES: Final = (Condition, AllOf, AnyOf, Not)
_name = text(max_length=100)


class ScoreSubject(enum.StrEnum):
    """What a rule or disqualifier tests: the lead, or each engagement event.

    >>> ScoreSubject("engagement") is ScoreSubject.ENGAGEMENT
    True
    """

    LEAD = "lead"
    ENGAGEMENT = "engagement"


_SUBJECT_TYPES: Final[dict[ScoreSubject, type]] = {
    ScoreSubject.LEAD: Lead,
    ScoreSubject.ENGAGEMENT: Engagement,
}


def _to_subject(value: Any) -> Any:
    try:
        return ScoreSubject(value) if isinstance(value, str) else value
    except ValueError:
        return value


def _criteria_node(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, _NODES):
        raise ValidationError(
            f"$.{attribute.name}", value, "a criteria node: Condition, AllOf, AnyOf or Not"
        )


def _points(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or abs(value) > MAX_POINTS:
        raise ValidationError(
            f"$.{attribute.name}",
            value,
            f"a Decimal, int or numeric string from -{MAX_POINTS} to {MAX_POINTS} (no floats)",
        )


_opt_points = optional(_points)


def _to_duration_text(value: Any) -> Any:
    # One spelling per duration ("P4W" is stored as "P28D"), so equal scorecards are equal.
    if isinstance(value, str):
        try:
            return format_duration(parse_duration(value))
        except ValidationError:
            return value
    if isinstance(value, timedelta):
        return format_duration(value)
    return value


def _half_life(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    path = f"$.{attribute.name}"
    expected = "a positive ISO 8601 duration such as 'P30D' (days, hours ...; no months)"
    if not isinstance(value, str):
        raise ValidationError(path, value, expected)
    try:
        duration = parse_duration(value, path)
    except ValidationError as err:
        raise ValidationError(path, value, err.expected) from None
    if duration <= timedelta(0):
        raise ValidationError(path, value, expected)


def _count(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    non_negative_int(instance, attribute, value)
    if value == 0:
        raise ValidationError(f"$.{attribute.name}", value, "a whole number >= 1, or None")


@attrs.frozen(kw_only=True)
class ScoreRule:
    """A criteria worth ``points`` (negative allowed), on the lead or on engagements.

    For an engagement rule, ``max_count`` is how many of the most recent matching events
    score (None: all), and ``half_life`` overrides the scorecard's decay; lead rules do
    not decay and score once.

    >>> from sfakit.rules import field
    >>> ScoreRule(name="webinar", points="12.5", subject="engagement",
    ...           criteria=field("kind").eq("webinar_attended"), half_life="P2W").half_life
    'P14D'
    """

    name: str = attrs.field(validator=_name)
    points: Decimal = attrs.field(converter=to_decimal, validator=_points)
    criteria: Criteria = attrs.field(validator=_criteria_node)
    subject: ScoreSubject = attrs.field(
        default=ScoreSubject.LEAD, converter=_to_subject, validator=enum_of(ScoreSubject)
    )
    max_count: int | None = attrs.field(default=1, validator=optional(_count))
    half_life: str | None = attrs.field(
        default=None, converter=_to_duration_text, validator=optional(_half_life)
    )
    description: str | None = attrs.field(default=None, validator=optional(text(max_length=500)))


_rules = tuple_of(instance_of(ScoreRule, "a ScoreRule"))


@attrs.frozen(kw_only=True)
class ScoreGroup:
    """Rules whose points add up to one part of the score, optionally capped.

    ``max_points`` (>= 0) and ``min_points`` (<= 0) bound the group's points: a cap only
    ever shrinks contributions toward zero, it never adds points.

    >>> ScoreGroup(name="fit", rules=[], max_points=50).max_points
    Decimal('50')
    """

    name: str = attrs.field(validator=_name)
    rules: tuple[ScoreRule, ...] = attrs.field(converter=to_tuple, validator=_rules)
    min_points: Decimal | None = attrs.field(
        default=None, converter=to_decimal, validator=_opt_points
    )
    max_points: Decimal | None = attrs.field(
        default=None, converter=to_decimal, validator=_opt_points
    )


@attrs.frozen(kw_only=True)
class Disqualifier:
    """A hard stop: when ``criteria`` matches the lead (or any engagement), the lead is
    disqualified with ``reason`` and no points are counted.

    >>> from sfakit.rules import field
    >>> Disqualifier(name="student", reason="students do not buy",
    ...              criteria=field("email").matches(r"\\.edu$")).subject
    <ScoreSubject.LEAD: 'lead'>
    """

    name: str = attrs.field(validator=_name)
    criteria: Criteria = attrs.field(validator=_criteria_node)
    reason: str = attrs.field(validator=text(max_length=200))
    subject: ScoreSubject = attrs.field(
        default=ScoreSubject.LEAD, converter=_to_subject, validator=enum_of(ScoreSubject)
    )


@attrs.frozen(kw_only=True)
class GradeBand:
    """A grade for scores at or above ``min_score``; the last band has no minimum.

    >>> GradeBand(grade="A", min_score=75).min_score
    Decimal('75')
    """

    grade: str = attrs.field(validator=text(max_length=20))
    min_score: Decimal | None = attrs.field(
        default=None, converter=to_decimal, validator=_opt_points
    )


#: A from 75, B from 50, C from 25, D below.
DEFAULT_GRADES: Final = (
    GradeBand(grade="A", min_score=Decimal(75)),
    GradeBand(grade="B", min_score=Decimal(50)),
    GradeBand(grade="C", min_score=Decimal(25)),
    GradeBand(grade="D"),
)


def _places(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 6:
        raise ValidationError(
            f"$.{attribute.name}", value, "a whole number of decimal places from 0 to 6"
        )


def _duplicates(values: list[str]) -> Iterator[tuple[int, int]]:
    first: dict[str, int] = {}
    for index, value in enumerate(values):
        if value in first:
            yield index, first[value]
        else:
            first[value] = index


@attrs.frozen
class _Compiled:
    """The compiled criteria of a scorecard, in the order of its rules and disqualifiers."""

    rules: tuple[CompiledCriteria[Any], ...]
    disqualifiers: tuple[CompiledCriteria[Any], ...]


@attrs.frozen(kw_only=True)
class Scorecard:
    """A complete scoring model as data; see the module documentation.

    Round-trips exactly through :func:`sfakit.codec.to_data` / ``from_data``.
    """

    name: str = attrs.field(validator=_name)
    groups: tuple[ScoreGroup, ...] = attrs.field(
        converter=to_tuple, validator=tuple_of(instance_of(ScoreGroup, "a ScoreGroup"))
    )
    qualify_at: Decimal = attrs.field(converter=to_decimal, validator=_points)
    disqualify_below: Decimal | None = attrs.field(
        default=None, converter=to_decimal, validator=_opt_points
    )
    disqualifiers: tuple[Disqualifier, ...] = attrs.field(
        default=(),
        converter=to_tuple,
        validator=tuple_of(instance_of(Disqualifier, "a Disqualifier")),
    )
    grades: tuple[GradeBand, ...] = attrs.field(
        default=DEFAULT_GRADES,
        converter=to_tuple,
        validator=tuple_of(instance_of(GradeBand, "a GradeBand")),
    )
    grade_group: str | None = attrs.field(default=None, validator=optional(_name))
    min_points: Decimal | None = attrs.field(
        default=None, converter=to_decimal, validator=_opt_points
    )
    max_points: Decimal | None = attrs.field(
        default=None, converter=to_decimal, validator=_opt_points
    )
    half_life: str | None = attrs.field(
        default="P30D", converter=_to_duration_text, validator=optional(_half_life)
    )
    places: int = attrs.field(default=2, validator=_places)
    description: str | None = attrs.field(default=None, validator=optional(text(max_length=2000)))
    # Derived when built; not data, not compared.
    _compiled: _Compiled = attrs.field(init=False, eq=False, repr=False, hash=False)

    def __attrs_post_init__(self) -> None:
        problems = self._problems()
        rules: list[CompiledCriteria[Any]] = []
        for gi, group in enumerate(self.groups):
            for ri, rule in enumerate(group.rules):
                compiled = _compile(
                    rule.criteria, rule.subject, f"$.groups[{gi}].rules[{ri}].criteria", problems
                )
                if compiled is not None:
                    rules.append(compiled)
        disqualifiers: list[CompiledCriteria[Any]] = []
        for di, disqualifier in enumerate(self.disqualifiers):
            compiled = _compile(
                disqualifier.criteria,
                disqualifier.subject,
                f"$.disqualifiers[{di}].criteria",
                problems,
            )
            if compiled is not None:
                disqualifiers.append(compiled)
        if problems:
            raise ValidationError.from_problems(problems, subject="scorecard")
        object.__setattr__(self, "_compiled", _Compiled(tuple(rules), tuple(disqualifiers)))

    def _problems(self) -> list[Problem]:
        problems: list[Problem] = []
        step = Decimal(1).scaleb(-self.places)

        def on_grid(path: str, value: Decimal | None) -> None:
            if value is not None and value != value.quantize(step):
                problems.append(
                    Problem(path, f"at most {self.places} decimal places (places)", value)
                )

        def caps(path: str, low: Decimal | None, high: Decimal | None) -> None:
            on_grid(f"{path}.min_points", low)
            on_grid(f"{path}.max_points", high)
            if low is not None and low > 0:
                problems.append(
                    Problem(
                        f"{path}.min_points",
                        "a number <= 0: a cap bounds points, it never adds them",
                        low,
                    )
                )
            if high is not None and high < 0:
                problems.append(
                    Problem(
                        f"{path}.max_points",
                        "a number >= 0: a cap bounds points, it never takes them away",
                        high,
                    )
                )

        caps("$", self.min_points, self.max_points)
        names = [g.name for g in self.groups]
        for index, first in _duplicates(names):
            problems.append(
                Problem(
                    f"$.groups[{index}].name", f"a name not used by groups[{first}]", names[index]
                )
            )
        where: dict[str, str] = {}
        for gi, group in enumerate(self.groups):
            caps(f"$.groups[{gi}]", group.min_points, group.max_points)
            for ri, rule in enumerate(group.rules):
                path = f"$.groups[{gi}].rules[{ri}]"
                if rule.name in where:
                    problems.append(
                        Problem(
                            f"{path}.name", f"a rule name not used by {where[rule.name]}", rule.name
                        )
                    )
                else:
                    where[rule.name] = path
                on_grid(f"{path}.points", rule.points)
                if rule.subject is ScoreSubject.LEAD:
                    if rule.half_life is not None:
                        problems.append(
                            Problem(
                                f"{path}.half_life",
                                "no half_life: lead rules do not decay (only engagement rules do)",
                                rule.half_life,
                            )
                        )
                    if rule.max_count != 1:
                        problems.append(
                            Problem(
                                f"{path}.max_count",
                                "1: a lead rule scores once (max_count counts engagement events)",
                                rule.max_count,
                            )
                        )
        dq_names = [d.name for d in self.disqualifiers]
        for index, first in _duplicates(dq_names):
            problems.append(
                Problem(
                    f"$.disqualifiers[{index}].name",
                    f"a name not used by disqualifiers[{first}]",
                    dq_names[index],
                )
            )
        on_grid("$.qualify_at", self.qualify_at)
        on_grid("$.disqualify_below", self.disqualify_below)
        if self.disqualify_below is not None and self.disqualify_below > self.qualify_at:
            problems.append(
                Problem(
                    "$.disqualify_below",
                    f"a score at most qualify_at ({self.qualify_at})",
                    self.disqualify_below,
                )
            )
        problems.extend(self._grade_problems())
        if self.grade_group is not None and self.grade_group not in names:
            problems.append(
                Problem(
                    "$.grade_group",
                    f"the name of a group: {', '.join(names) or '(there are none)'}",
                    self.grade_group,
                )
            )
        return problems

    def _grade_problems(self) -> list[Problem]:
        problems: list[Problem] = []
        grades = self.grades
        if not grades:
            return [Problem("$.grades", "at least one grade band (the last without min_score)", [])]
        labels = [g.grade for g in grades]
        for index, first in _duplicates(labels):
            problems.append(
                Problem(
                    f"$.grades[{index}].grade",
                    f"a grade not used by grades[{first}]",
                    labels[index],
                )
            )
        step = Decimal(1).scaleb(-self.places)
        previous: Decimal | None = None
        for index, band in enumerate(grades):
            path = f"$.grades[{index}].min_score"
            last = index == len(grades) - 1
            if last and band.min_score is not None:
                problems.append(
                    Problem(path, "None: the last band takes every lower score", band.min_score)
                )
            elif not last and band.min_score is None:
                problems.append(
                    Problem(path, "a minimum score (only the last band has none)", None)
                )
            if band.min_score is None:
                continue
            if band.min_score != band.min_score.quantize(step):
                problems.append(
                    Problem(path, f"at most {self.places} decimal places", band.min_score)
                )
            if previous is not None and band.min_score >= previous:
                problems.append(
                    Problem(path, f"a score below the band before ({previous})", band.min_score)
                )
            previous = band.min_score
        return problems

    def __reduce__(self) -> tuple[Any, ...]:
        # Compiled criteria hold generated functions: pickle the data, rebuild on load.
        fields = {a.name: getattr(self, a.name) for a in attrs.fields(type(self)) if a.init}
        return (_rebuild, (type(self), fields))

    def rules(self) -> tuple[ScoreRule, ...]:
        """Every rule, group by group, in order."""
        return tuple(rule for group in self.groups for rule in group.rules)

    def compiled_rules(self) -> tuple[CompiledCriteria[Any], ...]:
        """The compiled criteria of :meth:`rules`, in the same order."""
        return self._compiled.rules

    def compiled_disqualifiers(self) -> tuple[CompiledCriteria[Any], ...]:
        """The compiled criteria of ``disqualifiers``, in the same order."""
        return self._compiled.disqualifiers

    def compile(self) -> CompiledScorecard:
        """The scorer for this scorecard: build it once, score many leads with it."""
        from sfakit.qualification.scoring import CompiledScorecard  # noqa: PLC0415 - a cycle

        return CompiledScorecard(self)


def _compile(
    criteria: Criteria, subject: ScoreSubject, path: str, problems: list[Problem]
) -> CompiledCriteria[Any] | None:
    try:
        return compile_criteria(criteria, _SUBJECT_TYPES[subject])
    except ValidationError as exc:
        problems.extend(p.under(path) for p in exc.problems)
        return None


def _rebuild(cls: type[Scorecard], fields: dict[str, Any]) -> Scorecard:
    return cls(**fields)
