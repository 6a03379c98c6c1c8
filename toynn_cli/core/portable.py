"""toynn's own elementary functions: the same bits on every CPU.

NumPy's ``np.exp``, ``np.tanh``, ``np.sin`` and ``np.cos`` run different SIMD code
depending on the CPU (AVX-512, AVX2, the baseline) and differ from the C library's in
the last bit on a few percent of inputs; the C library itself picks FMA or non-FMA
variants at run time. A network trained with them gives different numbers on different
machines. These functions are written only with IEEE basic operations (add, subtract,
multiply, divide, compare, select, and exact scaling by a power of two built from the
exponent bits), in a fixed order, without fused multiply-adds: every CPU that does IEEE
double arithmetic gives the same bits.

Each function comes in two forms that perform the same operations in the same order:

* whole-array NumPy functions, :func:`exp`, :func:`expm1`, :func:`tanh`, :func:`sin`,
  :func:`cos` (``out=`` and an optional :class:`Scratch` of reusable buffers; no
  floating-point warnings escape), used by the NumPy engine and the datasets;
* scalar functions, :func:`exp_scalar`, ... , written so that numba can compile them
  (``numba.njit``; :mod:`toynn_cli.core._numba_kernels` does so when the numba engine is
  used: this module never imports numba) and so that a loop over many of them
  vectorises. They also run as plain Python (slowly).

The algorithms:

* exp: x = (128 k + i) ln2/128 + r, k and i from one rounding of x * 128/ln2 (the
  1.5 * 2**52 "magic number" add), ln2/128 in two parts (the first 34 bits, so that
  the products are exact); exp(r) - 1 by its Taylor polynomial to degree 6
  (|r| <= ln2/256); 2**(i/128) from a table of 128 doubles with a correction term
  each (computed at import with :mod:`decimal`); the result scaled by 2**k as two
  exact powers of two, so that only the last multiply rounds (subnormal results
  rounded once). x is clamped to [-746, 710] first: exp(710) = inf, exp(-746) = 0.
* expm1 and tanh: fdlibm's s_expm1.c (a rational approximation after a Cody-Waite
  reduction by ln2) and s_tanh.c (tanh from expm1(2|x|) or expm1(-2|x|)).
* sin and cos: a Cody-Waite reduction by pi/2 in three 33-bit parts with correction
  terms (fdlibm's e_rem_pio2.c, always all three steps), then fdlibm's (FreeBSD's)
  k_sin.c and k_cos.c polynomials. Only for |x| <= 2**20 (toynn's angles are below
  4 pi); beyond that, and for +-inf, the result is NaN.
* powi(x, n), for learning-rate schedules and Adam's bias corrections: exponentiation
  by squaring in double-double arithmetic (error-free products by Dekker's splitting),
  rounded once at the end.

Error bounds, in units in the last place (ulps) of the correctly rounded result, against
values correctly rounded from 60-digit mpmath results: the largest error over the table
tests/data/portable_table.json (made by tests/data/make_portable_table.py; about 2000
inputs per function), where tests/test_portable.py asserts the bounds, and over 100000
to 200000 uniformly drawn inputs per function (the ranges below, and [-1, 1] or [-2, 2]),
measured once when this was written:

=========  ===============================  ========  ========  =======================
function   inputs                           table     random    bound (asserted)
=========  ===============================  ========  ========  =======================
exp        [-745.2, 709.78], subnormal out  0.5073    0.5059    0.51 (< 1 ulp); 99.8%
                                                                correctly rounded
expm1      [-40, 709.78], down to 1e-300    0.742     0.784     1 (fdlibm's bound)
tanh       [-25, 25], down to 1e-300        1.76      2.11      2.5 (fdlibm's algorithm:
                                                                glibc's bits but on
                                                                0.06% of inputs)
sin, cos   [0, 4 pi + 1], and to 2**20      0.694     0.754     1 (fdlibm's bound)
powi       x in [0, 1], n up to 10**12      0.49998   -         0.5001: correctly
                                                                rounded (1 ulp for
                                                                results below 2**-960)
=========  ===============================  ========  ========  =======================

exp's bound comes from its construction: one final rounding (0.5 ulp) after about 0.01
ulp of accumulated error; powi's error before its final rounding is about n 2**-102
relative.

NaN in gives that NaN out (every function); exp(inf) = inf, exp(-inf) = 0,
expm1(-inf) = -1, tanh(+-inf) = +-1, tanh(-0.0) = -0.0, sin(-0.0) = -0.0.
"""

