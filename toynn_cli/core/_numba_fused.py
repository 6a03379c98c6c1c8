"""Fused kernels for the tutorial's small networks (imported only by the numba engine:
importing this module imports numba).

The kernels of :mod:`toynn_cli.core._numba_kernels` make one pass over a block's
networks per operation (a row of activations, a product term, a sigmoid), so each
operation loads and stores its operands. For a small network (the tutorial's: 3
inputs, 4 hidden units, 1 output, 4 samples) one network's whole iteration fits in
registers: this module writes that iteration out as straight-line code, one Python
statement per product, sigmoid and update, for one layout (layer sizes, samples,
bias), and compiles it with the iteration's loop over the networks of a block of
``LANES`` as the innermost loop, which the compiler vectorises: the networks of a
block are the SIMD lanes (bench/README.md: 1.3-1.4x the pass-per-operation kernels).
A network of one wider hidden layer (:func:`toynn_cli.core.blocks.looped`) has its
iteration written as loops over its hidden units instead, one unit's work written out in
each (:mod:`toynn_cli.core._fused_units`); the rest of the generated module is the same.

Same bits as the other kernels and the NumPy engine: the statements are theirs in the
same order (products summed left to right, the bias last, ``1 / (exp(-z) + 1)`` with
toynn's exp, each derivative from the layer's output, ``w - lr * g``), fastmath off.
The tests compare the three bit for bit.

Two things make the loop vectorise. The block's whole state (weights, previous signs,
direction counts, step sizes, the last forward pass's records) is one flat float64
array, rows of ``LANES`` at offsets fixed in the code, so the compiler sees that no
store of one network can change a load of another (with several arrays it would need
run-time overlap checks, more than it is willing to emit); and ``LANES`` is a constant,
not the block's length.

The generated module is written once per layout to :func:`directory` (a file named by
a digest of this module, the portable functions and the layout, so a changed generator
or exp never meets an old file) and cached by numba beside it like every kernel.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from toynn_cli.core import _fused_native, _fused_units, blocks, portable
from toynn_cli.core.blocks import Layout, looped

#: Networks of a block the written-out kernels train at once (see blocks.WHOLE_LANES)
LANES = blocks.WHOLE_LANES


def _rows(layout: Layout) -> _fused_units.Rows:
    return (_fused_units.LoopedRows if looped(layout) else _fused_units.Rows)(layout)


def _param_row(layout: Layout) -> str:
    # the text of the state row of parameter p (the engine's order)
    return _fused_units.param_row(layout) if looped(layout) else "p"


def scratch_size(layout: Layout) -> int:
    """Float64s in each of a kernel call's two scratch arrays (a block's state)."""
    return _rows(layout).total * blocks.fused_lanes(layout)


def _iteration(layout: Layout) -> list[str]:
    """The body of ``iterate``'s loop over lanes: forward (its outputs stored for
    ``records``), backward, step."""
    rows, sizes, bias, samples = (
        _fused_units.Rows(layout),
        layout.sizes,
        layout.bias,
        layout.samples,
    )
    layers = len(sizes) - 1
    w_off = [0]
    for k in range(layers):
        w_off.append(w_off[-1] + (sizes[k] + bias) * sizes[k + 1])

    def wname(k: int, i: int, n: int) -> str:  # W[k][i, n] (i = sizes[k]: the bias row)
        return f"w{w_off[k] + i * sizes[k + 1] + n}"

    def a(k: int, s: int, i: int) -> str:  # layer k's output (k = 0: the inputs)
        return f"x{s}_{i}" if k == 0 else f"a{k}_{s}_{i}"

    lines = [f"lr = S[{rows.lr * LANES} + b]"]
    lines += [f"w{p} = S[{(rows.w + p) * LANES} + b]" for p in range(layout.params)]
    for k in range(layers):  # forward
        for s in range(samples):
            for n in range(sizes[k + 1]):
                z = _fused_units.chain(
                    [f"{a(k, s, i)} * {wname(k, i, n)}" for i in range(sizes[k])]
                )
                if bias:
                    z = f"({z}) + {wname(k, sizes[k], n)}"
                lines.append(f"{a(k + 1, s, n)} = 1.0 / (exp(-({z})) + 1.0)")
    out = sizes[-1]
    for s in range(samples):
        for o in range(out):
            r = s * out + o
            v = a(layers, s, o)
            lines.append(f"e{r} = {v} - y{s}_{o}")
            lines.append(f"S[{(rows.out + r) * LANES} + b] = {v}")
    grads = {}
    for k in range(layers - 1, -1, -1):  # backward: deltas, then this layer's gradients
        n_in, n_out = sizes[k], sizes[k + 1]
        for s in range(samples):
            for n in range(n_out):
                act = a(k + 1, s, n)
                if k == layers - 1:
                    d = f"e{s * n_out + n}"
                else:
                    up = sizes[k + 2]
                    d = _fused_units.chain(
                        [f"d{k + 1}_{s}_{u} * {wname(k + 1, n, u)}" for u in range(up)]
                    )
                lines.append(f"d{k}_{s}_{n} = ({d}) * ({act} * (1.0 - {act}))")
        for n in range(n_out):
            if bias:
                grads[wname(k, n_in, n)] = _fused_units.chain(
                    [f"d{k}_{s}_{n}" for s in range(samples)]
                )
            for i in range(n_in):
                terms = [f"{a(k, s, i)} * d{k}_{s}_{n}" for s in range(samples)]
                grads[wname(k, i, n)] = _fused_units.chain(terms)
    for p in range(layout.params):  # the step, and the direction counts
        prev, changes = (rows.prev + p) * LANES, (rows.changes + p) * LANES
        lines += [
            f"g = {grads[f'w{p}']}",
            "up = 1.0 if g < 0.0 else 0.0",
            f"S[{changes} + b] += count if up != S[{prev} + b] else 0.0",
            f"S[{prev} + b] = up",
            f"S[{(rows.w + p) * LANES} + b] = w{p} - lr * g",
        ]
    return lines


def _records(layout: Layout) -> list[str]:
    """The body of ``records``' loop over lanes: the sums of the error and the accuracy
    of the outputs an iteration stored (mean_abs's and accuracy's order; divided when
    copied out), from the same ``output - target`` as the step's."""
    rows, out, width = _rows(layout), layout.sizes[-1], blocks.fused_lanes(layout)
    lines, errs, hits = [], [], []
    for s in range(layout.samples):
        for o in range(out):
            r = s * out + o
            lines.append(f"v{r} = S[{(rows.out + r) * width} + b]")
            errs.append(f"abs(v{r} - y{s}_{o})")
            hits.append(
                f"(1.0 if (y{s}_{o} == 1.0 and v{r} > 0.5) or (y{s}_{o} == 0.0 and v{r} < 0.5)"
                " else 0.0)"
            )
    lines.append(f"S[{rows.err * width} + b] = {_fused_units.chain(errs)}")
    lines.append(f"S[{rows.acc * width} + b] = {_fused_units.chain(hits)}")
    return lines


