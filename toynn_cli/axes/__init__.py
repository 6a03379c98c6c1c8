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
validator that checks it (config/check.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from toynn_cli.axes.registry import (
    BY_KEY,
    BY_NAME,
    COLUMNS,
    CONFIG_KEYS,
    IDENTITY,
    OWN_SETTINGS,
    SETTINGS,
    SINGULAR,
    TUTORIAL,
    optimizer_label,
)
from toynn_cli.axes.setting import Record, Setting, plain, show_hidden, show_number
from toynn_cli.core import network
from toynn_cli.core.network import NetworkSpec

__all__ = [
    "BY_KEY",
    "BY_NAME",
    "COLUMNS",
    "CONFIG_KEYS",
    "IDENTITY",
    "OWN_SETTINGS",
    "SETTINGS",
    "SINGULAR",
    "TUTORIAL",
    "Record",
    "Setting",
    "csv_columns",
    "describe",
    "extra",
    "key",
    "read",
    "record",
    "setting_csv_columns",
    "show_hidden",
    "show_number",
    "value",
    "values",
    "varying",
]


def extra(spec: NetworkSpec) -> list[Setting]:
    """The settings, beyond alpha, hidden and seed, on which the network is not the
    tutorial's."""
    return [s for s in COLUMNS if s.key not in IDENTITY and s.label(spec) != s.blank]


def varying(specs: Sequence[NetworkSpec]) -> list[Setting]:
    """The extra columns a table of these networks needs (each distinct setting looked
    at once: a million networks of one setting, one spec)."""
    distinct = network.distinct(specs)
    return [
        s
        for s in COLUMNS
        if s.key not in IDENTITY and any(s.label(spec) != s.blank for spec in distinct)
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
    return json.dumps(plain(given), sort_keys=True) if given else ""


def setting_csv_columns(setting: Setting) -> list[tuple[str, Callable[[NetworkSpec], Any]]]:
    """A setting's CSV columns: one, or two for a setting with parameters (optimizer,
    schedule): the name, and the parameters set for it as a JSON mapping."""
    assert setting.cell is not None
    columns = [(setting.name, setting.cell)]
    params = setting.params
    if params is not None:
        columns.append((f"{setting.name}_params", lambda spec: _params_cell(params(spec))))
    return columns


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
    """The network's value of a setting, hashable: its CSV cell, and for a setting with
    parameters every parameter (defaults filled in)."""
    assert setting.cell is not None
    if setting.full_params is not None:
        return (setting.cell(spec), tuple(sorted(setting.full_params(spec).items())))
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
