"""Shared fixtures: the tutorial's networks, trained once per test session."""

from __future__ import annotations

import pytest

from toynn_cli.core import engine, network, tutorial
from toynn_cli.core.datasets import BUILTIN


@pytest.fixture(scope="session")
def xor():
    return BUILTIN["xor"]


@pytest.fixture(scope="session")
def tutorial_sweep(xor) -> list[network.NetworkResult]:
    """The published sweep (7 alphas, hidden 4, seed 1, 60000 iterations), batched."""
    specs = [
        network.NetworkSpec(alpha, tutorial.HIDDEN, tutorial.SEED) for alpha in tutorial.PUBLISHED
    ]
    return engine.train(xor.x, xor.y, specs, tutorial.ITERATIONS, tutorial.LOG_EVERY)


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    """A test of the command line: in its own working directory (run folders go to
    ./runs), with no environment variables that would change rich's output."""
    monkeypatch.chdir(tmp_path)
    for var in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path
