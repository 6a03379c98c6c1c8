"""Seed ensembles: one row per (alpha, hidden) cell over its seeds."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from clitools import invoke_ok

from toynn_cli.analysis import ensemble, status
from toynn_cli.config import grid
from toynn_cli.core import engine, network
from toynn_cli.core.datasets import BUILTIN
from toynn_cli.core.network import NetworkSpec

pytestmark = pytest.mark.usefixtures("cli_env")

XOR = BUILTIN["xor"]


def group_rows(text: str) -> list[list[str]]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Final error per cell"))
    rows = []
    for line in lines[start + 1 :]:
        if line.startswith("│"):
            rows.append([c.strip() for c in line.strip("│").split("│")])
        elif line.startswith("└"):
            break
    return rows


SEEDS = 12
ARGS = ("--hidden", "2,4", "--alphas", "10", "--seeds", f"0..{SEEDS - 1}",
        "--iterations", 3000, "--log-every", 1000)  # fmt: skip


@pytest.mark.slow
def test_cells_aggregate_the_seeds():
    specs = [network.NetworkSpec(10.0, h, s) for h in (2, 4) for s in range(SEEDS)]
    results = engine.train(XOR.x, XOR.y, specs, 3000, 1000)
    statuses = [status.classify(r) for r in results]
    cells = ensemble.cells(results, statuses)
    assert [(c.alpha, c.hidden) for c in cells] == [(10.0, 2), (10.0, 4)]
    for cell, chunk in zip(cells, (results[:SEEDS], results[SEEDS:])):
        errors = np.array([r.final_error for r in chunk])
        assert cell.seeds == list(range(SEEDS))
        assert cell.median == float(np.median(errors))
        assert (cell.min, cell.max) == (errors.min(), errors.max())
        labels = [status.classify(r) for r in chunk]
        assert cell.converged_fraction == labels.count("converged") / SEEDS
        assert sum(cell.counts().values()) == SEEDS
    assert ensemble.has_ensembles(results)
    assert not ensemble.has_ensembles(results[:1] + results[SEEDS : SEEDS + 1])


def test_a_grid_has_ensembles_when_any_cell_repeats_even_the_last():
    one_each = [NetworkSpec(a, 4, 0) for a in (0.1, 1.0, 10.0)]
    assert not ensemble.grid_has_ensembles(one_each)
    assert not ensemble.grid_has_ensembles([])
    assert ensemble.grid_has_ensembles([*one_each, NetworkSpec(10.0, 4, 7)])  # the last
    assert not ensemble.grid_has_ensembles([*one_each, NetworkSpec(10.0, 8, 7)])  # new cell


def test_cell_statistics_ignore_non_finite_errors():
    cell = ensemble.Cell(
        NetworkSpec(1.0, 4, 0),
        [1, 2, 3],
        np.array([0.1, np.nan, 0.3]),
        ["converged", "diverged", "stuck"],
    )
    assert (cell.median, cell.min, cell.max) == (pytest.approx(0.2), 0.1, 0.3)
    assert cell.counts() == {"converged": 1, "stuck": 1, "diverged": 1}


def test_sweep_groups_by_default_when_cells_have_several_seeds():
    result = invoke_ok("sweep", *ARGS, "--no-save", "--json")
    doc = json.loads(result.stdout)
    text = invoke_ok("sweep", *ARGS, "--no-save").stdout
    rows = group_rows(text)
    assert [r[:3] for r in rows] == [["10", "2", str(SEEDS)], ["10", "4", str(SEEDS)]]
    for row, hidden in zip(rows, (2, 4)):
        nets = [n for n in doc["networks"] if n["hidden"] == hidden]
        errors = np.array([n["final_error"] for n in nets])
        labels = [n["status"] for n in nets]
        n_conv = labels.count("converged")
        assert row[3] == f"{np.median(errors):.12g}"
        assert row[4] == f"{errors.min():.12g}"
        assert row[5] == f"{errors.max():.12g}"
        assert row[6] == f"{n_conv}/{SEEDS} ({n_conv / SEEDS:.0%})"
        expected = ", ".join(f"{labels.count(s)} {s}" for s in status.STATUSES if s in labels)
        assert row[7] == expected
    assert "Error at each checkpoint" not in text
    assert "one row per cell; --no-group for one row per network" in text


def test_no_group_and_group_options():
    per_network = invoke_ok("sweep", *ARGS, "--no-save", "--no-group").stdout
    assert "Error at each checkpoint" in per_network
    assert "Final error per cell" not in per_network
    single = invoke_ok(
        "sweep", "--alphas", "1,10", "--iterations", 500, "--log-every", 100, "--no-save"
    )
    assert "Final error per cell" not in single.stdout  # one seed per cell: not grouped
    forced = invoke_ok("sweep", "--alphas", "1,10", "--iterations", 500, "--log-every", 100,
                       "--no-save", "--group")  # fmt: skip
    assert [r[:3] for r in group_rows(forced.stdout)] == [["1", "4", "1"], ["10", "4", "1"]]


@pytest.mark.slow
def test_show_groups_a_saved_ensemble():
    invoke_ok("sweep", *ARGS, "-q")
    (run_dir,) = Path("runs").iterdir()
    shown = invoke_ok("show", run_dir).stdout
    saved = (run_dir / "report.txt").read_text()
    assert shown.startswith(saved)  # then the run's story, from run.json
    assert shown[len(saved) :].startswith("Run\n state     complete (24 of 24 networks)\n")
    assert len(group_rows(shown)) == 2
    assert "Error at each checkpoint" in invoke_ok("show", run_dir, "--no-group").stdout


def test_a_long_group_table_shows_its_first_and_last_cells():
    result = invoke_ok(
        "sweep", "--alphas", "0.001..1000", "--hidden", "2,4,8", "--seeds", "0..1",
        "--iterations", "50", "--no-save", "--rows", "6", "--group", "--wide",
    )  # fmt: skip
    rows = group_rows(result.stdout)
    assert [r[:2] for r in rows] == [
        ["0.001", "2"], ["0.01", "2"], ["0.1", "2"], ["...", "..."],
        ["10", "8"], ["100", "8"], ["1000", "8"],
    ]  # fmt: skip
    assert "first 3 and last 3 of 21 cells shown (--rows 0 for all)" in result.stdout
    every = group_rows(invoke_ok("sweep", "--alphas", "0.001..1000", "--hidden", "2,4,8",
                                 "--seeds", "0..1", "--iterations", "50", "--no-save",
                                 "--rows", "0", "--group", "--wide").stdout)  # fmt: skip
    assert len(every) == 21


def test_a_grids_cells_are_a_lists_cells():
    # a Grid is grouped run by run (network.runs), a list network by network: the same
    # cells, repeated alphas and hidden sizes merged, in order of first appearance
    specs = grid.expand([4, 4, 8], [0.1, 1.0, 0.1], range(3), architectures=({}, {"bias": True}))
    errors = np.arange(len(specs), dtype=np.float64)
    statuses = ["converged"] * len(specs)
    from_grid = ensemble.cells([], statuses, errors, specs)
    from_list = ensemble.cells([], statuses, errors, list(specs))
    assert [(c.key, c.seeds, c.final_errors.tolist()) for c in from_grid] == [
        (c.key, c.seeds, c.final_errors.tolist()) for c in from_list
    ]
    assert len(from_grid) == 8 and from_grid[0].seeds == [0, 1, 2] * 4
    assert from_grid[0].final_errors.tolist() == [0, 1, 2, 6, 7, 8, 18, 19, 20, 24, 25, 26]
