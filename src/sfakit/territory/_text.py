"""Criteria as one line of text, for lint messages and realignment reasons (internal)."""

from __future__ import annotations

from sfakit.rules import AllOf, Condition, Criteria, Not, Operator, show_value


def describe(rule: Criteria | None, *, nested: bool = False) -> str:
    """``country eq 'DE' and postal_code startswith '80'``; None reads as ``always``."""
    if rule is None:
        return "always"
    if isinstance(rule, Condition):
        if rule.op in (Operator.IS_SET, Operator.IS_EMPTY):
            return f"{rule.field} {rule.op.value}"
        value = rule.value
        shown = repr(value) if isinstance(value, str) else show_value(value)
        return f"{rule.field} {rule.op.value} {shown}"
    if isinstance(rule, Not):
        return f"not ({describe(rule.item)})"
    if not rule.items:
        return "always" if isinstance(rule, AllOf) else "never"
    joiner = " and " if isinstance(rule, AllOf) else " or "
    text = joiner.join(describe(item, nested=True) for item in rule.items)
    return f"({text})" if nested and len(rule.items) > 1 else text


def describe_all(rules: list[Criteria]) -> str:
    return " and ".join(describe(r, nested=True) for r in rules) or "always"


__all__ = ["describe", "describe_all"]
