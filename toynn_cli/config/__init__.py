"""Experiments from YAML configs and options: read (yamlfile), checked (check), built
into an :class:`Experiment` whose grid of networks the rest of toynn trains
(experiment; build: from a config and options; grid: the sweep grammar)."""

from toynn_cli.config.build import resolve
from toynn_cli.config.check import ConfigError
from toynn_cli.config.experiment import (
    TUTORIAL,
    TUTORIAL_SWEEP,
    TWO_LAYER,
    Experiment,
    as_dict,
    dump,
)

__all__ = [
    "TUTORIAL",
    "TUTORIAL_SWEEP",
    "TWO_LAYER",
    "ConfigError",
    "Experiment",
    "as_dict",
    "dump",
    "resolve",
]
