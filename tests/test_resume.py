"""Interrupt and resume: finished chunks stay on disk, --resume trains only what is
missing, and the result equals an uninterrupted run bit for bit."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from clitools import as_older_chunk, chunk_arrays, invoke

from toynn_cli.run import executor
from toynn_cli.store import chunks, results, runs

pytestmark = pytest.mark.usefixtures("cli_env")

TOYNN = Path(sys.executable).parent / "toynn"
# 280 networks in 4 chunks of 70
GRID = [
    "--alphas",
    "0.01..1000:7",
    "--seeds",
    "1..40",
    "--hidden",
    "3",
    "--log-every",
    "1000",
    "--chunk-size",
    "70",
]


def network_records(run_dir: Path) -> list[dict]:
    return json.loads((run_dir / "results.json").read_text())["networks"]


def interrupt_after(n_chunks: int, how: str):
    real = executor.LocalExecutor.run

    def run(*args, **kwargs):
        stream = real(*args, **kwargs)
        for _ in range(n_chunks):
            yield next(stream)
        if how == "KeyboardInterrupt":
            raise KeyboardInterrupt
        os.kill(os.getpid(), getattr(signal, how))
        time.sleep(5)
        raise AssertionError("not interrupted")

    return run


@pytest.mark.slow
@pytest.mark.parametrize(("how", "code"), [("KeyboardInterrupt", 130), ("SIGTERM", 143)])
def test_resume_finishes_an_interrupted_sweep_identically(tmp_path, monkeypatch, how, code):
    common = [*GRID, "--iterations", 1500, "--workers", 1, "--json"]
    assert invoke("sweep", *common, "--out", "straight").exit_code == 0
    (straight,) = (tmp_path / "straight").iterdir()

    with monkeypatch.context() as patch:
        patch.setattr(executor.LocalExecutor, "run", interrupt_after(2, how))
        stopped = invoke("sweep", *common, "--out", "resumed")
    assert stopped.exit_code == code
    (run_dir,) = (tmp_path / "resumed").iterdir()
    info = json.loads((run_dir / "run.json").read_text())
    assert (info["status"], info["networks_done"], info["chunks"]) == ("interrupted", 140, 4)
    assert sorted(p.name for p in (run_dir / "chunks").iterdir()) == ["00000.npz", "00001.npz"]
    before = chunk_arrays(run_dir)

    trained = []
    real_run = executor.LocalExecutor.run

    def spy(self, job, chunks, *args, **kwargs):
        trained.extend(c.index for c in chunks)
        return real_run(self, job, chunks, *args, **kwargs)

    monkeypatch.setattr(executor.LocalExecutor, "run", spy)
    resumed = invoke("sweep", "--resume", run_dir, "--json")
    assert resumed.exit_code == 0, resumed.stderr
    assert trained == [2, 3]  # only the missing chunks
    doc = json.loads(resumed.stdout)
    assert doc["complete"] is True and doc["run_dir"] == str(run_dir)
    info = json.loads((run_dir / "run.json").read_text())
    assert (info["status"], info["networks_done"], info["resumed"]) == ("complete", 280, 1)
    assert {k: v for k, v in chunk_arrays(run_dir).items() if k in before} == before
    assert chunk_arrays(run_dir) == chunk_arrays(straight)
    assert network_records(run_dir) == network_records(straight)
    assert (run_dir / "metrics.csv").read_bytes() == (straight / "metrics.csv").read_bytes()
    assert (run_dir / "config.yaml").read_bytes() == (straight / "config.yaml").read_bytes()
    assert not (run_dir / runs.LOCK_FILE).exists()


def make_interrupted(tmp_path: Path, monkeypatch) -> Path:
    with monkeypatch.context() as patch:
        patch.setattr(executor.LocalExecutor, "run", interrupt_after(1, "KeyboardInterrupt"))
        result = invoke("sweep", *GRID, "--iterations", 300, "--workers", 1, "--out", "o")
    assert result.exit_code == 130
    (run_dir,) = (tmp_path / "o").iterdir()
    return run_dir


@pytest.mark.slow
def test_resume_refuses_a_complete_run(tmp_path):
    assert invoke("sweep", *GRID, "--iterations", 50, "--out", "o").exit_code == 0
    (run_dir,) = (tmp_path / "o").iterdir()
    result = invoke("sweep", "--resume", run_dir)
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: option --resume: {run_dir} is complete; there is nothing to resume\n"
    )


def test_resume_refuses_a_folder_that_is_not_a_run(tmp_path):
    (tmp_path / "plain").mkdir()
    result = invoke("sweep", "--resume", "plain")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: option --resume: plain: not a toynn run folder (it has no run.json)\n"
    )
    result = invoke("sweep", "--resume", "missing")
    assert result.exit_code == 2
    assert result.stderr == "Error: option --resume: missing: no such run folder\n"


def test_resume_cannot_change_the_experiment(tmp_path, monkeypatch):
    run_dir = make_interrupted(tmp_path, monkeypatch)
    result = invoke("sweep", "--resume", run_dir, "--alphas", "1")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: option --resume cannot be combined with --alphas; "
        "the run folder's config.yaml decides the experiment\n"
    )
    result = invoke("sweep", "--resume", run_dir, "--config", "x.yaml")
    assert result.stderr.startswith("Error: option --resume cannot be combined with --config;")


#: A process holding a run folder's lock as toynn does (flock, its PID in the file).
HOLD_LOCK = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_CREAT | os.O_RDWR)
fcntl.flock(fd, fcntl.LOCK_EX)
os.write(fd, f"{os.getpid()}\\n".encode())
print("locked", flush=True)
time.sleep(60)
"""


