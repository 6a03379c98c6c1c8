"""The command line, in process (click's CliRunner): commands, tables, run folders,
JSON, exit codes and signals.

Runs that need the tutorial's numbers replay the session's ``tutorial_sweep``
(conftest.py) instead of training again; everything else trains a few hundred to a few
thousand iterations.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import signal
import time
from pathlib import Path

import click
import numpy as np
import pytest
import yaml
from clitools import invoke, invoke_ok

from toynn_cli import config
from toynn_cli.analysis import status
from toynn_cli.cli import app as cli_app
from toynn_cli.cli import cli
from toynn_cli.cli import output as cli_output
from toynn_cli.cli import session as cli_session
from toynn_cli.core import engine, engines, network, tutorial
from toynn_cli.core.datasets import BUILTIN
from toynn_cli.core.network import NetworkResult, NetworkSpec
from toynn_cli.run import cost, executor
from toynn_cli.store import results, runs
from toynn_cli.view import formats

pytestmark = pytest.mark.usefixtures("cli_env")

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
XOR = BUILTIN["xor"]
RUN_FILES = {
    "chunks",
    "config.yaml",
    "results.json",
    "metrics.csv",
    "weights.npz",
    "report.txt",
    "report.svg",
    "report.html",
    "run.json",
}
RUN_NAME = re.compile(r"\d{8}-\d{6}-(?P<name>[A-Za-z0-9._-]+?)(-(?P<n>\d+))?")
ANSI = "\x1b"


def trained(specs: list[NetworkSpec], iterations: int, log_every: int) -> list[NetworkResult]:
    """What the engine gives for these networks, to compare the CLI's output with."""
    return engine.train(XOR.x, XOR.y, specs, iterations, log_every)


def only_run_dir(parent: Path) -> Path:
    folders = list(parent.iterdir())
    assert len(folders) == 1, folders
    return folders[0]


def cells(line: str) -> list[str]:
    line = line.strip()
    return [c.strip() for c in line[1:-1].split(line[0])]


def table(text: str, title: str) -> tuple[list[str], list[list[str]]]:
    """Header cells and body rows of the first table after the line that starts with
    ``title``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(title))
    header: list[str] = []
    rows: list[list[str]] = []
    for line in lines[start + 1 :]:
        stripped = line.strip()
        if stripped.startswith("┃") and not header:
            header = cells(stripped)
        elif stripped.startswith("│"):
            rows.append(cells(stripped))
        elif stripped.startswith("└"):
            break
    return header, rows


def matrix_cells(array: np.ndarray, integers: bool = False) -> list[list[str]]:
    return [
        [str(r), *[str(int(v)) if integers else f"{v:.8g}" for v in row]]
        for r, row in enumerate(array)
    ]


def network_json_matches(record: dict, result: NetworkResult, status_label: str) -> None:
    """A JSON network record holds exactly the engine's numbers (floats round-trip)."""
    assert record["alpha"] == result.spec.alpha
    assert record["hidden"] == result.spec.hidden
    assert record["seed"] == result.spec.seed
    assert record["iterations"] == result.iterations
    assert record["checkpoints"] == [
        {"iteration": int(j), "error": float(e), "accuracy": float(a)}
        for j, e, a in zip(
            result.checkpoint_iterations,
            result.checkpoint_errors,
            result.checkpoint_accuracy,
            strict=True,
        )
    ]
    assert record["final_error"] == result.final_error
    assert record["final_accuracy"] == result.final_accuracy
    assert record["status"] == status_label
    for key, arrays in (
        ("weights_initial", result.weights_initial),
        ("weights", result.weights),
        ("direction_changes", result.direction_changes),
    ):
        assert len(record[key]) == len(arrays)
        for got, want in zip(record[key], arrays, strict=True):
            assert np.array(got).shape == want.shape
            assert got == want.tolist()
    assert all(isinstance(v, int) for m in record["direction_changes"] for r in m for v in r)


# --- help -------------------------------------------------------------------------------


def test_the_commands():
    assert cli.list_commands(click.Context(cli)) == [
        "compare",
        "datasets",
        "plot",
        "reproduce",
        "runs",
        "show",
        "surface",
        "sweep",
        "train",
    ]


@pytest.mark.parametrize("command", [[], *[[name] for name in sorted(cli_app.COMMANDS)]])
def test_every_command_has_help_with_an_example(command):
    result = invoke_ok(*command, "--help")
    assert result.stdout.startswith(f"Usage: toynn {' '.join(command)}".rstrip() + " [OPTIONS]")
    assert "Example" in result.stdout
    assert "\n      toynn " in result.stdout  # the example is a command line, kept as typed
    assert result.stderr == ""


@pytest.mark.parametrize("command", sorted(cli_app.COMMANDS))
def test_every_option_has_help_text(command):
    found = cli.get_command(click.Context(cli), command)
    assert found is not None
    for param in found.params:
        if isinstance(param, click.Option) and param.name != "help":  # arguments have none
            assert param.help, f"toynn {command} {param.opts[0]} has no help"


def test_no_arguments_prints_the_help():
    result = invoke_ok()
    assert result.stdout.startswith("Usage: toynn [OPTIONS] COMMAND [ARGS]...")
    for name in cli_app.COMMANDS:
        assert f"  {name} " in result.stdout


def test_every_subcommand_has_help_with_an_example():
    for sub in ("list", "export", "plot"):
        result = invoke_ok("datasets", sub, "--help")
        assert result.stdout.startswith(f"Usage: toynn datasets {sub} [OPTIONS]")
        assert "\n      toynn datasets " in result.stdout
        found = cli.get_command(click.Context(cli), "datasets").get_command(None, sub)
        for param in found.params:
            if isinstance(param, click.Option) and param.name != "help":
                assert param.help, f"toynn datasets {sub} {param.opts[0]} has no help"


def test_short_help_flag():
    assert invoke_ok("sweep", "-h").stdout == invoke_ok("sweep", "--help").stdout


def test_version():
    assert invoke_ok("--version").stdout == "toynn, version 0.1.0\n"


# --- train ----------------------------------------------------------------------------


