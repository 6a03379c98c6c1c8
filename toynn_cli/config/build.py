"""Building an :class:`~toynn_cli.config.experiment.Experiment` from a config file (or
none) and command-line overrides: every value through the validator of its key, so a
file's key and an option give the same one-line errors
(``<where> is <value>; expected <what>``)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from toynn_cli import axes
from toynn_cli.config import check, grid
from toynn_cli.config import params as param_checks
from toynn_cli.config.check import ConfigError
from toynn_cli.config.dataset import dataset_value
from toynn_cli.config.experiment import Experiment
from toynn_cli.config.yamlfile import STDIN, read_yaml_and_hash, shown
from toynn_cli.core import datasets, network


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
