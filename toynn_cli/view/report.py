"""Rich renderables built from results, and their export as report.txt/.svg/.html.
Nothing here prints: the CLI decides where they go."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from toynn_cli import axes
from toynn_cli.analysis import ensemble
from toynn_cli.core import tutorial
from toynn_cli.core.network import NetworkResult, NetworkSpec

STATUS_STYLE = {
    "converged": "green",
    "learning": "yellow",
    "stuck": "magenta",
    "diverged": "bold red",
}
MAX_CHECKPOINT_COLUMNS = 10


def fmt_error(value: float) -> str:
    """Errors in the tutorial's format: 12 significant digits."""
    return tutorial.printed(value) if math.isfinite(value) else str(value)


fmt_alpha = axes.show_number


def status_text(status: str) -> Text:
    return Text(status, style=STATUS_STYLE.get(status, ""))


def is_default(spec: NetworkSpec) -> bool:
    """Every setting beyond alpha, hidden and seed is the tutorial's."""
    return not axes.extra(spec)


def extra_columns(
    specs: Sequence[NetworkSpec],
) -> list[tuple[str, Callable[[NetworkSpec], str]]]:
    """The extra columns a table needs: the settings some network has away from the
    tutorial's (a sweep that changes none has the tutorial's columns)."""
    return [(s.title, s.label) for s in axes.varying(specs)]  # type: ignore[misc]


def fmt_hidden(hidden: int | tuple[int, ...]) -> str:
    return axes.show_hidden(hidden)


describe = axes.describe


def best_index(results: Sequence[NetworkResult]) -> int | None:
    """The network with the lowest finite final error (the first, on ties)."""
    errors = getattr(results, "final_errors", None)  # column-wise, when the caller has it
    if errors is not None:
        finite = np.where(np.isfinite(errors), errors, np.inf)
        return int(np.argmin(finite)) if np.isfinite(finite).any() else None
    finite = [(r.final_error, i) for i, r in enumerate(results) if math.isfinite(r.final_error)]
    return min(finite)[1] if finite else None


def header(name: str, dataset: str, iterations: int, n_networks: int) -> Text:
    text = Text()
    text.append(name, style="bold")
    noun = "network" if n_networks == 1 else "networks"
    text.append(f"  dataset {dataset} · {iterations} iterations · {n_networks} {noun}")
    return text


def fmt_accuracy(value: float | None) -> str:
    """An accuracy (a fraction of outputs) to 4 significant digits; '-' if none."""
    return "-" if value is None else f"{value:.4g}"


def error_table(result: NetworkResult) -> Table:
    """The error at each checkpoint and after the last update, and the accuracy beside
    it when the targets are all 0 or 1."""
    table = Table(title="Error (mean |output - target|)", title_justify="left")
    table.add_column("iteration", justify="right")
    table.add_column("error", justify="right")
    accuracy = result.checkpoint_accuracy
    if accuracy is not None:
        table.add_column("accuracy", justify="right")
    for c, (j, e) in enumerate(zip(result.checkpoint_iterations, result.checkpoint_errors)):
        table.add_row(
            str(j), fmt_error(e), *([] if accuracy is None else [fmt_accuracy(accuracy[c])])
        )
    table.add_row(
        f"final ({result.iterations})",
        fmt_error(result.final_error),
        *([] if accuracy is None else [fmt_accuracy(result.final_accuracy)]),
        style="bold",
    )
    return table


def titled(title: str, table: Table) -> Group:
    """A table under a one-line title. (A table's own title wraps to the table's
    width, which for a narrow matrix breaks it over several lines.)"""
    return Group(Text(title, style="table.title"), table)


def matrix_table(array: np.ndarray, integers: bool = False) -> Table:
    """A matrix (rows: units of the layer below, columns: units above)."""
    table = Table(show_header=True)
    table.add_column("", style="dim")
    for c in range(array.shape[1]):
        table.add_column(str(c), justify="right")
    for r, row in enumerate(array):
        cells = [str(int(v)) if integers else f"{v:.8g}" for v in row]
        table.add_row(str(r), *cells)
    return table


def weights_group(result: NetworkResult) -> Group:
    """Final weights and direction-change counts of every layer, input side first."""
    parts: list[RenderableType] = []
    for k, (w, c) in enumerate(zip(result.weights, result.direction_changes)):
        rows, cols = w.shape
        parts.append(titled(f"W{k} ({rows} x {cols}) after training", matrix_table(w)))
        parts.append(
            titled(
                f"W{k} direction changes (of {result.iterations - 1} steps)",
                matrix_table(c, integers=True),
            )
        )
    return Group(*parts)


