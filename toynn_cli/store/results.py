"""Results as data: the JSON document, the weights archive (metrics.csv:
store/metrics.py; chunk files: store/chunks.py), and a run's finished networks in memory
(``Networks``; ``LargeSweep`` for sweeps too large to keep whole).

Floats are written so they round-trip exactly (Python's shortest ``repr``). JSON has no
NaN or infinity: non-finite numbers are written as the strings ``"NaN"``,
``"Infinity"`` and ``"-Infinity"`` (``float()`` reads all three back).
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import secrets
import struct
import zipfile
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from toynn_cli import __version__, axes
from toynn_cli.analysis import ensemble, status
from toynn_cli.core import network
from toynn_cli.core.network import BatchResult, NetworkResult, NetworkSpec
from toynn_cli.run.executor import Chunk, ChunkResult
from toynn_cli.store import runs


def number(value: float) -> float | str:
    """A float for JSON: itself when finite, else "NaN", "Infinity" or "-Infinity"."""
    value = float(value)
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def numbers(array: np.ndarray) -> list:
    """An array as (nested) lists for JSON, non-finite floats as :func:`number`'s
    strings; one ``tolist`` and no per-number work when every number is finite."""
    values = array.tolist()
    if array.dtype.kind in "iub" or np.isfinite(array).all():
        return values
    return _named(values)


def _named(values: Any) -> Any:
    if isinstance(values, list):
        return [_named(v) for v in values]
    return number(values)


def _matrix(array: np.ndarray) -> list:
    return numbers(array)


def settings(spec: NetworkSpec) -> dict[str, Any]:
    """A network's settings as its JSON record's fields (see :func:`axes.record`)."""
    return axes.record(spec)


def network_record(result: NetworkResult, status: str, dataset: str) -> dict[str, Any]:
    """One network as a JSON-ready mapping."""
    spec = result.spec
    checkpoints: list[dict[str, Any]] = [
        {"iteration": j, "error": e}
        for j, e in zip(
            np.asarray(result.checkpoint_iterations).tolist(),
            numbers(np.asarray(result.checkpoint_errors, dtype=np.float64)),
        )
    ]
    if result.checkpoint_accuracy is not None:  # classification targets only
        for entry, a in zip(checkpoints, numbers(result.checkpoint_accuracy)):
            entry["accuracy"] = a
    return {
        **axes.record(spec),
        "dataset": dataset,
        "iterations": result.iterations,
        "checkpoints": checkpoints,
        "final_error": number(result.final_error),
        # classification targets (all 0 or 1) only; null otherwise
        "final_accuracy": None if result.final_accuracy is None else number(result.final_accuracy),
        "stopped_at": result.stopped_at,
        "status": status,
        "history": {
            "iterations": result.history_iterations.tolist(),
            "errors": numbers(result.history_errors),
        },
        "weights_initial": [_matrix(w) for w in result.weights_initial],
        "weights": [_matrix(w) for w in result.weights],
        "direction_changes": [_matrix(c) for c in result.direction_changes],
        "outputs": _matrix(result.outputs),
        # per hidden layer: gamma, beta, running_mean, running_var (null without it)
        "batch_norm_state": None
        if result.batch_norm is None
        else [
            {key: [number(v) for v in a] for key, a in layer.items()} for layer in result.batch_norm
        ],
    }


def head(experiment: dict[str, Any], run_dir: str | None, complete: bool) -> dict[str, Any]:
    """What every results document starts with: the format, the version, the config,
    the folder and whether the run finished (a full document without its ``networks``,
    for :func:`to_json` with ``lines``)."""
    return {
        "format": runs.FORMAT,
        "toynn_version": __version__,
        "experiment": experiment,
        "run_dir": run_dir,
        "complete": complete,
    }


def document(
    experiment: dict[str, Any],
    run_dir: str | None,
    results: Sequence[NetworkResult],
    statuses: Sequence[str],
    dataset: str,
    complete: bool = True,
) -> dict[str, Any]:
    """The object printed by ``--json`` and saved as results.json."""
    if isinstance(results, Networks) and not results._kept:
        batches = [r.batch for r in results._chunks]
        records = [rec for b in batches for rec in batch_records(b, dataset)]
        for record, label in zip(records, statuses):
            record["status"] = label
    else:
        records = [network_record(r, s, dataset) for r, s in zip(results, statuses)]
    return {**head(experiment, run_dir, complete), "networks": records}


def batch_records(batch: BatchResult, dataset: str) -> list[dict[str, Any]]:
    """Every network of ``batch`` as :func:`network_record` makes it (``status``: None,
    for the caller to fill in), made column-wise: one ``tolist`` per array of the batch
    instead of several per network (7000 networks: 1.5 s -> 0.3 s)."""
    if batch.batch_norm is not None:  # the NumPy engine's batch norm: one at a time
        return [network_record(batch.network(b), None, dataset) for b in range(len(batch))]
    n = len(batch)
    checks = np.asarray(batch.checkpoint_iterations).tolist()
    check_errors = numbers(np.asarray(batch.checkpoint_errors, dtype=np.float64))
    final_errors = numbers(np.asarray(batch.final_error, dtype=np.float64))
    if batch.final_accuracy is None:
        classified = [False] * n
        check_acc: list = [None] * n
        final_acc: list = [None] * n
    else:
        classified = (~np.isnan(batch.final_accuracy)).tolist()
        check_acc = numbers(np.asarray(batch.checkpoint_accuracy))
        final_acc = numbers(np.asarray(batch.final_accuracy))
    stopped = [None] * n if batch.stopped_at is None else batch.stopped_at.tolist()
    history_its = batch.history_iterations.tolist()
    history = numbers(batch.history_errors)
    initial = [numbers(w) for w in batch.weights_initial]
    final = [numbers(w) for w in batch.weights]
    changes = [numbers(c) for c in batch.direction_changes]
    outputs = numbers(batch.outputs)
    settings_of: dict[NetworkSpec, dict[str, Any]] = {}  # the settings but the seed, once
    records = []
    for b, spec in enumerate(batch.specs):
        key = dataclasses.replace(spec, seed=0)
        if key not in settings_of:
            settings_of[key] = axes.record(key)
        fields = {**settings_of[key], "seed": spec.seed}
        checkpoints: list[dict[str, Any]] = [
            {"iteration": j, "error": e} for j, e in zip(checks, check_errors[b])
        ]
        if classified[b]:
            for entry, a in zip(checkpoints, check_acc[b]):
                entry["accuracy"] = a
        records.append(
            {
                **fields,
                "dataset": dataset,
                "iterations": batch.iterations,
                "checkpoints": checkpoints,
                "final_error": final_errors[b],
                "final_accuracy": final_acc[b] if classified[b] else None,
                "stopped_at": None if stopped[b] is None or stopped[b] < 0 else stopped[b],
                "status": None,
                "history": {"iterations": list(history_its), "errors": history[b]},
                "weights_initial": [w[b] for w in initial],
                "weights": [w[b] for w in final],
                "direction_changes": [c[b] for c in changes],
                "outputs": outputs[b],
                "batch_norm_state": None,
            }
        )
    return records


#: Above this many networks, results.json and --json summarise instead of listing every
#: network (the arrays are in the chunk files), and weights.npz is not written.
FULL_RECORDS_LIMIT = 10_000
BEST_LISTED = 10


def detached(result: NetworkResult) -> NetworkResult:
    """A copy of a network's record that owns its arrays (a batch's network(b) gives
    views, which keep the whole batch alive)."""

    def own(a: Any) -> Any:
        return None if a is None else np.array(a, copy=True)

    return dataclasses.replace(
        result,
        checkpoint_errors=own(result.checkpoint_errors),
        history_errors=own(result.history_errors),
        weights_initial=[own(w) for w in result.weights_initial],
        weights=[own(w) for w in result.weights],
        direction_changes=[own(c) for c in result.direction_changes],
        outputs=own(result.outputs),
        batch_norm=None
        if result.batch_norm is None
        else [{k: own(v) for k, v in layer.items()} for layer in result.batch_norm],
        checkpoint_accuracy=own(result.checkpoint_accuracy),
    )


def slim(batch: BatchResult) -> BatchResult:
    """The batch without what a large sweep's report never reads of most networks
    (weights, direction counts, outputs, error histories, batch norm): their specs,
    checkpoint and final errors, accuracies and stop iterations stay. The chunk file
    keeps everything."""
    n = len(batch)
    return dataclasses.replace(
        batch,
        history_iterations=np.empty(0, dtype=np.int64),
        history_errors=np.empty((n, 0)),
        weights_initial=[],
        weights=[],
        direction_changes=[],
        outputs=np.empty((n, 0, 0)),
        batch_norm=None,
    )


def summary_document(
    experiment: dict[str, Any],
    run_dir: str | None,
    results: Sequence[NetworkResult],
    statuses: Sequence[str],
    dataset: str,
    complete: bool = True,
) -> dict[str, Any]:
    """The JSON document of a large sweep: status counts, the best networks in full, and
    one row per (alpha, hidden) cell; every network's arrays are in chunks/*.npz."""
    errors = getattr(results, "final_errors", None)  # a run's Networks: a column
    if errors is None:
        errors = np.array([r.final_error for r in results])
    ranked = np.argsort(np.where(np.isfinite(errors), errors, np.inf), kind="stable")
    labels = np.array(statuses)
    best = [network_record(results[int(i)], str(labels[i]), dataset) for i in ranked[:BEST_LISTED]]
    for record, i in zip(best, ranked[:BEST_LISTED]):
        record["network"] = int(i)
    return {
        **head(experiment, run_dir, complete),
        "networks_total": len(results),
        "status_counts": {
            s: int((labels == s).sum()) for s in ("converged", "learning", "stuck", "diverged")
        },
        "best": best,
        "cells": cells(results, labels, errors),
        "networks": None,
        "arrays": "chunks/*.npz (one file per chunk; see docs/run-folders.md)",
    }


