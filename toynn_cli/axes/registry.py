"""The settings, one entry each, and the tables derived from them."""

from __future__ import annotations

from typing import Any

from toynn_cli.axes.setting import (
    Record,
    Setting,
    choice,
    flag,
    float_field,
    given_params,
    int_field,
    off,
    pairs,
    plain,
    same,
    show_hidden,
    show_number,
)
from toynn_cli.core import engines, optim
from toynn_cli.core.network import (
    ACTIVATIONS,
    INITS,
    LOSSES,
    SCHEDULES,
    NetworkSpec,
    hidden_layers,
    hyperparameters,
    schedule_parameters,
)


def _read_hidden(record: Record) -> dict[str, Any]:
    value = record["hidden"]
    if isinstance(value, list):
        return {"hidden": tuple(int(h) for h in value)}
    return {"hidden": int(value)}


#: hyperparameters that are settings of their own (their own column and axis)
OWN_SETTINGS = ("weight_decay", "momentum")


def optimizer_given(spec: NetworkSpec) -> tuple[tuple[str, Any], ...]:
    """The hyperparameters set for the network's optimizer, those with a setting of
    their own aside (weight decay, momentum)."""
    return tuple((k, v) for k, v in spec.optimizer_params if k not in OWN_SETTINGS)


def momentum(spec: NetworkSpec) -> float | None:
    """The momentum set for the network's optimizer, or None (its default)."""
    value = dict(spec.optimizer_params).get("momentum")
    return None if value is None else float(value)


def weight_decay(spec: NetworkSpec) -> float:
    return float(dict(spec.optimizer_params).get("weight_decay", 0.0))


def optimizer_label(spec: NetworkSpec) -> str:
    """The optimizer's name, with the hyperparameters set for it: ``adam betas=0.9,0.99``."""
    return " ".join(filter(None, [spec.optimizer, pairs(optimizer_given(spec))]))


def _read_optimizer(record: Record) -> dict[str, Any]:
    name = str(record.get("optimizer", "sgd"))
    if name not in optim.NAMES:
        raise ValueError(f"unknown optimizer {name!r}")
    given = given_params(record.get("optimizer_params"), optim.DEFAULTS[name])
    # the momentum setting, recorded on its own: set even where it equals the default
    set_momentum = record.get("momentum")
    if set_momentum is not None:
        given = (*(p for p in given if p[0] != "momentum"), ("momentum", float(set_momentum)))
    # momentum, then weight decay last, as the grid puts them (so the spec equals the
    # trained one)
    params = sorted(given, key=lambda p: (p[0] == "weight_decay", p[0] == "momentum"))
    return {"optimizer": name, "optimizer_params": tuple(params)}


def schedule_label(spec: NetworkSpec) -> str:
    return " ".join(filter(None, [spec.schedule, pairs(spec.schedule_params)]))


def _read_schedule(record: Record) -> dict[str, Any]:
    name = str(record.get("schedule", "constant"))
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}")
    return {
        "schedule": name,
        "schedule_params": given_params(record.get("schedule_params"), SCHEDULES[name]),
    }


def _flags() -> tuple[str, ...]:
    return ("false", "true")


