"""The numba engine's compiled loops (imported only by :mod:`toynn_cli.core.engine_numba`,
and only when that engine is used: importing this module imports numba).

Every innermost loop runs over the networks of a block (the columns of a
``(rows, networks)`` array), so it is vectorised, and each network goes through the
same scalar IEEE operations in the same order as in the NumPy engine. The sigmoid's exp
is toynn's own (:func:`toynn_cli.core.portable.exp_scalar`, compiled here and inlined into
the loop, where it vectorises), the one the NumPy engine uses: the two engines give the
same bits, on every CPU.
"""

import functools
import hashlib
from pathlib import Path
from typing import Any

import numba
import numpy as np
from numba import carray
from numba.extending import intrinsic, register_jitable

from toynn_cli.core import _fused_native, _numba_update, kernel_settings, portable
from toynn_cli.core.kernel_settings import (
    C_ACTIVATION,
    C_BIAS,
    C_LOSS,
    C_STOPPING,
    CROSS_ENTROPY,
    H_TARGET_ERROR,
    RELU,
    SIGMOID,
    TANH,
)
from toynn_cli.core.network import LEAKY_SLOPE
from toynn_cli.core.portable import trigonometric

#: How every kernel is compiled: cached on disk; fastmath off (no fused multiply-adds,
#: no reordered sums: the NumPy engine's bits); NumPy's error model (a division by zero
#: gives inf or NaN as in NumPy; Python's model checks every divisor, and that branch
#: keeps the loop from vectorising).
kernel = functools.partial(numba.njit, cache=True, error_model="numpy", fastmath=False)

# the portable functions call these helpers: make them callable from compiled code
for _helper in (
    portable.expm1_scalar,
    trigonometric._reduce_scalar,
    trigonometric._sincos_scalar,
):
    register_jitable(_helper)

#: toynn's exp, tanh, sin and cos (:mod:`toynn_cli.core.portable`), compiled
exp = numba.njit(inline="always", error_model="numpy", fastmath=False)(portable.exp_scalar)
expm1 = numba.njit(fastmath=False)(portable.expm1_scalar)
tanh = numba.njit(inline="always", error_model="numpy", fastmath=False)(portable.tanh_scalar)
sin = numba.njit(fastmath=False)(portable.sin_scalar)
cos = numba.njit(fastmath=False)(portable.cos_scalar)

#: A digest of the portable package's modules and of the update step's module
#: (:mod:`toynn_cli.core._numba_update`). Numba's disk cache checks only the file of the
#: function it caches: a kernel compiled with an older portable function or update step
#: would be loaded as it is. :func:`refresh_cache` compares this with the digest the
#: cached kernels were built with.
PORTABLE_STAMP = int.from_bytes(
    hashlib.sha256(
        b"".join(
            path.name.encode() + b"\0" + path.read_bytes()
            for path in [
                *sorted(Path(portable.__file__).parent.glob("*.py")),
                Path(_numba_update.__file__),
                Path(kernel_settings.__file__),
            ]
        )
    ).digest()[:7],
    "little",
)


@intrinsic
def _address(typingctx, ary):
    """The address of an array's first element, as a typed pointer (for carray)."""
    if not isinstance(ary, numba.types.Array):
        return None

    def codegen(context, builder, signature, args):
        return context.make_array(signature.args[0])(context, builder, args[0]).data

    return numba.types.CPointer(ary.dtype)(ary), codegen


@numba.njit(cache=True)
def portable_stamp():
    return PORTABLE_STAMP


@kernel()
def mean_abs(err, rows, out, col):
    # mean |err| over samples and outputs, summed row by row in order
    nb = err.shape[1]
    for b in range(nb):
        out[b] = abs(err[0, b])
    for r in range(1, rows):
        for b in range(nb):
            out[b] += abs(err[r, b])
    for b in range(nb):
        col[b] = out[b] / rows


#: Compiled helpers of the kernels (not cached on their own): ``compiled`` ones are
#: called (each compiled once; a call per pass over a block's networks costs little),
#: ``inline`` ones are inlined by numba into the segment function, so that a constant of
#: the segment (``general``, see :func:`build`) prunes their branches. Numba's inliner
#: is slow: inlining every helper made the kernels take 30 s more to compile.
inline = functools.partial(numba.njit, inline="always", error_model="numpy", fastmath=False)
compiled = functools.partial(numba.njit, error_model="numpy", fastmath=False)


