"""report.html's figures without matplotlib: the error curves and the decision boundary
as standalone SVG documents (lines, markers, text and, for the boundary, a PNG encoded
here), drawn from the choices plot.py and boundary.py make. Standard library and NumPy
only, fast (milliseconds), and the same input gives the same bytes. ``toynn plot``
still draws its publication figures with matplotlib."""

from __future__ import annotations

import base64
import math
import struct
import textwrap
import zlib
from collections.abc import Callable, Sequence
from html import escape
from typing import Any

import numpy as np

from toynn_cli import axes
from toynn_cli.core.network import NetworkResult
from toynn_cli.view import boundary, plot

#: Colour maps as 17 stops at 0, 1/16, ..., 1 (matplotlib's viridis and RdBu_r, sampled;
#: linear between them, within 8 of 255 of the maps themselves).
VIRIDIS = ("440154", "48186a", "472d7b", "424086", "3b528b", "33638d", "2c728e", "26828e",
           "21918c", "1fa088", "28ae80", "3fbc73", "5ec962", "84d44b", "addc30", "d8e219",
           "fde725")  # fmt: skip
RDBU_R = ("053061", "175290", "2a71b2", "3f8ec0", "6bacd1", "9bc9e0", "c2ddec", "e0ecf3",
          "f7f6f6", "fbe5d8", "fbccb4", "f5aa89", "e48066", "d05548", "ba2832", "930e26",
          "67001f")  # fmt: skip
#: The curves' size in pixels (toynn plot's PNG: 8 x 5 inches at 100 dpi).
WIDTH, HEIGHT = 800, 500
#: A boundary panel's plot area in pixels (square), and its colour bands (tenths).
PANEL = 300
BANDS = 10
#: Above this many curves, their points are thinned to 3 px cells and whole pixels
#: (500 curves of 200 points: about 400 KB instead of 700 KB); else 1 px cells and tenths.
MANY_CURVES = 50
FONT = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12"'
BLACK = "#000000"


def ramp(stops: Sequence[str], t: float) -> tuple[int, int, int]:
    """The colour at ``t`` (clipped to 0..1) along ``stops``, linearly between them."""
    t = min(1.0, max(0.0, t)) * (len(stops) - 1)
    k = min(int(t), len(stops) - 2)
    a, b = bytes.fromhex(stops[k]), bytes.fromhex(stops[k + 1])
    r, g, bl = (round(a[i] + (b[i] - a[i]) * (t - k)) for i in range(3))
    return r, g, bl


def colour(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def png(indices: np.ndarray, palette: Sequence[tuple[int, int, int]]) -> bytes:
    """A palette PNG of ``indices`` (rows top first, values index ``palette``)."""
    height, width = indices.shape

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    raw = np.zeros((height, width + 1), dtype=np.uint8)  # filter byte 0 (none) per row
    raw[:, 1:] = indices
    header = struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)  # 8 bit, palette
    return b"".join([
        b"\x89PNG\r\n\x1a\n",
        chunk(b"IHDR", header),
        chunk(b"PLTE", bytes(c for rgb in palette for c in rgb)),
        chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)),  # 9: 2 ms more for 4% smaller
        chunk(b"IEND", b""),
    ])  # fmt: skip


def tag(name: str, content: str = "", **attributes: object) -> str:
    """An SVG element with ``content`` (markup): attributes in the order given (``__``
    read as ``:``, ``_`` as ``-``, a trailing one dropped: ``class_``), floats with one
    decimal (the same figure, the same bytes), values escaped."""
    shown = "".join(
        f' {key.rstrip("_").replace("__", ":").replace("_", "-")}="'
        f'{f"{v:.1f}" if isinstance(v, float) else escape(str(v))}"'
        for key, v in attributes.items()
    )
    return f"<{name}{shown}>{content}</{name}>" if content else f"<{name}{shown}/>"


def line(x1: float, y1: float, x2: float, y2: float, **more: object) -> str:
    return tag("line", x1=float(x1), y1=float(y1), x2=float(x2), y2=float(y2), **more)


