"""report.html's figures drawn by toynn itself (view/svg.py): SVG documents that parse,
the curves and legend plot.py would draw, the boundary as a PNG that decodes, the same
bytes every time, and the figures in report.html with or without matplotlib."""

from __future__ import annotations

import dataclasses
import re
import struct
import sys
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import numpy as np
import pytest
from clitools import invoke

from toynn_cli.core import engine, network
from toynn_cli.core.datasets import BUILTIN
from toynn_cli.view import boundary, figure, plot, svg

NS = "{http://www.w3.org/2000/svg}"
NAN, INF = float("nan"), float("inf")


def train(dataset: str, alphas=(0.1, 1, 10), seeds=(1, 2), iterations=1000, every=100):
    d = BUILTIN[dataset]
    specs = [network.NetworkSpec(a, 4, s) for a in alphas for s in seeds]
    return d, engine.train(d.x, d.y, specs, iterations, every)


@pytest.fixture(scope="module")
def sweep():
    return train("xor")


def parse(content: bytes) -> ET.Element:
    root = ET.fromstring(content)  # well-formed XML
    assert root.tag == f"{NS}svg"
    return root


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{NS}text")]


def curve_groups(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.findall(f"{NS}g") if g.get("stroke-opacity") == "0.8"]


def png_pixels(data: bytes) -> tuple[int, int, bytes]:
    """A PNG's width, height and decompressed image data, its chunks' CRCs checked."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    at, chunks = 8, []
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length : at + 12 + length])
        assert crc == zlib.crc32(kind + body), kind
        chunks.append((kind, body))
        at += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1] == (b"IEND", b"")
    width, height, depth, kind = struct.unpack(">IIBB", chunks[0][1][:10])
    assert (depth, kind) == (8, 3)  # 8-bit palette
    idat = b"".join(body for k, body in chunks if k == b"IDAT")
    return width, height, zlib.decompress(idat)


def test_png_decodes_to_the_pixels_it_was_given():
    rng = np.random.RandomState(0)
    pixels = rng.randint(0, 3, size=(7, 5)).astype(np.uint8)
    width, height, raw = png_pixels(svg.png(pixels, [(0, 0, 0), (255, 0, 0), (1, 2, 3)]))
    assert (width, height) == (5, 7)
    assert len(raw) == 7 * (1 + 5)
    rows = np.frombuffer(raw, dtype=np.uint8).reshape(7, 6)
    assert (rows[:, 0] == 0).all()  # filter byte 0 on every row
    assert (rows[:, 1:] == pixels).all()


def test_the_curves_are_valid_svg_with_a_polyline_per_piece_and_a_legend(sweep):
    _, results = sweep
    content = svg.error_curves(results, "alpha", "xor: error <during> training")
    root = parse(content)
    pieces = sum(len(plot.curve_parts(*plot.curve_points(r))[0]) for r in results)
    assert pieces > 0
    assert len(root.findall(f".//{NS}polyline")) == pieces
    assert len(curve_groups(root)) == len(results)
    words = texts(root)
    assert "xor: error <during> training" in words  # escaped in the file, text when parsed
    assert b"&lt;during&gt;" in content
    assert "iteration + 1" in words and "error (mean |output - target|)" in words
    start = words.index("by alpha")
    assert words[start + 1 :] == ["alpha 0.1", "alpha 1", "alpha 10"]
    assert "10\u22121" in words  # decade labels: 10 and its exponent


def test_the_curves_use_viridis_by_the_swept_value(sweep):
    _, results = sweep
    root = parse(svg.error_curves(results, "alpha", "t"))
    strokes = [g.get("stroke") for g in curve_groups(root)]
    assert strokes == ["#440154"] * 2 + ["#21918c"] * 2 + ["#fde725"] * 2


def test_the_colour_tables_are_matplotlibs():
    mpl = pytest.importorskip("matplotlib")
    for name, stops in [("viridis", svg.VIRIDIS), ("RdBu_r", svg.RDBU_R)]:
        cmap = mpl.colormaps[name]
        for t in np.linspace(0, 1, 41):
            ours = np.array(svg.ramp(stops, float(t)))
            # linear between 17 stops: within 8 of 255 of the map itself
            assert np.abs(ours - np.array(cmap(t)[:3]) * 255).max() <= 8, (name, t)


def test_the_curves_break_at_nan_inf_and_zero_and_leave_them_out(sweep):
    _, results = sweep
    errors = [0.5, 0.4, NAN, 0.3, 0.2, INF, 0.1, 0.09, 0.0, 0.08]
    odd = dataclasses.replace(
        results[0],
        history_iterations=np.arange(100, 110),
        history_errors=np.array(errors),
        iterations=110,
        final_error=0.07,
    )
    root = parse(svg.error_curves([odd], "alpha", "t"))
    lines = [p.get("points").split() for p in root.iter(f"{NS}polyline")]
    assert [len(line) for line in lines] == [2, 2, 2, 2]  # runs (0,2) (3,5) (6,8) (9,11)
    (markers,) = [p.get("d") for p in root.iter(f"{NS}path") if p.get("class") == "markers"]
    assert markers.count("M") == 8  # a sparse history: every drawable point
    assert "nan" not in str(lines).lower()
    nothing = dataclasses.replace(odd, history_errors=np.full(10, NAN), final_error=NAN)
    root = parse(svg.error_curves([nothing], "alpha", "t"))  # nothing drawable: no crash
    assert root.findall(f".//{NS}polyline") == []


def test_200_networks_draw_max_curves_and_the_title_says_so(monkeypatch):
    _, results = train("xor", alphas=(1,), seeds=range(1, 201), iterations=50, every=10)
    monkeypatch.setattr(plot, "MAX_CURVES", 40)
    root = parse(svg.error_curves(results, "seed", "xor: error during training"))
    assert len(curve_groups(root)) == 40
    words = texts(root)
    assert "xor: error during training (40 of 200 networks, evenly chosen)" in words
    legend = words[words.index("by seed") + 1 :]
    assert len(legend) == plot.MAX_LEGEND
    assert legend[0] == "seed 1" and legend[-1] == "seed 200"


def boundary_images(root: ET.Element) -> list[bytes]:
    import base64

    found = []
    for image in root.iter(f"{NS}image"):
        href = image.get("{http://www.w3.org/1999/xlink}href")
        assert href.startswith("data:image/png;base64,")
        found.append(base64.b64decode(href.split(",", 1)[1], validate=True))
    return found


def test_the_boundary_is_an_image_of_the_grid_with_the_samples_on_top(sweep):
    d, results = sweep
    root = parse(svg.decision_boundary(d.x, d.y, results[:1], "xor: decision boundary"))
    (image,) = boundary_images(root)
    width, height, raw = png_pixels(image)
    side = boundary.BOUNDARY_RESOLUTION
    assert (width, height) == (side, side)
    assert len(raw) == side * (side + 1)
    assert len(root.findall(f".//{NS}circle")) == len(d.x)
    words = texts(root)
    assert {"xor: decision boundary", "input 0", "input 1", "output"} <= set(words)


def test_parity3s_boundary_is_a_panel_per_slice():
    d, results = train("parity3", alphas=(1,), seeds=(1,), iterations=300)
    root = parse(svg.decision_boundary(d.x, d.y, results, "p"))
    assert len(boundary_images(root)) == 2
    words = texts(root)
    assert [w for w in words if w.startswith("input 2 = ")] == ["input 2 = 0", "input 2 = 1"]
    assert "output over inputs 0 and 1, a slice at each value of input 2" in words
    assert len(root.findall(f".//{NS}circle")) == len(d.x)  # each sample in its slice


def test_one_varying_input_is_a_line():
    x = np.array([[0, 1], [0.25, 1], [0.75, 1], [1, 1]], float)
    y = np.array([[0], [0], [1], [1]], float)
    results = engine.train(x, y, [network.NetworkSpec(1, 4, 1)], 100, 50)
    root = parse(svg.decision_boundary(x, y, results, "one"))
    assert boundary_images(root) == []
    assert len(root.findall(f".//{NS}polyline")) == 1
    assert "output (samples: their target)" in texts(root)


def test_the_same_input_gives_the_same_bytes(sweep):
    d, results = sweep
    first = svg.report_figures(results, (d.x, d.y), results[:1], "xor")
    assert list(first) == ["curves.svg", "boundary.svg"]
    assert svg.report_figures(results, (d.x, d.y), results[:1], "xor") == first
    assert svg.report_figures(results, None, [], "xor").keys() == {"curves.svg"}


# --- in report.html -----------------------------------------------------------------------

SWEEP = ("sweep", "--alphas", "0.1,1,10", "--seeds", "1,2", "--iterations", 1000,
         "--log-every", 100, "-q")  # fmt: skip


def report_figures(folder: Path) -> list[tuple[str, ET.Element]]:
    """report.html's figures: (caption, parsed inline SVG), in page order."""
    page = (folder / "report.html").read_text(encoding="utf-8")
    found = re.findall(
        r"<figure>\n(<svg .*?</svg>)\n<figcaption>([^<]*)</figcaption>\n</figure>", page, re.S
    )
    assert page.count("<figure") == len(found)
    assert "<img" not in page
    return [(caption, parse(content.encode())) for content, caption in found]


