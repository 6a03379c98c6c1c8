"""Bad input: each case gives one clear line on stderr (naming the file or option, the key,
the value and what was expected), exit code 2, no traceback and no run folder.

Every test runs in its own working directory (``tmp_path``) so the file names in the
messages are short and exact, and passes ``--out runs`` so a stray run folder would show.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from toynn_cli.cli import cli
from toynn_cli.config import yamlfile as config_module

FAST = ["--iterations", "10"]


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(args: list[str]) -> Result:
    return CliRunner().invoke(cli, args)


def no_run_folder(out: Path = Path("runs")) -> bool:
    """Nothing was created at ``out``: absent, an empty folder, or a file that was there."""
    return not out.exists() or not out.is_dir() or not any(out.iterdir())


def bad(args: list[str], out: str = "runs") -> str:
    """Run a command that must fail on its input; return its one stderr line."""
    result = invoke([*args, "--out", out])
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    assert result.stdout == ""
    assert result.stderr.endswith("\n") and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("Error: ")
    assert no_run_folder(Path(out))
    return result.stderr[len("Error: ") : -1]


def config(text: str, name: str = "bad.yaml") -> list[str]:
    Path(name).write_text(text, encoding="utf-8")
    return ["train", "--config", name]


# --- missing or unreadable config -------------------------------------------------------------


def test_missing_config() -> None:
    assert bad(["train", "--config", "missing.yaml"]) == (
        "missing.yaml: no such config file; expected a YAML config file"
    )


def test_missing_config_in_a_missing_folder() -> None:
    assert bad(["sweep", "--config", "nowhere/exp.yaml"]) == (
        "nowhere/exp.yaml: no such config file; expected a YAML config file"
    )


def test_config_is_a_directory() -> None:
    Path("configs").mkdir()
    assert bad(["train", "--config", "configs"]) == (
        "configs: is a directory; expected a YAML config file"
    )


def test_config_is_not_utf8() -> None:
    Path("binary.yaml").write_bytes(b"alpha: 1\n\xff\xfe\n")
    assert bad(["train", "--config", "binary.yaml"]) == (
        "binary.yaml: byte 0xff at offset 9 is not UTF-8; expected a UTF-8 text file"
    )


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads mode-000 files")
def test_config_without_read_permission() -> None:
    Path("secret.yaml").write_text("alpha: 1\n")
    Path("secret.yaml").chmod(0)
    try:
        assert bad(["train", "--config", "secret.yaml"]) == (
            "secret.yaml: cannot read: Permission denied; expected a readable YAML file"
        )
    finally:
        Path("secret.yaml").chmod(0o644)


def test_config_without_read_permission_simulated(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same, for any user (root ignores mode 000): reading raises EACCES."""
    Path("secret.yaml").write_text("alpha: 1\n")

    def denied(file, *args, **kwargs):
        if Path(file).name == "secret.yaml":
            raise PermissionError(13, "Permission denied", str(file))
        return open(file, *args, **kwargs)

    monkeypatch.setattr(config_module, "open", denied, raising=False)
    assert bad(["train", "--config", "secret.yaml"]) == (
        "secret.yaml: cannot read: Permission denied; expected a readable YAML file"
    )


def test_config_that_is_empty() -> None:
    assert bad(config("# nothing here\n")) == (
        "bad.yaml: is empty; expected a mapping of config keys"
    )


def test_config_that_is_a_list() -> None:
    assert bad(config("- alpha: 1\n")) == (
        "bad.yaml: top level is a list ([{'alpha': 1}]); expected a mapping of config keys"
    )