def text(x: float, y: float, words: str, anchor: str = "middle", **more: object) -> str:
    return tag("text", escape(words), x=float(x), y=float(y), text_anchor=anchor, **more)


def upright(x: float, y: float, words: str) -> str:
    """An axis label read bottom to top."""
    return text(x, y, words, transform=f"rotate(-90 {x:.1f} {y:.1f})")


def frame(left: float, top: float, width: float, height: float) -> str:
    return tag("rect", x=float(left), y=float(top), width=float(width), height=float(height),
               fill="none", stroke=BLACK, stroke_width="0.8")  # fmt: skip


def document(width: float, height: float, body: list[str], label: str) -> bytes:
    """A standalone SVG document of ``body`` on a white background."""
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'role="img" aria-label="{escape(label)}" {FONT}>'
    )
    background = f'<rect width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>'
    return "\n".join([head, background, *body, "</svg>\n"]).encode("utf-8")


def title_lines(lines: Sequence[str], centre: float) -> list[str]:
    """A figure's title, a line every 18 px from the top."""
    return [text(centre, 24 + 18 * k, words, font_size=14) for k, words in enumerate(lines)]


# --- error curves ---------------------------------------------------------------------


def decades(values: np.ndarray) -> tuple[int, int]:
    """The powers of ten around the positive finite ``values`` (1 to 10 if none)."""
    values = values[np.isfinite(values) & (values > 0)]
    if not len(values):
        return 0, 1
    low = math.floor(math.log10(float(values.min())))
    return low, max(math.ceil(math.log10(float(values.max()))), low + 1)


def log_scale(span: tuple[int, int], start: float, end: float) -> Callable[[Any], np.ndarray]:
    """Values to pixels: the decades of ``span`` from pixel ``start`` to ``end``."""

    def pixel(v: Any) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return start + (np.log10(v) - span[0]) / (span[1] - span[0]) * (end - start)

    return pixel