def cells(results: Sequence[NetworkResult], labels: np.ndarray, errors: np.ndarray) -> list[dict]:
    """Per cell (every setting but the seed) over its seeds: networks, final error
    median/min/max, and status counts; settings listed when a sweep varies them."""
    specs = results.specs() if hasattr(results, "specs") else [r.spec for r in results]
    found = ensemble.cells(results, list(labels), errors, specs)
    plain = all(c.key == NetworkSpec(c.alpha, c.hidden, 0) for c in found)
    return [
        {
            "alpha": c.alpha,
            "hidden": list(c.hidden) if isinstance(c.hidden, tuple) else c.hidden,
            **({} if plain else settings(c.key)),
            "networks": len(c.seeds),
            "final_error_median": number(c.median),
            "final_error_min": number(c.min),
            "final_error_max": number(c.max),
            **{s: c.statuses.count(s) for s in ("converged", "learning", "stuck", "diverged")},
        }
        for c in found
    ]


def to_json(doc: dict[str, Any], lines: Sequence[str] | None = None) -> str:
    """results.json's text: the document indented, but each network record of
    ``networks`` on one line (JSON's compact encoder is C, the indenting one Python:
    7000 records took 6 s indented, under a second this way; the file is a third of
    the size). ``lines``: the records already encoded, chunk by chunk
    (:func:`record_lines`), in place of the document's ``networks``. Strict: a stray
    NaN is a bug here, not output."""
    if lines is None:
        records = doc.get("networks")
        if not isinstance(records, list) or not records:
            return json.dumps(doc, indent=1, allow_nan=False) + "\n"
        lines = [_encoded(records)]
    elif not lines:
        return json.dumps({**doc, "networks": []}, indent=1, allow_nan=False) + "\n"
    marker = f"networks {secrets.token_hex(8)}"  # a placeholder no document holds
    text = json.dumps({**doc, "networks": marker}, indent=1, allow_nan=False)
    joined = ",\n  ".join(lines)
    return text.replace(json.dumps(marker), f"[\n  {joined}\n ]", 1) + "\n"


