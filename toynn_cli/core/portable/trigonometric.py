"""sin and cos, scalar and whole-array (see :mod:`toynn_cli.core.portable`): a
Cody-Waite reduction by pi/2 in three 33-bit parts with correction terms (fdlibm's
e_rem_pio2.c, as many steps as the cancellation needs), then fdlibm's (FreeBSD's)
k_sin.c and k_cos.c polynomials. Only for |x| <= 2**20 (toynn's angles are below
4 pi); beyond that, and for +-inf, the result is NaN."""

from __future__ import annotations

import numpy as np

from toynn_cli.core.portable.shared import SHIFT, Scratch, prepare, select

_hex = float.fromhex

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
        select(step, rn, r)
        select(step, wn, w)
        select(step, yn, y0)
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
    x, out, s = prepare(x, out, scratch)
    with np.errstate(all="ignore"):
        q, ks, kc = _sincos(x, s)
        neg = s.get("trig.neg", x.shape)
        first, second = (kc, ks) if cosine else (ks, kc)
        # q = 0: first; q = +-2: -first; q = 1: -second (cos) or second (sin); q = -1: the
        # opposite
        result = s.get("trig.result", x.shape)
        np.copyto(result, first)
        np.negative(first, out=neg)
        select((q == 2.0) | (q == -2.0), neg, result)
        np.negative(second, out=neg)
        select(q == 1.0, neg if cosine else second, result)
        select(q == -1.0, second if cosine else neg, result)
        select(np.abs(x) > TRIG_MAX, np.nan, result)
        select(x != x, x, result)
        np.copyto(out, result)
    return out


def sin(x: np.ndarray, out: np.ndarray | None = None, scratch: Scratch | None = None) -> np.ndarray:
    """sin of every element, |x| <= 2**20 (else NaN): :func:`sin_scalar`'s operations."""
    return _trig(x, out, scratch, cosine=False)


def cos(x: np.ndarray, out: np.ndarray | None = None, scratch: Scratch | None = None) -> np.ndarray:
    """cos of every element, |x| <= 2**20 (else NaN): :func:`cos_scalar`'s operations."""
    return _trig(x, out, scratch, cosine=True)