from __future__ import annotations

from decimal import Context, Decimal

import numpy as np

__all__ = [
    "Scratch",
    "cos",
    "cos_scalar",
    "exp",
    "exp_scalar",
    "expm1",
    "expm1_scalar",
    "powi",
    "sin",
    "sin_scalar",
    "tanh",
    "tanh_scalar",
]

_hex = float.fromhex

# --- exp --------------------------------------------------------------------------------

#: 1.5 * 2**52: adding it rounds a number of magnitude below 2**51 to an integer (ties to
#: even) and leaves that integer in the low bits of the sum's bit pattern
SHIFT = _hex("0x1.8p52")
SHIFT_BITS = 0x4338000000000000
#: exp: 128 / ln 2, and ln 2 / 128 as HI (34 significant bits: k * HI is exact for
#: |k| < 2**19) plus LO
EXP_N = 128
INV_LN2_N = _hex("0x1.71547652b82fep+7")
LN2_N_HI = _hex("0x1.62e42fef80000p-8")
LN2_N_LO = _hex("0x1.1cf79abc9e3b4p-43")
#: the input is clamped to [EXP_MIN, EXP_MAX] (exp(-746) rounds to 0, exp(710) overflows)
#: so that k stays small
EXP_MIN = -746.0
EXP_MAX = 710.0
#: exp(r) = 1 + r + r**2 * (E2 + r * (E3 + r * (E4 + r * (E5 + r * E6)))): Taylor, its
#: next term below 2**-68 for |r| <= ln 2 / 256
E2 = 0.5
E3 = 1.0 / 6.0
E4 = 1.0 / 24.0
E5 = 1.0 / 120.0
E6 = 1.0 / 720.0


def _exp_table() -> tuple[np.ndarray, np.ndarray]:
    """2**(i/128) for i = 0..127 as the nearest double ``hi`` and the correction
    ``tail`` = (2**(i/128) - hi) / hi rounded, from 50-digit decimal arithmetic (exact
    software arithmetic, the same on every machine: the seventh square root of 2, then
    its powers)."""
    ctx = Context(prec=50)
    root = Decimal(2)
    for _ in range(7):
        root = ctx.sqrt(root)
    hi, tail = [], []
    power = Decimal(1)
    for _ in range(EXP_N):
        h = float(power)
        hi.append(h)
        tail.append(float(ctx.divide(ctx.subtract(power, Decimal(h)), Decimal(h))))
        power = ctx.multiply(power, root)
    return np.array(hi), np.array(tail)


EXP_HI, EXP_TAIL = _exp_table()
EXP_HI.flags.writeable = False
EXP_TAIL.flags.writeable = False


def exp_scalar(x: float) -> float:
    """exp(x) for one float64 (numba-compilable; see the module docstring). A NaN goes
    through every operation and comes out as itself."""
    xc = EXP_MAX if x > EXP_MAX else x
    xc = EXP_MIN if xc < EXP_MIN else xc
    kd = xc * INV_LN2_N + SHIFT
    ki = np.float64(kd).view(np.int64) - SHIFT_BITS  # round(x * 128 / ln 2)
    kd = kd - SHIFT
    r = (xc - kd * LN2_N_HI) - kd * LN2_N_LO
    i = ki & (EXP_N - 1)
    p = r * E6 + E5
    p = p * r + E4
    p = p * r + E3
    p = p * r + E2
    p = p * (r * r)
    p = p + (EXP_TAIL[i] + r)
    hi = EXP_HI[i]
    y = hi + hi * p  # 2**(i/128) * exp(r)
    k = ki >> 7
    k1 = k >> 1
    k2 = k - k1
    y = y * np.int64((k1 + 1023) << 52).view(np.float64)  # exact
    return y * np.int64((k2 + 1023) << 52).view(np.float64)  # the one rounding


class Scratch:
    """Reusable temporary arrays for the whole-array functions, by name, shape and type
    (a training loop calls them with the same shapes every iteration)."""

    def __init__(self) -> None:
        self._buffers: dict[tuple, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: type = np.float64) -> np.ndarray:
        key = (name, shape, dtype)
        buffer = self._buffers.get(key)
        if buffer is None:
            buffer = self._buffers[key] = np.empty(shape, dtype=dtype)
        return buffer


