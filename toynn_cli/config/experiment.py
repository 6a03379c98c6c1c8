"""Experiment configs: YAML in, validated frozen dataclasses out.

This module holds the project's only YAML loading (PyYAML's SafeLoader, which builds
plain values only, plus a check that no key is given twice). Command-line overrides go
through the same validators as the file's keys, so both give the same one-line errors:
``<where> is <value>; expected <what>``.

Keys (every one optional; missing keys take the tutorial's defaults)::

    name:       run name, letters/digits/. _ - (default: the config file's name)
    dataset:    xor | first-column | and | or | xor2 | parity3
                | circles | moons | spirals | blobs    (generated, at their defaults)
                | {name: moons, samples: 200, noise: 0.1, seed: 0}
                | path/to/file.csv (relative to the config file)
                | {path: data.csv, targets: [y1, y2]}  (target columns named in its header)
                | {name: ..., inputs: [[...], ...], targets: [[...], ...]}
    hidden:     4 | [2, 4, 8] | "1..32"        (0: no hidden layer; a list is a sweep)
                | "8x4" | "4,8x4" | [4, [8, 4]]   (8x4: two hidden layers, 8 then 4 units)
    bias:       false | true | [false, true]    (a bias unit on every layer's input)
    activation(s): sigmoid | tanh | relu | leaky_relu   (hidden layers; output: sigmoid)
    loss(es):   squared | cross_entropy
    init(s):    uniform | xavier | he
    clip_value: 0 | 1.0 | [0, 1]          (clamp each gradient element to [-c, c]; 0: off)
    clip_norm:  0 | 1.0 | [0, 1]          (scale each network's gradient to norm <= c)
    schedule(s): constant | step | exponential | cosine
    schedule_params: {step_size: 1000, gamma: 0.1, t_max: 0, eta_min: 0}
    target_error: 0 | 0.01 | [0, 0.05]    (early stopping at this error; 0: off)
    weight_decay: 0 | 0.001 | [0, 0.001, 0.01]   (L2, every optimizer's weight_decay; an axis)
    batch_size: 0 | 2 | [0, 1, 2]         (mini-batch size; 0: full batch, the tutorial)
    dropout:    0 | 0.2 | [0, 0.2, 0.5]   (inverted dropout on hidden layers; 0: off)
    batch_norm: false | true | [false, true]   (batch normalisation of hidden layers)
    alpha(s):   0.5 | [0.1, 1] | "0.001..1000" | "0.01..10:7"
    iterations: 60000
    seed(s):    1 | [1, 2] | "0..99"
    log_every:  10000
    record_every: 100                      (error history every K iterations; default:
                                            about 200 points per run)
    engine:     auto | numpy | numba | numba-fast     (auto, the default: numba when it can)
    optimizer(s): sgd | [sgd, momentum, adam] | "sgd,adam"   (default: sgd, the tutorial)
    optimizer_params: {betas: [0.9, 0.99]}          applies to every optimizer that has it
                    | {adam: {betas: [0.9, 0.99]}, momentum: {momentum: 0.8}}  per optimizer
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from toynn_cli import axes
from toynn_cli.axes.setting import plain as plain_params
from toynn_cli.config import check, grid
from toynn_cli.config import params as param_checks
from toynn_cli.config.check import ConfigError
from toynn_cli.config.dataset import dataset_value
from toynn_cli.config.yamlfile import STDIN, read_yaml_and_hash, shown
from toynn_cli.core import datasets, network
from toynn_cli.core.datasets import Dataset
from toynn_cli.core.network import NetworkSpec

#: The tutorial's settings: xor, 4 hidden units, 60000 iterations, seed 1, log every 10000.
TUTORIAL: dict[str, Any] = dict(axes.TUTORIAL)
#: The tutorial's two-layer network (configs/two-layer.yaml): no hidden layer.
TWO_LAYER: dict[str, Any] = {
    **TUTORIAL,
    "name": "two-layer",
    "dataset": "first-column",
    "hidden": 0,
    "alphas": 1,
    "iterations": 10000,
    "seeds": 1,
    "log_every": 1000,
}
#: The tutorial's published alpha sweep.
TUTORIAL_SWEEP: dict[str, Any] = {**TUTORIAL, "alphas": "0.001..1000"}


#: The settings of a network's architecture and training beyond optimizer, alpha, hidden
#: and seed, in the grid's order (outermost first). init is innermost: it is not part of
#: the layout, so every layout's networks stay contiguous in the grid (one chunk run each).
ARCHITECTURE = (
    "bias",
    "activations",
    "losses",
    "clip_value",
    "clip_norm",
    "schedules",
    "target_error",
    "batch_size",
    "dropout",
    "batch_norm",
    "inits",
)


@dataclass(frozen=True)
class Experiment:
    """A validated experiment: one dataset, and the axes whose product is the grid."""

    name: str
    dataset: Dataset
    # the built-in name it was given by, a generated set's mapping (name, samples, noise,
    # seed), or None (inline / CSV)
    dataset_ref: str | dict[str, Any] | None
    hidden: tuple[int, ...]
    alphas: tuple[float, ...]
    iterations: int
    seeds: tuple[int, ...]
    log_every: int
    #: the error history's spacing: every K iterations; 0: about network.HISTORY_POINTS
    #: points per run (see network.history_schedule)
    record_every: int = 0
    #: which engine trains it: auto (the fastest that supports every setting) or a name
    #: (core/engines.py); every engine gives the same bits
    engine: str = "auto"
    #: each optimizer with the hyperparameters set for it: ``(name, ((key, value), ...))``
    optimizers: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = grid.PLAIN_SGD
    #: each optimizer's own alphas (``alphas: {adam: 0.001, sgd: 0.5}``), or None: the
    #: same ``alphas`` for every optimizer
    optimizer_alphas: tuple[tuple[float, ...], ...] | None = None
    bias: tuple[bool, ...] = (False,)
    activations: tuple[str, ...] = ("sigmoid",)
    losses: tuple[str, ...] = ("squared",)
    inits: tuple[str, ...] = ("uniform",)
    clip_value: tuple[float, ...] = (0.0,)
    clip_norm: tuple[float, ...] = (0.0,)
    #: each schedule with the parameters set for it: ``(name, ((key, value), ...))``
    schedules: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = (("constant", ()),)
    target_error: tuple[float, ...] = (0.0,)
    weight_decay: tuple[float, ...] = (0.0,)
    #: the momentum of the optimizers that have one (an axis); (): each one's default
    momentum: tuple[float, ...] = ()
    batch_size: tuple[int, ...] = (0,)
    dropout: tuple[float, ...] = (0.0,)
    batch_norm: tuple[bool, ...] = (False,)
    #: the sha256 (hex) of the config file's bytes as read; None without a file. Not
    #: part of the experiment: two files that resolve alike are the same experiment.
    config_sha256: str | None = field(default=None, compare=False)

    def architectures(self) -> list[dict[str, Any]]:
        """Every combination of the settings in :data:`ARCHITECTURE`, as NetworkSpec
        fields."""
        options = []
        for key in ARCHITECTURE:
            setting = axes.BY_KEY[key]
            options.append(
                [
                    dict(zip(setting.fields, value if setting.params else (value,)))
                    for value in getattr(self, key)
                ]
            )
        return [
            {field: v for fields in combination for field, v in fields.items()}
            for combination in itertools.product(*options)
        ]

    def networks(self) -> list[NetworkSpec]:
        """Every network of the grid: optimizers x weight decays x hidden x architectures
        x alphas x seeds."""
        momenta: tuple[float | None, ...] = self.momentum or (None,)
        optimizers = [
            (
                name,
                (*params, *((("momentum", m),) if m is not None else ()),
                 *((("weight_decay", wd),) if wd else ())),
            )
            for name, params in self.optimizers
            for m in momenta
            for wd in self.weight_decay
        ]  # fmt: skip
        per = None
        if self.optimizer_alphas is not None:
            per = [its for its in self.optimizer_alphas for _ in momenta for _ in self.weight_decay]
        return grid.expand(
            self.hidden, self.alphas, self.seeds, optimizers, per, self.architectures()
        )

    def swept_axes(self) -> dict[str, int]:
        """The network settings that hold more than one value, with their counts (for
        alphas given per optimizer, the most any one optimizer has)."""
        counts = {s.key: len(getattr(self, s.key)) for s in axes.COLUMNS}
        if self.optimizer_alphas is not None:
            counts["alphas"] = max(len(its) for its in self.optimizer_alphas)
        return {key: n for key, n in counts.items() if n > 1}


# --- building an experiment ---------------------------------------------------------------


def _merge_pairs(raw: dict[str, Any], path: str, labels: dict[str, str]) -> dict[str, Any]:
    """Fold ``alpha``/``seed`` into ``alphas``/``seeds`` (giving both is an error)."""
    merged = dict(raw)
    for one, many in axes.SINGULAR.items():
        if one in merged:
            if many in merged:
                raise ConfigError(f"{path}: both '{one}' and '{many}' given; expected one of them")
            merged[many] = merged.pop(one)
            labels[many] = f"{path}: key '{one}'"
    return merged


def _build(
    values: dict[str, Any], labels: dict[str, str], base: Path, name: str | None
) -> Experiment:
    dataset, ref = dataset_value(values["dataset"], labels["dataset"], base)
    if "name" in values:
        name = check.run_name(values["name"], labels["name"])
    hidden = check.axis(
        values["hidden"],
        labels["hidden"],
        grid.parse_hidden,
        check.hidden_value,
        check.HIDDEN_EXPECTED,
    )
    bias = check.flags(values["bias"], labels["bias"])
    activations = check.name_list(
        values["activations"], labels["activations"], network.ACTIVATIONS, "an activation",
        "activation",
    )  # fmt: skip
    losses = check.name_list(values["losses"], labels["losses"], network.LOSSES, "a loss", "loss")
    inits = check.name_list(
        values["inits"], labels["inits"], network.INITS, "an initialisation", "initialisation"
    )
    clip_value = check.axis(
        values["clip_value"], labels["clip_value"], grid.parse_floats, check.off_or_positive,
        check.OFF_EXPECTED,
    )  # fmt: skip
    clip_norm = check.axis(
        values["clip_norm"], labels["clip_norm"], grid.parse_floats, check.off_or_positive,
        check.OFF_EXPECTED,
    )  # fmt: skip
    target_error = check.axis(
        values["target_error"], labels["target_error"], grid.parse_floats, check.off_or_positive,
        check.OFF_EXPECTED,
    )  # fmt: skip
    schedule_names = check.name_list(
        values["schedules"], labels["schedules"], tuple(network.SCHEDULES), "a schedule",
        "schedule",
    )  # fmt: skip
    schedules = param_checks.schedule_params_value(
        values["schedule_params"], labels["schedule_params"], schedule_names
    )
    samples = len(dataset.inputs)
    batch_expected = f"a whole number from 0 to {samples} (the number of samples; 0: full batch)"

    def batch(value: Any) -> int:
        number = check.whole(value)
        if not 0 <= number <= samples:
            raise check.BadValue
        return number

    batch_size = check.axis(
        values["batch_size"], labels["batch_size"], grid.parse_ints, batch, batch_expected
    )
    dropout = check.axis(
        values["dropout"], labels["dropout"], grid.parse_floats, check.probability_value,
        check.DROPOUT_EXPECTED,
    )  # fmt: skip
    batch_norm = check.flags(values["batch_norm"], labels["batch_norm"])
    if True in batch_norm and (1 in batch_size or (0 in batch_size and samples == 1)):
        raise ConfigError(
            f"{labels['batch_norm']} is true with batches of 1 sample; expected batches of at "
            f"least 2 samples (a batch's variance needs two)"
        )
    lone = [b for b in batch_size if b > 1 and samples % b == 1]
    if True in batch_norm and lone:
        fits = [b for b in range(2, samples + 1) if samples % b != 1]
        near = sorted(fits, key=lambda b: (abs(b - lone[0]), b))[:3]
        raise ConfigError(
            f"{labels['batch_size']} is {lone[0]} with batch norm on and {samples} samples: "
            f"the last mini-batch of each epoch would hold 1 sample (its variance is 0); "
            f"expected a batch size that leaves at least 2, e.g. "
            f"{', '.join(map(str, sorted(near)))}"
        )
    architectures = len(batch_size) * len(dropout) * len(batch_norm) * (
        len(bias) * len(activations) * len(losses) * len(inits) * len(clip_value)
        * len(clip_norm) * len(schedules) * len(target_error)
    )  # fmt: skip
    seeds = check.axis(
        values["seeds"], labels["seeds"], grid.parse_ints, check.seed_value, check.SEED_EXPECTED
    )
    names = check.optimizer_name_list(values["optimizers"], labels["optimizers"])
    optimizers = param_checks.optimizer_params_value(
        values["optimizer_params"], labels["optimizer_params"], names
    )
    weight_decay = check.axis(
        values["weight_decay"], labels["weight_decay"], grid.parse_floats, check.off_or_positive,
        check.OFF_EXPECTED,
    )  # fmt: skip
    if weight_decay != (0.0,) and any(
        key == "weight_decay" for _, given in optimizers for key, _ in given
    ):
        raise ConfigError(
            f"{labels['weight_decay']} and weight_decay in {labels['optimizer_params']} are "
            f"both given; expected one of them"
        )
    momentum = param_checks.momentum_axis(values.get("momentum"), labels["momentum"], optimizers)
    optimizer_alphas = None
    if isinstance(values["alphas"], dict):
        optimizer_alphas = param_checks.alphas_by_optimizer(
            values["alphas"], labels["alphas"], names, labels["optimizers"].startswith("option")
        )
        alphas = tuple(dict.fromkeys(a for its in optimizer_alphas for a in its))
        count = sum(len(its) for its in optimizer_alphas)
    else:
        alphas = check.axis(
            values["alphas"],
            labels["alphas"],
            grid.parse_floats,
            check.alpha_value,
            check.ALPHA_EXPECTED,
        )
        count = len(names) * len(alphas)
    networks = count * len(weight_decay) * max(1, len(momentum)) * len(hidden) * len(seeds)
    networks *= architectures
    if networks > check.MAX_NETWORKS:
        axes, sizes = "hidden x alphas x seeds", f"{len(hidden)} x {len(alphas)} x {len(seeds)}"
        if architectures > 1:
            axes, sizes = f"{axes} x architectures", f"{sizes} x {architectures}"
        if len(names) > 1:
            axes, sizes = f"optimizers x {axes}", f"{len(names)} x {sizes}"
        raise ConfigError(
            f"the grid {axes} is {sizes} = {networks} networks; expected at most {check.MAX_NETWORKS}"
        )
    iterations = check.positive_int(
        values["iterations"], labels["iterations"], check.MAX_ITERATIONS
    )
    log_every = check.positive_int(values["log_every"], labels["log_every"], check.MAX_ITERATIONS)
    checkpoints = -(-iterations // log_every)
    if networks * checkpoints > check.MAX_RECORDED:
        least = -(-iterations // (check.MAX_RECORDED // networks))
        raise check.bad(
            labels["log_every"],
            values["log_every"],
            f"at least {least} ({networks} networks x {checkpoints} checkpoints is more "
            f"than {check.MAX_RECORDED} recorded errors)",
        )
    record_every = check.record_every_value(
        values.get("record_every"), labels["record_every"], iterations, networks
    )
    engine_name = check.engine_name(values.get("engine", "auto"), labels["engine"])
    return Experiment(
        name=name or dataset.name,
        dataset=dataset,
        dataset_ref=ref,
        hidden=hidden,
        alphas=alphas,
        iterations=iterations,
        seeds=seeds,
        log_every=log_every,
        record_every=record_every,
        engine=engine_name,
        optimizers=optimizers,
        optimizer_alphas=optimizer_alphas,
        bias=bias,
        activations=activations,
        losses=losses,
        inits=inits,
        clip_value=clip_value,
        clip_norm=clip_norm,
        schedules=schedules,
        target_error=target_error,
        weight_decay=weight_decay,
        momentum=momentum,
        batch_size=batch_size,
        dropout=dropout,
        batch_norm=batch_norm,
    )


def resolve(
    path: Path | None,
    overrides: dict[str, Any],
    defaults: dict[str, Any],
    flags: dict[str, str] | None = None,
) -> Experiment:
    """The experiment of a config file (or none) with command-line overrides applied.

    ``overrides`` maps config keys (``alphas``, ``hidden``, ``iterations``, ``seeds``,
    ``log_every``, ``dataset``, ``name``) to the option's raw text; each is checked by the
    same validator as the file's key, and errors name the option: as typed, from
    ``flags`` (``--alpha``), or the setting's canonical option (``--alphas``).
    """
    values = dict(defaults)
    labels = {key: f"key '{key}'" for key in check.KEYS}
    base = Path()
    name = None
    digest = None
    if path is not None:
        raw, digest = read_yaml_and_hash(path)
        where = shown(path)
        for key in raw:
            if key not in check.KEYS:
                raise ConfigError(check.unknown_key(where, key, check.KEYS))
        labels = {key: f"{where}: key '{key}'" for key in check.KEYS}
        values.update(_merge_pairs(raw, where, labels))
        if path != STDIN:  # a CSV path in a config is relative to the config file
            base = path.parent
            name = datasets.safe_name(path.stem) or None
    for key, text in overrides.items():
        values[key] = text
        flag = (flags or {}).get(key) or axes.BY_KEY[key].option
        labels[key] = f"option {flag}"
    if "dataset" in overrides:
        base = Path()  # ... and relative to the working directory on the command line
    experiment = _build(values, labels, base, name)
    return experiment if digest is None else replace(experiment, config_sha256=digest)


def as_dict(experiment: Experiment) -> dict[str, Any]:
    """The experiment as plain data, in config-file form (used for config.yaml and JSON).

    Datasets that did not come by a built-in name are written inline, so the resolved
    config reruns the same data even if a CSV file changes later.
    """
    data = experiment.dataset
    dataset: Any = experiment.dataset_ref
    if dataset is None:
        dataset = {
            "name": data.name,
            "inputs": [list(row) for row in data.inputs],
            "targets": [list(row) for row in data.targets],
        }
    out = {
        "name": experiment.name,
        "dataset": dataset,
        # a layer list is written 8x4 (a YAML list [8, 4] would be a sweep of 8 and 4)
        "hidden": _whole_numbers(experiment.hidden)
        if all(isinstance(h, int) for h in experiment.hidden)
        else _scalar_or_list(
            tuple(grid.show_hidden(h) if isinstance(h, tuple) else h for h in experiment.hidden)
        ),
        "alphas": _scalar_or_list(experiment.alphas)
        if experiment.optimizer_alphas is None
        else {
            name: _scalar_or_list(its)
            for (name, _), its in zip(experiment.optimizers, experiment.optimizer_alphas)
        },
        "iterations": experiment.iterations,
        "seeds": _whole_numbers(experiment.seeds),
        "log_every": experiment.log_every,
    }
    # keys at the tutorial's defaults are left out (plain sgd, nothing set)
    if experiment.optimizers != grid.PLAIN_SGD:
        out["optimizers"] = _scalar_or_list(tuple(name for name, _ in experiment.optimizers))
        params = {name: plain_params(dict(given)) for name, given in experiment.optimizers if given}
        if params:
            out["optimizer_params"] = params
    # the other network settings, each left out when unset or at the tutorial's value
    for setting in axes.COLUMNS:
        if setting.key in axes.IDENTITY or setting.params is not None:
            continue  # written above, or with their parameters
        value = getattr(experiment, setting.key)
        if value and _scalar_or_list(value) != setting.tutorial:
            out[setting.key] = _scalar_or_list(value)
    if experiment.schedules != (("constant", ()),):
        out["schedules"] = _scalar_or_list(tuple(name for name, _ in experiment.schedules))
        params: dict[str, Any] = {}
        for _, given in experiment.schedules:
            params.update(given)
        if params:
            out["schedule_params"] = params
    if experiment.record_every:  # the default spacing is not written
        out["record_every"] = experiment.record_every
    if experiment.engine != "auto":  # the default engine is not written
        out["engine"] = experiment.engine
    return out


def dump(experiment: Experiment) -> str:
    """The experiment as YAML that :func:`resolve` reads back to an equal experiment."""
    return yaml.safe_dump(as_dict(experiment), sort_keys=False, default_flow_style=False, width=100)


def _whole_numbers(values: tuple[int, ...]) -> Any:
    """Hidden sizes or seeds: a run of 3 or more consecutive numbers is written in the
    sweep grammar ("1..1000"), which reads back to the same tuple."""
    if len(values) >= 3 and values == tuple(range(values[0], values[-1] + 1)):
        return f"{values[0]}..{values[-1]}"
    return _scalar_or_list(values)


def _scalar_or_list(values: tuple) -> Any:
    return values[0] if len(values) == 1 else list(values)
