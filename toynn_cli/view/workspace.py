"""Rich renderables of the workspace: the run-folder listing and a comparison of two runs.
Nothing here prints: the CLI decides where they go."""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.text import Text

from toynn_cli import axes
from toynn_cli.view.fit import Cell, Column, FitTable, Step, constant_steps
from toynn_cli.view.formats import fmt_alpha, fmt_error, status_text

STATE_STYLE = {"complete": "green", "interrupted": "yellow", "running": "cyan", "killed": "red"}


def runs_table(rows: Sequence[dict]) -> FitTable:
    """One row per run folder (``rows``: the mappings ``toynn runs --json`` prints).
    The command is shown whole, on one line if leaving out the start time (also in
    the run's name) makes room; else it wraps between its words."""
    states: list[Cell] = [
        Text(row["state"], style=STATE_STYLE.get(row["state"], "")) for row in rows
    ]
    best: list[Cell] = [
        float(row["best_final_error"]) if row["best_final_error"] is not None else "-"
        for row in rows
    ]
    networks: list[Cell] = [
        str(row["networks"])
        if row["networks_done"] == row["networks"]
        else f"{row['networks_done']} of {row['networks']}"
        for row in rows
    ]
    columns = [
        Column("run", "run", [row["run"] for row in rows]),
        Column("started", "started", [(row["started"] or "").replace("T", " ") for row in rows]),
        Column("command", "command", [row["command"] for row in rows], wrap=True),
        Column("networks", "networks", networks, justify="right"),
        Column("best", "best final error", best, justify="right", number=fmt_error, short="best"),
        Column("state", "state", states),
    ]
    steps = [
        Step(drop=["started"], left_out="started (the run's name starts with it)"),
        Step(digits={"best": 6}, rounded="errors", short=["best"]),
        Step(compact=True),
        Step(digits={"best": 4}, rounded="errors"),
        Step(drop=["networks"], left_out="networks"),
        Step(drop=["best"], left_out="best final error"),
    ]
    return FitTable(
        columns, steps, title="Run folders, newest first", rows_are="run", one_line=True
    )


def _config_value(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict):
        return f"inline data '{value.get('name', '?')}'"
    if isinstance(value, float):
        return fmt_alpha(value)
    if isinstance(value, list):
        return ", ".join(_config_value(v) for v in value)
    return str(value)


def _both(a: str, b: str) -> str:
    return a if a == b else f"{a} vs {b}"


def _signed(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    return f"{value:+.6g}"


def compare_report(name_a: str, name_b: str, comparison, tolerance: float | None) -> Group:
    """Config differences first, then each network both runs trained: A's and B's final
    errors and B - A (red when B is worse by more than ``tolerance``, if given)."""
    parts: list[RenderableType] = [Text(f"A: {name_a}\nB: {name_b}")]
    if comparison.differences:
        keys, va, vb = zip(*comparison.differences)
        config_columns = [
            Column("key", "config key", list(keys)),
            Column("a", "A", [_config_value(v) for v in va], wrap=True),
            Column("b", "B", [_config_value(v) for v in vb], wrap=True),
        ]
        parts.append(FitTable(config_columns, [Step(compact=True)], title="Config differences"))
    else:
        parts.append(Text("Configs are identical.", style="dim"))
    ia, ib = comparison.iterations
    if ia != ib:
        parts.append(
            Text(
                f"The runs trained for different numbers of iterations ({ia} in A, {ib} in "
                "B): their final errors are not at the same point of training.",
                style="yellow",
            )
        )
    if comparison.pairs:
        specs = [p.spec_a for p in comparison.pairs] + [p.spec_b for p in comparison.pairs]
        settings = [s for s in axes.COLUMNS if s.key in axes.IDENTITY] + axes.varying(specs)
        settings.sort(key=axes.COLUMNS.index)
        pairs = comparison.pairs
        limit = tolerance if tolerance is not None else 0.0
        assert all(s.label is not None for s in settings)
        columns = [
            Column(
                setting.key,
                setting.title,
                [_both(setting.label(p.spec_a), setting.label(p.spec_b)) for p in pairs],  # type: ignore[misc]
                justify="right",
            )
            for setting in settings
        ]
        differences: list[Cell] = [
            Text(
                _signed(p.difference),
                style="red" if p.worse(limit) else ("green" if p.difference < 0 else ""),
            )
            for p in pairs
        ]
        columns += [
            Column("a", "final A", [p.error_a for p in pairs], justify="right", number=fmt_error),
            Column("b", "final B", [p.error_b for p in pairs], justify="right", number=fmt_error),
            Column("difference", "B - A", differences, justify="right"),
            Column("status_a", "status A", [status_text(p.status_a) for p in pairs]),
            Column("status_b", "status B", [status_text(p.status_b) for p in pairs]),
        ]
        steps = [
            *constant_steps(columns, [s.key for s in settings]),
            Step(digits={"a": 8, "b": 8}, rounded="final errors"),
            Step(compact=True),
            Step(digits={"a": 6, "b": 6}, rounded="final errors"),
            Step(digits={"a": 4, "b": 4}, rounded="final errors"),
        ]
        parts.append(
            FitTable(
                columns,
                steps,
                title="Final error of the networks both runs trained",
                rows_are="network",
            )
        )
        if comparison.unmatched:
            names = [axes.BY_KEY[k].title for k in comparison.unmatched]
            parts.append(
                Text(
                    f"Matched on every other setting; {' and '.join(names)} "
                    f"{'has' if len(names) == 1 else 'have'} one different value in each "
                    "run (shown as A vs B).",
                    style="dim",
                )
            )
    else:
        parts.append(Text("No network is in both runs with the same settings.", style="yellow"))
    unmatched = []
    if comparison.only_a:
        unmatched.append(f"{comparison.only_a} only in A")
    if comparison.only_b:
        unmatched.append(f"{comparison.only_b} only in B")
    if unmatched:
        parts.append(Text("Networks " + ", ".join(unmatched) + ".", style="dim"))
    return Group(*parts)


def datasets_table(rows: Sequence[dict]) -> FitTable:
    """The named datasets, one row each (``rows``: what ``datasets list --json`` prints);
    the description wraps between words when the page is narrow."""
    columns = [
        Column("name", "name", [row["name"] for row in rows]),
        Column("samples", "samples", [str(row["samples"]) for row in rows], justify="right"),
        Column("inputs", "inputs", [str(row["inputs"]) for row in rows], justify="right"),
        Column("outputs", "outputs", [str(row["outputs"]) for row in rows], justify="right"),
        Column("about", "description", [row["description"] for row in rows], wrap=True),
    ]
    return FitTable(columns, [Step(compact=True)], title="Named datasets", rows_are="dataset")
