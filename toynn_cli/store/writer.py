"""The one writer of a run folder: config.yaml and run.json first, each chunk as it
finishes, then results.json, metrics.csv, weights.npz and the reports; every file
atomic (see store/runs.py), run.json always saying how far the run got."""

from __future__ import annotations

import contextlib
import os
import shlex
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from toynn_cli import __version__, config
from toynn_cli.config import Experiment
from toynn_cli.core.network import NetworkResult
from toynn_cli.run import executor
from toynn_cli.run.interrupts import Interrupted
from toynn_cli.store import chunks, metrics, provenance, results, runs

if TYPE_CHECKING:
    from toynn_cli.run.plan import Plan


class StoreError(Exception):
    """A run folder cannot be made or written (disk full, permissions); one line."""


def write_error(where: Path, exc: OSError) -> str:
    return f"cannot write to '{where}': {exc.strerror or exc}"


class Run:
    """A run folder being written: config first, each chunk as it finishes, results
    when training ends. ``info`` is what every run.json of the run repeats (the
    command, the config, the machine, ...); the state, progress and times are added
    each time it is written."""

    CHUNKS = "chunks"
    #: run.json's keys that describe one moment of the run, not the run: a resumed run
    #: writes them afresh (``duration_seconds`` is carried over and added to)
    MOMENT = ("status", "updated", "networks_done", "signal", "error", "finished")

    def __init__(self, directory: Path, info: dict[str, Any]) -> None:
        self.dir = directory
        self.info = info
        self._began = time.monotonic()
        earlier = info.pop("duration_seconds", 0.0)
        #: seconds the run spent in earlier processes (before a --resume)
        self._earlier = float(earlier) if isinstance(earlier, int | float) else 0.0
        self._final_written = False

    @classmethod
    def create(
        cls,
        parent: Path,
        experiment: Experiment,
        argv: list[str],
        plan: Plan,
        where: dict[str, Any] | None = None,
        config_path: Path | None = None,
        history: str = "float32",
    ) -> Run:
        """Make the run folder (never an existing one), its chunks/ folder, config.yaml
        and run.json ("running"); raise StoreError with one line if it cannot be.
        ``config_path``: the config file given (``--config``), whose hash
        ``experiment`` holds; ``history``: the precision the error history is kept at
        (chunks.HISTORY_PRECISIONS)."""
        now = datetime.now().astimezone()
        info = {
            "format": runs.FORMAT,
            "command": shlex.join(["toynn", *argv]),
            "config": None if config_path is None else str(config_path),
            "config_sha256": experiment.config_sha256 if config_path is not None else None,
            "started": now.replace(tzinfo=None).isoformat(timespec="seconds"),
            "utc_offset": now.strftime("%z"),
            "toynn_version": __version__,
            "networks": len(plan.specs),
            "chunk_size": plan.chunk_size,
            "chunks": len(plan.chunks),
            "engine": plan.engine,
            "workers": plan.workers,
            "history_precision": history,
            **(where or {}),
            **provenance.facts(),
            "pid": os.getpid(),
        }
        text = config.dump(experiment)
        made = None
        try:
            made = runs.create_run_dir(parent, experiment.name)
            run = cls(made, info)
            os.mkdir(run.dir / cls.CHUNKS)
            runs.atomic_write(run.dir / "config.yaml", text)
            run._write("running", 0)
        except OSError as exc:
            if made is not None:
                _discard(made)  # no stray folder without run.json (a disk full at the start)
            raise StoreError(
                str(exc) if isinstance(exc, runs.RunDirError) else write_error(parent, exc)
            ) from None
        return run

    @classmethod
    def reopen(cls, directory: Path, info: dict[str, Any]) -> Run:
        """An interrupted, failed or killed run folder taken up again by this process
        (``info``: its run.json): what described the run is kept, the rest is written
        afresh; ``resumed`` counts the resumes. ``format`` becomes this toynn's: the
        chunks it adds are written in it (an older folder's chunks still read, each in
        its own format), so a toynn that reads only the older format refuses the folder
        instead of misreading it."""
        keep = {k: v for k, v in info.items() if k not in cls.MOMENT}
        keep.update(format=runs.FORMAT, pid=os.getpid(), resumed=int(info.get("resumed", 0)) + 1)
        return cls(directory, keep)

    @property
    def config_text(self) -> str | None:
        """The run's config.yaml as written, or None if it cannot be read."""
        try:
            return (self.dir / "config.yaml").read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    @property
    def history(self) -> str:
        """The precision the run keeps its error history at: ``float32`` or
        ``float64`` (run.json's ``history_precision``; absent, before format 3:
        float64)."""
        value = self.info.get("history_precision")
        return value if value in chunks.HISTORY_PRECISIONS else "float64"

    @property
    def duration(self) -> float:
        """Seconds the run has spent running so far, in this process and earlier ones."""
        return round(self._earlier + time.monotonic() - self._began, 3)

    def record(self, status: str, networks_done: int, **extra: Any) -> dict[str, Any]:
        """run.json's content for this moment (``finished`` added for a final state)."""
        moment: dict[str, Any] = {"networks_done": networks_done, "duration_seconds": self.duration}
        if status != "running":
            moment["finished"] = datetime.now().isoformat(timespec="seconds")
        return {"status": status, **self.info, **moment, **extra}

    def _write(self, status: str, networks_done: int, **extra: Any) -> None:
        record = self.record(status, networks_done, **extra)
        runs.write_status(self.dir, record.pop("status"), **record)

    def save_chunk(self, result: executor.ChunkResult, done: int) -> None:
        """Write one trained chunk, then record progress (both atomic)."""
        try:
            path = self.dir / self.CHUNKS / f"{result.chunk.index:05d}.npz"
            runs.atomic_write(path, lambda handle: chunks.write_chunk(result, handle, self.history))
            self._write("running", done)
        except OSError as exc:
            self.failed(exc, done - len(result.chunk))

    def failed(self, exc: OSError, networks_done: int) -> NoReturn:
        """A write failed (disk full, permissions): mark the folder interrupted if that
        can still be written, then raise StoreError. Chunks already saved stay valid
        for --resume."""
        self.stopped(write_error(self.dir, exc), networks_done)

    def stopped(self, message: str, networks_done: int) -> NoReturn:
        """Training cannot go on: mark the folder interrupted (if that can still be
        written) with the reason, then raise StoreError with the message."""
        with contextlib.suppress(OSError):
            self._write("interrupted", networks_done, error=message)
        raise StoreError(message)

    def raised(self, exc: BaseException, networks_done: int) -> None:
        """Training or saving raised ``exc`` (a bug, not a signal or a full disk): mark
        the folder failed with its message, if that can still be written. The caller
        re-raises: the traceback is the bug report."""
        message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        with contextlib.suppress(OSError):
            self._write("failed", networks_done, error=message)

    @contextlib.contextmanager
    def failure_recorded(self, networks_done: Callable[[], int]) -> Iterator[None]:
        """A block whose exception (other than StoreError, already recorded) marks the
        folder failed (:meth:`raised`) unless its final state was written; the
        exception goes on."""
        try:
            yield
        except StoreError:
            raise
        except Exception as exc:
            if not self._final_written:
                self.raised(exc, networks_done())
            raise

    def final_record(self, networks_done: int, interrupted: Interrupted | None) -> dict[str, Any]:
        """The run.json :meth:`finish` writes: ``complete``, or ``interrupted`` by a
        signal; made before the reports, which show it."""
        if interrupted is None:
            return self.record("complete", networks_done)
        signal = "SIGINT" if interrupted.exit_code == 130 else "SIGTERM"
        return self.record("interrupted", networks_done, signal=signal)

    def finish(
        self,
        results_json: str,
        finished: list[NetworkResult],
        indices: list[int],
        report_files: tuple[str, str, str] | None,
        final: dict[str, Any],
    ) -> None:
        """Write results.json (``results_json``, its text: :func:`results.to_json`),
        metrics.csv, weights.npz and the reports, then ``final`` (:meth:`final_record`)
        as run.json."""
        try:
            runs.atomic_write(self.dir / "results.json", results_json)
            runs.atomic_write(
                self.dir / "metrics.csv",
                lambda handle: metrics.write_metrics_csv(handle, finished, indices),
            )
            if len(finished) <= results.FULL_RECORDS_LIMIT:  # beyond: the chunk files
                runs.atomic_write(self.dir / "weights.npz", results.weights_npz(finished, indices))
            if report_files is not None:
                runs.atomic_write(self.dir / "report.txt", report_files[0])
                runs.atomic_write(self.dir / "report.svg", report_files[1])
                runs.atomic_write(self.dir / "report.html", report_files[2])
            record = dict(final)
            runs.write_status(self.dir, record.pop("status"), **record)
            self._final_written = True
        except OSError as exc:
            self.failed(exc, len(finished))