# --- YAML syntax errors (with the line) ----------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "alphas: [0.1, 1\niterations: 10\n",
            "bad.yaml: line 2, column 11: YAML syntax error: expected ',' or ']', but got ':'",
        ),
        (
            "alpha: 1\n  hidden: 4\n",
            "bad.yaml: line 2, column 9: YAML syntax error: mapping values are not allowed here",
        ),
        (
            "alpha: 1\n\tseed: 1\n",
            "bad.yaml: line 2, column 1: YAML syntax error: found character '\\t' that cannot "
            "start any token",
        ),
        (
            "alpha: 'unclosed\n",
            "bad.yaml: line 2, column 1: YAML syntax error: found unexpected end of stream",
        ),
        (
            "alpha: *nowhere\n",
            "bad.yaml: line 1, column 8: YAML syntax error: found undefined alias 'nowhere'",
        ),
        (
            "alpha: 1\n---\nalpha: 2\n",
            "bad.yaml: line 2, column 1: YAML syntax error: expected a single document in the "
            "stream, but found another document",
        ),
        (
            "alpha: 1\nhidden: 4\nalpha: 2\n",
            "bad.yaml: line 3, column 1: key 'alpha' appears twice; expected each key once",
        ),
        (
            "hidden: 4\nalpha: \x07\n",
            "bad.yaml: line 2: character #x0007 is not allowed in YAML; expected printable text",
        ),
        (
            "? [1]\n: 2\n",
            "bad.yaml: line 1, column 3: YAML error: found unhashable key; expected plain values",
        ),
        (
            "alphas: " + "[" * 2000 + "]" * 2000 + "\n",
            "bad.yaml: YAML nested too deeply; expected a mapping of config keys",
        ),
    ],
    ids=[
        "unclosed-list",
        "bad-indent",
        "tab",
        "unclosed-quote",
        "undefined-alias",
        "two-documents",
        "duplicate-key",
        "control-character",
        "unhashable-key",
        "nested-too-deeply",
    ],
)
def test_yaml_syntax_error(text: str, message: str) -> None:
    assert bad(config(text)) == message


# --- YAML tags that would build Python objects ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ('alpha: !!python/object/apply:os.system ["touch pwned"]\n', "!!python/object/apply:os.system"),
        ("alpha: !!python/name:os.system\n", "!!python/name:os.system"),
        ('alpha: !!python/object/new:subprocess.Popen [["touch", "pwned"]]\n', "!!python/object/new:subprocess.Popen"),
        ("alpha: !!python/tuple [1, 2]\n", "!!python/tuple"),
        ("alpha: !!python/module:os\n", "!!python/module:os"),
        ("alpha: !custom 1\n", "!custom"),
    ],
    ids=["apply", "name", "new", "tuple", "module", "local-tag"],
)  # fmt: skip
def test_yaml_tags_are_refused(text: str, tag: str) -> None:
    assert bad(config(text)) == (
        f"bad.yaml: line 1, column 8: tag '{tag}' is not allowed; expected plain values "
        f"(numbers, strings, lists, mappings)"
    )
    assert not Path("pwned").exists()


def test_yaml_tag_whose_value_cannot_be_built() -> None:
    assert bad(config("iterations: !!int ten\n")) == (
        "bad.yaml: a tagged YAML value cannot be built (invalid literal for int() with base 10: "
        "'ten'); expected plain values"
    )


def test_yaml_alias_bomb_is_reported_quickly() -> None:
    value = "&a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"
    for i in range(1, 10):  # 10**10 leaves if expanded
        value = f"&a{i} [{value}, " + ", ".join([f"*a{i - 1}"] * 9) + "]"
    message = bad(config(f"alphas: {value}\n"))
    assert message.startswith("bad.yaml: key 'alphas' item 1 is [[[[...], [...], ")
    assert message.endswith("; expected a finite number > 0")


# --- unknown keys (with the nearest valid one) ---------------------------------------------------

KEYS = (
    "dataset, alpha, alphas, hidden, iterations, seed, seeds, log_every, record_every, name, "
    "engine, optimizer, optimizers, bias, activation, activations, loss, losses, init, inits, "
    "batch_size, batch_norm, dropout, weight_decay, momentum, clip_value, clip_norm, schedule, "
    "schedules, "
    "schedule_params, target_error, optimizer_params"
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("alpah: 1\n", f"bad.yaml: unknown key 'alpah'; did you mean 'alpha'? expected one of: {KEYS}"),
        ("iteration: 10\n", f"bad.yaml: unknown key 'iteration'; did you mean 'iterations'? expected one of: {KEYS}"),
        ("log-every: 10\n", f"bad.yaml: unknown key 'log-every'; did you mean 'log_every'? expected one of: {KEYS}"),
        ("Hidden: 4\n", f"bad.yaml: unknown key 'Hidden'; did you mean 'hidden'? expected one of: {KEYS}"),
        ("learning_rate: 1\n", f"bad.yaml: unknown key 'learning_rate'; expected one of: {KEYS}"),
        ("1: 2\n", f"bad.yaml: unknown key 1; expected one of: {KEYS}"),
        (
            "dataset: {input: [[1]], targets: [[1]]}\n",
            "bad.yaml: key 'dataset': unknown key 'input'; did you mean 'inputs'? "
            "expected one of: name, inputs, targets",
        ),
    ],
    ids=["alpah", "iteration", "log-every", "Hidden", "learning_rate", "number", "dataset-input"],
)  # fmt: skip
def test_unknown_key(text: str, message: str) -> None:
    assert bad(config(text)) == message


