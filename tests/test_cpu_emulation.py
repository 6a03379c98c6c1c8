"""Portability: a process that emulates an older CPU computes the same bits.

The child process runs with the environment in :data:`EMULATED`, which makes it behave
like an x86-64-v2 machine (SSE4.2, no AVX, no FMA) on this one:

* ``NPY_DISABLE_CPU_FEATURES``: NumPy's dispatched SIMD code off, down to its baseline.
  The names are this NumPy build's dispatch targets (``__cpu_dispatch__``); for NumPy
  2.4 on x86-64 they are ``X86_V3 X86_V4 AVX512_ICL AVX512_SPR``. NumPy warns at import
  about a name it does not know and raises for a baseline one: the child turns that
  warning into an error and checks that every target is off.
* ``OPENBLAS_CORETYPE=Nehalem``: OpenBLAS's kernels for that CPU (toynn's engines use no
  BLAS; only the per-network reference loop's ``np.dot`` does).
* ``NUMBA_CPU_NAME=nehalem`` with ``NUMBA_CPU_FEATURES`` empty: numba compiles for that
  CPU. The name alone is not enough: numba then keeps the host's features and still
  emits AVX-512. The child's numba cache is a fresh directory, so that no machine code
  compiled for this CPU is loaded.
* ``GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX2,-FMA,...``: the C library's math functions
  (exp, log, ...) pick their non-FMA variants, as on an older CPU; they give different
  bits (RandomState.normal, which calls log, differs on about 3.5e-5 of its draws), so
  any use of them left in toynn's numbers would show here.

The child computes (a) the tutorial's alpha sweep (60000 iterations), (b) a sweep of
mixed settings (tanh and relu, adam and momentum, bias units, cosine and exponential
schedules), (c) adam, amsgrad and rmsprop sweeps with clipping, schedules and early
stopping (the numba engine's update step), (d) the generated moons and spirals datasets
and networks trained on them, with the NumPy engine and, where it trains the settings,
the numba engine; every
recorded array must have the same bytes as in this process. The slow parts are marked
``slow``; :func:`test_a_short_run_and_the_portable_functions_match_on_an_emulated_cpu`
is the quick one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve()


def _dispatch_targets() -> list[str]:
    from numpy._core import _multiarray_umath as umath

    return list(umath.__cpu_dispatch__)


EMULATED = {
    "NPY_DISABLE_CPU_FEATURES": " ".join(_dispatch_targets()),
    "OPENBLAS_CORETYPE": "Nehalem",
    "NUMBA_CPU_NAME": "nehalem",
    "NUMBA_CPU_FEATURES": "",
    "GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX512F,-AVX2,-AVX,-FMA,-FMA4",
}


def _flatten(prefix: str, batch) -> dict[str, np.ndarray]:
    """Every recorded array of a BatchResult."""
    out = {}
    for name in (
        "checkpoint_errors",
        "final_error",
        "history_errors",
        "outputs",
        "checkpoint_accuracy",
        "final_accuracy",
    ):
        value = getattr(batch, name)
        if value is not None:
            out[f"{prefix}.{name}"] = np.asarray(value)
    for name in ("weights", "weights_initial", "direction_changes"):
        for k, value in enumerate(getattr(batch, name)):
            out[f"{prefix}.{name}.{k}"] = np.asarray(value)
    return out


def compute(kind: str) -> dict[str, np.ndarray]:
    """What both processes compute: "quick", "tutorial", "mixed", "update" or "datasets"."""
    from toynn_cli.core import engine, portable, tutorial
    from toynn_cli.core.datasets import BUILTIN, generate
    from toynn_cli.core.network import NetworkSpec

    numba = kind != "quick" and _numba_available()
    out: dict[str, np.ndarray] = {}
    xor = BUILTIN["xor"]
    if kind == "quick":
        rng = np.random.RandomState(0)
        x = np.concatenate([rng.uniform(-750, 715, 5000), rng.uniform(-3, 3, 5000)])
        for name in ("exp", "expm1", "tanh", "sin", "cos"):
            out[name] = getattr(portable, name)(x)
        out["powi"] = np.array([portable.powi(0.999, n) for n in range(0, 100000, 997)])
        specs = [NetworkSpec(a, tutorial.HIDDEN, tutorial.SEED) for a in tutorial.PUBLISHED]
        out |= _flatten("numpy", engine.train_batch(xor.x, xor.y, specs, 2000, 500))
        for name in ("moons", "spirals", "circles"):
            out[name] = BUILTIN[name].x
    elif kind == "tutorial":
        specs = [NetworkSpec(a, tutorial.HIDDEN, tutorial.SEED) for a in tutorial.PUBLISHED]
        args = (xor.x, xor.y, specs, tutorial.ITERATIONS, tutorial.LOG_EVERY)
        out |= _flatten("numpy", engine.train_batch(*args))
        if numba:
            from toynn_cli.core import engine_numba

            out |= _flatten("numba", engine_numba.train_batch(*args))
        for hidden in (8, 32):  # one wide hidden layer: numba's loop over the hidden units
            specs = [NetworkSpec(a, hidden, s) for a in (0.5, 10.0, 1000.0) for s in (0, 1)]
            args = (xor.x, xor.y, specs, 3000, 500)
            out |= _flatten(f"numpy.h{hidden}", engine.train_batch(*args))
            if numba:
                from toynn_cli.core import engine_numba

                out |= _flatten(f"numba.h{hidden}", engine_numba.train_batch(*args))
    elif kind == "mixed":
        for activation, loss in (
            ("tanh", "squared"),
            ("relu", "squared"),
            ("leaky_relu", "cross_entropy"),
        ):
            for optimizer in ("adam", "momentum"):
                for schedule, params in (
                    ("cosine", (("t_max", 0), ("eta_min", 0.001))),
                    ("exponential", (("gamma", 0.999),)),
                ):
                    specs = [
                        NetworkSpec(
                            alpha,
                            (5, 3),
                            seed,
                            optimizer,
                            bias=True,
                            activation=activation,
                            loss=loss,
                            schedule=schedule,
                            schedule_params=params,
                        )
                        for alpha in (0.05, 0.5)
                        for seed in (0, 1, 2)
                    ]
                    args = (xor.x, xor.y, specs, 3000, 500)
                    key = f"{activation}.{optimizer}.{schedule}"
                    out |= _flatten(f"{key}.numpy", engine.train_batch(*args))
                    if numba:
                        from toynn_cli.core import engine_numba

                        out |= _flatten(f"{key}.numba", engine_numba.train_batch(*args))
    elif kind == "update":
        # the numba engine's update step: optimizers, clipping, schedules, early stopping
        for name, optimizer, settings in (
            ("adam", "adam", {"clip_norm": 0.5, "schedule": "cosine"}),
            ("amsgrad", "adam", {"clip_value": 0.1, "schedule": "exponential"}),
            ("rmsprop", "rmsprop", {"clip_norm": 1.0, "schedule": "step", "target_error": 0.1}),
        ):
            params = (("amsgrad", True), ("weight_decay", 0.001)) if name == "amsgrad" else ()
            specs = [
                NetworkSpec(alpha, 4, seed, optimizer, params, **settings)
                for alpha in (0.01, 0.1, 1.0)
                for seed in range(50)
            ]  # 150 networks: two blocks
            args = (xor.x, xor.y, specs, 3000, 500)
            out |= _flatten(f"{name}.numpy", engine.train_batch(*args))
            if numba:
                from toynn_cli.core import engine_numba

                out |= _flatten(f"{name}.numba", engine_numba.train_batch(*args))
    elif kind == "datasets":
        for name in ("moons", "spirals"):
            data = generate(name, samples=150, noise=0.1, seed=3)
            out[f"{name}.x"], out[f"{name}.y"] = data.x, data.y
            specs = [NetworkSpec(a, 6, s) for a in (0.1, 1.0) for s in (0, 1)]
            args = (data.x, data.y, specs, 2000, 250)
            out |= _flatten(f"{name}.numpy", engine.train_batch(*args))
            if numba:
                from toynn_cli.core import engine_numba

                out |= _flatten(f"{name}.numba", engine_numba.train_batch(*args))
    else:
        raise ValueError(kind)
    return out


def _numba_available() -> bool:
    from toynn_cli.core import engine_numba

    return engine_numba.available()


def _child(kind: str, path: str) -> None:
    """The child's side: check the emulation took effect, compute, save."""
    from numpy._core import _multiarray_umath as umath

    on = [name for name in _dispatch_targets() if umath.__cpu_features__.get(name)]
    assert not on, f"NumPy still dispatches to {on}"
    info = {"numpy_dispatch_on": " ".join(on)}
    if kind != "quick" and _numba_available():
        from numba.core import config

        assert config.CPU_NAME == "nehalem" and config.CPU_FEATURES == ""
        info["numba_cpu"] = config.CPU_NAME
    np.savez(path, **compute(kind), **{f"info.{k}": np.array(v) for k, v in info.items()})


