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
    engine:     numpy | numba | numba-fast     (numba: optional, pip install 'toynn[fast]')
    optimizer(s): sgd | [sgd, momentum, adam] | "sgd,adam"   (default: sgd, the tutorial)
    optimizer_params: {betas: [0.9, 0.99]}          applies to every optimizer that has it
                    | {adam: {betas: [0.9, 0.99]}, momentum: {momentum: 0.8}}  per optimizer
"""

from __future__ import annotations

import difflib
import itertools
import math
import re
import reprlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from toynn_cli import axes, datasets, engine, grid, optim
from toynn_cli.datasets import Dataset
from toynn_cli.engine import ENGINES, NetworkSpec


class ConfigError(ValueError):
    """A config or option value that cannot be used; the message is one line."""


KEYS = axes.CONFIG_KEYS
DATASET_KEYS = ("name", "inputs", "targets")
GENERATED_KEYS = ("name", "samples", "noise", "seed")
CSV_KEYS = ("path", "targets")
MAX_SEED = 2**32 - 1
#: Limits that turn inputs which would exhaust memory or never finish into one-line errors.
MAX_HIDDEN = 100_000
MAX_HIDDEN_WEIGHTS = 1_000_000  # weights between the hidden layers of a layer list
MAX_ITERATIONS = 10**12
MAX_NETWORKS = 1_000_000
MAX_RECORDED = 10_000_000  # networks x checkpoints: the checkpoint errors kept in memory
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")

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
    #: the error history's spacing: every K iterations; 0: about engine.HISTORY_POINTS
    #: points per run (see engine.history_schedule)
    record_every: int = 0
    engine: str = "numpy"  # which engine trains it (results agree to 1e-9 or better)
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
    batch_size: tuple[int, ...] = (0,)
    dropout: tuple[float, ...] = (0.0,)
    batch_norm: tuple[bool, ...] = (False,)

    def architectures(self) -> list[dict[str, Any]]:
        """Every combination of bias x activation x loss x clip_value x clip_norm x
        schedule x target_error x batch_size x dropout x batch_norm x init, as NetworkSpec
        fields."""
        return [
            {
                "bias": b,
                "activation": a,
                "loss": lo,
                "init": i,
                "clip_value": cv,
                "clip_norm": cn,
                "schedule": name,
                "schedule_params": params,
                "target_error": te,
                "batch_size": bs,
                "dropout": dp,
                "batch_norm": bn,
            }
            for b in self.bias
            for a in self.activations
            for lo in self.losses
            for cv in self.clip_value
            for cn in self.clip_norm
            for name, params in self.schedules
            for te in self.target_error
            for bs in self.batch_size
            for dp in self.dropout
            for bn in self.batch_norm
            for i in self.inits  # innermost: init is not part of the layout, so every
            # layout's networks stay contiguous in the grid (one chunk run each)
        ]

    def networks(self) -> list[NetworkSpec]:
        """Every network of the grid: optimizers x weight decays x hidden x architectures
        x alphas x seeds."""
        optimizers = [
            (name, (*params, ("weight_decay", wd)) if wd else params)
            for name, params in self.optimizers
            for wd in self.weight_decay
        ]
        per = None
        if self.optimizer_alphas is not None:
            per = [its for its in self.optimizer_alphas for _ in self.weight_decay]
        return grid.expand(
            self.hidden, self.alphas, self.seeds, optimizers, per, self.architectures()
        )

    def swept_axes(self) -> dict[str, int]:
        """The axes that hold more than one value, with their counts."""
        axes = {
            "optimizers": len(self.optimizers),
            "hidden": len(self.hidden),
            "bias": len(self.bias),
            "activations": len(self.activations),
            "losses": len(self.losses),
            "inits": len(self.inits),
            "clip_value": len(self.clip_value),
            "clip_norm": len(self.clip_norm),
            "schedules": len(self.schedules),
            "target_error": len(self.target_error),
            "weight_decay": len(self.weight_decay),
            "batch_size": len(self.batch_size),
            "dropout": len(self.dropout),
            "batch_norm": len(self.batch_norm),
            # with per-optimizer alphas, the most any one optimizer has
            "alphas": len(self.alphas)
            if self.optimizer_alphas is None
            else max(len(its) for its in self.optimizer_alphas),
            "seeds": len(self.seeds),
        }
        return {axis: n for axis, n in axes.items() if n > 1}


# --- value validators: each takes the raw value and a label naming where it came from ---


class _Bad(Exception):
    """Raised by the item checks below; the caller words the one-line message."""


def _fail(label: str, value: Any, expected: str) -> ConfigError:
    return ConfigError(f"{label} is {_show(value)}; expected {expected}")


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict = 3, 8, 6
_REPR.maxstring, _REPR.maxother, _REPR.maxlong = 50, 50, 30


def _show(value: Any) -> str:
    """A short repr: bounded in depth and length (a YAML alias bomb must not hang it)."""
    text = _REPR.repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _whole(value: Any) -> int:
    """A whole number from an int, an integral float or a numeric string."""
    if isinstance(value, bool):
        raise _Bad
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[+-]?\d{1,30}", text):
            return int(text)
        try:
            number = float(text)
        except ValueError:
            raise _Bad from None
        if math.isfinite(number) and number.is_integer():
            return int(number)
    raise _Bad


def _positive_int(value: Any, label: str, high: int) -> int:
    """A whole number from 1 to ``high`` (iterations, log_every)."""
    try:
        number = _whole(value)
    except _Bad:
        raise _fail(label, value, "a whole number > 0") from None
    if number <= 0:
        raise _fail(label, value, "a whole number > 0")
    if number > high:
        raise _fail(label, value, f"a whole number from 1 to {high}")
    return number


ALPHA_EXPECTED = "a finite number > 0"
HIDDEN_EXPECTED = f"a whole number from 0 to {MAX_HIDDEN} (0: no hidden layer)"
SEED_EXPECTED = f"a whole number from 0 to {MAX_SEED}"


def _alpha(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Bad
    try:
        number = float(value)
    except OverflowError:  # an int beyond the float range
        raise _Bad from None
    if not math.isfinite(number) or number <= 0:
        raise _Bad
    return number


def _hidden(value: Any) -> int | tuple[int, ...]:
    """One hidden size (0: none), or a layer list (a YAML list, or 8x4 from the grammar)
    of sizes from 1; a list of one size is that size."""
    if isinstance(value, list | tuple):
        if not 1 <= len(value) <= grid.MAX_LAYERS:
            raise _Bad
        sizes = tuple(_whole(v) for v in value)
        if not all(1 <= v <= MAX_HIDDEN for v in sizes):
            raise _Bad
        if sum(a * b for a, b in itertools.pairwise(sizes)) > MAX_HIDDEN_WEIGHTS:
            raise _Bad
        return sizes[0] if len(sizes) == 1 else sizes
    number = _whole(value)
    if not 0 <= number <= MAX_HIDDEN:
        raise _Bad
    return number


def _seed(value: Any) -> int:
    number = _whole(value)
    if not 0 <= number <= MAX_SEED:
        raise _Bad
    return number


def _axis(
    value: Any,
    label: str,
    parse: Callable[[str], tuple],
    item: Callable[[Any], Any],
    expected: str,
) -> tuple:
    """An axis value: one item, a grammar string, or a list of items/grammar strings.

    A value that fails is named by where it came from: the whole value, a list item
    (``key 'alphas' item 2``), and for a grammar string the offending number."""
    values: list = []
    many = isinstance(value, list)
    for i, part in enumerate(value if many else [value], start=1):
        where = f"{label} item {i}" if many else label
        if isinstance(part, str):
            try:
                parsed = parse(part)
            except grid.GrammarError as exc:
                raise ConfigError(f"{where} is {_show(part)}; {exc}") from None
            for v in parsed:
                try:
                    values.append(item(v))
                except _Bad:
                    which = "" if len(parsed) == 1 else f", not {_shown(v)}"
                    raise ConfigError(
                        f"{where} is {_show(part)}; expected {_expected(expected, v)}{which}"
                    ) from None
        else:
            try:
                values.append(item(part))
            except _Bad:
                raise _fail(where, part, _expected(expected, part)) from None
    if not values:
        raise _fail(label, value, "at least one value")
    seen: set = set()
    for v in values:
        if v in seen:
            raise _fail(label, value, f"each value once; {_shown(v)} is repeated")
        seen.add(v)
    return tuple(values)


LAYERS_EXPECTED = (
    f"a layer list of 1 to {grid.MAX_LAYERS} sizes, each a whole number from 1 to "
    f"{MAX_HIDDEN}, with at most {MAX_HIDDEN_WEIGHTS} weights between hidden layers"
)


def _shown(value: Any) -> str:
    if isinstance(value, list | tuple):
        return grid.show_hidden(tuple(value))
    return grid.show_number(value)


def _expected(expected: str, value: Any) -> str:
    """What a value was expected to be; a layer list has its own wording."""
    if expected == HIDDEN_EXPECTED and isinstance(value, list | tuple):
        return LAYERS_EXPECTED
    return expected


OPTIMIZER_EXPECTED = f"an optimizer: {', '.join(optim.NAMES)}"


def _optimizer_names(value: Any, label: str) -> tuple[str, ...]:
    """``sgd``, ``"sgd,adam"`` or a list of names; each once."""
    return _names(value, label, optim.NAMES, "an optimizer", "optimizer")


def _names(
    value: Any, label: str, choices: tuple[str, ...], what: str, noun: str
) -> tuple[str, ...]:
    """An axis of names: one, ``"a,b"`` or a list; each one of ``choices``, each once."""
    expected = f"{what}: {', '.join(choices)}"
    many = isinstance(value, list)
    names: list[str] = []
    for i, part in enumerate(value if many else [value], start=1):
        where = f"{label} item {i}" if many else label
        if not isinstance(part, str) or not part.strip():
            raise _fail(where, part, expected)
        for item in part.split(","):
            name = item.strip().lower()
            if name not in choices:
                hint = difflib.get_close_matches(name, choices, n=1)
                suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
                which = "" if item.strip() == part.strip() else f", not {_show(item.strip())}"
                raise ConfigError(
                    f"{where} is {_show(part)}; expected {expected}{which}{suggestion}"
                )
            names.append(name)
    if not names:
        raise _fail(label, value, f"at least one {noun}")
    for name in names:
        if names.count(name) > 1:
            raise _fail(label, value, f"each {noun} once; {name} is repeated")
    return tuple(names)


BIAS_EXPECTED = "true, false, or both: [false, true]"


def _bias(value: Any, label: str) -> tuple[bool, ...]:
    """``true``, ``false``, ``[false, true]`` or the option's ``"false,true"``."""
    parts = value if isinstance(value, list) else [value]
    flags: list[bool] = []
    for part in parts:
        items = part.split(",") if isinstance(part, str) else [part]
        for item in items:
            if isinstance(item, str) and item.strip().lower() in ("true", "false"):
                item = item.strip().lower() == "true"
            if not isinstance(item, bool):
                raise _fail(label, value, BIAS_EXPECTED)
            flags.append(item)
    if not flags or len(set(flags)) != len(flags):
        raise _fail(label, value, BIAS_EXPECTED + ", each once")
    return tuple(flags)


