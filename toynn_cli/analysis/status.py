"""Status labels: what happened to a network, read off its errors, outputs and weights.

Each network gets one label, by the first rule that applies (docs/seeing-results.md,
"Statuses", states the same rule for readers):

``diverged``
    a weight, output or error is not finite; or the steps blew the network up and
    training did not bring the error down. Blown up: training moved the weights and
    left every output saturated (within ``SATURATED`` (0.05) of 0 or 1; inputs that
    saturate every sigmoid from the start leave the weights where they were: that
    network is stuck), or the largest weight grew to at least ``GREW`` (10) times
    the largest initial weight. Not brought down: the final error is at least
    ``1 - CAME_DOWN`` (95 %) of the error at iteration 0 or of ``LEARNT_NOTHING``
    (0.5), whichever is smaller. Or the steps ran away: the largest weight grew to at
    least ``RAN_AWAY`` (1000) times the largest initial weight and the network did
    not converge. The tutorial's alpha 1000, and alpha 100 with 32 hidden units:
    every output 0, the error 0.5; alpha 1e6 and above.
``converged``
    the final error is at most ``CONVERGED`` (0.05).
``learning``
    the error fell by more than ``STILL_LEARNING`` (0.1 %, relative) over the last
    tenth of the run: it was still improving when training stopped (alpha 0.001).
``stuck``
    anything else: the error came down (or never blew up) but stopped above
    ``CONVERGED``, on a plateau (the tutorial's alpha 100, near 0.125; xor's 0.25,
    one sample wrong).

Why these quantities: the rule reads only what every run records whatever its
``record_every`` (the error at iteration 0, at the start of the last tenth and
final; the final outputs and weights), so a label never depends on the history's
spacing. 0.5 is the error of a network that learnt nothing on targets 0 and 1 in equal
numbers: every output equal (all 0.5, or all 0 or 1), whatever their value. A blown-up
network ends there while a random start lies anywhere in about 0.47..0.54 (xor,
moons), so "above its start" alone would depend on the seed. A network that learnt
nothing but stayed sane (no hidden layer on xor: every output 0.5, the weights
shrinking) also ends at 0.5: the outputs or the weights tell the two apart.
SATURATED is loose on purpose: every output within 0.05 of 0 or 1 while the error is
still near 0.5 means confidently wrong on about half the samples, which a sane run
from a random start does not reach; a tight bound (1e-6) would split alike networks
(32 hidden units at alpha 10 on xor end at 0.5 with every output near 0, anywhere
between 1e-8 and 0.011).
CAME_DOWN sits in the gap seen over 3600 xor networks (alphas 0.001..1000, hidden
0..32, seeds 0..19, 2000 to 60000 iterations): of the blown-up networks, those that
ended near 0.5 kept at least 99.99 % of the smaller of their start and 0.5, those that
came down (one hidden unit levels off near 0.46) at most 92 %. RAN_AWAY catches what
came down only by luck: at alpha 1e6 and above a few networks freeze with every output
exactly 0 or 0.5 (error 0.375) and weights 3e4 to 3e10 times their start; on the same
grid no network grew more than 93 times, none that converged more than 44 times.
"""

from __future__ import annotations

import numpy as np

from toynn_cli.core import network
from toynn_cli.core.network import BatchResult, NetworkResult

STATUSES = ("converged", "learning", "stuck", "diverged")
#: converged: final error at most this
CONVERGED = 0.05
#: learning: the error fell by more than this fraction over the run's last tenth
STILL_LEARNING = 1e-3
#: blown up: the largest weight at least this many times the largest initial weight
GREW = 10.0
#: ran away: the largest weight at least this many times the largest initial weight
RAN_AWAY = 1000.0
#: blown up: every output within this of 0 or 1 (the sigmoid's slope below 0.05)
SATURATED = 0.05
#: came down: the final error below (1 - CAME_DOWN) times the error at iteration 0
#: or times LEARNT_NOTHING, whichever is smaller
CAME_DOWN = 0.05
#: the error of every output equal (0.5 for targets 0 and 1 in equal numbers)
LEARNT_NOTHING = 0.5


def classify(result: NetworkResult) -> str:
    """The status label of one trained network (see the module docstring for the rule)."""
    finite = all(np.isfinite(w).all() for w in result.weights) and bool(
        np.isfinite(result.outputs).all()
    )
    largest = max(float(np.abs(w).max()) for w in result.weights) if finite else np.inf
    largest_initial = max(float(np.abs(w).max()) for w in result.weights_initial)
    moved = any(not np.array_equal(w, w0) for w, w0 in zip(result.weights, result.weights_initial))
    return str(
        _labels(
            np.array([result.final_error]),
            result.history_iterations,
            result.history_errors[None, :],
            result.iterations,
            np.array([finite]),
            np.array([largest >= GREW * largest_initial]),
            np.array([largest >= RAN_AWAY * largest_initial]),
            np.array([saturated(result.outputs) and moved]),
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
    moved = np.zeros(len(batch), dtype=bool)
    for w, w0 in zip(batch.weights, batch.weights_initial):
        moved |= (w != w0).any(axis=(1, 2))
    return _labels(
        batch.final_error,
        batch.history_iterations,
        batch.history_errors,
        batch.iterations,
        finite,
        largest >= GREW * largest_initial,
        largest >= RAN_AWAY * largest_initial,
        saturated(batch.outputs) & moved,
    )


def saturated(outputs: np.ndarray) -> np.ndarray:
    """Every output (last two axes) within SATURATED of 0 or 1."""
    off = np.minimum(np.abs(outputs), np.abs(1.0 - outputs))
    return (off <= SATURATED).all(axis=(-2, -1))


def _labels(
    final: np.ndarray,
    recorded: np.ndarray,
    history: np.ndarray,
    iterations: int,
    finite: np.ndarray,
    grew: np.ndarray,
    ran_away: np.ndarray,
    saturated: np.ndarray,
) -> np.ndarray:
    """The rule, for B networks at once: final (B,), history (B, R) at ``recorded``."""
    # The error at the start of the last tenth of the run, for the "still improving" test
    # (the history always records that iteration, whatever its spacing)
    start = network.tail_start(iterations)
    before = history[:, np.searchsorted(recorded, start, side="right") - 1]
    with np.errstate(all="ignore"):
        improvement = np.where(before > 0, (before - final) / before, 0.0)
        came_down = final < (1.0 - CAME_DOWN) * np.minimum(history[:, 0], LEARNT_NOTHING)
        blown_up = (grew | saturated) & ~came_down
        diverged = ~finite | ~np.isfinite(final) | blown_up | (ran_away & (final > CONVERGED))
        return np.select(
            [diverged, final <= CONVERGED, improvement > STILL_LEARNING],
            ["diverged", "converged", "learning"],
            default="stuck",
        )
