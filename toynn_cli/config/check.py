"""Checks of config and option values: each takes the raw value and a label naming
where it came from, and raises ConfigError with one line naming it, the value and
what was expected."""

from __future__ import annotations

import difflib
import itertools
import math
import re
from collections.abc import Callable
from typing import Any

from toynn_cli import axes
from toynn_cli.config import grid
from toynn_cli.core import network, optim
from toynn_cli.core.engines import CHOICES as ENGINES
from toynn_cli.core.shown import show


class ConfigError(ValueError):
    """A config or option value that cannot be used; the message is one line."""


KEYS = axes.CONFIG_KEYS
MAX_SEED = 2**32 - 1
#: Limits that turn inputs which would exhaust memory or never finish into one-line errors.
MAX_HIDDEN = 100_000
MAX_HIDDEN_WEIGHTS = 1_000_000  # weights between the hidden layers of a layer list
MAX_ITERATIONS = 10**12
MAX_NETWORKS = 1_000_000
MAX_RECORDED = 10_000_000  # networks x checkpoints: the checkpoint errors kept in memory
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


# --- value validators: each takes the raw value and a label naming where it came from ---


class BadValue(Exception):
    """Raised by the item checks below; the caller words the one-line message."""


def bad(label: str, value: Any, expected: str) -> ConfigError:
    return ConfigError(f"{label} is {show(value)}; expected {expected}")


def whole(value: Any) -> int:
    """A whole number from an int, an integral float or a numeric string."""
    if isinstance(value, bool):
        raise BadValue
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
            raise BadValue from None
        if math.isfinite(number) and number.is_integer():
            return int(number)
    raise BadValue


def positive_int(value: Any, label: str, high: int) -> int:
    """A whole number from 1 to ``high`` (iterations, log_every)."""
    try:
        number = whole(value)
    except BadValue:
        raise bad(label, value, "a whole number > 0") from None
    if number <= 0:
        raise bad(label, value, "a whole number > 0")
    if number > high:
        raise bad(label, value, f"a whole number from 1 to {high}")
    return number


ALPHA_EXPECTED = "a finite number > 0"
HIDDEN_EXPECTED = f"a whole number from 0 to {MAX_HIDDEN} (0: no hidden layer)"
SEED_EXPECTED = f"a whole number from 0 to {MAX_SEED}"


