"""Status labels: what happened to a network, read off its errors and weights.

The rule, in order (the first that applies wins):

``diverged``
    a weight, output or error is not finite; or the steps blew the weights up (the
    largest weight grew to at least ``GREW`` (10) times the largest initial weight)
    and the error did not improve: it ended above its value at iteration 0, or every
    output is pinned (within ``PINNED`` of 0, 0.5 or 1: saturated sigmoids) and the
    error did not even halve. The tutorial's alpha 1000: every unit saturated, the
    error stuck at 0.5. (Growth is required so that a small step whose mean absolute
    error creeps up while its loss falls is not called diverged.)
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

from toynn_cli.core import network
from toynn_cli.core.network import BatchResult, NetworkResult

STATUSES = ("converged", "learning", "stuck", "diverged")
CONVERGED = 0.05
STILL_LEARNING = 1e-3
GREW = 10.0
PINNED = 1e-3


def classify(result: NetworkResult) -> str:
    """The status label of one trained network (see the module docstring for the rule)."""
    finite = all(np.isfinite(w).all() for w in result.weights) and bool(
        np.isfinite(result.outputs).all()
    )
    largest = max(float(np.abs(w).max()) for w in result.weights) if finite else np.inf
    largest_initial = max(float(np.abs(w).max()) for w in result.weights_initial)
    return str(
        _labels(
            np.array([result.final_error]),
            result.history_iterations,
            result.history_errors[None, :],
            result.iterations,
            np.array([finite]),
            np.array([largest >= GREW * largest_initial]),
            np.array([_pinned(result.outputs)]),
        )[0]
    )


def classify_batch(batch: BatchResult) -> np.ndarray:
    """Every network's label in a batch, computed column-wise (same rule as classify)."""
    finite = np.isfinite(batch.outputs).all(axis=(1, 2))
    for w in batch.weights:
        finite &= np.isfinite(w).all(axis=(1, 2))
    with np.errstate(invalid="ignore"):
        largest = np.max([np.abs(w).max(axis=(1, 2)) for w in batch.weights], axis=0)
    largest_initial = np.max([np.abs(w).max(axis=(1, 2)) for w in batch.weights_initial], axis=0)
    return _labels(
        batch.final_error,
        batch.history_iterations,
        batch.history_errors,
        batch.iterations,
        finite,
        largest >= GREW * largest_initial,
        _pinned(batch.outputs),
    )


def _pinned(outputs: np.ndarray) -> np.ndarray:
    """Every output (last two axes) within PINNED of 0, 0.5 or 1."""
    near = np.abs(outputs[..., None] - np.array([0.0, 0.5, 1.0])).min(axis=-1) <= PINNED
    return near.all(axis=(-2, -1))


def _labels(
    final: np.ndarray,
    recorded: np.ndarray,
    history: np.ndarray,
    iterations: int,
    finite: np.ndarray,
    grew: np.ndarray,
    pinned: np.ndarray,
) -> np.ndarray:
    """The rule, for B networks at once: final (B,), history (B, R) at ``recorded``."""
    # The error at the start of the last tenth of the run, for the "still improving" test
    # (the history always records that iteration, whatever its spacing)
    start = network.tail_start(iterations)
    before = history[:, np.searchsorted(recorded, start, side="right") - 1]
    with np.errstate(all="ignore"):
        improvement = np.where(before > 0, (before - final) / before, 0.0)
        first = history[:, 0]
        worse = (final > first) | (pinned & (final >= 0.5 * first))
        diverged = ~finite | ~np.isfinite(final) | (grew & worse)
        return np.select(
            [diverged, final <= CONVERGED, improvement > STILL_LEARNING],
            ["diverged", "converged", "learning"],
            default="stuck",
        )
