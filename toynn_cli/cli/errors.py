"""Click's usage errors in toynn's style: ``option --engine is 'bogus'; expected one of:
auto, numpy, numba, numba-fast``, the same shape as the config checks' messages (the
option, the value as typed, what was expected), with click's hint to ``--help``."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

import click


def typed_value(flags: Sequence[str], argv: Sequence[str]) -> str | None:
    """The value given to an option on the command line (the last one, as click keeps
    it): ``--engine bogus`` or ``--engine=bogus``."""
    found = None
    for i, arg in enumerate(argv):
        name, eq, value = arg.partition("=")
        if name in flags:
            found = value if eq else (argv[i + 1] if i + 1 < len(argv) else None)
    return found


def expected(param_type: click.ParamType) -> str | None:
    """What an option of this type takes, in words."""
    if isinstance(param_type, click.Choice):
        return "one of: " + ", ".join(map(str, param_type.choices))
    if isinstance(param_type, click.IntRange | click.FloatRange):
        kind = "a whole number" if isinstance(param_type, click.IntRange) else "a number"
        bounds = []
        if param_type.min is not None:
            bounds.append(f"{'>' if param_type.min_open else '>='} {param_type.min}")
        if param_type.max is not None:
            bounds.append(f"{'<' if param_type.max_open else '<='} {param_type.max}")
        return " ".join([kind, " and ".join(bounds)]) if bounds else kind
    if param_type is click.INT:
        return "a whole number"
    if param_type is click.FLOAT:
        return "a number"
    return None


def message(exc: click.ClickException, argv: Sequence[str]) -> str:
    """The one line for a click error (without the leading ``Error: ``)."""
    if isinstance(exc, click.NoSuchOption):
        text = f"option {exc.option_name} does not exist"
        choices = sorted(exc.possibilities or ())
        if choices:
            said = (
                choices[0] if len(choices) == 1 else f"{', '.join(choices[:-1])} or {choices[-1]}"
            )
            text += f"; did you mean {said}?"
        return text
    if isinstance(exc, click.MissingParameter) and isinstance(exc.param, click.Argument):
        return f"argument {exc.param.human_readable_name} is missing"
    if isinstance(exc, click.UsageError):
        unknown = re.fullmatch(r"No such command '(.*)'\.", exc.message)
        if unknown and exc.ctx is not None and isinstance(exc.ctx.command, click.Group):
            names = exc.ctx.command.list_commands(exc.ctx)
            hint = difflib.get_close_matches(unknown[1], names, n=1)
            return (
                f"command '{unknown[1]}' does not exist; expected one of: "
                + ", ".join(names)
                + (f" (did you mean '{hint[0]}'?)" if hint else "")
            )
        extra = re.fullmatch(r"Got unexpected extra (arguments?) \((.*)\)", exc.message)
        if extra and exc.ctx is not None:
            takes = [
                p.human_readable_name
                for p in exc.ctx.command.params
                if isinstance(p, click.Argument)
            ]
            wanted = " ".join(takes) if takes else "no arguments, only options"
            got = repr(extra[2]) if extra[1] == "argument" else f"({extra[2]})"
            return f"unexpected {extra[1]} {got}; '{exc.ctx.command_path}' takes {wanted}"
    if isinstance(exc, click.BadOptionUsage) and exc.message.endswith("requires an argument."):
        return f"option {exc.option_name} needs a value"
    if isinstance(exc, click.BadParameter) and isinstance(exc.param, click.Option):
        flag = next((f for f in exc.param.opts if f in _names(argv)), exc.param.opts[-1])
        value = typed_value(exc.param.opts, argv)
        wanted = expected(exc.param.type)
        if value is not None and wanted is not None:
            return f"option {flag} is {value!r}; expected {wanted}"
        path = re.fullmatch(r"(File|Directory|Path) '.*' (.*)\.", exc.message)
        if value is not None and path:
            kind = {"File": "a file", "Directory": "a folder"}.get(path[1], "a path")
            return f"option {flag} is {value!r}, which {path[2]}; expected {kind}"
        return f"option {flag}: {exc.message}"
    return exc.format_message()


def _names(argv: Sequence[str]) -> set[str]:
    return {arg.partition("=")[0] for arg in argv}
