"""Make portable_table.json: correctly rounded reference values for tests/test_portable.py.

Not run by the tests (mpmath is not a dependency of toynn). To regenerate the table,
in a virtual environment with numpy and mpmath::

    pip install mpmath
    python tests/data/make_portable_table.py

For each function of toynn_cli/core/portable/ it draws inputs (seeded, dense where the
engine and the datasets use the function, plus the edges: exp near 0, near overflow and
with subnormal results; tanh down to 1e-300; sin and cos near multiples of pi/2) and
evaluates the function with mpmath at 60 significant digits. Each entry holds the input
as ``float.hex``, the correctly rounded double as ``float.hex`` and the exact value to 25
significant digits (a decimal string), from which the test measures errors in ulps.
One row per line.
"""

from __future__ import annotations

import json
from pathlib import Path

import mpmath
import numpy as np

DIGITS = 60


def draw() -> dict[str, list[float]]:
    rng = np.random.RandomState(2026)
    u = rng.uniform

    def logspace(lo: float, hi: float, n: int) -> np.ndarray:
        return 10.0 ** u(np.log10(lo), np.log10(hi), n)

    def both(a: np.ndarray) -> np.ndarray:
        return np.concatenate([a, -a])

    # sin and cos near multiples of pi/2: the nearest doubles and their neighbours
    near = []
    for k in range(1, 10):
        x = float(mpmath.mpf(k) * mpmath.pi / 2)
        near += [np.nextafter(x, -np.inf), x, np.nextafter(x, np.inf)]
    ends = [0.0, 4 * np.pi + 1, 2.0**20, -(2.0**20)]
    trig = np.concatenate([u(0, 4 * np.pi + 1, 1500), near, u(-(2.0**20), 2.0**20, 200), ends])
    return {
        "exp": np.concatenate(
            [
                u(-745.0, 709.78, 1500),
                u(-1.0, 1.0, 300),
                both(logspace(1e-300, 1e-3, 100)),
                u(709.0, 709.782712893384, 100),
                [709.782712893384, np.nextafter(709.782712893384, 0)],
                u(-745.13, -708.0, 200),  # subnormal results (and the last normal ones)
                [-745.0, -745.1332191019411, -744.44007192138126, -708.3964185322641],
            ]
        ).tolist(),
        "expm1": np.concatenate(
            [
                u(-40.0, 709.78, 400),
                u(-2.0, 2.0, 300),
                both(logspace(1e-300, 1e-2, 100)),
            ]
        ).tolist(),
        "tanh": np.concatenate(
            [
                u(-25.0, 25.0, 1200),
                both(logspace(1e-300, 1.0, 200)),
                u(-1.0, 1.0, 200),
                [-25.0, 25.0, 22.0, -22.0, 1.0, -1.0, 2.0**-55, 2.0**-54],
            ]
        ).tolist(),
        "sin": trig.tolist(),
        "cos": trig.tolist(),
    }


def powi_cases() -> list[tuple[float, int]]:
    rng = np.random.RandomState(7)
    bases = [0.9, 0.99, 0.999, 0.5, 0.1, 0.8, 0.95, 1 - 2.0**-53, 2.0**-10, 1.0, 0.0]
    bases += rng.uniform(0, 1, 14).tolist()
    exponents = [0, 1, 2, 3, 7, 50, 1000, 59999, 60000, 10**6, 10**9, 10**12]
    exponents += [int(n) for n in 10 ** rng.uniform(0, 12, 8)]
    cases = [(x, n) for x in bases[:25] for n in exponents]
    cases += [(float(rng.uniform(0.5, 1)), int(rng.randint(0, 100000))) for _ in range(200)]
    return cases


def entry(x: float, exact: mpmath.mpf) -> list[str]:
    text = mpmath.nstr(exact, 25, min_fixed=1, max_fixed=0)
    rounded = float(text) if exact != 0 else 0.0  # float() of a decimal rounds correctly
    return [float(x).hex(), rounded.hex(), text]


def main() -> None:
    mpmath.mp.dps = DIGITS
    functions = {
        "exp": mpmath.exp,
        "expm1": mpmath.expm1,
        "tanh": mpmath.tanh,
        "sin": mpmath.sin,
        "cos": mpmath.cos,
    }
    table: dict[str, object] = {"mpmath": mpmath.__version__, "digits": DIGITS}
    for name, xs in draw().items():
        rows = []
        for x in xs:
            exact = functions[name](mpmath.mpf(x))
            if abs(exact) >= mpmath.mpf(2) ** 1024 * (1 - mpmath.mpf(2) ** -54):
                continue  # overflows: tested as a special value
            rows.append(entry(x, exact))
        table[name] = rows
    table["powi"] = [
        [float(x).hex(), n, *entry(0.0, mpmath.mpf(x) ** n)[1:]] for x, n in powi_cases()
    ]
    out = Path(__file__).with_name("portable_table.json")
    lines = []
    for key, value in table.items():
        if isinstance(value, list):
            rows = ",\n".join(json.dumps(row) for row in value)
            lines.append(f"{json.dumps(key)}: [\n{rows}\n]")
        else:
            lines.append(f"{json.dumps(key)}: {json.dumps(value)}")
    out.write_text("{\n" + ",\n".join(lines) + "\n}\n")
    counts = {k: len(v) for k, v in table.items() if isinstance(v, list)}
    print(f"wrote {out}: {counts}")


if __name__ == "__main__":
    main()