def record_lines(result: ChunkResult, dataset: str) -> str:
    """A trained chunk's network records as results.json lists them (:func:`to_json`),
    their statuses filled in: made as the chunk is saved, on the saving thread, while
    the next chunk trains (7000 networks: about 0.5 s of JSON a chunk of 3500)."""
    records = batch_records(result.batch, dataset)
    for record, label in zip(records, result.statuses.tolist(), strict=True):
        record["status"] = label
    return _encoded(records)


def _encoded(records: list[dict[str, Any]]) -> str:
    # network records a line each, as results.json lists them (strict: no NaN)
    return ",\n  ".join(json.dumps(r, allow_nan=False) for r in records)


def weights_npz(results: Sequence[NetworkResult], indices: Sequence[int] | None = None) -> bytes:
    """Every network's arrays, keyed ``n<i>_W<k>``, ``n<i>_W<k>_initial``,
    ``n<i>_changes<k>`` (``i``: the network's index in the grid, as in metrics.csv),
    plus ``network``, ``alpha``, ``hidden`` and ``seed`` vectors, one entry per network."""
    numbers = list(indices) if indices is not None else list(range(len(results)))
    # a run's Networks has its specs as a column: no record made for them (7000: 0.6 s)
    specs = results.specs() if hasattr(results, "specs") else [r.spec for r in results]
    arrays: dict[str, np.ndarray] = {
        "network": np.array(numbers, dtype=np.int64),
        "alpha": np.array([s.alpha for s in specs], dtype=np.float64),
        # hidden sizes as numbers, or as text (8x4) when a network has several layers
        "hidden": np.array([s.hidden for s in specs], dtype=np.int64)
        if all(isinstance(s.hidden, int) for s in specs)
        else np.array([axes.show_hidden(s.hidden) for s in specs]),
        "seed": np.array([s.seed for s in specs], dtype=np.int64),
    }
    for i, r in zip(numbers, results):
        put_layers(arrays, f"n{i}_", r.weights_initial, r.weights, r.direction_changes)
    return _npz_bytes(arrays, compressed=False)


