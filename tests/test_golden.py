"""The golden runs (tests/golden/cases.py): the same commands give the same numbers and
the same run-folder contents as when the golden files were written."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parent / "golden"))
import cases

from toynn_cli.cli import cli


def _expected(name: str) -> dict:
    return json.loads((cases.HERE / f"{name}.json").read_text())


def _compare(got: dict, want: dict) -> None:
    assert len(got["networks"]) == len(want["networks"])
    for i, (g, w) in enumerate(zip(got["networks"], want["networks"], strict=True)):
        assert g == w, f"network {i} differs"
    assert sorted(got["files"]) == sorted(want["files"])
    for name in want["files"]:
        assert got["files"][name] == want["files"][name], name


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=[pytest.mark.slow] if slow else [])
        for name, (_, slow) in cases.CASES.items()
    ],
)
def test_a_golden_run_gives_the_same_numbers_and_files(name):
    _compare(cases.run_case(name), _expected(name))


def test_a_resumed_sweep_gives_the_golden_uninterrupted_run(tmp_path, monkeypatch):
    """The chunked sweep, interrupted after two of its chunks (the others removed, as
    a killed process leaves it), then resumed: the golden numbers and chunk files."""
    monkeypatch.chdir(cases.ROOT)
    args, _ = cases.CASES["chunked"]
    out = tmp_path / "runs"
    first = CliRunner().invoke(cli, [*args, "--quiet", "--no-figures", "--out", str(out)])
    assert first.exit_code == 0, first.stderr
    (run_dir,) = list(out.iterdir())
    for path in sorted((run_dir / "chunks").glob("*.npz"))[2:]:
        path.unlink()
    for name in ("results.json", "metrics.csv", "weights.npz", "report.txt", "report.html"):
        (run_dir / name).unlink(missing_ok=True)
    info = json.loads((run_dir / "run.json").read_text())
    info["status"] = "interrupted"
    (run_dir / "run.json").write_text(json.dumps(info))
    resumed = CliRunner().invoke(
        cli, ["sweep", "--resume", str(run_dir), "--json", "--quiet", "--no-figures"]
    )
    assert resumed.exit_code == 0, resumed.stderr
    got = cases.snapshot(run_dir, resumed.stdout)
    want = _expected("chunked")
    got["files"]["run.json"].pop("resumed", None)
    _compare(got, want)
