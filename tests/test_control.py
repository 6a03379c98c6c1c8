"""Regularisation and control: gradient clipping, learning-rate schedules, early
stopping (L2 weight decay is every optimizer's ``weight_decay``, see test_optim)."""

from __future__ import annotations

import itertools
import json
import math
import warnings

import numpy as np
import pytest

from tests.test_engine import _assert_identical
from toynn_cli import config
from toynn_cli.config import TUTORIAL, ConfigError, resolve
from toynn_cli.core import engine, layers, network
from toynn_cli.core.datasets import BUILTIN
from toynn_cli.core.network import NetworkSpec

XOR = BUILTIN["xor"]


def _replay(spec: NetworkSpec, steps: int, transform) -> list[np.ndarray]:
    """Plain gradient descent by hand, g -> transform(g, j) before each step."""
    weights = [w[..., None].copy() for w in network.initial_weights(spec.seed, [3, spec.hidden, 1])]
    for j in range(steps):
        _, grads = layers.loss_and_gradients(XOR.x, XOR.y, weights)
        for w, g in zip(weights, transform(grads, j), strict=True):
            w -= g
    return [w[..., 0] for w in weights]


def test_clip_value_clamps_each_gradient_element():
    spec = NetworkSpec(10.0, 4, 1, clip_value=0.01)
    (r,) = engine.train(XOR.x, XOR.y, [spec], 20, 10)
    expected = _replay(spec, 20, lambda gs, j: [10.0 * np.clip(g, -0.01, 0.01) for g in gs])
    for mine, theirs in zip(r.weights, expected, strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-13, atol=1e-15)
    (unclipped,) = engine.train(XOR.x, XOR.y, [NetworkSpec(10.0, 4, 1)], 20, 10)
    assert not np.allclose(unclipped.weights[0], r.weights[0])


def test_clip_norm_scales_the_whole_gradient():
    def clip(grads, j):
        norm = math.sqrt(sum(float((g**2).sum()) for g in grads))
        coef = min(1.0, 0.05 / (norm + 1e-6))
        return [10.0 * g * coef for g in grads]

    spec = NetworkSpec(10.0, 4, 1, clip_norm=0.05)
    (r,) = engine.train(XOR.x, XOR.y, [spec], 20, 10)
    for mine, theirs in zip(r.weights, _replay(spec, 20, clip), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    ("schedule", "params", "factors"),
    [
        ("constant", {}, [1, 1, 1, 1, 1]),
        ("step", {"step_size": 2, "gamma": 0.5}, [1, 1, 0.5, 0.5, 0.25]),
        ("exponential", {"gamma": 0.9}, [1, 0.9, 0.81, 0.729, 0.6561]),
        ("cosine", {"t_max": 4, "eta_min": 0.0}, [1, 0.8535533905932737, 0.5, 0.1464466094067262, 0]),
    ],
)  # fmt: skip
def test_learning_rate_schedules(schedule, params, factors):
    full = {**network.SCHEDULES[schedule], **params}
    got = [
        float(network.learning_rates(np.array([2.0]), schedule, full, j, 100)[0]) for j in range(5)
    ]
    np.testing.assert_allclose(got, [2 * f for f in factors], rtol=1e-15, atol=1e-15)


def test_cosine_ends_at_eta_min_over_the_run_by_default():
    full = network.SCHEDULES["cosine"]
    assert (
        network.learning_rates(np.array([1.0]), "cosine", {**full, "eta_min": 0.1}, 50, 50)[0]
        == 0.1
    )


