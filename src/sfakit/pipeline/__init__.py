"""Sales pipelines: stages as data, guided selling, stage moves and their history, and
pipeline analytics. Pure: frozen attrs objects in, results out; no storage, no clock.

* :mod:`~sfakit.pipeline.definition` — :class:`Pipeline`, :class:`Stage`,
  :class:`Requirement`, :class:`PipelineSet`, :func:`standard_pipeline`.
* :mod:`~sfakit.pipeline.context` — :class:`DealContext`, what requirements test.
* :mod:`~sfakit.pipeline.guidance` — :func:`available_moves`, :func:`check_move`,
  :class:`MoveRefusedError`.
* :mod:`~sfakit.pipeline.transitions` — :func:`move`, :func:`replay`,
  :func:`creation_change`.
* :mod:`~sfakit.pipeline.deals` and :mod:`~sfakit.pipeline.analytics` — :class:`Deals`,
  then :func:`funnel`, :func:`conversion`, :func:`losses`, :func:`win_rate`,
  :func:`cycle_time`, :func:`time_in_stage`, :func:`velocity`.

>>> from datetime import datetime, timezone
>>> from sfakit.model import Opportunity
>>> p = standard_pipeline()
>>> deal = Opportunity(name="Bulbs", account_id="acct_acme", pipeline="standard",
...                    stage="qualify", created_at=datetime(2026, 3, 2, tzinfo=timezone.utc))
>>> try:
...     move(p, DealContext(opportunity=deal), "propose", by="rep_anna",
...          at=datetime(2026, 3, 9, tzinfo=timezone.utc))
... except MoveRefusedError as refused:
...     print([gap.requirement for gap in refused.unmet])
['next_step_set', 'amount_set']
"""

from __future__ import annotations

from sfakit.pipeline.analytics import (
    Conversion,
    Conversions,
    CurrencyVelocity,
    CurrencyWinRate,
    DayStats,
    Funnel,
    FunnelStep,
    LossCount,
    Losses,
    LossRow,
    Outcome,
    StageCount,
    StageTime,
    StageTimes,
    Velocity,
    WinRate,
    conversion,
    cycle_time,
    funnel,
    losses,
    time_in_stage,
    velocity,
    win_rate,
)
from sfakit.pipeline.context import DealContext
from sfakit.pipeline.deals import Deals, Timeline, Window
from sfakit.pipeline.definition import (
    Checklist,
    Pipeline,
    PipelineSet,
    Requirement,
    Stage,
    standard_pipeline,
)
from sfakit.pipeline.guidance import (
    MoveKind,
    MoveOption,
    MoveRefusedError,
    Unmet,
    UnmetKind,
    available_moves,
    check_move,
)
from sfakit.pipeline.transitions import creation_change, move, replay

__all__ = [
    "Checklist",
    "Conversion",
    "Conversions",
    "CurrencyVelocity",
    "CurrencyWinRate",
    "DayStats",
    "DealContext",
    "Deals",
    "Funnel",
    "FunnelStep",
    "LossCount",
    "LossRow",
    "Losses",
    "MoveKind",
    "MoveOption",
    "MoveRefusedError",
    "Outcome",
    "Pipeline",
    "PipelineSet",
    "Requirement",
    "Stage",
    "StageCount",
    "StageTime",
    "StageTimes",
    "Timeline",
    "Unmet",
    "UnmetKind",
    "Velocity",
    "Window",
    "WinRate",
    "available_moves",
    "check_move",
    "conversion",
    "creation_change",
    "cycle_time",
    "funnel",
    "losses",
    "move",
    "replay",
    "standard_pipeline",
    "time_in_stage",
    "velocity",
    "win_rate",
]
