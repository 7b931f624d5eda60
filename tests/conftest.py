"""Hypothesis profiles for the whole suite.

``ci`` (the default) is derandomized, so every run tries the same examples, and has no
deadline, so a slow machine does not fail a test. ``dev`` keeps Hypothesis's defaults
(random examples, the example database) for exploring locally. Pick one with
``HYPOTHESIS_PROFILE=dev pytest``.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
