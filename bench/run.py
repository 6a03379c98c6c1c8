"""Benchmarks: toynn's commands as whole processes, against the tutorial's own program
(bench/tutorial_program.py) doing the same networks, and against a JAX peer.

    python bench/run.py                          # S T W1 W2 W3 and the dry-run estimates
    python bench/run.py --only S T W1            # start-up, train, the tutorial sweep
    python bench/run.py --only W4                # 10^6 networks through the CLI
    python bench/run.py --jax-python /path/to/venv/bin/python   # a Python that has jax

Workloads (xor, float64):
    S   start-up: toynn --version, toynn --help (and python, python -c "import numpy")
    T   toynn train --config configs/xor.yaml: 1 network, alpha 0.5, hidden 4, 60000 it
    W1  the tutorial sweep, configs/alpha-sweep.yaml: 7 alphas, hidden 4, 60000 it
    W2  7 alphas x 1000 seeds, hidden 4, 10000 iterations (7000 networks)
    W3  7 alphas x hidden {2,4,8,16,32} x 20 seeds, 10000 iterations (700 networks)
    W4  10 alphas x 100000 seeds (10^6 networks), hidden 4, 1000 iterations, saved

T and W1 also run as a user runs them: the run folder saved (with report.html and its
figures) and the table printed; the other toynn rows run ``--no-save -q``.

Every time is a whole process, wall clock, best of ``--repeat`` (3) for runs under 30 s
(one run above; up to two more when the runs spread by over 30 %). The machine is
shared: every row has the 1-minute load average when it started (``load``; it also
counts the bench's own previous row) and how many cores other processes kept busy
during the (best) run (``others``: the machine's busy CPU time, /proc/stat, less the
bench's and its children's); at ``others`` near 1, "2 cores" means one.

The yardstick is the tutorial's program, one network after another with np.exp and
np.dot; for W2, W3 and W4 it runs one process per hidden size on 7 (10) networks and
is extrapolated linearly from its time less its start-up (measured with 0
iterations), marked ``*``. toynn runs with its default engine (``auto``: numba for
these networks); ``--engine numpy`` rows show the NumPy engine's cost. Python's
bytecode and numba's compiled kernels are cached in a temporary folder of the bench's
own (PYTHONPYCACHEPREFIX, NUMBA_CACHE_DIR, XDG_CACHE_HOME), as an installed toynn caches them; the
first run after empty caches (numba's and toynn's kernels folder, XDG_CACHE_HOME) is
timed on its own for every workload (it compiles the kernels its networks need), and
the in-process engine runs once untimed before it is timed.

The JAX peer is bench/jax_peer.py (jit + vmap + lax.scan in blocks): one process, one
process with two CPU devices, and two processes at once on half the grid each (timed by
the slower), its time compile included (``total_s``; JAX's import excluded); "vs JAX"
is against the fastest of the three. Skipped with a message when no Python with jax is
found. ``limit`` rows (W2, W3) are this machine's arithmetic limit (bench/limit.py) for
the same work, next to the engine timed in-process (the executor and the numba
kernels, as the CLI runs them, without process start-up and reporting).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from toynn_cli import config  # noqa: E402
from toynn_cli.run import executor  # noqa: E402

sys.path.insert(0, str(HERE))
import limit  # noqa: E402

ALPHAS_7 = [0.001, 0.01, 0.1, 1, 10, 100, 1000]
#: runs longer than this are timed once
LONG_RUN = 30.0


@dataclass(frozen=True)
class Workload:
    key: str
    title: str
    alphas: str
    hidden: str
    seeds: str
    iterations: int
    #: the command's arguments (after "toynn"), or None: a sweep of the fields above
    command: tuple[str, ...] | None = None

    def sweep_args(self) -> list[str]:
        if self.command is not None:
            return list(self.command)
        return [
            "sweep", "--alphas", self.alphas, "--hidden", self.hidden, "--seeds", self.seeds,
            "--iterations", str(self.iterations),
        ]  # fmt: skip

    @cached_property
    def experiment(self) -> config.Experiment:
        overrides = {
            "alphas": self.alphas,
            "hidden": self.hidden,
            "seeds": self.seeds,
            "iterations": str(self.iterations),
        }
        return config.resolve(None, overrides, config.TUTORIAL_SWEEP)

    @cached_property
    def networks(self) -> int:
        return len(self.experiment.networks())

    @property
    def hidden_sizes(self) -> list[int]:
        return [int(h) for h in self.hidden.split(",")]

    @property
    def seed_count(self) -> int:
        return self.networks // (len(self.hidden_sizes) * self.alpha_count)

    @property
    def alpha_count(self) -> int:
        return len(self.experiment.alphas)


T = Workload(
    "T", "toynn train, 1 net x 60000 it", "0.5", "4", "1", 60000,
    ("train", "--config", "configs/xor.yaml"),
)  # fmt: skip
W1 = Workload(
    "W1", "tutorial sweep, 7 nets x 60000 it", "0.001..1000", "4", "1", 60000,
    ("sweep", "--config", "configs/alpha-sweep.yaml"),
)  # fmt: skip
W2 = Workload("W2", "7 alphas x 1000 seeds, h4, 10000 it", "0.001..1000", "4", "1..1000", 10000)
W3 = Workload(
    "W3", "7 alphas x h{2..32} x 20 seeds, 10000 it", "0.001..1000", "2,4,8,16,32", "1..20", 10000
)
W4 = Workload(
    "W4", "10 alphas x 100000 seeds, h4, 1000 it", "0.001..1000:10", "4", "0..99999", 1000
)
WORKLOADS = {w.key: w for w in (T, W1, W2, W3, W4)}


# --- the machine ----------------------------------------------------------------------


def hardware() -> str:
    """CPU model, SIMD level and cores, from /proc/cpuinfo."""
    model, flags = "unknown CPU", set()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
    if "avx512f" in flags:
        simd = (
            "AVX-512 ("
            + ", ".join(f for f in ("avx512f", "avx512dq", "avx512vl") if f in flags)
            + ")"
        )
    elif "avx2" in flags:
        simd = "AVX2" + (" + FMA" if "fma" in flags else "") + ", no AVX-512"
    else:
        simd = "no AVX2"
    return f"{model}; {simd}; {executor.available_cores()} cores available"


def versions(jax_python: str | None) -> str:
    import numba
    import numpy

    text = f"Python {sys.version.split()[0]}, NumPy {numpy.__version__}, numba {numba.__version__}"
    if jax_python:
        done = subprocess.run(
            [jax_python, "-c", "import jax; print(jax.__version__)"], capture_output=True, text=True
        )
        text += f", JAX {done.stdout.strip()}"
    return text


def load() -> float:
    return os.getloadavg()[0]


def _busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (all cores, /proc/stat)."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return float("nan")
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _our_seconds() -> float:
    """CPU seconds of this process and of its children that have been waited for."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


