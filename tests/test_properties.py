"""Hostile input, generated: whatever text or structure arrives, the only outcomes are
a valid experiment or toynn's own one-line error (exit 2)."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from toynn_cli import axes, config
from toynn_cli.cli import cli
from toynn_cli.config import Experiment, grid
from toynn_cli.core import datasets

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
GRAMMAR_TEXT = st.text(alphabet="0123456789.,:-+e ena_xX", max_size=30) | st.text(max_size=30)

# YAML-ish values: scalars, lists and mappings, nested
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
KEYS = st.sampled_from([*axes.CONFIG_KEYS, "optimizer", "Alpha", "iteration"])
configs = st.dictionaries(KEYS, values, max_size=6) | values


@SETTINGS
@given(GRAMMAR_TEXT)
@example("0\n0,0")  # found by CI: a newline inside an item was quoted as is
def test_float_grammar_gives_finite_floats_or_its_own_error(text):
    try:
        parsed = grid.parse_floats(text)
    except grid.GrammarError as exc:
        assert "\n" not in str(exc) and str(exc)
        return
    assert parsed and all(isinstance(v, float) and math.isfinite(v) for v in parsed)
    assert len(set(parsed)) == len(parsed)


@SETTINGS
@given(GRAMMAR_TEXT)
def test_int_grammar_gives_ints_or_its_own_error(text):
    try:
        parsed = grid.parse_ints(text)
    except grid.GrammarError as exc:
        assert "\n" not in str(exc) and str(exc)
        return
    assert parsed and all(isinstance(v, int) for v in parsed)


def _resolve(text: str) -> Experiment | None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            return config.resolve(path, {}, config.TUTORIAL_SWEEP)
        except config.ConfigError as exc:
            assert "\n" not in str(exc) and str(exc)
            return None


@SETTINGS
@given(st.text(max_size=200))
def test_config_text_is_an_experiment_or_a_config_error(text):
    experiment = _resolve(text)
    if experiment is not None:
        assert experiment.iterations > 0 and experiment.log_every > 0
        assert all(a > 0 and math.isfinite(a) for a in experiment.alphas)


@pytest.mark.slow
@SETTINGS
@given(configs)
def test_config_structures_are_an_experiment_or_a_config_error(raw):
    experiment = _resolve(yaml.safe_dump(raw))
    if experiment is not None:
        assert _resolve(config.dump(experiment)) == experiment  # and it round-trips


@SETTINGS
@given(st.text(max_size=300))
def test_csv_text_is_a_dataset_or_a_data_error(text):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "d.csv"
        path.write_text(text, encoding="utf-8")
        try:
            data = datasets.load_csv(path)
        except datasets.DataError as exc:
            assert "\n" not in str(exc) and str(exc)
            return
    assert len(data.inputs) == len(data.targets) > 0
    assert all(math.isfinite(v) for row in data.inputs + data.targets for v in row)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs)
def test_the_command_line_exits_0_or_2_with_one_line(raw):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.yaml"
        path.write_text(yaml.safe_dump(raw), encoding="utf-8")
        result = CliRunner().invoke(
            cli, ["sweep", "--config", str(path), "--dry-run", "--rows", "1"]
        )
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code in (0, 2)
    if result.exit_code == 2:
        assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
