"""The batched engine: gradients, initialisation, batch independence, no warnings."""

from __future__ import annotations

import itertools
import math
import warnings
from pathlib import Path

import numpy as np
import pytest

from toynn_cli.analysis import status
from toynn_cli.core import engine, layers, network
from toynn_cli.core.datasets import BUILTIN
from toynn_cli.core.network import NetworkSpec
from toynn_cli.core.reference import train_one


def _random_batch(sizes, batch, seed):
    rng = np.random.RandomState(seed)
    return [rng.uniform(-2, 2, (a, b, batch)) for a, b in itertools.pairwise(sizes)]


@pytest.mark.parametrize("sizes", [[2, 1], [3, 4, 1], [3, 5, 2], [4, 3, 3]])
def test_gradients_match_central_finite_differences(sizes):
    rng = np.random.RandomState(7)
    x = rng.uniform(-1, 1, (6, sizes[0]))
    y = rng.uniform(0, 1, (6, sizes[-1]))
    weights = _random_batch(sizes, batch=3, seed=1)
    _, grads = layers.loss_and_gradients(x, y, weights)
    eps = 1e-6
    for k, w in enumerate(weights):
        numeric = np.zeros_like(w)
        for index in np.ndindex(*w.shape):
            saved = w[index]
            w[index] = saved + eps
            plus, _ = layers.loss_and_gradients(x, y, weights)
            w[index] = saved - eps
            minus, _ = layers.loss_and_gradients(x, y, weights)
            w[index] = saved
            numeric[index] = (plus[index[-1]] - minus[index[-1]]) / (2 * eps)
        np.testing.assert_allclose(grads[k], numeric, rtol=1e-6, atol=1e-9)


def test_initial_weights_are_what_the_tutorials_global_seed_draws():
    np.random.seed(1)
    w0 = 2 * np.random.random((3, 4)) - 1
    w1 = 2 * np.random.random((4, 1)) - 1
    mine = network.initial_weights(1, [3, 4, 1])
    np.testing.assert_array_equal(mine[0], w0)
    np.testing.assert_array_equal(mine[1], w1)


def test_initial_weights_do_not_touch_the_global_generator():
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    network.initial_weights(5, [3, 4, 1])
    np.testing.assert_array_equal(np.random.get_state()[1], before)


@pytest.mark.slow
def test_no_hidden_layer_is_one_weight_matrix():
    data = BUILTIN["first-column"]
    (result,) = engine.train(data.x, data.y, [NetworkSpec(1.0, 0, 1)], 10000, 1000)
    assert [w.shape for w in result.weights] == [(2, 1)]
    assert result.final_error < 0.01
    loop = train_one(data.x, data.y, result.spec, 10000, 1000)
    np.testing.assert_allclose(result.checkpoint_errors, loop.checkpoint_errors, rtol=1e-12)


def test_shapes_and_records():
    data = BUILTIN["xor"]
    (r,) = engine.train(data.x, data.y, [NetworkSpec(0.5, 4, 1)], 25, 10)
    assert r.checkpoint_iterations.tolist() == [0, 10, 20]
    assert [w.shape for w in r.weights] == [(3, 4), (4, 1)]
    assert [c.shape for c in r.direction_changes] == [(3, 4), (4, 1)]
    assert all(
        c.dtype.kind == "i" and (c >= 0).all() and (c <= 24).all() for c in r.direction_changes
    )
    assert r.outputs.shape == (4, 1)
    assert r.history_iterations.tolist() == list(range(25))
    assert r.history_errors[0] == r.checkpoint_errors[0]


def _assert_identical(a: network.NetworkResult, b: network.NetworkResult) -> None:
    assert a.spec == b.spec
    np.testing.assert_array_equal(a.checkpoint_errors, b.checkpoint_errors, strict=True)
    np.testing.assert_array_equal(a.history_errors, b.history_errors, strict=True)
    assert a.final_error == b.final_error or (
        math.isnan(a.final_error) and math.isnan(b.final_error)
    )
    for name in ("weights", "weights_initial", "direction_changes"):
        for x, y in zip(getattr(a, name), getattr(b, name), strict=True):
            assert x.tobytes() == y.tobytes(), name
    assert a.outputs.tobytes() == b.outputs.tobytes()


@pytest.mark.slow
def test_batch_independence_alone_versus_a_large_mixed_sweep():
    """A network's results are bit-identical alone and inside any sweep."""
    data = BUILTIN["xor"]
    alphas = [0.001, 0.03, 0.5, 2.0, 10.0, 100.0, 1000.0, 1e6]
    sweep = [NetworkSpec(a, h, s) for h in (0, 1, 4, 7, 32) for a in alphas for s in range(6)]
    big = engine.train(data.x, data.y, sweep, 3000, 700)
    rng = np.random.RandomState(0)
    for i in rng.choice(len(sweep), size=12, replace=False):
        (alone,) = engine.train(data.x, data.y, [sweep[i]], 3000, 700)
        _assert_identical(alone, big[i])
    # ... and inside a different, smaller batch in another order
    others = [sweep[i] for i in (40, 3, 200, 41)]
    small = engine.train(data.x, data.y, others, 3000, 700)
    for spec, result in zip(others, small, strict=True):
        _assert_identical(result, big[sweep.index(spec)])


