"""--executor dask: chunks trained on a Dask cluster give the local run, bit for bit.

The tests that train need Dask (``pip install '.[test,dask]'``, as the README's test
command does) and are skipped without it; CI installs it, so there they run.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from clitools import chunk_arrays, invoke

from toynn_cli.config import grid
from toynn_cli.core.datasets import BUILTIN
from toynn_cli.run import distributed as dask_executor
from toynn_cli.run import executor

pytestmark = pytest.mark.usefixtures("cli_env")

# 140 networks in 4 chunks (35, 35, 35, 35): more chunks than workers
GRID = [
    "--alphas",
    "0.01..1000:7",
    "--seeds",
    "1..20",
    "--hidden",
    "3",
    "--iterations",
    "600",
    "--log-every",
    "200",
    "--chunk-size",
    "35",
    "--json",
    "-q",
]


def needs_dask():
    return pytest.importorskip("distributed")


def weight_arrays(run_dir: Path) -> dict[str, bytes]:
    with np.load(run_dir / "weights.npz") as data:
        return {key: data[key].tobytes() for key in data.files}


def assert_same_run(run_dir: Path, reference: Path) -> None:
    assert len(list((run_dir / "chunks").glob("*.npz"))) == 4
    assert chunk_arrays(run_dir) == chunk_arrays(reference)
    networks = json.loads((run_dir / "results.json").read_text())["networks"]
    assert networks == json.loads((reference / "results.json").read_text())["networks"]
    assert (run_dir / "metrics.csv").read_bytes() == (reference / "metrics.csv").read_bytes()
    assert weight_arrays(run_dir) == weight_arrays(reference)
    assert (run_dir / "config.yaml").read_bytes() == (reference / "config.yaml").read_bytes()


def run_dir_of(result) -> Path:
    assert result.exit_code == 0, result.stderr
    return Path(json.loads(result.stdout)["run_dir"])


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The same sweep, trained here with the local executor and one worker."""
    needs_dask()  # only the Dask tests compare with it
    parent = tmp_path_factory.mktemp("local")
    result = invoke("sweep", *GRID, "--executor", "local", "--workers", 1, "--out", parent)
    return run_dir_of(result)


@pytest.fixture(scope="module")
def scheduler():
    """A Dask cluster of two worker processes that toynn connects to by address, as it
    would to `dask scheduler` on another machine."""
    distributed = needs_dask()
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            scheduler_kwargs={"dashboard": False, "dashboard_address": ":0"},  # any free port
            silence_logs=logging.CRITICAL,
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):
        yield cluster.scheduler_address
        assert len(client.scheduler_info()["workers"]) == 2  # toynn left it running


@pytest.mark.slow
def test_a_local_dask_cluster_of_two_workers_gives_the_local_run(reference):
    needs_dask()
    result = invoke("sweep", *GRID, "--executor", "dask", "--workers", 2, "--out", "dask")
    run_dir = run_dir_of(result)
    assert_same_run(run_dir, reference)
    info = json.loads((run_dir / "run.json").read_text())
    assert (info["status"], info["executor"], info["chunks"]) == ("complete", "dask", 4)
    assert "scheduler" not in info
    assert json.loads((reference / "run.json").read_text())["executor"] == "local"


@pytest.mark.slow
def test_a_scheduler_address_sends_the_chunks_to_that_cluster(reference, scheduler):
    result = invoke("sweep", *GRID, "--executor", "dask", "--scheduler", scheduler, "--out", "d")
    run_dir = run_dir_of(result)
    assert_same_run(run_dir, reference)
    info = json.loads((run_dir / "run.json").read_text())
    assert (info["executor"], info["scheduler"]) == ("dask", scheduler)


@pytest.mark.slow
@pytest.mark.parametrize("resume_with", ["dask", "local"])
def test_an_interrupted_dask_run_resumes_identically(
    reference, scheduler, monkeypatch, resume_with
):
    real = dask_executor.Cluster.run

    def stopped_after_two(self, *args, **kwargs):
        stream = real(self, *args, **kwargs)
        try:
            yield next(stream)
            yield next(stream)
            raise KeyboardInterrupt  # what Ctrl-C does while the generator waits
        finally:
            stream.close()

    address = ["--executor", "dask", "--scheduler", scheduler]
    with monkeypatch.context() as patch:
        patch.setattr(dask_executor.Cluster, "run", stopped_after_two)
        stopped = invoke("sweep", *GRID, *address, "--out", "o")
    assert stopped.exit_code == 130
    assert stopped.stderr.startswith("Interrupted after 70 of 140 networks; the run is incomplete")
    (run_dir,) = Path("o").iterdir()
    info = json.loads((run_dir / "run.json").read_text())
    assert (info["status"], info["networks_done"], info["executor"]) == ("interrupted", 70, "dask")
    assert len(list((run_dir / "chunks").glob("*.npz"))) == 2

    again = address if resume_with == "dask" else ["--executor", "local", "--workers", 2]
    resumed = invoke("sweep", "--resume", run_dir, *again, "--json", "-q")
    assert resumed.exit_code == 0, resumed.stderr
    assert json.loads(resumed.stdout)["complete"] is True
    assert_same_run(run_dir, reference)
    info = json.loads((run_dir / "run.json").read_text())
    assert (info["status"], info["resumed"], info["executor"]) == ("complete", 1, resume_with)
    assert info.get("scheduler") == (scheduler if resume_with == "dask" else None)


