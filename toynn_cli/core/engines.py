"""The training engines, in one registry: each one's name, what it trains, whether it
is installed, and how it trains a batch. Executors, the config's check and the
command line look engines up here and nowhere else.

No printing; numba is imported only when a numba engine trains.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from toynn_cli.core import engine, network
from toynn_cli.core.network import BatchResult, NetworkSpec


class TrainFn(Protocol):
    """How an engine trains a batch of networks of one layout: every engine's ``train``
    has this signature (the executor calls it positionally). ``progress(j)`` is called
    now and then with the iterations done; ``threads`` is for the engines that use
    threads (None: their default; the others ignore it); results in ``specs`` order."""

    def __call__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        specs: Sequence[NetworkSpec],
        iterations: int,
        log_every: int,
        progress: Callable[[int], None] | None = None,
        threads: int | None = None,
        record_every: int = 0,
    ) -> BatchResult: ...


@dataclass(frozen=True)
class Engine:
    """One way to train a batch of networks of one layout (see network.layout_key)."""

    name: str
    #: what it is, for --help
    summary: str
    train: TrainFn
    #: the first setting of a network it cannot train, as (field, value), or None
    unsupported: Callable[[NetworkSpec], tuple[str, Any] | None]
    #: whether it can run here (its optional dependency is installed)
    available: Callable[[], bool]
    #: how to get it when it is not available
    install_hint: str = ""
    #: made ready for these networks on this data (x, y) before worker processes fork,
    #: so that they inherit it (numba: the kernels they need compiled)
    prepare: Callable[[Sequence[NetworkSpec], np.ndarray, np.ndarray], None] = lambda specs, x, y: (
        None
    )
    #: whether getting ready for these networks on this data will compile (not load from
    #: a cache): worth a message
    needs_compiling: Callable[[Sequence[NetworkSpec], np.ndarray, np.ndarray], bool] = (
        lambda specs, x, y: False
    )
    #: whether it spreads a batch over threads of this process itself (numba: the
    #: compiled code releases the GIL), so that the executor needs no worker processes
    threaded: bool = False


def _numpy_train(
    x: np.ndarray,
    y: np.ndarray,
    specs: Sequence[NetworkSpec],
    iterations: int,
    log_every: int,
    progress: Callable[[int], None] | None = None,
    threads: int | None = None,
    record_every: int = 0,
) -> BatchResult:
    del threads  # one process, one thread: the executor spreads chunks over the cores
    return engine.train_batch(x, y, specs, iterations, log_every, progress, record_every)


def _numba(fast: bool) -> TrainFn:
    def train(
        x: np.ndarray,
        y: np.ndarray,
        specs: Sequence[NetworkSpec],
        iterations: int,
        log_every: int,
        progress: Callable[[int], None] | None = None,
        threads: int | None = None,
        record_every: int = 0,
    ) -> BatchResult:
        from toynn_cli.core import engine_numba  # imports numba only now

        return engine_numba.train_batch(
            x, y, specs, iterations, log_every, progress, threads, record_every, fast_exp=fast
        )

    return train


def _numba_unsupported(spec: NetworkSpec) -> tuple[str, Any] | None:
    from toynn_cli.core import engine_numba  # does not import numba

    return engine_numba.unsupported(spec)


def _numba_prepare(specs: Sequence[NetworkSpec], x: np.ndarray, y: np.ndarray) -> None:
    from toynn_cli.core import engine_numba

    engine_numba.prepare(specs, x, y)


def _numba_needs_compiling(specs: Sequence[NetworkSpec], x: np.ndarray, y: np.ndarray) -> bool:
    from toynn_cli.core import engine_numba

    return engine_numba.needs_compiling(specs, x, y)


def _numba_available() -> bool:
    from toynn_cli.core import engine_numba

    return engine_numba.available()


#: What the numba engine does not train (``auto`` trains it with numpy), for messages
#: and --help; engine_numba.unsupported is the rule.
NUMBA_FALLS_BACK = "mini-batches (batch_size), dropout and batch norm"

REGISTRY: dict[str, Engine] = {
    e.name: e
    for e in (
        Engine(
            "numpy", "the reference, every setting", _numpy_train, lambda spec: None, lambda: True
        ),
        Engine(
            "numba",
            "compiled, the same bits; every setting but " + NUMBA_FALLS_BACK,
            _numba(fast=False),
            _numba_unsupported,
            _numba_available,
            "pip install numba",
            _numba_prepare,
            _numba_needs_compiling,
            threaded=True,
        ),
        Engine(
            "numba-fast",
            "numba with a vectorised exp",
            _numba(fast=True),
            _numba_unsupported,
            _numba_available,
            "pip install numba",
            _numba_prepare,
            _numba_needs_compiling,
            threaded=True,
        ),
    )
}
NAMES: tuple[str, ...] = tuple(REGISTRY)
#: what a config or --engine may say: an engine, or ``auto`` (the default)
AUTO = "auto"
CHOICES: tuple[str, ...] = (AUTO, *NAMES)
#: the engines ``auto`` tries, fastest first (numba gives the NumPy engine's bits)
PREFERENCE = ("numba", "numpy")


def choose(name: str, specs: Sequence[NetworkSpec]) -> str:
    """The engine that trains these networks: ``name``, or for ``auto`` the fastest
    installed engine that supports every one of them. Every engine gives the same
    bits, so the choice changes only the speed."""
    if name != AUTO:
        return name
    for candidate in PREFERENCE:
        chosen = REGISTRY[candidate]
        if chosen.available() and all(
            chosen.unsupported(s) is None for s in network.distinct(specs)
        ):
            return candidate
    return "numpy"


def get(name: str) -> Engine:
    """The engine called ``name``; ValueError naming the engines if there is none."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown engine {name!r}; expected one of {', '.join(NAMES)}") from None


def fallback_note(name: str, specs: Sequence[NetworkSpec], chosen: str) -> str | None:
    """A line to say when ``auto`` chose numpy only because numba is missing."""
    numba = REGISTRY["numba"]
    if name != AUTO or chosen != "numpy" or numba.available():
        return None
    if any(numba.unsupported(s) is not None for s in network.distinct(specs)):
        return None
    return f"numba is not installed: training with the NumPy engine (slower; {numba.install_hint})"


def refusal(name: str, specs: Sequence[NetworkSpec]) -> str | None:
    """Why engine ``name`` cannot train these networks (a setting it does not support,
    or it is not installed), as the end of a sentence; None if it can."""
    if name == AUTO:
        return None
    chosen = get(name)
    for spec in network.distinct(specs):
        found = chosen.unsupported(spec)
        if found is not None:
            return (
                f"which cannot train {found[0]} {found[1]!r}; expected engine numpy for "
                f"{NUMBA_FALLS_BACK} (numba trains every other setting)"
            )
    if not chosen.available():
        return f"but numba is not installed; install it with: {chosen.install_hint}"
    return None
