"""Helpers for tests of the command line in process (click's CliRunner)."""

from __future__ import annotations

from pathlib import Path

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
