"""The numba engine (``--engine numba``): agreement with the NumPy engine, batch
independence, the CLI, and the message when numba is not installed."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from toynn_cli import config
from toynn_cli.cli import cli
from toynn_cli.core import engine, network, tutorial
from toynn_cli.core.blocks import BLOCK
from toynn_cli.core.datasets import BUILTIN
from toynn_cli.core.network import NetworkSpec
from toynn_cli.run import executor


def _bits(a: np.ndarray) -> bytes:
    """The array's bytes, every NaN made the same NaN: a NaN's sign follows the order of
    an operation's two NaN operands, which neither NumPy's loops nor LLVM keep (they
    commute additions and multiplications), so it is not part of the engines' contract.
    Every other value must have the same bits."""
    a = np.asarray(a)
    if a.dtype.kind == "f" and np.isnan(a).any():
        a = np.where(np.isnan(a), np.nan, a)
    return a.tobytes()


def _agree(a: network.BatchResult, b: network.BatchResult) -> None:
    """Every recorded number has the same bits (NaN where the other has NaN), and so
    do the direction changes, the accuracy and where networks stopped."""
    assert a.specs == b.specs and a.iterations == b.iterations
    np.testing.assert_array_equal(a.checkpoint_iterations, b.checkpoint_iterations)
    np.testing.assert_array_equal(a.history_iterations, b.history_iterations)
    for name in ("checkpoint_errors", "final_error", "history_errors", "outputs"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.shape == y.shape and x.dtype == y.dtype, name
        assert _bits(x) == _bits(y), name
    for name in ("weights", "weights_initial"):
        for x, y in zip(getattr(a, name), getattr(b, name), strict=True):
            assert x.shape == y.shape, name
            assert _bits(x) == _bits(y), name
    assert a.stopped_at.dtype == b.stopped_at.dtype == np.int64
    np.testing.assert_array_equal(a.stopped_at, b.stopped_at)
    for x, y in zip(a.direction_changes, b.direction_changes, strict=True):
        assert x.dtype == y.dtype == np.int64
        np.testing.assert_array_equal(x, y)
    # accuracy: counts of outputs on the right side of 0.5, so the same values exactly
    # (NaN in both for targets that are not all 0 or 1)
    for name in ("checkpoint_accuracy", "final_accuracy"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.shape == y.shape and x.dtype == y.dtype == np.float64, name
        np.testing.assert_array_equal(x, y, err_msg=name)


def _identical(a: network.BatchResult, i: int, b: network.BatchResult, j: int) -> None:
    """Network ``i`` of ``a`` and network ``j`` of ``b`` have the same bits everywhere."""
    ra, rb = a.network(i), b.network(j)
    assert ra.spec == rb.spec
    for name in ("checkpoint_errors", "history_errors", "outputs"):
        assert getattr(ra, name).tobytes() == getattr(rb, name).tobytes(), name
    assert np.float64(ra.final_error).tobytes() == np.float64(rb.final_error).tobytes()
    assert ra.final_accuracy == rb.final_accuracy
    assert ra.checkpoint_accuracy.tobytes() == rb.checkpoint_accuracy.tobytes()
    for name in ("weights", "weights_initial", "direction_changes"):
        for x, y in zip(getattr(ra, name), getattr(rb, name), strict=True):
            assert x.tobytes() == y.tobytes(), name


@pytest.fixture(scope="module")
def numba_engine():
    pytest.importorskip("numba")
    from toynn_cli.core import engine_numba

    return engine_numba


@pytest.mark.slow
def test_the_tutorials_seven_networks_agree_with_the_numpy_engine(numba_engine, xor):
    specs = [NetworkSpec(a, tutorial.HIDDEN, tutorial.SEED) for a in tutorial.PUBLISHED]
    args = (xor.x, xor.y, specs, tutorial.ITERATIONS, tutorial.LOG_EVERY)
    reference = engine.train_batch(*args)
    compiled = numba_engine.train_batch(*args)
    _agree(reference, compiled)
    # ... and so they reproduce the published digits
    for r in compiled.networks():
        for c, e in enumerate(r.checkpoint_errors):
            assert tutorial.compare(r.spec.alpha, c, float(e)) != "mismatch"


@pytest.mark.parametrize("hidden", [0, 1, 3, 8])
def test_a_mixed_sweep_agrees_with_the_numpy_engine(numba_engine, hidden):
    data = BUILTIN["xor"] if hidden else BUILTIN["first-column"]
    alphas = [0.001, 0.1, 1.0, 10.0, 1000.0, 1e6, 1e300]
    specs = [NetworkSpec(a, hidden, s) for a in alphas for s in (0, 3, 7, 11)]
    args = (data.x, data.y, specs, 1500, 400)
    _agree(engine.train_batch(*args), numba_engine.train_batch(*args))


def test_several_outputs_and_odd_sizes_agree(numba_engine):
    rng = np.random.RandomState(3)
    x, y = rng.uniform(-1, 1, (5, 3)), rng.uniform(0, 1, (5, 2))
    specs = [NetworkSpec(a, 5, s) for a in (0.3, 3.0) for s in range(BLOCK)]
    args = (x, y, specs, 700, 100)
    _agree(engine.train_batch(*args), numba_engine.train_batch(*args))


def test_accuracy_of_several_classification_outputs_agrees(numba_engine):
    rng = np.random.RandomState(4)
    x, y = rng.uniform(-1, 1, (7, 2)), rng.randint(0, 2, (7, 3)).astype(float)
    specs = [NetworkSpec(a, 3, s) for a in (0.1, 1.0, 30.0) for s in range(5)]
    reference = engine.train_batch(x, y, specs, 900, 100)
    compiled = numba_engine.train_batch(x, y, specs, 900, 100)
    _agree(reference, compiled)
    assert not np.isnan(compiled.checkpoint_accuracy).any()
    assert len(np.unique(compiled.checkpoint_accuracy)) > 1  # not a constant by accident
    # non-classification targets: NaN in both engines
    soft = engine.train_batch(x, y * 0.5, specs[:2], 300, 100)
    assert np.isnan(soft.checkpoint_accuracy).all() and np.isnan(soft.final_accuracy).all()
    _agree(soft, numba_engine.train_batch(x, y * 0.5, specs[:2], 300, 100))


def test_alone_and_in_a_large_batch_are_bit_identical(numba_engine, xor):
    alphas = [0.001, 0.03, 0.5, 2.0, 10.0, 100.0, 1000.0, 1e6]
    block = BLOCK
    seeds = -(-5 * block // (2 * len(alphas)))  # two and a half blocks
    sweep = [NetworkSpec(a, 4, s) for a in alphas for s in range(seeds)]
    big = numba_engine.train_batch(xor.x, xor.y, sweep, 2000, 300)
    serial = numba_engine.train_batch(xor.x, xor.y, sweep, 2000, 300, threads=1)
    rng = np.random.RandomState(0)
    for i in rng.choice(len(sweep), size=10, replace=False):
        alone = numba_engine.train_batch(xor.x, xor.y, [sweep[i]], 2000, 300)
        _identical(alone, 0, big, i)
        _identical(serial, i, big, i)
    others = [sweep[i] for i in (2 * block + 1, 5, block + 7, block, block - 1)]  # across blocks
    small = numba_engine.train_batch(xor.x, xor.y, others, 2000, 300)
    for k, spec in enumerate(others):
        _identical(small, k, big, sweep.index(spec))


def test_progress_reaches_the_iterations(numba_engine, xor):
    calls = []
    numba_engine.train_batch(xor.x, xor.y, [NetworkSpec(1, 4, 1)], 250, 100, calls.append)
    assert calls[-1] == 250 and calls == sorted(calls)


def test_each_span_trains_its_segments_in_order_on_a_thread_of_its_own():
    import threading

    from toynn_cli.core import engine_numba

    ran: dict[tuple, list[tuple[int, int]]] = {}
    threads: dict[tuple, set[threading.Thread]] = {}
    told: list[tuple[int, bool]] = []

    def train(j0: int, j1: int, span: tuple) -> None:
        ran.setdefault(span, []).append((j0, j1))
        threads.setdefault(span, set()).add(threading.current_thread())

    bounds = [0, 3, 6, 9, 10]
    spans = [(0, 2), (2, 4), (4, 5)]
    engine_numba._run_spans(
        train, spans, bounds, lambda j: told.append((j, threading.current_thread() is threading.main_thread()))
    )  # fmt: skip
    assert ran == {span: [(0, 3), (3, 6), (6, 9), (9, 10)] for span in spans}
    assert all(len(found) == 1 for found in threads.values())
    assert len(set().union(*threads.values())) == 3
    values = [j for j, _ in told]
    assert values == sorted(set(values)) and values[-1] == 10  # told from this thread
    assert all(main for _, main in told)


def test_a_failing_span_stops_the_others_and_raises_here():
    import time

    from toynn_cli.core import engine_numba

    ran: list[tuple[int, tuple]] = []

    def train(j0: int, j1: int, span: tuple) -> None:
        if span == (1, 2) and j0 == 2:
            raise KeyboardInterrupt
        time.sleep(0.01)
        ran.append((j0, span))

    with pytest.raises(KeyboardInterrupt):
        engine_numba._run_spans(train, [(0, 1), (1, 2)], list(range(0, 200, 2)), None)
    assert (0, (1, 2)) in ran and (2, (1, 2)) not in ran
    assert len([j for j, span in ran if span == (0, 1)]) < 20  # stopped, not run to 200


def test_huge_alphas_train_silently(numba_engine, xor):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        batch = numba_engine.train_batch(xor.x, xor.y, [NetworkSpec(1e300, 4, 1)], 500, 100)
    assert not np.isfinite(batch.weights[0]).all() or batch.final_error[0] >= 0


@pytest.mark.slow
def test_the_executor_runs_either_engine_with_the_same_results(numba_engine, xor):
    specs = [NetworkSpec(a, h, s) for h in (2, 4) for a in (0.1, 10.0) for s in range(300)]
    chunks = executor.plan(specs, 256)
    runs = {}
    for name, workers in (("numpy", 1), ("numba", 1), ("numba", 2)):
        job = executor.Job(xor.x, xor.y, specs, 300, 100, engine=name)
        done = executor.LocalExecutor(workers).run(job, chunks)
        runs[name, workers] = {r.chunk.index: r for r in done}
    for index in runs["numpy", 1]:
        a, b, c = (runs[key][index] for key in (("numpy", 1), ("numba", 1), ("numba", 2)))
        _agree(a.batch, b.batch)
        assert list(a.statuses) == list(b.statuses)
        for i in range(len(b.batch)):
            _identical(b.batch, i, c.batch, i)


def test_the_engine_is_compiled_once_and_its_time_is_kept(numba_engine):
    first = numba_engine.load()
    assert numba_engine.load() is first
    assert numba_engine.load(general=True) is not first  # the version for every setting
    assert set(numba_engine.ready_seconds) >= {"tutorial", "general"}
    assert min(numba_engine.ready_seconds.values()) >= 0


def test_the_versions_a_grid_needs_are_decided_per_layout(numba_engine):
    plain = [NetworkSpec(a, 4, s) for a in (0.1, 10.0) for s in range(3)]
    adam = NetworkSpec(0.1, 4, 0, optimizer="adam")
    assert numba_engine.versions([]) == {False}
    assert numba_engine.versions(plain) == {False}
    assert numba_engine.versions([adam]) == {True}
    assert numba_engine.versions([*plain, adam, NetworkSpec(1.0, 2, 1, bias=True)]) == {
        False, True,
    }  # fmt: skip


def test_kernels_built_with_other_portable_functions_are_flushed(numba_engine, monkeypatch):
    # numba's cache checks only the kernel's own file: when toynn's portable functions
    # change, refresh_cache must empty every kernel's cache entry and stamp the new ones
    numba_engine.load()  # imports the kernels' module
    from toynn_cli.core import _numba_kernels as k

    flushed: list[str] = []

    class Fake:
        def __init__(self, name: str) -> None:
            self.name = name
            self._cache = self

        def flush(self) -> None:
            flushed.append(self.name)

        def recompile(self) -> None:
            flushed.append("recompiled " + self.name)

        def __call__(self) -> int:
            return k.PORTABLE_STAMP + 1  # the digest the cached kernels were built with

    monkeypatch.setattr(k, "portable_stamp", Fake("stamp"))
    monkeypatch.setattr(k, "mean_abs", Fake("mean_abs"))
    monkeypatch.setattr(k, "accuracy", Fake("accuracy"))
    monkeypatch.setattr(k, "kernel_for", lambda general: Fake(f"segment {general}"))
    k.refresh_cache()
    assert flushed == [
        "mean_abs", "accuracy", "segment False", "segment True", "stamp", "recompiled stamp"
    ]  # fmt: skip


def test_specs_it_cannot_train_are_refused(numba_engine, xor):
    with pytest.raises(ValueError, match="one hidden size"):
        numba_engine.train_batch(xor.x, xor.y, [NetworkSpec(1, 4, 1), NetworkSpec(1, 2, 1)], 5, 1)


# --- the command line -------------------------------------------------------------------


@pytest.mark.slow
def test_cli_sweep_with_engine_numba(numba_engine, tmp_path):
    runner = CliRunner()
    args = ["sweep", "--iterations", "3000", "--log-every", "1000", "--out", str(tmp_path)]
    numpy_run = runner.invoke(cli, [*args, "--json", "--no-save"])
    numba_run = runner.invoke(cli, [*args, "--json", "--engine", "numba"])
    assert numpy_run.exit_code == 0, numpy_run.output
    assert numba_run.exit_code == 0, numba_run.output
    a, b = json.loads(numpy_run.stdout), json.loads(numba_run.stdout)
    assert b["experiment"]["engine"] == "numba" and "engine" not in a["experiment"]
    for x, y in zip(a["networks"], b["networks"], strict=True):
        assert x["status"] == y["status"]
        errors = [[c["error"] for c in n["checkpoints"]] for n in (x, y)]
        assert errors[0] == errors[1]  # JSON keeps every float's digits: the same bits
        assert x["final_error"] == y["final_error"]
    (run_dir,) = tmp_path.iterdir()
    assert json.loads((run_dir / "run.json").read_text())["engine"] == "numba"
    assert "engine: numba" in (run_dir / "config.yaml").read_text()


def test_cli_train_with_engine_from_the_config(numba_engine, tmp_path):
    path = tmp_path / "fast.yaml"
    path.write_text("dataset: xor\niterations: 2000\nlog_every: 1000\nengine: numba\n")
    result = CliRunner().invoke(cli, ["train", "-c", str(path), "--json", "--no-save"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["experiment"]["engine"] == "numba"


def _hide_numba(monkeypatch):
    """Make ``import numba`` fail, as when it is not installed."""
    monkeypatch.setitem(sys.modules, "numba", None)
    monkeypatch.delitem(sys.modules, "toynn_cli.core._numba_kernels", raising=False)


@pytest.mark.parametrize("command", ["train", "sweep"])
def test_engine_numba_without_numba_is_one_line_and_exit_2(monkeypatch, tmp_path, command):
    _hide_numba(monkeypatch)
    from toynn_cli.core import engine_numba

    assert not engine_numba.available()
    result = CliRunner().invoke(cli, [command, "--engine", "numba", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "option --engine" in result.stderr
    assert "pip install numba" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_config_engine_numba_without_numba_names_the_key(monkeypatch, tmp_path):
    _hide_numba(monkeypatch)
    path = tmp_path / "fast.yaml"
    path.write_text("engine: numba\n")
    result = CliRunner().invoke(cli, ["sweep", "-c", str(path), "--no-save"])
    assert result.exit_code == 2
    assert f"{path}: key 'engine'" in result.stderr and "pip install numba" in result.stderr


def test_the_numpy_engine_never_imports_numba(monkeypatch, tmp_path):
    _hide_numba(monkeypatch)
    result = CliRunner().invoke(cli, ["train", "--iterations", "10", "--no-save", "--json"])
    assert result.exit_code == 0, result.output


# --- the config key ---------------------------------------------------------------------


def test_config_engine_key_defaults_to_auto_and_round_trips(tmp_path):
    default = config.resolve(None, {}, config.TUTORIAL)
    assert default.engine == "auto"
    assert "engine" not in config.as_dict(default)  # config.yaml unchanged by default
    path = tmp_path / "c.yaml"
    path.write_text("engine: numba\n")
    chosen = config.resolve(path, {}, config.TUTORIAL)
    assert chosen.engine == "numba"
    again = tmp_path / "again.yaml"
    again.write_text(config.dump(chosen))
    assert config.resolve(again, {}, config.TUTORIAL).engine == "numba"
    # the option overrides the file
    assert config.resolve(path, {"engine": "numpy"}, config.TUTORIAL).engine == "numpy"


@pytest.mark.parametrize("value", ["jax", "NUMBA", 1, "[numba]"])
def test_config_engine_key_rejects_other_values(tmp_path, value):
    path = tmp_path / "c.yaml"
    path.write_text(f"engine: {value}\n")
    with pytest.raises(
        config.ConfigError,
        match=r"key 'engine' is .*; expected one of: auto, numpy, numba, numba-fast$",
    ):
        config.resolve(path, {}, config.TUTORIAL)


def test_cli_rejects_an_unknown_engine():
    result = CliRunner().invoke(cli, ["sweep", "--engine", "jax", "--no-save"])
    assert result.exit_code == 2 and "--engine" in result.stderr


@pytest.mark.slow
def test_resume_keeps_the_engine_and_equals_a_straight_run(numba_engine, tmp_path, monkeypatch):
    from clitools import chunk_arrays
    from test_resume import GRID, interrupt_after, invoke, network_records

    monkeypatch.chdir(tmp_path)
    common = [*GRID, "--iterations", 800, "--workers", 1, "--engine", "numba", "--json"]
    assert invoke("sweep", *common, "--out", "straight").exit_code == 0
    (straight,) = (tmp_path / "straight").iterdir()
    with monkeypatch.context() as patch:
        patch.setattr(executor.LocalExecutor, "run", interrupt_after(2, "KeyboardInterrupt"))
        assert invoke("sweep", *common, "--out", "resumed").exit_code == 130
    (run_dir,) = (tmp_path / "resumed").iterdir()
    engines = []
    real_run = executor.LocalExecutor.run

    def spy(self, job, *args, **kwargs):
        engines.append(job.engine)
        return real_run(self, job, *args, **kwargs)

    monkeypatch.setattr(executor.LocalExecutor, "run", spy)
    resumed = invoke("sweep", "--resume", run_dir, "--json")
    assert resumed.exit_code == 0, resumed.stderr
    assert engines == ["numba"]
    assert json.loads((run_dir / "run.json").read_text())["engine"] == "numba"
    assert chunk_arrays(run_dir) == chunk_arrays(straight)
    assert network_records(run_dir) == network_records(straight)


def test_resume_of_a_numba_run_without_numba_is_one_line(numba_engine, tmp_path, monkeypatch):
    from test_resume import GRID, interrupt_after, invoke

    monkeypatch.chdir(tmp_path)
    with monkeypatch.context() as patch:
        patch.setattr(executor.LocalExecutor, "run", interrupt_after(1, "KeyboardInterrupt"))
        args = [*GRID, "--iterations", 200, "--workers", 1, "--engine", "numba", "--out", "o"]
        assert invoke("sweep", *args).exit_code == 130
    (run_dir,) = (tmp_path / "o").iterdir()
    _hide_numba(monkeypatch)
    result = invoke("sweep", "--resume", run_dir)
    assert result.exit_code == 2
    assert "key 'engine' is 'numba'" in result.stderr and "pip install numba" in result.stderr


@pytest.mark.parametrize(
    ("args", "what"),
    [
        (["--dropout", "0.1"], "dropout 0.1"),
        (["--batch-size", "2"], "batch_size 2"),
        (["--batch-norm", "true", "--hidden", "4x4"], "batch_norm True"),
    ],
)
def test_numba_refuses_what_it_cannot_train_with_one_line(tmp_path, monkeypatch, args, what):
    """Checked before anything runs, numba installed or not."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["sweep", "--engine", "numba", "--iterations", "10", *args])
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: option --engine is 'numba', which cannot train {what}; expected engine numpy "
        "for mini-batches (batch_size), dropout and batch norm (numba trains every other "
        "setting)\n"
    )
    assert not (tmp_path / "runs").exists()