# --- wrong types -----------------------------------------------------------------------------------

WHOLE = "expected a whole number > 0"
HIDDEN = "expected a whole number from 0 to 100000 (0: no hidden layer)"
ALPHA = "expected a finite number > 0"
SEED = "expected a whole number from 0 to 4294967295"
NAME = "expected 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"
DATASET = (
    "expected a built-in dataset (xor, first-column, and, or, xor2, parity3, circles, moons, "
    "spirals, blobs), a .csv path or a mapping with inputs "
    "and targets"
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("iterations: abc\n", f"bad.yaml: key 'iterations' is 'abc'; {WHOLE}"),
        ("iterations: 1.5\n", f"bad.yaml: key 'iterations' is 1.5; {WHOLE}"),
        ("iterations: true\n", f"bad.yaml: key 'iterations' is true; {WHOLE}"),
        ("iterations: [10]\n", f"bad.yaml: key 'iterations' is [10]; {WHOLE}"),
        ("log_every: {a: 1}\n", f"bad.yaml: key 'log_every' is {{'a': 1}}; {WHOLE}"),
        ("alpha: yes\n", f"bad.yaml: key 'alpha' is true; {ALPHA}"),
        ("alpha: [0.1, [1]]\n", f"bad.yaml: key 'alpha' item 2 is [1]; {ALPHA}"),
        ("alphas: []\n", "bad.yaml: key 'alphas' is []; expected at least one value"),
        ("alphas: null\n", f"bad.yaml: key 'alphas' is null; {ALPHA}"),
        ("alpha: 2001-01-01\n", f"bad.yaml: key 'alpha' is datetime.date(2001, 1, 1); {ALPHA}"),
        ("hidden: [1.5]\n", f"bad.yaml: key 'hidden' item 1 is 1.5; {HIDDEN}"),
        ("hidden: four\n", "bad.yaml: key 'hidden' is 'four'; expected a whole number, a comma list or a range A..B"),
        ("seeds: {1: 2}\n", f"bad.yaml: key 'seeds' is {{1: 2}}; {SEED}"),
        ("seed: 1.25\n", f"bad.yaml: key 'seed' is 1.25; {SEED}"),
        ("name: 5\n", f"bad.yaml: key 'name' is 5; {NAME}"),
        ("name: ../escape\n", f"bad.yaml: key 'name' is '../escape'; {NAME}"),
        ("dataset: 5\n", f"bad.yaml: key 'dataset' is 5; {DATASET}"),
        ("dataset: [xor]\n", f"bad.yaml: key 'dataset' is ['xor']; {DATASET}"),
        ("dataset: {inputs: [[1]]}\n", "bad.yaml: key 'dataset' has no 'targets'; expected a mapping with inputs and targets"),
        ("dataset: {name: a b, inputs: [[1]], targets: [[1]]}\n", f"bad.yaml: key 'dataset' name is 'a b'; {NAME}"),
        ("dataset: {inputs: abc, targets: [[1]]}\n", "bad.yaml: key 'dataset' inputs is 'abc'; expected a non-empty list of rows"),
        ("alpha: 1\nalphas: 2\n", "bad.yaml: both 'alpha' and 'alphas' given; expected one of them"),
    ],
    ids=lambda v: v.split(":")[0] if v.endswith("\n") else "",
)  # fmt: skip
def test_wrong_type(text: str, message: str) -> None:
    assert bad(config(text)) == message


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--iterations", "ten"], f"option --iterations is 'ten'; {WHOLE}"),
        (["--log-every", "1.5"], f"option --log-every is '1.5'; {WHOLE}"),
        (["--seed", "x"], "option --seed is 'x'; expected a whole number, a comma list or a range A..B"),
        (["--hidden", "4.5"], "option --hidden is '4.5'; expected a whole number, a comma list or a range A..B"),
        (["--alpha", "fast"], "option --alpha is 'fast'; expected a number, a comma list or a range A..B"),
        (["--name", "a/b"], f"option --name is 'a/b'; {NAME}"),
        (["--seed", "4294967296"], f"option --seed is '4294967296'; {SEED}"),
    ],
    ids=["iterations", "log-every", "seed", "hidden", "alpha", "name", "seed-too-big"],
)  # fmt: skip
def test_wrong_type_option(args: list[str], message: str) -> None:
    assert bad(["train", *args]) == message


# --- ragged, empty and mismatched data ------------------------------------------------------------


def inline(inputs: str, targets: str) -> list[str]:
    return config(f"dataset: {{inputs: {inputs}, targets: {targets}}}\n")