def test_a_schedule_steps_as_by_hand():
    spec = NetworkSpec(
        1.0, 4, 1, schedule="step", schedule_params=(("step_size", 3), ("gamma", 0.5))
    )
    (r,) = engine.train(XOR.x, XOR.y, [spec], 10, 5)
    expected = _replay(spec, 10, lambda gs, j: [0.5 ** (j // 3) * g for g in gs])
    for mine, theirs in zip(r.weights, expected, strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-13, atol=1e-15)


@pytest.mark.slow
def test_early_stopping_records_the_iteration_and_freezes_the_weights():
    (free,) = engine.train(XOR.x, XOR.y, [NetworkSpec(10.0, 4, 1)], 2000, 1)
    target = 0.05
    first = int(np.argmax(free.checkpoint_errors <= target))
    spec = NetworkSpec(10.0, 4, 1, target_error=target)
    stopped, other = engine.train(
        XOR.x, XOR.y, [spec, NetworkSpec(0.001, 4, 1, target_error=target)], 2000, 500
    )
    assert stopped.stopped_at == first
    assert other.stopped_at is None
    # its weights are those after `first` updates, bit for bit
    (short,) = engine.train(XOR.x, XOR.y, [NetworkSpec(10.0, 4, 1)], first, 1)
    for a, b in zip(stopped.weights, short.weights, strict=True):
        assert a.tobytes() == b.tobytes()
    assert stopped.final_error == short.final_error
    assert stopped.final_error <= target
    assert stopped.checkpoint_errors[-1] == stopped.final_error


def test_when_every_network_stops_the_rest_is_filled_in():
    specs = [NetworkSpec(a, 4, 1, target_error=0.1) for a in (1.0, 10.0)]
    fast = engine.train(XOR.x, XOR.y, specs, 100000, 10000)
    assert all(r.stopped_at is not None and r.stopped_at < 10000 for r in fast)
    for r in fast:
        assert (r.checkpoint_errors[1:] == r.final_error).all()
        assert r.history_errors[-1] == r.final_error


@pytest.mark.slow
def test_batch_independence_across_control_options():
    sweep = [
        NetworkSpec(a, 3, s, opt, (), clip_value=cv, clip_norm=cn, schedule=sch, target_error=te)
        for opt in ("sgd", "momentum")
        for cv in (0.0, 0.05)
        for cn in (0.0, 0.1)
        for sch in ("constant", "cosine")
        for te in (0.0, 0.3)
        for a in (0.5, 20.0)
        for s in (1, 2)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        big = engine.train(XOR.x, XOR.y, sweep, 300, 100)
    rng = np.random.RandomState(3)
    for i in rng.choice(len(sweep), size=16, replace=False):
        (alone,) = engine.train(XOR.x, XOR.y, [sweep[i]], 300, 100)
        _assert_identical(alone, big[i])
        assert alone.stopped_at == big[i].stopped_at


def test_weight_decay_is_l2():
    """weight_decay adds weight_decay * W to the gradient: the gradient of
    0.5 * weight_decay * sum(W**2)."""
    spec = NetworkSpec(0.5, 4, 1, "sgd", (("weight_decay", 0.1),))
    (r,) = engine.train(XOR.x, XOR.y, [spec], 5, 5)
    weights = [w[..., None].copy() for w in r.weights_initial]
    for _ in range(5):
        _, grads = layers.loss_and_gradients(XOR.x, XOR.y, weights)
        for w, g in zip(weights, grads, strict=True):
            w -= 0.5 * (g + 0.1 * w)
    for mine, theirs in zip(r.weights, weights, strict=True):
        np.testing.assert_allclose(mine, theirs[..., 0], rtol=1e-14, atol=1e-15)


# --- config and command line --------------------------------------------------------------


def test_control_axes_and_round_trip(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "clip_value: [0, 0.5]\nclip_norm: 1\nschedules: [constant, step]\n"
        "schedule_params: {step_size: 100, gamma: 0.5}\ntarget_error: 0.01\n"
    )
    exp = resolve(path, {}, TUTORIAL)
    assert exp.swept_axes() == {"clip_value": 2, "schedules": 2}
    specs = exp.networks()
    assert len(specs) == 4
    assert specs[1].schedule == "step"
    assert dict(specs[1].schedule_params) == {"step_size": 100, "gamma": 0.5}
    assert specs[0].schedule_params == ()
    assert {s.target_error for s in specs} == {0.01}
    again = tmp_path / "again.yaml"
    again.write_text(config.dump(exp))
    assert resolve(again, {}, TUTORIAL) == exp


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"clip_value": "-1"}, "option --clip-value is '-1'; expected a finite number >= 0 (0: off)"),
        ({"clip_norm": "x"}, "option --clip-norm is 'x'; expected a number, a comma list or a range A..B"),
        ({"target_error": "nan"}, "option --target-error is 'nan'; expected a finite number, a comma list or a range A..B"),
        ({"schedules": "linear"}, "option --schedules is 'linear'; expected a schedule: constant, step, exponential, cosine"),
        ({"schedules": "step", "schedule_params": "{gamma: 2}"}, "option --schedule-params key 'gamma' is 2; expected a number > 0 and <= 1"),
        ({"schedules": "step", "schedule_params": "{step_size: 0}"}, "option --schedule-params key 'step_size' is 0; expected a whole number from 1 to 1000000000000"),
        ({"schedules": "step", "schedule_params": "{eta_min: 0.1}"}, "option --schedule-params (schedules step): unknown key 'eta_min'; expected one of: step_size, gamma"),
        ({"schedule_params": "{gamma: 0.5}"}, "option --schedule-params (schedules constant): unknown key 'gamma'; expected no parameters for these schedules"),
        ({"schedule_params": "7"}, "option --schedule-params is '7'; expected a mapping like '{step_size: 1000, gamma: 0.5}'"),
    ],
)  # fmt: skip
def test_bad_control_values_are_one_line_errors(overrides, message):
    with pytest.raises(ConfigError) as info:
        resolve(None, overrides, TUTORIAL)
    assert str(info.value) == message


