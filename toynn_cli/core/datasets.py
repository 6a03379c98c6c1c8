"""Built-in datasets and CSV loading.

A dataset is a matrix of inputs (one row per sample) and a matrix of targets (one row
per sample, one column per output). CSV files hold one sample per row; the last column
is the target, every other column an input, unless the target columns are named (then
the file needs a header); a first row with no numbers in it is a header.

Besides the fixed tables (``xor``, ``first-column``, ``and``, ``or``, ``xor2``,
``parity3``), four 2-D sets are generated from a seed (``circles``, ``moons``,
``spirals``, ``blobs``): see :func:`generate`. They use their own
``np.random.RandomState(seed)``, never the global generator, so a seed always gives the
same samples. Their sines and cosines are toynn's portable ones (the same bits on every
CPU, unlike NumPy's).
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from toynn_cli.core import portable
from toynn_cli.core.shown import show


class DataError(ValueError):
    """Data that cannot be used; the message names the source and what was expected."""


@dataclass(frozen=True)
class Dataset:
    """A named, immutable dataset. ``inputs`` and ``targets`` are tuples of rows."""

    name: str
    inputs: tuple[tuple[float, ...], ...]
    targets: tuple[tuple[float, ...], ...]

    @property
    def x(self) -> np.ndarray:
        return np.array(self.inputs, dtype=np.float64)

    @property
    def y(self) -> np.ndarray:
        return np.array(self.targets, dtype=np.float64)

    @property
    def n_inputs(self) -> int:
        return len(self.inputs[0])

    @property
    def n_outputs(self) -> int:
        return len(self.targets[0])


BUILTIN: dict[str, Dataset] = {
    # The tutorial's main problem: target = first input XOR second input; the third
    # input is always 1, the tutorial's stand-in for a bias unit.
    "xor": Dataset(
        "xor",
        ((0.0, 0.0, 1.0), (0.0, 1.0, 1.0), (1.0, 0.0, 1.0), (1.0, 1.0, 1.0)),
        ((0.0,), (1.0,), (1.0,), (0.0,)),
    ),
    # The tutorial's two-layer example: the target is the first input.
    "first-column": Dataset(
        "first-column",
        ((0.0, 1.0), (0.0, 1.0), (1.0, 0.0), (1.0, 0.0)),
        ((0.0,), (0.0,), (1.0,), (1.0,)),
    ),
    # Logic gates on two inputs, with no constant column.
    "and": Dataset(
        "and",
        ((0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)),
        ((0.0,), (0.0,), (0.0,), (1.0,)),
    ),
    "or": Dataset(
        "or",
        ((0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)),
        ((0.0,), (1.0,), (1.0,), (1.0,)),
    ),
    # xor without the tutorial's constant third input.
    "xor2": Dataset(
        "xor2",
        ((0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)),
        ((0.0,), (1.0,), (1.0,), (0.0,)),
    ),
    # 3-bit parity: the target is 1 when an odd number of the three inputs is 1.
    "parity3": Dataset(
        "parity3",
        tuple((float(a), float(b), float(c)) for a in (0, 1) for b in (0, 1) for c in (0, 1)),
        tuple((float((a + b + c) % 2),) for a in (0, 1) for b in (0, 1) for c in (0, 1)),
    ),
}

#: One line about each named dataset, for ``toynn datasets list``.
DESCRIPTIONS: dict[str, str] = {
    "xor": "the tutorial's problem: input 0 XOR input 1; input 2 is always 1 (a bias)",
    "first-column": "the tutorial's two-layer example: the target is input 0",
    "and": "input 0 AND input 1",
    "or": "input 0 OR input 1",
    "xor2": "xor without its constant third input",
    "parity3": "1 when an odd number of the three inputs is 1",
    "circles": "a circle of radius 0.5 inside the unit circle",
    "moons": "two interleaving half circles",
    "spirals": "two spirals of 1.5 turns",
    "blobs": "two gaussian blobs centred at (-1, -1) and (1, 1)",
}

#: The generated 2-D sets and their default parameters (``dataset: moons`` uses these).
GENERATED: dict[str, dict[str, float | int]] = {
    "circles": {"samples": 100, "noise": 0.1, "seed": 0},
    "moons": {"samples": 100, "noise": 0.1, "seed": 0},
    "spirals": {"samples": 100, "noise": 0.1, "seed": 0},
    "blobs": {"samples": 100, "noise": 0.5, "seed": 0},
}
MAX_SAMPLES = 100_000
CIRCLES_FACTOR = 0.5  # the inner circle's radius (the outer one's is 1)
BLOB_CENTRES = ((-1.0, -1.0), (1.0, 1.0))


def generate(name: str, samples: int, noise: float, seed: int) -> Dataset:
    """A generated 2-D set: ``samples`` points, two classes (targets 0 and 1), gaussian
    noise of standard deviation ``noise`` added to each coordinate, from
    ``np.random.RandomState(seed)``. Class 0 gets ``samples // 2`` points, class 1 the
    rest; the points are shuffled (as scikit-learn's generators do by default).

    - ``circles``: class 0 on the unit circle, class 1 on a circle of radius 0.5, at
      evenly spaced angles (scikit-learn's ``make_circles(factor=0.5)``).
    - ``moons``: two interleaving half circles (scikit-learn's ``make_moons``).
    - ``spirals``: two spirals of 1.5 turns, the second the first turned by half a turn:
      radius ``t``, angle ``3 pi t`` (+ pi for class 1), ``t`` evenly spaced in [0, 1].
    - ``blobs``: two gaussian blobs centred at (-1, -1) (class 0) and (1, 1) (class 1),
      ``noise`` their standard deviation.
    """
    rng = np.random.RandomState(seed)
    n0 = samples // 2
    n1 = samples - n0
    if name == "circles":
        a0 = np.linspace(0, 2 * np.pi, n0, endpoint=False)
        a1 = np.linspace(0, 2 * np.pi, n1, endpoint=False)
        x = np.vstack(
            [
                np.column_stack([portable.cos(a0), portable.sin(a0)]),
                CIRCLES_FACTOR * np.column_stack([portable.cos(a1), portable.sin(a1)]),
            ]
        )
    elif name == "moons":
        a0 = np.linspace(0, np.pi, n0)
        a1 = np.linspace(0, np.pi, n1)
        x = np.vstack(
            [
                np.column_stack([portable.cos(a0), portable.sin(a0)]),
                np.column_stack([1 - portable.cos(a1), 1 - portable.sin(a1) - 0.5]),
            ]
        )
    elif name == "spirals":
        parts = []
        for n, turn in ((n0, 0.0), (n1, np.pi)):
            t = np.linspace(0, 1, n)
            angle = 3 * np.pi * t + turn
            parts.append(np.column_stack([t * portable.cos(angle), t * portable.sin(angle)]))
        x = np.vstack(parts)
    elif name == "blobs":
        x = np.vstack(
            [
                np.tile(BLOB_CENTRES[0], (n0, 1)),
                np.tile(BLOB_CENTRES[1], (n1, 1)),
            ]
        )
    else:
        raise ValueError(f"no generated dataset {name!r}")
    y = np.concatenate([np.zeros(n0), np.ones(n1)])
    order = rng.permutation(samples)
    x, y = x[order], y[order]
    x = x + rng.normal(scale=noise, size=x.shape) if noise > 0 else x
    return Dataset(
        name,
        tuple(tuple(float(v) for v in row) for row in x),
        tuple((float(v),) for v in y),
    )


# the generated sets at their defaults are built-in names too (``dataset: moons``)
BUILTIN.update({name: generate(name, **params) for name, params in GENERATED.items()})


def safe_name(text: str) -> str:
    """``text`` made into a run/dataset name: letters, digits, ``. _ -``, at most 64."""
    return re.sub(r"[^A-Za-z0-9._-]", "-", text).lstrip("._-")[:64]


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise DataError(f"{where} is {show(value)}; expected a number")
    try:
        number = float(value)
    except ValueError:
        raise DataError(f"{where} is {show(value)}; expected a number") from None
    except OverflowError:  # an int too large for a float
        raise DataError(f"{where} is {show(value)}; expected a finite number") from None
    if not math.isfinite(number):
        raise DataError(f"{where} is {show(value)}; expected a finite number")
    return number


def matrix(rows: object, where: str) -> tuple[tuple[float, ...], ...]:
    """Validate a list of equally long lists of finite numbers (a bare number list is
    read as one column). ``where`` names the source in error messages."""
    if not isinstance(rows, list) or not rows:
        raise DataError(f"{where} is {show(rows)}; expected a non-empty list of rows")
    if all(not isinstance(row, list) for row in rows):
        rows = [[value] for value in rows]
    width = None
    out = []
    for i, row in enumerate(rows, start=1):
        if not isinstance(row, list) or not row:
            raise DataError(f"{where} row {i} is {show(row)}; expected a non-empty list of numbers")
        if width is None:
            width = len(row)
        elif len(row) != width:
            raise DataError(f"{where} row {i} has {len(row)} values; expected {width}, like row 1")
        out.append(
            tuple(_number(v, f"{where} row {i} column {c}") for c, v in enumerate(row, start=1))
        )
    return tuple(out)


def from_lists(name: str, inputs: object, targets: object, where: str) -> Dataset:
    """A dataset from inline lists, validated."""
    x = matrix(inputs, f"{where} inputs")
    y = matrix(targets, f"{where} targets")
    if len(x) != len(y):
        raise DataError(
            f"{where} has {len(x)} input rows and {len(y)} target rows; expected the same number"
        )
    for i, row in enumerate(y, start=1):
        for c, value in enumerate(row, start=1):
            _target(value, f"{where} targets row {i} column {c}")
    return Dataset(name, x, y)


def _target(value: float, where: str) -> None:
    """A target the output can reach: the output layer is a sigmoid, in [0, 1]."""
    if not 0.0 <= value <= 1.0:
        raise DataError(
            f"{where} is {value:g}; expected a target from 0 to 1 (the output layer is a sigmoid)"
        )


MAX_CSV_CHARS = 256 * 2**20


def load_csv(
    path: Path, source: str | None = None, targets: tuple[str, ...] | None = None
) -> Dataset:
    """Read a CSV file: last column the target, the others inputs, optional header.

    With ``targets`` (column names), the file must have a header; the named columns are
    the targets, in the order given, and the other columns the inputs, in file order.

    A first row with no finite number in it is a header and is skipped; a first row
    with some numbers is data (so a typo in it is reported, not skipped). ``source``
    (e.g. ``option --dataset is 'data.csv'``) starts the message when the file cannot
    be opened; messages about its contents name the file, line and column.
    """
    opening = f"{source}; expected a readable CSV file, but" if source else f"{path}:"
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            text = handle.read(MAX_CSV_CHARS + 1)  # bounded: /dev/zero is not data
        if len(text) > MAX_CSV_CHARS:
            raise DataError(
                f"{path}: is larger than {MAX_CSV_CHARS // 2**20} MB; expected a CSV file"
            )
        reader = csv.reader(io.StringIO(text, newline=""))
        rows = [(reader.line_num, row) for row in reader if any(c.strip() for c in row)]
    except FileNotFoundError:
        raise DataError(f"{opening} {path} does not exist") from None
    except IsADirectoryError:
        raise DataError(f"{opening} {path} is a directory") from None
    except OSError as exc:
        raise DataError(f"{opening} {path} cannot be read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: byte {exc.object[exc.start]:#04x} at offset {exc.start} is not UTF-8; "
            f"expected a UTF-8 text file"
        ) from None
    except csv.Error as exc:
        raise DataError(
            f"{path}: not a CSV file ({exc}); expected comma-separated numbers"
        ) from None
    header = None
    if rows and not any(_finite(cell) for cell in rows[0][1]):
        header, rows = rows[0], rows[1:]
    if not rows:
        raise DataError(f"{path}: has no data rows; expected one sample per row")
    first_line, first = header or rows[0]
    width = len(first)
    if width < 2:
        separator = next((sep for sep in (";", "\t", "|") if sep in first[0]), None)
        if separator is not None:
            shown = {"\t": "tabs"}.get(separator, f"'{separator}'")
            raise DataError(
                f"{path}: line {first_line} is separated by {shown}; expected "
                "comma-separated columns (save the file as CSV with commas)"
            )
        raise DataError(
            f"{path}: line {first_line} has 1 column; expected input columns and a target column"
        )
    like = f"like the header on line {first_line}" if header else f"like line {first_line}"
    parsed = []
    for line, row in rows:
        if len(row) != width:
            noun = "column" if len(row) == 1 else "columns"
            raise DataError(f"{path}: line {line} has {len(row)} {noun}; expected {width}, {like}")
        parsed.append(
            [
                _number(cell.strip(), f"{path}: line {line} column {c}")
                for c, cell in enumerate(row, 1)
            ]
        )
    if targets is None:
        target_columns = [width - 1]
    else:
        if header is None:
            raise DataError(
                f"{path}: line {first_line} is not a header; expected a first row naming the "
                f"columns (targets {', '.join(targets)} are named)"
            )
        names = [cell.strip() for cell in header[1]]
        target_columns = []
        for target in targets:
            if target not in names:
                raise DataError(
                    f"{path}: target column is {show(target)}; expected a column named in "
                    f"the header on line {first_line}: {', '.join(names)}"
                )
            target_columns.append(names.index(target))
        if len(target_columns) == width:
            raise DataError(f"{path}: every column is a target; expected at least one input column")
    for (line, _), row in zip(rows, parsed):
        for c in target_columns:
            _target(row[c], f"{path}: line {line} column {c + 1}")
    input_columns = [c for c in range(width) if c not in target_columns]
    return Dataset(
        safe_name(path.stem) or "csv",
        tuple(tuple(row[c] for c in input_columns) for row in parsed),
        tuple(tuple(row[c] for c in target_columns) for row in parsed),
    )


def _finite(cell: str) -> bool:
    try:
        return math.isfinite(float(cell))
    except ValueError:
        return False


def _csv_number(value: float) -> str:
    """The shortest text that reads back as exactly ``value`` (``float(text) ==
    value``), without a trailing ``.0``."""
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def to_csv(data: Dataset) -> str:
    """``data`` as a CSV file :func:`load_csv` reads back to the same numbers, bit for
    bit: a header (``input0, input1, ..., target``; ``target0, target1, ...`` when
    there are several outputs, which a config then names with ``targets:``), then one
    row per sample, in order."""
    outputs = ["target"] if data.n_outputs == 1 else [f"target{k}" for k in range(data.n_outputs)]
    header = [f"input{k}" for k in range(data.n_inputs)] + outputs
    lines = [",".join(header)]
    for inputs, targets in zip(data.inputs, data.targets):
        lines.append(",".join(_csv_number(v) for v in (*inputs, *targets)))
    return "\n".join(lines) + "\n"
