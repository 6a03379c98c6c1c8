"""The fused kernel's iteration for a network of one wide hidden layer, as loops over its
hidden units (text for :mod:`toynn_cli.core._numba_fused`, which writes and compiles
the kernels; pure Python).

Written out in full, an iteration of a 3-32-1 network on 4 samples is 132 sigmoids
whose values the backward pass needs: more than the registers hold, so the compiled
body spills and runs slower than the pass-per-operation kernels. Here one hidden unit's
work (its sigmoid on every sample, its share of each output's sum, its gradients and
step) is written out once, inside a loop over the units, with the loop over a block's
networks (the SIMD lanes) innermost, as in the unrolled kernels. Between the forward
and the backward loop the units' outputs wait in the block's state, one row of lanes
each; the whole state of a block of 8 networks of 3-32-1 on 4 samples is 42 KB, in L1
cache (48 KB on the development machine; the pass-per-operation kernels keep 128
networks' rows in L2). bench/README.md: 1.5-1.9x
those kernels for hidden 16 and 32, and 1.1x the unrolled kernel for hidden 8, which
takes 3.5 times as long to compile.

Same bits: the same statements in the same order as the unrolled kernels (products
summed left to right, the bias last, ``1 / (exp(-z) + 1)``, each derivative from the
layer's output, ``w - lr * g``). An output's sum over the hidden units runs across the
loop's passes: unit ``n`` adds its term to the sum through unit ``n - 1``, which the pass
before left in a row of its own (a row per unit: every row the loop reads or writes
lies a fixed distance from the others, so the compiler can tell that the lanes do not
overlap, and vectorises the loop: about 980 zmm instructions in a kernel's object code
on AVX-512).

The block's state: every parameter (a row of lanes each, in the engine's order but
the output layer's weights stored output by output, :func:`param_row`), the signs of the
last step's gradients, the direction counts, the step size, the records, then the
hidden layer's outputs (sample by sample), the outputs' running sums (output by
output, a row per unit) and the output layer's deltas.
"""

from __future__ import annotations

from collections.abc import Callable

from toynn_cli.core import blocks
from toynn_cli.core.blocks import Layout

#: Networks a loop over lanes trains at once (see blocks.LOOPED_LANES)
LANES = blocks.LOOPED_LANES


def chain(terms: list[str]) -> str:
    """The text of a sum of ``terms`` added left to right, as every kernel adds it."""
    expr = terms[0]
    for term in terms[1:]:
        expr = f"({expr}) + {term}"
    return expr


class Rows:
    """Row offsets of a block's state array in every fused kernel (each row as wide as
    the kernel's lanes): the parameters ``w``, the signs of the last step's gradients
    ``prev``, the direction counts ``changes``, the step size ``lr``, the records (the
    error's and the accuracy's sums ``err``, ``acc``, the outputs from ``out``);
    ``total`` rows in all."""

    def __init__(self, layout: Layout) -> None:
        p = layout.params
        self.w, self.prev, self.changes, self.lr = 0, p, 2 * p, 3 * p
        self.err, self.acc, self.out = 3 * p + 1, 3 * p + 2, 3 * p + 3
        self.total = self.out + layout.outputs


class LoopedRows(Rows):
    """:class:`Rows`, then the loop over the units' own: the hidden outputs, the outputs'
    running sums, the output deltas."""

    def __init__(self, layout: Layout) -> None:
        super().__init__(layout)
        hidden, n_out = layout.sizes[1:]
        samples = layout.samples
        self.a = self.total  # the hidden outputs: a[s, n] at a + s H + n
        self.sums = self.a + samples * hidden  # output (s, o)'s sum through unit n
        self.delta = self.sums + samples * n_out * hidden  # the output deltas
        self.total = self.delta + samples * n_out


def param_row(layout: Layout) -> str:
    """The text of the state row of parameter ``p`` (in the engine's order: the hidden
    layer's weights row by row, its bias row, then the output layer's, each row unit by
    unit): the output layer's weights are stored output by output instead, so that each
    output's weights are consecutive rows in the loop over units (an expression, not a
    table: a table of a 100000-unit layer is a global array numba cannot cache)."""
    n_in, hidden, n_out = layout.sizes
    first = (n_in + layout.bias) * hidden
    if n_out == 1:
        return "p"
    moved = f"{first} + ((p - {first}) % {n_out}) * {hidden} + (p - {first}) // {n_out}"
    return f"(p if p < {first} or p >= {first + hidden * n_out} else {moved})"