def alpha_value(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadValue
    try:
        number = float(value)
    except OverflowError:  # an int beyond the float range
        raise BadValue from None
    if not math.isfinite(number) or number <= 0:
        raise BadValue
    return number


def hidden_value(value: Any) -> int | tuple[int, ...]:
    """One hidden size (0: none), or a layer list (a YAML list, or 8x4 from the grammar)
    of sizes from 1; a list of one size is that size."""
    if isinstance(value, list | tuple):
        if not 1 <= len(value) <= grid.MAX_LAYERS:
            raise BadValue
        sizes = tuple(whole(v) for v in value)
        if not all(1 <= v <= MAX_HIDDEN for v in sizes):
            raise BadValue
        if sum(a * b for a, b in itertools.pairwise(sizes)) > MAX_HIDDEN_WEIGHTS:
            raise BadValue
        return sizes[0] if len(sizes) == 1 else sizes
    number = whole(value)
    if not 0 <= number <= MAX_HIDDEN:
        raise BadValue
    return number


def seed_value(value: Any) -> int:
    number = whole(value)
    if not 0 <= number <= MAX_SEED:
        raise BadValue
    return number


def axis(
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
                raise ConfigError(f"{where} is {show(part)}; {exc}") from None
            for v in parsed:
                try:
                    values.append(item(v))
                except BadValue:
                    which = "" if len(parsed) == 1 else f", not {shown(v)}"
                    raise ConfigError(
                        f"{where} is {show(part)}; expected {expected_text(expected, v)}{which}"
                    ) from None
        else:
            try:
                values.append(item(part))
            except BadValue:
                raise bad(where, part, expected_text(expected, part)) from None
    if not values:
        raise bad(label, value, "at least one value")
    seen: set = set()
    for v in values:
        if v in seen:
            raise bad(label, value, f"each value once; {shown(v)} is repeated")
        seen.add(v)
    return tuple(values)


LAYERS_EXPECTED = (
    f"a layer list of 1 to {grid.MAX_LAYERS} sizes, each a whole number from 1 to "
    f"{MAX_HIDDEN}, with at most {MAX_HIDDEN_WEIGHTS} weights between hidden layers"
)


def shown(value: Any) -> str:
    if isinstance(value, list | tuple):
        return grid.show_hidden(tuple(value))
    return grid.show_number(value)


def expected_text(expected: str, value: Any) -> str:
    """What a value was expected to be; a layer list has its own wording."""
    if expected == HIDDEN_EXPECTED and isinstance(value, list | tuple):
        return LAYERS_EXPECTED
    return expected


OPTIMIZER_EXPECTED = f"an optimizer: {', '.join(optim.NAMES)}"


def optimizer_name_list(value: Any, label: str) -> tuple[str, ...]:
    """``sgd``, ``"sgd,adam"`` or a list of names; each once."""
    return name_list(value, label, optim.NAMES, "an optimizer", "optimizer")


def name_list(
    value: Any, label: str, choices: tuple[str, ...], what: str, noun: str
) -> tuple[str, ...]:
    """An axis of names: one, ``"a,b"`` or a list; each one of ``choices``, each once."""
    expected = f"{what}: {', '.join(choices)}"
    many = isinstance(value, list)
    names: list[str] = []
    for i, part in enumerate(value if many else [value], start=1):
        where = f"{label} item {i}" if many else label
        if not isinstance(part, str) or not part.strip():
            raise bad(where, part, expected)
        for item in part.split(","):
            name = item.strip().lower()
            if name not in choices:
                hint = difflib.get_close_matches(name, choices, n=1)
                suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
                which = "" if item.strip() == part.strip() else f", not {show(item.strip())}"
                raise ConfigError(
                    f"{where} is {show(part)}; expected {expected}{which}{suggestion}"
                )
            names.append(name)
    if not names:
        raise bad(label, value, f"at least one {noun}")
    for name in names:
        if names.count(name) > 1:
            raise bad(label, value, f"each {noun} once; {name} is repeated")
    return tuple(names)


BIAS_EXPECTED = "true, false, or both: [false, true]"


def flags(value: Any, label: str) -> tuple[bool, ...]:
    """``true``, ``false``, ``[false, true]`` or the option's ``"false,true"``."""
    parts = value if isinstance(value, list) else [value]
    flags: list[bool] = []
    for part in parts:
        items = part.split(",") if isinstance(part, str) else [part]
        for item in items:
            if isinstance(item, str) and item.strip().lower() in ("true", "false"):
                item = item.strip().lower() == "true"
            if not isinstance(item, bool):
                raise bad(label, value, BIAS_EXPECTED)
            flags.append(item)
    if not flags or len(set(flags)) != len(flags):
        raise bad(label, value, BIAS_EXPECTED + ", each once")
    return tuple(flags)


def run_name(value: Any, label: str) -> str:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise bad(
            label,
            value,
            "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit",
        )
    return value


def engine_name(value: Any, label: str) -> str:
    if not isinstance(value, str) or value not in ENGINES:
        raise bad(label, value, f"one of: {', '.join(ENGINES)}")
    return value


def unknown_key(where: str, key: Any, valid: tuple[str, ...]) -> str:
    hint = difflib.get_close_matches(str(key), valid, n=1, cutoff=0.5)
    suggestion = f"did you mean '{hint[0]}'? " if hint else ""
    return f"{where}: unknown key {show(key)}; {suggestion}expected one of: {', '.join(valid)}"


def record_every_value(value: Any, label: str, iterations: int, networks: int) -> int:
    """``record_every``: a whole number K > 0, or absent / ``auto`` (0: the default
    spacing). A K that records more than the default must keep networks x history
    points within MAX_RECORDED (the history is kept in memory and written to JSON)."""
    if value is None or value == "auto":
        return 0
    try:
        every = whole(value)
    except BadValue:
        raise bad(label, value, "a whole number > 0, or auto") from None
    if every <= 0 or every > MAX_ITERATIONS:
        raise bad(label, value, f"a whole number from 1 to {MAX_ITERATIONS}, or auto")
    points = network.history_length(iterations, every)
    if points > network.history_length(iterations) and networks * points > MAX_RECORDED:
        # each network may record MAX_RECORDED // networks errors, one of them tail_start
        least = -(-iterations // max(1, MAX_RECORDED // networks - 1))
        raise bad(
            label,
            value,
            f"at least {least}, or auto ({networks} networks x {points} history points "
            f"is more than {MAX_RECORDED} recorded errors)",
        )
    return every


DROPOUT_EXPECTED = "a number from 0 to below 1 (0: off)"


def probability_value(value: Any) -> float:
    """A dropout probability: 0 <= p < 1."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadValue
    number = float(value)
    if not 0 <= number < 1:
        raise BadValue
    return number


OFF_EXPECTED = "a finite number >= 0 (0: off)"


def off_or_positive(value: Any) -> float:
    """A finite number >= 0, where 0 switches the option off."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value == 0:
        return 0.0
    return alpha_value(value)