def _prepare(
    x: np.ndarray, out: np.ndarray | None, scratch: Scratch | None
) -> tuple[np.ndarray, np.ndarray, Scratch]:
    x = np.asarray(x, dtype=np.float64)
    if out is None:
        out = np.empty(x.shape)
    return x, out, scratch if scratch is not None else Scratch()


def exp(x: np.ndarray, out: np.ndarray | None = None, scratch: Scratch | None = None) -> np.ndarray:
    """exp of every element: :func:`exp_scalar`'s operations, array by array. ``out``
    may be ``x`` itself."""
    x, out, s = _prepare(x, out, scratch)
    shape = x.shape
    xc, r, p, t = (s.get(name, shape) for name in ("exp.xc", "exp.r", "exp.p", "exp.t"))
    ki, i = s.get("exp.ki", shape, np.int64), s.get("exp.i", shape, np.int64)
    with np.errstate(all="ignore"):
        np.minimum(x, EXP_MAX, out=xc)  # NaN stays NaN, as in exp_scalar
        np.maximum(xc, EXP_MIN, out=xc)
        kd = t
        np.multiply(xc, INV_LN2_N, out=kd)
        kd += SHIFT
        np.subtract(kd.view(np.int64), SHIFT_BITS, out=ki)
        kd -= SHIFT
        np.multiply(kd, LN2_N_HI, out=r)
        np.subtract(xc, r, out=r)
        np.multiply(kd, LN2_N_LO, out=xc)
        r -= xc
        np.bitwise_and(ki, EXP_N - 1, out=i)
        np.multiply(r, E6, out=p)
        p += E5
        p *= r
        p += E4
        p *= r
        p += E3
        p *= r
        p += E2
        np.multiply(r, r, out=t)
        p *= t
        np.take(EXP_TAIL, i, out=t, mode="clip")  # i is in 0..127
        t += r
        p += t
        np.take(EXP_HI, i, out=t, mode="clip")
        p *= t
        p += t  # hi + hi * p
        np.right_shift(ki, 7, out=ki)  # k
        np.right_shift(ki, 1, out=i)  # k1
        ki -= i  # k2
        i += 1023
        np.left_shift(i, 52, out=i)
        ki += 1023
        np.left_shift(ki, 52, out=ki)
        p *= i.view(np.float64)
        np.multiply(p, ki.view(np.float64), out=out)
    return out


# --- expm1 and tanh (fdlibm's s_expm1.c and s_tanh.c) -----------------------------------

LN2_HI = 6.93147180369123816490e-01  # 0x3fe62e42 fee00000: 32 bits, k * LN2_HI exact
LN2_LO = 1.90821492927058770002e-10  # 0x3dea39ef 35793c76
INV_LN2 = 1.44269504088896338700e00  # 0x3ff71547 652b82fe
#: expm1(x) overflows above this (ln of the largest double)
O_THRESHOLD = _hex("0x1.62e42fefa39efp+9")
#: below -56 ln 2, expm1(x) is -1 to double precision
M1_THRESHOLD = -_hex("0x1.3687ap+5")
#: above 0.5 ln 2 (fdlibm: high word > 0x3fd62e42) x is reduced by k ln 2, k != 0
REDUCE_THRESHOLD = _hex("0x1.62e43p-2")
#: below 2**-54, expm1(x) is x
EXPM1_TINY = _hex("0x1p-54")
Q1 = -3.33333333333331316428e-02  # BFA11111 111110F4
Q2 = 1.58730158725481460165e-03  # 3F5A01A0 19FE5585
Q3 = -7.93650757867487942473e-05  # BF14CE19 9EAADBB7
Q4 = 4.00821782732936239552e-06  # 3ED0CFCA 86E65239
Q5 = -2.01099218183624371326e-07  # BE8AFDB7 6E09C32D


