"""Statistical forecasts from history: what the past says about open deals.

Pure functions over :class:`~sfakit.pipeline.Deals` (opportunities with their stage
history) and plain numbers; no storage, no clock (the evaluation time ``as_of`` is
passed in). Every estimate carries the counts it rests on, says why when it has none,
and is data: :func:`sfakit.codec.to_data` / :func:`~sfakit.codec.from_data` round-trip it.

* :mod:`~sfakit.forecast.stats.win_probability` — :func:`learn_win_probabilities`:
  P(won | reached stage) from closed deals, with an optional :class:`BetaPrior`.
* :mod:`~sfakit.forecast.stats.markov` — :func:`learn_chain`: an
  :class:`AbsorbingChain` over stage moves, solved exactly: P(eventually won | current
  stage) and the expected number of moves to a close.
* :mod:`~sfakit.forecast.stats.survival` — :func:`time_to_close`, :func:`kaplan_meier`:
  the Kaplan-Meier time to close, and the chance that an open deal closes within the
  next days.
* :mod:`~sfakit.forecast.stats.simulation` — :func:`simulate`: Monte Carlo of a period
  (P10/P50/P90, mean, histogram), with numpy or in pure Python, reproducible by seed.

>>> from datetime import datetime, timedelta, timezone
>>> from sfakit.model import Money, Opportunity
>>> from sfakit.pipeline import Deals, standard_pipeline
>>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
>>> def deal(name, stage, closed_after=None):
...     closed = None if closed_after is None else t0 + timedelta(days=closed_after)
...     return Opportunity(name=name, account_id="acct_a", pipeline="standard", stage=stage,
...                        amount=Money.of(1000, "EUR"), created_at=t0, closed_at=closed)
>>> deals = Deals.of(standard_pipeline(), [deal("A", "closed_won", 20),
...                                        deal("B", "closed_lost", 40), deal("C", "propose")])
>>> table = time_to_close(deals, as_of=t0 + timedelta(days=30))
>>> [(str(r.time), r.at_risk, r.events, r.censored) for r in table.rows]
[('20', 3, 1, 0), ('30', 2, 0, 2)]
>>> chance = DealChance(deal="C", amount=Money.of(1000, "EUR"), win_probability="0.5")
>>> simulate([chance], seed=1, runs=1000, engine="python").expected
Money('500.00', 'EUR')
"""

from __future__ import annotations

from sfakit.forecast.stats.markov import (
    AbsorbingChain,
    ClosingProbability,
    StageOutlook,
    Transition,
    learn_chain,
)
from sfakit.forecast.stats.simulation import (
    DealChance,
    Engine,
    HistogramBin,
    Simulation,
    simulate,
)
from sfakit.forecast.stats.survival import (
    CloseChance,
    Observation,
    SurvivalRow,
    SurvivalTable,
    kaplan_meier,
    time_to_close,
)
from sfakit.forecast.stats.win_probability import (
    BetaPrior,
    StageWinProbability,
    WinProbabilities,
    learn_win_probabilities,
)

__all__ = [
    "AbsorbingChain",
    "BetaPrior",
    "CloseChance",
    "ClosingProbability",
    "DealChance",
    "Engine",
    "HistogramBin",
    "Observation",
    "Simulation",
    "StageOutlook",
    "StageWinProbability",
    "SurvivalRow",
    "SurvivalTable",
    "Transition",
    "WinProbabilities",
    "kaplan_meier",
    "learn_chain",
    "learn_win_probabilities",
    "simulate",
    "time_to_close",
]
