"""``toynn sweep --dry-run``'s plan against the run it describes, on this machine.

    python bench/estimate_check.py                      # every case, both engines (~6 min)
    python bench/estimate_check.py --only W1 big --engine auto

For each case and engine: the dry run's estimate (``--dry-run --json``), then the same
command run for real as a user runs it (saved, into a temporary ``--out``, ``-q``),
timed as a whole process. While it runs, the worker processes it starts are counted
(forked children of the toynn process, from /proc); afterwards run.json's ``chunks``
and ``chunk_size`` are compared with the dry run's. One run each (the machine is
shared: note the load average printed beside each row).

Cases (xor unless said; see bench/run.py for W1-W4):
    W1   the tutorial sweep: 7 networks x 60000 iterations
    W2   7 alphas x 1000 seeds, hidden 4, 10000 iterations
    W3   7 alphas x hidden {2,4,8,16,32} x 20 seeds, 10000 iterations
    W4s  W4 scaled down: 10 alphas x 10000 seeds (10^5 networks), hidden 4, 1000 iterations
    big  one network on a 20000-sample CSV (2 inputs, 0/1 target), 3000 iterations
    big300  the same, 300 iterations (for the NumPy engine, instead of big's 6 minutes)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
TOYNN = str(Path(sys.executable).parent / "toynn")
BIG_CSV = Path(tempfile.gettempdir()) / "toynn-estimate-big.csv"

CASES: dict[str, list[str]] = {
    "W1": ["sweep", "--config", "configs/alpha-sweep.yaml"],
    "W2": ["sweep", "--alphas", "0.001..1000", "--seeds", "1..1000", "--iterations", "10000"],
    "W3": [
        "sweep", "--alphas", "0.001..1000", "--hidden", "2,4,8,16,32", "--seeds", "1..20",
        "--iterations", "10000",
    ],
    "W4s": [
        "sweep", "--alphas", "0.001..1000:10", "--seeds", "0..9999", "--iterations", "1000",
        "--rows", "5",
    ],
    "big": ["sweep", "--dataset", str(BIG_CSV), "--alphas", "1", "--iterations", "3000"],
    "big300": ["sweep", "--dataset", str(BIG_CSV), "--alphas", "1", "--iterations", "300"],
}  # fmt: skip
#: cases left out for an engine by default: the NumPy engine takes about 6 minutes on big
SKIP = {("big", "numpy"), ("big300", "auto")}


def write_big_csv() -> None:
    """20000 points in the unit square, target the xor of their halves."""
    if BIG_CSV.exists():
        return
    rng = np.random.default_rng(1)
    x = rng.random((20000, 2))
    y = (x[:, 0] > 0.5) ^ (x[:, 1] > 0.5)
    lines = ["x1,x2,y", *(f"{a:.6f},{b:.6f},{int(c)}" for (a, b), c in zip(x, y))]
    BIG_CSV.write_text("\n".join(lines) + "\n")


def workers_of(pid: int) -> list[int]:
    """The toynn process's forked children (same command line; not git)."""
    try:
        mine = Path(f"/proc/{pid}/cmdline").read_bytes()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    found = []
    for child in children:
        with contextlib.suppress(OSError):
            if Path(f"/proc/{child}/cmdline").read_bytes() == mine:
                found.append(int(child))
    return found


def check(key: str, engine: str) -> dict:
    args = [*CASES[key], "--engine", engine]
    dry = subprocess.run([TOYNN, *args, "--dry-run", "--json"], cwd=ROOT, capture_output=True,
                         text=True, check=True)  # fmt: skip
    plan = json.loads(dry.stdout)
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        proc = subprocess.Popen([TOYNN, *args, "--out", out, "-q"], cwd=ROOT,
                                stdout=subprocess.DEVNULL)  # fmt: skip
        seen: set[int] = set()
        while proc.poll() is None:
            seen.update(workers_of(proc.pid))
            time.sleep(0.05)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"{key} {engine}: exit {proc.returncode}")
        (run_json,) = Path(out).glob("*/run.json")
        info = json.loads(run_json.read_text())
    processes = len(seen) or 1
    est = plan["estimated_seconds"]
    same = (info["chunks"], info["chunk_size"], processes) == (
        plan["chunks"], plan["chunk_size"], plan["workers"],
    )  # fmt: skip
    print(
        f"{key:4} {engine:>6} {plan['engine']:>6} {plan['chunks']:6d} {plan['workers']:7d} "
        f"{info['chunks']:6d} {processes:9d} {est:9.2f} {wall:9.2f} {wall / est:6.2f}x "
        f"{load:5.2f}  {'yes' if same else 'NO'}"
    )
    return {"case": key, "engine": engine, "estimate": est, "measured": wall, "same": same}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=list(CASES))
    parser.add_argument("--engine", action="append", choices=["auto", "numpy"])
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    write_big_csv()
    print(f"{time.strftime('%Y-%m-%d %H:%M')}, load average {os.getloadavg()}")
    print(
        "case  asked engine chunks workers  run:chunks processes  estimate  measured  "
        "ratio  load  plan = run"
    )
    for key in args.only or list(CASES):
        for engine in args.engine or ["auto", "numpy"]:
            if args.only or (key, engine) not in SKIP:
                check(key, engine)
    print(f"load average at the end {os.getloadavg()}")


if __name__ == "__main__":
    main()
