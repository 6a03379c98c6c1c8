"""toynn datasets: the named datasets, listed, exported as CSV or drawn."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from click.shell_completion import CompletionItem

from toynn_cli.cli.output import Terminal, data_format, emit, fail
from toynn_cli.config.check import SEED_EXPECTED, BadValue, seed_value
from toynn_cli.config.dataset import (
    NOISE_EXPECTED,
    SAMPLES_EXPECTED,
    noise_value,
    samples_value,
)
from toynn_cli.core import datasets
from toynn_cli.core.datasets import Dataset
from toynn_cli.store import runs
from toynn_cli.store.writer import write_error
from toynn_cli.view import workspace as workspace_view

#: The picture formats ``datasets plot`` writes, by the --out file's suffix.
PICTURE_FORMATS = ("png", "svg")


@click.group("datasets")
def datasets_group() -> None:
    """List the named datasets, export one as CSV or draw its points.

    NAME is a built-in dataset (xor, parity3, ...) or a generated one (circles,
    moons, spirals, blobs), whose --samples, --noise and --seed are those of a
    config's mapping {name: moons, samples: 200, noise: 0.2, seed: 1}. The CSV is
    what 'dataset: points.csv' in a config reads: training on it gives the same
    numbers as training on the named dataset.

    Example:

        toynn datasets export moons --samples 200 --out moons.csv
    """


def _noise(text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise BadValue from None
    return noise_value(number)


#: --samples, --noise, --seed: how each is read, and what it expects
PARAMETERS: dict[str, tuple[Callable[[str], Any], str]] = {
    "samples": (samples_value, SAMPLES_EXPECTED),
    "noise": (_noise, NOISE_EXPECTED),
    "seed": (seed_value, SEED_EXPECTED),
}


def generation_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """NAME and the generated sets' --samples, --noise and --seed."""
    for key in reversed(PARAMETERS):
        values = {n: p[key] for n, p in datasets.GENERATED.items()}
        common = max(values.values(), key=list(values.values()).count)
        others = [f"{n} {v}" for n, v in values.items() if v != common]
        defaults = "; ".join([f"{common}", *others])
        function = click.option(
            f"--{key}",
            metavar="N" if key != "noise" else "SD",
            help={
                "samples": "Points of a generated dataset",
                "noise": "Standard deviation of a generated dataset's noise",
                "seed": "Random seed of a generated dataset",
            }[key]
            + f" (default: {defaults}).",
        )(function)
    return click.argument("name", shell_complete=_complete_name)(function)


