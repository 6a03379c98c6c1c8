"""Tables that fit the width they are rendered at (issue 14, point 1).

A :class:`FitTable` holds its columns' values, not their text: when the full table is
wider than the page, it applies its steps in turn (leave an optional column out, show
a column's numbers to fewer significant digits, a lighter border) until it fits, and
says under the table what it left out and how to see it. Numbers are formatted to the
width, never cut; words are never cut. Rendered wide enough (``--wide``, report.txt),
it is the full table.

Nothing here prints: the CLI decides where a renderable goes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

#: what a cell holds: text, or a number its column formats (to the digits it is given)
Cell = str | Text | float | int | None

#: the width tables are measured at (wider than any page they are printed on)
MEASURE_WIDTH = 100_000

#: the mark of rows and columns a summary leaves out (numpy's)
GAP = "..."

#: a wrapping column keeps at least this many columns (or its whole text)
WRAP_WIDTH = 24


@dataclass
class Column:
    """One column: its ``key`` (for steps), ``title``, cells and how they are shown.

    ``number(value, digits)`` formats a numeric cell; ``digits`` is the full precision
    (a step may lower it). ``hidden`` columns are shown only when a step shows them
    (the ``...`` column of a summary). A ``wrap`` column's text may wrap between
    words (a long command line); every other column keeps each cell on one line.
    ``short``: the title a step may switch to."""

    key: str
    title: str
    cells: list[Cell]
    justify: str = "left"
    number: Callable[[Any, int], str] | None = None
    digits: int = 12
    style: str | None = None
    hidden: bool = False
    wrap: bool = False
    short: str | None = None


@dataclass
class Step:
    """One way to make the table narrower, tried when it does not yet fit.

    ``drop``: column keys to leave out (``left_out``: what the note calls them; those
    of one ``group`` are said together: "checkpoints 10000, 20000");
    ``show``: hidden columns to show; ``digits``: new precisions by column key
    (``rounded``: what the note calls those numbers); ``compact``: no vertical
    borders; ``same``: what the dropped column says in every row ("hidden 4");
    ``short``: columns that switch to their short title."""

    drop: Sequence[str] = ()
    left_out: str | None = None
    group: str | None = None
    show: Sequence[str] = ()
    digits: dict[str, int] = field(default_factory=dict)
    rounded: str | None = None
    compact: bool = False
    same: str | None = None
    short: Sequence[str] = ()


@dataclass
class Layout:
    dropped: set[str] = field(default_factory=set)
    shown: set[str] = field(default_factory=set)
    digits: dict[str, int] = field(default_factory=dict)
    compact: bool = False
    left_out: list[tuple[str | None, str]] = field(default_factory=list)
    rounded: dict[str, tuple[int, set[str]]] = field(default_factory=dict)
    same: list[str] = field(default_factory=list)
    short: set[str] = field(default_factory=set)

    def apply(self, step: Step) -> Layout:
        out = Layout(
            set(self.dropped),
            set(self.shown),
            dict(self.digits),
            self.compact,
            list(self.left_out),
            dict(self.rounded),
            list(self.same),
            self.short | set(step.short),
        )
        out.dropped.update(step.drop)
        out.shown.update(step.show)
        out.digits.update(step.digits)
        out.compact = out.compact or step.compact
        if step.left_out:
            out.left_out.append((step.group, step.left_out))
        if step.rounded and step.digits:
            out.rounded.pop(step.rounded, None)  # said once, at its latest precision
            out.rounded[step.rounded] = (min(step.digits.values()), set(step.digits))
        if step.same:
            out.same.append(step.same)
        return out

    def rounding(self) -> dict[str, int]:
        """The rounded numbers still shown, by name: their digits."""
        return {
            name: digits
            for name, (digits, keys) in self.rounded.items()
            if not keys <= self.dropped
        }

    def changed(self) -> bool:
        return bool(self.left_out or self.rounding() or self.same)


def strip_lines(lines: list[list[Segment]]) -> RenderResult:
    """Rendered lines without their trailing spaces (a piped table, report.txt)."""
    for line in lines:
        segments = list(line)
        while segments and not segments[-1].control and not segments[-1].text.rstrip(" "):
            segments.pop()
        if segments and not segments[-1].control:
            last = segments[-1]
            segments[-1] = Segment(last.text.rstrip(" "), last.style, last.control)
        yield from segments
        yield Segment.line()


class Stripped:
    """A renderable whose lines have no trailing spaces."""

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from strip_lines(console.render_lines(self.renderable, options, pad=False))

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.renderable)


class FitTable:
    """A table (under a one-line ``title``) that fits the width it is rendered at.

    ``steps`` are applied in order until the table fits; the note under it names what
    was left out or rounded, then ``hint`` (how to see everything). ``notes`` are
    lines shown under the table whatever the width (a summary's). ``one_line``: leave
    columns out before wrapping a ``wrap`` column (a command line stays whole)."""

    def __init__(
        self,
        columns: Sequence[Column],
        steps: Sequence[Step] = (),
        *,
        title: str | None = None,
        row_styles: Sequence[str | None] | None = None,
        hint: str = "--wide for the whole table, --json for every digit",
        notes: Sequence[RenderableType] = (),
        show_header: bool = True,
        rows_are: str = "row",
        one_line: bool = False,
    ) -> None:
        self.columns = list(columns)
        self.steps = list(steps)
        self.title = title
        self.row_styles = list(row_styles or [])
        self.hint = hint
        self.notes = list(notes)
        self.show_header = show_header
        self.rows_are = rows_are
        self.one_line = one_line

    # --- building -------------------------------------------------------------------

    def cell_text(self, column: Column, value: Cell, layout: Layout) -> str | Text:
        if isinstance(value, Text | str):
            return value
        if value is None:
            return "-"
        if column.number is None:
            return str(value)
        return column.number(value, layout.digits.get(column.key, column.digits))

    def table(self, layout: Layout) -> Table:
        heavy = not layout.compact
        table = Table(
            show_header=self.show_header,
            box=box.HEAVY_HEAD if heavy else box.SIMPLE_HEAD,
            show_edge=heavy,
            pad_edge=heavy,
        )
        shown = [
            c
            for c in self.columns
            if c.key not in layout.dropped and (not c.hidden or c.key in layout.shown)
        ]
        for c in shown:
            table.add_column(
                c.short if c.short and c.key in layout.short else c.title,
                justify=c.justify,  # type: ignore[arg-type]
                style=c.style,
                no_wrap=not c.wrap,
                overflow="fold",
            )
        n_rows = max((len(c.cells) for c in self.columns), default=0)
        for r in range(n_rows):
            style = self.row_styles[r] if r < len(self.row_styles) else None
            table.add_row(*(self.cell_text(c, c.cells[r], layout) for c in shown), style=style)
        return table

    def layouts(self) -> Iterator[Layout]:
        """The full layout, then one more after each step."""
        layout = Layout()
        yield layout
        for step in self.steps:
            layout = layout.apply(step)
            yield layout

    def choose(self, console: Console, options: ConsoleOptions) -> tuple[Table, Layout] | None:
        """The table of the first layout that fits, or None when none does. With
        ``one_line``, a layout whose ``wrap`` columns need not wrap comes first."""
        wide = options.update(width=MEASURE_WIDTH)
        for wrapping in (False, True) if self.one_line else (True,):
            for layout in self.layouts():
                table = self.table(layout)
                need = Measurement.get(console, wide, table).maximum
                if wrapping:
                    need -= self.slack(layout)
                if need <= options.max_width:
                    return table, layout
        return None

    def records(self) -> Table:
        """Every row as a block of ``title value`` lines, in full (for a page too
        narrow for any layout of the table): psql's expanded display."""
        full = Layout()
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column(overflow="fold")
        shown = [c for c in self.columns if not c.hidden]
        n_rows = max((len(c.cells) for c in self.columns), default=0)
        for r in range(n_rows):
            if r:
                grid.add_row("", "")
            style = self.row_styles[r] if r < len(self.row_styles) else None
            for c in shown:
                value = self.cell_text(c, c.cells[r], full)
                if c.title or self.plain(c, c.cells[r], full):
                    grid.add_row(c.title or c.key, value, style=style)
        return grid

    def slack(self, layout: Layout) -> int:
        """How much narrower the shown ``wrap`` columns get by wrapping between words."""
        total = 0
        for c in self.columns:
            if c.wrap and c.key not in layout.dropped:
                texts = [c.title, *(self.plain(c, v, layout) for v in c.cells)]
                longest = max(cell_len(t) for t in texts)
                word = max((cell_len(w) for t in texts for w in t.split()), default=1)
                total += longest - max(word, min(longest, WRAP_WIDTH))
        return total

    def plain(self, column: Column, value: Cell, layout: Layout) -> str:
        text = self.cell_text(column, value, layout)
        return text.plain if isinstance(text, Text) else text

    def note(self, layout: Layout, width: int) -> Text | None:
        if not layout.changed():
            return None
        parts = []
        if layout.left_out:
            parts.append("left out " + ", ".join(self._left_out(layout)))
        if layout.same:
            parts.append(f"every {self.rows_are} has {', '.join(layout.same)}")
        parts.extend(f"{name} to {d} digits" for name, d in layout.rounding().items())
        return Text(f"To fit {width} columns: {'; '.join(parts)} ({self.hint})", style="dim")

    def _left_out(self, layout: Layout) -> list[str]:
        """What was left out, a group's items together in the table's order."""
        order = {c.title: i for i, c in enumerate(c for c in self.columns if not c.hidden)}
        said: list[str] = []
        groups: dict[str, list[str]] = {}
        for group, item in layout.left_out:
            if group is None:
                said.append(item)
            elif group not in groups:
                groups[group] = [item]
                said.append(group)
            else:
                groups[group].append(item)
        out = []
        for item in said:
            if item in groups:
                items = sorted(groups[item], key=lambda t: order.get(t, 0))
                noun = item if len(items) > 1 else item.removesuffix("s")
                out.append(f"{noun} {', '.join(runs_of(items, order))}")
            else:
                out.append(item)
        return out

    # --- rich -------------------------------------------------------------------------

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        chosen = self.choose(console, options)
        if self.title:
            yield Text(self.title, style="table.title")
        if chosen is None:
            yield from strip_lines(console.render_lines(self.records(), options, pad=False))
            yield Text(
                f"(one block per {self.rows_are}: {options.max_width} columns are too few "
                "for the table; --wide for it)",
                style="dim",
            )
        else:
            table, layout = chosen
            yield from strip_lines(console.render_lines(table, options, pad=False))
            note = self.note(layout, options.max_width)
            if note is not None:
                yield note
        yield from self.notes

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        full = self.table(Layout())
        wide = options.update(width=MEASURE_WIDTH)
        natural = Measurement.get(console, wide, full).maximum
        if self.title:
            natural = max(natural, len(self.title))
        return Measurement(min(natural, 20), natural).clamp(max_width=options.max_width)


def runs_of(items: list[str], order: dict[str, int]) -> list[str]:
    """Column titles in table order, three or more neighbours as one "A to B"."""
    out: list[list[str]] = []
    for item in items:
        if out and order.get(item, -9) == order.get(out[-1][-1], -9) + 1:
            out[-1].append(item)
        else:
            out.append([item])
    return [f"{r[0]} to {r[-1]}" if len(r) > 2 else ", ".join(r) for r in out]


# --- steps shared by tables ------------------------------------------------------------


def middle_out(keys: Sequence[str]) -> list[str]:
    """``keys`` in the order a table drops them: the middle one first, then outwards
    (the first and last go last)."""
    n = len(keys)
    centre = (n - 1) / 2
    return [keys[i] for i in sorted(range(n), key=lambda i: (abs(i - centre), -i))]


def same_in_every_row(column: Column) -> str | None:
    """The one text of a column whose cells are all the same, else None."""
    texts = {str(c) if not isinstance(c, Text) else c.plain for c in column.cells}
    return texts.pop() if len(texts) == 1 and column.cells else None


def constant_steps(columns: Sequence[Column], keys: Sequence[str]) -> list[Step]:
    """Steps that leave out the columns (of ``keys``) whose every row is the same, each
    said with its value ("every network has hidden 4")."""
    steps = []
    for column in columns:
        if column.key not in keys or len(column.cells) < 2:
            continue
        value = same_in_every_row(column)
        if value is not None:
            steps.append(Step(drop=[column.key], same=f"{column.title} {value}"))
    return steps


def edges(n: int, edge: int) -> list[int] | None:
    """The indices a summary of ``n`` items keeps (the first and last ``edge``), or
    None when it keeps all."""
    if n <= 2 * edge:
        return None
    return [*range(edge), *range(n - edge, n)]
