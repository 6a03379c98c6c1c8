"""Tables that fit the page (issue 14, point 1): at 40, 80 and 200 columns no number
or word is cut, optional columns go first and a note names them; huge matrices are
summarised as numpy prints them; no line ends in spaces; --wide prints it all."""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pytest
from clitools import invoke_ok
from rich.console import Console
from rich.text import Text

from toynn_cli.store.results import shown_indices
from toynn_cli.view import formats
from toynn_cli.view.fit import Column, FitTable, Step, Stripped

#: the tutorial's sweep, shortened: the same seven alphas and six checkpoints
SWEEP = ["sweep", "--alphas", "0.001..1000", "--iterations", 600, "--log-every", 100]
STATUSES = ("converged", "learning", "stuck", "diverged")


def cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("┃│").split("┃" if "┃" in line else "│")]


def table(text: str, title: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the boxed table under the line ``title``."""
    lines = text.splitlines()
    start = lines.index(title)
    header: list[str] = []
    rows: list[list[str]] = []
    for line in lines[start + 1 :]:
        if line.startswith("┃") and not header:
            header = cells(line)
        elif line.startswith("│"):
            rows.append(cells(line))
        elif line.startswith("└"):
            break
    return header, rows


def note(text: str) -> str:
    """The 'To fit' note under a table, its lines joined."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("To fit "))
    end = next(i for i in range(start, len(lines)) if lines[i].endswith(")"))
    return " ".join(lines[start : end + 1])


def significant(number: str) -> int:
    """How many significant digits a printed number shows."""
    mantissa = number.lstrip("-").split("e")[0].replace(".", "").lstrip("0")
    return max(len(mantissa), 1)


def assert_rounded(printed: list[str], values: list[float]) -> None:
    """Each printed number is its full value formatted by fmt_error, to the digits
    of the column (the most any of its cells shows): rounded, never cut."""
    digits = max(significant(p) for p in printed)
    assert printed == [formats.fmt_error(v, digits) for v in values]


def assert_page(text: str, width: int) -> None:
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width
    assert "…" not in text  # nothing cut
    assert not [line for line in lines if line.endswith(" ")]


@pytest.mark.parametrize("width", [40, 80, 200])
def test_the_sweep_table_fits_and_rounds_but_never_cuts(cli_env, monkeypatch, width):
    doc = json.loads(invoke_ok(*SWEEP, "--json", "--no-save").stdout)
    finals = [n["final_error"] for n in doc["networks"]]
    monkeypatch.setenv("COLUMNS", str(width))
    out = invoke_ok(*SWEEP, "--no-save").stdout
    assert_page(out, width)
    header, rows = table(out, "Error at each checkpoint")
    assert len(rows) == 7
    final = header.index("final")
    assert_rounded([row[final] for row in rows], finals)
    assert [row[-1] for row in rows] == [n["status"] for n in doc["networks"]]
    assert [row[header.index("alpha")] for row in rows] == [
        "0.001", "0.01", "0.1", "1", "10", "100", "1000"
    ]  # fmt: skip
    if width == 200:  # the whole table, every digit
        assert header == ["", "alpha", "hidden", "seed", "0", "100", "200", "300", "400",
                          "500", "final", "acc", "curve", "status"]  # fmt: skip
        assert [row[final] for row in rows] == [formats.fmt_error(v) for v in finals]
        assert "To fit" not in out
    elif width == 80:
        assert header == ["", "alpha", "0", "100", "500", "final", "acc", "status"]
        assert [row[final] for row in rows] == [formats.fmt_error(v) for v in finals]
        for c, title in enumerate(("0", "100", "500")):
            printed = [row[header.index(title)] for row in rows]
            errors = [n["checkpoints"][(0, 1, 5)[c]]["error"] for n in doc["networks"]]
            assert_rounded(printed, errors)
        assert note(out) == (
            "To fit 80 columns: left out curve, checkpoints 200 to 400; every network has "
            "hidden 4, seed 1; checkpoint errors to 4 digits (--wide for the whole table, "
            "--json for every digit)"
        )
    else:
        assert header == ["", "alpha", "final", "status"]
        assert note(out) == (
            "To fit 40 columns: left out curve, checkpoints 0 to 500, acc; every network has "
            "hidden 4, seed 1; final errors to 8 digits (--wide for the whole table, "
            "--json for every digit)"
        )


def test_wide_prints_the_whole_table_on_a_narrow_page(cli_env, monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    out = invoke_ok(*SWEEP, "--no-save", "--wide").stdout
    header, _ = table(out, "Error at each checkpoint")
    assert header[-2:] == ["curve", "status"] and len(header) == 14
    assert "To fit" not in out and "…" not in out
    assert max(len(line) for line in out.splitlines()) > 150


def test_show_fits_a_saved_sweep_the_same_way(cli_env, monkeypatch):
    invoke_ok(*SWEEP, "--quiet", "--no-figures")
    (run_dir,) = list((cli_env / "runs").iterdir())
    monkeypatch.setenv("COLUMNS", "80")
    out = invoke_ok("show", run_dir).stdout
    assert_page(out, 80)
    assert table(out, "Error at each checkpoint")[0] == [
        "", "alpha", "0", "100", "500", "final", "acc", "status"
    ]  # fmt: skip
    # report.txt: the natural width, no line ending in spaces
    saved = (run_dir / "report.txt").read_text()
    assert "To fit" not in saved and "curve" in saved
    assert not [line for line in saved.splitlines() if line.endswith(" ")]


@pytest.mark.slow
def test_a_huge_layer_is_summarised_like_numpy(cli_env, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    out = invoke_ok("train", "--hidden", 100000, "--iterations", 10, "--no-figures", "-q").stdout
    assert len(out) < 5000  # not 10 MB of borders
    assert_page(out, 80)
    (run_dir,) = list((cli_env / "runs").iterdir())
    with np.load(run_dir / "weights.npz") as data:
        w0, w1 = data["n0_W0"], data["n0_W1"]
    header, rows = table(out, "W0 (3 x 100000) after training")
    assert header == ["", "0", "1", "2", "...", "99997", "99998", "99999"]
    columns = [0, 1, 2, 99997, 99998, 99999]
    for r, row in enumerate(rows):
        assert row[0] == str(r) and row[4] == "..."
        digits = max(significant(c) for c in row[1:4] + row[5:])
        assert row[1:4] + row[5:] == [formats.fmt_weight(w0[r, c], digits) for c in columns]
    header, rows = table(out, "W1 (100000 x 1) after training")
    assert [row[0] for row in rows] == ["0", "1", "2", "...", "99997", "99998", "99999"]
    assert rows[3] == ["...", "..."]
    assert [row[1] for row in rows[:3]] == [formats.fmt_weight(w1[r, 0]) for r in range(3)]
    said = " ".join(out.split())
    assert (
        said.count(
            "summarised: 6 of 100000 columns shown (every value is in --json and the run "
            "folder's weights.npz)"
        )
        == 2
    )  # the weights and their direction changes
    assert said.count("summarised: 6 of 100000 rows shown") == 2
    saved = (run_dir / "report.txt").read_text()
    assert len(saved) < 10000 and "99999" in saved
    assert not [line for line in saved.splitlines() if line.endswith(" ")]


def test_a_wide_matrix_leaves_out_middle_columns_and_says_which(cli_env, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    out = invoke_ok("train", "--hidden", 32, "--iterations", 100, "--no-save").stdout
    assert_page(out, 80)
    header, _ = table(out, "W0 (3 x 32) after training")
    assert header == ["", "0", "1", "2", "...", "29", "30", "31"]
    assert (
        "To fit 80 columns: left out columns 3 to 28; weights to 4 digits (--wide for "
        "every column, --json for every digit)" in " ".join(out.split("\n"))
    )
    monkeypatch.setenv("COLUMNS", "400")
    header, _ = table(invoke_ok("train", "--hidden", 32, "--iterations", 100, "--no-save",
                                "--wide").stdout, "W0 (3 x 32) after training")  # fmt: skip
    assert header == ["", *map(str, range(32))]


def test_runs_prints_whole_commands_when_piped(cli_env, monkeypatch):
    long = ["--alphas", "0.001,0.01,0.1,1,10,100,1000", "--hidden", "4", "--iterations",
            "50", "--log-every", "10", "--seeds", "1", "--name", "a-rather-long-name"]  # fmt: skip
    invoke_ok("sweep", *long, "--quiet", "--no-figures")
    command = " ".join(["toynn", "sweep", *long, "--quiet", "--no-figures"])
    out = invoke_ok("runs").stdout  # piped: one line per run
    assert "…" not in out and not [line for line in out.splitlines() if line.endswith(" ")]
    assert len(out.splitlines()) == 6 and f"│ {command} │" in out
    monkeypatch.setenv("COLUMNS", "80")
    out = invoke_ok("runs").stdout
    assert_page(out, 80)
    # at 80 columns: a table without the start time, the network count and the error, the
    # command wrapped between its words (none cut)
    words = out.split()
    assert all(word in words for word in command.split())
    assert (
        "To fit 80 columns: left out started (the run's name starts with it), networks, "
        "best final error (--wide for the whole table" in " ".join(words)
    )
    monkeypatch.setenv("COLUMNS", "50")
    out = invoke_ok("runs").stdout
    assert_page(out, 50)
    # too narrow for the table: a block per run, the command wrapped between words
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("command "))
    end = next(i for i, line in enumerate(lines) if line.startswith("networks "))
    assert " ".join(line[17:] for line in lines[start:end]) == command
    assert lines[-2:] == [
        "(one block per run: 50 columns are too few for the",
        "table; --wide for it)",
    ]


def digits(value: float, n: int) -> str:
    return f"{value:.{n}g}"


def test_a_page_too_narrow_for_any_layout_gets_one_block_per_row():
    columns = [
        Column("name", "name", ["a-long-name-of-a-run", "short"]),
        Column("value", "value", [0.123456789, 2.0], justify="right", number=digits),
    ]
    console = Console(width=20, file=io.StringIO(), color_system=None)
    console.print(Stripped(FitTable(columns, [Step(compact=True)], title="T", rows_are="run")))
    assert console.file.getvalue().splitlines() == [
        "T",
        "name  a-long-name-of",
        "      -a-run",
        "value 0.123456789",
        "",
        "name  short",
        "value 2",
        "(one block per run:",
        "20 columns are too",
        "few for the table;",
        "--wide for it)",
    ]


def test_a_fit_table_says_what_each_step_left_out():
    columns = [
        Column("k", "key", ["a", "b"]),
        Column("same", "seed", ["1", "1"]),
        *(Column(f"c{i}", str(i), [1.0 / 3, 2.0 / 3], number=digits) for i in range(4)),
        Column("word", "status", [Text("converged"), Text("stuck")]),
    ]
    steps = [
        Step(drop=["same"], same="seed 1"),
        *(Step(drop=[f"c{i}"], left_out=str(i), group="values") for i in (1, 2)),
        Step(digits={"c0": 4, "c3": 4}, rounded="values"),
    ]
    console = Console(width=46, file=io.StringIO(), color_system=None)
    console.print(FitTable(columns, steps, rows_are="row", hint="--wide"))
    text = console.file.getvalue()
    assert text.splitlines()[1] == "┃ key ┃ 0      ┃ 3      ┃ status    ┃"
    assert re.sub(r"\s+", " ", text.split("┘")[1]).strip() == (
        "To fit 46 columns: left out values 1, 2; every row has seed 1; values to 4 digits (--wide)"
    )


def test_a_long_table_shows_its_first_and_last_rows_as_numpy_does():
    assert shown_indices(7, 4) == [0, 1, 5, 6]
    assert shown_indices(7, 3) == [0, 1, 6]
    assert shown_indices(7, 7) == shown_indices(7, None) == list(range(7))


def test_many_networks_show_the_first_and_last_with_a_gap_row(cli_env):
    out = invoke_ok(*SWEEP, "--no-save", "--rows", 4).stdout
    _, rows = table(out, "Error at each checkpoint")
    assert [row[1] for row in rows] == ["0.001", "0.01", "...", "100", "1000"]
    assert rows[2][0] == "" and set(rows[2][1:]) == {"..."}
    assert (
        "the first 2 and last 2 of 7 networks shown (--rows 0 for all); the rest is in the "
        "run folder" in out
    )
    out = invoke_ok(*SWEEP, "--dry-run", "--rows", 3).stdout
    _, rows = table(out, "7 networks to train, 600 iterations each")
    assert rows == [
        ["0", "0.001", "4", "1"], ["1", "0.01", "4", "1"], ["...", "...", "...", "..."],
        ["6", "1000", "4", "1"],
    ]  # fmt: skip
