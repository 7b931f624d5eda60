"""Criteria: a small rule language over record fields.

Build a criteria in Python or load it from JSON-able data, compile it against an attrs
record class (every field, operator and value is checked then, with the path of any bad
node), and evaluate it fast with ``matches`` or with a full explanation with ``explain``.
Pipeline stages, lead scoring and territory routing all use it.

>>> import attrs
>>> from datetime import datetime, timezone
>>> from decimal import Decimal
>>> @attrs.frozen
... class Lead:
...     country: str
...     employees: int
...     last_contact: datetime | None
>>> rule = criteria_from_data({"all": [
...     {"field": "country", "op": "in", "value": ["DE", "AT", "CH"]},
...     {"field": "employees", "op": "gt", "value": 50},
...     {"field": "last_contact", "op": "within_last", "value": {"$duration": "P30D"}},
... ]})
>>> dach = compile_criteria(rule, Lead)
>>> now = datetime(2026, 3, 2, tzinfo=timezone.utc)
>>> dach.matches(Lead("DE", 120, datetime(2026, 2, 20, tzinfo=timezone.utc)), now=now)
True
>>> dach.explain(Lead("FR", 120, None), now=now).fired()[0].field
'employees'
"""

from __future__ import annotations

from sfakit.rules.compiled import ALLOWED_OPS, CompiledCriteria, Matcher, compile_criteria
from sfakit.rules.data import (
    criteria_from_data,
    criteria_to_data,
    value_from_data,
    value_to_data,
)
from sfakit.rules.fields import FieldInfo, FieldKind, FieldType, field_types, resolve_field
from sfakit.rules.nodes import (
    MAX_DEPTH,
    AllOf,
    AnyOf,
    Condition,
    Criteria,
    FieldRef,
    Not,
    Operator,
    all_of,
    any_of,
    field,
    format_duration,
    not_,
    parse_duration,
)
from sfakit.rules.trace import GroupTrace, LeafTrace, Trace, Verdict, show_value

__all__ = [
    "ALLOWED_OPS",
    "MAX_DEPTH",
    "AllOf",
    "AnyOf",
    "CompiledCriteria",
    "Condition",
    "Criteria",
    "FieldInfo",
    "FieldKind",
    "FieldRef",
    "FieldType",
    "GroupTrace",
    "LeafTrace",
    "Matcher",
    "Not",
    "Operator",
    "Trace",
    "Verdict",
    "all_of",
    "any_of",
    "compile_criteria",
    "criteria_from_data",
    "criteria_to_data",
    "field",
    "field_types",
    "format_duration",
    "not_",
    "parse_duration",
    "resolve_field",
    "show_value",
    "value_from_data",
    "value_to_data",
]
