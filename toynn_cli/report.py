"""Rich renderables built from results. Nothing here prints: the CLI decides where they go."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from toynn_cli import tutorial
from toynn_cli.engine import NetworkResult, NetworkSpec

STATUS_STYLE = {
    "converged": "green",
    "learning": "yellow",
    "stuck": "magenta",
    "diverged": "bold red",
}
MAX_CHECKPOINT_COLUMNS = 10


def fmt_error(value: float) -> str:
    """Errors in the tutorial's format: 12 significant digits."""
    return tutorial.printed(value) if math.isfinite(value) else str(value)


def fmt_alpha(value: float) -> str:
    return f"{value:g}" if float(f"{value:g}") == value else repr(value)


def status_text(status: str) -> Text:
    return Text(status, style=STATUS_STYLE.get(status, ""))


def is_plain_sgd(spec: NetworkSpec) -> bool:
    """The tutorial's optimizer with nothing set (then tables leave the column out)."""
    return spec.optimizer == "sgd" and not spec.optimizer_params


def optimizer_label(spec: NetworkSpec) -> str:
    """The optimizer's name, with the hyperparameters set for it: ``adam betas=0.9,0.99``."""
    given = []
    for key, value in spec.optimizer_params:
        shown = ",".join(f"{v:g}" for v in value) if isinstance(value, tuple) else value
        given.append(f"{key}={shown:g}" if isinstance(shown, float) else f"{key}={shown}")
    return " ".join([spec.optimizer, *given])


#: Settings beyond alpha, hidden and seed: (column title, how to show it, the default).
EXTRA_COLUMNS: tuple[tuple[str, Callable[[NetworkSpec], str], str], ...] = (
    ("optimizer", optimizer_label, "sgd"),
    ("bias", lambda spec: "bias" if spec.bias else "-", "-"),
    ("activation", lambda spec: spec.activation, "sigmoid"),
    ("loss", lambda spec: spec.loss, "squared"),
    ("init", lambda spec: spec.init, "uniform"),
    ("clip", lambda spec: _clip_label(spec), "-"),
    ("schedule", lambda spec: _schedule_label(spec), "constant"),
    ("target", lambda spec: f"{spec.target_error:g}" if spec.target_error else "-", "-"),
    ("batch", lambda spec: str(spec.batch_size) if spec.batch_size else "full", "full"),
    ("dropout", lambda spec: f"{spec.dropout:g}" if spec.dropout else "-", "-"),
    ("batch norm", lambda spec: "on" if spec.batch_norm else "-", "-"),
)


def _clip_label(spec: NetworkSpec) -> str:
    parts = []
    if spec.clip_value:
        parts.append(f"value {spec.clip_value:g}")
    if spec.clip_norm:
        parts.append(f"norm {spec.clip_norm:g}")
    return " ".join(parts) or "-"


def _schedule_label(spec: NetworkSpec) -> str:
    given = " ".join(f"{k}={v:g}" for k, v in spec.schedule_params)
    return f"{spec.schedule} {given}".strip()


def is_default(spec: NetworkSpec) -> bool:
    """Every setting beyond alpha, hidden and seed is the tutorial's."""
    return all(show(spec) == default for _, show, default in EXTRA_COLUMNS)


def extra_columns(
    specs: Sequence[NetworkSpec],
) -> list[tuple[str, Callable[[NetworkSpec], str]]]:
    """The extra columns a table needs: the settings some network has away from the
    tutorial's (a sweep that changes none has the tutorial's columns)."""
    return [
        (title, show)
        for title, show, default in EXTRA_COLUMNS
        if any(show(spec) != default for spec in specs)
    ]


def fmt_hidden(hidden: int | tuple[int, ...]) -> str:
    return "x".join(map(str, hidden)) if isinstance(hidden, tuple) else str(hidden)


def describe(spec: NetworkSpec) -> str:
    """One network in words: ``adam, alpha 0.01, hidden 8x4, seed 1, bias, loss ...``."""
    parts = [] if is_plain_sgd(spec) else [optimizer_label(spec)]
    parts.append(
        f"alpha {fmt_alpha(spec.alpha)}, hidden {fmt_hidden(spec.hidden)}, seed {spec.seed}"
    )
    if spec.bias:
        parts.append("bias")
    for title, show, default in EXTRA_COLUMNS[2:]:
        if show(spec) != default:
            parts.append(f"{title} {show(spec)}")
    return ", ".join(parts)


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


