"""The error surface: grid values, the training path, the command's output and files."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from clitools import invoke

from toynn_cli.analysis import surface
from toynn_cli.core import engine, evaluation, network
from toynn_cli.core.datasets import BUILTIN
from toynn_cli.view import figure, heatmap

pytestmark = pytest.mark.usefixtures("cli_env")

ROOT = Path(__file__).resolve().parents[1]
FIRST = BUILTIN["first-column"]
XOR = BUILTIN["xor"]


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + np.exp(-z))


def direct_error(x: np.ndarray, y: np.ndarray, weights: list[np.ndarray]) -> float:
    """One network's error, the tutorial's way: one point at a time, plain matrix products."""
    layer = x
    for w in weights:
        layer = sigmoid(layer @ w)
    return float(np.mean(np.abs(layer - y)))


def test_two_layer_grid_matches_a_direct_per_point_computation():
    result = surface.compute(FIRST.x, FIRST.y, network.NetworkSpec(1.0, 0, 1), 2000,
                             None, None, -10.0, 10.0, 81)  # fmt: skip
    assert (result.a.name, result.b.name) == ("W0[0,0]", "W0[1,0]")
    assert result.errors.shape == (81, 81)
    assert result.values_a[0] == -10.0 and result.values_a[-1] == 10.0
    assert result.values_a[40] == 0.0
    for i in range(0, 81, 4):
        for j in range(0, 81, 4):
            w = np.array([[result.values_a[j]], [result.values_b[i]]])
            assert result.errors[i, j] == pytest.approx(
                direct_error(FIRST.x, FIRST.y, [w]), rel=1e-12
            )
    # the closed form for this dataset: (sigmoid(b) + 1 - sigmoid(a)) / 2
    a, b = np.meshgrid(result.values_a, result.values_b)
    np.testing.assert_allclose(result.errors, (sigmoid(b) + 1 - sigmoid(a)) / 2, rtol=1e-12)


@pytest.mark.parametrize("held", ["trained", "initial"])
def test_larger_network_holds_the_other_weights(held):
    spec = network.NetworkSpec(10.0, 4, 1)
    a = surface.parse_weight("W0[0,0]", [(3, 4), (4, 1)])
    b = surface.parse_weight("W1[2,0]", [(3, 4), (4, 1)])
    result = surface.compute(XOR.x, XOR.y, spec, 1000, a, b, -5.0, 5.0, 11, held)
    (trained,) = engine.train(XOR.x, XOR.y, [spec], 1000, 100)
    base = trained.weights if held == "trained" else trained.weights_initial
    for i in range(11):
        for j in range(11):
            w0, w1 = base[0].copy(), base[1].copy()
            w0[0, 0], w1[2, 0] = result.values_a[j], result.values_b[i]
            assert result.errors[i, j] == pytest.approx(
                direct_error(XOR.x, XOR.y, [w0, w1]), rel=1e-12
            )


@pytest.mark.slow
def test_the_path_is_the_training_run_bit_for_bit():
    spec = network.NetworkSpec(10.0, 4, 1)
    (trained,) = engine.train(XOR.x, XOR.y, [spec], 3000, 1000)
    its, path = evaluation.weight_path(XOR.x, XOR.y, spec, 3000, network.history_schedule(3000))
    assert its[0] == 0 and its[-1] == 3000
    assert its[:-1].tolist() == trained.history_iterations.tolist()
    for k in range(2):
        assert path[k][0].tolist() == trained.weights_initial[k].tolist()
        assert path[k][-1].tolist() == trained.weights[k].tolist()
    stacked = [np.moveaxis(w, 0, -1) for w in path]
    errors = evaluation.batch_errors(XOR.x, XOR.y, stacked)
    assert errors[:-1].tolist() == trained.history_errors.tolist()
    assert errors[-1] == trained.final_error


def test_weight_names_and_refusals():
    shapes = [(3, 4), (4, 1)]
    assert surface.weight_names([(2, 1)]) == ["W0[0,0]", "W0[1,0]"]
    assert surface.parse_weight("W1[3,0]", shapes) == surface.WeightRef(1, 3, 0)
    with pytest.raises(surface.SurfaceError, match=r"'W1\[4,0\]' is not in this network"):
        surface.parse_weight("W1[4,0]", shapes)
    with pytest.raises(surface.SurfaceError, match="the network has 16 weights"):
        surface.default_weights(shapes)


@pytest.mark.slow
def test_the_heatmap_has_axes_legend_and_path():
    result = surface.compute(FIRST.x, FIRST.y, network.NetworkSpec(1.0, 0, 1), 10000,
                             None, None, -10.0, 10.0, 81)  # fmt: skip
    from rich.console import Console

    console = Console(width=120, file=io.StringIO(), color_system=None)
    console.print(heatmap.heatmap(result, 81, color=False))
    lines = console.file.getvalue().splitlines()
    assert lines[0] == "W0[1,0]"
    assert lines[1].startswith("     10 ┤")
    grid_lines = [line for line in lines if line[8:9] in ("┤", "│")]
    assert len(grid_lines) == 41
    assert all(len(line) == 9 + 81 for line in grid_lines)
    text = "\n".join(lines)
    assert text.count("S") == 1 + text.count("S start")  # one start mark (plus the legend)
    assert "E" in "".join(line[9:] for line in grid_lines)
    assert lines[1][9] == "@"  # top left (a = -10, b = 10): error near 1
    assert grid_lines[-1][-1] == " "  # bottom right (a = 10, b = -10): error near 0
    assert "-10" in lines[-4] and "10" in lines[-4]
    assert "W0[0,0]" in lines[-3]
    assert lines[-2].startswith("error ' .:-=+*#%@'  4.54e-05 (' ') to 1 ('@'), linear")


@pytest.mark.slow
def test_surface_command_writes_csv_path_and_config():
    result = invoke("surface", "--config", ROOT / "configs" / "two-layer.yaml", "--resolution", 21)
    assert result.exit_code == 0, result.stderr
    assert "grid 21 x 21 over [-10, 10]; the network has no other weights" in result.stdout
    assert "Lowest on the grid: error 4.54e-05 at W0[0,0] = 10, W0[1,0] = -10" in result.stdout
    (folder,) = Path("runs").iterdir()
    assert folder.name.endswith("-two-layer-surface")
    rows = list(csv.reader(io.StringIO((folder / "surface.csv").read_text())))
    assert rows[0] == ["W0[0,0]", "W0[1,0]", "error"]
    assert len(rows) == 1 + 21 * 21
    for a, b, error in rows[1:]:
        assert float(error) == pytest.approx(
            (sigmoid(float(b)) + 1 - sigmoid(float(a))) / 2, rel=1e-12
        )
    path = list(csv.reader(io.StringIO((folder / "path.csv").read_text())))
    assert path[0] == ["iteration", "W0[0,0]", "W0[1,0]", "error"]
    assert path[-1][0] == "10000"
    assert float(path[-1][3]) == 0.005050814401036707  # the trained network's final error
    assert (folder / "config.yaml").is_file()
    assert result.stderr.startswith(f"Saved {folder}")


def test_a_surface_folder_is_a_run_that_runs_and_show_read():
    args = ("surface", "--config", ROOT / "configs" / "two-layer.yaml", "--resolution", 5,
            "--iterations", 100, "-q")  # fmt: skip
    assert invoke(*args).exit_code == 0
    (folder,) = Path("runs").iterdir()
    info = json.loads((folder / "run.json").read_text())
    assert (info["status"], info["kind"], info["networks"]) == ("complete", "surface", 1)
    assert info["weights"] == ["W0[0,0]", "W0[1,0]"] and info["resolution"] == 5
    assert info["range"] == [-10.0, 10.0] and info["held"] == "trained"
    assert "path.csv" in info["files"] and "surface.csv" in info["files"]
    (row,) = json.loads(invoke("runs", "--json").stdout)
    assert (row["run"], row["kind"], row["state"]) == (folder.name, "surface", "complete")
    shown = invoke("show", folder)
    assert shown.exit_code == 0, shown.stderr
    assert "error surface over W0[0,0] x W0[1,0] · grid 5 x 5 over [-10.0, 10.0]" in (
        " ".join(shown.stdout.split())
    )
    assert invoke("show", folder, "--csv").stdout == (folder / "surface.csv").read_text()
    assert json.loads(invoke("show", folder, "--json").stdout) == info


def test_a_surface_that_cannot_be_saved_leaves_no_folder(monkeypatch):
    import errno

    from toynn_cli.store import runs

    real = runs.atomic_write

    def full(path, data):
        if Path(path).name == "path.csv":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, data)

    monkeypatch.setattr(runs, "atomic_write", full)
    result = invoke("surface", "--resolution", 5, "--iterations", 100, "-q")
    assert result.exit_code == 2
    assert result.stderr == "Error: cannot write to 'runs': No space left on device\n"
    assert list(Path("runs").iterdir()) == []


@pytest.mark.slow
def test_surface_json_and_csv_on_stdout():
    doc = json.loads(invoke("surface", "--resolution", 5, "--no-save", "--json").stdout)
    assert doc["weights"] == ["W0[0,0]", "W0[1,0]"]
    assert doc["values_a"] == [-10.0, -5.0, 0.0, 5.0, 10.0]
    assert doc["errors"][2][2] == 0.5  # both weights 0: every output 0.5
    assert doc["path"]["iterations"][-1] == 10000
    text = invoke("surface", "--resolution", 5, "--no-save", "--csv").stdout
    assert text.splitlines()[0] == '"W0[0,0]","W0[1,0]",error'
    assert len(text.splitlines()) == 26
    assert not Path("runs").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--config", ROOT / "configs" / "xor.yaml"],
         "option --weights: the network has 16 weights; expected two names such as "
         "W0[0,0] W0[0,1] to pick the two to vary"),
        (["--weights", "W0[0,0]", "W9[1,0]"],
         "option --weights: 'W9[1,0]' is not in this network; expected a weight of it (W0 is 2 x 1)"),
        (["--weights", "W0[1,0]", "W0[1,0]"],
         "option --weights names W0[1,0] twice; expected two different weights"),
        (["--range", "5", "1"], "option --range is 5 1; expected two finite numbers LOW < HIGH"),
        (["--resolution", "1"],
         "option --resolution is 1; expected a whole number from 2 to 1001"),
        (["--alphas", "1,2"],
         "option --alphas has 2 values, but 'toynn surface' trains one network; "
         "use 'toynn sweep' for several"),
    ],
)  # fmt: skip
def test_surface_bad_input_exits_2(args, message):
    result = invoke("surface", *args)
    assert result.exit_code == 2
    assert result.stderr == f"Error: {message}\n"
    assert not Path("runs").exists()


@pytest.mark.slow
def test_surface_png_with_the_plot_extra():
    pytest.importorskip("matplotlib")
    result = invoke("surface", "--resolution", 21)
    assert result.exit_code == 0, result.stderr
    (folder,) = Path("runs").iterdir()
    png = (folder / "surface.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (figure.FIG_SIZE[0] * figure.DPI, figure.FIG_SIZE[1] * figure.DPI)


@pytest.mark.slow
def test_surface_without_matplotlib_writes_csv_and_says_how_to_get_the_png(monkeypatch):
    monkeypatch.setattr(figure, "available", lambda: False)
    result = invoke("surface", "--resolution", 5)
    assert result.exit_code == 0
    (folder,) = Path("runs").iterdir()
    assert sorted(p.name for p in folder.iterdir()) == [
        "config.yaml",
        "path.csv",
        "run.json",
        "surface.csv",
    ]
    assert result.stderr.splitlines()[-1] == (
        "No surface.png: matplotlib is not installed; install the plot extra: "
        "pip install 'toynn[plot]'"
    )


def test_axis_labels_never_overlap():
    assert heatmap.axis_labels(81, "-10", "0", "10") == "-10" + " " * 37 + "0" + " " * 38 + "10"
    assert heatmap.axis_labels(9, "-10", "0", "10") == "-10 0  10"
    assert heatmap.axis_labels(4, "-10", "0", "10") == "-10"  # no room for more
    assert heatmap.axis_labels(2, "-10", "0", "10") == "-10"
