"""Shell completion: click's bash protocol, through the command group."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from toynn_cli.cli import cli

TOYNN = Path(sys.executable).parent / "toynn"


def complete(words: str) -> list[str]:
    """What bash would be offered after ``words`` (the last word the one typed)."""
    parts = words.split(" ")
    env = {
        "_TOYNN_COMPLETE": "bash_complete",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(parts) - 1),
    }
    result = CliRunner().invoke(cli, [], env=env, prog_name="toynn")
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()


def test_commands_complete() -> None:
    assert complete("toynn sw") == ["plain,sweep"]


def test_a_comma_list_completes_its_last_item() -> None:
    assert complete("toynn sweep --optimizers sgd,ad") == [
        "plain,sgd,adagrad",
        "plain,sgd,adadelta",
        "plain,sgd,adam",
    ]


@pytest.mark.parametrize(
    ("words", "offered"),
    [
        ("toynn sweep --activation t", ["plain,tanh"]),
        ("toynn train --loss c", ["plain,cross_entropy"]),
        ("toynn sweep --bias false,", ["plain,false,false", "plain,false,true"]),
        ("toynn sweep --engine numba", ["plain,numba", "plain,numba-fast"]),
        ("toynn sweep --dataset sp", ["plain,spirals", "file,sp"]),
        ("toynn datasets ex", ["plain,export"]),
        ("toynn datasets export c", ["plain,circles"]),
        ("toynn datasets plot x", ["plain,xor", "plain,xor2"]),
    ],
)
def test_setting_values_complete(words: str, offered: list[str]) -> None:
    assert complete(words) == offered


def test_run_folders_complete(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("20260101-000000-xor", "20260102-000000-moons"):
        (tmp_path / "runs" / name).mkdir(parents=True)
        (tmp_path / "runs" / name / "run.json").write_text("{}")
    (tmp_path / "runs" / "not-a-run").mkdir()
    assert complete("toynn show runs/2026") == [
        "plain,runs/20260102-000000-moons",
        "plain,runs/20260101-000000-xor",
        "dir,runs/2026",
    ]
    assert complete("toynn compare runs/20260101-000000-xor runs/20260102") == [
        "plain,runs/20260102-000000-moons",
        "dir,runs/20260102",
    ]


@pytest.mark.skipif(not TOYNN.exists(), reason=f"no console script at {TOYNN}")
def test_the_console_script_writes_a_bash_completion_script() -> None:
    done = subprocess.run(
        [str(TOYNN)], env={"_TOYNN_COMPLETE": "bash_source", "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "_toynn_completion()" in done.stdout
    assert "complete -o nosort -F _toynn_completion toynn" in done.stdout
