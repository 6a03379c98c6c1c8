"""The numba engine's compiled loops (imported only by :mod:`toynn_cli.engine_numba`,
and only when that engine is used: importing this module imports numba).

Every innermost loop runs over the networks of a block (the columns of a
``(rows, networks)`` array), so it is vectorised, and each network goes through the
same scalar IEEE operations in the same order as in the NumPy engine. With ``fast``
(``--engine numba-fast``) the sigmoid's exp is :func:`poly_exp` instead of the C
library's: vectorised, within 1 ulp, so no longer the NumPy engine's bits.
"""

import numba
import numpy as np


@numba.njit(cache=True, fastmath=False)
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


# exp(x) = 2**k * exp(r), k = round(x / ln 2), r = x - k ln 2 (Cody-Waite: ln 2 in two
# parts, so r is exact enough), exp(r) by its Taylor polynomial to degree 13 (|r| <= 0.35:
# the next term is below 2**-56)
LOG2E = 1.4426950408889634
LN2_HI = 0.6931471803691238
LN2_LO = 1.9082149292705877e-10
# adding 1.5 * 2**52 rounds to an integer and leaves it in the low bits of the mantissa
# (AVX2 has no vector float-to-int64 conversion; this needs none)
MAGIC = 6755399441055744.0
MAGIC_BITS = 0x4338000000000000  # the bits of MAGIC


@numba.njit(cache=True, fastmath=False)
def poly_exp(xs, out, t):
    """out = exp(xs), elementwise, within 1 ulp of the C library's (``t``: scratch of the
    same length). Vectorised: only arithmetic, integer ops on the bits, and selects.
    Below -708 it gives 0 (exp is then under 2**-1021: 1 / (1 + e) is 1.0 either way)."""
    n = xs.shape[0]
    for b in range(n):
        xc = min(xs[b], 709.78)  # exp overflows above 709.78...; fixed below
        xc = max(xc, -708.0)
        tt = xc * LOG2E + MAGIC
        k = tt - MAGIC
        r = (xc - k * LN2_HI) - k * LN2_LO
        p = 1.0 / 6227020800.0
        p = p * r + 1.0 / 479001600.0
        p = p * r + 1.0 / 39916800.0
        p = p * r + 1.0 / 3628800.0
        p = p * r + 1.0 / 362880.0
        p = p * r + 1.0 / 40320.0
        p = p * r + 1.0 / 5040.0
        p = p * r + 1.0 / 720.0
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * r + 1.0
        p = p * r + 1.0
        out[b] = p * 2.0  # times 2**(k - 1) below: k - 1 + 1023 stays in 1..2046
        t[b] = tt
    bits = t.view(np.int64)
    for b in range(n):
        bits[b] = (bits[b] - MAGIC_BITS + 1022) << 52  # 2.0 ** (k - 1)
    for b in range(n):
        x = xs[b]
        v = out[b] * t[b]
        v = np.inf if x > 709.782712893384 else v
        v = 0.0 if x < -708.0 else v
        out[b] = v if x == x else x  # NaN stays NaN


@numba.njit(cache=True, fastmath=False)
def forward(act, w, x_rows, sizes, a_off, w_off, samples, term, fast, negz, scratch):
    nb = act.shape[1]
    layers = sizes.shape[0] - 1
    for k in range(layers):
        n_in, n_out = sizes[k], sizes[k + 1]
        for s in range(samples):
            for n in range(n_out):
                z = a_off[k + 1] + s * n_out + n
                below = a_off[k] + s * n_in
                # z = sum_i a[s, i] * w[i, n], i = 0, 1, 2, ... in order
                wr = w_off[k] + n
                for b in range(nb):
                    act[z, b] = act[below, b] * w[wr, b]
                for i in range(1, n_in):
                    wr = w_off[k] + i * n_out + n
                    for b in range(nb):
                        term[b] = act[below + i, b] * w[wr, b]
                    for b in range(nb):
                        act[z, b] += term[b]
                # sigmoid(z) = 1 / (1 + exp(-z)), as the NumPy engine: negate, exp,
                # add 1, reciprocal
                if fast:
                    for b in range(nb):
                        negz[b] = -act[z, b]
                    poly_exp(negz, term, scratch)
                else:
                    for b in range(nb):
                        term[b] = np.exp(-act[z, b])
                for b in range(nb):
                    act[z, b] = 1.0 / (term[b] + 1.0)


