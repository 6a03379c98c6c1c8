"""What the portable functions share: the round-to-integer constant, and the buffers
and helpers of their whole-array forms."""

from __future__ import annotations

import numpy as np

_hex = float.fromhex

#: 1.5 * 2**52: adding it rounds a number of magnitude below 2**51 to an integer (ties to
#: even) and leaves that integer in the low bits of the sum's bit pattern
SHIFT = _hex("0x1.8p52")
SHIFT_BITS = 0x4338000000000000


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


def prepare(
    x: np.ndarray, out: np.ndarray | None, scratch: Scratch | None
) -> tuple[np.ndarray, np.ndarray, Scratch]:
    """x as a float64 array, the array to write to (new if ``out`` is None) and the
    buffers (new if ``scratch`` is None)."""
    x = np.asarray(x, dtype=np.float64)
    if out is None:
        out = np.empty(x.shape)
    return x, out, scratch if scratch is not None else Scratch()


def select(condition: np.ndarray, a: np.ndarray, out: np.ndarray) -> None:
    """out = a where condition, else out (in place)."""
    np.copyto(out, a, where=condition)
