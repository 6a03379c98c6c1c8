"""Chunks on a Dask cluster: the ``--executor dask`` back-end.

Each chunk becomes one Dask task running the same unit of work as the local executor
(:func:`executor.train_chunk`: the batched engine on one chunk), so results are
bit-identical to a local run whatever the cluster. Without a scheduler address a
``LocalCluster`` of worker processes is started for the run and closed after it.

Dask is optional (``pip install 'toynn[dask]'``) and imported only here, only when
asked for. No printing, no click/rich/yaml: errors are :class:`ClusterError` with a
one-line message for the command line to show.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from toynn_cli.run.executor import Chunk, ChunkResult, Job, train_chunk

#: Seconds to wait for a scheduler before giving up.
CONNECT_TIMEOUT = 5.0
#: Seconds allowed for closing the client and a LocalCluster (on an interrupt too).
CLOSE_TIMEOUT = 2.0
INSTALL_HINT = "pip install 'toynn[dask]'"


class ClusterError(Exception):
    """Dask missing, a bad scheduler address or an unreachable scheduler: one line."""


#: Dask's own log lines (a closed connection when a cluster stops, a worker's heartbeat
#: after it was killed) are not toynn's output: toynn reports failures in one line.
#: The environment variable reaches the worker processes too; set it to see them.
QUIET_LOGS = ("DASK_LOGGING__DISTRIBUTED", "critical")


def _import() -> Any:
    name, level = QUIET_LOGS
    os.environ.setdefault(name, level)
    try:
        import distributed
    except ImportError:
        raise ClusterError(
            f"option --executor dask needs Dask distributed, which is not installed; "
            f"install it with: {INSTALL_HINT}"
        ) from None
    import logging  # here: importing this module must stay cheap (Dask never unless asked)

    if os.environ[name] == level:  # also when Dask was imported before
        logging.getLogger("distributed").setLevel(logging.CRITICAL)
    return distributed


class Cluster:
    """A client connected to a Dask scheduler, and the LocalCluster it owns (if any)."""

    def __init__(self, client: Any, local: Any = None) -> None:
        self.client = client
        self.local = local
        self._stopped_early = False

    @property
    def address(self) -> str:
        return str(self.client.scheduler.address)

    def threads(self) -> int:
        """The cluster's worker threads (chunks trained at once), at least 1."""
        info = self.client.scheduler_info()
        workers = info.get("workers", {}).values()
        return max(1, sum(int(w.get("nthreads", 1)) for w in workers))

    def run(
        self, job: Job, chunks: Sequence[Chunk], progress: Callable[[int, int], None] | None = None
    ) -> Iterator[ChunkResult]:
        """Train ``chunks`` as one Dask task each and yield each as it finishes, like
        :meth:`executor.LocalExecutor.run`. Progress moves chunk by chunk. If the
        consumer stops early (an interrupt, an error), the tasks not yet finished are
        cancelled. Each worker trains with the job's engine (the numba engine must be
        installed there too)."""
        distributed = _import()
        iterations = job.iterations
        total = sum(len(c) for c in chunks) * iterations
        run_id = uuid.uuid4().hex[:8]
        # x and y are small; each task carries them (scattering would add a round trip)
        futures = [
            self.client.submit(
                train_chunk,
                job.task(c),
                key=f"toynn-{run_id}-chunk-{c.index:05d}",
                pure=False,
                priority=-c.index,  # grid order when there are more chunks than workers
            )
            for c in chunks
        ]
        done = 0
        consumed: set[str] = set()
        try:
            for future in distributed.as_completed(futures, loop=self.client.loop):
                try:
                    if future.status == "error":  # the task failed, or its worker was lost
                        raise future.exception()
                    result: ChunkResult = future.result()
                except Exception as exc:  # also: cancelled, the scheduler gone
                    reason = str(exc).split("\n")[0] or type(exc).__name__
                    raise ClusterError(
                        f"training on the Dask cluster at {self.address} failed: {reason}"
                    ) from None
                consumed.add(future.key)
                future.release()
                done += len(result.chunk) * iterations
                if progress is not None:
                    progress(done, total)
                yield result
        finally:
            # stopped early: cancel the rest, the chunks finished but not yet taken too
            # (a finished task left behind holds up the client's closing)
            left = [f for f in futures if f.key not in consumed]
            if left:
                self._stopped_early = True
                with contextlib.suppress(Exception):
                    self.client.cancel(left, force=True)

    def close(self) -> None:
        """Disconnect; stop the LocalCluster if this run started one. Quick: if training
        stopped early, the LocalCluster's worker processes are killed, not waited for (a
        Dask worker finishes its running task before it closes). A remote cluster's
        workers finish the chunk they are training; its other tasks were cancelled."""
        with contextlib.suppress(Exception):
            self.client.close(timeout=CLOSE_TIMEOUT)
        if self.local is not None and self._stopped_early:
            self._kill_local_workers()
        if self.local is not None:
            with contextlib.suppress(Exception):
                self.local.close(timeout=CLOSE_TIMEOUT)
            self.local = None

    def _kill_local_workers(self) -> None:
        for nanny in list(self.local.workers.values()):
            with contextlib.suppress(Exception):
                nanny.auto_restart = False
                pid = nanny.process.process.pid
                if pid:
                    os.kill(pid, signal.SIGKILL)


