"""The batched training engine: many tutorial networks, one NumPy batch.

Pure NumPy: no printing, no click/rich/yaml. Progress goes through a callback.

The math is the tutorial's ("a neural network in 13 lines", part 2). For one network
with weight matrices W[0], ..., W[L-1] and inputs X (samples x inputs)::

    a[0]   = X
    a[k+1] = sigmoid(a[k] @ W[k])                 # forward, sigmoid everywhere
    err    = a[L] - y                             # the loss is 0.5 * sum(err**2)
    d[L]   = err * (a[L] * (1 - a[L]))            # dLoss/dz at the output
    d[k]   = (d[k+1] @ W[k].T) * (a[k] * (1 - a[k]))   # back through layer k
    g[k]   = a[k].T @ d[k+1]                      # dLoss/dW[k]
    W[k]   = W[k] - alpha * g[k]                  # plain gradient descent (sgd)

Other optimizers (momentum, Adam, ...) replace the last line; see optim.py. Their
updates are elementwise too, so batch independence holds for them as well.

Beyond the tutorial (each off by default, so the defaults are the tutorial's math):

* bias units: every layer's input gets a constant 1, whose weights are W[k]'s last
  row (W[k] then has n_k + 1 rows); z = a[k] @ W[k][:n_k] + W[k][n_k].
* several hidden layers: ``hidden`` is a tuple of sizes.
* hidden activations f = tanh, relu, leaky_relu (slope 0.01 below 0); the output stays
  a sigmoid. Each derivative is written from the activation a = f(z), as the tutorial
  writes sigmoid' = a(1 - a): tanh' = 1 - a**2, relu' = [a > 0], leaky' = 1 or 0.01.
* loss ``cross_entropy``: -sum(y log a + (1 - y) log(1 - a)) for the sigmoid output,
  whose dLoss/dz at the output is simply a - y = err (the sigmoid's slope cancels).
* init ``xavier`` (Glorot) and ``he``: the same uniform draws scaled to
  +-sqrt(6 / (fan_in + fan_out)) and +-sqrt(6 / fan_in).
* gradient clipping before the optimizer, as torch.nn.utils does it: ``clip_value``
  clamps every element of g to [-c, c]; ``clip_norm`` scales all of a network's
  gradients by min(1, c / (||g|| + 1e-6)), ||g|| the norm over all its weights.
* learning-rate schedules: alpha_j = alpha * factor(j), see :func:`learning_rates`.
* early stopping: a network whose error (before update j) is at most ``target_error``
  takes no more steps; its record says at which iteration it stopped.
* mini-batches: with ``batch_size`` > 0 each update uses the gradient of the loss summed
  over ``batch_size`` samples; at the start of every epoch each network shuffles the
  samples with its own generator (``RandomState(seed)``, continuing after the initial
  weights' draws). The last batch of an epoch holds what is left. Recorded errors are
  still over the whole dataset.
* accuracy, for classification targets (every target 0 or 1): the fraction of outputs
  on the right side of 0.5 (output > 0.5 for a target 1, < 0.5 for a target 0; exactly
  0.5 or NaN is wrong), recorded at each checkpoint from the outputs the error is
  recorded from, and after the last update. For other targets it is NaN.
* dropout p on hidden layers (inverted): in training each hidden unit's output is kept
  with probability 1 - p and scaled by 1 / (1 - p), a fresh mask per iteration from the
  network's generator; d[k+1] is multiplied by the same mask. Evaluation (every
  recorded error, the outputs) uses no dropout.
* batch normalisation of hidden layers (as torch.nn.BatchNorm1d): z is normalised over
  the samples of the (mini-)batch, z^ = (z - mean) / sqrt(var + 1e-5), then scaled and
  shifted, gamma * z^ + beta (learned like weights, starting at 1 and 0), before the
  activation. Training updates running statistics (momentum 0.1, the unbiased variance);
  evaluation normalises with them.

Layout. Every network of a group has the same layer sizes; the group's weights are
stacked along a *last* batch axis: W[k] has shape (n_k, n_k+1, B), activations
(samples, n_k, B). Elementwise work then runs over contiguous memory for all B
networks at once, and the only Python loops are over iterations and over the tiny
contracted dimension of each matrix product.

Batch independence. A network's numbers must not depend on its batch-mates. So the
matrix products are not handed to BLAS (whose blocking, and so summation order, can
change with the batch size): each product is an explicit sum over the contracted
index, always in the same order (k = 0, 1, 2, ...), made of elementwise multiplies and
adds whose IEEE results do not depend on how many other elements an array holds.
Networks with different hidden sizes train in separate groups (never padded to a
common size, which would change their sums). The result: a network trained alone
and the same network inside any sweep are bit-identical.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from toynn_cli.core import optim, portable

#: ``progress(done, total)``: iterations done so far over all groups, and the total.
ProgressFn = Callable[[int, int], None]

#: How many points of error history each network records (besides the checkpoints).
HISTORY_POINTS = 200


@dataclass(frozen=True, slots=True)
class NetworkSpec:
    """One network of a sweep: its step size, hidden-layer size (0: none), seed, and
    optimizer with the hyperparameters set explicitly (the rest take torch.optim's
    defaults, see :func:`hyperparameters`)."""

    alpha: float
    hidden: int
    seed: int
    optimizer: str = "sgd"
    optimizer_params: tuple[tuple[str, object], ...] = ()
    bias: bool = False
    activation: str = "sigmoid"  # of the hidden layers; the output is always a sigmoid
    loss: str = "squared"
    init: str = "uniform"
    clip_value: float = 0.0  # 0: off
    clip_norm: float = 0.0  # 0: off
    schedule: str = "constant"
    schedule_params: tuple[tuple[str, object], ...] = ()
    target_error: float = 0.0  # 0: off
    batch_size: int = 0  # 0: full batch (the tutorial)
    dropout: float = 0.0  # probability of dropping a hidden unit in training; 0: off
    batch_norm: bool = False  # batch normalisation of the hidden layers


#: Learning-rate schedules and their parameters' defaults (t_max 0: the run's length).
SCHEDULES: dict[str, dict[str, float]] = {
    "constant": {},
    "step": {"step_size": 1000, "gamma": 0.1},
    "exponential": {"gamma": 0.999},
    "cosine": {"t_max": 0, "eta_min": 0.0},
}


def schedule_parameters(spec: NetworkSpec) -> dict[str, float]:
    """Every parameter of the network's schedule (defaults filled in)."""
    return {**SCHEDULES[spec.schedule], **dict(spec.schedule_params)}  # type: ignore[arg-type]


