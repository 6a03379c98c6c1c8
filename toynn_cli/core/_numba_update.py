"""The numba engine's update step: what ``block_train`` does with a block's gradient
(imported only by :mod:`toynn_cli.core._numba_kernels`: importing this module imports
numba).

One update of a block of networks, after its gradient ``g`` is computed: clipping
(``clip_value``, then ``clip_norm``), the learning rate of the iteration (schedule,
early stopping), the optimizer (weight decay first), ``W -= update``, and the counts of
direction changes. Every operation is :mod:`toynn_cli.core.optim`'s,
:mod:`toynn_cli.core.layers`'s and :mod:`toynn_cli.core.engine`'s, for each element in
the same order; fastmath is off (no fused multiply-adds, no reordering), so the bits
are the NumPy engine's. Arrays are a block's, ``(params, nb)`` (rows of weights, the
block's networks along the last axis, every innermost loop over them), the weights of
every layer one after another, each layer's row-major as NumPy flattens it (the order
``clip_norm`` sums the squares in).

The settings are two arrays made once per batch by :func:`settings`: ``codes``
(int64: the optimizer and its switches, the schedule, early stopping) and ``hyper``
(float64: the hyperparameters), indexed by the ``C_*`` and ``H_*`` constants. The
optimizer's state (momentum buffers, running means) is one ``(slots, params, n)``
array (:func:`initial_state`), kept by the caller between segments like the weights.

The step count t is j + 1 (the optimizer steps once every iteration); the corrections
and schedule factors that NumPy computes once per step as Python floats (``powi``,
``cos``) are computed here once per step with the same portable functions, compiled.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba.extending import register_jitable

from toynn_cli.core import portable
from toynn_cli.core.kernel_settings import (
    ADADELTA,
    ADAGRAD,
    C_AMSGRAD,
    C_CENTERED,
    C_NESTEROV,
    C_OPTIMIZER,
    C_SCHEDULE,
    C_STEP_SIZE,
    C_STOPPING,
    C_T_MAX,
    CONSTANT,
    COSINE,
    H_BETA1,
    H_BETA2,
    H_CLIP_NORM,
    H_CLIP_VALUE,
    H_DAMPENING,
    H_EPS,
    H_ETA_MIN,
    H_GAMMA,
    H_LR_DECAY,
    H_MOMENTUM,
    H_SMOOTHING,
    H_WEIGHT_DECAY,
    PLAIN,
    RMSPROP,
    SGD,
    STEP,
)
from toynn_cli.core.portable import powers, trigonometric

# the portable functions used here call these helpers: make them callable from compiled
# code (registering one twice, here and in _numba_kernels, is harmless)
for _helper in (powers._mul_dd, trigonometric._reduce_scalar, trigonometric._sincos_scalar):
    register_jitable(_helper)

#: the portable powi and cos (learning-rate schedules, Adam's bias corrections), compiled
powi = numba.njit(fastmath=False)(portable.powi)
cos = numba.njit(fastmath=False)(portable.cos_scalar)


# --- compiled ---------------------------------------------------------------------------
# Not cached on their own: they are compiled into block_train, whose cache entry
# _numba_kernels.refresh_cache empties when this file changes.


@numba.njit(fastmath=False, error_model="numpy")
def update(j, wl, g, upd, state, lr, scratch, al, active, prevl, chl, codes, hyper):
    """Update ``j`` (from 0) of a block, from its gradient ``g`` (clipped and decayed
    in place): ``wl -= upd`` with ``upd`` the optimizer's update (the tutorial's
    ``lr * g`` for plain sgd), and ``chl`` counts direction changes (the sign of ``upd``,
    or of ``g`` for plain sgd, differs from the previous iteration's, kept in
    ``prevl``) of the networks still ``active``.

    ``wl``, ``g``, ``upd`` (scratch), ``prevl`` (bool) and ``chl`` (int64) are
    ``(params, nb)``; ``state`` is ``(slots, params, nb)`` (:func:`initial_state`);
    ``al`` the networks' alphas, ``active`` (bool; all True without early stopping),
    ``lr`` and ``scratch`` (scratch) are ``(nb,)``; ``codes`` and ``hyper`` are
    :func:`settings`'.
    """
    learning_rates(lr, al, active, j, codes, hyper)
    clip(g, scratch, hyper)
    optimizer = codes[C_OPTIMIZER]
    stopping = codes[C_STOPPING] != 0
    if optimizer == PLAIN:
        step_plain(wl, g, lr, prevl, chl, active, j)
        return
    decay(wl, g, hyper[H_WEIGHT_DECAY])
    t = j + 1
    if optimizer == SGD:
        step_sgd(g, upd, state, lr, t, codes, hyper)
    elif optimizer == ADAGRAD:
        step_adagrad(g, upd, state, lr, scratch, t, hyper)
    elif optimizer == ADADELTA:
        step_adadelta(g, upd, state, lr, hyper)
    elif optimizer == RMSPROP:
        step_rmsprop(g, upd, state, lr, codes, hyper)
    else:
        step_adam(g, upd, state, lr, scratch, t, codes, hyper)
    params = wl.shape[0]
    for p in range(params):
        subtract(wl, upd, p, active, stopping)
    count_changes(upd, prevl, chl, active, j)


@numba.njit(fastmath=False, error_model="numpy", inline="always")
def subtract(wl, upd, p, active, stopping):
    """Row p of W -= update; with early stopping, a stopped network's weights stay as
    they are (as engine.py keeps them: its update, lr * 0 * ..., is 0 unless it is not
    finite)."""
    nb = wl.shape[1]
    if stopping:
        for b in range(nb):
            wl[p, b] = wl[p, b] - upd[p, b] if active[b] else wl[p, b]
    else:
        for b in range(nb):
            wl[p, b] -= upd[p, b]


@numba.njit(fastmath=False, error_model="numpy")
def learning_rates(lr, al, active, j, codes, hyper):
    """``lr`` = network.learning_rates(al, ...) for update j, times ``active`` (0.0 or
    1.0) under early stopping, as engine.py multiplies it (0 * inf is NaN)."""
    nb = lr.shape[0]
    schedule = codes[C_SCHEDULE]
    if schedule == CONSTANT:
        for b in range(nb):
            lr[b] = al[b]
    elif schedule != COSINE:  # step: alpha * gamma ** (j // step_size); exponential
        n = j // codes[C_STEP_SIZE] if schedule == STEP else j
        factor = powi(hyper[H_GAMMA], n)
        for b in range(nb):
            lr[b] = al[b] * factor
    else:  # cosine: eta_min + (alpha - eta_min) * (1 + cos(pi * j / t_max)) / 2
        t_max = codes[C_T_MAX]
        eta_min = hyper[H_ETA_MIN]
        factor = (1.0 + cos(np.pi * min(j, t_max) / t_max)) / 2.0
        for b in range(nb):
            lr[b] = eta_min + (al[b] - eta_min) * factor
    if codes[C_STOPPING]:
        for b in range(nb):
            lr[b] = lr[b] * (1.0 if active[b] else 0.0)


@numba.njit(fastmath=False, error_model="numpy")
def clip(g, scratch, hyper):
    """engine.py's clipping: ``np.clip(g, -c, c)`` (a NaN stays), then layers.clip_norm
    (each network's squares summed one weight at a time, in order)."""
    params, nb = g.shape
    c = hyper[H_CLIP_VALUE]
    if c != 0.0:
        low, high = -c, c
        for p in range(params):
            for b in range(nb):
                v = g[p, b]  # NumPy's clip: min(max(v, low), high), NaN kept
                v = v if (v != v or v > low) else low
                g[p, b] = v if (v != v or v < high) else high
    max_norm = hyper[H_CLIP_NORM]
    if max_norm != 0.0:
        total = scratch
        for b in range(nb):
            total[b] = 0.0
        for p in range(params):
            for b in range(nb):
                total[b] += g[p, b] * g[p, b]
        for b in range(nb):
            coef = max_norm / (math.sqrt(total[b]) + 1e-6)
            total[b] = coef if (coef != coef or coef < 1.0) else 1.0  # np.minimum(coef, 1)
        for p in range(params):
            for b in range(nb):
                g[p, b] *= total[b]


@numba.njit(fastmath=False, error_model="numpy")
def decay(wl, g, weight_decay):
    """g + weight_decay * W (optim.Optimizer._decayed)."""
    if weight_decay == 0.0:
        return
    params, nb = g.shape
    for p in range(params):
        for b in range(nb):
            g[p, b] = g[p, b] + wl[p, b] * weight_decay


@numba.njit(fastmath=False, error_model="numpy")
def step_plain(wl, g, lr, prevl, chl, active, j):
    """The tutorial's step, W -= lr * g (a stopped network's weights held), and the
    direction counts from g's sign (:func:`count_changes`), in one pass."""
    params, nb = g.shape
    for p in range(params):
        if j > 0:
            for b in range(nb):
                up = g[p, b] < 0.0
                chl[p, b] += (up != prevl[p, b]) & active[b]
                prevl[p, b] = up
                wl[p, b] = wl[p, b] - lr[b] * g[p, b] if active[b] else wl[p, b]
        else:
            for b in range(nb):
                prevl[p, b] = g[p, b] < 0.0
                wl[p, b] = wl[p, b] - lr[b] * g[p, b] if active[b] else wl[p, b]


@numba.njit(fastmath=False, error_model="numpy")
def step_sgd(g, upd, state, lr, t, codes, hyper):
    """optim.SGD: lr * g, or with momentum b = g (t = 1) or momentum * b + (1 -
    dampening) * g, and lr * b (lr * (g + momentum * b) for Nesterov)."""
    params, nb = g.shape
    momentum = hyper[H_MOMENTUM]
    if momentum == 0.0:
        for p in range(params):
            for b in range(nb):
                upd[p, b] = lr[b] * g[p, b]
        return
    buf = state[0]
    undamped = 1.0 - hyper[H_DAMPENING]
    nesterov = codes[C_NESTEROV] != 0
    for p in range(params):
        if t == 1:
            for b in range(nb):
                buf[p, b] = g[p, b]
        else:
            for b in range(nb):
                buf[p, b] = buf[p, b] * momentum + g[p, b] * undamped
        if nesterov:
            for b in range(nb):
                upd[p, b] = lr[b] * (g[p, b] + buf[p, b] * momentum)
        else:
            for b in range(nb):
                upd[p, b] = lr[b] * buf[p, b]


@numba.njit(fastmath=False, error_model="numpy")
def step_adagrad(g, upd, state, lr, scratch, t, hyper):
    """optim.Adagrad: s += g * g; lr_t * (g / (sqrt(s) + eps)), lr_t = lr / (1 + (t -
    1) * lr_decay)."""
    params, nb = g.shape
    s = state[0]
    eps = hyper[H_EPS]
    divisor = 1 + (t - 1) * hyper[H_LR_DECAY]
    clr = scratch
    for b in range(nb):
        clr[b] = lr[b] / divisor
    for p in range(params):
        for b in range(nb):
            s[p, b] += g[p, b] * g[p, b]
        for b in range(nb):
            upd[p, b] = g[p, b] / (math.sqrt(s[p, b]) + eps) * clr[b]


@numba.njit(fastmath=False, error_model="numpy")
def step_adadelta(g, upd, state, lr, hyper):
    """optim.Adadelta: v = rho v + (1 - rho) g**2; dx = sqrt(u + eps) / sqrt(v + eps)
    * g; u = rho u + (1 - rho) dx**2; lr * dx."""
    params, nb = g.shape
    v, u = state[0], state[1]
    rho, eps = hyper[H_SMOOTHING], hyper[H_EPS]
    rest = 1 - rho
    for p in range(params):
        for b in range(nb):
            v[p, b] = v[p, b] * rho + (g[p, b] * g[p, b]) * rest
        for b in range(nb):
            dx = math.sqrt(u[p, b] + eps) / math.sqrt(v[p, b] + eps) * g[p, b]
            u[p, b] = u[p, b] * rho + (dx * dx) * rest
            upd[p, b] = dx * lr[b]


@numba.njit(fastmath=False, error_model="numpy")
def step_rmsprop(g, upd, state, lr, codes, hyper):
    """optim.RMSprop: v = a v + (1 - a) g**2; d = sqrt(v) + eps (centered: m = a m +
    (1 - a) g, d = sqrt(v - m**2) + eps); lr * (g / d), or with momentum b = momentum
    * b + g / d and lr * b."""
    params, nb = g.shape
    a, eps, momentum = hyper[H_SMOOTHING], hyper[H_EPS], hyper[H_MOMENTUM]
    rest = 1 - a
    centered = codes[C_CENTERED] != 0
    v = state[0]
    m = state[1] if centered else state[0]
    buf = state[state.shape[0] - 1]
    for p in range(params):
        for b in range(nb):
            v[p, b] = v[p, b] * a + (g[p, b] * g[p, b]) * rest
        if centered:
            for b in range(nb):
                m[p, b] = m[p, b] * a + g[p, b] * rest
            for b in range(nb):
                upd[p, b] = math.sqrt(v[p, b] - m[p, b] * m[p, b]) + eps  # the denominator
        else:
            for b in range(nb):
                upd[p, b] = math.sqrt(v[p, b]) + eps
        if momentum != 0.0:
            for b in range(nb):
                buf[p, b] = buf[p, b] * momentum + g[p, b] / upd[p, b]
            for b in range(nb):
                upd[p, b] = lr[b] * buf[p, b]
        else:
            for b in range(nb):
                upd[p, b] = g[p, b] / upd[p, b] * lr[b]


@numba.njit(fastmath=False, error_model="numpy")
def step_adam(g, upd, state, lr, scratch, t, codes, hyper):
    """optim.Adam: m = beta1 m + (1 - beta1) g; v = beta2 v + (1 - beta2) g**2
    (amsgrad: vmax = max(vmax, v), used for v); m / (sqrt(v) / sqrt(c2) + eps) *
    (lr / c1), c1 = 1 - beta1**t and c2 = 1 - beta2**t (portable powi)."""
    params, nb = g.shape
    beta1, beta2, eps = hyper[H_BETA1], hyper[H_BETA2], hyper[H_EPS]
    rest1, rest2 = 1 - beta1, 1 - beta2
    correction1 = 1 - powi(beta1, t)
    correction2_sqrt = math.sqrt(1 - powi(beta2, t))
    amsgrad = codes[C_AMSGRAD] != 0
    m, v = state[0], state[1]
    vmax = state[2] if amsgrad else state[1]
    scaled = scratch
    for b in range(nb):
        scaled[b] = lr[b] / correction1
    for p in range(params):
        for b in range(nb):
            m[p, b] = m[p, b] * beta1 + g[p, b] * rest1
        for b in range(nb):
            v[p, b] = v[p, b] * beta2 + (g[p, b] * g[p, b]) * rest2
        if amsgrad:
            for b in range(nb):  # np.maximum(vmax, v): NaN wins
                x, y = vmax[p, b], v[p, b]
                vmax[p, b] = x if (x >= y or x != x) else y
        for b in range(nb):
            denominator = math.sqrt(vmax[p, b]) / correction2_sqrt + eps
            upd[p, b] = m[p, b] / denominator * scaled[b]


@numba.njit(fastmath=False, error_model="numpy")
def count_changes(direction, prevl, chl, active, j):
    """engine.py's counts: a weight moves up when ``direction`` < 0; from the second
    update on, a change of that against ``prevl`` counts for the active networks."""
    params, nb = direction.shape
    for p in range(params):
        if j > 0:
            for b in range(nb):
                up = direction[p, b] < 0.0
                chl[p, b] += (up != prevl[p, b]) & active[b]
        for b in range(nb):
            prevl[p, b] = direction[p, b] < 0.0


@numba.njit(fastmath=False, error_model="numpy")
def stop_check(current, active, stopped_at, b0, j, target):
    """Early stopping before update j: an active network whose mean |err|
    (``current``) is at most ``target`` stops (``stopped_at[b0 + b] = j``); returns
    whether any network of the block is still active."""
    running = False
    for b in range(current.shape[0]):
        if active[b] and current[b] <= target:
            stopped_at[b0 + b] = j
            active[b] = False
        running = running or active[b]
    return running


@numba.njit(fastmath=False, error_model="numpy")
def fill(rows, start, b0, values):
    """``rows[start:, b0 + b] = values[b]``: the records after every network of the block
    stopped (no weight moves again)."""
    for r in range(start, rows.shape[0]):
        for b in range(values.shape[0]):
            rows[r, b0 + b] = values[b]