def file_options(out_help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--out (``out_help`` says what it holds), --force and --quiet: the options of a
    command that writes one file."""

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        function = click.option("--quiet", "-q", is_flag=True, help="No messages.")(function)
        function = click.option(
            "--force", is_flag=True, help="Overwrite --out if it exists (atomically)."
        )(function)
        return click.option("--out", required=True, type=click.Path(path_type=Path), help=out_help)(
            function
        )

    return decorate


def _complete_name(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
    return [CompletionItem(n) for n in datasets.BUILTIN if n.startswith(incomplete)]


def named_dataset(name: str, given: dict[str, str | None]) -> Dataset:
    """The dataset NAME is, generated with the options given; one line on a bad value."""
    if name not in datasets.BUILTIN:
        hint = difflib.get_close_matches(name.lower(), list(datasets.BUILTIN), n=1)
        suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
        fail(
            f"argument NAME is {name!r}; expected a built-in dataset "
            f"({', '.join(datasets.BUILTIN)}){suggestion}"
        )
    set_here = {key: text for key, text in given.items() if text is not None}
    if name not in datasets.GENERATED:
        if set_here:
            key = next(iter(set_here))
            fail(
                f"option --{key}: '{name}' is a fixed table; expected it only with a "
                f"generated dataset ({', '.join(datasets.GENERATED)})"
            )
        return datasets.BUILTIN[name]
    params = dict(datasets.GENERATED[name])
    for key, text in set_here.items():
        read, expected = PARAMETERS[key]
        try:
            params[key] = read(text)
        except BadValue:
            fail(f"option --{key} is {text!r}; expected {expected}")
    return datasets.generate(name, **params)  # type: ignore[arg-type]


def _refuse_existing(out: Path, force: bool) -> None:
    if out.is_dir():
        fail(f"option --out: '{out}' is a folder; expected a file name")
    if not force and (out.exists() or out.is_symlink()):
        fail(f"option --out: '{out}' exists; expected a new file (pass --force to overwrite it)")


def _write(term: Terminal, out: Path, content: bytes | str, what: str) -> None:
    try:
        runs.atomic_write(out, content)
    except OSError as exc:
        fail(write_error(out, exc))
    term.message(f"Wrote {out} ({what})", style="dim")


def _summary(data: Dataset) -> str:
    inputs = "input" if data.n_inputs == 1 else "inputs"
    targets = "target" if data.n_outputs == 1 else "targets"
    return f"{len(data.inputs)} samples, {data.n_inputs} {inputs}, {data.n_outputs} {targets}"


@datasets_group.command("list", short_help="List the named datasets.")
@click.option("--json", "as_json", is_flag=True, help="Print only JSON on stdout.")
@click.option("--csv", "as_csv", is_flag=True, help="Print only CSV on stdout.")
def list_command(as_json: bool, as_csv: bool) -> None:
    """List the named datasets: samples, inputs, outputs and what they are.

    Example:

        toynn datasets list
    """
    data_format(as_json, as_csv)
    rows = []
    for name, data in datasets.BUILTIN.items():
        about = datasets.DESCRIPTIONS.get(name, "")
        if name in datasets.GENERATED:
            params = ", ".join(f"{k} {v}" for k, v in datasets.GENERATED[name].items())
            about = f"{about} (generated: {params})"
        rows.append(
            {
                "name": name,
                "samples": len(data.inputs),
                "inputs": data.n_inputs,
                "outputs": data.n_outputs,
                "description": about,
            }
        )
    emit(
        Terminal(),
        as_json,
        as_csv,
        doc=lambda: rows,
        csv=lambda: (list(rows[0]), [list(row.values()) for row in rows]),
        table=lambda: workspace_view.datasets_table(rows),
    )


@datasets_group.command("export", short_help="Write a dataset as a CSV file (or to stdout).")
@generation_options
@file_options("The CSV file to write, or - for stdout.")
def export_command(
    name: str,
    samples: str | None,
    noise: str | None,
    seed: str | None,
    out: Path,
    force: bool,
    quiet: bool,
) -> None:
    """Write a named dataset as a CSV file that 'dataset: FILE' in a config reads.

    A header (input0, input1, ..., target), then one sample per row, in the
    dataset's order, each number as the shortest text that reads back as
    exactly it: a config's 'dataset: points.csv' trains to the same numbers as
    the named dataset (the run's name and dataset label aside).

    Example:

        toynn datasets export moons --samples 200 --noise 0.2 --out moons.csv
    """
    data = named_dataset(name, {"samples": samples, "noise": noise, "seed": seed})
    text = datasets.to_csv(data)
    if str(out) == "-":
        click.echo(text, nl=False)
        return
    _refuse_existing(out, force)
    _write(Terminal(quiet), out, text, _summary(data))


@datasets_group.command("plot", short_help="Draw a dataset's points as PNG or SVG.")
@generation_options
@file_options("The picture to write: a .png or .svg file.")
def plot_command(
    name: str,
    samples: str | None,
    noise: str | None,
    seed: str | None,
    out: Path,
    force: bool,
    quiet: bool,
) -> None:
    """Draw a named dataset's points, coloured by target (needs the plot extra).

    Over the plane of its first two varying inputs; other varying inputs are
    sliced (a panel per value when each has two, as in parity3) or left out (a
    projection of every sample); one varying input is drawn against the target.
    The picture's title says which.

    Example:

        toynn datasets plot spirals --noise 0.05 --out spirals.png
    """
    from toynn_cli.view import boundary, figure

    if not figure.available():
        fail(figure.INSTALL_HINT)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in PICTURE_FORMATS:
        fail(f"option --out is '{out}'; expected a file name ending in .png or .svg")
    data = named_dataset(name, {"samples": samples, "noise": noise, "seed": seed})
    if not boundary.varying_inputs(data.x):
        fail(f"argument NAME: '{name}' has no varying input; expected a dataset to draw")
    _refuse_existing(out, force)
    picture = boundary.dataset_points(data.x, data.y, f"{name}: {_summary(data)}", fmt)
    _write(Terminal(quiet), out, picture, _summary(data))
