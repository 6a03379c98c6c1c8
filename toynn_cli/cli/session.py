"""Training a grid as a command: plan, train (locally or on Dask), save the run
folder as chunks finish, render; resume a folder; what the exit code says."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from rich.console import RenderableType

from toynn_cli import config
from toynn_cli.cli import app
from toynn_cli.cli.options import check_engine
from toynn_cli.cli.output import Terminal, emit, fail, networks_csv
from toynn_cli.config import Experiment
from toynn_cli.core import engines, network
from toynn_cli.core.network import NetworkResult
from toynn_cli.run import distributed, executor
from toynn_cli.run.interrupts import Interrupted, SignalGuard
from toynn_cli.run.plan import Plan
from toynn_cli.store import chunks, results, runs
from toynn_cli.store.writer import Run, StoreError
from toynn_cli.view import export, formats, svg
from toynn_cli.view import plan as plan_view

R = TypeVar("R")

# --- running ---------------------------------------------------------------------------


@contextlib.contextmanager
def _saved_behind(
    on_chunk: Callable[[executor.ChunkResult], None] | None,
    done: dict[int, executor.ChunkResult],
) -> Iterator[Callable[[executor.ChunkResult], None]]:
    """``deliver(result)``: hand a trained chunk to ``on_chunk`` (which saves it) on a
    thread of its own, then add it to ``done``, while this thread trains the next one
    (the numba engine and zlib let go of the GIL: W4 spent a third of its time saving).
    One chunk at a time: ``deliver`` first waits for the previous one and raises its
    error; leaving the block (an interrupt too: the chunk being saved is finished, not
    lost) waits for the last."""

    def save(result: executor.ChunkResult) -> None:
        if on_chunk is not None:
            on_chunk(result)
        done[result.chunk.index] = result

    pending: list[Future[None]] = []

    def settle() -> None:
        # a save is forgotten only once it is over: an interrupt while waiting for it
        # leaves it pending, and the block's end waits for it again
        while pending:
            try:
                pending[0].result()
            finally:
                if pending[0].done():
                    pending.pop()

    with ThreadPoolExecutor(1, thread_name_prefix="toynn-save") as pool:

        def deliver(result: executor.ChunkResult) -> None:
            settle()
            pending.append(pool.submit(save, result))

        try:
            yield deliver
        finally:
            settle()


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
    note = engines.fallback_note(experiment.engine, plan.specs, plan.engine)
    slow = large_dataset_note(experiment, plan)
    if n and slow is not None:
        term.warn(slow)
    if n and note is not None:
        term.warn(note)
    app.release_gc()  # the start-up is over: collect what training and the report leave
    if (
        n
        and term.err.is_terminal
        and engines.get(plan.engine).needs_compiling(plan.specs, data.x, data.y)
    ):
        # progress for a person (as the bar is): a log or a test sees none of it
        term.message("compiling kernels (first run only)", style="dim")
    with (
        term.progress(f"training {n} {noun}", n * experiment.iterations) as progress,
        _saved_behind(on_chunk, done) as deliver,
    ):
        try:
            with guard.live():
                job = executor.Job(
                    data.x, data.y, plan.specs, experiment.iterations, experiment.log_every,
                    plan.engine, experiment.record_every,
                )  # fmt: skip
                where = plan.cluster or executor.LocalExecutor(plan.workers)
                stream = where.run(job, todo, progress)
                # closed as soon as training stops (an interrupt while a chunk is being
                # saved too): the executor stops its workers then, not when the
                # generator is garbage-collected
                with contextlib.closing(stream):
                    for result in stream:
                        deliver(result)
        except Interrupted as exc:
            return exc
    return None


def report_figures(
    term: Terminal, experiment: Experiment, finished: Sequence[NetworkResult]
) -> dict[str, bytes]:
    """report.html's figures, drawn by toynn itself (SVG, no matplotlib needed): the
    error curves and, for datasets with a varying input, the best network's decision
    boundary."""
    best = formats.best_index(finished)
    chosen = [] if best is None else [finished[best]]
    data = experiment.dataset
    try:
        return svg.report_figures(finished, (data.x, data.y), chosen, experiment.name)
    except Exception as exc:  # a figure must never cost the run its other files
        term.warn(f"report.html has no figures: {type(exc).__name__}: {exc}")
        return {}


def reopen(run_dir: Path, workers: int) -> tuple[Experiment, Run, Plan, dict[int, Any]]:
    """An interrupted (or killed) run folder, ready to train what is missing: its
    experiment from config.yaml, the same chunk plan, and the chunks already saved."""
    for name in (Run.CHUNKS, runs.STATUS_FILE, "config.yaml"):
        if (run_dir / name).is_symlink():  # new files would land outside the folder
            fail(
                f"option --resume: {run_dir / name} is a symbolic link; expected the run "
                "folder's own file (toynn writes no file through a link)"
            )
    try:
        info = runs.read_status(run_dir)
    except runs.RunDirError as exc:
        fail(f"option --resume: {exc}")
    state = info.get("status")
    if state == "complete":
        fail(f"option --resume: {run_dir} is complete; there is nothing to resume")
    if state == "running" and runs.pid_alive(info.get("pid")) and info.get("pid") != os.getpid():
        fail(f"option --resume: {run_dir} is still running (process {info['pid']})")
    chunk_size = info.get("chunk_size")
    if not isinstance(chunk_size, int) or chunk_size < 1:
        fail(
            f"option --resume: {run_dir / runs.STATUS_FILE} has no chunk_size; expected a run made by toynn 0.1 or later"
        )
    try:
        experiment = config.resolve(run_dir / "config.yaml", {}, config.TUTORIAL_SWEEP)
    except config.ConfigError as exc:
        fail(f"option --resume: {exc}")
    check_engine(experiment, f"option --resume: {run_dir / 'config.yaml'}: key 'engine'")
    specs = experiment.networks()
    chosen = engines.choose(experiment.engine, specs)
    plan = Plan(specs, executor.plan(specs, chunk_size), chunk_size, workers, chosen)
    done: dict[int, executor.ChunkResult] = {}
    for path in sorted((run_dir / Run.CHUNKS).glob("*.npz")):
        try:
            saved = chunks.load_chunk(path)
        except (OSError, ValueError, KeyError) as exc:
            fail(f"option --resume: {path}: cannot read: {exc}")
        index = saved.chunk.index
        if not (
            0 <= index < len(plan.chunks)
            and saved.chunk == plan.chunks[index]
            and saved.batch.specs == specs[saved.chunk.start : saved.chunk.stop]
        ):
            fail(f"option --resume: {path} does not belong to this run's config.yaml")
        done[index] = saved
    return experiment, Run.reopen(run_dir, info), plan, done


def _store_errors_end_the_command(command: Callable[..., R]) -> Callable[..., R]:
    """A run folder that cannot be written (StoreError) ends the command with its one
    line (exit 2)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> R:
        try:
            return command(*args, **kwargs)
        except StoreError as exc:
            fail(str(exc))

    return wrapper