def error_curves(results: Sequence[NetworkResult], swept: str, title: str) -> bytes:
    """:func:`toynn_cli.view.plot.error_curves` as SVG: error against iteration + 1 on
    log axes, one curve per network coloured along viridis by the ``swept`` setting, a
    polyline per piece :func:`~toynn_cli.view.plot.curve_parts` joins, markers where
    :func:`~toynn_cli.view.plot.marked_points` puts them, and a legend "by <setting>"."""
    results, title = plot.chosen_curves(results, title)
    shades = plot.curve_shades(results, swept)
    curves, legend, xs, ys = [], {}, [], []
    for r in sorted(results, key=lambda r: plot._axis_value(r, swept)):
        x, y = plot.curve_points(r)
        runs, lone = plot.curve_parts(x, y)
        marked, sparse = plot.marked_points(len(x), runs, lone)
        value = plot._axis_value(r, swept)
        stroke = colour(ramp(VIRIDIS, shades[value]))
        curves.append((stroke, x, y, runs, marked))
        legend.setdefault(value, (plot.legend_label(swept, r), stroke, sparse))
        drawn = [k for a, b in runs for k in range(a, b)] + lone
        xs.append(x[drawn])
        ys.append(y[drawn])
    entries = [list(legend.values())[k] for k in plot.legend_keep(len(legend))]
    longest = max([len(f"by {swept}"), *(len(e[0]) for e in entries)])
    legend_width = min(260.0, max(110.0, 36 + 6.8 * longest))
    heading = textwrap.wrap(title, width=WIDTH // 8) or [""]
    left, top = 78.0, 30.0 + 18 * len(heading)
    right, bottom = WIDTH - legend_width - 24, HEIGHT - 52.0
    xspan = decades(np.concatenate([np.ones(0), *xs]))
    yspan = decades(np.concatenate([np.ones(0), *ys]))
    px, py = log_scale(xspan, left, right), log_scale(yspan, bottom, top)
    body = title_lines(heading, (left + right) / 2)
    body += log_ticks(xspan, px, (top, bottom), vertical=False)
    body += log_ticks(yspan, py, (left, right), vertical=True)
    body += [frame(left, top, right - left, bottom - top),
             text((left + right) / 2, HEIGHT - 14, "iteration + 1"),
             upright(20, (top + bottom) / 2, "error (mean |output - target|)")]  # fmt: skip
    many = len(curves) > MANY_CURVES
    cell, digits = (3.0, 0) if many else (1.0, 1)
    for stroke, x, y, runs, marked in curves:
        body.append(f'<g stroke="{stroke}" stroke-opacity="0.8" fill="none">')
        cx, cy = px(x), py(y)
        for a, b in runs:
            keep = thinned(cx[a:b], cy[a:b], cell)
            points = " ".join(f"{u:.{digits}f},{v:.{digits}f}"
                              for u, v in zip(cx[a:b][keep], cy[a:b][keep]))  # fmt: skip
            body.append(f'<polyline stroke-width="1.2" points="{points}"/>')
        if marked:  # zero-length pieces with round caps: a dot each
            dots = "".join(f"M{cx[k]:.{digits}f} {cy[k]:.{digits}f}h0" for k in marked)
            body.append(tag("path", class_="markers", stroke_width=5, stroke_linecap="round",
                            d=dots))  # fmt: skip
        body.append("</g>")
    return document(WIDTH, HEIGHT, body + curve_legend(entries, swept, right + 16, top + 4,
                                                       legend_width), title)  # fmt: skip


def thinned(x: np.ndarray, y: np.ndarray, size: float) -> np.ndarray:
    """Which points of a polyline to keep: not one in the same ``size``-pixel cell as
    the point before it (the last is always kept)."""
    cells = np.stack([np.round(x / size), np.round(y / size)], axis=1)
    keep = np.ones(len(x), dtype=bool)
    keep[1:] = np.any(cells[1:] != cells[:-1], axis=1)
    keep[-1] = True
    return keep


def log_ticks(
    span: tuple[int, int], pixel: Callable, across: tuple[float, float], vertical: bool
) -> list[str]:
    """A log axis's decade ticks with labels (10 and its exponent; every k-th decade
    beyond ten), light grid lines across the plot (``across``: the other axis's pixel
    range) and, up to ten decades, minor ticks at 2..9."""
    out = []
    count = span[1] - span[0]
    step = max(1, math.ceil(count / 10))
    low, high = across
    for e in range(span[0], span[1] + 1, step):
        p = float(pixel(10.0**e))
        exponent = str(e).replace("-", "\u2212")
        label = f'10<tspan dy="-6" font-size="9">{exponent}</tspan>'
        grid = {"stroke": "#b0b0b0", "stroke_opacity": "0.5", "stroke_width": "0.8"}
        if vertical:
            out += [line(low, p, high, p, **grid), line(low - 5, p, low, p, stroke=BLACK),
                    tag("text", label, x=low - 8, y=p + 4, text_anchor="end")]  # fmt: skip
        else:
            out += [line(p, low, p, high, **grid), line(p, high, p, high + 5, stroke=BLACK),
                    tag("text", label, x=p, y=high + 20, text_anchor="middle")]  # fmt: skip
    if count <= 10:
        minor = pixel(np.array([m * 10.0**e for e in range(*span) for m in range(2, 10)]))
        d = "".join(f"M{low - 3:.1f} {p:.1f}h3" if vertical else f"M{p:.1f} {high:.1f}v3"
                    for p in minor.tolist())  # fmt: skip
        out.append(tag("path", stroke=BLACK, stroke_width="0.6", d=d))
    return out


def curve_legend(
    entries: list[tuple[str, str, bool]], swept: str, x: float, y: float, width: float
) -> list[str]:
    """The legend: its title "by <setting>", then per entry a line in its colour (with
    a marker when its curves have them) and its label."""
    box = tag("rect", x=x, y=y, width=width, height=28.0 + 18 * len(entries),
              fill="#ffffff", stroke="#cccccc")  # fmt: skip
    out = ['<g class="legend">', box, text(x + width / 2, y + 17, f"by {swept}")]
    for k, (label, stroke, marked) in enumerate(entries):
        row = y + 32 + 18 * k
        dot = tag("path", stroke_width=5, stroke_linecap="round", d=f"M{x + 22:.1f} {row:.1f}h0")
        sample = line(x + 10, row, x + 34, row, stroke_width="1.2") + (dot if marked else "")
        out += [tag("g", sample, stroke=stroke), text(x + 42, row + 4, label, "start",
                                                       font_size=11)]  # fmt: skip
    return [*out, "</g>"]


# --- decision boundary ------------------------------------------------------------------


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round values (1, 2 or 5 times a power of ten apart) in low..high."""
    raw = (high - low) / count
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first, last = math.ceil(low / step - 1e-9), math.floor(high / step + 1e-9)
    return [round(k * step, 12) for k in range(first, last + 1)]


def band_image(out: np.ndarray) -> bytes:
    """The output over the grid (rows along the second input, upwards) as a PNG: one of
    :data:`BANDS` colours of RdBu_r per tenth (as toynn plot's filled contours), the 0.5
    contour in black and a non-finite output in grey."""
    finite = np.isfinite(out)
    with np.errstate(invalid="ignore"):
        bands = np.clip(np.floor(np.where(finite, out, 0) * BANDS), 0, BANDS - 1)
        above = finite & (out >= 0.5)
    indices = bands.astype(np.uint8)
    edge = np.zeros(out.shape, dtype=bool)
    edge[:, 1:] |= (above[:, 1:] != above[:, :-1]) & finite[:, 1:] & finite[:, :-1]
    edge[1:, :] |= (above[1:, :] != above[:-1, :]) & finite[1:, :] & finite[:-1, :]
    indices[edge] = BANDS
    indices[~finite] = BANDS + 1
    palette = [ramp(RDBU_R, (k + 0.5) / BANDS) for k in range(BANDS)]
    return png(indices[::-1], [*palette, (0, 0, 0), (128, 128, 128)])


def linear_scale(span: tuple[float, float], start: float, end: float) -> Callable:
    """Values to pixels: ``span`` from pixel ``start`` to ``end``."""
    return lambda v: (
        start + (np.asarray(v, dtype=float) - span[0]) / (span[1] - span[0]) * (end - start)
    )


def panel_axes(left: float, top: float, px: Callable, py: Callable, xr, yr) -> list[str]:
    """A panel's frame and its ticks and labels along ``xr`` (across) and ``yr`` (up)."""
    out = [frame(left, top, PANEL, PANEL)]
    for t in nice_ticks(*xr):
        p = float(px(t))
        out += [line(p, top + PANEL, p, top + PANEL + 5, stroke=BLACK),
                text(p, top + PANEL + 19, f"{t:g}")]  # fmt: skip
    for t in nice_ticks(*yr):
        p = float(py(t))
        out += [line(left - 5, p, left, p, stroke=BLACK), text(left - 8, p + 4, f"{t:g}", "end")]
    return out


def decision_boundary(
    x: np.ndarray, y: np.ndarray, networks: Sequence[NetworkResult], title: str
) -> bytes:
    """:func:`toynn_cli.view.boundary.decision_boundary` as SVG, from the same grid,
    slices and outputs: per network (and slice) a panel of its output over two inputs as
    an image in tenths with the 0.5 contour, or along the only input as a line with the
    0.5 level; the samples on top coloured by target; and a colour bar."""
    shown, slices, how = boundary.boundary_layout(x)
    grids, mesh = boundary.boundary_grids(x, shown)
    sliced = len(slices) > 1
    rows, cols = (len(networks), len(slices)) if sliced else (1, len(networks))
    heading = [title, *textwrap.wrap(how, width=boundary.TITLE_CHARS * cols)]
    head, over = 24.0 + 18 * len(heading), 20.0 * (1 + sliced)  # room for panel titles
    cell_w, cell_h = 70 + PANEL + 20, over + PANEL + 48
    plane = len(shown) == 2
    body = title_lines(heading, (10 + cols * cell_w) / 2)
    xr = (float(grids[0][0]), float(grids[0][-1]))
    yr = (float(grids[1][0]), float(grids[1][-1])) if plane else (-0.05, 1.05)
    for s, held in enumerate(slices):
        points = boundary.grid_points(x, shown, mesh, held)
        inside = boundary.slice_samples(x, held, sliced)
        for n, network in enumerate(networks):
            row, col = (n, s) if sliced else (0, n)
            left, top = 10.0 + col * cell_w + 70, head + row * cell_h + over
            out = boundary.network_output(network, points, mesh[0].shape)
            px, py = linear_scale(xr, left, left + PANEL), linear_scale(yr, top + PANEL, top)
            labels = [axes.describe(network.spec), *([boundary.slice_text(held)] * sliced)]
            body += [text(left + PANEL / 2, top - 8 - 16 * (len(labels) - 1 - k), words,
                          font_size=11) for k, words in enumerate(labels)]  # fmt: skip
            xs, ts = x[inside], y[inside, 0]
            i = shown[0]
            if plane:
                data = base64.b64encode(band_image(out)).decode("ascii")
                body.append(tag("image", x=left, y=top, width=PANEL, height=PANEL,
                                preserveAspectRatio="none",
                                xlink__href=f"data:image/png;base64,{data}"))  # fmt: skip
                heights, ylabel = xs[:, shown[1]], f"input {shown[1]}"
            else:
                half = float(py(0.5))
                body.append(line(left, half, left + PANEL, half, stroke="#808080",
                                 stroke_dasharray="5,4"))  # fmt: skip
                ok = np.isfinite(out)
                trace = zip(px(grids[0][ok]), py(np.clip(out[ok], *yr)))
                points_text = " ".join(f"{u:.1f},{v:.1f}" for u, v in trace)
                body.append(tag("polyline", points=points_text, fill="none", stroke=BLACK,
                                stroke_width="1.5"))  # fmt: skip
                heights, ylabel = ts, "output (samples: their target)"
            body += panel_axes(left, top, px, py, xr, yr)
            body += [tag("circle", cx=float(u), cy=float(v), r=6,
                         fill=colour(ramp(RDBU_R, float(t))), stroke=BLACK)
                     for u, v, t in zip(px(xs[:, i]), py(heights), ts)]  # fmt: skip
            body += [text(left + PANEL / 2, top + PANEL + 38, f"input {i}"),
                     upright(left - 46, top + PANEL / 2, ylabel)]  # fmt: skip
    width = 10 + cols * cell_w + (80 if plane else 0)
    if plane:
        body += colour_bar(10 + cols * cell_w + 10, head + over, rows * cell_h - over - 48)
    return document(width, head + rows * cell_h, body, title)


def colour_bar(left: float, top: float, height: float) -> list[str]:
    """The bands' colours from 0 (bottom) to 1, ticked, labelled "output"."""
    step = height / BANDS
    out = [tag("rect", x=left, y=top + height - (k + 1) * step, width=16, height=step,
               fill=colour(ramp(RDBU_R, (k + 0.5) / BANDS))) for k in range(BANDS)]  # fmt: skip
    for t in (0, 0.2, 0.4, 0.6, 0.8, 1):
        p = top + height * (1 - t)
        out += [line(left + 16, p, left + 20, p, stroke=BLACK),
                text(left + 23, p + 4, f"{t:g}", "start")]  # fmt: skip
    return [*out, frame(left, top, 16, height), upright(left + 56, top + height / 2, "output")]


def report_figures(
    results: Sequence[NetworkResult],
    data: tuple[np.ndarray, np.ndarray] | None,
    chosen: Sequence[NetworkResult],
    name: str,
) -> dict[str, bytes]:
    """report.html's figures by file name, as :func:`toynn_cli.view.plot.run_figures`
    picks them: ``curves.svg`` (coloured by :func:`~toynn_cli.view.plot.swept_axis`)
    and, when ``data`` has a varying input and the networks are small enough,
    ``boundary.svg`` of the ``chosen`` networks."""
    axis = plot.swept_axis(results)
    figures = {"curves.svg": error_curves(results, axis, f"{name}: error during training")}
    if boundary.has_boundary(data, chosen):
        assert data is not None
        title = f"{name}: decision boundary"
        figures["boundary.svg"] = decision_boundary(data[0], data[1], chosen, title)
    return figures
