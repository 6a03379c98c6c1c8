"""Chunk files (``chunks/00000.npz``): one trained batch each, column-wise, written as
soon as it finishes so that an interrupted run resumes from them. No pickles.

Since format 3 the archive's entries are deflated, and the error history is kept at
float32 precision unless the run asked for its full precision (``--full-history``).
Since format 4 every float64 array is stored as its eight byte planes
(``<name>_planes``, :func:`byte_planes`: the sign and exponent bytes of many numbers
side by side, which deflate packs), and the float32 history as third differences
(``history_float32_delta3``; format 3: second differences, ``history_errors_float32``;
:func:`encode_history`). Since format 5 the initial weights (``W<k>_initial``) are left
out when the networks' seeds and inits give them again bit for bit
(:func:`toynn_cli.core.network.seeded_weight_rows`, checked as the file is written):
W4's were 113 of its 496 MB. :func:`load_chunk` reads every format back to the arrays
as trained, the history as float64.
"""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from toynn_cli.core import network
from toynn_cli.core.network import BatchResult, NetworkSpec
from toynn_cli.run.executor import Chunk, ChunkResult
from toynn_cli.store.results import ZIP_TIME, put_layers


def chunk_npz(result: ChunkResult, history: str = "float32") -> bytes:
    """A trained chunk as .npz bytes (see :func:`write_chunk`)."""
    buffer = io.BytesIO()
    write_chunk(result, buffer, history)
    return buffer.getvalue()


#: how a chunk file keeps the error history: ``float32`` (the default, coded:
#: ``history_errors_float32``) or ``float64`` (``--full-history``: ``history_errors``)
HISTORY_PRECISIONS = ("float32", "float64")


def rounded_history(errors: np.ndarray) -> np.ndarray:
    """The error history as a float32 chunk file keeps it: each error rounded to the
    nearest float32 (beyond float32's range, about 3.4e38, infinite), as float64."""
    with np.errstate(all="ignore"):
        return np.asarray(errors, dtype=np.float64).astype(np.float32).astype(np.float64)


#: the entry suffix of a float64 array stored as byte planes (format 4)
PLANES = "_planes"
#: the float32 history's entry by the order of its differences: 2 in format 3, 3 since
HISTORY_ENTRIES = {2: "history_errors_float32", 3: "history_float32_delta3"}


def byte_planes(values: np.ndarray) -> np.ndarray:
    """A float64 array as its eight byte planes, shape (8, *values.shape), least
    significant first: plane 7 holds every number's sign and top exponent bits, plane
    6 the rest of the exponent and the top of the mantissa, so deflate finds them
    repeated where it finds nothing in interleaved numbers (W4's weights and outputs:
    8-10 % smaller). Lossless; :func:`from_byte_planes` inverts it."""
    raw = np.ascontiguousarray(values, dtype="<f8").view(np.uint8)
    return np.ascontiguousarray(np.moveaxis(raw.reshape(*values.shape, 8), -1, 0))


def from_byte_planes(planes: np.ndarray) -> np.ndarray:
    """:func:`byte_planes`' array back, bit for bit."""
    return np.ascontiguousarray(np.moveaxis(planes, 0, -1)).view("<f8")[..., 0].astype(np.float64)


def encode_history(errors: np.ndarray, order: int) -> np.ndarray:
    """(networks, points) errors rounded to float32, coded so that deflate packs them
    tightly (200 points of a smooth curve: about 90 bytes): the float32 bit patterns'
    ``order``-th differences along the history (modulo 2^32), zigzag-mapped (small
    negative differences become small numbers), as four byte planes, shape (4,
    networks, points), least significant first. Lossless for the float32 values;
    :func:`decode_history` inverts it."""
    with np.errstate(all="ignore"):
        bits = np.array(errors, dtype=np.float32).view(np.uint32)  # a copy: changed below
    spare = np.empty_like(bits)  # the differences in place, two buffers taking turns
    for _ in range(order):
        spare[:, :1] = bits[:, :1]
        np.subtract(bits[:, 1:], bits[:, :-1], out=spare[:, 1:])
        bits, spare = spare, bits
    signed, sign = bits.view(np.int32), spare.view(np.int32)
    np.right_shift(signed, 31, out=sign)
    np.left_shift(signed, 1, out=signed)
    np.bitwise_xor(signed, sign, out=signed)
    zigzag = bits.astype("<u4", copy=False)
    return np.ascontiguousarray(np.moveaxis(zigzag.view(np.uint8).reshape(*bits.shape, 4), -1, 0))


