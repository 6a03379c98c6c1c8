"""Every setting, declared once: the registry the options, config keys, defaults,
columns, labels and readers come from.

A :class:`Setting` is either a run setting (dataset, iterations, ...: one value per
run) or a network setting (alpha, hidden, optimizer, ...: a field of
:class:`~toynn_cli.core.network.NetworkSpec`, a sweep axis, a column). For each it holds:

* ``key``: the config key and the command-line option's destination (``alphas``);
  ``one``: the singular key a config may use instead (``alpha``); ``flags``: the
  option's spellings (``--alpha``, ``--alphas``); ``help``: the option's help;
  ``tutorial``: the tutorial's value, in config form;
* for network settings: ``fields`` (the NetworkSpec fields it sets), ``title`` and
  ``label`` (the table column and a network's cell; ``blank`` is the label at the
  tutorial's value: a table shows the column only when some network differs),
  ``cell`` (its CSV cell), ``record`` (its fields in a network's JSON record) and
  ``read`` (NetworkSpec fields back from a record).

Adding a setting: one entry here, then the engine that trains it and the config
validator that checks it (config.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from toynn_cli.core import optim
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

Record = dict[str, Any]


def show_number(value: float) -> str:
    """A number as short as it reads back exactly: 0.001, 1e-05, 0.30000000000000004."""
    return f"{value:g}" if float(f"{value:g}") == value else repr(value)


def _pairs(params: Iterable[tuple[str, Any]]) -> str:
    shown = []
    for key, value in params:
        if isinstance(value, tuple):
            value = ",".join(f"{v:g}" for v in value)
        shown.append(f"{key}={value:g}" if isinstance(value, float) else f"{key}={value}")
    return " ".join(shown)


def _plain(params: dict[str, Any]) -> dict[str, Any]:
    """Hyperparameters as plain JSON data (pairs such as betas as lists)."""
    return {key: list(v) if isinstance(v, tuple) else v for key, v in params.items()}


def _given(params: Any, defaults: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """A record's parameters (defaults filled in) back to the ones set away from the
    defaults, as a NetworkSpec holds them (lists back to tuples)."""
    out = []
    for key, value in dict(params or {}).items():
        value = tuple(value) if isinstance(value, list) else value
        if key not in defaults or value != defaults[key]:
            out.append((key, value))
    return tuple(out)


def show_hidden(hidden: int | tuple[int, ...]) -> str:
    """A hidden setting as typed: ``4``, ``0``, or ``8x4`` for two hidden layers."""
    return "x".join(map(str, hidden)) if isinstance(hidden, tuple) else str(hidden)


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
    return " ".join(filter(None, [spec.optimizer, _pairs(optimizer_given(spec))]))


def _read_optimizer(record: Record) -> dict[str, Any]:
    name = str(record.get("optimizer", "sgd"))
    if name not in optim.NAMES:
        raise ValueError(f"unknown optimizer {name!r}")
    given = _given(record.get("optimizer_params"), optim.DEFAULTS[name])
    # the momentum setting, recorded on its own: set even where it equals the default
    set_momentum = record.get("momentum")
    if set_momentum is not None:
        given = (*(p for p in given if p[0] != "momentum"), ("momentum", float(set_momentum)))
    # momentum, then weight decay last, as the grid puts them (so the spec equals the
    # trained one)
    params = sorted(given, key=lambda p: (p[0] == "weight_decay", p[0] == "momentum"))
    return {"optimizer": name, "optimizer_params": tuple(params)}


def schedule_label(spec: NetworkSpec) -> str:
    return " ".join(filter(None, [spec.schedule, _pairs(spec.schedule_params)]))


def _read_schedule(record: Record) -> dict[str, Any]:
    name = str(record.get("schedule", "constant"))
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}")
    return {
        "schedule": name,
        "schedule_params": _given(record.get("schedule_params"), SCHEDULES[name]),
    }


def _choice(name: str, choices: Sequence[str], default: str) -> Callable[[Record], dict]:
    def read(record: Record) -> dict[str, Any]:
        value = str(record.get(name, default))
        if value not in choices:
            raise ValueError(f"unknown {name} {value!r}")
        return {name: value}

    return read


def _flag(name: str) -> Callable[[Record], dict]:
    def read(record: Record) -> dict[str, Any]:
        value = record.get(name, False)
        if not isinstance(value, bool):
            raise ValueError(f"{name} {value!r} is not true or false")
        return {name: value}

    return read


def _float_field(name: str) -> Callable[[Record], dict]:
    return lambda record: {name: float(record.get(name, 0.0))}


def _int_field(name: str) -> Callable[[Record], dict]:
    return lambda record: {name: int(record.get(name, 0))}


def _off(value: float) -> str:
    return show_number(value) if value else "-"


@dataclass(frozen=True)
class Setting:
    """One setting; see the module's docstring."""

    key: str
    flags: tuple[str, ...]
    help: str
    tutorial: Any = None
    one: str | None = None
    #: network settings only
    fields: tuple[str, ...] = ()
    title: str = ""
    label: Callable[[NetworkSpec], str] | None = None
    blank: str = ""
    cell: Callable[[NetworkSpec], Any] | None = None
    record: Callable[[NetworkSpec], Record] = field(default=lambda spec: {})
    read: Callable[[Record], dict[str, Any]] = field(default=lambda record: {})
    #: the option's metavar, if not the default
    metavar: str | None = None

    @property
    def per_network(self) -> bool:
        return bool(self.fields)

    @property
    def name(self) -> str:
        """The setting's name as a network has it: ``alpha``, ``hidden``, ``optimizer``."""
        return self.one or self.key

    @property
    def option(self) -> str:
        """The option's canonical spelling, for messages: ``--alphas``."""
        return "--" + self.key.replace("_", "-")