@pytest.mark.slow
def test_train_xor_config(tmp_path):
    """The error at each checkpoint and the final error, the status, the final weight
    matrices and the direction-change counts, as the engine computed them."""
    result = invoke_ok(
        "train", "--config", CONFIGS / "xor.yaml", "--iterations", 2000, "--log-every", 500
    )
    [expected] = trained([NetworkSpec(0.5, 4, 1)], 2000, 500)
    label = status.classify(expected)
    out = result.stdout
    assert out.splitlines()[0] == "xor  dataset xor · 2000 iterations · 1 network"

    header, rows = table(out, "Error (mean |output - target|)")
    # xor's targets are 0 and 1: the accuracy is shown beside the error
    assert header == ["iteration", "error", "accuracy"]
    acc = [f"{a:.4g}" for a in [*expected.checkpoint_accuracy, expected.final_accuracy]]
    assert rows == [
        ["0", tutorial.printed(expected.checkpoint_errors[0]), acc[0]],
        ["500", tutorial.printed(expected.checkpoint_errors[1]), acc[1]],
        ["1000", tutorial.printed(expected.checkpoint_errors[2]), acc[2]],
        ["1500", tutorial.printed(expected.checkpoint_errors[3]), acc[3]],
        ["final (2000)", tutorial.printed(expected.final_error), acc[4]],
    ]
    assert acc == ["0.5", "0.5", "0.75", "1", "1"] or acc[0] == "0.5"
    assert rows[0][1] == "0.496410031903"  # the tutorial's first printed value

    final = tutorial.printed(expected.final_error)
    assert f"\nalpha 0.5, hidden 4, seed 1: final error {final}, {label}\n" in out

    for k, (shape, w, c) in enumerate(
        zip([(3, 4), (4, 1)], expected.weights, expected.direction_changes, strict=True)
    ):
        header, rows = table(out, f"W{k} ({shape[0]} x {shape[1]}) after training")
        assert header == ["", *[str(i) for i in range(shape[1])]]
        assert rows == matrix_cells(w)
        header, rows = table(out, f"W{k} direction changes (of 1999 steps)")
        assert rows == matrix_cells(c, integers=True)

    # A run folder was written, and stderr said where (nothing else: not a terminal).
    run_dir = only_run_dir(tmp_path / "runs")
    assert RUN_NAME.fullmatch(run_dir.name).group("name") == "xor"
    assert result.stderr == f"Saved {Path('runs') / run_dir.name}\n"


def test_train_without_config_is_the_tutorials_opening_program():
    result = invoke_ok("train", "--iterations", 100, "--no-save", "--json")
    experiment = json.loads(result.stdout)["experiment"]
    assert experiment == {
        "name": "xor",
        "dataset": "xor",
        "hidden": 4,
        "alphas": 0.5,
        "iterations": 100,
        "seeds": 1,
        "log_every": 10000,
    }


def test_train_two_layer_config_has_one_weight_matrix():
    result = invoke_ok("train", "--config", CONFIGS / "two-layer.yaml", "--no-save", "--json")
    [net] = json.loads(result.stdout)["networks"]
    assert (net["dataset"], net["hidden"], net["alpha"], net["iterations"]) == (
        "first-column",
        0,
        1.0,
        10000,
    )
    assert [np.array(w).shape for w in net["weights"]] == [(2, 1)]
    assert [c["iteration"] for c in net["checkpoints"]] == list(range(0, 10000, 1000))
    assert net["status"] == "converged"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--config", CONFIGS / "alpha-sweep.yaml"],
            f"{CONFIGS / 'alpha-sweep.yaml'}: alphas has 7 values",
        ),
        (["--alphas", "0.1,1"], "option --alphas has 2 values"),
        (["--seeds", "1..3"], "option --seeds has 3 values"),
        (["--hidden", "2,4"], "option --hidden has 2 values"),
        # an option spelled as typed, not as its config key (it was --clip_value)
        (["--clip-value", "0,1"], "option --clip-value has 2 values"),
        (["--config", CONFIGS / "xor.yaml", "--alphas", "1..100"], "option --alphas has 3 values"),
    ],
)
def test_train_with_several_values_points_to_sweep(tmp_path, args, message):
    result = invoke("train", *args)
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {message}, but 'toynn train' trains one network; use 'toynn sweep' for several\n"
    )
    assert result.stdout == ""
    assert not (tmp_path / "runs").exists()


def test_train_a_sweep_config_narrowed_to_one_network():
    result = invoke_ok(
        "train",
        "--config",
        CONFIGS / "alpha-sweep.yaml",
        "--alpha",
        10,
        "--iterations",
        200,
        "--no-save",
        "--json",
    )
    doc = json.loads(result.stdout)
    assert doc["experiment"]["name"] == "alpha-sweep"
    assert [(n["alpha"], n["hidden"], n["seed"]) for n in doc["networks"]] == [(10.0, 4, 1)]


# --- JSON -------------------------------------------------------------------------------


def test_train_json_is_exactly_the_engines_numbers():
    result = invoke_ok(
        "train", "--alpha", 2, "--hidden", 3, "--seed", 7, "--iterations", 300,
        "--log-every", 100, "--no-save", "--json",
    )  # fmt: skip
    assert result.stderr == ""
    assert result.stdout.endswith("}\n") and result.stdout.count("\n") == 1
    doc = json.loads(result.stdout)
    assert {"experiment", "run_dir", "networks"} <= set(doc)
    assert doc["run_dir"] is None
    assert doc["complete"] is True
    [net] = doc["networks"]
    [expected] = trained([NetworkSpec(2.0, 3, 7)], 300, 100)
    assert net["dataset"] == "xor"
    network_json_matches(net, expected, status.classify(expected))
    assert [np.array(w).shape for w in net["weights"]] == [(3, 3), (3, 1)]
    assert net["outputs"] == expected.outputs.tolist()


def test_sweep_json_networks_in_grid_order():
    """Hidden size outermost, then alpha, then seed; each network exactly what it gets
    when trained alone."""
    result = invoke_ok(
        "sweep", "--alphas", "0.5,4", "--hidden", "2,3", "--seeds", "1,2",
        "--iterations", 200, "--log-every", 50, "--no-save", "--json",
    )  # fmt: skip
    doc = json.loads(result.stdout)
    grid = [(n["hidden"], n["alpha"], n["seed"]) for n in doc["networks"]]
    assert grid == [(h, a, s) for h in (2, 3) for a in (0.5, 4.0) for s in (1, 2)]
    for net in doc["networks"]:
        [alone] = trained([NetworkSpec(net["alpha"], net["hidden"], net["seed"])], 200, 50)
        network_json_matches(net, alone, status.classify(alone))
        assert [np.array(w).shape for w in net["weights"]] == [
            (3, net["hidden"]),
            (net["hidden"], 1),
        ]


