"""Architecture options: bias units, several hidden layers, hidden activations, the
cross-entropy loss and Xavier/He initialisation, in the batched engine."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

from tests.test_engine import _assert_identical
from toynn_cli import engine
from toynn_cli.datasets import BUILTIN
from toynn_cli.engine import NetworkSpec


def _random_batch(sizes, batch, seed, bias):
    rng = np.random.RandomState(seed)
    return [
        rng.uniform(-2, 2, (a + 1 if bias else a, b, batch)) for a, b in itertools.pairwise(sizes)
    ]


@pytest.mark.parametrize("loss", engine.LOSSES)
@pytest.mark.parametrize("activation", engine.ACTIVATIONS)
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("sizes", [[2, 1], [3, 4, 1], [3, 5, 2], [3, 4, 3, 2], [2, 3, 4, 3, 1]])
def test_gradients_match_central_finite_differences(sizes, bias, activation, loss):
    rng = np.random.RandomState(7)
    x = rng.uniform(-1, 1, (6, sizes[0]))
    y = rng.uniform(0, 1, (6, sizes[-1]))
    weights = _random_batch(sizes, batch=3, seed=1, bias=bias)
    options = {"bias": bias, "activation": activation, "loss": loss}
    _, grads = engine.loss_and_gradients(x, y, weights, **options)
    eps = 1e-6
    for k, w in enumerate(weights):
        numeric = np.zeros_like(w)
        for index in np.ndindex(*w.shape):
            saved = w[index]
            w[index] = saved + eps
            plus, _ = engine.loss_and_gradients(x, y, weights, **options)
            w[index] = saved - eps
            minus, _ = engine.loss_and_gradients(x, y, weights, **options)
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


@pytest.mark.parametrize("activation", engine.ACTIVATIONS)
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


@pytest.mark.parametrize("init", engine.INITS)
def test_initialisation_bounds_and_same_draws(init):
    w = engine.initial_weights(3, [3, 8, 1], bias=True, init=init)
    plain = engine.initial_weights(3, [3, 8, 1], bias=True)
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


def test_cross_entropy_learns_xor():
    data = BUILTIN["xor"]
    (r,) = engine.train(data.x, data.y, [NetworkSpec(0.5, 4, 1, loss="cross_entropy")], 5000, 1000)
    assert r.final_error < 0.02


def test_batch_independence_across_architectures():
    """Bit-identical alone and in a sweep mixing layers, bias, activations, losses, inits."""
    data = BUILTIN["xor"]
    sweep = [
        NetworkSpec(a, h, s, opt, (), bias, act, loss, init)
        for opt in ("sgd", "adam")
        for h in (0, 3, (4, 3))
        for bias in (False, True)
        for act in engine.ACTIVATIONS
        for loss in engine.LOSSES
        for init in engine.INITS
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
