"""This machine's arithmetic limit for the tutorial's networks, and the work per
network-iteration counted from the algorithm (see bench/README.md).

    python bench/limit.py            # measure the rates (needs numba) and print the limits

Rates are measured with tight numba loops (fastmath off, as in the engine) over 64
independent numbers, so they run from L1 cache with SIMD where the compiler can use it:
multiply-then-add (the engine's products and updates: 2 flops per element, no FMA),
``1 / x`` and toynn's own exp (:func:`toynn_cli.core.portable.exp_scalar`, compiled and
inlined as the numba engine's kernels do it, so it vectorises like theirs). Until the
portable exp replaced it, the engines called the C library's scalar ``exp``; its rate
is still measured (``libm_exps``) for comparison, but the limit uses the portable one.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Work:
    """Operations per network and iteration (forward, backward, update)."""

    flops: int  # multiplies, adds, subtracts, negations
    divides: int
    exps: int
    compares: int  # the sign test of each gradient (direction changes); not flops


def work_per_iteration(sizes: Sequence[int], samples: int) -> Work:
    """Count the engine's operations for one network and one iteration."""
    flops = divides = exps = 0
    for n_in, n_out in itertools.pairwise(sizes):  # forward
        units = samples * n_out
        flops += units * n_in + units * (n_in - 1)  # products: multiplies, adds
        flops += 2 * units  # sigmoid: negate, + 1
        divides += units  # 1 / (...)
        exps += units
    flops += samples * sizes[-1]  # err = out - y
    layers = list(itertools.pairwise(sizes))
    for k in range(len(layers) - 1, -1, -1):  # backward
        n_in, n_out = layers[k]
        units = samples * n_out
        flops += 2 * units  # slope a * (1 - a)
        if k == len(layers) - 1:
            flops += units  # err * slope
        else:
            n_up = layers[k + 1][1]
            flops += units * n_up + units * (n_up - 1) + units  # d @ W.T, * slope
        flops += n_in * n_out * samples + n_in * n_out * (samples - 1)  # a.T @ d
    params = sum(a * b for a, b in layers)
    flops += 2 * params  # W -= alpha * g
    return Work(flops, divides, exps, params)


@dataclass(frozen=True)
class Rates:
    """Operations per second on one core."""

    flops: float
    divides: float
    exps: float  # toynn's portable exp, vectorised as in the engine
    libm_exps: float = 0.0  # the C library's exp (a call per number), for comparison


def measure(reps: int = 100_000, repeat: int = 5) -> Rates:
    """Time tight numba loops (best of ``repeat``); needs numba."""
    import numba
    import numpy as np

    from toynn_cli.core import _numba_kernels

    portable_exp = _numba_kernels.exp  # njit(inline="always"), as the kernels use it

    @numba.njit(fastmath=False)
    def madd(a, b, c, reps):
        for _ in range(reps):
            for i in range(a.shape[0]):
                a[i] = a[i] * b[i] + c[i]

    @numba.njit(fastmath=False)
    def div(a, out, reps):
        for _ in range(reps):
            for i in range(a.shape[0]):
                out[i] = 1.0 / a[i]

    @numba.njit(fastmath=False)
    def exp(a, out, reps):
        for _ in range(reps):
            for i in range(a.shape[0]):
                out[i] = portable_exp(a[i])

    @numba.njit(fastmath=False)
    def libm_exp(a, out, reps):
        for _ in range(reps):
            for i in range(a.shape[0]):
                out[i] = np.exp(a[i])

    def aligned(values: np.ndarray) -> np.ndarray:
        # a copy starting on a cache line: NumPy aligns to 16 bytes, and a 64-byte vector
        # load that straddles two lines made the multiply-add rate swing from 8 to 19
        # Gflop/s between runs (an Intel Xeon, 2026-12-04)
        raw = np.empty(values.size + 8)
        start = (-raw.ctypes.data % 64) // 8
        out = raw[start : start + values.size]
        out[:] = values
        return out

    n = 64
    a = aligned(np.linspace(0.5, 1.0, n))
    b, c, out = aligned(np.full(n, 0.999999)), aligned(np.full(n, 1e-7)), aligned(np.empty(n))

    def best(f, *args) -> float:
        f(*args, 1)  # compile
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            f(*args, reps)
            times.append(time.perf_counter() - start)
        return min(times)

    return Rates(
        flops=2 * n * reps / best(madd, a, b, c),
        divides=n * reps / best(div, a, out),
        exps=n * reps / best(exp, -a, out),
        libm_exps=n * reps / best(libm_exp, -a, out),
    )


def seconds_per_iteration(work: Work, rates: Rates) -> float:
    """The arithmetic limit: one network-iteration's operations at the measured rates,
    the divides beside the rest (a CPU's divider works beside its multiply and add
    units, and the fused kernels overlap them: they ran at 0.64x and 0.74x of the sum
    of the three on an Intel Xeon, 2026-12-04, at 1.05-1.07x of this)."""
    rest = work.flops / rates.flops + work.exps / rates.exps
    return max(work.divides / rates.divides, rest)


def main() -> None:
    rates = measure()
    print(
        f"one core: {rates.flops / 1e9:.2f} Gflop/s (multiply, add), "
        f"{rates.divides / 1e9:.3f} G divides/s, {rates.exps / 1e9:.3f} G exp/s "
        f"(toynn's portable exp, vectorised; the C library's: {rates.libm_exps / 1e9:.3f} G/s)"
    )
    for hidden in (2, 4, 8, 16, 32):
        work = work_per_iteration([3, hidden, 1], 4)
        limit = seconds_per_iteration(work, rates)
        print(
            f"xor, hidden {hidden:2d}: {work.flops} flops + {work.divides} divides + "
            f"{work.exps} exp per network-iteration -> {limit * 1e9:.1f} ns on one core"
        )


if __name__ == "__main__":
    main()