def nan_result() -> NetworkResult:
    """A network that blew up: NaN and infinite numbers."""
    nan = float("nan")
    return NetworkResult(
        spec=NetworkSpec(1e300, 2, 1),
        iterations=2,
        checkpoint_iterations=np.array([0]),
        checkpoint_errors=np.array([0.25]),
        final_error=nan,
        history_iterations=np.array([0, 1]),
        history_errors=np.array([0.25, nan]),
        weights_initial=[np.zeros((3, 2)), np.zeros((2, 1))],
        weights=[np.array([[nan, np.inf], [-np.inf, 1.0], [0.5, 0.0]]), np.full((2, 1), nan)],
        direction_changes=[np.zeros((3, 2), dtype=np.int64), np.ones((2, 1), dtype=np.int64)],
        outputs=np.full((4, 1), nan),
    )


def test_non_finite_numbers_are_json_strings():
    assert results.number(float("nan")) == "NaN"
    assert results.number(float("inf")) == "Infinity"
    assert results.number(-float("inf")) == "-Infinity"
    assert results.number(np.float64(0.1)) == 0.1
    fake = nan_result()
    label = status.classify(fake)
    assert label == "diverged"
    doc = results.document({"name": "x"}, None, [fake], [label], "xor")
    text = results.to_json(doc)
    assert "NaN," not in text and "Infinity," not in text.replace('"Infinity"', "")
    net = json.loads(text)["networks"][0]
    assert net["final_error"] == "NaN"
    assert net["weights"][0] == [["NaN", "Infinity"], ["-Infinity", 1.0], [0.5, 0.0]]
    assert net["direction_changes"][1] == [[1], [1]]
    assert math.isnan(float(net["final_error"]))
    with pytest.raises(ValueError):
        results.to_json({"x": float("nan")})  # a stray NaN is a bug, not output


# --- sweep ------------------------------------------------------------------------------


def stack(networks: list[network.NetworkResult]) -> network.BatchResult:
    """Networks already trained, as the batch the engine would have returned."""
    first = networks[0]

    def rows(name: str) -> list[np.ndarray]:
        return [
            np.stack([getattr(n, name)[k] for n in networks]) for k in range(len(first.weights))
        ]

    return network.BatchResult(
        specs=[n.spec for n in networks],
        iterations=first.iterations,
        checkpoint_iterations=first.checkpoint_iterations,
        checkpoint_errors=np.stack([n.checkpoint_errors for n in networks]),
        final_error=np.array([n.final_error for n in networks]),
        history_iterations=first.history_iterations,
        history_errors=np.stack([n.history_errors for n in networks]),
        weights_initial=rows("weights_initial"),
        weights=rows("weights"),
        direction_changes=rows("direction_changes"),
        outputs=np.stack([n.outputs for n in networks]),
        checkpoint_accuracy=np.stack([n.checkpoint_accuracy for n in networks]),
        final_accuracy=np.array([n.final_accuracy for n in networks]),
    )


@pytest.fixture
def replay_tutorial(monkeypatch, tutorial_sweep):
    """Make the engine answer the tutorial's sweep from the session's trained results."""
    by_spec = {r.spec: r for r in tutorial_sweep}

    def train_batch(x, y, specs, iterations, log_every, progress=None, record_every=0):
        assert np.array_equal(x, XOR.x) and np.array_equal(y, XOR.y)
        assert (iterations, log_every, record_every) == (tutorial.ITERATIONS, tutorial.LOG_EVERY, 0)
        return stack([by_spec[spec] for spec in specs])

    monkeypatch.setattr(engine, "train_batch", train_batch)
    return tutorial_sweep


TUTORIAL_STATUSES = ["learning", "learning", "converged", "converged", "converged", "stuck", "diverged"]  # fmt: skip


@pytest.mark.slow
def test_sweep_alpha_sweep_config(replay_tutorial):
    result = invoke_ok("sweep", "--config", CONFIGS / "alpha-sweep.yaml", "--no-save")
    out = result.stdout
    assert ANSI not in out and result.stderr == ""
    assert out.splitlines()[0] == "alpha-sweep  dataset xor · 60000 iterations · 7 networks"
    header, rows = table(out, "Error at each checkpoint")
    checkpoints = ["0", "10000", "20000", "30000", "40000", "50000"]
    assert header == [
        "", "alpha", "hidden", "seed", *checkpoints, "final", "acc", "curve", "status",
    ]  # fmt: skip
    assert [row[1] for row in rows] == ["0.001", "0.01", "0.1", "1", "10", "100", "1000"]
    assert [row[0] for row in rows] == ["", "", "", "", "★", "", ""]  # the best: alpha 10
    assert [row[-1] for row in rows] == TUTORIAL_STATUSES
    for row, r in zip(rows, replay_tutorial, strict=True):
        assert row[2:4] == ["4", "1"]
        published = tutorial.PUBLISHED[r.spec.alpha]
        for shown, digits in zip(row[4:10], published, strict=True):
            if r.spec.alpha == 100.0:
                assert math.isclose(float(shown), float(digits), rel_tol=1e-9)
            else:
                assert shown == digits
        assert row[10] == tutorial.printed(r.final_error)
    best = replay_tutorial[4]
    assert out.endswith(
        "\n7 networks: 3 converged, 2 learning, 1 stuck, 1 diverged. Best: alpha 10, hidden 4, "
        f"seed 1, final error {tutorial.printed(best.final_error)}\n"
    )


def test_sweep_alphas_option_is_the_same_experiment(replay_tutorial):
    by_option = json.loads(
        invoke_ok("sweep", "--alphas", "0.001..1000", "--no-save", "--json").stdout
    )
    by_config = json.loads(
        invoke_ok("sweep", "--config", CONFIGS / "alpha-sweep.yaml", "--no-save", "--json").stdout
    )
    assert by_option["networks"] == by_config["networks"]
    assert by_option["experiment"] == {**by_config["experiment"], "name": "xor"}
    assert [n["alpha"] for n in by_option["networks"]] == [
        0.001,
        0.01,
        0.1,
        1.0,
        10.0,
        100.0,
        1000.0,
    ]
    assert [n["status"] for n in by_option["networks"]] == TUTORIAL_STATUSES
    for net, r in zip(by_option["networks"], replay_tutorial, strict=True):
        network_json_matches(net, r, status.classify(r))