def _optimizer_params(
    value: Any, label: str, names: tuple[str, ...]
) -> tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]:
    """Distribute ``optimizer_params`` over the chosen optimizers.

    A key that names an optimizer and holds a mapping sets that optimizer's
    hyperparameters; any other key is a hyperparameter set for every chosen optimizer
    that has it (and must belong to at least one). Values are checked as torch.optim
    would check them."""
    raw = value
    if isinstance(value, str):  # the command line's text: a YAML flow mapping
        try:
            value = yaml.load(value, Loader=_Loader) if value.strip() else {}
        except (yaml.YAMLError, ValueError, TypeError, RecursionError):
            raise _fail(label, value, "a mapping like '{betas: [0.9, 0.99], eps: 1e-8}'") from None
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise _fail(label, raw, "a mapping like '{betas: [0.9, 0.99], eps: 1e-8}'")
    chosen: dict[str, dict[str, Any]] = {name: {} for name in names}

    def put(name: str, key: Any, item: Any, where: str) -> None:
        try:
            chosen[name][key] = optim.check(name, key, item)
        except optim.HyperparameterError as exc:
            raise _fail(f"{where} ({name})", item, str(exc)) from None

    for key, item in value.items():
        where = f"{label} key {_show(key)}"
        if key in optim.NAMES and isinstance(item, dict):
            if key not in names:
                raise ConfigError(
                    f"{where}: {key} is not among the optimizers ({', '.join(names)}); "
                    f"expected hyperparameters of a chosen optimizer"
                )
            for sub, sub_item in item.items():
                if sub not in optim.SETTABLE[key]:
                    raise ConfigError(_unknown(f"{where}", sub, optim.SETTABLE[key]))
                put(key, sub, sub_item, f"{where} key {_show(sub)}")
            continue
        takers = [name for name in names if key in optim.SETTABLE[name]]
        if not takers:
            valid = tuple(dict.fromkeys(k for name in names for k in optim.SETTABLE[name]))
            raise ConfigError(_unknown(f"{label} (optimizers {', '.join(names)})", key, valid))
        for name in takers:
            put(name, key, item, where)
    result = []
    for name in names:
        try:
            optim.resolve(name, chosen[name])  # combinations (nesterov needs momentum > 0)
        except optim.HyperparameterError as exc:
            raise _fail(f"{label} ({name})", raw, str(exc)) from None
        result.append((name, tuple(chosen[name].items())))
    return tuple(result)


