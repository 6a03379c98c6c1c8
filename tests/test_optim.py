"""Optimizers: a hand-computed step for each, torch.optim's recorded trajectories, the
tutorial's sgd unchanged, batch independence across optimizers, and config errors."""

from __future__ import annotations

import json
import math
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from toynn_cli import config
from toynn_cli.config import TUTORIAL, ConfigError, resolve
from toynn_cli.core import engine, layers, optim
from toynn_cli.core.datasets import BUILTIN
from toynn_cli.core.network import NetworkSpec
from toynn_cli.store import results

DATA = Path(__file__).parent / "data"


def _step(name: str, params: dict, w: float, grads: list[float], lr: float = 0.1) -> list[float]:
    """One weight (batch of one) through successive steps; the weight after each."""
    opt = optim.make(name, params, [(1, 1, 1)])
    weights = [np.full((1, 1, 1), w)]
    seen = []
    for g in grads:
        opt.step(weights, [np.full((1, 1, 1), g)], np.array([lr]))
        seen.append(float(weights[0][0, 0, 0]))
    return seen


# --- hand-computed steps ---------------------------------------------------------------


def test_sgd_step_by_hand():
    # W = 1 - 0.1 * 2
    assert _step("sgd", {}, 1.0, [2.0]) == [pytest.approx(0.8, abs=1e-15)]
    # weight decay 0.5: g = 2 + 0.5 * 1 = 2.5; W = 1 - 0.25
    assert _step("sgd", {"weight_decay": 0.5}, 1.0, [2.0]) == [pytest.approx(0.75, abs=1e-15)]


def test_momentum_step_by_hand():
    # t=1: b = 2, W = 1 - 0.2 = 0.8; t=2: b = 0.9*2 + 1 = 2.8, W = 0.8 - 0.28 = 0.52
    assert _step("momentum", {}, 1.0, [2.0, 1.0]) == pytest.approx([0.8, 0.52], abs=1e-15)
    # dampening 0.5: t=2: b = 0.9*2 + 0.5*1 = 2.3, W = 0.8 - 0.23 = 0.57
    got = _step("momentum", {"dampening": 0.5}, 1.0, [2.0, 1.0])
    assert got == pytest.approx([0.8, 0.57], abs=1e-15)


def test_nesterov_step_by_hand():
    # t=1: b = 2, step g + 0.9 b = 3.8, W = 1 - 0.38 = 0.62
    # t=2: b = 0.9*2 + 1 = 2.8, step 1 + 0.9*2.8 = 3.52, W = 0.62 - 0.352 = 0.268
    assert _step("nesterov", {}, 1.0, [2.0, 1.0]) == pytest.approx([0.62, 0.268], abs=1e-15)


def test_adagrad_step_by_hand():
    # t=1: s = 4, W = 1 - 0.1 * 2 / (2 + 1e-10); t=2: s = 5, W -= 0.1 * 1 / sqrt(5)
    w1 = 1 - 0.1 * 2 / (2 + 1e-10)
    w2 = w1 - 0.1 * 1 / (math.sqrt(5) + 1e-10)
    assert _step("adagrad", {}, 1.0, [2.0, 1.0]) == pytest.approx([w1, w2], abs=1e-15)
    # lr_decay 1: the second step's lr is 0.1 / (1 + 1 * 1) = 0.05; s starts at 1
    w1 = 1 - 0.1 * 2 / (math.sqrt(5) + 1e-10)
    w2 = w1 - 0.05 * 1 / (math.sqrt(6) + 1e-10)
    got = _step("adagrad", {"lr_decay": 1.0, "initial_accumulator_value": 1.0}, 1.0, [2.0, 1.0])
    assert got == pytest.approx([w1, w2], abs=1e-15)


def test_adadelta_step_by_hand():
    # t=1: v = 0.1 * 4 = 0.4; dx = sqrt(0 + 1e-6) / sqrt(0.4 + 1e-6) * 2; u = 0.1 dx**2
    v = 0.4
    dx = math.sqrt(1e-6) / math.sqrt(v + 1e-6) * 2
    u = 0.1 * dx**2
    w1 = 1 - 1.0 * dx
    # t=2: v = 0.9 * 0.4 + 0.1 * 1
    v = 0.9 * v + 0.1
    dx = math.sqrt(u + 1e-6) / math.sqrt(v + 1e-6) * 1
    w2 = w1 - dx
    assert _step("adadelta", {}, 1.0, [2.0, 1.0], lr=1.0) == pytest.approx([w1, w2], abs=1e-15)


