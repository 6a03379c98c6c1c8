"""toynn reproduce: the published table, checked digit by digit."""

from __future__ import annotations

import sys

import click
from rich.text import Text

from toynn_cli import config
from toynn_cli.cli.options import wide_option
from toynn_cli.cli.output import Terminal, data_format, emit
from toynn_cli.cli.session import Plan, train_all
from toynn_cli.core import tutorial
from toynn_cli.run import executor
from toynn_cli.run.interrupts import SignalGuard
from toynn_cli.store import results
from toynn_cli.view import report


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print only JSON on stdout.")
@click.option(
    "--csv",
    "as_csv",
    is_flag=True,
    help="Print only CSV on stdout: alpha, iteration, published, obtained, match.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@wide_option
def reproduce(as_json: bool, as_csv: bool, quiet: bool, wide: bool) -> None:
    """Run the tutorial's alpha sweep and check it against the published digits.

    Prints each published value beside the obtained one and marks the match;
    exits 1 if any value does not match. Writes no run folder.

    Example:

        toynn reproduce
    """
    data_format(as_json, as_csv)
    term = Terminal(quiet, wide)
    experiment = config.resolve(None, {}, config.TUTORIAL_SWEEP)
    guard = SignalGuard()
    plan = Plan.make(experiment, 1, executor.DEFAULT_MAX_MEMORY)
    done: dict[int, executor.ChunkResult] = {}
    with guard.installed():
        interrupted = train_all(term, experiment, plan, guard, done)
    if interrupted:
        term.warn("Interrupted.")
        sys.exit(interrupted.exit_code)
    _, finished, _ = results.collect(plan.chunks, done)
    verdicts = [
        (r.spec.alpha, int(j), tutorial.PUBLISHED[r.spec.alpha][c], float(e),
         tutorial.compare(r.spec.alpha, c, float(e)))
        for r in finished
        for c, (j, e) in enumerate(zip(r.checkpoint_iterations, r.checkpoint_errors))
    ]  # fmt: skip
    bad = sum(v[-1] == "mismatch" for v in verdicts)
    exact = sum(v[-1] == "exact" for v in verdicts)
    close = sum(v[-1] == "close" for v in verdicts)
    line = Text(
        f"{len(verdicts) - bad} of {len(verdicts)} values match "
        f"({exact} to every printed digit, {close} within 1e-9 relative at alpha 100)",
        style="green" if not bad else "bold red",
    )
    emit(
        term, as_json, as_csv,
        doc=lambda: {
            "ok": bad == 0,
            "values": [
                {"alpha": a, "iteration": j, "published": p, "obtained": results.number(e),
                 "match": m}
                for a, j, p, e, m in verdicts
            ],
        },
        csv=lambda: (
            ("alpha", "iteration", "published", "obtained", "match"),
            [(repr(a), j, p, repr(e), m) for a, j, p, e, m in verdicts],
        ),
        table=lambda: [report.reproduce_table(finished), line],
    )  # fmt: skip
    if bad:
        verb = "value does" if bad == 1 else "values do"
        term.err.print(
            f"{bad} of {len(verdicts)} {verb} not match the published table",
            style="bold red",
            highlight=False,
        )
        sys.exit(1)