def expm1_scalar(x: float) -> float:
    """exp(x) - 1 for one float64, accurate near 0 (numba-compilable)."""
    xc = O_THRESHOLD if x > O_THRESHOLD else x  # NaN stays NaN
    xc = M1_THRESHOLD if xc < M1_THRESHOLD else xc
    kd = xc * INV_LN2 + SHIFT
    kb = np.float64(kd).view(np.int64) - SHIFT_BITS
    kd = kd - SHIFT
    reduce = abs(xc) >= REDUCE_THRESHOLD
    kd = kd if reduce else 0.0
    k = kb if reduce else 0
    hi = xc - kd * LN2_HI
    lo = kd * LN2_LO
    r = hi - lo
    c = (hi - r) - lo
    hfx = 0.5 * r
    hxs = r * hfx
    r1 = 1.0 + hxs * (Q1 + hxs * (Q2 + hxs * (Q3 + hxs * (Q4 + hxs * Q5))))
    t = 3.0 - r1 * hfx
    e = hxs * ((r1 - t) / (6.0 - r * t))
    y0 = r - (r * e - hxs)  # k == 0 (c is 0)
    e = (r * (e - c) - c) - hxs
    y_m1 = 0.5 * (r - e) - 0.5  # k == -1
    y_p1 = -2.0 * (e - (r + 0.5)) if r < -0.25 else 1.0 + 2.0 * (r - e)  # k == 1
    # 2**k as two exact factors (k <= 1024), and 2**-k for 1 < k <= 56
    k1 = k >> 1
    s1 = np.int64((k1 + 1023) << 52).view(np.float64)
    s2 = np.int64((k - k1 + 1023) << 52).view(np.float64)
    kp = k if k < 60 else k - k + 60
    kp = kp if kp > 0 else kp - kp
    inv = np.int64((1023 - kp) << 52).view(np.float64)
    y_far = ((1.0 - (e - r)) * s1) * s2 - 1.0  # k <= -2 or k > 56
    y_lt20 = (((1.0 - inv) - (e - r)) * s1) * s2  # 2 <= k < 20
    y_ge20 = (((r - (e + inv)) + 1.0) * s1) * s2  # 20 <= k <= 56
    y = y_lt20 if k < 20 else y_ge20
    y = y_far if (k <= -2 or k > 56) else y
    y = y_p1 if k == 1 else y
    y = y_m1 if k == -1 else y
    y = y0 if k == 0 else y
    y = np.inf if x > O_THRESHOLD else y
    y = x if abs(x) < EXPM1_TINY else y
    return x if x != x else y


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


def _select(condition: np.ndarray, a: np.ndarray, out: np.ndarray) -> None:
    """out = a where condition, else out (in place)."""
    np.copyto(out, a, where=condition)