@pytest.mark.slow
def test_resume_refuses_a_run_another_process_is_training(tmp_path, monkeypatch):
    run_dir = make_interrupted(tmp_path, monkeypatch)
    sleeper = subprocess.Popen(["sleep", "30"])
    holder = sleeper
    try:
        info = json.loads((run_dir / "run.json").read_text())
        info = {k: v for k, v in info.items() if k not in ("status", "updated")}
        runs.write_status(run_dir, "running", **{**info, "pid": sleeper.pid})
        result = invoke("sweep", "--resume", run_dir)
        assert result.exit_code == 2
        assert result.stderr == (
            f"Error: option --resume: {run_dir} is still running (process {sleeper.pid})\n"
        )
        # A lock held by a live process refuses too (two --resume at once).
        runs.write_status(run_dir, "interrupted", **info)
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD_LOCK, str(run_dir / runs.LOCK_FILE)],
            stdout=subprocess.PIPE,
        )
        assert holder.stdout is not None and holder.stdout.readline() == b"locked\n"
        result = invoke("sweep", "--resume", run_dir)
        assert result.exit_code == 2
        assert result.stderr == (
            f"Error: option --resume: {run_dir}: in use by process {holder.pid}\n"
        )
    finally:
        sleeper.kill()
        sleeper.wait()
        holder.kill()
        holder.communicate()  # closes the pipe to its stdout (sleeper has none)
    # Its process gone, the stale lock is taken over.
    assert invoke("sweep", "--resume", run_dir, "-q").exit_code == 0


def test_resume_refuses_a_chunk_from_another_experiment(tmp_path, monkeypatch):
    run_dir = make_interrupted(tmp_path, monkeypatch)
    chunk = chunks.load_chunk(run_dir / "chunks" / "00000.npz")
    chunk.batch.specs[0] = chunk.batch.specs[1]
    (run_dir / "chunks" / "00000.npz").write_bytes(chunks.chunk_npz(chunk))
    result = invoke("sweep", "--resume", run_dir)
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: option --resume: {run_dir / 'chunks' / '00000.npz'} does not belong "
        "to this run's config.yaml\n"
    )


# --- real processes ----------------------------------------------------------------------


