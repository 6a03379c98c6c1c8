"""Batched weights looked at without the training loop: every network's outputs
(decision boundaries) and errors (error surfaces, as one batch of grid points) by the
training code's forward pass, and one network's weights recorded along its training
(the path drawn on a surface). Pure NumPy; the math and the batched layout are
:mod:`toynn_cli.core.engine`'s."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from toynn_cli.core.engine import train_batch
from toynn_cli.core.layers import Workspace, mean_abs
from toynn_cli.core.network import NetworkSpec

#: Bytes of forward-pass buffers batch_outputs uses at most (about).
OUTPUTS_BUDGET = 256 * 2**20


def batch_outputs(
    x: np.ndarray, weights: Sequence[np.ndarray], bias: bool = False, activation: str = "sigmoid"
) -> np.ndarray:
    """The outputs of every network of a batch for inputs ``x``, shape (samples, outputs,
    B), by the training code's forward pass (``weights`` batched: (n_k (+1 with bias),
    n_k+1, B))."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    weights = [np.ascontiguousarray(w, dtype=np.float64) for w in weights]
    sizes = [x.shape[1], *(w.shape[1] for w in weights)]
    batch = weights[0].shape[-1]
    # samples a block at a time, so that a wide network over a figure's grid of points
    # stays within OUTPUTS_BUDGET (each sample's outputs are its own: the same bits)
    per_sample = 8 * batch * 2 * sum(n + 1 for n in sizes)
    block = max(1, OUTPUTS_BUDGET // per_sample)
    out = []
    with np.errstate(all="ignore"):
        for start in range(0, len(x), block):
            part = np.ascontiguousarray(x[start : start + block])
            work = Workspace(part, sizes, batch, bias, activation)
            out.append(work.forward(list(weights))[-1].copy())
    return out[0] if len(out) == 1 else np.concatenate(out, axis=0)


def batch_errors(
    x: np.ndarray,
    y: np.ndarray,
    weights: Sequence[np.ndarray],
    bias: bool = False,
    activation: str = "sigmoid",
) -> np.ndarray:
    """mean |output - y| of every network of a batch, shape (B,), by the training code's
    forward pass. ``weights`` are batched like the engine's: W[k] of shape
    (n_k (+1 with bias), n_k+1, B). Used to evaluate an error surface as one batch of
    grid points."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    weights = [np.ascontiguousarray(w, dtype=np.float64) for w in weights]
    sizes = [x.shape[1], *(w.shape[1] for w in weights)]
    work = Workspace(x, sizes, weights[0].shape[-1], bias, activation)
    with np.errstate(all="ignore"):
        output = work.forward(list(weights))[-1]
        return mean_abs(output - y[:, :, None])


def weight_path(
    x: np.ndarray,
    y: np.ndarray,
    spec: NetworkSpec,
    iterations: int,
    record: np.ndarray,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Train one network by :func:`train_batch` (every setting it has) and record its
    weights.

    Returns the iterations recorded (those of ``record``, then ``iterations`` for the
    state after the last update) and, per layer, the weights at each, shape
    (T, rows, columns). The weights at ``j`` are those before update ``j``.
    """
    wanted = sorted({int(j) for j in record if 0 <= j < iterations})
    at = set(wanted)
    taken: list[list[np.ndarray]] = []

    def observe(j: int, weights: list[np.ndarray]) -> None:
        if j in at:
            if not taken:
                taken.extend([] for _ in weights)
            for k, w in enumerate(weights):
                taken[k].append(w[:, :, 0].copy())

    result = train_batch(x, y, [spec], iterations, max(iterations, 1), observe=observe)
    if not taken:
        taken.extend([] for _ in result.weights)
    for k, w in enumerate(result.weights):
        taken[k].append(w[0].copy())
    its = np.array([*wanted, iterations], dtype=np.int64)
    return its, [np.stack(t) for t in taken]
