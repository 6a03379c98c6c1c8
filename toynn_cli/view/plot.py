"""Figures with matplotlib (the optional ``plot`` extra): each function returns the
bytes of one image file; nothing is shown or written here.

matplotlib is imported only when a figure is made, with the non-interactive Agg
backend, so the rest of toynn never needs it.
"""

from __future__ import annotations

import importlib.util
import io
import itertools
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from toynn_cli import axes
from toynn_cli.core.network import NetworkResult

if TYPE_CHECKING:  # the surface module is needed only to draw a surface
    from toynn_cli.analysis.surface import Surface

INSTALL_HINT = "matplotlib is not installed; install the plot extra: pip install 'toynn[plot]'"
#: Figure size in inches and resolution: PNGs are FIG_SIZE * DPI pixels.
FIG_SIZE = (8.0, 5.0)
DPI = 100
MAX_LEGEND = 12
#: The axes error curves can be coloured by.
#: what curves can be coloured by: any network setting
AXES = tuple(axes.BY_NAME)
#: At most this many curves are drawn (evenly chosen): a million lines would take hours.
MAX_CURVES = 500


def available() -> bool:
    """True when matplotlib can be imported."""
    return importlib.util.find_spec("matplotlib") is not None


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    matplotlib.rcParams["svg.fonttype"] = "none"  # SVG text stays text (searchable, small)
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, fmt: str) -> bytes:
    buffer = io.BytesIO()
    # fixed metadata: the same figure gives the same bytes
    metadata = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
    fig.savefig(buffer, format=fmt, dpi=DPI, metadata=metadata)
    return buffer.getvalue()


def surface_png(surface: Surface, title: str) -> bytes:
    """The error surface as an image, with a colour bar and the training path."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=FIG_SIZE)
    try:
        extent = (
            surface.values_a[0],
            surface.values_a[-1],
            surface.values_b[0],
            surface.values_b[-1],
        )
        image = ax.imshow(
            surface.errors, origin="lower", extent=extent, cmap="viridis", aspect="auto"
        )
        fig.colorbar(image, ax=ax, label="error (mean |output - target|)")
        ax.plot(surface.path_a, surface.path_b, color="white", linewidth=1.5, label="training")
        ax.plot(surface.path_a[0], surface.path_b[0], "o", color="white", label="start")
        ax.plot(
            surface.path_a[-1], surface.path_b[-1], "*", color="red", markersize=12, label="end"
        )
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
        ax.set_xlabel(surface.a.name)
        ax.set_ylabel(surface.b.name)
        ax.set_title(title)
        ax.legend(loc="upper right", fontsize="small")
        fig.tight_layout()
        return _save(fig, "png")
    finally:
        plt.close(fig)


#: On the log iteration axis, two recorded points whose iterations (+ 1) differ by more
#: than this factor are not joined by a line: nothing was recorded between them, and a
#: straight line there (from iteration 0 to the first recorded step, say) would be made up.
GAP_RATIO = 1.5
#: A history with at most this many points is drawn with a marker on every point.
SPARSE_POINTS = 40
MARKER_SIZE = 4


def curve_parts(x: np.ndarray, y: np.ndarray) -> tuple[list[tuple[int, int]], list[int]]:
    """How to draw the recorded points ``(x, y)`` (x increasing, > 0) on log axes
    without inventing values: ``runs``, the ``(start, stop)`` index ranges of two or
    more neighbouring points to join with a line, and ``lone``, the indices of the
    points that join nothing and get a marker. A point whose error is not finite or
    not > 0 (a log axis cannot show it) is left out and breaks the line; so does a gap
    wider than :data:`GAP_RATIO`."""
    drawable = np.isfinite(y) & (y > 0) & np.isfinite(x) & (x > 0)
    runs: list[tuple[int, int]] = []
    lone: list[int] = []
    start = None
    for k in range(len(x) + 1):
        joined = start is not None and k < len(x) and drawable[k] and x[k] <= x[k - 1] * GAP_RATIO
        if joined:
            continue
        if start is not None:  # the piece start..k-1 ends here
            if k - start >= 2:
                runs.append((start, k))
            else:
                lone.append(start)
        start = k if k < len(x) and drawable[k] else None
    return runs, lone


def _draw_history(ax: Any, x: np.ndarray, y: np.ndarray, color: Any) -> bool:
    """One network's recorded errors: lines where the record is dense, markers where it
    is sparse (on every point when the whole history is). True if every point has a
    marker."""
    runs, lone = curve_parts(x, y)
    if runs:  # one artist: the pieces separated by NaN, where matplotlib breaks a line
        xs = np.concatenate([np.append(x[a:b], np.nan) for a, b in runs])
        ys = np.concatenate([np.append(y[a:b], np.nan) for a, b in runs])
        ax.plot(xs, ys, color=color, linewidth=1.2, alpha=0.8)
    sparse = len(x) <= SPARSE_POINTS
    marked = [k for a, b in runs for k in range(a, b)] + lone if sparse else lone
    if marked:
        marked.sort()
        ax.plot(x[marked], y[marked], "o", color=color, markersize=MARKER_SIZE, alpha=0.8)
    return sparse


def error_curves(results: Sequence[NetworkResult], swept: str, title: str, fmt: str) -> bytes:
    """Error against iteration, log axes, one curve per network, coloured by the value of
    the ``swept`` setting. Each curve is the recorded history and the final error: a
    line through dense points, markers on sparse ones, and nothing across a gap or a
    non-finite error (see :func:`curve_parts`)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=FIG_SIZE)
    if len(results) > MAX_CURVES:
        picks = np.linspace(0, len(results) - 1, MAX_CURVES).round().astype(int)
        title = f"{title} ({MAX_CURVES} of {len(results)} networks, evenly chosen)"
        results = [results[i] for i in picks]
    try:
        values = sorted({_axis_value(r, swept) for r in results})
        cmap = plt.get_cmap("viridis")
        shade = {v: cmap(i / max(1, len(values) - 1)) for i, v in enumerate(values)}
        labelled: set[tuple[int, float | str]] = set()
        for r in sorted(results, key=lambda r: _axis_value(r, swept)):
            value = _axis_value(r, swept)
            its = np.append(r.history_iterations, r.iterations).astype(float) + 1
            errors = np.append(r.history_errors, r.final_error).astype(float)
            marked = _draw_history(ax, its, errors, shade[value])
            if value not in labelled:  # the legend's entry: an empty line in the style
                label = f"{swept} {axes.BY_NAME[swept].label(r.spec)}"  # type: ignore[misc]
                ax.plot([], [], color=shade[value], linewidth=1.2, label=label,
                        marker="o" if marked else None, markersize=MARKER_SIZE)  # fmt: skip
                labelled.add(value)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("iteration + 1")
        ax.set_ylabel("error (mean |output - target|)")
        ax.set_title(title)
        ax.grid(True, which="major", alpha=0.3)
        handles, labels = ax.get_legend_handles_labels()
        if len(labels) > MAX_LEGEND:  # keep an evenly spread dozen, ends included
            keep = sorted(set(np.linspace(0, len(labels) - 1, MAX_LEGEND).round().astype(int)))
            handles, labels = [handles[k] for k in keep], [labels[k] for k in keep]
        ax.legend(handles, labels, fontsize="small", loc="lower left", title=f"by {swept}")
        fig.tight_layout()
        return _save(fig, fmt)
    finally:
        plt.close(fig)


