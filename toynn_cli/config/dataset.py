"""Checks of the dataset key: a built-in name, a generated set's mapping, a CSV file
or inline inputs and targets."""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from toynn_cli.config.check import (
    SEED_EXPECTED,
    BadValue,
    ConfigError,
    bad,
    run_name,
    seed_value,
    show,
    unknown_key,
    whole,
)
from toynn_cli.core import datasets
from toynn_cli.core.datasets import Dataset

DATASET_KEYS = ("name", "inputs", "targets")
GENERATED_KEYS = ("name", "samples", "noise", "seed")
CSV_KEYS = ("path", "targets")
SAMPLES_EXPECTED = f"a whole number from 2 to {datasets.MAX_SAMPLES}"
NOISE_EXPECTED = "a finite number >= 0 (the standard deviation of the noise)"


def dataset_value(
    value: Any, label: str, base: Path
) -> tuple[Dataset, str | dict[str, Any] | None]:
    try:
        if isinstance(value, dict):
            if "path" in value:
                return csv_dataset(value, label, base), None
            if value.get("name") in datasets.GENERATED and "inputs" not in value:
                return generated_dataset(value, label)
            if value.get("name") in datasets.BUILTIN and set(value) == {"name"}:
                return datasets.BUILTIN[value["name"]], value["name"]
            unknown = [key for key in value if key not in DATASET_KEYS]
            if unknown:
                raise ConfigError(unknown_key(f"{label}", unknown[0], DATASET_KEYS))
            for key in ("inputs", "targets"):
                if key not in value:
                    raise ConfigError(
                        f"{label} has no '{key}'; expected a mapping with inputs and targets"
                    )
            name = run_name(value.get("name", "inline"), f"{label} name")
            return datasets.from_lists(name, value["inputs"], value["targets"], label), None
        if isinstance(value, str) and value in datasets.BUILTIN:
            return datasets.BUILTIN[value], value
        if isinstance(value, str) and value.lower().endswith((".yaml", ".yml")):
            raise bad(
                label,
                value,
                "a built-in dataset or a .csv file; a .yaml file is a config, given with --config",
            )
        if isinstance(value, str) and (value.lower().endswith(".csv") or "/" in value):
            return datasets.load_csv(base / value, f"{label} is {show(value)}"), None
    except datasets.DataError as exc:
        raise ConfigError(str(exc)) from None
    names = ", ".join(datasets.BUILTIN)
    hint = (
        difflib.get_close_matches(value.lower(), list(datasets.BUILTIN), n=1)
        if isinstance(value, str)
        else []
    )
    suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
    raise bad(
        label,
        value,
        f"a built-in dataset ({names}), a .csv path or a mapping with inputs and targets"
        f"{suggestion}",
    )


def generated_dataset(value: dict[str, Any], label: str) -> tuple[Dataset, dict[str, Any]]:
    """A generated 2-D set from ``{name:, samples:, noise:, seed:}`` (missing keys take
    the set's defaults); returns it with the complete mapping, which regenerates it."""
    unknown = [key for key in value if key not in GENERATED_KEYS]
    if unknown:
        raise ConfigError(unknown_key(f"{label}", unknown[0], GENERATED_KEYS))
    name = value["name"]
    params = dict(datasets.GENERATED[name])
    checks: dict[str, tuple[Callable[[Any], Any], str]] = {
        "samples": (samples_value, SAMPLES_EXPECTED),
        "noise": (noise_value, NOISE_EXPECTED),
        "seed": (seed_value, SEED_EXPECTED),
    }
    for key, (check, expected) in checks.items():
        if key in value:
            try:
                params[key] = check(value[key])
            except BadValue:
                raise bad(f"{label} {key}", value[key], expected) from None
    return datasets.generate(name, **params), {"name": name, **params}


def samples_value(value: Any) -> int:
    number = whole(value)
    if not 2 <= number <= datasets.MAX_SAMPLES:
        raise BadValue
    return number


def noise_value(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadValue
    try:
        number = float(value)
    except OverflowError:
        raise BadValue from None
    if not (math.isfinite(number) and number >= 0):
        raise BadValue
    return number


def csv_dataset(value: dict[str, Any], label: str, base: Path) -> Dataset:
    """``{path: data.csv, targets: [y1, y2]}``: a CSV file whose header names the target
    columns (without ``targets``, the last column is the target)."""
    unknown = [key for key in value if key not in CSV_KEYS]
    if unknown:
        raise ConfigError(unknown_key(f"{label}", unknown[0], CSV_KEYS))
    path = value["path"]
    if not isinstance(path, str) or not path:
        raise bad(f"{label} path", path, "a CSV file's path")
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
            raise bad(f"{label} targets", value["targets"], "a list of distinct column names")
        targets = tuple(t.strip() for t in targets)
    return datasets.load_csv(base / path, f"{label} path is {show(path)}", targets)