def error_table(result: NetworkResult) -> Table:
    """The error at each checkpoint and after the last update."""
    table = Table(title="Error (mean |output - target|)", title_justify="left")
    table.add_column("iteration", justify="right")
    table.add_column("error", justify="right")
    for j, e in zip(result.checkpoint_iterations, result.checkpoint_errors):
        table.add_row(str(j), fmt_error(e))
    table.add_row(f"final ({result.iterations})", fmt_error(result.final_error), style="bold")
    return table


def titled(title: str, table: Table) -> Group:
    """A table under a one-line title. (A table's own title wraps to the table's
    width, which for a narrow matrix breaks it over several lines.)"""
    return Group(Text(title, style="table.title"), table)


def matrix_table(array: np.ndarray, integers: bool = False) -> Table:
    """A matrix (rows: units of the layer below, columns: units above)."""
    table = Table(show_header=True)
    table.add_column("", style="dim")
    for c in range(array.shape[1]):
        table.add_column(str(c), justify="right")
    for r, row in enumerate(array):
        cells = [str(int(v)) if integers else f"{v:.8g}" for v in row]
        table.add_row(str(r), *cells)
    return table


def weights_group(result: NetworkResult) -> Group:
    """Final weights and direction-change counts of every layer, input side first."""
    parts: list[RenderableType] = []
    for k, (w, c) in enumerate(zip(result.weights, result.direction_changes)):
        rows, cols = w.shape
        parts.append(titled(f"W{k} ({rows} x {cols}) after training", matrix_table(w)))
        parts.append(
            titled(
                f"W{k} direction changes (of {result.iterations - 1} steps)",
                matrix_table(c, integers=True),
            )
        )
    return Group(*parts)


def train_report(name: str, dataset: str, result: NetworkResult, status: str) -> Group:
    line = Text(f"{describe(result.spec)}: final error {fmt_error(result.final_error)}, ")
    line.append_text(status_text(status))
    return Group(
        header(name, dataset, result.iterations, 1),
        error_table(result),
        line,
        weights_group(result),
    )


def _shown_checkpoints(n: int) -> list[int]:
    if n <= MAX_CHECKPOINT_COLUMNS:
        return list(range(n))
    picks = np.linspace(0, n - 1, MAX_CHECKPOINT_COLUMNS).round().astype(int)
    return sorted(set(picks.tolist()))


def sweep_table(
    results: Sequence[NetworkResult], statuses: Sequence[str], max_rows: int | None = None
) -> Table:
    """One row per network: its settings, error at each checkpoint, final error, status.
    The best network (lowest final error) is marked with a star."""
    best = best_index(results)
    n_checks = len(results[0].checkpoint_iterations) if results else 0
    columns = _shown_checkpoints(n_checks)
    table = Table(title="Error at each checkpoint", title_justify="left")
    extra = extra_columns([r.spec for r in results])
    table.add_column("", justify="right")
    for title, _ in extra:
        table.add_column(title)
    for title in ("alpha", "hidden", "seed"):
        table.add_column(title, justify="right")
    for c in columns:
        table.add_column(str(results[0].checkpoint_iterations[c]), justify="right")
    table.add_column("final", justify="right")
    stopping = any(r.spec.target_error for r in results)
    if stopping:
        table.add_column("stopped at", justify="right")
    table.add_column("status")
    shown = range(len(results)) if not max_rows else range(min(max_rows, len(results)))
    for i in shown:
        r = results[i]
        table.add_row(
            "★" if i == best else "",
            *[show(r.spec) for _, show in extra],
            fmt_alpha(r.spec.alpha),
            fmt_hidden(r.spec.hidden),
            str(r.spec.seed),
            *[fmt_error(r.checkpoint_errors[c]) for c in columns],
            fmt_error(r.final_error),
            *([str(r.stopped_at) if r.stopped_at is not None else "-"] if stopping else []),
            status_text(statuses[i]),
            style="bold" if i == best else None,
        )
    return table


def sweep_notes(results: Sequence[NetworkResult], max_rows: int | None = None) -> Text | None:
    """What the sweep table leaves out, if anything, in one line. (Not the table's
    caption: a caption wraps to the table's width.)"""
    n_checks = len(results[0].checkpoint_iterations) if results else 0
    n_columns = len(_shown_checkpoints(n_checks))
    n_rows = min(max_rows, len(results)) if max_rows else len(results)
    notes = []
    if n_columns < n_checks:
        notes.append(f"{n_columns} of {n_checks} checkpoints shown")
    if n_rows < len(results):
        notes.append(f"first {n_rows} of {len(results)} networks shown (--rows 0 for all)")
    if not notes:
        return None
    return Text("; ".join(notes) + "; the rest is in the run folder", style="dim")


