"""Seed ensembles: the networks of a sweep grouped by cell: every setting but the seed
(alpha, hidden, and the optimizer, activation, ... when a sweep varies them).

Many random starting states are the tutorial's argument against local minima; a cell
with many seeds measures it: how many of its networks converged, and how spread their
final errors are. Pure Python and NumPy; nothing here prints.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from toynn_cli.analysis.status import STATUSES
from toynn_cli.core import network
from toynn_cli.core.network import NetworkResult, NetworkSpec


@dataclass
class Cell:
    """The networks of one cell, one per seed. ``key`` is their common spec (seed 0)."""

    key: NetworkSpec
    seeds: list[int]
    final_errors: np.ndarray  # (n,)
    statuses: list[str]

    @property
    def alpha(self) -> float:
        return self.key.alpha

    @property
    def hidden(self) -> int | tuple[int, ...]:
        return self.key.hidden

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


def cell_key(spec: NetworkSpec) -> NetworkSpec:
    """A network's cell: its spec with the seed left out."""
    return dataclasses.replace(spec, seed=0)


#: every field of a spec but alpha and seed, read at once: with the alpha, what
#: :func:`cell_key` keeps, as a tuple (grouping 7000 networks by it takes 5 ms, by
#: cell_key 100 ms)
_settings = network.fields_but(*network.PER_NETWORK)


def _grouped(specs: Sequence[NetworkSpec]) -> dict[tuple, list[int]]:
    """The grid indices of each cell, in order of first appearance: within each run of
    one setting but alpha and seed (network.runs: a Grid's, W4's 10^6 networks in 0.2 s
    instead of 1 s), by alpha."""
    grouped: dict[tuple, list[int]] = {}
    if not isinstance(specs, network.Grid):  # a network a run: one key a network
        for i, spec in enumerate(specs):
            grouped.setdefault((_settings(spec), spec.alpha), []).append(i)
        return grouped
    for start, stop in network.runs(specs):
        by_alpha: dict[float, list[int]] = {}
        for i, spec in enumerate(specs[start:stop], start):
            by_alpha.setdefault(spec.alpha, []).append(i)
        settings = _settings(specs[start])
        for alpha, members in by_alpha.items():
            grouped.setdefault((settings, alpha), []).extend(members)
    return grouped


def cells(
    results: Sequence[NetworkResult],
    statuses: Sequence[str],
    final_errors: np.ndarray | None = None,
    specs: Sequence[NetworkSpec] | None = None,
) -> list[Cell]:
    """One cell per setting but the seed, in order of first appearance. ``final_errors``
    and ``specs`` may be given column-wise (a large sweep's records are made on demand)."""
    if specs is None:  # a run's Networks has both columns; a list of results, per record
        specs = results.specs() if hasattr(results, "specs") else [r.spec for r in results]
    if final_errors is None:
        final_errors = getattr(results, "final_errors", None)
    if final_errors is None:
        final_errors = np.array([r.final_error for r in results], dtype=np.float64)
    return [
        Cell(
            key=cell_key(specs[members[0]]),
            seeds=[specs[i].seed for i in members],
            final_errors=np.asarray(final_errors, dtype=np.float64)[members],
            statuses=[str(statuses[i]) for i in members],
        )
        for members in _grouped(specs).values()
    ]


def has_ensembles(results: Sequence[NetworkResult]) -> bool:
    """True when some cell has more than one seed."""
    return grid_has_ensembles(
        results.specs() if hasattr(results, "specs") else [r.spec for r in results]
    )


def grid_has_ensembles(specs: Sequence[NetworkSpec]) -> bool:
    """True when some cell of these networks has more than one seed: found at the first
    network whose cell was seen before (a sweep over seeds: the second network; W4's
    10^6 networks were all grouped, 1.4 s)."""
    seen: set[tuple] = set()
    for spec in specs:
        key = (_settings(spec), spec.alpha)
        if key in seen:
            return True
        seen.add(key)
    return False