@numba.njit(cache=True, fastmath=False)
def block_train(
    x,
    y,
    sizes,
    w,
    prev,
    changes,
    alphas,
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
    fast,
):
    nb = b1 - b0
    samples = x.shape[0]
    layers = sizes.shape[0] - 1
    n_outputs = sizes[layers]
    a_off = np.zeros(layers + 2, dtype=np.int64)
    w_off = np.zeros(layers + 1, dtype=np.int64)
    for k in range(layers + 1):
        a_off[k + 1] = a_off[k] + samples * sizes[k]
    for k in range(layers):
        w_off[k + 1] = w_off[k] + sizes[k] * sizes[k + 1]
    params = w_off[layers]
    out_row = a_off[layers]
    rows_err = samples * n_outputs

    # the block's state, contiguous along its networks
    wl = np.empty((params, nb))
    sign = np.empty((params, nb), dtype=np.bool_)
    prevl = np.empty((params, nb), dtype=np.bool_)
    chl = np.empty((params, nb), dtype=np.int64)
    for p in range(params):
        for b in range(nb):
            wl[p, b] = w[p, b0 + b]
            prevl[p, b] = prev[p, b0 + b]
            chl[p, b] = changes[p, b0 + b]
    al = np.empty(nb)
    for b in range(nb):
        al[b] = alphas[b0 + b]
    act = np.empty((a_off[layers + 1], nb))
    for s in range(samples):
        for i in range(sizes[0]):
            for b in range(nb):
                act[s * sizes[0] + i, b] = x[s, i]
    delta = np.empty((a_off[layers + 1], nb))
    err = np.empty((rows_err, nb))
    g = np.empty((params, nb))
    term = np.empty(nb)
    negz = np.empty(nb)
    scratch = np.empty(nb)
    total = np.empty(nb)
    col = np.empty(nb)

    # the next checkpoint and history point at or after j0
    c = 0
    while c < check_its.shape[0] and check_its[c] < j0:
        c += 1
    h = 0
    while h < hist_its.shape[0] and hist_its[h] < j0:
        h += 1

    for j in range(j0, j1):
        forward(act, wl, x, sizes, a_off, w_off, samples, term, fast, negz, scratch)
        for s in range(samples):
            for o in range(n_outputs):
                r = s * n_outputs + o
                for b in range(nb):
                    err[r, b] = act[out_row + r, b] - y[s, o]
        if c < check_its.shape[0] and check_its[c] == j:
            mean_abs(err, rows_err, total, col)
            for b in range(nb):
                check_err[c, b0 + b] = col[b]
            # accuracy: outputs on the right side of 0.5 (the caller keeps it only for
            # targets that are all 0 or 1), counted, then divided like NumPy's mean
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
                check_acc[c, b0 + b] = total[b] / rows_err
            c += 1
        if h < hist_its.shape[0] and hist_its[h] == j:
            mean_abs(err, rows_err, total, col)
            for b in range(nb):
                hist_err[h, b0 + b] = col[b]
            h += 1

        # backward, from the weights before the update
        for k in range(layers - 1, -1, -1):
            n_in, n_out = sizes[k], sizes[k + 1]
            for s in range(samples):
                for n in range(n_out):
                    a = a_off[k + 1] + s * n_out + n
                    if k == layers - 1:
                        # d[L] = err * (a * (1 - a))
                        e = s * n_out + n
                        for b in range(nb):
                            delta[a, b] = err[e, b] * (act[a, b] * (1.0 - act[a, b]))
                    else:
                        # d = (d_above @ W[k+1].T) * (a * (1 - a)), summed in order
                        n_up = sizes[k + 2]
                        above = a_off[k + 2] + s * n_up
                        wr = w_off[k + 1] + n * n_up
                        for b in range(nb):
                            delta[a, b] = delta[above, b] * wl[wr, b]
                        for m in range(1, n_up):
                            for b in range(nb):
                                term[b] = delta[above + m, b] * wl[wr + m, b]
                            for b in range(nb):
                                delta[a, b] += term[b]
                        for b in range(nb):
                            delta[a, b] *= act[a, b] * (1.0 - act[a, b])
            # g[i, n] = sum_s a[s, i] * d[s, n], s = 0, 1, 2, ... in order
            for i in range(n_in):
                for n in range(n_out):
                    gr = w_off[k] + i * n_out + n
                    below = a_off[k] + i
                    d = a_off[k + 1] + n
                    for b in range(nb):
                        g[gr, b] = act[below, b] * delta[d, b]
                    for s in range(1, samples):
                        for b in range(nb):
                            term[b] = act[below + s * n_in, b] * delta[d + s * n_out, b]
                        for b in range(nb):
                            g[gr, b] += term[b]

        # direction changes (the step moves a weight up when g < 0), then the step
        for p in range(params):
            for b in range(nb):
                sign[p, b] = g[p, b] < 0.0
            if j > 0:
                for b in range(nb):
                    chl[p, b] += sign[p, b] != prevl[p, b]
            for b in range(nb):
                prevl[p, b] = sign[p, b]
            for b in range(nb):
                wl[p, b] -= al[b] * g[p, b]

    if final_err.shape[0] > 0:  # the last segment: error and outputs after training
        forward(act, wl, x, sizes, a_off, w_off, samples, term, fast, negz, scratch)
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


# Two functions, not one compiled twice: numba's disk cache keys a function's versions
# by argument types only, so a serial and a parallel build of one function would share
# (and overwrite) one cache entry.


@numba.njit(cache=True, fastmath=False)
def segment_serial(
    x, y, sizes, w, prev, changes, alphas, j0, j1, check_its, hist_its, check_err,
    check_acc, hist_err, final_err, outputs, block, fast,
):  # fmt: skip
    """Iterations ``j0`` to ``j1 - 1`` for every block of networks (columns of ``w``),
    one block after another (used inside worker processes)."""
    n = w.shape[1]
    for b0 in range(0, n, block):
        block_train(
            x, y, sizes, w, prev, changes, alphas, j0, j1, check_its, hist_its, check_err,
            check_acc, hist_err, final_err, outputs, b0, min(n, b0 + block), fast,
        )  # fmt: skip


@numba.njit(cache=True, fastmath=False, parallel=True)
def segment_parallel(
    x, y, sizes, w, prev, changes, alphas, j0, j1, check_its, hist_its, check_err,
    check_acc, hist_err, final_err, outputs, block, fast,
):  # fmt: skip
    """The same, the blocks shared among numba's threads."""
    n = w.shape[1]
    blocks = (n + block - 1) // block
    for i in numba.prange(blocks):
        b0 = i * block
        block_train(
            x, y, sizes, w, prev, changes, alphas, j0, j1, check_its, hist_its, check_err,
            check_acc, hist_err, final_err, outputs, b0, min(n, b0 + block), fast,
        )  # fmt: skip