def put_layers(
    arrays: dict[str, np.ndarray],
    prefix: str,
    initial: Sequence[np.ndarray],
    final: Sequence[np.ndarray],
    changes: Sequence[np.ndarray],
) -> None:
    """Each layer's arrays under ``<prefix>W<k>``, ``<prefix>W<k>_initial`` and
    ``<prefix>changes<k>``."""
    for k, (w0, w, c) in enumerate(zip(initial, final, changes)):
        arrays[f"{prefix}W{k}"] = w
        arrays[f"{prefix}W{k}_initial"] = w0
        arrays[f"{prefix}changes{k}"] = c


def _npz_bytes(arrays: dict[str, np.ndarray], compressed: bool) -> bytes:
    """An .npz archive (what ``np.savez`` writes, ``np.load`` reads) of many small
    arrays, each ``.npy`` header made once per dtype and shape. Without ``compressed``
    the entries are stored, not deflated (deflating an entry of a few hundred bytes
    saves little and costs a zlib stream each: 42000 entries took 4 s) and the archive
    is laid out here (zipfile's bookkeeping cost 25-35 us an entry)."""
    headers: dict[tuple[str, tuple[int, ...]], bytes] = {}
    entries: list[tuple[str, bytes]] = []
    for name, value in arrays.items():
        array = np.ascontiguousarray(value)
        key = (array.dtype.str, array.shape)
        if key not in headers:
            head = io.BytesIO()
            np.lib.format.write_array_header_1_0(
                head, np.lib.format.header_data_from_array_1_0(array)
            )
            headers[key] = head.getvalue()
        entries.append((f"{name}.npy", headers[key] + array.tobytes()))
    if not compressed:
        stored = _stored_zip(entries)
        if stored is not None:
            return stored
    buffer = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED
    with zipfile.ZipFile(buffer, "w", method, allowZip64=True) as archive:
        for name, data in entries:
            archive.writestr(zipfile.ZipInfo(name, ZIP_TIME), data)
    return buffer.getvalue()


#: entries' modification time: 1980-01-01 00:00 (zip's first date; the same bytes for
#: the same arrays)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_ZIP_LIMIT = 0xFFFF  # entries, and 0xFFFFFFFF bytes: beyond, zip64 (zipfile writes it)


def _stored_zip(entries: list[tuple[str, bytes]]) -> bytes | None:
    """A zip archive of ``entries`` (name, data), stored, as zipfile would write it
    (local headers, central directory, end record); None when it would need zip64."""
    total = sum(30 + len(name) + len(data) + 46 + len(name) for name, data in entries)
    if len(entries) >= _ZIP_LIMIT or total + 22 >= 0xFFFFFFFF:
        return None
    date, time = (1 << 5) | 1, 0  # 1980-01-01 00:00 in DOS form
    parts: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for name, data in entries:
        raw = name.encode("utf-8")
        flags = 0 if name.isascii() else 0x800  # bit 11: the name is UTF-8
        crc, size = zlib.crc32(data), len(data)
        fields = (crc, size, size, len(raw), 0)
        local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, 0, time, date, *fields)
        parts += [local, raw, data]
        # made by: zip 2.0 on Unix (3), so that the mode (external attributes) counts
        made = struct.pack("<IHHHHHH", 0x02014B50, (3 << 8) | 20, 20, flags, 0, time, date)
        central.append(made + struct.pack("<IIIHHHHHII", *fields, 0, 0, 0, 0o600 << 16, offset))
        central.append(raw)
        offset += len(local) + len(raw) + size
    directory = b"".join(central)
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(directory), offset, 0
    )
    return b"".join([*parts, directory, end])


