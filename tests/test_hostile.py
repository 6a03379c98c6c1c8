"""Run folders under attack (issue 14, point 9): readers refuse a hostile file with
one line, and one bad folder never hides the others."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clitools import invoke, invoke_ok

TRAIN = ("train", "--iterations", "40", "--log-every", "20", "-q", "--out", "runs")


def _run(cli_env: Path, name: str) -> Path:
    invoke_ok(*TRAIN, "--name", name)
    (found,) = [p for p in (cli_env / "runs").iterdir() if p.name.endswith(f"-{name}")]
    return found


def test_deeply_nested_results_are_refused_with_one_line(cli_env):
    run_dir = _run(cli_env, "deep")
    (run_dir / "results.json").write_text("[" * 200_000 + "]" * 200_000)
    expected = (
        f"Error: '{run_dir / 'results.json'}' nests JSON too deeply to read; expected a "
        "toynn run file\n"
    )
    for args in (("show", run_dir), ("compare", run_dir, run_dir)):
        result = invoke(*args)
        assert (result.exit_code, result.stderr) == (2, expected)


@pytest.mark.slow
def test_runs_lists_every_folder_and_says_what_is_damaged(cli_env):
    good = _run(cli_env, "good")
    deep = _run(cli_env, "deep")
    many = _run(cli_env, "many")
    (deep / "results.json").write_text("[" * 200_000 + "]" * 200_000)
    info = json.loads((many / "run.json").read_text())
    info["networks"] = "many"
    (many / "run.json").write_text(json.dumps(info))
    gone = _run(cli_env, "gone")
    (gone / "results.json").unlink()  # run.json still says complete
    stray = cli_env / "runs" / "20261201-000000-xor"  # what a disk full at the start leaves
    stray.mkdir()
    (stray / "chunks").mkdir()
    (cli_env / "runs" / "notes").mkdir()  # not named like a run folder: not listed
    rows = {r["run"]: r for r in json.loads(invoke_ok("runs", "--json").stdout)}
    assert set(rows) == {good.name, deep.name, many.name, stray.name, gone.name}
    assert rows[good.name]["state"] == "complete" and rows[good.name]["networks"] == 1
    assert rows[many.name]["state"] == "complete" and rows[many.name]["networks"] == -1
    assert rows[deep.name]["state"] == "damaged: results.json nested too deeply"
    assert rows[stray.name]["state"] == "damaged: no run.json"
    assert rows[gone.name]["state"] == "damaged: no results.json"
    table = invoke_ok("runs").stdout
    assert "damaged: no run.json" in " ".join(table.split())


def test_resume_refuses_a_symlinked_chunks_folder(cli_env):
    invoke_ok("sweep", "--alphas", "0.5,1", "--iterations", "20", "--log-every", "10", "-q",
              "--out", "runs")  # fmt: skip
    (run_dir,) = (cli_env / "runs").iterdir()
    info = json.loads((run_dir / "run.json").read_text())
    info["status"] = "interrupted"
    (run_dir / "run.json").write_text(json.dumps(info))
    outside = cli_env / "elsewhere"
    (run_dir / "chunks").rename(outside)
    (run_dir / "chunks").symlink_to(outside)
    before = sorted(p.name for p in outside.iterdir())
    result = invoke("sweep", "--resume", run_dir)
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: option --resume: {run_dir / 'chunks'} is a symbolic link; expected the "
        "run folder's own file (toynn writes no file through a link)\n"
    )
    assert sorted(p.name for p in outside.iterdir()) == before
