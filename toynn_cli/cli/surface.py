"""toynn surface: the error over two weights."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import click
import numpy as np
from rich.markup import escape
from rich.text import Text

from toynn_cli import config
from toynn_cli.analysis import surface
from toynn_cli.cli.options import argv_of, experiment_options, load_experiment, require_one_network
from toynn_cli.cli.output import Terminal, csv_text, data_format, emit, fail
from toynn_cli.store import results, writer
from toynn_cli.view import figure, formats, heatmap, plot

# --- error surface ----------------------------------------------------------------------


@click.command("surface")
@experiment_options
@click.option(
    "--weights",
    nargs=2,
    metavar="WA WB",
    help="The two weights to vary, e.g. 'W0[0,0]' 'W0[1,0]' (quote them: brackets are "
    "shell patterns). Default: the network's two weights, when it has two.",
)
@click.option(
    "--hold",
    type=click.Choice(["trained", "initial"]),
    default="trained",
    show_default=True,
    help="Hold every other weight at its trained or its initial value.",
)
@click.option(
    "--range",
    "bounds",
    nargs=2,
    type=float,
    default=(-10.0, 10.0),
    show_default=True,
    metavar="LOW HIGH",
    help="The values each of the two weights takes, from LOW to HIGH.",
)
@click.option(
    "--resolution",
    type=int,
    default=81,
    show_default=True,
    help="Grid points per weight (a RESOLUTION x RESOLUTION grid).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("runs"),
    show_default=True,
    help="Parent folder of the folder that gets surface.csv, path.csv and surface.png.",
)
@click.option("--no-save", is_flag=True, help="Write no files.")
@click.option("--json", "as_json", is_flag=True, help="Print only JSON on stdout.")
@click.option("--csv", "as_csv", is_flag=True, help="Print only the grid as CSV on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No messages.")
def surface_command(
    weights: tuple[str, str] | None,
    hold: str,
    bounds: tuple[float, float],
    resolution: int,
    out: Path,
    no_save: bool,
    as_json: bool,
    as_csv: bool,
    quiet: bool,
    **params: Any,
) -> None:
    """Draw the error over a grid of two weights, with the training path on it.

    Trains the network (one network: no sweeps) while recording its weights,
    then evaluates the error at every grid point as one batch, the other weights
    held at their trained (or initial) values. Without --config: the tutorial's
    two-layer network (first-column, no hidden layer, alpha 1, 10000 iterations).
    Writes <out>/<time>-<name>-surface/ with surface.csv (one row per grid
    point), path.csv (the training path) and, with the plot extra, surface.png.

    Example:

        toynn surface --config configs/two-layer.yaml

        toynn surface --config configs/xor.yaml --weights 'W0[0,0]' 'W0[1,0]'
    """
    data_format(as_json, as_csv)
    term = Terminal(quiet)
    experiment = load_experiment(params, config.TWO_LAYER, argv_of(click.get_current_context()))
    require_one_network(experiment, params, "surface")
    spec = experiment.networks()[0]
    data = experiment.dataset
    why = surface.unsupported(spec)
    if why is not None:
        fail(f"surface cannot draw this network: {why}")
    shapes = surface.shapes(data.n_inputs, spec, data.n_outputs)
    try:
        refs = [surface.parse_weight(w, shapes) for w in weights] if weights else [None, None]
    except surface.SurfaceError as exc:
        fail(f"option --weights: {exc}")
    if not 2 <= resolution <= surface.MAX_RESOLUTION:
        fail(
            f"option --resolution is {resolution}; "
            f"expected a whole number from 2 to {surface.MAX_RESOLUTION}"
        )
    low, high = bounds
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        fail(f"option --range is {low:g} {high:g}; expected two finite numbers LOW < HIGH")
    if refs[0] is not None and refs[0] == refs[1]:
        fail(f"option --weights names {refs[0].name} twice; expected two different weights")
    try:
        result = surface.compute(
            data.x, data.y, spec, experiment.iterations, refs[0], refs[1], low, high,
            resolution, hold, experiment.record_every,
        )  # fmt: skip
    except surface.SurfaceError as exc:
        fail(f"option --weights: {exc}")
    grid_csv = csv_text((result.a.name, result.b.name, "error"), surface.grid_csv_rows(result))

    def doc() -> dict[str, Any]:
        return {
            "experiment": config.as_dict(experiment),
            "weights": [result.a.name, result.b.name],
            "held": hold,
            "values_a": result.values_a.tolist(),
            "values_b": result.values_b.tolist(),
            "errors": [[results.number(e) for e in row] for row in result.errors.tolist()],
            "path": {
                "iterations": result.path_iterations.tolist(),
                "a": [results.number(v) for v in result.path_a.tolist()],
                "b": [results.number(v) for v in result.path_b.tolist()],
                "errors": [results.number(e) for e in result.path_errors.tolist()],
            },
        }

    def table() -> list:
        n_weights = sum(r * c for r, c in shapes)
        others = (
            f"the other {n_weights - 2} weights held at their {hold} values"
            if n_weights > 2
            else "the network has no other weights"
        )
        head = Text()
        head.append(experiment.name, style="bold")
        head.append(
            f"  dataset {data.name} · {formats.describe(spec)} · {experiment.iterations} "
            f"iterations · grid {resolution} x {resolution} over [{low:g}, {high:g}]; {others}"
        )
        columns = max(20, min(resolution, term.out.width - heatmap.MARGIN - 2))
        color = term.out.color_system is not None and not term.out.no_color
        return [head, heatmap.heatmap(result, columns, color), heatmap.surface_summary(result)]

    emit(term, as_json, as_csv, doc=doc, csv=lambda: grid_csv, table=table)
    if no_save:
        return
    path_rows = [
        (int(j), repr(float(a)), repr(float(b)), repr(float(e)))
        for j, a, b, e in zip(
            result.path_iterations, result.path_a, result.path_b, result.path_errors
        )
    ]
    header = ("iteration", result.a.name, result.b.name, "error")
    files: dict[str, bytes | str] = {
        "surface.csv": grid_csv,
        "path.csv": csv_text(header, path_rows),
    }
    if figure.available():
        files["surface.png"] = plot.surface_png(result, f"{experiment.name}: error surface")
    facts = {
        "weights": [result.a.name, result.b.name],
        "held": hold,
        "resolution": resolution,
        "range": [low, high],
        "min_error": results.number(float(np.nanmin(result.errors)))
        if np.isfinite(result.errors).any()
        else None,
    }
    try:
        folder = writer.write_surface(
            out, experiment, argv_of(click.get_current_context()), files, facts
        )
    except writer.StoreError as exc:
        fail(str(exc))
    term.message(f"Saved {folder}", style="dim")
    if not figure.available():
        term.message(escape(f"No surface.png: {figure.INSTALL_HINT}"), style="dim")
