"""Strategies, builders and the synthetic history shared by the qualification tests."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from sfakit.model import Lead, LeadId
from sfakit.qualification import (
    Disqualifier,
    Engagement,
    Scorecard,
    ScoreGroup,
    ScoreRule,
)
from sfakit.rules import Criteria, field

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AS_OF = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

COUNTRIES = ("DE", "AT", "FR", "US", "NG")
INDUSTRIES = ("retail", "hospitality", "education", None)
SOURCES = ("referral", "web", "fair", None)
KINDS = ("page_view", "email_open", "webinar_attended", "form_submitted")
PAGES = ("/pricing", "/blog/led", "/careers", None)

#: Lead criteria that random leads meet about half the time.
LEAD_CRITERIA: tuple[Criteria, ...] = (
    field("country").isin(["DE", "AT", "CH"]),
    field("company_size").ge(250),
    field("company_size").lt(10),
    field("industry").eq("retail"),
    field("source").eq("referral"),
    field("email").is_set(),
    field("title").matches("(?i)head|chief"),
    ~field("industry").eq("education"),
)

#: Engagement criteria.
ENGAGEMENT_CRITERIA: tuple[Criteria, ...] = (
    field("kind").eq("page_view") & field("detail").eq("/pricing"),
    field("kind").eq("email_open"),
    field("kind").eq("webinar_attended"),
    field("kind").isin(["form_submitted", "webinar_attended"]),
    field("kind").eq("page_view"),
)

points = st.decimals(min_value=-60, max_value=60, places=2, allow_nan=False).map(
    lambda d: d.quantize(Decimal("0.01"))
)
half_lives = st.sampled_from([None, "P1D", "P7D", "P30D", "PT36H"])


@st.composite
def rules(draw: st.DrawFn, name: str) -> ScoreRule:
    if draw(st.booleans()):
        return ScoreRule(
            name=name, points=draw(points), criteria=draw(st.sampled_from(LEAD_CRITERIA))
        )
    return ScoreRule(
        name=name,
        points=draw(points),
        subject="engagement",
        criteria=draw(st.sampled_from(ENGAGEMENT_CRITERIA)),
        max_count=draw(st.sampled_from([1, 2, 3, None])),
        half_life=draw(half_lives),
    )


def _caps(draw: st.DrawFn, low: int = -80, high: int = 100) -> dict[str, Any]:
    return {
        "min_points": draw(st.none() | st.integers(low, 0)),
        "max_points": draw(st.none() | st.integers(0, high)),
    }


@st.composite
def scorecards(draw: st.DrawFn, *, disqualifiers: bool = True) -> Scorecard:
    groups = []
    counter = 0
    for gi in range(draw(st.integers(1, 3))):
        group_rules = []
        for _ in range(draw(st.integers(0, 6))):
            group_rules.append(draw(rules(f"r{counter}")))
            counter += 1
        groups.append(ScoreGroup(name=f"g{gi}", rules=group_rules, **_caps(draw)))
    dq = []
    if disqualifiers and draw(st.booleans()):
        dq.append(
            Disqualifier(
                name="education",
                reason="schools do not buy",
                criteria=field("industry").eq("education"),
            )
        )
    qualify_at = draw(st.integers(0, 80))
    return Scorecard(
        name="random",
        groups=groups,
        qualify_at=qualify_at,
        disqualify_below=draw(st.none() | st.integers(-20, qualify_at)),
        disqualifiers=dq,
        half_life=draw(half_lives),
        grade_group=draw(st.none() | st.sampled_from([g.name for g in groups])),
        **_caps(draw, -30, 40),
    )


@st.composite
def leads(draw: st.DrawFn) -> Lead:
    return Lead(
        id=LeadId("lead_test"),
        company="Acme",
        country=draw(st.sampled_from(COUNTRIES)),
        company_size=draw(st.none() | st.integers(0, 2000)),
        industry=draw(st.sampled_from(INDUSTRIES)),
        source=draw(st.sampled_from(SOURCES)),
        email=draw(st.none() | st.just("anna@acme.example")),
        title=draw(st.none() | st.sampled_from(["Head of Facilities", "Intern"])),
        created_at=T0,
    )


@st.composite
def engagements(draw: st.DrawFn, *, as_of: datetime = AS_OF) -> Engagement:
    # Mostly in the past of as_of, some in its future.
    offset = draw(st.integers(-5 * 86_400, 200 * 86_400))
    return Engagement(
        kind=draw(st.sampled_from(KINDS)),
        detail=draw(st.sampled_from(PAGES)),
        at=as_of - timedelta(seconds=offset),
    )


def engagement_lists(max_size: int = 8) -> st.SearchStrategy[list[Engagement]]:
    return st.lists(engagements(), max_size=max_size)


def inbound_scorecard(**changes: Any) -> Scorecard:
    """A realistic scorecard: fit and engagement, caps, a disqualifier, a half-life."""
    fields: dict[str, Any] = {
        "name": "inbound",
        "qualify_at": 60,
        "disqualify_below": 10,
        "half_life": "P30D",
        "max_points": 100,
        "groups": [
            ScoreGroup(
                name="fit",
                max_points=50,
                rules=[
                    ScoreRule(
                        name="dach", points=20, criteria=field("country").isin(["DE", "AT", "CH"])
                    ),
                    ScoreRule(name="large", points=30, criteria=field("company_size").ge(250)),
                    ScoreRule(name="retail", points=15, criteria=field("industry").eq("retail")),
                    ScoreRule(name="tiny", points=-10, criteria=field("company_size").lt(10)),
                ],
            ),
            ScoreGroup(
                name="engagement",
                max_points=60,
                rules=[
                    ScoreRule(
                        name="pricing_page",
                        points=15,
                        subject="engagement",
                        criteria=field("kind").eq("page_view") & field("detail").eq("/pricing"),
                        max_count=2,
                    ),
                    ScoreRule(
                        name="webinar",
                        points=25,
                        subject="engagement",
                        criteria=field("kind").eq("webinar_attended"),
                        half_life="P60D",
                    ),
                    ScoreRule(
                        name="email_open",
                        points=2,
                        subject="engagement",
                        criteria=field("kind").eq("email_open"),
                        max_count=None,
                    ),
                ],
            ),
        ],
        "disqualifiers": [
            Disqualifier(
                name="rival",
                reason="works for a competitor",
                criteria=field("email").matches(r"@rival\.example$"),
            ),
            Disqualifier(
                name="unsubscribed",
                reason="asked not to be contacted",
                subject="engagement",
                criteria=field("kind").eq("unsubscribed"),
            ),
        ],
    }
    fields.update(changes)
    return Scorecard(**fields)


def lead(**fields: Any) -> Lead:
    fields.setdefault("company", "Acme")
    fields.setdefault("created_at", T0)
    return Lead(**fields)


def event(
    kind: str, days_ago: float, detail: str | None = None, as_of: datetime = AS_OF
) -> Engagement:
    return Engagement(kind=kind, detail=detail, at=as_of - timedelta(days=days_ago))


# -- predictive: a synthetic history with real signal, and the AUC -------------------------

_EFFECTS: dict[str, dict[str, float]] = {
    "source": {"referral": 1.4, "partner": 0.8, "web": 0.0, "fair": -0.3, "cold_call": -1.2},
    "country": {"DE": 0.5, "US": 0.3, "GB": 0.1, "FR": -0.2, "NG": -0.4, "IN": -0.6},
    "industry": {"hospitality": 0.6, "retail": 0.2, "manufacturing": 0.0, "education": -0.9},
    "size_band": {"micro": -0.8, "small": -0.2, "medium": 0.3, "large": 0.6, "enterprise": 0.4},
}
TEAMS = ("emea", "americas", "apac", "tiny_team")


def synthetic_history(count: int, seed: int) -> list[tuple[dict[str, object], str, str | None]]:
    """``count`` examples whose outcome follows a logistic model of the features, with a
    team effect (so per-team models differ) and noise; the same seed, the same list."""
    rng = random.Random(seed)
    team_bias = {"emea": 0.4, "americas": -0.2, "apac": 0.0, "tiny_team": 1.5}
    examples: list[tuple[dict[str, object], str, str | None]] = []
    for _ in range(count):
        features: dict[str, object] = {
            name: rng.choice(sorted(values)) for name, values in _EFFECTS.items()
        }
        team = rng.choices([*TEAMS, None], weights=[40, 30, 20, 1, 9])[0]
        logit = -0.3 + sum(_EFFECTS[name][str(value)] for name, value in features.items())
        logit += team_bias.get(team or "", 0.0) + rng.gauss(0, 0.5)
        won = rng.random() < 1 / (1 + math.exp(-logit))
        if rng.random() < 0.05:
            features["industry"] = None  # missing values happen
        examples.append((features, "won" if won else "lost", team))
    return examples


def auc(scores: Sequence[Decimal], positives: Sequence[bool]) -> float:
    """The area under the ROC curve: the chance that a random positive scores above a
    random negative (ties count half), by the Mann-Whitney rank sum."""
    pairs = sorted(zip(scores, positives, strict=True), key=lambda p: p[0])
    ranks = [0.0] * len(pairs)
    i = 0
    while i < len(pairs):
        j = i
        while j + 1 < len(pairs) and pairs[j + 1][0] == pairs[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2 + 1
        i = j + 1
    n_pos = sum(1 for _, p in pairs if p)
    n_neg = len(pairs) - n_pos
    rank_sum = sum(r for r, (_, p) in zip(ranks, pairs, strict=True) if p)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
