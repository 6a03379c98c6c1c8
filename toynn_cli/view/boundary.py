"""The decision boundary figure: a network's output over the plane of two varying
inputs (others sliced or held at their mean), its 0.5 contour and the samples; and the
picture of a dataset's points. Each function returns the bytes of one image file."""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Sequence

import numpy as np

from toynn_cli import axes
from toynn_cli.core import evaluation
from toynn_cli.core.network import NetworkResult
from toynn_cli.view.figure import FIG_SIZE, pyplot, save


def varying_inputs(x: np.ndarray) -> list[int]:
    """The input columns that are not constant (xor's third input, always 1, is the
    tutorial's bias stand-in)."""
    return [c for c in range(x.shape[1]) if np.ptp(x[:, c]) > 0]


BOUNDARY_RESOLUTION = 200
#: Beyond the two inputs drawn, other varying inputs that each take two values (bits,
#: as in parity3) are drawn as slices, one panel per combination, up to this many;
#: otherwise they are held at their mean.
MAX_SLICES = 4
#: About how many characters of the title fit over one boundary panel.
TITLE_CHARS = 48


def _names(columns: Sequence[int]) -> str:
    """``input 2`` or ``inputs 2, 3``."""
    return ("input " if len(columns) == 1 else "inputs ") + ", ".join(map(str, columns))


def _value(v: float) -> str:
    return f"{v:.3g}"


def boundary_layout(x: np.ndarray) -> tuple[list[int], list[dict[int, float]], str]:
    """How :func:`decision_boundary` draws inputs ``x``: the (one or two) input columns
    on its axes, the slices (each: the value every other varying input is held at; one
    panel each) and the sentence that says so, for the figure's title.

    - one varying input: the output along it;
    - two: the output over their plane (constant inputs at their value, always);
    - more: the plane of the first two, with the others at each combination of their
      two values when they all have two (at most :data:`MAX_SLICES` panels), else at
      their mean.
    """
    cols = varying_inputs(x)
    if not cols:
        raise ValueError("the dataset has no varying inputs; expected at least one")
    if len(cols) == 1:
        return cols, [{}], f"output along input {cols[0]}, the one varying input"
    shown, rest = cols[:2], cols[2:]
    over = f"output over inputs {shown[0]} and {shown[1]}"
    if not rest:
        return shown, [{}], ""
    levels = [np.unique(x[:, c]) for c in rest]
    if all(len(v) == 2 for v in levels) and 2 ** len(rest) <= MAX_SLICES:
        combos = itertools.product(*[[float(a) for a in v] for v in levels])
        slices = [dict(zip(rest, combo)) for combo in combos]
        return shown, slices, f"{over}, a slice at each value of {_names(rest)}"
    means = {c: float(x[:, c].mean()) for c in rest}
    if len(rest) <= 3:
        at = ", ".join(_value(v) for v in means.values())
        held = f"{_names(rest)} at {'its mean' if len(rest) == 1 else 'their means'} ({at})"
    else:
        held = f"the other {len(rest)} varying inputs at their means"
    return shown, [means], f"{over}, {held}"


#: How far the boundary's grid reaches beyond the samples, on each side of each input.
BOUNDARY_PAD = 0.5


def boundary_grids(x: np.ndarray, shown: Sequence[int]) -> tuple[list[np.ndarray], list]:
    """The :data:`BOUNDARY_RESOLUTION` values along each shown input (the samples'
    range and :data:`BOUNDARY_PAD`) and the mesh over them (two inputs: the meshgrid,
    rows along the second; one: the grid)."""
    grids = [
        np.linspace(x[:, c].min() - BOUNDARY_PAD, x[:, c].max() + BOUNDARY_PAD,
                    BOUNDARY_RESOLUTION)
        for c in shown
    ]  # fmt: skip
    mesh = np.meshgrid(*grids) if len(shown) == 2 else [grids[0]]
    return grids, mesh