_counter = itertools.count()


def connect(scheduler: str | None, workers: int) -> Cluster:
    """A client for the scheduler at ``scheduler``, or for a new LocalCluster of
    ``workers`` single-threaded worker processes. Raises :class:`ClusterError`."""
    distributed = _import()
    if scheduler is None:
        return _start_local(distributed, workers)
    _check_address(distributed, scheduler)
    try:
        client = distributed.Client(
            scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False, name="toynn"
        )
    except ValueError as exc:
        raise ClusterError(_bad_address(scheduler, exc)) from None
    except Exception:  # refused, timed out, not a scheduler: dask retries until the timeout
        raise ClusterError(
            f"option --scheduler: no Dask scheduler answered at {scheduler} within "
            f"{CONNECT_TIMEOUT:g} s; start one with 'dask scheduler', or check the address"
        ) from None
    return Cluster(client)


def _bad_address(address: str, reason: object) -> str:
    return (
        f"option --scheduler: {address!r} is not a Dask scheduler address ({reason}); "
        "expected tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786"
    )


def _check_address(distributed: Any, address: str) -> None:
    """Refuse a malformed address before a client is made (a client that failed on
    one would hang the interpreter's exit for seconds)."""
    try:
        host, port = distributed.comm.get_address_host_port(address)
    except ValueError as exc:
        raise ClusterError(_bad_address(address, exc)) from None
    if not host:
        raise ClusterError(_bad_address(address, "no host"))
    if not 0 < port < 65536:
        raise ClusterError(_bad_address(address, f"port {port} is not between 1 and 65535"))


def _start_local(distributed: Any, workers: int) -> Cluster:
    # Ctrl-C reaches every process of the terminal's group, and a Dask worker process
    # would print a KeyboardInterrupt traceback; only toynn decides what to do with it
    # (it closes the cluster when it stops). The worker processes start while SIGINT is
    # ignored, which they inherit across exec and keep (Python leaves an ignored SIGINT
    # ignored). A Ctrl-C during the second or two the cluster takes to start is lost.
    import logging

    saved = signal.getsignal(signal.SIGINT)
    ignore = saved is not None and threading.current_thread() is threading.main_thread()
    if ignore:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        local = distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            scheduler_kwargs={"dashboard": False, "dashboard_address": ":0"},  # any free port
            silence_logs=logging.CRITICAL,  # a killed worker is not news
            name=f"toynn-{os.getpid()}-{next(_counter)}",
        )
    except Exception as exc:
        raise ClusterError(
            f"option --executor dask: cannot start a local Dask cluster: {exc}"
        ) from None
    finally:
        if ignore:
            signal.signal(signal.SIGINT, saved)
    try:
        client = distributed.Client(local, set_as_default=False, name="toynn")
    except Exception as exc:
        local.close(timeout=CLOSE_TIMEOUT)
        raise ClusterError(
            f"option --executor dask: cannot connect to the local Dask cluster: {exc}"
        ) from None
    return Cluster(client, local)