def learning_rates(
    alphas: np.ndarray, schedule: str, params: dict[str, float], j: int, iterations: int
) -> np.ndarray:
    """The step sizes for update j (from 0), closed forms as torch.optim.lr_scheduler's:

    constant     alpha
    step         alpha * gamma ** (j // step_size)
    exponential  alpha * gamma ** j
    cosine       eta_min + (alpha - eta_min) * (1 + cos(pi * j / t_max)) / 2
                 (t_max defaults to the number of iterations; after it, eta_min)

    The powers and the cosine are toynn's portable ones (:mod:`toynn_cli.core.portable`),
    the same bits on every machine.
    """
    if schedule == "constant":
        return alphas
    if schedule == "step":
        return alphas * portable.powi(params["gamma"], j // int(params["step_size"]))
    if schedule == "exponential":
        return alphas * portable.powi(params["gamma"], j)
    t_max = int(params["t_max"]) or iterations
    eta_min = params["eta_min"]
    factor = (1 + portable.cos_scalar(np.pi * min(j, t_max) / t_max)) / 2
    return eta_min + (alphas - eta_min) * factor


#: Hidden-layer activations, losses and initialisations (the first of each: the tutorial).
ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu")
LOSSES = ("squared", "cross_entropy")
INITS = ("uniform", "xavier", "he")
#: leaky_relu's slope below zero
LEAKY_SLOPE = 0.01
#: batch normalisation: torch.nn.BatchNorm1d's eps and running-statistics momentum
BN_EPS = 1e-5
BN_MOMENTUM = 0.1
BN_ARRAYS = ("gamma", "beta", "running_mean", "running_var")


def hidden_layers(hidden: int | Sequence[int]) -> tuple[int, ...]:
    """Hidden sizes as a tuple: 0 -> (), 4 -> (4,), (8, 4) -> (8, 4)."""
    if isinstance(hidden, int | np.integer):
        return (int(hidden),) if hidden > 0 else ()
    return tuple(int(h) for h in hidden)


def hyperparameters(spec: NetworkSpec) -> dict[str, object]:
    """Every hyperparameter of the network's optimizer (defaults filled in)."""
    return optim.resolve(spec.optimizer, dict(spec.optimizer_params))


def layout_key(spec: NetworkSpec) -> tuple:
    """What networks of one batch must share: array shapes and the code path (layer
    sizes, bias, activation, loss, the optimizer and its hyperparameters). Alpha, the
    seed and the initialisation vary within a batch."""
    return (
        hidden_layers(spec.hidden),
        spec.bias,
        spec.activation,
        spec.loss,
        spec.optimizer,
        tuple(hyperparameters(spec).items()),
        spec.clip_value,
        spec.clip_norm,
        spec.schedule,
        tuple(schedule_parameters(spec).items()),
        spec.target_error,
        spec.batch_size,
        spec.dropout,
        spec.batch_norm,
    )


@dataclass
class NetworkResult:
    """Everything recorded for one trained network (arrays are its own copies)."""

    spec: NetworkSpec
    iterations: int
    checkpoint_iterations: np.ndarray  # (C,) the j with j % log_every == 0
    checkpoint_errors: np.ndarray  # (C,) mean |output - target| before update j
    final_error: float  # the same after the last update
    history_iterations: np.ndarray  # (R,) a finer record of the error, for diagnostics
    history_errors: np.ndarray  # (R,)
    weights_initial: list[np.ndarray]  # input side first, each (n_k, n_k+1)
    weights: list[np.ndarray]  # after the last update
    direction_changes: list[np.ndarray]  # per weight: how often its step changed sign
    outputs: np.ndarray  # (samples, outputs) after the last update
    stopped_at: int | None = None  # early stopping: the iteration it stopped at, or None
    #: batch norm: per hidden layer {"gamma", "beta", "running_mean", "running_var"}
    batch_norm: list[dict[str, np.ndarray]] | None = None
    #: classification targets only (else None): accuracy at each checkpoint (C,), final
    checkpoint_accuracy: np.ndarray | None = None
    final_accuracy: float | None = None


@dataclass
class BatchResult:
    """Everything recorded for a batch of networks of one layer layout, column-wise:
    the batch axis comes first in every per-network array. ``network(b)`` gives one
    network's record; for large sweeps the arrays are stored as they are."""

    specs: list[NetworkSpec]
    iterations: int
    checkpoint_iterations: np.ndarray  # (C,)
    checkpoint_errors: np.ndarray  # (B, C)
    final_error: np.ndarray  # (B,)
    history_iterations: np.ndarray  # (R,)
    history_errors: np.ndarray  # (B, R)
    weights_initial: list[np.ndarray]  # each (B, n_k, n_k+1)
    weights: list[np.ndarray]
    direction_changes: list[np.ndarray]  # int64
    outputs: np.ndarray  # (B, samples, outputs)
    stopped_at: np.ndarray | None = None  # (B,) int64, -1: did not stop early
    #: batch norm: [gamma_1, beta_1, running_mean_1, running_var_1, ...], each (B, n)
    batch_norm: list[np.ndarray] | None = None
    #: accuracy (see :func:`accuracy`) at each checkpoint (B, C) and final (B,); NaN
    #: when the targets are not all 0 or 1; None: not recorded (older chunk files)
    checkpoint_accuracy: np.ndarray | None = None
    final_accuracy: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.specs)

    def network(self, b: int) -> NetworkResult:
        """Network ``b``'s record (its arrays are views into this batch)."""
        return NetworkResult(
            spec=self.specs[b],
            iterations=self.iterations,
            checkpoint_iterations=self.checkpoint_iterations,
            checkpoint_errors=self.checkpoint_errors[b],
            final_error=float(self.final_error[b]),
            history_iterations=self.history_iterations,
            history_errors=self.history_errors[b],
            weights_initial=[w[b] for w in self.weights_initial],
            weights=[w[b] for w in self.weights],
            direction_changes=[c[b] for c in self.direction_changes],
            outputs=self.outputs[b],
            stopped_at=(
                None
                if self.stopped_at is None or self.stopped_at[b] < 0
                else int(self.stopped_at[b])
            ),
            batch_norm=(
                None
                if self.batch_norm is None
                else [
                    dict(zip(BN_ARRAYS, (a[b] for a in self.batch_norm[i : i + 4]), strict=True))
                    for i in range(0, len(self.batch_norm), 4)
                ]
            ),
            checkpoint_accuracy=(
                None
                if self.final_accuracy is None or np.isnan(self.final_accuracy[b])
                else self.checkpoint_accuracy[b]
            ),
            final_accuracy=(
                None
                if self.final_accuracy is None or np.isnan(self.final_accuracy[b])
                else float(self.final_accuracy[b])
            ),
        )

    def networks(self) -> list[NetworkResult]:
        return [self.network(b) for b in range(len(self.specs))]


