"""Nothing lost, nothing overwritten: write failures, memory limits, concurrent runs and
numerical extremes."""

from __future__ import annotations

import errno
import json
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
import yaml
from clitools import invoke

from toynn_cli.run import executor, interrupts
from toynn_cli.store import runs

pytestmark = pytest.mark.usefixtures("cli_env")

TOYNN = Path(sys.executable).parent / "toynn"
GRID = ["--alphas", "0.5,2", "--hidden", "2,3", "--iterations", 300, "--log-every", 100]


def strict_json(text: str):
    """json.loads that refuses NaN and Infinity (which are not JSON)."""

    def refuse(name: str):
        raise ValueError(f"bare {name} in JSON")

    return json.loads(text, parse_constant=refuse)


def no_space_when(predicate):
    real = runs.atomic_write

    def atomic_write(path, data):
        if predicate(Path(path)):
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, data)

    return atomic_write


def test_disk_full_while_saving_a_chunk(tmp_path, monkeypatch):
    monkeypatch.setattr(runs, "atomic_write", no_space_when(lambda p: p.name == "00001.npz"))
    result = invoke("sweep", *GRID)
    (run_dir,) = (tmp_path / "runs").iterdir()
    shown = Path("runs") / run_dir.name
    assert result.exit_code == 2
    assert result.stderr == f"Error: cannot write to '{shown}': No space left on device\n"
    assert result.stdout == ""
    info = json.loads((run_dir / "run.json").read_text())
    assert (info["status"], info["networks_done"]) == ("interrupted", 2)
    assert info["error"] == f"cannot write to '{shown}': No space left on device"
    assert [p.name for p in (run_dir / "chunks").iterdir()] == ["00000.npz"]
    assert not [p for p in run_dir.rglob("*") if p.name.startswith(".")]  # no temporary files

    monkeypatch.undo()
    monkeypatch.chdir(tmp_path)
    resumed = invoke("sweep", "--resume", run_dir, "--json")
    assert resumed.exit_code == 0
    assert len(strict_json(resumed.stdout)["networks"]) == 4


@pytest.mark.parametrize("first", ["config.yaml", "run.json"])
def test_disk_full_at_the_start_leaves_no_stray_folder(tmp_path, monkeypatch, first):
    monkeypatch.setattr(runs, "atomic_write", no_space_when(lambda p: p.name == first))
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "keep.txt").write_text("mine\n")
    result = invoke("sweep", *GRID)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "No space left on device" in result.stderr
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["keep.txt"]


@pytest.mark.slow
def test_disk_full_while_writing_the_results(tmp_path, monkeypatch):
    monkeypatch.setattr(runs, "atomic_write", no_space_when(lambda p: p.name == "metrics.csv"))
    result = invoke("sweep", *GRID)
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "No space left on device" in result.stderr
    info = json.loads((run_dir / "run.json").read_text())
    assert (info["status"], info["networks_done"]) == ("interrupted", 4)
    assert not (run_dir / "metrics.csv").exists()  # never half-written under its name
    assert not [p for p in run_dir.rglob("*") if p.name.startswith(".")]


def test_permission_error_on_the_run_folder(tmp_path, monkeypatch):
    def denied(path, data):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(runs, "atomic_write", denied)
    result = invoke("sweep", *GRID)
    assert result.exit_code == 2
    assert result.stderr == "Error: cannot write to 'runs': Permission denied\n"


def test_a_grid_too_big_for_the_machine_is_refused_with_the_estimate(tmp_path, monkeypatch):
    monkeypatch.setattr(executor, "physical_memory", lambda: 4 * 2**20)
    result = invoke("sweep", "--seeds", "1..2000", "--iterations", 100)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: 14000 networks need about ")
    assert result.stderr.endswith(
        " of memory, more than 80% of this machine's 4.0 MB; expected a smaller grid "
        "(fewer networks or checkpoints), or split it into several sweeps\n"
    )
    assert not (tmp_path / "runs").exists()


