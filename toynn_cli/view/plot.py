"""Figures with matplotlib (the optional ``plot`` extra): each function returns the
bytes of one image file; nothing is shown or written here.

matplotlib is imported only when a figure is made, with the non-interactive Agg
backend, so the rest of toynn never needs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from toynn_cli import axes
from toynn_cli.core.network import NetworkResult, NetworkSpec
from toynn_cli.view.boundary import decision_boundary, has_boundary
from toynn_cli.view.figure import FIG_SIZE, pyplot, save

if TYPE_CHECKING:  # the surface module is needed only to draw a surface
    from toynn_cli.analysis.surface import Surface

MAX_LEGEND = 12
#: The axes error curves can be coloured by.
#: what curves can be coloured by: any network setting
AXES = tuple(axes.BY_NAME)
#: At most this many curves are drawn (evenly chosen): a million lines would take hours.
MAX_CURVES = 500


def surface_png(surface: Surface, title: str) -> bytes:
    """The error surface as an image, with a colour bar and the training path."""
    plt = pyplot()
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
        return save(fig, "png")
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
    marked, sparse = marked_points(len(x), runs, lone)
    if marked:
        ax.plot(x[marked], y[marked], "o", color=color, markersize=MARKER_SIZE, alpha=0.8)
    return sparse


def marked_points(
    count: int, runs: list[tuple[int, int]], lone: list[int]
) -> tuple[list[int], bool]:
    """Which of a history's ``count`` points (drawn as :func:`curve_parts` says) get a
    marker, in order: every drawable point when the history is sparse (at most
    :data:`SPARSE_POINTS`), else the lone ones; and whether it is sparse."""
    sparse = count <= SPARSE_POINTS
    marked = [k for a, b in runs for k in range(a, b)] + lone if sparse else list(lone)
    return sorted(marked), sparse


def curve_points(result: NetworkResult) -> tuple[np.ndarray, np.ndarray]:
    """A network's curve: (iteration + 1, error) of its recorded history and its end."""
    its = np.append(result.history_iterations, result.iterations).astype(float) + 1
    errors = np.append(result.history_errors, result.final_error).astype(float)
    return its, errors


def chosen_curves(results: Sequence[NetworkResult], title: str) -> tuple[list[NetworkResult], str]:
    """The networks whose curves are drawn, at most :data:`MAX_CURVES` (evenly chosen,
    the title then says so), and the title."""
    if len(results) <= MAX_CURVES:
        return list(results), title
    picks = np.linspace(0, len(results) - 1, MAX_CURVES).round().astype(int)
    title = f"{title} ({MAX_CURVES} of {len(results)} networks, evenly chosen)"
    return [results[i] for i in picks], title


def curve_shades(
    results: Sequence[NetworkResult], swept: str
) -> dict[tuple[int, float | str], float]:
    """Each value of the ``swept`` setting: where along the colour map (0 to 1) its
    curves are, in the order of :func:`_axis_value`."""
    values = sorted({_axis_value(r, swept) for r in results})
    return {v: i / max(1, len(values) - 1) for i, v in enumerate(values)}


def legend_keep(count: int) -> list[int]:
    """Which of ``count`` legend entries are shown: all, or an evenly spread
    :data:`MAX_LEGEND`, ends included."""
    if count <= MAX_LEGEND:
        return list(range(count))
    return sorted(set(np.linspace(0, count - 1, MAX_LEGEND).round().astype(int).tolist()))


def error_curves(results: Sequence[NetworkResult], swept: str, title: str, fmt: str) -> bytes:
    """Error against iteration, log axes, one curve per network, coloured by the value of
    the ``swept`` setting. Each curve is the recorded history and the final error: a
    line through dense points, markers on sparse ones, and nothing across a gap or a
    non-finite error (see :func:`curve_parts`)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=FIG_SIZE)
    results, title = chosen_curves(results, title)
    try:
        cmap = plt.get_cmap("viridis")
        shade = {v: cmap(f) for v, f in curve_shades(results, swept).items()}
        labelled: set[tuple[int, float | str]] = set()
        for r in sorted(results, key=lambda r: _axis_value(r, swept)):
            value = _axis_value(r, swept)
            its, errors = curve_points(r)
            marked = _draw_history(ax, its, errors, shade[value])
            if value not in labelled:  # the legend's entry: an empty line in the style
                label = legend_label(swept, r)
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
        keep = legend_keep(len(labels))  # an evenly spread dozen, ends included
        handles, labels = [handles[k] for k in keep], [labels[k] for k in keep]
        ax.legend(handles, labels, fontsize="small", loc="lower left", title=f"by {swept}")
        fig.tight_layout()
        return save(fig, fmt)
    finally:
        plt.close(fig)


def legend_label(swept: str, result: NetworkResult) -> str:
    """A curve's legend entry: the setting and the network's value, a table's ``-``
    (off, the default) read as ``off`` and a flag's own name (``bias``) as ``on``."""
    setting = axes.BY_NAME[swept]
    assert setting.label is not None
    shown = setting.label(result.spec)
    word = {"-": "off", setting.title: "on"}.get(shown, shown)
    return f"{swept} {word}"


def _axis_value(result: NetworkResult, swept: str) -> tuple[int, float | str]:
    """The network's value of the setting, ordered numbers first (by value), then words."""
    return _spec_value(result.spec, swept)


def _spec_value(spec: NetworkSpec, swept: str) -> tuple[int, float | str]:
    setting = axes.BY_NAME[swept]
    assert setting.label is not None
    label = setting.label(spec)
    try:
        return (0, float(label))
    except ValueError:
        return (1, label)


def swept_axis(results: Sequence[NetworkResult]) -> str:
    """The first setting (alpha, hidden, seed, optimizer, ...) that takes several
    values (alpha if none)."""
    # the settings only (a large batch's records are made on demand: 17 axes x 7000
    # networks took 5 s), each axis until a second value turns up
    specs = results.specs() if hasattr(results, "specs") else [r.spec for r in results]
    for a in AXES:
        first = _spec_value(specs[0], a) if specs else None
        if any(_spec_value(s, a) != first for s in specs):
            return a
    return "alpha"


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
