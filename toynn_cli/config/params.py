"""Checks of the settings with parameters: optimizer_params and schedule_params
distributed over the chosen optimizers and schedules, the momentum axis, and alphas
given per optimizer."""

from __future__ import annotations

from typing import Any

import yaml

from toynn_cli.config import grid
from toynn_cli.config.check import (
    ALPHA_EXPECTED,
    MAX_ITERATIONS,
    BadValue,
    ConfigError,
    alpha_value,
    axis,
    bad,
    off_or_positive,
    probability_value,
    show,
    unknown_key,
    whole,
)
from toynn_cli.config.yamlfile import Loader
from toynn_cli.core import network, optim

Params = tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]


def mapping(value: Any, label: str, example: str) -> dict[str, Any]:
    """A parameters mapping, from a config or from the command line's text (a YAML flow
    mapping); absent or empty is ``{}``."""
    raw = value
    if isinstance(value, str):
        try:
            value = yaml.load(value, Loader=Loader) if value.strip() else {}
        except (yaml.YAMLError, ValueError, TypeError, RecursionError):
            raise bad(label, raw, f"a mapping like '{example}'") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad(label, raw, f"a mapping like '{example}'")
    return value


def optimizer_params_value(value: Any, label: str, names: tuple[str, ...]) -> Params:
    """Distribute ``optimizer_params`` over the chosen optimizers.

    A key that names an optimizer and holds a mapping sets that optimizer's
    hyperparameters; any other key is a hyperparameter set for every chosen optimizer
    that has it (and must belong to at least one). Values are checked as torch.optim
    would check them."""
    raw = value
    value = mapping(value, label, "{betas: [0.9, 0.99], eps: 1e-8}")
    chosen: dict[str, dict[str, Any]] = {name: {} for name in names}

    def put(name: str, key: Any, item: Any, where: str) -> None:
        try:
            chosen[name][key] = optim.check(name, key, item)
        except optim.HyperparameterError as exc:
            raise bad(f"{where} ({name})", item, str(exc)) from None

    for key, item in value.items():
        where = f"{label} key {show(key)}"
        if key in optim.NAMES and isinstance(item, dict):
            if key not in names:
                raise ConfigError(
                    f"{where}: {key} is not among the optimizers ({', '.join(names)}); "
                    f"expected hyperparameters of a chosen optimizer"
                )
            for sub, sub_item in item.items():
                if sub not in optim.SETTABLE[key]:
                    raise ConfigError(unknown_key(f"{where}", sub, optim.SETTABLE[key]))
                put(key, sub, sub_item, f"{where} key {show(sub)}")
            continue
        takers = [name for name in names if key in optim.SETTABLE[name]]
        if not takers:
            valid = tuple(dict.fromkeys(k for name in names for k in optim.SETTABLE[name]))
            raise ConfigError(unknown_key(f"{label} (optimizers {', '.join(names)})", key, valid))
        for name in takers:
            put(name, key, item, where)
    result = []
    for name in names:
        try:
            optim.resolve(name, chosen[name])  # combinations (nesterov needs momentum > 0)
        except optim.HyperparameterError as exc:
            raise bad(f"{label} ({name})", raw, str(exc)) from None
        result.append((name, tuple(chosen[name].items())))
    return tuple(result)


def schedule_params_value(value: Any, label: str, names: tuple[str, ...]) -> Params:
    """``schedule_params``: each key is set for every chosen schedule that has it."""
    value = mapping(value, label, "{step_size: 1000, gamma: 0.5}")
    chosen: dict[str, dict[str, Any]] = {name: {} for name in names}
    for key, item in value.items():
        takers = [name for name in names if key in network.SCHEDULES[name]]
        if not takers:
            valid = tuple(dict.fromkeys(k for name in names for k in network.SCHEDULES[name]))
            raise ConfigError(
                unknown_key(f"{label} (schedules {', '.join(names)})", key, valid)
                if valid
                else f"{label} (schedules {', '.join(names)}): unknown key {show(key)}; "
                f"expected no parameters for these schedules"
            )
        where = f"{label} key {show(key)}"
        if key in ("step_size", "t_max"):
            try:
                number = whole(item)
            except BadValue:
                number = -1
            low = 1 if key == "step_size" else 0
            if isinstance(item, bool) or number < low or number > MAX_ITERATIONS:
                raise bad(where, item, f"a whole number from {low} to {MAX_ITERATIONS}")
            checked: Any = number
        elif key == "gamma":
            try:
                checked = alpha_value(item)
            except BadValue:
                checked = 2.0
            if checked > 1:
                raise bad(where, item, "a number > 0 and <= 1")
        else:  # eta_min
            try:
                checked = off_or_positive(item)
            except BadValue:
                raise bad(where, item, "a finite number >= 0") from None
        for name in takers:
            chosen[name][key] = checked
    return tuple((name, tuple(chosen[name].items())) for name in names)


def alphas_by_optimizer(
    value: dict, label: str, names: tuple[str, ...], chosen: bool = False
) -> tuple[tuple[float, ...], ...]:
    """``alphas: {sgd: 0.5, adam: "0.001,0.01"}``: each chosen optimizer's own alphas.
    With ``chosen`` (--optimizers picked some of the config's), entries for the others
    are left out."""
    for key in value:
        if key not in names and not (chosen and key in optim.NAMES):
            raise ConfigError(
                f"{label}: key {show(key)} is not among the optimizers ({', '.join(names)}); "
                f"expected one entry per optimizer"
            )
    per = []
    for name in names:
        if name not in value:
            raise ConfigError(f"{label} has no entry for {name}; expected one per optimizer")
        per.append(
            axis(value[name], f"{label} {name}", grid.parse_floats, alpha_value, ALPHA_EXPECTED)
        )
    return tuple(per)


MOMENTUM_EXPECTED = "a number from 0 to below 1"


def momentum_axis(value: Any, label: str, optimizers: Params) -> tuple[float, ...]:
    """``momentum``: the momentum of every chosen optimizer, as a sweep axis (absent:
    each optimizer's own default). Every chosen optimizer must have one, and none may
    set it in optimizer_params too."""
    if value is None:
        return ()
    momenta = axis(value, label, grid.parse_floats, probability_value, MOMENTUM_EXPECTED)
    having = [name for name in optim.NAMES if "momentum" in optim.SETTABLE[name]]
    for name, given in optimizers:
        if "momentum" not in optim.SETTABLE[name]:
            raise ConfigError(
                f"{label} is {show(value)}, but optimizer {name} has no momentum; expected "
                f"optimizers that have one ({', '.join(having)})"
            )
        if any(key == "momentum" for key, _ in given):
            raise ConfigError(
                f"{label} and momentum in optimizer_params are both given; expected one of them"
            )
        for m in momenta:
            try:
                optim.resolve(name, {**dict(given), "momentum": m})
            except optim.HyperparameterError as exc:
                raise ConfigError(f"{label} is {show(value)}; expected {exc} for {name}") from None
    return momenta
