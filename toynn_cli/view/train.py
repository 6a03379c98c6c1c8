"""Rich renderables of one trained network: its error at each checkpoint, its weights
(large matrices summarised as numpy prints them) and their direction changes.
Nothing here prints: the CLI decides where they go."""

from __future__ import annotations

import numpy as np
from rich.console import Group, RenderableType
from rich.text import Text

from toynn_cli.core.network import NetworkResult
from toynn_cli.view.fit import GAP, Cell, Column, FitTable, Step, edges, middle_out
from toynn_cli.view.formats import (
    MATRIX_EDGE,
    MATRIX_THRESHOLD,
    WEIGHT_DIGITS,
    describe,
    fmt_accuracy,
    fmt_error,
    fmt_weight,
    header,
    status_text,
)


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
