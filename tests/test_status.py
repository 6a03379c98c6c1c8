"""Status labels beyond the tutorial's seven networks."""

from __future__ import annotations

import numpy as np
import pytest

from toynn_cli.analysis import status
from toynn_cli.core import engine
from toynn_cli.core.datasets import BUILTIN
from toynn_cli.core.network import NetworkSpec


def _batch(alphas, hidden, seeds, iterations):
    data = BUILTIN["xor"]
    specs = [NetworkSpec(a, h, s) for h in hidden for a in alphas for s in seeds]
    return [
        engine.train_batch(data.x, data.y, [sp for sp in specs if sp.hidden == h], iterations, 500)
        for h in hidden
    ]


@pytest.mark.slow
def test_small_steps_are_never_diverged_even_when_the_mean_error_creeps_up():
    """At alpha 0.001 the mean |error| may rise a little while the loss falls."""
    for batch in _batch([0.001], [0, 1, 2, 4, 8], range(1, 21), 2000):
        labels = status.classify_batch(batch)
        assert "diverged" not in labels.tolist()
        assert set(labels.tolist()) <= {"learning", "stuck"}


@pytest.mark.slow
def test_huge_steps_are_diverged_for_every_seed_and_hidden_size():
    for batch in _batch([1000.0, 1e6], [0, 1, 2, 4, 8], range(1, 11), 2000):
        assert status.classify_batch(batch).tolist() == ["diverged"] * len(batch)


@pytest.mark.slow
def test_one_network_and_a_batch_get_the_same_label():
    for batch in _batch([0.001, 0.1, 10.0, 100.0, 1000.0], [2, 4], range(1, 6), 3000):
        labels = status.classify_batch(batch)
        assert [status.classify(batch.network(b)) for b in range(len(batch))] == labels.tolist()


def test_non_finite_weights_are_diverged():
    (batch,) = _batch([1.0], [4], [1], 10)
    batch.weights[0][0, 0, 0] = np.nan
    assert status.classify_batch(batch).tolist() == ["diverged"]
    assert status.classify(batch.network(0)) == "diverged"
