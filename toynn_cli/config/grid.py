"""The sweep grammar, and the grid of networks an experiment describes.

Grammar (the same on the command line and inside YAML strings)::

    0.1,1,10          a comma list
    0.001..1000       decades: 0.001, 0.01, 0.1, 1, 10, 100, 1000, exactly as typed
    0.001..1000:4     4 log-spaced points from 0.001 to 1000, both ends included
    0..999            (hidden sizes and seeds) every whole number, both ends included
    8x4               (hidden) one network with two hidden layers, 8 then 4 units

Items can be mixed: ``0.5,1..100`` is 0.5, 1, 10, 100. A value may appear once, and one
expression gives at most :data:`MAX_VALUES` values.
Decade values are built with :class:`decimal.Decimal`, so ``0.001..1000`` gives the
decimal numbers a person would type (0.1, never 0.30000000000000004-style noise).

A :class:`GrammarError` message says what was expected, in a form that follows
``<where> is '<text>'; `` (the caller names the option or key and the text).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation

from toynn_cli.core.network import Grid, NetworkSpec, with_alphas_and_seeds

#: The most values one expression may give (``0..999`` gives 1000).
MAX_VALUES = 100_000


class GrammarError(ValueError):
    """A sweep expression that does not parse; the message says what was expected.

    The message quotes what was typed; a character that is not printable (a newline
    inside an item, say) is shown escaped, so the message stays one line."""

    def __init__(self, message: str) -> None:
        super().__init__(
            "".join(
                c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                for c in message
            )
        )


def _in(item: str, whole: str) -> str:
    """`` in '<item>'`` when the item is part of a longer expression, else nothing."""
    return "" if item.strip() == whole.strip() else f" in '{item.strip()}'"


def _decimal(text: str, item: str, whole: str, side: str = "") -> Decimal:
    """A finite decimal number, or a GrammarError naming where it was expected."""
    text = text.strip()
    where = _in(item, whole) if side else ""
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        what = "a finite number" if value is not None else "a number"
        if side or item.strip() != whole.strip():
            raise GrammarError(f"expected {what}{side}, not '{text}'{where}")
        raise GrammarError(f"expected {what}, a comma list or a range A..B")
    if not math.isfinite(float(value)):
        raise GrammarError(
            f"expected a number a float can hold, not '{text}' (above 1.8e308){where}"
        )
    if value != 0 and float(value) == 0:
        raise GrammarError(
            f"expected a number a float can hold, not '{text}' (it rounds to 0){where}"
        )
    return value


def _split(text: str) -> list[str]:
    if not isinstance(text, str) or not text.strip():
        raise GrammarError("expected a number, a comma list or a range A..B")
    items = [item.strip() for item in text.split(",")]
    if any(not item for item in items):
        raise GrammarError("expected a value between every two commas")
    return items


def _range_parts(item: str, whole: str) -> tuple[str, str, str | None] | None:
    if ".." not in item:
        return None
    a, _, rest = item.partition("..")
    b, colon, n = rest.partition(":")
    if not a.strip() or not b.strip():
        raise GrammarError(f"expected a range A..B with a number on both sides{_in(item, whole)}")
    if colon and not n.strip():
        raise GrammarError(f"expected a point count N after ':' in A..B:N{_in(item, whole)}")
    return a, b, (n if colon else None)


def show_number(value: float | int) -> str:
    """A number as a person would write it: 1 for 1.0, 0.1 for 0.1."""
    return repr(int(value)) if float(value).is_integer() and abs(value) < 1e16 else repr(value)


def _no_duplicates(values: list) -> None:
    seen: set = set()
    for value in values:
        if value in seen:
            shown = show_hidden(value) if isinstance(value, tuple) else show_number(value)
            raise GrammarError(f"expected each value once; {shown} is repeated")
        seen.add(value)


def _room(values: list, more: int) -> None:
    if len(values) + more > MAX_VALUES:
        raise GrammarError(f"expected at most {MAX_VALUES} values, not {len(values) + more}")


def parse_floats(text: str) -> tuple[float, ...]:
    """Parse a list of real values (alphas): numbers, decade ranges and A..B:N ranges."""
    values: list[float] = []
    for item in _split(text):
        parts = _range_parts(item, text)
        if parts is None:
            values.append(float(_decimal(item, item, text)))
            continue
        a_text, b_text, n_text = parts
        a = _decimal(a_text, item, text, " before '..'")
        b = _decimal(b_text, item, text, " after '..'")
        if a > b:
            raise GrammarError(f"expected a range A..B with A <= B{_in(item, text)}")
        if a <= 0:
            raise GrammarError(
                f"expected A > 0 in the log range A..B, not {a_text.strip()}{_in(item, text)}"
            )
        if n_text is None:
            values.extend(_decades(a, b, item, text, values))
        else:
            n = _count(n_text, a, b, item, text)
            _room(values, n)
            values.extend(_log_points(a, b, n))
    _no_duplicates(values)
    return tuple(values)


def _count(text: str, a: Decimal, b: Decimal, item: str, whole: str) -> int:
    text = text.strip()
    if not re.fullmatch(r"[+-]?\d+", text):
        raise GrammarError(
            f"expected a whole number of points after ':', not '{text}'{_in(item, whole)}"
        )
    n = _bounded(text)
    if a == b and n != 1:
        raise GrammarError(f"expected N = 1 for a range A..A:N, not {n}{_in(item, whole)}")
    if a < b and n < 2:
        raise GrammarError(f"expected N >= 2 points in A..B:N, not {n}{_in(item, whole)}")
    return n


def _decades(a: Decimal, b: Decimal, item: str, whole: str, values: list) -> list[float]:
    ratio = b / a
    exponent = ratio.log10()
    if exponent != exponent.to_integral_value() or ratio != Decimal(10) ** int(exponent):
        raise GrammarError(
            f"expected B = A times a power of ten in A..B (or A..B:N for N log-spaced "
            f"points){_in(item, whole)}"
        )
    _room(values, int(exponent) + 1)
    return [float(a.scaleb(k)) for k in range(int(exponent) + 1)]


def _log_points(a: Decimal, b: Decimal, n: int) -> list[float]:
    if n == 1:
        return [float(a)]
    lo, hi = math.log10(a), math.log10(b)
    inner = [float(f"{10 ** (lo + (hi - lo) * i / (n - 1)):.12g}") for i in range(1, n - 1)]
    return [float(a), *inner, float(b)]


def parse_ints(text: str) -> tuple[int, ...]:
    """Parse a list of whole numbers (hidden sizes, seeds): numbers and ranges A..B."""
    values: list[int] = []
    for item in _split(text):
        parts = _range_parts(item, text)
        if parts is None:
            values.append(_int(item, item, text))
            continue
        a_text, b_text, n_text = parts
        if n_text is not None:
            raise GrammarError(
                f"expected a whole-number range A..B (A..B:N is for alphas){_in(item, text)}"
            )
        a = _int(a_text, item, text, " before '..'")
        b = _int(b_text, item, text, " after '..'")
        if a > b:
            raise GrammarError(f"expected a range A..B with A <= B{_in(item, text)}")
        _room(values, b - a + 1)
        values.extend(range(a, b + 1))
    _no_duplicates(values)
    return tuple(values)


def parse_hidden(text: str) -> tuple[int | tuple[int, ...], ...]:
    """Parse hidden-layer settings: whole numbers and ranges (one hidden layer of that
    size, 0 for none) and layer lists ``8x4`` (several hidden layers, input side first):
    ``4,8x4,16x8x4`` is three networks."""
    values: list[int | tuple[int, ...]] = []
    plain: list[str] = []
    for item in _split(text):
        if "x" not in item.lower():
            plain.append(item)
            continue
        if plain:
            values.extend(parse_ints(",".join(plain)))
            plain = []
        parts = item.lower().split("x")
        if len(parts) > MAX_LAYERS or any(not part.strip() for part in parts):
            raise GrammarError(
                f"expected layer sizes like 8x4 (at most {MAX_LAYERS} layers){_in(item, text)}"
            )
        values.append(tuple(_int(part, item, text, " in a layer list") for part in parts))
    if plain:
        values.extend(parse_ints(",".join(plain)))
    _no_duplicates(values)
    return tuple(values)


#: The most hidden layers a layer list may have.
MAX_LAYERS = 16


def show_hidden(value: int | tuple[int, ...]) -> str:
    """A hidden setting as the grammar writes it: 4, or 8x4 for several layers."""
    return "x".join(str(v) for v in value) if isinstance(value, tuple) else str(value)


def _int(text: str, item: str, whole: str, side: str = "") -> int:
    text = text.strip()
    if not re.fullmatch(r"[+-]?\d+", text):
        if side or item.strip() != whole.strip():
            where = _in(item, whole) if side else ""
            raise GrammarError(f"expected a whole number{side}, not '{text}'{where}")
        raise GrammarError("expected a whole number, a comma list or a range A..B")
    return _bounded(text)


def _bounded(text: str) -> int:
    """int(text) for at most 30 digits (Python refuses int() of over 4300 digits)."""
    if len(text.lstrip("+-")) > 30:
        raise GrammarError(f"expected a whole number of at most 30 digits, not '{text[:12]}...'")
    return int(text)


#: The tutorial's optimizer, with no hyperparameter set: ``(name, ((key, value), ...))``.
PLAIN_SGD: tuple[tuple[str, tuple], ...] = (("sgd", ()),)


def expand(
    hidden: Iterable[int | tuple[int, ...]],
    alphas: Iterable[float],
    seeds: Iterable[int],
    optimizers: Sequence[tuple[str, tuple]] = PLAIN_SGD,
    alphas_by_optimizer: Sequence[Sequence[float]] | None = None,
    architectures: Sequence[dict] = ({},),
) -> Grid:
    """Every network of a sweep: optimizer outermost, then hidden size, architecture,
    alpha, seed (a Grid: its runs of one setting are the alphas x seeds of each
    optimizer, hidden size and architecture).

    ``optimizers`` holds ``(name, hyperparameters set explicitly)`` pairs;
    ``alphas_by_optimizer``, when given, holds each optimizer's own alphas (in place of
    ``alphas``); ``architectures`` holds NetworkSpec fields (bias, activation, loss,
    init) to combine with each."""
    hidden, seeds = list(hidden), list(seeds)
    per = alphas_by_optimizer or [list(alphas)] * len(optimizers)
    specs = [
        spec
        for (name, params), its_alphas in zip(optimizers, per)
        for h in hidden
        for arch in architectures
        for spec in with_alphas_and_seeds(
            NetworkSpec(0.0, h, 0, optimizer=name, optimizer_params=params, **arch),
            its_alphas,
            seeds,
        )
    ]
    # a run of one setting per optimizer, hidden size and architecture: its alphas x seeds
    runs = [len(its) * len(seeds) for its in per for _ in hidden for _ in architectures]
    return Grid(specs, [0, *itertools.accumulate(runs)][:-1])
