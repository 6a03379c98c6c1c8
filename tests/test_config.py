"""config.resolve: YAML files written to tmp_path, defaults, aliases, overrides, dump()
round trips, CSV and inline datasets."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from toynn_cli import config
from toynn_cli.config import TUTORIAL, TUTORIAL_SWEEP, ConfigError, Experiment, resolve
from toynn_cli.core import datasets
from toynn_cli.core.datasets import BUILTIN, Dataset
from toynn_cli.core.network import NetworkSpec

XOR_CSV = "x1,x2,bias,y\n0,0,1,0\n0,1,1,1\n1,0,1,1\n1,1,1,0\n"


def write(tmp_path: Path, text: str, name: str = "exp.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, text: str, overrides: dict | None = None, **kw) -> Experiment:
    return resolve(write(tmp_path, text, **kw), overrides or {}, TUTORIAL)


def error(tmp_path: Path, text: str, overrides: dict | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text, overrides)
    message = str(info.value)
    assert "\n" not in message
    return message


# --- defaults ---------------------------------------------------------------------------


def test_no_config_is_the_tutorial() -> None:
    assert resolve(None, {}, TUTORIAL) == Experiment(
        name="xor",
        dataset=BUILTIN["xor"],
        dataset_ref="xor",
        hidden=(4,),
        alphas=(0.5,),
        iterations=60000,
        seeds=(1,),
        log_every=10000,
    )


def test_no_config_sweep_is_the_published_sweep() -> None:
    exp = resolve(None, {}, TUTORIAL_SWEEP)
    assert exp.alphas == (0.001, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)
    assert exp.hidden == (4,) and exp.seeds == (1,) and exp.iterations == 60000
    assert exp.swept_axes() == {"alphas": 7}
    assert exp.networks() == [NetworkSpec(a, 4, 1) for a in exp.alphas]


def test_missing_keys_take_the_defaults_and_the_name_is_the_file_stem(tmp_path: Path) -> None:
    exp = load(tmp_path, "iterations: 100\n", name="my run!.yaml")
    assert exp.name == "my-run-"
    assert exp.dataset == BUILTIN["xor"] and exp.dataset_ref == "xor"
    assert (exp.hidden, exp.alphas, exp.seeds, exp.log_every) == ((4,), (0.5,), (1,), 10000)
    assert exp.iterations == 100


def test_a_file_name_with_nothing_usable_falls_back_to_the_dataset_name(tmp_path: Path) -> None:
    assert load(tmp_path, "iterations: 100\n", name="__.yaml").name == "xor"


# --- every key ---------------------------------------------------------------------------


def test_every_key(tmp_path: Path) -> None:
    exp = load(
        tmp_path,
        "name: full-run\n"
        "dataset: first-column\n"
        "hidden: [0, 2, 4]\n"
        "alphas: [0.1, 1, 10]\n"
        "iterations: 2000\n"
        "seeds: [1, 2]\n"
        "log_every: 500\n",
    )
    assert exp == Experiment(
        name="full-run",
        dataset=BUILTIN["first-column"],
        dataset_ref="first-column",
        hidden=(0, 2, 4),
        alphas=(0.1, 1.0, 10.0),
        iterations=2000,
        seeds=(1, 2),
        log_every=500,
    )
    assert exp.swept_axes() == {"hidden": 3, "alphas": 3, "seeds": 2}
    assert len(exp.networks()) == 18


def test_grammar_inside_yaml_strings(tmp_path: Path) -> None:
    exp = load(
        tmp_path,
        'hidden: "1..3"\nalphas: "0.001..1000"\nseeds: "0..999"\n',
    )
    assert exp.hidden == (1, 2, 3)
    assert exp.alphas == (0.001, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)
    assert exp.seeds == tuple(range(1000))


def test_lists_mix_numbers_and_grammar_strings(tmp_path: Path) -> None:
    exp = load(tmp_path, 'alphas: [0.5, "1..100", "0.02..0.2:3"]\nhidden: [0, "2,4"]\n')
    assert exp.alphas == (0.5, 1.0, 10.0, 100.0, 0.02, 0.0632455532034, 0.2)
    assert exp.hidden == (0, 2, 4)


def test_a_value_repeated_across_list_items_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "exp.yaml"
    assert error(tmp_path, 'alphas: [1, "0.1..10"]\n') == (
        f"{path}: key 'alphas' is [1, '0.1..10']; expected each value once; 1 is repeated"
    )


def test_yaml_number_forms(tmp_path: Path) -> None:
    # PyYAML reads 1e-3 (no dot) as a string: the grammar takes it as a number
    exp = load(tmp_path, "alpha: 1e-3\niterations: 1e3\nlog_every: 100.0\nseed: '7'\n")
    assert exp.alphas == (0.001,)
    assert exp.iterations == 1000
    assert exp.log_every == 100
    assert exp.seeds == (7,)


def test_a_utf8_bom_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfiterations: 5\n")
    assert resolve(path, {}, TUTORIAL).iterations == 5


# --- aliases --------------------------------------------------------------------------------


def test_alpha_is_an_alias_of_alphas(tmp_path: Path) -> None:
    assert load(tmp_path, "alpha: 2\n").alphas == (2.0,)
    assert load(tmp_path, "alphas: 2\n").alphas == (2.0,)
    assert load(tmp_path, "alpha: [1, 2]\n").alphas == (1.0, 2.0)


def test_seed_is_an_alias_of_seeds(tmp_path: Path) -> None:
    assert load(tmp_path, "seed: 3\n").seeds == (3,)
    assert load(tmp_path, "seeds: 3\n").seeds == (3,)
    assert load(tmp_path, "seed: '1..3'\n").seeds == (1, 2, 3)


def test_errors_name_the_alias_that_was_used(tmp_path: Path) -> None:
    path = tmp_path / "exp.yaml"
    assert (
        error(tmp_path, "alpha: 0\n") == f"{path}: key 'alpha' is 0; expected a finite number > 0"
    )
    assert error(tmp_path, "seeds: -1\n") == (
        f"{path}: key 'seeds' is -1; expected a whole number from 0 to 4294967295"
    )


@pytest.mark.parametrize(("one", "many"), [("alpha", "alphas"), ("seed", "seeds")])
def test_giving_both_forms_is_an_error(tmp_path: Path, one: str, many: str) -> None:
    path = tmp_path / "exp.yaml"
    assert error(tmp_path, f"{one}: 1\n{many}: 2\n") == (
        f"{path}: both '{one}' and '{many}' given; expected one of them"
    )


# --- command-line overrides -------------------------------------------------------------------


def test_overrides_are_strings_in_the_grammar() -> None:
    exp = resolve(
        None,
        {
            "alphas": "0.1,1",
            "hidden": "2..4",
            "seeds": "5",
            "iterations": "300",
            "log_every": "100",
            "name": "cli-run",
            "dataset": "first-column",
        },
        TUTORIAL,
    )
    assert exp == Experiment(
        name="cli-run",
        dataset=BUILTIN["first-column"],
        dataset_ref="first-column",
        hidden=(2, 3, 4),
        alphas=(0.1, 1.0),
        iterations=300,
        seeds=(5,),
        log_every=100,
    )


def test_overrides_beat_the_file_including_its_alias(tmp_path: Path) -> None:
    path = write(tmp_path, "alpha: 5\nseed: 9\niterations: 100\n")
    exp = resolve(path, {"alphas": "0.25", "seeds": "2"}, TUTORIAL)
    assert (exp.alphas, exp.seeds, exp.iterations) == ((0.25,), (2,), 100)


def test_override_errors_name_the_option(tmp_path: Path) -> None:
    path = write(tmp_path, "alpha: 5\n")
    cases = {
        "alphas": ("0", "option --alphas is '0'; expected a finite number > 0"),
        "iterations": ("0", "option --iterations is '0'; expected a whole number > 0"),
        "log_every": ("x", "option --log-every is 'x'; expected a whole number > 0"),
        "hidden": (
            "-1",
            "option --hidden is '-1'; expected a whole number from 0 to 100000 (0: no hidden layer)",
        ),
        "seeds": ("1,1", "option --seeds is '1,1'; expected each value once; 1 is repeated"),
        "name": (
            "../x",
            "option --name is '../x'; expected 1 to 64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit",
        ),
    }
    for key, (text, message) in cases.items():
        with pytest.raises(ConfigError) as info:
            resolve(path, {key: text}, TUTORIAL)
        assert str(info.value) == message, key


def test_iterations_accepts_whole_number_spellings() -> None:
    for text in ("1000", " 1000 ", "1e3", "1000.0", "+1000"):
        assert resolve(None, {"iterations": text}, TUTORIAL).iterations == 1000


# --- dump() round trip ------------------------------------------------------------------------


def round_trip(tmp_path: Path, exp: Experiment) -> Experiment:
    path = write(tmp_path, config.dump(exp), name="dumped.yaml")
    return resolve(path, {}, TUTORIAL)


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"alphas": "0.001..1000", "hidden": "0,4,32", "seeds": "0..9"},
        {"alphas": "0.01..10:7"},
        {"alphas": "0.1,0.2,0.3,1e-7,1e300,123456.789"},
        {"alphas": "3", "name": "renamed", "dataset": "first-column"},
    ],
)
def test_dump_round_trip_is_exact(tmp_path: Path, overrides: dict) -> None:
    exp = resolve(None, overrides, TUTORIAL)
    again = round_trip(tmp_path, exp)
    assert again == exp
    assert [repr(a) for a in again.alphas] == [repr(a) for a in exp.alphas]


def test_dump_of_a_csv_dataset_is_inline_and_round_trips(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text(XOR_CSV)
    exp = load(tmp_path, "dataset: data.csv\nalphas: '0.1..10'\n")
    dumped = yaml.safe_load(config.dump(exp))
    assert dumped["dataset"] == {
        "name": "data",
        "inputs": [[0.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 1.0]],
        "targets": [[0.0], [1.0], [1.0], [0.0]],
    }
    (tmp_path / "data.csv").unlink()  # the dump no longer needs the file
    assert round_trip(tmp_path, exp) == exp


def test_dump_of_an_inline_dataset_round_trips(tmp_path: Path) -> None:
    exp = load(
        tmp_path,
        "dataset: {name: tiny, inputs: [[0.1, 0.7], [0.30000000000000004, 1e-9]], "
        "targets: [[1], [0]]}\n",
    )
    assert round_trip(tmp_path, exp) == exp


def test_dump_keys_are_in_config_form() -> None:
    exp = resolve(None, {"seeds": "1,2"}, TUTORIAL)
    assert yaml.safe_load(config.dump(exp)) == {
        "name": "xor",
        "dataset": "xor",
        "hidden": 4,
        "alphas": 0.5,
        "iterations": 60000,
        "seeds": [1, 2],
        "log_every": 10000,
    }


# --- CSV datasets -------------------------------------------------------------------------------


def test_csv_path_is_relative_to_the_config_file(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "configs" / "data").mkdir(parents=True)
    (tmp_path / "configs" / "data" / "xor3.csv").write_text(XOR_CSV)
    path = write(tmp_path / "configs", "dataset: data/xor3.csv\n")
    monkeypatch.chdir(tmp_path)  # not where the CSV is
    exp = resolve(Path("configs/exp.yaml"), {}, TUTORIAL)
    assert exp.dataset == Dataset("xor3", BUILTIN["xor"].inputs, BUILTIN["xor"].targets)
    assert exp.dataset_ref is None
    assert exp.name == "exp"
    assert path.exists()


def test_dataset_option_is_relative_to_the_working_directory(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "here.csv").write_text("0,1\n1,0\n")
    (tmp_path / "sub").mkdir()
    path = write(tmp_path / "sub", "iterations: 10\n")
    monkeypatch.chdir(tmp_path)
    exp = resolve(path, {"dataset": "here.csv"}, TUTORIAL)
    assert exp.dataset == Dataset("here", ((0.0,), (1.0,)), ((1.0,), (0.0,)))


def test_csv_without_header_and_with_blank_lines(tmp_path: Path) -> None:
    (tmp_path / "plain.csv").write_text("0,0,1,0\n\n0,1,1,1\n 1 , 0 , 1 , 1 \n1,1,1,0\n\n")
    exp = load(tmp_path, "dataset: plain.csv\n")
    assert exp.dataset.inputs == BUILTIN["xor"].inputs
    assert exp.dataset.targets == BUILTIN["xor"].targets
    assert exp.name == "exp"  # the config file's name, not the dataset's


def test_csv_last_column_is_the_target(tmp_path: Path) -> None:
    (tmp_path / "wide.csv").write_text("a,b,c,d,target\n1,2,3,4,0.5\n-1,0.25,1e-3,7,1\n")
    data = load(tmp_path, "dataset: wide.csv\n").dataset
    assert data.inputs == ((1.0, 2.0, 3.0, 4.0), (-1.0, 0.25, 0.001, 7.0))
    assert data.targets == ((0.5,), (1.0,))
    assert (data.n_inputs, data.n_outputs) == (4, 1)


def test_csv_with_bom_and_odd_file_name(tmp_path: Path) -> None:
    (tmp_path / "my data (v2).csv").write_bytes(b"\xef\xbb\xbf0,1\n1,0\n")
    exp = resolve(None, {"dataset": str(tmp_path / "my data (v2).csv")}, TUTORIAL)
    assert exp.dataset.name == "my-data--v2-"
    assert exp.name == "my-data--v2-"
    assert exp.dataset.inputs == ((0.0,), (1.0,))


def test_csv_first_row_with_a_number_is_data_not_a_header(tmp_path: Path) -> None:
    (tmp_path / "typo.csv").write_text("0,x,0\n0,1,1\n")
    path = tmp_path / "typo.csv"
    assert error(tmp_path, "dataset: typo.csv\n") == (
        f"{path}: line 1 column 2 is 'x'; expected a number"
    )


# --- inline datasets ----------------------------------------------------------------------------


def test_inline_dataset(tmp_path: Path) -> None:
    exp = load(
        tmp_path,
        "dataset:\n  name: and\n  inputs: [[0, 0], [0, 1], [1, 0], [1, 1]]\n"
        "  targets: [[0], [0], [0], [1]]\n",
    )
    assert exp.dataset == Dataset(
        "and",
        ((0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)),
        ((0.0,), (0.0,), (0.0,), (1.0,)),
    )
    assert exp.dataset_ref is None


def test_inline_dataset_defaults_and_bare_number_lists(tmp_path: Path) -> None:
    exp = load(tmp_path, "dataset: {inputs: [0, 1, 2], targets: [1, 0, 1]}\n")
    assert exp.dataset == Dataset("inline", ((0.0,), (1.0,), (2.0,)), ((1.0,), (0.0,), (1.0,)))


def test_inline_dataset_with_several_outputs(tmp_path: Path) -> None:
    exp = load(tmp_path, "dataset: {inputs: [[0], [1]], targets: [[0, 1], [1, 0]]}\n")
    assert exp.dataset.n_outputs == 2
    assert exp.networks() == [NetworkSpec(0.5, 4, 1)]


def test_dataset_module_matrix_directly() -> None:
    assert datasets.matrix([[1, 2.5], ["3", 4]], "here") == ((1.0, 2.5), (3.0, 4.0))
    with pytest.raises(datasets.DataError) as info:
        datasets.matrix([[1, 2], [True, 4]], "here")
    assert str(info.value) == "here row 2 column 1 is true; expected a number"


# --- limits that would otherwise exhaust memory -------------------------------------------------


def test_grid_size_limit() -> None:
    with pytest.raises(ConfigError) as info:
        resolve(None, {"hidden": "1..1000", "seeds": "0..999", "alphas": "0.1..10"}, TUTORIAL)
    assert str(info.value) == (
        "the grid hidden x alphas x seeds is 1000 x 3 x 1000 = 3000000 networks; "
        "expected at most 1000000"
    )


def test_recorded_errors_limit() -> None:
    with pytest.raises(ConfigError) as info:
        resolve(None, {"seeds": "0..999", "log_every": "1", "iterations": "60000"}, TUTORIAL)
    assert str(info.value) == (
        "option --log-every is '1'; expected at least 6 (1000 networks x 60000 checkpoints "
        "is more than 10000000 recorded errors)"
    )
    # the suggested value is enough
    exp = resolve(None, {"seeds": "0..999", "log_every": "6", "iterations": "60000"}, TUTORIAL)
    assert exp.log_every == 6


def test_iterations_limit() -> None:
    with pytest.raises(ConfigError) as info:
        resolve(None, {"iterations": "1e13"}, TUTORIAL)
    assert str(info.value) == (
        "option --iterations is '1e13'; expected a whole number from 1 to 1000000000000"
    )


def test_dump_is_block_style_throughout(tmp_path: Path) -> None:
    exp = resolve(
        None,
        {
            "alphas": "0.1,1",
            "hidden": "4,8x4",
            "optimizers": "sgd,adam",
            "optimizer_params": "{adam: {betas: [0.8, 0.9]}}",
        },
        TUTORIAL,
    )
    text = config.dump(exp)
    assert "[" not in text and "{" not in text
    assert "hidden:\n- 4\n- 8x4\n" in text
    assert "optimizer_params:\n  adam:\n    betas:\n    - 0.8\n    - 0.9\n" in text
    path = tmp_path / "again.yaml"
    path.write_text(text)
    assert resolve(path, {}, TUTORIAL) == exp


def test_config_from_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from click.testing import CliRunner

    from toynn_cli.cli import cli

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    text = "alphas: [0.1, 10]\niterations: 100\n"
    result = runner.invoke(cli, ["sweep", "--config", "-", "--json", "--no-save"], input=text)
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [n["alpha"] for n in doc["networks"]] == [0.1, 10.0]
    assert doc["experiment"]["iterations"] == 100
    assert doc["experiment"]["name"] == "xor"  # no file name: the dataset's
    bad = runner.invoke(cli, ["sweep", "-c", "-", "--no-save"], input="alphas: 0\n")
    assert bad.exit_code == 2
    assert bad.stderr == "Error: stdin: key 'alphas' is 0; expected a finite number > 0\n"
    empty = runner.invoke(cli, ["sweep", "-c", "-", "--no-save"], input="")
    assert empty.stderr == "Error: stdin: is empty; expected a mapping of config keys\n"
