"""What a run costs in time, per engine: the model behind ``--dry-run``'s estimate.

Each engine has a :class:`CostModel`: seconds per iteration of one batch as a linear
function of :func:`features` (the layout's sizes, the samples, and the networks that
share the engine's vector lanes), plus the fixed start-up of a saved run and a cost per
network (its result, status, chunk file and report). The numba engine runs the networks
of a batch in blocks of ``BLOCK`` lanes, so a block of one network costs nearly what a
full block does (a single network on a large dataset is slow there), and has a second
set of coefficients for the batches it trains with a fused kernel (the tutorial's
settings on few samples: ``CostModel.fused``); the NumPy engine runs the whole batch as
one, paying a per-call overhead each iteration.

The coefficients come from ``bench/calibrate_estimate.py``, run on the development
machines (see NUMBA and NUMPY: a 2-core AMD EPYC and a 2-core Intel Xeon, KVM), Python
3.11.7, NumPy 2.4.6, numba 0.68.1. Estimates assume the cores are
free and the kernels compiled.

Pure Python and the standard library (and toynn_cli.core.blocks, pure Python).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from toynn_cli.core import blocks

#: Activations of a block (8 bytes x lanes x samples x units) above this no longer stay
#: in the core's L2 cache (1.25 MB on the development machine): memory-bound, slower.
SPILL_BYTES = 2 << 20


#: What each worker process or thread past the first adds, as a share of a core: on the
#: 2-core AMD EPYC of the numba engine's calibration the second thread added 0.84 of a
#: core with the machine quiet (W2 in this process: 8.4 s on one thread, 4.7 s on two);
#: on the Intel Xeon before it, the second NumPy worker process added 0.6, and almost
#: nothing while another job kept a core busy. Estimates assume free cores.
PARALLEL_EFFICIENCY = 0.8


def speed_up(parallel: int) -> float:
    """How many cores' worth ``parallel`` workers (or threads) get (PARALLEL_EFFICIENCY)."""
    return 1.0 + PARALLEL_EFFICIENCY * (max(1, parallel) - 1)


#: Reporting alone (``--no-save``: no run folder), per network (s), up to 10000 networks
#: and above: the same Python whichever engine trained them (5005 and 20006 networks x
#: 200 iterations with --no-save, less start-up and training, on the Intel Xeon below:
#: 40 and 12 us; saving the same adds 290 and 12 us)
UNSAVED_PER_NETWORK = 0.04e-3
UNSAVED_PER_NETWORK_LARGE = 0.012e-3


def per_network(model: CostModel, large: bool, saved: bool) -> float:
    """Seconds a network of the results costs after training: saving and reporting
    (``saved``), or reporting only; ``large``: of a sweep whose results are summarised."""
    if not saved:
        return UNSAVED_PER_NETWORK_LARGE if large else UNSAVED_PER_NETWORK
    return model.per_network_large if large else model.per_network


@dataclass(frozen=True)
class CostModel:
    """Seconds one engine takes, from :func:`features`."""

    #: seconds per batch-iteration: the dot product with :func:`features`
    coefficients: tuple[float, ...]
    #: networks per block of lanes (0: the whole batch is one block)
    block: int
    #: a saved run of one network and one iteration, whole process (s)
    startup: float
    #: reporting and saving, per network (s): up to 10000 networks (full records), and above
    per_network: float
    per_network_large: float
    #: starting the pool of worker processes (s)
    pool_startup: float = 0.05
    #: seconds per batch-iteration of the batches the engine trains with a fused kernel
    #: (the numba engine's, toynn_cli.core.blocks.fits); empty: ``coefficients``
    fused: tuple[float, ...] = ()


def features(sizes: Sequence[int], samples: int, lanes: int) -> list[float]:
    """What a batch-iteration's time is linear in, for ``lanes`` networks of layer
    ``sizes`` on ``samples`` samples: work that grows with the lanes (the products
    samples x weights, samples x units, and the weights' update) and the same terms
    once per block (each innermost loop's set-up, or each NumPy call's overhead), the
    number of NumPy calls (about the sum of the sizes, and the samples times the layers:
    the NumPy engine sums each gradient over the samples one call at a time) and a
    constant; and the lanes' products again when the block's activations outgrow the
    cache (SPILL_BYTES)."""
    params = sum(a * b for a, b in itertools.pairwise(sizes))
    units = sum(sizes[1:])
    sp, su = samples * params, samples * units
    spilled = lanes * sp if 8 * lanes * su > SPILL_BYTES else 0.0
    calls = [sum(sizes), samples * (len(sizes) - 1)]
    return [lanes * sp, lanes * su, lanes * params, sp, su, params, *calls, 1.0, spilled]