@pytest.mark.parametrize(
    ("inputs", "targets", "message"),
    [
        ("[[0, 1], [1]]", "[[1], [0]]", "inputs row 2 has 1 values; expected 2, like row 1"),
        ("[[0, 1], [1, 0]]", "[[1], [0, 1]]", "targets row 2 has 2 values; expected 1, like row 1"),
        ("[]", "[]", "inputs is []; expected a non-empty list of rows"),
        ("[[0], [1]]", "[]", "targets is []; expected a non-empty list of rows"),
        ("[[], []]", "[[1], [0]]", "inputs row 1 is []; expected a non-empty list of numbers"),
        ("[[0], 1]", "[[1], [0]]", "inputs row 2 is 1; expected a non-empty list of numbers"),
        ("null", "[[1]]", "inputs is null; expected a non-empty list of rows"),
    ],
    ids=["ragged-inputs", "ragged-targets", "empty", "empty-targets", "empty-rows", "mixed", "null"],
)  # fmt: skip
def test_ragged_or_empty_inline_data(inputs: str, targets: str, message: str) -> None:
    assert bad(inline(inputs, targets)) == f"bad.yaml: key 'dataset' {message}"


@pytest.mark.parametrize(
    ("inputs", "targets", "rows"),
    [("[[0], [1], [1]]", "[[1], [0]]", (3, 2)), ("[[0]]", "[[1], [0]]", (1, 2))],
    ids=["more-inputs", "more-targets"],
)
def test_inputs_targets_row_mismatch(inputs: str, targets: str, rows: tuple[int, int]) -> None:
    assert bad(inline(inputs, targets)) == (
        f"bad.yaml: key 'dataset' has {rows[0]} input rows and {rows[1]} target rows; "
        f"expected the same number"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x,y\n0,1\n1\n", "data.csv: line 3 has 1 column; expected 2, like the header on line 1"),
        ("0,0,1\n0,1\n", "data.csv: line 2 has 2 columns; expected 3, like line 1"),
        ("", "data.csv: has no data rows; expected one sample per row"),
        ("\n \n", "data.csv: has no data rows; expected one sample per row"),
        ("a,b,target\n", "data.csv: has no data rows; expected one sample per row"),
        ("1\n0\n", "data.csv: line 1 has 1 column; expected input columns and a target column"),
    ],
    ids=["ragged-header", "ragged", "empty", "blank", "header-only", "one-column"],
)
def test_ragged_or_empty_csv(text: str, message: str) -> None:
    Path("data.csv").write_text(text)
    assert bad(["train", "--dataset", "data.csv", *FAST]) == message


@pytest.mark.parametrize(
    ("text", "shown"),
    [("a;b;y\n0;0;0\n1;1;0\n", "';'"), ("a\tb\ty\n0\t0\t0\n", "tabs")],
    ids=["semicolons", "tabs"],
)
def test_a_csv_separated_otherwise_is_named_so(text: str, shown: str) -> None:
    Path("data.csv").write_text(text)
    assert bad(["train", "--dataset", "data.csv", *FAST]) == (
        f"data.csv: line 1 is separated by {shown}; expected comma-separated columns "
        "(save the file as CSV with commas)"
    )


def test_a_config_given_as_the_dataset_is_not_read_as_csv() -> None:
    Path("configs").mkdir()
    Path("configs/xor.yaml").write_text("alphas: 1\n")
    assert bad(["train", "--dataset", "configs/xor.yaml", *FAST]) == (
        "option --dataset is 'configs/xor.yaml'; expected a built-in dataset or a .csv file; "
        "a .yaml file is a config, given with --config"
    )


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("5\n", "a number (5)"),
        ("hello\n", "a string ('hello')"),
        ("true\n", "true or false (true)"),
    ],
)
def test_a_config_that_is_not_a_mapping_says_what_it_is(text: str, kind: str) -> None:
    assert bad(config(text)) == f"bad.yaml: top level is {kind}; expected a mapping of config keys"


@pytest.mark.parametrize("flag", ["--optimizer", "--optimizers", "--optimizer="])
def test_a_bad_option_is_named_as_typed(flag: str) -> None:
    args = [flag + "adamw"] if flag.endswith("=") else [flag, "adamw"]
    assert bad(["train", *args, *FAST]) == (
        f"option {flag.rstrip('=')} is 'adamw'; expected an optimizer: sgd, momentum, "
        "nesterov, adagrad, adadelta, rmsprop, adam (did you mean 'adam'?)"
    )


