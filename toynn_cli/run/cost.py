"""What a run costs in time, per engine: the model behind ``--dry-run``'s estimate.

Each engine has a :class:`CostModel`: seconds per iteration of one batch as a linear
function of :func:`features` (the layout's sizes, the samples, and the networks that
share the engine's vector lanes), plus the fixed start-up of a saved run and a cost per
network (its result, status, chunk file and report). The numba engine runs the networks
of a batch in blocks of ``BLOCK`` lanes, so a block of one network costs nearly what a
full block does (a single network on a large dataset is slow there); the NumPy engine
runs the whole batch as one, paying a per-call overhead each iteration.

The coefficients come from ``bench/calibrate_estimate.py``, run on the development
machine: a 2-core Intel Xeon (Ice Lake server, KVM) @ 2.60 GHz, Python 3.11.7, NumPy
2.4.6, numba 0.68.1, shared with a CI run (load average about 2 on 2 cores), numba's
cache warm. Estimates assume the cores are free and the kernels compiled.

Pure Python and the standard library.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

#: Activations of a block (8 bytes x lanes x samples x units) above this no longer stay
#: in the core's L2 cache (1.25 MB on the development machine): memory-bound, slower.
SPILL_BYTES = 2 << 20


#: What each worker process or thread past the first adds, as a share of a core: on the
#: development machine the second worker added 0.6 of a core when the machine was quiet
#: (W2, bench/README.md: 19.0 s on one worker, 11.8 s on two) and almost nothing while
#: another job kept a core busy (12.7 s and 13.0 s); 0.5 keeps both within 2x.
PARALLEL_EFFICIENCY = 0.5


def speed_up(parallel: int) -> float:
    """How many cores' worth ``parallel`` workers (or threads) get (PARALLEL_EFFICIENCY)."""
    return 1.0 + PARALLEL_EFFICIENCY * (max(1, parallel) - 1)


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


def block_seconds(model: CostModel, sizes: Sequence[int], samples: int, lanes: int) -> float:
    """Seconds per iteration of one block of ``lanes`` networks."""
    return sum(c * f for c, f in zip(model.coefficients, features(sizes, samples, lanes)))


def batch_seconds(
    model: CostModel,
    sizes: Sequence[int],
    samples: int,
    networks: int,
    iterations: int,
    threads: int = 1,
) -> float:
    """Seconds to train one batch of ``networks`` of one layout; ``threads`` share its
    blocks (the numba engine in this process), one block each at a time, at the
    :func:`speed_up` they get together."""
    if networks <= 0:
        return 0.0
    block = model.block or networks
    full, rest = divmod(networks, block)
    blocks = [block] * full + ([rest] if rest else [])
    per_block = [block_seconds(model, sizes, samples, n) for n in blocks]
    lanes = max(1, min(threads, len(blocks)))
    return iterations * max(sum(per_block) / speed_up(lanes), max(per_block))


#: Calibrated by bench/calibrate_estimate.py on 2026-12-02 (see the module's docstring for
#: the machine; load average 2.1-3.0 on its 2 cores): the fits are within 1.7x of every
#: batch timed (hidden 2-32, 4-2000 samples, 1-128 networks a block for numba, 1-4096
#: a batch for NumPy).
NUMBA = CostModel(
    coefficients=(0.0, 7.022e-09, 0.0, 1.964e-08, 1.721e-08, 4.969e-08, 0.0, 2.133e-08, 0.0,
                  1.829e-09),
    block=128,
    startup=1.1,  # 0.98-1.36 s measured (numba: its import and registries, the kernels)
    # saving: 1.66-1.88 ms before branch store, about half since (W2 7.5 s of 22.7 s,
    # 15.9 of 29.3 s before, same load); large sweeps pay about 70 us more to deflate
    # their chunk files
    per_network=0.9e-3,
    per_network_large=0.27e-3,
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
