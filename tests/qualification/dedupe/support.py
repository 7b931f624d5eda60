"""Records, rule sets and Hypothesis strategies shared by the dedupe tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from hypothesis import strategies as st

from sfakit.qualification.dedupe import (
    Comparison,
    KindPair,
    MatchField,
    MatchRecord,
    MatchRule,
    MatchRuleSet,
    Method,
    RecordKind,
    Scorer,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LATER = datetime(2062, 1, 1, tzinfo=UTC)  # after every datetime sfakit's strategies draw

T = TypeVar("T")


def make(cls: type[T], **fields: Any) -> T:
    """``cls(**fields)``: ids given as plain strings, which mypy would want as NewTypes."""
    return cls(**fields)


PREFIX = {RecordKind.LEAD: "lead", RecordKind.CONTACT: "cont", RecordKind.ACCOUNT: "acct"}


def record(kind: RecordKind | str, n: int | str, **fields: Any) -> MatchRecord:
    kind = RecordKind(kind)
    return MatchRecord(kind=kind, id=f"{PREFIX[kind]}_{n}", **fields)


# -- values that are often close to each other -------------------------------------------

BASES = (
    "anna schmidt",
    "ana schmitt",
    "acme",
    "acme lighting",
    "brightside hotels",
    "li",
    "bo",
    "x",
    "muller sohne",
    "mueller",
    "abcabcab",
)


@st.composite
def near(draw: st.DrawFn, base: str) -> str:
    """``base`` with up to three random edits: near duplicates, and some far ones."""
    chars = list(base)
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(("insert", "delete", "replace", "swap")))
        i = draw(st.integers(0, max(0, len(chars) - 1)))
        c = draw(st.sampled_from("aemno "))
        if op == "insert":
            chars.insert(i, c)
        elif chars and op == "delete":
            del chars[i]
        elif chars and op == "replace":
            chars[i] = c
        elif len(chars) > 1 and i + 1 < len(chars):
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars)


texts: st.SearchStrategy[str | None] = st.one_of(
    st.none(),
    st.sampled_from(BASES).flatmap(near),
    st.text(alphabet="ab c", max_size=7),
).map(lambda s: s if s is None or s.strip() else None)

EMAILS = ("a@x.de", "A@X.de", "b@x.de", "c@y.fr")
PHONES = ("+4989111", "+4989222", " +4989111 ")
COUNTRIES = (None, "DE", "de", "FR")
CITIES = (None, "München", "Muenchen", "Paris")
WEBSITES = (None, "https://www.acme.de/", "acme.de", "brightside.com")
ACCOUNT_IDS = (None, "acct_a", "acct_b")


@st.composite
def record_fields(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "kind": draw(st.sampled_from(list(RecordKind))),
        "first_name": draw(texts),
        "last_name": draw(texts),
        "company": draw(texts),
        "emails": draw(st.lists(st.sampled_from(EMAILS), max_size=2, unique=True)),
        "phones": draw(st.lists(st.sampled_from(PHONES), max_size=2, unique=True)),
        "country": draw(st.sampled_from(COUNTRIES)),
        "city": draw(st.sampled_from(CITIES)),
        "postal_code": draw(st.sampled_from((None, "80331", "80 331", "75001"))),
        "website": draw(st.sampled_from(WEBSITES)),
        "account_id": draw(st.sampled_from(ACCOUNT_IDS)),
    }


def records(max_size: int = 20) -> st.SearchStrategy[list[MatchRecord]]:
    """Records with unique ids (by position), mixed kinds, many near duplicates."""
    return st.lists(record_fields(), max_size=max_size).map(
        lambda rows: [record(row.pop("kind"), i, **row) for i, row in enumerate(rows)]
    )


# -- rules -------------------------------------------------------------------------------

FUZZY_FIELDS = [f for f in MatchField if f.fuzzy_allowed]
THRESHOLDS = st.one_of(
    st.sampled_from([Decimal(v) for v in ("50", "66.67", "75", "80", "85", "90", "95", "100")]),
    st.integers(1, 100).map(Decimal),
)


@st.composite
def comparisons(draw: st.DrawFn, fuzzy_only: bool = False) -> Comparison:
    blank = draw(st.booleans())
    if not fuzzy_only and draw(st.booleans()):
        return Comparison(field=draw(st.sampled_from(list(MatchField))), match_blank=blank)
    return Comparison(
        field=draw(st.sampled_from(FUZZY_FIELDS)),
        method=Method.FUZZY,
        scorer=draw(st.sampled_from(list(Scorer))),
        threshold=draw(THRESHOLDS),
        match_blank=blank,
    )


kind_pairs = st.builds(
    KindPair, st.sampled_from(list(RecordKind)), st.sampled_from(list(RecordKind))
)


@st.composite
def rule_sets(draw: st.DrawFn, max_rules: int = 3, fuzzy_only: bool = False) -> MatchRuleSet:
    count = draw(st.integers(1, max_rules))
    return MatchRuleSet(
        rules=[
            MatchRule(
                name=f"rule_{i}",
                comparisons=draw(st.lists(comparisons(fuzzy_only), min_size=1, max_size=2)),
                kinds=draw(st.lists(kind_pairs, max_size=2)),
                description=draw(st.none() | st.just("why")),
            )
            for i in range(count)
        ]
    )
