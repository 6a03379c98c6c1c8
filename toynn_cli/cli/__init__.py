"""The ``toynn`` command line: thin click commands, parse -> call -> render.

Data goes to stdout, messages and progress to stderr. Every error the user can fix is
one line on stderr and exit code 2; ``--max-error`` failures exit 1; Ctrl-C exits 130
and SIGTERM 143, after marking the run folder interrupted.

One module per command group (training: train and sweep; reproduce; workspace: runs,
show and compare; surface; plot); output.py holds the Terminal and the one place that
decides table, JSON or CSV; options.py the shared options; session.py the training
session every training command goes through.
"""

from toynn_cli.cli.app import cli, main

__all__ = ["cli", "main"]