def run_folder(*args: object) -> Path:
    result = invoke(*args)
    assert result.exit_code == 0, result.stderr
    (folder,) = Path("runs").iterdir()
    return folder


@pytest.mark.usefixtures("cli_env")
@pytest.mark.parametrize("matplotlib", ["absent", "installed"])
def test_report_html_has_both_figures_with_or_without_matplotlib(matplotlib, monkeypatch):
    if matplotlib == "absent":
        monkeypatch.setattr(figure, "available", lambda: False)
        monkeypatch.setitem(sys.modules, "matplotlib", None)  # importing it would fail
    folder = run_folder(*SWEEP)
    found = report_figures(folder)
    assert [caption.split(" ")[0] for caption, _ in found] == ["Error", "Decision"]
    curves, drawn = (root for _, root in found)
    assert "by alpha" in texts(curves)
    assert len(boundary_images(drawn)) == 1
    size = (folder / "report.html").stat().st_size
    assert size < 100_000, size


@pytest.mark.usefixtures("cli_env")
def test_parity3s_report_shows_its_boundary_in_slices():
    folder = run_folder("sweep", "--dataset", "parity3", "--alphas", "1,10", "--iterations",
                        300, "--log-every", 100, "-q")  # fmt: skip
    _, drawn = report_figures(folder)[1]
    assert len(boundary_images(drawn)) == 2