def expm1(
    x: np.ndarray, out: np.ndarray | None = None, scratch: Scratch | None = None
) -> np.ndarray:
    """exp(x) - 1 of every element: :func:`expm1_scalar`'s operations, array by array
    (every branch computed, then selected)."""
    x, out, s = _prepare(x, out, scratch)
    shape = x.shape
    f = {
        name: s.get("expm1." + name, shape)
        for name in (
            "xc", "kd", "hi", "lo", "r", "c", "hfx", "hxs", "r1", "t", "e", "a", "y", "y0"
        )
    }  # fmt: skip
    k, k1, k2, kp = (s.get("expm1." + name, shape, np.int64) for name in ("k", "k1", "k2", "kp"))
    mask = s.get("expm1.mask", shape, np.bool_)
    xc, kd, hi, lo, r, c = f["xc"], f["kd"], f["hi"], f["lo"], f["r"], f["c"]
    hfx, hxs, r1, t, e, a = f["hfx"], f["hxs"], f["r1"], f["t"], f["e"], f["a"]
    y, y0 = f["y"], f["y0"]
    with np.errstate(all="ignore"):
        np.minimum(x, O_THRESHOLD, out=xc)
        np.maximum(xc, M1_THRESHOLD, out=xc)
        np.multiply(xc, INV_LN2, out=kd)
        kd += SHIFT
        np.subtract(kd.view(np.int64), SHIFT_BITS, out=k)
        kd -= SHIFT
        np.abs(xc, out=a)
        np.greater_equal(a, REDUCE_THRESHOLD, out=mask)
        np.logical_not(mask, out=mask)  # not reduced (or NaN): k = 0
        kd[mask] = 0.0
        k[mask] = 0
        np.multiply(kd, LN2_HI, out=hi)
        np.subtract(xc, hi, out=hi)
        np.multiply(kd, LN2_LO, out=lo)
        np.subtract(hi, lo, out=r)
        np.subtract(hi, r, out=c)
        c -= lo
        np.multiply(r, 0.5, out=hfx)
        np.multiply(r, hfx, out=hxs)
        np.multiply(hxs, Q5, out=r1)
        for q in (Q4, Q3, Q2, Q1):
            r1 += q
            r1 *= hxs
        r1 += 1.0
        np.multiply(r1, hfx, out=t)
        np.subtract(3.0, t, out=t)
        np.multiply(r, t, out=a)
        np.subtract(6.0, a, out=a)
        np.subtract(r1, t, out=e)
        e /= a
        e *= hxs
        # k == 0
        np.multiply(r, e, out=y)
        y -= hxs
        np.subtract(r, y, out=y0)
        # k != 0: e = (r * (e - c) - c) - hxs
        e -= c
        e *= r
        e -= c
        e -= hxs
        # 2**k as two factors; 2**-k (k clamped to [0, 60])
        np.right_shift(k, 1, out=k1)
        np.clip(k, 0, 60, out=kp)
        np.subtract(1023, kp, out=kp)
        np.left_shift(kp, 52, out=kp)
        inv = kp.view(np.float64)
        np.subtract(k, k1, out=k2)
        k2 += 1023
        np.left_shift(k2, 52, out=k2)
        s2 = k2.view(np.float64)
        k1 += 1023
        np.left_shift(k1, 52, out=k1)
        s1 = k1.view(np.float64)
        # 20 <= k <= 56: ((r - (e + inv)) + 1) * s1 * s2
        np.add(e, inv, out=y)
        np.subtract(r, y, out=y)
        y += 1.0
        y *= s1
        y *= s2
        np.less(k, 20, out=mask)
        # 2 <= k < 20: ((1 - inv) - (e - r)) * s1 * s2
        np.subtract(1.0, inv, out=a)
        np.subtract(e, r, out=t)
        a -= t
        a *= s1
        a *= s2
        _select(mask, a, y)
        # k <= -2 or k > 56: (1 - (e - r)) * s1 * s2 - 1
        np.subtract(1.0, t, out=a)
        a *= s1
        a *= s2
        a -= 1.0
        np.less_equal(k, -2, out=mask)
        mask |= k > 56
        _select(mask, a, y)
        # k == 1: -2 (e - (r + 0.5)) if r < -0.25 else 1 + 2 (r - e)
        np.add(r, 0.5, out=a)
        np.subtract(e, a, out=a)
        a *= -2.0
        np.subtract(r, e, out=hi)
        hi *= 2.0
        hi += 1.0
        _select(r < -0.25, a, hi)
        _select(k == 1, hi, y)
        # k == -1: 0.5 (r - e) - 0.5
        np.subtract(r, e, out=a)
        a *= 0.5
        a -= 0.5
        _select(k == -1, a, y)
        # k == 0 (y0, computed above), then the special cases
        np.equal(k, 0, out=mask)
        _select(mask, y0, y)
        _select(x > O_THRESHOLD, np.inf, y)
        np.abs(x, out=a)
        _select(a < EXPM1_TINY, x, y)
        _select(x != x, x, y)
        np.copyto(out, y)
    return out


def tanh(
    x: np.ndarray, out: np.ndarray | None = None, scratch: Scratch | None = None
) -> np.ndarray:
    """tanh of every element: :func:`tanh_scalar`'s operations, array by array."""
    x, out, s = _prepare(x, out, scratch)
    shape = x.shape
    ax, arg, t, z = (s.get("tanh." + n, shape) for n in ("ax", "arg", "t", "z"))
    big = s.get("tanh.big", shape, np.bool_)
    with np.errstate(all="ignore"):
        np.abs(x, out=ax)
        np.greater_equal(ax, 1.0, out=big)
        np.multiply(ax, -2.0, out=arg)
        np.negative(arg, out=t)  # 2 |x|
        _select(big, t, arg)
        expm1(arg, out=t, scratch=s)
        # |x| < 1: -t / (t + 2)
        np.add(t, 2.0, out=arg)
        np.negative(t, out=z)
        z /= arg
        # |x| >= 1: 1 - 2 / (t + 2)
        np.divide(2.0, arg, out=arg)
        np.subtract(1.0, arg, out=arg)
        _select(big, arg, z)
        _select(ax >= TANH_ONE, 1.0, z)
        np.negative(z, out=arg)
        _select(x < 0.0, arg, z)
        _select(ax < TANH_TINY, x, z)
        _select(x != x, x, z)
        np.copyto(out, z)
    return out