def decode_history(planes: np.ndarray, order: int) -> np.ndarray:
    """:func:`encode_history`'s errors back, as float64 (each exactly a float32)."""
    zigzag = np.ascontiguousarray(np.moveaxis(planes, 0, -1)).view("<u4")[..., 0].astype(np.uint32)
    bits = (zigzag >> np.uint32(1)) ^ (np.uint32(0) - (zigzag & np.uint32(1)))
    for _ in range(order):
        bits = np.cumsum(bits, axis=1, dtype=np.uint32)
    return bits.view(np.float32).astype(np.float64)


def write_chunk(result: ChunkResult, handle: BinaryIO, history: str = "float32") -> None:
    """A trained chunk as an .npz archive written to ``handle`` (batch axis first in
    every per-network array), its entries deflated; ``history``: the error history's
    precision (HISTORY_PRECISIONS)."""
    batch = result.batch
    arrays: dict[str, np.ndarray] = {
        "chunk": np.array([result.chunk.index, result.chunk.start, result.chunk.stop]),
        "iterations": np.array(batch.iterations),
        "checkpoint_iterations": batch.checkpoint_iterations,
        "checkpoint_errors": batch.checkpoint_errors,
        "final_error": batch.final_error,
        "history_iterations": batch.history_iterations,
        "outputs": batch.outputs,
        "status": result.statuses.astype(str),
    }
    if history == "float64":
        arrays["history_errors"] = batch.history_errors
    else:
        arrays[HISTORY_ENTRIES[3]] = encode_history(batch.history_errors, 3)
    if batch.stopped_at is not None:
        arrays["stopped_at"] = batch.stopped_at
    if batch.final_accuracy is not None:
        arrays["checkpoint_accuracy"] = batch.checkpoint_accuracy
        arrays["final_accuracy"] = batch.final_accuracy
    for k, a in enumerate(batch.batch_norm or []):
        arrays[f"bn{k}"] = a
    arrays.update(_spec_columns(batch.specs))
    put_layers(arrays, "", batch.weights_initial, batch.weights, batch.direction_changes)
    if _derivable(arrays):  # drawn again on reading (format 5)
        for k in range(len(batch.weights_initial)):
            del arrays[f"W{k}_initial"]
    with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        for name, value in arrays.items():
            entry = io.BytesIO()
            np.lib.format.write_array(entry, _packed(value), allow_pickle=False)
            archive.writestr(
                zipfile.ZipInfo(f"{_stored(name, value)}.npy", ZIP_TIME),
                entry.getbuffer(),
                compress_type=zipfile.ZIP_DEFLATED if _level(name) else zipfile.ZIP_STORED,
                compresslevel=_level(name) or None,
            )


#: deflate's level for a chunk file's entries (what np.savez_compressed writes: 6), 0
#: for stored, not deflated: the trained weights and outputs, whose byte planes are
#: mostly noise (deflate took 0.24 s of a W4 chunk of 68493 networks for 12 %), the
#: errors at 1, the float32 history at 1 (5: 0.61 s instead of 0.26, 18 % smaller);
#: W4's folder 386 -> 421 MB, about 9 s less of the saving thread's work
_STORED = ("W", "outputs")
_FAST = ("checkpoint_errors", "final_error", HISTORY_ENTRIES[3])


def _level(name: str) -> int:
    if name.startswith(_STORED):
        return 0
    return 1 if name.startswith(_FAST) else 6


def _stored(name: str, value: np.ndarray) -> str:
    return name + PLANES if value.dtype == np.float64 else name


def _packed(value: np.ndarray) -> np.ndarray:
    return byte_planes(value) if value.dtype == np.float64 else value


def _spec_columns(specs: Sequence[NetworkSpec]) -> dict[str, np.ndarray]:
    """The specs field by field, one entry a field: ``spec_<field>``, or
    ``spec_<field>_json`` (layer lists and hyperparameter pairs: one JSON text a
    network, no pickles). Alpha and seed network by network; every other field once a
    run of :func:`network.runs` (they are the run's) and repeated: the same arrays, from
    a handful of specs instead of every one (W4's chunks: 1.2 million reads each)."""
    lengths = [stop - start for start, stop in network.runs(specs)]
    heads = network.heads(specs)
    out: dict[str, np.ndarray] = {}
    for field in dataclasses.fields(NetworkSpec):
        each = field.name in network.PER_NETWORK
        values = [getattr(s, field.name) for s in (specs if each else heads)]
        if any(isinstance(v, tuple) for v in values):
            key, column = f"spec_{field.name}_json", np.array(_json_texts(values))
        else:
            key, column = f"spec_{field.name}", np.array(values)
        out[key] = column if each else np.repeat(column, lengths)
    return out