@pytest.mark.usefixtures("cli_env")
def test_no_figures_leaves_report_html_with_the_tables_only():
    folder = run_folder(*SWEEP, "--no-figures")
    assert report_figures(folder) == []
    assert '<table class="grid">' in (folder / "report.html").read_text(encoding="utf-8")


@pytest.mark.usefixtures("cli_env")
def test_a_figure_that_fails_costs_the_run_nothing(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("no room")

    monkeypatch.setattr(svg, "report_figures", broken)
    result = invoke(*SWEEP[:-1], "--json")
    assert result.exit_code == 0
    assert "report.html has no figures: RuntimeError: no room" in result.stderr
    (folder,) = Path("runs").iterdir()
    assert report_figures(folder) == []
    assert (folder / "results.json").is_file()


def test_the_boundary_image_has_its_contour_and_greys_a_non_finite_output():
    out = np.tile(np.linspace(0, 1, 8), (3, 1))  # rising to the right, 0.5 between 3 and 4
    out[0, 0] = NAN
    width, height, raw = png_pixels(svg.band_image(out))
    rows = np.frombuffer(raw, dtype=np.uint8).reshape(height, width + 1)[::-1, 1:]
    assert (width, height) == (8, 3)
    assert rows[0, 0] == svg.BANDS + 1  # grey
    assert (rows[:, 4] == svg.BANDS).all()  # black where it crosses 0.5
    assert rows[1, 0] == 0 and rows[1, 7] == svg.BANDS - 1  # the bands at the ends
