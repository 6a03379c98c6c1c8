"""What every command shares about output: one Terminal (stdout for data, stderr for
messages), the one error style (one line, exit 2), and the one place that decides
table, JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click
from rich.console import Console, RenderableType

from toynn_cli import axes
from toynn_cli.core.network import NetworkResult
from toynn_cli.view.fit import Stripped

if TYPE_CHECKING:
    from toynn_cli.store import workspace

NON_TTY_WIDTH = 200
#: the page of --wide: tables at their natural width, whatever the terminal's
WIDE_WIDTH = 10_000


class UserError(click.ClickException):
    """An error the user can fix: printed as one line, exit code 2."""

    exit_code = 2


class Terminal:
    """The one place output goes: ``out`` (stdout, data) and ``err`` (stderr, messages).

    rich turns colour off when a stream is not a terminal or ``NO_COLOR`` is set.
    Tables fit the page: the terminal's width (80 under TERM=dumb), or when stdout is
    not a terminal NON_TTY_WIDTH columns, unless COLUMNS says otherwise; with ``wide``
    (--wide) they get their natural width, whatever the terminal's, and with ``whole``
    too when stdout is not a terminal and COLUMNS is not set (one line per row).
    """

    def __init__(self, quiet: bool = False, wide: bool = False, whole: bool = False) -> None:
        self.quiet = quiet
        probe = Console()
        columns = os.environ.get("COLUMNS", "")
        width = int(columns) if columns.isdigit() and int(columns) > 0 else None
        if wide or (whole and not probe.is_terminal and width is None):
            self.out = Console(width=WIDE_WIDTH)
        elif probe.is_terminal:
            self.out = probe
        else:
            self.out = Console(width=width or NON_TTY_WIDTH)
        self.err = Console(stderr=True)

    def show(self, renderable: RenderableType) -> None:
        """Print a view on stdout, its lines without trailing spaces."""
        self.out.print(Stripped(renderable))

    def message(self, text: str, style: str | None = None) -> None:
        if not self.quiet:
            self.err.print(text, style=style, highlight=False, soft_wrap=True)

    def warn(self, text: str) -> None:
        self.err.print(text, style="yellow", highlight=False, soft_wrap=True)

    @contextmanager
    def progress(self, description: str, total: int):
        """A progress bar on stderr, only when stderr is a terminal and not --quiet;
        yields a ``callback(done, total)``."""
        if self.quiet or not self.err.is_terminal:
            yield None
            return
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeRemainingColumn(),
            console=self.err,
            transient=True,
        )
        task = bar.add_task(description, total=total)
        with bar:
            yield lambda done, _total: bar.update(task, completed=done)


def fail(message: str) -> NoReturn:
    raise UserError(message)


# --- run folders as a workspace ---------------------------------------------------------


def data_format(as_json: bool, as_csv: bool) -> None:
    if as_json and as_csv:
        fail("options --json and --csv cannot be used together; expected one of them")


#: what ``emit`` prints for --csv: the header and the rows
CsvData = tuple[Sequence[str], Sequence[Sequence[Any]]]


def emit(
    term: Terminal,
    as_json: bool,
    as_csv: bool,
    *,
    doc: Callable[[], Any],
    csv: Callable[[], CsvData | str],
    table: Callable[[], RenderableType | Sequence[RenderableType]],
) -> None:
    """The one place a command's data reaches stdout: JSON (``--json``: one document,
    no NaN), CSV (``--csv``: a header and one line per row) or the rich table(s).
    Each form is built only when it is the one printed."""
    data_format(as_json, as_csv)
    if as_json:
        click.echo(json.dumps(doc(), allow_nan=False))
    elif as_csv:
        data = csv()
        click.echo(data if isinstance(data, str) else csv_text(*data), nl=False)
    else:
        shown = table()
        for renderable in shown if isinstance(shown, list | tuple) else [shown]:
            term.show(renderable)


def open_run(path: Path) -> workspace.RunFolder:
    from toynn_cli.store import workspace

    try:
        return workspace.open_run(path)
    except workspace.NotARunError as exc:
        fail(str(exc))


def load_networks(run: workspace.RunFolder) -> tuple[list[NetworkResult], list[str]]:
    from toynn_cli.store import workspace

    try:
        return workspace.load_networks(run)
    except workspace.NotARunError as exc:
        fail(str(exc))


def csv_text(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def csv_number(value: float | None) -> str:
    return "" if value is None else repr(float(value))


#: --csv's columns after the network's number and settings (axes.csv_columns)
RESULT_CSV_COLUMNS = ("final_error", "final_accuracy", "status")


def networks_csv(
    finished: Sequence[NetworkResult], statuses: Sequence[str], indices: Sequence[int]
) -> str:
    """One CSV row per network: its number, every setting, final error, accuracy and
    status."""
    columns = axes.csv_columns()
    lines = [
        (
            i,
            *(cell(r.spec) for _, cell in columns),
            repr(r.final_error),
            csv_number(r.final_accuracy),
            s,
        )
        for i, r, s in zip(indices, finished, statuses)
    ]
    return csv_text(("network", *(name for name, _ in columns), *RESULT_CSV_COLUMNS), lines)
