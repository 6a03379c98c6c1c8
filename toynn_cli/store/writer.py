"""The one writer of a run folder: config.yaml and run.json first, each chunk as it
finishes, then results.json, metrics.csv, weights.npz and the reports; every file
atomic (see store/runs.py), run.json always saying how far the run got."""

from __future__ import annotations

import contextlib
import os
import shlex
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from toynn_cli import __version__, config
from toynn_cli.config import Experiment
from toynn_cli.core.network import NetworkResult
from toynn_cli.run import executor
from toynn_cli.run.interrupts import Interrupted
from toynn_cli.store import results, runs

if TYPE_CHECKING:
    from toynn_cli.run.plan import Plan


class StoreError(Exception):
    """A run folder cannot be made or written (disk full, permissions); one line."""


def write_error(where: Path, exc: OSError) -> str:
    return f"cannot write to '{where}': {exc.strerror or exc}"


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
        """Make the run folder (never an existing one), its chunks/ folder, config.yaml
        and run.json ("running"); raise StoreError with one line if it cannot be."""
        info = {
            "format": runs.FORMAT,
            "command": shlex.join(["toynn", *argv]),
            "started": datetime.now().isoformat(timespec="seconds"),
            "toynn_version": __version__,
            "networks": len(plan.specs),
            "chunk_size": plan.chunk_size,
            "chunks": len(plan.chunks),
            "engine": plan.engine,
            **(where or {}),
            "pid": os.getpid(),
        }
        try:
            run = cls(runs.create_run_dir(parent, experiment.name), info)
            os.mkdir(run.dir / cls.CHUNKS)
            runs.atomic_write(run.dir / "config.yaml", config.dump(experiment))
            runs.write_status(run.dir, "running", **info, networks_done=0)
        except OSError as exc:
            raise StoreError(
                str(exc) if isinstance(exc, runs.RunDirError) else write_error(parent, exc)
            ) from None
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
        can still be written, then raise StoreError. Chunks already saved stay valid
        for --resume."""
        self.stopped(write_error(self.dir, exc), networks_done)

    def stopped(self, message: str, networks_done: int) -> NoReturn:
        """Training cannot go on: mark the folder interrupted (if that can still be
        written) with the reason, then raise StoreError with the message."""
        with contextlib.suppress(OSError):
            runs.write_status(
                self.dir, "interrupted", **self.info, networks_done=networks_done, error=message
            )
        raise StoreError(message)

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
