"""The ``toynn`` command line: thin click commands, parse -> call -> render.

Data goes to stdout, messages and progress to stderr. Every error the user can fix is
one line on stderr and exit code 2; ``--max-error`` failures exit 1; Ctrl-C exits 130
and SIGTERM 143, after marking the run folder interrupted.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import json
import math
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, NoReturn

import click
from rich.console import Console, RenderableType
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.text import Text

from toynn_cli import (
    __version__,
    config,
    distributed,
    engine,
    ensemble,
    executor,
    heatmap,
    plot,
    report,
    results,
    runs,
    surface,
    tutorial,
    workspace,
)
from toynn_cli.config import Experiment
from toynn_cli.engine import NetworkResult
from toynn_cli.interrupts import Interrupted, SignalGuard

NON_TTY_WIDTH = 200


class UserError(click.ClickException):
    """An error the user can fix: printed as one line, exit code 2."""

    exit_code = 2


class ToynnGroup(click.Group):
    """A click group whose errors are one line on stderr (no usage block, no traceback)."""

    def main(self, args: Sequence[str] | None = None, **extra: Any) -> Any:  # type: ignore[override]
        argv = list(args) if args is not None else sys.argv[1:]
        extra["standalone_mode"] = False
        extra.setdefault("obj", {"argv": argv})
        try:
            code = super().main(argv, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
            sys.exit(0)
        except click.ClickException as exc:
            message = exc.format_message()
            if isinstance(exc, click.UsageError) and exc.ctx is not None:
                message += f" (see '{exc.ctx.command_path} --help')"
            click.echo(f"Error: {message}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(130)
        except Interrupted as exc:  # a second signal while a first was held
            click.echo("Interrupted.", err=True)
            sys.exit(exc.exit_code)
        sys.exit(code if isinstance(code, int) else 0)


class Terminal:
    """The one place output goes: ``out`` (stdout, data) and ``err`` (stderr, messages).

    rich turns colour off when a stream is not a terminal or ``NO_COLOR`` is set; when
    stdout is not a terminal, tables get a wide page instead of being squeezed to 80.
    """

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        probe = Console()
        self.out = probe if probe.is_terminal else Console(width=NON_TTY_WIDTH)
        self.err = Console(stderr=True)

    def message(self, text: str, style: str | None = None) -> None:
        if not self.quiet:
            self.err.print(text, style=style, highlight=False, soft_wrap=True)

    def warn(self, text: str) -> None:
        self.err.print(text, style="yellow", highlight=False, soft_wrap=True)

    @contextmanager
    def progress(self, description: str, total: int):
        """A progress bar on stderr, only when stderr is a terminal and not --quiet;
        yields a ``callback(done, total)``."""
        if self.quiet or not self.err.is_terminal:
            yield None
            return
        bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeRemainingColumn(),
            console=self.err,
            transient=True,
        )
        task = bar.add_task(description, total=total)
        with bar:
            yield lambda done, _total: bar.update(task, completed=done)


def _fail(message: str) -> NoReturn:
    raise UserError(message)


# --- options ------------------------------------------------------------------------


def experiment_options(command: Callable) -> Callable:
    """The options that describe an experiment; each overrides the config's key."""
    options = [
        click.option(
            "--config",
            "-c",
            "config_path",
            type=click.Path(path_type=Path, dir_okay=True),
            help="YAML experiment config (without it: the tutorial's settings).",
        ),
        click.option(
            "--dataset",
            help="Built-in dataset (xor, first-column, and, or, xor2, parity3, circles, moons, spirals, blobs) or a .csv file.",
        ),
        click.option(
            "--alpha",
            "--alphas",
            "alphas",
            help="Step size(s): 0.5, 0.1,1,10, 0.001..1000, 0.01..10:7.",
        ),
        click.option(
            "--hidden",
            help="Hidden layer size(s), 0 for none: 4, 2,4,8, 1..32; 8x4 is two hidden "
            "layers (4,8x4 sweeps one layer of 4 and two of 8 and 4).",
        ),
        click.option("--iterations", help="Training iterations per network."),
        click.option("--seed", "--seeds", "seeds", help="Random seed(s): 1, 1,2,3, 0..99."),
        click.option("--log-every", help="Report the error every N iterations."),
        click.option(
            "--record-every",
            metavar="K",
            help="Record each network's error history (sparklines, plots) every K "
            "iterations; default: auto, about 200 points per run.",
        ),
        click.option("--name", help="Run name, used in the run folder's name."),
        click.option(
            "--engine",
            type=click.Choice(engine.ENGINES),
            help="Training engine: numpy (the reference, default), numba (compiled, the "
            "same bits; pip install 'toynn[fast]') or numba-fast (the same as numba, kept "
            "for existing configs).",
        ),
        click.option(
            "--optimizer",
            "--optimizers",
            "optimizers",
            help="Optimizer(s): sgd (default), momentum, nesterov, adagrad, adadelta, "
            "rmsprop, adam; a comma list is a sweep axis.",
        ),
        click.option("--bias", help="Bias units: true, false, or false,true as a sweep axis."),
        click.option(
            "--activation",
            "--activations",
            "activations",
            help="Hidden activation(s): sigmoid (default), tanh, relu, leaky_relu.",
        ),
        click.option(
            "--loss", "--losses", "losses", help="Loss(es): squared (default), cross_entropy."
        ),
        click.option(
            "--init", "--inits", "inits", help="Initialisation(s): uniform (default), xavier, he."
        ),
        click.option(
            "--batch-size",
            help="Mini-batch size, samples shuffled per network and epoch (0: full batch); "
            "a sweep axis.",
        ),
        click.option(
            "--batch-norm",
            help="Batch normalisation of hidden layers: true, false, or false,true.",
        ),
        click.option(
            "--dropout",
            help="Dropout probability on hidden layers in training (0: off); a sweep axis.",
        ),
        click.option(
            "--weight-decay",
            help="L2 weight decay, every optimizer's weight_decay (0: off); a sweep axis.",
        ),
        click.option(
            "--clip-value", help="Clamp each gradient element to [-C, C] (0: off); a sweep axis."
        ),
        click.option(
            "--clip-norm", help="Scale each network's gradient to norm <= C (0: off); a sweep axis."
        ),
        click.option(
            "--schedule",
            "--schedules",
            "schedules",
            help="Learning-rate schedule(s): constant (default), step, exponential, cosine.",
        ),
        click.option(
            "--schedule-params",
            help="Schedule parameters as a YAML mapping: '{step_size: 1000, gamma: 0.5}'.",
        ),
        click.option(
            "--target-error",
            help="Early stopping: a network stops at this error (0: off); a sweep axis.",
        ),
        click.option(
            "--optimizer-params",
            help="Hyperparameters as a YAML mapping: '{betas: [0.9, 0.99]}', "
            "'{adam: {eps: 1e-7}, momentum: {momentum: 0.8}}'.",
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
            "--no-figures",
            is_flag=True,
            help="No figures in the run folder's report.html (drawing them needs the plot "
            "extra and takes about a second).",
        ),
        click.option("--json", "as_json", is_flag=True, help="Print only JSON on stdout."),
        click.option(
            "--csv",
            "as_csv",
            is_flag=True,
            help="Print only CSV on stdout: one row per network (network, alpha, hidden, "
            "seed, final_error, status).",
        ),
        click.option("--quiet", "-q", is_flag=True, help="No progress bar or messages."),
        click.option(
            "--workers",
            type=click.IntRange(min=1),
            default=executor.available_cores(),
            show_default="the cores available",
            help="Worker processes for large grids (results are identical for any number).",
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


OVERRIDE_KEYS = (
    "dataset",
    "alphas",
    "hidden",
    "iterations",
    "seeds",
    "log_every",
    "record_every",
    "name",
    "engine",
    "optimizers",
    "optimizer_params",
    "bias",
    "activations",
    "losses",
    "inits",
    "clip_value",
    "clip_norm",
    "schedules",
    "schedule_params",
    "target_error",
    "weight_decay",
    "batch_size",
    "dropout",
    "batch_norm",
)


#: Options with two spellings: errors name the one the user typed.
ALIASES = {"--alphas": "--alpha", "--seeds": "--seed"}


def load_experiment(
    params: dict[str, Any], defaults: dict[str, Any], argv: Sequence[str] = ()
) -> Experiment:
    overrides = {key: params[key] for key in OVERRIDE_KEYS if params.get(key) is not None}
    try:
        experiment = config.resolve(params.get("config_path"), overrides, defaults)
    except config.ConfigError as exc:
        message = str(exc)
        typed = {arg.split("=", 1)[0] for arg in argv}
        for canonical, alias in ALIASES.items():
            if alias in typed and canonical not in typed:
                message = message.replace(f"option {canonical} ", f"option {alias} ")
        _fail(message)
    source = (
        "option --engine" if "engine" in overrides else f"{params.get('config_path')}: key 'engine'"
    )
    check_engine(experiment, source)
    return experiment


def check_engine(experiment: Experiment, source: str) -> None:
    """The numba engine needs numba (an optional extra): one line saying how to get it;
    and it trains the tutorial's networks only: the rest is refused up front."""
    if experiment.engine not in ("numba", "numba-fast"):
        return
    from toynn_cli import engine_numba  # does not import numba

    for spec in experiment.networks():
        found = engine_numba.unsupported(spec)
        if found is not None:
            _fail(
                f"{source} is '{experiment.engine}', which cannot train {found[0]} "
                f"{found[1]!r}; expected "
                "engine numpy for anything but plain sgd with sigmoid units and squared loss "
                "(no bias, init, clipping, schedule, early stopping, mini-batches, dropout or "
                "batch norm)"
            )
    if not engine_numba.available():
        _fail(
            f"{source} is '{experiment.engine}', but numba is not installed; "
            f"install it with: {engine_numba.INSTALL_HINT}"
        )


# --- running ---------------------------------------------------------------------------


@dataclass
class Plan:
    """How a grid is trained: its networks, their chunks and the number of workers."""

    specs: list[engine.NetworkSpec]
    chunks: list[executor.Chunk]
    chunk_size: int
    workers: int
    #: a connected Dask cluster (``--executor dask``), or None: local processes
    cluster: distributed.Cluster | None = None

    @classmethod
    def make(
        cls, experiment: Experiment, workers: int, max_memory: int, size: int | None = None
    ) -> Plan:
        specs = experiment.networks()
        data = experiment.dataset
        size = size or executor.chunk_size(
            specs,
            data.n_inputs,
            data.n_outputs,
            len(data.inputs),
            experiment.iterations,
            experiment.log_every,
            max_memory,
            workers,
            experiment.record_every,
        )
        return cls(specs, executor.plan(specs, size), size, workers)


def train_all(
    term: Terminal,
    experiment: Experiment,
    plan: Plan,
    guard: SignalGuard,
    done: dict[int, executor.ChunkResult],
    on_chunk: Callable[[executor.ChunkResult], None] | None = None,
) -> Interrupted | None:
    """Train the chunks not yet in ``done`` (adding them as they finish, after
    ``on_chunk`` has saved them); on an interrupt return the interrupt."""
    data = experiment.dataset
    todo = [c for c in plan.chunks if c.index not in done]
    n = sum(len(c) for c in todo)
    noun = "network" if n == 1 else "networks"
    with term.progress(f"training {n} {noun}", n * experiment.iterations) as progress:
        try:
            with guard.live():
                if plan.cluster is not None:
                    stream = plan.cluster.run(
                        data.x,
                        data.y,
                        plan.specs,
                        todo,
                        experiment.iterations,
                        experiment.log_every,
                        progress,
                        engine_name=experiment.engine,
                        record_every=experiment.record_every,
                    )
                else:
                    stream = executor.run(
                        data.x,
                        data.y,
                        plan.specs,
                        todo,
                        experiment.iterations,
                        experiment.log_every,
                        plan.workers,
                        progress,
                        engine_name=experiment.engine,
                        record_every=experiment.record_every,
                    )
                # closed as soon as training stops (an interrupt while a chunk is being
                # saved too): the executor stops its workers then, not when the
                # generator is garbage-collected
                with contextlib.closing(stream):
                    for result in stream:
                        if on_chunk is not None:
                            on_chunk(result)
                        done[result.chunk.index] = result
        except Interrupted as exc:
            return exc
    return None


def report_figures(
    term: Terminal, experiment: Experiment, finished: Sequence[NetworkResult]
) -> dict[str, bytes]:
    """report.html's figures when the plot extra is installed: the error curves and, for
    datasets with two varying inputs, the best network's decision boundary (PNG)."""
    if not plot.available():
        return {}
    best = report.best_index(finished)
    chosen = (
        [] if best is None else [(report.describe(finished[best].spec), finished[best].weights)]
    )
    data = experiment.dataset
    try:
        return plot.run_figures(finished, (data.x, data.y), chosen, experiment.name, ["png"])
    except Exception as exc:  # a figure must never cost the run its other files
        term.warn(f"report.html has no figures: {type(exc).__name__}: {exc}")
        return {}


class Run:
    """A run folder being written: config first, each chunk as it finishes, results
    when training ends."""

    CHUNKS = "chunks"

    def __init__(self, directory: Path, info: dict[str, Any]) -> None:
        self.dir = directory
        self.info = info

    @classmethod
    def create(
        cls,
        parent: Path,
        experiment: Experiment,
        argv: list[str],
        plan: Plan,
        where: dict[str, Any] | None = None,
    ) -> Run:
        info = {
            "command": shlex.join(["toynn", *argv]),
            "started": datetime.now().isoformat(timespec="seconds"),
            "toynn_version": __version__,
            "networks": len(plan.specs),
            "chunk_size": plan.chunk_size,
            "chunks": len(plan.chunks),
            "engine": experiment.engine,
            **(where or {}),
            "pid": os.getpid(),
        }
        try:
            run = cls(runs.create_run_dir(parent, experiment.name), info)
            os.mkdir(run.dir / cls.CHUNKS)
            runs.atomic_write(run.dir / "config.yaml", config.dump(experiment))
            runs.write_status(run.dir, "running", **info, networks_done=0)
        except OSError as exc:
            _fail(str(exc) if isinstance(exc, runs.RunDirError) else _write_error(parent, exc))
        return run

    def save_chunk(self, result: executor.ChunkResult, done: int) -> None:
        """Write one trained chunk, then record progress (both atomic)."""
        try:
            path = self.dir / self.CHUNKS / f"{result.chunk.index:05d}.npz"
            runs.atomic_write(path, lambda handle: results.write_chunk(result, handle))
            runs.write_status(self.dir, "running", **self.info, networks_done=done)
        except OSError as exc:
            self.failed(exc, done - len(result.chunk))

    def failed(self, exc: OSError, networks_done: int) -> NoReturn:
        """A write failed (disk full, permissions): mark the folder interrupted if that
        can still be written, then stop with one line (exit 2). Chunks already saved
        stay valid for --resume."""
        self.stopped(_write_error(self.dir, exc), networks_done)

    def stopped(self, message: str, networks_done: int) -> NoReturn:
        """Training cannot go on: mark the folder interrupted (if that can still be
        written) with the reason, then stop with one line (exit 2)."""
        with contextlib.suppress(OSError):
            runs.write_status(
                self.dir, "interrupted", **self.info, networks_done=networks_done, error=message
            )
        _fail(message)

    def finish(
        self,
        doc: dict[str, Any],
        finished: list[NetworkResult],
        indices: list[int],
        report_files: tuple[str, str, str] | None,
        interrupted: Interrupted | None,
    ) -> None:
        try:
            runs.atomic_write(self.dir / "results.json", results.to_json(doc))
            runs.atomic_write(
                self.dir / "metrics.csv",
                lambda handle: results.write_metrics_csv(handle, finished, indices),
            )
            if len(finished) <= results.FULL_RECORDS_LIMIT:  # beyond: the chunk files
                runs.atomic_write(self.dir / "weights.npz", results.weights_npz(finished, indices))
            if report_files is not None:
                runs.atomic_write(self.dir / "report.txt", report_files[0])
                runs.atomic_write(self.dir / "report.svg", report_files[1])
                runs.atomic_write(self.dir / "report.html", report_files[2])
            state = "interrupted" if interrupted else "complete"
            extra: dict[str, Any] = {"networks_done": len(finished)}
            if interrupted:
                extra["signal"] = "SIGINT" if interrupted.exit_code == 130 else "SIGTERM"
            runs.write_status(self.dir, state, **self.info, **extra)
        except OSError as exc:
            self.failed(exc, len(finished))


def _write_error(where: Path, exc: OSError) -> str:
    return f"cannot write to '{where}': {exc.strerror or exc}"


def reopen(run_dir: Path, workers: int) -> tuple[Experiment, Run, Plan, dict[int, Any]]:
    """An interrupted (or killed) run folder, ready to train what is missing: its
    experiment from config.yaml, the same chunk plan, and the chunks already saved."""
    try:
        info = runs.read_status(run_dir)
    except runs.RunDirError as exc:
        _fail(f"option --resume: {exc}")
    state = info.get("status")
    if state == "complete":
        _fail(f"option --resume: {run_dir} is complete; there is nothing to resume")
    if state == "running" and runs.pid_alive(info.get("pid")) and info.get("pid") != os.getpid():
        _fail(f"option --resume: {run_dir} is still running (process {info['pid']})")
    chunk_size = info.get("chunk_size")
    if not isinstance(chunk_size, int) or chunk_size < 1:
        _fail(
            f"option --resume: {run_dir / runs.STATUS_FILE} has no chunk_size; expected a run made by toynn 0.1 or later"
        )
    try:
        experiment = config.resolve(run_dir / "config.yaml", {}, config.TUTORIAL_SWEEP)
    except config.ConfigError as exc:
        _fail(f"option --resume: {exc}")
    check_engine(experiment, f"option --resume: {run_dir / 'config.yaml'}: key 'engine'")
    specs = experiment.networks()
    plan = Plan(specs, executor.plan(specs, chunk_size), chunk_size, workers)
    done: dict[int, executor.ChunkResult] = {}
    for path in sorted((run_dir / Run.CHUNKS).glob("*.npz")):
        try:
            saved = results.load_chunk(path)
        except (OSError, ValueError, KeyError) as exc:
            _fail(f"option --resume: {path}: cannot read: {exc}")
        index = saved.chunk.index
        if not (
            0 <= index < len(plan.chunks)
            and saved.chunk == plan.chunks[index]
            and saved.batch.specs == specs[saved.chunk.start : saved.chunk.stop]
        ):
            _fail(f"option --resume: {path} does not belong to this run's config.yaml")
        done[index] = saved
    keep = {
        k: v for k, v in info.items() if k not in ("status", "updated", "networks_done", "signal")
    }
    keep.update(pid=os.getpid(), resumed=int(info.get("resumed", 0)) + 1)
    return experiment, Run(run_dir, keep), plan, done


def execute(
    term: Terminal,
    experiment: Experiment,
    params: dict[str, Any],
    argv: list[str],
    render: Callable[[list[NetworkResult], list[str]], RenderableType],
    resume: tuple[Run, Plan, dict[int, executor.ChunkResult]] | None = None,
    shown: Callable[[Sequence[engine.NetworkSpec]], int | None] | None = None,
) -> list[NetworkResult]:
    """Train, save, print: the body shared by ``train``, ``sweep`` and ``--resume``.

    ``shown(specs)``: how many leading networks of the grid ``render`` shows in full
    (None: all; the default); a large sweep keeps only those (and its best) in memory.
    """
    guard = SignalGuard()
    where = _where(params)
    with guard.installed(), contextlib.ExitStack() as held:
        # A Dask cluster is connected (or started) before anything is written: a bad or
        # unreachable scheduler leaves no run folder behind.
        if resume is None:  # refused before a cluster is started for it
            plan = Plan.make(
                experiment, params["workers"], params["max_memory"], params["chunk_size"]
            )
            _refuse_if_too_big(experiment, plan)
        cluster = _connect(params) if where["executor"] == "dask" else None
        if cluster is not None:
            held.callback(cluster.close)
        if resume is not None:
            run, plan, done = resume
            run.info.pop("scheduler", None)
            run.info.update(where)
        else:
            if cluster is not None and params.get("scheduler") is not None:
                # split for the cluster's worker threads, not this machine's cores
                plan = Plan.make(
                    experiment, cluster.threads(), params["max_memory"], params["chunk_size"]
                )
                _refuse_if_too_big(experiment, plan)
            run = (
                None
                if params["no_save"]
                else Run.create(params["out"], experiment, argv, plan, where)
            )
            done = {}
        plan.cluster = cluster

        if run is not None:
            try:
                held.enter_context(runs.locked(run.dir))
            except runs.RunDirError as exc:
                _fail(f"option --resume: {exc}")
            if resume is not None:  # what a killed process was writing when it died
                try:
                    runs.clear_temporary(run.dir)
                except OSError as exc:
                    run.failed(exc, sum(len(r.chunk) for r in done.values()))

        large = len(plan.specs) > results.FULL_RECORDS_LIMIT
        kept = results.LargeSweep(shown(plan.specs) if shown else None) if large else None
        if kept is not None:
            for result in done.values():  # chunks a resumed run had saved
                kept.add(result)

        def save(result: executor.ChunkResult) -> None:
            # the plan's spec objects, not the copies a worker process sent back
            result.batch.specs = plan.specs[result.chunk.start : result.chunk.stop]
            if run is not None:
                finished_so_far = sum(len(r.chunk) for r in done.values()) + len(result.chunk)
                run.save_chunk(result, finished_so_far)
            if kept is not None:
                kept.add(result)

        try:
            interrupted = train_all(term, experiment, plan, guard, done, save)
        except distributed.ClusterError as exc:  # the saved chunks stay valid for --resume
            if run is None:
                _fail(str(exc))
            run.stopped(str(exc), sum(len(r.chunk) for r in done.values()))
        finally:
            if cluster is not None:  # stop its workers now, not after the files are written
                cluster.close()
        indices, finished, statuses = results.collect(plan.chunks, done, kept)
        specs = plan.specs
        make_doc = results.summary_document if large else results.document
        doc = make_doc(
            config.as_dict(experiment),
            str(run.dir) if run else None,
            finished,
            statuses,
            experiment.dataset.name,
            complete=interrupted is None,
        )
        renderable = render(finished, statuses) if finished and not interrupted else None
        if run is not None:
            files = None
            if renderable is not None:
                # a large sweep keeps no error histories to draw curves from
                draw = not large and not params.get("no_figures")
                figures = report_figures(term, experiment, finished) if draw else {}
                files = report.render_to_files(renderable, f"toynn {experiment.name}", figures)
            run.finish(doc, finished, indices, files, interrupted)
        if interrupted:
            term.warn(_interrupted_message(len(finished), len(specs), run))
            sys.exit(interrupted.exit_code)
        _exit_if_signalled(term, guard, run)
        if params["as_json"]:
            click.echo(json.dumps(doc, allow_nan=False))
        elif params.get("as_csv"):
            click.echo(networks_csv(finished, statuses, indices), nl=False)
        else:
            term.out.print(renderable)
        if run is not None:
            term.message(f"Saved {run.dir}", style="dim")
        _exit_if_signalled(term, guard, run)
    _check_max_error(term, finished, params.get("max_error"))
    return finished


def _where(params: dict[str, Any]) -> dict[str, Any]:
    """Where chunks train, as recorded in run.json: ``executor`` and (given) ``scheduler``."""
    where: dict[str, Any] = {"executor": params.get("executor") or "local"}
    if params.get("scheduler") is not None:
        where["scheduler"] = params["scheduler"]
    return where


def _connect(params: dict[str, Any]) -> distributed.Cluster:
    """A connected Dask cluster for ``--executor dask``, or one line and exit 2."""
    try:
        return distributed.connect(params.get("scheduler"), params["workers"])
    except distributed.ClusterError as exc:
        _fail(str(exc))


#: Refuse grids whose estimated peak memory exceeds this share of the machine's memory.
MEMORY_SHARE = 0.8


def estimate(experiment: Experiment, plan: Plan) -> dict[str, float]:
    data = experiment.dataset
    return executor.estimate(
        plan.specs,
        plan.chunks,
        plan.workers,
        data.n_inputs,
        data.n_outputs,
        len(data.inputs),
        experiment.iterations,
        experiment.log_every,
        experiment.record_every,
        slim=len(plan.specs) > results.FULL_RECORDS_LIMIT,
    )


def _refuse_if_too_big(experiment: Experiment, plan: Plan) -> None:
    """A grid that would not fit in memory is refused with the estimate, before anything
    is written (chunking bounds the training buffers; the results kept for the report
    grow with the grid)."""
    machine = executor.physical_memory()
    need = estimate(experiment, plan)["memory_bytes"]
    if machine and need > MEMORY_SHARE * machine:
        _fail(
            f"{len(plan.specs)} networks need about {report.size_text(need)} of memory, more "
            f"than {MEMORY_SHARE:.0%} of this machine's {report.size_text(machine)}; expected "
            "a smaller grid (fewer networks or checkpoints), or split it into several sweeps"
        )


def _interrupted_message(n_finished: int, n_networks: int, run: Run | None) -> str:
    text = f"Interrupted after {n_finished} of {n_networks} networks; the run is incomplete"
    if run is None:
        return text + " (nothing saved: --no-save)."
    what = "the finished networks" if n_finished else "its config"
    return text + f" ({what} saved in {run.dir}, marked interrupted)."


def _exit_if_signalled(term: Terminal, guard: SignalGuard, run: Run | None) -> None:
    """Exit with the code of a signal that was held while the complete run was saved."""
    if guard.code is None:
        return
    where = f"; the complete run is saved in {run.dir}" if run is not None else ""
    term.warn(f"Interrupted after training finished{where}.")
    sys.exit(guard.code)


def _check_max_error(term: Terminal, finished: list[NetworkResult], limit: float | None) -> None:
    if limit is None:
        return
    above = [r for r in finished if not r.final_error <= limit]
    for r in above:
        term.err.print(
            f"final error {report.fmt_error(r.final_error)} > --max-error {limit:g}: "
            f"{report.describe(r.spec)}",
            highlight=False,
            soft_wrap=True,
        )
    if above:
        sys.exit(1)


# --- commands --------------------------------------------------------------------------


@click.group("toynn", cls=ToynnGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="toynn")
def cli() -> None:
    """Run experiments on toy neural networks: the "neural network in 13 lines"
    tutorial (part 2, gradient descent), batched, sweepable and saved.

    Example:

        toynn sweep --config configs/alpha-sweep.yaml
    """


def _argv(ctx: click.Context) -> list[str]:
    return list((ctx.obj or {}).get("argv", []))


def _common(command: Callable) -> Callable:
    @functools.wraps(command)
    def wrapper(**params: Any) -> None:
        _data_format(params["as_json"], params["as_csv"])
        if params.get("max_error") is not None and not params["max_error"] >= 0:
            _fail(f"option --max-error is {params['max_error']!r}; expected a number >= 0")
        if params.get("scheduler") is not None and params.get("executor") != "dask":
            _fail("option --scheduler needs --executor dask")
        command(**params)

    return output_options(experiment_options(wrapper))


def _require_one_network(experiment: Experiment, params: dict[str, Any], command: str) -> None:
    """Refuse a config or option that sweeps an axis: the command takes one network."""
    swept = experiment.swept_axes()
    if swept:
        axis, n = next(iter(swept.items()))
        if params.get(axis) is not None:
            source = f"option --{axis}"
        else:
            source = f"{params.get('config_path')}: {axis}"
        _fail(
            f"{source} has {n} values, but 'toynn {command}' trains one network; "
            f"use 'toynn sweep' for several"
        )


@cli.command()
@_common
@click.pass_context
def train(ctx: click.Context, **params: Any) -> None:
    """Train one network and show its error, status, weights and direction changes.

    Without --config: the tutorial's opening program (xor, alpha 0.5, 4 hidden
    units, 60000 iterations, seed 1, error every 10000 iterations). Options
    override the config's keys. The run folder (under --out) holds config.yaml,
    results.json, metrics.csv, weights.npz and report.txt/.svg/.html (the HTML
    with figures when the plot extra is installed).

    Example:

        toynn train --config configs/xor.yaml --iterations 10000
    """
    term = Terminal(params["quiet"])
    experiment = load_experiment(params, config.TUTORIAL, _argv(ctx))
    _require_one_network(experiment, params, "train")

    def render(finished: list[NetworkResult], statuses: list[str]) -> RenderableType:
        return report.train_report(
            experiment.name, experiment.dataset.name, finished[0], statuses[0]
        )

    execute(term, experiment, params, _argv(ctx), render)


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
            help="Show at most this many networks in the table (0: all).",
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


@cli.command()
@click.option("--dry-run", is_flag=True, help="List the networks the sweep would train and exit.")
@click.option(
    "--resume",
    type=click.Path(path_type=Path, file_okay=False),
    help="Finish an interrupted run folder: train only its missing chunks.",
)
@display_options
@_common
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
    trained chunks and report.txt/.svg/.html (the HTML with figures when the
    plot extra is installed).

    Sweep grammar for --alphas, --hidden, --seeds: lists 0.1,1,10; decades
    0.001..1000; N log-spaced points 0.01..10:7; whole-number ranges 0..99.

    Examples:

        toynn sweep --config configs/alpha-sweep.yaml

        toynn sweep --alphas 0.001..1000 --hidden 4,32 --seeds 1..5 --json

        toynn sweep --seeds 1..9999 --executor dask --scheduler tcp://HOST:8786
    """
    term = Terminal(params["quiet"])
    reopened = None
    if resume is not None:
        given = [
            f"--{k.replace('_', '-')}"
            for k in (*OVERRIDE_KEYS, "config_path")
            if params.get(k) is not None
        ]
        if params["no_save"]:
            given.append("--no-save")
        if given:
            _fail(
                f"option --resume cannot be combined with {given[0].replace('config-path', 'config')}; "
                "the run folder's config.yaml decides the experiment"
            )
        experiment, *state = reopen(resume, params["workers"])
        reopened = tuple(state)
    else:
        experiment = load_experiment(params, config.TUTORIAL_SWEEP, _argv(ctx))
    if dry_run:
        plan = Plan.make(experiment, params["workers"], params["max_memory"], params["chunk_size"])
        specs = plan.specs
        guess = estimate(experiment, plan)
        if params["as_json"]:
            # the settings are listed when the sweep changes any of the tutorial's
            plain = all(report.is_default(s) for s in specs)
            networks = [
                {
                    "alpha": s.alpha,
                    "hidden": list(s.hidden) if isinstance(s.hidden, tuple) else s.hidden,
                    "seed": s.seed,
                    **({} if plain else results.settings(s)),
                }
                for s in specs
            ]
            doc = {
                "experiment": config.as_dict(experiment),
                "networks": networks,
                "chunks": len(plan.chunks),
                "chunk_size": plan.chunk_size,
                "workers": guess["workers"],
                "estimated_memory_bytes": int(guess["memory_bytes"]),
                "estimated_seconds": guess["seconds"],
            }
            click.echo(json.dumps(doc))
        elif params["as_csv"]:
            lines = [(i, repr(s.alpha), s.hidden, s.seed) for i, s in enumerate(specs)]
            click.echo(_csv_text(("network", "alpha", "hidden", "seed"), lines), nl=False)
        else:
            term.out.print(report.dry_run_table(specs, experiment.iterations, rows or None))
            term.out.print(report.plan_line(len(specs), len(plan.chunks), plan.chunk_size, guess))
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

    def shown(specs: Sequence[engine.NetworkSpec]) -> int | None:
        grouped = group if group is not None else ensemble.grid_has_ensembles(specs)
        return 0 if grouped and not show_weights else (rows or None)

    execute(term, experiment, params, _argv(ctx), render, reopened, shown)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print only JSON on stdout.")
@click.option(
    "--csv",
    "as_csv",
    is_flag=True,
    help="Print only CSV on stdout: alpha, iteration, published, obtained, match.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def reproduce(as_json: bool, as_csv: bool, quiet: bool) -> None:
    """Run the tutorial's alpha sweep and check it against the published digits.

    Prints each published value beside the obtained one and marks the match;
    exits 1 if any value does not match. Writes no run folder.

    Example:

        toynn reproduce
    """
    _data_format(as_json, as_csv)
    term = Terminal(quiet)
    experiment = config.resolve(None, {}, config.TUTORIAL_SWEEP)
    guard = SignalGuard()
    plan = Plan.make(experiment, 1, executor.DEFAULT_MAX_MEMORY)
    done: dict[int, executor.ChunkResult] = {}
    with guard.installed():
        interrupted = train_all(term, experiment, plan, guard, done)
    if interrupted:
        term.warn("Interrupted.")
        sys.exit(interrupted.exit_code)
    _, finished, _ = results.collect(plan.chunks, done)
    verdicts = [
        (r.spec.alpha, int(j), tutorial.PUBLISHED[r.spec.alpha][c], float(e),
         tutorial.compare(r.spec.alpha, c, float(e)))
        for r in finished
        for c, (j, e) in enumerate(zip(r.checkpoint_iterations, r.checkpoint_errors))
    ]  # fmt: skip
    bad = sum(v[-1] == "mismatch" for v in verdicts)
    if as_json:
        rows = [
            {"alpha": a, "iteration": j, "published": p, "obtained": results.number(e), "match": m}
            for a, j, p, e, m in verdicts
        ]
        click.echo(json.dumps({"ok": bad == 0, "values": rows}, allow_nan=False))
    elif as_csv:
        lines = [(repr(a), j, p, repr(e), m) for a, j, p, e, m in verdicts]
        header = ("alpha", "iteration", "published", "obtained", "match")
        click.echo(_csv_text(header, lines), nl=False)
    else:
        term.out.print(report.reproduce_table(finished))
        exact = sum(v[-1] == "exact" for v in verdicts)
        close = sum(v[-1] == "close" for v in verdicts)
        line = (
            f"{len(verdicts) - bad} of {len(verdicts)} values match "
            f"({exact} to every printed digit, {close} within 1e-9 relative at alpha 100)"
        )
        term.out.print(line, style="green" if not bad else "bold red", highlight=False)
    if bad:
        verb = "value does" if bad == 1 else "values do"
        term.err.print(
            f"{bad} of {len(verdicts)} {verb} not match the published table",
            style="bold red",
            highlight=False,
        )
        sys.exit(1)


# --- run folders as a workspace ---------------------------------------------------------


def _data_format(as_json: bool, as_csv: bool) -> None:
    if as_json and as_csv:
        _fail("options --json and --csv cannot be used together; expected one of them")


def _open_run(path: Path) -> workspace.RunFolder:
    try:
        return workspace.open_run(path)
    except workspace.NotARunError as exc:
        _fail(str(exc))


def _load_networks(run: workspace.RunFolder) -> tuple[list[NetworkResult], list[str]]:
    try:
        return workspace.load_networks(run)
    except workspace.NotARunError as exc:
        _fail(str(exc))


def _csv_text(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _csv_number(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def run_row(run: workspace.RunFolder) -> dict[str, Any]:
    """One run folder as the mapping ``toynn runs --json`` prints."""
    best = run.best_final_error()
    return {
        "run": run.path.name,
        "path": str(run.path),
        "started": run.info.get("started"),
        "command": run.command,
        "networks": run.n_networks,
        "networks_done": int(run.info.get("networks_done", len(run.networks_raw))),
        "best_final_error": best,
        "state": run.state,
    }


RUNS_CSV_HEADER = ("run", "path", "started", "command", "networks", "networks_done",
                   "best_final_error", "state")  # fmt: skip


@cli.command("runs")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("runs"),
    show_default=True,
    help="The folder that holds the run folders.",
)
@click.option("--json", "as_json", is_flag=True, help="Print only JSON on stdout.")
@click.option("--csv", "as_csv", is_flag=True, help="Print only CSV on stdout.")
def runs_command(out: Path, as_json: bool, as_csv: bool) -> None:
    """List the run folders under --out, newest first.

    Shows each run's name, start time, command, networks, best final error and
    state: complete, interrupted, running, or killed (run.json still says
    running but its process is gone). Folders that are not runs are skipped.

    Example:

        toynn runs --out runs
    """
    _data_format(as_json, as_csv)
    if out.exists() and not out.is_dir():
        _fail(f"option --out: '{out}' is not a folder; expected the folder that holds run folders")
    term = Terminal()
    rows = [run_row(r) for r in workspace.list_runs(out)]
    if as_json:
        click.echo(json.dumps(rows, allow_nan=False))
        return
    if as_csv:
        lines = [[row[k] if k != "best_final_error" else _csv_number(row[k])
                  for k in RUNS_CSV_HEADER] for row in rows]  # fmt: skip
        click.echo(_csv_text(RUNS_CSV_HEADER, lines), nl=False)
        return
    if not rows:
        term.message(f"No run folders in '{out}'.")
        return
    term.out.print(report.runs_table(rows))


NETWORKS_CSV_HEADER = ("network", "alpha", "hidden", "seed", "final_error", "status")


def networks_csv(
    finished: Sequence[NetworkResult], statuses: Sequence[str], indices: Sequence[int]
) -> str:
    """One CSV row per network: its number, settings, final error and status."""
    lines = [
        (i, repr(r.spec.alpha), r.spec.hidden, r.spec.seed, repr(r.final_error), s)
        for i, r, s in zip(indices, finished, statuses)
    ]
    return _csv_text(NETWORKS_CSV_HEADER, lines)


@cli.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@display_options
@click.option("--json", "as_json", is_flag=True, help="Print only the saved JSON on stdout.")
@click.option("--csv", "as_csv", is_flag=True, help="Print one CSV row per network on stdout.")
def show(
    run_dir: Path,
    rows: int,
    show_weights: bool,
    curves: str,
    group: bool | None,
    as_json: bool,
    as_csv: bool,
) -> None:
    """Show a saved run's tables again, from its results.json (no training).

    Example:

        toynn show runs/20260101-120000-alpha-sweep
    """
    _data_format(as_json, as_csv)
    run = _open_run(run_dir)
    finished, statuses = _load_networks(run)
    if as_json:
        click.echo(json.dumps(run.doc, allow_nan=False))
        return
    if as_csv:
        click.echo(networks_csv(finished, statuses, range(len(finished))), nl=False)
        return
    term = Terminal()
    if run.summarised:
        term.warn(
            f"{run.path}: a sweep of {run.n_networks} networks; results.json keeps the "
            f"{len(finished)} best (every network's arrays are in chunks/*.npz, its errors "
            "in metrics.csv)"
        )
    elif run.state != "complete":
        term.warn(
            f"{run.path}: the run is {run.state}; showing the {len(finished)} of "
            f"{run.n_networks} networks that finished"
        )
    if not finished:
        return
    name = str(run.experiment.get("name", run.path.name))
    dataset = str(run.networks_raw[0].get("dataset", "?"))
    if run.kind == "train" and len(finished) == 1:
        renderable = report.train_report(name, dataset, finished[0], statuses[0])
    else:
        renderable = report.sweep_report(
            name,
            dataset,
            finished,
            statuses,
            rows or None,
            show_weights,
            curves,
            group if group is not None else ensemble.has_ensembles(finished),
        )
    term.out.print(renderable)


COMPARE_CSV_HEADER = ("alpha", "hidden", "seed", "final_error_a", "final_error_b", "difference",
                      "status_a", "status_b", "alpha_b", "hidden_b", "seed_b")  # fmt: skip


@cli.command()
@click.argument("run_a", type=click.Path(path_type=Path))
@click.argument("run_b", type=click.Path(path_type=Path))
@click.option(
    "--fail-if-worse",
    "tolerance",
    type=float,
    help="Exit 1 if a network's final error in B is above A's by more than this.",
)
@click.option("--json", "as_json", is_flag=True, help="Print only JSON on stdout.")
@click.option("--csv", "as_csv", is_flag=True, help="Print one CSV row per network on stdout.")
def compare(run_a: Path, run_b: Path, tolerance: float | None, as_json: bool, as_csv: bool) -> None:
    """Compare two saved runs: config differences, then the final error of each
    network both trained (same alpha, hidden size and seed) and B - A. An axis
    with one different value in each run (hidden 4 in A, 32 in B) is not
    matched on.

    With --fail-if-worse TOL the exit code is 1 when any network's final error in
    B is above A's by more than TOL (a regression check for CI).

    Example:

        toynn compare runs/A runs/B --fail-if-worse 1e-9
    """
    _data_format(as_json, as_csv)
    if tolerance is not None and not (tolerance >= 0 and math.isfinite(tolerance)):
        _fail(f"option --fail-if-worse is {tolerance!r}; expected a finite number >= 0")
    a, b = _open_run(run_a), _open_run(run_b)
    _load_networks(a)
    _load_networks(b)  # refuse malformed results before comparing
    comparison = workspace.compare(a, b)
    worse = [p for p in comparison.pairs if tolerance is not None and p.worse(tolerance)]
    if as_json:
        doc = {
            "a": str(a.path),
            "b": str(b.path),
            "config_differences": [
                {"key": k, "a": va, "b": vb} for k, va, vb in comparison.differences
            ],
            "networks": [
                {
                    "alpha": p.alpha,
                    "hidden": p.hidden,
                    "seed": p.seed,
                    "final_error_a": results.number(p.error_a),
                    "final_error_b": results.number(p.error_b),
                    "difference": results.number(p.difference),
                    "status_a": p.status_a,
                    "status_b": p.status_b,
                    "alpha_b": p.key_b[0],
                    "hidden_b": p.key_b[1],
                    "seed_b": p.key_b[2],
                }
                for p in comparison.pairs
            ],
            "matched_on": comparison.matched_on,
            "only_in_a": comparison.only_a,
            "only_in_b": comparison.only_b,
            "worse": len(worse),
        }
        click.echo(json.dumps(doc, allow_nan=False))
    elif as_csv:
        lines = [
            (repr(p.alpha), p.hidden, p.seed, repr(p.error_a), repr(p.error_b),
             repr(p.difference), p.status_a, p.status_b, repr(p.key_b[0]), p.key_b[1],
             p.key_b[2])
            for p in comparison.pairs
        ]  # fmt: skip
        click.echo(_csv_text(COMPARE_CSV_HEADER, lines), nl=False)
    else:
        term = Terminal()
        term.out.print(report.compare_report(str(a.path), str(b.path), comparison, tolerance))
    if worse:
        noun = "network is" if len(worse) == 1 else "networks are"
        click.echo(
            f"{len(worse)} {noun} worse in B by more than --fail-if-worse {tolerance:g}", err=True
        )
        sys.exit(1)


# --- error surface ----------------------------------------------------------------------


@cli.command("surface")
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
    _data_format(as_json, as_csv)
    term = Terminal(quiet)
    experiment = load_experiment(params, config.TWO_LAYER, _argv(click.get_current_context()))
    _require_one_network(experiment, params, "surface")
    spec = experiment.networks()[0]
    data = experiment.dataset
    sizes = engine.layer_sizes(data.n_inputs, spec.hidden, data.n_outputs)
    shapes = [(sizes[k], sizes[k + 1]) for k in range(len(sizes) - 1)]
    try:
        refs = [surface.parse_weight(w, shapes) for w in weights] if weights else [None, None]
    except surface.SurfaceError as exc:
        _fail(f"option --weights: {exc}")
    if not 2 <= resolution <= surface.MAX_RESOLUTION:
        _fail(
            f"option --resolution is {resolution}; "
            f"expected a whole number from 2 to {surface.MAX_RESOLUTION}"
        )
    low, high = bounds
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        _fail(f"option --range is {low:g} {high:g}; expected two finite numbers LOW < HIGH")
    if refs[0] is not None and refs[0] == refs[1]:
        _fail(f"option --weights names {refs[0].name} twice; expected two different weights")
    try:
        result = surface.compute(
            data.x, data.y, spec, experiment.iterations, refs[0], refs[1], low, high,
            resolution, hold, experiment.record_every,
        )  # fmt: skip
    except surface.SurfaceError as exc:
        _fail(f"option --weights: {exc}")
    grid_csv = _csv_text((result.a.name, result.b.name, "error"), surface.grid_csv_rows(result))
    if as_json:
        doc = {
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
        click.echo(json.dumps(doc, allow_nan=False))
    elif as_csv:
        click.echo(grid_csv, nl=False)
    else:
        n_weights = sum(r * c for r, c in shapes)
        others = (
            f"the other {n_weights - 2} weights held at their {hold} values"
            if n_weights > 2
            else "the network has no other weights"
        )
        head = Text()
        head.append(experiment.name, style="bold")
        head.append(
            f"  dataset {data.name} · {report.describe(spec)} · {experiment.iterations} "
            f"iterations · grid {resolution} x {resolution} over [{low:g}, {high:g}]; {others}"
        )
        columns = max(20, min(resolution, term.out.width - heatmap.MARGIN - 2))
        color = term.out.color_system is not None and not term.out.no_color
        term.out.print(head, soft_wrap=True)
        term.out.print(heatmap.heatmap(result, columns, color))
        term.out.print(heatmap.surface_summary(result))
    if no_save:
        return
    try:
        folder = runs.create_run_dir(out, f"{experiment.name}-surface")
        runs.atomic_write(folder / "config.yaml", config.dump(experiment))
        runs.atomic_write(folder / "surface.csv", grid_csv)
        path_rows = [
            (int(j), repr(float(a)), repr(float(b)), repr(float(e)))
            for j, a, b, e in zip(
                result.path_iterations, result.path_a, result.path_b, result.path_errors
            )
        ]
        header = ("iteration", result.a.name, result.b.name, "error")
        runs.atomic_write(folder / "path.csv", _csv_text(header, path_rows))
        if plot.available():
            png = plot.surface_png(result, f"{experiment.name}: error surface")
            runs.atomic_write(folder / "surface.png", png)
    except OSError as exc:
        _fail(str(exc) if isinstance(exc, runs.RunDirError) else _write_error(out, exc))
    term.message(f"Saved {folder}", style="dim")
    if not plot.available():
        term.message(escape(f"No surface.png: {plot.INSTALL_HINT}"), style="dim")


# --- figures ----------------------------------------------------------------------------

MAX_BOUNDARY_NETWORKS = 6


def _pick_networks(text: str | None, finished: list[NetworkResult]) -> list[int]:
    if text is None:
        best = report.best_index(finished)
        return [best if best is not None else 0]
    expected = (
        f"network numbers from 0 to {len(finished) - 1} separated by commas "
        f"(as in 'toynn show --csv'), at most {MAX_BOUNDARY_NETWORKS}"
    )
    try:
        picks = [int(part) for part in text.split(",")]
    except ValueError:
        _fail(f"option --networks is {text!r}; expected {expected}")
    if (
        not picks
        or len(picks) > MAX_BOUNDARY_NETWORKS
        or any(not 0 <= i < len(finished) for i in picks)
    ):
        _fail(f"option --networks is {text!r}; expected {expected}")
    return picks


@cli.command("plot")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option(
    "--color-by",
    type=click.Choice(plot.AXES),
    help="Colour the error curves by this axis (default: the first swept of alpha, hidden, seed).",
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
@click.option("--quiet", "-q", is_flag=True, help="No messages.")
def plot_command(
    run_dir: Path, color_by: str | None, networks: str | None, out: Path | None, quiet: bool
) -> None:
    """Draw a saved run's figures as PNG and SVG (needs the plot extra).

    curves.png/.svg: error against iteration on log axes, one line per network,
    coloured by the swept axis. boundary.png/.svg (datasets with two varying
    inputs, such as xor and first-column): the output of the chosen networks
    over the input plane, the 0.5 contour and the samples. Existing figures are
    never overwritten.

    Example:

        toynn plot runs/20260101-120000-alpha-sweep
    """
    if not plot.available():
        _fail(plot.INSTALL_HINT)
    term = Terminal(quiet)
    run = _open_run(run_dir)
    finished, _statuses = _load_networks(run)
    if not finished:
        _fail(f"'{run.path}' has no finished networks; expected a run with results to plot")
    picks = _pick_networks(networks, finished)
    folder = out if out is not None else run.path
    name = str(run.experiment.get("name", run.path.name))
    data = workspace.run_dataset(run)
    if networks is not None and (data is None or len(plot.varying_inputs(data[0])) != 2):
        _fail(
            "option --networks: the run's dataset has no two varying inputs; "
            "expected a run on a dataset like xor or first-column"
        )
    chosen = [(report.describe(finished[i].spec), finished[i].weights) for i in picks]
    figures = plot.run_figures(finished, data, chosen, name, ("png", "svg"), color_by)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for filename in figures:
            if (folder / filename).exists():
                _fail(
                    f"'{folder / filename}' exists; expected a folder without figures "
                    f"(use --out for another folder)"
                )
        for filename, content in figures.items():
            runs.atomic_write(folder / filename, content)
    except OSError as exc:
        _fail(_write_error(folder, exc))
    for filename in figures:
        term.message(f"Wrote {folder / filename}", style="dim")


def main() -> None:
    """The console script's entry point."""
    cli.main(prog_name="toynn")