def test_a_fine_history_agrees_with_the_numpy_engine(numba_engine, xor):
    specs = [NetworkSpec(alpha, 4, 1) for alpha in (0.5, 10.0, 1000.0)]
    args = (xor.x, xor.y, specs, 700, 100)
    fine = numba_engine.train_batch(*args, record_every=3)
    assert fine.history_iterations.tolist() == sorted({*range(0, 700, 3), 630})
    _agree(engine.train_batch(*args, record_every=3), fine)


# --- the update step: optimizers, clipping, schedules, early stopping, init -------------

#: alphas from tiny to overflowing, 6 x 25 = 150 networks: two blocks
UPDATE_ALPHAS = (0.001, 0.1, 1.0, 10.0, 1000.0, 1e300)

OPTIMIZERS = [
    ("sgd", ()),
    ("sgd", (("weight_decay", 0.01),)),
    ("momentum", ()),
    ("momentum", (("momentum", 0.5), ("dampening", 0.3), ("weight_decay", 0.001))),
    ("nesterov", ()),
    ("nesterov", (("momentum", 0.7), ("weight_decay", 0.01))),
    ("adagrad", ()),
    ("adagrad", (("lr_decay", 0.01), ("initial_accumulator_value", 0.1), ("eps", 1e-8))),
    ("adagrad", (("weight_decay", 0.001),)),
    ("adadelta", ()),
    ("adadelta", (("rho", 0.5), ("eps", 1e-4), ("weight_decay", 0.01))),
    ("rmsprop", ()),
    ("rmsprop", (("centered", True),)),
    ("rmsprop", (("momentum", 0.9),)),
    ("rmsprop", (("centered", True), ("momentum", 0.5), ("alpha", 0.9), ("eps", 1e-6))),
    ("rmsprop", (("weight_decay", 0.01),)),
    ("adam", ()),
    ("adam", (("amsgrad", True),)),
    ("adam", (("betas", (0.8, 0.99)), ("eps", 1e-6), ("weight_decay", 0.01))),
]


