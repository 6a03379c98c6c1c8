"""Rich renderables of a plan: the networks a dry run would train and how they would run.
Nothing here prints: the CLI decides where they go."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.text import Text

from toynn_cli.core.network import NetworkSpec
from toynn_cli.store.results import shown_indices
from toynn_cli.view.fit import Column, FitTable, Step, constant_steps
from toynn_cli.view.formats import extra_columns, fmt_alpha, fmt_hidden
from toynn_cli.view.report import gap_row


def dry_run_table(
    specs: Sequence[NetworkSpec], iterations: int, max_rows: int | None = None
) -> Group:
    """The networks a sweep would train, one row each (of more than ``max_rows``, the
    first and last, as numpy prints a long array)."""
    indices = shown_indices(len(specs), max_rows)
    shown = [specs[i] for i in indices]
    columns = [Column("#", "#", [str(i) for i in indices], justify="right")]
    extra = extra_columns(specs)
    for title, show in extra:
        columns.append(Column(title, title, [show(spec) for spec in shown]))
    columns += [
        Column("alpha", "alpha", [fmt_alpha(s.alpha) for s in shown], justify="right"),
        Column("hidden", "hidden", [fmt_hidden(s.hidden) for s in shown], justify="right"),
        Column("seed", "seed", [str(s.seed) for s in shown], justify="right"),
    ]
    settings = [title for title, _ in extra] + ["alpha", "hidden", "seed"]
    steps = [*constant_steps(columns, settings), Step(compact=True)]
    styles: list[str | None] = [None] * len(shown)
    if len(shown) < len(specs):
        gap_row(columns, styles, (len(shown) + 1) // 2)
    table = FitTable(
        columns, steps, row_styles=styles, rows_are="network", hint="--wide or --json for all"
    )
    noun = "network" if len(specs) == 1 else "networks"
    parts: list[RenderableType] = [
        Text(f"{len(specs)} {noun} to train, {iterations} iterations each"),
        table,
    ]
    if len(shown) < len(specs):
        head = (len(shown) + 1) // 2
        parts.append(
            Text(
                f"the first {head} and last {len(shown) - head} of {len(specs)} networks "
                "shown (--rows 0 for all)"
            )
        )
    return Group(*parts)


def size_text(n: float) -> str:
    """A byte count for people: 512 bytes, 37.2 MB, 2.9 GB."""
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def plan_line(
    networks: int,
    chunks: int,
    chunk_size: int,
    guess: dict[str, float],
    engine: str,
    requested: int,
    reason: str | None,
) -> Text:
    """How a sweep would run: chunks, the worker processes the run starts (none: it
    trains in this process, on ``guess["threads"]`` threads; and ``reason``, when
    ``requested`` asked for more), the engine, and rough memory and time estimates."""
    workers, threads = int(guess["workers"]), int(guess.get("threads", 1))
    noun = "chunk" if chunks == 1 else "chunks"
    if workers > 1:
        where = f"on {workers} workers"
    else:
        where = "in this process" + (f" on {threads} threads" if threads > 1 else "")
    unused = ""
    if workers == 1 and requested > 1 and reason is not None:
        unused = f"; no worker processes: {reason}"
    return Text(
        f"{chunks} {noun} of up to {min(chunk_size, networks)} networks {where} "
        f"({engine} engine{unused}); "
        f"estimated peak memory {size_text(guess['memory_bytes'])}, "
        f"time about {guess['seconds']:.3g} s (rough)"
    )
