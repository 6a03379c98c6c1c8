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
  used: this package never imports numba) and so that a loop over many of them
  vectorises. They also run as plain Python (slowly).

One module per function family, scalar and whole-array forms side by side (they must
perform the same operations in the same order), each with its algorithm:

* :mod:`~toynn_cli.core.portable.exponential`: exp (a 128-entry table of 2**(i/128)
  and a degree-6 polynomial) and expm1 (fdlibm's s_expm1.c);
* :mod:`~toynn_cli.core.portable.hyperbolic`: tanh (fdlibm's s_tanh.c, from expm1);
* :mod:`~toynn_cli.core.portable.trigonometric`: sin and cos (fdlibm's reduction by
  pi/2 and its k_sin.c and k_cos.c polynomials), for |x| <= 2**20;
* :mod:`~toynn_cli.core.portable.powers`: powi(x, n), exponentiation by squaring in
  double-double arithmetic, for learning-rate schedules and Adam's bias corrections;
* :mod:`~toynn_cli.core.portable.shared`: what they share (the rounding constant, the
  :class:`Scratch` buffers).

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

from toynn_cli.core.portable.exponential import exp, exp_scalar, expm1, expm1_scalar
from toynn_cli.core.portable.hyperbolic import tanh, tanh_scalar
from toynn_cli.core.portable.powers import powi
from toynn_cli.core.portable.shared import Scratch
from toynn_cli.core.portable.trigonometric import cos, cos_scalar, sin, sin_scalar

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
