"""Built-in and generated datasets, CSV target columns, several outputs end to end, and
the accuracy recorded for classification targets."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from toynn_cli.cli import cli
from toynn_cli.config import TUTORIAL, ConfigError, resolve
from toynn_cli.core import datasets, engine, evaluation, layers
from toynn_cli.core.datasets import BUILTIN, GENERATED, generate
from toynn_cli.core.network import NetworkSpec
from toynn_cli.store import chunks


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


# --- accuracy (threshold 0.5) -------------------------------------------------------------------


def test_accuracy_counts_outputs_on_the_right_side_of_one_half() -> None:
    out = np.array([[[0.9], [0.5]], [[0.2], [np.nan]], [[0.6], [0.4]]])  # (3 samples, 2, 1)
    target = np.array([[[1.0], [1.0]], [[0.0], [0.0]], [[0.0], [0.0]]])
    # right: 0.9 for 1, 0.2 for 0, 0.4 for 0; wrong: 0.5 (neither side), NaN, 0.6 for 0
    assert layers.accuracy(out, target).tolist() == [0.5]
    assert layers.is_classification(np.array([[0.0], [1.0]]))
    assert not layers.is_classification(np.array([[0.0], [0.5]]))


def test_accuracy_at_checkpoints_and_final_is_that_of_the_outputs() -> None:
    data = generate("moons", 60, 0.2, 1)
    specs = [NetworkSpec(a, 4, s) for a in (0.01, 1.0) for s in (1, 2)]
    batch = engine.train_batch(data.x, data.y, specs, 400, 200)
    target = data.y[:, :, None]
    # checkpoint 0: the initial weights' outputs
    first = evaluation.batch_outputs(data.x, [np.moveaxis(w, 0, -1) for w in batch.weights_initial])
    assert batch.checkpoint_accuracy[:, 0].tolist() == layers.accuracy(first, target).tolist()
    for result in batch.networks():
        right = (result.outputs > 0.5) == (data.y == 1.0)
        assert result.final_accuracy == right.mean()
        assert result.checkpoint_accuracy.shape == (2,)
    # a run of 200 iterations ends where the 400-iteration run records checkpoint 200
    half = engine.train_batch(data.x, data.y, specs, 200, 200)
    assert half.final_accuracy.tolist() == batch.checkpoint_accuracy[:, 1].tolist()


def test_early_stopping_keeps_the_accuracy_it_stopped_with() -> None:
    xor = BUILTIN["xor"]
    spec = NetworkSpec(10.0, 4, 1, target_error=0.05)
    (result,) = engine.train(xor.x, xor.y, [spec], 3000, 500)
    assert result.stopped_at is not None and result.stopped_at < 1000
    assert result.checkpoint_accuracy[2:].tolist() == [1.0] * 4
    assert result.final_accuracy == 1.0


@pytest.mark.slow
def test_accuracy_in_json_metrics_tables_and_chunk_files(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "runs"
    args = ["--dataset", "xor2", "--iterations", "300", "--log-every", "100", "--out", str(out)]
    result = runner.invoke(cli, ["sweep", "--alphas", "1,10", *args, "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    (run,) = out.iterdir()
    metrics = (run / "metrics.csv").read_text().splitlines()
    assert metrics[0] == "network,alpha,hidden,seed,iteration,error,accuracy"
    for n, network in enumerate(doc["networks"]):
        outputs, targets = np.array(network["outputs"]), np.array(BUILTIN["xor2"].targets)
        assert network["final_accuracy"] == ((outputs > 0.5) == (targets == 1)).mean()
        assert [set(c) for c in network["checkpoints"]] == [{"iteration", "error", "accuracy"}] * 3
        rows = [line.split(",") for line in metrics[1:] if line.startswith(f"{n},")]
        assert [float(r[6]) for r in rows] == [
            *[c["accuracy"] for c in network["checkpoints"]],
            network["final_accuracy"],
        ]
    (chunk,) = (run / "chunks").iterdir()
    loaded = chunks.load_chunk(chunk).batch
    assert loaded.final_accuracy.tolist() == [n["final_accuracy"] for n in doc["networks"]]
    assert loaded.checkpoint_accuracy.tolist() == [
        [c["accuracy"] for c in n["checkpoints"]] for n in doc["networks"]
    ]
    # the table (and the saved report): a final accuracy column, 'acc'
    assert " acc " in (run / "report.txt").read_text()
    table = runner.invoke(cli, ["sweep", "--alphas", "1,10", *args[:-2], "--no-save"]).stdout
    assert " acc " in table


def test_no_accuracy_for_targets_that_are_not_all_0_or_1(tmp_path: Path) -> None:
    config = tmp_path / "soft.yaml"
    config.write_text(
        "dataset: {inputs: [[0], [1]], targets: [[0.2], [0.7]]}\niterations: 200\nlog_every: 100\n"
    )
    out = tmp_path / "runs"
    runner = CliRunner()
    result = runner.invoke(cli, ["train", "-c", str(config), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    (network,) = json.loads(result.stdout)["networks"]
    assert network["final_accuracy"] is None
    assert [set(c) for c in network["checkpoints"]] == [{"iteration", "error"}] * 2
    (run,) = out.iterdir()
    rows = (run / "metrics.csv").read_text().splitlines()
    assert rows[0].endswith(",error,accuracy")
    assert all(row.endswith(",") for row in rows[1:])  # the accuracy cell is empty
    text = runner.invoke(cli, ["train", "-c", str(config), "--no-save"]).stdout
    assert "accuracy" not in text
    sweep = runner.invoke(cli, ["sweep", "-c", str(config), "--alphas", "1,2", "--no-save"])
    assert " acc " not in sweep.stdout


def test_a_runs_generated_dataset_is_read_back_for_figures(tmp_path: Path) -> None:
    from toynn_cli.store import workspace

    config = tmp_path / "m.yaml"
    config.write_text("dataset: {name: circles, samples: 24, seed: 2}\niterations: 10\n")
    out = tmp_path / "runs"
    result = CliRunner().invoke(cli, ["train", "-c", str(config), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    (run,) = out.iterdir()
    x, y = workspace.run_dataset(workspace.open_run(run))
    expected = generate("circles", 24, 0.1, 2)
    assert np.array_equal(x, expected.x) and np.array_equal(y, expected.y)


# --- toynn datasets list / export / plot ---------------------------------------------------------


def run(*args: object):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def test_datasets_list() -> None:
    result = run("datasets", "list", "--json")
    assert result.exit_code == 0
    assert result.stderr == ""
    rows = json.loads(result.stdout)
    assert [r["name"] for r in rows] == list(BUILTIN)
    assert rows[0] == {
        "name": "xor",
        "samples": 4,
        "inputs": 3,
        "outputs": 1,
        "description": "the tutorial's problem: input 0 XOR input 1; input 2 is always 1 (a bias)",
    }
    assert rows[-1]["description"] == (
        "two gaussian blobs centred at (-1, -1) and (1, 1) (generated: samples 100, "
        "noise 0.5, seed 0)"
    )
    csv_rows = run("datasets", "list", "--csv").stdout.splitlines()
    assert csv_rows[0] == "name,samples,inputs,outputs,description"
    assert csv_rows[5] == "xor2,4,2,1,xor without its constant third input"
    table = run("datasets", "list").stdout
    assert table.startswith("Named datasets\n")
    for row in rows:
        assert f"│ {row['name']} " in table
    assert all(not line.endswith(" ") for line in table.splitlines())


def test_export_to_stdout() -> None:
    result = run("datasets", "export", "xor", "--out", "-")
    assert result.exit_code == 0
    assert result.stdout == "input0,input1,input2,target\n0,0,1,0\n0,1,1,1\n1,0,1,1\n1,1,1,0\n"
    assert result.stderr == ""


@pytest.mark.parametrize("name", list(BUILTIN))
def test_export_reads_back_bit_for_bit(tmp_path: Path, name: str) -> None:
    out = tmp_path / f"{name}.csv"
    result = run("datasets", "export", name, "--out", out)
    assert result.exit_code == 0, result.stderr
    data = BUILTIN[name]
    assert result.stdout == ""
    assert result.stderr == (
        f"Wrote {out} ({len(data.inputs)} samples, {data.n_inputs} inputs, 1 target)\n"
    )
    back = datasets.load_csv(out)
    assert back.inputs == data.inputs and back.targets == data.targets


def test_export_a_generated_set_trains_as_the_named_one(tmp_path: Path) -> None:
    out = tmp_path / "points.csv"
    result = run("datasets", "export", "moons", "--samples", 30, "--noise", 0.2, "--seed", 4,
                 "--out", out, "-q")  # fmt: skip
    assert result.exit_code == 0 and result.stderr == ""
    lines = out.read_text().splitlines()
    assert lines[0] == "input0,input1,target" and len(lines) == 31
    assert datasets.load_csv(out).inputs == generate("moons", 30, 0.2, 4).inputs
    common = "alphas: [1, 10]\nhidden: 4\niterations: 300\nlog_every: 100\n"
    named = tmp_path / "named.yaml"
    named.write_text("dataset: {name: moons, samples: 30, noise: 0.2, seed: 4}\n" + common)
    from_csv = tmp_path / "csv.yaml"
    from_csv.write_text("dataset: points.csv\n" + common)
    docs = []
    for config in (named, from_csv):
        result = run("sweep", "-c", config, "--no-save", "--json")
        assert result.exit_code == 0, result.stderr
        docs.append(json.loads(result.stdout)["networks"])
    for a, b in zip(*docs, strict=True):
        assert a["final_error"] == b["final_error"]
        assert a["outputs"] == b["outputs"]
        assert a["weights"] == b["weights"]


def test_export_refuses_an_existing_file_without_force(tmp_path: Path) -> None:
    out = tmp_path / "points.csv"
    out.write_text("mine\n")
    result = run("datasets", "export", "and", "--out", out)
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: option --out: '{out}' exists; expected a new file (pass --force to overwrite it)\n"
    )
    assert out.read_text() == "mine\n"
    result = run("datasets", "export", "and", "--out", out, "--force", "-q")
    assert result.exit_code == 0 and result.stderr == ""
    assert out.read_text() == "input0,input1,target\n0,0,0\n0,1,0\n1,0,0\n1,1,1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["points.csv"]  # no temporary file


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["mons"],
            "argument NAME is 'mons'; expected a built-in dataset (xor, first-column, and, or, "
            "xor2, parity3, circles, moons, spirals, blobs) (did you mean 'moons'?)",
        ),
        (
            ["xor", "--seed", "3"],
            "option --seed: 'xor' is a fixed table; expected it only with a generated dataset "
            "(circles, moons, spirals, blobs)",
        ),
        (
            ["moons", "--samples", "1"],
            "option --samples is '1'; expected a whole number from 2 to 100000",
        ),
        (
            ["moons", "--samples", "2.5"],
            "option --samples is '2.5'; expected a whole number from 2 to 100000",
        ),
        (
            ["moons", "--noise", "nan"],
            "option --noise is 'nan'; expected a finite number >= 0 (the standard deviation "
            "of the noise)",
        ),
        (
            ["moons", "--noise", "-1"],
            "option --noise is '-1'; expected a finite number >= 0 (the standard deviation "
            "of the noise)",
        ),
        (
            ["moons", "--seed", "x"],
            "option --seed is 'x'; expected a whole number from 0 to 4294967295",
        ),
        (["moons", "--out", "."], "option --out: '.' is a folder; expected a file name"),
    ],
)
def test_export_bad_input_is_one_line(tmp_path: Path, monkeypatch, args, message) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("datasets", "export", *args, *([] if "--out" in args else ["--out", "p.csv"]))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"Error: {message}\n"
    assert list(tmp_path.iterdir()) == []


def test_datasets_plot_draws_parity3_in_slices(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    import xml.etree.ElementTree as ET

    from toynn_cli.view import figure

    out = tmp_path / "points.svg"
    result = run("datasets", "plot", "parity3", "--out", out)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == f"Wrote {out} (8 samples, 3 inputs, 1 target)\n"
    root = ET.parse(out).getroot()
    assert root.get("width") == f"{2 * figure.FIG_SIZE[1] * 72:g}pt"  # two slices
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "input 2 = 0 (4 samples)" in texts and "input 2 = 1 (4 samples)" in texts
    assert texts[-2:] == [
        "parity3: 8 samples, 3 inputs, 1 target",
        "inputs 0 and 1, a slice at each value of input 2",
    ]
    png = tmp_path / "moons.png"
    result = run("datasets", "plot", "moons", "--samples", 50, "--out", png, "-q")
    assert result.exit_code == 0 and result.stderr == ""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    side = int(figure.FIG_SIZE[1] * figure.DPI)
    assert (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")) == (side, side)
    again = run("datasets", "plot", "moons", "--out", png)
    assert again.exit_code == 2
    assert again.stderr == (
        f"Error: option --out: '{png}' exists; expected a new file (pass --force to overwrite it)\n"
    )
    assert png.read_bytes() == data


@pytest.mark.parametrize("out", ["points.jpg", "-"])
def test_datasets_plot_needs_a_png_or_svg_name(tmp_path: Path, monkeypatch, out: str) -> None:
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    result = run("datasets", "plot", "moons", "--out", out)
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: option --out is '{out}'; expected a file name ending in .png or .svg\n"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_the_installed_console_script_exports(tmp_path: Path) -> None:
    import subprocess
    import sys

    toynn = Path(sys.executable).parent / "toynn"
    if not toynn.exists():
        pytest.skip(f"no console script at {toynn}")
    done = subprocess.run([toynn, "datasets", "export", "or", "--out", "-"],
                          capture_output=True, text=True, cwd=tmp_path)  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == "input0,input1,target\n0,0,0\n0,1,1\n1,0,1\n1,1,1\n"
    done = subprocess.run([toynn, "datasets", "export", "blobs", "--seed", "2", "--out", "b.csv"],
                          capture_output=True, text=True, cwd=tmp_path)  # fmt: skip
    assert (done.returncode, done.stdout) == (0, "")
    assert done.stderr == "Wrote b.csv (100 samples, 2 inputs, 1 target)\n"
    assert datasets.load_csv(tmp_path / "b.csv").inputs == generate("blobs", 100, 0.5, 2).inputs
    done = subprocess.run([toynn, "datasets", "export", "blobs", "--out", "b.csv"],
                          capture_output=True, text=True, cwd=tmp_path)  # fmt: skip
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "Error: option --out: 'b.csv' exists; expected a new file (pass --force to overwrite it)\n"
    )
