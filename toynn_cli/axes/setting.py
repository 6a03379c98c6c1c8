"""What a setting is (:class:`Setting`), and the pieces its entries are built from: the
labels, cells and record readers many settings share."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from toynn_cli.core.network import NetworkSpec

Record = dict[str, Any]


@dataclass(frozen=True)
class Setting:
    """One setting; see the docstring of :mod:`toynn_cli.axes`."""

    key: str
    flags: tuple[str, ...]
    help: str
    tutorial: Any = None
    one: str | None = None
    #: network settings only
    fields: tuple[str, ...] = ()
    title: str = ""
    label: Callable[[NetworkSpec], str] | None = None
    blank: str = ""
    cell: Callable[[NetworkSpec], Any] | None = None
    record: Callable[[NetworkSpec], Record] = field(default=lambda spec: {})
    read: Callable[[Record], dict[str, Any]] = field(default=lambda record: {})
    #: the option's metavar, if not the default
    metavar: str | None = None
    #: for a setting with parameters (optimizer, schedule): those set for the network,
    #: and all of them with the defaults filled in (what identifies it across runs)
    params: Callable[[NetworkSpec], Iterable[tuple[str, Any]]] | None = None
    full_params: Callable[[NetworkSpec], dict[str, Any]] | None = None
    #: the values a shell completes for the option (called only when completing)
    choices: Callable[[], Sequence[str]] | None = None

    @property
    def per_network(self) -> bool:
        return bool(self.fields)

    @property
    def name(self) -> str:
        """The setting's name as a network has it: ``alpha``, ``hidden``, ``optimizer``."""
        return self.one or self.key

    @property
    def option(self) -> str:
        """The option's canonical spelling, for messages: ``--alphas``."""
        return "--" + self.key.replace("_", "-")


def show_number(value: float) -> str:
    """A number as short as it reads back exactly: 0.001, 1e-05, 0.30000000000000004."""
    return f"{value:g}" if float(f"{value:g}") == value else repr(value)


def pairs(params: Iterable[tuple[str, Any]]) -> str:
    shown = []
    for key, value in params:
        if isinstance(value, tuple):
            value = ",".join(f"{v:g}" for v in value)
        shown.append(f"{key}={value:g}" if isinstance(value, float) else f"{key}={value}")
    return " ".join(shown)


def plain(params: dict[str, Any]) -> dict[str, Any]:
    """Hyperparameters as plain JSON data (pairs such as betas as lists)."""
    return {key: list(v) if isinstance(v, tuple) else v for key, v in params.items()}


def given_params(params: Any, defaults: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """A record's parameters (defaults filled in) back to the ones set away from the
    defaults, as a NetworkSpec holds them (lists back to tuples)."""
    out = []
    for key, value in dict(params or {}).items():
        value = tuple(value) if isinstance(value, list) else value
        if key not in defaults or value != defaults[key]:
            out.append((key, value))
    return tuple(out)


def show_hidden(hidden: int | tuple[int, ...]) -> str:
    """A hidden setting as typed: ``4``, ``0``, or ``8x4`` for two hidden layers."""
    return "x".join(map(str, hidden)) if isinstance(hidden, tuple) else str(hidden)


def choice(name: str, choices: Sequence[str], default: str) -> Callable[[Record], dict]:
    def read(record: Record) -> dict[str, Any]:
        value = str(record.get(name, default))
        if value not in choices:
            raise ValueError(f"unknown {name} {value!r}")
        return {name: value}

    return read


def flag(name: str) -> Callable[[Record], dict]:
    def read(record: Record) -> dict[str, Any]:
        value = record.get(name, False)
        if not isinstance(value, bool):
            raise ValueError(f"{name} {value!r} is not true or false")
        return {name: value}

    return read


def float_field(name: str) -> Callable[[Record], dict]:
    return lambda record: {name: float(record.get(name, 0.0))}


def int_field(name: str) -> Callable[[Record], dict]:
    return lambda record: {name: int(record.get(name, 0))}


def off(value: float) -> str:
    return show_number(value) if value else "-"


def same(name: str) -> Callable[[NetworkSpec], Record]:
    return lambda spec: {name: getattr(spec, name)}
