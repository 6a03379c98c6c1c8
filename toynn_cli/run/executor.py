"""Chunks and workers: a grid split into batches that fit a memory budget, trained in
this process or in several worker processes.

Batch independence makes the split invisible: a network's numbers do not depend on
which chunk it lands in or which process trains it, so ``--workers 2`` gives results
bit-identical to ``--workers 1`` and a resumed run equals an uninterrupted one.

Pure NumPy and the standard library: no printing, no click/rich/yaml.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import itertools
import math
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from toynn_cli.analysis import status
from toynn_cli.core import blocks, engines, network
from toynn_cli.core.network import BatchResult, NetworkSpec
from toynn_cli.run import cost

#: Default budget for the training buffers of all workers together.
DEFAULT_MAX_MEMORY = 1 << 30
#: Below this many networks per chunk, splitting for more workers costs more than it gains.
MIN_CHUNK = 256
#: Grids smaller than this (networks x iterations) train in this process: starting
#: workers would cost more than it saves.
PARALLEL_MIN_WORK = 2_000_000


@dataclass(frozen=True)
class Chunk:
    """Networks ``start`` to ``stop - 1`` of the grid (one layout), trained as one batch."""

    index: int
    start: int
    stop: int

    def __len__(self) -> int:
        return self.stop - self.start


def _sizes(spec: NetworkSpec, n_inputs: int, n_outputs: int) -> list[int]:
    return network.layer_sizes(n_inputs, spec.hidden, n_outputs)


def footprint(
    sizes: Sequence[int], samples: int, iterations: int, log_every: int, record_every: int = 0
) -> tuple[int, int]:
    """Bytes one network needs while it trains (buffers) and for its result (calibrated
    against tracemalloc peaks, see bench/README.md)."""
    params = sum(a * b for a, b in itertools.pairwise(sizes))
    units = samples * sum(sizes[1:])
    checks = len(network.checkpoints(iterations, log_every))
    history = network.history_length(iterations, record_every)
    # training: weights, gradient, gradient term, step, optimizer state; signs and int32
    # counts; activations, deltas, product terms and slopes
    training = 8 * 5 * params + 7 * params + 8 * 5 * units
    # the result: initial and final weights, direction counts; checkpoint errors and
    # accuracies; the error history; outputs; final error, accuracy, status and spec
    result = 8 * (3 * params + 2 * checks + history + samples * sizes[-1]) + 64
    return training, result


def bytes_per_network(
    sizes: Sequence[int], samples: int, iterations: int, log_every: int, record_every: int = 0
) -> int:
    """Peak memory one network costs a worker: its training buffers, its result, and the
    result's serialised copy while the worker sends it back."""
    training, result = footprint(sizes, samples, iterations, log_every, record_every)
    return training + 2 * result


def _footprints(
    specs: Sequence[NetworkSpec],
    n_inputs: int,
    n_outputs: int,
    samples: int,
    iterations: int,
    log_every: int,
    record_every: int,
) -> list[tuple[int, int, int]]:
    """(networks, training bytes, result bytes) of each layer layout among ``specs``."""
    counts = collections.Counter(spec.hidden for spec in specs)  # a handful of values
    layouts: dict[tuple[int, ...], list] = {}
    for spec in network.distinct(specs):
        layouts.setdefault(network.hidden_layers(spec.hidden), [spec, 0])
    for hidden, count in counts.items():
        layouts[network.hidden_layers(hidden)][1] += count
    return [
        (count, *footprint(_sizes(s, n_inputs, n_outputs), samples, iterations, log_every,
                           record_every))
        for s, count in layouts.values()
    ]  # fmt: skip


def groups(specs: Sequence[NetworkSpec]) -> list[tuple[int, int]]:
    """The grid's runs of networks sharing a layout, as [start, stop) ranges in grid order."""
    runs: list[tuple[int, int]] = []
    last = None
    for i, key in enumerate(network.layout_keys(specs)):
        if runs and key == last:
            runs[-1] = (runs[-1][0], i + 1)
        else:
            runs.append((i, i + 1))
        last = key
    return runs


