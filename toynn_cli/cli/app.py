"""The toynn click group and its entry point."""

from __future__ import annotations

import codecs
import contextlib
import errno
import gc
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

import click

from toynn_cli import __version__
from toynn_cli.cli import errors
from toynn_cli.run.interrupts import Interrupted

#: Every command: its module and function, and its first sentence for ``toynn --help``
#: (tests/test_layout.py checks it is the command's own). A command's module, and so
#: numpy, rich and the rest, is imported only when that command runs: ``toynn
#: --version`` and ``toynn --help`` import click alone.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "compare": (
        "workspace",
        "compare",
        "Compare two saved runs: config differences, then the final error of each network "
        "both trained (the same on every setting: alpha, hidden, seed, optimizer, bias, ...) "
        "and B - A.",
    ),
    "datasets": (
        "datasets",
        "datasets_group",
        "List the named datasets, export one as CSV or draw its points.",
    ),
    "plot": (
        "plot",
        "plot_command",
        "Draw a saved run's figures as PNG and SVG (needs the plot extra).",
    ),
    "reproduce": (
        "reproduce",
        "reproduce",
        "Run the tutorial's alpha sweep and check it against the published digits.",
    ),
    "runs": ("workspace", "runs_command", "List the run folders under --out, newest first."),
    "show": (
        "workspace",
        "show",
        "Show a saved run's tables again, from its results.json (no training).",
    ),
    "surface": (
        "surface",
        "surface_command",
        "Draw the error over a grid of two weights, with the training path on it.",
    ),
    "sweep": (
        "training",
        "sweep",
        "Train every network of a grid (alphas x hidden sizes x seeds) in one batch.",
    ),
    "train": (
        "training",
        "train",
        "Train one network and show its error, status, weights and direction changes.",
    ),
}


#: The commands that release the garbage collector themselves, when training starts
#: (:func:`release_gc`, called by session.train_all): their start-up imports numba.
TRAINING_COMMANDS = frozenset({"train", "sweep", "reproduce"})

#: A closed pipe ends toynn silently with 1, as click and rich end it (they catch it first).
EXIT_PIPE = 1
#: Errors writing stdout that end the command with one line (disk full, I/O error).
STDOUT_ERRORS = (errno.ENOSPC, errno.EIO, errno.EFBIG, errno.EDQUOT)
#: Characters toynn's tables, sparklines, maps and notes use beyond ASCII, and the one
#: character an encoding that cannot carry them gets instead, so that columns stay
#: aligned (anything else: ``?``).
ASCII_STAND_INS = {
    "▁": "_", "▂": ".", "▃": ":", "▄": "-", "▅": "=", "▆": "+", "▇": "*", "█": "#",
    "━": "-", "┃": "|", "─": "-", "│": "|", "┤": "|", "└": "+", "▀": "#", "·": "-",
    "…": "~", "★": "*", "✓": "=", "✗": "x", "≈": "~", "×": "x",
}  # fmt: skip
WIDE_CHARACTERS = "".join(ASCII_STAND_INS)


def _stand_in(error: UnicodeError) -> tuple[str, int]:
    """The codec error handler ``toynn-ascii``: ASCII_STAND_INS for what the stream's
    encoding cannot carry."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    bad = error.object[error.start : error.end]
    return "".join(ASCII_STAND_INS.get(c, "?") for c in bad), error.end


codecs.register_error("toynn-ascii", _stand_in)


def _tolerate_narrow_encodings() -> None:
    """Under an encoding that cannot carry the tables' characters (PYTHONIOENCODING=
    ascii, a latin-1 terminal), rich draws ASCII borders by itself; what is left
    (sparkline blocks, the middle dot, the best network's star) gets an ASCII stand-in
    (ASCII_STAND_INS), never a UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        try:
            WIDE_CHARACTERS.encode(stream.encoding or "ascii")
        except (UnicodeEncodeError, LookupError):
            with contextlib.suppress(AttributeError, ValueError):
                stream.reconfigure(errors="toynn-ascii")  # type: ignore[union-attr]


def _stdout_to_devnull() -> None:
    """Point stdout at /dev/null, so that the interpreter's last flush cannot fail
    again (and print "Exception ignored ... BrokenPipeError")."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


class ToynnGroup(click.Group):
    """A click group whose errors are one line on stderr (no usage block, no traceback)
    and whose commands are imported when they run (:data:`COMMANDS`)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, name, _ = COMMANDS[cmd_name]
        command = getattr(importlib.import_module(f"toynn_cli.cli.{module}"), name)
        assert isinstance(command, click.Command)
        if cmd_name not in TRAINING_COMMANDS:
            release_gc()
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def main(self, args: Sequence[str] | None = None, **extra: Any) -> Any:  # type: ignore[override]
        argv = list(args) if args is not None else sys.argv[1:]
        extra["standalone_mode"] = False
        extra.setdefault("obj", {"argv": argv})
        _tolerate_narrow_encodings()
        try:
            code = super().main(argv, **extra)
        except BrokenPipeError:  # `toynn sweep ... | head`: the reader has gone; quietly
            _stdout_to_devnull()
            sys.exit(EXIT_PIPE)
        except OSError as exc:
            if exc.errno not in STDOUT_ERRORS:
                raise
            _stdout_to_devnull()
            click.echo(f"Error: cannot write to stdout: {exc.strerror or exc}", err=True)
            sys.exit(2)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
            sys.exit(0)
        except click.ClickException as exc:
            message = errors.message(exc, argv)
            if isinstance(exc, click.UsageError) and exc.ctx is not None:
                message += f" (see '{exc.ctx.command_path} --help')"
            click.echo(f"Error: {message}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(130)
        except Interrupted as exc:  # a second signal while a first was held (stdlib only)
            click.echo("Interrupted.", err=True)
            sys.exit(exc.exit_code)
        sys.exit(code if isinstance(code, int) else 0)


@click.group("toynn", cls=ToynnGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="toynn")
def cli() -> None:
    """Run experiments on toy neural networks: the "neural network in 13 lines"
    tutorial (part 2, gradient descent), batched, sweepable and saved.

    Example:

        toynn sweep --config configs/alpha-sweep.yaml
    """


#: Whether :func:`main` holds the garbage collector off (start-up, until release_gc).
_gc_held = False


def hold_gc() -> None:
    """Turn the cyclic garbage collector off for the start-up. Importing numpy, rich,
    yaml and numba and loading numba's kernels allocates some 10^5 objects and makes
    almost no cyclic garbage, yet the collector runs about 250 times over them (about
    80 ms of toynn train's 0.8 s)."""
    global _gc_held
    if gc.isenabled():
        gc.disable()
        _gc_held = True


def release_gc() -> None:
    """Turn the collector back on (if :func:`hold_gc` turned it off), with the objects
    the start-up made frozen: they live until the end, and later collections (and
    forked workers' copy-on-write pages) leave them alone. Called when a command's
    real work starts: training (session.train_all), or any other command once it is
    imported."""
    global _gc_held
    if _gc_held:
        _gc_held = False
        gc.freeze()
        gc.enable()


def main() -> None:
    """The console script's entry point."""
    hold_gc()
    try:
        cli.main(prog_name="toynn")
    finally:
        release_gc()