class Others:
    """How many cores other processes kept busy while a measurement ran: the machine's
    busy CPU time less this process's and its children's, over the wall time. The load
    average cannot say it: it also counts the bench's own previous measurement."""

    cores = float("nan")

    def __enter__(self) -> Others:
        self.busy, self.ours, self.start = _busy_seconds(), _our_seconds(), time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        wall = time.perf_counter() - self.start
        theirs = (_busy_seconds() - self.busy) - (_our_seconds() - self.ours)
        self.cores = max(0.0, theirs / wall) if wall > 0 else float("nan")


# --- timing whole processes -------------------------------------------------------------


@dataclass
class Timing:
    seconds: float  # the best run
    runs: list[float]
    load: float  # the 1-minute load average before the first run
    stdout: str = ""
    others: float = float("nan")  # cores other processes used during the best run

    @property
    def spread(self) -> float:
        return max(self.runs) / min(self.runs)


@dataclass
class Bench:
    env: dict[str, str]
    repeat: int
    toynn: str
    python: str
    tmp: Path
    rows: list[tuple] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def run(
        self, cmd: list[str], env: dict[str, str] | None = None, repeat: int | None = None
    ) -> Timing:
        """Best wall time of ``cmd`` over ``repeat`` runs (one if the first is long); a run
        whose times spread by more than 30 % gets up to two more runs."""
        env = env or self.env
        repeat = repeat or self.repeat
        start_load = load()
        runs, out, others = [], "", []
        while True:
            with Others() as busy:
                start = time.perf_counter()
                done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
                runs.append(time.perf_counter() - start)
            others.append(busy.cores)
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd)} failed: {done.stderr.strip()[-500:]}")
            out = done.stdout
            if runs[0] > LONG_RUN:
                break
            if len(runs) >= repeat and (max(runs) / min(runs) < 1.3 or len(runs) >= repeat + 2):
                break
        best = runs.index(min(runs))
        return Timing(runs[best], runs, start_load, out, others[best])

    def tutorial(self, alphas: list[float], hidden: int, iterations: int, seed: int = 1) -> Timing:
        cmd = [self.python, str(HERE / "tutorial_program.py"), *map(str, alphas)]
        cmd += ["--hidden", str(hidden), "--iterations", str(iterations), "--seed", str(seed)]
        return self.run(cmd)

    def row(self, key: str, what: str, networks: int, iterations: int, t: Timing | float,
            tutorial: float | None = None, jax: float | None = None, note: str = "",
            load_at: float | None = None, others: float | None = None) -> None:  # fmt: skip
        seconds = t.seconds if isinstance(t, Timing) else t
        at = t.load if isinstance(t, Timing) else load_at
        if isinstance(t, Timing):
            others = t.others
        self.rows.append(
            (key, what, networks, iterations, seconds, tutorial, jax, at, others, note)
        )
        print(format_row(self.rows[-1]), flush=True)