def chunk_size(
    specs: Sequence[NetworkSpec],
    n_inputs: int,
    n_outputs: int,
    samples: int,
    iterations: int,
    log_every: int,
    max_memory: int,
    workers: int,
    record_every: int = 0,
) -> int:
    """Networks per chunk: as many as the budget allows (the largest layout decides),
    but split so that every worker has work when the grid is large enough. With
    several workers the budget holds each worker's chunk (training, result and its
    serialised copy) and the chunk this process is receiving (serialised and loaded)."""
    found = _footprints(specs, n_inputs, n_outputs, samples, iterations, log_every, record_every)
    training, result = max(t for _, t, _ in found), max(r for _, _, r in found)
    per_chunk_network = workers * (training + 2 * result) + (2 * result if workers > 1 else 0)
    by_memory = max(1, max_memory // per_chunk_network)
    by_workers = max(MIN_CHUNK, math.ceil(len(specs) / workers))
    return min(by_memory, by_workers)


def plan(specs: Sequence[NetworkSpec], size: int) -> list[Chunk]:
    """Chunks of at most ``size`` networks, never mixing layouts, in grid order."""
    chunks: list[Chunk] = []
    for start, stop in groups(specs):
        for a in range(start, stop, size):
            chunks.append(Chunk(len(chunks), a, min(a + size, stop)))
    return chunks


def in_process(
    chunks: Sequence[Chunk], workers: int, iterations: int, engine: str = "numpy"
) -> str | None:
    """Why :class:`LocalExecutor` starts no worker processes for ``chunks`` (everything
    trains in this process), or None when it starts them: one worker, one chunk, under
    PARALLEL_MIN_WORK network-iterations (starting workers would cost more than it
    saves), or an engine that uses ``workers`` threads itself (engines.Engine.threaded:
    no results to send between processes; W2 0.1 s faster than two processes)."""
    if workers <= 1:
        return "one worker"
    if len(chunks) <= 1:
        return "one chunk"
    if sum(len(c) for c in chunks) * iterations < PARALLEL_MIN_WORK:
        return f"under {PARALLEL_MIN_WORK} network-iterations"
    if _threaded(engine):
        return "the engine runs threads"
    return None


def _threaded(engine: str) -> bool:
    """Whether the engine named ``engine`` trains a batch on threads itself."""
    found = engines.REGISTRY.get(engine)
    return found is not None and found.threaded


def processes(chunks: Sequence[Chunk], workers: int, iterations: int, engine: str = "numpy") -> int:
    """How many worker processes :class:`LocalExecutor` starts for ``chunks``: 1 (none,
    everything in this process: :func:`in_process` says why), or one per chunk up to
    ``workers``."""
    if in_process(chunks, workers, iterations, engine) is not None:
        return 1
    return min(workers, len(chunks))


def threads(chunks: Sequence[Chunk], workers: int, iterations: int, engine: str) -> int:
    """How many threads train in this process: with no worker processes, an engine
    that trains blocks of networks (the numba engine) on up to ``workers`` threads, as
    many as the largest chunk has blocks (blocks.block_size, as the engine splits it);
    else 1."""
    if workers <= 1 or not chunks or not _threaded(engine):
        return 1
    if processes(chunks, workers, iterations, engine) > 1:
        return 1
    largest = max(len(c) for c in chunks)
    return min(workers, math.ceil(largest / blocks.block_size(largest, workers)))


def _fused(spec: NetworkSpec, n_inputs: int, n_outputs: int, samples: int) -> bool:
    """Whether the numba engine trains networks like ``spec`` with a fused kernel (its
    own decision; no numba imported)."""
    from toynn_cli.core import engine_numba

    return engine_numba.fused_layout(spec, (samples, n_inputs), (samples, n_outputs)) is not None


def estimate_seconds(
    engine: str,
    specs: Sequence[NetworkSpec],
    chunks: Sequence[Chunk],
    workers: int,
    n_inputs: int,
    n_outputs: int,
    samples: int,
    iterations: int,
    large: bool = False,
    saved: bool = True,
) -> float:
    """A rough wall time of the whole run, from the process's start, from ``engine``'s
    cost model (run/cost.py): start-up, the chunks as the executor trains them (in this
    process, the numba engine on up to ``workers`` threads; or each chunk to the first
    free worker process, the workers sharing cost.speed_up cores), and the per-network
    saving and reporting (``large``: of a sweep whose results are summarised; not
    ``saved``: reporting only, ``--no-save``)."""
    model = cost.model_for(engine)
    used = processes(chunks, workers, iterations, engine)
    on = threads(chunks, workers, iterations, engine)

    slower = used / cost.speed_up(used)  # each worker's share of the cores they get

    def seconds(chunk: Chunk) -> float:
        spec = specs[chunk.start]
        sizes = _sizes(spec, n_inputs, n_outputs)
        fused = bool(model.fused) and _fused(spec, n_inputs, n_outputs, samples)
        alone = cost.batch_seconds(model, sizes, samples, len(chunk), iterations, on, fused)
        return alone * slower

    free = [0.0] * used  # when each worker is next free: chunks go out in grid order
    for chunk in chunks:
        i = free.index(min(free))
        free[i] += seconds(chunk)
    return (
        model.startup
        + (model.pool_startup if used > 1 else 0.0)
        + max(free, default=0.0)
        + cost.per_network(model, large, saved) * len(specs)
    )


def estimate(
    specs: Sequence[NetworkSpec],
    chunks: Sequence[Chunk],
    workers: int,
    n_inputs: int,
    n_outputs: int,
    samples: int,
    iterations: int,
    log_every: int,
    record_every: int = 0,
    slim: bool = False,
    engine: str = "numpy",
    saved: bool = True,
) -> dict[str, float]:
    """What ``--dry-run`` reports: peak memory (the chunks training at once, the chunk
    being received, and what is kept of every result for the report: all of it, or
    with ``slim`` the errors only, as for a large sweep), a rough wall time with
    ``engine``'s cost model (``saved``: a run that writes its folder; else reporting
    only, as ``--no-save``), both estimates, and the worker processes the run starts
    (``workers``; 1: none, the run trains in this process) and the numba engine's
    threads in this process (``threads``)."""
    used = processes(chunks, workers, iterations, engine)
    parallel = used > 1
    largest = max((len(c) for c in chunks), default=0)
    found = _footprints(specs, n_inputs, n_outputs, samples, iterations, log_every, record_every)
    training, result = max(t for _, t, _ in found), max(r for _, _, r in found)
    # kept for the report, besides each network's spec and grid index (about 250 bytes):
    # every result, or of a large sweep's only the errors and accuracies
    checks = len(network.checkpoints(iterations, log_every))
    kept = sum(n * (250 + (8 * (2 * checks + 4) if slim else r)) for n, _, r in found)
    training_now = used * largest * (training + (2 * result if parallel else result))
    receiving = 2 * result * largest if parallel else 0
    seconds = estimate_seconds(
        engine, specs, chunks, workers, n_inputs, n_outputs, samples, iterations, slim, saved
    )
    return {
        "memory_bytes": training_now + receiving + kept,
        "seconds": seconds,
        "workers": used,
        "threads": threads(chunks, workers, iterations, engine),
    }


@dataclass
class ChunkResult:
    """A trained chunk and its networks' status labels."""

    chunk: Chunk
    batch: BatchResult
    statuses: np.ndarray


def train_batch(
    engine_name: str,
    x: np.ndarray,
    y: np.ndarray,
    specs: Sequence[NetworkSpec],
    iterations: int,
    log_every: int,
    progress: Callable[[int], None] | None = None,
    threads: int | None = None,
    record_every: int = 0,
) -> BatchResult:
    """Train a batch with the engine named ``engine_name`` (engines.REGISTRY);
    ``threads`` is for the numba engine (None: its default)."""
    return engines.get(engine_name).train(
        x, y, specs, iterations, log_every, progress, threads, record_every
    )


@dataclass(frozen=True)
class Job:
    """What every chunk of a grid is trained with: the data, the grid's networks, and
    the run's settings (iterations, checkpoint and history spacing, the engine)."""

    x: np.ndarray
    y: np.ndarray
    specs: Sequence[NetworkSpec]
    iterations: int
    log_every: int
    engine: str = "numpy"
    record_every: int = 0

    def task(self, chunk: Chunk) -> ChunkTask:
        part = self.specs[chunk.start : chunk.stop]  # a Grid's slice: a Grid, its runs known
        return ChunkTask(
            chunk, self.x, self.y, part if isinstance(part, network.Grid) else tuple(part),
            self.iterations, self.log_every, self.engine, self.record_every,
        )  # fmt: skip


@dataclass(frozen=True)
class ChunkTask:
    """One chunk's unit of work, as it travels to a worker process or a Dask worker."""

    chunk: Chunk
    x: np.ndarray
    y: np.ndarray
    specs: Sequence[NetworkSpec]  # a Grid (its runs known) or a tuple
    iterations: int
    log_every: int
    engine: str
    record_every: int


def train_chunk(
    task: ChunkTask, progress: Callable[[int], None] | None = None, threads: int = 1
) -> ChunkResult:
    """Train one chunk (one thread by default: worker processes already share the
    cores) and label its networks."""
    batch = train_batch(
        task.engine, task.x, task.y, network.as_list(task.specs), task.iterations, task.log_every,
        progress, threads=threads, record_every=task.record_every,
    )  # fmt: skip
    return ChunkResult(task.chunk, batch, status.classify_batch(batch))


class Executor(Protocol):
    """Where chunks train: :class:`LocalExecutor` (this machine's processes) or
    :class:`toynn_cli.run.distributed.Cluster` (a Dask cluster). ``run`` yields each
    chunk's result as it finishes (in finishing order); ``progress(done, total)``
    counts network-iterations; a consumer that stops early stops the training."""

    def run(
        self, job: Job, chunks: Sequence[Chunk], progress: Callable[[int, int], None] | None = None
    ) -> Iterator[ChunkResult]: ...

    def close(self) -> None: ...


_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _worker_start(parent: int) -> None:
    # Workers start with both signals blocked (see run). Ctrl-C reaches every process of
    # the terminal's group; only the parent decides what to do, so workers ignore it.
    # SIGTERM gets its default action back (a forked worker inherits the parent's
    # handler, which would swallow it): the parent's terminate() ends a worker at once.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with(parent)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)


def _die_with(parent: int) -> None:
    """A worker must not outlive its parent: if the parent is killed (SIGKILL cannot be
    caught, so it cannot terminate its pool), Linux sends the worker SIGKILL too."""
    with contextlib.suppress(OSError, AttributeError):  # prctl is Linux-only
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL))
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def physical_memory() -> int | None:
    """This machine's memory in bytes, where the OS says."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class LocalExecutor:
    """Chunks trained in this process, or by a pool of ``workers`` processes."""

    def __init__(self, workers: int = 1) -> None:
        self.workers = workers

    def close(self) -> None:
        """Nothing to release: a pool lives only while :meth:`run` yields."""

    def run(
        self, job: Job, chunks: Sequence[Chunk], progress: Callable[[int, int], None] | None = None
    ) -> Iterator[ChunkResult]:
        """Train ``chunks`` and yield each as it finishes (in finishing order).

        With one worker (or one chunk, a small grid, or a threaded engine: see
        :func:`in_process`) everything runs in this process and progress moves within a
        chunk; otherwise a pool of forked processes trains the chunks and progress moves
        chunk by chunk. If the consumer stops early (an
        interrupt), the pool is terminated at once. In this process the numba engine
        uses up to ``workers`` threads; in worker processes, one each.
        """
        workers, iterations = self.workers, job.iterations
        total = sum(len(c) for c in chunks) * iterations
        tasks = [job.task(c) for c in chunks]
        done = 0
        if processes(chunks, workers, iterations, job.engine) == 1:
            for task in tasks:

                def within(j: int, done: int = done, n: int = len(task.chunk)) -> None:
                    if progress is not None:
                        progress(done + j * n, total)

                result = train_chunk(task, within, threads=max(1, workers))
                done += len(task.chunk) * iterations
                yield result
            return
        # compiled once (for these networks on this data), inherited by the workers
        engines.get(job.engine).prepare(job.specs, job.x, job.y)
        import multiprocessing  # here: one worker (toynn train) never needs it

        # fork: workers start at once and inherit x, y and the code (spawn would re-import
        # numpy in each, and a worker killed while bootstrapping prints a traceback)
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        # Block the signals while the pool starts: a signal then waits until the pool exists
        # (and is terminated below), and no worker runs the parent's handler before its own.
        saved = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        try:
            pool = multiprocessing.get_context(method).Pool(
                min(workers, len(chunks)), initializer=_worker_start, initargs=(os.getpid(),)
            )
        except BaseException:
            signal.pthread_sigmask(signal.SIG_SETMASK, saved)
            raise
        try:
            # unblocked inside the try: a signal held while the pool started is raised here,
            # and the pool is still terminated (else Pool.__del__ complains at exit)
            signal.pthread_sigmask(signal.SIG_SETMASK, saved)
            for result in pool.imap_unordered(train_chunk, tasks):
                done += len(result.chunk) * iterations
                if progress is not None:
                    progress(done, total)
                yield result
            pool.close()
        finally:
            pool.terminate()
            pool.join()