def _both(x, y, specs, iterations, log_every, numba_engine, **kwargs):
    """The NumPy engine's and the numba engine's results, which must agree bit for bit;
    the numba one trained in segments (a progress callback), as the CLI trains."""
    reference = engine.train_batch(x, y, specs, iterations, log_every, **kwargs)
    compiled = numba_engine.train_batch(
        x, y, specs, iterations, log_every, lambda j: None, **kwargs
    )
    _agree(reference, compiled)
    return reference, compiled


@pytest.mark.parametrize(
    ("optimizer", "params"), OPTIMIZERS, ids=[f"{o}-{len(p)}" for o, p in OPTIMIZERS]
)
def test_every_optimizer_has_the_numpy_engines_bits(numba_engine, xor, optimizer, params):
    specs = [NetworkSpec(a, 4, s, optimizer, params) for a in UPDATE_ALPHAS for s in range(25)]
    _, compiled = _both(xor.x, xor.y, specs, 600, 100, numba_engine)
    assert len(np.unique(compiled.final_error)) > 50  # they trained, differently
    assert (compiled.stopped_at == -1).all()


@pytest.mark.parametrize(
    "settings",
    [
        {"clip_value": 0.05},
        {"clip_norm": 0.1},
        {"clip_value": 0.05, "clip_norm": 0.1, "optimizer": "adam"},
        {"clip_norm": 0.3, "optimizer": "rmsprop", "optimizer_params": (("centered", True),)},
        {"schedule": "step", "schedule_params": (("step_size", 100), ("gamma", 0.5))},
        {"schedule": "step"},
        {"schedule": "exponential"},
        {"schedule": "exponential", "schedule_params": (("gamma", 0.99),), "optimizer": "adam"},
        {"schedule": "cosine"},
        {"schedule": "cosine", "schedule_params": (("t_max", 300), ("eta_min", 0.01))},
        {"schedule": "cosine", "optimizer": "momentum", "clip_value": 0.2},
    ],
    ids=lambda settings: "-".join(f"{k}={v}" for k, v in settings.items() if "params" not in k),
)
def test_clipping_and_schedules_have_the_numpy_engines_bits(numba_engine, xor, settings):
    specs = [NetworkSpec(a, 4, s, **settings) for a in UPDATE_ALPHAS for s in range(25)]
    _both(xor.x, xor.y, specs, 600, 100, numba_engine)


