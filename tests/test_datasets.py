"""Built-in and generated datasets, CSV target columns, several outputs end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from toynn_cli import datasets
from toynn_cli.cli import cli
from toynn_cli.config import TUTORIAL, ConfigError, resolve
from toynn_cli.datasets import BUILTIN, GENERATED, generate


def load(tmp_path: Path, text: str, overrides: dict | None = None):
    path = tmp_path / "exp.yaml"
    path.write_text(text, encoding="utf-8")
    return resolve(path, overrides or {}, TUTORIAL)


def error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text)
    message = str(info.value)
    assert "\n" not in message
    return message


# --- fixed tables -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("and", lambda a, b: a & b),
        ("or", lambda a, b: a | b),
        ("xor2", lambda a, b: a ^ b),
    ],
)
def test_logic_gates_have_two_inputs_and_no_constant_column(name, rule) -> None:
    data = BUILTIN[name]
    assert data.n_inputs == 2 and data.n_outputs == 1
    assert data.inputs == ((0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0))
    assert data.targets == tuple((float(rule(int(a), int(b))),) for a, b in data.inputs)


def test_parity3_is_every_3_bit_input_and_its_parity() -> None:
    data = BUILTIN["parity3"]
    assert len(data.inputs) == 8 and len(set(data.inputs)) == 8
    assert data.n_inputs == 3
    for row, (target,) in zip(data.inputs, data.targets):
        assert target == sum(row) % 2


def test_xor2_is_xor_without_its_constant_column() -> None:
    assert BUILTIN["xor2"].inputs == tuple(row[:2] for row in BUILTIN["xor"].inputs)
    assert BUILTIN["xor2"].targets == BUILTIN["xor"].targets


# --- generated sets -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(GENERATED))
def test_generated_sets_are_deterministic_and_leave_the_global_generator_alone(name) -> None:
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    a = generate(name, 57, 0.2, 7)
    assert np.array_equal(np.random.get_state()[1], before)
    b = generate(name, 57, 0.2, 7)
    assert a == b
    assert generate(name, 57, 0.2, 8) != a
    assert a.x.shape == (57, 2) and a.y.shape == (57, 1)
    assert set(a.y[:, 0]) == {0.0, 1.0}
    assert int(a.y.sum()) == 57 - 57 // 2  # class 1 gets the odd sample


@pytest.mark.parametrize("name", list(GENERATED))
def test_the_plain_name_is_the_set_at_its_documented_defaults(name) -> None:
    assert BUILTIN[name] == generate(name, **GENERATED[name])
    assert len(BUILTIN[name].inputs) == 100


def test_generated_shapes_without_noise() -> None:
    circles = generate("circles", 40, 0.0, 0)
    radius = np.hypot(circles.x[:, 0], circles.x[:, 1])
    assert np.allclose(radius[circles.y[:, 0] == 0], 1.0)
    assert np.allclose(radius[circles.y[:, 0] == 1], datasets.CIRCLES_FACTOR)
    moons = generate("moons", 40, 0.0, 0)
    upper = moons.x[moons.y[:, 0] == 0]
    assert np.allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0) and (upper[:, 1] >= 0).all()
    lower = moons.x[moons.y[:, 0] == 1]
    assert np.allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0)
    assert (lower[:, 1] <= 0.5 + 1e-12).all()
    spirals = generate("spirals", 40, 0.0, 0)
    assert np.hypot(spirals.x[:, 0], spirals.x[:, 1]).max() == pytest.approx(1.0)
    blobs = generate("blobs", 40, 0.0, 0)
    assert np.array_equal(blobs.x[blobs.y[:, 0] == 0], np.full((20, 2), -1.0))
    assert np.array_equal(blobs.x[blobs.y[:, 0] == 1], np.full((20, 2), 1.0))


def test_noise_is_gaussian_with_the_given_deviation() -> None:
    clean, noisy = generate("blobs", 4000, 0.0, 5), generate("blobs", 4000, 0.3, 5)
    assert np.array_equal(clean.y, noisy.y)  # the same shuffle, then the noise
    assert np.std(noisy.x - clean.x) == pytest.approx(0.3, rel=0.05)


# --- configs and options ------------------------------------------------------------------------


def test_a_generated_mapping_in_a_config(tmp_path: Path) -> None:
    exp = load(tmp_path, "dataset: {name: moons, samples: 200, noise: 0.1, seed: 0}\n")
    assert exp.dataset == generate("moons", 200, 0.1, 0)
    assert exp.dataset_ref == {"name": "moons", "samples": 200, "noise": 0.1, "seed": 0}
    partial = load(tmp_path, "dataset: {name: spirals, seed: 3}\n")
    assert partial.dataset == generate("spirals", 100, 0.1, 3)


def test_a_plain_name_and_the_option(tmp_path: Path) -> None:
    assert load(tmp_path, "dataset: circles\n").dataset_ref == "circles"
    exp = resolve(None, {"dataset": "moons"}, TUTORIAL)
    assert exp.dataset == BUILTIN["moons"] and exp.dataset_ref == "moons"
    assert resolve(None, {"dataset": "parity3"}, TUTORIAL).dataset == BUILTIN["parity3"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "dataset: {name: moons, samples: 1}\n",
            "key 'dataset' samples is 1; expected a whole number from 2 to 100000",
        ),
        (
            "dataset: {name: moons, samples: 2.5}\n",
            "key 'dataset' samples is 2.5; expected a whole number from 2 to 100000",
        ),
        (
            "dataset: {name: circles, noise: -0.1}\n",
            "key 'dataset' noise is -0.1; expected a finite number >= 0 "
            "(the standard deviation of the noise)",
        ),
        (
            "dataset: {name: circles, noise: .nan}\n",
            "key 'dataset' noise is nan; expected a finite number >= 0 "
            "(the standard deviation of the noise)",
        ),
        (
            "dataset: {name: blobs, seed: -1}\n",
            "key 'dataset' seed is -1; expected a whole number from 0 to 4294967295",
        ),
        (
            "dataset: {name: blobs, sample: 3}\n",
            "key 'dataset': unknown key 'sample'; did you mean 'samples'? "
            "expected one of: name, samples, noise, seed",
        ),
    ],
)
def test_bad_generated_parameters_are_one_line(tmp_path: Path, text: str, message: str) -> None:
    assert error(tmp_path, text) == f"{tmp_path / 'exp.yaml'}: {message}"


def test_the_generated_mapping_round_trips_through_config_yaml(tmp_path: Path) -> None:
    runner = CliRunner()
    config = tmp_path / "moons.yaml"
    config.write_text(
        "dataset: {name: moons, samples: 30, noise: 0.2, seed: 4}\niterations: 200\n"
        "log_every: 100\n"
    )
    out = tmp_path / "runs"
    result = runner.invoke(cli, ["train", "-c", str(config), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    first = json.loads(result.stdout)
    assert first["experiment"]["dataset"] == {
        "name": "moons",
        "samples": 30,
        "noise": 0.2,
        "seed": 4,
    }
    (run,) = out.iterdir()
    again = runner.invoke(cli, ["train", "-c", str(run / "config.yaml"), "--no-save", "--json"])
    assert again.exit_code == 0, again.output
    second = json.loads(again.stdout)
    assert second["networks"][0]["outputs"] == first["networks"][0]["outputs"]
    assert second["networks"][0]["final_error"] == first["networks"][0]["final_error"]


# --- CSV target columns -------------------------------------------------------------------------

TWO_TARGETS = "x1,y1,x2,y2\n0,0,0,1\n0,1,1,0\n1,1,0,0\n1,0,1,1\n"


def test_csv_target_columns_named_in_the_header(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text(TWO_TARGETS)
    exp = load(tmp_path, "dataset: {path: d.csv, targets: [y2, y1]}\n")
    assert exp.dataset.inputs == ((0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0))
    assert exp.dataset.targets == ((1.0, 0.0), (0.0, 1.0), (0.0, 1.0), (1.0, 0.0))
    assert exp.dataset.name == "d" and exp.dataset_ref is None
    one = load(tmp_path, "dataset: {path: d.csv, targets: x2}\n").dataset
    assert one.n_inputs == 3 and one.targets == ((0.0,), (1.0,), (0.0,), (1.0,))
    # without targets the last column stays the target
    plain = load(tmp_path, "dataset: {path: d.csv}\n").dataset
    assert plain == load(tmp_path, "dataset: d.csv\n").dataset
    assert plain.targets == ((1.0,), (0.0,), (0.0,), (1.0,))


def test_csv_target_errors_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text(TWO_TARGETS)
    (tmp_path / "bare.csv").write_text("0,1\n1,0\n")
    (tmp_path / "tall.csv").write_text("a,b\n0,1\n")
    assert error(tmp_path, "dataset: {path: d.csv, targets: [y3]}\n") == (
        f"{tmp_path / 'd.csv'}: target column is 'y3'; expected a column named in the header "
        f"on line 1: x1, y1, x2, y2"
    )
    assert error(tmp_path, "dataset: {path: bare.csv, targets: [y]}\n") == (
        f"{tmp_path / 'bare.csv'}: line 1 is not a header; expected a first row naming the "
        f"columns (targets y are named)"
    )
    assert error(tmp_path, "dataset: {path: tall.csv, targets: [a, b]}\n") == (
        f"{tmp_path / 'tall.csv'}: every column is a target; expected at least one input column"
    )
    prefix = f"{tmp_path / 'exp.yaml'}: key 'dataset'"
    assert error(tmp_path, "dataset: {path: d.csv, targets: [y1, y1]}\n") == (
        f"{prefix} targets is ['y1', 'y1']; expected a list of distinct column names"
    )
    assert error(tmp_path, "dataset: {path: d.csv, target: [y1]}\n") == (
        f"{prefix}: unknown key 'target'; did you mean 'targets'? expected one of: path, targets"
    )
    assert error(tmp_path, "dataset: {path: 5}\n") == (
        f"{prefix} path is 5; expected a CSV file's path"
    )
    assert error(tmp_path, "dataset: {path: missing.csv}\n").startswith(
        f"{prefix} path is 'missing.csv'; expected a readable CSV file, but"
    )


def test_several_output_columns_train_end_to_end(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text(TWO_TARGETS)
    config = tmp_path / "two.yaml"
    config.write_text(
        "dataset: {path: d.csv, targets: [y1, y2]}\nhidden: 4\nalphas: [1, 10]\n"
        "iterations: 3000\nlog_every: 1000\n"
    )
    result = CliRunner().invoke(cli, ["sweep", "-c", str(config), "--no-save", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["experiment"]["dataset"]["targets"] == [
        [0.0, 1.0],
        [1.0, 0.0],
        [1.0, 0.0],
        [0.0, 1.0],
    ]
    for network in doc["networks"]:
        outputs = np.array(network["outputs"])
        assert outputs.shape == (4, 2)
        targets = np.array(doc["experiment"]["dataset"]["targets"])
        assert network["final_error"] == pytest.approx(np.mean(np.abs(outputs - targets)))
    table = CliRunner().invoke(cli, ["sweep", "-c", str(config), "--no-save"])
    assert table.exit_code == 0, table.output


def test_the_dataset_option_takes_generated_names() -> None:
    result = CliRunner().invoke(
        cli,
        ["train", "--dataset", "moons", "--iterations", "100", "--log-every", "50", "--no-save"],
    )
    assert result.exit_code == 0, result.output
    assert "dataset moons" in result.stdout
