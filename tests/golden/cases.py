"""Golden runs: commands whose numbers and run-folder contents must not change.

``python tests/golden/cases.py`` runs every case and writes ``tests/golden/<case>.json``;
``tests/test_golden.py`` runs them again and compares. A golden file holds, per case:
the networks' numbers as exact float hex (every setting, checkpoint and final error,
status, a digest of the weights and outputs), the run folder's file list and a digest
of each file's content with the volatile parts (times, pids, paths) taken out. A
change to a golden file is a change of behaviour: say why in the commit.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from click.testing import CliRunner

from toynn_cli.store import chunks

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

#: name -> (arguments, slow). Every case saves its run folder into a fresh --out.
CASES: dict[str, tuple[list[str], bool]] = {
    "xor": (["train", "--config", "configs/xor.yaml"], False),
    "two-layer": (["train", "--config", "configs/two-layer.yaml"], False),
    "alpha-sweep": (["sweep", "--config", "configs/alpha-sweep.yaml"], True),
    "alpha-sweep-h32": (["sweep", "--config", "configs/alpha-sweep-h32.yaml"], True),
    "architecture": (["sweep", "--config", "configs/architecture.yaml"], True),
    "control": (["sweep", "--config", "configs/control.yaml"], True),
    "mini-batches": (["sweep", "--config", "configs/mini-batches.yaml"], True),
    "moons": (["sweep", "--config", "configs/moons.yaml"], True),
    "optimizers": (["sweep", "--config", "configs/optimizers.yaml"], True),
    "weight-decay": (["sweep", "--config", "configs/weight-decay.yaml"], True),
    "readme-alphas": (["sweep", "--alphas", "0.001..1000", "--iterations", "2000"], False),
    "readme-seeds": (
        [
            "sweep",
            "--dataset",
            "xor",
            "--hidden",
            "2,4,32",
            "--alphas",
            "10",
            "--seeds",
            "0..99",
            "--iterations",
            "20000",
            "--log-every",
            "5000",
            "--name",
            "seeds",
        ],
        True,
    ),
    "mixed": (
        [
            "sweep",
            "--hidden",
            "4,8x4",
            "--optimizers",
            "sgd,adam",
            "--bias",
            "false,true",
            "--alphas",
            "0.1,1",
            "--seeds",
            "1,2",
            "--iterations",
            "2000",
            "--log-every",
            "500",
            "--name",
            "mixed",
        ],
        True,
    ),
    "chunked": (
        [
            "sweep",
            "--alphas",
            "0.1,1,10",
            "--seeds",
            "1..4",
            "--iterations",
            "3000",
            "--chunk-size",
            "5",
            "--workers",
            "1",
            "--name",
            "chunked",
        ],
        False,
    ),
}

#: run.json keys that change from run to run
VOLATILE = {
    "started",
    "updated",
    "finished",
    "pid",
    "command",
    "host",
    "duration_s",
    "ended",
    "utc_offset",
    "duration_seconds",
    "workers",
    "processes",
    "threads",
    "cpu",
    "simd",
    "cores",
    "python_version",
    "numpy_version",
    "numba_version",
    "git_commit",
    "git_dirty",
}


def _hex(value: Any) -> Any:
    """Floats as exact hex, recursively; strings "NaN"/"Infinity" stay as they are."""
    if isinstance(value, float):
        return value.hex()
    if isinstance(value, list):
        return [_hex(v) for v in value]
    if isinstance(value, dict):
        return {k: _hex(v) for k, v in value.items()}
    return value


def _digest(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _networks(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for record in records:
        numbers = {
            k: v
            for k, v in record.items()
            if k not in {"weights", "weights_initial", "outputs", "history", "direction_changes"}
        }
        numbers["weights"] = _digest(_hex(record.get("weights")))
        numbers["outputs"] = _digest(_hex(record.get("outputs")))
        numbers["history"] = _digest(_hex(record.get("history")))
        numbers["direction_changes"] = _digest(record.get("direction_changes"))
        out.append(_hex(numbers))
    return out


def _npz_digest(path: Path) -> dict[str, str]:
    """Each array's digest; a chunk file's as trained (``read_arrays``), so that a
    change of how they are coded is not a change of what they hold."""
    if path.parent.name == "chunks":
        data = chunks.read_arrays(path)
    else:
        with np.load(path, allow_pickle=False) as archive:
            data = {k: archive[k] for k in archive.files}
    return {k: hashlib.sha256(data[k].tobytes()).hexdigest()[:16] for k in sorted(data)}


def _csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def snapshot(run_dir: Path, stdout: str) -> dict[str, Any]:
    """What a case must reproduce: the numbers and the run folder's contents."""
    doc = json.loads(stdout)
    out: dict[str, Any] = {"networks": _networks(doc.get("networks") or doc.get("best") or [])}
    files: dict[str, Any] = {}
    for path in sorted(p for p in run_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(run_dir).as_posix()
        if rel == "run.json":
            info = json.loads(path.read_text())
            files[rel] = {k: v for k, v in info.items() if k not in VOLATILE}
        elif rel == "results.json":
            saved = json.loads(path.read_text())
            saved.pop("run_dir", None)
            files[rel] = _digest(_hex(saved))
        elif rel == "config.yaml":
            files[rel] = yaml.safe_load(path.read_text())
        elif rel.endswith(".csv"):
            rows = _csv_rows(path.read_text())
            files[rel] = {"header": rows[0] if rows else [], "rows": _digest(rows[1:])}
        elif rel.endswith(".npz"):
            files[rel] = _npz_digest(path)
        else:  # reports and figures: their presence (their text is a view, not data)
            files[rel] = "present"
    out["files"] = files
    return out


def run_case(name: str) -> dict[str, Any]:
    from toynn_cli.cli import cli

    args, _ = CASES[name]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "runs"
        cwd = os.getcwd()
        os.chdir(ROOT)
        try:
            result = CliRunner().invoke(
                cli, [*args, "--json", "--quiet", "--no-figures", "--out", str(out)]
            )
        finally:
            os.chdir(cwd)
        if result.exit_code != 0:
            raise RuntimeError(f"{name}: exit {result.exit_code}: {result.stderr}")
        (run_dir,) = list(out.iterdir())
        snap = snapshot(run_dir, result.stdout)
        shutil.rmtree(out)
    return snap


def main(names: list[str]) -> None:
    for name in names or list(CASES):
        snap = run_case(name)
        path = HERE / f"{name}.json"
        path.write_text(json.dumps(snap, indent=1, sort_keys=True) + "\n")
        print(f"{path.relative_to(ROOT)}: {len(snap['networks'])} networks")


if __name__ == "__main__":
    main(sys.argv[1:])