def source(layout: Layout) -> str:
    """The generated module's text."""
    rows, sizes = _rows(layout), layout.sizes
    params, errors = layout.params, layout.outputs
    ys = [f"y{s}_{o} = y[{s}, {o}]" for s in range(layout.samples) for o in range(sizes[-1])]
    loads = [f"x{s}_{i} = x[{s}, {i}]" for s in range(layout.samples) for i in range(sizes[0])]
    if looped(layout):
        body = "\n".join("    " + line for line in _fused_units.iteration(layout))
    else:
        body = "    for b in range(LANES):\n" + "\n".join(
            "        " + line for line in _iteration(layout)
        )
    head = "\n".join("    " + line for line in loads + ys)
    targets = "\n".join("    " + line for line in ys)
    sums = "\n".join("        " + line for line in _records(layout))
    return f'''"""Generated by toynn_cli.core._numba_fused for layer sizes {sizes},
{layout.samples} samples, bias {layout.bias}: do not edit (a new toynn writes a new file)."""

import numba
import numpy as np
from numba import carray, types

from toynn_cli.core import portable

LANES = {blocks.fused_lanes(layout)}
ROWS = {rows.total}

# toynn's exp, compiled as a function of its own: LLVM inlines it into the loop (numba's
# own inliner, inline="always", took 5x longer to compile these bodies)
exp = numba.njit(error_model="numpy", fastmath=False)(portable.exp_scalar)


@numba.njit(cache=True, error_model="numpy", fastmath=False)
def iterate(x, y, S, count):
    # one iteration of the block's LANES networks, S its state (see _numba_fused)
{head}
{body}


@numba.njit(cache=True, error_model="numpy", fastmath=False)
def records(y, S):
    # the error's and the accuracy's sums of the outputs iterate stored in S: only for
    # the iterations a checkpoint or a history point reads (computed every iteration,
    # they cost a fifth of the tutorial network's iteration)
{targets}
    for b in range(LANES):
{sums}


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath=False)
def segment(x, y, w, prev, changes, alphas, j0, j1, check_its, hist_its, check_err,
            check_acc, hist_err, final_err, outputs, size, first, last, S, T):
    # iterations j0 to j1 - 1 of blocks first to last - 1 (of size networks each, as
    # _numba_kernels' segment), each trained LANES networks at a time; S and T scratch
    # of ROWS * LANES (nothing here allocates: see _fused_native)
    n = w.shape[1]
    block, b0 = first, first * size
    while block < last and b0 < n:  # networks b0 to b0 + m - 1 of block
        end = min((block + 1) * size, n)
        m = min(LANES, end - b0)
        S[:] = 0.0  # the lanes past the last network train zeros, never read
        for p in range({params}):
            r = {_param_row(layout)}  # its state row
            for b in range(m):
                S[({rows.w} + r) * LANES + b] = w[p, b0 + b]
                S[({rows.prev} + r) * LANES + b] = 1.0 if prev[p, b0 + b] != 0 else 0.0
                S[({rows.changes} + r) * LANES + b] = changes[p, b0 + b]
        for b in range(m):
            S[{rows.lr} * LANES + b] = alphas[b0 + b]
        c = np.searchsorted(check_its, j0)  # the next checkpoint and history point
        h = np.searchsorted(hist_its, j0)  # at or after j0
        for j in range(j0, j1):
            iterate(x, y, S, 1.0 if j > 0 else 0.0)
            checked = c < check_its.shape[0] and check_its[c] == j
            historied = h < hist_its.shape[0] and hist_its[h] == j
            if checked or historied:
                records(y, S)
            if checked:
                for b in range(m):
                    check_err[c, b0 + b] = S[{rows.err} * LANES + b] / {errors}
                    check_acc[c, b0 + b] = S[{rows.acc} * LANES + b] / {errors}
                c += 1
            if historied:
                for b in range(m):
                    hist_err[h, b0 + b] = S[{rows.err} * LANES + b] / {errors}
                h += 1
        if final_err.shape[0] > 0:  # the error and outputs after training: a forward
            for r in range(ROWS * LANES):  # pass (an iteration on a copy, its step
                T[r] = S[r]  # thrown away)
            iterate(x, y, T, 0.0)
            records(y, T)
            for b in range(m):
                final_err[b0 + b] = T[{rows.err} * LANES + b] / {errors}
                for r in range({errors}):
                    outputs[r, b0 + b] = T[({rows.out} + r) * LANES + b]
        for p in range({params}):
            r = {_param_row(layout)}  # its state row
            for b in range(m):
                w[p, b0 + b] = S[({rows.w} + r) * LANES + b]
                prev[p, b0 + b] = 1 if S[({rows.prev} + r) * LANES + b] != 0.0 else 0
                changes[p, b0 + b] = np.int64(S[({rows.changes} + r) * LANES + b])
        b0 += m
        if b0 == end:
            block += 1


F8, I8, U8 = types.CPointer(types.float64), types.CPointer(types.int64), types.CPointer(types.uint8)
SIGNATURE = types.void(
    F8, F8, F8, U8, I8, F8, types.int64, types.int64, I8, I8, F8, F8, F8, F8, F8,
    *[types.int64] * 7, F8, F8,
)


def c_segment(x, y, w, prev, changes, alphas, j0, j1, check_its, hist_its, check_err,
              check_acc, hist_err, final_err, outputs, n, checks, histories, finals, size,
              first, last, S, T):
    # segment over raw pointers, its arrays' shapes from the layout and the arguments:
    # the C function _fused_native calls (compiled by native())
    segment(
        carray(x, ({layout.samples}, {sizes[0]})), carray(y, ({layout.samples}, {sizes[-1]})),
        carray(w, ({params}, n)), carray(prev, ({params}, n)), carray(changes, ({params}, n)),
        carray(alphas, (n,)), j0, j1, carray(check_its, (checks,)),
        carray(hist_its, (histories,)), carray(check_err, (checks, n)),
        carray(check_acc, (checks, n)), carray(hist_err, (histories, n)),
        carray(final_err, (finals,)), carray(outputs, ({errors}, n)), size, first, last,
        carray(S, (ROWS * LANES,)), carray(T, (ROWS * LANES,)),
    )
'''


