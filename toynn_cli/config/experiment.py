"""An experiment: the validated settings whose product is the grid of networks
(:class:`Experiment`), the tutorial's defaults, and its config.yaml form (:func:`as_dict`,
:func:`dump`). Building one from a config and options: config/build.py; the keys a
config may hold: docs/configs.md."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import yaml

from toynn_cli import axes
from toynn_cli.axes.setting import plain as plain_params
from toynn_cli.config import grid
from toynn_cli.core.datasets import Dataset
from toynn_cli.core.network import Grid

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

    def networks(self) -> Grid:
        """Every network of the grid: optimizers x weight decays x hidden x architectures
        x alphas x seeds. Made once (10^6 networks take seconds; the engine check and
        the plan both need them): each call gives the same Grid, which cannot be
        changed (``list()`` copies it)."""
        made = self.__dict__.get("_networks")
        if made is None:
            made = self._grid()
            object.__setattr__(self, "_networks", made)  # a cache, not a field
        return made

    def _grid(self) -> Grid:
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
