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
from collections.abc import Sequence
from html import escape

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
#: A boundary panel's plot area, in pixels (square), and its colour bands.
PANEL = 300
BANDS = 10
FONT = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12"'
GRID = 'stroke="#b0b0b0" stroke-opacity="0.5" stroke-width="0.8"'


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
        chunk(b"IDAT", zlib.compress(raw.tobytes(), 9)),
        chunk(b"IEND", b""),
    ])  # fmt: skip


def document(width: float, height: float, body: list[str], label: str) -> bytes:
    """A standalone SVG document of ``body`` on a white background."""
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'role="img" aria-label="{escape(label)}" {FONT}>'
    )
    background = f'<rect width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>'
    return "\n".join([head, background, *body, "</svg>\n"]).encode("utf-8")


def text(x: float, y: float, words: str, anchor: str = "middle", extra: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>{escape(words)}</text>'


def title_lines(lines: Sequence[str], centre: float, top: float) -> list[str]:
    """Lines of a figure's title, 18 px apart from ``top``."""
    return [
        text(centre, top + 18 * k, line, extra=' font-size="14"') for k, line in enumerate(lines)
    ]


# --- error curves ---------------------------------------------------------------------


def decades(values: np.ndarray) -> tuple[int, int]:
    """The powers of ten around the positive finite ``values`` (1 to 10 if none)."""
    values = values[np.isfinite(values) & (values > 0)]
    if not len(values):
        return 0, 1
    low = math.floor(math.log10(float(values.min())))
    high = math.ceil(math.log10(float(values.max())))
    return low, max(high, low + 1)


def error_curves(results: Sequence[NetworkResult], swept: str, title: str) -> bytes:
    """:func:`toynn_cli.view.plot.error_curves` as SVG: error against iteration + 1 on
    log axes, one curve per network coloured along viridis by the ``swept`` setting, a
    polyline per piece :func:`~toynn_cli.view.plot.curve_parts` joins, markers where
    :func:`~toynn_cli.view.plot.marked_points` puts them, and a legend "by <setting>"."""
    results, title = plot.chosen_curves(results, title)
    shades = plot.curve_shades(results, swept)
    curves = []
    for r in sorted(results, key=lambda r: plot._axis_value(r, swept)):
        x, y = plot.curve_points(r)
        runs, lone = plot.curve_parts(x, y)
        curves.append((plot._axis_value(r, swept), r, x, y, runs, lone))
    picked = [np.array([*(i for a, b in c[4] for i in range(a, b)), *c[5]], int) for c in curves]
    xs = np.concatenate([c[2][k] for c, k in zip(curves, picked)] or [np.ones(0)])
    ys = np.concatenate([c[3][k] for c, k in zip(curves, picked)] or [np.ones(0)])
    xspan, yspan = decades(xs), decades(ys)
    entries: dict[tuple[int, float | str], tuple[str, str, bool]] = {}
    for value, r, x, *_ in curves:
        if value not in entries:
            marked = len(x) <= plot.SPARSE_POINTS
            entries[value] = (
                plot.legend_label(swept, r),
                colour(ramp(VIRIDIS, shades[value])),
                marked,
            )
    legend = [list(entries.values())[k] for k in plot.legend_keep(len(entries))]
    legend_width = min(
        260, max(110, 36 + 6.8 * max([len(f"by {swept}"), *(len(e[0]) for e in legend)]))
    )
    heading = textwrap.wrap(title, width=int(WIDTH / 8)) or [""]
    left, top = 78, 30 + 18 * len(heading)
    right, bottom = WIDTH - legend_width - 24, HEIGHT - 52

    def px(v: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return left + (np.log10(v) - xspan[0]) / (xspan[1] - xspan[0]) * (right - left)

    def py(v: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return bottom - (np.log10(v) - yspan[0]) / (yspan[1] - yspan[0]) * (bottom - top)

    body = title_lines(heading, (left + right) / 2, 24)
    body += _log_ticks(xspan, px, False, (top, bottom))
    body += _log_ticks(yspan, py, True, (left, right))
    body.append(
        f'<rect x="{left}" y="{top:.0f}" width="{right - left:.1f}" height="{bottom - top:.0f}" fill="none" stroke="#000000" stroke-width="0.8"/>'
    )
    body.append(text((left + right) / 2, HEIGHT - 14, "iteration + 1"))
    middle = (top + bottom) / 2
    body.append(
        text(
            20,
            middle,
            "error (mean |output - target|)",
            extra=f' transform="rotate(-90 20 {middle:.1f})"',
        )
    )
    thin = 1.0 if len(curves) <= 50 else 2.0  # many curves: fewer points each
    for value, _, x, y, runs, lone in curves:
        stroke = colour(ramp(VIRIDIS, shades[value]))
        body.append(f'<g stroke="{stroke}" stroke-opacity="0.8" fill="none">')
        cx, cy = px(x), py(y)
        for a, b in runs:
            keep = _thinned(cx[a:b], cy[a:b], thin)
            points = " ".join(f"{u:.1f},{v:.1f}" for u, v in zip(cx[a:b][keep], cy[a:b][keep]))
            body.append(f'<polyline stroke-width="1.2" points="{points}"/>')
        marked, _ = plot.marked_points(len(x), runs, lone)
        if marked:
            dots = "".join(f"M{cx[k]:.1f} {cy[k]:.1f}h0" for k in marked)
            body.append(
                f'<path class="markers" stroke-width="5" stroke-linecap="round" d="{dots}"/>'
            )
        body.append("</g>")
    body += _legend(legend, swept, right + 16, top + 4, legend_width)
    return document(WIDTH, HEIGHT, body, title)


def _thinned(x: np.ndarray, y: np.ndarray, size: float) -> np.ndarray:
    """Which points of a polyline to keep: not one that falls in the same ``size``-pixel
    cell as the point before it (the ends are always kept)."""
    cells = np.stack([np.round(x / size), np.round(y / size)], axis=1)
    keep = np.ones(len(x), dtype=bool)
    keep[1:] = np.any(cells[1:] != cells[:-1], axis=1)
    keep[-1] = True
    return keep


def _log_ticks(
    span: tuple[int, int], pixel, vertical: bool, across: tuple[float, float]
) -> list[str]:
    """A log axis's decade ticks with labels (10 and its exponent), grid lines across
    the plot (``across``: its other axis's pixel range) and minor ticks at 2..9."""
    out = []
    count = span[1] - span[0]
    step = max(1, math.ceil(count / 10))
    for e in range(span[0], span[1] + 1):
        p = float(pixel(np.array(10.0**e)))
        if (e - span[0]) % step:
            continue
        exponent = escape(str(e).replace("-", "\u2212"))
        label = f'10<tspan dy="-6" font-size="9">{exponent}</tspan>'
        if vertical:
            out.append(
                f'<line x1="{across[0]:.1f}" y1="{p:.1f}" x2="{across[1]:.1f}" y2="{p:.1f}" {GRID}/>'
            )
            out.append(
                f'<line x1="{across[0] - 5:.1f}" y1="{p:.1f}" x2="{across[0]:.1f}" y2="{p:.1f}" stroke="#000000"/>'
            )
            out.append(
                f'<text x="{across[0] - 8:.1f}" y="{p + 4:.1f}" text-anchor="end">{label}</text>'
            )
        else:
            out.append(
                f'<line x1="{p:.1f}" y1="{across[0]:.1f}" x2="{p:.1f}" y2="{across[1]:.1f}" {GRID}/>'
            )
            out.append(
                f'<line x1="{p:.1f}" y1="{across[1]:.1f}" x2="{p:.1f}" y2="{across[1] + 5:.1f}" stroke="#000000"/>'
            )
            out.append(
                f'<text x="{p:.1f}" y="{across[1] + 20:.1f}" text-anchor="middle">{label}</text>'
            )
    if count <= 10:
        minor = np.array([m * 10.0**e for e in range(span[0], span[1]) for m in range(2, 10)])
        edge = across[0] if vertical else across[1]
        d = "".join(
            f"M{edge - 3:.1f} {p:.1f}h3" if vertical else f"M{p:.1f} {edge:.1f}v3"
            for p in pixel(minor).tolist()
        )
        out.append(f'<path stroke="#000000" stroke-width="0.6" d="{d}"/>')
    return out


def _legend(
    entries: list[tuple[str, str, bool]], swept: str, x: float, y: float, width: float
) -> list[str]:
    """The legend: its title "by <setting>" and a line (with a marker when the curves
    have them) and label per entry."""
    height = 28 + 18 * len(entries)
    out = [
        f'<g class="legend"><rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height}" fill="#ffffff" stroke="#cccccc"/>',
        text(x + width / 2, y + 17, f"by {swept}"),
    ]
    for k, (label, stroke, marked) in enumerate(entries):
        row = y + 36 + 18 * k
        marker = (
            f'<path stroke-width="5" stroke-linecap="round" d="M{x + 22:.1f} {row - 4:.1f}h0"/>'
            if marked
            else ""
        )
        out.append(
            f'<g stroke="{stroke}"><line x1="{x + 10:.1f}" y1="{row - 4:.1f}" x2="{x + 34:.1f}" y2="{row - 4:.1f}" stroke-width="1.2"/>{marker}</g>'
        )
        out.append(text(x + 42, row, label, anchor="start", extra=' font-size="11"'))
    out.append("</g>")
    return out


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


def linear_axes(
    box: tuple[float, float, float, float], xr: tuple[float, float], yr: tuple[float, float]
) -> tuple[list[str], object, object]:
    """Ticks, labels and a frame for a panel at ``box`` (left, top, size, size) showing
    ``xr`` across and ``yr`` upwards; and the functions from values to pixels."""
    left, top, width, height = box

    def px(v: np.ndarray | float) -> np.ndarray:
        return left + (np.asarray(v, dtype=float) - xr[0]) / (xr[1] - xr[0]) * width

    def py(v: np.ndarray | float) -> np.ndarray:
        return top + height - (np.asarray(v, dtype=float) - yr[0]) / (yr[1] - yr[0]) * height

    out = []
    for t in nice_ticks(*xr):
        p = float(px(t))
        out.append(
            f'<line x1="{p:.1f}" y1="{top + height:.1f}" x2="{p:.1f}" y2="{top + height + 5:.1f}" stroke="#000000"/>'
        )
        out.append(text(p, top + height + 19, f"{t:g}"))
    for t in nice_ticks(*yr):
        p = float(py(t))
        out.append(
            f'<line x1="{left - 5:.1f}" y1="{p:.1f}" x2="{left:.1f}" y2="{p:.1f}" stroke="#000000"/>'
        )
        out.append(text(left - 8, p + 4, f"{t:g}", anchor="end"))
    out.append(
        f'<rect x="{left:.1f}" y="{top:.1f}" width="{width:.1f}" height="{height:.1f}" fill="none" stroke="#000000" stroke-width="0.8"/>'
    )
    return out, px, py


def decision_boundary(
    x: np.ndarray, y: np.ndarray, networks: Sequence[NetworkResult], title: str
) -> bytes:
    """:func:`toynn_cli.view.boundary.decision_boundary` as SVG, from the same grid,
    slices and outputs: per network (and slice) a panel of its output over two inputs as
    an image in bands with the 0.5 contour, or along the only input as a line with the
    0.5 level; the samples on top coloured by target, and a colour bar."""
    shown, slices, how = boundary.boundary_layout(x)
    grids, mesh = boundary.boundary_grids(x, shown)
    sliced = len(slices) > 1
    rows, cols = (len(networks), len(slices)) if sliced else (1, len(networks))
    heading = [title, *textwrap.wrap(how, width=boundary.TITLE_CHARS * cols)]
    head = 24 + 18 * len(heading)
    cell_w, cell_h = 70 + PANEL + 20, 20 * (1 + sliced) + PANEL + 48
    bar = 80 if len(shown) == 2 else 0
    width, height = 10 + cols * cell_w + bar, head + rows * cell_h
    body = title_lines(heading, (10 + cols * cell_w) / 2, 24)
    xr = (float(grids[0][0]), float(grids[0][-1]))
    yr = (float(grids[1][0]), float(grids[1][-1])) if len(shown) == 2 else (-0.05, 1.05)
    for s, held in enumerate(slices):
        points = boundary.grid_points(x, shown, mesh, held)
        inside = boundary.slice_samples(x, held, sliced)
        where = boundary.slice_text(held)
        for n, network in enumerate(networks):
            row, col = (n, s) if sliced else (0, n)
            left, top = 10 + col * cell_w + 70, head + row * cell_h + 20 * (1 + sliced)
            out = boundary.network_output(network, points, mesh[0].shape)
            labels = [axes.describe(network.spec), *([where] if sliced else [])]
            for k, line in enumerate(labels):
                body.append(
                    text(
                        left + PANEL / 2,
                        top - 8 - 16 * (len(labels) - 1 - k),
                        line,
                        extra=' font-size="11"',
                    )
                )
            frame, px, py = linear_axes((left, top, PANEL, PANEL), xr, yr)
            xs, ts = x[inside], y[inside, 0]
            if len(shown) == 2:
                i, j = shown
                data = base64.b64encode(band_image(out)).decode("ascii")
                body.append(
                    f'<image x="{left:.1f}" y="{top:.1f}" width="{PANEL}" height="{PANEL}" preserveAspectRatio="none" xlink:href="data:image/png;base64,{data}"/>'
                )
                sample_y, ylabel = xs[:, j], f"input {j}"
            else:
                (i,) = shown
                half = float(py(0.5))
                body.append(
                    f'<line x1="{left:.1f}" y1="{half:.1f}" x2="{left + PANEL:.1f}" y2="{half:.1f}" stroke="#808080" stroke-dasharray="5,4"/>'
                )
                finite = np.isfinite(out)
                line = " ".join(
                    f"{u:.1f},{v:.1f}"
                    for u, v in zip(px(grids[0][finite]), py(np.clip(out[finite], -0.05, 1.05)))
                )
                body.append(
                    f'<polyline points="{line}" fill="none" stroke="#000000" stroke-width="1.5"/>'
                )
                sample_y, ylabel = ts, "output (samples: their target)"
            body += frame
            for u, v, t in zip(px(xs[:, i]), py(sample_y), ts):
                body.append(
                    f'<circle cx="{u:.1f}" cy="{v:.1f}" r="6" fill="{colour(ramp(RDBU_R, float(t)))}" stroke="#000000"/>'
                )
            body.append(text(left + PANEL / 2, top + PANEL + 38, f"input {i}"))
            mid = top + PANEL / 2
            body.append(
                text(
                    left - 46,
                    mid,
                    ylabel,
                    extra=f' transform="rotate(-90 {left - 46:.1f} {mid:.1f})"',
                )
            )
    if bar:
        body += _colour_bar(10 + cols * cell_w + 10, head + 20 * (1 + sliced), rows * cell_h - 68)
    return document(width, height, body, title)


def _colour_bar(left: float, top: float, height: float) -> list[str]:
    """The bands' colours from 0 (bottom) to 1, ticked, labelled "output"."""
    step = height / BANDS
    out = [
        f'<rect x="{left:.1f}" y="{top + height - (k + 1) * step:.1f}" width="16" height="{step:.1f}" fill="{colour(ramp(RDBU_R, (k + 0.5) / BANDS))}"/>'
        for k in range(BANDS)
    ]
    for t in (0, 0.2, 0.4, 0.6, 0.8, 1):
        p = top + height * (1 - t)
        out.append(
            f'<line x1="{left + 16:.1f}" y1="{p:.1f}" x2="{left + 20:.1f}" y2="{p:.1f}" stroke="#000000"/>'
        )
        out.append(text(left + 23, p + 4, f"{t:g}", anchor="start"))
    out.append(
        f'<rect x="{left:.1f}" y="{top:.1f}" width="16" height="{height:.1f}" fill="none" stroke="#000000" stroke-width="0.8"/>'
    )
    mid = top + height / 2
    out.append(
        text(left + 56, mid, "output", extra=f' transform="rotate(-90 {left + 56:.1f} {mid:.1f})"')
    )
    return out


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
        figures["boundary.svg"] = decision_boundary(
            data[0], data[1], chosen, f"{name}: decision boundary"
        )
    return figures
