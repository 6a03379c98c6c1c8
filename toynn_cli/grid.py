"""The sweep grammar, and the grid of networks an experiment describes.

Grammar (the same on the command line and inside YAML strings)::

    0.1,1,10          a comma list
    0.001..1000       decades: 0.001, 0.01, 0.1, 1, 10, 100, 1000, exactly as typed
    0.001..1000:4     4 log-spaced points from 0.001 to 1000, both ends included
    0..999            (hidden sizes and seeds) every whole number, both ends included

Items can be mixed: ``0.5,1..100`` is 0.5, 1, 10, 100. A value may appear once.
Decade values are built with :class:`decimal.Decimal`, so ``0.001..1000`` gives the
decimal numbers a person would type (0.1, never 0.30000000000000004-style noise).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from toynn_cli.engine import NetworkSpec


class GrammarError(ValueError):
    """A sweep expression that does not parse; the message says what was expected."""


def _decimal(text: str, whole: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise GrammarError(f"'{text.strip()}' in '{whole}' is not a number") from None
    if not value.is_finite():
        raise GrammarError(f"'{text.strip()}' in '{whole}' is not a finite number")
    return value


def _split(text: str) -> list[str]:
    if not text.strip():
        raise GrammarError("empty value: expected a number, a comma list or a range A..B")
    items = [item.strip() for item in text.split(",")]
    if any(not item for item in items):
        raise GrammarError(f"'{text}' has an empty item between commas")
    return items


def _range_parts(item: str) -> tuple[str, str, str | None] | None:
    if ".." not in item:
        return None
    a, _, rest = item.partition("..")
    b, colon, n = rest.partition(":")
    if not a.strip() or not b.strip():
        raise GrammarError(
            f"'{item}' is not a complete range: expected A..B with a number on both sides"
        )
    if colon and not n.strip():
        raise GrammarError(f"'{item}' has no point count after ':': expected A..B:N")
    return a, b, (n if colon else None)


def _no_duplicates(values: list, text: str) -> None:
    seen: set = set()
    for value in values:
        if value in seen:
            raise GrammarError(f"'{text}' lists {value:g} more than once")
        seen.add(value)


def parse_floats(text: str) -> tuple[float, ...]:
    """Parse a list of real values (alphas): numbers, decade ranges and A..B:N ranges."""
    values: list[float] = []
    for item in _split(text):
        parts = _range_parts(item)
        if parts is None:
            values.append(float(_decimal(item, text)))
            continue
        a_text, b_text, n_text = parts
        a, b = _decimal(a_text, item), _decimal(b_text, item)
        if a > b:
            raise GrammarError(f"range '{item}' runs backwards: expected A <= B")
        if a <= 0:
            raise GrammarError(f"range '{item}' starts at {a}: log ranges need A > 0")
        if n_text is None:
            values.extend(_decades(a, b, item))
        else:
            values.extend(_log_points(a, b, _count(n_text, item)))
    _no_duplicates(values, text)
    return tuple(values)


def _count(text: str, item: str) -> int:
    try:
        n = int(text.strip())
    except ValueError:
        raise GrammarError(
            f"'{text.strip()}' in '{item}' is not a whole number of points"
        ) from None
    if n < 1:
        raise GrammarError(f"range '{item}' asks for {n} points: expected N >= 1")
    return n


def _decades(a: Decimal, b: Decimal, item: str) -> list[float]:
    ratio = b / a
    exponent = ratio.log10()
    if exponent != exponent.to_integral_value() or ratio != Decimal(10) ** int(exponent):
        raise GrammarError(
            f"range '{item}' is not whole decades: expected B = A times a power of ten "
            f"(or A..B:N for N log-spaced points)"
        )
    return [float(a.scaleb(k)) for k in range(int(exponent) + 1)]


def _log_points(a: Decimal, b: Decimal, n: int) -> list[float]:
    if n == 1:
        if a != b:
            raise GrammarError(f"one point cannot span {a}..{b}: expected N >= 2 or A = B")
        return [float(a)]
    lo, hi = math.log10(a), math.log10(b)
    inner = [float(f"{10 ** (lo + (hi - lo) * i / (n - 1)):.12g}") for i in range(1, n - 1)]
    return [float(a), *inner, float(b)]


def parse_ints(text: str) -> tuple[int, ...]:
    """Parse a list of whole numbers (hidden sizes, seeds): numbers and ranges A..B."""
    values: list[int] = []
    for item in _split(text):
        parts = _range_parts(item)
        if parts is None:
            values.append(_int(item, text))
            continue
        a_text, b_text, n_text = parts
        if n_text is not None:
            raise GrammarError(f"'{item}': A..B:N ranges are for real values; use A..B here")
        a, b = _int(a_text, item), _int(b_text, item)
        if a > b:
            raise GrammarError(f"range '{item}' runs backwards: expected A <= B")
        values.extend(range(a, b + 1))
    _no_duplicates(values, text)
    return tuple(values)


def _int(text: str, whole: str) -> int:
    text = text.strip()
    if not re.fullmatch(r"[+-]?\d+", text):
        raise GrammarError(f"'{text}' in '{whole}' is not a whole number")
    return int(text)


def expand(
    hidden: Iterable[int], alphas: Iterable[float], seeds: Iterable[int]
) -> list[NetworkSpec]:
    """Every network of a sweep, hidden size outermost, then alpha, then seed."""
    return [
        NetworkSpec(alpha=alpha, hidden=h, seed=seed)
        for h in hidden
        for alpha in alphas
        for seed in seeds
    ]