@pytest.mark.parametrize(
    ("settings", "alphas", "stopped"),
    [
        ({"target_error": 0.1}, UPDATE_ALPHAS, "some"),
        ({"target_error": 0.05, "optimizer": "adam"}, UPDATE_ALPHAS, "some"),
        ({"target_error": 0.45, "schedule": "cosine", "clip_norm": 0.5}, UPDATE_ALPHAS, "some"),
        ({"target_error": 0.6}, UPDATE_ALPHAS, "all"),  # every network at iteration 0
        # every network, at different iterations
        ({"target_error": 0.4, "optimizer": "adam"}, (0.05, 0.1, 0.3), "all"),
        ({"target_error": 0.45}, (1.0, 3.0, 10.0), "all"),
    ],
)
def test_early_stopping_has_the_numpy_engines_bits(numba_engine, xor, settings, alphas, stopped):
    specs = [NetworkSpec(a, 4, s, **settings) for a in alphas for s in range(50)]
    _, compiled = _both(xor.x, xor.y, specs, 1000, 100, numba_engine, record_every=7)
    at = compiled.stopped_at
    if stopped == "all":
        assert (at >= 0).all()
    else:
        assert (at >= 0).any() and (at == -1).any()
    if settings["target_error"] < 0.6:
        assert len(np.unique(at[at >= 0])) > 1


