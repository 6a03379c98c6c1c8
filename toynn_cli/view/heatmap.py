"""The error surface as a terminal heatmap (a rich renderable; nothing here prints).

With colour, each character cell shows two grid rows: ``▀`` with the upper row's
colour in front and the lower row's behind (viridis: dark is low error, yellow high).
Without colour (a pipe, NO_COLOR), each cell is a character of a density ramp. The
training path is drawn over it: ``S`` where it starts, ``o`` along it, ``E`` where it ends.
"""

from __future__ import annotations

import math

import numpy as np
from rich.console import Group
from rich.style import Style
from rich.text import Text

from toynn_cli.analysis.surface import Surface

#: Viridis, sampled at 9 evenly spaced points (low error first).
VIRIDIS = np.array(
    [
        (68, 1, 84),
        (71, 44, 122),
        (59, 81, 139),
        (44, 113, 142),
        (33, 144, 141),
        (39, 173, 129),
        (92, 200, 99),
        (170, 220, 50),
        (253, 231, 37),
    ],
    dtype=np.float64,
)
RAMP = " .:-=+*#%@"  # low error first
MARGIN = 9  # the y axis labels and the axis line
LEGEND_BLOCKS = 24


def colour(level: float) -> tuple[int, int, int]:
    """The viridis colour of ``level`` in [0, 1] (NaN: grey)."""
    if not math.isfinite(level):
        return (128, 128, 128)
    position = min(max(level, 0.0), 1.0) * (len(VIRIDIS) - 1)
    i = min(int(position), len(VIRIDIS) - 2)
    mix = VIRIDIS[i] + (VIRIDIS[i + 1] - VIRIDIS[i]) * (position - i)
    return (round(mix[0]), round(mix[1]), round(mix[2]))


def ramp_char(level: float) -> str:
    if not math.isfinite(level):
        return "?"
    return RAMP[min(int(level * len(RAMP)), len(RAMP) - 1)]


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _layout(surface: Surface, max_columns: int) -> tuple[np.ndarray, np.ndarray]:
    """Grid columns shown (left to right) and grid rows shown (top to bottom, an even
    number: two per line), resampled so the picture is about square."""
    n_a, n_b = len(surface.values_a), len(surface.values_b)
    columns = max(2, min(n_a, max_columns))
    cols = np.linspace(0, n_a - 1, columns).round().astype(int)
    pixels = min(n_b, columns)
    pixels += pixels % 2
    rows = np.linspace(n_b - 1, 0, pixels).round().astype(int)  # highest b at the top
    return cols, rows


