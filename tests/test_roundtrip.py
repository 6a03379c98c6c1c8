"""What a sweep trains comes back: every setting survives --json, --csv, metrics.csv,
the config snapshot, show, compare, plot and surface (issue 11)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from clitools import invoke, invoke_ok

from toynn_cli import axes
from toynn_cli.store import workspace

MIXED = (
    "--hidden", "4,8x4", "--optimizers", "sgd,adam", "--bias", "false,true",
    "--alphas", "0.5", "--seeds", "1,2", "--iterations", "200", "--log-every", "100",
)  # fmt: skip

#: a value away from the tutorial's for every network setting: (option, value, CSV column,
#: the cell it gives)
EVERY_SETTING = [
    ("--alphas", "0.25", "alpha", "0.25"),
    ("--hidden", "3x2", "hidden", "3x2"),
    ("--seeds", "7", "seed", "7"),
    ("--optimizers", "rmsprop", "optimizer", "rmsprop"),
    ("--optimizer-params", "{dampening: 0.5}", "optimizer_params", '{"dampening": 0.5}'),
    ("--bias", "true", "bias", "True"),
    ("--activations", "tanh", "activation", "tanh"),
    ("--losses", "cross_entropy", "loss", "cross_entropy"),
    ("--inits", "he", "init", "he"),
    ("--batch-size", "2", "batch_size", "2"),
    ("--batch-norm", "true", "batch_norm", "True"),
    ("--dropout", "0.25", "dropout", "0.25"),
    ("--weight-decay", "0.01", "weight_decay", "0.01"),
    ("--momentum", "0.5", "momentum", "0.5"),
    ("--clip-value", "0.5", "clip_value", "0.5"),
    ("--clip-norm", "2", "clip_norm", "2.0"),
    ("--schedules", "step", "schedule", "step"),
    ("--schedule-params", "{gamma: 0.5}", "schedule_params", '{"gamma": 0.5}'),
    ("--target-error", "0.1", "target_error", "0.1"),
]


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _run_dir(out: Path) -> Path:
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    return run_dir


def test_the_registry_covers_every_networkspec_field():
    from dataclasses import fields

    from toynn_cli.core.network import NetworkSpec

    declared = {f for s in axes.COLUMNS for f in s.fields}
    assert declared == {f.name for f in fields(NetworkSpec)}
    # and the round-trip test below sets every one of them
    assert {row[0] for row in EVERY_SETTING} >= {s.option for s in axes.COLUMNS}


@pytest.mark.slow
@pytest.mark.parametrize(("option", "value", "column", "cell"), EVERY_SETTING)
def test_every_setting_survives_csv_show_and_the_config_snapshot(
    cli_env, option, value, column, cell
):
    extra = ["--hidden", "2"] if option in ("--batch-norm", "--dropout") else []
    args = ["sweep", option, value, *extra, "--iterations", "40", "--log-every", "20"]
    if option != "--alphas":
        args += ["--alphas", "0.5"]
    if option in ("--optimizer-params", "--momentum"):
        args += ["--optimizers", "momentum"]
    if option == "--schedule-params":
        args += ["--schedules", "exponential"]
    swept = _rows(invoke_ok(*args, "--csv", "--out", "a").stdout)
    assert swept[0][column] == cell
    run_dir = _run_dir(cli_env / "a")
    shown = _rows(invoke_ok("show", run_dir, "--csv").stdout)
    assert shown == swept
    metrics = _rows((run_dir / "metrics.csv").read_text())
    if column not in ("optimizer_params", "schedule_params"):
        assert {row.get(column, cell) for row in metrics} == {cell}
    # the saved config trains the same networks again
    again = invoke_ok("sweep", "-c", run_dir / "config.yaml", "--csv", "--no-save").stdout
    assert _rows(again) == swept
    # the reader gives back the NetworkSpec that was trained
    (network,) = workspace.load_networks(workspace.open_run(run_dir))[0]
    doc = json.loads(invoke_ok(*args, "--json", "--no-save").stdout)
    assert axes.read(doc["networks"][0]) == network.spec


@pytest.mark.slow
def test_a_mixed_sweep_round_trips_through_every_reading_command(cli_env):
    swept = _rows(invoke_ok("sweep", *MIXED, "--csv", "--out", "a").stdout)
    assert len(swept) == 16
    assert {(r["hidden"], r["optimizer"], r["bias"]) for r in swept} == {
        (h, o, b) for h in ("4", "8x4") for o in ("sgd", "adam") for b in ("False", "True")
    }
    run_dir = _run_dir(cli_env / "a")
    assert _rows(invoke_ok("show", run_dir, "--csv").stdout) == swept
    table = invoke_ok("show", run_dir, "--no-group").stdout
    assert "8x4" in table and "adam" in table and "bias" in table
    metrics = _rows((run_dir / "metrics.csv").read_text())
    assert list(metrics[0])[:6] == [
        "network",
        "alpha",
        "hidden",
        "seed",
        "optimizer",
        "optimizer_params",
    ]
    assert {r["hidden"] for r in metrics} == {"4", "8x4"}
    dry = _rows(invoke_ok("sweep", *MIXED, "--dry-run", "--csv").stdout)
    assert [{k: r[k] for k in dry[0]} for r in swept] == dry
    compared = json.loads(invoke_ok("compare", run_dir, run_dir, "--json").stdout)
    assert len(compared["networks"]) == 16 and compared["not_matched_on"] == []
    assert {n["optimizer"] for n in compared["networks"]} == {"sgd", "adam"}


@pytest.mark.slow
def test_plot_draws_a_sweep_with_two_hidden_layers(cli_env):
    pytest.importorskip("matplotlib")
    invoke_ok("sweep", *MIXED, "--quiet", "--out", "a")
    run_dir = _run_dir(cli_env / "a")
    result = invoke_ok("plot", run_dir, "--quiet")
    assert (run_dir / "plots" / "curves.png").is_file() or list(run_dir.rglob("*.png")), result


@pytest.mark.slow
def test_compare_pairs_networks_only_on_the_same_settings(cli_env):
    invoke_ok("sweep", "--alphas", "0.5,1", "--optimizers", "sgd,adam", "--iterations", "50",
              "--log-every", "10", "-q", "--out", "a")  # fmt: skip
    invoke_ok("sweep", "--alphas", "0.5,1", "--optimizers", "adam", "--iterations", "50",
              "--log-every", "10", "-q", "--out", "b")  # fmt: skip
    a, b = _run_dir(cli_env / "a"), _run_dir(cli_env / "b")
    doc = json.loads(invoke_ok("compare", a, b, "--json").stdout)
    # adam meets adam only: sgd's networks are not "the same network"
    assert [(n["alpha"], n["optimizer"]) for n in doc["networks"]] == [(0.5, "adam"), (1.0, "adam")]
    assert [n["difference"] for n in doc["networks"]] == [0.0, 0.0]
    assert (doc["only_in_a"], doc["only_in_b"]) == (2, 0)


@pytest.mark.slow
def test_compare_says_which_setting_and_iterations_differ(cli_env):
    invoke_ok("sweep", "--alphas", "0.5,1", "--iterations", "50", "--log-every", "10", "-q",
              "--out", "a")  # fmt: skip
    invoke_ok("sweep", "--alphas", "0.5,1", "--optimizers", "adam", "--iterations", "60",
              "--log-every", "10", "-q", "--out", "b")  # fmt: skip
    a, b = _run_dir(cli_env / "a"), _run_dir(cli_env / "b")
    doc = json.loads(invoke_ok("compare", a, b, "--json").stdout)
    assert doc["not_matched_on"] == ["optimizers"]
    assert doc["iterations"] == {"a": 50, "b": 60}
    assert [n["optimizer_b"] for n in doc["networks"]] == ["adam", "adam"]
    text = invoke_ok("compare", a, b).stdout
    assert "different numbers of iterations (50 in A, 60 in B)" in " ".join(text.split())
    assert "sgd vs adam" in text
    rows = _rows(invoke_ok("compare", a, b, "--csv").stdout)
    assert [(r["optimizer"], r["optimizer_b"]) for r in rows] == [("sgd", "adam")] * 2


def test_a_config_with_alphas_per_optimizer_takes_an_optimizers_option(cli_env):
    config = Path(__file__).resolve().parents[1] / "configs" / "optimizers.yaml"
    rows = _rows(
        invoke_ok(
            "sweep",
            "-c",
            config,
            "--optimizers",
            "adam",
            "--iterations",
            "20",
            "--log-every",
            "10",
            "--no-save",
            "--csv",
        ).stdout
    )
    assert {(r["optimizer"], r["alpha"]) for r in rows} == {("adam", "0.001")}
    assert len(rows) == 5
    result = invoke("sweep", "-c", config, "--optimizers", "adam,sgd,adamw", "--no-save")
    assert result.exit_code == 2


@pytest.mark.slow
def test_surface_trains_with_the_optimizer_it_names(cli_env):
    def path(*args: str) -> list:
        doc = json.loads(
            invoke_ok("surface", "--alpha", "0.05", *args, "--json", "--no-save").stdout
        )
        assert doc["experiment"].get("optimizers", "sgd") == (args[1] if args else "sgd")
        return doc["path"]["a"]

    sgd, adam = path(), path("--optimizer", "adam")
    assert sgd[0] == adam[0] and sgd[-1] != adam[-1]


def test_surface_refuses_batch_norm_with_one_line(cli_env):
    result = invoke("surface", "--hidden", "2", "--batch-norm", "true", "--no-save")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: surface cannot draw this network: batch norm is on; expected batch_norm "
        "false (a network's error then depends on its running statistics, not only on "
        "its weights)\n"
    )


@pytest.mark.slow
def test_10500_networks_come_back_as_10500(cli_env):
    invoke_ok("sweep", "--alphas", "0.1,1,10", "--seeds", "1..3500", "--iterations", "10",
              "--log-every", "5", "-q", "--no-figures", "--out", "a")  # fmt: skip
    run_dir = _run_dir(cli_env / "a")
    rows = _rows(invoke_ok("show", run_dir, "--csv").stdout)
    assert len(rows) == 10500
    assert [int(r["network"]) for r in rows] == list(range(10500))
    doc = json.loads(invoke_ok("compare", run_dir, run_dir, "--json").stdout)
    assert len(doc["networks"]) == 10500
    assert "10500 networks" in invoke_ok("show", run_dir).stdout


@pytest.mark.slow
def test_the_momentum_axis_sweeps_and_comes_back(cli_env):
    """The setting added through the registry end to end (axes.py, config/check.py,
    config/experiment.py): a sweep axis, a column, a CSV cell, a record field."""
    args = ("sweep", "--optimizers", "momentum,nesterov", "--momentum", "0.5,0.9", "--alphas",
            "0.05", "--iterations", "40", "--log-every", "20")  # fmt: skip
    rows = _rows(invoke_ok(*args, "--csv", "--out", "a").stdout)
    assert [(r["optimizer"], r["momentum"]) for r in rows] == [
        ("momentum", "0.5"), ("momentum", "0.9"), ("nesterov", "0.5"), ("nesterov", "0.9"),
    ]  # fmt: skip
    assert {r["optimizer_params"] for r in rows} == {""}  # momentum has its own column
    run_dir = _run_dir(cli_env / "a")
    assert _rows(invoke_ok("show", run_dir, "--csv").stdout) == rows
    table = invoke_ok("show", run_dir, "--no-group").stdout
    assert "momentum" in table and "0.9" in table
    doc = json.loads((run_dir / "results.json").read_text())
    assert [n["optimizer_params"]["momentum"] for n in doc["networks"]] == [0.5, 0.9, 0.5, 0.9]
    assert yaml_momentum(run_dir) == [0.5, 0.9]
    # different momentum, the same network otherwise: compare names the setting
    invoke_ok("sweep", "--optimizers", "momentum", "--momentum", "0.5", "--alphas", "0.05",
              "--iterations", "40", "--log-every", "20", "-q", "--out", "b")  # fmt: skip
    invoke_ok("sweep", "--optimizers", "momentum", "--momentum", "0.9", "--alphas", "0.05",
              "--iterations", "40", "--log-every", "20", "-q", "--out", "c")  # fmt: skip
    compared = json.loads(
        invoke_ok("compare", _run_dir(cli_env / "b"), _run_dir(cli_env / "c"), "--json").stdout
    )
    assert compared["not_matched_on"] == ["momentum"]
    assert len(compared["networks"]) == 1


def yaml_momentum(run_dir: Path) -> list[float]:
    import yaml

    return yaml.safe_load((run_dir / "config.yaml").read_text())["momentum"]


def test_the_momentum_axis_refuses_an_optimizer_without_momentum(cli_env):
    result = invoke("sweep", "--optimizers", "sgd,adam", "--momentum", "0.5", "--no-save")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: option --momentum is '0.5', but optimizer sgd has no momentum; expected "
        "optimizers that have one (momentum, nesterov, rmsprop)\n"
    )
