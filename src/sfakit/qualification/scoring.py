"""Scoring leads: a compiled scorecard gives a score, a grade and a verdict, and says why.

:meth:`CompiledScorecard.score` returns a :class:`ScoreResult` whose
:class:`Contribution` s list every rule — matched or not, with its criteria trace — and
its points at each step: ``before_decay`` (the rule's points times the events counted),
``after_decay``, and ``after_cap``, what the rule finally adds. The ``after_cap`` points
of all rules sum exactly to the score.

How the score is computed, all in whole steps of ``10 ** -places`` points (so the
arithmetic is exact and the same everywhere):

1. **Hard disqualifiers**, in order: the first that matches the lead (or any engagement
   at or before ``as_of``) stops scoring: score 0, no grade, verdict ``disqualified``
   with its reason.
2. **Rules**: a lead rule adds its points when its criteria matches. An engagement rule
   adds, for each of its ``max_count`` most recent matching events at or before
   ``as_of``, its points decayed by the event's age (:mod:`~sfakit.qualification.decay`).
   Events after ``as_of`` have not happened yet as of then: they are not counted
   (``ignored_engagements`` says how many there were).
3. **Group caps**: when a group's points exceed ``max_points``, its positive
   contributions are scaled down in proportion until they sum to the cap (remainders go
   to the largest fractions, ties to the earlier rule); below ``min_points``, its negative
   ones likewise. Then the **scorecard's caps** do the same over every contribution.
   The score is therefore exactly ``clamp(sum of clamp(group points))``, and no
   contribution changes sign or grows.
4. **Grade and verdict**: the first :class:`~sfakit.qualification.GradeBand` whose
   ``min_score`` the score (or the ``grade_group``'s capped points) reaches; verdict
   ``qualified`` at ``qualify_at`` or above, ``disqualified`` below
   ``disqualify_below``, ``nurture`` in between.

The result depends only on the scorecard, the lead, the engagements and ``as_of`` (a
required, timezone-aware datetime: the clock is never read), so scoring is
deterministic, and a score recomputed later falls as engagement ages.
:meth:`CompiledScorecard.points` computes the same score without the explanation, for
bulk scoring.

>>> from datetime import datetime, timezone
>>> from sfakit.model import Lead
>>> from sfakit.qualification import Engagement, Scorecard, ScoreGroup, ScoreRule
>>> from sfakit.rules import field
>>> card = Scorecard(name="inbound", qualify_at=50, half_life="P30D", groups=[
...     ScoreGroup(name="fit", rules=[
...         ScoreRule(name="big", points=40, criteria=field("company_size").ge(250))]),
...     ScoreGroup(name="engagement", rules=[
...         ScoreRule(name="webinar", points=20, subject="engagement",
...                   criteria=field("kind").eq("webinar_attended"))])])
>>> as_of = datetime(2026, 3, 31, tzinfo=timezone.utc)
>>> t0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
>>> lead = Lead(company="Acme", company_size=300, created_at=t0)
>>> webinar = Engagement(kind="webinar_attended", at=datetime(2026, 3, 1, tzinfo=timezone.utc))
>>> result = card.compile().score(lead, [webinar], as_of=as_of)
>>> result.score, result.grade, result.verdict.value
(Decimal('50.00'), 'B', 'qualified')
>>> [(c.rule, c.after_decay) for c in result.contributions]
[('big', Decimal('40.00')), ('webinar', Decimal('10.00'))]
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final, NamedTuple

import attrs

from sfakit.errors import ValidationError
from sfakit.model.leads import Lead
from sfakit.qualification.decay import decayed_units, factor_for
from sfakit.qualification.engagement import Engagement
from sfakit.qualification.scorecard import Scorecard, ScoreRule, ScoreSubject
from sfakit.rules import CompiledCriteria, Verdict, parse_duration

__all__ = [
    "CompiledScorecard",
    "Contribution",
    "DisqualifierHit",
    "EngagementCredit",
    "GroupScore",
    "LeadVerdict",
    "ScoreResult",
]

_US: Final = timedelta(microseconds=1)


class LeadVerdict(enum.StrEnum):
    """What to do with a scored lead: hand it to sales, keep nurturing it, or drop it.

    >>> LeadVerdict("nurture") is LeadVerdict.NURTURE
    True
    """

    QUALIFIED = "qualified"
    NURTURE = "nurture"
    DISQUALIFIED = "disqualified"


@attrs.frozen(kw_only=True)
class EngagementCredit:
    """One engagement event an engagement rule counted: its age at ``as_of``, the decay
    ``factor`` and the ``points`` it earned after decay (before caps).

    >>> from datetime import datetime, timezone
    >>> event = Engagement(kind="email_open", at=datetime(2026, 3, 1, tzinfo=timezone.utc))
    >>> EngagementCredit(engagement=event, age=timedelta(days=30), factor=Decimal("0.5"),
    ...                  points=Decimal("5.00")).points
    Decimal('5.00')
    """

    engagement: Engagement
    age: timedelta
    factor: Decimal
    points: Decimal


@attrs.frozen(kw_only=True)
class Contribution:
    """What one rule did: whether it ``matched``, its ``points`` (per event for an
    engagement rule), ``events`` counted, and its points ``before_decay``,
    ``after_decay`` and ``after_cap`` (its share of the score). ``credits`` lists the
    engagement events counted; ``trace`` is the criteria's explanation (for an
    engagement rule, on the most recent event counted), None when traces were not asked
    for or no event matched.

    >>> Contribution(rule="big", group="fit", subject=ScoreSubject.LEAD, matched=False,
    ...              points=Decimal(40), events=0, before_decay=Decimal("0.00"),
    ...              after_decay=Decimal("0.00"), after_cap=Decimal("0.00")).after_cap
    Decimal('0.00')
    """

    rule: str
    group: str
    subject: ScoreSubject
    matched: bool
    points: Decimal
    events: int
    before_decay: Decimal
    after_decay: Decimal
    after_cap: Decimal
    credits: tuple[EngagementCredit, ...] = ()
    trace: Verdict | None = None


@attrs.frozen(kw_only=True)
class GroupScore:
    """A group's points ``before_cap``, ``after_cap`` (its own cap), and ``points``, its
    share of the score once the scorecard's cap is applied too.

    >>> GroupScore(name="fit", before_cap=Decimal("70.00"), after_cap=Decimal("50.00"),
    ...            points=Decimal("50.00"), max_points=Decimal(50)).after_cap
    Decimal('50.00')
    """

    name: str
    before_cap: Decimal
    after_cap: Decimal
    points: Decimal
    min_points: Decimal | None = None
    max_points: Decimal | None = None


@attrs.frozen(kw_only=True)
class DisqualifierHit:
    """The hard disqualifier that stopped scoring, with the engagement it matched (for an
    engagement disqualifier) and its criteria trace.

    >>> DisqualifierHit(name="competitor", reason="works for a competitor").reason
    'works for a competitor'
    """

    name: str
    reason: str
    engagement: Engagement | None = None
    trace: Verdict | None = None


@attrs.frozen(kw_only=True)
class ScoreResult:
    """A lead's score, grade and verdict under ``scorecard`` as of ``as_of``, and why.

    ``score`` is the sum of every contribution's ``after_cap``; ``before_cap`` the sum
    of the groups' points before any cap. ``reason`` says why a lead was disqualified
    (the disqualifier's reason, or its score below ``disqualify_below``).

    >>> from datetime import datetime, timezone
    >>> ScoreResult(scorecard="inbound", as_of=datetime(2026, 3, 2, tzinfo=timezone.utc),
    ...             score=Decimal("0.00"), before_cap=Decimal("0.00"), grade=None,
    ...             verdict=LeadVerdict.DISQUALIFIED, reason="competitor").verdict.value
    'disqualified'
    """

    scorecard: str
    as_of: datetime
    score: Decimal
    before_cap: Decimal
    grade: str | None
    verdict: LeadVerdict
    reason: str | None = None
    disqualified_by: DisqualifierHit | None = None
    groups: tuple[GroupScore, ...] = ()
    contributions: tuple[Contribution, ...] = ()
    ignored_engagements: int = 0

    def contribution(self, rule: str) -> Contribution:
        """The contribution of the rule named ``rule``."""
        for contribution in self.contributions:
            if contribution.rule == rule:
                return contribution
        known = ", ".join(c.rule for c in self.contributions) or "(none: scoring stopped)"
        raise ValidationError("$.rule", rule, f"a rule of this result: {known}")

    def render(self) -> str:
        """Readable text: the outcome, then each group and rule with its points.

        >>> from datetime import datetime, timezone
        >>> result = ScoreResult(scorecard="inbound",
        ...     as_of=datetime(2026, 3, 2, tzinfo=timezone.utc), score=Decimal("0.00"),
        ...     before_cap=Decimal("0.00"), grade=None, verdict=LeadVerdict.DISQUALIFIED,
        ...     reason="rival", disqualified_by=DisqualifierHit(name="rival_mail", reason="rival"))
        >>> print(result.render())
        inbound as of 2026-03-02T00:00:00+00:00: score 0.00, no grade, disqualified (rival)
        stopped by disqualifier 'rival_mail'
        """
        grade = f"grade {self.grade}" if self.grade is not None else "no grade"
        why = f" ({self.reason})" if self.reason else ""
        lines = [
            f"{self.scorecard} as of {self.as_of.isoformat()}: score {self.score}, {grade}, "
            f"{self.verdict.value}{why}"
        ]
        if self.disqualified_by is not None:
            lines.append(f"stopped by disqualifier {self.disqualified_by.name!r}")
        for group in self.groups:
            capped = (
                f" (before cap {group.before_cap})" if group.before_cap != group.after_cap else ""
            )
            lines.append(f"{group.name}: {group.points}{capped}")
            for c in self.contributions:
                if c.group != group.name:
                    continue
                mark = "[x]" if c.matched else "[ ]"
                steps = f"{c.points:+}"
                if c.subject is ScoreSubject.ENGAGEMENT:
                    steps += f" x {c.events} event{'s' if c.events != 1 else ''}"
                    if c.after_decay != c.before_decay:
                        steps += f", decayed to {c.after_decay:+}"
                if c.after_cap != c.after_decay:
                    steps += f", capped to {c.after_cap:+}"
                lines.append(f"  {mark} {c.rule}: {steps if c.matched else '0'}")
        if self.ignored_engagements:
            lines.append(f"{self.ignored_engagements} engagement(s) after as_of not counted")
        return "\n".join(lines)


# -- caps -------------------------------------------------------------------------------


def _shrink(values: list[int], sign: int, keep: int) -> list[int]:
    """Scale the values of ``sign`` toward zero so that they sum to ``keep`` (same sign,
    smaller magnitude): floor of the exact shares, remainders to the largest fractions."""
    picked = [i for i, v in enumerate(values) if v * sign > 0]
    sizes = [abs(values[i]) for i in picked]
    whole, target = sum(sizes), abs(keep)
    shares = [target * size // whole for size in sizes]
    fractions = [target * size % whole for size in sizes]
    left = target - sum(shares)
    for j in sorted(range(len(picked)), key=lambda j: (-fractions[j], j))[:left]:
        shares[j] += 1
    out = list(values)
    for j, i in enumerate(picked):
        out[i] = sign * shares[j]
    return out


def _cap(values: list[int], low: int | None, high: int | None) -> list[int]:
    total = sum(values)
    if high is not None and total > high:
        return _shrink(values, 1, high - sum(v for v in values if v < 0))
    if low is not None and total < low:
        return _shrink(values, -1, low - sum(v for v in values if v > 0))
    return values


# -- the compiled scorecard -------------------------------------------------------------


def _units(value: Decimal | None, places: int) -> int | None:
    return None if value is None else int(value.scaleb(places))


def _check_as_of(as_of: object) -> datetime:
    if not isinstance(as_of, datetime) or as_of.utcoffset() is None:
        raise ValidationError(
            "$.as_of", as_of, "a timezone-aware datetime: the moment the lead is scored at"
        )
    return as_of


def _events(
    engagements: Iterable[Engagement], as_of: datetime
) -> tuple[list[tuple[Engagement, int]], int]:
    """The engagements at or before ``as_of`` with their ages (µs), most recent first
    (ties in the order given), and how many were after ``as_of``."""
    aged: list[tuple[Engagement, int]] = []
    future = 0
    for index, event in enumerate(engagements):
        if type(event) is not Engagement and not isinstance(event, Engagement):
            raise ValidationError(f"$.engagements[{index}]", event, "an Engagement")
        age = (as_of - event.at) // _US
        if age < 0:
            future += 1
        else:
            aged.append((event, age))
    aged.sort(key=lambda pair: pair[1])
    return aged, future


@attrs.frozen
class _Rule:
    rule: ScoreRule
    compiled: CompiledCriteria[Any]
    group: int
    units: int
    half_life_us: int | None  # engagement rules that decay
    max_count: int | None


class _Draft(NamedTuple):
    rule: _Rule
    matched: bool
    events: int
    after_decay: int
    credits: tuple[EngagementCredit, ...]
    trace: Verdict | None


class CompiledScorecard:
    """A :class:`~sfakit.qualification.Scorecard` ready to score leads: made by
    :meth:`Scorecard.compile <sfakit.qualification.Scorecard.compile>`, reusable, and
    safe to share between threads (it holds no state that scoring changes).

    >>> from datetime import datetime, timezone
    >>> from sfakit.model import Lead
    >>> from sfakit.qualification import Scorecard, ScoreGroup, ScoreRule
    >>> from sfakit.rules import field
    >>> card = Scorecard(name="fit", qualify_at=10, groups=[ScoreGroup(name="fit", rules=[
    ...     ScoreRule(name="dach", points=10, criteria=field("country").isin(["DE", "AT"]))])])
    >>> t0 = datetime(2026, 3, 2, tzinfo=timezone.utc)
    >>> card.compile().points(Lead(company="Acme", country="AT", created_at=t0), as_of=t0)
    Decimal('10.00')
    """

    __slots__ = (
        "_disqualifiers",
        "_event_rules",
        "_event_stops",
        "_exponent",
        "_group_caps",
        "_lead_stops",
        "_members",
        "_needs_events",
        "_plain_rules",
        "_rules",
        "_timed_rules",
        "_total_caps",
        "_zero",
        "scorecard",
    )

    def __init__(self, scorecard: Scorecard) -> None:
        if not isinstance(scorecard, Scorecard):
            raise ValidationError("$.scorecard", scorecard, "a Scorecard")
        self.scorecard = scorecard
        places = scorecard.places
        default_half_life = _half_life_us(scorecard.half_life)
        compiled = iter(scorecard.compiled_rules())
        rules: list[_Rule] = []
        for gi, group in enumerate(scorecard.groups):
            for rule in group.rules:
                engagement = rule.subject is ScoreSubject.ENGAGEMENT
                half_life = _half_life_us(rule.half_life) or default_half_life
                rules.append(
                    _Rule(
                        rule=rule,
                        compiled=next(compiled),
                        group=gi,
                        units=int(rule.points.scaleb(places)),
                        half_life_us=half_life if engagement else None,
                        max_count=rule.max_count if engagement else 1,
                    )
                )
        self._rules = tuple(rules)
        lead_rules = [r for r in rules if r.rule.subject is ScoreSubject.LEAD]
        # Rules that do not read the time are called without it: a cheaper call.
        self._plain_rules = tuple(
            (r.compiled.matches, r.units, r.group) for r in lead_rules if not r.compiled.needs_now
        )
        self._timed_rules = tuple(
            (r.compiled.matches, r.units, r.group) for r in lead_rules if r.compiled.needs_now
        )
        self._event_rules = tuple(
            (r.compiled.matches, r.units, r.group, r.half_life_us, r.max_count)
            for r in rules
            if r.rule.subject is ScoreSubject.ENGAGEMENT
        )
        self._disqualifiers = tuple(
            zip(scorecard.disqualifiers, scorecard.compiled_disqualifiers(), strict=True)
        )
        self._lead_stops = tuple(
            c.matches for d, c in self._disqualifiers if d.subject is ScoreSubject.LEAD
        )
        self._event_stops = tuple(
            c.matches for d, c in self._disqualifiers if d.subject is ScoreSubject.ENGAGEMENT
        )
        self._needs_events = bool(self._event_rules) or any(
            d.subject is ScoreSubject.ENGAGEMENT for d in scorecard.disqualifiers
        )
        self._members = tuple(
            tuple(i for i, r in enumerate(rules) if r.group == gi)
            for gi in range(len(scorecard.groups))
        )
        self._group_caps = tuple(
            (_units(g.min_points, places), _units(g.max_points, places)) for g in scorecard.groups
        )
        self._total_caps = (
            _units(scorecard.min_points, places),
            _units(scorecard.max_points, places),
        )
        self._exponent = -places
        self._zero = Decimal(0).scaleb(-places)

    def __repr__(self) -> str:
        return f"CompiledScorecard({self.scorecard.name!r})"

    # -- helpers ------------------------------------------------------------------------

    def _decimal(self, units: int) -> Decimal:
        return Decimal(units).scaleb(-self.scorecard.places)

    def _disqualified(
        self, lead: Lead, events: Sequence[tuple[Engagement, int]], as_of: datetime
    ) -> tuple[int, Engagement | None] | None:
        for index, (disqualifier, compiled) in enumerate(self._disqualifiers):
            matches = compiled.matches
            if disqualifier.subject is ScoreSubject.LEAD:
                if matches(lead, now=as_of):
                    return index, None
            else:
                for event, _ in events:
                    if matches(event, now=as_of):
                        return index, event
        return None

    def _prepare(
        self, lead: object, engagements: Iterable[Engagement], as_of: object
    ) -> tuple[Lead, datetime, list[tuple[Engagement, int]], int]:
        moment = _check_as_of(as_of)
        if not isinstance(lead, Lead):
            raise ValidationError("$.lead", lead, "a Lead")
        if self._needs_events:
            events, future = _events(engagements, moment)
        else:
            events, future = [], 0
        return lead, moment, events, future

    # -- the fast path ------------------------------------------------------------------

    def points(
        self, lead: Lead, engagements: Iterable[Engagement] = (), *, as_of: datetime
    ) -> Decimal:
        """The score of ``lead`` as of ``as_of``, without the explanation: the same number
        as ``score(...).score``, computed faster (0 when a disqualifier matches)."""
        # The hot path of bulk scoring: checks and loops are inlined on purpose.
        if type(as_of) is not datetime or as_of.utcoffset() is None:
            _check_as_of(as_of)
        if type(lead) is not Lead and not isinstance(lead, Lead):
            raise ValidationError("$.lead", lead, "a Lead")
        events = _events(engagements, as_of)[0] if self._needs_events else []
        for matches in self._lead_stops:
            if matches(lead, now=as_of):
                return self._zero
        totals = [0] * len(self._group_caps)
        for matches, units, group in self._plain_rules:
            if matches(lead):
                totals[group] += units
        for matches, units, group in self._timed_rules:
            if matches(lead, now=as_of):
                totals[group] += units
        if events:
            for matches in self._event_stops:
                for event, _age in events:
                    if matches(event, now=as_of):
                        return self._zero
            factors: dict[tuple[int, int], Decimal] = {}
            for matches, units, group, half_life, max_count in self._event_rules:
                counted = 0
                for event, age in events:
                    if matches(event, now=as_of):
                        totals[group] += _decayed(units, age, half_life, factors)
                        counted += 1
                        if counted == max_count:
                            break
        total = 0
        for raw, (low, high) in zip(totals, self._group_caps, strict=True):
            if high is not None and raw > high:
                total += high
            elif low is not None and raw < low:
                total += low
            else:
                total += raw
        low, high = self._total_caps
        if high is not None and total > high:
            total = high
        elif low is not None and total < low:
            total = low
        return Decimal(total).scaleb(self._exponent)

    # -- the explained path -------------------------------------------------------------

    def score(
        self,
        lead: Lead,
        engagements: Iterable[Engagement] = (),
        *,
        as_of: datetime,
        traces: bool = True,
    ) -> ScoreResult:
        """Score ``lead`` with its ``engagements`` as of ``as_of``, explaining every rule.

        With ``traces=False`` the contributions carry no criteria traces (faster).
        """
        lead, as_of, events, future = self._prepare(lead, engagements, as_of)
        card = self.scorecard
        hit = self._disqualified(lead, events, as_of) if self._disqualifiers else None
        if hit is not None:
            return self._stopped(lead, hit, as_of, future, traces=traces)
        factors: dict[tuple[int, int], Decimal] = {}
        drafts = [self._draft(r, lead, events, as_of, factors, traces=traces) for r in self._rules]
        decayed = [d.after_decay for d in drafts]
        group_capped = list(decayed)
        for members, (low, high) in zip(self._members, self._group_caps, strict=True):
            capped = _cap([decayed[i] for i in members], low, high)
            for i, value in zip(members, capped, strict=True):
                group_capped[i] = value
        final = _cap(group_capped, *self._total_caps)
        contributions = tuple(
            Contribution(
                rule=d.rule.rule.name,
                group=card.groups[d.rule.group].name,
                subject=d.rule.rule.subject,
                matched=d.matched,
                points=d.rule.rule.points,
                events=d.events,
                before_decay=self._decimal(d.rule.units * d.events),
                after_decay=self._decimal(d.after_decay),
                after_cap=self._decimal(final[i]),
                credits=d.credits,
                trace=d.trace,
            )
            for i, d in enumerate(drafts)
        )
        group_scores = [
            GroupScore(
                name=group.name,
                before_cap=self._decimal(sum(decayed[i] for i in members)),
                after_cap=self._decimal(sum(group_capped[i] for i in members)),
                points=self._decimal(sum(final[i] for i in members)),
                min_points=group.min_points,
                max_points=group.max_points,
            )
            for group, members in zip(card.groups, self._members, strict=True)
        ]
        score = self._decimal(sum(final))
        grade_basis = score
        if card.grade_group is not None:
            grade_basis = next(g.after_cap for g in group_scores if g.name == card.grade_group)
        verdict, reason = self._verdict(score)
        return ScoreResult(
            scorecard=card.name,
            as_of=as_of,
            score=score,
            before_cap=self._decimal(sum(decayed)),
            grade=self._grade(grade_basis),
            verdict=verdict,
            reason=reason,
            groups=tuple(group_scores),
            contributions=contributions,
            ignored_engagements=future,
        )

    def _stopped(
        self,
        lead: Lead,
        hit: tuple[int, Engagement | None],
        as_of: datetime,
        future: int,
        *,
        traces: bool,
    ) -> ScoreResult:
        index, event = hit
        disqualifier, compiled = self._disqualifiers[index]
        trace = compiled.explain(lead if event is None else event, now=as_of) if traces else None
        return ScoreResult(
            scorecard=self.scorecard.name,
            as_of=as_of,
            score=self._zero,
            before_cap=self._zero,
            grade=None,
            verdict=LeadVerdict.DISQUALIFIED,
            reason=disqualifier.reason,
            disqualified_by=DisqualifierHit(
                name=disqualifier.name, reason=disqualifier.reason, engagement=event, trace=trace
            ),
            ignored_engagements=future,
        )

    def _draft(
        self,
        r: _Rule,
        lead: Lead,
        events: Sequence[tuple[Engagement, int]],
        as_of: datetime,
        factors: dict[tuple[int, int], Decimal],
        *,
        traces: bool,
    ) -> _Draft:
        """What one rule earns before caps, with its credits and trace."""
        if r.rule.subject is ScoreSubject.LEAD:
            matched = r.compiled.matches(lead, now=as_of)
            trace = r.compiled.explain(lead, now=as_of) if traces else None
            return _Draft(r, matched, int(matched), r.units if matched else 0, (), trace)
        credits: list[EngagementCredit] = []
        total = 0
        for event, age in events:
            if not r.compiled.matches(event, now=as_of):
                continue
            factor = _factor(age, r.half_life_us, factors)
            units = decayed_units(r.units, factor)
            total += units
            credits.append(
                EngagementCredit(
                    engagement=event,
                    age=timedelta(microseconds=age),
                    factor=factor,
                    points=self._decimal(units),
                )
            )
            if len(credits) == r.max_count:
                break
        trace = None
        if traces and credits:
            trace = r.compiled.explain(credits[0].engagement, now=as_of)
        return _Draft(r, bool(credits), len(credits), total, tuple(credits), trace)

    def _grade(self, points: Decimal) -> str:
        for band in self.scorecard.grades:
            if band.min_score is None or points >= band.min_score:
                return band.grade
        raise AssertionError("the last grade band has no minimum")  # checked when built

    def _verdict(self, score: Decimal) -> tuple[LeadVerdict, str | None]:
        card = self.scorecard
        if score >= card.qualify_at:
            return LeadVerdict.QUALIFIED, None
        if card.disqualify_below is not None and score < card.disqualify_below:
            return (
                LeadVerdict.DISQUALIFIED,
                f"score {score} is below disqualify_below ({card.disqualify_below})",
            )
        return LeadVerdict.NURTURE, None


def _half_life_us(text: str | None) -> int | None:
    return None if text is None else parse_duration(text) // _US


def _factor(age: int, half_life: int | None, cache: dict[tuple[int, int], Decimal]) -> Decimal:
    if half_life is None:
        return Decimal(1)
    key = (age, half_life)
    factor = cache.get(key)
    if factor is None:
        factor = cache[key] = factor_for(age, half_life)
    return factor


def _decayed(
    units: int, age: int, half_life: int | None, cache: dict[tuple[int, int], Decimal]
) -> int:
    if half_life is None or age == 0:
        return units
    return decayed_units(units, _factor(age, half_life, cache))
