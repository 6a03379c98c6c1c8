"""How values read in every view: errors, weights, alphas, layer sizes, statuses, a
run's header line, a titled table. Nothing here prints."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from rich.console import Group, RenderableType
from rich.text import Text

from toynn_cli import axes
from toynn_cli.core import tutorial
from toynn_cli.core.network import NetworkResult, NetworkSpec

STATUS_STYLE = {
    "converged": "green",
    "learning": "yellow",
    "stuck": "magenta",
    "diverged": "bold red",
}
MAX_CHECKPOINT_COLUMNS = 10
ERROR_DIGITS = 12
WEIGHT_DIGITS = 8
#: a weight matrix with more entries than this is summarised: its first and last
#: MATRIX_EDGE rows and columns (numpy's print threshold and edge items)
MATRIX_THRESHOLD = 1000
MATRIX_EDGE = 3


def fmt_error(value: float, digits: int = ERROR_DIGITS) -> str:
    """An error to ``digits`` significant digits: the tutorial's format (12), or fewer
    when a table must fit a narrow terminal (scientific notation below 1e-4)."""
    if not math.isfinite(value):
        return str(value)
    return tutorial.printed(value) if digits == ERROR_DIGITS else f"{value:.{digits}g}"


def fmt_weight(value: float, digits: int = WEIGHT_DIGITS) -> str:
    """A weight to ``digits`` significant digits (8 in full)."""
    return f"{value:.{digits}g}"


fmt_alpha = axes.show_number


def status_text(status: str) -> Text:
    return Text(status, style=STATUS_STYLE.get(status, ""))


def is_default(spec: NetworkSpec) -> bool:
    """Every setting beyond alpha, hidden and seed is the tutorial's."""
    return not axes.extra(spec)


def extra_columns(
    specs: Sequence[NetworkSpec],
) -> list[tuple[str, Callable[[NetworkSpec], str]]]:
    """The extra columns a table needs: the settings some network has away from the
    tutorial's (a sweep that changes none has the tutorial's columns)."""
    return [(s.title, s.label) for s in axes.varying(specs)]  # type: ignore[misc]


def fmt_hidden(hidden: int | tuple[int, ...]) -> str:
    return axes.show_hidden(hidden)


describe = axes.describe


def best_index(results: Sequence[NetworkResult]) -> int | None:
    """The network with the lowest finite final error (the first, on ties)."""
    errors = getattr(results, "final_errors", None)  # column-wise, when the caller has it
    if errors is not None:
        finite = np.where(np.isfinite(errors), errors, np.inf)
        return int(np.argmin(finite)) if np.isfinite(finite).any() else None
    finite = [(r.final_error, i) for i, r in enumerate(results) if math.isfinite(r.final_error)]
    return min(finite)[1] if finite else None


def header(name: str, dataset: str, iterations: int, n_networks: int) -> Text:
    text = Text()
    text.append(name, style="bold")
    noun = "network" if n_networks == 1 else "networks"
    text.append(f"  dataset {dataset} · {iterations} iterations · {n_networks} {noun}")
    return text


def fmt_accuracy(value: float | None) -> str:
    """An accuracy (a fraction of outputs) to 4 significant digits; '-' if none."""
    return "-" if value is None else f"{value:.4g}"


def titled(title: str, table: RenderableType) -> Group:
    """A table under a one-line title. (A table's own title wraps to the table's
    width, which for a narrow matrix breaks it over several lines, and is padded
    with spaces to it.)"""
    return Group(Text(title, style="table.title"), table)