def test_rmsprop_step_by_hand():
    # t=1: v = 0.01 * 4 = 0.04, W = 1 - 0.1 * 2 / (0.2 + 1e-8)
    v1 = 0.04
    w1 = 1 - 0.1 * 2 / (math.sqrt(v1) + 1e-8)
    v2 = 0.99 * v1 + 0.01 * 1
    w2 = w1 - 0.1 * 1 / (math.sqrt(v2) + 1e-8)
    assert _step("rmsprop", {}, 1.0, [2.0, 1.0]) == pytest.approx([w1, w2], abs=1e-15)
    # centered with momentum 0.5: m = 0.01 * 2, v~ = v - m**2, b = g / (sqrt(v~) + eps)
    m1 = 0.02
    b1 = 2 / (math.sqrt(v1 - m1**2) + 1e-8)
    w1 = 1 - 0.1 * b1
    m2 = 0.99 * m1 + 0.01 * 1
    b2 = 0.5 * b1 + 1 / (math.sqrt(v2 - m2**2) + 1e-8)
    w2 = w1 - 0.1 * b2
    got = _step("rmsprop", {"centered": True, "momentum": 0.5}, 1.0, [2.0, 1.0])
    assert got == pytest.approx([w1, w2], abs=1e-14)


def test_adam_step_by_hand():
    # t=1: m = 0.2, v = 0.004; m^ = 2, v^ = 4: W = 1 - 0.1 * 2 / (2 + 1e-8)
    w1 = 1 - 0.1 * 2 / (2 + 1e-8)
    # t=2: m = 0.9 * 0.2 + 0.1 = 0.28, v = 0.999 * 0.004 + 0.001 = 0.004996
    m_hat = 0.28 / (1 - 0.9**2)
    v_hat = 0.004996 / (1 - 0.999**2)
    w2 = w1 - 0.1 * m_hat / (math.sqrt(v_hat) + 1e-8)
    assert _step("adam", {}, 1.0, [2.0, 1.0]) == pytest.approx([w1, w2], abs=1e-15)
    # amsgrad: t=2 uses max(v) = 0.004996 > 0.004 here, then a falling v keeps the max
    got = _step("adam", {"amsgrad": True}, 1.0, [2.0, 1.0, 0.0])
    plain = _step("adam", {}, 1.0, [2.0, 1.0, 0.0])
    assert got[:2] == pytest.approx(plain[:2], abs=1e-15)
    assert abs(got[2] - got[1]) < abs(plain[2] - plain[1])


def test_learning_rate_is_per_network():
    opt = optim.make("adam", {}, [(1, 1, 2)])
    weights = [np.ones((1, 1, 2))]
    opt.step(weights, [np.full((1, 1, 2), 2.0)], np.array([0.1, 0.01]))
    np.testing.assert_allclose(
        weights[0][0, 0], [1 - 0.1 * 2 / (2 + 1e-8), 1 - 0.01 * 2 / (2 + 1e-8)]
    )


# --- torch.optim's trajectories ------------------------------------------------------------


TRAJECTORIES = json.loads((DATA / "torch_trajectories.json").read_text())


@pytest.mark.parametrize(
    "run",
    TRAJECTORIES["runs"],
    ids=[f"{r['optimizer']}-{r['lr']}-{'-'.join(r['params'])}" for r in TRAJECTORIES["runs"]],
)
def test_trajectory_matches_torch_optim(run):
    """The same network, weights and loss as torch: the same trajectory to ~1e-10."""
    data = BUILTIN["xor"]
    params = tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in run["params"].items())
    spec = NetworkSpec(run["lr"], 4, TRAJECTORIES["seed"], run["optimizer"], params)
    steps = TRAJECTORIES["steps"]
    (result,) = engine.train(data.x, data.y, [spec], steps, 1)
    np.testing.assert_allclose(result.checkpoint_errors, run["errors"], rtol=0, atol=1e-10)
    for mine, theirs in zip(result.weights, run["weights"], strict=True):
        np.testing.assert_allclose(mine, np.array(theirs), rtol=1e-10, atol=1e-10)


def test_torch_trajectories_cover_every_optimizer():
    assert {r["optimizer"] for r in TRAJECTORIES["runs"]} == set(optim.NAMES)


# --- the engine with optimizers ------------------------------------------------------------


