"""One training step's arithmetic for a batch of networks of one layout, forward
and backward side by side (see engine.py's docstring for the math): products as
fixed-order sums (no BLAS), activations, losses, batch norm, dropout masks, gradient
clipping. Pure NumPy."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from toynn_cli.core import portable
from toynn_cli.core.network import BN_EPS, BN_MOMENTUM, LEAKY_SLOPE

# --- batched linear algebra, in a fixed summation order ---------------------------------


class Workspace:
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
            mean = np.divide(sum_samples(z), n, out=self.batch_mean[k])
            np.subtract(z, mean, out=zhat)
            var = np.divide(sum_samples(zhat * zhat), n, out=self.batch_var[k])
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
        np.copyto(self.bn_grads[2 * k], sum_samples(delta * zhat))
        np.copyto(self.bn_grads[2 * k + 1], sum_samples(delta))
        # the batch's mean and variance depend on every sample's z:
        # dz = inv / n * (n * dz^ - sum_s dz^ - z^ * sum_s dz^ z^), dz^ = dy * gamma
        dzhat = delta * gamma
        total, weighted = sum_samples(dzhat), sum_samples(dzhat * zhat)
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
            # (core/portable/): NumPy's differs from CPU to CPU in the last bit.
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


def update_running(work: Workspace, running: list[np.ndarray], active: np.ndarray | None) -> None:
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


def sum_samples(a: np.ndarray) -> np.ndarray:
    """sum over the first (sample) axis, in order: s = 0, 1, 2, ..."""
    total = a[0].copy()
    for row in a[1:]:
        total += row
    return total


def draw_masks(masks: list[np.ndarray], rngs: list[np.random.RandomState], p: float) -> None:
    """Fresh inverted-dropout masks: 1 / (1 - p) with probability 1 - p, else 0; network
    b's from its own generator, layer by layer."""
    for mask in masks:
        samples, units, _ = mask.shape
        for b, rng in enumerate(rngs):
            mask[:, :, b] = (rng.random_sample((samples, units)) >= p) / (1.0 - p)


def clip_norm(grads: list[np.ndarray], max_norm: float) -> None:
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


def mean_abs(err: np.ndarray) -> np.ndarray:
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
    work = Workspace(x, sizes, weights[0].shape[-1], bias, activation, loss)
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