def test_sweep_show_weights():
    result = invoke_ok(
        "sweep", "--alphas", "0.5,2", "--iterations", 300, "--log-every", 100,
        "--show-weights", "--no-save",
    )  # fmt: skip
    expected = trained([NetworkSpec(0.5, 4, 1), NetworkSpec(2.0, 4, 1)], 300, 100)
    out = result.stdout
    parts = out.split("\nNetwork ")
    assert len(parts) == 3
    for i, (part, r) in enumerate(zip(parts[1:], expected, strict=True)):
        assert part.startswith(f"{i}: alpha {formats.fmt_alpha(r.spec.alpha)}, hidden 4, seed 1\n")
        assert table(part, "W0 (3 x 4) after training")[1] == matrix_cells(r.weights[0])
        assert table(part, "W1 (4 x 1) after training")[1] == matrix_cells(r.weights[1])
        changes = "direction changes (of 299 steps)"
        assert table(part, f"W0 {changes}")[1] == matrix_cells(r.direction_changes[0], True)
        assert table(part, f"W1 {changes}")[1] == matrix_cells(r.direction_changes[1], True)
    # Without the flag: no weights.
    plain = invoke_ok("sweep", "--alphas", "0.5,2", "--iterations", 300, "--no-save").stdout
    assert "after training" not in plain and "Network 0" not in plain


def test_sweep_rows_limits_the_table_and_says_so():
    result = invoke_ok(
        "sweep", "--alphas", "0.5,1,2", "--iterations", 100, "--rows", 2, "--no-save"
    )
    rows = table(result.stdout, "Error at each checkpoint")[1]
    assert [row[1] for row in rows] == ["0.5", "...", "2"]  # the first and last, as numpy
    assert (
        "the first 1 and last 1 of 3 networks shown (--rows 0 for all); the rest is in the "
        "run folder" in result.stdout
    )


def test_sweep_many_checkpoints_shows_ten_columns():
    result = invoke_ok(
        "sweep", "--alphas", "1", "--iterations", 200, "--log-every", 10, "--no-save", "--wide"
    )
    header = table(result.stdout, "Error at each checkpoint")[0]
    assert len(header) == 4 + 10 + 4  # final, acc (xor is a classification set), curve, status
    assert header[4] == "0" and header[13] == "190"
    assert "10 of 20 checkpoints shown" in result.stdout