# --- a run's networks in memory -----------------------------------------------------------


class Networks(Sequence[NetworkResult]):
    """The finished networks in grid order. Records are views made on demand, so a
    million-network sweep does not hold a million Python objects."""

    def __init__(
        self, ordered: list[ChunkResult], kept: dict[int, NetworkResult] | None = None
    ) -> None:
        self._chunks = ordered
        self._kept = kept or {}  # full records by grid index, of slimmed chunks (LargeSweep)
        self._ends = np.cumsum([len(r.chunk) for r in ordered], dtype=np.int64)
        self.final_errors = (
            np.concatenate([r.batch.final_error for r in ordered]) if ordered else np.empty(0)
        )

    def __len__(self) -> int:
        return int(self._ends[-1]) if len(self._ends) else 0

    def specs(self) -> list[NetworkSpec]:
        return network.joined([r.batch.specs for r in self._chunks])

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        i %= len(self)
        c = int(np.searchsorted(self._ends, i, side="right"))
        start = int(self._ends[c - 1]) if c else 0
        kept = self._kept.get(self._chunks[c].chunk.start + i - start)
        return kept if kept is not None else self._chunks[c].batch.network(i - start)


def collect(
    chunks: Sequence[Chunk], done: dict[int, ChunkResult], kept: LargeSweep | None = None
) -> tuple[list[int], Networks, list[str]]:
    """The finished networks of a grid's ``chunks`` in grid order: their grid indices,
    records and labels."""
    ordered = [done[c.index] for c in chunks if c.index in done]
    indices = [i for r in ordered for i in range(r.chunk.start, r.chunk.stop)]
    # one str object per label, not one per network (a million networks: 60 MB saved)
    label = {s: s for s in status.STATUSES}
    statuses = [label[s] for r in ordered for s in r.statuses.tolist()]
    return indices, Networks(ordered, kept.records if kept is not None else None), statuses


def shown_indices(n: int, rows: int | None) -> list[int]:
    """The networks a table of at most ``rows`` (None: all) shows of ``n``: all of
    them, or, as numpy prints a long array, the first ceil(rows / 2) and the last
    floor(rows / 2)."""
    if rows is None or n <= rows:
        return list(range(n))
    head = (rows + 1) // 2
    return [*range(head), *range(n - (rows - head), n)]


class LargeSweep:
    """What a sweep too large to keep in full (over FULL_RECORDS_LIMIT networks)
    keeps of each chunk as it arrives: in full, the ``rows`` networks the table shows
    of the grid's ``total`` (shown_indices: the first and last; None: all) and the
    BEST_LISTED best (the summary); of the others, only what the summary, the cells
    and metrics.csv read (slim). The chunk files keep everything."""

    def __init__(self, rows: int | None, total: int | None = None) -> None:
        self.rows = rows
        self.head = rows if rows is None or total is None else (rows + 1) // 2
        self.tail_from = total - (rows - self.head) if rows is not None and total else None
        self.records: dict[int, NetworkResult] = {}  # by grid index
        self.best: list[tuple[float, int]] = []  # (final error, NaN as inf; grid index)

    def add(self, result: ChunkResult) -> None:
        batch, start = result.batch, result.chunk.start
        errors = np.where(np.isfinite(batch.final_error), batch.final_error, np.inf)
        # the summary's ranking: lowest error first, ties in grid order
        order = np.argsort(errors, kind="stable")[:BEST_LISTED]
        self.best = sorted([*self.best, *((float(errors[b]), start + int(b)) for b in order)])
        self.best = self.best[:BEST_LISTED]
        wanted = {i for _, i in self.best}
        shown = [b for b in range(len(batch)) if self._shown(start + b)]
        for b in {*shown, *(int(b) for b in order if start + int(b) in wanted)}:
            self.records[start + b] = detached(batch.network(b))
        for i in [i for i in self.records if i not in wanted and not self._shown(i)]:
            del self.records[i]
        result.batch = slim(batch)

    def _shown(self, i: int) -> bool:
        if self.head is None:
            return True
        return i < self.head or (self.tail_from is not None and i >= self.tail_from)
