"""Shell completion (click's: ``eval "$(_TOYNN_COMPLETE=bash_source toynn)"``): the
values of the settings that have choices, comma lists included, and run folders."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import click
from click.shell_completion import CompletionItem

from toynn_cli.store.runs import STATUS_FILE

Completer = Callable[[click.Context, click.Parameter, str], list[CompletionItem]]


def values(choices: Callable[[], Sequence[str]], files: bool = False) -> Completer:
    """Complete the last item of a comma list (``sgd,ad`` -> ``sgd,adam``) from
    ``choices``; with ``files``, the shell's file names too (a dataset's CSV)."""

    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
        head, comma, last = incomplete.rpartition(",")
        items = [CompletionItem(head + comma + c) for c in choices() if c.startswith(last)]
        if files and not comma:
            items.append(CompletionItem(incomplete, type="file"))
        return items

    return complete


def run_folders(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
    """The run folders under the runs directory (``--out``, else ``runs``) whose path
    starts with what is typed, then the shell's own folder names."""
    root = Path(ctx.params.get("out") or "runs")
    items = []
    try:
        for child in sorted(root.iterdir(), reverse=True):  # newest first
            shown = str(child)
            if shown.startswith(incomplete) and (child / STATUS_FILE).is_file():
                items.append(CompletionItem(shown))
    except OSError:
        pass
    return [*items, CompletionItem(incomplete, type="dir")]
