"""Rich renderables built from results, and their export as report.txt/.svg/.html.
Nothing here prints: the CLI decides where they go."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rich.console import Group, RenderableType
from rich.text import Text

from toynn_cli.analysis import ensemble
from toynn_cli.core import tutorial
from toynn_cli.core.network import NetworkResult
from toynn_cli.store.results import shown_indices
from toynn_cli.view.fit import (
    GAP,
    Cell,
    Column,
    FitTable,
    Step,
    constant_steps,
    middle_out,
)
from toynn_cli.view.formats import (
    MAX_CHECKPOINT_COLUMNS,
    STATUS_STYLE,
    best_index,
    describe,
    extra_columns,
    fmt_accuracy,
    fmt_alpha,
    fmt_error,
    fmt_hidden,
    header,
    status_text,
)
from toynn_cli.view.train import weights_group


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


def group_table(cells: Sequence[ensemble.Cell], max_rows: int | None = None) -> FitTable:
    """One row per cell (every setting but the seed): its seeds' median, min and max
    final error, the fraction that converged and the count of each status (which
    wraps between counts on a narrow page). With ``max_rows``, more cells are
    summarised as numpy prints an array: the first and the last, ``...`` between."""
    n_cells = len(cells)
    picked = shown_indices(n_cells, max_rows)
    cells = [cells[i] for i in picked]
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
    notes: list[RenderableType] = []
    if len(picked) < n_cells:
        gap_row(columns, [], (len(picked) + 1) // 2)
        notes.append(
            Text(
                f"first {(len(picked) + 1) // 2} and last {len(picked) // 2} of {n_cells} "
                "cells shown (--rows 0 for all)",
                style="dim",
            )
        )
    return FitTable(
        columns,
        steps,
        title="Final error per cell, over its seeds",
        rows_are="cell",
        notes=notes,
    )


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
        parts.append(group_table(ensemble.cells(results, statuses), max_rows))
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