@compiled
def dot_rows(out, o, a, a0, a_step, w, w0, w_step, terms):
    """out[o] = sum_t a[a0 + t a_step] * w[w0 + t w_step], t = 0, 1, ... in order, for
    every network (column): the terms added one after another, as the NumPy engine
    adds them, but two in one pass over the networks (fewer loads and stores than a
    pass per term; the same operations in the same order)."""
    nb = out.shape[1]
    p, q = a0, w0
    if terms >= 2:
        for b in range(nb):
            out[o, b] = a[p, b] * w[q, b] + a[p + a_step, b] * w[q + w_step, b]
        done = 2
    else:
        for b in range(nb):
            out[o, b] = a[p, b] * w[q, b]
        done = 1
    while done + 2 <= terms:
        p, q = a0 + done * a_step, w0 + done * w_step
        for b in range(nb):
            out[o, b] = (out[o, b] + a[p, b] * w[q, b]) + a[p + a_step, b] * w[q + w_step, b]
        done += 2
    if done < terms:
        p, q = a0 + done * a_step, w0 + done * w_step
        for b in range(nb):
            out[o, b] += a[p, b] * w[q, b]


@compiled
def sigmoid(act, z):
    # 1 / (1 + exp(-z)), as the NumPy engine: negate, exp (toynn's portable exp), add 1,
    # reciprocal
    for b in range(act.shape[1]):
        act[z, b] = 1.0 / (exp(-act[z, b]) + 1.0)


@compiled
def activate(act, z, f):
    # row z = f(row z) for activation f
    nb = act.shape[1]
    if f == SIGMOID:
        sigmoid(act, z)
    elif f == TANH:
        for b in range(nb):
            act[z, b] = tanh(act[z, b])
    elif f == RELU:  # np.maximum(z, 0.0): NaN stays, -0.0 gives 0.0
        for b in range(nb):
            v = act[z, b]
            act[z, b] = v if (v > 0.0 or v != v) else 0.0
    else:  # leaky_relu, np.maximum(z, 0.01 z): the second on a tie
        for b in range(nb):
            v = act[z, b]
            t = v * LEAKY_SLOPE
            act[z, b] = v if (v > t or v != v) else t


@compiled
def sigmoid_slope(delta, a, act):
    # delta *= a (1 - a)
    for b in range(act.shape[1]):
        delta[a, b] *= act[a, b] * (1.0 - act[a, b])


@compiled
def times_slope(delta, a, act, activation):
    # delta *= f'(z), from a = f(z) as the NumPy engine writes each derivative
    nb = act.shape[1]
    if activation == SIGMOID:  # a (1 - a)
        sigmoid_slope(delta, a, act)
    elif activation == TANH:  # 1 - a**2
        for b in range(nb):
            delta[a, b] *= 1.0 - act[a, b] * act[a, b]
    elif activation == RELU:  # 1 where a > 0, else 0 (multiplied: NaN stays NaN)
        for b in range(nb):
            delta[a, b] *= 1.0 if act[a, b] > 0.0 else 0.0
    else:  # leaky_relu: 1 or 0.01
        for b in range(nb):
            delta[a, b] *= 1.0 if act[a, b] > 0.0 else LEAKY_SLOPE


@kernel()
def accuracy(act, y, out_row, total, col):
    # outputs on the right side of 0.5 (the caller keeps it only for targets that are all
    # 0 or 1), counted, then divided like NumPy's mean
    samples, n_outputs = y.shape
    nb = total.shape[0]
    for b in range(nb):
        total[b] = 0.0
    for s in range(samples):
        for o in range(n_outputs):
            r = s * n_outputs + o
            t = y[s, o]
            for b in range(nb):
                v = act[out_row + r, b]
                if (t == 1.0 and v > 0.5) or (t == 0.0 and v < 0.5):
                    total[b] += 1.0
    for b in range(nb):
        col[b] = total[b] / (samples * n_outputs)


@inline
def forward(act, w, sizes, a_off, w_off, samples, bias, activation, general):
    # a[k+1] = f(a[k] @ W[k] (+ the bias row)), layer by layer; f is the activation on
    # hidden layers and the sigmoid on the output, as the NumPy engine computes them
    nb = act.shape[1]
    layers = sizes.shape[0] - 1
    for k in range(layers):
        n_in, n_out = sizes[k], sizes[k + 1]
        f = activation if k < layers - 1 else SIGMOID
        for s in range(samples):
            for n in range(n_out):
                z = a_off[k + 1] + s * n_out + n
                below = a_off[k] + s * n_in
                # z = sum_i a[s, i] * w[i, n], i = 0, 1, 2, ... in order
                dot_rows(act, z, act, below, 1, w, w_off[k] + n, n_out, n_in)
                if bias:  # a constant input 1 times the bias row, added last
                    wr = w_off[k] + n_in * n_out + n
                    for b in range(nb):
                        act[z, b] += w[wr, b]
                if general:
                    activate(act, z, f)
                else:
                    sigmoid(act, z)


