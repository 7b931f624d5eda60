"""Pipelines as data: ordered sales stages with their probabilities, forecast categories,
entry requirements and exit checklists (Salesforce's *OpportunityStage* and *Path*).

A :class:`Pipeline` checks its invariants when it is built or loaded with
:func:`sfakit.codec.from_data`, reporting every problem by path (``$.stages[3].probability``):
stage keys are unique; exactly one stage is won and at least one lost; the won stage has
probability 100 and forecast category ``closed``, lost stages 0 and ``omitted`` (a lost
deal never counts in a forecast); open stages are never ``closed`` and come before every
closed stage; every requirement's criteria compiles against
:class:`~sfakit.pipeline.context.DealContext`. The criteria are compiled once, when the
pipeline is built; the compiled form is not part of the data.

>>> p = standard_pipeline()
>>> [s.key for s in p.stages]
['prospect', 'qualify', 'propose', 'negotiate', 'closed_won', 'closed_lost']
>>> p.won_stage.probability, p.stage("negotiate").forecast_category
(Decimal('100'), <ForecastCategory.COMMIT: 'commit'>)
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, Final

import attrs

from sfakit.errors import NotFoundError, Problem, ValidationError
from sfakit.model.checks import (
    enum_of,
    instance_of,
    optional,
    percentage,
    text,
    to_decimal,
    to_tuple,
    tuple_of,
)
from sfakit.model.opportunities import ForecastCategory, Opportunity
from sfakit.pipeline.context import DealContext
from sfakit.rules import (
    AllOf,
    AnyOf,
    CompiledCriteria,
    Condition,
    Criteria,
    Not,
    compile_criteria,
    field,
)

__all__ = ["Checklist", "Pipeline", "PipelineSet", "Requirement", "Stage", "standard_pipeline"]

_key = text(max_length=100)
_bool = instance_of(bool, "true or false")
_NODES: Final = (Condition, AllOf, AnyOf, Not)


class Checklist(enum.StrEnum):
    """Which list of a stage a requirement belongs to; the value is the field's name.

    ``ENTRY`` requirements must hold to enter the stage, the ``EXIT`` checklist to leave
    it forward (Dynamics 365's business process flow steps, Salesforce Path's key fields).

    >>> Checklist("exit_checklist") is Checklist.EXIT
    True
    """

    ENTRY = "entry_requirements"
    EXIT = "exit_checklist"


def _criteria_node(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, _NODES):
        raise ValidationError(
            "$.criteria", value, "a criteria node: Condition, AllOf, AnyOf or Not"
        )


@attrs.frozen(kw_only=True)
class Requirement:
    """A named condition on a :class:`~sfakit.pipeline.context.DealContext`, with the
    guidance a rep sees while it is not met.

    >>> from sfakit.rules import field
    >>> budget = Requirement(name="amount_known", criteria=field("opportunity.amount").is_set(),
    ...                      message="Enter the expected amount")
    >>> budget.name
    'amount_known'
    """

    name: str = attrs.field(validator=_key)
    criteria: Criteria = attrs.field(validator=_criteria_node)
    message: str | None = attrs.field(default=None, validator=optional(text(max_length=500)))


_requirements = tuple_of(instance_of(Requirement, "a Requirement"))


def _duplicates(values: list[str]) -> Iterator[tuple[int, int]]:
    """``(index, index of the first occurrence)`` for every repeated value."""
    first: dict[str, int] = {}
    for index, value in enumerate(values):
        if value in first:
            yield index, first[value]
        else:
            first[value] = index


@attrs.frozen(kw_only=True)
class Stage:
    """One step of a pipeline.

    ``probability`` (0-100) and ``forecast_category`` are the defaults a deal in this
    stage gets. A closed stage is won or lost: ``is_won`` needs ``is_closed``.

    >>> from decimal import Decimal
    >>> from sfakit.model import ForecastCategory
    >>> Stage(key="propose", label="Proposal", probability=Decimal(50),
    ...       forecast_category=ForecastCategory.BEST_CASE).is_closed
    False
    """

    key: str = attrs.field(validator=_key)
    label: str = attrs.field(validator=text(max_length=200))
    probability: Decimal = attrs.field(converter=to_decimal, validator=percentage)
    forecast_category: ForecastCategory = attrs.field(validator=enum_of(ForecastCategory))
    is_closed: bool = attrs.field(default=False, validator=_bool)
    is_won: bool = attrs.field(default=False, validator=_bool)
    entry_requirements: tuple[Requirement, ...] = attrs.field(
        default=(), converter=to_tuple, validator=_requirements
    )
    exit_checklist: tuple[Requirement, ...] = attrs.field(
        default=(), converter=to_tuple, validator=_requirements
    )
    guidance: str | None = attrs.field(default=None, validator=optional(text(max_length=2000)))

    @property
    def is_lost(self) -> bool:
        """Closed and not won."""
        return self.is_closed and not self.is_won

    def requirements(self, checklist: Checklist) -> tuple[Requirement, ...]:
        """The entry requirements or the exit checklist."""
        return self.entry_requirements if checklist is Checklist.ENTRY else self.exit_checklist

    def __attrs_post_init__(self) -> None:
        problems: list[Problem] = []
        category = self.forecast_category
        if self.is_won and not self.is_closed:
            problems.append(Problem("$.is_won", "false unless is_closed is true", True))
        if self.is_won:
            if self.probability != 100:
                problems.append(Problem("$.probability", "100 for the won stage", self.probability))
            if category is not ForecastCategory.CLOSED:
                problems.append(
                    Problem("$.forecast_category", "closed for the won stage", category.value)
                )
        elif self.is_closed:
            if self.probability != 0:
                problems.append(Problem("$.probability", "0 for a lost stage", self.probability))
            if category is not ForecastCategory.OMITTED:
                problems.append(
                    Problem(
                        "$.forecast_category",
                        "omitted for a lost stage (a lost deal never counts in a forecast)",
                        category.value,
                    )
                )
        elif category is ForecastCategory.CLOSED:
            problems.append(
                Problem(
                    "$.forecast_category",
                    "pipeline, best_case, commit or omitted for an open stage "
                    "(closed is for closed stages)",
                    category.value,
                )
            )
        if self.is_closed and self.exit_checklist:
            problems.append(
                Problem(
                    "$.exit_checklist",
                    "no exit checklist for a closed stage (it is only left by reopening)",
                    [r.name for r in self.exit_checklist],
                )
            )
        for checklist in Checklist:
            names = [r.name for r in self.requirements(checklist)]
            for index, first in _duplicates(names):
                problems.append(
                    Problem(
                        f"$.{checklist.value}[{index}].name",
                        f"a name not used by {checklist.value}[{first}]",
                        names[index],
                    )
                )
        if problems:
            raise ValidationError.from_problems(problems, subject="stage")


Compiled = tuple[tuple[Requirement, CompiledCriteria[DealContext]], ...]


@attrs.frozen(kw_only=True)
class Pipeline:
    """An ordered list of stages, the moves it allows and the reasons a deal may be lost.

    Open stages come first, in selling order; the closed stages (one won, one or more
    lost) come after them. ``allow_skip_forward`` and ``allow_backward`` default to True,
    as in Salesforce, where any stage may be picked; set them to False for a strict
    business process flow (Dynamics 365). See :mod:`sfakit.pipeline.guidance` for the
    moves.

    >>> from sfakit.codec import from_data, to_data
    >>> p = standard_pipeline()
    >>> from_data(Pipeline, to_data(p)) == p
    True
    >>> data = to_data(p)
    >>> data["stages"][4]["probability"] = "90"
    >>> from_data(Pipeline, data)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sfakit.errors.ValidationError: invalid Pipeline: $.stages[4].probability: got Decimal('90')...
    """

    key: str = attrs.field(validator=_key)
    label: str = attrs.field(validator=text(max_length=200))
    stages: tuple[Stage, ...] = attrs.field(
        converter=to_tuple, validator=tuple_of(instance_of(Stage, "a Stage"))
    )
    lost_reasons: tuple[str, ...] = attrs.field(
        converter=to_tuple, validator=tuple_of(text(max_length=200))
    )
    allow_skip_forward: bool = attrs.field(default=True, validator=_bool)
    allow_backward: bool = attrs.field(default=True, validator=_bool)
    description: str | None = attrs.field(default=None, validator=optional(text(max_length=2000)))
    # Derived when built; not data (to_data skips init=False fields), not compared.
    _index: dict[str, int] = attrs.field(init=False, eq=False, repr=False, hash=False)
    _compiled: dict[tuple[str, Checklist], Compiled] = attrs.field(
        init=False, eq=False, repr=False, hash=False
    )

    def __attrs_post_init__(self) -> None:
        problems = self._problems()
        compiled: dict[tuple[str, Checklist], Compiled] = {}
        for i, stage in enumerate(self.stages):
            for checklist in Checklist:
                entries = []
                for j, requirement in enumerate(stage.requirements(checklist)):
                    try:
                        rule = compile_criteria(requirement.criteria, DealContext)
                    except ValidationError as exc:
                        where = f"$.stages[{i}].{checklist.value}[{j}].criteria"
                        problems.extend(p.under(where) for p in exc.problems)
                        continue
                    entries.append((requirement, rule))
                compiled[stage.key, checklist] = tuple(entries)
        if problems:
            raise ValidationError.from_problems(problems, subject="pipeline")
        object.__setattr__(self, "_index", {s.key: i for i, s in enumerate(self.stages)})
        object.__setattr__(self, "_compiled", compiled)

    def _problems(self) -> list[Problem]:
        problems: list[Problem] = []
        stages = self.stages
        keys = [s.key for s in stages]
        for index, first in _duplicates(keys):
            problems.append(
                Problem(f"$.stages[{index}].key", f"a key not used by stages[{first}]", keys[index])
            )
        won = [i for i, s in enumerate(stages) if s.is_won]
        if not won:
            problems.append(Problem("$.stages", "exactly one won stage (is_won: true); none is"))
        for i in won[1:]:
            problems.append(
                Problem(
                    f"$.stages[{i}].is_won",
                    f"false: stages[{won[0]}] ({keys[won[0]]!r}) is already the won stage",
                    True,
                )
            )
        if not any(s.is_lost for s in stages):
            problems.append(
                Problem("$.stages", "at least one lost stage (is_closed: true, is_won: false)")
            )
        if not any(not s.is_closed for s in stages):
            problems.append(Problem("$.stages", "at least one open stage (is_closed: false)"))
        first_closed = next((i for i, s in enumerate(stages) if s.is_closed), None)
        if first_closed is not None:
            for i in range(first_closed + 1, len(stages)):
                if not stages[i].is_closed:
                    problems.append(
                        Problem(
                            f"$.stages[{i}].is_closed",
                            "true: open stages come before every closed stage "
                            f"(stages[{first_closed}] {keys[first_closed]!r} is closed)",
                            False,
                        )
                    )
        if not self.lost_reasons:
            problems.append(Problem("$.lost_reasons", "at least one reason a deal may be lost", []))
        for index, first in _duplicates(list(self.lost_reasons)):
            problems.append(
                Problem(
                    f"$.lost_reasons[{index}]",
                    f"a reason not listed before (lost_reasons[{first}])",
                    self.lost_reasons[index],
                )
            )
        return problems

    def __reduce__(self) -> tuple[Any, ...]:
        # Compiled criteria hold generated functions: pickle the data, rebuild on load.
        fields = {a.name: getattr(self, a.name) for a in attrs.fields(type(self)) if a.init}
        return (_rebuild, (type(self), fields))

    # -- lookups --------------------------------------------------------------------

    @property
    def keys(self) -> tuple[str, ...]:
        """The stage keys, in order."""
        return tuple(self._index)

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def index(self, key: str) -> int:
        """The position of stage ``key`` (a ValidationError at ``$.stage`` if unknown)."""
        try:
            return self._index[key]
        except (KeyError, TypeError):
            raise self.unknown_stage("$.stage", key) from None

    def stage(self, key: str) -> Stage:
        """The stage with ``key``; a ValidationError naming the stages there are if none."""
        return self.stages[self.index(key)]

    def unknown_stage(self, path: str, key: object) -> ValidationError:
        """The error for a stage key this pipeline does not have, at ``path``."""
        return ValidationError(
            path, key, f"one of the stages of pipeline {self.key!r}: {', '.join(self._index)}"
        )

    @property
    def open_stages(self) -> tuple[Stage, ...]:
        """The open stages, in selling order."""
        return tuple(s for s in self.stages if not s.is_closed)

    @property
    def won_stage(self) -> Stage:
        """The one won stage."""
        return next(s for s in self.stages if s.is_won)

    @property
    def lost_stages(self) -> tuple[Stage, ...]:
        """The lost stages (at least one)."""
        return tuple(s for s in self.stages if s.is_lost)

    def compiled(self, stage: str, checklist: Checklist) -> Compiled:
        """The requirements of ``stage``'s ``checklist``, each with its compiled criteria."""
        return self._compiled[self.stage(stage).key, checklist]

    def probability_of(self, opportunity: Opportunity) -> Decimal:
        """The deal's probability: its override, else its stage's; closed stages ignore
        overrides (won is 100, lost 0), as Salesforce does.

        >>> from datetime import datetime, timezone
        >>> from sfakit.model import Opportunity
        >>> deal = Opportunity(name="Bulbs", account_id="acct_acme", pipeline="standard",
        ...     stage="propose", created_at=datetime(2026, 3, 2, tzinfo=timezone.utc))
        >>> standard_pipeline().probability_of(deal)
        Decimal('50')
        """
        stage = self.stage(opportunity.stage)
        if stage.is_closed or opportunity.probability_override is None:
            return stage.probability
        return opportunity.probability_override

    def forecast_category_of(self, opportunity: Opportunity) -> ForecastCategory:
        """The deal's forecast category: its override, else its stage's (closed stages
        ignore overrides)."""
        stage = self.stage(opportunity.stage)
        if stage.is_closed or opportunity.forecast_category_override is None:
            return stage.forecast_category
        return opportunity.forecast_category_override


