"""toynn plot: figures of a saved run."""

from __future__ import annotations

from pathlib import Path

import click

from toynn_cli.cli import completion
from toynn_cli.cli.output import Terminal, fail, load_networks, open_run
from toynn_cli.core.network import NetworkResult
from toynn_cli.store import runs, workspace
from toynn_cli.store.writer import write_error
from toynn_cli.view import boundary, figure, formats, plot

# --- figures ----------------------------------------------------------------------------

MAX_BOUNDARY_NETWORKS = 6


def _pick_networks(text: str | None, finished: list[NetworkResult]) -> list[int]:
    if text is None:
        best = formats.best_index(finished)
        return [best if best is not None else 0]
    expected = (
        f"network numbers from 0 to {len(finished) - 1} separated by commas "
        f"(as in 'toynn show --csv'), at most {MAX_BOUNDARY_NETWORKS}"
    )
    try:
        picks = [int(part) for part in text.split(",")]
    except ValueError:
        fail(f"option --networks is {text!r}; expected {expected}")
    if (
        not picks
        or len(picks) > MAX_BOUNDARY_NETWORKS
        or any(not 0 <= i < len(finished) for i in picks)
    ):
        fail(f"option --networks is {text!r}; expected {expected}")
    return picks


@click.command("plot")
@click.argument("run_dir", type=click.Path(path_type=Path), shell_complete=completion.run_folders)
@click.option(
    "--color-by",
    type=click.Choice(plot.AXES),
    metavar="SETTING",
    help=f"Colour the error curves by this setting: {', '.join(plot.AXES)} (default: the "
    "first of them that varies).",
)
@click.option(
    "--networks",
    help="Networks whose decision boundary to draw, e.g. 0,4 (default: the best one).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder for the figures (default: the run folder).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Overwrite figures already in the folder (each replaced atomically).",
)
@click.option("--quiet", "-q", is_flag=True, help="No messages.")
def plot_command(
    run_dir: Path,
    color_by: str | None,
    networks: str | None,
    out: Path | None,
    force: bool,
    quiet: bool,
) -> None:
    """Draw a saved run's figures as PNG and SVG (needs the plot extra).

    curves.png/.svg: error against iteration on log axes, one curve per network
    (its recorded points: lines where they are dense, markers where sparse, no line
    across a gap or a NaN), coloured by the swept axis.

    boundary.png/.svg: the output of the chosen networks over the plane of the
    first two varying inputs, the 0.5 contour and the samples. Other varying inputs
    are sliced (a row of panels per value when each has two, as in parity3) or held
    at their mean; one varying input is drawn as a line. The figure's title says
    which.

    Existing figures are refused unless --force is given.

    Example:

        toynn plot runs/20260101-120000-alpha-sweep
    """
    if not figure.available():
        fail(figure.INSTALL_HINT)
    term = Terminal(quiet)
    run = open_run(run_dir)
    finished, _statuses = load_networks(run)
    if not finished:
        fail(f"'{run.path}' has no finished networks; expected a run with results to plot")
    picks = _pick_networks(networks, finished)
    folder = out if out is not None else run.path
    name = str(run.experiment.get("name", run.path.name))
    data = workspace.run_dataset(run)
    if networks is not None and (data is None or not boundary.varying_inputs(data[0])):
        why = "cannot be read again" if data is None else "has no varying input"
        fail(
            f"option --networks: the run's dataset {why}; expected a run whose "
            "dataset has an input that varies"
        )
    chosen = [finished[i] for i in picks]
    formats = ("png", "svg")
    for filename in plot.figure_names(data, chosen, formats):
        target = folder / filename
        if target.is_dir():  # not even --force replaces a folder
            fail(f"'{target}' is a folder; expected a figure file or none there")
        if not force and (target.exists() or target.is_symlink()):
            fail(
                f"'{target}' exists; expected a folder without figures (pass --force to "
                "overwrite them, or --out for another folder)"
            )
    figures = plot.run_figures(finished, data, chosen, name, formats, color_by)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for filename, content in figures.items():
            runs.atomic_write(folder / filename, content)
    except OSError as exc:
        fail(write_error(folder, exc))
    for filename in figures:
        term.message(f"Wrote {folder / filename}", style="dim")
    too_big = boundary.boundary_too_big(chosen) if data is not None else None
    if too_big is not None and boundary.varying_inputs(data[0]):
        term.message(too_big, style="dim")
