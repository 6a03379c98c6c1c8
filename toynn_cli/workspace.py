"""Reading run folders back: list them, load one, compare two.

A folder is a run when it holds ``run.json`` with a ``status``. Its networks are read
from ``results.json`` into the same :class:`~toynn_cli.engine.NetworkResult` records
that training returns, so the report code renders a saved run exactly as a fresh one.
Nothing here writes or prints.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from toynn_cli import datasets, runs
from toynn_cli.engine import NetworkResult, NetworkSpec

RESULTS_FILE = "results.json"


class NotARunError(ValueError):
    """The folder is not a readable run folder; the message is one line."""


@dataclass
class RunFolder:
    """A run folder as read from disk: run.json's record and, if written, results.json."""

    path: Path
    info: dict[str, Any]  # run.json
    doc: dict[str, Any] | None  # results.json (None while running or if killed early)

    @property
    def state(self) -> str:
        """``complete``, ``interrupted``, ``running``, or ``killed`` (run.json still says
        running but its process is gone)."""
        status = str(self.info.get("status"))
        if status == "running" and not runs.pid_alive(self.info.get("pid")):
            return "killed"
        return status

    @property
    def experiment(self) -> dict[str, Any]:
        if self.doc is not None:
            return self.doc.get("experiment") or {}
        return {}

    @property
    def command(self) -> str:
        return str(self.info.get("command", ""))

    @property
    def kind(self) -> str:
        """``train`` or ``sweep``: the command that wrote the run."""
        words = self.command.split()
        return "train" if len(words) > 1 and words[1] == "train" else "sweep"

    @property
    def n_networks(self) -> int:
        return int(self.info.get("networks", len(self.networks_raw)))

    @property
    def summarised(self) -> bool:
        """A large sweep: results.json lists only its best networks (the rest is in
        chunks/*.npz and metrics.csv)."""
        return self.doc is not None and self.doc.get("networks") is None

    @property
    def networks_raw(self) -> list[dict[str, Any]]:
        doc = self.doc or {}
        return list(doc.get("best", []) if self.summarised else doc.get("networks", []))

    def best_final_error(self) -> float | None:
        errors = [_float(n.get("final_error")) for n in self.networks_raw]
        finite = [e for e in errors if math.isfinite(e)]
        return min(finite) if finite else None


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise NotARunError(f"cannot read '{path}': {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NotARunError(
            f"'{path}' is not valid JSON ({exc}); expected a toynn run file"
        ) from None


def open_run(path: Path) -> RunFolder:
    """Read a run folder; raise :class:`NotARunError` if ``path`` is not one."""
    if not path.is_dir():
        what = "does not exist" if not path.exists() else "is not a folder"
        raise NotARunError(f"'{path}' {what}; expected a run folder (see 'toynn runs')")
    status_file = path / runs.STATUS_FILE
    if not status_file.is_file():
        raise NotARunError(
            f"'{path}' is not a run folder: it has no {runs.STATUS_FILE} "
            f"(expected a folder written by 'toynn train' or 'toynn sweep'; see 'toynn runs')"
        )
    info = _read_json(status_file)
    if not isinstance(info, dict) or "status" not in info:
        raise NotARunError(f"'{status_file}' has no 'status'; expected a toynn run.json")
    doc = None
    results_file = path / RESULTS_FILE
    if results_file.is_file():
        doc = _read_json(results_file)
        summary = isinstance(doc, dict) and doc.get("networks") is None
        listed = doc.get("best") if summary else (doc or {}).get("networks")
        if not isinstance(doc, dict) or not isinstance(listed, list):
            raise NotARunError(f"'{results_file}' has no 'networks' list; expected toynn results")
    return RunFolder(path, info, doc)