def _rebuild(cls: type[Pipeline], fields: dict[str, Any]) -> Pipeline:
    return cls(**fields)


@attrs.frozen
class PipelineSet:
    """Several pipelines (one per product line, say), looked up by key.

    >>> pipelines = PipelineSet((standard_pipeline(), standard_pipeline("renewals")))
    >>> pipelines.get("renewals").key, len(pipelines)
    ('renewals', 2)
    """

    pipelines: tuple[Pipeline, ...] = attrs.field(
        converter=to_tuple, validator=tuple_of(instance_of(Pipeline, "a Pipeline"))
    )
    _by_key: dict[str, Pipeline] = attrs.field(init=False, eq=False, repr=False, hash=False)

    def __attrs_post_init__(self) -> None:
        keys = [p.key for p in self.pipelines]
        problems = [
            Problem(f"$.pipelines[{i}].key", f"a key not used by pipelines[{first}]", keys[i])
            for i, first in _duplicates(keys)
        ]
        if problems:
            raise ValidationError.from_problems(problems, subject="pipeline set")
        object.__setattr__(self, "_by_key", {p.key: p for p in self.pipelines})

    def get(self, key: str) -> Pipeline:
        """The pipeline with ``key``, or :class:`~sfakit.errors.NotFoundError`."""
        try:
            return self._by_key[key]
        except (KeyError, TypeError):
            raise NotFoundError("Pipeline", str(key), field="key") from None

    def for_opportunity(self, opportunity: Opportunity) -> Pipeline:
        """The pipeline the deal is in."""
        return self.get(opportunity.pipeline)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self._by_key)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def __iter__(self) -> Iterator[Pipeline]:
        return iter(self.pipelines)

    def __len__(self) -> int:
        return len(self.pipelines)


