"""stdout that cannot take the output: a full disk, a closed pipe, a narrow encoding
(issue 14, point 2), through the installed console script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TOYNN = Path(sys.executable).parent / "toynn"
SWEEP = ["sweep", "--alphas", "0.1,1", "--iterations", "20", "--log-every", "10", "--no-save"]

pytestmark = pytest.mark.skipif(not TOYNN.exists(), reason=f"no console script at {TOYNN}")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR")}
    env.update(extra)
    return env


@pytest.mark.slow
@pytest.mark.parametrize("args", [SWEEP, [*SWEEP, "--json"], [*SWEEP, "--csv"], ["--help"]])
def test_a_full_stdout_is_one_line_and_exit_2(args, tmp_path):
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [str(TOYNN), *args], stdout=full, stderr=subprocess.PIPE, cwd=tmp_path, env=_env()
        )
    assert done.returncode == 2
    assert done.stderr == b"Error: cannot write to stdout: No space left on device\n"


@pytest.mark.slow
@pytest.mark.parametrize("args", [SWEEP, [*SWEEP, "--csv"], ["--help"]])
def test_a_closed_pipe_ends_quietly(args, tmp_path):
    read, write = os.pipe()
    os.close(read)  # the reader is gone before toynn writes, as `| head` leaves it
    proc = subprocess.Popen(
        [str(TOYNN), *args], stdout=write, stderr=subprocess.PIPE, cwd=tmp_path, env=_env()
    )
    os.close(write)
    _, err = proc.communicate(timeout=120)
    assert (proc.returncode, err) == (1, b"")


@pytest.mark.slow
def test_an_ascii_stdout_gets_ascii_tables(tmp_path):
    done = subprocess.run(
        [str(TOYNN), *SWEEP], capture_output=True, cwd=tmp_path,
        env=_env(PYTHONIOENCODING="ascii"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
    text = done.stdout.decode("ascii")  # every byte is ASCII
    assert "+----" in text and "| alpha |" in text
    assert "2 networks:" in text


def test_characters_beyond_ascii_get_one_ascii_stand_in_each():
    from toynn_cli.cli import app

    assert "★ ▁▄█ · ≈ ✓ é".encode("ascii", "toynn-ascii") == b"* _-# - ~ = ?"
    for wide, narrow in app.ASCII_STAND_INS.items():
        assert len(narrow) == 1 and narrow.isascii() and not wide.isascii(), wide
    # every non-ASCII character in toynn's code (its output among them) has a stand-in
    package = Path(app.__file__).parent.parent
    found = {c for path in package.rglob("*.py") for c in path.read_text() if not c.isascii()}
    assert found <= set(app.ASCII_STAND_INS), sorted(found - set(app.ASCII_STAND_INS))


@pytest.mark.slow
def test_an_ascii_stdout_gets_stand_ins_for_curves_and_the_best_network(tmp_path):
    done = subprocess.run(
        [str(TOYNN), "sweep", "--alphas", "0.1,10", "--seeds", "1,2", "--iterations", "200",
         "--no-save", "--no-group"],
        capture_output=True, cwd=tmp_path, env=_env(PYTHONIOENCODING="ascii"),
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (0, b"")
    text = done.stdout.decode("ascii")
    assert "?" not in text
    best = [line for line in text.splitlines() if line.startswith("| * |")]
    assert len(best) == 1 and "|    10 |" in best[0]
    assert "dataset xor - 200 iterations - 4 networks" in text