def test_missing_csv_named_in_a_config_is_looked_for_beside_it() -> None:
    Path("configs").mkdir()
    Path("configs/exp.yaml").write_text("dataset: data/xor.csv\n")
    assert bad(["train", "--config", "configs/exp.yaml", *FAST]) == (
        "configs/exp.yaml: key 'dataset' is 'data/xor.csv'; expected a readable CSV file, "
        "but configs/data/xor.csv does not exist"
    )


def test_missing_csv_option() -> None:
    assert bad(["train", "--dataset", "nope.csv", *FAST]) == (
        "option --dataset is 'nope.csv'; expected a readable CSV file, but nope.csv does not exist"
    )


def test_csv_that_is_a_directory() -> None:
    Path("data.csv").mkdir()
    assert bad(["train", "--dataset", "data.csv", *FAST]) == (
        "option --dataset is 'data.csv'; expected a readable CSV file, but data.csv is a directory"
    )


def test_csv_that_is_not_utf8() -> None:
    Path("data.csv").write_bytes(b"0,1\n\x80,1\n")
    assert bad(["train", "--dataset", "data.csv", *FAST]) == (
        "data.csv: byte 0x80 at offset 4 is not UTF-8; expected a UTF-8 text file"
    )


# --- non-numeric, NaN or infinite data ------------------------------------------------------------


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ("[[0, x], [1, 0]]", "inputs row 1 column 2 is 'x'; expected a number"),
        ("[[0, 1], [true, 0]]", "inputs row 2 column 1 is true; expected a number"),
        ("[[0, 1], [null, 0]]", "inputs row 2 column 1 is null; expected a number"),
        ("[[0, 1], [[1], 0]]", "inputs row 2 column 1 is [1]; expected a number"),
        ("[[0, .nan], [1, 0]]", "inputs row 1 column 2 is nan; expected a finite number"),
        ("[[0, .inf], [1, 0]]", "inputs row 1 column 2 is inf; expected a finite number"),
        ("[[0, -.inf], [1, 0]]", "inputs row 1 column 2 is -inf; expected a finite number"),
        ("[[0, '1e999'], [1, 0]]", "inputs row 1 column 2 is '1e999'; expected a finite number"),
        ("[[0, " + "9" * 400 + "], [1, 0]]", "inputs row 1 column 2 is 9999999999999...99999999999999; expected a finite number"),
    ],
    ids=["text", "bool", "null", "list", "nan", "inf", "-inf", "overflow-string", "huge-int"],
)  # fmt: skip
def test_bad_numbers_inline(inputs: str, message: str) -> None:
    assert bad(inline(inputs, "[[1], [0]]")) == f"bad.yaml: key 'dataset' {message}"


def test_bad_numbers_in_targets() -> None:
    assert bad(inline("[[0], [1]]", "[[1], [.nan]]")) == (
        "bad.yaml: key 'dataset' targets row 2 column 1 is nan; expected a finite number"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b\n0,1\n1,x\n", "data.csv: line 3 column 2 is 'x'; expected a number"),
        ("0,1\n1,\n", "data.csv: line 2 column 2 is ''; expected a number"),
        ("0,x\n1,0\n", "data.csv: line 1 column 2 is 'x'; expected a number"),
        ("0,1\nnan,0\n", "data.csv: line 2 column 1 is 'nan'; expected a finite number"),
        ("0,1\n1,inf\n", "data.csv: line 2 column 2 is 'inf'; expected a finite number"),
        ("0,1\n1,-Infinity\n", "data.csv: line 2 column 2 is '-Infinity'; expected a finite number"),
        ("0,1\n1e400,0\n", "data.csv: line 2 column 1 is '1e400'; expected a finite number"),
    ],
    ids=["text", "empty-cell", "first-row-typo", "nan", "inf", "-Infinity", "overflow"],
)  # fmt: skip
def test_bad_numbers_csv(text: str, message: str) -> None:
    Path("data.csv").write_text(text)
    assert bad(["train", "--dataset", "data.csv", *FAST]) == message


# --- iterations, log_every, alpha <= 0 or non-finite -----------------------------------------------


@pytest.mark.parametrize("option", ["--iterations", "--log-every"])
@pytest.mark.parametrize("value", ["0", "-5", "nan", "inf", "-inf", "1e400", ""])
def test_iterations_and_log_every_must_be_positive_whole_numbers(option: str, value: str) -> None:
    args = ["train", "--iterations", "10", option, value]
    assert bad(args) == f"option {option} is {value!r}; {WHOLE}"


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("iterations", "0", "0"),
        ("iterations", "-1", "-1"),
        ("iterations", ".inf", "inf"),
        ("iterations", ".nan", "nan"),
        ("log_every", "0", "0"),
        ("log_every", "-.inf", "-inf"),
    ],
)
def test_iterations_and_log_every_in_yaml(key: str, value: str, shown: str) -> None:
    Path("bad.yaml").write_text(f"{key}: {value}\n")
    assert bad(["train", "--config", "bad.yaml"]) == f"bad.yaml: key '{key}' is {shown}; {WHOLE}"