def test_dry_run_lists_the_networks_and_trains_nothing(tmp_path, monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("--dry-run trained")

    monkeypatch.setattr(engine, "train_batch", no_training)
    result = invoke_ok("sweep", "--alphas", "0.001..1000", "--hidden", "4,8", "--dry-run")
    header, rows = table(result.stdout, "14 networks to train, 60000 iterations each")
    assert header == ["#", "alpha", "hidden", "seed"]
    assert rows[0] == ["0", "0.001", "4", "1"]
    assert rows[13] == ["13", "1000", "8", "1"]
    assert len(rows) == 14
    assert result.stderr == ""
    assert not (tmp_path / "runs").exists()

    doc = json.loads(
        invoke_ok("sweep", "--config", CONFIGS / "alpha-sweep.yaml", "--dry-run", "--json").stdout
    )
    assert doc["experiment"]["name"] == "alpha-sweep"
    assert doc["networks"][:2] == [
        {"alpha": 0.001, "hidden": 4, "seed": 1},
        {"alpha": 0.01, "hidden": 4, "seed": 1},
    ]
    assert not (tmp_path / "runs").exists()


def test_dry_run_estimates_a_no_save_run_without_the_saving():
    """--no-save's run writes no folder: its estimate leaves out the saving, network by
    network (cost.per_network), and keeps the rest."""
    args = ("sweep", "--alphas", "0.1,1", "--seeds", "1..1000", "--iterations", "1000",
            "--dry-run", "--json")  # fmt: skip
    saved = json.loads(invoke_ok(*args).stdout)
    unsaved = json.loads(invoke_ok(*args, "--no-save").stdout)
    model = cost.model_for(saved["engine"])
    gap = 2000 * (cost.per_network(model, False, True) - cost.per_network(model, False, False))
    assert gap > 0
    assert saved["estimated_seconds"] - unsaved["estimated_seconds"] == pytest.approx(gap)
    assert {k: v for k, v in saved.items() if k != "estimated_seconds"} == {
        k: v for k, v in unsaved.items() if k != "estimated_seconds"
    }
    assert not Path("runs").exists()


def test_dry_run_plan_line_names_the_engine_and_the_plans_chunks_and_workers():
    grid_args = ("sweep", "--alphas", "0.1,1", "--seeds", "1..1000", "--iterations", "1000")
    out = invoke_ok(*grid_args, "--workers", "2", "--engine", "numpy", "--dry-run").stdout
    line = out.strip().splitlines()[-1]
    assert line.startswith("2 chunks of up to 1000 networks on 2 workers (numpy engine); ")
    experiment = config.resolve(
        None, {"alphas": "0.1,1", "seeds": "1..1000", "iterations": "1000", "engine": "numpy"},
        config.TUTORIAL_SWEEP,
    )  # fmt: skip
    plan = cli_session.Plan.make(experiment, 2, executor.DEFAULT_MAX_MEMORY)
    assert (len(plan.chunks), plan.chunk_size, plan.engine) == (2, 1000, "numpy")
    assert executor.processes(plan.chunks, plan.workers, experiment.iterations) == 2

    def doc(*extra: str) -> dict:
        return json.loads(invoke_ok(*grid_args, "--dry-run", "--json", *extra).stdout)

    numpy_doc, auto_doc = doc("--engine", "numpy", "--workers", "2"), doc("--workers", "2")
    assert (numpy_doc["chunks"], numpy_doc["workers"], numpy_doc["engine"]) == (2, 2, "numpy")
    assert auto_doc["engine"] == engines.choose("auto", plan.specs)
    if auto_doc["engine"] != "numpy":
        assert auto_doc["estimated_seconds"] != numpy_doc["estimated_seconds"]
    # one worker, or too little work for processes: the line says where it trains instead
    line = invoke_ok(*grid_args, "--workers", "1", "--engine", "numpy", "--dry-run").stdout
    assert "1 chunk of up to 2000 networks in this process (numpy engine); " in line
    small = invoke_ok("sweep", "--alphas", "0.1,1", "--seeds", "1..200", "--iterations", "100",
                      "--workers", "2", "--engine", "numpy", "--chunk-size", "100", "--dry-run")  # fmt: skip
    assert (
        "4 chunks of up to 100 networks in this process (numpy engine; no worker processes: "
        f"under {executor.PARALLEL_MIN_WORK} network-iterations); "
    ) in small.stdout


def test_a_run_trains_the_chunks_and_workers_its_dry_run_printed(tmp_path, monkeypatch):
    args = ("sweep", "--alphas", "0.1,1", "--seeds", "1..3", "--iterations", "50",
            "--engine", "numpy", "--workers", "2", "--chunk-size", "2")  # fmt: skip
    planned = json.loads(invoke_ok(*args, "--dry-run", "--json").stdout)
    trained_by: list[int] = []
    real = executor.train_chunk

    def recording(task, *rest, **kwargs):
        trained_by.append(os.getpid())
        return real(task, *rest, **kwargs)

    monkeypatch.setattr(executor, "train_chunk", recording)
    invoke_ok(*args, "--out", tmp_path / "out")
    (run_json,) = (tmp_path / "out").glob("*/run.json")
    info = json.loads(run_json.read_text())
    assert (planned["chunks"], planned["workers"], planned["engine"]) == (3, 1, "numpy")
    assert (info["chunks"], info["chunk_size"], info["engine"]) == (3, 2, "numpy")
    assert trained_by == [os.getpid()] * 3  # in this process, as the dry run said


def test_the_numba_engine_trains_a_large_grid_on_threads_not_processes(tmp_path, monkeypatch):
    pytest.importorskip("numba")
    monkeypatch.setattr(executor, "PARALLEL_MIN_WORK", 0)  # worker processes for numpy
    args = ("sweep", "--alphas", "0.1,1", "--seeds", "1..300", "--iterations", "50",
            "--workers", "2", "--chunk-size", "300")  # fmt: skip
    line = invoke_ok(*args, "--engine", "numpy", "--dry-run").stdout.strip().splitlines()[-1]
    assert line.startswith("2 chunks of up to 300 networks on 2 workers (numpy engine); ")
    line = invoke_ok(*args, "--engine", "numba", "--dry-run").stdout.strip().splitlines()[-1]
    assert line.startswith(
        "2 chunks of up to 300 networks in this process on 2 threads "
        "(numba engine; no worker processes: the engine runs threads); "
    )
    trained_by: list[tuple[int, int]] = []
    real = executor.train_chunk

    def recording(task, *rest, **kwargs):
        trained_by.append((os.getpid(), kwargs["threads"]))
        return real(task, *rest, **kwargs)

    monkeypatch.setattr(executor, "train_chunk", recording)
    invoke_ok(*args, "--engine", "numba", "--out", tmp_path / "out")
    (run_json,) = (tmp_path / "out").glob("*/run.json")
    info = json.loads(run_json.read_text())
    assert (info["processes"], info["threads"]) == (0, 2)
    assert trained_by == [(os.getpid(), 2)] * 2
    shown = invoke_ok("show", run_json.parent).stdout
    assert "numba (local, in this process on 2 threads; 2 workers asked)" in shown


# --- reproduce (replayed; tests/test_subprocess.py runs it for real) ------------------------


def test_reproduce_prints_published_beside_obtained(replay_tutorial):
    result = invoke_ok("reproduce")
    header, rows = table(result.stdout, "The tutorial's published sweep, reproduced")
    assert header == ["alpha", "iteration", "published", "obtained", "match"]
    assert len(rows) == 42
    for row in rows:
        alpha = float(row[0])
        index = int(row[1]) // 10000
        assert row[2] == tutorial.PUBLISHED[alpha][index]
        if alpha == 100.0 and index > 0:
            assert row[4] == "≈ 1e-9"
            assert math.isclose(float(row[3]), float(row[2]), rel_tol=1e-9)
        else:
            assert row[4] == "✓ all digits"
            assert row[3] == row[2]
    assert result.stdout.endswith(
        "\n42 of 42 values match (37 to every printed digit, 5 within 1e-9 relative at alpha 100)\n"
    )
    assert result.stderr == ""


def test_reproduce_json(replay_tutorial):
    doc = json.loads(invoke_ok("reproduce", "--json").stdout)
    assert doc["ok"] is True
    assert len(doc["values"]) == 42
    first = doc["values"][0]
    assert first == {
        "alpha": 0.001,
        "iteration": 0,
        "published": "0.496410031903",
        "obtained": replay_tutorial[0].checkpoint_errors[0],
        "match": "exact",
    }
    assert {v["match"] for v in doc["values"] if v["alpha"] != 100.0} == {"exact"}


def test_reproduce_mismatch_exits_1(replay_tutorial, monkeypatch):
    wrong = list(tutorial.PUBLISHED[10.0])
    wrong[3] = "0.00172397549957"  # the last digit changed
    monkeypatch.setitem(tutorial.PUBLISHED, 10.0, tuple(wrong))
    result = invoke("reproduce")
    assert result.exit_code == 1
    rows = table(result.stdout, "The tutorial's published sweep, reproduced")[1]
    bad = [row for row in rows if row[4] == "✗ MISMATCH"]
    assert bad == [["10", "30000", "0.00172397549957", "0.00172397549956", "✗ MISMATCH"]]
    assert "\n41 of 42 values match" in result.stdout
    assert result.stderr == "1 of 42 value does not match the published table\n"

    result = invoke("reproduce", "--json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["ok"] is False
    assert [(v["alpha"], v["iteration"]) for v in doc["values"] if v["match"] == "mismatch"] == [
        (10.0, 30000)
    ]


# --- run folders --------------------------------------------------------------------------


GRID = ["--alphas", "0.5,2", "--hidden", "2,3", "--iterations", 300, "--log-every", 100]


@pytest.mark.slow
def test_run_folder_contents(tmp_path):
    result = invoke_ok("sweep", *GRID, "--name", "grid", "--out", "out", "--json")
    run_dir = only_run_dir(tmp_path / "out")
    assert RUN_NAME.fullmatch(run_dir.name).group("name") == "grid"
    assert {p.name for p in run_dir.iterdir()} == RUN_FILES  # and no temporary files
    assert result.stderr == f"Saved {Path('out') / run_dir.name}\n"

    # results.json is the object --json printed, naming its folder.
    doc = json.loads(result.stdout)
    assert json.loads((run_dir / "results.json").read_text()) == doc
    assert doc["run_dir"] == str(Path("out") / run_dir.name)
    specs = [NetworkSpec(a, h, 1) for h in (2, 3) for a in (0.5, 2.0)]
    expected = trained(specs, 300, 100)
    for net, r in zip(doc["networks"], expected, strict=True):
        network_json_matches(net, r, status.classify(r))

    # run.json: complete, what ran.
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "complete"
    assert info["networks"] == info["networks_done"] == 4
    assert info["command"] == (
        "toynn sweep --alphas 0.5,2 --hidden 2,3 --iterations 300 --log-every 100 "
        "--name grid --out out --json"
    )
    assert info["pid"] == os.getpid()

    # metrics.csv: one row per network and checkpoint, plus the final error.
    rows = list(csv.DictReader(io.StringIO((run_dir / "metrics.csv").read_text())))
    assert list(rows[0]) == [
        "network", "alpha", "hidden", "seed", "iteration", "error", "accuracy",
    ]  # fmt: skip
    assert len(rows) == 4 * (3 + 1)
    for n, r in enumerate(expected):
        mine = [row for row in rows if row["network"] == str(n)]
        assert {(float(row["alpha"]), int(row["hidden"]), int(row["seed"])) for row in mine} == {
            (r.spec.alpha, r.spec.hidden, r.spec.seed)
        }
        assert [int(row["iteration"]) for row in mine] == [0, 100, 200, 300]
        errors = [float(row["error"]) for row in mine]
        assert errors == [*r.checkpoint_errors.tolist(), r.final_error]  # exact
        accuracies = [float(row["accuracy"]) for row in mine]
        assert accuracies == [*r.checkpoint_accuracy.tolist(), r.final_accuracy]

    # weights.npz: every network's arrays, keyed by its index.
    with np.load(run_dir / "weights.npz") as npz:
        assert npz["network"].tolist() == [0, 1, 2, 3]
        assert npz["alpha"].tolist() == [0.5, 2.0, 0.5, 2.0]
        assert npz["hidden"].tolist() == [2, 2, 3, 3]
        assert npz["seed"].tolist() == [1, 1, 1, 1]
        for n, r in enumerate(expected):
            for k in range(2):
                np.testing.assert_array_equal(npz[f"n{n}_W{k}"], r.weights[k])
                np.testing.assert_array_equal(npz[f"n{n}_W{k}_initial"], r.weights_initial[k])
                np.testing.assert_array_equal(npz[f"n{n}_changes{k}"], r.direction_changes[k])

    # report.txt and report.svg: the tables, exported by rich.
    text = (run_dir / "report.txt").read_text()
    assert ANSI not in text
    assert text.startswith("grid  dataset xor · 300 iterations · 4 networks\n")
    assert table(text, "Error at each checkpoint")[0][-4:] == [
        "final", "acc", "curve", "status",
    ]  # fmt: skip
    svg = (run_dir / "report.svg").read_text()
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "toynn&#160;grid" in svg  # the window title
    assert tutorial.printed(expected[0].final_error) in svg  # the table itself


@pytest.mark.slow
def test_report_txt_is_what_was_shown(tmp_path):
    result = invoke_ok("sweep", *GRID, "--show-weights")
    run_dir = only_run_dir(tmp_path / "runs")
    assert (run_dir / "report.txt").read_text() == result.stdout
    result = invoke_ok("train", "--iterations", 100, "--out", "t")
    assert (only_run_dir(tmp_path / "t") / "report.txt").read_text() == result.stdout


@pytest.mark.slow
def test_report_files_do_not_depend_on_the_terminal(tmp_path, monkeypatch):
    invoke_ok("sweep", *GRID, "--out", "wide")
    monkeypatch.setattr(cli_output, "NON_TTY_WIDTH", 60)  # a narrow page for stdout
    narrow = invoke_ok("sweep", *GRID, "--out", "narrow")
    saved = (only_run_dir(tmp_path / "narrow") / "report.txt").read_text()
    assert saved == (only_run_dir(tmp_path / "wide") / "report.txt").read_text()
    assert saved != narrow.stdout  # stdout was squeezed, the file was not


@pytest.mark.slow
def test_config_yaml_holds_every_override_and_reruns_the_experiment(tmp_path):
    first = json.loads(
        invoke_ok("sweep", *GRID, "--seeds", "3,4", "--name", "grid", "--json").stdout
    )
    run_dir = only_run_dir(tmp_path / "runs")
    saved = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert saved == {
        "name": "grid",
        "dataset": "xor",
        "hidden": [2, 3],
        "alphas": [0.5, 2.0],
        "iterations": 300,
        "seeds": [3, 4],
        "log_every": 100,
    }
    # saved too: a saved run's error history is float32, as its folder keeps it
    again = json.loads(
        invoke_ok("sweep", "--config", run_dir / "config.yaml", "--out", "again", "--json").stdout
    )
    assert again["experiment"] == first["experiment"]
    assert again["networks"] == first["networks"]


@pytest.mark.slow
def test_config_yaml_of_a_train_run_reruns_with_train(tmp_path):
    first = json.loads(
        invoke_ok("train", "--config", CONFIGS / "xor.yaml", "--iterations", 150, "--json").stdout
    )
    config_file = only_run_dir(tmp_path / "runs") / "config.yaml"
    again = json.loads(  # saved too: a saved run's error history is float32
        invoke_ok("train", "--config", config_file, "--out", "again", "--json").stdout
    )
    assert again["networks"] == first["networks"]
    assert again["experiment"] == first["experiment"]


@pytest.mark.slow
def test_config_yaml_keeps_csv_data_inline(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("a,b,bias,target\n0,0,1,0\n0,1,1,1\n1,0,1,1\n1,1,1,0\n")
    first = json.loads(
        invoke_ok("train", "--dataset", "data.csv", "--iterations", 200, "--json").stdout
    )
    run_dir = only_run_dir(tmp_path / "runs")
    assert run_dir.name.endswith("-data")
    data.unlink()  # the saved config does not need the file any more
    again = json.loads(  # saved too: a saved run's error history is float32
        invoke_ok("sweep", "--config", run_dir / "config.yaml", "--out", "again", "--json").stdout
    )
    assert again["networks"] == first["networks"]
    # ... and it is the xor problem, so the same numbers as the built-in dataset.
    builtin = json.loads(invoke_ok("train", "--iterations", 200, "--no-save", "--json").stdout)
    for key in ("checkpoints", "final_error", "weights"):
        assert again["networks"][0][key] == builtin["networks"][0][key]


class FrozenClock:
    """A stand-in for runs.datetime: every run starts in the same second."""

    @staticmethod
    def now():
        from datetime import datetime

        return datetime(2026, 1, 2, 3, 4, 5)


@pytest.mark.slow
def test_runs_in_the_same_second_get_a_suffix_and_never_overwrite(tmp_path, monkeypatch):
    monkeypatch.setattr(runs, "datetime", FrozenClock)
    invoke_ok("train", "--iterations", 100, "--log-every", 50)
    first = tmp_path / "runs" / "20260102-030405-xor"
    before = {
        p.name: p.read_bytes() for p in first.iterdir() if p.is_file() and p.name != "run.json"
    }
    invoke_ok("train", "--iterations", 200, "--log-every", 50)
    invoke_ok("train", "--iterations", 300, "--log-every", 50)
    names = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert names == ["20260102-030405-xor", "20260102-030405-xor-2", "20260102-030405-xor-3"]
    assert {
        p.name: p.read_bytes() for p in first.iterdir() if p.is_file() and p.name != "run.json"
    } == before
    third = json.loads((tmp_path / "runs" / names[2] / "results.json").read_text())
    assert third["networks"][0]["iterations"] == 300


def test_no_save_writes_nothing(tmp_path):
    result = invoke_ok("sweep", *GRID, "--no-save", "--out", "out")
    assert not (tmp_path / "out").exists() and not (tmp_path / "runs").exists()
    assert result.stderr == ""


def test_quiet_says_nothing_on_stderr(tmp_path):
    result = invoke_ok("train", "--iterations", 100, "--quiet")
    assert result.stderr == ""
    assert only_run_dir(tmp_path / "runs").is_dir()


def test_unusable_out_is_a_usage_error(tmp_path):
    (tmp_path / "afile").write_text("")
    result = invoke("train", "--iterations", 100, "--out", "afile/sub")
    assert result.exit_code == 2
    assert result.stderr == "Error: option --out: cannot create 'afile/sub': Not a directory\n"
    assert result.stdout == ""


# --- exit codes ------------------------------------------------------------------------


def test_max_error_names_the_networks_above_it():
    specs = [NetworkSpec(0.5, 4, 1), NetworkSpec(10.0, 4, 1)]
    low, high = sorted(trained(specs, 2000, 1000), key=lambda r: r.final_error)
    limit = (low.final_error + high.final_error) / 2
    args = ["sweep", "--alphas", "0.5,10", "--iterations", 2000, "--log-every", 1000, "--no-save"]

    result = invoke(*args, "--max-error", limit, "--json")
    assert result.exit_code == 1
    assert len(json.loads(result.stdout)["networks"]) == 2  # the data is still printed
    assert result.stderr == (
        f"final error {tutorial.printed(high.final_error)} > --max-error {limit:g}: "
        f"{formats.describe(high.spec)}\n"
    )
    assert invoke(*args, "--max-error", high.final_error).exit_code == 0  # at the limit: ok
    assert invoke(*args, "--max-error", 1).exit_code == 0


def test_max_error_and_a_nan_error(capsys):
    """A network whose error is NaN never passes --max-error."""
    term = cli_output.Terminal()
    cli_session._check_max_error(term, [nan_result()], None)  # no limit: no check
    with pytest.raises(SystemExit) as caught:
        cli_session._check_max_error(term, [nan_result()], 1e9)
    assert caught.value.code == 1
    assert capsys.readouterr().err == (
        "final error nan > --max-error 1e+09: alpha 1e+300, hidden 2, seed 1\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sweep", "--max-error", "-1"], "option --max-error is -1.0; expected a number >= 0"),
        (["train", "--max-error", "nan"], "option --max-error is nan; expected a number >= 0"),
        (
            ["sweep", "--max-error", "x"],
            "option --max-error is 'x'; expected a number (see 'toynn sweep --help')",
        ),
        (
            ["sweep", "--rows", "-1"],
            "option --rows is '-1'; expected a whole number >= 0 (see 'toynn sweep --help')",
        ),
        (
            ["nosuch"],
            "command 'nosuch' does not exist; expected one of: compare, datasets, plot, reproduce, "
            "runs, show, surface, sweep, train (see 'toynn --help')",
        ),
        (
            ["swep"],
            "command 'swep' does not exist; expected one of: compare, datasets, plot, reproduce, "
            "runs, show, surface, sweep, train (did you mean 'sweep'?) (see 'toynn --help')",
        ),
        (
            ["sweep", "--engine=bogus"],
            "option --engine is 'bogus'; expected one of: auto, numpy, numba, numba-fast "
            "(see 'toynn sweep --help')",
        ),
        (
            ["sweep", "--optim", "adam"],
            "option --optim does not exist; did you mean --optimizer, --optimizers or --out? "
            "(see 'toynn sweep --help')",
        ),
        (["sweep", "--iterations"], "option --iterations needs a value"),
        (
            ["sweep", "extra"],
            "unexpected argument 'extra'; 'toynn sweep' takes no arguments, only options "
            "(see 'toynn sweep --help')",
        ),
        (["compare", "a"], "argument RUN_B is missing (see 'toynn compare --help')"),
        (
            ["show", "a", "b", "c"],
            "unexpected arguments (b c); 'toynn show' takes RUN_DIR (see 'toynn show --help')",
        ),
    ],
)
def test_usage_errors_exit_2_with_one_line(tmp_path, args, message):
    result = invoke(*args)
    assert result.exit_code == 2
    assert result.stderr == f"Error: {message}\n"
    assert result.stdout == ""
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("args", "start"),
    [
        (["sweep", "--bogus"], "Error: option --bogus does not exist"),
        (["sweep", "--alphas", "abc"], "Error: option --alphas is 'abc'"),
        (["train", "--iterations", "0"], "Error: option --iterations is '0'"),
        (["sweep", "--hidden", "-1"], "Error: option --hidden is"),
        (["sweep", "--dataset", "nope"], "Error: option --dataset is 'nope'"),
        (["train", "--dataset", "missing.csv"], "Error: "),
        (["train", "--config", "missing.yaml"], "Error: missing.yaml: no such config file"),
        (["train", "--name", "../x"], "Error: option --name is '../x'"),
    ],
)
def test_config_and_data_errors_exit_2_with_one_line(tmp_path, args, start):
    result = invoke(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith(start)
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("alphas: [1, 2\n", "Error: bad.yaml: line 2, column 1: YAML syntax error"),
        ("- 1\n- 2\n", "Error: bad.yaml: top level is a list"),
        ("alhpa: 1\n", "Error: bad.yaml: unknown key 'alhpa'"),
        ("alpha: !!python/object:os.system ls\n", "Error: bad.yaml: line 1, column 8: tag"),
    ],
)
def test_bad_config_files_exit_2(tmp_path, text, start):
    (tmp_path / "bad.yaml").write_text(text)
    result = invoke("sweep", "--config", "bad.yaml")
    assert result.exit_code == 2
    assert result.stderr.startswith(start)
    assert result.stderr.count("\n") == 1
    assert not (tmp_path / "runs").exists()


