"""``record_every`` / ``--record-every K``: the error history every K iterations.

The history is what sparklines and ``toynn plot`` draw, and what the status rule reads;
its spacing must change neither a network's numbers nor its status."""

from __future__ import annotations

import json

import numpy as np
import pytest
from clitools import invoke, invoke_ok

from toynn_cli import config
from toynn_cli.analysis import status
from toynn_cli.config import grid
from toynn_cli.core import engine, network, reference
from toynn_cli.core.datasets import BUILTIN
from toynn_cli.run import executor

pytestmark = pytest.mark.usefixtures("cli_env")

XOR = BUILTIN["xor"]
# the tutorial's seven alphas, 3000 iterations: learning, converged, stuck and diverged
SPECS = grid.expand([4], [0.001, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0], [1])


def test_the_schedule_is_every_k_from_zero_plus_the_start_of_the_last_tenth():
    assert network.history_schedule(100, 30).tolist() == [0, 30, 60, 90]  # 90: tail start
    assert network.history_schedule(100, 7).tolist() == sorted([*range(0, 100, 7), 90])
    assert network.history_schedule(10, 1).tolist() == list(range(10))
    assert network.history_schedule(10, 1000).tolist() == [0, 9]
    assert network.history_schedule(1, 5).tolist() == [0]
    # the default: about HISTORY_POINTS points
    assert network.history_schedule(60000).tolist() == list(range(0, 60000, 300))
    assert network.tail_start(60000) == 54000 and network.tail_start(1) == 0


@pytest.mark.slow
@pytest.mark.parametrize("every", [1, 7, 250])
def test_the_history_is_the_error_at_every_kth_iteration_and_nothing_else_changes(every):
    fine = engine.train_batch(XOR.x, XOR.y, SPECS, 3000, 1000, record_every=every)
    auto = engine.train_batch(XOR.x, XOR.y, SPECS, 3000, 1000)
    assert fine.history_iterations.tolist() == sorted({*range(0, 3000, every), 2700})
    assert fine.history_errors.shape == (len(SPECS), len(fine.history_iterations))
    # where both record, the same bits; everything else identical
    common, in_fine, in_auto = np.intersect1d(
        fine.history_iterations, auto.history_iterations, return_indices=True
    )
    assert len(common) >= 2
    assert fine.history_errors[:, in_fine].tobytes() == auto.history_errors[:, in_auto].tobytes()
    for name in ("checkpoint_errors", "final_error", "outputs"):
        assert getattr(fine, name).tobytes() == getattr(auto, name).tobytes(), name
    for a, b in zip(fine.weights, auto.weights, strict=True):
        assert a.tobytes() == b.tobytes()
    assert status.classify_batch(fine).tolist() == status.classify_batch(auto).tolist()


def test_every_recorded_error_is_the_per_network_loops_error_at_that_iteration():
    batch = engine.train_batch(XOR.x, XOR.y, SPECS[2:4], 500, 100, record_every=3)
    for b, spec in enumerate(SPECS[2:4]):
        one = reference.train_one(XOR.x, XOR.y, spec, 500, 100, record_every=3)
        assert one.history_iterations.tolist() == batch.history_iterations.tolist()
        np.testing.assert_allclose(batch.history_errors[b], one.history_errors, rtol=1e-9)


@pytest.mark.slow
def test_the_status_does_not_depend_on_the_spacing():
    """The rule reads the error at tail_start, which every spacing records."""
    labels = {
        every: status.classify_batch(
            engine.train_batch(XOR.x, XOR.y, SPECS, 3000, 1000, record_every=every)
        ).tolist()
        for every in (0, 1, 13, 299, 5000)
    }
    assert labels[0] == [
        "stuck", "learning", "learning", "converged", "converged", "stuck", "diverged",
    ]  # fmt: skip
    assert all(v == labels[0] for v in labels.values()), labels


def test_workers_and_chunks_do_not_change_a_fine_history(monkeypatch):
    monkeypatch.setattr(executor, "PARALLEL_MIN_WORK", 0)
    specs = grid.expand([2, 3], [0.5, 5.0], range(6))

    def histories(size, workers):
        chunks = executor.plan(specs, size)
        done = {
            r.chunk.index: r
            for r in executor.LocalExecutor(workers).run(
                executor.Job(XOR.x, XOR.y, specs, 300, 100, record_every=2), chunks
            )
        }
        return b"".join(done[c.index].batch.history_errors.tobytes() for c in chunks)

    assert histories(len(specs), 1) == histories(5, 2)