def test_plain_sgd_named_explicitly_is_the_tutorial():
    data = BUILTIN["xor"]
    a, b = engine.train(
        data.x, data.y, [NetworkSpec(0.5, 4, 1), NetworkSpec(0.5, 4, 1, "sgd", ())], 500, 100
    )
    assert a.weights[0].tobytes() == b.weights[0].tobytes()
    # and weight decay 0 given explicitly is the same code path and numbers
    spec = NetworkSpec(0.5, 4, 1, "sgd", (("weight_decay", 0.0),))
    (c,) = engine.train(data.x, data.y, [spec], 500, 100)
    assert c.weights[1].tobytes() == a.weights[1].tobytes()


@pytest.mark.slow
def test_batch_independence_across_optimizers():
    """Each network is bit-identical alone and inside a sweep that mixes optimizers."""
    from tests.test_engine import _assert_identical

    data = BUILTIN["xor"]
    optimizers = [
        ("sgd", ()),
        ("momentum", ()),
        ("nesterov", (("momentum", 0.5),)),
        ("adagrad", ()),
        ("adadelta", ()),
        ("rmsprop", (("centered", True),)),
        ("adam", (("amsgrad", True), ("weight_decay", 0.01))),
        ("adam", ()),
    ]
    sweep = [
        NetworkSpec(a, h, s, name, params)
        for name, params in optimizers
        for h in (0, 3)
        for a in (0.01, 0.5, 10.0, 1e6)
        for s in (1, 2)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        big = engine.train(data.x, data.y, sweep, 300, 70)
    rng = np.random.RandomState(1)
    for i in rng.choice(len(sweep), size=16, replace=False):
        (alone,) = engine.train(data.x, data.y, [sweep[i]], 300, 70)
        _assert_identical(alone, big[i])
    assert len(engine.group_by_layout(sweep)) == len(optimizers) * 2


def test_direction_changes_follow_the_update():
    """Counted from the sign of each optimizer's update (a weight moving up or down),
    replayed here with loss_and_gradients and the optimizer by hand."""
    data = BUILTIN["xor"]
    spec = NetworkSpec(0.5, 3, 2, "nesterov", ())
    (r,) = engine.train(data.x, data.y, [spec], 30, 10)
    weights = [w[..., None].copy() for w in r.weights_initial]
    opt = optim.make("nesterov", {}, [w.shape for w in weights])
    signs, changes = None, [np.zeros(w.shape[:2], dtype=np.int64) for w in weights]
    for _ in range(30):
        _, grads = layers.loss_and_gradients(data.x, data.y, weights)
        now = [(u[..., 0] < 0) for u in opt.step(weights, grads, np.array([0.5]))]
        if signs is not None:
            for c, a, b in zip(changes, now, signs):
                c += a != b
        signs = now
    for mine, expected in zip(r.direction_changes, changes, strict=True):
        np.testing.assert_array_equal(mine, expected)
    assert sum(int(c.sum()) for c in changes) > 0


def test_json_records_the_optimizer_and_every_hyperparameter():
    data = BUILTIN["xor"]
    spec = NetworkSpec(0.05, 4, 1, "adam", (("betas", (0.9, 0.99)),))
    (r,) = engine.train(data.x, data.y, [spec], 10, 5)
    record = results.network_record(r, "learning", "xor")
    assert record["optimizer"] == "adam"
    assert record["optimizer_params"] == {
        "betas": [0.9, 0.99],
        "eps": 1e-8,
        "weight_decay": 0.0,
        "amsgrad": False,
    }
    (r,) = engine.train(data.x, data.y, [NetworkSpec(0.5, 4, 1)], 10, 5)
    record = results.network_record(r, "learning", "xor")
    assert record["optimizer"] == "sgd"
    assert record["optimizer_params"] == {
        "momentum": 0.0,
        "dampening": 0.0,
        "nesterov": False,
        "weight_decay": 0.0,
    }


def test_optim_imports_only_numpy():
    from toynn_cli.core import portable

    source = Path(optim.__file__).read_text(encoding="utf-8")
    imports = re.findall(r"^\s*(?:import|from)\s+(\S+)", source, flags=re.M)
    # toynn_cli: its portable powers, themselves numpy only
    assert set(imports) <= {
        "__future__",
        "collections.abc",
        "math",
        "typing",
        "numpy",
        "toynn_cli.core",
    }
    for path in Path(portable.__file__).parent.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        imports = re.findall(r"^\s*(?:import|from)\s+(\S+)", source, flags=re.M)
        others = {i for i in imports if not i.startswith("toynn_cli.core.portable.")}
        assert others <= {"__future__", "decimal", "numpy"}, path.name


# --- config --------------------------------------------------------------------------------


def test_optimizers_axis_and_params_from_options():
    exp = resolve(
        None,
        {"optimizers": "sgd,adam", "optimizer_params": "{betas: [0.9, 0.99], weight_decay: 0.1}"},
        TUTORIAL,
    )
    assert exp.optimizers == (
        ("sgd", (("weight_decay", 0.1),)),
        ("adam", (("betas", (0.9, 0.99)), ("weight_decay", 0.1))),
    )
    assert exp.swept_axes() == {"optimizers": 2}
    assert [s.optimizer for s in exp.networks()] == ["sgd", "adam"]


def test_optimizer_params_per_optimizer_and_round_trip(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "optimizers: [momentum, rmsprop]\n"
        "optimizer_params: {momentum: {momentum: 0.5}, rmsprop: {alpha: 0.9, centered: true}}\n"
    )
    exp = resolve(path, {}, TUTORIAL)
    assert exp.optimizers == (
        ("momentum", (("momentum", 0.5),)),
        ("rmsprop", (("alpha", 0.9), ("centered", True))),
    )
    again = tmp_path / "again.yaml"
    again.write_text(config.dump(exp))
    assert resolve(again, {}, TUTORIAL) == exp


def test_the_default_is_plain_sgd_and_is_not_dumped():
    exp = resolve(None, {}, TUTORIAL)
    assert exp.optimizers == (("sgd", ()),)
    assert "optimizers" not in config.as_dict(exp)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"optimizers": "adamw"},
            "option --optimizers is 'adamw'; expected an optimizer: sgd, momentum, nesterov, "
            "adagrad, adadelta, rmsprop, adam (did you mean 'adam'?)",
        ),
        (
            {"optimizers": "sgd,sgd"},
            "option --optimizers is 'sgd,sgd'; expected each optimizer once; sgd is repeated",
        ),
        (
            {"optimizers": "adam", "optimizer_params": "{beta: [0.9, 0.99]}"},
            "option --optimizer-params (optimizers adam): unknown key 'beta'; did you mean "
            "'betas'? expected one of: betas, eps, weight_decay, amsgrad",
        ),
        (
            {"optimizers": "adam", "optimizer_params": "{betas: [0.9, 1.5]}"},
            "option --optimizer-params key 'betas' (adam) is [0.9, 1.5]; expected a pair "
            "[beta1, beta2], each from 0 to below 1",
        ),
        (
            {"optimizers": "rmsprop", "optimizer_params": "{eps: 0}"},
            "option --optimizer-params key 'eps' (rmsprop) is 0; expected a number > 0",
        ),
        (
            {"optimizers": "adam", "optimizer_params": "{amsgrad: 1}"},
            "option --optimizer-params key 'amsgrad' (adam) is 1; expected true or false",
        ),
        (
            {"optimizers": "nesterov", "optimizer_params": "{momentum: 0}"},
            "option --optimizer-params (nesterov) is '{momentum: 0}'; expected momentum > 0 "
            "for Nesterov momentum",
        ),
        (
            {"optimizer_params": "{momentum: 0.9}"},
            "option --optimizer-params (optimizers sgd): unknown key 'momentum'; expected one "
            "of: weight_decay",
        ),
        (
            {"optimizer_params": "[1, 2]"},
            "option --optimizer-params is '[1, 2]'; expected a mapping like "
            "'{betas: [0.9, 0.99], eps: 1e-8}'",
        ),
        (
            {"optimizers": "sgd", "optimizer_params": "{adam: {eps: 1e-7}}"},
            "option --optimizer-params key 'adam': adam is not among the optimizers (sgd); "
            "expected hyperparameters of a chosen optimizer",
        ),
    ],
)
def test_bad_optimizer_values_are_one_line_errors(overrides, message):
    with pytest.raises(ConfigError) as info:
        resolve(None, overrides, TUTORIAL)
    assert str(info.value) == message
    assert "\n" not in str(info.value)