# --- sin and cos ------------------------------------------------------------------------

INV_PIO2 = 6.36619772367581382433e-01  # 0x3FE45F30 6DC9C883: 2 / pi
PIO2_1 = 1.57079632673412561417e00  # 0x3FF921FB 54400000: first 33 bits of pi / 2
PIO2_1T = 6.07710050650619224932e-11  # 0x3DD0B461 1A626331: pi / 2 - PIO2_1
PIO2_2 = 6.07710050630396597660e-11  # 0x3DD0B461 1A600000: second 33 bits
PIO2_2T = 2.02226624879595063154e-21  # 0x3BA3198A 2E037073: pi / 2 - (PIO2_1 + PIO2_2)
PIO2_3 = 2.02226624871116645580e-21  # 0x3BA3198A 2E000000: third 33 bits
PIO2_3T = 8.47842766036889956997e-32  # 0x397B839A 252049C1
#: sin and cos are computed for |x| <= TRIG_MAX (the multiple of pi/2 stays below 2**20,
#: so its products with the 33-bit parts are exact); beyond, NaN
TRIG_MAX = _hex("0x1p20")
S1 = -1.66666666666666324348e-01  # 0xBFC55555 55555549
S2 = 8.33333333332248946124e-03  # 0x3F811111 1110F8A6
S3 = -1.98412698298579493134e-04  # 0xBF2A01A0 19C161D5
S4 = 2.75573137070700676789e-06  # 0x3EC71DE3 57B1FE7D
S5 = -2.50507602534068634195e-08  # 0xBE5AE5E6 8A2B9CEB
S6 = 1.58969099521155010221e-10  # 0x3DE5D93A 5ACFD57C
C1 = 4.16666666666666019037e-02  # 0x3FA55555 5555554C
C2 = -1.38888888888741095749e-03  # 0xBF56C16C 16C15177
C3 = 2.48015872894767294178e-05  # 0x3EFA01A0 19CB1590
C4 = -2.75573143513906633035e-07  # 0xBE927E4F 809C52AD
C5 = 2.08757232129817482790e-09  # 0x3E21EE9E BDB4B1C4
C6 = -1.13596475577881948265e-11  # 0xBDA8FAE9 BE8838D4


def _reduce_scalar(x: float) -> tuple[float, float, float]:
    """x = n pi/2 + y0 + y1: fdlibm's e_rem_pio2.c for |x| < 2**20 pi/2 (one, two or
    three steps, each taking the next 33 bits of pi/2, as many as the cancellation
    needs); returns (q, y0, y1), q = n mod 4 as a float in {-2, -1, 0, 1, 2}."""
    fn = (x * INV_PIO2 + SHIFT) - SHIFT
    j = (np.float64(x).view(np.int64) >> 52) & 0x7FF
    r = x - fn * PIO2_1
    w = fn * PIO2_1T
    y0 = r - w
    if j - ((np.float64(y0).view(np.int64) >> 52) & 0x7FF) > 16:
        t = r
        w = fn * PIO2_2
        r = t - w
        w = fn * PIO2_2T - ((t - r) - w)
        y0 = r - w
        if j - ((np.float64(y0).view(np.int64) >> 52) & 0x7FF) > 49:
            t = r
            w = fn * PIO2_3
            r = t - w
            w = fn * PIO2_3T - ((t - r) - w)
            y0 = r - w
    y1 = (r - y0) - w
    q = fn - 4.0 * ((fn * 0.25 + SHIFT) - SHIFT)
    return q, y0, y1


def _sincos_scalar(x: float) -> tuple[float, float, float]:
    """(q, sin(y), cos(y)) for x = n pi/2 + y (see :func:`_reduce_scalar`): fdlibm's
    (FreeBSD's) k_sin.c and k_cos.c."""
    q, y0, y1 = _reduce_scalar(x)
    z = y0 * y0
    w = z * z
    v = z * y0
    rs = (S2 + z * (S3 + z * S4)) + (z * w) * (S5 + z * S6)
    ks = y0 - ((z * (0.5 * y1 - v * rs) - y1) - v * S1)
    rc = z * (C1 + z * (C2 + z * C3)) + (w * w) * (C4 + z * (C5 + z * C6))
    hz = 0.5 * z
    w = 1.0 - hz
    kc = w + (((1.0 - w) - hz) + (z * rc - y0 * y1))
    return q, ks, kc


