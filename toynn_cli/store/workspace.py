"""Reading run folders back: list them, load one (comparing two: store/compare.py).

A folder is a run when it holds ``run.json`` with a ``status``. Its networks are read
from ``results.json`` into the same :class:`~toynn_cli.core.network.NetworkResult` records
that training returns, so the report code renders a saved run exactly as a fresh one.
Nothing here writes or prints.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from toynn_cli import __version__, axes
from toynn_cli.core import datasets
from toynn_cli.core.network import NetworkResult, NetworkSpec
from toynn_cli.run.executor import ChunkResult
from toynn_cli.store import runs
from toynn_cli.store.chunks import load_chunk
from toynn_cli.store.results import LargeSweep, Networks, collect

RESULTS_FILE = "results.json"
CHUNKS = "chunks"


class NotARunError(ValueError):
    """The folder is not a readable run folder; the message is one line, ``short`` a
    few words for a listing (``results.json truncated``)."""

    def __init__(self, message: str, short: str = "unreadable") -> None:
        super().__init__(message)
        self.short = short


#: the commands that write run folders
KINDS = ("train", "sweep", "surface")


@dataclass
class RunFolder:
    """A run folder as read from disk: run.json's record and, if written, results.json."""

    path: Path
    info: dict[str, Any]  # run.json
    doc: dict[str, Any] | None  # results.json (None while running or if killed early)

    @property
    def state(self) -> str:
        """``complete``, ``interrupted``, ``failed`` (training raised; run.json's
        ``error`` says what), ``running``, ``killed`` (run.json still says running but
        its process is gone), or ``damaged: no results.json`` (run.json says complete,
        but the results are gone)."""
        status = str(self.info.get("status"))
        if status == "running" and not runs.pid_alive(self.info.get("pid")):
            return "killed"
        if status == "complete" and self.doc is None and self.kind != "surface":
            return f"damaged: no {RESULTS_FILE}"  # run.json says complete; results are gone
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
        """``train``, ``sweep`` or ``surface``: the command that wrote the run (run.json's
        ``kind``; before it was recorded, from the command)."""
        if self.info.get("kind") in KINDS:
            return str(self.info["kind"])
        words = self.command.split()
        return "train" if len(words) > 1 and words[1] == "train" else "sweep"

    @property
    def n_networks(self) -> int:
        """How many networks run.json says the run has (-1 when it says nothing
        usable)."""
        value = self.info.get("networks", len(self.networks_raw))
        return value if isinstance(value, int) and not isinstance(value, bool) else -1

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
        errors = [_float(n.get("final_error")) for n in self.networks_raw if isinstance(n, dict)]
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
        raise NotARunError(
            f"cannot read '{path}': {exc.strerror or exc}", f"{path.name} unreadable"
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NotARunError(
            f"'{path}' is not valid JSON ({exc}); expected a toynn run file",
            f"{path.name} truncated or not JSON",
        ) from None
    except RecursionError:  # [[[[...]]]] 200000 deep: hostile, not a toynn file
        raise NotARunError(
            f"'{path}' nests JSON too deeply to read; expected a toynn run file",
            f"{path.name} nested too deeply",
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
            f"(expected a folder written by 'toynn train' or 'toynn sweep'; see 'toynn runs')",
            f"no {runs.STATUS_FILE}",
        )
    info = _read_json(status_file)
    if not isinstance(info, dict) or "status" not in info:
        raise NotARunError(
            f"'{status_file}' has no 'status'; expected a toynn run.json", "run.json has no status"
        )
    _check_format(status_file, info)
    doc = None
    results_file = path / RESULTS_FILE
    if results_file.is_file():
        doc = _read_json(results_file)
        summary = isinstance(doc, dict) and doc.get("networks") is None
        listed = doc.get("best") if summary else (doc or {}).get("networks")
        if not isinstance(doc, dict) or not isinstance(listed, list):
            raise NotARunError(
                f"'{results_file}' has no 'networks' list; expected toynn results",
                "results.json has no networks",
            )
        _check_format(results_file, doc)
    return RunFolder(path, info, doc)


def _check_format(path: Path, doc: dict[str, Any]) -> None:
    """Refuse a file of a newer run-folder format than this toynn reads."""
    version = doc.get("format", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise NotARunError(f"'{path}' has format {version!r}; expected a whole number >= 1")
    if version > runs.FORMAT:
        raise NotARunError(
            f"'{path}' is run-folder format {version}, newer than this toynn "
            f"({__version__}) reads; expected format {runs.FORMAT} or older (upgrade toynn)"
        )


def require_results(run: RunFolder) -> list[dict[str, Any]]:
    """The run's network records; a run with no results.json is refused."""
    if run.doc is None:
        hint = ""
        if run.state in ("killed", "interrupted", "failed") and run.kind == "sweep":
            hint = f" ('toynn sweep --resume {run.path}' finishes it)"
        raise NotARunError(
            f"'{run.path}' has no {RESULTS_FILE} (status: {run.state}); "
            f"expected a run that finished or was interrupted{hint}"
        )
    return run.networks_raw


#: a run folder's name: <YYYYmmdd-HHMMSS>-<name>[-N] (see store/runs.py)
RUN_NAME = re.compile(r"\d{8}-\d{6}-")


def list_runs(parent: Path) -> list[RunFolder]:
    """Every run folder directly under ``parent``, newest first (by start time, then
    name). A folder named like a run folder that cannot be read is listed with the
    state ``damaged: <why>``, so that one bad folder never hides the others; other
    folders are skipped."""
    if not parent.is_dir():
        return []
    found = []
    for child in parent.iterdir():
        if not child.is_dir() or child.name.startswith("."):
            continue
        try:
            found.append(open_run(child))
        except NotARunError as exc:
            if RUN_NAME.match(child.name):
                found.append(RunFolder(child, {"status": f"damaged: {exc.short}"}, None))
    found.sort(key=lambda r: (str(r.info.get("started", "")), r.path.name), reverse=True)
    return found


def surface_grid(run: RunFolder) -> str:
    """A surface run's grid, surface.csv's text; NotARunError if it cannot be read."""
    path = run.path / "surface.csv"
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise NotARunError(f"cannot read '{path}': {exc}; expected a surface run's grid") from None


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
        spec=axes.read(record),
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
        raise _malformed(run, exc) from None


def _malformed(run: RunFolder, exc: Exception) -> NotARunError:
    return NotARunError(
        f"'{run.path / RESULTS_FILE}' has a malformed network record ({exc!r}); "
        f"expected toynn results"
    )


def load_sweep(run: RunFolder, rows: int | None) -> tuple[list[int], Networks, list[str]]:
    """Every network of a large sweep (results.json lists only its best), from its chunk
    files one at a time, kept as the sweep kept them: the ``rows`` networks a table shows
    (the first and last; None: all) and the best in full, the others' settings, errors
    and accuracies only."""
    kept = LargeSweep(rows, run.n_networks)
    done: dict[int, ChunkResult] = {}
    for path in chunk_files(run):
        result = _chunk(path)
        kept.add(result)
        done[result.chunk.index] = result
    chunks = [done[i].chunk for i in sorted(done)]
    return collect(chunks, done, kept)


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


# --- every network of a run, one chunk at a time ----------------------------------------


def summaries(run: RunFolder) -> Iterator[tuple[NetworkSpec, float, str]]:
    """``(settings, final error, status)`` of every network of the run, in grid order,
    read one chunk at a time for a large sweep (whose results.json lists only its
    best networks)."""
    records = require_results(run)
    if not run.summarised:
        for record in records:
            try:
                spec = axes.read(record)
                yield spec, _float(record["final_error"]), str(record["status"])
            except (KeyError, TypeError, ValueError) as exc:
                raise _malformed(run, exc) from None
        return
    for path in chunk_files(run):
        chunk = _chunk(path)
        errors = chunk.batch.final_error.tolist()
        for spec, error, status in zip(chunk.batch.specs, errors, chunk.statuses.tolist()):
            yield spec, float(error), str(status)


def _chunk(path: Path) -> ChunkResult:
    try:
        return load_chunk(path)
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise NotARunError(f"cannot read '{path}' ({exc}); expected a toynn chunk file") from None


def chunk_files(run: RunFolder) -> list[Path]:
    """The run's chunk files, in grid order; every chunk run.json counts must be there."""
    folder = run.path / CHUNKS
    paths = sorted(folder.glob("[0-9]*.npz")) if folder.is_dir() else []
    expected = run.info.get("chunks")
    if isinstance(expected, int) and len(paths) != expected:
        raise NotARunError(
            f"'{folder}' holds {len(paths)} chunk files; expected {expected} (run.json's "
            f"'chunks'): the run's networks cannot all be read"
        )
    return paths
