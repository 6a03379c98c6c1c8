"""toynn plot: PNG and SVG figures of a saved run (skipped without matplotlib)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from clitools import invoke

from toynn_cli.view import boundary, figure, plot

pytestmark = pytest.mark.usefixtures("cli_env")

ROOT = Path(__file__).resolve().parents[1]


def run_folder(*args: object) -> Path:
    result = invoke(*args, "-q")
    assert result.exit_code == 0, result.stderr
    (folder,) = Path("runs").iterdir()
    return folder


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    assert data[-12:-4] == b"\x00\x00\x00\x00IEND"  # complete: ends with the IEND chunk
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def svg_size(path: Path) -> tuple[str, str]:
    root = ET.parse(path).getroot()  # well-formed XML
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return root.get("width"), root.get("height")


SWEEP = ("sweep", "--alphas", "0.1,1,10", "--seeds", "1,2", "--iterations", 1000,
         "--log-every", 100)  # fmt: skip
CURVES_PX = (int(figure.FIG_SIZE[0] * figure.DPI), int(figure.FIG_SIZE[1] * figure.DPI))
CURVES_PT = (f"{figure.FIG_SIZE[0] * 72:g}pt", f"{figure.FIG_SIZE[1] * 72:g}pt")


@pytest.mark.slow
def test_plot_writes_curves_and_boundary_as_png_and_svg():
    pytest.importorskip("matplotlib")
    folder = run_folder(*SWEEP)
    result = invoke("plot", folder)
    assert result.exit_code == 0, result.stderr
    names = ["curves.png", "curves.svg", "boundary.png", "boundary.svg"]
    assert result.stderr.splitlines() == [f"Wrote {folder / n}" for n in names]
    assert png_size(folder / "curves.png") == CURVES_PX
    assert svg_size(folder / "curves.svg") == CURVES_PT
    side = int(figure.FIG_SIZE[1] * figure.DPI)
    assert png_size(folder / "boundary.png") == (side, side)  # one panel: the best network
    assert svg_size(folder / "boundary.svg")[1] == f"{figure.FIG_SIZE[1] * 72:g}pt"


@pytest.mark.slow
def test_plot_boundary_panels_and_out_folder():
    pytest.importorskip("matplotlib")
    folder = run_folder(*SWEEP)
    result = invoke("plot", folder, "--networks", "0,2,4", "--out", "figures", "-q")
    assert result.exit_code == 0, result.stderr
    side = int(figure.FIG_SIZE[1] * figure.DPI)
    assert png_size(Path("figures/boundary.png")) == (3 * side, side)
    assert not (folder / "curves.png").exists()


@pytest.mark.slow
def test_plot_two_layer_train_run():
    pytest.importorskip("matplotlib")
    folder = run_folder("train", "--config", ROOT / "configs" / "two-layer.yaml")
    assert invoke("plot", folder, "-q").exit_code == 0
    assert png_size(folder / "curves.png") == CURVES_PX
    assert (folder / "boundary.png").is_file()


@pytest.mark.slow
def test_plot_without_a_varying_input_draws_curves_only():
    pytest.importorskip("matplotlib")
    Path("data.csv").write_text("1,1,0\n1,1,1\n")
    folder = run_folder("sweep", "--dataset", "data.csv", "--alphas", "1,10", "--iterations", 300,
                        "--log-every", 100)  # fmt: skip
    assert invoke("plot", folder, "-q").exit_code == 0
    assert sorted(p.name for p in folder.glob("*.png")) == ["curves.png"]
    result = invoke("plot", folder, "--networks", "0", "--out", "x")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: option --networks: the run's dataset has no varying input; "
        "expected a run whose dataset has an input that varies\n"
    )
    assert not Path("x").exists()


def svg_title(path: Path) -> list[str]:
    """The figure's title lines (the first texts of the SVG are the panels', the title
    comes after them)."""
    texts = svg_texts(path)
    start = next(k for k, t in enumerate(texts) if t.endswith(": decision boundary"))
    return texts[start:]


@pytest.mark.slow
def test_plot_boundary_of_parity3_is_a_slice_per_value_of_the_third_input():
    pytest.importorskip("matplotlib")
    folder = run_folder("sweep", "--dataset", "parity3", "--alphas", "1,10", "--hidden", 8,
                        "--iterations", 300, "--log-every", 100)  # fmt: skip
    result = invoke("plot", folder, "--networks", "0,1")
    assert result.exit_code == 0, result.stderr
    side = int(figure.FIG_SIZE[1] * figure.DPI)
    assert png_size(folder / "boundary.png") == (2 * side, 2 * side)  # 2 networks x 2 slices
    texts = svg_texts(folder / "boundary.svg")
    assert [t for t in texts if t.startswith("input 2 = ")] == ["input 2 = 0", "input 2 = 1"] * 2
    assert svg_title(folder / "boundary.svg") == [
        "parity3: decision boundary",
        "output over inputs 0 and 1, a slice at each value of input 2",
    ]


@pytest.mark.slow
def test_plot_boundary_of_one_input_is_a_line_and_of_four_the_plane_at_the_means():
    pytest.importorskip("matplotlib")
    Path("one.csv").write_text("0,1,0\n0.25,1,0\n0.75,1,1\n1,1,1\n")
    Path("four.csv").write_text("0,0,0.5,1,0\n0,1,1,2,1\n1,0,1.5,1,1\n1,1,1,0,0\n")
    side = int(figure.FIG_SIZE[1] * figure.DPI)
    for name, how in [
        ("one", ["output along input 0, the one varying input"]),
        ("four", ["output over inputs 0 and 1, inputs 2, 3 at their", "means (1, 1)"]),
    ]:
        run = invoke("sweep", "--dataset", f"{name}.csv", "--iterations", 200, "--name", name,
                     "--out", name, "-q")  # fmt: skip
        assert run.exit_code == 0, run.stderr
        (folder,) = Path(name).iterdir()
        assert invoke("plot", folder, "-q").exit_code == 0
        assert png_size(folder / "boundary.png") == (side, side)
        assert svg_title(folder / "boundary.svg") == [f"{name}: decision boundary", *how]


@pytest.mark.slow
def test_plot_refuses_existing_figures_without_force(monkeypatch):
    pytest.importorskip("matplotlib")
    folder = run_folder(*SWEEP)
    assert invoke("plot", folder, "-q").exit_code == 0
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    drawn = []
    monkeypatch.setattr(plot, "run_figures", lambda *a, **k: drawn.append(a) or {})
    result = invoke("plot", folder)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: '{folder / 'curves.png'}' exists; expected a folder without figures "
        "(pass --force to overwrite them, or --out for another folder)\n"
    )
    assert drawn == []  # refused before drawing anything
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == before


@pytest.mark.slow
def test_plot_force_overwrites_the_figures():
    pytest.importorskip("matplotlib")
    folder = run_folder(*SWEEP)
    assert invoke("plot", folder, "-q").exit_code == 0
    curves = (folder / "curves.svg").read_text()
    boundary = (folder / "boundary.png").read_bytes()
    assert "by alpha" in curves
    result = invoke("plot", folder, "--force", "--color-by", "seed")
    assert result.exit_code == 0, result.stderr
    names = ["curves.png", "curves.svg", "boundary.png", "boundary.svg"]
    assert result.stderr.splitlines() == [f"Wrote {folder / n}" for n in names]
    assert "by seed" in (folder / "curves.svg").read_text()
    assert (folder / "boundary.png").read_bytes() == boundary  # the same figure again
    assert not [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.slow
def test_plot_force_does_not_replace_a_folder():
    pytest.importorskip("matplotlib")
    folder = run_folder(*SWEEP)
    (folder / "curves.svg").mkdir()
    result = invoke("plot", folder, "--force")
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: '{folder / 'curves.svg'}' is a folder; expected a figure file or none there\n"
    )
    assert not (folder / "curves.png").exists()


@pytest.mark.slow
@pytest.mark.parametrize("text", ["7", "a", "0,1,2,3,4,5,0"])
def test_plot_bad_networks_option(text):
    pytest.importorskip("matplotlib")
    folder = run_folder(*SWEEP)
    result = invoke("plot", folder, "--networks", text)
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: option --networks is {text!r}; expected network numbers from 0 to 5 "
        "separated by commas (as in 'toynn show --csv'), at most 6\n"
    )


def test_plot_refuses_a_folder_that_is_not_a_run():
    pytest.importorskip("matplotlib")
    Path("plain").mkdir()
    result = invoke("plot", "plain")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: 'plain' is not a run folder: it has no run.json")


def test_plot_without_matplotlib_says_how_to_get_it(monkeypatch):
    monkeypatch.setattr(figure, "available", lambda: False)
    result = invoke("plot", "anything")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "Error: matplotlib is not installed; install the plot extra: pip install 'toynn[plot]'\n"
    )


@pytest.mark.slow
def test_plot_draws_at_most_max_curves(monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.setattr(plot, "MAX_CURVES", 4)
    folder = run_folder(*SWEEP)
    assert invoke("plot", folder, "-q").exit_code == 0
    svg = (folder / "curves.svg").read_text()
    assert "error during training (4 of 6 networks, evenly chosen)" in svg


# report.html's own figures (SVG, no matplotlib): tests/test_svg.py


# --- colour by any setting ---------------------------------------------------------------

#: for each setting: the sweep options that give it two values, and the legend they draw
#: (the tables' labels, "-" read as off and a flag's name as on; numbers first, then words)
COLOR_BY = {
    "alpha": (("--alphas", "0.1,1"), ["alpha 0.1", "alpha 1"]),
    "hidden": (("--hidden", "2,4"), ["hidden 2", "hidden 4"]),
    "seed": (("--seeds", "1,2"), ["seed 1", "seed 2"]),
    "optimizer": (("--optimizers", "sgd,adam"), ["optimizer adam", "optimizer sgd"]),
    "bias": (("--bias", "false,true"), ["bias off", "bias on"]),
    "activation": (("--activations", "sigmoid,tanh"), ["activation sigmoid", "activation tanh"]),
    "loss": (("--losses", "squared,cross_entropy"), ["loss cross_entropy", "loss squared"]),
    "init": (("--inits", "uniform,xavier"), ["init uniform", "init xavier"]),
    "batch_size": (("--batch-size", "0,2"), ["batch_size 2", "batch_size full"]),
    "batch_norm": (("--batch-norm", "false,true"), ["batch_norm off", "batch_norm on"]),
    "dropout": (("--dropout", "0,0.5"), ["dropout 0.5", "dropout off"]),
    "weight_decay": (("--weight-decay", "0,0.01"), ["weight_decay 0.01", "weight_decay off"]),
    "momentum": (
        ("--optimizers", "momentum", "--momentum", "0.5,0.9"),
        ["momentum 0.5", "momentum 0.9"],
    ),
    "clip_value": (("--clip-value", "0,1"), ["clip_value 1", "clip_value off"]),
    "clip_norm": (("--clip-norm", "0,1"), ["clip_norm 1", "clip_norm off"]),
    "schedule": (("--schedules", "constant,cosine"), ["schedule constant", "schedule cosine"]),
    "target_error": (("--target-error", "0,0.1"), ["target_error 0.1", "target_error off"]),
}


def test_color_by_covers_every_setting():
    assert sorted(COLOR_BY) == sorted(plot.AXES)


def svg_texts(path: Path) -> list[str]:
    ns = "{http://www.w3.org/2000/svg}"
    return [t.text or "" for t in ET.parse(path).getroot().iter(f"{ns}text")]


@pytest.mark.slow
@pytest.mark.parametrize("axis", list(COLOR_BY))
def test_plot_colors_the_curves_by_any_setting(axis):
    pytest.importorskip("matplotlib")
    options, legend = COLOR_BY[axis]
    folder = run_folder("sweep", *options, "--iterations", 20, "--log-every", 10, "--no-figures")
    result = invoke("plot", folder, "--color-by", axis, "--out", "figures", "-q")
    assert result.exit_code == 0, result.stderr
    texts = svg_texts(Path("figures/curves.svg"))
    start = texts.index(f"by {axis}")
    assert texts[start + 1 :] == legend


# --- error curves: recorded points, no made-up lines ---------------------------------------

NAN = float("nan")


@pytest.mark.parametrize(
    ("x", "y", "runs", "lone"),
    [
        # every 300 iterations (+ 1) on a log axis: 1 -> 301 -> 601 are far apart
        ([1, 301, 601, 901, 1201], [0.5, 0.4, 0.3, 0.2, 0.1], [(2, 5)], [0, 1]),
        # a NaN or an infinite error breaks the line and is not drawn
        ([1, 1.2, 1.4, 1.6, 1.8], [0.5, NAN, 0.4, 0.3, float("inf")], [(2, 4)], [0]),
        # an error of 0 cannot be shown on a log axis
        ([10, 11, 12, 13], [0.2, 0.0, 0.1, 0.05], [(2, 4)], [0]),
        ([1, 2], [NAN, NAN], [], []),
        ([5, 6, 7], [0.3, 0.2, 0.1], [(0, 3)], []),
    ],
)
def test_curve_parts_join_only_neighbouring_finite_points(x, y, runs, lone):
    assert plot.curve_parts(np.array(x, float), np.array(y, float)) == (runs, lone)


def drawn(x: list[float], y: list[float]) -> tuple[list[list[float | None]], bool, list]:
    """What _draw_history puts on an axes: each artist's x data (NaN as None)."""
    plt = figure.pyplot()
    fig, ax = plt.subplots()
    try:
        marked = plot._draw_history(ax, np.array(x, float), np.array(y, float), "red")
        lines = [[None if np.isnan(v) else float(v) for v in line.get_xdata()]
                 for line in ax.lines]  # fmt: skip
        styles = [(line.get_linestyle(), line.get_marker()) for line in ax.lines]
        return lines, marked, styles
    finally:
        plt.close(fig)


