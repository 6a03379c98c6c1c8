"""Time the batched engine against the plain per-network loop, on the same networks.

    python bench/run.py                 # every workload
    python bench/run.py --only W1 W2    # some of them
    python bench/run.py --full-reference  # time the loop on every network (slow)

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

from toynn_cli import engine, grid
from toynn_cli.datasets import BUILTIN
from toynn_cli.reference import train_one


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


if __name__ == "__main__":
    main()