@inline
def block_train(
    x,
    y,
    sizes,
    w,
    prev,
    changes,
    state,
    active,
    stopped_at,
    alphas,
    codes,
    hyper,
    j0,
    j1,
    check_its,
    hist_its,
    check_err,
    check_acc,
    hist_err,
    final_err,
    outputs,
    b0,
    b1,
    general,
    fs,
    ints,
    flags,
):
    # fs, ints, flags: the thread's scratch (float64, int64, bool; kernel_settings.
    # scratch_sizes), carved here into the block's arrays (nothing here allocates)
    nb = b1 - b0
    samples = x.shape[0]
    layers = sizes.shape[0] - 1
    n_outputs = sizes[layers]
    a_off = ints[0 : layers + 2]
    w_off = ints[layers + 2 : 2 * layers + 3]
    a_off[0] = 0
    w_off[0] = 0
    for k in range(layers + 1):
        a_off[k + 1] = a_off[k] + samples * sizes[k]
    bias = codes[C_BIAS] != 0
    activation = codes[C_ACTIVATION]
    cross_entropy = codes[C_LOSS] == CROSS_ENTROPY
    for k in range(layers):  # W[k] has sizes[k] rows, and the bias row last
        w_off[k + 1] = w_off[k] + (sizes[k] + bias) * sizes[k + 1]
    params = w_off[layers]
    out_row = a_off[layers]
    rows_err = samples * n_outputs

    # the block's state, contiguous along its networks: views of the scratch, made by
    # carray (reshape would call numba's runtime helpers, which only numba has)
    slots = state.shape[0]
    rows = a_off[layers + 1]
    f = 0
    wl = carray(_address(fs[f:]), (params, nb))
    f += params * nb
    stl = carray(_address(fs[f:]), (slots, params, nb))  # the optimizer's state
    f += slots * params * nb
    upd = carray(_address(fs[f:]), (params, nb))
    f += params * nb
    g = carray(_address(fs[f:]), (params, nb))
    f += params * nb
    act = carray(_address(fs[f:]), (rows, nb))
    f += rows * nb
    delta = carray(_address(fs[f:]), (rows, nb))
    f += rows * nb
    err = carray(_address(fs[f:]), (rows_err, nb))
    f += rows_err * nb
    al, lr, scratch = fs[f : f + nb], fs[f + nb : f + 2 * nb], fs[f + 2 * nb : f + 3 * nb]
    current, total = fs[f + 3 * nb : f + 4 * nb], fs[f + 4 * nb : f + 5 * nb]
    col = fs[f + 5 * nb : f + 6 * nb]
    chl = carray(_address(ints[2 * layers + 3 :]), (params, nb))
    prevl = carray(_address(flags), (params, nb))
    actl = flags[params * nb : params * nb + nb]
    for p in range(params):
        for b in range(nb):
            wl[p, b] = w[p, b0 + b]
            prevl[p, b] = prev[p, b0 + b]
            chl[p, b] = changes[p, b0 + b]
    for q in range(slots):
        for p in range(params):
            for b in range(nb):
                stl[q, p, b] = state[q, p, b0 + b]
    running = False  # whether a network of the block still trains (early stopping)
    for b in range(nb):
        al[b] = alphas[b0 + b]
        actl[b] = active[b0 + b]
        running = running or actl[b]
    stopping = codes[C_STOPPING] != 0
    for s in range(samples):
        for i in range(sizes[0]):
            for b in range(nb):
                act[s * sizes[0] + i, b] = x[s, i]

    # the next checkpoint and history point at or after j0
    c = np.searchsorted(check_its, j0)
    h = np.searchsorted(hist_its, j0)

    # a block whose networks have all stopped (in an earlier segment) trains no more
    for j in range(j0, j1 if running else j0):
        forward(act, wl, sizes, a_off, w_off, samples, bias, activation, general)
        for s in range(samples):
            for o in range(n_outputs):
                r = s * n_outputs + o
                for b in range(nb):
                    err[r, b] = act[out_row + r, b] - y[s, o]
        if stopping:  # a network whose error is at most the target stops before update j
            mean_abs(err, rows_err, total, current)
            running = _numba_update.stop_check(
                current, actl, stopped_at, b0, j, hyper[H_TARGET_ERROR]
            )
        if c < check_its.shape[0] and check_its[c] == j:
            mean_abs(err, rows_err, total, col)
            for b in range(nb):
                check_err[c, b0 + b] = col[b]
            accuracy(act, y, out_row, total, col)
            for b in range(nb):
                check_acc[c, b0 + b] = col[b]
            c += 1
        if h < hist_its.shape[0] and hist_its[h] == j:
            mean_abs(err, rows_err, total, col)
            for b in range(nb):
                hist_err[h, b0 + b] = col[b]
            h += 1
        if not running:
            # every network of the block has stopped: no weight moves again, so each
            # later recorded error is the one it has now (the NumPy engine trains on
            # until its whole batch has stopped, the stopped networks' weights held)
            _numba_update.fill(check_err, c, b0, current)
            _numba_update.fill(hist_err, h, b0, current)
            accuracy(act, y, out_row, total, col)
            _numba_update.fill(check_acc, c, b0, col)
            break

        # backward, from the weights before the update
        for k in range(layers - 1, -1, -1):
            n_in, n_out = sizes[k], sizes[k + 1]
            for s in range(samples):
                for n in range(n_out):
                    a = a_off[k + 1] + s * n_out + n
                    if k == layers - 1:
                        e = s * n_out + n
                        if cross_entropy:  # through the output sigmoid: d[L] = err
                            for b in range(nb):
                                delta[a, b] = err[e, b]
                        else:  # d[L] = err * (a * (1 - a))
                            for b in range(nb):
                                delta[a, b] = err[e, b] * (act[a, b] * (1.0 - act[a, b]))
                        continue
                    # d = (d_above @ W[k+1][:n].T) * f'(z), summed in order (the bias
                    # row feeds no unit below); f'(z) from a = f(z), as the NumPy engine
                    n_up = sizes[k + 2]
                    above = a_off[k + 2] + s * n_up
                    dot_rows(delta, a, delta, above, 1, wl, w_off[k + 1] + n * n_up, 1, n_up)
                    if general:
                        times_slope(delta, a, act, activation)
                    else:
                        sigmoid_slope(delta, a, act)
            # g[i, n] = sum_s a[s, i] * d[s, n], s = 0, 1, 2, ... in order; the bias
            # row's g[n_in, n] = sum_s d[s, n]
            for n in range(n_out if bias else 0):
                gr = w_off[k] + n_in * n_out + n
                d = a_off[k + 1] + n
                for b in range(nb):
                    g[gr, b] = delta[d, b]
                for s in range(1, samples):
                    for b in range(nb):
                        g[gr, b] += delta[d + s * n_out, b]
            for i in range(n_in):
                for n in range(n_out):
                    gr = w_off[k] + i * n_out + n
                    below, d = a_off[k] + i, a_off[k + 1] + n
                    dot_rows(g, gr, act, below, n_in, delta, d, n_out, samples)

        # the step (clipping, learning rate, optimizer), then direction changes
        if general:
            _numba_update.update(
                j, wl, g, upd, stl, lr, scratch, al, actl, prevl, chl, codes, hyper
            )  # fmt: skip
        else:  # the tutorial's step
            _numba_update.step_plain(wl, g, al, prevl, chl, actl, j)

    if final_err.shape[0] > 0:  # the last segment: error and outputs after training
        forward(act, wl, sizes, a_off, w_off, samples, bias, activation, general)
        for s in range(samples):
            for o in range(n_outputs):
                r = s * n_outputs + o
                for b in range(nb):
                    err[r, b] = act[out_row + r, b] - y[s, o]
                    outputs[r, b0 + b] = act[out_row + r, b]
        mean_abs(err, rows_err, total, col)
        for b in range(nb):
            final_err[b0 + b] = col[b]

    for p in range(params):
        for b in range(nb):
            w[p, b0 + b] = wl[p, b]
            prev[p, b0 + b] = prevl[p, b]
            changes[p, b0 + b] = chl[p, b]
    for q in range(slots):
        for p in range(params):
            for b in range(nb):
                state[q, p, b0 + b] = stl[q, p, b]
    for b in range(nb):
        active[b0 + b] = actl[b]