def sin_scalar(x: float) -> float:
    """sin(x) for one float64, |x| <= 2**20 (else NaN; numba-compilable)."""
    q, ks, kc = _sincos_scalar(x)
    v = -ks if (q == 2.0 or q == -2.0) else ks
    v = kc if q == 1.0 else v
    v = -kc if q == -1.0 else v
    v = np.nan if abs(x) > TRIG_MAX else v
    return x if x != x else v


def cos_scalar(x: float) -> float:
    """cos(x) for one float64, |x| <= 2**20 (else NaN; numba-compilable)."""
    q, ks, kc = _sincos_scalar(x)
    v = -kc if (q == 2.0 or q == -2.0) else kc
    v = -ks if q == 1.0 else v
    v = ks if q == -1.0 else v
    v = np.nan if abs(x) > TRIG_MAX else v
    return x if x != x else v


def _sincos(x: np.ndarray, s: Scratch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    shape = x.shape
    fn, r, t, w, y0, y1, q, z, v, ks, kc, a = (
        s.get("trig." + n, shape)
        for n in ("fn", "r", "t", "w", "y0", "y1", "q", "z", "v", "ks", "kc", "a")
    )
    np.multiply(x, INV_PIO2, out=fn)
    fn += SHIFT
    fn -= SHIFT
    # fdlibm's steps: the first always; the second where the first left more than 16
    # bits of cancellation, the third where the second left more than 49
    j, jy = s.get("trig.j", shape, np.int64), s.get("trig.jy", shape, np.int64)
    step = s.get("trig.step", shape, np.bool_)
    _exponent(x, j)
    np.multiply(fn, PIO2_1, out=r)
    np.subtract(x, r, out=r)
    np.multiply(fn, PIO2_1T, out=w)
    np.subtract(r, w, out=y0)
    rn, wn, yn = s.get("trig.rn", shape), s.get("trig.wn", shape), s.get("trig.yn", shape)
    taken = s.get("trig.taken", shape, np.bool_)
    taken.fill(True)
    for part, tail, bits in ((PIO2_2, PIO2_2T, 16), (PIO2_3, PIO2_3T, 49)):
        _exponent(y0, jy)
        np.subtract(j, jy, out=jy)
        np.greater(jy, bits, out=step)
        step &= taken  # the third step only after the second
        np.multiply(fn, part, out=wn)
        np.subtract(r, wn, out=rn)
        np.subtract(r, rn, out=a)  # w = fn * tail - ((t - r) - w), t the previous r
        a -= wn
        np.multiply(fn, tail, out=wn)
        wn -= a
        np.subtract(rn, wn, out=yn)
        _select(step, rn, r)
        _select(step, wn, w)
        _select(step, yn, y0)
        np.copyto(taken, step)
    np.subtract(r, y0, out=y1)
    y1 -= w
    np.multiply(fn, 0.25, out=q)
    q += SHIFT
    q -= SHIFT
    q *= 4.0
    np.subtract(fn, q, out=q)
    np.multiply(y0, y0, out=z)
    np.multiply(z, z, out=w)
    np.multiply(z, y0, out=v)
    # rs = (S2 + z * (S3 + z * S4)) + (z * w) * (S5 + z * S6)
    np.multiply(z, S4, out=a)
    a += S3
    a *= z
    a += S2
    np.multiply(z, S6, out=t)
    t += S5
    np.multiply(z, w, out=r)
    t *= r
    a += t  # rs
    # ks = y0 - ((z * (0.5 * y1 - v * rs) - y1) - v * S1)
    a *= v
    np.multiply(y1, 0.5, out=t)
    np.subtract(t, a, out=t)
    t *= z
    t -= y1
    np.multiply(v, S1, out=a)
    t -= a
    np.subtract(y0, t, out=ks)
    # rc = z * (C1 + z * (C2 + z * C3)) + (w * w) * (C4 + z * (C5 + z * C6))
    np.multiply(z, C3, out=a)
    a += C2
    a *= z
    a += C1
    a *= z
    np.multiply(z, C6, out=t)
    t += C5
    t *= z
    t += C4
    w *= w
    t *= w
    a += t  # rc
    # kc = w + (((1 - w) - hz) + (z * rc - y0 * y1)), hz = 0.5 z, w = 1 - hz
    a *= z
    np.multiply(y0, y1, out=t)
    a -= t
    np.multiply(z, 0.5, out=t)  # hz
    np.subtract(1.0, t, out=w)
    np.subtract(1.0, w, out=r)
    r -= t
    r += a
    np.add(w, r, out=kc)
    return q, ks, kc


def _exponent(x: np.ndarray, out: np.ndarray) -> None:
    """The biased exponent field of each element (int64)."""
    np.right_shift(x.view(np.int64), 52, out=out)
    np.bitwise_and(out, 0x7FF, out=out)


def _trig(
    x: np.ndarray, out: np.ndarray | None, scratch: Scratch | None, cosine: bool
) -> np.ndarray:
    x, out, s = _prepare(x, out, scratch)
    with np.errstate(all="ignore"):
        q, ks, kc = _sincos(x, s)
        neg = s.get("trig.neg", x.shape)
        first, second = (kc, ks) if cosine else (ks, kc)
        # q = 0: first; q = +-2: -first; q = 1: -second (cos) or second (sin); q = -1: the
        # opposite
        result = s.get("trig.result", x.shape)
        np.copyto(result, first)
        np.negative(first, out=neg)
        _select((q == 2.0) | (q == -2.0), neg, result)
        np.negative(second, out=neg)
        _select(q == 1.0, neg if cosine else second, result)
        _select(q == -1.0, second if cosine else neg, result)
        _select(np.abs(x) > TRIG_MAX, np.nan, result)
        _select(x != x, x, result)
        np.copyto(out, result)
    return out


def sin(x: np.ndarray, out: np.ndarray | None = None, scratch: Scratch | None = None) -> np.ndarray:
    """sin of every element, |x| <= 2**20 (else NaN): :func:`sin_scalar`'s operations."""
    return _trig(x, out, scratch, cosine=False)


def cos(x: np.ndarray, out: np.ndarray | None = None, scratch: Scratch | None = None) -> np.ndarray:
    """cos of every element, |x| <= 2**20 (else NaN): :func:`cos_scalar`'s operations."""
    return _trig(x, out, scratch, cosine=True)


# --- integer powers ---------------------------------------------------------------------

_SPLIT = 134217729.0  # 2**27 + 1: Dekker's splitting of a double into two 26-bit halves


def _mul_dd(ah: float, al: float, bh: float, bl: float) -> tuple[float, float]:
    """(ah + al) * (bh + bl) in double-double: the product of the high parts exactly
    (Dekker), the cross terms added, renormalised."""
    p = ah * bh
    c = _SPLIT * ah
    ahh = c - (c - ah)
    ahl = ah - ahh
    c = _SPLIT * bh
    bhh = c - (c - bh)
    bhl = bh - bhh
    e = ((ahh * bhh - p) + ahh * bhl + ahl * bhh) + ahl * bhl  # ah * bh - p, exactly
    e = e + (ah * bl + al * bh)
    h = p + e
    return h, e - (h - p)


def powi(x: float, n: int) -> float:
    """x ** n for an integer n >= 0 and |x| <= 1 (learning-rate schedules' gamma ** j,
    Adam's beta ** t): exponentiation by squaring in double-double arithmetic, the
    bits of n from the lowest, rounded once at the end (see the module docstring for
    the error). |x| > 1, or NaN, is raised by plain squaring in doubles, in the same
    order (deterministic, but only within about n ulps)."""
    n = int(n)
    if n < 0:
        raise ValueError(f"powi needs an exponent >= 0, not {n}")
    x = float(x)
    if not abs(x) <= 1.0:
        result = 1.0
        while n:
            if n & 1:
                result = result * x
            n >>= 1
            if n:
                x = x * x
        return result
    rh, rl = 1.0, 0.0
    bh, bl = x, 0.0
    while n:
        if n & 1:
            rh, rl = _mul_dd(rh, rl, bh, bl)
        n >>= 1
        if n:
            bh, bl = _mul_dd(bh, bl, bh, bl)
    return rh + rl
