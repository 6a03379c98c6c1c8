"""powi(x, n), for learning-rate schedules and Adam's bias corrections (see
:mod:`toynn_cli.core.portable`): exponentiation by squaring in double-double
arithmetic (error-free products by Dekker's splitting), rounded once at the end."""

from __future__ import annotations

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
