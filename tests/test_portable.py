"""toynn's portable elementary functions (toynn_cli/core/portable/): their errors against a
stored table of correctly rounded values (tests/data/portable_table.json, made with
mpmath by tests/data/make_portable_table.py), special values, and the NumPy, numba and
plain Python forms giving the same bits."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import warnings
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from toynn_cli.core import portable

TABLE = json.loads((Path(__file__).parent / "data" / "portable_table.json").read_text())
FUNCTIONS = ("exp", "expm1", "tanh", "sin", "cos")
#: the bounds the module docstring states, in ulps of the correctly rounded result
BOUNDS = {"exp": 0.51, "expm1": 1.0, "tanh": 2.5, "sin": 1.0, "cos": 1.0}


def _inputs(name: str) -> np.ndarray:
    return np.array([float.fromhex(row[0]) for row in TABLE[name]])


def _ulp_errors(rows: list[list], got: np.ndarray) -> np.ndarray:
    """|got - exact| in ulps of the correctly rounded result (exact: the table's
    decimal string, from 60-digit arithmetic)."""
    errors = []
    for row, value in zip(rows, got, strict=True):
        rounded = float.fromhex(row[-2])
        ulp = Decimal(math.ulp(rounded))
        errors.append(float(abs(Decimal(float(value)) - Decimal(row[-1])) / ulp))
    return np.array(errors)


def test_the_table_covers_what_the_engine_and_the_datasets_use():
    exp = _inputs("exp")
    assert len(exp) > 2000 and exp.min() < -745 and exp.max() > 709.78
    assert ((exp > -1) & (exp < 1)).sum() > 300  # dense near 0
    results = np.array([float.fromhex(row[1]) for row in TABLE["exp"]])
    assert ((results > 0) & (results < 2.0**-1022)).sum() > 50  # subnormal results
    tanh = _inputs("tanh")
    assert tanh.min() <= -25 and tanh.max() >= 25 and np.abs(tanh).min() < 1e-290
    for name in ("sin", "cos"):
        x = _inputs(name)
        assert ((x >= 0) & (x <= 4 * np.pi + 1)).sum() > 1500
    assert len(TABLE["powi"]) >= 500


@pytest.mark.parametrize("name", FUNCTIONS)
def test_error_over_the_table_is_within_the_stated_bound(name):
    got = getattr(portable, name)(_inputs(name))
    errors = _ulp_errors(TABLE[name], got)
    assert errors.max() < BOUNDS[name], errors.max()
    # and most results are the correctly rounded ones
    assert (errors <= 0.5).mean() > {"exp": 0.99, "sin": 0.95, "cos": 0.95}.get(name, 0.9)


def test_powi_is_correctly_rounded_over_the_table():
    rows = TABLE["powi"]
    got = np.array([portable.powi(float.fromhex(row[0]), row[1]) for row in rows])
    errors = _ulp_errors(rows, got)
    normal = np.array([float.fromhex(row[2]) >= 2.0**-960 for row in rows])
    assert errors[normal].max() <= 0.5001, errors[normal].max()
    assert errors[~normal].max() <= 1.0
    assert portable.powi(0.0, 0) == 1.0 and portable.powi(0.9, 0) == 1.0
    assert portable.powi(0.9, 1) == 0.9 and portable.powi(0.5, 1074) == 5e-324
    assert portable.powi(0.5, 1076) == 0.0
    with pytest.raises(ValueError):
        portable.powi(0.5, -1)
    # outside |x| <= 1: plain squaring, still deterministic
    assert portable.powi(2.0, 10) == 1024.0 and math.isnan(portable.powi(math.nan, 3))


def test_special_values():
    nan, inf = math.nan, math.inf
    big = float.fromhex("0x1.62e42fefa39efp+9")  # 709.782712893384: exp still finite
    x = np.array([nan, inf, -inf, 0.0, -0.0, -745.0, big, 710.0, -746.0, 1e300, -1e300])
    e = portable.exp(x)
    assert math.isnan(e[0])
    assert e[1:5].tolist() == [inf, 0.0, 1.0, 1.0]
    assert e[5] == 5e-324  # the smallest subnormal, correctly rounded
    assert e[6] == float.fromhex("0x1.fffffffffff2ap+1023") and e[7] == inf
    assert e[8:].tolist() == [0.0, inf, 0.0]
    m = portable.expm1(np.array([nan, inf, -inf, 0.0, -0.0, 1e-300, 710.0, -50.0]))
    assert math.isnan(m[0]) and m[1:4].tolist() == [inf, -1.0, 0.0]
    assert math.copysign(1, m[4]) == -1 and m[5] == 1e-300 and m[6] == inf and m[7] == -1.0
    t = portable.tanh(np.array([nan, inf, -inf, 0.0, -0.0, 1e-300, -1e-300, 30.0, -30.0]))
    assert math.isnan(t[0]) and t[1:4].tolist() == [1.0, -1.0, 0.0]
    assert math.copysign(1, t[4]) == -1 and t[5:].tolist() == [1e-300, -1e-300, 1.0, -1.0]
    for f in (portable.sin, portable.cos):
        v = f(np.array([nan, inf, -inf, 2.0**20 + 1, -1e300]))
        assert np.isnan(v).all()
    assert portable.sin(np.array([0.0, -0.0, 1e-300])).tolist() == [0.0, -0.0, 1e-300]
    assert math.copysign(1, portable.sin(np.array([-0.0]))[0]) == -1
    assert portable.cos(np.array([0.0, -0.0])).tolist() == [1.0, 1.0]
    # the scalar forms agree, in plain Python too
    with np.errstate(all="ignore"):
        scalar = [portable.exp_scalar(value) for value in x]
    for value, s in zip(x, scalar, strict=True):
        assert np.float64(s).tobytes() == portable.exp(value).tobytes()


def test_no_floating_point_warnings_escape():
    x = np.array([np.nan, np.inf, -np.inf, 1e308, -1e308, 5e-324, 0.0, 800.0, -800.0])
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        for name in FUNCTIONS:
            getattr(portable, name)(x)


def test_out_may_be_the_input_and_scratch_is_reused():
    rng = np.random.RandomState(1)
    scratch = portable.Scratch()
    for name in FUNCTIONS:
        x = rng.uniform(-30, 30, (4, 3, 5))
        want = getattr(portable, name)(x.copy())
        getattr(portable, name)(x, out=x, scratch=scratch)
        assert x.tobytes() == want.tobytes(), name
        again = getattr(portable, name)(want * 0.5, scratch=scratch)
        assert again.tobytes() == getattr(portable, name)(want * 0.5).tobytes()


def _random_inputs(name: str, n: int = 100_000) -> np.ndarray:
    rng = np.random.RandomState(123)
    wide = {"exp": (-750, 715), "expm1": (-45, 715), "tanh": (-30, 30)}.get(name, (-40, 40))
    parts = [rng.uniform(*wide, n // 2), rng.uniform(-2, 2, n // 4)]
    parts.append(rng.standard_normal(n - n // 2 - n // 4) * 10.0 ** rng.uniform(-300, 3))
    return np.concatenate(parts)


@pytest.mark.slow
@pytest.mark.parametrize("name", FUNCTIONS)
def test_the_numba_form_gives_the_numpy_forms_bits(name):
    pytest.importorskip("numba")
    import numba

    from toynn_cli.core import _numba_kernels as kernels

    @numba.njit
    def apply(function, x, out):
        for i in range(x.shape[0]):
            out[i] = function(x[i])

    special = np.array([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 5e-324, 2.0**20])
    x = np.concatenate([_inputs(name), _random_inputs(name), special])
    got = np.empty_like(x)
    apply(getattr(kernels, name), x, got)
    want = getattr(portable, name)(x)
    assert got.tobytes() == want.tobytes()


@pytest.mark.parametrize("name", FUNCTIONS)
def test_the_plain_python_form_gives_the_numpy_forms_bits(name):
    x = np.concatenate([_inputs(name)[::4], _random_inputs(name, 4000)])
    scalar = getattr(portable, name + "_scalar")
    with np.errstate(all="ignore"):  # NumPy scalars warn where arrays do not
        got = np.array([scalar(v) for v in x])
    assert got.tobytes() == getattr(portable, name)(x).tobytes()


def test_importing_it_imports_no_numba():
    code = "import sys, toynn_cli.core.portable; print('numba' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
