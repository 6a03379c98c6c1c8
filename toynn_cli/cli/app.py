"""The toynn click group and its entry point."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click

from toynn_cli import __version__
from toynn_cli.run.interrupts import Interrupted


class ToynnGroup(click.Group):
    """A click group whose errors are one line on stderr (no usage block, no traceback)."""

    def main(self, args: Sequence[str] | None = None, **extra: Any) -> Any:  # type: ignore[override]
        argv = list(args) if args is not None else sys.argv[1:]
        extra["standalone_mode"] = False
        extra.setdefault("obj", {"argv": argv})
        try:
            code = super().main(argv, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
            sys.exit(0)
        except click.ClickException as exc:
            message = exc.format_message()
            if isinstance(exc, click.UsageError) and exc.ctx is not None:
                message += f" (see '{exc.ctx.command_path} --help')"
            click.echo(f"Error: {message}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(130)
        except Interrupted as exc:  # a second signal while a first was held
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


def main() -> None:
    """The console script's entry point."""
    cli.main(prog_name="toynn")