def test_a_sparse_history_is_points_with_markers_and_no_line_across_gaps():
    pytest.importorskip("matplotlib")
    x = [1, 301, 601, 901, 1201, 1501]
    y = [0.5, 0.4, NAN, 0.2, 0.1, 0.05]
    lines, marked, styles = drawn(x, y)
    assert marked
    assert lines == [[901, 1201, 1501, None], [1, 301, 901, 1201, 1501]]
    assert styles == [("-", "None"), ("None", "o")]


def test_a_dense_history_is_a_line_with_markers_on_lone_points_only():
    pytest.importorskip("matplotlib")
    x = [1.0, *np.arange(101, 100 * plot.SPARSE_POINTS + 101, 100)]  # one too many
    lines, marked, styles = drawn(x, [0.5] * len(x))
    assert not marked
    assert lines == [[*x[2:], None], [1, 101]]
    assert styles == [("-", "None"), ("None", "o")]


# --- which inputs a decision boundary shows ------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "shown", "slices", "how"),
    [
        ([[0, 0, 1], [0, 1, 1], [1, 0, 1]], [0, 1], [{}], ""),  # xor: the third is constant
        ([[0, 1], [0.5, 1], [2, 1]], [0], [{}], "output along input 0, the one varying input"),
        (
            [[a, b, c] for a in (0, 1) for b in (0, 1) for c in (0, 1)],  # parity3
            [0, 1],
            [{2: 0.0}, {2: 1.0}],
            "output over inputs 0 and 1, a slice at each value of input 2",
        ),
        (
            [[0, 0, -1, 3, 9], [1, 1, 1, 5, 9]],  # two bits besides: four slices
            [0, 1],
            [{2: -1.0, 3: 3.0}, {2: -1.0, 3: 5.0}, {2: 1.0, 3: 3.0}, {2: 1.0, 3: 5.0}],
            "output over inputs 0 and 1, a slice at each value of inputs 2, 3",
        ),
        (
            [[0, 0, 0, 0, 0], [1, 1, 1, 1, 1]],  # three bits: eight slices, too many
            [0, 1],
            [{2: 0.5, 3: 0.5, 4: 0.5}],
            "output over inputs 0 and 1, inputs 2, 3, 4 at their means (0.5, 0.5, 0.5)",
        ),
        (
            [[0, 0, 0], [1, 1, 1], [1, 0, 2]],  # three values: not bits
            [0, 1],
            [{2: 1.0}],
            "output over inputs 0 and 1, input 2 at its mean (1)",
        ),
        (
            [[0] * 6, [1] * 6],
            [0, 1],
            [{2: 0.5, 3: 0.5, 4: 0.5, 5: 0.5}],
            "output over inputs 0 and 1, the other 4 varying inputs at their means",
        ),
    ],
)
def test_boundary_layout(rows, shown, slices, how):
    assert boundary.boundary_layout(np.array(rows, float)) == (shown, slices, how)