def _same(name: str) -> Callable[[NetworkSpec], Record]:
    return lambda spec: {name: getattr(spec, name)}


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "dataset",
        ("--dataset",),
        "Built-in dataset (xor, first-column, and, or, xor2, parity3, circles, moons, "
        "spirals, blobs) or a .csv file.",
        tutorial="xor",
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
        record=_same("alpha"),
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
        record=_same("seed"),
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
        "the same bits: plain sgd, sigmoid units, squared loss; other settings fall back "
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
            "optimizer_params": _plain(hyperparameters(spec)),
        },
        read=_read_optimizer,
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
        record=_same("bias"),
        read=_flag("bias"),
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
        record=_same("activation"),
        read=_choice("activation", ACTIVATIONS, "sigmoid"),
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
        record=_same("loss"),
        read=_choice("loss", LOSSES, "squared"),
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
        record=_same("init"),
        read=_choice("init", INITS, "uniform"),
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
        record=_same("batch_size"),
        read=_int_field("batch_size"),
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
        record=_same("batch_norm"),
        # results.json before format 2 held the layers' arrays (or null) under this key
        read=lambda record: {
            "batch_norm": record.get("batch_norm") not in (None, False)
            if not isinstance(record.get("batch_norm"), bool)
            else record["batch_norm"]
        },
    ),
    Setting(
        "dropout",
        ("--dropout",),
        "Dropout probability on hidden layers in training (0: off); a sweep axis.",
        tutorial=0,
        fields=("dropout",),
        title="dropout",
        label=lambda spec: _off(spec.dropout),
        blank="-",
        cell=lambda spec: repr(spec.dropout),
        record=_same("dropout"),
        read=_float_field("dropout"),
    ),
    Setting(
        "weight_decay",
        ("--weight-decay",),
        "L2 weight decay, every optimizer's weight_decay (0: off); a sweep axis.",
        tutorial=0,
        # the optimizer's weight_decay hyperparameter: recorded and read with it
        fields=("optimizer_params",),
        title="decay",
        label=lambda spec: _off(weight_decay(spec)),
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
        label=lambda spec: _off(spec.clip_value),
        blank="-",
        cell=lambda spec: repr(spec.clip_value),
        record=_same("clip_value"),
        read=_float_field("clip_value"),
    ),
    Setting(
        "clip_norm",
        ("--clip-norm",),
        "Scale each network's gradient to norm <= C (0: off); a sweep axis.",
        tutorial=0,
        fields=("clip_norm",),
        title="clip norm",
        label=lambda spec: _off(spec.clip_norm),
        blank="-",
        cell=lambda spec: repr(spec.clip_norm),
        record=_same("clip_norm"),
        read=_float_field("clip_norm"),
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
        label=lambda spec: _off(spec.target_error),
        blank="-",
        cell=lambda spec: repr(spec.target_error),
        record=_same("target_error"),
        read=_float_field("target_error"),
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


def extra(spec: NetworkSpec) -> list[Setting]:
    """The settings, beyond alpha, hidden and seed, on which the network is not the
    tutorial's."""
    return [s for s in COLUMNS if s.key not in IDENTITY and s.label(spec) != s.blank]


def varying(specs: Sequence[NetworkSpec]) -> list[Setting]:
    """The extra columns a table of these networks needs."""
    return [
        s
        for s in COLUMNS
        if s.key not in IDENTITY and any(s.label(spec) != s.blank for spec in specs)
    ]


def record(spec: NetworkSpec) -> Record:
    """The network's settings as the fields of its JSON record (alpha, hidden, seed,
    then every other setting, hyperparameters with their defaults filled in)."""
    out: Record = {}
    for setting in COLUMNS:
        out.update(setting.record(spec))
    return out


def read(rec: Record) -> NetworkSpec:
    """A network's settings back from its JSON record (:func:`record`'s inverse:
    the same NetworkSpec the grid made). Raises KeyError, TypeError or ValueError on a
    malformed record."""
    fields: dict[str, Any] = {}
    for setting in COLUMNS:
        fields.update(setting.read(rec))
    return NetworkSpec(**fields)


def _params_cell(params: Iterable[tuple[str, Any]]) -> str:
    given = dict(params)
    return json.dumps(_plain(given), sort_keys=True) if given else ""


def setting_csv_columns(setting: Setting) -> list[tuple[str, Callable[[NetworkSpec], Any]]]:
    """A setting's CSV columns: one, or two for optimizer and schedule (the name, and
    the parameters set for it as a JSON mapping)."""
    assert setting.cell is not None
    if setting.key == "optimizers":
        return [
            ("optimizer", setting.cell),
            ("optimizer_params", lambda spec: _params_cell(optimizer_given(spec))),
        ]
    if setting.key == "schedules":
        return [
            ("schedule", setting.cell),
            ("schedule_params", lambda spec: _params_cell(spec.schedule_params)),
        ]
    return [(setting.key if setting.one is None else setting.one, setting.cell)]


def csv_columns(
    specs: Sequence[NetworkSpec] | None = None,
) -> list[tuple[str, Callable[[NetworkSpec], Any]]]:
    """``(header, cell)`` for a network's settings in CSV: every setting, or with
    ``specs``, alpha, hidden and seed and the settings on which some of them are not
    the tutorial's (metrics.csv: one row per checkpoint stays small)."""
    chosen = COLUMNS if specs is None else [s for s in COLUMNS if s.key in IDENTITY]
    if specs is not None:
        chosen += varying(specs)
        chosen.sort(key=COLUMNS.index)
    return [column for s in chosen for column in setting_csv_columns(s)]


def value(setting: Setting, spec: NetworkSpec) -> tuple:
    """The network's value of a setting, hashable: its CSV cell, and for optimizer and
    schedule every parameter (defaults filled in; weight decay has its own setting)."""
    assert setting.cell is not None
    if setting.key == "optimizers":
        params = {k: v for k, v in hyperparameters(spec).items() if k not in OWN_SETTINGS}
        return (setting.cell(spec), tuple(sorted(params.items())))
    if setting.key == "schedules":
        return (setting.cell(spec), tuple(sorted(schedule_parameters(spec).items())))
    return (setting.cell(spec),)


def values(spec: NetworkSpec) -> dict[str, tuple]:
    """Every setting's :func:`value`, by setting key."""
    return {s.key: value(s, spec) for s in COLUMNS}


def key(spec: NetworkSpec, skip: Iterable[str] = ()) -> tuple:
    """What identifies a network across runs: every setting's value but those of the
    settings in ``skip``."""
    skipped = set(skip)
    return tuple(value(s, spec) for s in COLUMNS if s.key not in skipped)


def describe(spec: NetworkSpec) -> str:
    """One network in words: ``adam, alpha 0.01, hidden 8x4, seed 1, bias, loss ...``."""
    parts = [] if optimizer_label(spec) == "sgd" else [optimizer_label(spec)]
    parts.append(
        f"alpha {show_number(spec.alpha)}, hidden {show_hidden(spec.hidden)}, seed {spec.seed}"
    )
    for setting in extra(spec):
        if setting.key == "optimizers":
            continue
        shown = setting.label(spec)
        parts.append(shown if shown == setting.title else f"{setting.title} {shown}")
    return ", ".join(parts)
