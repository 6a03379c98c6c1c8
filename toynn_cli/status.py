"""Status labels: what happened to a network, read off its errors and weights.

The rule, in order (the first that applies wins):

``diverged``
    a weight, output or error is not finite; or the final error is higher than the
    error at iteration 0: the steps overshot until the sigmoids saturated (the
    tutorial's alpha 1000: every unit pinned at 0 or 1, the error stuck at 0.5).
``converged``
    the final error is at most ``CONVERGED`` (0.05).
``learning``
    the error fell by more than ``STILL_LEARNING`` (0.1 %, relative) over the last
    tenth of the run: it was still improving when training stopped (alpha 0.001).
``stuck``
    anything else: a plateau well above zero (the tutorial's alpha 100, near 0.125).
"""

from __future__ import annotations

import math

import numpy as np

from toynn_cli.engine import NetworkResult

STATUSES = ("converged", "learning", "stuck", "diverged")
CONVERGED = 0.05
STILL_LEARNING = 1e-3


def classify(result: NetworkResult) -> str:
    """The status label of one trained network (see the module docstring for the rule)."""
    final = result.final_error
    finite = math.isfinite(final) and all(np.isfinite(w).all() for w in result.weights)
    if not finite or not np.isfinite(result.outputs).all():
        return "diverged"
    if final > result.history_errors[0]:
        return "diverged"
    if final <= CONVERGED:
        return "converged"
    if _tail_improvement(result) > STILL_LEARNING:
        return "learning"
    return "stuck"


def _tail_improvement(result: NetworkResult) -> float:
    """Relative fall of the error over (about) the last tenth of the iterations."""
    start = result.iterations - max(1, result.iterations // 10)
    recorded = result.history_iterations
    before = result.history_errors[np.searchsorted(recorded, start, side="right") - 1]
    if not before > 0:
        return 0.0
    return (before - result.final_error) / before
