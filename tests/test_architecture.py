"""Architecture options: bias units, several hidden layers, hidden activations, the
cross-entropy loss and Xavier/He initialisation, in the batched engine."""

from __future__ import annotations

import io
import itertools
import json
import warnings

import numpy as np
import pytest

from tests.test_engine import _assert_identical
from toynn_cli import config
from toynn_cli.config import TUTORIAL, ConfigError, grid, resolve
from toynn_cli.core import engine, layers, network
from toynn_cli.core.datasets import BUILTIN
from toynn_cli.core.network import NetworkSpec
from toynn_cli.store import metrics, results


def _random_batch(sizes, batch, seed, bias):
    rng = np.random.RandomState(seed)
    return [
        rng.uniform(-2, 2, (a + 1 if bias else a, b, batch)) for a, b in itertools.pairwise(sizes)
    ]


@pytest.mark.parametrize("loss", network.LOSSES)
@pytest.mark.parametrize("activation", network.ACTIVATIONS)
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("sizes", [[2, 1], [3, 4, 1], [3, 5, 2], [3, 4, 3, 2], [2, 3, 4, 3, 1]])
def test_gradients_match_central_finite_differences(sizes, bias, activation, loss):
    rng = np.random.RandomState(7)
    x = rng.uniform(-1, 1, (6, sizes[0]))
    y = rng.uniform(0, 1, (6, sizes[-1]))
    weights = _random_batch(sizes, batch=3, seed=1, bias=bias)
    options = {"bias": bias, "activation": activation, "loss": loss}
    _, grads = layers.loss_and_gradients(x, y, weights, **options)
    eps = 1e-6
    for k, w in enumerate(weights):
        numeric = np.zeros_like(w)
        for index in np.ndindex(*w.shape):
            saved = w[index]
            w[index] = saved + eps
            plus, _ = layers.loss_and_gradients(x, y, weights, **options)
            w[index] = saved - eps
            minus, _ = layers.loss_and_gradients(x, y, weights, **options)
            w[index] = saved
            numeric[index] = (plus[index[-1]] - minus[index[-1]]) / (2 * eps)
        np.testing.assert_allclose(grads[k], numeric, rtol=1e-6, atol=1e-8)