def _name(value: Any, label: str) -> str:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise _fail(
            label,
            value,
            "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit",
        )
    return value


def _dataset(value: Any, label: str, base: Path) -> tuple[Dataset, str | dict[str, Any] | None]:
    try:
        if isinstance(value, dict):
            if "path" in value:
                return _csv_dataset(value, label, base), None
            if value.get("name") in datasets.GENERATED and "inputs" not in value:
                return _generated(value, label)
            if value.get("name") in datasets.BUILTIN and set(value) == {"name"}:
                return datasets.BUILTIN[value["name"]], value["name"]
            unknown = [key for key in value if key not in DATASET_KEYS]
            if unknown:
                raise ConfigError(_unknown(f"{label}", unknown[0], DATASET_KEYS))
            for key in ("inputs", "targets"):
                if key not in value:
                    raise ConfigError(
                        f"{label} has no '{key}'; expected a mapping with inputs and targets"
                    )
            name = _name(value.get("name", "inline"), f"{label} name")
            return datasets.from_lists(name, value["inputs"], value["targets"], label), None
        if isinstance(value, str) and value in datasets.BUILTIN:
            return datasets.BUILTIN[value], value
        if isinstance(value, str) and (value.lower().endswith(".csv") or "/" in value):
            return datasets.load_csv(base / value, f"{label} is {_show(value)}"), None
    except datasets.DataError as exc:
        raise ConfigError(str(exc)) from None
    names = ", ".join(datasets.BUILTIN)
    hint = (
        difflib.get_close_matches(value.lower(), list(datasets.BUILTIN), n=1)
        if isinstance(value, str)
        else []
    )
    suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
    raise _fail(
        label,
        value,
        f"a built-in dataset ({names}), a .csv path or a mapping with inputs and targets"
        f"{suggestion}",
    )