def train_report(name: str, dataset: str, result: NetworkResult, status: str) -> Group:
    line = Text(f"{describe(result.spec)}: final error {fmt_error(result.final_error)}, ")
    line.append_text(status_text(status))
    return Group(
        header(name, dataset, result.iterations, 1),
        error_table(result),
        line,
        weights_group(result),
    )


def _shown_checkpoints(n: int) -> list[int]:
    if n <= MAX_CHECKPOINT_COLUMNS:
        return list(range(n))
    picks = np.linspace(0, n - 1, MAX_CHECKPOINT_COLUMNS).round().astype(int)
    return sorted(set(picks.tolist()))


SPARK = "▁▂▃▄▅▆▇█"
SPARK_WIDTH = 16
CURVE_SCALES = ("linear", "log", "none")


def _curve(result: NetworkResult) -> np.ndarray:
    """The recorded error history and the final error."""
    return np.append(np.asarray(result.history_errors, dtype=np.float64), result.final_error)


def _transform(values: np.ndarray, log: bool) -> np.ndarray:
    if not log:
        return values
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(values > 0, np.log10(np.where(values > 0, values, 1.0)), np.nan)


def curve_range(results: Sequence[NetworkResult], log: bool = False) -> tuple[float, float]:
    """The lowest and highest error over every network's history (log10 of them with
    ``log``): the common scale of a table's sparklines."""
    values = [_transform(_curve(r), log) for r in results]
    joined = np.concatenate(values) if values else np.array([])
    finite = joined[np.isfinite(joined)]
    if not finite.size:
        return (0.0, 1.0)
    return float(finite.min()), float(finite.max())


def sparkline(
    values: np.ndarray, low: float, high: float, log: bool = False, width: int = SPARK_WIDTH
) -> str:
    """``values`` (an error history) as ``width`` block characters from ▁ (``low``) to
    █ (``high``); each character is the mean of its stretch of the history (on the log
    scale with ``log``). A stretch with a non-finite value shows ×."""
    points = _transform(np.asarray(values, dtype=np.float64), log)
    if points.size == 0:
        return ""
    span = high - low
    chars = []
    for part in np.array_split(points, min(width, points.size)):
        if not np.isfinite(part).all():
            chars.append("×")
            continue
        level = (float(part.mean()) - low) / span if span > 0 else 0.0
        chars.append(SPARK[min(max(round(level * (len(SPARK) - 1)), 0), len(SPARK) - 1)])
    return "".join(chars)


def sweep_table(
    results: Sequence[NetworkResult],
    statuses: Sequence[str],
    max_rows: int | None = None,
    curves: str = "linear",
) -> Table:
    """One row per network: its settings, error at each checkpoint, final error, a
    sparkline of its error history (``curves``: ``linear``, ``log`` or ``none``; one
    scale for the rows shown) and status. The best network (lowest final error) is
    starred."""
    best = best_index(results)
    shown = range(len(results)) if not max_rows else range(min(max_rows, len(results)))
    n_checks = len(results[0].checkpoint_iterations) if results else 0
    columns = _shown_checkpoints(n_checks)
    table = Table(title="Error at each checkpoint", title_justify="left")
    extra = extra_columns([r.spec for r in results])
    table.add_column("", justify="right")
    for title, _ in extra:
        table.add_column(title)
    for title in ("alpha", "hidden", "seed"):
        table.add_column(title, justify="right")
    for c in columns:
        table.add_column(str(results[0].checkpoint_iterations[c]), justify="right")
    table.add_column("final", justify="right")
    # classification targets (all 0 or 1): the final accuracy beside the final error
    # (headed "acc", narrow: the tutorial's table keeps its full digits on 200 columns)
    accuracy = bool(results) and results[0].final_accuracy is not None
    if accuracy:
        table.add_column("acc", justify="right")
    log = curves == "log"
    if curves != "none":
        table.add_column("curve (log)" if log else "curve", no_wrap=True)
        # one scale for the rows shown (a large sweep keeps no history of the others)
        low, high = curve_range([results[i] for i in shown], log)
    stopping = any(r.spec.target_error for r in results)
    if stopping:
        table.add_column("stopped at", justify="right")
    table.add_column("status")
    for i in shown:
        r = results[i]
        table.add_row(
            "★" if i == best else "",
            *[show(r.spec) for _, show in extra],
            fmt_alpha(r.spec.alpha),
            fmt_hidden(r.spec.hidden),
            str(r.spec.seed),
            *[fmt_error(r.checkpoint_errors[c]) for c in columns],
            fmt_error(r.final_error),
            *([fmt_accuracy(r.final_accuracy)] if accuracy else []),
            *([sparkline(_curve(r), low, high, log)] if curves != "none" else []),
            *([str(r.stopped_at) if r.stopped_at is not None else "-"] if stopping else []),
            status_text(statuses[i]),
            style="bold" if i == best else None,
        )
    return table