def iteration(layout: Layout) -> list[str]:
    """The body of ``iterate`` (one iteration of a block's ``LANES`` networks, ``S`` its
    state): the forward loop over the hidden units, the outputs, the backward loop
    (deltas, gradients and step of each unit's weights), the output bias's step."""
    rows, (n_in, hidden, n_out), bias = LoopedRows(layout), layout.sizes, layout.bias
    samples, params = layout.samples, layout.params
    w2 = (n_in + bias) * hidden  # the output layer's first row

    def row(r: int) -> str:  # row r + n (n: the loop's unit), lane b
        return f"S[({r} + n) * {LANES} + b]"

    def fixed(r: int) -> str:  # row r, lane b
        return f"S[{r * LANES} + b]"

    def forward(first: bool) -> list[str]:
        lines = []
        for s in range(samples):
            z = chain([f"x{s}_{i} * {row(i * hidden)}" for i in range(n_in)])
            if bias:
                z = f"({z}) + {row(n_in * hidden)}"
            lines.append(f"a{s} = 1.0 / (exp(-({z})) + 1.0)")
            lines.append(f"{row(rows.a + s * hidden)} = a{s}")
            for o in range(n_out):
                term = f"a{s} * {row(w2 + o * hidden)}"
                total = rows.sums + (s * n_out + o) * hidden
                before = "" if first else f"S[({total} + n - 1) * {LANES} + b] + "
                lines.append(f"{row(total)} = {before}{term}")
        return lines

    def step(r: int, gradient: str, place: Callable[[int], str] = row) -> list[str]:
        return [
            f"g = {gradient}",
            "up = 1.0 if g < 0.0 else 0.0",
            f"{place(r + 2 * params)} += count if up != {place(r + params)} else 0.0",
            f"{place(r + params)} = up",
            f"{place(r)} = {place(r)} - lr * g",
        ]

    lines = ["n = 0", f"for b in range({LANES}):"]
    lines += ["    " + line for line in forward(first=True)]
    lines += [f"for n in range(1, {hidden}):", f"    for b in range({LANES}):"]
    lines += ["        " + line for line in forward(first=False)]

    lines.append(f"for b in range({LANES}):")  # the outputs and their deltas
    for s in range(samples):
        for o in range(n_out):
            r = s * n_out + o
            z = f"S[{(rows.sums + r * hidden + hidden - 1) * LANES} + b]"
            if bias:
                z = f"({z}) + {fixed(w2 + n_out * hidden + o)}"
            lines.append(f"    v = 1.0 / (exp(-({z})) + 1.0)")
            lines.append(f"    {fixed(rows.out + r)} = v")
            lines.append(f"    e = v - y{s}_{o}")
            lines.append(f"    {fixed(rows.delta + r)} = e * (v * (1.0 - v))")

    back = [f"lr = {fixed(rows.lr)}"]
    for s in range(samples):
        back.append(f"a{s} = {row(rows.a + s * hidden)}")
        back += [f"u{s}_{o} = {fixed(rows.delta + s * n_out + o)}" for o in range(n_out)]
    back += [f"v{o} = {row(w2 + o * hidden)}" for o in range(n_out)]
    for s in range(samples):  # the hidden deltas, from the weights before the step
        up = chain([f"u{s}_{o} * v{o}" for o in range(n_out)])
        back.append(f"d{s} = ({up}) * (a{s} * (1.0 - a{s}))")
    for i in range(n_in):
        back += step(i * hidden, chain([f"x{s}_{i} * d{s}" for s in range(samples)]))
    if bias:
        back += step(n_in * hidden, chain([f"d{s}" for s in range(samples)]))
    for o in range(n_out):
        back += step(w2 + o * hidden, chain([f"a{s} * u{s}_{o}" for s in range(samples)]))
    lines += [f"for n in range({hidden}):", f"    for b in range({LANES}):"]
    lines += ["        " + line for line in back]

    if bias:  # the output layer's bias row
        lines += [f"for b in range({LANES}):", f"    lr = {fixed(rows.lr)}"]
        for o in range(n_out):
            deltas = chain([fixed(rows.delta + s * n_out + o) for s in range(samples)])
            lines += ["    " + line for line in step(w2 + n_out * hidden + o, deltas, fixed)]
    return lines