def _forward_by_hand(x, weights, bias, activation):
    """The network's output with plain NumPy matrix products."""
    f = {
        "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
        "tanh": np.tanh,
        "relu": lambda z: np.maximum(z, 0),
        "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    }[activation]
    a = x
    for k, w in enumerate(weights):
        if bias:
            a = np.hstack([a, np.ones((a.shape[0], 1))])
        z = a @ w
        a = 1 / (1 + np.exp(-z)) if k == len(weights) - 1 else f(z)
    return a


@pytest.mark.parametrize("activation", network.ACTIVATIONS)
@pytest.mark.parametrize("bias", [False, True])
def test_forward_is_the_plain_matrix_network(bias, activation):
    data = BUILTIN["xor"]
    spec = NetworkSpec(0.5, (5, 3), 2, bias=bias, activation=activation)
    (r,) = engine.train(data.x, data.y, [spec], 1, 1)
    expected = _forward_by_hand(data.x, r.weights_initial, bias, activation)
    np.testing.assert_allclose(r.checkpoint_errors[0], np.abs(expected - data.y).mean(), 1e-13)


def test_bias_and_layers_give_the_weight_shapes():
    data = BUILTIN["xor"]
    spec = NetworkSpec(0.5, (8, 4), 1, bias=True)
    (r,) = engine.train(data.x, data.y, [spec], 5, 5)
    assert [w.shape for w in r.weights] == [(4, 8), (9, 4), (5, 1)]
    assert [c.shape for c in r.direction_changes] == [(4, 8), (9, 4), (5, 1)]


@pytest.mark.slow
def test_a_bias_unit_frees_the_output_at_the_origin():
    """AND of two inputs with no hidden layer and no constant input: without a bias the
    output for (0, 0) is sigmoid(0) = 0.5 whatever the weights; with one it learns."""
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = np.array([[0], [0], [0], [1]], dtype=float)
    (with_bias,) = engine.train(x, y, [NetworkSpec(1.0, 0, 1, bias=True)], 20000, 5000)
    assert with_bias.final_error < 0.05
    (without,) = engine.train(x, y, [NetworkSpec(1.0, 0, 1)], 20000, 5000)
    assert without.outputs[0, 0] == 0.5
    assert without.final_error > 0.125


@pytest.mark.parametrize("init", network.INITS)
def test_initialisation_bounds_and_same_draws(init):
    w = network.initial_weights(3, [3, 8, 1], bias=True, init=init)
    plain = network.initial_weights(3, [3, 8, 1], bias=True)
    limits = {
        "uniform": [1.0, 1.0],
        "xavier": [np.sqrt(6 / 11), np.sqrt(6 / 9)],
        "he": [np.sqrt(6 / 3), np.sqrt(6 / 8)],
    }[init]
    for m, p, limit in zip(w, plain, limits, strict=True):
        assert np.abs(m).max() < limit
        np.testing.assert_allclose(m, p * limit, rtol=1e-15)  # the same generator draws


def test_the_tutorials_defaults_are_unchanged():
    data = BUILTIN["xor"]
    default, explicit = engine.train(
        data.x,
        data.y,
        [
            NetworkSpec(0.5, 4, 1),
            NetworkSpec(0.5, (4,), 1, bias=False, activation="sigmoid", loss="squared"),
        ],
        300,
        100,
    )
    for a, b in zip(default.weights, explicit.weights, strict=True):
        assert a.tobytes() == b.tobytes()


@pytest.mark.slow
def test_cross_entropy_learns_xor():
    data = BUILTIN["xor"]
    (r,) = engine.train(data.x, data.y, [NetworkSpec(0.5, 4, 1, loss="cross_entropy")], 5000, 1000)
    assert r.final_error < 0.02


@pytest.mark.slow
def test_batch_independence_across_architectures():
    """Bit-identical alone and in a sweep mixing layers, bias, activations, losses, inits."""
    data = BUILTIN["xor"]
    sweep = [
        NetworkSpec(a, h, s, opt, (), bias, act, loss, init)
        for opt in ("sgd", "adam")
        for h in (0, 3, (4, 3))
        for bias in (False, True)
        for act in network.ACTIVATIONS
        for loss in network.LOSSES
        for init in network.INITS
        for a in (0.05, 5.0)
        for s in (1, 2)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        big = engine.train(data.x, data.y, sweep, 120, 40)
    # init is not part of the layout: networks that differ only in it share a batch
    assert len(engine.group_by_layout(sweep)) == 2 * 3 * 2 * 4 * 2
    rng = np.random.RandomState(2)
    for i in rng.choice(len(sweep), size=25, replace=False):
        (alone,) = engine.train(data.x, data.y, [sweep[i]], 120, 40)
        _assert_identical(alone, big[i])


# --- config, command line, JSON ------------------------------------------------------------


def test_hidden_grammar_layer_lists():
    assert grid.parse_hidden("4,8x4,1..2,16x8x4") == (4, (8, 4), 1, 2, (16, 8, 4))
    assert grid.parse_hidden("0") == (0,)
    for text, message in (
        ("8x", "expected layer sizes like 8x4 (at most 16 layers)"),
        ("8x4,8x4", "expected each value once; 8x4 is repeated"),
        ("8xa", "expected a whole number in a layer list, not 'a'"),
    ):
        with pytest.raises(grid.GrammarError) as info:
            grid.parse_hidden(text)
        assert str(info.value) == message


def test_architecture_axes_from_yaml_and_round_trip(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "hidden: [4, [8, 4], '16x8']\nbias: [false, true]\nactivations: [tanh, relu]\n"
        "loss: cross_entropy\ninits: [xavier, he]\nalpha: 0.1\n"
    )
    exp = resolve(path, {}, TUTORIAL)
    assert exp.hidden == (4, (8, 4), (16, 8))
    assert exp.swept_axes() == {"hidden": 3, "bias": 2, "activations": 2, "inits": 2}
    specs = exp.networks()
    assert len(specs) == 3 * 2 * 2 * 2
    assert specs[1] == NetworkSpec(0.1, 4, 1, bias=False, activation="tanh",
                                   loss="cross_entropy", init="he")  # fmt: skip
    again = tmp_path / "again.yaml"
    again.write_text(config.dump(exp))
    assert "hidden:\n- 4\n- 8x4\n- 16x8\n" in again.read_text()
    assert resolve(again, {}, TUTORIAL) == exp
    # a top-level list stays a sweep of one-layer networks, as before
    path.write_text("hidden: [8, 4]\n")
    assert resolve(path, {}, TUTORIAL).hidden == (8, 4)


def test_defaults_are_the_tutorials_and_not_dumped():
    exp = resolve(None, {}, TUTORIAL)
    assert exp.architectures() == [
        {
            "bias": False, "activation": "sigmoid", "loss": "squared", "init": "uniform",
            "clip_value": 0.0, "clip_norm": 0.0, "schedule": "constant", "schedule_params": (),
            "target_error": 0.0, "batch_size": 0, "dropout": 0.0,
            "batch_norm": False,
        }
    ]  # fmt: skip
    assert exp.networks() == [NetworkSpec(0.5, 4, 1)]
    assert set(config.as_dict(exp)) == {
        "name", "dataset", "hidden", "alphas", "iterations", "seeds", "log_every",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"hidden": "8x0"}, "option --hidden is '8x0'; expected a layer list of 1 to 16 sizes, "
         "each a whole number from 1 to 100000, with at most 1000000 weights between hidden "
         "layers"),
        ({"hidden": "2000x2000"}, "option --hidden is '2000x2000'; expected a layer list of 1 to "
         "16 sizes, each a whole number from 1 to 100000, with at most 1000000 weights between "
         "hidden layers"),
        ({"bias": "maybe"}, "option --bias is 'maybe'; expected true, false, or both: "
         "[false, true]"),
        ({"bias": "true,true"}, "option --bias is 'true,true'; expected true, false, or both: "
         "[false, true], each once"),
        ({"activations": "relux"}, "option --activations is 'relux'; expected an activation: "
         "sigmoid, tanh, relu, leaky_relu (did you mean 'relu'?)"),
        ({"losses": "mse"}, "option --losses is 'mse'; expected a loss: squared, cross_entropy"),
        ({"inits": "he,he"}, "option --inits is 'he,he'; expected each initialisation once; he "
         "is repeated"),
    ],
)  # fmt: skip
def test_bad_architecture_values_are_one_line_errors(overrides, message):
    with pytest.raises(ConfigError) as info:
        resolve(None, overrides, TUTORIAL)
    assert str(info.value) == message