def layer_sizes(n_inputs: int, hidden: int | Sequence[int], n_outputs: int) -> list[int]:
    """Sizes of the layers: inputs, the hidden layers (none for 0), outputs."""
    return [n_inputs, *hidden_layers(hidden), n_outputs]


def initial_weights(
    seed: int, sizes: Sequence[int], bias: bool = False, init: str = "uniform"
) -> list[np.ndarray]:
    """The tutorial's initialisation: uniform in [-1, 1), input side first.

    ``RandomState(seed)`` draws exactly what the tutorial's ``np.random.seed(seed)``
    followed by ``np.random.random`` draws; the global generator is never touched.
    With ``bias`` each matrix has one more row (the bias weights, drawn like the
    others). ``xavier`` and ``he`` scale the same draws to +-sqrt(6 / (fan_in +
    fan_out)) (Glorot & Bengio) and +-sqrt(6 / fan_in) (He et al., uniform form).
    """
    return _draw(np.random.RandomState(seed), sizes, bias, init)


def shuffle_generator(
    seed: int, sizes: Sequence[int], bias: bool = False, init: str = "uniform"
) -> np.random.RandomState:
    """The network's generator after its initial weights were drawn: it shuffles the
    samples for mini-batches (one generator per network, as a script would use one)."""
    rng = np.random.RandomState(seed)
    _draw(rng, sizes, bias, init)
    return rng


def _draw(
    rng: np.random.RandomState, sizes: Sequence[int], bias: bool, init: str
) -> list[np.ndarray]:
    weights = []
    for n_in, n_out in itertools.pairwise(sizes):
        w = 2 * rng.random_sample((n_in + 1 if bias else n_in, n_out)) - 1
        if init == "xavier":
            w *= np.sqrt(6.0 / (n_in + n_out))
        elif init == "he":
            w *= np.sqrt(6.0 / n_in)
        weights.append(w)
    return weights


def checkpoints(iterations: int, log_every: int) -> np.ndarray:
    """The iterations whose error is reported: every j < iterations with j % log_every == 0."""
    return np.arange(0, iterations, log_every, dtype=np.int64)


