"""Rich renderables of the workspace: the run-folder listing and a comparison of two runs.
Nothing here prints: the CLI decides where they go."""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from toynn_cli import axes
from toynn_cli.view.report import fmt_alpha, fmt_error, status_text, titled

RUNS_COMMAND_WIDTH = 60
STATE_STYLE = {"complete": "green", "interrupted": "yellow", "running": "cyan", "killed": "red"}


def runs_table(rows: Sequence[dict]) -> Table:
    """One row per run folder (``rows``: the mappings ``toynn runs --json`` prints)."""
    table = Table(title="Run folders, newest first", title_justify="left")
    for title, justify in (
        ("run", "left"),
        ("started", "left"),
        ("command", "left"),
        ("networks", "right"),
        ("best final error", "right"),
        ("state", "left"),
    ):
        long = title == "command"  # shortened with … (the whole command is in --json)
        table.add_column(
            title,
            justify=justify,  # type: ignore[arg-type]
            no_wrap=True,
            overflow="ellipsis" if long else "fold",
            max_width=RUNS_COMMAND_WIDTH if long else None,
        )
    for row in rows:
        done, total = row["networks_done"], row["networks"]
        best = row["best_final_error"]
        table.add_row(
            row["run"],
            (row["started"] or "").replace("T", " "),
            row["command"],
            str(total) if done == total else f"{done} of {total}",
            fmt_error(float(best)) if best is not None else "-",
            Text(row["state"], style=STATE_STYLE.get(row["state"], "")),
        )
    return table


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
        config_table = Table()
        for title in ("config key", "A", "B"):
            config_table.add_column(title)
        for key, a, b in comparison.differences:
            config_table.add_row(key, _config_value(a), _config_value(b))
        parts.append(titled("Config differences", config_table))
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
        table = Table()
        for setting in settings:
            table.add_column(setting.title, justify="right")
        for title in ("final A", "final B", "B - A", "status A", "status B"):
            table.add_column(title, justify="left" if title.startswith("status") else "right")
        limit = tolerance if tolerance is not None else 0.0
        for p in comparison.pairs:
            style = "red" if p.worse(limit) else ("green" if p.difference < 0 else "")
            assert all(s.label is not None for s in settings)
            table.add_row(
                *(_both(s.label(p.spec_a), s.label(p.spec_b)) for s in settings),  # type: ignore[misc]
                fmt_error(p.error_a),
                fmt_error(p.error_b),
                Text(_signed(p.difference), style=style),
                status_text(p.status_a),
                status_text(p.status_b),
            )
        parts.append(titled("Final error of the networks both runs trained", table))
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