def test_groups_are_trained_by_hidden_size_in_order_of_appearance():
    specs = [NetworkSpec(1, 4, 1), NetworkSpec(1, 2, 1), NetworkSpec(2, 4, 1)]
    assert engine.group_by_layout(specs) == [[0, 2], [1]]


def test_progress_reaches_the_total():
    data = BUILTIN["xor"]
    calls = []
    specs = [NetworkSpec(1, 4, 1), NetworkSpec(1, 2, 1)]
    engine.train(data.x, data.y, specs, 500, 100, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (1000, 1000)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


@pytest.mark.parametrize("alpha", [1000.0, 1e6, 1e300])
def test_huge_alphas_train_silently_and_are_labelled_diverged(alpha):
    data = BUILTIN["xor"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (result,) = engine.train(data.x, data.y, [NetworkSpec(alpha, 4, 1)], 2000, 500)
    assert status.classify(result) == "diverged"


def test_engine_imports_no_ui_or_config_libraries():
    import re

    source = Path(engine.__file__).read_text(encoding="utf-8")
    imports = re.findall(r"^\s*(?:import|from)\s+(\w+)", source, flags=re.M)
    # toynn_cli: only its core (tests/test_layout.py checks the direction)
    assert set(imports) <= {
        "__future__",
        "collections",
        "dataclasses",
        "itertools",
        "numpy",
        "toynn_cli",
    }
    assert not re.search(r"\bprint\(", source)


def test_every_engines_train_has_the_train_fn_signature():
    """The registry's engines all take what :class:`engines.TrainFn` says (the executor
    calls them positionally): the same parameters, in order, with the same defaults."""
    import inspect

    from toynn_cli.core import engines

    def parameters(fn):
        return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]

    want = parameters(engines.TrainFn.__call__)[1:]  # without self
    for name, entry in engines.REGISTRY.items():
        assert parameters(entry.train) == want, name


def test_distinct_settings_and_layout_keys_look_at_each_setting_once():
    specs = [NetworkSpec(a, 4, s) for a in (0.1, 1.0) for s in range(3)]
    specs += [NetworkSpec(0.1, 4, 0, "adam"), NetworkSpec(0.1, 4, 0, "sgd", (("momentum", 1),))]
    specs += [NetworkSpec(0.1, 4, 0, "sgd", (("momentum", 1.0),))]  # equal to the one before
    assert network.distinct(specs) == [specs[0], specs[6], specs[7]]
    assert network.layout_keys(specs) == [network.layout_key(s) for s in specs]
    assert len(set(network.layout_keys(specs))) == 3


@pytest.mark.parametrize("sizes", [(3, 4, 1), (2, 1), (3, 8, 4, 1), (5, 32, 3)])
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("init", ["uniform", "xavier", "he"])
def test_initial_weights_are_the_tutorials_draws_layer_by_layer(sizes, bias, init):
    """One draw for all layers gives what a script drawing layer by layer gets."""
    for seed in (0, 1, 4, 99991):
        rng = np.random.RandomState(seed)
        for (n_in, n_out), got in zip(
            itertools.pairwise(sizes), network.initial_weights(seed, sizes, bias, init)
        ):
            want = 2 * rng.random((n_in + bias, n_out)) - 1
            scale = {
                "uniform": 1.0,
                "xavier": np.sqrt(6.0 / (n_in + n_out)),
                "he": np.sqrt(6.0 / n_in),
            }
            if init != "uniform":
                want *= scale[init]
            assert got.shape == want.shape and got.tobytes() == want.tobytes()


@pytest.mark.parametrize("sizes", [(3, 4, 1), (2, 1), (3, 8, 4, 1)])
@pytest.mark.parametrize("bias", [False, True])
def test_a_batchs_initial_weight_rows_are_each_networks_initial_weights(sizes, bias):
    # seeds repeated (drawn once), inits mixed in one batch, rows in the batch's order
    specs = [
        NetworkSpec(alpha, 4, seed, init=init)
        for alpha in (0.1, 10.0)
        for seed, init in ((7, "uniform"), (0, "xavier"), (7, "he"), (99991, "uniform"))
    ]
    rows = network.initial_weight_rows(specs, sizes, bias)
    params = sum((a + bias) * b for a, b in itertools.pairwise(sizes))
    assert rows.shape == (len(specs), params)
    layers = network.weight_layers(rows, sizes, bias)
    assert [w.shape for w in layers] == [
        (len(specs), a + bias, b) for a, b in itertools.pairwise(sizes)
    ]
    for i, spec in enumerate(specs):
        want = network.initial_weights(spec.seed, sizes, bias, spec.init)
        assert [w[i].tobytes() for w in layers] == [w.tobytes() for w in want]
