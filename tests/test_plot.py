"""toynn plot: PNG and SVG figures of a saved run (skipped without matplotlib)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from clitools import invoke

from toynn_cli import plot

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
CURVES_PX = (int(plot.FIG_SIZE[0] * plot.DPI), int(plot.FIG_SIZE[1] * plot.DPI))
CURVES_PT = (f"{plot.FIG_SIZE[0] * 72:g}pt", f"{plot.FIG_SIZE[1] * 72:g}pt")


def test_plot_writes_curves_and_boundary_as_png_and_svg():
    pytest.importorskip("matplotlib")
    folder = run_folder(*SWEEP)
    result = invoke("plot", folder)
    assert result.exit_code == 0, result.stderr
    names = ["curves.png", "curves.svg", "boundary.png", "boundary.svg"]
    assert result.stderr.splitlines() == [f"Wrote {folder / n}" for n in names]
    assert png_size(folder / "curves.png") == CURVES_PX
    assert svg_size(folder / "curves.svg") == CURVES_PT
    side = int(plot.FIG_SIZE[1] * plot.DPI)
    assert png_size(folder / "boundary.png") == (side, side)  # one panel: the best network
    assert svg_size(folder / "boundary.svg")[1] == f"{plot.FIG_SIZE[1] * 72:g}pt"


def test_plot_boundary_panels_and_out_folder():
    pytest.importorskip("matplotlib")
    folder = run_folder(*SWEEP)
    result = invoke("plot", folder, "--networks", "0,2,4", "--out", "figures", "-q")
    assert result.exit_code == 0, result.stderr
    side = int(plot.FIG_SIZE[1] * plot.DPI)
    assert png_size(Path("figures/boundary.png")) == (3 * side, side)
    assert not (folder / "curves.png").exists()


def test_plot_two_layer_train_run():
    pytest.importorskip("matplotlib")
    folder = run_folder("train", "--config", ROOT / "configs" / "two-layer.yaml")
    assert invoke("plot", folder, "-q").exit_code == 0
    assert png_size(folder / "curves.png") == CURVES_PX
    assert (folder / "boundary.png").is_file()


def test_plot_without_two_varying_inputs_draws_curves_only(tmp_path):
    pytest.importorskip("matplotlib")
    Path("data.csv").write_text("0,0,0,0\n0,1,1,1\n1,0,1,1\n1,1,0,0\n")
    folder = run_folder("sweep", "--dataset", "data.csv", "--alphas", "1,10", "--iterations", 300,
                        "--log-every", 100)  # fmt: skip
    assert invoke("plot", folder, "-q").exit_code == 0
    assert sorted(p.name for p in folder.glob("*.png")) == ["curves.png"]
    result = invoke("plot", folder, "--networks", "0", "--out", "x")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: option --networks: the run's dataset has no two varying inputs; "
        "expected a run on a dataset like xor or first-column\n"
    )


def test_plot_never_overwrites_figures():
    pytest.importorskip("matplotlib")
    folder = run_folder(*SWEEP)
    assert invoke("plot", folder, "-q").exit_code == 0
    before = (folder / "curves.png").read_bytes()
    result = invoke("plot", folder)
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: '{folder / 'curves.png'}' exists; expected a folder without figures "
        "(use --out for another folder)\n"
    )
    assert (folder / "curves.png").read_bytes() == before


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
    monkeypatch.setattr(plot, "available", lambda: False)
    result = invoke("plot", "anything")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "Error: matplotlib is not installed; install the plot extra: pip install 'toynn[plot]'\n"
    )


def test_plot_draws_at_most_max_curves(monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.setattr(plot, "MAX_CURVES", 4)
    folder = run_folder(*SWEEP)
    assert invoke("plot", folder, "-q").exit_code == 0
    svg = (folder / "curves.svg").read_text()
    assert "error during training (4 of 6 networks, evenly chosen)" in svg