def grid_points(
    x: np.ndarray, shown: Sequence[int], mesh: Sequence[np.ndarray], held: dict[int, float]
) -> np.ndarray:
    """The inputs at every point of ``mesh``: the shown inputs from it, the ``held`` ones
    at their value, constant ones as in the first sample."""
    points = np.repeat(x[:1], mesh[0].size, axis=0)
    for c, grid in zip(shown, mesh):
        points[:, c] = grid.ravel()
    for c, v in held.items():
        points[:, c] = v
    return points


def slice_samples(x: np.ndarray, held: dict[int, float], sliced: bool) -> np.ndarray:
    """Which samples a panel shows: in a slice, those that lie in it; else all."""
    inside = np.ones(len(x), dtype=bool)
    if sliced:
        for c, v in held.items():
            inside &= x[:, c] == v
    return inside


def slice_text(held: dict[int, float]) -> str:
    """``input 2 = 0, input 3 = 1``: where a slice is (empty when nothing is held)."""
    return ", ".join(f"input {c} = {_value(v)}" for c, v in held.items())


def network_output(network: NetworkResult, points: np.ndarray, shape: tuple) -> np.ndarray:
    """The network's (first) output at ``points``, in the mesh's ``shape``."""
    spec = network.spec
    batched = [w[:, :, None] for w in network.weights]
    out = evaluation.batch_outputs(points, batched, spec.bias, spec.activation)
    return out[:, 0, 0].reshape(shape)


def decision_boundary(
    x: np.ndarray,
    y: np.ndarray,
    networks: Sequence[NetworkResult],
    title: str,
    fmt: str,
) -> bytes:
    """Each network's output over the inputs :func:`boundary_layout` picks (the plane
    of two inputs, with its 0.5 contour, or the line of the only one, with the 0.5
    level) and the samples coloured by target. One panel per network (titled with its
    settings) side by side or, with slices, a row per network and a column per slice;
    the figure's title says how other inputs are held.
    In a slice, only the samples that lie in it are drawn; held at their mean, all."""

    plt = pyplot()
    shown, slices, how = boundary_layout(x)
    # one panel per network, side by side; with slices, one row per network instead
    # and a column per slice
    rows, cols = (len(networks), len(slices)) if len(slices) > 1 else (1, len(networks))
    fig, panels = plt.subplots(
        rows,
        cols,
        figsize=(FIG_SIZE[1] * cols, FIG_SIZE[1] * rows),
        squeeze=False,
        layout="constrained",
    )
    try:
        grids, mesh = boundary_grids(x, shown)
        image = None
        for s, held in enumerate(slices):
            points = grid_points(x, shown, mesh, held)
            inside = slice_samples(x, held, len(slices) > 1)
            where = slice_text(held)
            column = panels[:, s] if len(slices) > 1 else panels[0]
            for ax, network in zip(column, networks):
                spec = network.spec
                out = network_output(network, points, mesh[0].shape)
                xs, ts = x[inside], y[inside, 0]
                if len(shown) == 2:
                    i, j = shown
                    image = ax.contourf(*mesh, out, levels=np.linspace(0, 1, 11), cmap="RdBu_r")
                    ax.contour(*mesh, out, levels=[0.5], colors="black", linewidths=1.5)
                    ax.scatter(xs[:, i], xs[:, j], c=ts, cmap="RdBu_r", vmin=0, vmax=1,
                               edgecolors="black", s=80, zorder=3)  # fmt: skip
                    ax.set_ylabel(f"input {j}")
                else:
                    (i,) = shown
                    ax.plot(grids[0], out, color="black", linewidth=1.5, label="output")
                    ax.axhline(0.5, color="grey", linestyle="--", linewidth=1)
                    ax.scatter(xs[:, i], ts, c=ts, cmap="RdBu_r", vmin=0, vmax=1,
                               edgecolors="black", s=80, zorder=3)  # fmt: skip
                    ax.set_ylim(-0.05, 1.05)
                    ax.set_ylabel("output (samples: their target)")
                ax.set_xlabel(f"input {i}")
                label = axes.describe(spec)
                ax.set_title(f"{label}\n{where}" if len(slices) > 1 else label,
                             fontsize="small")  # fmt: skip
        if image is not None:
            fig.colorbar(image, ax=panels.ravel().tolist(), label="output")
        # the how on lines of its own, as wide as the panels leave room for
        lines = textwrap.wrap(how, width=TITLE_CHARS * cols)
        fig.suptitle("\n".join([title, *lines]))
        return save(fig, fmt)
    finally:
        plt.close(fig)