def test_boundary_layout_needs_a_varying_input():
    with pytest.raises(
        ValueError, match=r"^the dataset has no varying inputs; expected at least one$"
    ):
        boundary.boundary_layout(np.array([[1.0, 2.0], [1.0, 2.0]]))


@pytest.mark.slow
def test_a_network_too_wide_for_its_boundary_is_said_not_drawn():
    pytest.importorskip("matplotlib")
    folder = run_folder("train", "--hidden", 70, "--iterations", 10, "--no-figures")
    result = invoke("plot", folder)
    assert result.exit_code == 0, result.stderr
    assert not (folder / "boundary.png").exists() and (folder / "curves.png").is_file()
    assert result.stderr.endswith(
        "no decision boundary: a network has 280 weights, and its output over a 200 x 200 "
        "grid would take minutes (at most 250 weights are drawn)\n"
    )


def test_batch_outputs_in_blocks_give_the_same_bits(monkeypatch):
    from toynn_cli.core import evaluation

    rng = np.random.RandomState(0)
    x = rng.uniform(-2, 2, size=(50, 3))
    weights = [rng.normal(size=(3, 8, 4)), rng.normal(size=(8, 1, 4))]
    whole = evaluation.batch_outputs(x, weights)
    monkeypatch.setattr(evaluation, "OUTPUTS_BUDGET", 1)  # one sample a block
    assert evaluation.batch_outputs(x, weights).tobytes() == whole.tobytes()
