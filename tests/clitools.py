"""Helpers for tests of the command line in process (click's CliRunner)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from click.testing import CliRunner, Result

from toynn_cli.cli import cli
from toynn_cli.store import chunks


def invoke(*args: object) -> Result:
    """Run ``toynn ARGS``; an exception other than an exit is a bug: it is raised."""
    result = CliRunner().invoke(cli, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def invoke_ok(*args: object) -> Result:
    """:func:`invoke`, which must exit 0."""
    result = invoke(*args)
    assert result.exit_code == 0, result.stderr
    return result


def chunk_arrays(run_dir: Path) -> dict[str, bytes]:
    """Every array of every chunk file of a run folder, as bytes (the files' zip
    metadata aside)."""
    out = {}
    for path in sorted((run_dir / "chunks").glob("*.npz")):
        for key, value in chunks.read_arrays(path).items():
            out[f"{path.name}/{key}"] = value.tobytes()
    return out


def as_older_chunk(path: Path, format: int, history: np.ndarray | None = None) -> None:
    """Rewrite a chunk file as an older toynn wrote it: every float64 array as is
    (before format 4); format 3: deflated, the float32 history as second differences;
    format 2: stored, the float64 ``history`` (default: the file's own)."""
    arrays = chunks.read_arrays(path)
    errors = arrays.pop("history_errors")
    if format == 3:
        arrays[chunks.HISTORY_ENTRIES[2]] = chunks.encode_history(errors, 2)
        np.savez_compressed(path, **arrays)
    else:
        arrays["history_errors"] = errors if history is None else history
        np.savez(path, **arrays)
