"""A realistic, seeded demo of the whole library: ``sfakit demo``.

It makes up a book of business (:mod:`sfakit.demo.dataset`: a sales team in a territory
tree of about 200 territories, customers, two years of leads and deals with their stage
history, standing orders), stores it in SQLite, lives the last six months of it through
the service day by day (:mod:`sfakit.demo.simulation`: deals moved with the stage rules
checked, new leads routed and scored, the scheduler placing standing orders exactly
once with follow-ups and reminders, notifications to a log file), and prints the sales
report (:mod:`sfakit.report`). The same seed and day always make the same book.
"""

from __future__ import annotations

from sfakit.demo.dataset import SIZES, Dataset, DemoSize, generate
from sfakit.demo.progress import Progress
from sfakit.demo.run import DemoResult, run_demo
from sfakit.demo.simulation import DemoRun

__all__ = [
    "SIZES",
    "Dataset",
    "DemoResult",
    "DemoRun",
    "DemoSize",
    "Progress",
    "generate",
    "run_demo",
]