def write_surface(
    parent: Path,
    experiment: Experiment,
    argv: list[str],
    files: dict[str, bytes | str],
    facts: dict[str, Any],
) -> Path:
    """A surface run's folder, written whole: config.yaml, ``files`` (surface.csv,
    path.csv, surface.png) and run.json (``kind`` surface, complete; ``facts``: what the
    map was made of). Raise StoreError with one line if it cannot be; nothing stays of
    a folder that could not be written."""
    now = datetime.now().astimezone()
    info = {
        "format": runs.FORMAT,
        "kind": "surface",
        "command": shlex.join(["toynn", *argv]),
        "started": now.replace(tzinfo=None).isoformat(timespec="seconds"),
        "utc_offset": now.strftime("%z"),
        "toynn_version": __version__,
        "networks": 1,
        "networks_done": 1,
        **facts,
        **provenance.facts(),
        "files": sorted(files),
    }
    made = None
    try:
        made = runs.create_run_dir(parent, f"{experiment.name}-surface")
        runs.atomic_write(made / "config.yaml", config.dump(experiment))
        for name, data in files.items():
            runs.atomic_write(made / name, data)
        runs.write_status(made, "complete", **info)
    except OSError as exc:
        if made is not None:
            _discard(made, tuple(files))
        raise StoreError(
            str(exc) if isinstance(exc, runs.RunDirError) else write_error(parent, exc)
        ) from None
    return made


def _discard(folder: Path, written: tuple[str, ...] = ()) -> None:
    """Remove a run folder this process has just made and could not finish making: only
    the entries it writes (no other file is touched; a folder that holds anything else
    stays)."""
    for name in ("run.json", "config.yaml", *written):
        with contextlib.suppress(OSError):
            (folder / name).unlink()
    for inner in (folder / Run.CHUNKS, folder):
        with contextlib.suppress(OSError):
            inner.rmdir()
