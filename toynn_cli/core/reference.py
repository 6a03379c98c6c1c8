"""The plain per-network loop: the tutorial's program, line by line, one network at a time.

This is the yardstick for the batched engine: tests check that both agree, and the
benchmarks time the engine against it. It is deliberately unoptimised and uses the
same ``np.dot`` products as the tutorial, with toynn's portable exp (the engine's) so
that the two stay comparable bit for bit.
"""

from __future__ import annotations

import numpy as np

from toynn_cli.core import portable
from toynn_cli.core.network import (
    NetworkResult,
    NetworkSpec,
    checkpoints,
    history_schedule,
    initial_weights,
    layer_sizes,
)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + portable.exp(-x))


def sigmoid_output_to_derivative(output: np.ndarray) -> np.ndarray:
    return output * (1 - output)


def train_one(
    x: np.ndarray,
    y: np.ndarray,
    spec: NetworkSpec,
    iterations: int,
    log_every: int,
    record_every: int = 0,
) -> NetworkResult:
    """Train one network exactly as the tutorial does, recording what the engine records."""
    sizes = layer_sizes(x.shape[1], spec.hidden, y.shape[1])
    synapses = initial_weights(spec.seed, sizes)
    initial = [s.copy() for s in synapses]
    check_its = checkpoints(iterations, log_every)
    hist_its = history_schedule(iterations, record_every)
    recorded = set(hist_its.tolist())
    check_errors, hist_errors = [], []
    direction_count = [np.zeros(s.shape, dtype=np.int64) for s in synapses]
    prev_update: list[np.ndarray] = []

    with np.errstate(all="ignore"):
        for j in range(iterations):
            layers = [x]
            for synapse in synapses:
                layers.append(sigmoid(np.dot(layers[-1], synapse)))
            error = layers[-1] - y
            if j % log_every == 0:
                check_errors.append(np.mean(np.abs(error)))
            if j in recorded:
                hist_errors.append(np.mean(np.abs(error)))

            delta = error * sigmoid_output_to_derivative(layers[-1])
            updates = [np.empty(0)] * len(synapses)
            for k in range(len(synapses) - 1, -1, -1):
                updates[k] = layers[k].T.dot(delta)
                if k > 0:
                    delta = delta.dot(synapses[k].T) * sigmoid_output_to_derivative(layers[k])

            if j > 0:
                for count, now, before in zip(direction_count, updates, prev_update):
                    count += (-now > 0) != (-before > 0)
            prev_update = updates
            for synapse, update in zip(synapses, updates):
                synapse -= spec.alpha * update

        out = x
        for synapse in synapses:
            out = sigmoid(np.dot(out, synapse))
        final_error = float(np.mean(np.abs(out - y)))

    return NetworkResult(
        spec=spec,
        iterations=iterations,
        checkpoint_iterations=check_its,
        checkpoint_errors=np.array(check_errors, dtype=np.float64),
        final_error=final_error,
        history_iterations=hist_its,
        history_errors=np.array(hist_errors, dtype=np.float64),
        weights_initial=initial,
        weights=synapses,
        direction_changes=direction_count,
        outputs=out,
    )
