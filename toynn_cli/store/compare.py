"""Comparing two saved runs: the config keys that differ, and the networks both trained,
matched on every setting but those that hold one different value in each run."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from toynn_cli import axes
from toynn_cli.core.network import NetworkSpec
from toynn_cli.store.workspace import RunFolder, summaries


def config_differences(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """``(key, value in A, value in B)`` for every config key that differs, in A's key
    order then B's extra keys. A missing key is ``None``."""
    keys = list(a) + [k for k in b if k not in a]
    return [(k, a.get(k), b.get(k)) for k in keys if a.get(k) != b.get(k)]


@dataclass
class Pair:
    """A network of A and its match in B: the same on every matched setting."""

    spec_a: NetworkSpec
    spec_b: NetworkSpec
    error_a: float
    error_b: float
    status_a: str
    status_b: str

    @property
    def difference(self) -> float:
        """B's final error minus A's: positive means B is worse."""
        return self.error_b - self.error_a

    def worse(self, tolerance: float) -> bool:
        """B is worse than A by more than ``tolerance`` (a non-finite B error with a
        finite A error is worse)."""
        if not math.isfinite(self.error_b):
            return math.isfinite(self.error_a)
        if not math.isfinite(self.error_a):
            return False
        return self.difference > tolerance


@dataclass
class Comparison:
    differences: list[tuple[str, Any, Any]]  # config keys that differ: (key, A, B)
    pairs: list[Pair]
    only_a: int  # networks of A with no match in B
    only_b: int
    matched_on: list[str]  # the settings (axes keys) networks were matched on
    #: settings with one value in each run, a different one: not matched on
    unmatched: list[str]
    iterations: tuple[int, int]  # A's and B's


def compare(a: RunFolder, b: RunFolder) -> Comparison:
    """Config differences, then the networks both runs trained, in A's order. Networks
    are matched on every setting but those that hold one value in each run, a
    different one (hidden 4 in A, 32 in B: then alpha 10 in A meets alpha 10 in B)."""
    rows_a, rows_b = list(summaries(a)), list(summaries(b))
    seen_a: dict[str, set] = {s.key: set() for s in axes.COLUMNS}
    seen_b: dict[str, set] = {s.key: set() for s in axes.COLUMNS}
    for rows, seen in ((rows_a, seen_a), (rows_b, seen_b)):
        for spec, _, _ in rows:
            for k, value in axes.values(spec).items():
                if len(seen[k]) < 2:
                    seen[k].add(value)
    unmatched = [
        k for k in seen_a if len(seen_a[k]) == 1 and len(seen_b[k]) == 1 and seen_a[k] != seen_b[k]
    ]
    by_key_b = {axes.key(spec, unmatched): (spec, e, st) for spec, e, st in rows_b}
    keys_a = set()
    pairs = []
    for spec, error, status in rows_a:
        key = axes.key(spec, unmatched)
        keys_a.add(key)
        match = by_key_b.get(key)
        if match is not None:
            pairs.append(Pair(spec, match[0], error, match[1], status, match[2]))
    return Comparison(
        differences=config_differences(a.experiment, b.experiment),
        pairs=pairs,
        only_a=len(rows_a) - len(pairs),
        only_b=sum(1 for key in by_key_b if key not in keys_a),
        matched_on=[s.key for s in axes.COLUMNS if s.key not in unmatched],
        unmatched=unmatched,
        iterations=(_iterations(a), _iterations(b)),
    )


def _iterations(run: RunFolder) -> int:
    value = run.experiment.get("iterations")
    return value if isinstance(value, int) else -1
