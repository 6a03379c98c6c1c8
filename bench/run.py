"""Time the batched engine against the plain per-network loop, on the same networks.

    python bench/run.py                 # every workload
    python bench/run.py --only W1 W2    # some of them
    python bench/run.py --full-reference  # time the loop on every network (slow)
    python bench/run.py --no-numba      # skip the numba engine

When numba is installed (``pip install 'toynn[fast]'``), the numba engine runs the same
workloads (one thread and all threads), its first-run compile time is reported on its
own line, and each workload gets its arithmetic limit (bench/limit.py: the operations
per network-iteration counted from the algorithm, at rates measured on this machine
in the same run) and how far the numba engine is from it.

For each workload it prints wall time, network-iterations per second and the ratio to
the per-network reference loop measured in the same run. The reference loop is slow
(about 30 microseconds per network-iteration), so by default it runs on a subset of
the workload's networks and its time is extrapolated linearly to all of them; the
output says so when it does. Both use one thread unless you set it otherwise
(OMP_NUM_THREADS etc.), which is how the per-network loop is normally run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from toynn_cli import engine, executor, grid
from toynn_cli.datasets import BUILTIN
from toynn_cli.reference import train_one

sys.path.insert(0, str(Path(__file__).resolve().parent))
import limit


@dataclass(frozen=True)
class Workload:
    key: str
    title: str
    alphas: str
    hidden: str
    seeds: str
    iterations: int
    reference_subset: int  # networks the reference loop runs on (0: all)

    def specs(self) -> list[engine.NetworkSpec]:
        return grid.expand(
            grid.parse_ints(self.hidden),
            grid.parse_floats(self.alphas),
            grid.parse_ints(self.seeds),
        )


WORKLOADS = [
    Workload("W1", "the tutorial sweep: 7 alphas, hidden 4, 60000 it", "0.001..1000", "4", "1", 60000, 0),
    Workload("W0", "7 alphas x 100 seeds, hidden 4, 10000 it", "0.001..1000", "4", "1..100", 10000, 21),
    Workload("W2", "7 alphas x 1000 seeds, hidden 4, 10000 it", "0.001..1000", "4", "1..1000", 10000, 21),
    Workload("W3", "7 alphas x hidden {2,4,8,16,32} x 20 seeds, 10000 it", "0.001..1000", "2,4,8,16,32", "1..20", 10000, 35),
]  # fmt: skip


def time_batched(workload: Workload) -> float:
    data = BUILTIN["xor"]
    start = time.perf_counter()
    engine.train(data.x, data.y, workload.specs(), workload.iterations, 10000)
    return time.perf_counter() - start


def time_numba(workload: Workload, threads: int) -> float:
    from toynn_cli import engine_numba

    data = BUILTIN["xor"]
    specs = workload.specs()
    start = time.perf_counter()
    for hidden in dict.fromkeys(s.hidden for s in specs):
        group = [s for s in specs if s.hidden == hidden]
        engine_numba.train_batch(data.x, data.y, group, workload.iterations, 10000, None, threads)
    return time.perf_counter() - start


def limit_seconds(workload: Workload, rates: limit.Rates, cores: int) -> float:
    """The arithmetic limit for the whole workload on ``cores`` cores."""
    data = BUILTIN["xor"]
    total = 0.0
    for spec in workload.specs():
        sizes = engine.layer_sizes(data.x.shape[1], spec.hidden, data.y.shape[1])
        work = limit.work_per_iteration(sizes, data.x.shape[0])
        total += limit.seconds_per_iteration(work, rates) * workload.iterations
    return total / cores


def numba_compile_seconds() -> dict[str, float]:
    """Compile (or load from numba's cache) both numba functions; seconds each took."""
    from toynn_cli import engine_numba

    engine_numba.load("serial")
    engine_numba.load("parallel")
    return dict(engine_numba.ready_seconds)


def time_reference(workload: Workload, full: bool) -> tuple[float, int]:
    """Seconds for all networks (extrapolated from a subset unless ``full``), and the
    number of networks actually run."""
    data = BUILTIN["xor"]
    specs = workload.specs()
    subset = specs
    if not full and workload.reference_subset and workload.reference_subset < len(specs):
        step = len(specs) / workload.reference_subset
        subset = [specs[int(i * step)] for i in range(workload.reference_subset)]
    start = time.perf_counter()
    for spec in subset:
        train_one(data.x, data.y, spec, workload.iterations, 10000)
    elapsed = time.perf_counter() - start
    return elapsed * len(specs) / len(subset), len(subset)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", metavar="W", help="workload keys to run")
    parser.add_argument("--full-reference", action="store_true", help="no extrapolation")
    parser.add_argument("--no-numba", action="store_true", help="skip the numba engine")
    args = parser.parse_args()
    chosen = [w for w in WORKLOADS if not args.only or w.key in args.only]
    threads = os.environ.get("OMP_NUM_THREADS", "default")
    print(f"toynn bench: numpy engine vs per-network loop (OMP_NUM_THREADS={threads})")
    header = f"{'':3} {'workload':52} {'nets':>6} {'batched s':>10} {'net-it/s':>10} {'loop s':>9} {'ratio':>7}"
    print(header)
    print("-" * len(header))
    notes = []
    for w in chosen:
        n = len(w.specs())
        batched = time_batched(w)
        reference, ran = time_reference(w, args.full_reference)
        rate = n * w.iterations / batched
        mark = "*" if ran < n else ""
        print(
            f"{w.key:3} {w.title:52} {n:6d} {batched:10.2f} {rate:10.3g} "
            f"{reference:8.1f}{mark:1} {reference / batched:6.1f}x"
        )
        if ran < n:
            notes.append(f"* {w.key}: loop timed on {ran} of {n} networks, extrapolated linearly")
    for note in notes:
        print(note)
    if not args.no_numba:
        bench_numba(chosen)


def bench_numba(chosen: list[Workload]) -> None:
    from toynn_cli import engine_numba

    if not engine_numba.available():
        print(f"numba engine: skipped, numba is not installed ({engine_numba.INSTALL_HINT})")
        return
    ready = numba_compile_seconds()
    print(
        f"\nnumba engine ready in {ready['serial']:.1f} s (serial) + {ready['parallel']:.1f} s "
        "(parallel): compiling on the first run, loading numba's disk cache later; "
        "not included below"
    )
    rates = limit.measure()
    cores = executor.available_cores()
    print(
        f"rates on one core: {rates.flops / 1e9:.2f} Gflop/s (multiply, add), "
        f"{rates.divides / 1e9:.3f} G divides/s, {rates.exps / 1e9:.3f} G exp/s; {cores} cores"
    )
    header = (
        f"{'':3} {'nets':>6} {'1 thread s':>10} {'limit s':>8} {'/limit':>7} "
        f"{f'{cores} threads s':>11} {'limit s':>8} {'/limit':>7}"
    )
    print(header)
    print("-" * len(header))
    for w in chosen:
        one = time_numba(w, 1)
        limit_one = limit_seconds(w, rates, 1)
        many = time_numba(w, cores)
        limit_many = limit_seconds(w, rates, cores)
        print(
            f"{w.key:3} {len(w.specs()):6d} {one:10.2f} {limit_one:8.2f} {one / limit_one:6.2f}x "
            f"{many:11.2f} {limit_many:8.2f} {many / limit_many:6.2f}x"
        )


if __name__ == "__main__":
    main()