def require_results(run: RunFolder) -> list[dict[str, Any]]:
    """The run's network records; a run with no results.json is refused."""
    if run.doc is None:
        hint = ""
        if run.state in ("killed", "interrupted") and run.kind == "sweep":
            hint = f" ('toynn sweep --resume {run.path}' finishes it)"
        raise NotARunError(
            f"'{run.path}' has no {RESULTS_FILE} (status: {run.state}); "
            f"expected a run that finished or was interrupted{hint}"
        )
    return run.networks_raw


def list_runs(parent: Path) -> list[RunFolder]:
    """Every run folder directly under ``parent``, newest first (by start time, then
    name). Folders that are not runs, or cannot be read, are skipped."""
    if not parent.is_dir():
        return []
    found = []
    for child in parent.iterdir():
        if not child.is_dir() or child.name.startswith("."):
            continue
        try:
            found.append(open_run(child))
        except NotARunError:
            continue
    found.sort(key=lambda r: (str(r.info.get("started", "")), r.path.name), reverse=True)
    return found


# --- results.json back into NetworkResult records ------------------------------------


def _array(rows: Any, dtype: Any = np.float64) -> np.ndarray:
    if dtype is np.float64:
        return np.array([[_float(v) for v in row] for row in rows], dtype=np.float64)
    return np.array(rows, dtype=dtype)


def network_result(record: dict[str, Any]) -> NetworkResult:
    """One network record of results.json as a :class:`NetworkResult`. The error history
    is the saved one, or the checkpoints plus the final error for older files."""
    checkpoints = record.get("checkpoints", [])
    check_its = np.array([int(c["iteration"]) for c in checkpoints], dtype=np.int64)
    check_errors = np.array([_float(c["error"]) for c in checkpoints], dtype=np.float64)
    history = record.get("history")
    if history:
        hist_its = np.array(history["iterations"], dtype=np.int64)
        hist_errors = np.array([_float(e) for e in history["errors"]], dtype=np.float64)
    else:
        hist_its, hist_errors = check_its, check_errors
    return NetworkResult(
        spec=NetworkSpec(float(record["alpha"]), int(record["hidden"]), int(record["seed"])),
        iterations=int(record["iterations"]),
        checkpoint_iterations=check_its,
        checkpoint_errors=check_errors,
        final_error=_float(record["final_error"]),
        history_iterations=hist_its,
        history_errors=hist_errors,
        weights_initial=[_array(w) for w in record.get("weights_initial", [])],
        weights=[_array(w) for w in record.get("weights", [])],
        direction_changes=[_array(c, np.int64) for c in record.get("direction_changes", [])],
        outputs=_array(record.get("outputs", [])),
        # classification targets only (and files written before accuracy was recorded
        # have none): the saved accuracy at each checkpoint and final
        checkpoint_accuracy=np.array([_float(c["accuracy"]) for c in checkpoints], dtype=np.float64)
        if record.get("final_accuracy") is not None
        else None,
        final_accuracy=_float(record["final_accuracy"])
        if record.get("final_accuracy") is not None
        else None,
    )


def load_networks(run: RunFolder) -> tuple[list[NetworkResult], list[str]]:
    """The run's networks and their saved status labels."""
    records = require_results(run)
    try:
        return [network_result(r) for r in records], [str(r["status"]) for r in records]
    except (KeyError, TypeError, ValueError) as exc:
        raise NotARunError(
            f"'{run.path / RESULTS_FILE}' has a malformed network record ({exc!r}); "
            f"expected toynn results"
        ) from None


def run_dataset(run: RunFolder) -> tuple[np.ndarray, np.ndarray] | None:
    """The run's inputs and targets, from its config (a built-in name, a generated set's
    parameters, or inline data: a CSV dataset is saved inline), or None if they cannot
    be read."""
    ref = run.experiment.get("dataset")
    if isinstance(ref, str) and ref in datasets.BUILTIN:
        data = datasets.BUILTIN[ref]
        return data.x, data.y
    if isinstance(ref, dict) and ref.get("name") in datasets.GENERATED and "inputs" not in ref:
        try:  # a generated set, saved as its parameters: generated again, the same points
            data = datasets.generate(
                ref["name"], int(ref["samples"]), float(ref["noise"]), int(ref["seed"])
            )
        except (KeyError, TypeError, ValueError):
            return None
        return data.x, data.y
    if isinstance(ref, dict):
        try:
            x = np.array(ref["inputs"], dtype=np.float64)
            y = np.array(ref["targets"], dtype=np.float64)
        except (KeyError, TypeError, ValueError):
            return None
        if x.ndim == 2 and y.ndim == 2 and len(x) == len(y):
            return x, y
    return None