def test_iterations_too_large() -> None:
    assert bad(["train", "--iterations", "1e13"]) == (
        "option --iterations is '1e13'; expected a whole number from 1 to 1000000000000"
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", f"option --alphas is '0'; {ALPHA}"),
        ("-1", f"option --alphas is '-1'; {ALPHA}"),
        ("-0.0", f"option --alphas is '-0.0'; {ALPHA}"),
        ("0.1,0,1", f"option --alphas is '0.1,0,1'; {ALPHA}, not 0"),
        ("nan", "option --alphas is 'nan'; expected a finite number, a comma list or a range A..B"),
        ("inf", "option --alphas is 'inf'; expected a finite number, a comma list or a range A..B"),
        ("-inf", "option --alphas is '-inf'; expected a finite number, a comma list or a range A..B"),
        ("1,nan", "option --alphas is '1,nan'; expected a finite number, not 'nan'"),
        ("1e400", "option --alphas is '1e400'; expected a number a float can hold, not '1e400' (above 1.8e308)"),
        ("1e-400", "option --alphas is '1e-400'; expected a number a float can hold, not '1e-400' (it rounds to 0)"),
    ],
    ids=["zero", "negative", "negative-zero", "zero-in-list", "nan", "inf", "-inf", "nan-in-list", "overflow", "underflow"],
)  # fmt: skip
def test_alpha_must_be_positive_and_finite(value: str, message: str) -> None:
    assert bad(["sweep", "--alphas", value, *FAST]) == message


@pytest.mark.parametrize(
    ("value", "shown"),
    [("0", "0"), ("-0.5", "-0.5"), (".nan", "nan"), (".inf", "inf"), ("-.inf", "-inf"), ("1" * 400, "1111111111111...11111111111111")],
    ids=["zero", "negative", "nan", "inf", "-inf", "huge-int"],
)  # fmt: skip
def test_alpha_in_yaml(value: str, shown: str) -> None:
    assert bad(config(f"alpha: {value}\n")) == f"bad.yaml: key 'alpha' is {shown}; {ALPHA}"


# --- negative (or huge) hidden size ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-1", f"option --hidden is '-1'; {HIDDEN}"),
        ("-3..2", f"option --hidden is '-3..2'; {HIDDEN}, not -3"),
        ("4,-2", f"option --hidden is '4,-2'; {HIDDEN}, not -2"),
        ("100001", f"option --hidden is '100001'; {HIDDEN}"),
    ],
    ids=["negative", "negative-range", "negative-in-list", "too-big"],
)
def test_hidden_size_option(value: str, message: str) -> None:
    assert bad(["sweep", "--hidden", value, *FAST]) == message


def test_hidden_size_in_yaml() -> None:
    assert bad(config("hidden: [4, -1]\n")) == f"bad.yaml: key 'hidden' item 2 is -1; {HIDDEN}"