def test_early_stopping_fills_a_stopped_block_and_the_rest_trains(numba_engine, xor):
    """A first block whose networks all stop early and a second that trains on: the
    numba engine stops the first block, the NumPy engine waits for the whole batch; the
    records are the same."""
    probe = [NetworkSpec(0.5, 4, s, "adam", target_error=0.2) for s in range(400)]
    first = engine.train_batch(xor.x, xor.y, probe, 300, 100)
    early = [spec for spec, at in zip(probe, first.stopped_at) if 0 <= at < 300]
    late = [NetworkSpec(0.001, 4, s, "adam", target_error=0.2) for s in range(5)]
    assert len(early) >= BLOCK
    specs = early[:BLOCK] + late
    _, compiled = _both(xor.x, xor.y, specs, 800, 50, numba_engine)
    assert (compiled.stopped_at[:BLOCK] >= 0).all()
    assert (compiled.stopped_at[BLOCK:] == -1).all()


def test_xavier_and_he_init_have_the_numpy_engines_bits(numba_engine, xor):
    specs = [
        NetworkSpec(a, (5, 3), s, "adam", init=init)
        for init in ("uniform", "xavier", "he")
        for a in (0.01, 0.3, 3.0)
        for s in range(15)
    ]  # 135 networks, the initialisations mixed in one batch (two blocks)
    reference, _ = _both(xor.x, xor.y, specs, 500, 100, numba_engine)
    assert reference.weights_initial[0][0].tobytes() != reference.weights_initial[0][45].tobytes()


