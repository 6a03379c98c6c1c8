"""runs, show and compare on folders written by earlier commands (CliRunner)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from clitools import invoke, invoke_ok

from toynn_cli.core import engine, network
from toynn_cli.core.datasets import BUILTIN
from toynn_cli.store import workspace

pytestmark = pytest.mark.usefixtures("cli_env")

XOR = BUILTIN["xor"]


def sweep(name: str, iterations: int, *extra: object) -> Path:
    """Run a small sweep into ./runs and return its folder."""
    before = set(Path("runs").iterdir()) if Path("runs").exists() else set()
    invoke_ok("sweep", "-q", "--alphas", "0.1,1,10", "--iterations", iterations,
              "--log-every", 100, "--name", name, *extra)  # fmt: skip
    (new,) = set(Path("runs").iterdir()) - before
    return new


def set_status(run_dir: Path, **changes: object) -> None:
    info = json.loads((run_dir / "run.json").read_text())
    info.update(changes)
    (run_dir / "run.json").write_text(json.dumps(info))


# --- runs -------------------------------------------------------------------------------


@pytest.mark.slow
def test_runs_lists_folders_newest_first_with_state_and_best_error():
    a = sweep("first", 300)
    b = sweep("second", 600)
    set_status(a, started="2026-01-01T10:00:00")
    set_status(b, started="2026-01-02T10:00:00")
    Path("runs", "not-a-run").mkdir()
    rows = json.loads(invoke_ok("runs", "--json").stdout)
    assert [r["run"] for r in rows] == [b.name, a.name]
    doc = json.loads((b / "results.json").read_text())
    best = min(n["final_error"] for n in doc["networks"])
    assert rows[0]["best_final_error"] == best
    assert rows[0]["networks"] == rows[0]["networks_done"] == 3
    assert rows[0]["state"] == "complete"
    assert rows[0]["command"].startswith("toynn sweep -q --alphas 0.1,1,10")

    table = invoke_ok("runs").stdout
    assert table.index(b.name) < table.index(a.name)
    assert "not-a-run" not in table
    assert "2026-01-02 10:00:00" in table


@pytest.mark.slow
def test_runs_states_interrupted_running_and_killed():
    done = sweep("done", 200)
    cut = sweep("cut", 200)
    live = sweep("live", 200)
    dead = sweep("dead", 200)
    set_status(cut, status="interrupted", networks_done=1)
    set_status(live, status="running", pid=os.getpid())
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    set_status(dead, status="running", pid=int(child.stdout))  # that process has exited
    rows = {r["run"]: r["state"] for r in json.loads(invoke_ok("runs", "--json").stdout)}
    assert rows == {
        done.name: "complete",
        cut.name: "interrupted",
        live.name: "running",
        dead.name: "killed",
    }


def test_runs_csv_has_one_row_per_run():
    a = sweep("one", 200)
    text = invoke_ok("runs", "--csv").stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1
    assert rows[0]["run"] == a.name
    assert rows[0]["state"] == "complete"
    assert (
        float(rows[0]["best_final_error"])
        == json.loads(invoke_ok("runs", "--json").stdout)[0]["best_final_error"]
    )


def test_runs_with_no_folder_says_so_and_succeeds():
    result = invoke_ok("runs", "--out", "empty")
    assert result.stdout == ""
    assert result.stderr == "No run folders in 'empty'.\n"
    assert invoke_ok("runs", "--out", "empty", "--json").stdout == "[]\n"


def test_runs_out_is_a_file_exits_2():
    Path("file").write_text("x")
    result = invoke("runs", "--out", "file")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: option --out: 'file' is not a folder; expected the folder that holds run folders\n"
    )


def test_json_and_csv_together_exit_2():
    result = invoke("runs", "--json", "--csv")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: options --json and --csv cannot be used together; expected one of them\n"
    )


# --- show -------------------------------------------------------------------------------


@pytest.mark.slow
def test_show_renders_the_saved_tables_without_training(monkeypatch):
    run_dir = sweep("shown", 500)
    saved = (run_dir / "report.txt").read_text()

    def no_training(*args, **kwargs):
        raise AssertionError("show must not train")

    monkeypatch.setattr(engine, "train_batch", no_training)
    shown = invoke_ok("show", run_dir).stdout
    # the same table (widths may differ), then the run's story
    assert shown.split()[: len(saved.split())] == saved.split()
    assert shown.split()[len(saved.split()) :][:3] == ["Run", "state", "complete"]


def test_show_a_train_run_shows_the_train_report():
    invoke_ok("train", "-q", "--iterations", 300, "--log-every", 100, "--name", "one")
    (run_dir,) = Path("runs").iterdir()
    shown = invoke_ok("show", run_dir).stdout.split()
    saved = (run_dir / "report.txt").read_text().split()
    assert shown[: len(saved)] == saved
    assert shown[len(saved) :][:3] == ["Run", "state", "complete"]


@pytest.mark.slow
def test_show_csv_and_json():
    run_dir = sweep("data", 300)
    doc = json.loads((run_dir / "results.json").read_text())
    assert json.loads(invoke_ok("show", run_dir, "--json").stdout) == doc
    rows = list(csv.DictReader(io.StringIO(invoke_ok("show", run_dir, "--csv").stdout)))
    assert [float(r["final_error"]) for r in rows] == [n["final_error"] for n in doc["networks"]]
    assert [r["status"] for r in rows] == [n["status"] for n in doc["networks"]]
    assert [float(r["alpha"]) for r in rows] == [0.1, 1.0, 10.0]


@pytest.mark.slow
def test_show_history_round_trips_through_results_json():
    run_dir = sweep("hist", 1000)
    run = workspace.open_run(run_dir)
    loaded, statuses = workspace.load_networks(run)
    specs = [network.NetworkSpec(a, 4, 1) for a in (0.1, 1.0, 10.0)]
    fresh = engine.train(XOR.x, XOR.y, specs, 1000, 100)
    for got, want in zip(loaded, fresh):
        assert got.spec == want.spec
        assert got.history_iterations.tolist() == want.history_iterations.tolist()
        # the folder keeps the history as float32 (run-folder format 3): exactly the
        # trained history rounded to float32, given back as float64
        assert got.history_errors.dtype == np.float64
        want_history = want.history_errors.astype(np.float32).astype(np.float64)
        assert got.history_errors.tolist() == want_history.tolist()
        assert got.final_error == want.final_error
        assert [w.tolist() for w in got.weights] == [w.tolist() for w in want.weights]
    assert statuses == [n["status"] for n in run.networks_raw]


@pytest.mark.slow
def test_show_an_interrupted_run_warns_and_shows_what_finished():
    run_dir = sweep("partial", 300)
    doc = json.loads((run_dir / "results.json").read_text())
    doc["networks"] = doc["networks"][:2]
    doc["complete"] = False
    (run_dir / "results.json").write_text(json.dumps(doc))
    set_status(run_dir, status="interrupted", networks_done=2)
    result = invoke_ok("show", run_dir)
    assert f"{run_dir}: the run is interrupted; showing the 2 of 3 networks" in result.stderr
    assert "2 networks:" in result.stdout


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (
            lambda: None,
            "Error: 'nowhere' does not exist; expected a run folder (see 'toynn runs')\n",
        ),
        (
            lambda: Path("nowhere").mkdir(),
            "Error: 'nowhere' is not a run folder: it has no run.json (expected a folder "
            "written by 'toynn train' or 'toynn sweep'; see 'toynn runs')\n",
        ),
        (
            lambda: Path("nowhere").write_text("x"),
            "Error: 'nowhere' is not a folder; expected a run folder (see 'toynn runs')\n",
        ),
    ],
)
def test_show_refuses_what_is_not_a_run(setup, message):
    setup()
    result = invoke("show", "nowhere")
    assert result.exit_code == 2
    assert result.stderr == message
    assert result.stdout == ""


def test_show_refuses_a_run_without_results_and_bad_json():
    run_dir = sweep("broken", 200)
    (run_dir / "results.json").unlink()
    set_status(run_dir, status="running", pid=os.getpid())
    result = invoke("show", run_dir)
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: '{run_dir}' has no results.json (status: running); "
        "expected a run that finished or was interrupted\n"
    )
    (run_dir / "run.json").write_text("{not json")
    result = invoke("show", run_dir)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: '{run_dir / 'run.json'}' is not valid JSON (")
    assert result.stderr.endswith("; expected a toynn run file\n")


# --- compare ----------------------------------------------------------------------------


@pytest.mark.slow
def test_compare_config_differences_then_networks():
    a = sweep("a", 300)
    b = sweep("b", 600)
    doc = json.loads(invoke_ok("compare", a, b, "--json").stdout)
    assert doc["config_differences"] == [
        {"key": "name", "a": "a", "b": "b"},
        {"key": "iterations", "a": 300, "b": 600},
    ]
    errors_a = [n["final_error"] for n in json.loads((a / "results.json").read_text())["networks"]]
    errors_b = [n["final_error"] for n in json.loads((b / "results.json").read_text())["networks"]]
    assert [n["final_error_a"] for n in doc["networks"]] == errors_a
    assert [n["final_error_b"] for n in doc["networks"]] == errors_b
    assert [n["difference"] for n in doc["networks"]] == [
        eb - ea for ea, eb in zip(errors_a, errors_b)
    ]
    assert doc["worse"] == 0
    assert doc["only_in_a"] == doc["only_in_b"] == 0

    text = invoke_ok("compare", a, b).stdout
    assert text.index("Config differences") < text.index("Final error of the networks")
    assert "│ iterations │ 300 │ 600 │" in text


@pytest.mark.slow
def test_compare_fail_if_worse_exits_1_only_when_b_is_worse():
    short = sweep("short", 300)
    long = sweep("long", 900)
    invoke_ok("compare", short, long, "--fail-if-worse", 0)  # longer training is better
    result = invoke("compare", long, short, "--fail-if-worse", 0)
    assert result.exit_code == 1
    assert result.stderr == "3 networks are worse in B by more than --fail-if-worse 0\n"
    invoke_ok("compare", long, short, "--fail-if-worse", 1)  # within tolerance
    same = invoke_ok("compare", short, short, "--fail-if-worse", 0)
    assert "Configs are identical." in same.stdout


@pytest.mark.slow
def test_compare_matches_networks_by_alpha_hidden_seed():
    a = sweep("a", 200)
    b = sweep("b", 200, "--seeds", "1,2")
    doc = json.loads(invoke_ok("compare", a, b, "--json").stdout)
    assert [(n["alpha"], n["seed"]) for n in doc["networks"]] == [(0.1, 1), (1.0, 1), (10.0, 1)]
    assert all(n["difference"] == 0.0 for n in doc["networks"])
    assert (doc["only_in_a"], doc["only_in_b"]) == (0, 3)
    assert "Networks 3 only in B." in invoke_ok("compare", a, b).stdout


@pytest.mark.slow
def test_compare_csv():
    a = sweep("a", 200)
    b = sweep("b", 400)
    rows = list(csv.DictReader(io.StringIO(invoke_ok("compare", a, b, "--csv").stdout)))
    doc = json.loads(invoke_ok("compare", a, b, "--json").stdout)
    assert [float(r["difference"]) for r in rows] == [n["difference"] for n in doc["networks"]]


def test_compare_refuses_a_folder_that_is_not_a_run_and_a_bad_tolerance():
    a = sweep("a", 200)
    Path("plain").mkdir()
    result = invoke("compare", a, "plain")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: 'plain' is not a run folder: it has no run.json")
    result = invoke("compare", a, a, "--fail-if-worse", -1)
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: option --fail-if-worse is -1.0; expected a finite number >= 0\n"
    )


# --- sparklines -------------------------------------------------------------------------


def test_sparkline_blocks_on_a_common_scale():
    from toynn_cli.view import report

    assert report.sparkline([0.0, 0.5, 1.0], 0.0, 1.0) == "▁▅█"  # 0.5 * 7 = 3.5 rounds to 4
    assert report.sparkline([1.0] * 32, 0.0, 1.0, width=8) == "█" * 8
    # each block is the mean of its stretch: 32 points in 16 blocks of 2
    values = [0.0, 1.0] * 16
    assert report.sparkline(values, 0.0, 1.0) == "▅" * 16
    assert report.sparkline([0.1, float("nan")], 0.0, 1.0) == "▂×"
    # log scale: 1e-3 .. 1 spread evenly over the blocks
    assert report.sparkline([1.0, 1e-1, 1e-2, 1e-3], -3.0, 0.0, log=True) == "█▆▃▁"


def test_sweep_table_sparkline_column_follows_the_history():
    from rich.console import Console

    from toynn_cli.view import report

    specs = [network.NetworkSpec(a, 4, 1) for a in (0.001, 10.0)]
    results = engine.train(XOR.x, XOR.y, specs, 2000, 500)
    low, high = report.curve_range(results)
    for log in (False, True):
        low, high = report.curve_range(results, log)
        console = Console(width=200, file=io.StringIO(), color_system=None)
        console.print(
            report.sweep_table(results, ["stuck", "converged"], curves="log" if log else "linear")
        )
        lines = [line for line in console.file.getvalue().splitlines() if line.startswith("│")]
        for line, r in zip(lines, results):
            expected = report.sparkline(np.append(r.history_errors, r.final_error), low, high, log)
            assert len(expected) == report.SPARK_WIDTH
            assert f"│ {expected} │" in line
    # alpha 0.001 barely moves: the top block throughout; alpha 10 ends at the bottom
    assert (
        report.sparkline(
            np.append(results[0].history_errors, results[0].final_error),
            *report.curve_range(results),
        )
        == "█" * 16
    )
    assert report.sparkline(
        np.append(results[1].history_errors, results[1].final_error), *report.curve_range(results)
    ).endswith("▁")


@pytest.mark.slow
def test_sweep_and_show_curve_options():
    run_dir = sweep("spark", 400)
    plain = invoke_ok("show", run_dir, "--curves", "none").stdout
    assert "curve" not in plain
    assert "curve (log)" in invoke_ok("show", run_dir, "--curves", "log").stdout
    shown = invoke_ok("show", run_dir).stdout
    assert "│ curve" not in shown and "┃ curve " in shown
    result = invoke("show", run_dir, "--curves", "cubic")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: option --curves is 'cubic'; expected one of: linear, log, none "
        "(see 'toynn show --help')\n"
    )


# --- report.html ------------------------------------------------------------------------


@pytest.mark.slow
def test_report_html_holds_the_tables_with_colour():
    import html
    import re

    run_dir = sweep("page", 400)
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "<title>toynn page</title>" in page
    assert '<meta charset="UTF-8">' in page
    # the tables as HTML tables: the words of report.txt, in order, without its borders
    report = page[page.index('<section class="report">') : page.index("</section>")]
    report = re.sub(r"</(td|th|p|caption)>", " ", report)  # the ends of cells and lines
    words = html.unescape(re.sub(r"<[^>]+>", "", report)).split()
    borders = re.compile(r"[\u2500-\u257f]+")
    assert words == borders.sub(" ", (run_dir / "report.txt").read_text()).split()
    assert page.count('<table class="grid">') == 1
    assert '<span class="c-green">converged</span>' in page  # in green (light or dark)


@pytest.mark.slow
def test_compare_runs_that_differ_in_one_single_valued_axis():
    a = sweep("h4", 300)
    b = sweep("h2", 300, "--hidden", 2)
    doc = json.loads(invoke_ok("compare", a, b, "--json").stdout)
    assert doc["not_matched_on"] == ["hidden"]
    assert "hidden" not in doc["matched_on"] and {"alphas", "seeds"} <= set(doc["matched_on"])
    assert [(n["alpha"], n["hidden"], n["hidden_b"]) for n in doc["networks"]] == [
        (0.1, 4, 2),
        (1.0, 4, 2),
        (10.0, 4, 2),
    ]
    assert {"key": "hidden", "a": 4, "b": 2} in doc["config_differences"]
    text = invoke_ok("compare", a, b).stdout
    assert "│ 4 vs 2 │" in text
    assert (
        "Matched on every other setting; hidden has one different value in each run (shown "
        "as A vs B)." in " ".join(text.split())
    )
    rows = list(csv.DictReader(io.StringIO(invoke_ok("compare", a, b, "--csv").stdout)))
    assert [(r["hidden"], r["hidden_b"]) for r in rows] == [("4", "2")] * 3


# --- --csv wherever --json is -----------------------------------------------------------


def test_sweep_and_train_csv_match_their_json():
    args = ("--alphas", "0.1,1,10", "--seeds", "1,2", "--iterations", 300, "--log-every", 100)
    doc = json.loads(invoke_ok("sweep", *args, "--no-save", "--json").stdout)
    result = invoke_ok("sweep", *args, "--no-save", "--csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == [
        "network", "alpha", "hidden", "seed", "optimizer", "optimizer_params", "bias",
        "activation", "loss", "init", "batch_size", "batch_norm", "dropout", "weight_decay",
        "momentum", "clip_value", "clip_norm", "schedule", "schedule_params", "target_error",
        "final_error", "final_accuracy", "status",
    ]  # fmt: skip
    assert [int(r["network"]) for r in rows] == list(range(6))
    for row, net in zip(rows, doc["networks"]):
        assert (float(row["alpha"]), int(row["hidden"]), int(row["seed"])) == (
            net["alpha"],
            net["hidden"],
            net["seed"],
        )
        assert float(row["final_error"]) == net["final_error"]
        assert row["status"] == net["status"]
    train = invoke_ok("train", "--iterations", 300, "--log-every", 100, "--no-save", "--csv")
    assert train.stdout.splitlines()[1].startswith("0,0.5,4,1,")
    dry = invoke_ok("sweep", "--alphas", "1,2", "--dry-run", "--csv").stdout
    settings = "sgd,,False,sigmoid,squared,uniform,0,False,0.0,0.0,,0.0,0.0,constant,,0.0"
    assert dry == (
        "network,alpha,hidden,seed,optimizer,optimizer_params,bias,activation,loss,init,"
        "batch_size,batch_norm,dropout,weight_decay,momentum,clip_value,clip_norm,schedule,"
        f"schedule_params,target_error\n0,1.0,4,1,{settings}\n1,2.0,4,1,{settings}\n"
    )
    both = invoke("sweep", "--json", "--csv")
    assert both.exit_code == 2
    assert both.stderr == (
        "Error: options --json and --csv cannot be used together; expected one of them\n"
    )


def test_reproduce_csv(tutorial_sweep):
    # trains the tutorial sweep for real (about 4 s): reproduce goes through the
    # executor, so there is no engine call to replay here
    rows = list(csv.DictReader(io.StringIO(invoke_ok("reproduce", "--csv").stdout)))
    assert len(rows) == 42
    assert rows[0] == {
        "alpha": "0.001",
        "iteration": "0",
        "published": "0.496410031903",
        "obtained": repr(float(tutorial_sweep[0].checkpoint_errors[0])),
        "match": "exact",
    }
    assert {r["match"] for r in rows} == {"exact", "close"}


def test_runs_and_show_open_a_large_sweep_s_summary(monkeypatch):
    """Above results.FULL_RECORDS_LIMIT networks, results.json keeps the best ones:
    `runs` lists the folder and `show` reads every network from the chunk files."""
    from toynn_cli.store import results

    monkeypatch.setattr(results, "FULL_RECORDS_LIMIT", 5)
    run_dir = sweep("large", 200, "--seeds", "1..4")  # 12 networks
    doc = json.loads((run_dir / "results.json").read_text())
    assert doc["networks"] is None and doc["networks_total"] == 12 and len(doc["best"]) == 10
    listed = json.loads(invoke_ok("runs", "--json").stdout)
    (row,) = [r for r in listed if r["run"] == run_dir.name]
    assert row["networks"] == 12
    assert row["best_final_error"] == doc["best"][0]["final_error"]
    shown = invoke_ok("show", run_dir, "--no-group")
    assert shown.stderr == ""
    assert "12 networks:" in shown.stdout
    rows = list(csv.DictReader(io.StringIO(invoke_ok("show", run_dir, "--csv").stdout)))
    assert [int(r["network"]) for r in rows] == list(range(12))


@pytest.mark.slow
def test_a_large_sweep_keeps_in_memory_only_its_rows_and_best_yet_reports_the_same(
    monkeypatch,
):
    """A sweep over FULL_RECORDS_LIMIT networks slims each chunk as it arrives (keeping
    the table's rows and the best networks in full): its summary, metrics.csv and table
    are those of the same sweep kept in full, however it is chunked."""
    from toynn_cli.store import results

    args = ("--seeds", "1..7", "--no-group", "--rows", "4", "--show-weights", "--alphas",
            "0.1,1,10,1000")  # fmt: skip  # 28 networks, one diverged per seed
    full = sweep("full", 200, *args)
    added: list[results.LargeSweep] = []
    original = results.LargeSweep.add

    def spy(self, result):
        added.append(self)
        original(self, result)
        assert result.batch.weights == [] and result.batch.outputs.size == 0

    monkeypatch.setattr(results.LargeSweep, "add", spy)
    monkeypatch.setattr(results, "FULL_RECORDS_LIMIT", 5)
    large = sweep("large", 200, *args, "--chunk-size", 3)
    assert len(added) == 10  # chunks of 3
    kept = added[0].records
    doc = json.loads((large / "results.json").read_text())
    # the table's first and last two rows, and the best
    assert sorted(kept) == sorted({0, 1, 26, 27} | {r["network"] for r in doc["best"]})

    networks = json.loads((full / "results.json").read_text())["networks"]
    ranked = sorted(range(28), key=lambda i: (networks[i]["final_error"], i))[:10]
    assert [r["network"] for r in doc["best"]] == ranked
    for record in doc["best"]:
        assert {k: v for k, v in record.items() if k != "network"} == networks[record["network"]]
    assert (large / "metrics.csv").read_bytes() == (full / "metrics.csv").read_bytes()
    table = (full / "report.txt").read_text().replace("full", "large", 1)
    assert (large / "report.txt").read_text() == table
