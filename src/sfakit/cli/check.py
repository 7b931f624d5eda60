"""``sfakit rules check FILE...``: check rule files before they reach a database.

A rule file is one JSON object whose top-level ``"kind"`` says what it holds; the other
keys are that object's plain data (:func:`sfakit.codec.to_data` form), so error paths
read as paths into the file:

* ``"criteria"`` — a criteria of :mod:`sfakit.rules` (``"all"``, ``"any"``, ``"not"``
  or one condition's ``"field"``/``"op"``/``"value"``) with a ``"subject"``: the record
  type it tests, which it is compiled against (every field, operator and value checked);
* ``"scorecard"`` — a :class:`~sfakit.qualification.Scorecard` (built, so each of its
  criteria is compiled against its subject);
* ``"territory_tree"`` — a :class:`~sfakit.territory.TerritoryTree`, built and then
  linted with :func:`~sfakit.territory.lint_tree` (shadowed, tied and unreachable
  territories, territories nobody receives items from).

Every problem is reported with its path, ``$.nodes[3].rules.field: got 'contry'; …``,
as ``mypy`` or ``ruff`` report every finding rather than the first.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs

from sfakit.cli.output import print_json
from sfakit.codec import from_data
from sfakit.errors import ValidationError
from sfakit.model import ENTITY_TYPES
from sfakit.pipeline import DealContext
from sfakit.qualification import Engagement, Scorecard
from sfakit.rules import AllOf, AnyOf, Criteria, Not, compile_criteria, criteria_from_data
from sfakit.territory import RoutingSubject, TerritoryTree, lint_tree

__all__ = ["FILE_KINDS", "SUBJECTS", "Checked", "Finding", "check", "check_document"]

#: The values of a rule file's ``"kind"``.
FILE_KINDS: Final = ("criteria", "scorecard", "territory_tree")
#: What a ``"criteria"`` file's ``"subject"`` may name: every entity, and the records
#: routing, scoring and stage requirements test.
SUBJECTS: Final[dict[str, type]] = {
    **ENTITY_TYPES,
    "RoutingSubject": RoutingSubject,
    "Engagement": Engagement,
    "DealContext": DealContext,
}


@attrs.frozen
class Finding:
    """One problem: where in the file (a JSONPath), what, and which check found it
    (``error`` for invalid data, else the lint kind).

    >>> Finding("$.nodes[2].rules", "no subject can match", "unreachable").describe()
    '$.nodes[2].rules: unreachable: no subject can match'
    """

    path: str
    message: str
    check: str = "error"

    def describe(self) -> str:
        if self.check == "error":
            return f"{self.path}: {self.message}"
        return f"{self.path}: {self.check}: {self.message}"


@attrs.frozen
class Checked:
    """A file's verdict: its kind (None when unreadable), what it holds, what is wrong."""

    kind: str | None
    summary: str
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not self.findings


def _errors(exc: ValidationError) -> tuple[Finding, ...]:
    # A problem describes itself as "<path>: <what>"; the finding keeps the two apart.
    return tuple(Finding(p.path, p.describe()[len(p.path) + 2 :]) for p in exc.problems)


def _leaves(criteria: Criteria) -> int:
    if isinstance(criteria, AllOf | AnyOf):
        return sum(_leaves(item) for item in criteria.items)
    if isinstance(criteria, Not):
        return _leaves(criteria.item)
    return 1


def _criteria(body: dict[str, Any]) -> Checked:
    name = body.pop("subject", None)
    subject = SUBJECTS.get(name) if isinstance(name, str) else None
    found: list[Finding] = []
    if subject is None:
        problem = ValidationError(
            "$.subject",
            name,
            f"the record type the criteria tests, one of {', '.join(SUBJECTS)}",
        )
        found.extend(_errors(problem))
    try:
        criteria = criteria_from_data(body)
    except ValidationError as exc:
        return Checked("criteria", "criteria", (*found, *_errors(exc)))
    if subject is None:
        return Checked("criteria", "criteria", tuple(found))
    try:
        compile_criteria(criteria, subject)
    except ValidationError as exc:
        return Checked("criteria", f"criteria over {name}", _errors(exc))
    count = _leaves(criteria)
    return Checked("criteria", f"criteria over {name}, {count} conditions", ())


def _scorecard(body: dict[str, Any]) -> Checked:
    try:
        card = from_data(Scorecard, body)
    except ValidationError as exc:
        return Checked("scorecard", "scorecard", _errors(exc))
    rules = sum(len(group.rules) for group in card.groups)
    return Checked(
        "scorecard",
        f"scorecard {card.name!r}, {len(card.groups)} groups, {rules} rules, "
        f"{len(card.disqualifiers)} disqualifiers",
        (),
    )


def _territory_tree(body: dict[str, Any], ignore: frozenset[str]) -> Checked:
    try:
        tree = from_data(TerritoryTree, body)
    except ValidationError as exc:
        return Checked("territory_tree", "territory tree", _errors(exc))
    issues = [i for i in lint_tree(tree) if i.kind.value not in ignore]
    findings = tuple(Finding(i.path, i.message, i.kind.value) for i in issues)
    return Checked("territory_tree", f"territory tree, {len(tree.nodes)} territories", findings)


def check_document(data: object, *, ignore: Iterable[str] = ()) -> Checked:
    """Check one parsed rule file; ``ignore`` names lint kinds not to report."""
    if not isinstance(data, Mapping):
        problem = ValidationError("$", data, 'an object with a "kind"')
        return Checked(None, "not a rule file", _errors(problem))
    body = dict(data)
    kind = body.pop("kind", None)
    if kind == "criteria":
        return _criteria(body)
    if kind == "scorecard":
        return _scorecard(body)
    if kind == "territory_tree":
        return _territory_tree(body, frozenset(ignore))
    problem = ValidationError("$.kind", kind, f"one of {', '.join(FILE_KINDS)}")
    return Checked(None, "not a rule file", _errors(problem))


def _check_file(path: str, ignore: Iterable[str]) -> Checked:
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except (OSError, UnicodeDecodeError) as exc:
        return Checked(None, "unreadable", (Finding("$", f"cannot read the file: {exc}"),))
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        return Checked(None, "not JSON", (Finding("$", f"not valid JSON: {exc.msg} ({where})"),))
    return check_document(data, ignore=ignore)


def check(args: argparse.Namespace) -> int:
    """Check every file; print each problem with its file and path; 1 if any."""
    ignore = set(args.ignore or ())
    results = [(path, _check_file(path, ignore)) for path in args.files]
    if args.json:
        print_json(
            [
                {
                    "file": path,
                    "kind": checked.kind,
                    "ok": checked.ok,
                    "summary": checked.summary,
                    "problems": [attrs.asdict(f) for f in checked.findings],
                }
                for path, checked in results
            ]
        )
    else:
        for path, checked in results:
            for finding in checked.findings:
                print(f"{path}: {finding.describe()}")
            count = len(checked.findings)
            verdict = "ok" if checked.ok else f"{count} problem{'s' if count != 1 else ''}"
            print(f"{path}: {verdict} ({checked.summary})")
    return 0 if all(checked.ok for _, checked in results) else 1