def _json_texts(values: list[Any]) -> list[str]:
    """Each value as JSON, each distinct one encoded once (keyed by repr, which tells
    1 from 1.0 and True, as JSON does)."""
    texts: dict[str, str] = {}
    out = []
    for v in values:
        key = repr(v)
        text = texts.get(key)
        if text is None:
            text = texts[key] = json.dumps(v)
        out.append(text)
    return out


def _tuples(value: Any) -> Any:
    """JSON lists back to the tuples a NetworkSpec holds (8x4, ((key, value), ...))."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def read_arrays(path: Path) -> dict[str, np.ndarray]:
    """A chunk file's arrays by name, as trained, whatever format wrote it: byte
    planes joined again, the float32 history decoded to float64 under
    ``history_errors`` (no pickles: ``allow_pickle=False``)."""
    out: dict[str, np.ndarray] = {}
    with np.load(path, allow_pickle=False) as archive:
        for key in archive.files:
            if key.endswith(PLANES):
                out[key.removesuffix(PLANES)] = from_byte_planes(archive[key])
            else:
                out[key] = archive[key]
    for order, key in HISTORY_ENTRIES.items():
        if key in out:
            out["history_errors"] = decode_history(out.pop(key), order)
    if "W0" in out and "W0_initial" not in out:  # format 5: drawn again from the seeds
        out.update(_derived_initial(out))
    return out


def _derived_initial(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``W<k>_initial`` of a chunk's networks drawn again from their seeds and inits
    (network.seeded_weight_rows), the layer sizes read off the trained ``W<k>``."""
    layers = [arrays[f"W{k}"] for k in range(sum(1 for key in arrays if key.startswith("changes")))]
    bias = bool(arrays["spec_bias"][0]) if len(arrays["spec_bias"]) else False
    sizes = [layers[0].shape[1] - bias, *(w.shape[2] for w in layers)]
    keys = list(zip(arrays["spec_seed"].tolist(), arrays["spec_init"].tolist()))
    rows = network.seeded_weight_rows(keys, sizes, bias)
    return {
        f"W{k}_initial": np.ascontiguousarray(w)
        for k, w in enumerate(network.weight_layers(rows, sizes, bias))
    }


def _derivable(arrays: dict[str, np.ndarray]) -> bool:
    """Whether drawing the arrays' ``W<k>_initial`` again from the seeds gives them bit
    for bit (every engine draws them so; a chunk whose weights came from elsewhere keeps
    its own)."""
    stored = {key: value for key, value in arrays.items() if key.endswith("_initial")}
    derived = _derived_initial(arrays)
    return stored.keys() == derived.keys() and all(
        stored[key].shape == derived[key].shape
        and np.array_equal(stored[key].view(np.uint64), derived[key].view(np.uint64))
        for key in stored
    )


def load_chunk(path: Path) -> ChunkResult:
    """Read a chunk file written by :func:`chunk_npz`, of any format."""
    data = read_arrays(path)
    index, start, stop = (int(v) for v in data["chunk"])
    names = [f.name for f in dataclasses.fields(NetworkSpec)]
    columns = [
        [_tuples(json.loads(v)) for v in data[f"spec_{name}_json"].tolist()]
        if f"spec_{name}_json" in data
        else data[f"spec_{name}"].tolist()
        for name in names
    ]
    specs = [NetworkSpec(**dict(zip(names, row))) for row in zip(*columns)]
    n_layers = sum(1 for key in data if key.startswith("changes"))
    n_bn = sum(1 for key in data if key.startswith("bn"))
    batch = BatchResult(
        specs=specs,
        iterations=int(data["iterations"]),
        checkpoint_iterations=data["checkpoint_iterations"],
        checkpoint_errors=data["checkpoint_errors"],
        final_error=data["final_error"],
        history_iterations=data["history_iterations"],
        history_errors=data["history_errors"],
        weights_initial=[data[f"W{k}_initial"] for k in range(n_layers)],
        weights=[data[f"W{k}"] for k in range(n_layers)],
        direction_changes=[data[f"changes{k}"] for k in range(n_layers)],
        outputs=data["outputs"],
        stopped_at=data.get("stopped_at"),
        batch_norm=[data[f"bn{k}"] for k in range(n_bn)] if n_bn else None,
        # absent from chunk files written before accuracy was recorded
        checkpoint_accuracy=data["checkpoint_accuracy"] if "final_accuracy" in data else None,
        final_accuracy=data.get("final_accuracy"),
    )
    return ChunkResult(Chunk(index, start, stop), batch, data["status"])
