"""How the numba engine splits a batch into blocks of networks (SIMD lanes), and which
kernel a block gets, shared with the cost model (toynn_cli/run/cost.py) so that the
estimate counts the blocks the engine runs with the kernel it runs. Pure Python.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Networks per block at most: the unit of SIMD work and of parallel scheduling.
BLOCK = 128
#: A block's size is a multiple of this (the widest SIMD vector's lanes: AVX-512, 8).
LANES = 8


def block_size(n: int, threads: int) -> int:
    """Networks per block for a batch of ``n`` on ``threads`` threads: BLOCK, or fewer
    so that the threads get even shares (140 networks on 2 threads: 2 blocks of 72 and
    68, not 128 and 12, which left a thread idle most of the time). A network's numbers
    do not depend on its block (each lane's operations are its own)."""
    if threads <= 1:
        return BLOCK
    blocks = threads * -(-n // (threads * BLOCK))  # a multiple of the threads
    size = -(-n // blocks)
    return max(LANES, min(BLOCK, -(-size // LANES) * LANES))


#: A fused kernel written out whole only up to this many sigmoid units per
#: network-iteration (samples x the units of every layer): wider bodies spill registers
#: and compile slowly (hidden 8 at 4 samples, 36 units: 4.7 s; hidden 16: 12 s and
#: slower than the pass-per-operation kernels).
MAX_UNITS = 40
#: A network of one hidden layer this wide or wider gets a kernel that loops over its
#: units (:mod:`toynn_cli.core._fused_units`; hidden 8: 1.1x the written-out kernel,
#: compiled in 1.3 s, not 4.7), ...
LOOPED_FROM = 8
#: ... if each unit's loop body is small: samples x (inputs + outputs) at most this (the
#: body is written out sample by sample; the 100-sample datasets take the
#: pass-per-operation kernels)
MAX_LOOPED_TERMS = 64


@dataclass(frozen=True)
class Layout:
    """What one fused kernel is compiled for (:mod:`toynn_cli.core._numba_fused`): the
    tutorial's settings (sigmoid units, squared loss, plain gradient descent) on these
    layer sizes, samples and bias."""

    sizes: tuple[int, ...]  # inputs, hidden layers, outputs
    samples: int
    bias: bool

    @property
    def params(self) -> int:
        return sum((a + self.bias) * b for a, b in zip(self.sizes, self.sizes[1:]))

    @property
    def outputs(self) -> int:
        return self.samples * self.sizes[-1]


def looped(layout: Layout) -> bool:
    """Whether ``layout``'s kernel loops over its hidden units
    (:mod:`toynn_cli.core._fused_units`): one hidden layer of at least
    :data:`LOOPED_FROM` units, on few enough samples."""
    sizes = layout.sizes
    return (
        len(sizes) == 3
        and sizes[1] >= LOOPED_FROM
        and layout.samples * (sizes[0] + sizes[2]) <= MAX_LOOPED_TERMS
    )


def fits(layout: Layout) -> bool:
    """Whether ``layout`` gets a fused kernel: one that loops over its hidden units
    (:func:`looped`), or small enough to be written out whole (:data:`MAX_UNITS`)."""
    return looped(layout) or layout.samples * sum(layout.sizes[1:]) <= MAX_UNITS


#: Networks a fused kernel trains at once, the SIMD lanes of its loops: written out
#: whole, 16 (two AVX-512 vectors: ran as fast as 64 and wastes less on small sweeps);
#: looped over the units, 8 (one AVX-512 vector, two AVX2 ones: 16 ran 8% slower at
#: hidden 32, and left more lanes empty in blocks, which are multiples of 8)
WHOLE_LANES = 16
LOOPED_LANES = 8


def fused_lanes(layout: Layout) -> int:
    """Networks ``layout``'s fused kernel trains at once (a block of fewer costs as
    much)."""
    return LOOPED_LANES if looped(layout) else WHOLE_LANES
