"""FitTable: a table that fits the width it is rendered at (issue 14, point 1)."""

from __future__ import annotations

import io
import re

from rich.console import Console
from rich.text import Text

from toynn_cli.view.fit import Column, FitTable, Step, Stripped


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
