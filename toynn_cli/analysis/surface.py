"""The error surface: the error over a grid of two chosen weights, the others held.

Pure NumPy. Every grid point is one network of a batch (the batch axis of the
engine's weights), so the whole grid is evaluated by the training code's forward pass
(:func:`toynn_cli.core.evaluation.batch_errors`) in a few large batches.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from toynn_cli.core import evaluation, network

#: Grid points evaluated per batch: bounds the memory of a fine grid on a wide network.
CHUNK = 65_536
MAX_RESOLUTION = 1001
_NAME = re.compile(r"W(\d+)\[(\d+),\s*(\d+)\]")


class SurfaceError(ValueError):
    """A weight name or grid setting that cannot be used; the message says what was
    expected (the caller names the option)."""


@dataclass(frozen=True)
class WeightRef:
    """One weight: row ``row``, column ``col`` of layer ``layer`` (W0 is input side)."""

    layer: int
    row: int
    col: int

    @property
    def name(self) -> str:
        return f"W{self.layer}[{self.row},{self.col}]"


def weight_names(shapes: Sequence[tuple[int, int]]) -> list[str]:
    """Every weight of a network with these layer shapes, input side first."""
    return [
        WeightRef(k, r, c).name
        for k, (rows, cols) in enumerate(shapes)
        for r in range(rows)
        for c in range(cols)
    ]


def parse_weight(text: str, shapes: Sequence[tuple[int, int]]) -> WeightRef:
    """``W<layer>[<row>,<col>]`` checked against the network's layer shapes."""
    match = _NAME.fullmatch(text.strip())
    sizes = ", ".join(f"W{k} is {r} x {c}" for k, (r, c) in enumerate(shapes))
    if match is None:
        raise SurfaceError(
            f"{text!r} is not a weight name; expected W<layer>[<row>,<col>] such as "
            f"W0[0,0] ({sizes})"
        )
    ref = WeightRef(*(int(g) for g in match.groups()))
    if (
        ref.layer >= len(shapes)
        or ref.row >= shapes[ref.layer][0]
        or ref.col >= shapes[ref.layer][1]
    ):
        raise SurfaceError(f"{text!r} is not in this network; expected a weight of it ({sizes})")
    return ref


def default_weights(shapes: Sequence[tuple[int, int]]) -> tuple[WeightRef, WeightRef]:
    """The network's two weights, when it has exactly two (the tutorial's two-layer net)."""
    names = weight_names(shapes)
    if len(names) != 2:
        raise SurfaceError(
            f"the network has {len(names)} weights; expected two names such as "
            f"{names[0]} {names[1]} to pick the two to vary"
        )
    return parse_weight(names[0], shapes), parse_weight(names[1], shapes)


def axis(low: float, high: float, resolution: int) -> np.ndarray:
    """``resolution`` evenly spaced values from ``low`` to ``high``, both included."""
    return np.linspace(low, high, resolution)


def evaluate(
    x: np.ndarray,
    y: np.ndarray,
    base: Sequence[np.ndarray],
    a: WeightRef,
    b: WeightRef,
    values_a: np.ndarray,
    values_b: np.ndarray,
    chunk: int = CHUNK,
    spec: network.NetworkSpec | None = None,
) -> np.ndarray:
    """The error with weight ``a`` at each of ``values_a`` and ``b`` at each of
    ``values_b``, every other weight as in ``base``. Shape (len(values_b), len(values_a)):
    row ``i`` holds ``b = values_b[i]``, column ``j`` holds ``a = values_a[j]``."""
    if a == b:
        raise SurfaceError(f"{a.name} twice; expected two different weights")
    grid_b, grid_a = np.meshgrid(values_b, values_a, indexing="ij")
    flat_a, flat_b = grid_a.ravel(), grid_b.ravel()
    errors = np.empty(flat_a.size)
    for start in range(0, flat_a.size, chunk):
        stop = min(start + chunk, flat_a.size)
        n = stop - start
        batch = [np.repeat(np.asarray(w, dtype=np.float64)[:, :, None], n, axis=2) for w in base]
        batch[a.layer][a.row, a.col, :] = flat_a[start:stop]
        batch[b.layer][b.row, b.col, :] = flat_b[start:stop]
        errors[start:stop] = (
            evaluation.batch_errors(x, y, batch)
            if spec is None
            else evaluation.batch_errors(x, y, batch, spec.bias, spec.activation)
        )
    return errors.reshape(len(values_b), len(values_a))


