"""Built-in datasets and CSV loading.

A dataset is a matrix of inputs (one row per sample) and a matrix of targets (one row
per sample, one column per output). CSV files hold one sample per row; the last column
is the target, every other column an input; a first row that is not all numbers is a
header and is skipped.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np


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
}


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise DataError(f"{where} is {value!r}: expected a number")
    try:
        number = float(value)
    except ValueError:
        raise DataError(f"{where} is {value!r}: expected a number") from None
    if not math.isfinite(number):
        raise DataError(f"{where} is {value!r}: expected a finite number")
    return number


def matrix(rows: object, where: str) -> tuple[tuple[float, ...], ...]:
    """Validate a list of equally long lists of finite numbers (a bare number list is
    read as one column). ``where`` names the source in error messages."""
    if not isinstance(rows, list) or not rows:
        raise DataError(f"{where} is {rows!r}: expected a non-empty list of rows")
    if all(not isinstance(row, list) for row in rows):
        rows = [[value] for value in rows]
    width = None
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, list) or not row:
            raise DataError(f"{where} row {i + 1} is {row!r}: expected a non-empty list of numbers")
        if width is None:
            width = len(row)
        elif len(row) != width:
            raise DataError(
                f"{where} row {i + 1} has {len(row)} values: expected {width} like row 1"
            )
        out.append(tuple(_number(v, f"{where} row {i + 1}") for v in row))
    return tuple(out)


def from_lists(name: str, inputs: object, targets: object, where: str) -> Dataset:
    """A dataset from inline lists, validated."""
    x = matrix(inputs, f"{where} inputs")
    y = matrix(targets, f"{where} targets")
    if len(x) != len(y):
        raise DataError(
            f"{where} has {len(x)} input rows and {len(y)} target rows: expected the same number"
        )
    return Dataset(name, x, y)


def load_csv(path: Path) -> Dataset:
    """Read a CSV file: last column the target, the others inputs, optional header."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = [row for row in csv.reader(handle) if any(cell.strip() for cell in row)]
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path}: cannot read: {exc}") from None
    if rows and not _numeric(rows[0]):
        rows = rows[1:]
    if not rows:
        raise DataError(f"{path}: no data rows: expected one sample per row")
    width = len(rows[0])
    if width < 2:
        raise DataError(f"{path}: rows have {width} column: expected inputs and a target column")
    parsed = []
    for line, row in enumerate(rows, start=1):
        if len(row) != width:
            raise DataError(f"{path}: data row {line} has {len(row)} columns: expected {width}")
        parsed.append([_number(cell.strip(), f"{path}: data row {line}") for cell in row])
    return Dataset(
        path.stem,
        tuple(tuple(row[:-1]) for row in parsed),
        tuple((row[-1],) for row in parsed),
    )


def _numeric(row: list[str]) -> bool:
    try:
        [float(cell) for cell in row]
    except ValueError:
        return False
    return True
