"""toynn runs, show and compare: saved run folders."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import click

from toynn_cli import axes
from toynn_cli.analysis import ensemble
from toynn_cli.cli import completion
from toynn_cli.cli.options import display_options, wide_option
from toynn_cli.cli.output import (
    Terminal,
    csv_number,
    data_format,
    emit,
    fail,
    load_networks,
    networks_csv,
    open_run,
)
from toynn_cli.store import compare as compare_runs
from toynn_cli.store import results, workspace
from toynn_cli.view import heatmap, report, story
from toynn_cli.view import train as train_view
from toynn_cli.view import workspace as workspace_view


def run_row(run: workspace.RunFolder) -> dict[str, Any]:
    """One run folder as the mapping ``toynn runs --json`` prints."""
    best = run.best_final_error()
    return {
        "run": run.path.name,
        "path": str(run.path),
        "started": run.info.get("started"),
        "command": run.command,
        "kind": run.kind,
        "networks": run.n_networks,
        "networks_done": _count(run.info.get("networks_done", len(run.networks_raw))),
        "best_final_error": best,
        "state": run.state,
        # the run's story (run.json; null where an older toynn did not record it)
        **{key: run.info.get(key) for key in STORY_KEYS},
    }


#: run.json's facts ``toynn runs --json`` repeats after each row's own keys
STORY_KEYS = ("finished", "duration_seconds", "error", "config", "config_sha256",
              "toynn_version", "engine", "host", "git_commit", "git_dirty")  # fmt: skip


def _count(value: Any) -> int:
    """A count from run.json, or -1 when it holds something else."""
    return value if isinstance(value, int) and not isinstance(value, bool) else -1


RUNS_CSV_HEADER = ("run", "path", "started", "command", "networks", "networks_done",
                   "best_final_error", "state")  # fmt: skip


@click.command("runs")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("runs"),
    show_default=True,
    help="The folder that holds the run folders.",
)
@click.option("--json", "as_json", is_flag=True, help="Print only JSON on stdout.")
@click.option("--csv", "as_csv", is_flag=True, help="Print only CSV on stdout.")
@wide_option
def runs_command(out: Path, as_json: bool, as_csv: bool, wide: bool) -> None:
    """List the run folders under --out, newest first.

    Shows each run's name, start time, command (train, sweep or surface: --json's
    kind), networks, best final error and state: complete, interrupted, failed (training raised), running, or killed
    (run.json still says running but its process is gone). Folders that are
    not runs are skipped. Piped, each run is one line with its whole command
    (unless COLUMNS sets a width); on a terminal a long command wraps between
    its words. --json adds each run's end time, duration, error, config and its
    sha256, toynn version, engine, host and git commit.

    Example:

        toynn runs --out runs
    """
    data_format(as_json, as_csv)
    if out.exists() and not out.is_dir():
        fail(f"option --out: '{out}' is not a folder; expected the folder that holds run folders")
    term = Terminal(wide=wide, whole=True)  # piped: one line per run, whole commands
    rows = [run_row(r) for r in workspace.list_runs(out)]
    if not rows and not (as_json or as_csv):
        term.message(f"No run folders in '{out}'.")
        return
    emit(
        term, as_json, as_csv,
        doc=lambda: rows,
        csv=lambda: (
            RUNS_CSV_HEADER,
            [[row[k] if k != "best_final_error" else csv_number(row[k])
              for k in RUNS_CSV_HEADER] for row in rows],
        ),
        table=lambda: workspace_view.runs_table(rows),
    )  # fmt: skip


@click.command()
@click.argument("run_dir", type=click.Path(path_type=Path), shell_complete=completion.run_folders)
@display_options
@click.option("--json", "as_json", is_flag=True, help="Print only the saved JSON on stdout.")
@click.option("--csv", "as_csv", is_flag=True, help="Print one CSV row per network on stdout.")
@wide_option
def show(
    run_dir: Path,
    rows: int,
    show_weights: bool,
    curves: str,
    group: bool | None,
    as_json: bool,
    as_csv: bool,
    wide: bool,
) -> None:
    """Show a saved run's tables again, from its results.json (no training).

    Then the run's story, from its run.json: state, command, config and its
    sha256, times, duration, engine, versions, host, git commit.

    Statuses as saved with the run (rules in docs/seeing-results.md, section
    Statuses): converged (final error <= 0.05), learning (still falling),
    stuck (a plateau), diverged (not finite; or blown up and the error did not
    come down; or weights grown 1000-fold and not converged).

    Example:

        toynn show runs/20260101-120000-alpha-sweep
    """
    data_format(as_json, as_csv)
    run = open_run(run_dir)
    term = Terminal(wide=wide)
    if run.kind == "surface":  # its map: surface.csv; its facts: run.json
        try:
            grid = workspace.surface_grid(run)
        except workspace.NotARunError as exc:
            fail(str(exc))
        name = run.path.name
        emit(
            term, as_json, as_csv,
            doc=lambda: run.info,
            csv=lambda: grid,
            table=lambda: [heatmap.surface_facts(name, run.info),
                           story.story_table(run.info, run.state)],
        )  # fmt: skip
        return

    def doc() -> dict:
        load_networks(run)  # refuse malformed results
        return run.doc

    def csv() -> str:
        indices, finished, statuses = _networks(run, None)
        return networks_csv(finished, statuses, indices)

    def table() -> list:
        _, finished, statuses = _networks(run, rows or None)
        if run.state != "complete":
            term.warn(
                f"{run.path}: the run is {run.state}; showing the {len(finished)} of "
                f"{run.n_networks} networks that finished"
            )
        if not finished:
            return []
        name = str(run.experiment.get("name", run.path.name))
        dataset = str(run.networks_raw[0].get("dataset", "?"))
        if run.kind == "train" and len(finished) == 1:
            shown = train_view.train_report(name, dataset, finished[0], statuses[0])
        else:
            shown = report.sweep_report(
                name,
                dataset,
                finished,
                statuses,
                rows or None,
                show_weights,
                curves,
                group if group is not None else ensemble.has_ensembles(finished),
            )
        return [shown, story.story_table(run.info, run.state)]

    emit(term, as_json, as_csv, doc=doc, csv=csv, table=table)


def _networks(run: workspace.RunFolder, rows: int | None) -> tuple[list[int], list, list[str]]:
    """A run's networks (grid indices, results, statuses): a large run's from its chunk
    files, with ``rows`` the first and last of them; a small run's from results.json."""
    if not run.summarised:
        finished, statuses = load_networks(run)
        return list(range(len(finished))), finished, statuses
    try:
        return workspace.load_sweep(run, rows)
    except workspace.NotARunError as exc:
        fail(str(exc))