def _dataset_names() -> tuple[str, ...]:
    from toynn_cli.core.datasets import BUILTIN  # generates the sets: only when completing

    return tuple(BUILTIN)


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "dataset",
        ("--dataset",),
        "Built-in dataset (xor, first-column, and, or, xor2, parity3, circles, moons, "
        "spirals, blobs) or a .csv file.",
        tutorial="xor",
        choices=_dataset_names,
    ),
    Setting(
        "alphas",
        ("--alpha", "--alphas"),
        "Step size(s): 0.5, 0.1,1,10, 0.001..1000, 0.01..10:7.",
        tutorial=0.5,
        one="alpha",
        fields=("alpha",),
        title="alpha",
        label=lambda spec: show_number(spec.alpha),
        blank="",
        cell=lambda spec: repr(spec.alpha),
        record=same("alpha"),
        read=lambda record: {"alpha": float(record["alpha"])},
    ),
    Setting(
        "hidden",
        ("--hidden",),
        "Hidden layer size(s), 0 for none: 4, 2,4,8, 1..32; 8x4 is two hidden layers "
        "(4,8x4 sweeps one layer of 4 and two of 8 and 4).",
        tutorial=4,
        fields=("hidden",),
        title="hidden",
        label=lambda spec: show_hidden(spec.hidden),
        cell=lambda spec: show_hidden(spec.hidden),
        record=lambda spec: {
            "hidden": list(spec.hidden) if isinstance(spec.hidden, tuple) else spec.hidden,
            "hidden_layers": list(hidden_layers(spec.hidden)),
        },
        read=_read_hidden,
    ),
    Setting("iterations", ("--iterations",), "Training iterations per network.", tutorial=60000),
    Setting(
        "seeds",
        ("--seed", "--seeds"),
        "Random seed(s): 1, 1,2,3, 0..99.",
        tutorial=1,
        one="seed",
        fields=("seed",),
        title="seed",
        label=lambda spec: str(spec.seed),
        cell=lambda spec: spec.seed,
        record=same("seed"),
        read=lambda record: {"seed": int(record["seed"])},
    ),
    Setting("log_every", ("--log-every",), "Report the error every N iterations.", tutorial=10000),
    Setting(
        "record_every",
        ("--record-every",),
        "Record each network's error history (sparklines, plots) every K iterations; "
        "default: auto, about 200 points per run.",
        metavar="K",
    ),
    Setting("name", ("--name",), "Run name, used in the run folder's name."),
    Setting(
        "engine",
        ("--engine",),
        "Training engine: auto (default: numba when installed and it trains every "
        "network, else numpy), numpy (the reference: every setting), numba (compiled, "
        f"the same bits: every setting but {engines.NUMBA_FALLS_BACK}, which fall back "
        "to numpy under auto) or numba-fast (the same as numba).",
    ),
    Setting(
        "optimizers",
        ("--optimizer", "--optimizers"),
        "Optimizer(s): sgd (default), momentum, nesterov, adagrad, adadelta, rmsprop, adam; "
        "a comma list is a sweep axis.",
        tutorial="sgd",
        one="optimizer",
        fields=("optimizer", "optimizer_params"),
        title="optimizer",
        label=optimizer_label,
        blank="sgd",
        cell=lambda spec: spec.optimizer,
        record=lambda spec: {
            "optimizer": spec.optimizer,
            "optimizer_params": plain(hyperparameters(spec)),
        },
        read=_read_optimizer,
        params=optimizer_given,
        full_params=lambda spec: {
            k: v for k, v in hyperparameters(spec).items() if k not in OWN_SETTINGS
        },
        choices=lambda: optim.NAMES,
    ),
    Setting(
        "bias",
        ("--bias",),
        "Bias units: true, false, or false,true as a sweep axis.",
        tutorial=False,
        fields=("bias",),
        title="bias",
        label=lambda spec: "bias" if spec.bias else "-",
        blank="-",
        cell=lambda spec: spec.bias,
        record=same("bias"),
        read=flag("bias"),
        choices=_flags,
    ),
    Setting(
        "activations",
        ("--activation", "--activations"),
        "Hidden activation(s): sigmoid (default), tanh, relu, leaky_relu.",
        tutorial="sigmoid",
        one="activation",
        fields=("activation",),
        title="activation",
        label=lambda spec: spec.activation,
        blank="sigmoid",
        cell=lambda spec: spec.activation,
        record=same("activation"),
        read=choice("activation", ACTIVATIONS, "sigmoid"),
        choices=lambda: tuple(ACTIVATIONS),
    ),
    Setting(
        "losses",
        ("--loss", "--losses"),
        "Loss(es): squared (default), cross_entropy.",
        tutorial="squared",
        one="loss",
        fields=("loss",),
        title="loss",
        label=lambda spec: spec.loss,
        blank="squared",
        cell=lambda spec: spec.loss,
        record=same("loss"),
        read=choice("loss", LOSSES, "squared"),
        choices=lambda: tuple(LOSSES),
    ),
    Setting(
        "inits",
        ("--init", "--inits"),
        "Initialisation(s): uniform (default), xavier, he.",
        tutorial="uniform",
        one="init",
        fields=("init",),
        title="init",
        label=lambda spec: spec.init,
        blank="uniform",
        cell=lambda spec: spec.init,
        record=same("init"),
        read=choice("init", INITS, "uniform"),
        choices=lambda: tuple(INITS),
    ),
    Setting(
        "batch_size",
        ("--batch-size",),
        "Mini-batch size, samples shuffled per network and epoch (0: full batch); a sweep axis.",
        tutorial=0,
        fields=("batch_size",),
        title="batch",
        label=lambda spec: str(spec.batch_size) if spec.batch_size else "full",
        blank="full",
        cell=lambda spec: spec.batch_size,
        record=same("batch_size"),
        read=int_field("batch_size"),
    ),
    Setting(
        "batch_norm",
        ("--batch-norm",),
        "Batch normalisation of hidden layers: true, false, or false,true.",
        tutorial=False,
        fields=("batch_norm",),
        title="batch norm",
        label=lambda spec: "on" if spec.batch_norm else "-",
        blank="-",
        cell=lambda spec: spec.batch_norm,
        record=same("batch_norm"),
        # results.json before format 2 held the layers' arrays (or null) under this key
        read=lambda record: {
            "batch_norm": record.get("batch_norm") not in (None, False)
            if not isinstance(record.get("batch_norm"), bool)
            else record["batch_norm"]
        },
        choices=_flags,
    ),
    Setting(
        "dropout",
        ("--dropout",),
        "Dropout probability on hidden layers in training (0: off); a sweep axis.",
        tutorial=0,
        fields=("dropout",),
        title="dropout",
        label=lambda spec: off(spec.dropout),
        blank="-",
        cell=lambda spec: repr(spec.dropout),
        record=same("dropout"),
        read=float_field("dropout"),
    ),
    Setting(
        "weight_decay",
        ("--weight-decay",),
        "L2 weight decay, every optimizer's weight_decay (0: off); a sweep axis.",
        tutorial=0,
        # the optimizer's weight_decay hyperparameter: recorded and read with it
        fields=("optimizer_params",),
        title="decay",
        label=lambda spec: off(weight_decay(spec)),
        blank="-",
        cell=lambda spec: repr(weight_decay(spec)),
    ),
    Setting(
        "momentum",
        ("--momentum",),
        "Momentum of the optimizers that have one (momentum, nesterov, rmsprop); a sweep "
        "axis (default: each optimizer's own).",
        # the optimizer's momentum hyperparameter: recorded and read with it
        fields=("optimizer_params",),
        title="momentum",
        label=lambda spec: "-" if momentum(spec) is None else show_number(momentum(spec)),
        blank="-",
        cell=lambda spec: "" if momentum(spec) is None else repr(momentum(spec)),
        record=lambda spec: {"momentum": momentum(spec)},
    ),
    Setting(
        "clip_value",
        ("--clip-value",),
        "Clamp each gradient element to [-C, C] (0: off); a sweep axis.",
        tutorial=0,
        fields=("clip_value",),
        title="clip value",
        label=lambda spec: off(spec.clip_value),
        blank="-",
        cell=lambda spec: repr(spec.clip_value),
        record=same("clip_value"),
        read=float_field("clip_value"),
    ),
    Setting(
        "clip_norm",
        ("--clip-norm",),
        "Scale each network's gradient to norm <= C (0: off); a sweep axis.",
        tutorial=0,
        fields=("clip_norm",),
        title="clip norm",
        label=lambda spec: off(spec.clip_norm),
        blank="-",
        cell=lambda spec: repr(spec.clip_norm),
        record=same("clip_norm"),
        read=float_field("clip_norm"),
    ),
    Setting(
        "schedules",
        ("--schedule", "--schedules"),
        "Learning-rate schedule(s): constant (default), step, exponential, cosine.",
        tutorial="constant",
        one="schedule",
        fields=("schedule", "schedule_params"),
        title="schedule",
        label=schedule_label,
        blank="constant",
        cell=lambda spec: spec.schedule,
        record=lambda spec: {
            "schedule": spec.schedule,
            "schedule_params": schedule_parameters(spec),
        },
        read=_read_schedule,
        params=lambda spec: spec.schedule_params,
        full_params=schedule_parameters,
        choices=lambda: tuple(SCHEDULES),
    ),
    Setting(
        "schedule_params",
        ("--schedule-params",),
        "Schedule parameters as a YAML mapping: '{step_size: 1000, gamma: 0.5}'.",
        tutorial={},
    ),
    Setting(
        "target_error",
        ("--target-error",),
        "Early stopping: a network stops at this error (0: off); a sweep axis.",
        tutorial=0,
        fields=("target_error",),
        title="target",
        label=lambda spec: off(spec.target_error),
        blank="-",
        cell=lambda spec: repr(spec.target_error),
        record=same("target_error"),
        read=float_field("target_error"),
    ),
    Setting(
        "optimizer_params",
        ("--optimizer-params",),
        "Hyperparameters as a YAML mapping: '{betas: [0.9, 0.99]}', "
        "'{adam: {eps: 1e-7}, momentum: {momentum: 0.8}}'.",
        tutorial={},
    ),
)

BY_KEY: dict[str, Setting] = {s.key: s for s in SETTINGS}
#: network settings by :attr:`Setting.name`
BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS if s.per_network}
#: the settings that are a network's: its columns, in table order
COLUMNS: tuple[Setting, ...] = tuple(s for s in SETTINGS if s.per_network)
#: the columns every network has in a table (the rest show when some network differs)
IDENTITY = ("alphas", "hidden", "seeds")
#: a config's singular keys and the key each stands for: alpha -> alphas
SINGULAR: dict[str, str] = {s.one: s.key for s in SETTINGS if s.one}
#: every key a config may hold
CONFIG_KEYS: tuple[str, ...] = tuple(
    k for s in SETTINGS for k in ((s.one, s.key) if s.one else (s.key,))
)
#: the tutorial's settings, in config form
TUTORIAL: dict[str, Any] = {s.key: s.tutorial for s in SETTINGS if s.tutorial is not None}