@dataclass
class Surface:
    """An evaluated surface and the training path drawn on it."""

    a: WeightRef
    b: WeightRef
    values_a: np.ndarray  # (N,)
    values_b: np.ndarray  # (M,)
    errors: np.ndarray  # (M, N): row i is b = values_b[i]
    held: str  # "trained" or "initial": what the other weights are
    path_iterations: np.ndarray  # (T,)
    path_a: np.ndarray  # (T,) weight a along training
    path_b: np.ndarray  # (T,)
    path_errors: np.ndarray  # (T,) the network's error at each recorded point

    def lowest(self) -> tuple[float, float, float]:
        """(a, b, error) of the grid point with the lowest error (NaN ignored)."""
        i, j = np.unravel_index(np.nanargmin(self.errors), self.errors.shape)
        return float(self.values_a[j]), float(self.values_b[i]), float(self.errors[i, j])


def shapes(n_inputs: int, spec: network.NetworkSpec, n_outputs: int) -> list[tuple[int, int]]:
    """The network's weight matrices' shapes (a bias row under each, with bias)."""
    sizes = network.layer_sizes(n_inputs, spec.hidden, n_outputs)
    extra = 1 if spec.bias else 0
    return [(sizes[k] + extra, sizes[k + 1]) for k in range(len(sizes) - 1)]


def unsupported(spec: network.NetworkSpec) -> str | None:
    """Why the surface of this network cannot be drawn, or None."""
    if spec.batch_norm:
        return (
            "batch norm is on; expected batch_norm false (a network's error then depends "
            "on its running statistics, not only on its weights)"
        )
    return None


def compute(
    x: np.ndarray,
    y: np.ndarray,
    spec: network.NetworkSpec,
    iterations: int,
    a: WeightRef | None,
    b: WeightRef | None,
    low: float,
    high: float,
    resolution: int,
    held: str = "trained",
    record_every: int = 0,
) -> Surface:
    """Train the network (recording its path at :func:`network.history_schedule`'s
    iterations for ``record_every``) by the engine, with every setting it has, then
    evaluate the surface with its bias and activation."""
    if not 2 <= resolution <= MAX_RESOLUTION:
        raise SurfaceError(f"{resolution}; expected a whole number from 2 to {MAX_RESOLUTION}")
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise SurfaceError(f"{low:g} {high:g}; expected two finite numbers LOW < HIGH")
    if a is None or b is None:
        a, b = default_weights(shapes(x.shape[1], spec, y.shape[1]))
    record = network.history_schedule(iterations, record_every)
    its, path = evaluation.weight_path(x, y, spec, iterations, record)
    base = [w[-1] if held == "trained" else w[0] for w in path]
    values_a, values_b = axis(low, high, resolution), axis(low, high, resolution)
    errors = evaluate(x, y, base, a, b, values_a, values_b, spec=spec)
    stacked = [np.moveaxis(w, 0, -1) for w in path]  # the path as a batch: (n_k, n_k+1, T)
    return Surface(
        a=a,
        b=b,
        values_a=values_a,
        values_b=values_b,
        errors=errors,
        held=held,
        path_iterations=its,
        path_a=path[a.layer][:, a.row, a.col].copy(),
        path_b=path[b.layer][:, b.row, b.col].copy(),
        path_errors=evaluation.batch_errors(x, y, stacked, spec.bias, spec.activation),
    )


def grid_csv_rows(surface: Surface) -> list[tuple[str, str, str]]:
    """One row per grid point: a, b, error (floats that round-trip)."""
    rows = []
    for i, vb in enumerate(surface.values_b.tolist()):
        for j, va in enumerate(surface.values_a.tolist()):
            rows.append((repr(va), repr(vb), repr(float(surface.errors[i, j]))))
    return rows
