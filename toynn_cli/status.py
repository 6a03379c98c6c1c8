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

import numpy as np

from toynn_cli.engine import BatchResult, NetworkResult

STATUSES = ("converged", "learning", "stuck", "diverged")
CONVERGED = 0.05
STILL_LEARNING = 1e-3


def classify(result: NetworkResult) -> str:
    """The status label of one trained network (see the module docstring for the rule)."""
    finite = all(np.isfinite(w).all() for w in result.weights) and bool(
        np.isfinite(result.outputs).all()
    )
    return str(
        _labels(
            np.array([result.final_error]),
            result.history_iterations,
            result.history_errors[None, :],
            result.iterations,
            np.array([finite]),
        )[0]
    )


def classify_batch(batch: BatchResult) -> np.ndarray:
    """Every network's label in a batch, computed column-wise (same rule as classify)."""
    finite = np.isfinite(batch.outputs).all(axis=(1, 2))
    for w in batch.weights:
        finite &= np.isfinite(w).all(axis=(1, 2))
    return _labels(
        batch.final_error, batch.history_iterations, batch.history_errors, batch.iterations, finite
    )


def _labels(
    final: np.ndarray,
    recorded: np.ndarray,
    history: np.ndarray,
    iterations: int,
    finite: np.ndarray,
) -> np.ndarray:
    """The rule, for B networks at once: final (B,), history (B, R) at ``recorded``."""
    # The error at the start of the last tenth of the run, for the "still improving" test.
    start = iterations - max(1, iterations // 10)
    before = history[:, np.searchsorted(recorded, start, side="right") - 1]
    with np.errstate(all="ignore"):
        improvement = np.where(before > 0, (before - final) / before, 0.0)
        diverged = ~finite | ~np.isfinite(final) | (final > history[:, 0])
        return np.select(
            [diverged, final <= CONVERGED, improvement > STILL_LEARNING],
            ["diverged", "converged", "learning"],
            default="stuck",
        )