def sweep_notes(results: Sequence[NetworkResult], max_rows: int | None = None) -> Text | None:
    """What the sweep table leaves out, if anything, in one line. (Not the table's
    caption: a caption wraps to the table's width.)"""
    n_checks = len(results[0].checkpoint_iterations) if results else 0
    n_columns = len(_shown_checkpoints(n_checks))
    n_rows = min(max_rows, len(results)) if max_rows else len(results)
    notes = []
    if n_columns < n_checks:
        notes.append(f"{n_columns} of {n_checks} checkpoints shown")
    if n_rows < len(results):
        notes.append(f"first {n_rows} of {len(results)} networks shown (--rows 0 for all)")
    if not notes:
        return None
    return Text("; ".join(notes) + "; the rest is in the run folder", style="dim")


def summary(results: Sequence[NetworkResult], statuses: Sequence[str]) -> Text:
    """Status counts and the best network, in one line."""
    counts = {s: statuses.count(s) for s in ("converged", "learning", "stuck", "diverged")}
    noun = "network" if len(results) == 1 else "networks"
    text = Text(f"{len(results)} {noun}: ")
    parts = [(f"{n} {s}", STATUS_STYLE[s]) for s, n in counts.items() if n]
    for k, (part, style) in enumerate(parts):
        text.append(part, style=style)
        if k < len(parts) - 1:
            text.append(", ")
    best = best_index(results)
    if best is not None:
        r = results[best]
        text.append(f". Best: {describe(r.spec)}, final error {fmt_error(r.final_error)}")
    return text


def group_table(cells: Sequence[ensemble.Cell]) -> Table:
    """One row per cell (every setting but the seed): its seeds' median, min and max
    final error, the fraction that converged and the count of each status."""
    table = Table(title="Final error per cell, over its seeds", title_justify="left")
    extra = extra_columns([cell.key for cell in cells])
    for title, _ in extra:
        table.add_column(title)
    for title in ("alpha", "hidden", "seeds", "median", "min", "max", "converged"):
        table.add_column(title, justify="right")
    table.add_column("statuses")
    for cell in cells:
        counts = Text()
        for k, (label, n) in enumerate(cell.counts().items()):
            if k:
                counts.append(", ")
            counts.append(f"{n} {label}", style=STATUS_STYLE[label])
        n_converged = cell.statuses.count("converged")
        table.add_row(
            *[show(cell.key) for _, show in extra],
            fmt_alpha(cell.alpha),
            fmt_hidden(cell.hidden),
            str(len(cell.seeds)),
            fmt_error(cell.median),
            fmt_error(cell.min),
            fmt_error(cell.max),
            f"{n_converged}/{len(cell.seeds)} ({cell.converged_fraction:.0%})",
            counts,
        )
    return table


def sweep_report(
    name: str,
    dataset: str,
    results: Sequence[NetworkResult],
    statuses: Sequence[str],
    max_rows: int | None = None,
    show_weights: bool = False,
    curves: str = "linear",
    group: bool = False,
) -> Group:
    """The sweep's table (or, with ``group``, one row per (alpha, hidden) cell), notes
    and the summary line."""
    parts: list[RenderableType] = [header(name, dataset, results[0].iterations, len(results))]
    if group:
        parts.append(group_table(ensemble.cells(results, statuses)))
        parts.append(Text("one row per cell; --no-group for one row per network", style="dim"))
    else:
        parts.append(sweep_table(results, statuses, max_rows, curves))
        notes = sweep_notes(results, max_rows)
        if notes is not None:
            parts.append(notes)
    parts.append(summary(results, statuses))
    if show_weights:
        for i, r in enumerate(results[: max_rows or None]):
            parts.append(Text(f"\nNetwork {i}: {describe(r.spec)}", style="bold"))
            parts.append(weights_group(r))
    return Group(*parts)


MATCH_MARK = {"exact": ("✓ all digits", "green"), "close": ("≈ 1e-9", "yellow")}


def reproduce_table(results: Sequence[NetworkResult]) -> Table:
    """Published digits beside the obtained ones, one row per alpha and checkpoint."""
    table = Table(title="The tutorial's published sweep, reproduced", title_justify="left")
    for title in ("alpha", "iteration", "published", "obtained", "match"):
        table.add_column(title, justify="right" if title != "match" else "left")
    for r in results:
        for c, (j, e) in enumerate(zip(r.checkpoint_iterations, r.checkpoint_errors)):
            verdict = tutorial.compare(r.spec.alpha, c, float(e))
            mark, style = MATCH_MARK.get(verdict, ("✗ MISMATCH", "bold red"))
            table.add_row(
                fmt_alpha(r.spec.alpha),
                str(j),
                tutorial.PUBLISHED[r.spec.alpha][c],
                fmt_error(e),
                Text(mark, style=style),
            )
    return table
