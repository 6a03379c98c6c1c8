"""toynn train and toynn sweep."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from rich.console import RenderableType

from toynn_cli import axes, config
from toynn_cli.analysis import ensemble
from toynn_cli.cli import completion
from toynn_cli.cli.options import (
    OVERRIDE_KEYS,
    argv_of,
    common_options,
    display_options,
    load_experiment,
    require_one_network,
)
from toynn_cli.cli.output import Terminal, emit, fail
from toynn_cli.cli.session import Plan, estimate, execute, reopen
from toynn_cli.core import network
from toynn_cli.core.network import NetworkResult
from toynn_cli.run import executor
from toynn_cli.view import formats, report
from toynn_cli.view import plan as plan_view
from toynn_cli.view import train as train_view


@click.command()
@common_options
@click.pass_context
def train(ctx: click.Context, **params: Any) -> None:
    """Train one network and show its error, status, weights and direction changes.

    Without --config: the tutorial's opening program (xor, alpha 0.5, 4 hidden
    units, 60000 iterations, seed 1, error every 10000 iterations). Options
    override the config's keys. The run folder (under --out) holds config.yaml,
    results.json, metrics.csv, weights.npz and report.txt/.svg/.html (the HTML
    with the error curves and the decision boundary).

    Statuses (rules in docs/seeing-results.md, section Statuses): converged (final
    error <= 0.05), learning (still falling), stuck (a plateau), diverged (not
    finite; or blown up and the error did not come down; or weights grown
    1000-fold and not converged).

    Example:

        toynn train --config configs/xor.yaml --iterations 10000
    """
    term = Terminal(params["quiet"], params["wide"])
    experiment = load_experiment(params, config.TUTORIAL, argv_of(ctx))
    require_one_network(experiment, params, "train")

    def render(finished: list[NetworkResult], statuses: list[str]) -> RenderableType:
        return train_view.train_report(
            experiment.name, experiment.dataset.name, finished[0], statuses[0]
        )

    execute(term, experiment, params, argv_of(ctx), render)


@click.command()
@click.option(
    "--dry-run",
    is_flag=True,
    help="List the networks the sweep would train, its plan and its memory and time "
    "estimates (of the run as asked: saved, or with --no-save), and exit.",
)
@click.option(
    "--resume",
    type=click.Path(path_type=Path, file_okay=False),
    shell_complete=completion.run_folders,
    help="Finish an interrupted run folder: train only its missing chunks.",
)
@display_options
@common_options
@click.pass_context
def sweep(
    ctx: click.Context,
    dry_run: bool,
    resume: Path | None,
    show_weights: bool,
    rows: int,
    curves: str,
    group: bool | None,
    **params: Any,
) -> None:
    """Train every network of a grid (alphas x hidden sizes x seeds) in one batch.

    Shows one row per network: its error at each checkpoint, final error, a
    sparkline of its error history and status, with the best network starred;
    with several seeds per (alpha, hidden) cell, one row per cell instead
    (--no-group for one row per network). Without --config: the tutorial's
    published sweep (alphas 0.001..1000 on xor, 4 hidden units, seed 1). The
    run folder (under --out) holds config.yaml, results.json, metrics.csv, the
    trained chunks and report.txt/.svg/.html (the HTML with the error curves and
    the decision boundary).

    Statuses (rules in docs/seeing-results.md, section Statuses): converged (final
    error <= 0.05), learning (still falling), stuck (a plateau), diverged (not
    finite; or blown up and the error did not come down; or weights grown
    1000-fold and not converged).

    Sweep grammar for --alphas, --hidden, --seeds: lists 0.1,1,10; decades
    0.001..1000; N log-spaced points 0.01..10:7; whole-number ranges 0..99.

    Examples:

        toynn sweep --config configs/alpha-sweep.yaml

        toynn sweep --alphas 0.001..1000 --hidden 4,32 --seeds 1..5 --json

        toynn sweep --seeds 1..9999 --executor dask --scheduler tcp://HOST:8786
    """
    term = Terminal(params["quiet"], params["wide"])
    reopened = None
    if resume is not None:
        given = [
            f"--{k.replace('_', '-')}"
            for k in (*OVERRIDE_KEYS, "config_path")
            if params.get(k) is not None
        ]
        if params["no_save"]:
            given.append("--no-save")
        if params["full_history"]:
            given.append("--full-history")
        if given:
            fail(
                f"option --resume cannot be combined with {given[0].replace('config-path', 'config')}; "
                "the run folder's config.yaml decides the experiment"
            )
        experiment, *state = reopen(resume, params["workers"])
        reopened = tuple(state)
    else:
        experiment = load_experiment(params, config.TUTORIAL_SWEEP, argv_of(ctx))
    if dry_run:
        plan = Plan.make(experiment, params["workers"], params["max_memory"], params["chunk_size"])
        specs = plan.specs
        guess = estimate(experiment, plan, saved=not params["no_save"])

        def doc() -> dict[str, Any]:
            # the settings are listed when the sweep changes any of the tutorial's
            plain = all(formats.is_default(s) for s in specs)
            return {
                "experiment": config.as_dict(experiment),
                "networks": [
                    {"alpha": s.alpha, "hidden": axes.record(s)["hidden"], "seed": s.seed}
                    if plain
                    else axes.record(s)
                    for s in specs
                ],
                "chunks": len(plan.chunks),
                "chunk_size": plan.chunk_size,
                "workers": guess["workers"],
                "threads": guess["threads"],
                "engine": plan.engine,
                "estimated_memory_bytes": int(guess["memory_bytes"]),
                "estimated_seconds": guess["seconds"],
            }

        columns = axes.csv_columns()
        emit(
            term, params["as_json"], params["as_csv"],
            doc=doc,
            csv=lambda: (
                ("network", *(name for name, _ in columns)),
                [(i, *(cell(s) for _, cell in columns)) for i, s in enumerate(specs)],
            ),
            table=lambda: [
                plan_view.dry_run_table(specs, experiment.iterations, rows or None),
                plan_view.plan_line(
                    len(specs), len(plan.chunks), plan.chunk_size, guess, plan.engine,
                    plan.workers,
                    executor.in_process(
                        plan.chunks, plan.workers, experiment.iterations, plan.engine
                    ),
                ),
            ],
        )  # fmt: skip
        return

    def render(finished: list[NetworkResult], statuses: list[str]) -> RenderableType:
        return report.sweep_report(
            experiment.name,
            experiment.dataset.name,
            finished,
            statuses,
            rows or None,
            show_weights,
            curves,
            group if group is not None else ensemble.has_ensembles(finished),
        )

    def shown(specs: Sequence[network.NetworkSpec]) -> int | None:
        grouped = group if group is not None else ensemble.grid_has_ensembles(specs)
        return 0 if grouped and not show_weights else (rows or None)

    execute(term, experiment, params, argv_of(ctx), render, reopened, shown)
