"""Status labels beyond the tutorial's seven networks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from clitools import invoke_ok

from toynn_cli.analysis import status
from toynn_cli.core import engine
from toynn_cli.core.datasets import BUILTIN
from toynn_cli.core.network import BatchResult, NetworkResult, NetworkSpec

ROOT = Path(__file__).resolve().parents[1]


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
def test_huge_steps_are_diverged_unless_their_error_came_down():
    """Alpha 1000 and 1e6 blow every network up; all but one also end near 0.5 or run
    away. That one came down from 0.503 to 0.375 and froze there: stuck on that plateau
    (its weights grew 67 times, short of RAN_AWAY)."""
    came_down = {(1000.0, 4, 9): 0.37516812504393193}
    for batch in _batch([1000.0, 1e6], [0, 1, 2, 4, 8], range(1, 11), 2000):
        labels = status.classify_batch(batch).tolist()
        for spec, label, final in zip(batch.specs, labels, batch.final_error):
            key = (spec.alpha, spec.hidden, spec.seed)
            assert label == ("stuck" if key in came_down else "diverged"), key
            if key in came_down:
                assert final == came_down[key]


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


# Synthetic networks: the rule reads the error at iteration 0, at the start of the last
# tenth (iteration 90 of 100) and final, the final outputs, and the largest weight.
HALF = np.full((4, 1), 0.5)  # outputs that are neither saturated nor anything else
PINNED = np.array([[0.0], [1.0], [1.0], [0.0]])


def _network(e0, e90, final, outputs=HALF, grow=1.0, nan_weight=False, still=False):
    """One network's record: errors e0, e90, final; weights ``grow`` times the initial
    (and moved a little unless ``still``: grow 1 is then the largest weight unchanged)."""
    initial = [np.array([[0.5, -1.0]]), np.array([[0.25], [0.75]])]
    weights = [w * grow for w in initial]
    if not still:
        weights[1] = weights[1] * 0.5
    if nan_weight:
        weights[1] = weights[1].copy()
        weights[1][0, 0] = np.nan
    return NetworkResult(
        spec=NetworkSpec(1.0, 2, 1),
        iterations=100,
        checkpoint_iterations=np.array([0]),
        checkpoint_errors=np.array([e0]),
        final_error=final,
        history_iterations=np.array([0, 50, 90]),
        history_errors=np.array([e0, (e0 + e90) / 2, e90]),
        weights_initial=initial,
        weights=weights,
        direction_changes=[np.zeros((1, 2), np.int64), np.zeros((2, 1), np.int64)],
        outputs=np.asarray(outputs, dtype=float),
    )


def _label(*args, **kwargs):
    """classify's label, checked against classify_batch on the same network."""
    net = _network(*args, **kwargs)
    batch = BatchResult(
        specs=[net.spec],
        iterations=net.iterations,
        checkpoint_iterations=net.checkpoint_iterations,
        checkpoint_errors=net.checkpoint_errors[None],
        final_error=np.array([net.final_error]),
        history_iterations=net.history_iterations,
        history_errors=net.history_errors[None],
        weights_initial=[w[None] for w in net.weights_initial],
        weights=[w[None] for w in net.weights],
        direction_changes=[c[None] for c in net.direction_changes],
        outputs=net.outputs[None],
    )
    label = status.classify(net)
    assert status.classify_batch(batch).tolist() == [label]
    return label


def test_the_thresholds_are_the_documented_ones():
    assert (status.CONVERGED, status.STILL_LEARNING) == (0.05, 1e-3)
    assert (status.GREW, status.SATURATED) == (10.0, 0.05)
    assert (status.CAME_DOWN, status.LEARNT_NOTHING, status.RAN_AWAY) == (0.05, 0.5, 1000.0)
    text = (ROOT / "docs" / "seeing-results.md").read_text()
    for value in (
        "0.05 of 0 or 1",
        "0.1 %",
        "10 times",
        "1000 times",
        "at most 0.05",
        "95 %",
        "or of 0.5",
    ):
        assert value in text.split("## Statuses", 1)[1].split("\n## ", 1)[0]


def test_converged_at_and_around_the_threshold():
    assert _label(0.5, 0.05, 0.05) == "converged"
    assert _label(0.5, 0.05, np.nextafter(0.05, 1.0)) == "stuck"
    # still falling fast, but above the threshold: learning
    assert _label(0.5, 0.06, np.nextafter(0.05, 1.0)) == "learning"


def test_learning_at_and_around_the_threshold():
    # the error fell by 0.1 % over the last tenth: not more than STILL_LEARNING
    assert _label(0.5, 0.25, 0.25 * (1 - 0.999e-3)) == "stuck"
    assert _label(0.5, 0.25, 0.25 * (1 - 1.001e-3)) == "learning"
    assert _label(0.5, 0.25, 0.25) == "stuck"
    assert _label(0.5, 0.25, 0.3) == "stuck"  # rose over the last tenth, still below start


