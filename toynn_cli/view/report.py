"""Rich renderables built from results, and their export as report.txt/.svg/.html.
Nothing here prints: the CLI decides where they go."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from rich.console import Group, RenderableType
from rich.text import Text

from toynn_cli import axes
from toynn_cli.analysis import ensemble
from toynn_cli.core import tutorial
from toynn_cli.core.network import NetworkResult, NetworkSpec
from toynn_cli.store.results import shown_indices
from toynn_cli.view.fit import (
    GAP,
    Cell,
    Column,
    FitTable,
    Step,
    constant_steps,
    edges,
    middle_out,
)

STATUS_STYLE = {
    "converged": "green",
    "learning": "yellow",
    "stuck": "magenta",
    "diverged": "bold red",
}
MAX_CHECKPOINT_COLUMNS = 10
ERROR_DIGITS = 12
WEIGHT_DIGITS = 8
#: a weight matrix with more entries than this is summarised: its first and last
#: MATRIX_EDGE rows and columns (numpy's print threshold and edge items)
MATRIX_THRESHOLD = 1000
MATRIX_EDGE = 3


def fmt_error(value: float, digits: int = ERROR_DIGITS) -> str:
    """An error to ``digits`` significant digits: the tutorial's format (12), or fewer
    when a table must fit a narrow terminal (scientific notation below 1e-4)."""
    if not math.isfinite(value):
        return str(value)
    return tutorial.printed(value) if digits == ERROR_DIGITS else f"{value:.{digits}g}"


def fmt_weight(value: float, digits: int = WEIGHT_DIGITS) -> str:
    """A weight to ``digits`` significant digits (8 in full)."""
    return f"{value:.{digits}g}"


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


def error_table(result: NetworkResult) -> FitTable:
    """The error at each checkpoint and after the last update, and the accuracy beside
    it when the targets are all 0 or 1."""
    accuracy = result.checkpoint_accuracy
    labels: list[Cell] = [str(j) for j in result.checkpoint_iterations]
    labels.append(f"final ({result.iterations})")
    errors: list[Cell] = [float(e) for e in result.checkpoint_errors]
    errors.append(result.final_error)
    columns = [
        Column("iteration", "iteration", labels, justify="right"),
        Column("error", "error", errors, justify="right", number=fmt_error),
    ]
    if accuracy is not None:
        cells: list[Cell] = [fmt_accuracy(a) for a in accuracy]
        cells.append(fmt_accuracy(result.final_accuracy))
        columns.append(Column("accuracy", "accuracy", cells, justify="right"))
    styles: list[str | None] = [None] * len(result.checkpoint_iterations) + ["bold"]
    steps = [
        Step(digits={"error": 8}, rounded="errors"),
        Step(compact=True),
        Step(digits={"error": 6}, rounded="errors"),
        Step(digits={"error": 4}, rounded="errors"),
    ]
    return FitTable(
        columns,
        steps,
        title="Error (mean |output - target|)",
        row_styles=styles,
        hint="--json for every digit",
    )


def titled(title: str, table: RenderableType) -> Group:
    """A table under a one-line title. (A table's own title wraps to the table's
    width, which for a narrow matrix breaks it over several lines, and is padded
    with spaces to it.)"""
    return Group(Text(title, style="table.title"), table)


def matrix_table(
    array: np.ndarray,
    integers: bool = False,
    title: str | None = None,
    hint: str = "--wide for every column, --json for every digit",
    noun: str = "weights",
) -> FitTable:
    """A matrix (rows: units of the layer below, columns: units above). One of more
    than MATRIX_THRESHOLD entries is summarised as numpy prints it (the first and
    last MATRIX_EDGE rows and columns, ``...`` between); one wider than the page
    shows fewer digits, then fewer columns."""
    n_rows, n_cols = array.shape
    big = array.size > MATRIX_THRESHOLD
    rows = (edges(n_rows, MATRIX_EDGE) if big else None) or list(range(n_rows))
    cols = (edges(n_cols, MATRIX_EDGE) if big else None) or list(range(n_cols))
    number = None if integers else fmt_weight

    def cells(values: np.ndarray) -> list[Cell]:
        out: list[Cell] = [int(v) if integers else float(v) for v in values]
        if len(rows) < n_rows:
            out.insert(MATRIX_EDGE, GAP)
        return out

    labels: list[Cell] = [str(r) for r in rows]
    if len(rows) < n_rows:
        labels.insert(MATRIX_EDGE, GAP)
    columns = [Column("row", "", labels, style="dim")]
    keys = []
    for k, c in enumerate(cols):
        if len(cols) < n_cols and k == MATRIX_EDGE:
            columns.append(Column("gap", GAP, [GAP] * len(labels), justify="center"))
        key = f"c{c}"
        keys.append(key)
        sub = array[rows, c]
        columns.append(
            Column(key, str(c), cells(sub), justify="right", number=number, digits=WEIGHT_DIGITS)
        )
    has_gap = len(cols) < n_cols
    if not has_gap:  # shown when a narrow page leaves out the middle columns
        gap = Column("gap", GAP, [GAP] * len(labels), justify="center", hidden=True)
        columns.insert(1 + len(cols) // 2, gap)
    notes: list[RenderableType] = []
    if has_gap or len(rows) < n_rows:
        kept = [
            f"{len(shown)} of {n} {noun}"
            for shown, n, noun in ((rows, n_rows, "rows"), (cols, n_cols, "columns"))
            if len(shown) < n
        ]
        notes.append(
            Text(
                f"summarised: {' and '.join(kept)} shown (every value is in --json and the "
                "run folder's weights.npz)",
                style="dim",
            )
        )
    # narrower: 6 digits; columns from the middle out down to MATRIX_EDGE each side;
    # 4 digits; no vertical borders; the rest of the columns but the first and last;
    # 3 digits
    order = [k for k in middle_out(keys) if k not in (keys[0], keys[-1])]
    outer = 2 * (MATRIX_EDGE - 1)
    inner, last = order[: max(0, len(order) - outer)], order[max(0, len(order) - outer) :]

    def drops(keys: list[str]) -> list[Step]:
        return [Step(drop=[k], left_out=k[1:], group="columns", show=["gap"]) for k in keys]

    def rounding(digits: int) -> list[Step]:
        return [] if integers else [Step(digits=dict.fromkeys(keys, digits), rounded=noun)]

    steps = [
        *rounding(6),
        *drops(inner),
        *rounding(4),
        Step(compact=True),
        *drops(last),
        *rounding(3),
    ]
    return FitTable(columns, steps, title=title, hint=hint, notes=notes)


def weights_group(result: NetworkResult) -> Group:
    """Final weights and direction-change counts of every layer, input side first."""
    parts: list[RenderableType] = []
    for k, (w, c) in enumerate(zip(result.weights, result.direction_changes)):
        rows, cols = w.shape
        parts.append(matrix_table(w, title=f"W{k} ({rows} x {cols}) after training"))
        parts.append(
            matrix_table(
                c,
                integers=True,
                title=f"W{k} direction changes (of {result.iterations - 1} steps)",
                hint="--wide for every column, --json for every count",
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
) -> FitTable:
    """One row per network: its settings, error at each checkpoint, final error, a
    sparkline of its error history (``curves``: ``linear``, ``log`` or ``none``; one
    scale for the rows shown) and status. The best network (lowest final error) is
    starred.

    On a narrow page the table leaves out, in turn: the curve, checkpoint digits (6,
    then 4), settings the same in every row, checkpoints (from the middle out), the
    accuracy and stop columns, then final-error digits; and says so under it."""
    best = best_index(results)
    shown = shown_indices(len(results), max_rows)
    rs = [results[i] for i in shown]
    n_checks = len(results[0].checkpoint_iterations) if results else 0
    checks = _shown_checkpoints(n_checks)
    extra = extra_columns([r.spec for r in results])
    columns = [Column("best", "", ["★" if i == best else "" for i in shown], justify="right")]
    for title, show in extra:
        columns.append(Column(title, title, [show(r.spec) for r in rs]))
    columns += [
        Column("alpha", "alpha", [fmt_alpha(r.spec.alpha) for r in rs], justify="right"),
        Column("hidden", "hidden", [fmt_hidden(r.spec.hidden) for r in rs], justify="right"),
        Column("seed", "seed", [str(r.spec.seed) for r in rs], justify="right"),
    ]
    check_keys = [f"c{c}" for c in checks]
    titles = {}
    for c, key in zip(checks, check_keys):
        titles[key] = title = str(results[0].checkpoint_iterations[c])
        cells: list[Cell] = [float(r.checkpoint_errors[c]) for r in rs]
        columns.append(Column(key, title, cells, justify="right", number=fmt_error))
    columns.append(
        Column("final", "final", [r.final_error for r in rs], justify="right", number=fmt_error)
    )
    # classification targets (all 0 or 1): the final accuracy beside the final error
    # (headed "acc", narrow)
    accuracy = bool(results) and results[0].final_accuracy is not None
    if accuracy:
        acc: list[Cell] = [fmt_accuracy(r.final_accuracy) for r in rs]
        columns.append(Column("acc", "acc", acc, justify="right"))
    log = curves == "log"
    curve_title = "curve (log)" if log else "curve"
    if curves != "none":
        # one scale for the rows shown (a large sweep keeps no history of the others)
        low, high = curve_range(rs, log)
        lines: list[Cell] = [sparkline(_curve(r), low, high, log) for r in rs]
        columns.append(Column("curve", curve_title, lines))
    stopping = any(r.spec.target_error for r in results)
    if stopping:
        stops: list[Cell] = [str(r.stopped_at) if r.stopped_at is not None else "-" for r in rs]
        columns.append(Column("stopped", "stopped at", stops, justify="right"))
    columns.append(Column("status", "status", [status_text(statuses[i]) for i in shown]))

    steps: list[Step] = []
    if curves != "none":
        steps.append(Step(drop=["curve"], left_out=curve_title))
    for digits in (6, 4):
        steps.append(Step(digits=dict.fromkeys(check_keys, digits), rounded="checkpoint errors"))
    settings = [title for title, _ in extra] + ["hidden", "seed"]
    steps += constant_steps(columns, settings)
    for key in middle_out(check_keys):
        steps.append(Step(drop=[key], left_out=titles[key], group="checkpoints"))
    if accuracy:
        steps.append(Step(drop=["acc"], left_out="acc"))
    if stopping:
        steps.append(Step(drop=["stopped"], left_out="stopped at"))
    for digits in (8, 6):
        steps.append(Step(digits={"final": digits}, rounded="final errors"))
    steps.append(Step(compact=True))
    steps.append(Step(digits={"final": 4}, rounded="final errors"))
    styles: list[str | None] = ["bold" if i == best else None for i in shown]
    if len(shown) < len(results):  # numpy's "..." between the first and last rows
        gap_row(columns, styles, (len(shown) + 1) // 2)
    return FitTable(
        columns,
        steps,
        title="Error at each checkpoint",
        row_styles=styles,
        rows_are="network",
    )


def gap_row(columns: Sequence[Column], styles: list[str | None], at: int) -> None:
    """A row of ``...`` at ``at``: the rows a summary leaves out (the star column
    stays blank)."""
    for column in columns:
        column.cells.insert(at, "" if column.key == "best" else GAP)
    styles.insert(at, None)


def sweep_notes(results: Sequence[NetworkResult], max_rows: int | None = None) -> Text | None:
    """What the sweep table leaves out, if anything, in one line. (Not the table's
    caption: a caption wraps to the table's width.)"""
    n_checks = len(results[0].checkpoint_iterations) if results else 0
    n_columns = len(_shown_checkpoints(n_checks))
    n_rows = len(shown_indices(len(results), max_rows))
    notes = []
    if n_columns < n_checks:
        notes.append(f"{n_columns} of {n_checks} checkpoints shown")
    if n_rows < len(results):
        head = (n_rows + 1) // 2
        notes.append(
            f"the first {head} and last {n_rows - head} of {len(results)} networks shown "
            "(--rows 0 for all)"
        )
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


def group_table(cells: Sequence[ensemble.Cell]) -> FitTable:
    """One row per cell (every setting but the seed): its seeds' median, min and max
    final error, the fraction that converged and the count of each status (which
    wraps between counts on a narrow page)."""
    extra = extra_columns([cell.key for cell in cells])
    columns = [Column(title, title, [show(cell.key) for cell in cells]) for title, show in extra]

    def right(key: str, values: list[Cell], number=None) -> Column:
        return Column(key, key, values, justify="right", number=number)

    columns += [
        right("alpha", [fmt_alpha(cell.alpha) for cell in cells]),
        right("hidden", [fmt_hidden(cell.hidden) for cell in cells]),
        right("seeds", [str(len(cell.seeds)) for cell in cells]),
        right("median", [cell.median for cell in cells], fmt_error),
        right("min", [cell.min for cell in cells], fmt_error),
        right("max", [cell.max for cell in cells], fmt_error),
    ]
    converged: list[Cell] = []
    statuses: list[Cell] = []
    for cell in cells:
        counts = Text()
        for k, (label, n) in enumerate(cell.counts().items()):
            if k:
                counts.append(", ")
            counts.append(f"{n} {label}", style=STATUS_STYLE[label])
        statuses.append(counts)
        n_converged = cell.statuses.count("converged")
        converged.append(f"{n_converged}/{len(cell.seeds)} ({cell.converged_fraction:.0%})")
    columns.append(right("converged", converged))
    columns.append(Column("statuses", "statuses", statuses, wrap=True))
    settings = [title for title, _ in extra] + ["hidden", "seeds"]
    steps = [
        Step(digits={"min": 6, "max": 6}, rounded="min and max"),
        *constant_steps(columns, settings),
        Step(digits={"min": 4, "max": 4}, rounded="min and max"),
        Step(digits={"median": 8}, rounded="medians"),
        Step(compact=True),
        Step(digits={"median": 6}, rounded="medians"),
        Step(drop=["min", "max"], left_out="min, max"),
        Step(digits={"median": 4}, rounded="medians"),
    ]
    return FitTable(columns, steps, title="Final error per cell, over its seeds", rows_are="cell")


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
        for i in shown_indices(len(results), max_rows):
            r = results[i]
            parts.append(Text(f"\nNetwork {i}: {describe(r.spec)}", style="bold"))
            parts.append(weights_group(r))
    return Group(*parts)


MATCH_MARK = {"exact": ("✓ all digits", "green"), "close": ("≈ 1e-9", "yellow")}


def reproduce_table(results: Sequence[NetworkResult]) -> FitTable:
    """Published digits beside the obtained ones, one row per alpha and checkpoint."""
    rows = []
    for r in results:
        for c, (j, e) in enumerate(zip(r.checkpoint_iterations, r.checkpoint_errors)):
            verdict = tutorial.compare(r.spec.alpha, c, float(e))
            mark, style = MATCH_MARK.get(verdict, ("✗ MISMATCH", "bold red"))
            published = tutorial.PUBLISHED[r.spec.alpha][c]
            rows.append((fmt_alpha(r.spec.alpha), str(j), published, float(e), Text(mark, style)))
    titles = ("alpha", "iteration", "published", "obtained", "match")
    columns = [
        Column(
            title,
            title,
            [row[k] for row in rows],
            justify="left" if title == "match" else "right",
            number=fmt_error if title == "obtained" else None,
        )
        for k, title in enumerate(titles)
    ]
    steps = [
        Step(compact=True),
        Step(drop=["published"], left_out="published"),
        Step(digits={"obtained": 8}, rounded="obtained errors"),
    ]
    return FitTable(
        columns,
        steps,
        title="The tutorial's published sweep, reproduced",
        hint="--wide for the whole table, --json for every digit",
    )