def build(general: bool) -> Any:
    """The segment function: iterations ``j0`` to ``j1 - 1`` for the blocks of networks
    ``first`` to ``last - 1`` (each ``block`` columns of ``w``), one after another, for
    the tutorial's networks (``general`` False: sigmoid units, squared loss, plain
    gradient descent, no clipping, schedule or early stopping; any layers, with or
    without bias) or for every setting the engine trains (True). It releases the GIL:
    threads train disjoint ranges of blocks at once.

    ``general`` is a constant of the compiled code (the function is a closure over it,
    and block_train and forward are inlined into it), so numba compiles only the
    branches it leaves alive: the tutorial's kernel compiles in half the time. Each is
    compiled on first use and cached on disk (numba keys a closure's cache entries by
    the values it closes over)."""

    @kernel(nogil=True)
    def segment(
        x, y, sizes, w, prev, changes, state, active, stopped_at, alphas, codes, hyper, j0,
        j1, check_its, hist_its, check_err, check_acc, hist_err, final_err, outputs, block,
        first, last, fs, ints, flags,
    ):  # fmt: skip
        n = w.shape[1]
        for i in range(first, last):
            b0 = i * block
            block_train(
                x, y, sizes, w, prev, changes, state, active, stopped_at, alphas, codes,
                hyper, j0, j1, check_its, hist_its, check_err, check_acc, hist_err,
                final_err, outputs, b0, min(n, b0 + block), general, fs, ints, flags,
            )  # fmt: skip

    return segment