def dataset_points(x: np.ndarray, y: np.ndarray, title: str, fmt: str) -> bytes:
    """The samples of a dataset, coloured by their (first) target: over the plane of
    the first two varying inputs, a panel per slice of the others as
    :func:`boundary_layout` makes them, or all the samples when it holds the others at
    their mean (a projection); with one varying input, each sample's target along it.
    The figure's title says which."""
    plt = pyplot()
    shown, slices, _ = boundary_layout(x)
    cols = varying_inputs(x)
    if len(shown) == 1:
        how = f"target along input {shown[0]}, the one varying input"
    elif len(slices) > 1:
        rest = [c for c in cols if c not in shown]
        how = f"inputs {shown[0]} and {shown[1]}, a slice at each value of {_names(rest)}"
    elif len(cols) > 2:
        how = (
            f"inputs {shown[0]} and {shown[1]} of {len(cols)} varying inputs "
            "(a projection: every sample, the others not shown)"
        )
    else:
        how = ""
    t = y[:, 0]
    low, high = min(0.0, float(t.min())), max(1.0, float(t.max()))
    fig, panels = plt.subplots(
        1,
        len(slices),
        figsize=(FIG_SIZE[1] * len(slices), FIG_SIZE[1]),
        squeeze=False,
        layout="constrained",
    )
    try:
        points = None
        for ax, held in zip(panels[0], slices):
            inside = np.ones(len(x), dtype=bool)
            if len(slices) > 1:
                for c, v in held.items():
                    inside &= x[:, c] == v
            xs, ts = x[inside], t[inside]
            i = shown[0]
            j_values = xs[:, shown[1]] if len(shown) == 2 else ts
            points = ax.scatter(xs[:, i], j_values, c=ts, cmap="RdBu_r", vmin=low, vmax=high,
                                edgecolors="black", s=40, zorder=3)  # fmt: skip
            ax.set_xlabel(f"input {i}")
            ax.set_ylabel(f"input {shown[1]}" if len(shown) == 2 else "target")
            ax.grid(True, alpha=0.3)
            if len(slices) > 1:
                where = ", ".join(f"input {c} = {_value(v)}" for c, v in held.items())
                ax.set_title(f"{where} ({len(xs)} samples)", fontsize="small")
        fig.colorbar(points, ax=panels[0].tolist(), label="target")
        lines = textwrap.wrap(how, width=TITLE_CHARS * len(slices))
        fig.suptitle("\n".join([title, *lines]))
        return save(fig, fmt)
    finally:
        plt.close(fig)


def has_boundary(
    data: tuple[np.ndarray, np.ndarray] | None, chosen: Sequence[NetworkResult]
) -> bool:
    """True when :func:`run_figures` draws ``boundary.<fmt>`` for ``data``: when it is
    known, some input varies and the networks are small enough to draw
    (:func:`boundary_too_big`)."""
    return (
        data is not None
        and bool(chosen)
        and bool(varying_inputs(data[0]))
        and boundary_too_big(chosen) is None
    )


#: The most weights x grid points a decision boundary evaluates per network (about
#: seconds: a wider network's boundary is not drawn; its weights are in the run folder).
MAX_BOUNDARY_WORK = 10**7


def boundary_too_big(chosen: Sequence[NetworkResult]) -> str | None:
    """Why the boundary of these networks is not drawn, or None when it is."""
    weights = max((sum(w.size for w in r.weights) for r in chosen), default=0)
    points = BOUNDARY_RESOLUTION**2
    if weights * points <= MAX_BOUNDARY_WORK:
        return None
    return (
        f"no decision boundary: a network has {weights} weights, and its output over a "
        f"{BOUNDARY_RESOLUTION} x {BOUNDARY_RESOLUTION} grid would take minutes (at most "
        f"{MAX_BOUNDARY_WORK // points} weights are drawn)"
    )