def kernel_lanes(sizes: Sequence[int], samples: int, lanes: int, fused: bool) -> int:
    """The lanes a block of ``lanes`` networks costs: a fused kernel trains a fixed
    number at once (blocks.fused_lanes), so fewer cost as many."""
    if not fused:
        return lanes
    width = blocks.fused_lanes(blocks.Layout(tuple(sizes), samples, False))
    return -(-lanes // width) * width


def block_seconds(
    model: CostModel, sizes: Sequence[int], samples: int, lanes: int, fused: bool = False
) -> float:
    """Seconds per iteration of one block of ``lanes`` networks (``fused``: trained by a
    fused kernel, :func:`kernel_lanes` of them)."""
    fused = fused and bool(model.fused)
    coefficients = model.fused if fused else model.coefficients
    counted = features(sizes, samples, kernel_lanes(sizes, samples, lanes, fused))
    return sum(c * f for c, f in zip(coefficients, counted))


def batch_seconds(
    model: CostModel,
    sizes: Sequence[int],
    samples: int,
    networks: int,
    iterations: int,
    threads: int = 1,
    fused: bool = False,
) -> float:
    """Seconds to train one batch of ``networks`` of one layout; ``threads`` share its
    blocks (the numba engine in this process), one block each at a time, at the
    :func:`speed_up` they get together; ``fused``: by a fused kernel."""
    if networks <= 0:
        return 0.0
    # the numba engine's blocks: up to model.block networks, evened out for the threads
    block = min(model.block, blocks.block_size(networks, threads)) if model.block else networks
    full, rest = divmod(networks, block)
    parts = [block] * full + ([rest] if rest else [])
    per_block = [block_seconds(model, sizes, samples, n, fused) for n in parts]
    lanes = max(1, min(threads, len(parts)))
    return iterations * max(sum(per_block) / speed_up(lanes), max(per_block))


#: The numba engine: the mean of two machines' fits by bench/calibrate_estimate.py, so
#: that a slower and a faster machine both come within 2x: a 2-core AMD EPYC (Zen 4,
#: AVX-512, KVM) on 2026-12-03, coefficients (1.028e-9, 3.285e-10, 0, 2.724e-8, ...,
#: 1.047e-9), start-up 0.344 s, 462 us a network; and a 2-core Intel Xeon (AVX-512,
#: KVM) on 2026-12-04, after the fused kernels stopped summing records every
#: iteration, (6.997e-10, 0, 0, 1.261e-8, ..., 7.127e-10), 0.225 s, 243 us. Each fit is
#: within 1.55x (AMD) and 1.82x (Intel) of every batch it timed (hidden 2-32, 4-2000
#: samples, 1-128 networks a block; the kernels' machine code loaded without numba: the
#: fused kernels for the small layouts, the segment kernels above). The NumPy engine's
#: on an Intel Xeon (load 2.1-3.0), within 1.7x of batches of 1-4096 networks.
NUMBA = CostModel(
    coefficients=(8.64e-10, 1.64e-10, 0.0, 1.99e-08, 0.0, 0.0, 0.0, 0.0, 0.0, 8.80e-10),
    block=blocks.BLOCK,
    startup=0.28,  # the kernels' machine code loaded, no numba import
    # saving and reporting: 5000 networks x 200 iterations, 462 and 243 us a network; a
    # large sweep's (summarised, chunk files deflated, saved on a thread while the next
    # chunk trains) 80 us on the AMD EPYC before run-folder format 5 and the Grid, 25 us
    # on the Intel Xeon (20000 networks), and 16 there and about 40 on an AMD EPYC Zen 2
    # for 10^5 networks x 1000 iterations (saved less --no-save)
    per_network=0.35e-3,
    per_network_large=0.03e-3,
    # the fused kernels (the tutorial's settings on few samples, blocks.fits): the Intel
    # Xeon's fit (52 batches, hidden 2-32 on 4-16 samples, 1-128 networks, within 1.21x
    # of each) of 2026-12-04, after the hidden-unit loop (1.713e-10, 1.187e-9, 0,
    # 1.399e-11, 0, ...), times 1.23: the mean of the two machines above, whose fits
    # differed by 1.47x
    fused=(2.107e-10, 1.460e-09, 0.0, 1.721e-11, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
)  # fmt: skip
NUMPY = CostModel(
    coefficients=(0.0, 4.498e-08, 0.0, 0.0, 0.0, 0.0, 2.64e-06, 3.485e-06, 2.123e-04, 9.524e-09),
    block=0,
    startup=0.44,
    per_network=0.8e-3,
    per_network_large=0.29e-3,
)
#: the engine's cost model, by engine name (engines.REGISTRY)
MODELS: dict[str, CostModel] = {"numba": NUMBA, "numba-fast": NUMBA, "numpy": NUMPY}


def model_for(engine: str) -> CostModel:
    """The cost model of ``engine`` (an engine without one: the NumPy engine's)."""
    return MODELS.get(engine, NUMPY)
