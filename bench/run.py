"""Benchmarks: the batched engine against the plain per-network loop, and against a JAX
peer when one is available, on the same networks, measured in the same run.

    python bench/run.py                      # W1, W2, W3 (about 10 minutes)
    python bench/run.py --only W1 W2
    python bench/run.py --only W4            # 10^6 networks through the CLI: time and peak RSS
    python bench/run.py --jax-python /path/to/venv/bin/python   # a Python that has jax
    python bench/run.py --no-numba           # skip the numba engine

Workloads (xor, float64):
    W1  the tutorial sweep: 7 alphas, hidden 4, seed 1, 60000 iterations
    W0  7 alphas x 100 seeds, hidden 4, 10000 iterations (700 networks; the core issue's)
    W2  7 alphas x 1000 seeds, hidden 4, 10000 iterations (7000 networks)
    W3  7 alphas x hidden {2,4,8,16,32} x 20 seeds, 10000 iterations (700 networks)
    W4  10 alphas x 100000 seeds (10^6 networks), hidden 4, 1000 iterations

For each it prints wall time, network-iterations per second and the ratio of the
per-network reference loop's time to the engine's. The reference loop (about 30
microseconds per network-iteration) runs on a subset of the networks and its time is
extrapolated linearly; the output says so when it does. The JAX peer is
bench/jax_peer.py (jit + vmap + lax.scan), run in its own process, compile time
excluded; it is skipped with a message when no Python with jax is found.

When numba is installed (``pip install 'toynn[fast]'``), the numba engine
(``--engine numba``) runs the same workloads, with 1 and with all cores; its first-run
compile time is printed on its own line (not included in the rows). Each workload then
gets a "limit" row: this machine's arithmetic limit for it, from the operations per
network-iteration counted from the algorithm and the rates of multiply/add, divide and
exp measured in the same run (bench/limit.py, bench/README.md), and ``numba-fast``
rows (the numba engine with its own vectorised exp, which that limit does not bind).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from toynn_cli.config import grid  # noqa: E402
from toynn_cli.core.datasets import BUILTIN  # noqa: E402
from toynn_cli.core.reference import train_one  # noqa: E402
from toynn_cli.run import executor  # noqa: E402

sys.path.insert(0, str(HERE))
import limit  # noqa: E402


@dataclass(frozen=True)
class Workload:
    key: str
    title: str
    alphas: str
    hidden: str
    seeds: str
    iterations: int
    reference_subset: int  # networks the reference loop runs on (0: all)

    def specs(self):
        return grid.expand(
            grid.parse_ints(self.hidden),
            grid.parse_floats(self.alphas),
            grid.parse_ints(self.seeds),
        )


WORKLOADS = [
    Workload("W1", "tutorial sweep, 7 nets x 60000 it", "0.001..1000", "4", "1", 60000, 0),
    Workload("W0", "7 alphas x 100 seeds, h4, 10000 it", "0.001..1000", "4", "1..100", 10000, 14),
    Workload("W2", "7 alphas x 1000 seeds, h4, 10000 it", "0.001..1000", "4", "1..1000", 10000, 14),
    Workload("W3", "7 alphas x h{2..32} x 20 seeds, 10000 it", "0.001..1000", "2,4,8,16,32", "1..20", 10000, 35),
]  # fmt: skip
W4 = Workload(
    "W4", "10 alphas x 100000 seeds, h4, 1000 it", "0.001..1000:10", "4", "0..99999", 1000, 0
)


def time_engine(w: Workload, workers: int, engine_name: str = "numpy") -> float:
    data = BUILTIN["xor"]
    specs = w.specs()
    size = executor.chunk_size(
        specs, 3, 1, 4, w.iterations, 10000, executor.DEFAULT_MAX_MEMORY, workers
    )
    chunks = executor.plan(specs, size)
    start = time.perf_counter()
    job = executor.Job(data.x, data.y, specs, w.iterations, 10000, engine_name)
    for _ in executor.LocalExecutor(workers).run(job, chunks):
        pass
    return time.perf_counter() - start


def time_reference(w: Workload) -> tuple[float, int]:
    """Seconds for all networks (extrapolated from a subset), and how many ran."""
    data = BUILTIN["xor"]
    specs = w.specs()
    subset = specs
    if w.reference_subset and w.reference_subset < len(specs):
        step = len(specs) / w.reference_subset
        subset = [specs[int(i * step)] for i in range(w.reference_subset)]
    start = time.perf_counter()
    for spec in subset:
        train_one(data.x, data.y, spec, w.iterations, 10000)
    return (time.perf_counter() - start) * len(specs) / len(subset), len(subset)


def numba_ready() -> str | None:
    """Compile (or load from numba's disk cache) the numba engine; a line saying how
    long that took, or None without numba."""
    from toynn_cli.core import engine_numba

    if not engine_numba.available():
        return None
    engine_numba.load("serial")
    engine_numba.load("parallel")
    took = engine_numba.ready_seconds
    return (
        f"numba engine ready in {took['serial']:.1f} s (serial) + {took['parallel']:.1f} s "
        "(parallel): compiled on the first run, loaded from numba's disk cache afterwards; "
        "not included in its rows"
    )


def limit_seconds(w: Workload, rates: limit.Rates, cores: int) -> float:
    """The arithmetic limit for the whole workload on ``cores`` cores."""
    total = 0.0
    for spec in w.specs():
        sizes = [3, *([spec.hidden] if spec.hidden else []), 1]
        work = limit.work_per_iteration(sizes, 4)
        total += limit.seconds_per_iteration(work, rates) * w.iterations
    return total / cores


def find_jax_python(given: str | None) -> str | None:
    candidates = [given] if given else [sys.executable, "/tmp/jaxvenv/bin/python"]
    for python in candidates:
        if python and Path(python).exists():
            ok = subprocess.run([python, "-c", "import jax"], capture_output=True).returncode == 0
            if ok:
                return python
    return None


def time_jax(python: str, w: Workload, devices: int) -> float | None:
    cmd = [
        python, str(HERE / "jax_peer.py"), "--alphas", w.alphas, "--hidden", w.hidden,
        "--seeds", w.seeds, "--iterations", str(w.iterations), "--devices", str(devices),
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])["wall_s"]


def row(key, title, n, iterations, seconds, reference, note=""):
    rate = n * iterations / seconds
    ratio = f"{reference / seconds:7.1f}x" if reference else "      -"
    print(f"{key:3} {title:44} {n:8d} {seconds:9.2f} {rate:10.3g} {ratio} {note}")


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux /proc)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            with contextlib.suppress(OSError):
                todo += [int(c) for c in (task / "children").read_text().split()]
    return found


def _pss_kib(pid: int) -> int:
    """Proportional set size: shared pages split between the processes sharing them."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_w4() -> None:
    """The 10^6-network sweep through the real CLI: peak memory as /usr/bin/time reports
    it (the largest single process's RSS) and, sampled every 0.2 s, the peak sum of PSS
    over toynn and its worker processes (what the sweep takes of the machine)."""
    toynn = shutil.which("toynn") or str(Path(sys.executable).parent / "toynn")
    timer = "/usr/bin/time" if Path("/usr/bin/time").exists() else None
    with tempfile.TemporaryDirectory() as out:
        cmd = [toynn, "sweep", "--alphas", W4.alphas, "--hidden", W4.hidden, "--seeds", W4.seeds,
               "--iterations", str(W4.iterations), "--out", out, "-q", "--rows", "5"]  # fmt: skip
        if timer:
            cmd = [timer, "-v", *cmd]
        start = time.perf_counter()
        with tempfile.TemporaryFile("w+") as err:
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, text=True)
            pss = 0
            while proc.poll() is None:
                pss = max(pss, sum(_pss_kib(p) for p in _tree(proc.pid)))
                time.sleep(0.2)
            err.seek(0)
            stderr = err.read()
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            print(f"W4 failed: {stderr.strip().splitlines()[:1]}")
            return
        rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
        size = sum(p.stat().st_size for p in Path(out).rglob("*") if p.is_file())
    n = len(W4.specs())
    peak = f"max RSS {int(rss.group(1)) / 1024:.0f} MiB" if rss else "max RSS not measured"
    row(
        "W4",
        W4.title + " (CLI)",
        n,
        W4.iterations,
        wall,
        None,
        f"{peak}, peak PSS of all processes {pss / 1024:.0f} MiB, run folder {size / 2**20:.0f} MiB",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", metavar="W", help="workload keys (W1..W4)")
    parser.add_argument("--jax-python", help="a Python interpreter that has jax installed")
    parser.add_argument("--no-numba", action="store_true", help="skip the numba engine")
    args = parser.parse_args()
    chosen = [w for w in WORKLOADS if not args.only or w.key in args.only]
    jax_python = find_jax_python(args.jax_python)
    cores = executor.available_cores()
    print(f"toynn bench: NumPy engine vs per-network loop; {cores} cores; float64")
    numba_line = None if args.no_numba else numba_ready()
    rates = None
    if numba_line:
        print(numba_line)
        rates = limit.measure()
        print(
            f"limit rates, one core: {rates.flops / 1e9:.2f} Gflop/s (multiply, add), "
            f"{rates.divides / 1e9:.3f} G divides/s, {rates.exps / 1e9:.3f} G exp/s (C library)"
        )
    elif not args.no_numba:
        print("numba engine skipped: numba is not installed (pip install 'toynn[fast]')")
    print(f"{'':3} {'workload':44} {'networks':>8} {'seconds':>9} {'net-it/s':>10} {'vs loop':>8}")
    notes = []
    for w in chosen:
        n = len(w.specs())
        reference, ran = time_reference(w)
        if ran < n:
            notes.append(f"{w.key}: per-network loop timed on {ran} of {n} networks, extrapolated")
        row(
            w.key, f"{w.title}: loop", n, w.iterations, reference, reference, "*" if ran < n else ""
        )
        row(w.key, f"{w.title}: engine, 1 worker", n, w.iterations, time_engine(w, 1), reference)
        if cores > 1 and n * w.iterations >= executor.PARALLEL_MIN_WORK:
            row(
                w.key,
                f"{w.title}: engine, {cores} workers",
                n,
                w.iterations,
                time_engine(w, cores),
                reference,
            )
        if rates is not None:
            for workers in sorted({1, cores}):
                seconds = time_engine(w, workers, "numba")
                bound = limit_seconds(w, rates, workers)
                row(
                    w.key,
                    f"{w.title}: numba, {workers} core(s)",
                    n,
                    w.iterations,
                    seconds,
                    reference,
                    f"{seconds / bound:.2f}x the limit",
                )
                row(
                    w.key, f"{w.title}: limit, {workers} core(s)", n, w.iterations, bound, reference
                )
            for workers in sorted({1, cores}):
                # numba-fast: its own vectorised exp, so not bound by the C library's one
                seconds = time_engine(w, workers, "numba-fast")
                row(
                    w.key,
                    f"{w.title}: numba-fast, {workers} core(s)",
                    n,
                    w.iterations,
                    seconds,
                    reference,
                )
        if jax_python:
            for devices in sorted({1, cores}):
                if n % devices == 0:
                    seconds = time_jax(jax_python, w, devices)
                    if seconds:
                        row(
                            w.key,
                            f"{w.title}: JAX, {devices} device(s)",
                            n,
                            w.iterations,
                            seconds,
                            reference,
                        )
    if not jax_python and chosen:
        notes.append("JAX peer skipped: no Python with jax (pass --jax-python)")
    if not args.only or "W4" in args.only:
        run_w4()
    for note in notes:
        print(f"* {note}")


if __name__ == "__main__":
    main()