def test_an_adam_sweep_alone_and_in_a_large_batch_is_bit_identical(numba_engine, xor):
    settings = {
        "optimizer": "adam",
        "optimizer_params": (("amsgrad", True),),
        "clip_norm": 0.5,
        "schedule": "exponential",
        "target_error": 0.1,
    }
    sweep = [NetworkSpec(a, 4, s, **settings) for a in (0.01, 0.1, 1.0) for s in range(100)]
    big = numba_engine.train_batch(xor.x, xor.y, sweep, 900, 300)
    serial = numba_engine.train_batch(xor.x, xor.y, sweep, 900, 300, threads=1)
    assert (big.stopped_at >= 0).any()
    for i in (0, 127, 128, 250, 299):
        alone = numba_engine.train_batch(xor.x, xor.y, [sweep[i]], 900, 300)
        _identical(alone, 0, big, i)
        _identical(serial, i, big, i)
        assert alone.stopped_at[0] == big.stopped_at[i]


def test_engine_auto_trains_an_adam_sweep_with_numba(numba_engine, tmp_path):
    args = ["sweep", "--optimizer", "adam", "--clip-norm", "1", "--schedule", "cosine"]
    args += ["--alphas", "0.01,0.1", "--seeds", "1..3", "--iterations", "300"]
    result = CliRunner().invoke(cli, [*args, "--json", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    assert "engine" not in json.loads(result.stdout)["experiment"]  # auto, the default
    (run_dir,) = tmp_path.iterdir()
    assert json.loads((run_dir / "run.json").read_text())["engine"] == "numba"
    numpy_run = CliRunner().invoke(cli, [*args, "--json", "--no-save", "--engine", "numpy"])
    assert numpy_run.exit_code == 0, numpy_run.stderr
    numbers = [
        [(n["final_error"], [c["error"] for c in n["checkpoints"]]) for n in doc["networks"]]
        for doc in (json.loads(result.stdout), json.loads(numpy_run.stdout))
    ]
    assert numbers[0] == numbers[1]


# --- numba-fast: once the numba engine with its own vectorised exp, now the same ---------


def test_the_kernels_exp_is_the_portable_one(numba_engine):
    from toynn_cli.core import _numba_kernels as kernels
    from toynn_cli.core import portable

    rng = np.random.RandomState(5)
    xs = np.concatenate([rng.uniform(-750, 720, 20000), rng.uniform(-1, 1, 20000)])
    want = portable.exp(xs)
    got = np.array([kernels.exp(x) for x in xs])
    assert got.tobytes() == want.tobytes()


@pytest.mark.slow
@pytest.mark.parametrize("fast_exp", [False, True], ids=["numba", "numba-fast"])
def test_the_tutorials_networks_have_the_numpy_engines_bits(numba_engine, xor, fast_exp):
    specs = [NetworkSpec(a, tutorial.HIDDEN, tutorial.SEED) for a in tutorial.PUBLISHED]
    args = (xor.x, xor.y, specs, tutorial.ITERATIONS, tutorial.LOG_EVERY)
    reference = engine.train_batch(*args)
    fast = numba_engine.train_batch(*args, fast_exp=fast_exp)
    for b in range(len(specs)):
        _identical(fast, b, reference, b)
    for r in fast.networks():
        for c, e in enumerate(r.checkpoint_errors):
            assert tutorial.compare(r.spec.alpha, c, float(e)) != "mismatch"


def test_numba_fast_alone_and_in_a_large_batch_are_bit_identical(numba_engine, xor):
    alphas = [0.01, 0.5, 10.0, 1000.0, 1e6]
    sweep = [NetworkSpec(a, 4, s) for a in alphas for s in range(60)]  # 300: three blocks
    big = numba_engine.train_batch(xor.x, xor.y, sweep, 1500, 300, fast_exp=True)
    serial = numba_engine.train_batch(xor.x, xor.y, sweep, 1500, 300, threads=1, fast_exp=True)
    for i in (0, 7, 127, 128, 200, 299):
        alone = numba_engine.train_batch(xor.x, xor.y, [sweep[i]], 1500, 300, fast_exp=True)
        _identical(alone, 0, big, i)
        _identical(serial, i, big, i)


@pytest.mark.slow
def test_engine_numba_fast_through_the_cli(numba_engine, tmp_path):
    args = ["train", "--engine", "numba-fast", "--iterations", "3000", "--json"]
    result = CliRunner().invoke(cli, [*args, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["experiment"]["engine"] == "numba-fast"
    xor = BUILTIN["xor"]
    want = engine.train(xor.x, xor.y, [NetworkSpec(0.5, 4, 1)], 3000, 10000)[0]
    assert doc["networks"][0]["final_error"] == want.final_error
    (run_dir,) = tmp_path.iterdir()
    assert json.loads((run_dir / "run.json").read_text())["engine"] == "numba-fast"


def test_the_engine_option_takes_auto_the_default(tmp_path):
    """--engine auto is what the default already is: the same networks, bit for bit."""
    args = ["sweep", "--alphas", "0.5,1", "--iterations", "30", "--log-every", "10", "--no-save"]
    given = CliRunner().invoke(cli, [*args, "--engine", "auto", "--csv"])
    default = CliRunner().invoke(cli, [*args, "--csv"])
    assert given.exit_code == 0, given.stderr
    assert given.stdout == default.stdout


@pytest.mark.parametrize(
    "env, want",
    [
        ({}, "default"),
        ({"NUMBA_CPU_FEATURES": "+sse2"}, "+sse2"),
        ({"NUMBA_CPU_NAME": "nehalem"}, None),
    ],
    ids=["default", "features-set", "cpu-name-set"],
)
def test_512_bit_vectors_are_a_default_that_the_environment_overrides(env, want):
    """On an AVX-512 CPU the kernels are compiled with ``-prefer-256-bit`` (faster, the
    same bits), unless NUMBA_CPU_NAME or NUMBA_CPU_FEATURES says otherwise."""
    pytest.importorskip("numba")
    from llvmlite import binding

    clean = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_CPU_")}
    code = (
        "from toynn_cli.core import engine_numba; engine_numba.available(); "
        "from numba.core import config; print(config.CPU_FEATURES)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=clean | env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    if want == "default":
        host = binding.get_host_cpu_features()
        want = host.flatten() + ",-prefer-256-bit" if host.get("avx512f") else None
    assert result.stdout.strip() == str(want)


@pytest.mark.parametrize("activation", network.ACTIVATIONS)
@pytest.mark.parametrize("loss", network.LOSSES)
@pytest.mark.parametrize("bias", [False, True])
def test_every_activation_loss_and_bias_has_the_numpy_engines_bits(
    numba_engine, xor, activation, loss, bias
):
    """Two hidden layers (so a hidden layer feeds another), two blocks of networks,
    alphas up to 1e300 (overflow, NaN): every number the NumPy engine's."""
    specs = [
        NetworkSpec(a, (5, 3), s, bias=bias, activation=activation, loss=loss)
        for a in UPDATE_ALPHAS
        for s in range(25)
    ]
    _, compiled = _both(xor.x, xor.y, specs, 600, 100, numba_engine, record_every=7)
    assert len(np.unique(compiled.final_error)) > 25  # they trained, differently
    assert compiled.weights[0].shape == (len(specs), 3 + bias, 5)


def test_bias_and_tanh_with_adam_and_early_stopping_have_the_numpy_engines_bits(numba_engine, xor):
    specs = [
        NetworkSpec(
            a, 4, s, "adam", bias=True, activation="tanh", loss="cross_entropy", target_error=0.05
        )
        for a in UPDATE_ALPHAS
        for s in range(25)
    ]
    _, compiled = _both(xor.x, xor.y, specs, 800, 100, numba_engine)
    assert 0 < (compiled.stopped_at >= 0).sum() < len(specs)


def test_auto_trains_bias_and_tanh_with_numba(numba_engine, tmp_path):
    args = ["--alphas", "0.1,1", "--hidden", "4", "--bias", "true", "--activation", "tanh"]
    args += ["--iterations", "200", "--out", str(tmp_path), "-q"]
    result = CliRunner().invoke(cli, ["sweep", *args])
    assert result.exit_code == 0, result.output
    (run_dir,) = tmp_path.iterdir()
    assert json.loads((run_dir / "run.json").read_text())["engine"] == "numba"


def test_a_stopped_network_does_not_depend_on_its_batch_mates(numba_engine, xor):
    """Momentum 10 makes a stopped network's update overflow (lr * 0 * inf would be
    NaN): its weights stay as they were when it stopped, alone, in a batch that trains
    on, and in either engine."""
    params = (("momentum", 10.0),)
    stopping = [NetworkSpec(0.5, 4, s, "momentum", params, target_error=0.5) for s in range(128)]
    probe = engine.train_batch(xor.x, xor.y, stopping, 1, 1)
    late = [s for s in range(128) if probe.stopped_at[s] != 0]  # start above the target
    assert len(late) > 5
    wild = [NetworkSpec(1e300, 4, s, "momentum", params, target_error=0.5) for s in late]
    alone = engine.train_batch(xor.x, xor.y, stopping[:1], 400, 100)
    together, compiled = _both(xor.x, xor.y, stopping + wild, 400, 100, numba_engine)
    assert alone.stopped_at[0] == together.stopped_at[0] == 0
    assert (together.stopped_at[:128] >= 0).sum() > 100
    assert (together.stopped_at[128:] == -1).any()  # the batch trained on to the end
    _identical(alone, 0, together, 0)
    _identical(alone, 0, compiled, 0)
    held = together.stopped_at[:128] >= 0
    assert np.isfinite(together.weights[0][:128][held]).all()


@pytest.mark.parametrize("count", [1, 3])
def test_the_initial_weights_come_back_as_drawn(numba_engine, xor, count):
    # one network: its (parameters, 1) weights must not share the drawn rows' memory
    specs = [NetworkSpec(0.5, 4, s) for s in range(count)]
    batch = numba_engine.train_batch(xor.x, xor.y, specs, 50, 10)
    for i, spec in enumerate(specs):
        want = network.initial_weights(spec.seed, [3, 4, 1])
        assert [w[i].tobytes() for w in batch.weights_initial] == [w.tobytes() for w in want]
    assert batch.weights[0].tobytes() != batch.weights_initial[0].tobytes()
