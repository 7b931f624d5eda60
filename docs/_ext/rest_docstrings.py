"""Griffe extension for the docs build: render sfakit's reST-flavoured docstrings as Markdown.

sfakit's docstrings are written for readers of the source and for doctest: they use reST
roles (``:class:`~sfakit.errors.ValidationError` ``) and bare doctest blocks (``>>>``).
Rendered as Markdown, ``>>>`` becomes nested block quotes and ``[...]`` in doctest output
becomes a broken cross-reference. This extension rewrites, at load time and in memory
only (source files are untouched):

* each doctest block (a run of lines starting with ``>>>`` up to the next blank line)
  into a fenced ``pycon`` code block;
* each reST role (``:class:``, ``:func:``, ``:meth:``, ``:mod:``, ``:attr:``, ``:exc:``,
  ``:data:``, ``:obj:``) into an inline code span, showing only the last dotted part
  when the target starts with ``~`` (as Sphinx does).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|attr|exc|data|obj):`(~?)([^`]+)`")
_FENCE = re.compile(r"^\s*(```|~~~)")


def _role(match: re.Match[str]) -> str:
    tilde, target = match.groups()
    shown = target.rsplit(".", 1)[-1] if tilde else target
    return f"`{shown}`"


def rewrite(text: str) -> str:
    """Fence doctest blocks and turn reST roles into code spans."""
    out: list[str] = []
    in_fence = False
    in_doctest = False
    indent = ""
    for line in text.splitlines():
        stripped = line.strip()
        if in_doctest:
            if not stripped:
                out.append(indent + "```")
                in_doctest = False
            else:
                out.append(line)
                continue
        if _FENCE.match(line):
            in_fence = not in_fence
        if not in_fence and stripped.startswith(">>>"):
            indent = line[: len(line) - len(line.lstrip())]
            if out and out[-1].strip():
                out.append("")
            out.append(indent + "```pycon")
            out.append(line)
            in_doctest = True
            continue
        out.append(line if in_fence else _ROLE.sub(_role, line))
    if in_doctest:
        out.append(indent + "```")
    return "\n".join(out)


class RestDocstrings(griffe.Extension):
    """Rewrite every docstring once the object tree is built."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = rewrite(obj.docstring.value)
