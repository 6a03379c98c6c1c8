"""The installed ``toynn`` console script, run as a real process: the published digits
from its JSON, signals, terminals (colour, NO_COLOR, the progress bar) and
``python -m toynn_cli``."""

from __future__ import annotations

import json
import math
import os
import pty
import re
import signal
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from toynn_cli import __version__
from toynn_cli.core import tutorial

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
TOYNN = Path(sys.executable).parent / "toynn"
SGR = re.compile(rb"\x1b\[([0-9;]*)m")

pytestmark = pytest.mark.skipif(not TOYNN.exists(), reason=f"no console script at {TOYNN}")


def environment(**extra: str) -> dict[str, str]:
    """The test's environment without anything that changes rich's output."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS"}
    }
    env.update(extra)
    return env


def toynn(*args: object, cwd: Path, **popen) -> subprocess.Popen:
    return subprocess.Popen(
        [str(TOYNN), *map(str, args)],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=popen.pop("stdout", subprocess.PIPE),
        stderr=popen.pop("stderr", subprocess.PIPE),
        env=popen.pop("env", environment()),
        **popen,
    )


# --- the published numbers, through the real command line -------------------------------


@pytest.fixture(scope="module")
def tutorial_runs(tmp_path_factory):
    """The two full tutorial sweeps of this file, started together (each takes a few
    seconds): ``sweep --json`` and ``reproduce --json``."""
    cwd = tmp_path_factory.mktemp("tutorial")
    procs = {
        "sweep": toynn(
            "sweep", "--config", CONFIGS / "alpha-sweep.yaml", "--json", "--no-save", cwd=cwd
        ),
        "reproduce": toynn("reproduce", "--json", cwd=cwd),
    }
    done = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        done[name] = (proc.returncode, out.decode(), err.decode())
    done["cwd"] = cwd
    return done


@pytest.mark.slow
def test_sweep_json_has_the_published_digits(tutorial_runs):
    code, out, err = tutorial_runs["sweep"]
    assert (code, err) == (0, "")
    assert list(tutorial_runs["cwd"].iterdir()) == []  # --no-save: no runs/ folder
    doc = json.loads(out)
    assert doc["run_dir"] is None and doc["complete"] is True
    assert doc["experiment"]["name"] == "alpha-sweep"
    networks = doc["networks"]
    assert [n["alpha"] for n in networks] == list(tutorial.PUBLISHED)
    for net in networks:
        assert (net["hidden"], net["seed"], net["dataset"], net["iterations"]) == (
            4,
            1,
            "xor",
            60000,
        )
        published = tutorial.PUBLISHED[net["alpha"]]
        assert [c["iteration"] for c in net["checkpoints"]] == list(range(0, 60000, 10000))
        errors = [c["error"] for c in net["checkpoints"]]
        if net["alpha"] == 100.0:  # the saturated plateau: 1e-9 relative
            for got, want in zip(errors, published, strict=True):
                assert math.isclose(got, float(want), rel_tol=1e-9, abs_tol=0)
        else:
            assert [f"{e:.12g}" for e in errors] == list(published)
    assert [n["status"] for n in networks] == [
        "learning", "learning", "converged", "converged", "converged", "stuck", "diverged"
    ]  # fmt: skip
    best = min(networks, key=lambda n: n["final_error"])
    assert best["alpha"] == 10.0 and 0.0011 < best["final_error"] < 0.0013
    assert networks[-1]["final_error"] == 0.5


@pytest.mark.slow
def test_reproduce_matches_every_published_value(tutorial_runs):
    code, out, err = tutorial_runs["reproduce"]
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert doc["ok"] is True
    assert len(doc["values"]) == 42
    for value in doc["values"]:
        assert value["published"] == tutorial.PUBLISHED[value["alpha"]][value["iteration"] // 10000]
        if value["match"] == "exact":
            assert f"{value['obtained']:.12g}" == value["published"]
        else:
            assert (value["alpha"], value["match"]) == (100.0, "close")


def test_sweep_and_reproduce_agree(tutorial_runs):
    sweep = json.loads(tutorial_runs["sweep"][1])
    reproduce = json.loads(tutorial_runs["reproduce"][1])
    from_sweep = {
        (n["alpha"], c["iteration"]): c["error"]
        for n in sweep["networks"]
        for c in n["checkpoints"]
    }
    assert {(v["alpha"], v["iteration"]): v["obtained"] for v in reproduce["values"]} == from_sweep


# --- entry points -------------------------------------------------------------------------


def test_python_dash_m_help():
    done = subprocess.run(
        [sys.executable, "-m", "toynn_cli", "--help"],
        capture_output=True,
        text=True,
        env=environment(),
        timeout=60,
    )
    assert done.returncode == 0
    assert done.stdout.startswith("Usage: toynn [OPTIONS] COMMAND [ARGS]...")
    assert "Example" in done.stdout and done.stderr == ""


def test_console_script_version_and_usage_error(tmp_path):
    proc = toynn("--version", cwd=tmp_path)
    out, err = proc.communicate(timeout=60)
    assert (proc.returncode, out.decode(), err) == (0, f"toynn, version {__version__}\n", b"")
    proc = toynn("sweep", "--alphas", "0", "--no-save", cwd=tmp_path)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and out == b""
    assert err.decode().startswith("Error: option --alphas") and err.count(b"\n") == 1


@pytest.mark.slow
def test_console_script_max_error_exit_1(tmp_path):
    proc = toynn(
        "sweep", "--alphas", "0.5,10", "--iterations", 300, "--max-error", 0.3,
        "--no-save", "--json", cwd=tmp_path,
    )  # fmt: skip
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    doc = json.loads(out)
    above = [n for n in doc["networks"] if n["final_error"] > 0.3]
    assert [n["alpha"] for n in above] == [0.5]
    assert err.decode() == "".join(
        f"final error {n['final_error']:.12g} > --max-error 0.3: "
        f"alpha {n['alpha']:g}, hidden 4, seed 1\n"
        for n in above
    )


# --- signals ----------------------------------------------------------------------------


def wait_for_run_json(parent: Path, proc: subprocess.Popen, timeout: float = 30) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = list(parent.glob("*/run.json"))
        if found:
            return found[0].parent
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    raise AssertionError("no run.json appeared")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"]
)
@pytest.mark.parametrize("delay", [0.0, 0.3], ids=["at-once", "while-training"])
def test_signal_stops_a_long_sweep_and_marks_the_run(tmp_path, signum, code, delay):
    proc = toynn(
        "sweep", "--alphas", "0.1,1", "--hidden", "2,3", "--iterations", 10**9,
        "--engine", "numpy",  # no first-run compile between the start and the signal
        "--out", "out", cwd=tmp_path,
    )  # fmt: skip
    try:
        run_dir = wait_for_run_json(tmp_path / "out", proc)
        time.sleep(delay)
        sent = time.monotonic()
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=10)
        elapsed = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == code
    assert elapsed < 2.0
    assert out == b""
    assert err.decode() == (
        "Interrupted after 0 of 4 networks; the run is incomplete "
        f"(its config saved in {Path('out') / run_dir.name}, marked interrupted).\n"
    )
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "interrupted"
    assert info["signal"] == signal.Signals(signum).name
    assert (info["networks"], info["networks_done"]) == (4, 0)
    names = sorted(p.name for p in run_dir.iterdir())
    assert names == [
        "chunks",
        "config.yaml",
        "metrics.csv",
        "results.json",
        "run.json",
        "weights.npz",
    ]
    assert not [n for n in names if n.startswith(".") or n.endswith(".tmp")]
    assert json.loads((run_dir / "results.json").read_text())["complete"] is False


# --- terminals --------------------------------------------------------------------------


def run_with_terminal(args: list[object], cwd: Path, env: dict[str, str], *, stdout_tty: bool):
    """Run toynn with a pseudo-terminal as stdout (or stderr) and a pipe as the other.
    Returns (exit code, what the terminal got, what the pipe got)."""
    import fcntl
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
    received: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every writer closed the terminal
                return
            if not chunk:
                return
            received.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    proc = toynn(
        *args,
        cwd=cwd,
        env=env,
        stdout=slave if stdout_tty else subprocess.PIPE,
        stderr=subprocess.PIPE if stdout_tty else slave,
    )
    os.close(slave)
    out, err = proc.communicate(timeout=60)
    reader.join(timeout=10)
    os.close(master)
    return proc.returncode, b"".join(received), (err if stdout_tty else out)


def colour_codes(data: bytes) -> list[str]:
    """The SGR parameters that set a colour (foreground or background)."""
    found = []
    for match in SGR.finditer(data):
        params = match.group(1).decode().split(";")
        for p in params:
            if p and (30 <= int(p) <= 49 or 90 <= int(p) <= 107):
                found.append(match.group(1).decode())
                break
    return found


SMALL = ["sweep", "--alphas", "0.5,1000", "--iterations", 300, "--no-save", "--quiet"]


@pytest.mark.slow
def test_colour_on_a_terminal(tmp_path):
    code, terminal, pipe = run_with_terminal(
        SMALL, tmp_path, environment(TERM="xterm-256color"), stdout_tty=True
    )
    assert code == 0 and pipe == b""
    assert colour_codes(terminal)  # statuses are coloured
    assert b"diverged" in terminal


@pytest.mark.slow
def test_no_color_on_a_terminal(tmp_path):
    code, terminal, _ = run_with_terminal(
        SMALL, tmp_path, environment(TERM="xterm-256color", NO_COLOR="1"), stdout_tty=True
    )
    assert code == 0
    assert b"diverged" in terminal
    assert colour_codes(terminal) == []


@pytest.mark.slow
def test_progress_bar_only_on_a_terminal_stderr(tmp_path):
    args = ["sweep", "--alphas", "0.5,2", "--iterations", 6000, "--no-save"]
    env = environment(TERM="xterm-256color")
    code, terminal, stdout = run_with_terminal(args, tmp_path, env, stdout_tty=False)
    assert code == 0
    assert b"training 2 networks" in terminal and b"%" in terminal
    assert b"\x1b" not in stdout  # the data stays plain text
    assert b"Error at each checkpoint" in stdout

    code, terminal, stdout = run_with_terminal([*args, "--quiet"], tmp_path, env, stdout_tty=False)
    assert code == 0 and terminal == b""
    assert b"Error at each checkpoint" in stdout


@pytest.mark.slow
def test_plain_text_and_no_progress_through_pipes(tmp_path):
    proc = toynn(*SMALL[:-1], cwd=tmp_path, env=environment(TERM="xterm-256color"))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert b"\x1b" not in out and err == b""
    assert "★".encode() in out


SURFACE = ["surface", "--resolution", 21, "--no-save", "--quiet"]


@pytest.mark.slow
def test_surface_heatmap_in_colour_on_a_terminal(tmp_path):
    code, terminal, pipe = run_with_terminal(
        SURFACE, tmp_path, environment(TERM="xterm-256color", COLORTERM="truecolor"),
        stdout_tty=True,
    )  # fmt: skip
    assert code == 0 and pipe == b""
    assert "▀".encode() in terminal  # two grid rows per character
    # viridis in 24-bit colour: the top-left cell (error near 1) is yellow on yellow
    assert b"38;2;253;231;37;48;2;253;231;37m" in terminal


@pytest.mark.slow
def test_surface_heatmap_with_no_color_is_a_character_ramp(tmp_path):
    code, terminal, _ = run_with_terminal(
        SURFACE, tmp_path, environment(TERM="xterm-256color", NO_COLOR="1"), stdout_tty=True
    )
    assert code == 0
    assert "▀".encode() not in terminal
    assert colour_codes(terminal) == []
    assert "10 ┤@@@@@@@@@".encode() in terminal


# --- run folders left by killed and interrupted processes ---------------------------------


@pytest.mark.slow
def test_runs_and_show_on_killed_and_interrupted_runs(tmp_path):
    # one process (--workers 1): a SIGKILLed parent cannot take forked workers with it
    long = ("sweep", "--alphas", "0.1,1", "--hidden", "2,3", "--iterations", 10**9,
            "--workers", 1, "--engine", "numpy")  # fmt: skip
    killed = toynn(*long, "--name", "killed", "--out", "k", cwd=tmp_path)
    stopped = toynn(*long, "--name", "stopped", "--out", "s", cwd=tmp_path)
    try:
        killed_dir = wait_for_run_json(tmp_path / "k", killed)
        stopped_dir = wait_for_run_json(tmp_path / "s", stopped)
        killed.kill()  # SIGKILL: run.json keeps saying running
        stopped.send_signal(signal.SIGINT)
        killed.communicate(timeout=10)
        stopped.communicate(timeout=10)
    finally:
        for proc in (killed, stopped):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    (tmp_path / "all").mkdir()
    for folder in (killed_dir, stopped_dir):
        folder.rename(tmp_path / "all" / folder.name)
    proc = toynn("runs", "--out", "all", "--json", cwd=tmp_path)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    states = {
        row["run"]: (row["state"], row["networks"], row["networks_done"]) for row in json.loads(out)
    }
    assert states == {
        killed_dir.name: ("killed", 4, 0),
        stopped_dir.name: ("interrupted", 4, 0),
    }
    proc = toynn("show", Path("all") / killed_dir.name, cwd=tmp_path)
    out, err = proc.communicate(timeout=60)
    assert (proc.returncode, out) == (2, b"")
    assert err.decode() == (
        f"Error: '{Path('all') / killed_dir.name}' has no results.json (status: killed); "
        "expected a run that finished or was interrupted "
        f"('toynn sweep --resume {Path('all') / killed_dir.name}' finishes it)\n"
    )
    proc = toynn("show", Path("all") / stopped_dir.name, cwd=tmp_path)
    out, err = proc.communicate(timeout=60)
    assert (proc.returncode, out) == (0, b"")
    assert "the run is interrupted; showing the 0 of 4 networks that finished" in err.decode()


def test_config_on_stdin_through_the_console_script(tmp_path):
    done = subprocess.run(
        [str(TOYNN), "sweep", "--config", "-", "--json", "--no-save"],
        input=b"alphas: [0.1, 10]\niterations: 100\n",
        capture_output=True,
        cwd=tmp_path,
        env=environment(),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert [n["alpha"] for n in json.loads(done.stdout)["networks"]] == [0.1, 10.0]


# --- tables that fit (issue 14, point 1) ---------------------------------------------------

FIT_SWEEP = ["sweep", "--alphas", "0.001..1000", "--iterations", 600, "--log-every", 100,
             "--no-save", "--quiet"]  # fmt: skip


@pytest.fixture(scope="module")
def fit_sweep_json(tmp_path_factory):
    proc = toynn(*FIT_SWEEP, "--json", cwd=tmp_path_factory.mktemp("fit"))
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return json.loads(out)


def assert_fits(text: str, width: int, doc: dict) -> None:
    """Every line within ``width``, nothing cut, no trailing spaces, and each final
    error the full value rounded by the function that prints it."""
    from test_fit import assert_rounded, table

    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width
    assert "…" not in text
    assert not [line for line in lines if line.endswith(" ")]
    header, rows = table(text, "Error at each checkpoint")
    final = header.index("final")
    assert_rounded([row[final] for row in rows], [n["final_error"] for n in doc["networks"]])
    assert [row[-1] for row in rows] == [n["status"] for n in doc["networks"]]


@pytest.mark.slow
@pytest.mark.parametrize("width", [40, 80, 200])
def test_a_piped_table_fits_columns_under_term_dumb(tmp_path, fit_sweep_json, width):
    proc = toynn(*FIT_SWEEP, cwd=tmp_path, env=environment(COLUMNS=str(width), TERM="dumb"))
    out, err = proc.communicate(timeout=120)
    assert (proc.returncode, err) == (0, b"")
    text = out.decode()
    assert_fits(text, width, fit_sweep_json)
    assert ("To fit" in text) == (width < 200)


@pytest.mark.slow
def test_a_dumb_terminal_gets_80_columns(tmp_path, fit_sweep_json):
    code, terminal, _ = run_with_terminal(
        FIT_SWEEP, tmp_path, environment(TERM="dumb"), stdout_tty=True
    )  # the terminal says 200 columns; rich takes TERM=dumb as 80
    assert code == 0
    text = SGR.sub(b"", terminal).decode().replace("\r\n", "\n")
    assert_fits(text, 80, fit_sweep_json)
    assert "To fit 80 columns: left out curve" in text
