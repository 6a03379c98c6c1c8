"""Seed ensembles: the networks of a sweep grouped by (alpha, hidden) cell.

Many random starting states are the tutorial's argument against local minima; a cell
with many seeds measures it: how many of its networks converged, and how spread their
final errors are. Pure Python and NumPy; nothing here prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from toynn_cli.engine import NetworkResult
from toynn_cli.status import STATUSES


@dataclass
class Cell:
    """The networks of one (alpha, hidden) cell, one per seed."""

    alpha: float
    hidden: int
    seeds: list[int]
    final_errors: np.ndarray  # (n,)
    statuses: list[str]

    @property
    def median(self) -> float:
        return _stat(np.nanmedian, self.final_errors)

    @property
    def min(self) -> float:
        return _stat(np.nanmin, self.final_errors)

    @property
    def max(self) -> float:
        return _stat(np.nanmax, self.final_errors)

    @property
    def converged_fraction(self) -> float:
        return self.statuses.count("converged") / len(self.statuses)

    def counts(self) -> dict[str, int]:
        """How many networks got each status label (labels with none left out)."""
        return {s: self.statuses.count(s) for s in STATUSES if s in self.statuses}


def _stat(fn, values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(fn(finite)) if finite.size else float("nan")


def cells(results: Sequence[NetworkResult], statuses: Sequence[str]) -> list[Cell]:
    """One cell per (alpha, hidden), in order of first appearance."""
    grouped: dict[tuple[float, int], list[int]] = {}
    for i, r in enumerate(results):
        grouped.setdefault((r.spec.alpha, r.spec.hidden), []).append(i)
    return [
        Cell(
            alpha=alpha,
            hidden=hidden,
            seeds=[results[i].spec.seed for i in members],
            final_errors=np.array([results[i].final_error for i in members], dtype=np.float64),
            statuses=[statuses[i] for i in members],
        )
        for (alpha, hidden), members in grouped.items()
    ]


def has_ensembles(results: Sequence[NetworkResult]) -> bool:
    """True when some (alpha, hidden) cell has more than one seed."""
    keys = [(r.spec.alpha, r.spec.hidden) for r in results]
    return len(set(keys)) < len(keys)
