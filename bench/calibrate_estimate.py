"""Calibrate ``--dry-run``'s time estimate (toynn_cli/run/cost.py) on this machine.

    python bench/calibrate_estimate.py            # both engines, about 3 minutes
    python bench/calibrate_estimate.py --engine numpy

Times each engine in this process, one thread, on batches of one layout (hidden 2 to
32, 4 to 2000 samples, 1 to 4096 networks), and fits the cost model of cost.py to the
seconds per batch-iteration by least squares on the relative error (coefficients that
come out negative are dropped and the rest refitted): the numba engine's cases twice,
those it trains with a fused kernel (``fused``) and the others (``coefficients``). Then times whole CLI runs (one
network, one iteration; many networks, few iterations) for the fixed start-up and the
per-network cost of a saved run. Prints the constants to paste into cost.py, and the
fit's worst relative errors.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toynn_cli.core import engines, network  # noqa: E402
from toynn_cli.run import cost  # noqa: E402

#: seconds each timed batch should take
TARGET = 0.2


def batch_seconds(name: str, hidden: int, samples: int, n: int) -> tuple[float, int]:
    """(seconds per iteration, iterations) training ``n`` networks of ``hidden`` units on
    ``samples`` points of a 2-input xor (the sign of (x1 - 1/2)(x2 - 1/2)), one thread:
    (k iterations less one) / (k - 1), which leaves out the batch's set-up and its
    result; k makes the run at least TARGET and 5 times one iteration's; best of 2."""
    rng = np.random.default_rng(0)
    x = rng.random((samples, 2))
    y = ((x[:, :1] > 0.5) ^ (x[:, 1:] > 0.5)).astype(float)
    specs = [network.NetworkSpec(alpha=0.5, hidden=hidden, seed=s) for s in range(n)]
    train = engines.get(name).train

    def timed(iterations: int) -> float:
        best = math.inf
        for _ in range(2):
            start = time.perf_counter()
            train(x, y, specs, iterations, iterations, None, 1)
            best = min(best, time.perf_counter() - start)
        return best

    once = timed(1)  # the batch's set-up and result, and one iteration
    k = 8
    while True:
        took = timed(k)
        if took > max(TARGET, 5 * once) or k > 10**6:
            break
        k = max(k * 2, int(k * 1.3 * max(TARGET, 5 * once) / max(took, 1e-4)))
    return max(took - once, 1e-9) / (k - 1), k


def fit(rows: list[tuple[list[float], float]]) -> list[float]:
    """Non-negative least squares on relative error, by dropping negative terms."""
    a = np.array([f for f, _ in rows])
    t = np.array([s for _, s in rows])
    keep = list(range(a.shape[1]))
    while True:
        coef, *_ = np.linalg.lstsq(a[:, keep] / t[:, None], np.ones(len(t)), rcond=None)
        if (coef >= 0).all():
            break
        del keep[int(np.argmin(coef))]
    out = [0.0] * a.shape[1]
    for i, c in zip(keep, coef):
        out[i] = float(c)
    return out


def _fused(name: str, hidden: int, samples: int) -> bool:
    """Whether the engine trains this case with a fused kernel (the numba engine's)."""
    if name != "numba":
        return False
    from toynn_cli.core import engine_numba

    spec = network.NetworkSpec(alpha=0.5, hidden=hidden, seed=0)
    return engine_numba.fused_layout(spec, (samples, 2), (samples, 1)) is not None


def calibrate_engine(name: str) -> dict[bool, list[float]]:
    """The engine's coefficients, fitted to the cases it trains with the segment kernels
    (False) and, for the numba engine, to those it trains with a fused kernel (True)."""
    block = cost.MODELS[name].block
    lanes = [1, 8, 32, 128] if block else [1, 8, 128, 1024, 4096]
    samples = (4, 8, 16, 200, 2000) if name == "numba" else (4, 200, 2000)
    cases = [(h, s, n) for h in (2, 4, 8, 16, 32) for s in samples for n in lanes]
    cases = [c for c in cases if not (name == "numpy" and c[0] * c[1] * c[2] > 600_000)]
    rows: dict[bool, list] = {False: [], True: []}
    print(f"{name}: hidden samples networks  kernel  s/iteration")
    for h, s, n in cases:
        per_it, _ = batch_seconds(name, h, s, n)
        fused = _fused(name, h, s)
        sizes = network.layer_sizes(2, h, 1)
        feats = cost.features(sizes, s, cost.kernel_lanes(sizes, s, n, fused))
        rows[fused].append((feats, per_it))
        print(f"  {h:6d} {s:7d} {n:8d}  {'fused' if fused else 'segment':7s} {per_it:11.3e}")
    found = {}
    for fused, kept in rows.items():
        if not kept:
            continue
        coef = fit(kept)
        worst = 0.0
        for feats, per_it in kept:
            model = sum(c * f for c, f in zip(coef, feats))
            worst = max(worst, abs(math.log(model / per_it)))
        kind = "fused kernels" if fused else "segment kernels"
        print(f"  {kind}: worst model / measured {math.exp(worst):.2f}x (either way), "
              f"{len(kept)} cases")  # fmt: skip
        found[fused] = coef
    return found


def cli_seconds(args: list[str], repeat: int = 3) -> float:
    toynn = str(Path(sys.executable).parent / "toynn")
    best = math.inf
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            subprocess.run([toynn, *args, "--out", out, "-q"], check=True, cwd=ROOT,
                           stdout=subprocess.DEVNULL)  # fmt: skip
            best = min(best, time.perf_counter() - start)
    return best


def calibrate_cli(name: str, coef: list[float], fused: list[float]) -> None:
    """Start-up (one network, one iteration) and the per-network cost of a saved run,
    small (full records) and large (more than 10000 networks: summarised)."""
    engine = ["--engine", name, "--workers", "1"]
    startup = cli_seconds(["sweep", "--alphas", "1", "--iterations", "1", *engine])
    print(f"{name}: start-up of a saved run {startup:.3f} s")
    for seeds, label in ((5000, "small"), (20000, "large")):
        args = ["sweep", "--alphas", "1", "--seeds", f"1..{seeds}", "--iterations", "200", *engine]
        took = cli_seconds(args, repeat=2)
        model = dataclasses.replace(cost.MODELS[name], coefficients=tuple(coef), fused=tuple(fused))
        trained = cost.batch_seconds(model, [3, 4, 1], 4, seeds, 200, fused=bool(fused))
        per = (took - startup - trained) / seeds
        print(f"  {label}: {seeds} networks x 200 it {took:.2f} s, training {trained:.2f} s "
              f"(model): {per * 1e6:.1f} us a network")  # fmt: skip


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", action="append", choices=["numba", "numpy"])
    parser.add_argument("--skip-cli", action="store_true")
    args = parser.parse_args()
    print(f"{time.strftime('%Y-%m-%d %H:%M')}, load average {os.getloadavg()}")
    for name in args.engine or ["numba", "numpy"]:
        if name == "numba":
            from toynn_cli.core import engine_numba

            engine_numba.load()
        found = calibrate_engine(name)
        for fused, coef in found.items():
            field = "fused" if fused else "coefficients"
            print(f"  {field}: {', '.join(f'{c:.4g}' for c in coef)}")
        if not args.skip_cli:
            calibrate_cli(name, found[False], found.get(True, []))
    print(f"load average at the end {os.getloadavg()}")


if __name__ == "__main__":
    main()