def test_cli_early_stopping_in_json_and_table():
    from click.testing import CliRunner

    from toynn_cli.cli import cli

    args = ["sweep", "--alphas", "1,10", "--target-error", "0.05", "--iterations", "3000",
            "--log-every", "1000", "--no-save"]  # fmt: skip
    doc = json.loads(CliRunner().invoke(cli, [*args, "--json"]).stdout)
    stops = [n["stopped_at"] for n in doc["networks"]]
    assert all(isinstance(s, int) for s in stops) and stops[1] < stops[0]
    assert doc["networks"][0]["target_error"] == 0.05
    table = CliRunner().invoke(cli, args).stdout
    assert "stopped at" in table and str(stops[1]) in table


def test_chunk_files_keep_every_setting_and_the_stop(tmp_path):
    """Run folders store trained chunks as .npz (no pickles): layer lists, optimizer and
    schedule parameters and stopped_at come back as they were."""
    from toynn_cli.run import executor
    from toynn_cli.store import chunks

    specs = [
        NetworkSpec(0.5, (3, 2), s, "adam", (("betas", (0.9, 0.99)),), True, "tanh",
                    "cross_entropy", "he", 0.5, 1.0, "step", (("step_size", 10),), 0.3)
        for s in (1, 2)
    ]  # fmt: skip
    batch = engine.train_batch(XOR.x, XOR.y, specs, 200, 50)
    chunk = executor.ChunkResult(executor.Chunk(0, 0, 2), batch, np.array(["x", "y"]))
    path = tmp_path / "00000.npz"
    path.write_bytes(chunks.chunk_npz(chunk))
    back = chunks.load_chunk(path)
    assert back.batch.specs == specs
    assert back.batch.stopped_at.tolist() == batch.stopped_at.tolist()
    assert [n.stopped_at for n in back.batch.networks()] == [n.stopped_at for n in batch.networks()]