def test_cli_sweep_mixes_everything_and_json_records_every_setting():
    from click.testing import CliRunner

    from toynn_cli.cli import cli

    result = CliRunner().invoke(cli, [
        "sweep", "--hidden", "3,4x3", "--bias", "true", "--activations", "tanh,leaky_relu",
        "--loss", "cross_entropy", "--init", "he", "--optimizers", "sgd,adam", "--alphas",
        "0.1", "--iterations", "100", "--log-every", "50", "--no-save", "--json",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    nets = json.loads(result.stdout)["networks"]
    assert len(nets) == 2 * 2 * 2
    last = nets[-1]
    assert {k: last[k] for k in ("hidden", "hidden_layers", "bias", "activation", "loss",
                                 "init", "optimizer")} == {
        "hidden": [4, 3], "hidden_layers": [4, 3], "bias": True, "activation": "leaky_relu",
        "loss": "cross_entropy", "init": "he", "optimizer": "adam",
    }  # fmt: skip
    assert [np.array(w).shape for w in last["weights"]] == [(4, 4), (5, 3), (4, 1)]
    spec = NetworkSpec(0.1, (4, 3), 1, "adam", (), True, "leaky_relu", "cross_entropy", "he")
    (alone,) = engine.train(BUILTIN["xor"].x, BUILTIN["xor"].y, [spec], 100, 50)
    assert last["final_error"] == alone.final_error


def test_metrics_and_npz_write_layer_lists_as_text():
    data = BUILTIN["xor"]
    rs = engine.train(data.x, data.y, [NetworkSpec(0.5, 4, 1), NetworkSpec(0.5, (3, 2), 1)], 4, 2)
    rows = metrics.metrics_csv(rs).splitlines()
    assert rows[1].split(",")[2] == "4" and rows[-1].split(",")[2] == "3x2"
    archive = np.load(io.BytesIO(results.weights_npz(rs)))
    assert archive["hidden"].tolist() == ["4", "3x2"]
