"""The options commands share, each derived from the settings registry where it
is a setting, and the experiment they describe."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import click

from toynn_cli import axes, config
from toynn_cli.cli import completion
from toynn_cli.cli.output import data_format, fail
from toynn_cli.config import Experiment
from toynn_cli.core import engines
from toynn_cli.run import executor
from toynn_cli.view import report

# --- options ------------------------------------------------------------------------


def experiment_options(command: Callable) -> Callable:
    """The options that describe an experiment; each overrides the config's key."""
    options = [
        click.option(
            "--config",
            "-c",
            "config_path",
            type=click.Path(path_type=Path, dir_okay=True),
            help="YAML experiment config; - reads it from stdin (without it: the tutorial's "
            "settings).",
        ),
        *(
            click.option(
                *setting.flags,
                setting.key,
                help=setting.help,
                metavar=setting.metavar,
                type=click.Choice(engines.CHOICES) if setting.key == "engine" else None,
                shell_complete=completion.values(setting.choices, files=setting.key == "dataset")
                if setting.choices
                else None,
            )
            for setting in axes.SETTINGS
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


class ByteSize(click.ParamType):
    """A memory size: bytes, or a number with K, M, G or T (powers of 1024), e.g. 512M."""

    name = "size"
    UNITS: ClassVar[dict[str, int]] = {
        "": 1,
        "K": 1 << 10,
        "M": 1 << 20,
        "G": 1 << 30,
        "T": 1 << 40,
    }

    def convert(self, value: Any, param: Any, ctx: Any) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip().upper().removesuffix("IB").removesuffix("B")
        unit = text[-1:] if text[-1:] in self.UNITS else ""
        try:
            number = float(text[: len(text) - len(unit)])
        except ValueError:
            number = math.nan
        size = number * self.UNITS[unit]
        if not (math.isfinite(size) and size >= 1 << 20):
            self.fail(f"{value!r} is not a memory size of at least 1M (e.g. 512M, 2G)", param, ctx)
        return int(size)


def wide_option(command: Callable) -> Callable:
    """--wide: tables at their natural width (every column and digit) on any terminal."""
    return click.option(
        "--wide",
        is_flag=True,
        help="Print tables whole, every column and digit, however narrow the terminal "
        "(long lines wrap). Without it, a table too wide for the terminal leaves out "
        "optional columns and digits, and says so under it.",
    )(command)


def output_options(command: Callable) -> Callable:
    """Options about where results go and how the command exits."""
    options = [
        click.option(
            "--out",
            type=click.Path(path_type=Path, file_okay=False),
            default=Path("runs"),
            show_default=True,
            help="Parent folder of the run folder.",
        ),
        click.option("--no-save", is_flag=True, help="Do not write a run folder."),
        click.option(
            "--full-history",
            is_flag=True,
            help="Keep each network's error history at full precision (float64) in the "
            "run folder; by default it is stored as float32 (about 7 significant digits; "
            "errors, weights and checkpoints stay float64).",
        ),
        click.option(
            "--no-figures",
            is_flag=True,
            help="No figures in the run folder's report.html (the error curves and the "
            "decision boundary, drawn as SVG without matplotlib in tens of milliseconds).",
        ),
        click.option("--json", "as_json", is_flag=True, help="Print only JSON on stdout."),
        click.option(
            "--csv",
            "as_csv",
            is_flag=True,
            help="Print only CSV on stdout: one row per network (its number, every "
            "setting, final_error, final_accuracy, status).",
        ),
        click.option("--quiet", "-q", is_flag=True, help="No progress bar or messages."),
        wide_option,
        click.option(
            "--workers",
            type=click.IntRange(min=1),
            default=executor.available_cores(),
            show_default="the cores available",
            help="Cores to train on: worker processes for large grids, or the numba "
            "engine's threads in this process (results are identical for any number).",
        ),
        click.option(
            "--max-memory",
            type=ByteSize(),
            default=executor.DEFAULT_MAX_MEMORY,
            show_default="1G",
            help="Memory budget for the chunks in flight (each worker's training buffers "
            "and results, and the chunk being received): the grid is split to fit.",
        ),
        click.option(
            "--chunk-size",
            type=click.IntRange(min=1),
            help="Networks per chunk (default: as many as --max-memory allows per worker).",
        ),
        click.option(
            "--executor",
            type=click.Choice(["local", "dask"]),
            default="local",
            show_default=True,
            help="Where chunks train: this machine's processes, or a Dask cluster "
            "(needs toynn[dask]; without --scheduler a local Dask cluster of --workers "
            "processes).",
        ),
        click.option(
            "--scheduler",
            metavar="ADDRESS",
            help="Dask scheduler to send chunks to, e.g. tcp://10.0.0.5:8786 "
            "(with --executor dask).",
        ),
        click.option(
            "--max-error",
            type=float,
            help="Exit 1 if any network's final error is above this (for CI).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


#: the config keys an option overrides: every setting's
OVERRIDE_KEYS = tuple(setting.key for setting in axes.SETTINGS)


def display_options(command: Callable) -> Callable:
    """How a sweep's results are shown (``sweep`` and ``show``)."""
    options = [
        click.option(
            "--show-weights",
            is_flag=True,
            help="Also show each network's weights and direction changes.",
        ),
        click.option(
            "--rows",
            type=click.IntRange(min=0),
            default=100,
            show_default=True,
            help="Show at most this many networks (or cells, with --group) in the table: "
            "of more, the first and last half, as numpy prints a long array (0: all).",
        ),
        click.option(
            "--curves",
            type=click.Choice(report.CURVE_SCALES),
            default="linear",
            show_default=True,
            help="Sparkline of each network's error history, on a linear or log scale, or none.",
        ),
        click.option(
            "--group/--no-group",
            default=None,
            help="One row per cell (every setting but the seed) over its seeds: median, min, "
            "max final error, converged fraction, status counts. Default: on when a cell "
            "has several seeds.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def argv_of(ctx: click.Context) -> list[str]:
    return list((ctx.obj or {}).get("argv", []))


def common_options(command: Callable) -> Callable:
    @functools.wraps(command)
    def wrapper(**params: Any) -> None:
        data_format(params["as_json"], params["as_csv"])
        if params.get("max_error") is not None and not params["max_error"] >= 0:
            fail(f"option --max-error is {params['max_error']!r}; expected a number >= 0")
        if params.get("scheduler") is not None and params.get("executor") != "dask":
            fail("option --scheduler needs --executor dask")
        command(**params)

    return output_options(experiment_options(wrapper))


def require_one_network(experiment: Experiment, params: dict[str, Any], command: str) -> None:
    """Refuse a config or option that sweeps an axis: the command takes one network."""
    swept = experiment.swept_axes()
    if swept:
        axis, n = next(iter(swept.items()))
        if params.get(axis) is not None:
            source = f"option {axes.BY_KEY[axis].option}"
        else:
            source = f"{params.get('config_path')}: {axis}"
        fail(
            f"{source} has {n} values, but 'toynn {command}' trains one network; "
            f"use 'toynn sweep' for several"
        )


def load_experiment(
    params: dict[str, Any], defaults: dict[str, Any], argv: Sequence[str] = ()
) -> Experiment:
    overrides = {key: params[key] for key in OVERRIDE_KEYS if params.get(key) is not None}
    typed = [arg.split("=", 1)[0] for arg in argv]
    # each override's option as typed (--alpha or --alphas), for the messages: the last
    # spelling given is the one click kept
    flags = {
        key: next((f for f in reversed(typed) if f in axes.BY_KEY[key].flags), None)
        for key in overrides
        if key in axes.BY_KEY
    }
    try:
        experiment = config.resolve(
            params.get("config_path"),
            overrides,
            defaults,
            {key: flag for key, flag in flags.items() if flag is not None},
        )
    except config.ConfigError as exc:
        fail(str(exc))
    source = (
        "option --engine" if "engine" in overrides else f"{params.get('config_path')}: key 'engine'"
    )
    check_engine(experiment, source)
    return experiment


def check_engine(experiment: Experiment, source: str) -> None:
    """The numba engine needs numba (an optional extra): one line saying how to get it;
    and it trains the tutorial's networks only: the rest is refused up front."""
    why = engines.refusal(experiment.engine, experiment.networks())
    if why is not None:
        fail(f"{source} is '{experiment.engine}', {why}")