def tail_start(iterations: int) -> int:
    """The first iteration of the run's last tenth: the status rule compares the final
    error with the error there ("was it still learning?")."""
    return iterations - max(1, iterations // 10)


def history_schedule(iterations: int, every: int = 0) -> np.ndarray:
    """The iterations whose error the history records: every ``every``-th from 0 (0, the
    default: about :data:`HISTORY_POINTS` evenly spaced), plus :func:`tail_start`, which
    the status rule reads, so that a network's status never depends on ``every``."""
    step = every or max(1, iterations // HISTORY_POINTS)
    its = np.arange(0, iterations, step, dtype=np.int64)
    if iterations > 0:
        its = np.union1d(its, np.array([tail_start(iterations)], dtype=np.int64))
    return its


def history_length(iterations: int, every: int = 0) -> int:
    """``len(history_schedule(iterations, every))``, computed without making the array
    (a config may ask for 10^12 iterations recorded every one: it is refused by size)."""
    if iterations <= 0:
        return 0
    step = every or max(1, iterations // HISTORY_POINTS)
    return -(-iterations // step) + (1 if tail_start(iterations) % step else 0)


# --- batched linear algebra, in a fixed summation order ---------------------------------


class _Workspace:
    """Preallocated arrays for one batch of networks of the same layer sizes.

    Every step writes into these buffers with ``out=``: no array is allocated inside
    the training loop (large temporaries cost page faults, not just copies).
    """

    def __init__(
        self,
        x: np.ndarray,
        sizes: Sequence[int],
        batch: int,
        bias: bool = False,
        activation: str = "sigmoid",
        loss: str = "squared",
    ) -> None:
        samples = x.shape[0]
        self.x = x
        self.bias, self.activation, self.loss = bias, activation, loss
        pairs = [(a + 1 if bias else a, b) for a, b in itertools.pairwise(sizes)]
        self.act = [np.empty((samples, n, batch)) for n in sizes[1:]]  # a[1..L]
        self.delta = [np.empty((samples, n, batch)) for n in sizes[1:]]  # dLoss/dz, layer k+1
        self.term = [np.empty((samples, n, batch)) for n in sizes[1:]]  # one product term
        self.slope = [np.empty((samples, n, batch)) for n in sizes[1:]]  # a * (1 - a)
        self.grad = [np.empty((a, b, batch)) for a, b in pairs]
        self.grad_term = [np.empty((a, b, batch)) for a, b in pairs]
        self.err = np.empty((samples, sizes[-1], batch))
        self.scratch = portable.Scratch()  # the portable exp's and tanh's temporaries
        self.masks: list[np.ndarray] | None = None  # dropout, per hidden layer
        self.gamma: list[np.ndarray] | None = None  # batch norm, per hidden layer (n, B)

    def enable_batch_norm(
        self, params: list[np.ndarray], running: list[np.ndarray], training: bool
    ) -> None:
        """Batch normalisation of the hidden layers. ``params`` is [gamma_1, beta_1, ...],
        ``running`` [mean_1, var_1, ...], each (n, B); training normalises with the
        batch's statistics (kept for backward), evaluation with the running ones."""
        self.gamma, self.beta = params[0::2], params[1::2]
        self.running_mean, self.running_var = running[0::2], running[1::2]
        self.bn_training = training
        hidden = self.act[:-1]
        self.zhat = [np.empty(a.shape) for a in hidden]
        self.batch_mean = [np.empty(a.shape[1:]) for a in hidden]
        self.batch_var = [np.empty(a.shape[1:]) for a in hidden]
        self.inv_std = [np.empty(a.shape[1:]) for a in hidden]
        self.bn_grads = [np.empty(a.shape[1:]) for a in hidden for _ in (0, 1)]

    def _normalise(self, k: int, z: np.ndarray) -> None:
        """z = gamma * (z - mean) / sqrt(var + eps) + beta, in place (hidden layer k)."""
        zhat = self.zhat[k]
        if self.bn_training:
            n = z.shape[0]
            mean = np.divide(_sum_samples(z), n, out=self.batch_mean[k])
            np.subtract(z, mean, out=zhat)
            var = np.divide(_sum_samples(zhat * zhat), n, out=self.batch_var[k])
            inv = np.sqrt(var + BN_EPS, out=self.inv_std[k])
            np.reciprocal(inv, out=inv)
            zhat *= inv
        else:
            np.subtract(z, self.running_mean[k], out=zhat)
            zhat /= np.sqrt(self.running_var[k] + BN_EPS)
        np.multiply(zhat, self.gamma[k], out=z)
        z += self.beta[k]

    def _normalise_backward(self, k: int, delta: np.ndarray) -> None:
        """From dLoss/dy (y = gamma z^ + beta) in ``delta`` to dLoss/dz, in place; keeps
        dLoss/dgamma = sum_s delta z^ and dLoss/dbeta = sum_s delta."""
        zhat, gamma, inv = self.zhat[k], self.gamma[k], self.inv_std[k]
        n = delta.shape[0]
        np.copyto(self.bn_grads[2 * k], _sum_samples(delta * zhat))
        np.copyto(self.bn_grads[2 * k + 1], _sum_samples(delta))
        # the batch's mean and variance depend on every sample's z:
        # dz = inv / n * (n * dz^ - sum_s dz^ - z^ * sum_s dz^ z^), dz^ = dy * gamma
        dzhat = delta * gamma
        total, weighted = _sum_samples(dzhat), _sum_samples(dzhat * zhat)
        np.multiply(dzhat, float(n), out=delta)
        delta -= total
        delta -= zhat * weighted
        delta *= inv / n

    def enable_dropout(self) -> None:
        """Buffers for dropout masks and the dropped activations of hidden layers."""
        self.masks = [np.empty(a.shape) for a in self.act[:-1]]
        self.dropped = [np.empty(a.shape) for a in self.act[:-1]]

    def forward(self, weights: list[np.ndarray]) -> list[np.ndarray]:
        """a[k+1] = f(a[k] @ W[k]); returns every layer's input and the output:
        [x, a[1], ..., a[L]] (with dropout, the hidden a[k] as dropped)."""
        below = self.x
        inputs = [self.x]
        last = len(weights) - 1
        for layer, (w, z, term) in enumerate(zip(weights, self.act, self.term)):
            if layer > 0 and self.masks is not None:
                # inverted dropout: the mask is 0 or 1 / (1 - p) for each unit
                below = np.multiply(below, self.masks[layer - 1], out=self.dropped[layer - 1])
                inputs[-1] = below
            # z[s, n, b] = sum_k a[s, k, b] * w[k, n, b], k = 0, 1, 2, ... in order
            n_in = below.shape[1]
            column = below[:, :, None, None] if below.ndim == 2 else below[:, :, None, :]
            np.multiply(column[:, 0], w[0], out=z)
            for k in range(1, n_in):
                np.multiply(column[:, k], w[k], out=term)
                z += term
            if self.bias:
                z += w[n_in]  # the bias: a constant input 1 times its weight row
            if self.gamma is not None and layer < last:
                self._normalise(layer, z)
            below = z
            inputs.append(z)
            if layer < last and self.activation != "sigmoid":
                if self.activation == "tanh":
                    portable.tanh(z, out=z, scratch=self.scratch)
                elif self.activation == "relu":
                    np.maximum(z, 0.0, out=z)
                else:  # leaky_relu: max(z, 0.01 z)
                    np.multiply(z, LEAKY_SLOPE, out=term)
                    np.maximum(z, term, out=z)
                continue
            # sigmoid(z) = 1 / (1 + exp(-z)); exp overflows to inf for z < -709 and the
            # sigmoid is then exactly 0, as in the tutorial. The exp is toynn's own
            # (portable.py): NumPy's differs from CPU to CPU in the last bit.
            np.negative(z, out=z)
            portable.exp(z, out=z, scratch=self.scratch)
            z += 1.0
            np.reciprocal(z, out=z)
        return inputs

    def backward(
        self, activations: list[np.ndarray], err: np.ndarray, weights: list[np.ndarray]
    ) -> list[np.ndarray]:
        """Every layer's gradient of the loss, from the weights before the update."""
        n_layers = len(weights)
        for k in range(n_layers - 1, -1, -1):
            # f'(z) from the layer's own output (before any dropout)
            a, slope, delta = self.act[k], self.slope[k], self.delta[k]
            output = k == n_layers - 1
            if output and self.loss == "cross_entropy":
                # dLoss/dz of cross-entropy through the output sigmoid: a - y = err
                np.copyto(delta, err)
            else:
                self._slope(a, slope, sigmoid=output)  # f'(z), from a = f(z)
                if output:
                    np.multiply(err, slope, out=delta)  # d[L] = err * a(1 - a)
                else:
                    # d[k+1] = (d[k+2] @ W[k+1][:n].T) * f'(z), summed over n in order
                    # (the bias row of W[k+1] feeds no unit below, so it is left out)
                    above, w, term = self.delta[k + 1], weights[k + 1], self.term[k]
                    w = w[: delta.shape[1]]
                    np.multiply(above[:, None, 0, :], w[None, :, 0, :], out=delta)
                    for n in range(1, w.shape[1]):
                        np.multiply(above[:, None, n, :], w[None, :, n, :], out=term)
                        delta += term
                    delta *= slope
                    if self.masks is not None:
                        delta *= self.masks[k]  # a dropped unit passes no gradient back
                    if self.gamma is not None:
                        self._normalise_backward(k, delta)
            # g[k] = a[k].T @ d[k+1]: g[i, n, b] = sum_s a[s, i, b] * d[s, n, b], in order
            below, g, term = activations[k], self.grad[k], self.grad_term[k]
            n_in = below.shape[1]
            if self.bias:
                # the bias row's gradient: sum_s 1 * d[s, n, b], in order
                np.copyto(g[n_in], delta[0])
                for s in range(1, delta.shape[0]):
                    g[n_in] += delta[s]
                g, term = g[:n_in], term[:n_in]
            row = below[:, :, None, None] if below.ndim == 2 else below[:, :, None, :]
            np.multiply(row[0], delta[0], out=g)
            for s in range(1, delta.shape[0]):
                np.multiply(row[s], delta[s], out=term)
                g += term
        return self.grad

    def _slope(self, a: np.ndarray, out: np.ndarray, sigmoid: bool) -> None:
        """The activation's derivative at z, written from its output a = f(z)."""
        if sigmoid or self.activation == "sigmoid":
            # sigmoid'(z) = a * (1 - a), written as the tutorial does
            np.subtract(1.0, a, out=out)
            np.multiply(a, out, out=out)
        elif self.activation == "tanh":
            np.multiply(a, a, out=out)  # tanh'(z) = 1 - a**2
            np.subtract(1.0, out, out=out)
        else:
            np.greater(a, 0.0, out=out)  # relu'(z) = 1 where z > 0 (a > 0), else 0
            if self.activation == "leaky_relu":
                np.maximum(out, LEAKY_SLOPE, out=out)  # ... else 0.01


def _update_running(work: _Workspace, running: list[np.ndarray], active: np.ndarray | None) -> None:
    """running = (1 - momentum) * running + momentum * batch statistic (the variance
    unbiased, as torch); a stopped network's statistics stay as they are."""
    n = work.x.shape[0]
    unbiased = n / (n - 1) if n > 1 else 1.0
    for k, (mean, var) in enumerate(zip(work.batch_mean, work.batch_var)):
        for r, batch in ((running[2 * k], mean), (running[2 * k + 1], var * unbiased)):
            new = (1 - BN_MOMENTUM) * r + BN_MOMENTUM * batch
            if active is None:
                np.copyto(r, new)
            else:
                np.copyto(r, new, where=active)


def _sum_samples(a: np.ndarray) -> np.ndarray:
    """sum over the first (sample) axis, in order: s = 0, 1, 2, ..."""
    total = a[0].copy()
    for row in a[1:]:
        total += row
    return total


def _draw_masks(masks: list[np.ndarray], rngs: list[np.random.RandomState], p: float) -> None:
    """Fresh inverted-dropout masks: 1 / (1 - p) with probability 1 - p, else 0; network
    b's from its own generator, layer by layer."""
    for mask in masks:
        samples, units, _ = mask.shape
        for b, rng in enumerate(rngs):
            mask[:, :, b] = (rng.random_sample((samples, units)) >= p) / (1.0 - p)


def _clip_norm(grads: list[np.ndarray], max_norm: float) -> None:
    """Scale each network's gradients so their joint norm is at most ``max_norm``
    (torch.nn.utils.clip_grad_norm_): g *= min(1, max_norm / (||g|| + 1e-6)). The
    squares are summed one weight at a time, in order (batch independence)."""
    total = np.zeros(grads[0].shape[-1])
    for g in grads:
        for row in g.reshape(-1, g.shape[-1]):
            total += row * row
    coef = max_norm / (np.sqrt(total) + 1e-6)
    np.minimum(coef, 1.0, out=coef)
    for g in grads:
        g *= coef


def is_classification(y: np.ndarray) -> bool:
    """Whether every target is 0 or 1 (accuracy is recorded only then)."""
    y = np.asarray(y, dtype=np.float64)
    return bool(((y == 0.0) | (y == 1.0)).all())


def accuracy(out: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The fraction of outputs on the right side of 0.5, per network: ``out`` is
    (samples, outputs, B), ``target`` (samples, outputs, 1) of 0s and 1s. An output of
    exactly 0.5 (or NaN) is on neither side: wrong."""
    right = ((target == 1.0) & (out > 0.5)) | ((target == 0.0) & (out < 0.5))
    return right.sum(axis=(0, 1)) / (out.shape[0] * out.shape[1])


def _mean_abs(err: np.ndarray) -> np.ndarray:
    """mean(|err|) per network over samples and outputs, summed in a fixed order."""
    flat = np.abs(err).reshape(-1, err.shape[-1])
    total = flat[0].copy()
    for row in flat[1:]:
        total += row
    return total / flat.shape[0]


def loss_and_gradients(
    x: np.ndarray,
    y: np.ndarray,
    weights: list[np.ndarray],
    bias: bool = False,
    activation: str = "sigmoid",
    loss: str = "squared",
    batch_norm: list[np.ndarray] | None = None,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """The loss per network, shape (B,) (squared: 0.5 * sum((output - y)**2);
    cross_entropy: -sum(y log(output) + (1 - y) log(1 - output))), and its gradient with
    respect to each batched weight array (n_k [+ 1 with bias], n_k+1, B), computed by the
    training code. With ``batch_norm`` ([gamma_1, beta_1, ...], training mode) the
    gradients of gamma and beta follow those of the weights. Used by the gradient tests."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    sizes = [x.shape[1], *(w.shape[1] for w in weights)]
    work = _Workspace(x, sizes, weights[0].shape[-1], bias, activation, loss)
    if batch_norm is not None:
        running = [np.zeros_like(p) for p in batch_norm]
        work.enable_batch_norm(batch_norm, running, training=True)
    with np.errstate(all="ignore"):
        activations = work.forward(weights)
        target = np.asarray(y, dtype=np.float64)[:, :, None]
        err = activations[-1] - target
        if loss == "cross_entropy":
            # from the output's z, stably: -y log s(z) - (1 - y) log(1 - s(z))
            # = log(1 + e^z) - y z (log(1 - out) would lose digits when out is near 1)
            below, w = activations[-2], weights[-1]
            below = below[:, :, None] if below.ndim == 2 else below
            n_in = below.shape[1]
            z = np.einsum("sib,inb->snb", below, w[:n_in]) + (w[n_in] if bias else 0.0)
            value = (np.logaddexp(0.0, z) - target * z).sum(axis=(0, 1))
        else:
            value = 0.5 * (err**2).sum(axis=(0, 1))
        grads = [g.copy() for g in work.backward(activations, err, weights)]
        if batch_norm is not None:
            grads += [g.copy() for g in work.bn_grads]
        return value, grads


# --- training ---------------------------------------------------------------------------


def train_batch(
    x: np.ndarray,
    y: np.ndarray,
    specs: Sequence[NetworkSpec],
    iterations: int,
    log_every: int,
    progress: Callable[[int], None] | None = None,
    record_every: int = 0,
    observe: Callable[[int, list[np.ndarray]], None] | None = None,
) -> BatchResult:
    """Train networks of one layout (:func:`layout_key`) as one batch; results in
    ``specs`` order.

    ``progress(j)`` is called now and then with the number of iterations done. The
    error is recorded every ``log_every`` iterations (the checkpoints) and, for the
    history, as :func:`history_schedule` says for ``record_every``. ``observe(j,
    weights)``, if given, sees the batched weights before update j (not to be changed:
    :func:`weight_path` copies what it records).
    """
    hidden = specs[0].hidden
    if any(layout_key(spec) != layout_key(specs[0]) for spec in specs):
        raise ValueError("train_batch needs networks of one layout (see layout_key)")
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    sizes = layer_sizes(x.shape[1], hidden, y.shape[1])
    n_layers = len(sizes) - 1

    first = specs[0]
    by_seed: dict[tuple[int, str], list[np.ndarray]] = {}
    for spec in specs:
        if (spec.seed, spec.init) not in by_seed:
            by_seed[spec.seed, spec.init] = initial_weights(spec.seed, sizes, first.bias, spec.init)
    initial = [
        np.stack([by_seed[spec.seed, spec.init][k] for spec in specs], axis=-1)
        for k in range(n_layers)
    ]
    weights = [w.copy() for w in initial]
    shapes = [w.shape for w in weights]
    alphas = np.array([spec.alpha for spec in specs], dtype=np.float64)
    target = y[:, :, None]

    check_its = checkpoints(iterations, log_every)
    hist_its = history_schedule(iterations, record_every)
    # recorded errors are stored network-first, as returned: no copy at the end (the
    # history is most of a large chunk's result)
    check_errors = np.empty((len(specs), len(check_its)))
    hist_errors = np.empty((len(specs), len(hist_its)))
    classify = is_classification(y)
    check_accuracy = np.full((len(specs), len(check_its)), np.nan)
    next_check = next_hist = 0
    # int32 counts add a bool array twice as fast as int64 (2**31 iterations is far away)
    changes = [np.zeros(w.shape, dtype=np.int32) for w in weights]
    report_every = max(1, iterations // 100)

    work = _Workspace(x, sizes, len(specs), first.bias, first.activation, first.loss)
    # batch norm: gamma and beta learned like weights; running statistics for evaluation
    bn = first.batch_norm and n_layers > 1
    bn_params: list[np.ndarray] = []
    running: list[np.ndarray] = []
    if bn:
        for n in sizes[1:-1]:
            bn_params += [np.ones((n, len(specs))), np.zeros((n, len(specs)))]
            running += [np.zeros((n, len(specs))), np.ones((n, len(specs)))]
        work.enable_batch_norm(bn_params, running, training=False)
    # mini-batches: a workspace per batch length (a shorter last batch gets its own)
    samples = x.shape[0]
    batch_size, dropout = first.batch_size, first.dropout
    if batch_size or dropout:
        rngs = [shuffle_generator(spec.seed, sizes, first.bias, spec.init) for spec in specs]
    if batch_size:
        per_epoch = -(-samples // batch_size)
        mini = {}
        for m in {batch_size, samples - (per_epoch - 1) * batch_size}:
            placeholder = np.empty((m, x.shape[1], len(specs)))
            mini[m] = _Workspace(
                placeholder, sizes, len(specs), first.bias, first.activation, first.loss
            )
            if dropout:
                mini[m].enable_dropout()
            if bn:
                mini[m].enable_batch_norm(bn_params, running, training=True)
    elif dropout or bn:  # training sees dropped units / batch statistics; `work` evaluates
        train_work = _Workspace(x, sizes, len(specs), first.bias, first.activation, first.loss)
        if dropout:
            train_work.enable_dropout()
        if bn:
            train_work.enable_batch_norm(bn_params, running, training=True)
    sign = [np.empty(w.shape, dtype=bool) for w in weights]
    previous_sign = [np.empty(w.shape, dtype=bool) for w in weights]
    flipped = [np.empty(w.shape, dtype=bool) for w in weights]
    step = [np.empty(w.shape) for w in weights]
    # early stopping: which networks still train, and when the others stopped
    stopping = first.target_error > 0
    active = np.ones(len(specs), dtype=bool)
    stopped_at = np.full(len(specs), -1, dtype=np.int64)
    schedule = schedule_parameters(first)
    scheduled = first.schedule != "constant"
    optimizer = optim.make(
        specs[0].optimizer, dict(specs[0].optimizer_params), shapes + [p.shape for p in bn_params]
    )
    # the tutorial's update, kept exactly as written (bit for bit: the golden test)
    plain = isinstance(optimizer, optim.SGD) and optimizer.plain

    with np.errstate(all="ignore"):  # overflow and NaN are results here, not warnings
        for j in range(iterations):
            if observe is not None:
                observe(j, weights)
            activations = work.forward(weights)
            err = np.subtract(activations[-1], target, out=work.err)
            if stopping:
                current = _mean_abs(err)
                reached = active & (current <= first.target_error)
                stopped_at[reached] = j
                active &= ~reached
            if next_check < len(check_its) and check_its[next_check] == j:
                check_errors[:, next_check] = _mean_abs(err)
                if classify:
                    check_accuracy[:, next_check] = accuracy(activations[-1], target)
                next_check += 1
            if next_hist < len(hist_its) and hist_its[next_hist] == j:
                hist_errors[:, next_hist] = _mean_abs(err)
                next_hist += 1
            if stopping and not active.any():
                # every network has stopped: no weight moves again, so each later
                # recorded error is the one it has now
                check_errors[:, next_check:] = current[:, None]
                hist_errors[:, next_hist:] = current[:, None]
                if classify:
                    check_accuracy[:, next_check:] = accuracy(activations[-1], target)[:, None]
                break

            if batch_size:
                position = j % per_epoch
                if position == 0:  # a new epoch: each network shuffles the samples
                    order = np.stack([rng.permutation(samples) for rng in rngs], axis=1)
                index = order[position * batch_size : (position + 1) * batch_size]  # (m, B)
                part = mini[len(index)]
                # network b's samples: x[index[:, b]], laid out (m, inputs, B)
                part.x = np.ascontiguousarray(x[index].transpose(0, 2, 1))
                part_target = y[index].transpose(0, 2, 1)
            elif dropout or bn:
                part, part_target = train_work, target
            if batch_size or dropout or bn:
                if dropout:
                    _draw_masks(part.masks, rngs, dropout)
                part_acts = part.forward(weights)
                part_err = np.subtract(part_acts[-1], part_target, out=part.err)
                grads = part.backward(part_acts, part_err, weights)
                if bn:
                    grads = grads + part.bn_grads  # then dLoss/dgamma, dLoss/dbeta
                    _update_running(part, running, active if stopping else None)
            else:
                grads = work.backward(activations, err, weights)
            if first.clip_value:  # clamp each element to [-c, c]
                for g in grads:
                    np.clip(g, -first.clip_value, first.clip_value, out=g)
            if first.clip_norm:
                _clip_norm(grads, first.clip_norm)
            lr = alphas  # constant: the tutorial's, and no per-iteration work
            if scheduled:
                lr = learning_rates(alphas, first.schedule, schedule, j, iterations)
            if stopping:
                lr = lr * active  # a stopped network takes steps of 0
            # W = W - update, with update = alpha * g (the tutorial's step) or the
            # optimizer's; a weight moves up when its update is < 0, and its direction
            # changed when that differs from the previous iteration's
            if plain:
                updates = []
                for k, g in enumerate(grads[:n_layers]):
                    np.multiply(lr, g, out=step[k])
                    weights[k] -= step[k]
                    updates.append(g)  # the sign of alpha * g is g's (alpha > 0)
                for p, g in zip(bn_params, grads[n_layers:]):
                    p -= lr * g
            else:
                updates = optimizer.step(weights + bn_params, grads, lr)
            for k, update in enumerate(updates[:n_layers]):
                np.less(update, 0.0, out=sign[k])
                if j > 0:
                    np.not_equal(sign[k], previous_sign[k], out=flipped[k])
                    if stopping:
                        flipped[k] &= active
                    np.add(changes[k], flipped[k], out=changes[k], casting="unsafe")
            sign, previous_sign = previous_sign, sign

            if progress is not None and (j + 1) % report_every == 0:
                progress(j + 1)

        final_out = work.forward(weights)[-1]
        final_errors = _mean_abs(final_out - target)
        final_accuracy = accuracy(final_out, target) if classify else np.full(len(specs), np.nan)
    if progress is not None:
        progress(iterations)

    def batch_first(a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.moveaxis(a, -1, 0))

    return BatchResult(
        specs=list(specs),
        iterations=iterations,
        checkpoint_iterations=check_its,
        checkpoint_errors=check_errors,
        final_error=final_errors,
        history_iterations=hist_its,
        history_errors=hist_errors,
        weights_initial=[batch_first(w) for w in initial],
        weights=[batch_first(w) for w in weights],
        direction_changes=[batch_first(c).astype(np.int64) for c in changes],
        outputs=batch_first(final_out),
        stopped_at=stopped_at,
        batch_norm=(
            [
                batch_first(a)
                for i in range(0, len(bn_params), 2)
                for a in (bn_params[i], bn_params[i + 1], running[i], running[i + 1])
            ]
            if bn
            else None
        ),
        checkpoint_accuracy=check_accuracy,
        final_accuracy=final_accuracy,
    )


def group_by_layout(specs: Sequence[NetworkSpec]) -> list[list[int]]:
    """Indices of ``specs`` grouped by :func:`layout_key` (hidden size, optimizer and its
    hyperparameters), groups in order of first appearance: one batch each."""
    groups: dict[tuple, list[int]] = {}
    for i, spec in enumerate(specs):
        groups.setdefault(layout_key(spec), []).append(i)
    return list(groups.values())


def train_groups(
    x: np.ndarray,
    y: np.ndarray,
    specs: Sequence[NetworkSpec],
    iterations: int,
    log_every: int,
    progress: ProgressFn | None = None,
    record_every: int = 0,
) -> Iterator[list[tuple[int, NetworkResult]]]:
    """Train every network, one batch per layout (:func:`group_by_layout`); yield each
    group's results as ``(index into specs, result)`` pairs as soon as it is done."""
    groups = group_by_layout(specs)
    total = iterations * len(groups)
    for g, indices in enumerate(groups):
        done_before = g * iterations

        def report(j: int, done_before: int = done_before) -> None:
            if progress is not None:
                progress(done_before + j, total)

        batch = train_batch(
            x, y, [specs[i] for i in indices], iterations, log_every, report, record_every
        )
        yield list(zip(indices, batch.networks()))


def train(
    x: np.ndarray,
    y: np.ndarray,
    specs: Sequence[NetworkSpec],
    iterations: int,
    log_every: int,
    progress: ProgressFn | None = None,
    record_every: int = 0,
) -> list[NetworkResult]:
    """Train every network of ``specs``; results in the same order."""
    results: list[NetworkResult | None] = [None] * len(specs)
    for group in train_groups(x, y, specs, iterations, log_every, progress, record_every):
        for i, result in group:
            results[i] = result
    return results  # type: ignore[return-value]


# --- evaluation without training, and one network's path through weight space -----------


def batch_outputs(
    x: np.ndarray, weights: Sequence[np.ndarray], bias: bool = False, activation: str = "sigmoid"
) -> np.ndarray:
    """The outputs of every network of a batch for inputs ``x``, shape (samples, outputs,
    B), by the training code's forward pass (``weights`` batched: (n_k (+1 with bias),
    n_k+1, B))."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    weights = [np.ascontiguousarray(w, dtype=np.float64) for w in weights]
    sizes = [x.shape[1], *(w.shape[1] for w in weights)]
    work = _Workspace(x, sizes, weights[0].shape[-1], bias, activation)
    with np.errstate(all="ignore"):
        return work.forward(list(weights))[-1].copy()


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
    work = _Workspace(x, sizes, weights[0].shape[-1], bias, activation)
    with np.errstate(all="ignore"):
        output = work.forward(list(weights))[-1]
        return _mean_abs(output - y[:, :, None])


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