def test_a_finer_record_costs_memory_in_the_estimate():
    per = [executor.bytes_per_network([2, 4, 1], 4, 60000, 10000, every) for every in (0, 1)]
    assert per[1] - per[0] == 2 * 8 * (60000 - 200)  # the result and its serialised copy


# --- config and command line -------------------------------------------------------------


def test_config_key_round_trips_and_auto_is_the_default(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("dataset: xor\nrecord_every: 50\n")
    experiment = config.resolve(path, {}, config.TUTORIAL)
    assert experiment.record_every == 50
    again = tmp_path / "again.yaml"
    again.write_text(config.dump(experiment))
    assert config.resolve(again, {}, config.TUTORIAL) == experiment
    assert config.resolve(None, {}, config.TUTORIAL).record_every == 0
    assert config.resolve(None, {"record_every": "auto"}, config.TUTORIAL).record_every == 0
    assert "record_every" not in config.as_dict(config.resolve(None, {}, config.TUTORIAL))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", "a whole number from 1 to 1000000000000, or auto"),
        ("-3", "a whole number from 1 to 1000000000000, or auto"),
        ("often", "a whole number > 0, or auto"),
        ("2.5", "a whole number > 0, or auto"),
    ],
)
def test_bad_values_get_one_line(value, expected):
    result = invoke("train", "--iterations", "10", "--record-every", value, "--no-save")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == f"Error: option --record-every is '{value}'; expected {expected}\n"


def test_a_record_too_large_to_keep_is_refused_with_the_least_k(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("alphas: 1\nseeds: 0..999\niterations: 60000\nrecord_every: 1\n")
    result = invoke("sweep", "--config", path, "--out", tmp_path / "runs")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == (
        f"Error: {path}: key 'record_every' is 1; expected at least 7, or auto (1000 networks "
        "x 60000 history points is more than 10000000 recorded errors)\n"
    )
    assert not (tmp_path / "runs").exists()
    # the least K it names is accepted; and the default spacing always is
    path.write_text("alphas: 1\nseeds: 0..999\niterations: 60000\nrecord_every: 7\n")
    assert config.resolve(path, {}, config.TUTORIAL).record_every == 7
    path.write_text("alphas: 1\nseeds: 0..99999\niterations: 60000\nrecord_every: 300\n")
    assert config.resolve(path, {}, config.TUTORIAL).record_every == 300


@pytest.mark.slow
def test_train_json_and_the_run_folder_carry_the_fine_history(tmp_path):
    args = ("--alphas", "10", "--iterations", "1000", "--log-every", "500")
    result = invoke_ok("train", *args, "--record-every", "10", "--json")
    doc = json.loads(result.stdout)
    [net] = doc["networks"]
    assert net["history"]["iterations"] == list(range(0, 1000, 10))
    assert len(net["history"]["errors"]) == 100
    run_dir = tmp_path / doc["run_dir"] if not doc["run_dir"].startswith("/") else doc["run_dir"]
    saved = json.loads((tmp_path / run_dir / "results.json").read_text())
    assert saved["networks"][0]["history"] == net["history"]
    assert "record_every: 10" in (tmp_path / run_dir / "config.yaml").read_text()
    # the same network with the default spacing: same final error and status
    plain = json.loads(invoke_ok("train", *args, "--json", "--no-save").stdout)["networks"][0]
    assert plain["final_error"] == net["final_error"] and plain["status"] == net["status"]
    assert plain["history"]["iterations"] == list(range(0, 1000, 5))


def test_dry_run_counts_the_history_in_its_memory_estimate():
    def memory(*extra: str) -> int:
        out = invoke_ok("sweep", "--seeds", "0..99", "--dry-run", "--json", *extra).stdout
        return json.loads(out)["estimated_memory_bytes"]

    assert memory("--record-every", "10") > memory()


def test_history_length_is_the_schedule_s_length_without_making_it():
    for iterations in (1, 2, 9, 10, 100, 199, 200, 201, 12345, 60000):
        for every in (0, 1, 3, 7, 30, 250, 5000, 10**6):
            want = len(network.history_schedule(iterations, every))
            assert network.history_length(iterations, every) == want, (iterations, every)
    assert network.history_length(10**12, 1) == 10**12


def test_a_huge_record_is_refused_before_anything_is_allocated():
    result = invoke("train", "--iterations", 10**12, "--log-every", 10**9, "--record-every", 1,
                    "--no-save")  # fmt: skip
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == (
        "Error: option --record-every is '1'; expected at least 100001, or auto (1 networks "
        "x 1000000000000 history points is more than 10000000 recorded errors)\n"
    )