def _axis_value(result: NetworkResult, swept: str) -> tuple[int, float | str]:
    """The network's value of the setting, ordered numbers first (by value), then words."""
    setting = axes.BY_NAME[swept]
    assert setting.label is not None
    label = setting.label(result.spec)
    try:
        return (0, float(label))
    except ValueError:
        return (1, label)


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
    from toynn_cli.core import evaluation

    plt = _pyplot()
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
        pad = 0.5
        grids = [
            np.linspace(x[:, c].min() - pad, x[:, c].max() + pad, BOUNDARY_RESOLUTION)
            for c in shown
        ]
        mesh = np.meshgrid(*grids) if len(shown) == 2 else [grids[0]]
        image = None
        for s, held in enumerate(slices):
            points = np.repeat(x[:1], mesh[0].size, axis=0)
            for c, grid in zip(shown, mesh):
                points[:, c] = grid.ravel()
            inside = np.ones(len(x), dtype=bool)
            for c, v in held.items():
                points[:, c] = v
                if len(slices) > 1:  # a slice: its samples only
                    inside &= x[:, c] == v
            where = ", ".join(f"input {c} = {_value(v)}" for c, v in held.items())
            column = panels[:, s] if len(slices) > 1 else panels[0]
            for ax, network in zip(column, networks):
                spec = network.spec
                batched = [w[:, :, None] for w in network.weights]
                out = evaluation.batch_outputs(points, batched, spec.bias, spec.activation)
                out = out[:, 0, 0].reshape(mesh[0].shape)
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
        return _save(fig, fmt)
    finally:
        plt.close(fig)


def dataset_points(x: np.ndarray, y: np.ndarray, title: str, fmt: str) -> bytes:
    """The samples of a dataset, coloured by their (first) target: over the plane of
    the first two varying inputs, a panel per slice of the others as
    :func:`boundary_layout` makes them, or all the samples when it holds the others at
    their mean (a projection); with one varying input, each sample's target along it.
    The figure's title says which."""
    plt = _pyplot()
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
        return _save(fig, fmt)
    finally:
        plt.close(fig)


def swept_axis(results: Sequence[NetworkResult]) -> str:
    """The first setting (alpha, hidden, seed, optimizer, ...) that takes several
    values (alpha if none)."""
    counts = {a: len({_axis_value(r, a) for r in results}) for a in AXES}
    return next((a for a in AXES if counts[a] > 1), "alpha")


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


def figure_names(
    data: tuple[np.ndarray, np.ndarray] | None,
    chosen: Sequence[NetworkResult],
    formats: Sequence[str],
) -> list[str]:
    """The file names :func:`run_figures` returns, in its order, without drawing."""
    names = [f"curves.{fmt}" for fmt in formats]
    if has_boundary(data, chosen):
        names += [f"boundary.{fmt}" for fmt in formats]
    return names


def run_figures(
    results: Sequence[NetworkResult],
    data: tuple[np.ndarray, np.ndarray] | None,
    chosen: Sequence[NetworkResult],
    name: str,
    formats: Sequence[str],
    color_by: str | None = None,
) -> dict[str, bytes]:
    """A run's figures by file name, in each of ``formats``: ``curves.<fmt>`` (coloured
    by ``color_by``, default :func:`swept_axis`) and, when ``data`` (inputs, targets) has
    a varying input, ``boundary.<fmt>`` of the ``chosen`` networks."""
    axis = color_by or swept_axis(results)
    figures = {
        f"curves.{fmt}": error_curves(results, axis, f"{name}: error during training", fmt)
        for fmt in formats
    }
    if has_boundary(data, chosen):
        assert data is not None
        for fmt in formats:
            figures[f"boundary.{fmt}"] = decision_boundary(
                data[0], data[1], chosen, f"{name}: decision boundary", fmt
            )
    return figures