def summary(results: Sequence[NetworkResult], statuses: Sequence[str]) -> Text:
    """Status counts and the best network, in one line."""
    counts = {s: statuses.count(s) for s in ("converged", "learning", "stuck", "diverged")}
    noun = "network" if len(results) == 1 else "networks"
    text = Text(f"{len(results)} {noun}: ")
    parts = [(f"{n} {s}", STATUS_STYLE[s]) for s, n in counts.items() if n]
    for k, (part, style) in enumerate(parts):
        text.append(part, style=style)
        if k < len(parts) - 1:
            text.append(", ")
    best = best_index(results)
    if best is not None:
        r = results[best]
        text.append(f". Best: {describe(r.spec)}, final error {fmt_error(r.final_error)}")
    return text


def sweep_report(
    name: str,
    dataset: str,
    results: Sequence[NetworkResult],
    statuses: Sequence[str],
    max_rows: int | None = None,
    show_weights: bool = False,
) -> Group:
    parts: list[RenderableType] = [
        header(name, dataset, results[0].iterations, len(results)),
        sweep_table(results, statuses, max_rows),
    ]
    notes = sweep_notes(results, max_rows)
    if notes is not None:
        parts.append(notes)
    parts.append(summary(results, statuses))
    if show_weights:
        for i, r in enumerate(results[: max_rows or None]):
            parts.append(Text(f"\nNetwork {i}: {describe(r.spec)}", style="bold"))
            parts.append(weights_group(r))
    return Group(*parts)


def dry_run_table(
    specs: Sequence[NetworkSpec], iterations: int, max_rows: int | None = None
) -> Group:
    """The networks a sweep would train, one row each (the first ``max_rows``)."""
    table = Table()
    extra = extra_columns(specs)
    table.add_column("#", justify="right")
    for title, _ in extra:
        table.add_column(title)
    for title in ("alpha", "hidden", "seed"):
        table.add_column(title, justify="right")
    shown = specs[:max_rows] if max_rows else specs
    for i, spec in enumerate(shown):
        table.add_row(
            str(i),
            *[show(spec) for _, show in extra],
            fmt_alpha(spec.alpha),
            fmt_hidden(spec.hidden),
            str(spec.seed),
        )
    noun = "network" if len(specs) == 1 else "networks"
    parts: list[RenderableType] = [
        Text(f"{len(specs)} {noun} to train, {iterations} iterations each"),
        table,
    ]
    if len(shown) < len(specs):
        parts.append(Text(f"first {len(shown)} of {len(specs)} networks shown (--rows 0 for all)"))
    return Group(*parts)


def size_text(n: float) -> str:
    """A byte count for people: 512 bytes, 37.2 MB, 2.9 GB."""
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def plan_line(networks: int, chunks: int, chunk_size: int, guess: dict[str, float]) -> Text:
    """How a sweep would run: chunks, workers, and rough memory and time estimates."""
    workers = int(guess["workers"])
    noun = "chunk" if chunks == 1 else "chunks"
    return Text(
        f"{chunks} {noun} of up to {min(chunk_size, networks)} networks on "
        f"{workers} worker{'s' if workers != 1 else ''}; "
        f"estimated peak memory {size_text(guess['memory_bytes'])}, "
        f"time about {guess['seconds']:.3g} s (rough)"
    )


MATCH_MARK = {"exact": ("✓ all digits", "green"), "close": ("≈ 1e-9", "yellow")}


def reproduce_table(results: Sequence[NetworkResult]) -> Table:
    """Published digits beside the obtained ones, one row per alpha and checkpoint."""
    table = Table(title="The tutorial's published sweep, reproduced", title_justify="left")
    for title in ("alpha", "iteration", "published", "obtained", "match"):
        table.add_column(title, justify="right" if title != "match" else "left")
    for r in results:
        for c, (j, e) in enumerate(zip(r.checkpoint_iterations, r.checkpoint_errors)):
            verdict = tutorial.compare(r.spec.alpha, c, float(e))
            mark, style = MATCH_MARK.get(verdict, ("✗ MISMATCH", "bold red"))
            table.add_row(
                fmt_alpha(r.spec.alpha),
                str(j),
                tutorial.PUBLISHED[r.spec.alpha][c],
                fmt_error(e),
                Text(mark, style=style),
            )
    return table