def test_saturated_at_and_around_the_threshold():
    at = np.array([[0.05], [1.0], [1.0 - 2**-5], [0.0]])  # 0.05 and 0.03125 off
    assert status.saturated(at)
    assert status.saturated(PINNED)
    assert not status.saturated(np.array([[np.nextafter(0.05, 1.0)], [1.0], [1.0], [0.0]]))
    assert not status.saturated(np.array([[0.0], [1.0 - 2**-4], [1.0], [0.0]]))  # 0.0625
    assert not status.saturated(HALF)
    assert _label(0.49, 0.5, 0.5, outputs=at) == "diverged"
    above = np.array([[0.0625], [1.0], [1.0], [0.0]])
    assert _label(0.49, 0.5, 0.5, outputs=above) == "stuck"


def test_saturated_outputs_of_weights_that_never_moved_are_stuck():
    """Inputs that pin every sigmoid from the start: the gradient is 0, nothing blew up."""
    assert _label(1.0, 1.0, 1.0, outputs=PINNED, grow=1.0, still=True) == "stuck"
    assert _label(1.0, 1.0, 1.0, outputs=PINNED, grow=1.0) == "diverged"


def test_grew_at_and_around_the_threshold():
    assert _label(0.49, 0.5, 0.5, grow=10.0) == "diverged"
    assert _label(0.49, 0.5, 0.5, grow=9.99) == "stuck"


def test_came_down_at_and_around_the_threshold():
    # 95 % of 0.5 is 0.475: ending there is not coming down
    assert _label(0.5, 0.475, 0.475, outputs=PINNED) == "diverged"
    assert _label(0.5, 0.475, np.nextafter(0.475, 0.0), outputs=PINNED) == "stuck"
    assert _label(0.5, 0.475, 0.475, grow=10.0) == "diverged"
    assert _label(0.5, 0.475, np.nextafter(0.475, 0.0), grow=10.0) == "stuck"
    # blown up but the error halved (xor's plateau of one wrong sample): stuck
    assert _label(0.4998, 0.2503, 0.2502, outputs=PINNED, grow=30.0) == "stuck"
    # from a start above 0.5 the bar is 95 % of 0.5: ending at 0.5 is not coming down
    assert _label(0.5087, 0.5, 0.5, outputs=PINNED) == "diverged"
    assert _label(0.54, 0.475, 0.475, outputs=PINNED) == "diverged"
    assert _label(0.54, 0.475, np.nextafter(0.475, 0.0), outputs=PINNED) == "stuck"
    assert _label(0.54, 0.475, np.nextafter(0.475, 0.0), grow=10.0) == "stuck"


def test_ending_at_one_half_without_blowing_up_is_stuck():
    """No hidden layer on xor: every output 0.5 and the weights shrinking, error 0.5."""
    assert _label(0.4995, 0.5, 0.5, outputs=HALF, grow=0.01) == "stuck"


def test_ran_away_at_and_around_the_threshold():
    # the error came down to a plateau, but the weights grew a thousandfold
    assert _label(0.5, 0.375, 0.375, grow=1000.0) == "diverged"
    assert _label(0.5, 0.375, 0.375, grow=999.0) == "stuck"
    # ...unless it converged: a huge step can still fit the data
    assert _label(0.5, 0.05, 0.05, grow=1000.0) == "converged"
    assert _label(0.5, 0.05, np.nextafter(0.05, 1.0), grow=1000.0) == "diverged"


def test_anything_not_finite_is_diverged():
    assert _label(0.5, 0.1, 0.01, nan_weight=True) == "diverged"
    assert _label(0.5, 0.1, np.nan) == "diverged"
    assert _label(0.5, 0.1, 0.01, outputs=np.array([[np.inf], [1.0], [1.0], [0.0]])) == "diverged"


def test_diverged_wins_over_converged():
    assert _label(0.04, 0.04, 0.04, grow=10.0) == "diverged"
    assert _label(0.04, 0.04, 0.04, grow=9.0) == "converged"


def _sweep_json(*args: object) -> dict:
    result = invoke_ok("sweep", *args, "--json", "--quiet", "--no-save")
    (net,) = json.loads(result.stdout)["networks"]
    return net


def test_32_hidden_units_at_alpha_100_diverge_as_the_config_says(cli_env):
    """Every output saturated at 0 and the error 0.5, above its start: as alpha 1000."""
    config = ROOT / "configs" / "alpha-sweep-h32.yaml"
    assert "alpha 100 now diverges too" in config.read_text()
    net = _sweep_json("--config", config, "--alphas", "100")
    assert net["final_error"] == 0.5
    assert net["checkpoints"][0]["error"] == 0.49643992250078794
    assert max(abs(o) for (o,) in net["outputs"]) < 1e-28
    assert net["status"] == "diverged"


def test_two_hidden_units_whose_error_halved_are_stuck_not_diverged(cli_env):
    """Seed 0 at alpha 10 sits on xor's 0.25 plateau (one sample wrong) at 10000
    iterations, and converges later: it never diverged."""
    args = ["--dataset", "xor", "--hidden", "2", "--alphas", "10", "--seeds", "0"]
    net = _sweep_json(*args, "--iterations", "10000", "--log-every", "5000")
    assert [c["error"] for c in net["checkpoints"]] == [0.4998796200991707, 0.25043339789734786]
    assert net["final_error"] == 0.25022929191680326
    assert net["status"] == "stuck"
    later = _sweep_json(*args, "--iterations", "20000", "--log-every", "5000")
    assert later["final_error"] == 0.007286068923105097
    assert later["status"] == "converged"