# --- bad sweep grammar ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0..", "expected a range A..B with a number on both sides"),
        ("1..0.1", "expected a range A..B with A <= B"),
        ("a..b", "expected a number before '..', not 'a'"),
        ("1..10:0", "expected N >= 2 points in A..B:N, not 0"),
        ("..5", "expected a range A..B with a number on both sides"),
        ("1..3", "expected B = A times a power of ten in A..B (or A..B:N for N log-spaced points)"),
        ("0..1", "expected A > 0 in the log range A..B, not 0"),
        ("1..10:", "expected a point count N after ':' in A..B:N"),
        ("1..10:x", "expected a whole number of points after ':', not 'x'"),
        ("1..2..3", "expected a number after '..', not '2..3'"),
        ("1,,2", "expected a value between every two commas"),
        ("1,1", "expected each value once; 1 is repeated"),
        ("", "expected a number, a comma list or a range A..B"),
        ("1e-5..1e5:1000000", "expected at most 100000 values, not 1000000"),
    ],
    ids=["0..", "1..0.1", "a..b", "1..10:0", "..5", "not-decades", "log-from-0", "no-count", "bad-count", "double-range", "empty-item", "repeat", "empty", "too-many"],
)  # fmt: skip
def test_bad_alpha_grammar(value: str, expected: str) -> None:
    assert bad(["sweep", "--alphas", value, *FAST]) == f"option --alphas is {value!r}; {expected}"


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--hidden", "0..", "expected a range A..B with a number on both sides"),
        ("--hidden", "8..2", "expected a range A..B with A <= B"),
        ("--hidden", "a..b", "expected a whole number before '..', not 'a'"),
        ("--hidden", "1..10:0", "expected a whole-number range A..B (A..B:N is for alphas)"),
        ("--seeds", "0..", "expected a range A..B with a number on both sides"),
        ("--seeds", "10..1", "expected a range A..B with A <= B"),
        ("--seeds", "a..b", "expected a whole number before '..', not 'a'"),
        ("--seeds", "1..10:3", "expected a whole-number range A..B (A..B:N is for alphas)"),
        ("--seeds", "0..4294967295", "expected at most 100000 values, not 4294967296"),
    ],
)
def test_bad_integer_grammar(option: str, value: str, expected: str) -> None:
    assert bad(["sweep", option, value, *FAST]) == f"option {option} is {value!r}; {expected}"


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("alphas", "0..", "expected a range A..B with a number on both sides"),
        ("alphas", "1..0.1", "expected a range A..B with A <= B"),
        ("alphas", "a..b", "expected a number before '..', not 'a'"),
        ("alphas", "1..10:0", "expected N >= 2 points in A..B:N, not 0"),
        ("hidden", "4..2", "expected a range A..B with A <= B"),
        ("seeds", "x..3", "expected a whole number before '..', not 'x'"),
    ],
)
def test_bad_grammar_in_yaml_strings(key: str, value: str, expected: str) -> None:
    assert bad(config(f'{key}: "{value}"\n')) == f"bad.yaml: key '{key}' is {value!r}; {expected}"


def test_bad_grammar_in_a_yaml_list_item() -> None:
    assert bad(config('alphas: [0.5, "1..0.1"]\n')) == (
        "bad.yaml: key 'alphas' item 2 is '1..0.1'; expected a range A..B with A <= B"
    )


def test_grid_too_large() -> None:
    assert bad(["sweep", "--hidden", "1..1000", "--seeds", "0..999", "--alphas", "1,2", *FAST]) == (
        "the grid hidden x alphas x seeds is 1000 x 2 x 1000 = 2000000 networks; "
        "expected at most 1000000"
    )


def test_too_many_recorded_errors() -> None:
    assert bad(["sweep", "--seeds", "0..999", "--iterations", "60000", "--log-every", "1"]) == (
        "option --log-every is '1'; expected at least 43 (7000 networks x 60000 checkpoints "
        "is more than 10000000 recorded errors)"
    )


# --- unknown dataset ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "hint"),
    [("nope", ""), ("XOR", " (did you mean 'xor'?)"), ("first_column", " (did you mean 'first-column'?)"), ("data.txt", "")],
    ids=["nope", "XOR", "first_column", "txt"],
)  # fmt: skip
def test_unknown_dataset_option(value: str, hint: str) -> None:
    assert bad(["train", "--dataset", value, *FAST]) == (
        f"option --dataset is {value!r}; {DATASET}{hint}"
    )


def test_unknown_dataset_in_yaml() -> None:
    assert bad(config("dataset: xr\n")) == (
        f"bad.yaml: key 'dataset' is 'xr'; {DATASET} (did you mean 'xor'?)"
    )


# --- unwritable --out ------------------------------------------------------------------------------


def test_out_below_a_regular_file() -> None:
    Path("afile.txt").write_text("not a folder\n")
    assert bad(["train", *FAST], out="afile.txt/runs") == (
        "option --out: cannot create 'afile.txt/runs': Not a directory"
    )
    assert Path("afile.txt").read_text() == "not a folder\n"