@pytest.mark.slow
def test_resume_a_sweep_with_new_settings(tmp_path):
    """A run folder with optimizers, layer lists and early stopping resumes to the same
    results as the uninterrupted run."""
    from click.testing import CliRunner

    from toynn_cli.cli import cli

    args = ["sweep", "--optimizers", "sgd,adam", "--hidden", "3,3x2", "--target-error", "0.3",
            "--alphas", "0.5", "--iterations", "200", "--log-every", "100", "--out",
            str(tmp_path), "--json", "-q"]  # fmt: skip
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    doc = json.loads(first.stdout)
    run_dir = tmp_path / doc["run_dir"].split("/")[-1]
    chunks = sorted((run_dir / "chunks").glob("*.npz"))
    assert len(chunks) == 4  # one per layout: sgd/adam x 3/3x2
    chunks[-1].unlink()  # as if killed before the last chunk was saved
    status = json.loads((run_dir / "run.json").read_text())
    (run_dir / "run.json").write_text(json.dumps({**status, "status": "interrupted"}))
    again = CliRunner().invoke(cli, ["sweep", "--resume", str(run_dir), "--json", "-q"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["networks"] == doc["networks"]


def test_weight_decay_is_a_sweep_axis(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("optimizers: [sgd, adam]\nalphas: {sgd: 0.5, adam: 0.01}\n"
                    "weight_decay: [0, 0.001]\n")  # fmt: skip
    exp = resolve(path, {}, TUTORIAL)
    assert exp.swept_axes() == {"optimizers": 2, "weight_decay": 2}
    assert [(s.optimizer, s.alpha, s.optimizer_params) for s in exp.networks()] == [
        ("sgd", 0.5, ()),
        ("sgd", 0.5, (("weight_decay", 0.001),)),
        ("adam", 0.01, ()),
        ("adam", 0.01, (("weight_decay", 0.001),)),
    ]
    again = tmp_path / "again.yaml"
    again.write_text(config.dump(exp))
    assert resolve(again, {}, TUTORIAL) == exp
    with pytest.raises(ConfigError) as info:
        resolve(None, {"weight_decay": "0.1", "optimizer_params": "{weight_decay: 0.1}"}, TUTORIAL)
    assert str(info.value) == (
        "option --weight-decay and weight_decay in option --optimizer-params are both given; "
        "expected one of them"
    )


def test_the_example_configs_resolve_and_group():
    root = __import__("pathlib").Path(__file__).parent.parent / "configs"
    for name, groups in (
        ("control.yaml", 8),
        ("weight-decay.yaml", 6),
        ("architecture.yaml", 32),
        ("mini-batches.yaml", 6),
        ("optimizers.yaml", 7),
    ):
        specs = resolve(root / name, {}, TUTORIAL).networks()
        assert len(engine.group_by_layout(specs)) == groups, name


# --- mini-batches ---------------------------------------------------------------------------


@pytest.mark.parametrize("batch_size", [1, 3])
def test_mini_batches_step_as_by_hand(batch_size):
    """Each update: the gradient over the next batch_size samples of the network's own
    shuffle (its RandomState(seed) after the initial draws), a new shuffle per epoch."""
    spec = NetworkSpec(0.5, 3, 4, batch_size=batch_size)
    steps = 9
    (r,) = engine.train(XOR.x, XOR.y, [spec], steps, 3)
    sizes = [3, 3, 1]
    rng = network.shuffle_generator(4, sizes)
    weights = [w[..., None].copy() for w in network.initial_weights(4, sizes)]
    per_epoch = -(-4 // batch_size)
    for j in range(steps):
        if j % per_epoch == 0:
            order = rng.permutation(4)
        part = order[(j % per_epoch) * batch_size : (j % per_epoch + 1) * batch_size]
        _, grads = layers.loss_and_gradients(XOR.x[part], XOR.y[part], weights)
        for w, g in zip(weights, grads, strict=True):
            w -= 0.5 * g
    for mine, theirs in zip(r.weights, weights, strict=True):
        np.testing.assert_allclose(mine, theirs[..., 0], rtol=1e-13, atol=1e-15)


def test_mini_batch_errors_are_over_the_whole_dataset():
    (r,) = engine.train(XOR.x, XOR.y, [NetworkSpec(0.5, 4, 1, batch_size=1)], 10, 5)
    (full,) = engine.train(XOR.x, XOR.y, [NetworkSpec(0.5, 4, 1)], 1, 1)
    assert r.checkpoint_errors[0] == full.checkpoint_errors[0]  # before any update


@pytest.mark.slow
def test_batch_independence_across_batch_sizes_and_seeds():
    sweep = [
        NetworkSpec(a, h, s, opt, batch_size=bs, bias=True)
        for opt in ("sgd", "adam")
        for h in (2, (3, 2))
        for bs in (0, 1, 3)
        for a in (0.1, 5.0)
        for s in (1, 2, 3)
    ]
    big = engine.train(XOR.x, XOR.y, sweep, 200, 50)
    rng = np.random.RandomState(5)
    for i in rng.choice(len(sweep), size=12, replace=False):
        (alone,) = engine.train(XOR.x, XOR.y, [sweep[i]], 200, 50)
        _assert_identical(alone, big[i])


def test_batch_size_config_and_errors(tmp_path):
    exp = resolve(None, {"batch_size": "0..2"}, TUTORIAL)
    assert exp.swept_axes() == {"batch_size": 3}
    assert [s.batch_size for s in exp.networks()] == [0, 1, 2]
    again = tmp_path / "again.yaml"
    again.write_text(config.dump(exp))
    assert resolve(again, {}, TUTORIAL) == exp
    with pytest.raises(ConfigError) as info:
        resolve(None, {"batch_size": "5"}, TUTORIAL)
    assert str(info.value) == (
        "option --batch-size is '5'; expected a whole number from 0 to 4 "
        "(the number of samples; 0: full batch)"
    )


# --- dropout --------------------------------------------------------------------------------


def _sig(z):
    return 1 / (1 + np.exp(-z))


def test_dropout_steps_as_by_hand():
    """Inverted dropout on the hidden layer, masks from the network's generator (after
    its initial draws), the gradient through the kept units only."""
    p, steps = 0.25, 6
    spec = NetworkSpec(0.5, 5, 3, dropout=p)
    (r,) = engine.train(XOR.x, XOR.y, [spec], steps, 3)
    rng = network.shuffle_generator(3, [3, 5, 1])
    w0, w1 = (w.copy() for w in network.initial_weights(3, [3, 5, 1]))
    for _ in range(steps):
        mask = (rng.random_sample((4, 5)) >= p) / (1 - p)
        a1 = _sig(XOR.x @ w0)
        kept = a1 * mask
        out = _sig(kept @ w1)
        d2 = (out - XOR.y) * out * (1 - out)
        d1 = (d2 @ w1.T) * a1 * (1 - a1) * mask
        g1, g0 = kept.T @ d2, XOR.x.T @ d1
        w0 -= 0.5 * g0
        w1 -= 0.5 * g1
    np.testing.assert_allclose(r.weights[0], w0, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(r.weights[1], w1, rtol=1e-13, atol=1e-15)
    # evaluation has no dropout: the outputs and final error of the plain forward pass
    out = _sig(_sig(XOR.x @ w0) @ w1)
    np.testing.assert_allclose(r.outputs, out, rtol=1e-13)
    assert r.final_error == pytest.approx(float(np.abs(out - XOR.y).mean()), rel=1e-13)


@pytest.mark.slow
def test_dropout_with_several_layers_bias_and_mini_batches_is_batch_independent():
    sweep = [
        NetworkSpec(0.5, h, s, "adam", (), True, act, batch_size=bs, dropout=dp)
        for h in (4, (4, 3))
        for act in ("sigmoid", "relu")
        for bs in (0, 2)
        for dp in (0.0, 0.3)
        for s in (1, 2)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        big = engine.train(XOR.x, XOR.y, sweep, 150, 50)
    rng = np.random.RandomState(6)
    for i in rng.choice(len(sweep), size=12, replace=False):
        (alone,) = engine.train(XOR.x, XOR.y, [sweep[i]], 150, 50)
        _assert_identical(alone, big[i])


def test_dropout_config_and_errors():
    exp = resolve(None, {"dropout": "0,0.5"}, TUTORIAL)
    assert [s.dropout for s in exp.networks()] == [0.0, 0.5]
    with pytest.raises(ConfigError) as info:
        resolve(None, {"dropout": "1"}, TUTORIAL)
    assert (
        str(info.value) == "option --dropout is '1'; expected a number from 0 to below 1 (0: off)"
    )


# --- batch normalisation ------------------------------------------------------------------


@pytest.mark.parametrize("loss", network.LOSSES)
@pytest.mark.parametrize("activation", network.ACTIVATIONS)
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("sizes", [[3, 4, 1], [3, 4, 3, 2]])
def test_batch_norm_gradients_match_central_finite_differences(sizes, bias, activation, loss):
    rng = np.random.RandomState(7)
    x = rng.uniform(-1, 1, (6, sizes[0]))
    y = rng.uniform(0, 1, (6, sizes[-1]))
    r2 = np.random.RandomState(1)
    weights = [r2.uniform(-2, 2, (a + bias, b, 3)) for a, b in itertools.pairwise(sizes)]
    bn = []
    for n in sizes[1:-1]:
        bn += [r2.uniform(0.5, 1.5, (n, 3)), r2.uniform(-0.5, 0.5, (n, 3))]
    options = {"bias": bias, "activation": activation, "loss": loss, "batch_norm": bn}
    _, grads = layers.loss_and_gradients(x, y, weights, **options)
    assert len(grads) == len(weights) + len(bn)
    for k, w in enumerate(weights + bn):
        numeric = np.zeros_like(w)
        for index in np.ndindex(*w.shape):
            saved = w[index]
            w[index] = saved + 1e-6
            plus, _ = layers.loss_and_gradients(x, y, weights, **options)
            w[index] = saved - 1e-6
            minus, _ = layers.loss_and_gradients(x, y, weights, **options)
            w[index] = saved
            numeric[index] = (plus[index[-1]] - minus[index[-1]]) / 2e-6
        np.testing.assert_allclose(grads[k], numeric, rtol=1e-5, atol=1e-7)


def test_batch_norm_trains_as_by_hand_and_evaluates_with_running_statistics():
    steps = 5
    (r,) = engine.train(XOR.x, XOR.y, [NetworkSpec(0.5, 4, 2, batch_norm=True)], steps, 5)
    w0, w1 = (w.copy() for w in network.initial_weights(2, [3, 4, 1]))
    gamma, beta, mean_r, var_r = np.ones(4), np.zeros(4), np.zeros(4), np.ones(4)
    for _ in range(steps):
        z = XOR.x @ w0
        mu, var = z.mean(axis=0), z.var(axis=0)
        zhat = (z - mu) / np.sqrt(var + 1e-5)
        a1 = _sig(gamma * zhat + beta)
        out = _sig(a1 @ w1)
        d2 = (out - XOR.y) * out * (1 - out)
        dy = (d2 @ w1.T) * a1 * (1 - a1)
        g_gamma, g_beta = (dy * zhat).sum(axis=0), dy.sum(axis=0)
        dzhat = dy * gamma
        dz = (4 * dzhat - dzhat.sum(axis=0) - zhat * (dzhat * zhat).sum(axis=0)) / (
            4 * np.sqrt(var + 1e-5)
        )
        g1, g0 = a1.T @ d2, XOR.x.T @ dz
        mean_r = 0.9 * mean_r + 0.1 * mu
        var_r = 0.9 * var_r + 0.1 * var * 4 / 3
        w0, w1 = w0 - 0.5 * g0, w1 - 0.5 * g1
        gamma, beta = gamma - 0.5 * g_gamma, beta - 0.5 * g_beta
    np.testing.assert_allclose(r.weights[0], w0, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(r.weights[1], w1, rtol=1e-12, atol=1e-14)
    (layer,) = r.batch_norm
    for key, mine in (("gamma", gamma), ("beta", beta), ("running_mean", mean_r),
                      ("running_var", var_r)):  # fmt: skip
        np.testing.assert_allclose(layer[key], mine, rtol=1e-12, atol=1e-14)
    # evaluation: the running statistics, not the batch's
    zhat = (XOR.x @ w0 - mean_r) / np.sqrt(var_r + 1e-5)
    out = _sig(_sig(gamma * zhat + beta) @ w1)
    np.testing.assert_allclose(r.outputs, out, rtol=1e-12)


@pytest.mark.slow
def test_batch_norm_is_batch_independent_and_survives_chunk_files(tmp_path):
    from toynn_cli.run import executor
    from toynn_cli.store import chunks, results

    sweep = [
        NetworkSpec(a, h, s, opt, (), True, "relu", batch_size=bs, dropout=dp, batch_norm=True,
                    target_error=0.2)
        for opt in ("sgd", "adam")
        for h in (4, (4, 3))
        for bs in (0, 2)
        for dp in (0.0, 0.2)
        for a in (0.1, 1.0)
        for s in (1, 2)
    ]  # fmt: skip
    big = engine.train(XOR.x, XOR.y, sweep, 120, 40)
    rng = np.random.RandomState(8)
    for i in rng.choice(len(sweep), size=10, replace=False):
        (alone,) = engine.train(XOR.x, XOR.y, [sweep[i]], 120, 40)
        _assert_identical(alone, big[i])
        for mine, theirs in zip(alone.batch_norm, big[i].batch_norm, strict=True):
            for key in network.BN_ARRAYS:
                assert mine[key].tobytes() == theirs[key].tobytes()
    batch = engine.train_batch(XOR.x, XOR.y, sweep[:2], 50, 25)
    path = tmp_path / "00000.npz"
    chunk = executor.ChunkResult(executor.Chunk(0, 0, 2), batch, np.array(["a", "b"]))
    path.write_bytes(chunks.chunk_npz(chunk))
    back = chunks.load_chunk(path).batch
    for a, b in zip(back.batch_norm, batch.batch_norm, strict=True):
        assert a.tobytes() == b.tobytes()
    record = results.network_record(back.network(1), "learning", "xor")
    assert set(record["batch_norm_state"][0]) == set(network.BN_ARRAYS)


def test_batch_norm_config_and_errors():
    exp = resolve(None, {"batch_norm": "false,true"}, TUTORIAL)
    assert [s.batch_norm for s in exp.networks()] == [False, True]
    with pytest.raises(ConfigError) as info:
        resolve(None, {"batch_norm": "true", "batch_size": "1"}, TUTORIAL)
    assert str(info.value) == (
        "option --batch-norm is true with batches of 1 sample; expected batches of at least "
        "2 samples (a batch's variance needs two)"
    )