#: compare --csv's columns after A's settings (axes.csv_columns)
COMPARE_CSV_COLUMNS = ("final_error_a", "final_error_b", "difference", "status_a", "status_b")


@click.command()
@click.argument("run_a", type=click.Path(path_type=Path), shell_complete=completion.run_folders)
@click.argument("run_b", type=click.Path(path_type=Path), shell_complete=completion.run_folders)
@click.option(
    "--fail-if-worse",
    "tolerance",
    type=float,
    help="Exit 1 if a network's final error in B is above A's by more than this.",
)
@click.option("--json", "as_json", is_flag=True, help="Print only JSON on stdout.")
@click.option("--csv", "as_csv", is_flag=True, help="Print one CSV row per network on stdout.")
@wide_option
def compare(
    run_a: Path, run_b: Path, tolerance: float | None, as_json: bool, as_csv: bool, wide: bool
) -> None:
    """Compare two saved runs: config differences, then the final error of each
    network both trained (the same on every setting: alpha, hidden, seed,
    optimizer, bias, ...) and B - A. A setting with one different value in each
    run (hidden 4 in A, 32 in B; adam in A, sgd in B) is not matched on, and
    is said. Runs of any size are compared whole.

    With --fail-if-worse TOL the exit code is 1 when any network's final error in
    B is above A's by more than TOL (a regression check for CI).

    Statuses as saved with each run (rules in docs/seeing-results.md, section
    Statuses): converged (final error <= 0.05), learning (still falling),
    stuck (a plateau), diverged (not finite; or blown up and the error did not
    come down; or weights grown 1000-fold and not converged).

    Example:

        toynn compare runs/A runs/B --fail-if-worse 1e-9
    """
    data_format(as_json, as_csv)
    if tolerance is not None and not (tolerance >= 0 and math.isfinite(tolerance)):
        fail(f"option --fail-if-worse is {tolerance!r}; expected a finite number >= 0")
    a, b = open_run(run_a), open_run(run_b)
    try:
        comparison = compare_runs.compare(a, b)
    except workspace.NotARunError as exc:
        fail(str(exc))
    worse = [p for p in comparison.pairs if tolerance is not None and p.worse(tolerance)]
    term = Terminal(wide=wide)
    emit(
        term, as_json, as_csv,
        doc=lambda: {**_comparison_doc(a, b, comparison), "worse": len(worse)},
        csv=lambda: _comparison_csv(comparison),
        table=lambda: workspace_view.compare_report(
            str(a.path), str(b.path), comparison, tolerance
        ),
    )  # fmt: skip
    if worse:
        noun = "network is" if len(worse) == 1 else "networks are"
        click.echo(
            f"{len(worse)} {noun} worse in B by more than --fail-if-worse {tolerance:g}", err=True
        )
        sys.exit(1)


def _comparison_doc(
    a: workspace.RunFolder, b: workspace.RunFolder, comparison: compare_runs.Comparison
) -> dict:
    """compare --json: the config differences, each pair (A's settings, B's where not
    matched on), what was matched on and what was in one run only."""
    return {
        "a": str(a.path),
        "b": str(b.path),
        "config_differences": [
            {"key": k, "a": va, "b": vb} for k, va, vb in comparison.differences
        ],
        "networks": [
            {
                **axes.record(p.spec_a),
                "final_error_a": results.number(p.error_a),
                "final_error_b": results.number(p.error_b),
                "difference": results.number(p.difference),
                "status_a": p.status_a,
                "status_b": p.status_b,
                # B's values of the settings not matched on
                **{
                    f"{field}_b": value
                    for field, value in axes.record(p.spec_b).items()
                    if value != axes.record(p.spec_a)[field]
                },
            }
            for p in comparison.pairs
        ],
        "matched_on": comparison.matched_on,
        "not_matched_on": comparison.unmatched,
        "iterations": {"a": comparison.iterations[0], "b": comparison.iterations[1]},
        "only_in_a": comparison.only_a,
        "only_in_b": comparison.only_b,
    }


def _comparison_csv(comparison: compare_runs.Comparison) -> tuple[tuple, list]:
    """compare --csv: A's settings, the errors and statuses, B's settings not matched on."""
    columns = axes.csv_columns()
    other = [
        (f"{name}_b", cell)
        for key in comparison.unmatched
        for name, cell in axes.setting_csv_columns(axes.BY_KEY[key])
    ]
    lines = [
        (
            *(cell(p.spec_a) for _, cell in columns),
            repr(p.error_a),
            repr(p.error_b),
            repr(p.difference),
            p.status_a,
            p.status_b,
            *(cell(p.spec_b) for _, cell in other),
        )
        for p in comparison.pairs
    ]
    header = (*(n for n, _ in columns), *COMPARE_CSV_COLUMNS, *(n for n, _ in other))
    return header, lines
