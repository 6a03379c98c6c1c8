"""tanh, scalar and whole-array (see :mod:`toynn_cli.core.portable`): fdlibm's
s_tanh.c, tanh from expm1(2|x|) or expm1(-2|x|)
(:mod:`toynn_cli.core.portable.exponential`)."""

from __future__ import annotations

import numpy as np

from toynn_cli.core.portable.exponential import expm1, expm1_scalar
from toynn_cli.core.portable.shared import Scratch, prepare, select

_hex = float.fromhex

#: tanh(x) is x below 2**-55 and +-1 from 22 on
TANH_TINY = _hex("0x1p-55")
TANH_ONE = 22.0


def tanh_scalar(x: float) -> float:
    """tanh(x) for one float64 (numba-compilable)."""
    ax = abs(x)
    big = ax >= 1.0
    t = expm1_scalar(2.0 * ax if big else -2.0 * ax)
    z = 1.0 - 2.0 / (t + 2.0) if big else -t / (t + 2.0)
    z = 1.0 if ax >= TANH_ONE else z
    z = -z if x < 0.0 else z
    z = x if ax < TANH_TINY else z
    return x if x != x else z


def tanh(
    x: np.ndarray, out: np.ndarray | None = None, scratch: Scratch | None = None
) -> np.ndarray:
    """tanh of every element: :func:`tanh_scalar`'s operations, array by array."""
    x, out, s = prepare(x, out, scratch)
    shape = x.shape
    ax, arg, t, z = (s.get("tanh." + n, shape) for n in ("ax", "arg", "t", "z"))
    big = s.get("tanh.big", shape, np.bool_)
    with np.errstate(all="ignore"):
        np.abs(x, out=ax)
        np.greater_equal(ax, 1.0, out=big)
        np.multiply(ax, -2.0, out=arg)
        np.negative(arg, out=t)  # 2 |x|
        select(big, t, arg)
        expm1(arg, out=t, scratch=s)
        # |x| < 1: -t / (t + 2)
        np.add(t, 2.0, out=arg)
        np.negative(t, out=z)
        z /= arg
        # |x| >= 1: 1 - 2 / (t + 2)
        np.divide(2.0, arg, out=arg)
        np.subtract(1.0, arg, out=arg)
        select(big, arg, z)
        select(ax >= TANH_ONE, 1.0, z)
        np.negative(z, out=arg)
        select(x < 0.0, arg, z)
        select(ax < TANH_TINY, x, z)
        select(x != x, x, z)
        np.copyto(out, z)
    return out
