"""The sales report as plain text: short sections of aligned columns, fit for a terminal.

Each section starts with its underlined heading; a section without data says
``no data:`` and why. The standing orders stop after :data:`MAX_ROWS` rows and say how
many more there are.
"""

from __future__ import annotations

from typing import Final

from sfakit.report._format import moment, table
from sfakit.report._tables import Table, body, heading
from sfakit.report.model import SalesReport, Section

__all__ = ["MAX_ROWS", "render_text"]

#: The most standing orders listed; the rest are counted.
MAX_ROWS: Final = 10


def _table(content: Table) -> str:
    rows = content.rows if content.total is None else [*content.rows, content.total]
    return table(content.headers, rows, right=content.numeric)


def render_text(report: SalesReport) -> str:
    """The report as plain text, section after section (see the module's description)."""
    parts = [f"Sales report as of {moment(report.as_of)}, pipeline {report.pipeline}"]
    for section in Section:
        title = heading(report, section)
        lines = [title, "=" * len(title)]
        content = body(report, section, limit=MAX_ROWS)
        if content is None:
            lines.append(f"no data: {report.reason(section)}")
        else:
            if content.before:
                lines.append(content.before)
            if content.table:
                lines.append(_table(content.table))
            if content.after:
                lines.append(content.after)
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"
