"""exp and expm1, scalar and whole-array (see :mod:`toynn_cli.core.portable`).

* exp: x = (128 k + i) ln2/128 + r, k and i from one rounding of x * 128/ln2 (the
  1.5 * 2**52 "magic number" add), ln2/128 in two parts (the first 34 bits, so that
  the products are exact); exp(r) - 1 by its Taylor polynomial to degree 6
  (|r| <= ln2/256); 2**(i/128) from a table of 128 doubles with a correction term
  each (computed at import with :mod:`decimal`); the result scaled by 2**k as two
  exact powers of two, so that only the last multiply rounds (subnormal results
  rounded once). x is clamped to [-746, 710] first: exp(710) = inf, exp(-746) = 0.
* expm1: fdlibm's s_expm1.c (a rational approximation after a Cody-Waite reduction by
  ln2); :mod:`toynn_cli.core.portable.hyperbolic`'s tanh is built on it.
"""

from __future__ import annotations

from decimal import Context, Decimal

import numpy as np

from toynn_cli.core.portable.shared import SHIFT, SHIFT_BITS, Scratch, prepare, select

_hex = float.fromhex

# --- exp --------------------------------------------------------------------------------

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


def exp(x: np.ndarray, out: np.ndarray | None = None, scratch: Scratch | None = None) -> np.ndarray:
    """exp of every element: :func:`exp_scalar`'s operations, array by array. ``out``
    may be ``x`` itself."""
    x, out, s = prepare(x, out, scratch)
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


# --- expm1 (fdlibm's s_expm1.c) --------------------------------------------------------

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


def expm1(
    x: np.ndarray, out: np.ndarray | None = None, scratch: Scratch | None = None
) -> np.ndarray:
    """exp(x) - 1 of every element: :func:`expm1_scalar`'s operations, array by array
    (every branch computed, then selected)."""
    x, out, s = prepare(x, out, scratch)
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
        select(mask, a, y)
        # k <= -2 or k > 56: (1 - (e - r)) * s1 * s2 - 1
        np.subtract(1.0, t, out=a)
        a *= s1
        a *= s2
        a -= 1.0
        np.less_equal(k, -2, out=mask)
        mask |= k > 56
        select(mask, a, y)
        # k == 1: -2 (e - (r + 0.5)) if r < -0.25 else 1 + 2 (r - e)
        np.add(r, 0.5, out=a)
        np.subtract(e, a, out=a)
        a *= -2.0
        np.subtract(r, e, out=hi)
        hi *= 2.0
        hi += 1.0
        select(r < -0.25, a, hi)
        select(k == 1, hi, y)
        # k == -1: 0.5 (r - e) - 0.5
        np.subtract(r, e, out=a)
        a *= 0.5
        a -= 0.5
        select(k == -1, a, y)
        # k == 0 (y0, computed above), then the special cases
        np.equal(k, 0, out=mask)
        select(mask, y0, y)
        select(x > O_THRESHOLD, np.inf, y)
        np.abs(x, out=a)
        select(a < EXPM1_TINY, x, y)
        select(x != x, x, y)
        np.copyto(out, y)
    return out