def _run_emulated(kind: str, tmp_path: Path) -> subprocess.Popen:
    env = dict(os.environ, **EMULATED)
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "numba-cache")
    code = (
        "import runpy, sys; "
        f"runpy.run_path({str(HERE)!r}, run_name='child')['_child']({kind!r}, sys.argv[1])"
    )
    return subprocess.Popen(
        [sys.executable, "-W", "error::ImportWarning", "-c", code, str(tmp_path / "child.npz")],
        env=env,
        cwd=HERE.parent.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _canonical(a: np.ndarray) -> bytes:
    """The array's bytes, every NaN made the same NaN (its payload and sign may follow
    the order of a SIMD operation's operands)."""
    if a.dtype.kind == "f" and np.isnan(a).any():
        a = np.where(np.isnan(a), np.nan, a)
    return a.tobytes()


def _compare_with_emulated(kind: str, tmp_path: Path) -> dict[str, np.ndarray]:
    child = _run_emulated(kind, tmp_path)
    mine = compute(kind)  # meanwhile, here
    _, stderr = child.communicate(timeout=1800)
    assert child.returncode == 0, stderr[-3000:]
    with np.load(tmp_path / "child.npz") as saved:
        theirs = {key: saved[key] for key in saved.files}
    assert theirs.pop("info.numpy_dispatch_on").item() == ""
    theirs.pop("info.numba_cpu", None)
    assert sorted(theirs) == sorted(mine)
    differ = [
        key
        for key in mine
        if mine[key].dtype != theirs[key].dtype
        or mine[key].shape != theirs[key].shape
        or _canonical(mine[key]) != _canonical(theirs[key])
    ]
    assert not differ, f"different bits on the emulated CPU: {differ}"
    return mine


def test_numpy_accepts_the_emulation_settings():
    if sys.platform != "linux" or os.uname().machine != "x86_64":
        pytest.skip("the emulation is for x86-64 Linux")
    targets = _dispatch_targets()
    if np.__version__.startswith("2.4"):
        assert targets == ["X86_V3", "X86_V4", "AVX512_ICL", "AVX512_SPR"]
    code = (
        "from numpy._core import _multiarray_umath as m; "
        "print(sorted(k for k in m.__cpu_dispatch__ if m.__cpu_features__.get(k)))"
    )
    env = dict(os.environ, NPY_DISABLE_CPU_FEATURES=EMULATED["NPY_DISABLE_CPU_FEATURES"])
    result = subprocess.run(
        [sys.executable, "-W", "error::ImportWarning", "-c", code],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr  # no unknown name, no baseline one
    assert result.stdout.strip() == "[]"  # every dispatch target off


@pytest.mark.slow
def test_a_short_run_and_the_portable_functions_match_on_an_emulated_cpu(tmp_path):
    mine = _compare_with_emulated("quick", tmp_path)
    assert len(mine) > 20


@pytest.mark.slow
def test_the_tutorials_alpha_sweep_matches_on_an_emulated_cpu(tmp_path):
    mine = _compare_with_emulated("tutorial", tmp_path)
    if _numba_available():  # and the two engines agree here as well
        for key in [k for k in mine if k.startswith("numpy.")]:
            assert mine[key].tobytes() == mine["numba." + key[6:]].tobytes(), key


@pytest.mark.slow
def test_a_sweep_of_mixed_settings_matches_on_an_emulated_cpu(tmp_path):
    """Bias, every activation, cross-entropy, adam and momentum with schedules, two
    hidden layers: the same bits here and on the emulated CPU, and in both engines."""
    mine = _compare_with_emulated("mixed", tmp_path)
    numpy_keys = [k for k in mine if k.split(".")[3] == "numpy"]
    assert len([k for k in numpy_keys if k.endswith("final_error")]) == 12
    if _numba_available():
        for key in numpy_keys:
            other = key.replace(".numpy.", ".numba.", 1)
            assert _canonical(mine[key]) == _canonical(mine[other]), key


@pytest.mark.slow
def test_the_numba_update_step_matches_on_an_emulated_cpu(tmp_path):
    """Adam (and amsgrad, rmsprop) with clipping and schedules: the same bits in both
    engines, here and on the emulated CPU."""
    mine = _compare_with_emulated("update", tmp_path)
    if _numba_available():
        numpy_keys = [k for k in mine if k.split(".")[1] == "numpy"]
        assert len(numpy_keys) > 20
        for key in numpy_keys:
            other = key.replace(".numpy.", ".numba.", 1)
            assert _canonical(mine[key]) == _canonical(mine[other]), key


@pytest.mark.slow
def test_generated_datasets_and_their_networks_match_on_an_emulated_cpu(tmp_path):
    _compare_with_emulated("datasets", tmp_path)
