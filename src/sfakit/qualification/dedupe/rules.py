"""Matching rules as data, the way Salesforce matching rules work.

A :class:`MatchRuleSet` is a list of :class:`MatchRule` s; two records are duplicates
when **any** rule matches them, and a rule matches when **all** of its
:class:`Comparison` s hold. A comparison is exact (the match keys are equal; for emails
and phones: the records share one) or fuzzy (a :class:`Scorer` gives at least
``threshold`` out of 100). A missing value does not match, unless the comparison says
``match_blank`` (Salesforce's "match blank fields"): then two missing values match. A
rule may be limited to some pairs of record kinds (:class:`KindPair`): a company rule
compares accounts, not two people who work at the same company.

>>> from sfakit.codec import from_data, to_data
>>> rule = MatchRule(name="company_in_country", comparisons=[
...     fuzzy(MatchField.COMPANY, 90), exact(MatchField.COUNTRY)],
...     kinds=[KindPair(RecordKind.ACCOUNT, RecordKind.ACCOUNT)])
>>> to_data(rule)["comparisons"][0]
{'field': 'company', 'method': 'fuzzy', 'scorer': 'token_sort_ratio', 'threshold': '90', \
'match_blank': False}
>>> from_data(MatchRule, to_data(rule)) == rule
True
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any, Final, TypeVar

import attrs

from sfakit.errors import Problem, ValidationError
from sfakit.model.checks import (
    enum_of,
    instance_of,
    optional,
    text,
    to_decimal,
    to_tuple,
    tuple_of,
)
from sfakit.qualification.dedupe.records import RecordKind

__all__ = [
    "CONVERSION_RULES",
    "DEFAULT_RULES",
    "Comparison",
    "KindPair",
    "MatchField",
    "MatchRule",
    "MatchRuleSet",
    "Method",
    "Scorer",
    "exact",
    "fuzzy",
]


E = TypeVar("E", bound=enum.Enum)


class MatchField(enum.StrEnum):
    """A comparable field of a :class:`~sfakit.qualification.dedupe.MatchRecord`.

    ``email`` and ``phone`` hold several values (a contact's emails): an exact
    comparison holds when the two records share one. ``full_name`` is first and last
    name together; ``account`` is the account a contact belongs to.

    >>> MatchField.EMAIL.multi_valued, MatchField.COMPANY.fuzzy_allowed
    (True, True)
    """

    EMAIL = "email"
    PHONE = "phone"
    FIRST_NAME = "first_name"
    LAST_NAME = "last_name"
    FULL_NAME = "full_name"
    COMPANY = "company"
    WEBSITE = "website"
    COUNTRY = "country"
    CITY = "city"
    POSTAL_CODE = "postal_code"
    ACCOUNT = "account"

    @property
    def multi_valued(self) -> bool:
        return self in (MatchField.EMAIL, MatchField.PHONE)

    @property
    def fuzzy_allowed(self) -> bool:
        """Identifiers and codes compare exactly; names, companies and places may be fuzzy."""
        return self in _FUZZY_FIELDS


_FUZZY_FIELDS: Final = frozenset(
    {
        MatchField.FIRST_NAME,
        MatchField.LAST_NAME,
        MatchField.FULL_NAME,
        MatchField.COMPANY,
        MatchField.CITY,
        MatchField.WEBSITE,
        MatchField.POSTAL_CODE,
    }
)


class Method(enum.StrEnum):
    """How a comparison compares: equal match keys, or a fuzzy score.

    >>> Method("fuzzy") is Method.FUZZY
    True
    """

    EXACT = "exact"
    FUZZY = "fuzzy"


class Scorer(enum.StrEnum):
    """A similarity score from 0 to 100, as rapidfuzz computes it.

    * ``ratio``: ``rapidfuzz.fuzz.ratio`` — the InDel (insertions and deletions)
      similarity, ``2·LCS / (len(a) + len(b))``;
    * ``token_sort_ratio``: ``rapidfuzz.fuzz.token_sort_ratio`` — ``ratio`` of the
      words sorted, so word order does not matter (``Schmidt Anna`` = ``Anna Schmidt``);
    * ``levenshtein``: 100 · ``rapidfuzz.distance.Levenshtein.normalized_similarity`` —
      ``1 - edits / max(len(a), len(b))`` with substitutions counting one.

    Only scorers whose score bounds the q-grams two strings must share are offered:
    that bound is what lets blocking find exactly the pairs a full comparison finds.

    >>> Scorer.TOKEN_SORT_RATIO.sorts_tokens
    True
    """

    RATIO = "ratio"
    TOKEN_SORT_RATIO = "token_sort_ratio"
    LEVENSHTEIN = "levenshtein"

    @property
    def sorts_tokens(self) -> bool:
        return self is Scorer.TOKEN_SORT_RATIO


def _threshold(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if (
        not isinstance(value, Decimal)
        or not value.is_finite()
        or not 0 < value <= 100
        or value.as_tuple().exponent < -2  # type: ignore[operator]  # finite: an int
    ):
        raise ValidationError(
            "$.threshold", value, "a number above 0 and at most 100, with at most 2 decimals"
        )


@attrs.frozen(kw_only=True)
class Comparison:
    """One field compared: exactly, or fuzzily with a scorer and a threshold (0-100].

    Build them with :func:`exact` and :func:`fuzzy`. With ``match_blank`` two records
    that both lack the field pass (score 100); one lacking it never passes.

    >>> fuzzy(MatchField.LAST_NAME, "87.5", scorer=Scorer.RATIO).threshold
    Decimal('87.5')
    >>> try:
    ...     fuzzy(MatchField.EMAIL, 90)
    ... except ValidationError as err:
    ...     print(err.path)
    $.field
    """

    field: MatchField = attrs.field(validator=enum_of(MatchField))
    method: Method = attrs.field(default=Method.EXACT, validator=enum_of(Method))
    scorer: Scorer | None = attrs.field(default=None, validator=optional(enum_of(Scorer)))
    threshold: Decimal | None = attrs.field(
        default=None, converter=to_decimal, validator=_threshold
    )
    match_blank: bool = attrs.field(default=False, validator=instance_of(bool, "true or false"))

    def __attrs_post_init__(self) -> None:
        if self.method is Method.EXACT:
            for name in ("scorer", "threshold"):
                if getattr(self, name) is not None:
                    raise ValidationError(
                        f"$.{name}", getattr(self, name), "None for an exact comparison"
                    )
            return
        if not self.field.fuzzy_allowed:
            allowed = ", ".join(sorted(f.value for f in _FUZZY_FIELDS))
            raise ValidationError(
                "$.field",
                self.field.value,
                f"a field that may be compared fuzzily ({allowed}); "
                "emails, phones, countries and accounts compare exactly",
            )
        if self.scorer is None:
            raise ValidationError("$.scorer", None, "a Scorer for a fuzzy comparison")
        if self.threshold is None:
            raise ValidationError("$.threshold", None, "a threshold for a fuzzy comparison")

    def describe(self) -> str:
        """``company token_sort_ratio >= 90`` or ``email exact``.

        >>> exact(MatchField.EMAIL).describe()
        'email exact'
        """
        blank = " (blanks match)" if self.match_blank else ""
        if self.method is Method.EXACT:
            return f"{self.field.value} exact{blank}"
        assert self.scorer is not None
        return f"{self.field.value} {self.scorer.value} >= {self.threshold}{blank}"


def exact(field: MatchField | str, *, match_blank: bool = False) -> Comparison:
    """An exact comparison of ``field``'s match keys.

    >>> exact("country", match_blank=True).describe()
    'country exact (blanks match)'
    """
    return Comparison(field=_field(field), method=Method.EXACT, match_blank=match_blank)


def fuzzy(
    field: MatchField | str,
    threshold: Decimal | int | str,
    *,
    scorer: Scorer | str = Scorer.TOKEN_SORT_RATIO,
    match_blank: bool = False,
) -> Comparison:
    """A fuzzy comparison: ``scorer`` (default ``token_sort_ratio``) at least ``threshold``.

    >>> fuzzy("company", 92).describe()
    'company token_sort_ratio >= 92'
    """
    return Comparison(
        field=_field(field),
        method=Method.FUZZY,
        scorer=_enum(Scorer, scorer, "$.scorer"),
        threshold=to_decimal(threshold),
        match_blank=match_blank,
    )


def _field(value: MatchField | str) -> MatchField:
    return _enum(MatchField, value, "$.field")


def _enum(kind: type[E], value: Any, path: str) -> E:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(str(m.value) for m in kind)
        raise ValidationError(path, value, f"one of {allowed}") from None


@attrs.frozen
class KindPair:
    """Two record kinds a rule compares, in either order.

    >>> KindPair(RecordKind.LEAD, RecordKind.CONTACT).covers(RecordKind.CONTACT,
    ...                                                       RecordKind.LEAD)
    True
    """

    first: RecordKind = attrs.field(validator=enum_of(RecordKind))
    second: RecordKind = attrs.field(validator=enum_of(RecordKind))

    def covers(self, a: RecordKind, b: RecordKind) -> bool:
        return (a, b) in ((self.first, self.second), (self.second, self.first))


_name = text(max_length=100)


def _comparisons(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    tuple_of(_is_comparison)(instance, attribute, value)
    if not value:
        raise ValidationError("$.comparisons", value, "at least one comparison")


def _is_comparison(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Comparison):
        raise ValidationError(f"$.{attribute.name}", value, "a Comparison")


def _is_kind_pair(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, KindPair):
        raise ValidationError(f"$.{attribute.name}", value, "a KindPair")


@attrs.frozen(kw_only=True)
class MatchRule:
    """Comparisons that must all hold, for the kind pairs in ``kinds`` (empty: any pair).

    >>> rule = MatchRule(name="same_email", comparisons=[exact(MatchField.EMAIL)])
    >>> rule.applies_to(RecordKind.LEAD, RecordKind.ACCOUNT), rule.describe()
    (True, 'same_email: email exact')
    """

    name: str = attrs.field(validator=_name)
    comparisons: tuple[Comparison, ...] = attrs.field(converter=to_tuple, validator=_comparisons)
    kinds: tuple[KindPair, ...] = attrs.field(
        default=(), converter=to_tuple, validator=tuple_of(_is_kind_pair)
    )
    description: str | None = attrs.field(default=None, validator=optional(text(max_length=500)))

    def applies_to(self, a: RecordKind, b: RecordKind) -> bool:
        return not self.kinds or any(pair.covers(a, b) for pair in self.kinds)

    def describe(self) -> str:
        return f"{self.name}: " + " and ".join(c.describe() for c in self.comparisons)


def _rules(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, tuple) or not value:
        raise ValidationError("$.rules", value, "a non-empty list of MatchRules")
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for i, rule in enumerate(value):
        if not isinstance(rule, MatchRule):
            problems.append(Problem(f"$.rules[{i}]", "a MatchRule", rule))
        elif rule.name in seen:
            problems.append(
                Problem(
                    f"$.rules[{i}].name",
                    f"a name not used before (rules[{seen[rule.name]}] has it)",
                    rule.name,
                )
            )
        else:
            seen[rule.name] = i
    if problems:
        raise ValidationError.from_problems(problems)


@attrs.frozen(kw_only=True)
class MatchRuleSet:
    """The rules, in priority order: a pair is reported with the first rule that matches.

    >>> DEFAULT_RULES.names()
    ('same_email', 'same_phone_and_last_name', 'same_name_and_company', \
'same_company_and_country', 'same_website')
    """

    rules: tuple[MatchRule, ...] = attrs.field(converter=to_tuple, validator=_rules)

    def names(self) -> tuple[str, ...]:
        return tuple(rule.name for rule in self.rules)

    def rule(self, name: str) -> MatchRule:
        """The rule called ``name``.

        >>> DEFAULT_RULES.rule("same_website").describe()
        'same_website: website exact'
        """
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise ValidationError("$.name", name, f"one of {', '.join(self.names())}")


_L, _C, _A = RecordKind.LEAD, RecordKind.CONTACT, RecordKind.ACCOUNT
_PEOPLE: Final = (KindPair(_L, _L), KindPair(_L, _C), KindPair(_C, _C))
_PERSON_RULES: Final = (
    MatchRule(
        name="same_email",
        comparisons=(exact(MatchField.EMAIL),),
        kinds=_PEOPLE,
        description="an email address in common",
    ),
    MatchRule(
        name="same_phone_and_last_name",
        comparisons=(exact(MatchField.PHONE), fuzzy(MatchField.LAST_NAME, 85)),
        kinds=_PEOPLE,
        description="a phone number in common and a similar last name (not a switchboard)",
    ),
    MatchRule(
        name="same_name_and_company",
        comparisons=(fuzzy(MatchField.FULL_NAME, 90), fuzzy(MatchField.COMPANY, 90)),
        kinds=_PEOPLE,
        description="a similar name at a similar company",
    ),
)

#: The rules :func:`~sfakit.qualification.dedupe.find_duplicates` uses by default: people
#: (leads and contacts, across kinds) by email, phone and last name, or name and company;
#: accounts by company name and country, or website.
DEFAULT_RULES: Final = MatchRuleSet(
    rules=(
        *_PERSON_RULES,
        MatchRule(
            name="same_company_and_country",
            comparisons=(fuzzy(MatchField.COMPANY, 90), exact(MatchField.COUNTRY)),
            kinds=(KindPair(_A, _A),),
            description="a similar company name in the same country",
        ),
        MatchRule(
            name="same_website",
            comparisons=(exact(MatchField.WEBSITE),),
            kinds=(KindPair(_A, _A),),
            description="the same website",
        ),
    )
)

#: The rules lead conversion uses to find an existing contact (the person rules) and an
#: existing account (the lead's company in the same country, or both without a country)
#: to reuse.
CONVERSION_RULES: Final = MatchRuleSet(
    rules=(
        *_PERSON_RULES,
        MatchRule(
            name="lead_company_is_account",
            comparisons=(
                fuzzy(MatchField.COMPANY, 90),
                exact(MatchField.COUNTRY, match_blank=True),
            ),
            kinds=(KindPair(_L, _A),),
            description="the lead's company is an account in the same country",
        ),
    )
)