def _generated(value: dict[str, Any], label: str) -> tuple[Dataset, dict[str, Any]]:
    """A generated 2-D set from ``{name:, samples:, noise:, seed:}`` (missing keys take
    the set's defaults); returns it with the complete mapping, which regenerates it."""
    unknown = [key for key in value if key not in GENERATED_KEYS]
    if unknown:
        raise ConfigError(_unknown(f"{label}", unknown[0], GENERATED_KEYS))
    name = value["name"]
    params = dict(datasets.GENERATED[name])
    checks: dict[str, tuple[Callable[[Any], Any], str]] = {
        "samples": (_samples, f"a whole number from 2 to {datasets.MAX_SAMPLES}"),
        "noise": (_noise, "a finite number >= 0 (the standard deviation of the noise)"),
        "seed": (_seed, SEED_EXPECTED),
    }
    for key, (check, expected) in checks.items():
        if key in value:
            try:
                params[key] = check(value[key])
            except _Bad:
                raise _fail(f"{label} {key}", value[key], expected) from None
    return datasets.generate(name, **params), {"name": name, **params}


def _samples(value: Any) -> int:
    number = _whole(value)
    if not 2 <= number <= datasets.MAX_SAMPLES:
        raise _Bad
    return number


def _noise(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Bad
    try:
        number = float(value)
    except OverflowError:
        raise _Bad from None
    if not (math.isfinite(number) and number >= 0):
        raise _Bad
    return number


def _csv_dataset(value: dict[str, Any], label: str, base: Path) -> Dataset:
    """``{path: data.csv, targets: [y1, y2]}``: a CSV file whose header names the target
    columns (without ``targets``, the last column is the target)."""
    unknown = [key for key in value if key not in CSV_KEYS]
    if unknown:
        raise ConfigError(_unknown(f"{label}", unknown[0], CSV_KEYS))
    path = value["path"]
    if not isinstance(path, str) or not path:
        raise _fail(f"{label} path", path, "a CSV file's path")
    targets = value.get("targets")
    if targets is not None:
        if isinstance(targets, str):
            targets = [targets]
        if (
            not isinstance(targets, list)
            or not targets
            or not all(isinstance(t, str) and t.strip() for t in targets)
            or len(set(targets)) != len(targets)
        ):
            raise _fail(f"{label} targets", value["targets"], "a list of distinct column names")
        targets = tuple(t.strip() for t in targets)
    return datasets.load_csv(base / path, f"{label} path is {_show(path)}", targets)


def _engine(value: Any, label: str) -> str:
    if not isinstance(value, str) or value not in ENGINES:
        raise _fail(label, value, f"one of: {', '.join(ENGINES)}")
    return value


def _unknown(where: str, key: Any, valid: tuple[str, ...]) -> str:
    hint = difflib.get_close_matches(str(key), valid, n=1, cutoff=0.5)
    suggestion = f"did you mean '{hint[0]}'? " if hint else ""
    return f"{where}: unknown key {_show(key)}; {suggestion}expected one of: {', '.join(valid)}"


# --- building an experiment ---------------------------------------------------------------


def _merge_pairs(raw: dict[str, Any], path: Path, labels: dict[str, str]) -> dict[str, Any]:
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
    dataset, ref = _dataset(values["dataset"], labels["dataset"], base)
    if "name" in values:
        name = _name(values["name"], labels["name"])
    hidden = _axis(values["hidden"], labels["hidden"], grid.parse_hidden, _hidden, HIDDEN_EXPECTED)
    bias = _bias(values["bias"], labels["bias"])
    activations = _names(
        values["activations"], labels["activations"], engine.ACTIVATIONS, "an activation",
        "activation",
    )  # fmt: skip
    losses = _names(values["losses"], labels["losses"], engine.LOSSES, "a loss", "loss")
    inits = _names(
        values["inits"], labels["inits"], engine.INITS, "an initialisation", "initialisation"
    )
    clip_value = _axis(
        values["clip_value"], labels["clip_value"], grid.parse_floats, _off_or_positive,
        OFF_EXPECTED,
    )  # fmt: skip
    clip_norm = _axis(
        values["clip_norm"], labels["clip_norm"], grid.parse_floats, _off_or_positive,
        OFF_EXPECTED,
    )  # fmt: skip
    target_error = _axis(
        values["target_error"], labels["target_error"], grid.parse_floats, _off_or_positive,
        OFF_EXPECTED,
    )  # fmt: skip
    schedule_names = _names(
        values["schedules"], labels["schedules"], tuple(engine.SCHEDULES), "a schedule",
        "schedule",
    )  # fmt: skip
    schedules = _schedule_params(
        values["schedule_params"], labels["schedule_params"], schedule_names
    )
    samples = len(dataset.inputs)
    batch_expected = f"a whole number from 0 to {samples} (the number of samples; 0: full batch)"

    def batch(value: Any) -> int:
        number = _whole(value)
        if not 0 <= number <= samples:
            raise _Bad
        return number

    batch_size = _axis(
        values["batch_size"], labels["batch_size"], grid.parse_ints, batch, batch_expected
    )
    dropout = _axis(
        values["dropout"], labels["dropout"], grid.parse_floats, _probability,
        DROPOUT_EXPECTED,
    )  # fmt: skip
    batch_norm = _bias(values["batch_norm"], labels["batch_norm"])
    if True in batch_norm and (1 in batch_size or (0 in batch_size and samples == 1)):
        raise ConfigError(
            f"{labels['batch_norm']} is true with batches of 1 sample; expected batches of at "
            f"least 2 samples (a batch's variance needs two)"
        )
    architectures = len(batch_size) * len(dropout) * len(batch_norm) * (
        len(bias) * len(activations) * len(losses) * len(inits) * len(clip_value)
        * len(clip_norm) * len(schedules) * len(target_error)
    )  # fmt: skip
    seeds = _axis(values["seeds"], labels["seeds"], grid.parse_ints, _seed, SEED_EXPECTED)
    names = _optimizer_names(values["optimizers"], labels["optimizers"])
    optimizers = _optimizer_params(values["optimizer_params"], labels["optimizer_params"], names)
    weight_decay = _axis(
        values["weight_decay"], labels["weight_decay"], grid.parse_floats, _off_or_positive,
        OFF_EXPECTED,
    )  # fmt: skip
    if weight_decay != (0.0,) and any(
        key == "weight_decay" for _, given in optimizers for key, _ in given
    ):
        raise ConfigError(
            f"{labels['weight_decay']} and weight_decay in {labels['optimizer_params']} are "
            f"both given; expected one of them"
        )
    optimizer_alphas = None
    if isinstance(values["alphas"], dict):
        optimizer_alphas = _alphas_by_optimizer(
            values["alphas"], labels["alphas"], names, labels["optimizers"].startswith("option")
        )
        alphas = tuple(dict.fromkeys(a for its in optimizer_alphas for a in its))
        count = sum(len(its) for its in optimizer_alphas)
    else:
        alphas = _axis(
            values["alphas"], labels["alphas"], grid.parse_floats, _alpha, ALPHA_EXPECTED
        )
        count = len(names) * len(alphas)
    networks = count * len(weight_decay) * len(hidden) * len(seeds) * architectures
    if networks > MAX_NETWORKS:
        axes, sizes = "hidden x alphas x seeds", f"{len(hidden)} x {len(alphas)} x {len(seeds)}"
        if architectures > 1:
            axes, sizes = f"{axes} x architectures", f"{sizes} x {architectures}"
        if len(names) > 1:
            axes, sizes = f"optimizers x {axes}", f"{len(names)} x {sizes}"
        raise ConfigError(
            f"the grid {axes} is {sizes} = {networks} networks; expected at most {MAX_NETWORKS}"
        )
    iterations = _positive_int(values["iterations"], labels["iterations"], MAX_ITERATIONS)
    log_every = _positive_int(values["log_every"], labels["log_every"], MAX_ITERATIONS)
    checkpoints = -(-iterations // log_every)
    if networks * checkpoints > MAX_RECORDED:
        least = -(-iterations // (MAX_RECORDED // networks))
        raise _fail(
            labels["log_every"],
            values["log_every"],
            f"at least {least} ({networks} networks x {checkpoints} checkpoints is more "
            f"than {MAX_RECORDED} recorded errors)",
        )
    record_every = _record_every(
        values.get("record_every"), labels["record_every"], iterations, networks
    )
    engine_name = _engine(values.get("engine", "numpy"), labels["engine"])
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
        batch_size=batch_size,
        dropout=dropout,
        batch_norm=batch_norm,
    )


def _record_every(value: Any, label: str, iterations: int, networks: int) -> int:
    """``record_every``: a whole number K > 0, or absent / ``auto`` (0: the default
    spacing). A K that records more than the default must keep networks x history
    points within MAX_RECORDED (the history is kept in memory and written to JSON)."""
    if value is None or value == "auto":
        return 0
    try:
        every = _whole(value)
    except _Bad:
        raise _fail(label, value, "a whole number > 0, or auto") from None
    if every <= 0 or every > MAX_ITERATIONS:
        raise _fail(label, value, f"a whole number from 1 to {MAX_ITERATIONS}, or auto")
    points = engine.history_length(iterations, every)
    if points > engine.history_length(iterations) and networks * points > MAX_RECORDED:
        # each network may record MAX_RECORDED // networks errors, one of them tail_start
        least = -(-iterations // max(1, MAX_RECORDED // networks - 1))
        raise _fail(
            label,
            value,
            f"at least {least}, or auto ({networks} networks x {points} history points "
            f"is more than {MAX_RECORDED} recorded errors)",
        )
    return every


DROPOUT_EXPECTED = "a number from 0 to below 1 (0: off)"


def _probability(value: Any) -> float:
    """A dropout probability: 0 <= p < 1."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Bad
    number = float(value)
    if not 0 <= number < 1:
        raise _Bad
    return number


OFF_EXPECTED = "a finite number >= 0 (0: off)"


def _off_or_positive(value: Any) -> float:
    """A finite number >= 0, where 0 switches the option off."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value == 0:
        return 0.0
    return _alpha(value)


def _schedule_params(
    value: Any, label: str, names: tuple[str, ...]
) -> tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]:
    """``schedule_params``: each key is set for every chosen schedule that has it."""
    raw = value
    if isinstance(value, str):  # the command line's text: a YAML flow mapping
        try:
            value = yaml.load(value, Loader=_Loader) if value.strip() else {}
        except (yaml.YAMLError, ValueError, TypeError, RecursionError):
            raise _fail(label, value, "a mapping like '{step_size: 1000, gamma: 0.5}'") from None
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise _fail(label, raw, "a mapping like '{step_size: 1000, gamma: 0.5}'")
    chosen: dict[str, dict[str, Any]] = {name: {} for name in names}
    for key, item in value.items():
        takers = [name for name in names if key in engine.SCHEDULES[name]]
        if not takers:
            valid = tuple(dict.fromkeys(k for name in names for k in engine.SCHEDULES[name]))
            raise ConfigError(
                _unknown(f"{label} (schedules {', '.join(names)})", key, valid)
                if valid
                else f"{label} (schedules {', '.join(names)}): unknown key {_show(key)}; "
                f"expected no parameters for these schedules"
            )
        where = f"{label} key {_show(key)}"
        if key in ("step_size", "t_max"):
            try:
                number = _whole(item)
            except _Bad:
                number = -1
            low = 1 if key == "step_size" else 0
            if isinstance(item, bool) or number < low or number > MAX_ITERATIONS:
                raise _fail(where, item, f"a whole number from {low} to {MAX_ITERATIONS}")
            checked: Any = number
        elif key == "gamma":
            try:
                checked = _alpha(item)
            except _Bad:
                checked = 2.0
            if checked > 1:
                raise _fail(where, item, "a number > 0 and <= 1")
        else:  # eta_min
            try:
                checked = _off_or_positive(item)
            except _Bad:
                raise _fail(where, item, "a finite number >= 0") from None
        for name in takers:
            chosen[name][key] = checked
    return tuple((name, tuple(chosen[name].items())) for name in names)


def _alphas_by_optimizer(
    value: dict, label: str, names: tuple[str, ...], chosen: bool = False
) -> tuple[tuple[float, ...], ...]:
    """``alphas: {sgd: 0.5, adam: "0.001,0.01"}``: each chosen optimizer's own alphas.
    With ``chosen`` (--optimizers picked some of the config's), entries for the others
    are left out."""
    for key in value:
        if key not in names and not (chosen and key in optim.NAMES):
            raise ConfigError(
                f"{label}: key {_show(key)} is not among the optimizers ({', '.join(names)}); "
                f"expected one entry per optimizer"
            )
    per = []
    for name in names:
        if name not in value:
            raise ConfigError(f"{label} has no entry for {name}; expected one per optimizer")
        per.append(_axis(value[name], f"{label} {name}", grid.parse_floats, _alpha, ALPHA_EXPECTED))
    return tuple(per)


class _DuplicateKey(yaml.MarkedYAMLError):
    """A mapping key given twice (PyYAML would silently keep the last one)."""


class _Loader(yaml.SafeLoader):
    """PyYAML's SafeLoader (plain values only), refusing a key given twice."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[tuple[str, str]] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                key = (key_node.tag, key_node.value)
                if key in seen:
                    raise _DuplicateKey(
                        problem=f"key {key_node.value!r} appears twice; expected each key once",
                        problem_mark=key_node.start_mark,
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


MAX_CONFIG_BYTES = 16 * 2**20


def read_yaml(path: Path) -> dict[str, Any]:
    """Read a config file into a mapping, or raise ConfigError with one line."""
    try:
        with open(path, "rb") as handle:  # bounded: /dev/zero is not a config
            raw_bytes = handle.read(MAX_CONFIG_BYTES + 1)
        if len(raw_bytes) > MAX_CONFIG_BYTES:
            raise ConfigError(
                f"{path}: is larger than {MAX_CONFIG_BYTES // 2**20} MB; expected a YAML config file"
            )
        text = raw_bytes.decode("utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file; expected a YAML config file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory; expected a YAML config file") from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(f"{path}: cannot read: {reason}; expected a readable YAML file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: byte {exc.object[exc.start]:#04x} at offset {exc.start} is not UTF-8; "
            f"expected a UTF-8 text file"
        ) from None
    try:
        raw = yaml.load(text, Loader=_Loader)  # a SafeLoader subclass: plain values only
    except _DuplicateKey as exc:
        raise ConfigError(f"{path}:{_mark(exc)} {exc.problem}") from None
    except yaml.constructor.ConstructorError as exc:
        tag = re.search(r"tag '([^']*)'", str(exc.problem))
        if tag is None:  # e.g. "found unhashable key"
            raise ConfigError(
                f"{path}:{_mark(exc)} YAML error: {exc.problem}; expected plain values"
            ) from None
        shown = tag.group(1).replace("tag:yaml.org,2002:", "!!")
        raise ConfigError(
            f"{path}:{_mark(exc)} tag {shown!r} is not allowed; expected plain values "
            f"(numbers, strings, lists, mappings)"
        ) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise ConfigError(
            f"{path}: line {line}: character #x{code:04x} is not allowed in YAML; "
            f"expected printable text"
        ) from None
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context = getattr(exc, "context", None)
        if context and problem.startswith("but "):  # "expected a single document ..., but ..."
            problem = f"{context}, {problem}"
        raise ConfigError(f"{path}:{_mark(exc)} YAML syntax error: {problem}") from None
    except RecursionError:
        raise ConfigError(
            f"{path}: YAML nested too deeply; expected a mapping of config keys"
        ) from None
    except (ValueError, TypeError, AttributeError, OverflowError) as exc:  # e.g. !!int abc
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(
            f"{path}: a tagged YAML value cannot be built ({reason}); expected plain values"
        ) from None
    if raw is None:
        raise ConfigError(f"{path}: is empty; expected a mapping of config keys")
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{path}: top level is a {type(raw).__name__}; expected a mapping of config keys"
        )
    return raw


def _mark(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    return f" line {mark.line + 1}, column {mark.column + 1}:" if mark else ""


def resolve(path: Path | None, overrides: dict[str, Any], defaults: dict[str, Any]) -> Experiment:
    """The experiment of a config file (or none) with command-line overrides applied.

    ``overrides`` maps config keys (``alphas``, ``hidden``, ``iterations``, ``seeds``,
    ``log_every``, ``dataset``, ``name``) to the option's raw text; each is checked by the
    same validator as the file's key, and errors name the option.
    """
    values = dict(defaults)
    labels = {key: f"key '{key}'" for key in KEYS}
    base = Path()
    name = None
    if path is not None:
        raw = read_yaml(path)
        for key in raw:
            if key not in KEYS:
                raise ConfigError(_unknown(str(path), key, KEYS))
        labels = {key: f"{path}: key '{key}'" for key in KEYS}
        values.update(_merge_pairs(raw, path, labels))
        base = path.parent  # a CSV path in a config is relative to the config file
        name = datasets.safe_name(path.stem) or None
    for key, text in overrides.items():
        values[key] = text
        labels[key] = f"option --{key.replace('_', '-')}"
    if "dataset" in overrides:
        base = Path()  # ... and relative to the working directory on the command line
    return _build(values, labels, base, name)


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
        params = {name: plain_params(given) for name, given in experiment.optimizers if given}
        if params:
            out["optimizer_params"] = params
    for key, default in (
        ("bias", (False,)),
        ("activations", ("sigmoid",)),
        ("losses", ("squared",)),
        ("inits", ("uniform",)),
        ("clip_value", (0.0,)),
        ("clip_norm", (0.0,)),
        ("target_error", (0.0,)),
        ("weight_decay", (0.0,)),
        ("batch_size", (0,)),
        ("dropout", (0.0,)),
        ("batch_norm", (False,)),
    ):
        if getattr(experiment, key) != default:
            out[key] = _scalar_or_list(getattr(experiment, key))
    if experiment.schedules != (("constant", ()),):
        out["schedules"] = _scalar_or_list(tuple(name for name, _ in experiment.schedules))
        params: dict[str, Any] = {}
        for _, given in experiment.schedules:
            params.update(given)
        if params:
            out["schedule_params"] = params
    if experiment.record_every:  # the default spacing is not written
        out["record_every"] = experiment.record_every
    if experiment.engine != "numpy":  # the default engine is not written
        out["engine"] = experiment.engine
    return out


def plain_params(params: Any) -> dict[str, Any]:
    """Hyperparameters as plain data for YAML and JSON (pairs such as betas as lists)."""
    return {key: list(v) if isinstance(v, tuple) else v for key, v in dict(params).items()}


def dump(experiment: Experiment) -> str:
    """The experiment as YAML that :func:`resolve` reads back to an equal experiment."""
    return yaml.safe_dump(as_dict(experiment), sort_keys=False, default_flow_style=None, width=100)


def _whole_numbers(values: tuple[int, ...]) -> Any:
    """Hidden sizes or seeds: a run of 3 or more consecutive numbers is written in the
    sweep grammar ("1..1000"), which reads back to the same tuple."""
    if len(values) >= 3 and values == tuple(range(values[0], values[-1] + 1)):
        return f"{values[0]}..{values[-1]}"
    return _scalar_or_list(values)


def _scalar_or_list(values: tuple) -> Any:
    return values[0] if len(values) == 1 else list(values)