@pytest.mark.slow
@pytest.mark.skipif(not TOYNN.exists(), reason=f"no console script at {TOYNN}")
def test_eight_concurrent_sweeps_into_one_folder(tmp_path):
    """Started in the same second with the same name: eight folders, eight complete runs."""
    args = [str(TOYNN), "sweep", *map(str, GRID), "--out", "shared", "--json", "-q"]
    procs = [
        subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(8)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, [err for _, err in outputs]
    run_dirs = {strict_json(out)["run_dir"] for out, _ in outputs}
    assert len(run_dirs) == 8
    folders = sorted((tmp_path / "shared").iterdir())
    assert len(folders) == 8
    first = None
    for folder in folders:
        assert json.loads((folder / "run.json").read_text())["status"] == "complete"
        networks = strict_json((folder / "results.json").read_text())["networks"]
        first = first or networks
        assert networks == first  # same experiment, same numbers
        assert not [p for p in folder.rglob("*") if p.name.startswith(".")]


def extreme(name: str, inputs, targets, alphas: str = "0.5,1e300") -> dict:
    Path(f"{name}.yaml").write_text(
        yaml.safe_dump(
            {
                "name": name,
                "dataset": {"name": name, "inputs": inputs, "targets": targets},
                "alphas": alphas,
                "hidden": "0,3",
                "iterations": 500,
                "log_every": 100,
            }
        )
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = invoke("sweep", "--config", f"{name}.yaml", "--json")
    assert result.exit_code == 0
    assert result.stderr.startswith("Saved ")  # and no warning text
    assert "Warning" not in result.stderr
    doc = strict_json(result.stdout)
    (run_dir,) = Path("runs").glob(f"*-{name}")
    assert strict_json((run_dir / "results.json").read_text()) == doc
    return doc


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "inputs", "targets"),
    [
        ("huge-inputs", [[1e300, 1], [-1e300, 1], [1e300, -1e300]], [1, 0, 1]),
        ("denormal-inputs", [[5e-324, 1], [-5e-324, 0], [1e-310, 1]], [0, 1, 1]),
        ("zero-variance", [[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]], [0, 1, 0]),
        ("all-equal-targets", [[0, 1], [1, 0], [1, 1]], [1, 1, 1]),
    ],
)
def test_numerical_extremes_complete_silently_with_valid_json(name, inputs, targets):
    doc = extreme(name, inputs, targets)
    statuses = {(n["alpha"], n["hidden"]): n["status"] for n in doc["networks"]}
    assert set(statuses.values()) <= {"converged", "learning", "stuck", "diverged"}
    for network in doc["networks"]:
        error = network["final_error"]
        assert isinstance(error, float) or error in ("NaN", "Infinity", "-Infinity")
        if not isinstance(error, float) or any(
            isinstance(v, str) for m in network["weights"] for row in m for v in row
        ):
            assert network["status"] == "diverged"  # non-finite numbers are labelled


@pytest.mark.slow
def test_inputs_saturated_from_the_start_are_stuck_not_crashed():
    """Inputs of 1e300 pin every sigmoid at once: the gradient is exactly 0 and the
    network never moves; a hidden layer can still fix it with a huge step."""
    doc = extreme("saturated", [[1e300, -1e300], [-1e300, 1e300]], [1, 0], alphas="1e300")
    (flat, hidden) = doc["networks"]
    assert (flat["final_error"], flat["status"]) == (1.0, "stuck")
    assert flat["weights"] == flat["weights_initial"]
    assert hidden["status"] == "converged"


def test_all_equal_targets_are_learned():
    doc = extreme("constant", [[0, 1], [1, 0], [1, 1]], [1, 1, 1], alphas="1")
    assert [n["status"] for n in doc["networks"]] == ["converged", "converged"]