def _marks(surface: Surface, cols: np.ndarray, rows: np.ndarray) -> dict[tuple[int, int], str]:
    """(line, column) -> mark of the training path: its recorded points joined by
    straight segments, clipped to the grid."""
    a0, a1 = surface.values_a[0], surface.values_a[-1]
    b0, b1 = surface.values_b[0], surface.values_b[-1]
    # the path in pixel coordinates (column, pixel row; pixel rows count from the top)
    xs = (surface.path_a - a0) / (a1 - a0) * (len(cols) - 1)
    ys = (b1 - surface.path_b) / (b1 - b0) * (len(rows) - 1)
    marks: dict[tuple[int, int], str] = {}

    def put(x: float, y: float, mark: str) -> None:
        if not (math.isfinite(x) and math.isfinite(y)):
            return
        column, pixel = round(x), round(y)
        if 0 <= column < len(cols) and 0 <= pixel < len(rows):
            key = (pixel // 2, column)
            if mark != "o" or key not in marks:
                marks[key] = mark

    for t in range(len(xs) - 1):
        steps = max(abs(xs[t + 1] - xs[t]), abs(ys[t + 1] - ys[t]), 1.0)
        if not math.isfinite(steps):
            continue
        for u in np.linspace(0.0, 1.0, min(int(steps) + 2, 10_000)):
            put(xs[t] + u * (xs[t + 1] - xs[t]), ys[t] + u * (ys[t + 1] - ys[t]), "o")
    put(xs[0], ys[0], "S")
    put(xs[-1], ys[-1], "E")
    return marks


def heatmap(surface: Surface, max_columns: int = 81, color: bool = True) -> Group:
    """The surface with axes, a colour (or character) legend and the training path."""
    errors = surface.errors
    finite = errors[np.isfinite(errors)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    span = high - low if high > low else 1.0
    levels = (errors - low) / span
    cols, rows = _layout(surface, max_columns)
    marks = _marks(surface, cols, rows)
    lines = len(rows) // 2
    ticks = {0: surface.values_b[-1], lines // 2: None, lines - 1: surface.values_b[0]}
    middle_b = (surface.values_b[0] + surface.values_b[-1]) / 2

    picture = Text()
    picture.append(f"{surface.b.name}\n", style="bold")
    for line in range(lines):
        if line in ticks:
            value = ticks[line] if ticks[line] is not None else middle_b
            picture.append(f"{_fmt(float(value)):>{MARGIN - 2}} ┤")
        else:
            picture.append(" " * (MARGIN - 1) + "│")
        top, bottom = levels[rows[2 * line]], levels[rows[2 * line + 1]]
        for c, column in enumerate(cols):
            upper, lower = float(top[column]), float(bottom[column])
            mark = marks.get((line, c))
            if color:
                if mark is not None:
                    shade = colour(upper)
                    bright = 0.299 * shade[0] + 0.587 * shade[1] + 0.114 * shade[2] > 140
                    ink = "black" if bright else "white"
                    picture.append(mark, Style(color=ink, bgcolor=_hex(shade), bold=True))
                else:
                    style = Style(color=_hex(colour(upper)), bgcolor=_hex(colour(lower)))
                    picture.append("▀", style)
            else:
                picture.append(mark if mark is not None else ramp_char((upper + lower) / 2))
        picture.append("\n")
    width = len(cols)
    picture.append(" " * (MARGIN - 1) + "└" + "─" * width + "\n")
    left = _fmt(float(surface.values_a[0]))
    right = _fmt(float(surface.values_a[-1]))
    middle = _fmt(float((surface.values_a[0] + surface.values_a[-1]) / 2))
    centre = width // 2
    picture.append(" " * MARGIN + axis_labels(width, left, middle, right) + "\n")
    name = surface.a.name
    picture.append(" " * (MARGIN + max(0, centre - len(name) // 2)) + name, style="bold")
    return Group(picture, legend(low, high, color), path_legend(surface))


def axis_labels(width: int, left: str, middle: str, right: str) -> str:
    """The x axis' labels under a ``width``-column picture: left, centred, right-aligned;
    a label that would touch or overlap the one before it is left out."""
    line = ""
    for start, label in (
        (0, left),
        (width // 2 - len(middle) // 2, middle),
        (max(width, len(right)) - len(right), right),
    ):
        if line and start < len(line) + 1:
            continue
        line += " " * (start - len(line)) + label
    return line


def legend(low: float, high: float, color: bool) -> Text:
    text = Text("error ")
    if color:
        for i in range(LEGEND_BLOCKS):
            text.append("█", Style(color=_hex(colour(i / (LEGEND_BLOCKS - 1)))))
        text.append(f"  {_fmt(low)} (dark) to {_fmt(high)} (yellow), linear")
    else:
        text.append(f"'{RAMP}'  {_fmt(low)} (' ') to {_fmt(high)} ('@'), linear")
    return text


def path_legend(surface: Surface) -> Text:
    its = surface.path_iterations
    return Text(
        f"S start (iteration {its[0]})  o training path  E end (after iteration {its[-1]}); "
        f"the path is drawn where it is inside the grid"
    )


def surface_summary(surface: Surface) -> Text:
    """The lowest grid point and the training path's ends, in two lines."""
    a, b, error = surface.lowest()
    names = f"{surface.a.name}, {surface.b.name}"
    text = Text()
    text.append(
        f"Lowest on the grid: error {_fmt(error)} at {surface.a.name} = {_fmt(a)}, "
        f"{surface.b.name} = {_fmt(b)}\n"
    )
    text.append(
        f"Training moved ({names}) from ({_fmt(float(surface.path_a[0]))}, "
        f"{_fmt(float(surface.path_b[0]))}) to ({_fmt(float(surface.path_a[-1]))}, "
        f"{_fmt(float(surface.path_b[-1]))}); error {_fmt(float(surface.path_errors[0]))} -> "
        f"{_fmt(float(surface.path_errors[-1]))}"
    )
    return text


def surface_facts(name: str, info: dict) -> Text:
    """A saved surface run in one line, from its run.json: the two weights, the grid,
    the lowest error and the files that hold the map."""
    weights = info.get("weights") or ["?", "?"]
    low, high = (info.get("range") or ["?", "?"])[:2]
    n = info.get("resolution", "?")
    lowest = info.get("min_error")
    text = Text()
    text.append(name, style="bold")
    text.append(
        f"  error surface over {weights[0]} x {weights[1]} · grid {n} x {n} over "
        f"[{low}, {high}] · lowest error {lowest if lowest is not None else '-'}; "
        f"the map is in {', '.join(info.get('files') or ['surface.csv'])}"
    )
    return text