# --- comparing two runs -----------------------------------------------------------------


def config_differences(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """``(key, value in A, value in B)`` for every config key that differs, in A's key
    order then B's extra keys. A missing key is ``None``."""
    keys = list(a) + [k for k in b if k not in a]
    return [(k, a.get(k), b.get(k)) for k in keys if a.get(k) != b.get(k)]


@dataclass
class Pair:
    """A network of A and its match in B (same values on the matched axes); ``alpha``,
    ``hidden`` and ``seed`` are A's."""

    alpha: float
    hidden: int
    seed: int
    error_a: float
    error_b: float
    status_a: str
    status_b: str
    key_b: tuple[float, int, int]  # B's (alpha, hidden, seed): differs on an unmatched axis

    @property
    def difference(self) -> float:
        """B's final error minus A's: positive means B is worse."""
        return self.error_b - self.error_a

    def worse(self, tolerance: float) -> bool:
        """B is worse than A by more than ``tolerance`` (a non-finite B error with a
        finite A error is worse)."""
        if not math.isfinite(self.error_b):
            return math.isfinite(self.error_a)
        if not math.isfinite(self.error_a):
            return False
        return self.difference > tolerance


@dataclass
class Comparison:
    differences: list[tuple[str, Any, Any]]
    pairs: list[Pair]
    only_a: int  # networks of A with no match in B
    only_b: int
    matched_on: list[str]  # the axes networks were matched on


AXES = ("alpha", "hidden", "seed")


def _full_key(record: dict[str, Any]) -> tuple[float, int, int]:
    return (float(record["alpha"]), int(record["hidden"]), int(record["seed"]))


def matched_axes(records_a: list[dict[str, Any]], records_b: list[dict[str, Any]]) -> list[str]:
    """The axes networks are matched on: all of alpha, hidden, seed except one that holds
    a single, different value in each run (hidden 4 in A, 32 in B: then alpha 10 in A
    is compared with alpha 10 in B)."""
    axes = []
    for k, axis in enumerate(AXES):
        values_a = {_full_key(r)[k] for r in records_a}
        values_b = {_full_key(r)[k] for r in records_b}
        if not (len(values_a) == 1 and len(values_b) == 1 and values_a != values_b):
            axes.append(axis)
    return axes


def compare(a: RunFolder, b: RunFolder) -> Comparison:
    """Config differences, then the networks both runs trained, in A's order."""
    records_a, records_b = require_results(a), require_results(b)
    axes = matched_axes(records_a, records_b)
    positions = [AXES.index(axis) for axis in axes]

    def key(record: dict[str, Any]) -> tuple:
        full = _full_key(record)
        return tuple(full[p] for p in positions)

    by_key_b = {key(r): r for r in records_b}
    keys_a = {key(r) for r in records_a}
    pairs = []
    for ra in records_a:
        rb = by_key_b.get(key(ra))
        if rb is None:
            continue
        alpha, hidden, seed = _full_key(ra)
        pairs.append(
            Pair(
                alpha,
                hidden,
                seed,
                _float(ra["final_error"]),
                _float(rb["final_error"]),
                str(ra.get("status", "")),
                str(rb.get("status", "")),
                _full_key(rb),
            )
        )
    return Comparison(
        differences=config_differences(a.experiment, b.experiment),
        pairs=pairs,
        only_a=len(records_a) - len(pairs),
        only_b=sum(1 for r in records_b if key(r) not in keys_a),
        matched_on=axes,
    )