@pytest.mark.slow
def test_interrupt_exits_within_a_second_even_in_a_long_chunk(tmp_path):
    """A single huge chunk in this process: Ctrl-C still stops it at once."""
    if not TOYNN.exists():
        pytest.skip("no console script")
    proc = subprocess.Popen(
        [
            str(TOYNN),
            "sweep",
            "--seeds",
            "1..300",
            "--iterations",
            "100000000",
            "--workers",
            "1",
            "--log-every",
            "100000000",
            "--engine",  # the NumPy engine's loop (numba's checks between segments)
            "numpy",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while not list(tmp_path.glob("runs/*/run.json")) and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.5)
    sent = time.monotonic()
    proc.send_signal(2)
    proc.communicate(timeout=10)
    assert time.monotonic() - sent < 1.0
    assert proc.returncode == 130


def test_a_large_dataset_is_named_on_stderr(tmp_path, monkeypatch):
    from toynn_cli.cli import session

    monkeypatch.setattr(session, "LARGE_DATASET_SAMPLES", 100)
    monkeypatch.setattr(session, "LARGE_DATASET_WORK", 10**4)
    result = invoke("train", "--dataset", "moons", "--iterations", "100", "--no-save", "-q")
    assert result.exit_code == 0
    assert result.stderr == (
        "dataset moons has 100 samples: every iteration of every network uses all of them "
        "(1e+04 sample-iterations), so this run may take minutes (--dry-run shows the plan)\n"
    )
    quick = invoke("train", "--dataset", "moons", "--iterations", "99", "--no-save", "-q")
    assert quick.stderr == ""


# --- chunks saved on a thread of their own while the next one trains -------------------


def _chunk(index: int) -> executor.ChunkResult:
    return executor.ChunkResult(executor.Chunk(index, 10 * index, 10 * index + 10), None, None)  # type: ignore[arg-type]


def test_chunks_are_saved_in_order_one_at_a_time_while_the_next_trains():
    from toynn_cli.cli.session import _saved_behind

    log: list[str] = []
    done: dict[int, executor.ChunkResult] = {}

    def save(result: executor.ChunkResult) -> None:
        log.append(f"start {result.chunk.index}")
        time.sleep(0.05)
        log.append(f"end {result.chunk.index}")

    with _saved_behind(save, done) as deliver:
        for k in range(3):
            log.append(f"trained {k}")
            deliver(_chunk(k))
    assert sorted(done) == [0, 1, 2]
    # chunk 1 trains while chunk 0 saves; a save starts only once the previous one ended
    assert log.index("trained 1") < log.index("end 0") < log.index("start 1")
    assert log.index("end 1") < log.index("start 2")


def test_a_failed_save_is_raised_where_the_next_chunk_is_delivered():
    from toynn_cli.cli.session import _saved_behind

    done: dict[int, executor.ChunkResult] = {}

    def save(result: executor.ChunkResult) -> None:
        raise runs.RunDirError(f"cannot write chunk {result.chunk.index}")

    failed = pytest.raises(runs.RunDirError, match="cannot write chunk 0")
    with failed, _saved_behind(save, done) as deliver:
        deliver(_chunk(0))
        deliver(_chunk(1))  # raises chunk 0's error; chunk 1 is never saved
    assert done == {}


def test_an_interrupt_while_a_chunk_is_saved_waits_for_it():
    """SIGALRM stands in for Ctrl-C: raised in this thread while it waits for chunk 0's
    save, it leaves the save running; the block's end waits for it, so chunk 0 is
    saved (and in ``done``) and chunk 1, trained but not handed over, is not."""
    import signal

    from toynn_cli.cli.session import _saved_behind
    from toynn_cli.run.interrupts import Interrupted

    done: dict[int, executor.ChunkResult] = {}

    def save(result: executor.ChunkResult) -> None:
        time.sleep(0.4)

    def interrupt(signum, frame):
        raise Interrupted(130)

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        with pytest.raises(Interrupted), _saved_behind(save, done) as deliver:
            deliver(_chunk(0))
            signal.setitimer(signal.ITIMER_REAL, 0.1)
            deliver(_chunk(1))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert sorted(done) == [0]


class _SignalAsLiveBegins(interrupts.SignalGuard):
    """A guard whose signal arrives at the worst moment: as live() is about to mark
    training live (the handler runs between two bytecodes, wherever they are)."""

    def __setattr__(self, name: str, value: object) -> None:
        if name == "_live" and value and self.code is None:
            self._handle(signal.SIGTERM, None)
        super().__setattr__(name, value)


def test_a_signal_as_training_begins_interrupts_it():
    """Held a moment before training goes live, the signal still stops it at its start
    (checked once training is live, not before: else a run of 10^9 iterations trains on)."""
    guard = _SignalAsLiveBegins()
    trained = []
    with pytest.raises(interrupts.Interrupted) as raised, guard.live():
        trained.append(True)
    assert raised.value.exit_code == 143 and not trained and not guard._live