def start(tmp_path: Path, *args: object) -> subprocess.Popen:
    return subprocess.Popen(
        [str(TOYNN), *map(str, args)],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def wait_for_chunks(run_parent: Path, n: int, proc: subprocess.Popen) -> Path:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = list(run_parent.glob("*/chunks/*.npz"))
        if len(found) >= n:
            return found[0].parent.parent
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    raise AssertionError("no chunk appeared")


REAL_ARGS = [*GRID, "--iterations", 8000, "--json", "-q"]


@pytest.fixture(scope="module")
def straight_run(tmp_path_factory) -> Path:
    """The same sweep, uninterrupted, on two workers."""
    cwd = tmp_path_factory.mktemp("straight")
    done = subprocess.run(
        [str(TOYNN), "sweep", *map(str, REAL_ARGS), "--workers", "2", "--out", "straight"],
        cwd=cwd,
        capture_output=True,
        check=True,
    )
    return cwd / json.loads(done.stdout)["run_dir"]


@pytest.mark.slow
@pytest.mark.skipif(not TOYNN.exists(), reason=f"no console script at {TOYNN}")
@pytest.mark.parametrize(
    ("signum", "code"),
    [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGKILL, -9)],
    ids=["SIGINT", "SIGTERM", "SIGKILL"],
)
def test_a_real_process_interrupted_then_resumed(tmp_path, straight_run, signum, code):
    proc = start(tmp_path, "sweep", *REAL_ARGS, "--workers", 1, "--out", "stopped")
    try:
        run_dir = wait_for_chunks(tmp_path / "stopped", 1, proc)
        sent = time.monotonic()
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=10)
        assert time.monotonic() - sent < 5  # promptness itself: test_robustness
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()  # and its pipes closed
    assert proc.returncode == code
    info = json.loads((run_dir / "run.json").read_text())
    if signum == signal.SIGKILL:
        assert info["status"] == "running" and not runs.pid_alive(info["pid"])
    else:
        assert info["status"] == "interrupted"
        assert err.decode().startswith("Interrupted after ")
    assert 1 <= len(list((run_dir / "chunks").glob("*.npz"))) < 4
    if signum != signal.SIGKILL:  # a killed process may leave a temporary file behind
        assert not list(run_dir.rglob("*.tmp"))

    resumed = subprocess.run(
        [str(TOYNN), "sweep", "--resume", str(run_dir), "--json", "-q"],
        cwd=tmp_path,
        capture_output=True,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["networks"] == network_records(straight_run)
    assert chunk_arrays(run_dir) == chunk_arrays(straight_run)
    assert json.loads((run_dir / "run.json").read_text())["status"] == "complete"
    assert not list(run_dir.rglob("*.tmp"))  # --resume clears what a killed process left


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
@pytest.mark.skipif(not TOYNN.exists(), reason=f"no console script at {TOYNN}")
def test_a_killed_sweep_leaves_no_worker_behind(tmp_path):
    """SIGKILL cannot be caught, so the parent cannot stop its pool: the workers must
    die with it (not linger as orphans holding the terminal's pipes)."""
    proc = start(
        tmp_path,
        "sweep",
        *REAL_ARGS,
        "--iterations",
        10**7,
        "--workers",
        2,
        "--engine",
        "numpy",
        "--out",
        "k",
    )  # fmt: skip  (the NumPy engine: worker processes; numba trains on threads)
    try:
        deadline = time.monotonic() + 30
        while len(_children(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = _children(proc.pid)
        assert len(workers) == 2
        proc.kill()
        proc.wait(timeout=10)
        deadline = time.monotonic() + 5
        while any(Path(f"/proc/{w}").exists() for w in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        alive = [w for w in workers if Path(f"/proc/{w}").exists()]
        assert alive == []
    finally:
        for w in _children(proc.pid):
            os.kill(w, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)  # its pipes closed (the workers that held them: killed)


def test_a_large_sweep_resumed_equals_one_run_straight(tmp_path, monkeypatch):
    """Above FULL_RECORDS_LIMIT a sweep slims the chunks it keeps (results.LargeSweep); the
    chunks a resumed run loads from disk go through it too, so the summary, the best
    networks, metrics.csv and the report equal an uninterrupted run's."""

    monkeypatch.setattr(results, "FULL_RECORDS_LIMIT", 50)
    common = [*GRID, "--iterations", 300, "--workers", 1, "--json", "--no-group", "--rows", 3]
    assert invoke("sweep", *common, "--out", "straight").exit_code == 0
    (straight,) = (tmp_path / "straight").iterdir()
    with monkeypatch.context() as patch:
        patch.setattr(executor.LocalExecutor, "run", interrupt_after(2, "KeyboardInterrupt"))
        assert invoke("sweep", *common, "--out", "resumed").exit_code == 130
    (run_dir,) = (tmp_path / "resumed").iterdir()
    resumed = invoke("sweep", "--resume", run_dir, "--json", "--no-group", "--rows", 3)
    assert resumed.exit_code == 0, resumed.stderr
    doc, want = json.loads(resumed.stdout), json.loads((straight / "results.json").read_text())
    assert doc["networks"] is None and len(doc["best"]) == 10
    assert {k: v for k, v in doc.items() if k != "run_dir"} == {
        k: v for k, v in want.items() if k != "run_dir"
    }
    assert (run_dir / "metrics.csv").read_bytes() == (straight / "metrics.csv").read_bytes()
    assert (run_dir / "report.txt").read_text().splitlines()[1:] == (
        (straight / "report.txt").read_text().splitlines()[1:]
    )


@pytest.mark.slow
def test_resume_clears_the_temporary_files_a_killed_process_left(tmp_path, monkeypatch):
    run_dir = make_interrupted(tmp_path, monkeypatch)
    left = [
        run_dir / ".run.json.603bd610d233.tmp",
        run_dir / "chunks" / ".00001.npz.0a1b2c3d4e5f.tmp",
    ]
    for path in left:
        path.write_bytes(b"half")
    mine = run_dir / "notes.tmp"
    mine.write_text("a user's file")
    resumed = invoke("sweep", "--resume", run_dir, "--json")
    assert resumed.exit_code == 0, resumed.stderr
    assert not any(p.exists() for p in left)
    assert mine.read_text() == "a user's file"
    assert json.loads((run_dir / "run.json").read_text())["status"] == "complete"


@pytest.mark.slow
def test_several_resumes_of_a_stale_locked_folder_train_it_once(tmp_path, monkeypatch):
    """Four --resume started together on a folder whose lock a killed process left:
    exactly one takes the lock and trains; the others are refused with one line."""
    toynn = Path(sys.executable).parent / "toynn"
    if not toynn.exists():
        pytest.skip("no console script")
    run_dir = make_interrupted(tmp_path, monkeypatch)
    dead = subprocess.Popen(["true"])
    dead.wait()
    (run_dir / runs.LOCK_FILE).write_text(f"{dead.pid}\n")  # the killed owner's
    procs = [
        subprocess.Popen(
            [str(toynn), "sweep", "--resume", str(run_dir), "-q", "--no-figures"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(4)
    ]
    outcomes = []
    for p in procs:  # communicate: each stderr pipe read and closed
        _, err = p.communicate(timeout=300)
        outcomes.append((p.returncode, err.decode()))
    assert sorted(code for code, _ in outcomes) == [0, 2, 2, 2], outcomes
    for code, err in outcomes:
        if code == 2:
            assert err.startswith(f"Error: option --resume: {run_dir}"), err
            assert any(w in err for w in ("in use by process", "is complete", "still running")), err
    info = json.loads((run_dir / "run.json").read_text())
    assert (info["status"], info["resumed"]) == ("complete", 1)


def test_resuming_a_format_3_folder_adds_format_5_chunks_and_says_so(tmp_path, monkeypatch):
    common = [*GRID, "--iterations", 300, "--workers", 1, "--json"]
    assert invoke("sweep", *common, "--out", "straight").exit_code == 0
    (straight,) = (tmp_path / "straight").iterdir()
    with monkeypatch.context() as patch:
        patch.setattr(executor.LocalExecutor, "run", interrupt_after(2, "SIGTERM"))
        assert invoke("sweep", *common, "--out", "old").exit_code == 143
    (run_dir,) = (tmp_path / "old").iterdir()
    for path in (run_dir / "chunks").iterdir():
        as_older_chunk(path, 3)
    info = json.loads((run_dir / "run.json").read_text())
    (run_dir / "run.json").write_text(json.dumps({**info, "format": 3}))

    resumed = invoke("sweep", "--resume", run_dir, "--json")
    assert resumed.exit_code == 0, resumed.stderr
    assert json.loads((run_dir / "run.json").read_text())["format"] == 5
    planes, initial = {}, {}
    for path in sorted((run_dir / "chunks").iterdir()):
        with np.load(path) as data:
            planes[path.name] = any(k.endswith(chunks.PLANES) for k in data.files)
            initial[path.name] = any("_initial" in k for k in data.files)
    assert planes == {"00000.npz": False, "00001.npz": False, "00002.npz": True, "00003.npz": True}
    assert initial == {"00000.npz": True, "00001.npz": True, "00002.npz": False, "00003.npz": False}
    assert chunk_arrays(run_dir) == chunk_arrays(straight)
    assert network_records(run_dir) == network_records(straight)