def test_out_is_a_regular_file() -> None:
    Path("afile.txt").write_text("not a folder\n")
    assert bad(["train", *FAST], out="afile.txt") == (
        "option --out is 'afile.txt', which is a file; expected a folder (see 'toynn train --help')"
    )
    assert Path("afile.txt").read_text() == "not a folder\n"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_out_in_a_read_only_folder() -> None:
    Path("locked").mkdir()
    Path("locked").chmod(0o555)
    try:
        assert bad(["train", *FAST], out="locked/runs") == (
            "option --out: cannot create 'locked/runs': Permission denied"
        )
    finally:
        Path("locked").chmod(0o755)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_out_is_a_read_only_folder() -> None:
    Path("locked").mkdir()
    Path("locked").chmod(0o555)
    try:
        assert bad(["train", *FAST], out="locked") == (
            "option --out: cannot create a run folder in 'locked': Permission denied"
        )
    finally:
        Path("locked").chmod(0o755)


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("locked/runs", "option --out: cannot create 'locked/runs': Permission denied"),
        ("locked", "option --out: cannot create a run folder in 'locked': Permission denied"),
    ],
    ids=["below", "itself"],
)
def test_out_read_only_simulated(monkeypatch: pytest.MonkeyPatch, out: str, message: str) -> None:
    """The same, for any user (root ignores mode 555): making a folder in it raises EACCES."""
    Path("locked").mkdir()
    real = os.mkdir

    def denied(path, *args, **kwargs) -> None:
        if Path(path).parent.name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        real(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", denied)
    assert bad(["train", *FAST], out=out) == message
    assert list(Path("locked").iterdir()) == []


def test_bad_config_with_unwritable_out_reports_the_config() -> None:
    """The experiment is checked before anything is written."""
    Path("afile.txt").write_text("x")
    assert bad(config("alpha: 0\n"), out="afile.txt/runs") == f"bad.yaml: key 'alpha' is 0; {ALPHA}"


# --- alpha 1000 and beyond: runs, no RuntimeWarning, labelled diverged -----------------------------


def run_quietly(args: list[str]) -> Result:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any RuntimeWarning (overflow etc.) would raise
        result = invoke(args)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    return result


@pytest.mark.parametrize("alpha", ["1000", "1e4", "1e6", "1e100", "1e300", "1.7e308"])
def test_huge_alpha_trains_and_is_diverged(alpha: str) -> None:
    result = run_quietly(["train", "--alpha", alpha, "--iterations", "2000", "--json", "--no-save"])
    [network] = json.loads(result.stdout)["networks"]
    assert network["alpha"] == float(alpha)
    assert network["status"] == "diverged"
    assert no_run_folder()


@pytest.mark.slow
def test_huge_alpha_sweep_saved_without_warnings(tmp_path: Path) -> None:
    result = run_quietly(
        [
            "sweep",
            "--alphas",
            "1000..1e300:5",
            "--iterations",
            "2000",
            "--json",
            "-q",
            "--out",
            "runs",
        ]
    )
    doc = json.loads(result.stdout)
    assert [n["status"] for n in doc["networks"]] == ["diverged"] * 5
    assert len(list(Path("runs").iterdir())) == 1  # a valid run is saved as usual


def test_huge_alpha_is_diverged_for_every_seed_and_hidden_size() -> None:
    result = run_quietly(
        [
            "sweep",
            "--alphas",
            "1000..1e12",
            "--seeds",
            "1..5",
            "--hidden",
            "1,2,4,8",
            "--iterations",
            "2000",
            "--json",
            "--no-save",
            "-q",
        ]
    )
    statuses = {
        (n["alpha"], n["hidden"], n["seed"]): n["status"]
        for n in json.loads(result.stdout)["networks"]
    }
    assert {k: s for k, s in statuses.items() if s != "diverged"} == {}


# --- what cannot be trained is refused up front -------------------------------------------


@pytest.mark.parametrize(
    ("args", "samples", "size", "fits"),
    [
        (["train", "--batch-size", "3"], 4, 3, "2, 4"),
        (["sweep", "--dataset", "moons", "--batch-size", "2,3"], 100, 3, "2, 4, 5"),
    ],
)
def test_batch_norm_refuses_a_last_batch_of_one(args, samples, size, fits) -> None:
    assert bad([*args, "--batch-norm", "true", *FAST]) == (
        f"option --batch-size is {size} with batch norm on and {samples} samples: the last "
        "mini-batch of each epoch would hold 1 sample (its variance is 0); expected a batch "
        f"size that leaves at least 2, e.g. {fits}"
    )


def test_a_last_batch_of_one_is_fine_without_batch_norm() -> None:
    assert invoke(["train", "--batch-size", "3", *FAST, "--no-save"]).exit_code == 0


def test_csv_targets_outside_the_sigmoids_range_are_refused() -> None:
    Path("data.csv").write_text("x,y\n0,0\n1,2.5\n")
    assert bad(["train", "--dataset", "data.csv", *FAST]) == (
        "data.csv: line 3 column 2 is 2.5; expected a target from 0 to 1 (the output layer "
        "is a sigmoid)"
    )


def test_inline_targets_outside_the_sigmoids_range_are_refused() -> None:
    assert bad(inline("[[0], [1]]", "[[0], [-1]]")) == (
        "bad.yaml: key 'dataset' targets row 2 column 1 is -1; expected a target from 0 to 1 "
        "(the output layer is a sigmoid)"
    )