# --- output streams ----------------------------------------------------------------------


def test_plain_text_when_stdout_is_not_a_terminal():
    """No ANSI escapes on either stream (no colour, no progress bar), even with colours
    in the tables."""
    result = invoke_ok("sweep", "--alphas", "0.5,1000", "--iterations", 500, "--no-save")
    assert ANSI not in result.stdout and ANSI not in result.stderr
    assert result.stderr == ""
    assert "diverged" in result.stdout and "★" in result.stdout


def test_no_color_and_no_save_leave_stderr_empty(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    result = invoke_ok("train", "--iterations", 100, "--no-save")
    assert result.stderr == "" and ANSI not in result.stdout


# --- interrupts ------------------------------------------------------------------------


def interrupt_after_first_group(how: str):
    """An executor that finishes the first chunk (one hidden size), then is interrupted."""
    real = executor.LocalExecutor.run

    def run(*args, **kwargs):
        chunks = real(*args, **kwargs)
        yield next(chunks)
        if how == "KeyboardInterrupt":
            raise KeyboardInterrupt
        signum = getattr(signal, how)
        handler = signal.getsignal(signum)
        assert callable(handler) and handler is not signal.default_int_handler, (
            "toynn installed no handler"
        )
        os.kill(os.getpid(), signum)
        time.sleep(5)
        raise AssertionError(f"{how} did not interrupt training")

    return run


@pytest.mark.parametrize(
    ("how", "code", "name"),
    [("KeyboardInterrupt", 130, "SIGINT"), ("SIGINT", 130, "SIGINT"), ("SIGTERM", 143, "SIGTERM")],
)
def test_interrupted_sweep_keeps_what_finished(tmp_path, monkeypatch, how, code, name):
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    monkeypatch.setattr(executor.LocalExecutor, "run", interrupt_after_first_group(how))
    result = invoke("sweep", *GRID, "--json")
    assert result.exit_code == code
    assert result.stdout == ""  # no partial JSON on stdout
    run_dir = only_run_dir(tmp_path / "runs")
    shown = Path("runs") / run_dir.name
    assert result.stderr == (
        "Interrupted after 2 of 4 networks; the run is incomplete "
        f"(the finished networks saved in {shown}, marked interrupted).\n"
    )
    # Handlers are put back.
    assert {s: signal.getsignal(s) for s in handlers} == handlers

    assert {p.name for p in run_dir.iterdir()} == RUN_FILES - {
        "report.txt",
        "report.svg",
        "report.html",
    }
    assert sorted(p.name for p in (run_dir / "chunks").iterdir()) == ["00000.npz"]
    info = json.loads((run_dir / "run.json").read_text())
    assert (info["status"], info["signal"], info["networks"], info["networks_done"]) == (
        "interrupted",
        name,
        4,
        2,
    )
    doc = json.loads((run_dir / "results.json").read_text())
    assert doc["complete"] is False
    assert [(n["hidden"], n["alpha"]) for n in doc["networks"]] == [(2, 0.5), (2, 2.0)]
    rows = list(csv.DictReader(io.StringIO((run_dir / "metrics.csv").read_text())))
    assert {row["network"] for row in rows} == {"0", "1"}
    with np.load(run_dir / "weights.npz") as npz:
        assert npz["network"].tolist() == [0, 1]
        assert "n2_W0" not in npz.files


def test_interrupted_without_a_run_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(
        executor.LocalExecutor, "run", interrupt_after_first_group("KeyboardInterrupt")
    )
    result = invoke("sweep", *GRID, "--no-save")
    assert result.exit_code == 130
    assert result.stderr == (
        "Interrupted after 2 of 4 networks; the run is incomplete (nothing saved: --no-save).\n"
    )
    assert not (tmp_path / "runs").exists()


def test_a_signal_before_training_starts_still_marks_the_run(tmp_path, monkeypatch):
    real = runs.write_status

    def write_status(run_dir, state, **info):
        real(run_dir, state, **info)
        if state == "running":
            os.kill(os.getpid(), signal.SIGTERM)  # held: the folder is being set up

    monkeypatch.setattr(runs, "write_status", write_status)
    result = invoke("sweep", *GRID)
    assert result.exit_code == 143
    run_dir = only_run_dir(tmp_path / "runs")
    info = json.loads((run_dir / "run.json").read_text())
    assert (info["status"], info["networks_done"], info["signal"]) == ("interrupted", 0, "SIGTERM")
    assert result.stderr == (
        "Interrupted after 0 of 4 networks; the run is incomplete "
        f"(its config saved in {Path('runs') / run_dir.name}, marked interrupted).\n"
    )


def test_a_signal_while_saving_is_held_until_the_files_are_written(tmp_path, monkeypatch):
    real = runs.atomic_write

    def atomic_write(path, data):
        if path.name == "results.json":
            os.kill(os.getpid(), signal.SIGINT)
        real(path, data)

    monkeypatch.setattr(runs, "atomic_write", atomic_write)
    result = invoke("sweep", *GRID)
    assert result.exit_code == 130
    run_dir = only_run_dir(tmp_path / "runs")
    assert {p.name for p in run_dir.iterdir()} == RUN_FILES
    assert json.loads((run_dir / "run.json").read_text())["status"] == "complete"
    assert result.stdout == ""
    assert result.stderr == (
        "Interrupted after training finished; the complete run is saved in "
        f"{Path('runs') / run_dir.name}.\n"
    )


def test_a_second_signal_while_saving_interrupts_and_leaves_no_temp_files(tmp_path, monkeypatch):
    real = runs.atomic_write

    def atomic_write(path, data):
        if path.name == "metrics.csv":
            os.kill(os.getpid(), signal.SIGINT)  # held
            os.kill(os.getpid(), signal.SIGINT)  # insisted: interrupts at once
        real(path, data)

    monkeypatch.setattr(runs, "atomic_write", atomic_write)
    result = invoke("sweep", *GRID)
    assert result.exit_code == 130
    assert result.stderr.endswith("Interrupted.\n")
    run_dir = only_run_dir(tmp_path / "runs")
    names = {p.name for p in run_dir.iterdir()}
    assert not any(n.startswith(".") or n.endswith(".tmp") for n in names)
    assert "results.json" in names and "metrics.csv" not in names


def test_the_lazy_command_list_is_the_commands_own():
    """toynn --help lists the commands without importing them (app.COMMANDS): each
    line is the command's own short help, and each command is registered."""
    import click

    from toynn_cli.cli import app

    ctx = click.Context(app.cli)
    for name, (_, _, short) in app.COMMANDS.items():
        command = app.cli.get_command(ctx, name)
        assert command is not None and command.name == name
        assert command.get_short_help_str(limit=200) == short


def test_version_imports_no_numpy_rich_or_yaml():
    import subprocess
    import sys

    code = (
        "import sys; from click.testing import CliRunner; from toynn_cli.cli import cli; "
        "r = CliRunner().invoke(cli, ['--version']); assert r.exit_code == 0, r.output; "
        "print(sorted(m for m in ('numpy', 'rich', 'yaml', 'numba') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
