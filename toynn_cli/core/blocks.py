"""How the numba engine splits a batch into blocks of networks (SIMD lanes), shared
with the cost model (toynn_cli/run/cost.py) so that the estimate counts the blocks the
engine runs. Pure Python.
"""

from __future__ import annotations

#: Networks per block at most: the unit of SIMD work and of parallel scheduling.
BLOCK = 128
#: A block's size is a multiple of this (the widest SIMD vector's lanes: AVX-512, 8).
LANES = 8


def block_size(n: int, threads: int) -> int:
    """Networks per block for a batch of ``n`` on ``threads`` threads: BLOCK, or fewer
    so that the threads get even shares (140 networks on 2 threads: 2 blocks of 72 and
    68, not 128 and 12, which left a thread idle most of the time). A network's numbers
    do not depend on its block (each lane's operations are its own)."""
    if threads <= 1:
        return BLOCK
    blocks = threads * -(-n // (threads * BLOCK))  # a multiple of the threads
    size = -(-n // blocks)
    return max(LANES, min(BLOCK, -(-size // LANES) * LANES))