def test_optimizer_and_optimizers_both_given_is_an_error(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("optimizer: sgd\noptimizers: [adam]\n")
    with pytest.raises(ConfigError, match="both 'optimizer' and 'optimizers' given"):
        resolve(path, {}, TUTORIAL)


# --- command line --------------------------------------------------------------------------


def _cli(*args: str):
    from click.testing import CliRunner

    from toynn_cli.cli import cli

    return CliRunner().invoke(cli, [str(a) for a in args])


def test_sweep_mixes_optimizers_in_one_command_and_records_them():
    result = _cli(
        "sweep", "--optimizers", "sgd,momentum,adam", "--alphas", "0.05,0.5",
        "--iterations", "200", "--log-every", "100", "--optimizer-params",
        "{adam: {betas: [0.9, 0.99]}}", "--no-save", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    nets = doc["networks"]
    assert [(n["optimizer"], n["alpha"]) for n in nets] == [
        ("sgd", 0.05), ("sgd", 0.5), ("momentum", 0.05), ("momentum", 0.5),
        ("adam", 0.05), ("adam", 0.5),
    ]  # fmt: skip
    assert nets[2]["optimizer_params"]["momentum"] == 0.9
    assert nets[4]["optimizer_params"]["betas"] == [0.9, 0.99]
    assert doc["experiment"]["optimizers"] == ["sgd", "momentum", "adam"]
    assert doc["experiment"]["optimizer_params"] == {"adam": {"betas": [0.9, 0.99]}}
    # each network is the one trained alone
    spec = NetworkSpec(0.5, 4, 1, "adam", (("betas", (0.9, 0.99)),))
    (alone,) = engine.train(BUILTIN["xor"].x, BUILTIN["xor"].y, [spec], 200, 100)
    assert nets[5]["final_error"] == alone.final_error


def test_sweep_table_has_an_optimizer_column_only_when_used():
    args = ("sweep", "--alphas", "0.5", "--iterations", "20", "--log-every", "10", "--no-save")
    assert "optimizer" not in _cli(*args).stdout
    out = _cli(*args, "--optimizers", "sgd,nesterov").stdout
    assert "optimizer" in out and "nesterov" in out


def test_train_with_an_optimizer_and_several_is_refused():
    result = _cli("train", "--optimizer", "adam", "--alpha", "0.05", "--iterations", "50",
                  "--log-every", "10", "--no-save", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["networks"][0]["optimizer"] == "adam"
    result = _cli("train", "--optimizers", "sgd,adam", "--no-save")
    assert result.exit_code == 2
    assert "option --optimizers has 2 values" in result.output


def test_bad_optimizer_option_exits_2_with_one_line():
    result = _cli("sweep", "--optimizer", "adamm", "--no-save")
    assert result.exit_code == 2
    assert "option --optimizer is 'adamm'; expected an optimizer" in result.output


def test_alphas_per_optimizer(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("optimizers: [sgd, adam]\nalphas: {sgd: 0.5, adam: '0.001,0.01'}\nseeds: 1,2\n")
    exp = resolve(path, {}, TUTORIAL)
    assert [(s.optimizer, s.alpha, s.seed) for s in exp.networks()] == [
        ("sgd", 0.5, 1), ("sgd", 0.5, 2),
        ("adam", 0.001, 1), ("adam", 0.001, 2), ("adam", 0.01, 1), ("adam", 0.01, 2),
    ]  # fmt: skip
    again = tmp_path / "again.yaml"
    again.write_text(config.dump(exp))
    assert resolve(again, {}, TUTORIAL) == exp
    # --alphas on the command line replaces the mapping: the same alphas for all
    exp = resolve(path, {"alphas": "0.1"}, TUTORIAL)
    assert [(s.optimizer, s.alpha) for s in exp.networks()][::2] == [("sgd", 0.1), ("adam", 0.1)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("optimizers: [sgd, adam]\nalphas: {sgd: 0.5}\n", "key 'alphas' has no entry for adam; "
         "expected one per optimizer"),
        ("alphas: {adam: 0.5}\n", "key 'alphas': key 'adam' is not among the optimizers (sgd); "
         "expected one entry per optimizer"),
        ("optimizers: adam\nalphas: {adam: -1}\n", "key 'alphas' adam is -1; expected a finite "
         "number > 0"),
    ],
)  # fmt: skip
def test_bad_alphas_per_optimizer(tmp_path, text, message):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        resolve(path, {}, TUTORIAL)
    assert str(info.value) == f"{path}: {message}"


def test_the_optimizers_config_runs_every_optimizer():
    exp = resolve(Path(__file__).parent.parent / "configs" / "optimizers.yaml", {}, TUTORIAL)
    assert tuple(name for name, _ in exp.optimizers) == optim.NAMES
    assert len(exp.networks()) == 7 * 5
    assert len(engine.group_by_layout(exp.networks())) == 7