@pytest.mark.slow
def test_stopping_early_cancels_the_chunks_and_stops_the_workers_at_once():
    needs_dask()
    specs = grid.expand([3], [0.1, 1.0, 10.0], range(1, 41))  # 120 networks, 12 chunks
    chunks = executor.plan(specs, 10)
    xor = BUILTIN["xor"]
    cluster = dask_executor.connect(None, 2)
    try:
        stream = cluster.run(executor.Job(xor.x, xor.y, specs, 2000, 1000), chunks)
        first = next(stream)
        assert len(first.chunk) == 10
        stream.close()  # what an interrupt does to the generator
        pids = [nanny.process.process.pid for nanny in cluster.local.workers.values()]
        assert len(pids) == 2
    finally:
        started = time.monotonic()
        cluster.close()
    assert time.monotonic() - started < 3
    assert cluster.local is None
    for pid in pids:
        assert (
            not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
        )


# --- errors: one line, exit 2, no run folder ---------------------------------------------


def assert_refused(result, message: str) -> None:
    assert result.exit_code == 2
    assert result.stderr == f"Error: {message}\n"
    assert not Path("runs").exists()


def test_scheduler_needs_the_dask_executor():
    result = invoke("sweep", "--scheduler", "tcp://127.0.0.1:8786")
    assert_refused(result, "option --scheduler needs --executor dask")


def test_without_dask_the_executor_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    result = invoke("sweep", "--executor", "dask")
    assert_refused(
        result,
        "option --executor dask needs Dask distributed, which is not installed; "
        "install it with: pip install 'toynn[dask]'",
    )


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("nonsense", "missing port number in address 'nonsense'"),
        ("tcp://:8786", "no host"),
        ("tcp://127.0.0.1:99999", "port 99999 is not between 1 and 65535"),
    ],
)
def test_a_malformed_scheduler_address_is_refused(address, reason):
    needs_dask()
    result = invoke("sweep", "--executor", "dask", "--scheduler", address)
    assert_refused(
        result,
        f"option --scheduler: {address!r} is not a Dask scheduler address ({reason}); "
        "expected tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786",
    )


@pytest.mark.slow
def test_an_unreachable_scheduler_is_refused_after_a_short_timeout(monkeypatch):
    needs_dask()
    monkeypatch.setattr(dask_executor, "CONNECT_TIMEOUT", 0.5)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{s.getsockname()[1]}"
    started = time.monotonic()
    result = invoke("sweep", "--executor", "dask", "--scheduler", address)
    assert time.monotonic() - started < 5
    assert_refused(
        result,
        f"option --scheduler: no Dask scheduler answered at {address} within 0.5 s; "
        "start one with 'dask scheduler', or check the address",
    )


@pytest.mark.slow
def test_a_failing_task_is_one_line_and_the_run_is_marked_interrupted(scheduler, monkeypatch):
    xor = BUILTIN["xor"]
    specs = grid.expand([3], [1.0], range(1, 5))
    cluster = dask_executor.connect(scheduler, 1)
    try:
        with pytest.raises(dask_executor.ClusterError) as caught:
            # no inputs: the engine fails on the worker
            job = executor.Job(None, xor.y, specs, 10, 5)  # type: ignore[arg-type]
            list(cluster.run(job, executor.plan(specs, 2)))
    finally:
        cluster.close()
    assert str(caught.value).startswith(f"training on the Dask cluster at {scheduler} failed: ")
    assert "\n" not in str(caught.value)

    real = dask_executor.Cluster.run

    def fails_after_one(self, *args, **kwargs):
        stream = real(self, *args, **kwargs)
        try:
            yield next(stream)
            raise dask_executor.ClusterError("training on the Dask cluster failed: gone")
        finally:
            stream.close()

    monkeypatch.setattr(dask_executor.Cluster, "run", fails_after_one)
    result = invoke("sweep", *GRID, "--executor", "dask", "--scheduler", scheduler, "--out", "f")
    assert result.exit_code == 2
    assert result.stderr == "Error: training on the Dask cluster failed: gone\n"
    (run_dir,) = Path("f").iterdir()
    info = json.loads((run_dir / "run.json").read_text())
    assert (info["status"], info["networks_done"]) == ("interrupted", 35)
    assert info["error"] == "training on the Dask cluster failed: gone"


TOYNN = Path(sys.executable).parent / "toynn"


def live_processes(session: int) -> list[int]:
    """Processes of a session that are still running (zombies aside)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session and fields[0] != "Z":  # fields[3]: session id
            alive.append(int(stat.parent.name))
    return alive


@pytest.mark.slow
@pytest.mark.skipif(not TOYNN.exists(), reason=f"no console script at {TOYNN}")
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_ctrl_c_stops_a_local_dask_cluster_at_once_and_quietly(tmp_path):
    needs_dask()
    proc = subprocess.Popen(
        [str(TOYNN), "sweep", *GRID, "--iterations", "20000", "--executor", "dask", "--out", "o"],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob("o/*/chunks/*.npz")):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.02)
        sent = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the whole group, the workers too
        _, err = proc.communicate(timeout=20)
        took = time.monotonic() - sent
        assert took < 3, (took, proc.returncode, err.decode())
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130
    assert err.decode().startswith("Interrupted after "), err.decode()
    assert err.decode().count("\n") == 1  # that one line: no traceback, no Dask log
    deadline = time.monotonic() + 5
    while live_processes(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert live_processes(proc.pid) == []  # no worker left behind
    (run_dir,) = (tmp_path / "o").iterdir()
    assert json.loads((run_dir / "run.json").read_text())["status"] == "interrupted"