def directory() -> Path:
    """Where the generated modules go: ``$XDG_CACHE_HOME/toynn/kernels`` (or
    ``~/.cache/...``), else a folder of the temporary directory."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    for folder in (
        Path(base, "toynn", "kernels"),
        Path(tempfile.gettempdir(), f"toynn-kernels-{os.getuid()}"),
    ):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            return folder
    raise OSError("no writable folder for toynn's generated kernels")


#: what a generated module's name depends on besides its layout: this generator, the
#: rule of which layouts loop over their units, and the portable functions its kernels
#: call (a change to any makes new files)
_STAMP = hashlib.sha256(
    b"".join(
        path.read_bytes()
        for path in [
            Path(__file__),
            Path(_fused_units.__file__),
            Path(blocks.__file__),  # which layouts loop over their units
            *sorted(Path(portable.__file__).parent.glob("*.py")),
        ]
    )
).hexdigest()
_modules: dict[Layout, ModuleType] = {}


def module_path(layout: Layout) -> Path:
    """The file of ``layout``'s generated module (named by a digest of :data:`_STAMP`
    and the layout; it may not be written yet)."""
    digest = hashlib.sha256(f"{_STAMP} {layout}".encode()).hexdigest()[:20]
    return directory() / f"toynn_fused_{digest}.py"


def module(layout: Layout) -> ModuleType:
    """The generated module of ``layout`` (written if it is not there yet, then imported:
    this imports numba; its functions compile on first use, or load from numba's
    cache)."""
    found = _modules.get(layout)
    if found is not None:
        return found
    path = module_path(layout)
    name, text = path.stem, source(layout)
    if path.exists() and path.read_text() == text:
        os.utime(path)  # used now (see _fused_native.prune)
    else:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{name}.", suffix=".tmp")
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    found = importlib.util.module_from_spec(spec)
    sys.modules[name] = found
    spec.loader.exec_module(found)
    _modules[layout] = found
    return found


def native(layout: Layout) -> Callable[..., None]:
    """``layout``'s kernel, compiled by numba: its C entry point (``c_segment``), whose
    object code is kept for :mod:`toynn_cli.core._fused_native` to load in later runs
    without numba (for the CPU numba compiled for), loaded from there, or where that
    cannot be done, called where numba put it."""
    import numba

    found = module(layout)
    entry = numba.cfunc(found.SIGNATURE, error_model="numpy", fastmath=False)(found.c_segment)
    return _fused_native.keep(entry, module_path(layout), _fused_native.ARGTYPES)
