"""Engagement: what a lead did (visited the pricing page, opened an email, attended a
webinar), as events passed in with the lead when it is scored.

Engagement rules of a :class:`~sfakit.qualification.Scorecard` are criteria over
:class:`Engagement` (``kind eq "page_view" and detail startswith "/pricing"``); their
points decay with the event's age. Where the events come from (web analytics, the email
tool, activities in storage) is the caller's business: this package never reads them.

>>> from datetime import datetime, timezone
>>> visit = Engagement(kind="page_view", detail="/pricing",
...                    at=datetime(2026, 3, 1, 17, 5, tzinfo=timezone.utc))
>>> visit.kind, visit.at.isoformat()
('page_view', '2026-03-01T17:05:00+00:00')
"""

from __future__ import annotations

from datetime import datetime

import attrs

from sfakit.model.base import fix_offsets
from sfakit.model.checks import aware_datetime, optional, text

__all__ = ["Engagement"]


@attrs.frozen(kw_only=True)
class Engagement:
    """One thing a lead did, and when.

    ``kind`` names the event type (``"page_view"``, ``"email_open"``,
    ``"webinar_attended"``, ``"form_submitted"`` … any name your sources use);
    ``detail`` refines it (the page path, the campaign, the webinar); ``at`` is when it
    happened (timezone-aware, kept with a fixed UTC offset).

    >>> from datetime import datetime
    >>> Engagement(kind="email_open", at=datetime(2026, 3, 1))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sfakit.errors.ValidationError: $.at: got datetime.datetime(2026, 3, 1, 0, 0); expected a ...
    """

    kind: str = attrs.field(validator=text(max_length=100))
    at: datetime = attrs.field(validator=aware_datetime)
    detail: str | None = attrs.field(default=None, validator=optional(text(max_length=500)))

    def __attrs_post_init__(self) -> None:
        fix_offsets(self)