HEADER = (
    f"{'':3} {'what':52} {'networks':>8} {'seconds':>9} {'net-it/s':>9} "
    f"{'vs tutorial':>11} {'vs JAX':>7} {'load':>5} {'others':>6}  note"
)


def format_row(r: tuple) -> str:
    key, what, networks, iterations, seconds, tutorial, jax, at, others, note = r
    rate = f"{networks * iterations / seconds:9.3g}" if iterations else f"{'-':>9}"
    vs_t = f"{tutorial / seconds:10.1f}x" if tutorial else f"{'-':>11}"
    vs_j = f"{jax / seconds:6.2f}x" if jax else f"{'-':>7}"
    at_s = f"{at:5.2f}" if at is not None else f"{'':5}"
    busy = f"{others:6.2f}" if others is not None and others == others else f"{'':6}"
    return (
        f"{key:3} {what:52} {networks:8d} {seconds:9.3f} {rate} {vs_t} {vs_j} {at_s} {busy}  {note}"
    )


# --- the yardstick, extrapolated ------------------------------------------------------


def tutorial_for(bench: Bench, w: Workload) -> tuple[Timing | float, str]:
    """The tutorial program's whole-process time for workload ``w``: measured when it
    has at most 7 networks, else extrapolated (start-up + per-network time x networks)
    from one process of ``alpha_count`` networks per hidden size (seed 1)."""
    if w is T:
        return bench.tutorial([0.5], 4, w.iterations), ""
    alphas = w.experiment.alphas
    if w.networks <= len(alphas):
        return bench.tutorial(list(alphas), int(w.hidden), w.iterations), ""
    startup = bench.tutorial(list(alphas), 4, 0).seconds
    total, ran, loads, others = startup, 0, [], []
    for h in w.hidden_sizes:
        t = bench.tutorial(list(alphas), h, w.iterations)
        loads.append(t.load)
        others.append(t.others)
        per_network = (t.seconds - startup) / len(alphas)
        total += per_network * len(alphas) * w.seed_count
        ran += len(alphas)
    note = f"* {ran} of {w.networks} networks run, extrapolated (start-up {startup:.2f} s)"
    return Timing(total, [total], max(loads), others=max(others)), note


# --- JAX ----------------------------------------------------------------------------------


def find_jax_python(given: str | None) -> str | None:
    candidates = [given] if given else [sys.executable, "/work/jaxvenv/bin/python", "/tmp/jaxvenv/bin/python"]  # fmt: skip
    for python in candidates:
        if python and Path(python).exists():
            ok = subprocess.run([python, "-c", "import jax"], capture_output=True).returncode == 0
            if ok:
                return python
    return None


#: how the JAX peer runs: (label, devices per process, processes at once)
JAX_MODES = (
    ("1 process", 1, 1),
    ("1 process, 2 devices", 2, 1),
    ("2 processes", 1, 2),
)