_built: dict[bool, Any] = {}


def kernel_for(general: bool) -> Any:
    """:func:`build`'s function, built once per process."""
    if general not in _built:
        _built[general] = build(general)
    return _built[general]


#: numba's types of the C entry point's arguments (kernel_settings.SEGMENT_ARGS)
_C_TYPES = {
    "f8": numba.types.CPointer(numba.types.float64),
    "i8": numba.types.CPointer(numba.types.int64),
    "b1": numba.types.CPointer(numba.types.boolean),
    "int": numba.types.int64,
}
SIGNATURE = numba.types.void(*(_C_TYPES[kind] for kind in kernel_settings.SEGMENT_ARGS))


def native(general: bool, module_path: Path) -> Any:
    """:func:`kernel_for`'s function behind a C entry point over raw pointers
    (kernel_settings.SEGMENT_ARGS), compiled; its object code kept beside
    ``module_path`` for later runs to load without numba
    (:func:`toynn_cli.core._fused_native.keep`). Returns a ctypes function."""
    segment = kernel_for(general)

    def c_segment(
        x, y, sizes, w, prev, changes, state, active, stopped_at, alphas, codes, hyper,
        check_its, hist_its, check_err, check_acc, hist_err, final_err, outputs, j0, j1,
        samples, n_in, n_out, layers1, params, n, slots, checks, histories, finals,
        out_rows, block, first, last, fs, ints, flags, n_fs, n_ints, n_flags,
    ):  # fmt: skip
        segment(
            carray(x, (samples, n_in)), carray(y, (samples, n_out)), carray(sizes, (layers1,)),
            carray(w, (params, n)), carray(prev, (params, n)), carray(changes, (params, n)),
            carray(state, (slots, params, n)), carray(active, (n,)),
            carray(stopped_at, (n,)), carray(alphas, (n,)),
            carray(codes, (kernel_settings.N_CODES,)), carray(hyper, (kernel_settings.N_HYPER,)),
            j0, j1, carray(check_its, (checks,)), carray(hist_its, (histories,)),
            carray(check_err, (checks, n)), carray(check_acc, (checks, n)),
            carray(hist_err, (histories, n)), carray(final_err, (finals,)),
            carray(outputs, (out_rows, n)), block, first, last, carray(fs, (n_fs,)),
            carray(ints, (n_ints,)), carray(flags, (n_flags,)),
        )  # fmt: skip

    entry = numba.cfunc(SIGNATURE, error_model="numpy", fastmath=False)(c_segment)
    kinds = _fused_native.argtypes(kernel_settings.SEGMENT_ARGS)
    return _fused_native.keep(entry, module_path, kinds)


def refresh_cache() -> None:
    """If the cached kernels were compiled with other portable functions (see
    :data:`PORTABLE_STAMP`), empty their cache entries so that they compile again."""
    if portable_stamp() == PORTABLE_STAMP:
        return
    for function in (mean_abs, accuracy, kernel_for(False), kernel_for(True)):
        function._cache.flush()
    portable_stamp._cache.flush()
    portable_stamp.recompile()