def standard_pipeline(key: str = "standard", *, label: str = "Standard sales") -> Pipeline:
    """A ready-made pipeline modelled on Salesforce's default opportunity stages.

    ``prospect`` (10 %, pipeline) → ``qualify`` (20 %, pipeline) → ``propose`` (50 %,
    best case) → ``negotiate`` (80 %, commit) → ``closed_won`` / ``closed_lost``.
    Leaving ``qualify`` needs a next step; entering ``propose`` an amount; entering
    ``negotiate`` a known decision maker. Skipping forward and moving back are allowed.

    >>> p = standard_pipeline()
    >>> [r.name for r in p.stage("negotiate").entry_requirements]
    ['decision_maker_known']
    >>> p.lost_reasons[:2]
    ('price', 'competitor')
    """
    c = ForecastCategory
    return Pipeline(
        key=key,
        label=label,
        stages=(
            Stage(key="prospect", label="Prospect", probability=10, forecast_category=c.PIPELINE),
            Stage(
                key="qualify",
                label="Qualify",
                probability=20,
                forecast_category=c.PIPELINE,
                exit_checklist=(
                    Requirement(
                        name="next_step_set",
                        criteria=~field("opportunity.next_step").is_empty(),
                        message="Agree on a next step with the customer",
                    ),
                ),
            ),
            Stage(
                key="propose",
                label="Proposal",
                probability=50,
                forecast_category=c.BEST_CASE,
                entry_requirements=(
                    Requirement(
                        name="amount_set",
                        criteria=field("opportunity.amount").is_set(),
                        message="Enter the expected amount",
                    ),
                ),
            ),
            Stage(
                key="negotiate",
                label="Negotiation",
                probability=80,
                forecast_category=c.COMMIT,
                entry_requirements=(
                    Requirement(
                        name="decision_maker_known",
                        criteria=field("contact_roles").contains("decision_maker"),
                        message="Add the contact who decides, with the role decision_maker",
                    ),
                ),
            ),
            Stage(
                key="closed_won",
                label="Closed won",
                probability=100,
                forecast_category=c.CLOSED,
                is_closed=True,
                is_won=True,
            ),
            Stage(
                key="closed_lost",
                label="Closed lost",
                probability=0,
                forecast_category=c.OMITTED,
                is_closed=True,
            ),
        ),
        lost_reasons=("price", "competitor", "no_budget", "no_decision", "timing", "other"),
    )