@_store_errors_end_the_command
def execute(
    term: Terminal,
    experiment: Experiment,
    params: dict[str, Any],
    argv: list[str],
    render: Callable[[list[NetworkResult], list[str]], RenderableType],
    resume: tuple[Run, Plan, dict[int, executor.ChunkResult]] | None = None,
    shown: Callable[[Sequence[network.NetworkSpec]], int | None] | None = None,
) -> list[NetworkResult]:
    """Train, save, print: the body shared by ``train``, ``sweep`` and ``--resume``.

    ``shown(specs)``: how many networks of the grid ``render`` shows in full, the first
    and last (results.shown_indices; None: all, the default); a large sweep keeps only
    those (and its best) in memory.
    A run folder that cannot be written ends the command with one line (exit 2).
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
            run.info.pop("processes", None)
            run.info.pop("threads", None)
            run.info.update(where, **_processes(experiment, params, plan, done, cluster))
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
                else Run.create(
                    params["out"],
                    experiment,
                    argv,
                    plan,
                    {**where, **_processes(experiment, params, plan, {}, cluster)},
                    params.get("config_path"),
                    history="float64" if params.get("full_history") else "float32",
                )
            )
            done = {}
        plan.cluster = cluster

        if run is not None:
            try:
                held.enter_context(runs.locked(run.dir))
            except runs.RunDirError as exc:
                fail(f"option --resume: {exc}")
            if resume is not None:  # what a killed process was writing when it died
                try:
                    runs.clear_temporary(run.dir)
                except OSError as exc:
                    run.failed(exc, sum(len(r.chunk) for r in done.values()))
            # from here an exception (a bug) marks the folder failed, with its message
            held.enter_context(
                run.failure_recorded(lambda: sum(len(r.chunk) for r in done.values()))
            )

        large = len(plan.specs) > results.FULL_RECORDS_LIMIT
        dataset = experiment.dataset.name
        rows = shown(plan.specs) if shown else None
        kept = results.LargeSweep(rows, len(plan.specs)) if large else None
        if kept is not None:
            for result in done.values():  # chunks a resumed run had saved
                kept.add(result)

        # each saved chunk's records in results.json, encoded on the saving thread while
        # the next chunk trains (a run that lists every network)
        lines: dict[int, str] = {}

        def save(result: executor.ChunkResult) -> None:
            # the plan's spec objects, not the copies a worker process sent back
            result.batch.specs = plan.specs[result.chunk.start : result.chunk.stop]
            if run is not None:
                if run.history == "float32":  # the run reports what its folder keeps
                    batch = result.batch
                    batch.history_errors = chunks.rounded_history(batch.history_errors)
                finished_so_far = sum(len(r.chunk) for r in done.values()) + len(result.chunk)
                run.save_chunk(result, finished_so_far)
                if not large:
                    lines[result.chunk.index] = results.record_lines(result, dataset)
            if kept is not None:
                kept.add(result)

        try:
            interrupted = train_all(term, experiment, plan, guard, done, save)
        except distributed.ClusterError as exc:  # the saved chunks stay valid for --resume
            if run is None:
                fail(str(exc))
            run.stopped(str(exc), sum(len(r.chunk) for r in done.values()))
        finally:
            if cluster is not None:  # stop its workers now, not after the files are written
                cluster.close()
        indices, finished, statuses = results.collect(plan.chunks, done, kept)
        specs = plan.specs
        make_doc = results.summary_document if large else results.document
        # what the document says of the run: its config, its folder, whether it finished
        about = (config.as_dict(experiment), str(run.dir) if run else None, interrupted is None)

        @functools.cache  # made only for a run folder or --json (7000 networks: 0.5 s)
        def doc() -> dict[str, Any]:
            return make_doc(about[0], about[1], finished, statuses, dataset, complete=about[2])

        renderable = render(finished, statuses) if finished and not interrupted else None
        if run is not None:
            files = None
            final = run.final_record(len(finished), interrupted)
            if renderable is not None:
                # a large sweep keeps no error histories to draw curves from
                draw = not large and not params.get("no_figures")
                figures = report_figures(term, experiment, finished) if draw else {}
                files = export.render_to_files(
                    renderable,
                    f"toynn {experiment.name}",
                    figures,
                    story=final,
                    config_text=run.config_text,
                )
            if large:
                text = results.to_json(doc())
            else:  # doc()'s text, from the records the saving thread encoded
                ordered = [c.index for c in plan.chunks if c.index in done]
                text = results.to_json(
                    results.head(*about),
                    [lines.get(i) or results.record_lines(done[i], dataset) for i in ordered],
                )
            run.finish(text, finished, indices, files, final)
        if interrupted:
            term.warn(_interrupted_message(len(finished), len(specs), run))
            sys.exit(interrupted.exit_code)
        _exit_if_signalled(term, guard, run)
        emit(
            term, params["as_json"], bool(params.get("as_csv")),
            doc=doc,
            csv=lambda: networks_csv(finished, statuses, indices),
            table=lambda: renderable,
        )  # fmt: skip
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


def _processes(
    experiment: Experiment,
    params: dict[str, Any],
    plan: Plan,
    done: dict[int, executor.ChunkResult],
    cluster: distributed.Cluster | None,
) -> dict[str, int]:
    """run.json's ``processes``: the worker processes this process starts to train the
    chunks not in ``done`` (0: it trains them itself, on ``threads`` threads; ``workers``
    is what was asked), or a local Dask cluster's workers; nothing for a scheduler's
    cluster (its workers are not the run's to start)."""
    if cluster is None:
        todo = [c for c in plan.chunks if c.index not in done]
        it = experiment.iterations
        used = executor.processes(todo, plan.workers, it, plan.engine)
        if used > 1:
            return {"processes": used}
        return {"processes": 0, "threads": executor.threads(todo, plan.workers, it, plan.engine)}
    if params.get("scheduler") is None:
        return {"processes": int(params["workers"])}
    return {}


def _connect(params: dict[str, Any]) -> distributed.Cluster:
    """A connected Dask cluster for ``--executor dask``, or one line and exit 2."""
    try:
        return distributed.connect(params.get("scheduler"), params["workers"])
    except distributed.ClusterError as exc:
        fail(str(exc))


#: Refuse grids whose estimated peak memory exceeds this share of the machine's memory.
MEMORY_SHARE = 0.8
#: A dataset with at least this many samples is named on stderr when the run would make
#: LARGE_DATASET_WORK or more sample-iterations (every iteration of every network uses
#: every sample): a second or more, up to minutes.
LARGE_DATASET_SAMPLES = 10_000
LARGE_DATASET_WORK = 10**7


def large_dataset_note(experiment: Experiment, plan: Plan) -> str | None:
    """One line when the dataset is large enough to make the run slow, else None."""
    samples = len(experiment.dataset.inputs)
    work = samples * experiment.iterations * len(plan.specs)
    if samples < LARGE_DATASET_SAMPLES or work < LARGE_DATASET_WORK:
        return None
    return (
        f"dataset {experiment.dataset.name} has {samples} samples: every iteration of every "
        f"network uses all of them ({work:.2g} sample-iterations), so this run may take "
        "minutes (--dry-run shows the plan)"
    )


def estimate(experiment: Experiment, plan: Plan, saved: bool = True) -> dict[str, float]:
    """The plan's estimates (executor.estimate); ``saved``: of a run that writes its
    folder (not --no-save)."""
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
        engine=plan.engine,
        saved=saved,
    )


def _refuse_if_too_big(experiment: Experiment, plan: Plan) -> None:
    """A grid that would not fit in memory is refused with the estimate, before anything
    is written (chunking bounds the training buffers; the results kept for the report
    grow with the grid)."""
    machine = executor.physical_memory()
    need = estimate(experiment, plan)["memory_bytes"]
    if machine and need > MEMORY_SHARE * machine:
        fail(
            f"{len(plan.specs)} networks need about {plan_view.size_text(need)} of memory, more "
            f"than {MEMORY_SHARE:.0%} of this machine's {plan_view.size_text(machine)}; expected "
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
            f"final error {formats.fmt_error(r.final_error)} > --max-error {limit:g}: "
            f"{formats.describe(r.spec)}",
            highlight=False,
            soft_wrap=True,
        )
    if above:
        sys.exit(1)