def time_jax(
    python: str, w: Workload, devices: int, parts: int
) -> tuple[float, float, float] | None:
    """(compile + run, compile, whole processes) seconds, summed over the hidden sizes;
    with ``parts`` processes at once, each hidden size counts its slowest process."""
    total = compiled = wall = 0.0
    for h in w.hidden_sizes:
        cmd = [
            python, str(HERE / "jax_peer.py"), "--alphas", w.alphas, "--hidden", str(h),
            "--seeds", w.seeds, "--iterations", str(w.iterations), "--devices", str(devices),
        ]  # fmt: skip
        start = time.perf_counter()
        procs = [
            subprocess.Popen(
                [*cmd, "--part", f"{i}/{parts}"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for i in range(1, parts + 1)
        ]
        outs = [p.communicate() for p in procs]
        wall += time.perf_counter() - start
        if any(p.returncode != 0 for p in procs):
            err = next(e for p, (_, e) in zip(procs, outs) if p.returncode != 0)
            print(f"JAX peer failed: {err.strip().splitlines()[-1:]}")
            return None
        docs = [json.loads(o.strip().splitlines()[-1]) for o, _ in outs]
        slowest = max(docs, key=lambda d: d["total_s"])
        total += slowest["total_s"]
        compiled += slowest["compile_s"]
    return total, compiled, wall


# --- toynn in-process (the engine's own rate) ----------------------------------------


def time_engine(
    w: Workload, workers: int, networks: int | None = None, iterations: int | None = None
) -> tuple[float, int]:
    """Seconds for the executor to train ``w`` (its first ``networks``, for
    ``iterations`` if given) in this process with the engine ``auto`` chooses, as the
    CLI's job (same chunks, same history)."""
    from toynn_cli.core import engines

    exp = w.experiment
    specs = exp.networks()[:networks] if networks else exp.networks()
    its = exp.iterations if iterations is None else iterations
    data = exp.dataset
    size = executor.chunk_size(
        specs, data.n_inputs, data.n_outputs, len(data.inputs), its,
        exp.log_every, executor.DEFAULT_MAX_MEMORY, workers, exp.record_every,
    )  # fmt: skip
    chunks = executor.plan(specs, size)
    name = engines.choose(exp.engine, specs)
    job = executor.Job(data.x, data.y, specs, its, exp.log_every, name, exp.record_every)
    start = time.perf_counter()
    for _ in executor.LocalExecutor(workers).run(job, chunks):
        pass
    return time.perf_counter() - start, len(specs)


def limit_seconds(w: Workload, rates: limit.Rates, cores: int) -> float:
    total = 0.0
    for spec in w.experiment.networks():
        sizes = [3, *([spec.hidden] if spec.hidden else []), 1]
        work = limit.work_per_iteration(sizes, 4)
        total += limit.seconds_per_iteration(work, rates) * w.iterations
    return total / cores


# --- the sections ---------------------------------------------------------------------


def startup(bench: Bench) -> None:
    """S: start-up of the console script, and what its imports cost."""
    reps = max(10, bench.repeat)
    for what, cmd in (
        ("python -c pass", [bench.python, "-c", "pass"]),
        ("python -c 'import numpy'", [bench.python, "-c", "import numpy"]),
        ("toynn --version", [bench.toynn, "--version"]),
        ("toynn --help", [bench.toynn, "--help"]),
    ):
        bench.row("S", what, 0, 0, bench.run(cmd, repeat=reps), note="target < 0.15 s" if "toynn" in what else "")  # fmt: skip
    env = dict(bench.env, PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTHONPYCACHEPREFIX", None)
    t = bench.run([bench.toynn, "--version"], env=env, repeat=reps)
    bench.row("S", "toynn --version, no bytecode cache", 0, 0, t, note="PYTHONDONTWRITEBYTECODE=1")
    print(import_costs(bench))


def import_costs(bench: Bench) -> str:
    """The largest import costs of the console script (python -X importtime), by
    package (self times summed) and by toynn_cli module (cumulative)."""
    script = [bench.python, "-X", "importtime", bench.toynn, "--version"]
    done = subprocess.run(script, env=bench.env, cwd=ROOT, capture_output=True, text=True)
    rows = []
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)", line)
        if m:
            rows.append((int(m[1]), int(m[2]), len(m[3]) // 2, m[4]))
    by_package: dict[str, int] = {}
    for self_us, _, _, name in rows:
        top = name.split(".")[0]
        by_package[top] = by_package.get(top, 0) + self_us
    total = sum(r[0] for r in rows)
    top = sorted(by_package.items(), key=lambda kv: -kv[1])[:8]
    lines = [f"    imports of 'toynn --version' (-X importtime, inflated by its own overhead): {total / 1000:.0f} ms in all"]  # fmt: skip
    lines.append("    by package (self): " + ", ".join(f"{k} {v / 1000:.0f} ms" for k, v in top))
    mods = sorted((r for r in rows if r[3].startswith("toynn_cli")), key=lambda r: -r[1])[:6]
    lines.append("    toynn_cli modules (cumulative): " + ", ".join(f"{r[3]} {r[1] / 1000:.0f} ms" for r in mods))  # fmt: skip
    return "\n".join(lines)


def first_run(bench: Bench, args: list[str]) -> Timing:
    """The command's first run after empty caches: numba's and toynn's kernels folder
    (it compiles the kernels), the bench's own caches filled by it for later runs."""
    fresh = bench.tmp / f"fresh-{time.monotonic_ns()}"
    fresh.mkdir()
    env = dict(bench.env, NUMBA_CACHE_DIR=str(fresh / "numba"), XDG_CACHE_HOME=str(fresh))
    first = bench.run([bench.toynn, *args], env=env, repeat=1)
    bench.run([bench.toynn, *args], repeat=1)  # the bench's caches, for the timed runs
    return first


def cli_workload(
    bench: Bench, w: Workload, jax_python: str | None, rates: limit.Rates | None
) -> dict:
    """One workload's rows: the tutorial program, toynn (auto, and numpy where cheap),
    JAX, the in-process engine and its limit. Returns what the dry-run check needs."""
    n, it = w.networks, w.iterations
    tut, tut_note = tutorial_for(bench, w)
    tut_s = tut.seconds if isinstance(tut, Timing) else tut
    bench.row(w.key, "tutorial program" + (" (extrapolated)" if tut_note else ""), n, it, tut, tut_s, note=tut_note)  # fmt: skip
    jax_best = None
    jax_rows = []
    if jax_python and w is not T:
        for label, devices, parts in JAX_MODES:
            at = load()
            with Others() as busy:
                got = time_jax(jax_python, w, devices, parts)
            if got:
                total, compiled, wall = got
                jax_rows.append((label, total, compiled, wall, at, busy.cores))
                jax_best = total if jax_best is None else min(jax_best, total)
    args = [*w.sweep_args(), "--no-save", "-q"]
    first = first_run(bench, args)
    bench.row(w.key, "toynn (first run: empty caches)", n, it, first, tut_s, note="compiles the kernels")  # fmt: skip
    cli = bench.run([bench.toynn, *args])
    bench.row(w.key, f"toynn {args[0]}", n, it, cli, tut_s, jax_best, note=spread_note(cli))
    if w in (T, W1):
        # as a user runs it: the run folder saved (report.html and its figures too), the
        # table printed (to a pipe here)
        saved_out = bench.tmp / f"saved-{w.key}"
        saved_out.mkdir(exist_ok=True)
        saved = bench.run([bench.toynn, *w.sweep_args(), "--out", str(saved_out)])
        bench.row(w.key, f"toynn {args[0]}, saved, table printed", n, it, saved, tut_s, jax_best, note=spread_note(saved))  # fmt: skip
        numpy_t = bench.run([bench.toynn, *args, "--engine", "numpy"])
        bench.row(w.key, f"toynn {args[0]} --engine numpy", n, it, numpy_t, tut_s, jax_best, note=spread_note(numpy_t))  # fmt: skip
        if w is W1 and isinstance(tut, Timing):
            bench.notes.append(cross_check(bench, args, tut.stdout))
    for label, total, compiled, wall, at, others in jax_rows:
        bench.row(
            w.key, f"JAX jit+vmap, {label}, compile included", n, it, total, tut_s,
            jax_best, note=f"compile {compiled:.2f} s; whole processes {wall:.1f} s", load_at=at,
            others=others,
        )  # fmt: skip
    bench.notes.append(
        f"{w.key}: first run after empty caches {first.seconds:.2f} s, later runs "
        f"{cli.seconds:.2f} s: compiling costs {first.seconds - cli.seconds:.2f} s once"
    )
    if w in (W2, W3):
        time_engine(w, 1, iterations=10)  # untimed: every kernel it needs ready here
        for workers in sorted({1, executor.available_cores()}):
            at = load()
            with Others() as busy:
                seconds, _ = time_engine(w, workers)
            bench.row(w.key, f"engine in-process, {workers} worker(s)", n, it, seconds, tut_s, jax_best, load_at=at, others=busy.cores)  # fmt: skip
            if rates is not None:
                bound = limit_seconds(w, rates, workers)
                bench.row(w.key, f"limit, {workers} core(s)", n, it, bound, tut_s, jax_best, note=f"engine at {seconds / bound:.2f}x the limit")  # fmt: skip
    return {"measured": cli.seconds, "args": [*w.sweep_args(), "--no-save"]}


def spread_note(t: Timing) -> str:
    if len(t.runs) == 1:
        return "1 run"
    return f"best of {len(t.runs)}: " + ", ".join(f"{r:.2f}" for r in t.runs)


def cross_check(bench: Bench, args: list[str], prog: str) -> str:
    """W1's checkpoint errors from toynn --json against the tutorial program's printout
    (the tutorial's published digits: 12 significant digits)."""
    done = subprocess.run([bench.toynn, *args, "--json"], env=bench.env, cwd=ROOT, capture_output=True, text=True)  # fmt: skip
    ours = [c["error"] for n in json.loads(done.stdout)["networks"] for c in n["checkpoints"]]
    theirs = [float(v) for v in re.findall(r"iterations: (\S+)", prog)]
    worst = max(abs(a - b) / abs(b) for a, b in zip(ours, theirs)) if theirs else float("nan")
    same = len(ours) == len(theirs) and worst < 1e-9
    return (
        f"W1 cross-check: toynn's {len(ours)} checkpoint errors against the tutorial program's: "
        f"largest relative difference {worst:.1e} ({'agree' if same else 'DIFFER'} to 1e-9)"
    )


def run_w4(bench: Bench, jax_python: str | None) -> dict:
    """W4 through the CLI, saved: time, the largest process's RSS, the sum of PSS over
    toynn and its workers, the run folder's size; the engine's own rate in-process on
    20000 of its networks (best of 3) and on all of them (once: the sustained rate); the
    tutorial program extrapolated from 10 networks."""
    w = W4
    n, it = w.networks, w.iterations
    tut, tut_note = tutorial_for(bench, w)
    bench.row(w.key, "tutorial program (extrapolated)", n, it, tut, tut.seconds, note=tut_note)
    timer = "/usr/bin/time" if Path("/usr/bin/time").exists() else None
    with tempfile.TemporaryDirectory(dir=bench.tmp) as out:
        cmd = [bench.toynn, *w.sweep_args(), "--out", out, "-q", "--rows", "5"]
        if timer:
            cmd = [timer, "-v", *cmd]
        at = load()
        busy = Others().__enter__()
        start = time.perf_counter()
        with tempfile.TemporaryFile("w+") as err:
            proc = subprocess.Popen(cmd, env=bench.env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err, text=True)  # fmt: skip
            pss = 0
            while proc.poll() is None:
                pss = max(pss, sum(_pss_kib(p) for p in _tree(proc.pid)))
                time.sleep(0.2)
            err.seek(0)
            stderr = err.read()
        wall = time.perf_counter() - start
        busy.__exit__()
        if proc.returncode != 0:
            print(f"W4 failed: {stderr.strip().splitlines()[-3:]}")
            return {}
        rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
        size = sum(p.stat().st_size for p in Path(out).rglob("*") if p.is_file())
    peak = f"max RSS {int(rss.group(1)) / 1024:.0f} MiB" if rss else "max RSS not measured"
    bench.row(
        w.key, "toynn sweep, saved", n, it, wall, tut.seconds,
        note=f"run folder {size / 1e6:.0f} MB, {size / 2**20:.0f} MiB (target < 500 MB); {peak}, peak PSS {pss / 1024:.0f} MiB",
        load_at=at, others=busy.cores,
    )  # fmt: skip
    at = load()
    with Others() as busy:  # best of three: one 2 s sample moved 1.5x between runs
        seconds, ran = min(time_engine(w, executor.available_cores(), 20000) for _ in range(3))
    bench.row(w.key, f"engine in-process, {ran} of the networks", ran, it, seconds, tut.seconds * ran / n, load_at=at, others=busy.cores, note="best of 3")  # fmt: skip
    engine_rate = ran * it / seconds
    # and all of W4 in-process once (the executor, its chunks, no saving): the engine's
    # sustained rate on this very grid, where a 1 s sample catches the machine's best
    at = load()
    with Others() as busy:
        whole, _ = time_engine(w, executor.available_cores())
    bench.row(w.key, "engine in-process, all of the networks", n, it, whole, tut.seconds, load_at=at, others=busy.cores, note="the executor, no saving")  # fmt: skip
    bench.notes.append(
        f"W4: the CLI trained {n * it / wall:.3g} network-iterations/s against the engine's "
        f"own {engine_rate:.3g} in-process on 20000 networks: {n * it / wall / engine_rate:.0%} "
        f"of it; against all of W4 in-process ({n * it / whole:.3g}): {whole / wall:.0%}"
    )
    return {"measured": wall, "args": w.sweep_args()}


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


def dry_runs(bench: Bench, measured: dict[str, dict]) -> None:
    """``toynn sweep ... --dry-run --json``'s estimate against the measured run."""
    print("\ndry-run estimates (toynn sweep ... --dry-run --json) against the measured runs")
    print("(each for the command timed: W1-W3 --no-save, W4 saved; saved runs of all of them:")
    print(" bench/estimate_check.py)")
    print(f"{'':3} {'engine':>7} {'chunks':>6} {'workers':>7} {'estimated s':>11} {'measured s':>10} {'measured / estimated':>20}")  # fmt: skip
    for key, got in measured.items():
        args = got["args"]
        if args[0] != "sweep":
            continue
        done = subprocess.run([bench.toynn, *args, "--dry-run", "--json"], env=bench.env, cwd=ROOT, capture_output=True, text=True)  # fmt: skip
        doc = json.loads(done.stdout)
        est = doc["estimated_seconds"]
        print(
            f"{key:3} {doc['engine']:>7} {doc['chunks']:6d} {doc['workers']:7d} {est:11.2f} "
            f"{got['measured']:10.2f} {got['measured'] / est:19.2f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", metavar="W", help="sections: S T W1 W2 W3 W4")
    parser.add_argument("--jax-python", help="a Python interpreter that has jax installed")
    parser.add_argument("--repeat", type=int, default=3, help="runs per short measurement")
    args = parser.parse_args()
    chosen = args.only or ["S", "T", "W1", "W2", "W3"]
    jax_python = find_jax_python(args.jax_python)
    toynn = shutil.which("toynn") or str(Path(sys.executable).parent / "toynn")

    with tempfile.TemporaryDirectory(prefix="toynn-bench-") as tmp:
        env = dict(os.environ, PYTHONPYCACHEPREFIX=f"{tmp}/pyc", NUMBA_CACHE_DIR=f"{tmp}/numba")
        env["XDG_CACHE_HOME"] = f"{tmp}/cache"
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        bench = Bench(env, args.repeat, toynn, sys.executable, Path(tmp))
        print(f"toynn bench, {time.strftime('%Y-%m-%d %H:%M')}: {hardware()}")
        print(versions(jax_python))
        print(f"load average at the start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
        # fill the bytecode and numba caches (the first-run rows use a fresh numba cache)
        bench.run([toynn, "train", "--iterations", "10", "--no-save", "-q"], repeat=1)
        rates = None
        if any(k in chosen for k in ("W2", "W3")):
            rates = limit.measure()
            print(
                f"limit rates, one core: {rates.flops / 1e9:.2f} Gflop/s (multiply, add), "
                f"{rates.divides / 1e9:.3f} G divides/s, {rates.exps / 1e9:.3f} G exp/s "
                f"(toynn's exp; the C library's {rates.libm_exps / 1e9:.3f} G/s)"
            )
        print(HEADER)
        measured: dict[str, dict] = {}
        if "S" in chosen:
            startup(bench)
        for key in ("T", "W1", "W2", "W3"):
            if key in chosen:
                measured[key] = cli_workload(bench, WORKLOADS[key], jax_python, rates)
        if "W4" in chosen:
            measured["W4"] = run_w4(bench, jax_python)
        if not jax_python:
            bench.notes.append("JAX peer skipped: no Python with jax (pass --jax-python)")
        for note in bench.notes:
            print(f"* {note}")
        measured = {k: v for k, v in measured.items() if v}
        if measured:
            dry_runs(bench, measured)
        print(f"load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
